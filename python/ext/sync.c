// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The synchronisation objects: Lock, RLock, Semaphore (bounded or not),
 * Event, Condition and Barrier, one type each, every object in a segment
 * of its own, made by sealshm_object_create() or attached by name
 * (sealshm_object_attach(), what unpickling does).  sealshm.synchronize
 * derives multiprocessing's classes from them, so that acquire, release
 * and the with-statement stay C slots.
 *
 * Waits release the GIL.  A wait that a signal interrupts (-EINTR) runs
 * the signal handlers, as CPython's SemLock does: an exception they raise
 * (KeyboardInterrupt) ends the wait, else it goes on to the same
 * CLOCK_MONOTONIC deadline.  The calls that cannot wait run with the GIL
 * held once this process has used the object (a few loads and an atomic
 * operation); the first use in a process, which may ask trackerd for a
 * holder id, runs with it released.
 *
 * A handle that a call uses with the GIL released is not freed under it:
 * calls count themselves, and close() during one (another thread blocked
 * in a wait) only marks the object closed; the last call to return
 * frees the handle.
 *
 * The object that created a name unlinks it when it is collected, in the
 * creating process only (as CPython's SemLock does through its Finalize);
 * until then the name is tracked in the family's session, so a family
 * killed with -9 leaves nothing.  Attaches are untracked: the name is the
 * creator's.
 *
 * Owner death: an acquire that inherits the Lock or RLock of a dead
 * holder (-EOWNERDEAD) marks it consistent at once (Python programs have
 * no way to repair it otherwise), sets the handle's owner_died until the
 * release that frees it, and warns with OwnerDiedWarning.  When that
 * warning is an error (-W error), the lock is given back and the error
 * raised.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ext.h"

/*
 * This process's pid, kept up to date in a forked child by an atfork
 * handler: comparing with it is a load, where getpid() is a system call.
 * Objects keep what is true for one process (holder id known, calls
 * running, what this process holds) stamped with it.
 */
static pid_t sync_pid;

static void sync_atfork_child(void)
{
	sync_pid = getpid();
}

/* Before the first object: sync_pid set, and kept in forked children. */
static int sync_setup(void)
{
	int r;

	if (sync_pid)
		return 0;
	r = pthread_atfork(NULL, NULL, sync_atfork_child);
	if (r) {
		errno = r;
		PyErr_SetFromErrno(PyExc_OSError);
		return -1;
	}
	sync_pid = getpid();
	return 0;
}

/* A Python exception is set (a signal handler raised one). */
#define SYNC_RAISED INT_MIN

typedef struct SyncObject {
	PyObject_HEAD
	struct sealshm *shm;		/* NULL once closed */
	void *obj;			/* the object: sealshm_buf(shm) */
	struct ext_ident id;
	uint32_t type;			/* SEALSHM_OBJECT_* */
	uint32_t max;			/* Semaphore: most value (0: unbounded) */
	/* Calls of process busy_pid running now; a close() during one
	 * leaves the handle to the last of them. */
	int busy;
	pid_t busy_pid;
	bool closing;
	/* Made here: the name goes when this is collected in process creator. */
	bool created;
	pid_t creator;
	/* sync_pid once this process has used the object: its holder id is
	 * known, so calls ask trackerd nothing. */
	pid_t ready;
	/* Lock and RLock, as CPython's SemLock keeps them in its handle: the
	 * acquires through this handle not yet released, and the thread of
	 * the last one, in process count_pid. */
	unsigned long count;
	unsigned long last_tid;
	pid_t count_pid;
	/* Acquired from a dead holder: true until the release that frees it
	 * (died_depth releases through this handle). */
	bool owner_died;
	unsigned long died_depth;
	PyObject *lock;			/* Condition: its Lock or RLock */
	PyObject *weakreflist;
	/* A Lock or RLock inside another object's memory (ext_sync_wrap()):
	 * that object, which keeps the memory mapped; shm is NULL then. */
	PyObject *owner;
} SyncObject;

static const char *type_name(uint32_t type)
{
	switch (type) {
	case SEALSHM_OBJECT_LOCK:
		return "Lock";
	case SEALSHM_OBJECT_RLOCK:
		return "RLock";
	case SEALSHM_OBJECT_SEM:
		return "Semaphore";
	case SEALSHM_OBJECT_EVENT:
		return "Event";
	case SEALSHM_OBJECT_COND:
		return "Condition";
	case SEALSHM_OBJECT_BARRIER:
		return "Barrier";
	}
	return "object";
}

/* --- errors ----------------------------------------------------------------- */

static PyObject *closed_error(SyncObject *self)
{
	PyErr_Format(PyExc_ValueError, "operation on a closed %s", type_name(self->type));
	return NULL;
}

/* OSError for a negative errno @r of a call on @self, said in its terms
 * where the errno alone would mislead. */
static PyObject *sync_error(SyncObject *self, int r)
{
	if (r == SYNC_RAISED)
		return NULL;
	switch (r) {
	case -ENXIO:
		PyErr_Format(PyExc_OSError,
			     "%s %R: the trackerd it belongs to cannot be reached from this "
			     "process (its socket, or a trackerd that has restarted since)",
			     type_name(self->type), self->id.name);
		return NULL;
	case -EBADMSG:
		PyErr_Format(PyExc_OSError, "%s %R: no valid object there (corrupt, or another "
			     "kind of object)", type_name(self->type), self->id.name);
		return NULL;
	case -ENOTRECOVERABLE:
		errno = ENOTRECOVERABLE;
		PyErr_Format(PyExc_OSError, "%s %R is not recoverable: a holder died and the "
			     "next one released it without marking it consistent",
			     type_name(self->type), self->id.name);
		return NULL;
	}
	return ext_oserror(r, self->id.name);
}

/* --- calls: counted, and with or without the GIL -------------------------- */

/* Start a call on @self (GIL held): ValueError when closed. */
static int sync_begin(SyncObject *self)
{
	if (!self->obj || self->closing) {
		closed_error(self);
		return -1;
	}
	if (self->busy_pid != sync_pid) {
		/* Counted in a parent: those calls do not run here. */
		self->busy_pid = sync_pid;
		self->busy = 0;
	}
	self->busy++;
	return 0;
}

static void sync_free_handle(SyncObject *self)
{
	if (self->shm)
		(void)sealshm_close(self->shm);
	self->shm = NULL;
	self->obj = NULL;
	self->closing = false;
}

/* End a call (GIL held); the last call of a closed object frees it. */
static void sync_end(SyncObject *self)
{
	if (--self->busy == 0 && self->closing)
		sync_free_handle(self);
}

static inline void sync_used(SyncObject *self, int r)
{
	if (r != -ENXIO)
		self->ready = sync_pid;
}

/* r = EXPR, a call that does not wait: with the GIL held once this process
 * has used the object, else with it released (the first use may ask
 * trackerd for a holder id).  Inside sync_begin()/sync_end(). */
#define SYNC_CALL(self, r, expr)						\
	do {									\
		if ((self)->ready == sync_pid) {				\
			(r) = (expr);						\
		} else {							\
			Py_BEGIN_ALLOW_THREADS					\
			(r) = (expr);						\
			Py_END_ALLOW_THREADS					\
			sync_used((self), (r));					\
		}								\
	} while (0)

/*
 * Whether a call that cannot wait may run on @self as it is, uncounted:
 * open, and used by this process already.  Such a call keeps the GIL
 * from start to end, so no close() can run meanwhile, and it needs no
 * sync_begin()/sync_end().
 */
static inline bool sync_ready(const SyncObject *self)
{
	return self->ready == sync_pid && self->obj && !self->closing;
}

/* --- timeouts ---------------------------------------------------------------- */

struct sync_deadline {
	bool forever;			/* no timeout */
	bool now;			/* a timeout <= 0: do not wait */
	struct timespec ts;		/* CLOCK_MONOTONIC, when !forever */
};

/* Longest timeout taken as one (about 31 years); a longer one waits for
 * ever, where CPython's SemLock would overflow its timespec. */
#define SYNC_TIMEOUT_MAX 1e9

/* @timeout (NULL or None: none; else seconds, as float() takes them,
 * <= 0 meaning "do not wait") as a deadline from now. */
static int deadline_from(PyObject *timeout, struct sync_deadline *dl)
{
	struct timespec now;
	double t, sec;

	dl->forever = true;
	dl->now = false;
	if (!timeout || timeout == Py_None)
		return 0;
	t = PyFloat_AsDouble(timeout);
	if (t == -1.0 && PyErr_Occurred())
		return -1;
	if (isnan(t)) {
		PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
		return -1;
	}
	if (t > SYNC_TIMEOUT_MAX)
		return 0;
	dl->forever = false;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if (t <= 0) {
		dl->now = true;
		t = 0;
	}
	sec = floor(t);
	dl->ts.tv_sec = now.tv_sec + (time_t)sec;
	dl->ts.tv_nsec = now.tv_nsec + (long)((t - sec) * 1e9);
	if (dl->ts.tv_nsec >= 1000000000L) {
		dl->ts.tv_sec++;
		dl->ts.tv_nsec -= 1000000000L;
	}
	return 0;
}

static bool deadline_passed(const struct sync_deadline *dl)
{
	struct timespec now;

	if (dl->forever)
		return false;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > dl->ts.tv_sec ||
	       (now.tv_sec == dl->ts.tv_sec && now.tv_nsec >= dl->ts.tv_nsec);
}

/* One wait of the library, with @ts (NULL: for ever) and @flags. */
typedef int (*sync_wait_fn)(SyncObject *self, const struct timespec *ts, uint32_t flags);

/*
 * Run @fn with the GIL released until it returns something else than
 * -EINTR.  After -EINTR the signal handlers run: an exception they raise
 * gives SYNC_RAISED; otherwise, with @retry, @fn runs again to the same
 * deadline, else -EINTR is returned.
 */
static int sync_block(SyncObject *self, sync_wait_fn fn, const struct sync_deadline *dl,
		      bool retry)
{
	const struct timespec *ts = dl->forever ? NULL : &dl->ts;
	uint32_t flags = dl->forever ? 0 : SEALSHM_WAIT_ABSTIME;
	int r;

	for (;;) {
		Py_BEGIN_ALLOW_THREADS
		r = fn(self, ts, flags);
		Py_END_ALLOW_THREADS
		sync_used(self, r);
		if (r != -EINTR)
			return r;
		if (PyErr_CheckSignals() < 0)
			return SYNC_RAISED;
		if (!retry)
			return r;
	}
}

/* --- arguments ---------------------------------------------------------------- */

/*
 * Vectorcall arguments: up to @n, by position or by the keywords @names,
 * into @ret (NULL where not given).  TypeError as CPython's own parsers
 * word it.
 */
static int parse_args(const char *fn, const char *const *names, Py_ssize_t n,
		      PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **ret)
{
	Py_ssize_t i, k, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;

	for (i = 0; i < n; i++)
		ret[i] = NULL;
	if (nargs > n) {
		PyErr_Format(PyExc_TypeError, "%s() takes at most %zd argument%s (%zd given)",
			     fn, n, n == 1 ? "" : "s", nargs + nkw);
		return -1;
	}
	for (i = 0; i < nargs; i++)
		ret[i] = args[i];
	for (k = 0; k < nkw; k++) {
		PyObject *key = PyTuple_GET_ITEM(kwnames, k);

		for (i = 0; i < n; i++)
			if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0)
				break;
		if (i == n) {
			PyErr_Format(PyExc_TypeError,
				     "%s() got an unexpected keyword argument '%S'", fn, key);
			return -1;
		}
		if (ret[i]) {
			PyErr_Format(PyExc_TypeError,
				     "argument for %s() given by name ('%s') and position (%zd)",
				     fn, names[i], i + 1);
			return -1;
		}
		ret[i] = args[nargs + k];
	}
	return 0;
}

/* --- making and freeing ---------------------------------------------------- */

/*
 * Create (@create) or attach the object of @type named @name_obj (None:
 * generated, when creating) into @self, made by tp_alloc.  @params for a
 * create.  0, or -1 with an exception set and nothing left behind.
 */
static int sync_open(SyncObject *self, uint32_t type, PyObject *name_obj, int create,
		     PyObject *socket, struct sealshm_object_params *params)
{
	SEALSHM_OPTS(sealshm_opts, opts, .socket = ext_socket_str(socket));
	struct sealshm *shm = NULL;
	struct ext_name name;
	int r;

	if (name_obj == Py_None && !create) {
		PyErr_SetString(PyExc_ValueError, "'name' can only be None if create=True");
		return -1;
	}
	if (!ext_name_or_none_conv(name_obj, &name))
		return -1;
	self->type = type;
	if (!create)
		opts.flags = SEALSHM_NO_TRACK;	/* the name is its creator's */
	Py_BEGIN_ALLOW_THREADS
	if (create)
		r = sealshm_object_create(name.s, params, &opts, &shm);
	else
		r = sealshm_object_attach(name.s, type, &opts, &shm);
	Py_END_ALLOW_THREADS
	if (r == -EBADMSG && !create) {
		PyErr_Format(PyExc_ValueError, "%R holds no %s", name.obj, type_name(type));
		return -1;
	}
	if (r < 0) {
		ext_oserror(r, name.s ? name.obj : NULL);
		return -1;
	}
	if (ext_ident_from_shm(&self->id, shm, opts.flags, socket) < 0) {
		if (create) {
			Py_BEGIN_ALLOW_THREADS
			(void)sealshm_unlink(shm);
			Py_END_ALLOW_THREADS
		}
		(void)sealshm_close(shm);
		return -1;
	}
	self->shm = shm;
	self->obj = sealshm_buf(shm);
	self->created = create;
	self->creator = sync_pid;
	return 0;
}

/* The bytes mapped at self->obj: its segment's, or the object's own
 * when it lives inside another object's memory. */
static size_t sync_obj_len(const SyncObject *self)
{
	if (self->shm)
		return sealshm_size(self->shm);
	return self->type == SEALSHM_OBJECT_RLOCK ? sizeof(struct sealshm_rlock)
						  : sizeof(struct sealshm_lock);
}

/* An object's figures (sealshm_object_info()); -1 with an exception.
 * The GIL is released: asking its trackerd for the holder's pid may take
 * a round trip.  Inside sync_begin()/sync_end(), or on a new object. */
static int sync_info(SyncObject *self, struct sealshm_object_info *info)
{
	SEALSHM_OPTS(sealshm_opts, opts, .socket = ext_socket_str(self->id.socket));
	size_t len = sync_obj_len(self);
	void *obj = self->obj;
	int r;

	memset(info, 0, sizeof(*info));
	info->sz = sizeof(*info);
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_object_info(obj, len, &opts, info);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		sync_error(self, r);
		return -1;
	}
	return 0;
}

static int sync_traverse(SyncObject *self, visitproc visit, void *arg)
{
	Py_VISIT(self->lock);
	Py_VISIT(self->owner);
	return 0;
}

static int sync_clear(SyncObject *self)
{
	Py_CLEAR(self->lock);
	if (self->owner) {
		/* The memory goes with its owner. */
		self->obj = NULL;
		Py_CLEAR(self->owner);
	}
	return 0;
}

/* The creator's handle takes its name with it (in the creating process:
 * a forked child's copy leaves it to the parent). */
static void sync_unlink_created(SyncObject *self)
{
	PyObject *type, *value, *tb;
	const char *name, *socket;
	uint64_t ino;
	uint32_t flags;

	if (!self->created || self->creator != sync_pid || !self->id.name)
		return;
	self->created = false;
	PyErr_Fetch(&type, &value, &tb);
	if (self->shm) {
		struct sealshm *shm = self->shm;

		Py_BEGIN_ALLOW_THREADS
		(void)sealshm_unlink(shm);
		Py_END_ALLOW_THREADS
	} else if ((name = PyUnicode_AsUTF8(self->id.name))) {
		socket = ext_socket_str(self->id.socket);
		ino = self->id.ino;
		flags = self->id.flags;
		Py_BEGIN_ALLOW_THREADS
		(void)ext_ident_unlink(name, socket, ino, flags);
		Py_END_ALLOW_THREADS
	}
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

static void sync_dealloc(SyncObject *self)
{
	PyObject_GC_UnTrack(self);
	if (self->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)self);
	(void)sync_clear(self);
	/* No call runs: each holds a reference. */
	sync_unlink_created(self);
	if (self->obj)
		sync_free_handle(self);
	ext_ident_clear(&self->id);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* --- what every type has ------------------------------------------------- */

PyDoc_STRVAR(close_doc,
	     "close(): unmap and close the handle; again does nothing.  While\n"
	     "another thread waits on it, the handle is freed when that wait\n"
	     "returns; every later call raises ValueError.  The name is left\n"
	     "alone (its creator unlinks it when collected).");

static PyObject *sync_close(SyncObject *self, PyObject *unused)
{
	(void)unused;
	if (!self->obj || self->closing)
		Py_RETURN_NONE;
	if (self->busy_pid == sync_pid && self->busy > 0)
		self->closing = true;
	else
		sync_free_handle(self);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(info_doc,
	     "info() -> dict: the object's state as sealshm_object_info() reports it:\n"
	     "type ('lock', ...), size, held, owner_died, notrecoverable, set,\n"
	     "broken, robust (bools), holder, holder_pid, waiters, value, max,\n"
	     "instance.");

static PyObject *sync_info_method(SyncObject *self, PyObject *unused)
{
	struct sealshm_object_info info;
	const char *tn;
	int r;

	(void)unused;
	if (sync_begin(self) < 0)
		return NULL;
	r = sync_info(self, &info);
	sync_end(self);
	if (r < 0)
		return NULL;
	tn = sealshm_object_type_name(info.type);
	return Py_BuildValue("{s:s,s:I,s:O,s:O,s:O,s:O,s:O,s:O,s:I,s:I,s:I,s:I,s:I,s:K}",
			     "type", tn ? tn : "?", "size", info.size,
			     "held", info.flags & SEALSHM_OBJECT_HELD ? Py_True : Py_False,
			     "owner_died",
			     info.flags & SEALSHM_OBJECT_OWNER_DIED ? Py_True : Py_False,
			     "notrecoverable",
			     info.flags & SEALSHM_OBJECT_NOTRECOVERABLE ? Py_True : Py_False,
			     "set", info.flags & SEALSHM_OBJECT_SET ? Py_True : Py_False,
			     "broken", info.flags & SEALSHM_OBJECT_BROKEN ? Py_True : Py_False,
			     "robust", info.flags & SEALSHM_OBJECT_ROBUST ? Py_True : Py_False,
			     "holder", info.holder, "holder_pid", info.holder_pid,
			     "waiters", info.waiters, "value", info.value, "max", info.max,
			     "instance", (unsigned long long)info.instance);
}

static PyObject *sync_get_name(SyncObject *self, void *closure)
{
	(void)closure;
	Py_INCREF(self->id.name);
	return self->id.name;
}

static PyObject *sync_get_socket(SyncObject *self, void *closure)
{
	PyObject *s = self->id.socket ? self->id.socket : Py_None;

	(void)closure;
	Py_INCREF(s);
	return s;
}

static PyObject *sync_get_closed(SyncObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(!self->obj || self->closing);
}

static PyObject *sync_get_created(SyncObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->created && self->creator == sync_pid);
}

#define SYNC_GETSET							\
	{ "name", (getter)sync_get_name, NULL,				\
	  "The name of the object's segment.", NULL },			\
	{ "socket", (getter)sync_get_socket, NULL,			\
	  "The trackerd socket it was made or attached with (bytes), or None.", NULL }, \
	{ "closed", (getter)sync_get_closed, NULL, "True once closed.", NULL }, \
	{ "created", (getter)sync_get_created, NULL,			\
	  "True when this handle made the name, in this process: it unlinks "	\
	  "the name when collected.", NULL }

#define SYNC_METHODS							\
	{ "close", (PyCFunction)sync_close, METH_NOARGS, close_doc },	\
	{ "info", (PyCFunction)sync_info_method, METH_NOARGS, info_doc }

static SyncObject *sync_alloc(PyTypeObject *tp)
{
	if (sync_setup() < 0)
		return NULL;
	return (SyncObject *)tp->tp_alloc(tp, 0);
}

/* --- Lock and RLock -------------------------------------------------------- */

static bool is_rlock(const SyncObject *self)
{
	return self->type == SEALSHM_OBJECT_RLOCK;
}

/* This process's bookkeeping of a handle, reset in a forked child. */
static void lock_local(SyncObject *self)
{
	if (self->count_pid != sync_pid) {
		self->count_pid = sync_pid;
		self->count = 0;
		self->owner_died = false;
		self->died_depth = 0;
	}
}

/* After an acquire through @self. */
static void lock_note_acquired(SyncObject *self)
{
	lock_local(self);
	self->count++;
	self->last_tid = PyThread_get_thread_ident();
	if (self->owner_died)
		self->died_depth++;
}

static int lock_release_raw(SyncObject *self)
{
	return is_rlock(self) ? sealshm_rlock_release(self->obj) : sealshm_lock_release(self->obj);
}

/*
 * @self was acquired from a dead holder (-EOWNERDEAD): mark it consistent,
 * set owner_died (cleared after @depth more releases through this handle
 * than acquires) and warn.  When the warning is an error, the lock is
 * released first when @give_back.  0, or -1 with an exception set.
 */
static int lock_owner_died(SyncObject *self, unsigned long depth, bool give_back)
{
	struct ext_state *st = ext_state();
	int r;

	r = is_rlock(self) ? sealshm_rlock_consistent(self->obj)
			   : sealshm_lock_consistent(self->obj);
	if (r < 0) {
		if (give_back)
			(void)lock_release_raw(self);
		sync_error(self, r);
		return -1;
	}
	lock_local(self);
	self->owner_died = true;
	self->died_depth = depth;
	if (!st || PyErr_WarnFormat(st->owner_died_warning, 1,
				    "the process holding %s %R died holding it: acquired, and "
				    "the lock is consistent again, but what it guards may be "
				    "half-changed", type_name(self->type), self->id.name) < 0) {
		if (!st)
			PyErr_SetString(PyExc_SystemError, "sealshm._sealshm is not loaded");
		self->owner_died = false;
		if (give_back)
			(void)lock_release_raw(self);
		return -1;
	}
	return 0;
}

static int wait_lock(SyncObject *self, const struct timespec *ts, uint32_t flags)
{
	return sealshm_lock_acquire(self->obj, ts, flags);
}

static int wait_rlock(SyncObject *self, const struct timespec *ts, uint32_t flags)
{
	return sealshm_rlock_acquire(self->obj, ts, flags);
}

static inline int lock_try_raw(SyncObject *self)
{
	return is_rlock(self) ? sealshm_rlock_tryacquire(self->obj)
			      : sealshm_lock_tryacquire(self->obj);
}

/* No try made yet (lock_acquire_slow()). */
#define SYNC_NOT_TRIED INT_MAX

/* lock_acquire_impl() after its common case: @r is what a try said
 * already, or SYNC_NOT_TRIED.  A try is made only without arguments on an
 * open object, the GIL held since: nothing below can fail before @r is
 * dealt with. */
static __attribute__((noinline)) PyObject *lock_acquire_slow(SyncObject *self,
							      PyObject *block_obj,
							      PyObject *timeout, int r)
{
	struct sync_deadline dl;
	PyObject *ret = NULL;
	int block = 1;

	if (block_obj && (block = PyObject_IsTrue(block_obj)) < 0)
		return NULL;
	if (deadline_from(timeout, &dl) < 0 || sync_begin(self) < 0)
		return NULL;
	if (r == SYNC_NOT_TRIED)
		SYNC_CALL(self, r, lock_try_raw(self));
	if (r == -EBUSY && block && !dl.now)
		r = sync_block(self, is_rlock(self) ? wait_rlock : wait_lock, &dl, true);
	if (r == -EOWNERDEAD) {
		if (lock_owner_died(self, 0, true) < 0)
			goto out;
		r = 0;
	}
	if (r == 0) {
		lock_note_acquired(self);
		ret = Py_True;
		Py_INCREF(ret);
	} else if (r == -EBUSY || r == -ETIMEDOUT) {
		ret = Py_False;
		Py_INCREF(ret);
	} else if (r == -EAGAIN && is_rlock(self)) {
		PyErr_SetString(PyExc_OverflowError, "RLock acquired 2**32 - 1 times already");
	} else {
		sync_error(self, r);
	}
out:
	sync_end(self);
	return ret;
}

/*
 * The common case first, as CPython's SemLock: no arguments, an object
 * in use here already, and a try that takes it.
 */
static PyObject *lock_acquire_impl(SyncObject *self, PyObject *block_obj, PyObject *timeout)
{
	int r = SYNC_NOT_TRIED;

	if (!block_obj && !timeout && sync_ready(self)) {
		r = lock_try_raw(self);
		if (__builtin_expect(r == 0, 1)) {
			lock_note_acquired(self);
			Py_RETURN_TRUE;
		}
	}
	return lock_acquire_slow(self, block_obj, timeout, r);
}

static const char *const acquire_names[] = { "block", "timeout" };

PyDoc_STRVAR(lock_acquire_doc,
	     "acquire(block=True, timeout=None) -> bool\n"
	     "--\n\n"
	     "Acquire the lock: True once held; False when @block is false and\n"
	     "it is held, or when @timeout seconds (a float; <= 0: only try) pass\n"
	     "first.  The wait releases the GIL; a signal handler's exception\n"
	     "(KeyboardInterrupt) ends it.  A lock whose holder died is acquired\n"
	     "(True) with OwnerDiedWarning, consistent again, and owner_died set.");

static PyObject *lock_acquire(SyncObject *self, PyObject *const *args, Py_ssize_t nargs,
			      PyObject *kwnames)
{
	PyObject *a[2];

	if (nargs == 0 && !kwnames)
		return lock_acquire_impl(self, NULL, NULL);
	if (parse_args("acquire", acquire_names, 2, args, nargs, kwnames, a) < 0)
		return NULL;
	return lock_acquire_impl(self, a[0], a[1]);
}

/* -EPERM from a Lock's release: not held at all, or by another process. */
static PyObject *lock_release_refused(SyncObject *self)
{
	struct sealshm_object_info info;

	if (is_rlock(self)) {
		/* CPython's SemLock's words. */
		PyErr_SetString(PyExc_AssertionError,
				"attempt to release recursive lock not owned by thread");
		return NULL;
	}
	if (sync_info(self, &info) < 0)
		return NULL;
	if (!(info.flags & SEALSHM_OBJECT_HELD)) {
		PyErr_SetString(PyExc_ValueError, "semaphore or lock released too many times");
		return NULL;
	}
	errno = EPERM;
	if (info.holder_pid)
		PyErr_Format(PyExc_PermissionError,
			     "the lock is held by another process (pid %u): only a thread of "
			     "the holding process may release it", info.holder_pid);
	else
		PyErr_SetString(PyExc_PermissionError,
				"the lock is held by another process: only a thread of the "
				"holding process may release it");
	return NULL;
}

/* After a release through @self. */
static void lock_note_released(SyncObject *self)
{
	lock_local(self);
	if (self->count > 0)
		self->count--;
	if (self->owner_died && (!is_rlock(self) || self->died_depth <= 1))
		self->owner_died = false;
	else if (self->owner_died)
		self->died_depth--;
}

static __attribute__((noinline)) PyObject *lock_release_slow(SyncObject *self)
{
	PyObject *ret = NULL;
	int r;

	if (sync_begin(self) < 0)
		return NULL;
	SYNC_CALL(self, r, lock_release_raw(self));
	if (r == 0) {
		lock_note_released(self);
		ret = Py_None;
		Py_INCREF(ret);
	} else if (r == -EPERM) {
		lock_release_refused(self);
	} else {
		sync_error(self, r);
	}
	sync_end(self);
	return ret;
}

/* The common case first: an object in use here already, released.  A
 * release refused changed nothing: the slow path asks again, and says
 * why. */
static PyObject *lock_release_impl(SyncObject *self)
{
	if (sync_ready(self) && __builtin_expect(lock_release_raw(self) == 0, 1)) {
		lock_note_released(self);
		Py_RETURN_NONE;
	}
	return lock_release_slow(self);
}

PyDoc_STRVAR(lock_release_doc,
	     "release()\n"
	     "--\n\n"
	     "Release the lock.  Lock: ValueError('semaphore or lock released too\n"
	     "many times') when it is not held, PermissionError when another\n"
	     "process holds it.  RLock: AssertionError unless this thread holds it.");

static PyObject *lock_release(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return lock_release_impl(self);
}

static PyObject *lock_enter(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return lock_acquire_impl(self, NULL, NULL);
}

static PyObject *lock_exit(SyncObject *self, PyObject *args)
{
	(void)args;
	return lock_release_impl(self);
}

/* Acquired through this handle by the calling thread (CPython's SemLock
 * _is_mine()). */
static bool lock_is_mine(SyncObject *self)
{
	return self->count_pid == sync_pid && self->count > 0 &&
	       self->last_tid == PyThread_get_thread_ident();
}

static PyObject *lock_is_mine_method(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(lock_is_mine(self));
}

static PyObject *lock_count_method(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return PyLong_FromUnsignedLong(self->count_pid == sync_pid ? self->count : 0);
}

static PyObject *lock_get_owner_died(SyncObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->count_pid == sync_pid && self->owner_died);
}

static PyMethodDef lock_methods[] = {
	{ "acquire", (PyCFunction)(void (*)(void))lock_acquire, METH_FASTCALL | METH_KEYWORDS,
	  lock_acquire_doc },
	{ "release", (PyCFunction)lock_release, METH_NOARGS, lock_release_doc },
	{ "__enter__", (PyCFunction)lock_enter, METH_NOARGS, "acquire(); returns True." },
	{ "__exit__", (PyCFunction)lock_exit, METH_VARARGS, "release()." },
	{ "_is_mine", (PyCFunction)lock_is_mine_method, METH_NOARGS,
	  "_is_mine() -> bool: acquired through this object by the calling thread\n"
	  "and not released (as CPython's SemLock counts)." },
	{ "_count", (PyCFunction)lock_count_method, METH_NOARGS,
	  "_count() -> int: acquires through this object in this process, not released." },
	SYNC_METHODS,
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef lock_getset[] = {
	SYNC_GETSET,
	{ "owner_died", (getter)lock_get_owner_died, NULL,
	  "True from an acquire that inherited the lock of a dead holder until\n"
	  "the release that frees it.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyObject *lock_new_common(PyTypeObject *tp, PyObject *args, PyObject *kwds, uint32_t type)
{
	static char *kwlist[] = { "name", "create", "socket", NULL };
	SEALSHM_OPTS(sealshm_object_params, params, .type = type);
	PyObject *name = Py_None, *socket = NULL;
	SyncObject *self;
	int create = 1;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$pO&", kwlist, &name, &create,
					 ext_socket_conv, &socket))
		return NULL;
	self = sync_alloc(tp);
	if (self && sync_open(self, type, name, create, socket, &params) < 0)
		Py_CLEAR(self);
	Py_XDECREF(socket);
	return (PyObject *)self;
}

static PyObject *lock_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
	return lock_new_common(tp, args, kwds, SEALSHM_OBJECT_LOCK);
}

static PyObject *rlock_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
	return lock_new_common(tp, args, kwds, SEALSHM_OBJECT_RLOCK);
}

/* --- Semaphore ------------------------------------------------------------- */

static int wait_sem(SyncObject *self, const struct timespec *ts, uint32_t flags)
{
	return sealshm_sem_acquire(self->obj, ts, flags);
}

static PyObject *sem_acquire_impl(SyncObject *self, PyObject *block_obj, PyObject *timeout)
{
	struct sync_deadline dl;
	PyObject *ret = NULL;
	int block = 1, r;

	if (block_obj && (block = PyObject_IsTrue(block_obj)) < 0)
		return NULL;
	if (deadline_from(timeout, &dl) < 0 || sync_begin(self) < 0)
		return NULL;
	SYNC_CALL(self, r, sealshm_sem_tryacquire(self->obj));
	if (r == -EAGAIN && block && !dl.now)
		r = sync_block(self, wait_sem, &dl, true);
	if (r == 0) {
		ret = Py_True;
		Py_INCREF(ret);
	} else if (r == -EAGAIN || r == -ETIMEDOUT) {
		ret = Py_False;
		Py_INCREF(ret);
	} else {
		sync_error(self, r);
	}
	sync_end(self);
	return ret;
}

PyDoc_STRVAR(sem_acquire_doc,
	     "acquire(block=True, timeout=None) -> bool\n"
	     "--\n\n"
	     "Take one unit: True once taken; False when @block is false and the\n"
	     "value is 0, or when @timeout seconds (<= 0: only try) pass first.");

static PyObject *sem_acquire(SyncObject *self, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames)
{
	PyObject *a[2];

	if (nargs == 0 && !kwnames)
		return sem_acquire_impl(self, NULL, NULL);
	if (parse_args("acquire", acquire_names, 2, args, nargs, kwnames, a) < 0)
		return NULL;
	return sem_acquire_impl(self, a[0], a[1]);
}

static PyObject *sem_release_impl(SyncObject *self)
{
	PyObject *ret = NULL;
	int r;

	if (sync_begin(self) < 0)
		return NULL;
	SYNC_CALL(self, r, sealshm_sem_release(self->obj));
	if (r == 0) {
		ret = Py_None;
		Py_INCREF(ret);
	} else if (r == -EOVERFLOW && self->max > 0) {
		PyErr_SetString(PyExc_ValueError, "semaphore or lock released too many times");
	} else {
		sync_error(self, r);
	}
	sync_end(self);
	return ret;
}

PyDoc_STRVAR(sem_release_doc,
	     "release()\n"
	     "--\n\n"
	     "Give one unit back.  A bounded semaphore at its most: ValueError\n"
	     "('semaphore or lock released too many times'); any at 2**31 - 1:\n"
	     "OSError(EOVERFLOW), as CPython's.");

static PyObject *sem_release(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return sem_release_impl(self);
}

static PyObject *sem_enter(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return sem_acquire_impl(self, NULL, NULL);
}

static PyObject *sem_exit(SyncObject *self, PyObject *args)
{
	(void)args;
	return sem_release_impl(self);
}

PyDoc_STRVAR(sem_get_value_doc, "get_value() -> int: the value now.");

static PyObject *sem_get_value(SyncObject *self, PyObject *unused)
{
	uint32_t v = 0;
	int r;

	(void)unused;
	if (sync_begin(self) < 0)
		return NULL;
	SYNC_CALL(self, r, sealshm_sem_value(self->obj, &v));
	sync_end(self);
	if (r < 0)
		return sync_error(self, r);
	return PyLong_FromUnsignedLong(v);
}

static PyObject *sem_get_maxvalue(SyncObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLong(self->max);
}

static PyMethodDef sem_methods[] = {
	{ "acquire", (PyCFunction)(void (*)(void))sem_acquire, METH_FASTCALL | METH_KEYWORDS,
	  sem_acquire_doc },
	{ "release", (PyCFunction)sem_release, METH_NOARGS, sem_release_doc },
	{ "__enter__", (PyCFunction)sem_enter, METH_NOARGS, "acquire(); returns True." },
	{ "__exit__", (PyCFunction)sem_exit, METH_VARARGS, "release()." },
	{ "get_value", (PyCFunction)sem_get_value, METH_NOARGS, sem_get_value_doc },
	SYNC_METHODS,
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef sem_getset[] = {
	SYNC_GETSET,
	{ "maxvalue", (getter)sem_get_maxvalue, NULL,
	  "A bounded semaphore's most value; 0 when unbounded.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* Most value of a semaphore, as sealshm_sem_init() takes it. */
#define SYNC_SEM_MAX 2147483647L

static PyObject *sem_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", "create", "value", "max", "robust", "socket", NULL };
	SEALSHM_OPTS(sealshm_object_params, params, .type = SEALSHM_OBJECT_SEM);
	PyObject *name = Py_None, *socket = NULL;
	long value = 1, max = 0;
	int create = 1, robust = 0;
	struct sealshm_object_info info;
	SyncObject *self = NULL;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$pllpO&", kwlist, &name, &create,
					 &value, &max, &robust, ext_socket_conv, &socket))
		return NULL;
	if (create) {
		if (value < 0) {
			PyErr_SetString(PyExc_ValueError, "semaphore initial value must be >= 0");
			goto out;
		}
		if (value > SYNC_SEM_MAX || max > SYNC_SEM_MAX) {
			PyErr_Format(PyExc_ValueError, "semaphore value must be at most %ld",
				     SYNC_SEM_MAX);
			goto out;
		}
		if (max < 0 || (max > 0 && max < value)) {
			PyErr_SetString(PyExc_ValueError,
					"a bounded semaphore's 'max' must be >= its value");
			goto out;
		}
		params.value = (uint32_t)value;
		params.max = (uint32_t)max;
		params.flags = robust ? SEALSHM_SEM_ROBUST : 0;
	}
	self = sync_alloc(tp);
	if (!self)
		goto out;
	if (sync_open(self, SEALSHM_OBJECT_SEM, name, create, socket, &params) < 0 ||
	    sync_info(self, &info) < 0) {
		Py_CLEAR(self);
		goto out;
	}
	self->max = info.max;
out:
	Py_XDECREF(socket);
	return (PyObject *)self;
}

/* --- Event ----------------------------------------------------------------- */

static int wait_event(SyncObject *self, const struct timespec *ts, uint32_t flags)
{
	return sealshm_event_wait(self->obj, ts, flags);
}

/* A call of @fn(obj) that does not wait, its result as None or bool. */
static PyObject *event_simple(SyncObject *self, int (*fn)(struct sealshm_event *), bool as_bool)
{
	int r;

	if (sync_begin(self) < 0)
		return NULL;
	SYNC_CALL(self, r, fn(self->obj));
	sync_end(self);
	if (r < 0)
		return sync_error(self, r);
	if (as_bool)
		return PyBool_FromLong(r);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(event_set_doc, "set(): set the flag and wake every waiter.");

static PyObject *event_set(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return event_simple(self, sealshm_event_set, false);
}

PyDoc_STRVAR(event_clear_doc, "clear(): clear the flag.");

static PyObject *event_clear(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return event_simple(self, sealshm_event_clear, false);
}

PyDoc_STRVAR(event_is_set_doc, "is_set() -> bool: whether the flag is set.");

static PyObject *event_is_set(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return event_simple(self, sealshm_event_is_set, true);
}

static const char *const timeout_names[] = { "timeout" };

PyDoc_STRVAR(event_wait_doc,
	     "wait(timeout=None) -> bool\n"
	     "--\n\n"
	     "Wait until the flag is set: True; False when @timeout seconds pass\n"
	     "first (<= 0: only look).");

static PyObject *event_wait(SyncObject *self, PyObject *const *args, Py_ssize_t nargs,
			    PyObject *kwnames)
{
	struct sync_deadline dl;
	PyObject *a[1];
	int r;

	if (parse_args("wait", timeout_names, 1, args, nargs, kwnames, a) < 0 ||
	    deadline_from(a[0], &dl) < 0 || sync_begin(self) < 0)
		return NULL;
	SYNC_CALL(self, r, sealshm_event_is_set(self->obj));
	if (r == 0)
		r = dl.now ? -ETIMEDOUT : sync_block(self, wait_event, &dl, true);
	else if (r == 1)
		r = 0;
	sync_end(self);
	if (r == 0)
		Py_RETURN_TRUE;
	if (r == -ETIMEDOUT)
		Py_RETURN_FALSE;
	return sync_error(self, r);
}

static PyMethodDef event_methods[] = {
	{ "set", (PyCFunction)event_set, METH_NOARGS, event_set_doc },
	{ "clear", (PyCFunction)event_clear, METH_NOARGS, event_clear_doc },
	{ "is_set", (PyCFunction)event_is_set, METH_NOARGS, event_is_set_doc },
	{ "wait", (PyCFunction)(void (*)(void))event_wait, METH_FASTCALL | METH_KEYWORDS,
	  event_wait_doc },
	SYNC_METHODS,
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef event_getset[] = {
	SYNC_GETSET,
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyObject *event_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
	return lock_new_common(tp, args, kwds, SEALSHM_OBJECT_EVENT);
}

/* --- Condition ------------------------------------------------------------- */

static bool is_lock_object(PyObject *o)
{
	return PyObject_TypeCheck(o, &ext_lock_type) || PyObject_TypeCheck(o, &ext_rlock_type);
}

static int wait_cond(SyncObject *self, const struct timespec *ts, uint32_t flags)
{
	SyncObject *lk = (SyncObject *)self->lock;

	if (is_rlock(lk))
		return sealshm_cond_wait_rlock(self->obj, lk->obj, ts, flags);
	return sealshm_cond_wait(self->obj, lk->obj, ts, flags);
}

/* The condition's lock for a call that needs the caller to hold it:
 * RuntimeError with threading's words @what otherwise. */
static SyncObject *cond_held_lock(SyncObject *self, const char *what)
{
	SyncObject *lk = (SyncObject *)self->lock;

	if (!lk) {
		closed_error(self);
		return NULL;
	}
	if (!lock_is_mine(lk)) {
		PyErr_Format(PyExc_RuntimeError, "cannot %s on un-acquired lock", what);
		return NULL;
	}
	return lk;
}

PyDoc_STRVAR(cond_wait_doc,
	     "wait(timeout=None) -> bool\n"
	     "--\n\n"
	     "Release the lock (an RLock whatever its count), wait to be notified,\n"
	     "and acquire it again (as it was): True, or False when @timeout\n"
	     "seconds passed first.  As with any condition variable, True may\n"
	     "come without a notify (after a signal): recheck\n"
	     "the predicate (wait_for() does).  RuntimeError('cannot wait on\n"
	     "un-acquired lock') unless this thread holds the lock.  A signal\n"
	     "handler's exception ends the wait with the lock held again.");

static PyObject *cond_wait(SyncObject *self, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	struct sync_deadline dl;
	PyObject *a[1], *ret = NULL;
	SyncObject *lk;
	int r;

	if (parse_args("wait", timeout_names, 1, args, nargs, kwnames, a) < 0 ||
	    deadline_from(a[0], &dl) < 0)
		return NULL;
	if (sync_begin(self) < 0)
		return NULL;
	lk = cond_held_lock(self, "wait");
	if (!lk || sync_begin(lk) < 0) {
		sync_end(self);
		return NULL;
	}
	Py_INCREF(lk);
	/* Not retried after a signal: a notify may have come meanwhile, so
	 * return as woken (spuriously, if it did not). */
	r = sync_block(self, wait_cond, &dl, false);
	if (r == -EOWNERDEAD) {
		if (lock_owner_died(lk, lk->count, false) < 0)
			goto out;
		/* Whether it was notified is lost: past the deadline, say it
		 * timed out. */
		r = deadline_passed(&dl) ? -ETIMEDOUT : 0;
	}
	if (r == 0 || r == -EINTR) {
		ret = Py_True;
		Py_INCREF(ret);
	} else if (r == -ETIMEDOUT) {
		ret = Py_False;
		Py_INCREF(ret);
	} else if (r == -EPERM) {
		PyErr_SetString(PyExc_RuntimeError, "cannot wait on un-acquired lock");
	} else if (r != SYNC_RAISED) {
		sync_error(self, r);
	}
out:
	sync_end(lk);
	Py_DECREF(lk);
	sync_end(self);
	return ret;
}

static PyObject *cond_notify_n(SyncObject *self, long long n)
{
	SyncObject *lk;
	int r;

	if (sync_begin(self) < 0)
		return NULL;
	lk = cond_held_lock(self, "notify");
	if (!lk) {
		sync_end(self);
		return NULL;
	}
	if (n < 0)
		r = 0;
	else if (n >= (long long)UINT32_MAX)
		SYNC_CALL(self, r, sealshm_cond_notify_all(self->obj));
	else
		SYNC_CALL(self, r, sealshm_cond_notify(self->obj, (uint32_t)n));
	sync_end(self);
	if (r < 0)
		return sync_error(self, r);
	Py_RETURN_NONE;
}

static const char *const n_names[] = { "n" };

PyDoc_STRVAR(cond_notify_doc,
	     "notify(n=1)\n"
	     "--\n\n"
	     "Wake up to @n waiters.  RuntimeError('cannot notify on un-acquired\n"
	     "lock') unless this thread holds the lock.");

static PyObject *cond_notify(SyncObject *self, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames)
{
	long long n = 1;
	PyObject *a[1];
	int overflow;

	if (parse_args("notify", n_names, 1, args, nargs, kwnames, a) < 0)
		return NULL;
	if (a[0]) {
		PyObject *i = PyNumber_Index(a[0]);

		if (!i)
			return NULL;
		n = PyLong_AsLongLongAndOverflow(i, &overflow);
		Py_DECREF(i);
		if (n == -1 && PyErr_Occurred())
			return NULL;
		if (overflow)
			n = overflow > 0 ? LLONG_MAX : -1;
	}
	return cond_notify_n(self, n);
}

PyDoc_STRVAR(cond_notify_all_doc,
	     "notify_all()\n"
	     "--\n\n"
	     "Wake every waiter.  RuntimeError as notify().");

static PyObject *cond_notify_all(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return cond_notify_n(self, LLONG_MAX);
}

static PyObject *cond_get_lock(SyncObject *self, void *closure)
{
	(void)closure;
	if (!self->lock)
		return closed_error(self);
	Py_INCREF(self->lock);
	return self->lock;
}

static PyMethodDef cond_methods[] = {
	{ "wait", (PyCFunction)(void (*)(void))cond_wait, METH_FASTCALL | METH_KEYWORDS,
	  cond_wait_doc },
	{ "notify", (PyCFunction)(void (*)(void))cond_notify, METH_FASTCALL | METH_KEYWORDS,
	  cond_notify_doc },
	{ "notify_all", (PyCFunction)cond_notify_all, METH_NOARGS, cond_notify_all_doc },
	SYNC_METHODS,
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef cond_getset[] = {
	SYNC_GETSET,
	{ "lock", (getter)cond_get_lock, NULL, "The Lock or RLock the condition uses.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyObject *cond_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "lock", "name", "create", "socket", NULL };
	SEALSHM_OPTS(sealshm_object_params, params, .type = SEALSHM_OBJECT_COND);
	PyObject *lock, *name = Py_None, *socket = NULL;
	SyncObject *self = NULL;
	int create = 1;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O$pO&", kwlist, &lock, &name, &create,
					 ext_socket_conv, &socket))
		return NULL;
	if (!is_lock_object(lock)) {
		PyErr_Format(PyExc_TypeError,
			     "a Condition's lock must be a sealshm Lock or RLock, not %.100s",
			     Py_TYPE(lock)->tp_name);
		goto out;
	}
	self = sync_alloc(tp);
	if (self && sync_open(self, SEALSHM_OBJECT_COND, name, create, socket, &params) < 0)
		Py_CLEAR(self);
	if (self) {
		Py_INCREF(lock);
		self->lock = lock;
	}
out:
	Py_XDECREF(socket);
	return (PyObject *)self;
}

/* --- Barrier --------------------------------------------------------------- */

static int wait_barrier(SyncObject *self, const struct timespec *ts, uint32_t flags)
{
	return sealshm_barrier_wait(self->obj, ts, flags);
}

static int wait_barrier_action(SyncObject *self, const struct timespec *ts, uint32_t flags)
{
	return sealshm_barrier_wait(self->obj, ts, flags | SEALSHM_BARRIER_ACTION);
}

static PyObject *raise_broken(void)
{
	struct ext_state *st = ext_state();

	PyErr_SetNone(st ? st->broken_barrier_error : PyExc_RuntimeError);
	return NULL;
}

static const char *const barrier_wait_names[] = { "timeout", "action" };

PyDoc_STRVAR(barrier_wait_doc,
	     "wait(timeout=None, action=False) -> int\n"
	     "--\n\n"
	     "Arrive and wait for the other parties: the arrival index, 0 ..\n"
	     "parties - 1.  threading.BrokenBarrierError when the barrier is or\n"
	     "becomes broken (abort(), reset() while waiting, a party that timed\n"
	     "out or died), and when @timeout seconds pass first (that breaks\n"
	     "it).  With @action true, the last party to arrive returns at once\n"
	     "(index parties - 1) with the others still waiting: it runs the\n"
	     "action, then calls pass_() or abort().  A signal handler's exception\n"
	     "(KeyboardInterrupt) ends the wait, the party out of the barrier and\n"
	     "the barrier unbroken, as in CPython.");

static PyObject *barrier_wait(SyncObject *self, PyObject *const *args, Py_ssize_t nargs,
			      PyObject *kwnames)
{
	struct sync_deadline dl;
	PyObject *a[2];
	int action = 0, r;

	if (parse_args("wait", barrier_wait_names, 2, args, nargs, kwnames, a) < 0 ||
	    deadline_from(a[0], &dl) < 0)
		return NULL;
	if (a[1] && (action = PyObject_IsTrue(a[1])) < 0)
		return NULL;
	if (sync_begin(self) < 0)
		return NULL;
	/* After a signal the party is out of the barrier (unbroken, as an
	 * exception leaves CPython's): an exception ends the wait there, else
	 * the party arrives again. */
	r = sync_block(self, action ? wait_barrier_action : wait_barrier, &dl, true);
	sync_end(self);
	if (r >= 0)
		return PyLong_FromLong(r);
	if (r == -EPIPE || r == -ETIMEDOUT)
		return raise_broken();
	return sync_error(self, r);
}

/* A Barrier call that does not wait: its result, or None when @none. */
static PyObject *barrier_simple(SyncObject *self, int (*fn)(struct sealshm_barrier *),
				int kind)
{
	int r;

	if (sync_begin(self) < 0)
		return NULL;
	SYNC_CALL(self, r, fn(self->obj));
	sync_end(self);
	if (r < 0)
		return sync_error(self, r);
	if (kind == 0)
		Py_RETURN_NONE;
	if (kind == 1)
		return PyLong_FromLong(r);
	return PyBool_FromLong(r);
}

PyDoc_STRVAR(barrier_pass_doc,
	     "pass_(): let the other parties go, after the action (wait(action=True)).");

static PyObject *barrier_pass(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return barrier_simple(self, sealshm_barrier_pass, 0);
}

PyDoc_STRVAR(barrier_abort_doc,
	     "abort(): break the barrier; waiters and later waits raise\n"
	     "BrokenBarrierError until reset().");

static PyObject *barrier_abort(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return barrier_simple(self, sealshm_barrier_abort, 0);
}

PyDoc_STRVAR(barrier_reset_doc,
	     "reset(): back to empty and unbroken; parties waiting now raise\n"
	     "BrokenBarrierError.");

static PyObject *barrier_reset(SyncObject *self, PyObject *unused)
{
	(void)unused;
	return barrier_simple(self, sealshm_barrier_reset, 0);
}

static PyObject *barrier_get_parties(SyncObject *self, void *closure)
{
	(void)closure;
	return barrier_simple(self, sealshm_barrier_parties, 1);
}

static PyObject *barrier_get_n_waiting(SyncObject *self, void *closure)
{
	(void)closure;
	return barrier_simple(self, sealshm_barrier_n_waiting, 1);
}

static PyObject *barrier_get_broken(SyncObject *self, void *closure)
{
	(void)closure;
	return barrier_simple(self, sealshm_barrier_broken, 2);
}

static PyMethodDef barrier_methods[] = {
	{ "wait", (PyCFunction)(void (*)(void))barrier_wait, METH_FASTCALL | METH_KEYWORDS,
	  barrier_wait_doc },
	{ "pass_", (PyCFunction)barrier_pass, METH_NOARGS, barrier_pass_doc },
	{ "abort", (PyCFunction)barrier_abort, METH_NOARGS, barrier_abort_doc },
	{ "reset", (PyCFunction)barrier_reset, METH_NOARGS, barrier_reset_doc },
	SYNC_METHODS,
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef barrier_getset[] = {
	SYNC_GETSET,
	{ "parties", (getter)barrier_get_parties, NULL, "Parties the barrier waits for.", NULL },
	{ "n_waiting", (getter)barrier_get_n_waiting, NULL, "Parties waiting now.", NULL },
	{ "broken", (getter)barrier_get_broken, NULL, "True while the barrier is broken.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyObject *barrier_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "parties", "name", "create", "socket", NULL };
	SEALSHM_OPTS(sealshm_object_params, params, .type = SEALSHM_OBJECT_BARRIER);
	PyObject *name = Py_None, *socket = NULL;
	SyncObject *self = NULL;
	long parties = 0;
	int create = 1;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|lO$pO&", kwlist, &parties, &name, &create,
					 ext_socket_conv, &socket))
		return NULL;
	if (create && parties < 1) {
		PyErr_SetString(PyExc_ValueError, "parties must be >= 1");
		goto out;
	}
	if (create && parties > SEALSHM_BARRIER_PARTIES_MAX) {
		PyErr_Format(PyExc_ValueError, "a barrier takes at most %d parties",
			     SEALSHM_BARRIER_PARTIES_MAX);
		goto out;
	}
	params.parties = (uint32_t)parties;
	self = sync_alloc(tp);
	if (self && sync_open(self, SEALSHM_OBJECT_BARRIER, name, create, socket, &params) < 0)
		Py_CLEAR(self);
out:
	Py_XDECREF(socket);
	return (PyObject *)self;
}

/* --- the types --------------------------------------------------------------- */

#define SYNC_TYPE(var, pyname, doc, methods, getset, new)			\
	PyTypeObject var = {							\
		PyVarObject_HEAD_INIT(NULL, 0)					\
		.tp_name = "sealshm._sealshm." pyname,				\
		.tp_basicsize = sizeof(SyncObject),				\
		.tp_dealloc = (destructor)sync_dealloc,				\
		.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, \
		.tp_doc = doc,							\
		.tp_traverse = (traverseproc)sync_traverse,			\
		.tp_clear = (inquiry)sync_clear,				\
		.tp_weaklistoffset = offsetof(SyncObject, weakreflist),		\
		.tp_methods = methods,						\
		.tp_getset = getset,						\
		.tp_alloc = PyType_GenericAlloc,				\
		.tp_new = new,							\
		.tp_free = PyObject_GC_Del,					\
	}

PyDoc_STRVAR(lock_doc,
	     "Lock(name=None, *, create=True, socket=None)\n"
	     "--\n\n"
	     "A lock held by a process (struct sealshm_lock in a segment of its\n"
	     "own): sealshm_object_create() when @create (@name None: generated),\n"
	     "else an untracked sealshm_object_attach() of @name.  Any thread of\n"
	     "the holding process may release it; one that acquires it waits like\n"
	     "any other.");
SYNC_TYPE(ext_lock_type, "Lock", lock_doc, lock_methods, lock_getset, lock_new);

PyDoc_STRVAR(rlock_doc,
	     "RLock(name=None, *, create=True, socket=None)\n"
	     "--\n\n"
	     "A recursive lock held by a thread of a process (struct sealshm_rlock):\n"
	     "its holder acquires it again, and releases it as many times.");
SYNC_TYPE(ext_rlock_type, "RLock", rlock_doc, lock_methods, lock_getset, rlock_new);

PyDoc_STRVAR(sem_doc,
	     "Semaphore(name=None, *, create=True, value=1, max=0, robust=False, socket=None)\n"
	     "--\n\n"
	     "A semaphore (struct sealshm_sem) of initial @value; bounded by @max\n"
	     "unless 0; with @robust, the units a dead process held come back.");
SYNC_TYPE(ext_sem_type, "Semaphore", sem_doc, sem_methods, sem_getset, sem_new);

PyDoc_STRVAR(event_doc,
	     "Event(name=None, *, create=True, socket=None)\n"
	     "--\n\n"
	     "A flag that processes wait for (struct sealshm_event).");
SYNC_TYPE(ext_event_type, "Event", event_doc, event_methods, event_getset, event_new);

PyDoc_STRVAR(cond_doc,
	     "Condition(lock, name=None, *, create=True, socket=None)\n"
	     "--\n\n"
	     "A condition variable (struct sealshm_cond) over @lock, a Lock or an\n"
	     "RLock of this module.");
SYNC_TYPE(ext_cond_type, "Condition", cond_doc, cond_methods, cond_getset, cond_new);

PyDoc_STRVAR(barrier_doc,
	     "Barrier(parties=0, name=None, *, create=True, socket=None)\n"
	     "--\n\n"
	     "A barrier of @parties, 1 .. 240 (struct sealshm_barrier); attaching\n"
	     "takes the parties from the object.  A party that dies while\n"
	     "waiting breaks it.");
SYNC_TYPE(ext_barrier_type, "Barrier", barrier_doc, barrier_methods, barrier_getset,
	  barrier_new);

/* --- a Lock or RLock inside another object's memory ------------------------ */

PyObject *ext_sync_wrap(PyTypeObject *tp, PyObject *owner, void *obj, uint32_t type,
			PyObject *name, PyObject *socket)
{
	SyncObject *self;

	if (type != SEALSHM_OBJECT_LOCK && type != SEALSHM_OBJECT_RLOCK) {
		PyErr_SetString(PyExc_ValueError, "only a Lock or an RLock can be wrapped");
		return NULL;
	}
	if (!PyType_IsSubtype(tp, type == SEALSHM_OBJECT_RLOCK ? &ext_rlock_type
							       : &ext_lock_type)) {
		PyErr_Format(PyExc_TypeError, "%.100s is not a subtype of sealshm._sealshm.%s",
			     tp->tp_name, type_name(type));
		return NULL;
	}
	self = sync_alloc(tp);
	if (!self)
		return NULL;
	self->type = type;
	self->obj = obj;
	Py_INCREF(owner);
	self->owner = owner;
	Py_INCREF(name);
	self->id.name = name;
	Py_XINCREF(socket);
	self->id.socket = socket;
	return (PyObject *)self;
}

void *ext_sync_object(PyObject *o, uint32_t *ret_type)
{
	SyncObject *self = (SyncObject *)o;

	if (!PyObject_TypeCheck(o, &ext_lock_type) && !PyObject_TypeCheck(o, &ext_rlock_type))
		return NULL;
	if (!self->obj || self->closing)
		return NULL;
	*ret_type = self->type;
	return self->obj;
}

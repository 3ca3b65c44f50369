// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Shared values and arrays for sealshm.sharedctypes: Arena (struct
 * sealshm_arena, this process's allocator of blocks), SharedArray (struct
 * sealshm_array in an arena block: its items through the buffer protocol,
 * for ctypes' from_buffer(), its Lock or RLock as a sealshm lock object)
 * and SyncValue, the base of sealshm.sharedctypes.Synchronized whose
 * 'value' takes the array's own RLock and converts the item in C.
 *
 * A SharedArray holds a counted reference to its block, taken by the
 * process that made or attached it; a forked child's copy holds none and
 * frees nothing (the parent's reference stays the parent's).  The items
 * are plain memory: reading and writing them needs no library call, so
 * they are touched with the GIL held.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "ext.h"

#include <structmember.h>

/*
 * This process's pid, kept in forked children by an atfork handler: a
 * handle compares it with the pid it took its reference in.
 */
static pid_t array_pid;

static void array_atfork_child(void)
{
	array_pid = getpid();
}

static int array_setup(void)
{
	int r;

	if (array_pid)
		return 0;
	r = pthread_atfork(NULL, NULL, array_atfork_child);
	if (r) {
		errno = r;
		PyErr_SetFromErrno(PyExc_OSError);
		return -1;
	}
	array_pid = getpid();
	return 0;
}

/* --- Arena ------------------------------------------------------------------ */

typedef struct {
	PyObject_HEAD
	struct sealshm_arena *arena;	/* NULL once closed */
	PyObject *socket;		/* bytes, or NULL: the default trackerd */
	pid_t pid;			/* the process that opened it */
	int busy;			/* allocations running with the GIL released */
	bool closing;
} ArenaObject;

static void arena_free(ArenaObject *self)
{
	/* A forked child's copy is its parent's arena: left alone. */
	if (self->arena && self->pid == array_pid)
		(void)sealshm_arena_close(self->arena);
	self->arena = NULL;
	self->closing = false;
}

static PyObject *arena_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "socket", NULL };
	PyObject *socket = NULL;
	ArenaObject *self;
	int r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$O&", kwlist, ext_socket_conv, &socket))
		return NULL;
	if (array_setup() < 0) {
		Py_XDECREF(socket);
		return NULL;
	}
	self = (ArenaObject *)tp->tp_alloc(tp, 0);
	if (!self) {
		Py_XDECREF(socket);
		return NULL;
	}
	self->socket = socket;
	self->pid = array_pid;
	{
		SEALSHM_OPTS(sealshm_opts, opts, .socket = ext_socket_str(socket));

		/* Nothing is created before the first block: no trackerd call. */
		r = sealshm_arena_open(&opts, &self->arena);
	}
	if (r < 0) {
		Py_DECREF(self);
		return ext_oserror(r, NULL);
	}
	return (PyObject *)self;
}

static void arena_dealloc(ArenaObject *self)
{
	arena_free(self);
	Py_CLEAR(self->socket);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(arena_close_doc,
	     "close(): no more blocks from this arena; those given out stay valid,\n"
	     "and a segment's name goes once none of its blocks is held.  Again\n"
	     "does nothing.  In a forked child, the parent's arena is only dropped.");

static PyObject *arena_close(ArenaObject *self, PyObject *unused)
{
	(void)unused;
	if (!self->arena || self->closing)
		Py_RETURN_NONE;
	if (self->busy > 0 && self->pid == array_pid)
		self->closing = true;
	else
		arena_free(self);
	Py_RETURN_NONE;
}

static PyObject *arena_get_closed(ArenaObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(!self->arena || self->closing || self->pid != array_pid);
}

static PyObject *arena_get_socket(ArenaObject *self, void *closure)
{
	PyObject *s = self->socket ? self->socket : Py_None;

	(void)closure;
	Py_INCREF(s);
	return s;
}

static PyMethodDef arena_methods[] = {
	{ "close", (PyCFunction)arena_close, METH_NOARGS, arena_close_doc },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef arena_getset[] = {
	{ "closed", (getter)arena_get_closed, NULL,
	  "True once closed, or in a process that did not open it (a forked child).", NULL },
	{ "socket", (getter)arena_get_socket, NULL,
	  "The trackerd socket of its segments (bytes), or None.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(arena_doc,
	     "Arena(*, socket=None)\n"
	     "--\n\n"
	     "This process's allocator of blocks in shared segments it creates\n"
	     "through the trackerd of @socket (sealshm_arena_open()), tracked:\n"
	     "a family killed with -9 leaves nothing.");

PyTypeObject ext_arena_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "sealshm._sealshm.Arena",
	.tp_basicsize = sizeof(ArenaObject),
	.tp_dealloc = (destructor)arena_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = arena_doc,
	.tp_methods = arena_methods,
	.tp_getset = arena_getset,
	.tp_new = arena_new,
};

/* --- SharedArray ------------------------------------------------------------ */

typedef struct {
	PyObject_HEAD
	struct sealshm_array *a;	/* NULL only while being made */
	char *data;			/* the items */
	Py_ssize_t nbytes;		/* length * item_size */
	uint64_t length;
	size_t item_size;
	uint32_t typecode;
	uint32_t flags;			/* SEALSHM_ARRAY_* */
	pid_t pid;			/* the process holding the handle's reference */
	pid_t ready;			/* array_pid once its lock was used here */
	PyObject *name;			/* str: its segment's name */
	PyObject *socket;		/* bytes, or NULL */
	Py_ssize_t exports;
	PyObject *weakreflist;
} ArrayObject;

static const char typecodes[] = "cbB?hHiIlLqQfd";

static int typecode_conv(PyObject *o, void *ret)
{
	uint32_t *tc = ret;
	Py_ssize_t len;
	const char *s;

	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "typecode must be a str, not %.100s",
			     Py_TYPE(o)->tp_name);
		return 0;
	}
	s = PyUnicode_AsUTF8AndSize(o, &len);
	if (!s)
		return 0;
	if (len == 0) {
		*tc = 0;
		return 1;
	}
	if (len != 1 || !strchr(typecodes, s[0])) {
		PyErr_Format(PyExc_ValueError, "bad typecode %R (one of %s, or '' for a struct)",
			     o, typecodes);
		return 0;
	}
	*tc = (unsigned char)s[0];
	return 1;
}

/* The handle's geometry into @self. */
static int array_fill(ArrayObject *self, struct sealshm_array *a, PyObject *socket)
{
	struct sealshm_ref ref;
	int r;

	self->a = a;
	self->pid = array_pid;
	self->data = sealshm_array_data(a);
	self->length = sealshm_array_length(a);
	self->item_size = sealshm_array_item_size(a);
	self->typecode = sealshm_array_typecode(a);
	self->flags = sealshm_array_flags(a);
	if (self->length > (uint64_t)PY_SSIZE_T_MAX / (self->item_size ? self->item_size : 1)) {
		PyErr_SetString(PyExc_OverflowError, "array too large for this process");
		return -1;
	}
	self->nbytes = (Py_ssize_t)(self->length * self->item_size);
	r = sealshm_array_ref(a, &ref);
	if (r < 0) {
		ext_oserror(r, NULL);
		return -1;
	}
	self->name = PyUnicode_FromString(ref.name);
	if (!self->name)
		return -1;
	Py_XINCREF(socket);
	self->socket = socket;
	return 0;
}

static int ref_conv(PyObject *o, void *ret)
{
	struct sealshm_ref *ref = ret;
	unsigned long long offset, size, generation;
	const char *name;
	Py_ssize_t len;

	if (!PyArg_ParseTuple(o, "s#KKK;ref must be (name, offset, size, generation)", &name, &len,
			      &offset, &size, &generation))
		return 0;
	if (len > SEALSHM_NAME_MAX) {
		PyErr_SetString(PyExc_ValueError, "ref: name too long");
		return 0;
	}
	memset(ref, 0, sizeof(*ref));
	memcpy(ref->name, name, (size_t)len);
	ref->offset = offset;
	ref->size = size;
	ref->generation = generation;
	return 1;
}

static PyObject *array_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "typecode", "length", "arena", "item_size", "item_align",
				  "lock", "value", "ref", "socket", NULL };
	SEALSHM_OPTS(sealshm_array_params, params);
	PyObject *arena_obj = Py_None, *lock = Py_None, *ref_obj = Py_None, *socket = NULL;
	unsigned long long length = 0;
	unsigned int item_size = 0, item_align = 0;
	struct sealshm_array *a = NULL;
	struct sealshm_ref ref;
	ArrayObject *self = NULL;
	uint32_t typecode = 0;
	int value = 0, r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O&K$OIIOpOO&", kwlist, typecode_conv,
					 &typecode, &length, &arena_obj, &item_size, &item_align,
					 &lock, &value, &ref_obj, ext_socket_conv, &socket))
		return NULL;
	if (array_setup() < 0)
		goto out;
	if (ref_obj != Py_None) {
		SEALSHM_OPTS(sealshm_opts, opts, .socket = ext_socket_str(socket));

		if (!ref_conv(ref_obj, &ref))
			goto out;
		Py_BEGIN_ALLOW_THREADS
		r = sealshm_array_attach_ref(&ref, &opts, &a);
		Py_END_ALLOW_THREADS
		if (r == -ESTALE) {
			errno = ESTALE;
			PyErr_Format(PyExc_FileNotFoundError,
				     "the shared object in %s is gone (released by every process "
				     "that held it)", ref.name);
			goto out;
		}
		if (r < 0) {
			PyObject *n = PyUnicode_FromString(ref.name);

			if (n) {
				ext_oserror(r, n);
				Py_DECREF(n);
			}
			goto out;
		}
	} else {
		ArenaObject *arena = (ArenaObject *)arena_obj;

		if (!PyObject_TypeCheck(arena_obj, &ext_arena_type)) {
			PyErr_SetString(PyExc_TypeError, "arena must be a sealshm._sealshm.Arena");
			goto out;
		}
		if (!arena->arena || arena->closing) {
			PyErr_SetString(PyExc_ValueError, "operation on a closed arena");
			goto out;
		}
		if (length < 1) {
			PyErr_SetString(PyExc_ValueError, "length must be >= 1");
			goto out;
		}
		if (lock == Py_None || (PyUnicode_Check(lock) &&
					PyUnicode_CompareWithASCIIString(lock, "") == 0))
			params.flags = 0;
		else if (PyUnicode_Check(lock) && PyUnicode_CompareWithASCIIString(lock, "rlock") == 0)
			params.flags = SEALSHM_ARRAY_RLOCK;
		else if (PyUnicode_Check(lock) && PyUnicode_CompareWithASCIIString(lock, "lock") == 0)
			params.flags = SEALSHM_ARRAY_LOCK;
		else {
			PyErr_SetString(PyExc_ValueError, "lock must be None, 'lock' or 'rlock'");
			goto out;
		}
		if (value)
			params.flags |= SEALSHM_ARRAY_VALUE;
		params.typecode = typecode;
		params.length = length;
		params.item_size = item_size;
		params.item_align = item_align;
		Py_XDECREF(socket);
		socket = arena->socket;
		Py_XINCREF(socket);
		{
			SEALSHM_OPTS(sealshm_opts, opts, .socket = ext_socket_str(socket));
			struct sealshm_arena *ar = arena->arena;

			arena->busy++;
			Py_INCREF(arena);
			Py_BEGIN_ALLOW_THREADS
			r = sealshm_array_alloc(ar, &params, &opts, &a);
			Py_END_ALLOW_THREADS
			if (--arena->busy == 0 && arena->closing)
				arena_free(arena);
			Py_DECREF(arena);
		}
		if (r == -EINVAL) {
			PyErr_SetString(PyExc_ValueError,
					"bad array parameters (typecode, length, item size or "
					"alignment)");
			goto out;
		}
		if (r == -EOVERFLOW) {
			PyErr_SetString(PyExc_OverflowError, "array too large");
			goto out;
		}
		if (r < 0) {
			ext_oserror(r, NULL);
			goto out;
		}
	}
	self = (ArrayObject *)tp->tp_alloc(tp, 0);
	if (!self) {
		(void)sealshm_array_close(a);
		goto out;
	}
	if (array_fill(self, a, socket) < 0)
		Py_CLEAR(self);		/* dealloc closes the handle */
out:
	Py_XDECREF(socket);
	return (PyObject *)self;
}

static void array_dealloc(ArrayObject *self)
{
	if (self->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)self);
	/* In a forked child the reference is the parent's: the handle (a
	 * copy of the parent's memory) is left as it is. */
	if (self->a && self->pid == array_pid) {
		struct sealshm_array *a = self->a;

		Py_BEGIN_ALLOW_THREADS
		(void)sealshm_array_close(a);
		Py_END_ALLOW_THREADS
	}
	self->a = NULL;
	Py_CLEAR(self->name);
	Py_CLEAR(self->socket);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static int array_getbuffer(ArrayObject *self, Py_buffer *view, int flags)
{
	if (!self->a) {
		PyErr_SetString(PyExc_BufferError, "no shared array");
		view->obj = NULL;
		return -1;
	}
	if (PyBuffer_FillInfo(view, (PyObject *)self, self->data, self->nbytes, 0, flags) < 0)
		return -1;
	self->exports++;
	return 0;
}

static void array_releasebuffer(ArrayObject *self, Py_buffer *view)
{
	(void)view;
	self->exports--;
}

static PyBufferProcs array_as_buffer = {
	.bf_getbuffer = (getbufferproc)array_getbuffer,
	.bf_releasebuffer = (releasebufferproc)array_releasebuffer,
};

PyDoc_STRVAR(array_ref_doc,
	     "ref() -> (name, offset, size, generation): where the array's block is\n"
	     "(sealshm_array_ref()), for SharedArray(ref=..., socket=...) in\n"
	     "another process.");

static PyObject *array_ref(ArrayObject *self, PyObject *unused)
{
	struct sealshm_ref ref;
	int r;

	(void)unused;
	r = sealshm_array_ref(self->a, &ref);
	if (r < 0)
		return ext_oserror(r, self->name);
	return Py_BuildValue("(sKKK)", ref.name, (unsigned long long)ref.offset,
			     (unsigned long long)ref.size, (unsigned long long)ref.generation);
}

PyDoc_STRVAR(array_make_lock_doc,
	     "make_lock(cls) -> lock: an object of @cls (a subclass of Lock or\n"
	     "RLock, as the array carries) over the array's own lock, keeping\n"
	     "this array alive.  ValueError when the array has no lock.");

static PyObject *array_make_lock(ArrayObject *self, PyObject *cls)
{
	void *lk;
	uint32_t type;

	if (!PyType_Check(cls)) {
		PyErr_SetString(PyExc_TypeError, "make_lock() takes a type");
		return NULL;
	}
	if (self->flags & SEALSHM_ARRAY_RLOCK) {
		lk = sealshm_array_rlock(self->a);
		type = SEALSHM_OBJECT_RLOCK;
	} else if (self->flags & SEALSHM_ARRAY_LOCK) {
		lk = sealshm_array_lock(self->a);
		type = SEALSHM_OBJECT_LOCK;
	} else {
		PyErr_SetString(PyExc_ValueError, "the array has no lock");
		return NULL;
	}
	if (!lk) {
		PyErr_SetString(PyExc_SystemError, "the array's lock is missing");
		return NULL;
	}
	return ext_sync_wrap((PyTypeObject *)cls, (PyObject *)self, lk, type, self->name,
			     self->socket);
}

static PyObject *array_get_typecode(ArrayObject *self, void *closure)
{
	char c = (char)self->typecode;

	(void)closure;
	return PyUnicode_FromStringAndSize(&c, self->typecode ? 1 : 0);
}

static PyObject *array_get_lock_kind(ArrayObject *self, void *closure)
{
	(void)closure;
	if (self->flags & SEALSHM_ARRAY_RLOCK)
		return PyUnicode_FromString("rlock");
	if (self->flags & SEALSHM_ARRAY_LOCK)
		return PyUnicode_FromString("lock");
	Py_RETURN_NONE;
}

static PyObject *array_get_socket(ArrayObject *self, void *closure)
{
	PyObject *s = self->socket ? self->socket : Py_None;

	(void)closure;
	Py_INCREF(s);
	return s;
}

static PyObject *array_get_held(ArrayObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->pid == array_pid);
}

static PyMethodDef array_methods[] = {
	{ "ref", (PyCFunction)array_ref, METH_NOARGS, array_ref_doc },
	{ "make_lock", (PyCFunction)array_make_lock, METH_O, array_make_lock_doc },
	{ NULL, NULL, 0, NULL },
};

static PyMemberDef array_members[] = {
	{ "name", T_OBJECT, offsetof(ArrayObject, name), READONLY,
	  "The name of the segment holding the array's block." },
	{ "length", T_ULONGLONG, offsetof(ArrayObject, length), READONLY, "Items." },
	{ "item_size", T_PYSSIZET, offsetof(ArrayObject, item_size), READONLY,
	  "Bytes of an item." },
	{ "nbytes", T_PYSSIZET, offsetof(ArrayObject, nbytes), READONLY,
	  "Bytes of the items (the buffer's length)." },
	{ NULL, 0, 0, 0, NULL },
};

static PyGetSetDef array_getset[] = {
	{ "typecode", (getter)array_get_typecode, NULL,
	  "The items' typecode ('d', ...), or '' for a caller's struct.", NULL },
	{ "lock_kind", (getter)array_get_lock_kind, NULL,
	  "'rlock' or 'lock' when the array carries one, else None.", NULL },
	{ "socket", (getter)array_get_socket, NULL,
	  "The trackerd socket it was made or attached with (bytes), or None.", NULL },
	{ "held", (getter)array_get_held, NULL,
	  "True when this process holds the handle's block reference (False in a\n"
	  "forked child, which shares its parent's).", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(array_doc,
	     "SharedArray(typecode='', length=0, *, arena=None, item_size=0,\n"
	     "            item_align=0, lock=None, value=False, ref=None, socket=None)\n"
	     "--\n\n"
	     "A typed array in a block of @arena (sealshm_array_alloc()): @length\n"
	     "items of @typecode (one of cbB?hHiIlLqQfd, or '' for items of\n"
	     "@item_size bytes aligned to @item_align), zeroed, with an embedded\n"
	     "lock when @lock is 'lock' or 'rlock'.  With @ref, the array another\n"
	     "process made (sealshm_array_attach_ref() through @socket's\n"
	     "trackerd).  Its buffer is the items, writable, with no copy.");

PyTypeObject ext_array_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "sealshm._sealshm.SharedArray",
	.tp_basicsize = sizeof(ArrayObject),
	.tp_dealloc = (destructor)array_dealloc,
	.tp_as_buffer = &array_as_buffer,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = array_doc,
	.tp_weaklistoffset = offsetof(ArrayObject, weakreflist),
	.tp_methods = array_methods,
	.tp_members = array_members,
	.tp_getset = array_getset,
	.tp_new = array_new,
};

/* --- SyncValue: Synchronized.value in C ---------------------------------- */

typedef struct {
	PyObject_HEAD
	PyObject *obj;			/* the ctypes object */
	PyObject *lock;
	/* Set when @lock is @arr's own RLock and @obj its one simple item:
	 * 'value' takes the RLock and converts the item here. */
	ArrayObject *arr;
} SyncValueObject;

/* Item at @p of typecode @tc as a Python object, as ctypes gives it. */
static PyObject *item_get(uint32_t tc, const void *p)
{
	switch (tc) {
	case 'b':
		return PyLong_FromLong(*(const signed char *)p);
	case 'B':
		return PyLong_FromLong(*(const unsigned char *)p);
	case '?':
		return PyBool_FromLong(*(const _Bool *)p);
	case 'h':
		return PyLong_FromLong(*(const short *)p);
	case 'H':
		return PyLong_FromLong(*(const unsigned short *)p);
	case 'i':
		return PyLong_FromLong(*(const int *)p);
	case 'I':
		return PyLong_FromUnsignedLong(*(const unsigned int *)p);
	case 'l':
		return PyLong_FromLong(*(const long *)p);
	case 'L':
		return PyLong_FromUnsignedLong(*(const unsigned long *)p);
	case 'q':
		return PyLong_FromLongLong(*(const long long *)p);
	case 'Q':
		return PyLong_FromUnsignedLongLong(*(const unsigned long long *)p);
	case 'f':
		return PyFloat_FromDouble(*(const float *)p);
	case 'd':
		return PyFloat_FromDouble(*(const double *)p);
	}
	return NULL;
}

/* A converted item to store, or not one this file converts as ctypes
 * would (then ctypes does it). */
union item {
	long long q;
	double d;
	_Bool b;
};

/* 1 with @it filled, 0 when ctypes must convert @v, -1 on error.  ctypes
 * keeps the low bits of an int for every integer type; it takes an int or
 * a float for 'f' and 'd', and anything's truth for '?'. */
static int item_convert(uint32_t tc, PyObject *v, union item *it)
{
	int t;

	switch (tc) {
	case '?':
		if (!PyBool_Check(v) && !PyLong_CheckExact(v))
			return 0;
		t = PyObject_IsTrue(v);
		if (t < 0)
			return -1;
		it->b = t;
		return 1;
	case 'f':
	case 'd':
		if (!PyFloat_CheckExact(v) && !PyLong_CheckExact(v))
			return 0;
		it->d = PyFloat_AsDouble(v);
		if (it->d == -1.0 && PyErr_Occurred())
			return -1;
		return 1;
	case 'b': case 'B': case 'h': case 'H': case 'i': case 'I':
	case 'l': case 'L': case 'q': case 'Q':
		if (!PyLong_CheckExact(v))
			return 0;
		it->q = (long long)PyLong_AsUnsignedLongLongMask(v);
		if (it->q == -1 && PyErr_Occurred())
			return -1;
		return 1;
	}
	return 0;
}

static void item_store(uint32_t tc, void *p, const union item *it)
{
	switch (tc) {
	case '?':
		*(_Bool *)p = it->b;
		break;
	case 'f':
		*(float *)p = (float)it->d;
		break;
	case 'd':
		*(double *)p = it->d;
		break;
	case 'b': case 'B':
		*(unsigned char *)p = (unsigned char)it->q;
		break;
	case 'h': case 'H':
		*(unsigned short *)p = (unsigned short)it->q;
		break;
	case 'i': case 'I':
		*(unsigned int *)p = (unsigned int)it->q;
		break;
	case 'l': case 'L':
		*(unsigned long *)p = (unsigned long)it->q;
		break;
	case 'q': case 'Q':
		*(unsigned long long *)p = (unsigned long long)it->q;
		break;
	}
}

/*
 * Take @arr's RLock without waiting: 1 when taken, 0 when it cannot be
 * taken so (held elsewhere, or an error its Python lock object reports
 * in its own words: the caller goes the slow way), -1 with an exception
 * (a dead holder's warning raised as an error; the lock is given back).
 */
static int fast_acquire(ArrayObject *arr, struct sealshm_rlock *rl)
{
	struct ext_state *st;
	int r;

	if (arr->ready == array_pid) {
		r = sealshm_rlock_tryacquire(rl);
	} else {
		/* The first use here may ask trackerd for a holder id. */
		Py_BEGIN_ALLOW_THREADS
		r = sealshm_rlock_tryacquire(rl);
		Py_END_ALLOW_THREADS
		if (r == 0 || r == -EBUSY || r == -EOWNERDEAD)
			arr->ready = array_pid;
	}
	if (r == 0)
		return 1;
	if (r != -EOWNERDEAD)
		return 0;
	r = sealshm_rlock_consistent(rl);
	if (r < 0) {
		(void)sealshm_rlock_release(rl);
		return 0;
	}
	st = ext_state();
	if (!st || PyErr_WarnFormat(st->owner_died_warning, 1,
				    "the process holding RLock %R died holding it: acquired, and "
				    "the lock is consistent again, but what it guards may be "
				    "half-changed", arr->name) < 0) {
		if (!st)
			PyErr_SetString(PyExc_SystemError, "sealshm._sealshm is not loaded");
		(void)sealshm_rlock_release(rl);
		return -1;
	}
	return 1;
}

static int fast_release(ArrayObject *arr, struct sealshm_rlock *rl)
{
	int r = sealshm_rlock_release(rl);

	if (r < 0) {
		ext_oserror(r, arr->name);
		return -1;
	}
	return 0;
}

static PyObject *call_method(PyObject *o, const char *name)
{
	return PyObject_CallMethod(o, name, NULL);
}

/* CPython's way: acquire(), the attribute, release(). */
static PyObject *slow_get(SyncValueObject *self)
{
	PyObject *r, *v;
	PyObject *type, *value, *tb;

	r = call_method(self->lock, "acquire");
	if (!r)
		return NULL;
	Py_DECREF(r);
	v = PyObject_GetAttrString(self->obj, "value");
	PyErr_Fetch(&type, &value, &tb);
	r = call_method(self->lock, "release");
	if (!r) {
		Py_XDECREF(v);
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
		return NULL;
	}
	Py_DECREF(r);
	PyErr_Restore(type, value, tb);
	return v;
}

static int slow_set(SyncValueObject *self, PyObject *v)
{
	PyObject *r;
	PyObject *type, *value, *tb;
	int ret;

	r = call_method(self->lock, "acquire");
	if (!r)
		return -1;
	Py_DECREF(r);
	ret = PyObject_SetAttrString(self->obj, "value", v);
	PyErr_Fetch(&type, &value, &tb);
	r = call_method(self->lock, "release");
	if (!r) {
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
		return -1;
	}
	Py_DECREF(r);
	PyErr_Restore(type, value, tb);
	return ret;
}

static PyObject *syncvalue_get_value(SyncValueObject *self, void *closure)
{
	ArrayObject *arr = self->arr;
	struct sealshm_rlock *rl;
	PyObject *v;
	int r;

	(void)closure;
	if (!self->lock)
		return PyErr_Format(PyExc_AttributeError, "'%.100s' object is not initialised",
				    Py_TYPE(self)->tp_name);
	if (!arr)
		return slow_get(self);
	rl = sealshm_array_rlock(arr->a);
	r = fast_acquire(arr, rl);
	if (r < 0)
		return NULL;
	if (r == 0)
		return slow_get(self);
	v = item_get(arr->typecode, arr->data);
	if (fast_release(arr, rl) < 0) {
		Py_XDECREF(v);
		return NULL;
	}
	return v;
}

static int syncvalue_set_value(SyncValueObject *self, PyObject *v, void *closure)
{
	ArrayObject *arr = self->arr;
	struct sealshm_rlock *rl;
	union item it;
	int r;

	(void)closure;
	if (!v) {
		/* What deleting a property without a deleter raises. */
#if PY_VERSION_HEX >= 0x030B0000
		PyErr_Format(PyExc_AttributeError, "property 'value' of '%.100s' object has no deleter",
			     _PyType_Name(Py_TYPE(self)));
#else
		PyErr_SetString(PyExc_AttributeError, "can't delete attribute");
#endif
		return -1;
	}
	if (!self->lock) {
		PyErr_Format(PyExc_AttributeError, "'%.100s' object is not initialised",
			     Py_TYPE(self)->tp_name);
		return -1;
	}
	if (!arr)
		return slow_set(self, v);
	r = item_convert(arr->typecode, v, &it);
	if (r < 0)
		return -1;
	if (r == 0)
		return slow_set(self, v);
	rl = sealshm_array_rlock(arr->a);
	r = fast_acquire(arr, rl);
	if (r < 0)
		return -1;
	if (r == 0)
		return slow_set(self, v);
	item_store(arr->typecode, arr->data, &it);
	return fast_release(arr, rl);
}

static int syncvalue_init(SyncValueObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "obj", "lock", "array", NULL };
	PyObject *obj, *lock, *arr_obj = Py_None;
	ArrayObject *arr = NULL;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:SyncValue", kwlist, &obj, &lock,
					 &arr_obj))
		return -1;
	if (arr_obj != Py_None) {
		uint32_t type = 0;
		void *lk = ext_sync_object(lock, &type);

		if (!PyObject_TypeCheck(arr_obj, &ext_array_type)) {
			PyErr_SetString(PyExc_TypeError, "array must be a SharedArray or None");
			return -1;
		}
		arr = (ArrayObject *)arr_obj;
		/* Only the array's own RLock over one simple item is done here. */
		if (!arr->a || !(arr->flags & SEALSHM_ARRAY_RLOCK) || arr->length < 1 ||
		    !arr->typecode || arr->typecode == 'c' ||
		    type != SEALSHM_OBJECT_RLOCK || lk != (void *)sealshm_array_rlock(arr->a))
			arr = NULL;
	}
	Py_INCREF(obj);
	Py_XSETREF(self->obj, obj);
	Py_INCREF(lock);
	Py_XSETREF(self->lock, lock);
	Py_XINCREF(arr);
	Py_XSETREF(self->arr, arr);
	return 0;
}

static int syncvalue_traverse(SyncValueObject *self, visitproc visit, void *arg)
{
	Py_VISIT(self->obj);
	Py_VISIT(self->lock);
	Py_VISIT(self->arr);
	return 0;
}

static int syncvalue_clear(SyncValueObject *self)
{
	Py_CLEAR(self->obj);
	Py_CLEAR(self->lock);
	Py_CLEAR(self->arr);
	return 0;
}

static void syncvalue_dealloc(SyncValueObject *self)
{
	PyObject_GC_UnTrack(self);
	(void)syncvalue_clear(self);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *syncvalue_get_fast(SyncValueObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->arr != NULL);
}

static PyMemberDef syncvalue_members[] = {
	{ "_obj", T_OBJECT, offsetof(SyncValueObject, obj), READONLY, "The ctypes object." },
	{ "_lock", T_OBJECT, offsetof(SyncValueObject, lock), READONLY, "Its lock." },
	{ NULL, 0, 0, 0, NULL },
};

static PyGetSetDef syncvalue_getset[] = {
	{ "value", (getter)syncvalue_get_value, (setter)syncvalue_set_value,
	  "The object's value, read or written holding the lock.", NULL },
	{ "_fast", (getter)syncvalue_get_fast, NULL,
	  "True when 'value' takes the array's own RLock in C.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(syncvalue_doc,
	     "SyncValue(obj, lock, array=None)\n"
	     "--\n\n"
	     "What sealshm.sharedctypes.Synchronized is made on: 'value' reads or\n"
	     "writes @obj.value holding @lock (acquire(), then release()).  When\n"
	     "@lock is the own RLock of @array (a SharedArray) and @obj that\n"
	     "array's one item of a simple typecode, the lock is taken and the\n"
	     "item converted here, as ctypes converts it.");

PyTypeObject ext_syncvalue_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "sealshm._sealshm.SyncValue",
	.tp_basicsize = sizeof(SyncValueObject),
	.tp_dealloc = (destructor)syncvalue_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = syncvalue_doc,
	.tp_traverse = (traverseproc)syncvalue_traverse,
	.tp_clear = (inquiry)syncvalue_clear,
	.tp_members = syncvalue_members,
	.tp_getset = syncvalue_getset,
	.tp_init = (initproc)syncvalue_init,
	.tp_alloc = PyType_GenericAlloc,
	.tp_new = PyType_GenericNew,
	.tp_free = PyObject_GC_Del,
};

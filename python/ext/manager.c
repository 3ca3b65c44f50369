// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Manager: one struct sealshm_manager, a SharedMemoryManager's private
 * trackerd.  Every call releases the GIL (each is a round trip, and
 * start/shutdown wait up to 5 s); shutdown() and close() wait for other
 * threads' calls on the handle to return before they free it.
 *
 * The segments and lists it makes are plain Segment and SList objects
 * whose identity names the manager's socket, untracked, never autostarted
 * (what the library gives such handles), so unlink() after close() goes
 * to the manager too.
 */
#include <errno.h>

#include "ext.h"

typedef struct {
	PyObject_HEAD
	struct sealshm_manager *mgr;	/* NULL once shut down or closed */
	PyObject *address;		/* str, kept past shutdown */
	PyObject *socket;		/* the same, as bytes */
	long pid;
	struct ext_busy busy;
	bool closing;
} ManagerObject;

/* Flags of the identity of what a manager makes. */
#define MANAGER_ID_FLAGS (SEALSHM_NO_TRACK | SEALSHM_NO_AUTOSTART)

static struct sealshm_manager *mgr_handle(ManagerObject *self)
{
	if (!self->mgr || self->closing) {
		PyErr_SetString(PyExc_ValueError, "operation on a closed manager");
		return NULL;
	}
	return self->mgr;
}

/* Start or connect; @authkey None or bytes-like, @path NULL for connect. */
static PyObject *manager_open(PyObject *address, PyObject *authkey, PyObject *trackerd)
{
	SEALSHM_OPTS(sealshm_manager_opts, opts);
	struct sealshm_manager *mgr = NULL;
	Py_buffer key = { 0 };
	ManagerObject *self;
	const char *a;
	int r;

	if (authkey != Py_None) {
		if (PyObject_GetBuffer(authkey, &key, PyBUF_SIMPLE) < 0)
			return NULL;
		if (key.len < 1 || key.len > SEALSHM_MANAGER_KEY_MAX) {
			PyBuffer_Release(&key);
			return PyErr_Format(PyExc_ValueError, "'authkey' must be 1 to %d bytes, not %zd",
					    SEALSHM_MANAGER_KEY_MAX, key.len);
		}
		opts.authkey = key.buf;
		opts.authkey_len = (size_t)key.len;
	}
	opts.trackerd = ext_socket_str(trackerd);
	/* Before the manager exists: nothing to undo if this fails. */
	self = (ManagerObject *)ext_manager_type.tp_alloc(&ext_manager_type, 0);
	if (!self) {
		PyBuffer_Release(&key);
		return NULL;
	}
	a = ext_socket_str(address);
	Py_BEGIN_ALLOW_THREADS
	if (a)
		r = sealshm_manager_connect(a, &opts, &mgr);
	else
		r = sealshm_manager_start(&opts, &mgr);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&key);
	if (r < 0) {
		Py_DECREF(self);
		if (r == -EINVAL)
			return PyErr_Format(PyExc_ValueError, "%s: invalid argument",
					    a ? "connect" : "start");
		if (a) {
			/* The address as given (a path, not a segment name). */
			PyObject *file = PyUnicode_DecodeFSDefault(a);

			if (!file)
				return NULL;
			errno = -r;
			PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, file);
			Py_DECREF(file);
			return NULL;
		}
		return ext_oserror(r, NULL);
	}
	self->mgr = mgr;
	self->pid = (long)sealshm_manager_pid(mgr);
	self->socket = PyBytes_FromString(sealshm_manager_address(mgr));
	if (self->socket)
		self->address = PyUnicode_DecodeFSDefault(sealshm_manager_address(mgr));
	if (!self->address) {
		/* A manager we started and cannot describe: stop it. */
		Py_BEGIN_ALLOW_THREADS
		(void)(a ? sealshm_manager_close(mgr) : sealshm_manager_shutdown(mgr));
		Py_END_ALLOW_THREADS
		self->mgr = NULL;
		Py_DECREF(self);
		return NULL;
	}
	return (PyObject *)self;
}

PyDoc_STRVAR(start_doc,
	     "start(authkey=None, trackerd=None) -> Manager: start a manager\n"
	     "(sealshm_manager_start()).");

static PyObject *manager_start(PyObject *unused, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "authkey", "trackerd", NULL };
	PyObject *authkey = Py_None, *trackerd = NULL, *ret;

	(void)unused;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO&:start", kwlist, &authkey,
					 ext_socket_conv, &trackerd))
		return NULL;
	ret = manager_open(NULL, authkey, trackerd);
	Py_XDECREF(trackerd);
	return ret;
}

PyDoc_STRVAR(connect_doc,
	     "connect(address, authkey=None) -> Manager: reach the manager at @address\n"
	     "(sealshm_manager_connect()).");

static PyObject *manager_connect(PyObject *unused, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "address", "authkey", NULL };
	PyObject *authkey = Py_None, *address = NULL, *ret;

	(void)unused;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&|O:connect", kwlist, PyUnicode_FSConverter,
					 &address, &authkey))
		return NULL;
	ret = manager_open(address, authkey, NULL);
	Py_DECREF(address);
	return ret;
}

static void manager_dealloc(ManagerObject *self)
{
	/* Free the handle, leave the manager running (CPython's manager also
	 * outlives a dropped object; its owner's exit stops it). */
	if (self->mgr)
		(void)sealshm_manager_close(self->mgr);
	Py_CLEAR(self->address);
	Py_CLEAR(self->socket);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *manager_repr(ManagerObject *self)
{
	return PyUnicode_FromFormat("<%s address=%R pid=%ld%s>", Py_TYPE(self)->tp_name,
				    self->address ? self->address : Py_None, self->pid,
				    self->mgr ? "" : " closed");
}

PyDoc_STRVAR(create_doc,
	     "create(size) -> Segment: a new segment of the manager's\n"
	     "(sealshm_manager_create()).");

static PyObject *manager_create(ManagerObject *self, PyObject *arg)
{
	struct sealshm_manager *mgr;
	struct sealshm *shm = NULL;
	size_t size;
	int r;

	if (ext_size_check(arg, true, &size) < 0)
		return NULL;
	mgr = mgr_handle(self);
	if (!mgr)
		return NULL;
	ext_busy_enter(&self->busy);
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_manager_create(mgr, size, &shm);
	Py_END_ALLOW_THREADS
	ext_busy_leave(&self->busy);
	if (r < 0)
		return ext_oserror(r, NULL);
	return ext_segment_wrap(shm, true, MANAGER_ID_FLAGS, self->socket);
}

PyDoc_STRVAR(slist_create_doc,
	     "slist_create(sequence) -> SList: a new list of the manager's\n"
	     "(sealshm_manager_slist_create()).");

static PyObject *manager_slist_create(ManagerObject *self, PyObject *seq)
{
	struct sealshm_manager *mgr;
	struct sealshm_slist *l = NULL;
	struct ext_items items;
	int r;

	if (ext_items_from_sequence(seq, &items) < 0)
		return NULL;
	mgr = mgr_handle(self);
	if (!mgr) {
		ext_items_release(&items);
		return NULL;
	}
	ext_busy_enter(&self->busy);
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_manager_slist_create(mgr, items.items, items.n, &l);
	Py_END_ALLOW_THREADS
	ext_busy_leave(&self->busy);
	ext_items_release(&items);
	if (r == -E2BIG)
		return PyErr_Format(PyExc_ValueError,
				    "a ShareableList str/bytes item holds at most 9999991 bytes");
	if (r < 0)
		return ext_oserror(r, NULL);
	return ext_slist_wrap(l, true, MANAGER_ID_FLAGS, self->socket);
}

/* attach() and slist_attach(). */
static PyObject *manager_attach_any(ManagerObject *self, PyObject *args, PyObject *kwds,
				    bool list)
{
	static char *kwlist[] = { "name", "readonly", NULL };
	struct sealshm_manager *mgr;
	struct sealshm_slist *l = NULL;
	struct sealshm *shm = NULL;
	struct ext_name name;
	int readonly = 0, r;
	uint32_t flags;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, list ? "O&|$p:slist_attach" : "O&|$p:attach",
					 kwlist, ext_name_conv, &name, &readonly))
		return NULL;
	mgr = mgr_handle(self);
	if (!mgr)
		return NULL;
	flags = readonly ? SEALSHM_RDONLY : 0;
	{
		SEALSHM_OPTS(sealshm_opts, opts, .flags = flags);

		ext_busy_enter(&self->busy);
		Py_BEGIN_ALLOW_THREADS
		if (list)
			r = sealshm_manager_slist_attach(mgr, name.s, &opts, &l);
		else
			r = sealshm_manager_attach(mgr, name.s, &opts, &shm);
		Py_END_ALLOW_THREADS
		ext_busy_leave(&self->busy);
	}
	if (r < 0)
		return ext_oserror(r, name.obj);
	if (list)
		return ext_slist_wrap(l, false, MANAGER_ID_FLAGS | flags, self->socket);
	return ext_segment_wrap(shm, false, MANAGER_ID_FLAGS | flags, self->socket);
}

PyDoc_STRVAR(attach_doc,
	     "attach(name, *, readonly=False) -> Segment: a segment of the manager's\n"
	     "(sealshm_manager_attach()).");

static PyObject *manager_attach(ManagerObject *self, PyObject *args, PyObject *kwds)
{
	return manager_attach_any(self, args, kwds, false);
}

PyDoc_STRVAR(slist_attach_doc,
	     "slist_attach(name, *, readonly=False) -> SList: a list of the manager's\n"
	     "(sealshm_manager_slist_attach()).");

static PyObject *manager_slist_attach(ManagerObject *self, PyObject *args, PyObject *kwds)
{
	return manager_attach_any(self, args, kwds, true);
}

/* shutdown() and close(): idempotent, after other threads' calls. */
static PyObject *manager_end(ManagerObject *self, bool shutdown)
{
	struct sealshm_manager *mgr;
	int r = 0;

	if (!self->mgr)
		Py_RETURN_NONE;
	self->closing = true;
	ext_wait_idle(&self->busy);
	self->closing = false;
	mgr = self->mgr;
	if (!mgr)
		Py_RETURN_NONE;		/* another thread ended it meanwhile */
	if (!shutdown) {
		self->mgr = NULL;
		(void)sealshm_manager_close(mgr);
		Py_RETURN_NONE;
	}
	/* Detached first: no other thread can start a call on it while it
	 * stops; on failure the handle stays valid and comes back. */
	self->mgr = NULL;
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_manager_shutdown(mgr);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		self->mgr = mgr;
		return ext_oserror(r, NULL);
	}
	Py_RETURN_NONE;
}

PyDoc_STRVAR(shutdown_doc,
	     "shutdown(): unlink every name of the manager and stop it\n"
	     "(sealshm_manager_shutdown()); again does nothing.  In a forked copy\n"
	     "it frees only the copy.");

static PyObject *manager_shutdown(ManagerObject *self, PyObject *unused)
{
	(void)unused;
	return manager_end(self, true);
}

PyDoc_STRVAR(manager_close_doc,
	     "close(): free the handle, leave the manager running\n"
	     "(sealshm_manager_close()); again does nothing.");

static PyObject *manager_close(ManagerObject *self, PyObject *unused)
{
	(void)unused;
	return manager_end(self, false);
}

static PyMethodDef manager_methods[] = {
	{ "start", (PyCFunction)(void (*)(void))manager_start,
	  METH_VARARGS | METH_KEYWORDS | METH_STATIC, start_doc },
	{ "connect", (PyCFunction)(void (*)(void))manager_connect,
	  METH_VARARGS | METH_KEYWORDS | METH_STATIC, connect_doc },
	{ "create", (PyCFunction)manager_create, METH_O, create_doc },
	{ "slist_create", (PyCFunction)manager_slist_create, METH_O, slist_create_doc },
	{ "attach", (PyCFunction)(void (*)(void))manager_attach, METH_VARARGS | METH_KEYWORDS,
	  attach_doc },
	{ "slist_attach", (PyCFunction)(void (*)(void))manager_slist_attach,
	  METH_VARARGS | METH_KEYWORDS, slist_attach_doc },
	{ "shutdown", (PyCFunction)manager_shutdown, METH_NOARGS, shutdown_doc },
	{ "close", (PyCFunction)manager_close, METH_NOARGS, manager_close_doc },
	{ NULL, NULL, 0, NULL },
};

static PyObject *manager_get_address(ManagerObject *self, void *closure)
{
	(void)closure;
	Py_INCREF(self->address);
	return self->address;
}

static PyObject *manager_get_pid(ManagerObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromLong(self->pid);
}

static PyObject *manager_get_closed(ManagerObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(!self->mgr);
}

static PyGetSetDef manager_getset[] = {
	{ "address", (getter)manager_get_address, NULL, "The manager's socket path.", NULL },
	{ "pid", (getter)manager_get_pid, NULL, "The manager's pid.", NULL },
	{ "closed", (getter)manager_get_closed, NULL, "True once shut down or closed.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyObject *manager_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	(void)args;
	(void)kwds;
	return PyErr_Format(PyExc_TypeError, "cannot create '%.100s' instances: use %s.start() "
			    "or %s.connect()", type->tp_name, type->tp_name, type->tp_name);
}

PyDoc_STRVAR(manager_doc,
	     "A SharedMemoryManager's private trackerd (struct sealshm_manager):\n"
	     "Manager.start() or Manager.connect(address).");

PyTypeObject ext_manager_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "sealshm._sealshm.Manager",
	.tp_basicsize = sizeof(ManagerObject),
	.tp_dealloc = (destructor)manager_dealloc,
	.tp_repr = (reprfunc)manager_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = manager_doc,
	.tp_methods = manager_methods,
	.tp_getset = manager_getset,
	.tp_alloc = PyType_GenericAlloc,
	.tp_new = manager_new,
	.tp_free = PyObject_Del,
};

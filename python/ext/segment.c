// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Segment: one struct sealshm, with the buffer protocol as mmap has it
 * (Modules/mmapmodule.c): exports are counted, close() while any exists
 * raises BufferError and changes nothing, a read-only attach exports
 * read-only buffers, and after close() a new export raises ValueError.
 *
 * A lent segment (a list's SList.segment) borrows its lender's handle: it
 * holds a reference to the lender, and closing either closes both.  Its
 * calls that release the GIL count in the lender's busy counter, since the
 * lender frees the handle (struct ext_lender).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "ext.h"

/* --- identity, kept past close() ---------------------------------------- */

int ext_ident_from_shm(struct ext_ident *id, const struct sealshm *shm, uint32_t flags,
		       PyObject *socket)
{
	struct stat st;

	if (fstat(sealshm_fd(shm), &st) < 0) {
		PyErr_SetFromErrno(PyExc_OSError);
		return -1;
	}
	id->name = PyUnicode_FromString(sealshm_name(shm));
	if (!id->name)
		return -1;
	id->socket = socket;
	Py_XINCREF(socket);
	id->ino = (uint64_t)st.st_ino;
	id->flags = flags & (SEALSHM_POSIX | SEALSHM_NO_AUTOSTART | SEALSHM_NO_TRACK |
			     SEALSHM_RDONLY);
	return 0;
}

void ext_ident_copy(struct ext_ident *dst, const struct ext_ident *src)
{
	*dst = *src;
	Py_XINCREF(dst->name);
	Py_XINCREF(dst->socket);
}

void ext_ident_clear(struct ext_ident *id)
{
	Py_CLEAR(id->name);
	Py_CLEAR(id->socket);
}

int ext_ident_unlink(const char *name, const char *socket, uint64_t ino, uint32_t flags)
{
	/* The handle is gone; the inode still says which segment was ours:
	 * trackerd (or the /dev/shm check) leaves a newer one of the name. */
	SEALSHM_OPTS(sealshm_opts, opts, .flags = flags & (SEALSHM_POSIX | SEALSHM_NO_AUTOSTART),
		     .socket = socket, .ino = ino);

	return sealshm_unlink_name(name, &opts);
}

/* --- the object ----------------------------------------------------------- */

/* The handle for a new use, or NULL when closed or closing. */
static struct sealshm *seg_handle(SegmentObject *self)
{
	if (self->lender)
		return self->lender->closing ? NULL : self->shm;
	return self->closing ? NULL : self->shm;
}

/* Who frees the handle counts its GIL-released uses. */
static struct ext_busy *seg_busy(SegmentObject *self)
{
	return self->lender ? &self->lender->busy : &self->busy;
}

static PyObject *closed_error(void)
{
	PyErr_SetString(PyExc_ValueError, EXT_SEGMENT_CLOSED);
	return NULL;
}

/* Undo a handle made for an object that could not be made. */
static void discard(struct sealshm *shm, bool created)
{
	if (created) {
		Py_BEGIN_ALLOW_THREADS
		(void)sealshm_unlink(shm);
		Py_END_ALLOW_THREADS
	}
	(void)sealshm_close(shm);
}

static int segment_fill(SegmentObject *self, struct sealshm *shm, uint32_t flags,
			PyObject *socket)
{
	if (ext_ident_from_shm(&self->id, shm, flags, socket) < 0)
		return -1;
	self->shm = shm;
	self->size = (Py_ssize_t)sealshm_size(shm);
	self->readonly = flags & SEALSHM_RDONLY;
	return 0;
}

PyObject *ext_segment_wrap(struct sealshm *shm, bool created, uint32_t id_flags, PyObject *socket)
{
	SegmentObject *self;

	self = (SegmentObject *)ext_segment_type.tp_alloc(&ext_segment_type, 0);
	if (!self || segment_fill(self, shm, id_flags, socket) < 0) {
		discard(shm, created);
		Py_XDECREF(self);
		return NULL;
	}
	return (PyObject *)self;
}

PyObject *ext_segment_lent(PyObject *owner, struct ext_lender *lender, struct sealshm *shm,
			   const struct ext_ident *id, Py_ssize_t size)
{
	SegmentObject *self;

	self = (SegmentObject *)ext_segment_type.tp_alloc(&ext_segment_type, 0);
	if (!self)
		return NULL;
	Py_INCREF(owner);
	self->owner = owner;
	self->lender = lender;
	self->shm = shm;
	ext_ident_copy(&self->id, id);
	self->size = size;
	self->readonly = lender->readonly;
	/* Not a reference: the segment's dealloc clears it. */
	lender->seg = self;
	return (PyObject *)self;
}

static PyObject *segment_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", "create", "size", "flags", "mode", "socket", NULL };
	PyObject *name_obj, *size_obj = NULL, *socket = NULL;
	SEALSHM_OPTS(sealshm_opts, opts);
	struct sealshm *shm = NULL;
	uint32_t flags = 0, mode = 0;
	SegmentObject *self = NULL;
	struct ext_name name;
	size_t size = 0;
	int create, r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "Op|O$O&O&O&:Segment", kwlist, &name_obj,
					 &create, &size_obj, ext_u32_conv, &flags,
					 ext_u32_conv, &mode, ext_socket_conv, &socket))
		return NULL;
	/* CPython's SharedMemory checks, in its order. */
	if (size_obj) {
		if (ext_size_check(size_obj, create, &size) < 0)
			goto out;
	} else if (create) {
		PyErr_SetString(PyExc_ValueError,
				"'size' must be a positive number different from zero");
		goto out;
	}
	if (name_obj == Py_None && !create) {
		PyErr_SetString(PyExc_ValueError, "'name' can only be None if create=True");
		goto out;
	}
	if (!ext_name_or_none_conv(name_obj, &name))
		goto out;

	/* The object first: once a name exists, little may fail. */
	self = (SegmentObject *)type->tp_alloc(type, 0);
	if (!self)
		goto out;

	opts.flags = flags;
	opts.mode = mode;
	opts.socket = ext_socket_str(socket);
	Py_BEGIN_ALLOW_THREADS
	if (create)
		r = sealshm_create(name.s, size, &opts, &shm);
	else
		r = sealshm_attach(name.s, &opts, &shm);
	Py_END_ALLOW_THREADS
	if (r == -EINVAL) {
		ext_einval(create ? "create" : "attach", flags, mode);
		Py_CLEAR(self);
	} else if (r < 0) {
		ext_oserror(r, name.s ? name.obj : NULL);
		Py_CLEAR(self);
	} else if (segment_fill(self, shm, flags, socket) < 0) {
		discard(shm, create);
		Py_CLEAR(self);
	}
out:
	Py_XDECREF(socket);
	return (PyObject *)self;
}

static int segment_traverse(SegmentObject *self, visitproc visit, void *arg)
{
	Py_VISIT(self->owner);
	return 0;
}

/* No tp_clear: the owner reference is what keeps a borrowed handle valid;
 * a cycle through a Python object is broken by that object's clear. */

static void segment_dealloc(SegmentObject *self)
{
	PyObject_GC_UnTrack(self);
	if (self->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)self);
	if (self->lender) {
		/* The lender lives inside owner: done with it before owner goes. */
		if (self->lender->seg == self)
			self->lender->seg = NULL;
		self->lender = NULL;
		Py_CLEAR(self->owner);
	} else if (self->shm) {
		/* Nothing else can hold it: exports and calls hold references. */
		(void)sealshm_close(self->shm);
	}
	self->shm = NULL;
	ext_ident_clear(&self->id);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *segment_repr(SegmentObject *self)
{
	return PyUnicode_FromFormat("<%s name=%R size=%zd%s%s>", Py_TYPE(self)->tp_name,
				    self->id.name ? self->id.name : Py_None, self->size,
				    self->readonly ? " readonly" : "",
				    self->shm ? "" : " closed");
}

/* --- methods ----------------------------------------------------------- */

PyDoc_STRVAR(fileno_doc, "fileno() -> int: the segment's fd (owned by the segment).");

static PyObject *segment_fileno(SegmentObject *self, PyObject *unused)
{
	struct sealshm *h = seg_handle(self);

	(void)unused;
	if (!h)
		return closed_error();
	return PyLong_FromLong(sealshm_fd(h));
}

PyDoc_STRVAR(close_doc,
	     "close(): unmap and close; again does nothing.  BufferError while a\n"
	     "buffer is exported.  A list's segment closes the list.");

static PyObject *segment_close(SegmentObject *self, PyObject *unused)
{
	(void)unused;
	if (self->lender) {
		if (self->lender->close(self->owner) < 0)
			return NULL;
		Py_RETURN_NONE;
	}
	if (!self->shm)
		Py_RETURN_NONE;
	if (self->exports > 0) {
		/* mmap's words, and nothing changed. */
		PyErr_SetString(PyExc_BufferError, "cannot close exported pointers exist");
		return NULL;
	}
	self->closing = true;
	ext_wait_idle(&self->busy);
	self->closing = false;
	if (self->shm) {
		(void)sealshm_close(self->shm);
		self->shm = NULL;
	}
	Py_RETURN_NONE;
}

PyDoc_STRVAR(unlink_doc,
	     "unlink(): remove the name, only while it names this segment\n"
	     "(sealshm_unlink()); also after close().");

static PyObject *segment_unlink(SegmentObject *self, PyObject *unused)
{
	struct sealshm *h = seg_handle(self);
	struct ext_busy *busy = seg_busy(self);
	int r;

	(void)unused;
	if (h) {
		ext_busy_enter(busy);
		Py_BEGIN_ALLOW_THREADS
		r = sealshm_unlink(h);
		Py_END_ALLOW_THREADS
		ext_busy_leave(busy);
	} else {
		const char *name = PyUnicode_AsUTF8(self->id.name);
		const char *socket = ext_socket_str(self->id.socket);
		uint64_t ino = self->id.ino;
		uint32_t flags = self->id.flags;

		if (!name)
			return NULL;
		Py_BEGIN_ALLOW_THREADS
		r = ext_ident_unlink(name, socket, ino, flags);
		Py_END_ALLOW_THREADS
	}
	if (r < 0)
		return ext_oserror(r, self->id.name);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(seal_doc,
	     "seal(flags): add SEAL_WRITE and/or SEAL_FUTURE_WRITE (sealshm_seal()).\n"
	     "SEAL_WRITE makes the buffer read-only, so it raises BufferError while a\n"
	     "buffer is exported (a writable one would fault).");

static PyObject *segment_seal(SegmentObject *self, PyObject *arg)
{
	struct sealshm *h = seg_handle(self);
	struct ext_busy *busy = seg_busy(self);
	bool was_readonly = false, owner_readonly = false;
	uint32_t flags;
	int r, seals;

	if (!ext_u32_conv(arg, &flags))
		return NULL;
	if (!h)
		return closed_error();
	if (flags & SEALSHM_SEAL_WRITE && self->exports > 0) {
		PyErr_SetString(PyExc_BufferError,
				"cannot seal against writes: exported pointers exist");
		return NULL;
	}
	/*
	 * SEAL_WRITE remaps the buffer read-only while the GIL is released:
	 * from now on another thread may neither export it writable nor set
	 * a list item in it.  After a failure it is writable again, unless
	 * FUTURE_WRITE is on, which keeps it read-only (sealshm_seal(3)).
	 */
	if (flags & SEALSHM_SEAL_WRITE) {
		was_readonly = self->readonly;
		owner_readonly = self->lender && self->lender->readonly;
		self->readonly = true;
		if (self->lender)
			self->lender->readonly = true;
	}
	ext_busy_enter(busy);
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_seal(h, flags);
	Py_END_ALLOW_THREADS
	ext_busy_leave(busy);
	if (flags & SEALSHM_SEAL_WRITE && r < 0 &&
	    !((seals = fcntl(sealshm_fd(h), F_GET_SEALS)) >= 0 && seals & F_SEAL_FUTURE_WRITE)) {
		self->readonly = was_readonly;
		if (self->lender)
			self->lender->readonly = owner_readonly;
	}
	if (r == -EINVAL) {
		PyErr_Format(PyExc_ValueError,
			     "seal: invalid flags 0x%x (SEAL_WRITE and/or SEAL_FUTURE_WRITE; "
			     "FUTURE_WRITE needs Linux 5.1)", flags);
		return NULL;
	}
	if (r < 0)
		return ext_oserror(r, self->id.name);
	Py_RETURN_NONE;
}

static PyMethodDef segment_methods[] = {
	{ "fileno", (PyCFunction)segment_fileno, METH_NOARGS, fileno_doc },
	{ "close", (PyCFunction)segment_close, METH_NOARGS, close_doc },
	{ "unlink", (PyCFunction)segment_unlink, METH_NOARGS, unlink_doc },
	{ "seal", (PyCFunction)segment_seal, METH_O, seal_doc },
	{ NULL, NULL, 0, NULL },
};

/* --- attributes ----------------------------------------------------------- */

static PyObject *segment_get_name(SegmentObject *self, void *closure)
{
	(void)closure;
	Py_INCREF(self->id.name);
	return self->id.name;
}

static PyObject *segment_get_size(SegmentObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromSsize_t(self->size);
}

static PyObject *segment_get_readonly(SegmentObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->readonly);
}

static PyObject *segment_get_closed(SegmentObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(!seg_handle(self));
}

static PyObject *segment_get_exports(SegmentObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromSsize_t(self->exports);
}

static PyGetSetDef segment_getset[] = {
	{ "name", (getter)segment_get_name, NULL, "The name, without a leading '/'.", NULL },
	{ "size", (getter)segment_get_size, NULL, "Size in bytes, exactly as asked.", NULL },
	{ "readonly", (getter)segment_get_readonly, NULL,
	  "True for a read-only attach or a segment sealed against writes.", NULL },
	{ "closed", (getter)segment_get_closed, NULL, "True once closed.", NULL },
	{ "exports", (getter)segment_get_exports, NULL, "Buffers exported now.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* --- buffer protocol -------------------------------------------------- */

static int segment_getbuffer(SegmentObject *self, Py_buffer *view, int flags)
{
	struct sealshm *h = seg_handle(self);

	if (!h) {
		closed_error();
		return -1;
	}
	/* BufferError for a writable request of a read-only segment. */
	if (PyBuffer_FillInfo(view, (PyObject *)self, sealshm_buf(h), self->size,
			      self->readonly, flags) < 0)
		return -1;
	self->exports++;
	return 0;
}

static void segment_releasebuffer(SegmentObject *self, Py_buffer *view)
{
	(void)view;
	self->exports--;
}

static PyBufferProcs segment_as_buffer = {
	.bf_getbuffer = (getbufferproc)segment_getbuffer,
	.bf_releasebuffer = (releasebufferproc)segment_releasebuffer,
};

PyDoc_STRVAR(segment_doc,
	     "Segment(name, create, size=0, *, flags=0, mode=0, socket=None)\n"
	     "--\n\n"
	     "One segment handle (struct sealshm): sealshm_create() when @create,\n"
	     "else sealshm_attach().  A buffer (memoryview(seg)), writable unless\n"
	     "attached read-only.");

PyTypeObject ext_segment_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "sealshm._sealshm.Segment",
	.tp_basicsize = sizeof(SegmentObject),
	.tp_dealloc = (destructor)segment_dealloc,
	.tp_repr = (reprfunc)segment_repr,
	.tp_as_buffer = &segment_as_buffer,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = segment_doc,
	.tp_traverse = (traverseproc)segment_traverse,
	.tp_weaklistoffset = offsetof(SegmentObject, weakreflist),
	.tp_methods = segment_methods,
	.tp_getset = segment_getset,
	.tp_alloc = PyType_GenericAlloc,
	.tp_new = segment_new,
	.tp_free = PyObject_GC_Del,
};

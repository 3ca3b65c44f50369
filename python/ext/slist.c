// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SList: one struct sealshm_slist, CPython's ShareableList bytes.  A
 * subclassable type, so that sealshm.shared_memory.ShareableList keeps
 * item access in these C slots.
 *
 * Items go between Python objects and struct sealshm_item here: int
 * (exactly int, 64-bit), float, bool (checked before int), str (UTF-8),
 * bytes, None; any other type raises what CPython 3.13's ShareableList
 * raises (KeyError of the type, from its type table).  str and bytes are
 * handed to the library zero-copy; what the library returns points into
 * the shared mapping and is copied into a new object at once.  The hot
 * path (get/set of one item) makes no Python-level call and allocates
 * nothing but its result.
 */
#include <errno.h>
#include <string.h>

#include "ext.h"

/* CPython 3.13's struct message for a 'q' out of range. */
#define Q_RANGE_MSG "'q' format requires -9223372036854775808 <= number <= 9223372036854775807"
/* An item whose "<n>s" format would not fit in 8 characters. */
#define ITEM_TOO_BIG_MSG "a ShareableList str/bytes item holds at most 9999991 bytes"

enum conv {
	CONV_CREATE,	/* constructor: CPython looks up type(item): exact types */
	CONV_SET,	/* __setitem__: isinstance() for str/bytes, type() for the rest */
	CONV_QUERY,	/* count/index: only what the library compares as Python does */
};

/* @v as an item.  Returns 0, -1 with an exception, or (CONV_QUERY only) 1
 * when the library cannot compare it and Python's == must. */
static int item_from(PyObject *v, struct sealshm_item *it, enum conv conv)
{
	if (v == Py_None) {
		it->type = SEALSHM_ITEM_NONE;
	} else if (PyBool_Check(v)) {
		/* Before int: bool is an int. */
		it->type = SEALSHM_ITEM_BOOL;
		it->u.b = v == Py_True;
	} else if (PyLong_CheckExact(v)) {
		int overflow;
		long long x = PyLong_AsLongLongAndOverflow(v, &overflow);

		if (overflow) {
			struct ext_state *st;

			if (conv == CONV_QUERY)
				return 1;	/* a float may still equal it */
			st = ext_state();
			PyErr_SetString(st ? st->struct_error : PyExc_OverflowError, Q_RANGE_MSG);
			return -1;
		}
		if (x == -1 && PyErr_Occurred())
			return -1;
		it->type = SEALSHM_ITEM_INT;
		it->u.i = x;
	} else if (PyFloat_CheckExact(v)) {
		it->type = SEALSHM_ITEM_FLOAT;
		it->u.f = PyFloat_AS_DOUBLE(v);
	} else if (conv == CONV_SET ? PyUnicode_Check(v) : PyUnicode_CheckExact(v)) {
		Py_ssize_t len;
		/* ASCII: the str's own bytes; else its cached UTF-8. */
		const char *s = PyUnicode_AsUTF8AndSize(v, &len);

		if (!s) {
			/* Lone surrogates: no stored str can equal it. */
			if (conv == CONV_QUERY && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
				PyErr_Clear();
				return 1;
			}
			return -1;
		}
		it->type = SEALSHM_ITEM_STR;
		it->u.s.ptr = s;
		it->u.s.len = (size_t)len;
	} else if (conv == CONV_SET ? PyBytes_Check(v) : PyBytes_CheckExact(v)) {
		it->type = SEALSHM_ITEM_BYTES;
		it->u.s.ptr = PyBytes_AS_STRING(v);
		it->u.s.len = (size_t)PyBytes_GET_SIZE(v);
	} else {
		if (conv == CONV_QUERY)
			return 1;
		/* CPython: self._types_mapping[type(value)]. */
		PyErr_SetObject(PyExc_KeyError, (PyObject *)Py_TYPE(v));
		return -1;
	}
	return 0;
}

/* A str item: copy out of the mapping first (another process may write
 * it meanwhile), then decode strictly as CPython does. */
static PyObject *str_from(const void *ptr, size_t len)
{
	char stackbuf[256], *buf = stackbuf;
	PyObject *ret;

	if (len > sizeof(stackbuf)) {
		buf = PyMem_Malloc(len);
		if (!buf)
			return PyErr_NoMemory();
	}
	memcpy(buf, ptr, len);
	/* The copy may differ from what the library looked at. */
	while (len > 0 && buf[len - 1] == 0)
		len--;
	ret = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, NULL);
	if (buf != stackbuf)
		PyMem_Free(buf);
	return ret;
}

static PyObject *item_to(const struct sealshm_item *it)
{
	switch (it->type) {
	case SEALSHM_ITEM_INT:
		return PyLong_FromLongLong(it->u.i);
	case SEALSHM_ITEM_FLOAT:
		return PyFloat_FromDouble(it->u.f);
	case SEALSHM_ITEM_BOOL:
		return PyBool_FromLong(it->u.b);
	case SEALSHM_ITEM_NONE:
		Py_RETURN_NONE;
	case SEALSHM_ITEM_STR:
		return str_from(it->u.s.ptr, it->u.s.len);
	case SEALSHM_ITEM_BYTES:
		/* One memcpy into the new object. */
		return PyBytes_FromStringAndSize(it->u.s.ptr, (Py_ssize_t)it->u.s.len);
	default:
		return ext_oserror(-EBADMSG, NULL);
	}
}

static PyObject *closed_error(void)
{
	PyErr_SetString(PyExc_ValueError, EXT_SLIST_CLOSED);
	return NULL;
}

/* @key as an index: Python's rules; any int too large for an index is
 * simply out of range. */
static int index_from(PyObject *key, Py_ssize_t *ret)
{
	Py_ssize_t i;

	if (PyLong_CheckExact(key)) {
		i = PyLong_AsSsize_t(key);
		if (i == -1 && PyErr_Occurred()) {
			if (!PyErr_ExceptionMatches(PyExc_OverflowError))
				return -1;
			PyErr_Clear();
			i = PY_SSIZE_T_MAX;
		}
	} else if (PyIndex_Check(key)) {
		/* Clamped: out of range either way. */
		i = PyNumber_AsSsize_t(key, NULL);
		if (i == -1 && PyErr_Occurred())
			return -1;
	} else {
		PyErr_Format(PyExc_TypeError, "ShareableList indices must be integers, not %.200s",
			     Py_TYPE(key)->tp_name);
		return -1;
	}
	*ret = i;
	return 0;
}

static PyObject *slist_get(SListObject *self, Py_ssize_t i)
{
	struct sealshm_item it;
	int r;

	if (!self->list)
		return closed_error();
	if (i < 0)
		i += self->n;
	if (i < 0 || i >= self->n) {
		PyErr_SetString(PyExc_IndexError, "index out of range");
		return NULL;
	}
	r = sealshm_slist_get(self->list, i, &it);
	if (r < 0)
		return ext_oserror(r, self->id.name);	/* -EBADMSG: a corrupt item */
	return item_to(&it);
}

static int slist_set(SListObject *self, Py_ssize_t i, PyObject *value)
{
	struct sealshm_item it;
	int r;

	if (!value) {
		PyErr_Format(PyExc_TypeError, "'%.200s' object doesn't support item deletion",
			     Py_TYPE(self)->tp_name);
		return -1;
	}
	if (!self->list) {
		closed_error();
		return -1;
	}
	/* CPython's order: the index, the type, the value. */
	if (i < 0)
		i += self->n;
	if (i < 0 || i >= self->n) {
		PyErr_SetString(PyExc_IndexError, "assignment index out of range");
		return -1;
	}
	if (item_from(value, &it, CONV_SET) < 0)
		return -1;
	if (self->lend.readonly) {
		/* What struct.pack_into() says of a read-only buffer. */
		PyErr_SetString(PyExc_TypeError, "cannot modify read-only memory");
		return -1;
	}
	r = sealshm_slist_set(self->list, i, &it);
	if (r == 0)
		return 0;
	if (r == -E2BIG)
		PyErr_SetString(PyExc_ValueError, "bytes/str item exceeds available storage");
	else if (r == -EPERM)
		PyErr_SetString(PyExc_TypeError, "cannot modify read-only memory");
	else
		ext_oserror(r, self->id.name);
	return -1;
}

/* --- slots --------------------------------------------------------------- */

static Py_ssize_t slist_length(SListObject *self)
{
	if (!self->list) {
		closed_error();
		return -1;
	}
	return self->n;
}

static PyObject *slist_subscript(SListObject *self, PyObject *key)
{
	Py_ssize_t i;

	if (index_from(key, &i) < 0)
		return NULL;
	return slist_get(self, i);
}

static int slist_ass_subscript(SListObject *self, PyObject *key, PyObject *value)
{
	Py_ssize_t i;

	if (index_from(key, &i) < 0)
		return -1;
	return slist_set(self, i, value);
}

static PyObject *slist_item(SListObject *self, Py_ssize_t i)
{
	return slist_get(self, i);
}

static int slist_ass_item(SListObject *self, Py_ssize_t i, PyObject *value)
{
	return slist_set(self, i, value);
}

static PyMappingMethods slist_as_mapping = {
	.mp_length = (lenfunc)slist_length,
	.mp_subscript = (binaryfunc)slist_subscript,
	.mp_ass_subscript = (objobjargproc)slist_ass_subscript,
};

/* The sequence slots make iter(), `in` and list() work as on CPython's
 * (which iterates by __getitem__ until IndexError). */
static PySequenceMethods slist_as_sequence = {
	.sq_length = (lenfunc)slist_length,
	.sq_item = (ssizeargfunc)slist_item,
	.sq_ass_item = (ssizeobjargproc)slist_ass_item,
};

/* --- create, attach, close ------------------------------------------------ */

int ext_items_from_sequence(PyObject *seq, struct ext_items *ret)
{
	struct ext_items it = { 0 };
	Py_ssize_t n;

	/* A tuple: nobody can change it while the GIL is released. */
	it.tuple = seq && seq != Py_None ? PySequence_Tuple(seq) : PyTuple_New(0);
	if (!it.tuple)
		return -1;
	n = PyTuple_GET_SIZE(it.tuple);
	it.items = PyMem_Calloc(n ? (size_t)n : 1, sizeof(*it.items));
	if (!it.items) {
		PyErr_NoMemory();
		goto fail;
	}
	for (Py_ssize_t i = 0; i < n; i++)
		if (item_from(PyTuple_GET_ITEM(it.tuple, i), &it.items[i], CONV_CREATE) < 0)
			goto fail;
	it.n = (size_t)n;
	*ret = it;
	return 0;
fail:
	ext_items_release(&it);
	return -1;
}

void ext_items_release(struct ext_items *it)
{
	PyMem_Free(it->items);
	it->items = NULL;
	Py_CLEAR(it->tuple);
}

/* Fill @self from a new handle; fails only for want of memory. */
static int slist_fill(SListObject *self, struct sealshm_slist *l, uint32_t flags, PyObject *socket)
{
	struct sealshm *shm = sealshm_slist_shm(l);

	if (ext_ident_from_shm(&self->id, shm, flags, socket) < 0)
		return -1;
	self->list = l;
	self->n = sealshm_slist_len(l);
	self->size = (Py_ssize_t)sealshm_size(shm);
	self->lend.readonly = flags & SEALSHM_RDONLY;
	return 0;
}

static void discard(struct sealshm_slist *l, bool created)
{
	if (created) {
		struct sealshm *shm = sealshm_slist_shm(l);

		Py_BEGIN_ALLOW_THREADS
		(void)sealshm_unlink(shm);
		Py_END_ALLOW_THREADS
	}
	(void)sealshm_slist_close(l);
}

/* A failed create or attach: the exception. */
static void create_error(int r, bool create, PyObject *name, uint32_t flags, uint32_t mode)
{
	if (r == -EINVAL)
		ext_einval(create ? "create" : "attach", flags, mode);
	else if (r == -E2BIG && create)
		PyErr_SetString(PyExc_ValueError, ITEM_TOO_BIG_MSG);
	else
		ext_oserror(r, name);
}

PyObject *ext_slist_wrap(struct sealshm_slist *l, bool created, uint32_t id_flags,
			 PyObject *socket)
{
	SListObject *self;

	self = (SListObject *)ext_slist_type.tp_alloc(&ext_slist_type, 0);
	if (!self || slist_fill(self, l, id_flags, socket) < 0) {
		discard(l, created);
		Py_XDECREF(self);
		return NULL;
	}
	self->inited = true;
	return (PyObject *)self;
}

static int slist_init(SListObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "sequence", "name", "flags", "mode", "socket", NULL };
	PyObject *seq = Py_None, *name_obj = Py_None, *socket = NULL;
	SEALSHM_OPTS(sealshm_opts, opts);
	struct ext_items items = { 0 };
	struct sealshm_slist *l = NULL;
	uint32_t flags = 0, mode = 0;
	struct ext_name name;
	int r, ret = -1;
	bool create;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$OO&O&O&:SList", kwlist, &seq, &name_obj,
					 ext_u32_conv, &flags, ext_u32_conv, &mode,
					 ext_socket_conv, &socket))
		return -1;
	if (self->inited) {
		PyErr_SetString(PyExc_RuntimeError, "SList.__init__() may run only once");
		goto out;
	}
	/* CPython: create unless only a name is given. */
	create = name_obj == Py_None || seq != Py_None;
	if (!ext_name_or_none_conv(name_obj, &name))
		goto out;
	if (create && ext_items_from_sequence(seq, &items) < 0)
		goto out;

	opts.flags = flags;
	opts.mode = mode;
	opts.socket = ext_socket_str(socket);
	self->inited = true;
	Py_BEGIN_ALLOW_THREADS
	if (create)
		r = sealshm_slist_create(name.s, items.items, items.n, &opts, &l);
	else
		r = sealshm_slist_attach(name.s, &opts, &l);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		self->inited = false;
		create_error(r, create, name.s ? name.obj : NULL, flags, mode);
		goto out;
	}
	if (slist_fill(self, l, flags, socket) < 0) {
		self->inited = false;
		ext_ident_clear(&self->id);
		discard(l, create);
		goto out;
	}
	ret = 0;
out:
	ext_items_release(&items);
	Py_XDECREF(socket);
	return ret;
}

/* Close the list and its segment; BufferError while the segment is
 * exported.  0 or -1.  Also the lender's close() of its segment. */
static int slist_close_lent(PyObject *obj)
{
	SListObject *self = (SListObject *)obj;
	struct ext_lender *lend = &self->lend;

	if (!self->list)
		return 0;
	if (lend->seg && lend->seg->exports > 0) {
		PyErr_SetString(PyExc_BufferError, "cannot close exported pointers exist");
		return -1;
	}
	lend->closing = true;
	ext_wait_idle(&lend->busy);
	lend->closing = false;
	if (self->list) {
		(void)sealshm_slist_close(self->list);
		self->list = NULL;
		if (lend->seg)
			lend->seg->shm = NULL;
	}
	return 0;
}

static void slist_dealloc(SListObject *self)
{
	/* A live .segment holds a reference: it is gone by now. */
	if (self->list)
		(void)sealshm_slist_close(self->list);
	self->list = NULL;
	ext_ident_clear(&self->id);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *slist_repr(SListObject *self)
{
	if (!self->id.name)
		return PyUnicode_FromFormat("<%s uninitialized>", Py_TYPE(self)->tp_name);
	return PyUnicode_FromFormat("<%s name=%R len=%zd%s>", Py_TYPE(self)->tp_name,
				    self->id.name, self->n, self->list ? "" : " closed");
}

/* --- methods ------------------------------------------------------------ */

/* count() and index() with Python's ==, for values the library cannot
 * compare (other types, subclasses, ints beyond 64 bits). */
static Py_ssize_t scan_python(SListObject *self, PyObject *value, bool first)
{
	Py_ssize_t count = 0;

	for (Py_ssize_t i = 0; i < self->n; i++) {
		PyObject *entry = slist_get(self, i);	/* re-checks for close */
		int eq;

		if (!entry)
			return -2;
		eq = PyObject_RichCompareBool(value, entry, Py_EQ);
		Py_DECREF(entry);
		if (eq < 0)
			return -2;
		if (eq) {
			if (first)
				return i;
			count++;
		}
	}
	return first ? -1 : count;
}

/* The count, the first index (-1: none), or -2 with an exception. */
static Py_ssize_t scan(SListObject *self, PyObject *value, bool first)
{
	struct sealshm_item it;
	int r;

	if (!self->list) {
		closed_error();
		return -2;
	}
	r = item_from(value, &it, CONV_QUERY);
	if (r < 0)
		return -2;
	if (r > 0)
		return scan_python(self, value, first);
	r = first ? sealshm_slist_index(self->list, &it) : sealshm_slist_count(self->list, &it);
	if (r == -ENOENT && first)
		return -1;
	if (r < 0) {
		ext_oserror(r, self->id.name);
		return -2;
	}
	return r;
}

PyDoc_STRVAR(count_doc, "count(value) -> int: items equal to @value (Python's ==).");

static PyObject *slist_count(SListObject *self, PyObject *value)
{
	Py_ssize_t r = scan(self, value, false);

	return r < 0 ? NULL : PyLong_FromSsize_t(r);
}

PyDoc_STRVAR(index_doc, "index(value) -> int: the first item equal to @value; ValueError if none.");

static PyObject *slist_index(SListObject *self, PyObject *value)
{
	Py_ssize_t r = scan(self, value, true);

	if (r == -1)
		return PyErr_Format(PyExc_ValueError, "%R not in this container", value);
	return r < 0 ? NULL : PyLong_FromSsize_t(r);
}

PyDoc_STRVAR(slist_close_doc,
	     "close(): unmap the list and its segment; again does nothing.  BufferError\n"
	     "while the segment is exported.");

static PyObject *slist_close(SListObject *self, PyObject *unused)
{
	(void)unused;
	if (slist_close_lent((PyObject *)self) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef slist_methods[] = {
	{ "count", (PyCFunction)slist_count, METH_O, count_doc },
	{ "index", (PyCFunction)slist_index, METH_O, index_doc },
	{ "close", (PyCFunction)slist_close, METH_NOARGS, slist_close_doc },
	{ NULL, NULL, 0, NULL },
};

static PyObject *slist_get_format(SListObject *self, void *closure)
{
	PyObject *ret;
	size_t len;
	char *buf;
	int r;

	(void)closure;
	if (!self->list)
		return closed_error();
	len = 8 * (size_t)self->n + 1;
	buf = PyMem_Malloc(len);
	if (!buf)
		return PyErr_NoMemory();
	r = sealshm_slist_format(self->list, buf, len);
	ret = r < 0 ? ext_oserror(r, self->id.name) : PyUnicode_FromStringAndSize(buf, r);
	PyMem_Free(buf);
	return ret;
}

static PyObject *slist_get_segment(SListObject *self, void *closure)
{
	(void)closure;
	if (!self->id.name)
		return closed_error();
	if (self->lend.seg) {
		Py_INCREF(self->lend.seg);
		return (PyObject *)self->lend.seg;
	}
	self->lend.close = slist_close_lent;
	return ext_segment_lent((PyObject *)self, &self->lend,
				self->list ? sealshm_slist_shm(self->list) : NULL, &self->id, self->size);
}

static PyGetSetDef slist_getset[] = {
	{ "format", (getter)slist_get_format, NULL,
	  "Every item's struct format, concatenated (CPython's .format).", NULL },
	{ "segment", (getter)slist_get_segment, NULL,
	  "The Segment under the list, borrowing its handle: the same object\n"
	  "while it lives; closing it closes the list.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(slist_doc,
	     "SList(sequence=None, *, name=None, flags=0, mode=0, socket=None)\n"
	     "--\n\n"
	     "A ShareableList (struct sealshm_slist): a new list of @sequence's items\n"
	     "(sealshm_slist_create()), or with only @name the list there\n"
	     "(sealshm_slist_attach()).");

PyTypeObject ext_slist_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "sealshm._sealshm.SList",
	.tp_basicsize = sizeof(SListObject),
	.tp_dealloc = (destructor)slist_dealloc,
	.tp_repr = (reprfunc)slist_repr,
	.tp_as_sequence = &slist_as_sequence,
	.tp_as_mapping = &slist_as_mapping,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = slist_doc,
	.tp_methods = slist_methods,
	.tp_getset = slist_getset,
	.tp_init = (initproc)slist_init,
	.tp_alloc = PyType_GenericAlloc,
	.tp_new = PyType_GenericNew,
	.tp_free = PyObject_Del,
};

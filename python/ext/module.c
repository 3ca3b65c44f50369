// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sealshm._sealshm: the module (PyInit__sealshm), its constants and small
 * functions, and what the other files share: errno -> exception, argument
 * converters, the busy counter of GIL-released calls.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ext.h"

static struct PyModuleDef ext_module;

struct ext_state *ext_state(void)
{
	PyObject *m = PyState_FindModule(&ext_module);

	return m ? PyModule_GetState(m) : NULL;
}

/* --- errors ---------------------------------------------------------------- */

PyObject *ext_oserror(int r, PyObject *name)
{
	PyObject *file = NULL;

	if (name) {
		/* As CPython shows a POSIX segment's name: with its '/'. */
		Py_ssize_t len = PyUnicode_GetLength(name);

		if (len > 0 && PyUnicode_ReadChar(name, 0) == '/') {
			file = name;
			Py_INCREF(file);
		} else {
			file = PyUnicode_FromFormat("/%U", name);
			if (!file)
				return NULL;
		}
	}
	/* Set errno last: building the name may have changed it. */
	errno = -r;
	PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, file);
	Py_XDECREF(file);
	return NULL;
}

PyObject *ext_einval(const char *call, uint32_t flags, uint32_t mode)
{
	const uint32_t known = SEALSHM_RDONLY | SEALSHM_NO_TRACK | SEALSHM_NO_AUTOSTART |
			       SEALSHM_LIFETIME_LAST | SEALSHM_POSIX | SEALSHM_RESERVE;
	bool create = !strcmp(call, "create");

	/* The rules of sealshm_create(3)'s ERRORS, said in Python's terms. */
	if (flags & ~known)
		PyErr_Format(PyExc_ValueError, "%s: unknown flags 0x%x", call, flags & ~known);
	else if (create && flags & SEALSHM_RDONLY)
		PyErr_Format(PyExc_ValueError, "%s: RDONLY is a flag of attach", call);
	else if (!create && flags & (SEALSHM_LIFETIME_LAST | SEALSHM_RESERVE))
		PyErr_Format(PyExc_ValueError, "%s: LIFETIME_LAST and RESERVE are flags of create",
			     call);
	else if (flags & SEALSHM_POSIX && flags & SEALSHM_LIFETIME_LAST)
		PyErr_Format(PyExc_ValueError, "%s: a POSIX segment has no LIFETIME_LAST", call);
	else {
		/* PyErr_Format() has no %o. */
		char m[16];

		PyOS_snprintf(m, sizeof(m), "0o%o", mode);
		if (mode > 0777)
			PyErr_Format(PyExc_ValueError, "%s: 'mode' must be at most 0o777, not %s",
				     call, m);
		else
			PyErr_Format(PyExc_ValueError, "%s: invalid argument (flags 0x%x, mode %s)",
				     call, flags, m);
	}
	return NULL;
}

/* --- argument conversion --------------------------------------------------- */

static int name_conv(PyObject *o, struct ext_name *n, bool allow_none)
{
	const char *s, *reason = NULL;
	Py_ssize_t len;

	if (o == Py_None && allow_none) {
		n->obj = o;
		n->s = NULL;
		return 1;
	}
	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "'name' must be str%s, not %.100s",
			     allow_none ? " or None" : "", Py_TYPE(o)->tp_name);
		return 0;
	}
	s = PyUnicode_AsUTF8AndSize(o, &len);
	if (!s)
		return 0;
	if ((size_t)len != strlen(s)) {
		/* What CPython's str -> char * conversions say. */
		PyErr_SetString(PyExc_ValueError, "embedded null character");
		return 0;
	}
	if (sealshm_check_name(s, &reason) < 0) {
		PyErr_Format(PyExc_ValueError, "invalid name %R: %s", o,
			     reason ? reason : "is not valid");
		return 0;
	}
	n->obj = o;
	n->s = s;
	return 1;
}

int ext_name_conv(PyObject *o, void *ret_name)
{
	return name_conv(o, ret_name, false);
}

int ext_name_or_none_conv(PyObject *o, void *ret_name)
{
	return name_conv(o, ret_name, true);
}

int ext_socket_conv(PyObject *o, void *ret_bytes)
{
	PyObject **ret = ret_bytes;

	if (o == Py_None) {
		*ret = NULL;
		return 1;
	}
	/* str, bytes or os.PathLike, as open() takes; ValueError for a NUL. */
	return PyUnicode_FSConverter(o, ret);
}

int ext_u32_conv(PyObject *o, void *ret_u32)
{
	unsigned long long v;
	PyObject *i;

	i = PyNumber_Index(o);
	if (!i)
		return 0;
	v = PyLong_AsUnsignedLongLong(i);
	Py_DECREF(i);
	if (v == (unsigned long long)-1 && PyErr_Occurred())
		return 0;
	if (v > UINT32_MAX) {
		PyErr_SetString(PyExc_OverflowError, "flags out of range (32 bits)");
		return 0;
	}
	*(uint32_t *)ret_u32 = (uint32_t)v;
	return 1;
}

int ext_size_check(PyObject *o, bool create, size_t *ret_size)
{
	long long v;
	int overflow;
	PyObject *i;

	i = PyNumber_Index(o);
	if (!i)
		return -1;
	v = PyLong_AsLongLongAndOverflow(i, &overflow);
	Py_DECREF(i);
	if (v == -1 && PyErr_Occurred())
		return -1;
	/* CPython's checks and messages, in CPython's order. */
	if (overflow < 0 || (!overflow && v < 0)) {
		PyErr_SetString(PyExc_ValueError, "'size' must be a positive integer");
		return -1;
	}
	if (create && !overflow && v == 0) {
		PyErr_SetString(PyExc_ValueError,
				"'size' must be a positive number different from zero");
		return -1;
	}
	/* Above off_t: what no mapping can be (sealshm_create(3), EINVAL). */
	if (overflow > 0) {
		PyErr_SetString(PyExc_ValueError,
				"'size' is too large: at most 9223372036854775807 bytes");
		return -1;
	}
	*ret_size = (size_t)v;
	return 0;
}

/* --- busy counters ------------------------------------------------------- */

void ext_busy_enter(struct ext_busy *b)
{
	pid_t pid = getpid();

	if (b->pid != pid) {
		/* Counted in a parent: those calls are not running here. */
		b->pid = pid;
		b->n = 0;
	}
	b->n++;
}

void ext_busy_leave(struct ext_busy *b)
{
	/* Entered in this process (the GIL was held across the fork). */
	b->n--;
}

void ext_wait_idle(struct ext_busy *b)
{
	while (b->n > 0 && b->pid == getpid()) {
		struct timespec ts = { .tv_nsec = 1000000 };

		Py_BEGIN_ALLOW_THREADS
		(void)nanosleep(&ts, NULL);
		Py_END_ALLOW_THREADS
	}
}

/* --- module functions -------------------------------------------------------- */

PyDoc_STRVAR(version_doc, "version() -> str: libsealshm's version (sealshm_version()).");

static PyObject *ext_version(PyObject *module, PyObject *unused)
{
	(void)module;
	(void)unused;
	return PyUnicode_FromString(sealshm_version());
}

PyDoc_STRVAR(trackerd_path_doc,
	     "trackerd_path() -> str: the trackerd program the library starts\n"
	     "(sealshm_trackerd_path()).");

static PyObject *ext_trackerd_path(PyObject *module, PyObject *unused)
{
	(void)module;
	(void)unused;
	return PyUnicode_DecodeFSDefault(sealshm_trackerd_path());
}

PyDoc_STRVAR(check_name_doc,
	     "check_name(name) -> None or str: why @name is not a valid name\n"
	     "(sealshm_check_name()), or None when it is.");

static PyObject *ext_check_name(PyObject *module, PyObject *name)
{
	const char *s, *reason = NULL;
	Py_ssize_t len;

	(void)module;
	if (!PyUnicode_Check(name))
		return PyErr_Format(PyExc_TypeError, "'name' must be str, not %.100s",
				    Py_TYPE(name)->tp_name);
	s = PyUnicode_AsUTF8AndSize(name, &len);
	if (!s) {
		if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
			return NULL;
		/* Lone surrogates: no UTF-8 spells them. */
		PyErr_Clear();
		return PyUnicode_FromString("is not well-formed UTF-8");
	}
	if ((size_t)len != strlen(s))
		return PyUnicode_FromString("has an embedded null character");
	if (sealshm_check_name(s, &reason) == 0)
		Py_RETURN_NONE;
	if (!reason)
		reason = "is not valid";
	return PyUnicode_DecodeUTF8(reason, (Py_ssize_t)strlen(reason), "replace");
}

PyDoc_STRVAR(seals_format_doc,
	     "seals_format(seals) -> str: the names of the SEAL_* bits in @seals,\n"
	     "comma separated (sealshm_seals_format()).");

static PyObject *ext_seals_format(PyObject *module, PyObject *arg)
{
	char buf[512];
	uint32_t seals;
	int r;

	(void)module;
	if (!ext_u32_conv(arg, &seals))
		return NULL;
	/* 512 bytes hold all 32 bits spelled out. */
	r = sealshm_seals_format(seals, buf, sizeof(buf));
	if (r < 0)
		return ext_oserror(r, NULL);
	return PyUnicode_FromStringAndSize(buf, r);
}

PyDoc_STRVAR(unlink_name_doc,
	     "unlink_name(name, *, flags=0, socket=None): remove @name, whatever\n"
	     "segment it names (sealshm_unlink_name()).");

static PyObject *ext_unlink_name(PyObject *module, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", "flags", "socket", NULL };
	SEALSHM_OPTS(sealshm_opts, opts);
	struct ext_name name;
	PyObject *socket = NULL;
	uint32_t flags = 0;
	int r;

	(void)module;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&|$O&O&:unlink_name", kwlist,
					 ext_name_conv, &name, ext_u32_conv, &flags,
					 ext_socket_conv, &socket))
		return NULL;
	opts.flags = flags;
	opts.socket = ext_socket_str(socket);
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_unlink_name(name.s, &opts);
	Py_END_ALLOW_THREADS
	Py_XDECREF(socket);
	if (r == -EINVAL)
		return ext_einval("unlink", flags, 0);
	if (r < 0)
		return ext_oserror(r, name.obj);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(session_export_doc,
	     "session_export(*, socket=None) -> (fd, value): a new close-on-exec fd\n"
	     "of this family's tracking session and the $SEALSHM_SESSION value naming\n"
	     "it, for a program about to be exec'd (sealshm_session_export()).");

static PyObject *ext_session_export(PyObject *module, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "socket", NULL };
	SEALSHM_OPTS(sealshm_opts, opts);
	char buf[SEALSHM_SESSION_ENV_MAX];
	PyObject *socket = NULL, *ret;
	int r;

	(void)module;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$O&:session_export", kwlist,
					 ext_socket_conv, &socket))
		return NULL;
	opts.socket = ext_socket_str(socket);
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_session_export(&opts, buf, sizeof(buf));
	Py_END_ALLOW_THREADS
	Py_XDECREF(socket);
	if (r < 0)
		return ext_oserror(r, NULL);
	ret = Py_BuildValue("(is)", r, buf);
	if (!ret)
		(void)close(r);
	return ret;
}

static PyMethodDef ext_methods[] = {
	{ "version", ext_version, METH_NOARGS, version_doc },
	{ "trackerd_path", ext_trackerd_path, METH_NOARGS, trackerd_path_doc },
	{ "check_name", ext_check_name, METH_O, check_name_doc },
	{ "seals_format", ext_seals_format, METH_O, seals_format_doc },
	{ "unlink_name", (PyCFunction)(void (*)(void))ext_unlink_name,
	  METH_VARARGS | METH_KEYWORDS, unlink_name_doc },
	{ "session_export", (PyCFunction)(void (*)(void))ext_session_export,
	  METH_VARARGS | METH_KEYWORDS, session_export_doc },
	{ "registry_list", (PyCFunction)(void (*)(void))ext_registry_list,
	  METH_VARARGS | METH_KEYWORDS,
	  "registry_list(*, socket=None) -> list of dict: every name the caller may\n"
	  "attach (sealshm_registry_list())." },
	{ "stat", (PyCFunction)(void (*)(void))ext_stat, METH_VARARGS | METH_KEYWORDS,
	  "stat(name, *, socket=None) -> dict: one name's entry (sealshm_stat())." },
	{ "registry_stats", (PyCFunction)(void (*)(void))ext_registry_stats,
	  METH_VARARGS | METH_KEYWORDS,
	  "registry_stats(*, socket=None) -> dict: trackerd's figures\n"
	  "(sealshm_registry_stats())." },
	{ NULL, NULL, 0, NULL },
};

/* --- the module -------------------------------------------------------------- */

static int ext_traverse(PyObject *m, visitproc visit, void *arg)
{
	struct ext_state *st = PyModule_GetState(m);

	if (st) {
		Py_VISIT(st->struct_error);
		Py_VISIT(st->broken_barrier_error);
		Py_VISIT(st->owner_died_warning);
	}
	return 0;
}

static int ext_clear(PyObject *m)
{
	struct ext_state *st = PyModule_GetState(m);

	if (st) {
		Py_CLEAR(st->struct_error);
		Py_CLEAR(st->broken_barrier_error);
		Py_CLEAR(st->owner_died_warning);
	}
	return 0;
}

static void ext_free(void *m)
{
	(void)ext_clear(m);
}

PyDoc_STRVAR(module_doc,
	     "The C extension over libsealshm: thin (arguments, the GIL, errors,\n"
	     "the buffer protocol, waits).  sealshm.shared_memory, sealshm.managers\n"
	     "and sealshm.synchronize are built on it; see _sealshm.pyi for its\n"
	     "contract.");

/* Single-phase init: the types are static (what Python 3.8 can give a
 * buffer protocol), and the state is found with PyState_FindModule(). */
static struct PyModuleDef ext_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "sealshm._sealshm",
	.m_doc = module_doc,
	.m_size = sizeof(struct ext_state),
	.m_methods = ext_methods,
	.m_traverse = ext_traverse,
	.m_clear = ext_clear,
	.m_free = ext_free,
};

static int add_type(PyObject *m, const char *name, PyTypeObject *type)
{
	if (PyType_Ready(type) < 0)
		return -1;
	Py_INCREF(type);
	if (PyModule_AddObject(m, name, (PyObject *)type) < 0) {
		Py_DECREF(type);
		return -1;
	}
	return 0;
}

static int add_constants(PyObject *m)
{
	static const struct {
		const char *name;
		long value;
	} ints[] = {
		{ "RDONLY", SEALSHM_RDONLY },
		{ "NO_TRACK", SEALSHM_NO_TRACK },
		{ "NO_AUTOSTART", SEALSHM_NO_AUTOSTART },
		{ "LIFETIME_LAST", SEALSHM_LIFETIME_LAST },
		{ "POSIX", SEALSHM_POSIX },
		{ "RESERVE", SEALSHM_RESERVE },
		{ "SEAL_SEAL", SEALSHM_SEAL_SEAL },
		{ "SEAL_SHRINK", SEALSHM_SEAL_SHRINK },
		{ "SEAL_GROW", SEALSHM_SEAL_GROW },
		{ "SEAL_WRITE", SEALSHM_SEAL_WRITE },
		{ "SEAL_FUTURE_WRITE", SEALSHM_SEAL_FUTURE_WRITE },
		{ "SEAL_EXEC", SEALSHM_SEAL_EXEC },
		{ "NAME_MAX", SEALSHM_NAME_MAX },
		{ "MANAGER_KEY_MAX", SEALSHM_MANAGER_KEY_MAX },
		{ "BARRIER_PARTIES_MAX", SEALSHM_BARRIER_PARTIES_MAX },
	};

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (PyModule_AddIntConstant(m, ints[i].name, ints[i].value) < 0)
			return -1;
	return PyModule_AddStringConstant(m, "SESSION_ENV", SEALSHM_SESSION_ENV);
}

PyDoc_STRVAR(owner_died_doc,
	     "Warned when an acquire inherits a Lock or RLock whose holder died\n"
	     "holding it.  The acquire succeeded and the lock is consistent again\n"
	     "(its owner_died attribute is True until it is released); what the\n"
	     "lock guards may have been left half-changed by the dead holder.\n"
	     "CPython has no such case: there such a lock stays held for ever.");

/* What the synchronisation objects raise and warn: threading's
 * BrokenBarrierError, and OwnerDiedWarning, made here. */
static int add_sync_errors(PyObject *m, struct ext_state *st)
{
	PyObject *mod = PyImport_ImportModule("threading");

	if (!mod)
		return -1;
	st->broken_barrier_error = PyObject_GetAttrString(mod, "BrokenBarrierError");
	Py_DECREF(mod);
	if (!st->broken_barrier_error)
		return -1;
	st->owner_died_warning = PyErr_NewExceptionWithDoc("sealshm.OwnerDiedWarning",
							   owner_died_doc, PyExc_RuntimeWarning,
							   NULL);
	if (!st->owner_died_warning)
		return -1;
	Py_INCREF(st->owner_died_warning);
	if (PyModule_AddObject(m, "OwnerDiedWarning", st->owner_died_warning) < 0) {
		Py_DECREF(st->owner_died_warning);
		return -1;
	}
	return 0;
}

PyMODINIT_FUNC PyInit__sealshm(void)
{
	struct ext_state *st;
	PyObject *m, *mod;

	m = PyModule_Create(&ext_module);
	if (!m)
		return NULL;
	st = PyModule_GetState(m);

	mod = PyImport_ImportModule("struct");
	if (!mod)
		goto fail;
	st->struct_error = PyObject_GetAttrString(mod, "error");
	Py_DECREF(mod);
	if (!st->struct_error)
		goto fail;

	if (add_constants(m) < 0 ||
	    add_type(m, "Segment", &ext_segment_type) < 0 ||
	    add_type(m, "SList", &ext_slist_type) < 0 ||
	    add_type(m, "Manager", &ext_manager_type) < 0 ||
	    add_type(m, "Lock", &ext_lock_type) < 0 ||
	    add_type(m, "RLock", &ext_rlock_type) < 0 ||
	    add_type(m, "Semaphore", &ext_sem_type) < 0 ||
	    add_type(m, "Event", &ext_event_type) < 0 ||
	    add_type(m, "Condition", &ext_cond_type) < 0 ||
	    add_type(m, "Barrier", &ext_barrier_type) < 0 ||
	    add_type(m, "Arena", &ext_arena_type) < 0 ||
	    add_type(m, "SharedArray", &ext_array_type) < 0 ||
	    add_type(m, "SyncValue", &ext_syncvalue_type) < 0 ||
	    add_sync_errors(m, st) < 0)
		goto fail;
	/* PyState_FindModule() finds it once this returns; import does the
	 * PyState_AddModule() itself for a single-phase module. */
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What trackerd reports, as dicts: registry_list() and stat() give
 * struct sealshm_info's fields, registry_stats() struct
 * sealshm_registry_stats's.  Each call is one round trip, made with the
 * GIL released into C memory; the dicts are built afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext.h"

/* Set d[key] = v, consuming v; -1 on failure (v NULL counts as one). */
static int put(PyObject *d, const char *key, PyObject *v)
{
	int r;

	if (!v)
		return -1;
	r = PyDict_SetItemString(d, key, v);
	Py_DECREF(v);
	return r;
}

static PyObject *pids_list(const struct sealshm_info *info)
{
	size_t n = info->n_sessions < SEALSHM_INFO_PIDS ? info->n_sessions : SEALSHM_INFO_PIDS;
	PyObject *pids = PyList_New((Py_ssize_t)n);

	if (!pids)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		PyObject *p = PyLong_FromUnsignedLong(info->session_pids[i]);

		if (!p) {
			Py_DECREF(pids);
			return NULL;
		}
		PyList_SET_ITEM(pids, (Py_ssize_t)i, p);
	}
	return pids;
}

static PyObject *info_dict(const struct sealshm_info *info)
{
	PyObject *d;

	d = PyDict_New();
	if (!d)
		return NULL;
	/* trackerd checked the name; a hostile one cannot make this fail. */
	if (put(d, "name", PyUnicode_DecodeUTF8(info->name, (Py_ssize_t)strnlen(info->name,
				sizeof(info->name)), "surrogateescape")) < 0 ||
	    put(d, "size", PyLong_FromUnsignedLongLong(info->size)) < 0 ||
	    put(d, "uid", PyLong_FromUnsignedLong(info->uid)) < 0 ||
	    put(d, "gid", PyLong_FromUnsignedLong(info->gid)) < 0 ||
	    put(d, "mode", PyLong_FromUnsignedLong(info->mode)) < 0 ||
	    put(d, "seals", PyLong_FromUnsignedLong(info->seals)) < 0 ||
	    put(d, "ctime_ns", PyLong_FromLongLong(info->ctime_ns)) < 0 ||
	    put(d, "creator_pid", PyLong_FromUnsignedLong(info->creator_pid)) < 0 ||
	    put(d, "lifetime", PyUnicode_FromString(info->flags & SEALSHM_LIFETIME_LAST ?
						    "last" : "first")) < 0 ||
	    put(d, "ino", PyLong_FromUnsignedLongLong(info->ino)) < 0 ||
	    put(d, "n_sessions", PyLong_FromUnsignedLong(info->n_sessions)) < 0 ||
	    put(d, "session_pids", pids_list(info)) < 0 ||
	    put(d, "resident", PyLong_FromUnsignedLongLong(info->resident)) < 0 ||
	    put(d, "n_attaches", PyLong_FromUnsignedLongLong(info->n_attaches)) < 0 ||
	    put(d, "atime_ns", PyLong_FromLongLong(info->atime_ns)) < 0)
		goto fail;
	return d;
fail:
	Py_DECREF(d);
	return NULL;
}

PyObject *ext_registry_list(PyObject *module, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "socket", NULL };
	SEALSHM_OPTS(sealshm_opts, opts);
	struct sealshm_info *infos = NULL;
	PyObject *socket = NULL, *ret = NULL;
	int n;

	(void)module;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$O&:registry_list", kwlist,
					 ext_socket_conv, &socket))
		return NULL;
	opts.socket = ext_socket_str(socket);
	Py_BEGIN_ALLOW_THREADS
	n = sealshm_registry_list(&opts, &infos);
	Py_END_ALLOW_THREADS
	Py_XDECREF(socket);
	if (n < 0)
		return ext_oserror(n, NULL);
	ret = PyList_New(n);
	if (!ret)
		goto out;
	for (int i = 0; i < n; i++) {
		PyObject *d = info_dict(&infos[i]);

		if (!d) {
			Py_CLEAR(ret);
			goto out;
		}
		PyList_SET_ITEM(ret, i, d);
	}
out:
	free(infos);
	return ret;
}

PyObject *ext_stat(PyObject *module, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", "socket", NULL };
	SEALSHM_OPTS(sealshm_opts, opts);
	struct sealshm_info info;
	PyObject *socket = NULL;
	struct ext_name name;
	int r;

	(void)module;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&|$O&:stat", kwlist, ext_name_conv, &name,
					 ext_socket_conv, &socket))
		return NULL;
	opts.socket = ext_socket_str(socket);
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_stat(name.s, &opts, &info);
	Py_END_ALLOW_THREADS
	Py_XDECREF(socket);
	if (r < 0)
		return ext_oserror(r, name.obj);
	return info_dict(&info);
}

/* sealshm_registry_stats.refused[] buckets by name, in index order. */
static const char *const refused_names[] = {
	[SEALSHM_REFUSED_ENOENT] = "enoent",
	[SEALSHM_REFUSED_EACCES] = "eacces",
	[SEALSHM_REFUSED_EPERM] = "eperm",
	[SEALSHM_REFUSED_EEXIST] = "eexist",
	[SEALSHM_REFUSED_EDQUOT] = "edquot",
	[SEALSHM_REFUSED_EINVAL] = "einval",
	[SEALSHM_REFUSED_PROTO] = "proto",
	[SEALSHM_REFUSED_OTHER] = "other",
};

static PyObject *refused_dict(const struct sealshm_registry_stats *s)
{
	uint32_t n = s->n_refused < SEALSHM_REFUSED_SLOTS ? s->n_refused : SEALSHM_REFUSED_SLOTS;
	PyObject *d = PyDict_New();

	if (!d)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		PyObject *v = PyLong_FromUnsignedLongLong(s->refused[i]);
		char key[16];
		int r;

		if (!v)
			goto fail;
		if (i < sizeof(refused_names) / sizeof(refused_names[0]))
			r = PyDict_SetItemString(d, refused_names[i], v);
		else {
			/* A bucket of a newer trackerd: its index. */
			PyOS_snprintf(key, sizeof(key), "%u", i);
			r = PyDict_SetItemString(d, key, v);
		}
		Py_DECREF(v);
		if (r < 0)
			goto fail;
	}
	return d;
fail:
	Py_DECREF(d);
	return NULL;
}

PyObject *ext_registry_stats(PyObject *module, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "socket", NULL };
	SEALSHM_OPTS(sealshm_opts, opts);
	struct sealshm_registry_stats s;
	PyObject *socket = NULL, *d;
	int r;

	(void)module;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$O&:registry_stats", kwlist,
					 ext_socket_conv, &socket))
		return NULL;
	opts.socket = ext_socket_str(socket);
	Py_BEGIN_ALLOW_THREADS
	r = sealshm_registry_stats(&opts, &s);
	Py_END_ALLOW_THREADS
	Py_XDECREF(socket);
	if (r < 0)
		return ext_oserror(r, NULL);

	d = PyDict_New();
	if (!d)
		return NULL;
	if (put(d, "start_ns", PyLong_FromLongLong(s.start_ns)) < 0 ||
	    put(d, "uptime_ns", PyLong_FromUnsignedLongLong(s.uptime_ns)) < 0 ||
	    put(d, "names", PyLong_FromUnsignedLongLong(s.names)) < 0 ||
	    put(d, "bytes", PyLong_FromUnsignedLongLong(s.bytes)) < 0 ||
	    put(d, "resident", PyLong_FromUnsignedLongLong(s.resident)) < 0 ||
	    put(d, "requests", PyLong_FromUnsignedLongLong(s.requests)) < 0 ||
	    put(d, "max_bytes_per_uid", PyLong_FromUnsignedLongLong(s.max_bytes_per_uid)) < 0 ||
	    put(d, "caller_bytes", PyLong_FromUnsignedLongLong(s.caller_bytes)) < 0 ||
	    put(d, "refused", refused_dict(&s)) < 0 ||
	    put(d, "sessions", PyLong_FromUnsignedLong(s.sessions)) < 0 ||
	    put(d, "clients", PyLong_FromUnsignedLong(s.clients)) < 0 ||
	    put(d, "max_names", PyLong_FromUnsignedLong(s.max_names)) < 0 ||
	    put(d, "max_names_per_uid", PyLong_FromUnsignedLong(s.max_names_per_uid)) < 0 ||
	    put(d, "max_clients", PyLong_FromUnsignedLong(s.max_clients)) < 0 ||
	    put(d, "caller_names", PyLong_FromUnsignedLong(s.caller_names)) < 0 ||
	    put(d, "pid", PyLong_FromUnsignedLong(s.pid)) < 0 ||
	    put(d, "manager", PyBool_FromLong(s.flags & SEALSHM_REGISTRY_MANAGER)) < 0) {
		Py_DECREF(d);
		return NULL;
	}
	return d;
}

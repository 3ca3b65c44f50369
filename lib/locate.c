// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Where trackerd listens: an explicit socket, $SEALSHM_SOCKET, or the
 * per-user default, whose directory is created here and checked to be
 * private to the caller (another user could otherwise pre-create it and
 * serve us their own "trackerd").
 */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "internal.h"
#include "locate.h"

#define SOCKET_NAME "trackerd.sock"

static int path_copy(char *buf, size_t len, const char *path)
{
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= SEALSHM__SUN_PATH_SIZE || n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	return 0;
}

/* Create @dir 0700 unless it exists, then insist it is a real directory
 * (lstat: not a symlink to somewhere else), ours, and closed to others. */
static int private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return -EPERM;
	return 0;
}

/* SEALSHM_NO_AUTOSTART=1 (any non-empty value but "0") in the environment. */
static bool env_no_autostart(void)
{
	const char *e = secure_getenv("SEALSHM_NO_AUTOSTART");

	return e && *e && strcmp(e, "0") != 0;
}

static bool may_autostart(const struct sealshm_opts *opts)
{
	return !(OPTS_GET(opts, flags, 0) & SEALSHM_NO_AUTOSTART) && !env_no_autostart();
}

int sealshm__socket_path(const struct sealshm_opts *opts, char *buf, size_t len,
			 bool *ret_autostart)
{
	const char *explicit = OPTS_GET(opts, socket, NULL);
	char dir[PATH_MAX], path[PATH_MAX];
	bool autostart;
	const char *e;
	int r;

	/* An explicit socket is someone's sidecar or manager: never start a
	 * trackerd of ours there. */
	if (explicit) {
		r = path_copy(buf, len, explicit);
		if (r < 0)
			return r;
		if (ret_autostart)
			*ret_autostart = false;
		return 0;
	}

	autostart = may_autostart(opts);

	/* secure_getenv(): a set-uid program must not be pointed at a socket
	 * (or, in autostart.c, a binary) of the invoking user's choice. */
	e = secure_getenv("SEALSHM_SOCKET");
	if (e && *e) {
		r = path_copy(buf, len, e);
		if (r < 0)
			return r;
		/* trackerd resolves a relative path after it chdir()s to "/";
		 * only start one for a path that means the same there. */
		if (ret_autostart)
			*ret_autostart = autostart && e[0] == '/';
		return 0;
	}

	/* XDG base directory spec: a relative $XDG_RUNTIME_DIR is invalid. */
	e = secure_getenv("XDG_RUNTIME_DIR");
	if (e && e[0] == '/')
		r = snprintf(dir, sizeof(dir), "%s/sealshm", e);
	else
		r = snprintf(dir, sizeof(dir), "/tmp/sealshm-%u", (unsigned)geteuid());
	if (r < 0 || (size_t)r >= sizeof(dir))
		return -ENAMETOOLONG;

	r = snprintf(path, sizeof(path), "%s/" SOCKET_NAME, dir);
	if (r < 0 || (size_t)r >= sizeof(path))
		return -ENAMETOOLONG;
	/* Length first: no directory is made for a path we cannot use. */
	if (strlen(path) >= SEALSHM__SUN_PATH_SIZE || strlen(path) >= len)
		return -ENAMETOOLONG;
	r = private_dir(dir);
	if (r < 0)
		return r;
	r = path_copy(buf, len, path);
	if (r < 0)
		return r;

	if (ret_autostart)
		*ret_autostart = autostart;
	return 0;
}

int sealshm__socket_path_memo(const struct sealshm_opts *opts, struct sealshm__socket_memo *memo,
			      char *buf, size_t len, bool *ret_autostart)
{
	const char *sock = secure_getenv("SEALSHM_SOCKET");
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	bool autostart = may_autostart(opts);
	bool use_xdg = xdg && xdg[0] == '/';
	int r;

	/* These cost no syscall, and are not remembered. */
	if (OPTS_GET(opts, socket, NULL) || (sock && *sock))
		return sealshm__socket_path(opts, buf, len, ret_autostart);

	if (memo->valid && memo->autostart == autostart && memo->xdg == use_xdg &&
	    (use_xdg ? strcmp(memo->xdg_value, xdg) == 0 : memo->uid == geteuid()) &&
	    strlen(memo->path) < len) {
		strcpy(buf, memo->path);
		if (ret_autostart)
			*ret_autostart = autostart;
		return 0;
	}

	r = sealshm__socket_path(opts, buf, len, ret_autostart);
	if (r < 0)
		return r;
	memo->valid = false;
	if (use_xdg && strlen(xdg) >= sizeof(memo->xdg_value))
		return 0;
	memo->autostart = autostart;
	memo->xdg = use_xdg;
	memo->uid = geteuid();
	strcpy(memo->xdg_value, use_xdg ? xdg : "");
	assert(strlen(buf) < sizeof(memo->path));
	strcpy(memo->path, buf);
	memo->valid = true;
	return 0;
}

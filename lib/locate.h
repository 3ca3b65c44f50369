/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where trackerd listens, as the library and trackerd find it.
 */
#ifndef SEALSHM_LOCATE_H
#define SEALSHM_LOCATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#include "include/sealshm.h"

/* sun_path holds the path and its NUL. */
#define SEALSHM__SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

/* The socket path to use: @opts->socket, else $SEALSHM_SOCKET, else
 * $XDG_RUNTIME_DIR/sealshm/trackerd.sock, else /tmp/sealshm-$UID/trackerd.sock
 * (directories created 0700 and checked to be ours).  *@ret_autostart (may
 * be NULL) is true when the library may start a trackerd there if none
 * answers.  Returns 0, -ENAMETOOLONG, -EINVAL, -EPERM (a directory that is
 * not private to us) or the mkdir/lstat error. */
int sealshm__socket_path(const struct sealshm_opts *opts, char *buf, size_t len,
			 bool *ret_autostart);

/*
 * The same without its cost on every call: for the per-user default,
 * sealshm__socket_path() creates and checks the directory (mkdir + lstat, a
 * quarter of a fast attach).  That check keeps us from *connecting* to a
 * socket another user planted; callers that do not connect (the fast path
 * uses the index and pidfd of the trackerd found through the checked path;
 * whatever connects resolves the path fully again) may take the default as
 * resolved before, remembered in @memo with what it was resolved from:
 * $XDG_RUNTIME_DIR (its value), else the euid, and the autostart choice.
 * An explicit socket or $SEALSHM_SOCKET costs no syscall and is not
 * remembered.  The caller serializes uses of one @memo.
 */
struct sealshm__socket_memo {
	bool valid;
	bool autostart;
	bool xdg;		/* resolved from $XDG_RUNTIME_DIR (absolute) */
	uid_t uid;		/* else from this euid */
	char xdg_value[PATH_MAX];
	char path[SEALSHM__SUN_PATH_SIZE];
};
int sealshm__socket_path_memo(const struct sealshm_opts *opts, struct sealshm__socket_memo *memo,
			      char *buf, size_t len, bool *ret_autostart);

#endif /* SEALSHM_LOCATE_H */

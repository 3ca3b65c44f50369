/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where trackerd listens, as the library and trackerd find it.
 */
#ifndef SEALSHM_LOCATE_H
#define SEALSHM_LOCATE_H

#include <stdbool.h>
#include <stddef.h>

#include "include/sealshm.h"

/* The socket path to use: @opts->socket, else $SEALSHM_SOCKET, else
 * $XDG_RUNTIME_DIR/sealshm/trackerd.sock, else /tmp/sealshm-$UID/trackerd.sock
 * (directories created 0700 and checked to be ours).  *@ret_autostart (may
 * be NULL) is true when the library may start a trackerd there if none
 * answers.  Returns 0, -ENAMETOOLONG, -EINVAL, -EPERM (a directory that is
 * not private to us) or the mkdir/lstat error. */
int sealshm__socket_path(const struct sealshm_opts *opts, char *buf, size_t len,
			 bool *ret_autostart);

#endif /* SEALSHM_LOCATE_H */

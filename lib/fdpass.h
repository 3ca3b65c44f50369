/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Messages with fds over AF_UNIX SOCK_SEQPACKET: the only place that
 * touches SCM_RIGHTS, for lib/ and trackerd.
 */
#ifndef SEALSHM_FDPASS_H
#define SEALSHM_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Send one message of @len bytes (>= 1) with @nfds fds (<= SEALSHM_PROTO_FDS_MAX).
 * MSG_NOSIGNAL; @flags may add MSG_DONTWAIT.  Returns 0 or -errno. */
int sealshm__send(int sock, const void *buf, size_t len, const int *fds, size_t nfds, int flags);

/* Receive one message into @buf (@len bytes) and up to @max_fds fds (all
 * close-on-exec) into @fds, count in *@ret_nfds.  Returns the message
 * length, 0 at end of stream, or -errno: -EXFULL when the message did not
 * fit @buf (MSG_TRUNC), -ECHRNG when fds were cut (MSG_CTRUNC) or more than
 * @max_fds came; in both cases every received fd is closed first. */
ssize_t sealshm__recv(int sock, void *buf, size_t len, int *fds, size_t max_fds,
		      size_t *ret_nfds, int flags);

#endif /* SEALSHM_FDPASS_H */

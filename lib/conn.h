/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The transport to trackerd: connecting (starting a per-user trackerd first
 * when allowed), the handshake messages (HELLO, a manager's AUTH), and one
 * request/reply round trip on a connection.  Calls nothing above it: which
 * connections a process keeps, and what travels on them, is lib/peer.c's.
 */
#ifndef SEALSHM_CONN_H
#define SEALSHM_CONN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* A blocking SOCK_SEQPACKET connection (close-on-exec) to @path.  When
 * nobody listens there and @autostart allows, start trackerd (autostart.h)
 * and keep trying for up to 5 s.  Returns the fd or -errno (-ENOENT,
 * -ECONNREFUSED: nobody answers). */
int sealshm__conn_connect(const char *path, bool autostart);

/* HELLO on a fresh connection, with seq ++*@seq.  Returns 0 and trackerd's
 * euid (*@ret_server_uid) and pid in its own pid namespace
 * (*@ret_server_pid; either may be NULL), -EPROTO when whatever answers is
 * not a trackerd speaking our version, or a transport error. */
int sealshm__conn_hello(int sock, uint32_t *seq, uint32_t *ret_server_uid,
			uint32_t *ret_server_pid);

/* AUTH (a manager's key, @len <= SEALSHM_PROTO_KEY_MAX bytes) right after
 * HELLO, with seq ++*@seq.  Returns 0, -EACCES (wrong key), -EOPNOTSUPP
 * (no manager there), or a transport error. */
int sealshm__conn_auth(int sock, uint32_t *seq, const void *key, size_t len);

/* Check reply header @h of @n bytes against request @type/@seq.  Returns 0
 * for a success reply, its (negative) status for a refusal, or -EBADMSG for
 * anything malformed. */
int sealshm__check_reply(const struct sealshm_msg_hdr *h, size_t n, uint32_t type, uint32_t seq);

/* What a round trip left of the connection. */
enum sealshm__rt {
	SEALSHM__RT_UNSENT,	/* the request did not leave: the connection is no good,
				 * and a new one may carry the request */
	SEALSHM__RT_BROKEN,	/* it left, but no well-formed reply came: out of step */
	SEALSHM__RT_DONE,	/* a well-formed reply came, a success or a refusal */
};

/* One round trip on @sock: send @req (its size, type and seq set) with
 * @nfds fds of @fds, receive the reply into @reply (at most @reply_len
 * bytes; one fd into *@ret_fd when @ret_fd is not NULL, -EBADF when none
 * came; none allowed otherwise) and check its header.  Returns the reply's
 * length, its status when trackerd refused, -EBADMSG for a malformed or cut
 * reply, -ECONNRESET at end of stream, or the send/receive error, and in
 * *@ret_rt (may be NULL) what that left of the connection. */
ssize_t sealshm__roundtrip(int sock, const struct sealshm_msg_hdr *req, const int *fds,
			   size_t nfds, void *reply, size_t reply_len, int *ret_fd,
			   enum sealshm__rt *ret_rt);

/* The peer went away: EOF (0) or a send/recv error saying so. */
static inline bool sealshm__is_disconnect(ssize_t r)
{
	return r == 0 || r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN;
}

#endif /* SEALSHM_CONN_H */

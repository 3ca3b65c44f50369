/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What lib/conn.c shares with lib/session.c and lib/fastpath.c (never
 * installed, not used outside lib/): the one lock that covers the request
 * connections, the sessions and the fast path's indexes, and the reply
 * check every round trip goes through.
 */
#ifndef SEALSHM_CONN_H
#define SEALSHM_CONN_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "proto.h"

/* sun_path holds the path and its NUL. */
#define SEALSHM__SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

/* The seq sealshm__connect() greets with; the next request on that
 * connection uses a later one. */
#define SEALSHM__HELLO_SEQ 1u

/* Take conn.c's lock with thread cancellation disabled (a thread cancelled
 * inside connect/sendmsg/recvmsg would leave the lock held).  Returns the
 * cancel state to hand back to sealshm__conn_unlock(). */
int sealshm__conn_lock(void);
void sealshm__conn_unlock(int cancel_state);
/* For destructors: the same, or -EBUSY (nothing changed) when the lock is
 * held. */
int sealshm__conn_trylock(void);

/* Lock held: drop this process's connection to @path and what the fast
 * path keeps for it (a manager that is gone: manager.c). */
void sealshm__conn_forget(const char *path);
/* fastpath.c, lock held: forget @path's index, pidfd and state. */
void sealshm__fastpath_forget(const char *path);

/* Check reply header @h of @n bytes against request @type/@seq.  Returns 0
 * for a success reply, its (negative) status for a refusal, or -EBADMSG for
 * anything malformed. */
int sealshm__check_reply(const struct sealshm_msg_hdr *h, size_t n, uint32_t type, uint32_t seq);

/* One round trip on @sock outside the connection cache (HELLO, SESSION,
 * INDEX on a fresh connection): send @req (its size, type and seq set),
 * receive the reply into @reply (at most @reply_len bytes; one fd into
 * *@ret_fd when @ret_fd is not NULL, none allowed otherwise) and check its
 * header.  Returns the reply's length, its status when trackerd refused,
 * -EBADMSG for a malformed or cut reply, -ECONNRESET at end of stream, or
 * the send/receive error. */
ssize_t sealshm__roundtrip(int sock, const struct sealshm_msg_hdr *req, void *reply,
			   size_t reply_len, int *ret_fd);

/* The peer went away: EOF (0) or a send/recv error saying so. */
static inline bool sealshm__is_disconnect(ssize_t r)
{
	return r == 0 || r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN;
}

/* === fast path (issue 4): lib/fastpath.c and its hooks ===================
 * Attach through trackerd's published index (lib/index_format.h) and pidfd,
 * without a round trip.  See lib/fastpath.c. */

/* What a fast attach hands to segment.c: an fd of the segment, checked
 * (memfd, size seals, exactly @size bytes), O_RDONLY when asked for. */
struct sealshm__fast_attach {
	int fd;
	uint64_t size;
};

/* Attach @name (checked, no leading '/') through the index of the trackerd
 * @opts chooses; with @track, also tell this family's session (one-way
 * TRACK).  Takes conn.c's lock itself.  Returns 1 and *@ret, or 0 when the
 * round trip must do it (not published, denied, disabled, any doubt): the
 * round trip gives the authoritative answer. */
int sealshm__fastpath_attach(const struct sealshm_opts *opts, const char *name, bool rdonly,
			     bool track, struct sealshm__fast_attach *ret);

/* conn.c, lock held: a request connection @sock to @path was just opened
 * and greeted (@fresh; its last seq in *@seq), or exists while the fast
 * path has no index for @path.  Asks for the index once per trackerd
 * (INDEX round trip on @sock, at most once per connection).  Returns 0, or
 * a negative errno when @sock must be dropped (the fast path then stays
 * off or asks again on a later connection). */
int sealshm__fastpath_connected(const char *path, int sock, uint32_t *seq, bool fresh);

/* fastpath.c, lock held: make sure a request connection to @path exists,
 * so that the fast path has asked for its index. */
int sealshm__conn_index(const char *path, bool autostart);

/* session.c, lock held: send TRACK (registry @slot holding @generation,
 * inode @ino, in the index of trackerd instance @epoch) on this family's
 * session with @path, opening the session first if needed, unless this
 * session has sent that very TRACK before; never waits for trackerd.
 * Returns 0 or -errno (then the name is not tracked: the caller uses the
 * round trip); -EAGAIN for an adopted session whose token no round trip
 * has confirmed yet. */
int sealshm__session_track(const char *path, bool autostart, uint64_t epoch, uint32_t slot,
			   uint32_t generation, uint64_t ino);
/* session.c, lock held: a tracked round trip to @path succeeded, so
 * trackerd knows the token of this family's session with @path. */
void sealshm__session_confirm(const char *path);

#endif /* SEALSHM_CONN_H */

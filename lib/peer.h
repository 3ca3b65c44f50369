/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What this process holds for each trackerd it talks to, one peer per
 * socket path: the request connection, the family's tracking session, the
 * fast path's index and a manager's auth key.  One list, one lock, one
 * fork rule, one destructor (lib/peer.c).  The files above it (segments,
 * queries, managers) reach trackerd only through these calls.
 */
#ifndef SEALSHM_PEER_H
#define SEALSHM_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "include/sealshm.h"
#include "proto.h"

/*
 * One request/reply round trip with the trackerd chosen by @opts, on this
 * process's connection to it: opened (and trackerd started, if allowed) on
 * first use, re-opened in a forked child, never shared with the parent.
 * @req's header type and size must be set; seq is filled in.  @fd (or
 * -EBADF) goes with the request; with a CREATE to a trackerd whose uid (its
 * HELLO reply's server_uid) is not our euid, so does the memfd's read-only
 * twin, an O_RDONLY reopen of @fd (proto.h; left out when we may not open
 * it either), so that trackerd can serve read-only attaches.
 *
 * When @track_token is not NULL it points into @req: the token of this
 * process family's session with that trackerd is copied there (the
 * session is opened first if needed), and if trackerd answers -ESTALE (the
 * session is gone, e.g. an adopted one) a new session is opened and the
 * request sent once more.
 *
 * The reply (at most @reply_len bytes) is checked for type, seq and size.
 * Returns the reply's length on success, its status when trackerd refused,
 * or a transport error.  A received fd (attach) is stored in *@ret_fd
 * (-EBADF when none; @ret_fd may be NULL when none is expected: any fd that
 * comes anyway is closed).
 */
int sealshm__peer_call(const struct sealshm_opts *opts, struct sealshm_msg_hdr *req, int fd,
		       uint8_t *track_token, void *reply, size_t reply_len, int *ret_fd);

/*
 * Attach @name (checked, no leading '/') through the published index of the
 * trackerd @opts chooses (lib/fastpath.c); with @track, also tell this
 * family's session (one-way TRACK).  Returns 1 with *@ret_fd (O_RDONLY when
 * @rdonly, else O_RDWR; checked: a memfd with the size seals of exactly
 * *@ret_size bytes), or 0 when the round trip must do it: not published,
 * denied, disabled ($SEALSHM_NO_FASTPATH), any doubt.  The round trip gives
 * the authoritative answer.
 */
int sealshm__peer_attach_fast(const struct sealshm_opts *opts, const char *name, bool rdonly,
			      bool track, int *ret_fd, uint64_t *ret_size);

/*
 * A manager's auth key for the trackerd at @path, remembered while handles
 * for it are open in this process (and inherited by fork, as handles are):
 * every connection to @path presents it (AUTH) right after HELLO.  A second
 * handle for the same path must bring the same key (-EACCES otherwise).
 * Returns 0, -EACCES or -ENOMEM.
 */
int sealshm__peer_key_ref(const char *path, const void *key, size_t len);
/* The last handle for @path is gone: forget its key, and the connection and
 * index kept for it. */
void sealshm__peer_key_unref(const char *path);

/* A connection of the caller's own to @path (never started there): HELLO,
 * then AUTH when a key is remembered for @path.  *@ret_seq is the last seq
 * used on it.  Returns the fd (close-on-exec) or -errno. */
int sealshm__peer_connect(const char *path, uint32_t *ret_seq);

#endif /* SEALSHM_PEER_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What lib/conn.c shares with lib/session.c (never installed, not used
 * outside lib/): the one lock that covers both the request connections and
 * the sessions, and the reply check every round trip goes through.
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

/* Check reply header @h of @n bytes against request @type/@seq.  Returns 0
 * for a success reply, its (negative) status for a refusal, or -EBADMSG for
 * anything malformed. */
int sealshm__check_reply(const struct sealshm_msg_hdr *h, size_t n, uint32_t type, uint32_t seq);

/* The peer went away: EOF (0) or a send/recv error saying so. */
static inline bool sealshm__is_disconnect(ssize_t r)
{
	return r == 0 || r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN;
}

#endif /* SEALSHM_CONN_H */

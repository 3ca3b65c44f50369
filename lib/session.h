/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tracking session: the connection of a process family to one trackerd
 * that sent SESSION and got a token back.  Tracked creates and attaches
 * carry the token on the request connection; a fast attach, which has no
 * request to carry it, sends a one-way TRACK on the session itself.  After
 * the SESSION reply nothing reads the session socket again: trackerd
 * watches it for its end, which comes when every process holding it has
 * closed it (exit, crash, exec, close), and then cleans up what the
 * session still tracks.
 *
 * Which session a process uses, and when it opens one, is lib/peer.c's;
 * this file owns one session's mechanics and $SEALSHM_SESSION, the
 * hand-over to an exec'd program (sealshm_session_export()).
 */
#ifndef SEALSHM_SESSION_H
#define SEALSHM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/sealshm.h"
#include "proto.h"

struct sealshm__session;

/* Send SESSION (seq ++*@seq) on @sock, a fresh connection that HELLO (and a
 * manager's AUTH) has gone over, and make it a session.  @sock belongs to
 * the session from here on, also on failure (it is closed then).  Returns 0
 * and *@ret, -EBADMSG for a reply that is no session, or the round trip's
 * error (a disconnect: trackerd was exiting on idle; another connection may
 * do). */
int sealshm__session_open(int sock, uint32_t *seq, struct sealshm__session **ret);

/* The session named by $SEALSHM_SESSION when the library was loaded, if it
 * is a SOCK_SEQPACKET connection to trackerd's socket at @path (taken at
 * most once per process; close-on-exec again from here on).  Returns 1 and
 * *@ret, 0 when there is none for @path, or -errno. */
int sealshm__session_adopt(const char *path, struct sealshm__session **ret);

/* Close our copy and free.  Other members of the family keep theirs, and
 * with them the session.  NULL is fine; returns NULL. */
struct sealshm__session *sealshm__session_free(struct sealshm__session *s);

/* The session's token, as tracked requests carry it. */
const uint8_t *sealshm__session_token(const struct sealshm__session *s);

/* A tracked round trip carried the token and trackerd accepted it. */
void sealshm__session_confirm(struct sealshm__session *s);

/* Send TRACK (registry @slot holding @generation, inode @ino, in the index
 * of trackerd instance @epoch) unless this session has sent that very
 * TRACK before; never waits for trackerd.  Returns 1 when it was sent now
 * (trackerd links the name when it reads it, if the registration still
 * exists then), 0 when it had been sent before, or -errno, and then the
 * name is not tracked (the caller uses the round trip): -EAGAIN for an
 * adopted session whose token no round trip has confirmed yet, a
 * disconnect (sealshm__is_disconnect()) when trackerd ended the session. */
int sealshm__session_track(struct sealshm__session *s, uint64_t epoch, uint32_t slot,
			   uint32_t generation, uint64_t ino);

/* A new fd (>= 3, close-on-exec) of the session and, in @val, the value of
 * $SEALSHM_SESSION that names it for an exec'd program.  Returns the fd or
 * -errno. */
int sealshm__session_export(const struct sealshm__session *s,
			    char val[SEALSHM_SESSION_ENV_MAX]);

#endif /* SEALSHM_SESSION_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tracking sessions: connections that sent SESSION, and the names each one
 * tracks. When a session's connection ends (every process holding it exited,
 * crashed, exec'd or closed it), the names it still tracks are unlinked as
 * their lifetime says:
 *
 *  - first (the default, CPython's rule): when a session whose uid owns the
 *    name (or is root) ends; a session of another uid only stops tracking;
 *  - last (REGISTRY_LIFETIME_LAST): when no session tracks the name any more.
 *
 * A link ties one session to one name; each is on two doubly linked lists,
 * its session's and its name's, so adding and removing one is O(1) and a
 * session ends in O(names it tracks). The per-name list heads live in an
 * array indexed by registry slot, reserved for the registry's capacity.
 *
 * A session is found by its token (what a tracked CREATE/ATTACH carries)
 * through a hash table keyed with a secret SipHash key, and tokens are
 * compared in constant time: how long a lookup takes says nothing about the
 * tokens of other sessions.
 */
#ifndef TRACKERD_SESSION_H
#define TRACKERD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

struct client;
struct registry;
struct session;
struct sessions;

/* Sessions over @reg (their per-name lists are sized by its capacity);
 * each tracks at most @max_links names. */
int sessions_new(struct registry *reg, uint32_t max_links, struct sessions **ret);
/* Free every session and link without unlinking any name (trackerd stops;
 * the registry goes too), clearing their owners' pointers. NULL is fine.
 * Returns NULL. */
struct sessions *sessions_free(struct sessions *ss);
size_t sessions_count(const struct sessions *ss);

/* Make the connection @c a session: a new id and random token; logged.
 * On success *@owner is the session until it is freed (session_end(),
 * sessions_free()), which sets *@owner to NULL: @owner is where the
 * connection's user keeps it, and lives as long as the session.
 * Errors: -EAGAIN (no randomness yet), -ENOMEM. */
int session_open(struct sessions *ss, struct client *c, struct session **owner);
uint64_t session_id(const struct session *s);
const uint8_t *session_token(const struct session *s);
struct client *session_client(const struct session *s);
pid_t session_pid(const struct session *s);

/* The session whose token is @token, or NULL. */
struct session *session_find(const struct sessions *ss,
			     const uint8_t token[SEALSHM_PROTO_TOKEN_SIZE]);

/* Whether @s may track one more name: 0, or -EDQUOT (a session tracks at
 * most as many names as its uid may own, --max-names-per-uid). */
int session_may_link(const struct session *s);

/* Track the name in registry slot @slot in @s. Returns 1 when linked now,
 * 0 when @s tracked it already, -EDQUOT, -ENOMEM. */
int session_link(struct sessions *ss, struct session *s, uint32_t slot);

/* Untrack the name in @slot in every session: before registry_remove(). */
void sessions_forget_name(struct sessions *ss, uint32_t slot);

/* How many sessions track the name in @slot; the first pids of the oldest
 * of them go to @ret_pids (@n of them, 0 past the count). */
uint32_t sessions_of_name(const struct sessions *ss, uint32_t slot, uint32_t *ret_pids,
			  size_t n);

/* The session's connection ended: apply each tracked name's lifetime, log,
 * free @s and clear its owner's pointer. */
void session_end(struct sessions *ss, struct session *s);

#endif /* TRACKERD_SESSION_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests: decoding and validating each message against proto.h's spec
 * table, permission checks against the registry, replies and log lines.
 * Request semantics are those of Documentation/protocol.md.
 *
 * The request layer is the transport's user (client.h): it keeps its state
 * of each connection (HELLO and AUTH done, the session it is) in the bytes
 * the transport holds for it, and what it counts for STATS in struct
 * requests.
 */
#ifndef TRACKERD_REQUEST_H
#define TRACKERD_REQUEST_H

#include "client.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct holders;
struct index;
struct listener;
struct loop;
struct registry;
struct requests;
struct sessions;

/* What requests act on, and the rules trackerd was started with that the
 * registry does not hold. */
struct request_config {
	struct registry *registry;
	struct sessions *sessions;
	struct index *index;		/* NULL when none could be made: INDEX fails */
	struct holders *holders;	/* NULL when none could be made: HOLDER fails */
	uint64_t max_name_fds;		/* names may hold this many fds (limits.h) */
	uid_t euid;			/* INDEX and SHUTDOWN are for this uid and root */

	/* trackerd --manager: AUTH and SHUTDOWN are served, INDEX is not. */
	bool manager;
	/* A manager's auth key: SEALSHM_PROTO_KEY_MAX bytes, zero past
	 * @key_len, owned by the caller. @key_len 0: no key, no AUTH needed
	 * (AUTH of length 0 still succeeds). */
	const uint8_t *key;
	uint32_t key_len;
	struct listener *listener;	/* SHUTDOWN removes its socket file at once */
	struct loop *loop;		/* and ends it once the reply has left */
};

/* The request layer over @cfg (copied; what it points to must outlive
 * it). Its start, as STATS reports it, is now. Errors: -ENOMEM. */
int requests_new(const struct request_config *cfg, struct requests **ret);
/* After clients_free(): the clients' close handler uses it. NULL is fine.
 * Returns NULL. */
struct requests *requests_free(struct requests *rs);

/* The request layer as the transport's user, with a struct requests as
 * userdata (clients_new()). Its handler sends exactly one reply per
 * message, except on a session, where TRACK gets none and any other message
 * ends the session (and the connection, without a reply), and on a holder
 * connection, where any message ends it without a reply; it returns a
 * negative errno only when the connection must close at once (the reply
 * could not even be queued). A session's connection ending ends the
 * session, a holder connection's its holder id; the connection that asked
 * a manager to SHUTDOWN closing (its reply sent, or it went away) ends the
 * loop. */
extern const struct client_ops request_client_ops;

#endif /* TRACKERD_REQUEST_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests: decoding and validating each message against proto.h's spec
 * table, permission checks against the registry, replies and log lines.
 * Request semantics are those of Documentation/protocol.md.
 */
#ifndef TRACKERD_REQUEST_H
#define TRACKERD_REQUEST_H

#include "client.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct index;
struct listener;
struct loop;
struct registry;
struct sessions;

/* What requests act on: the userdata of both handlers. */
struct request_state {
	struct registry *registry;
	struct sessions *sessions;
	struct index *index;		/* NULL when none could be made: INDEX fails */
	uint64_t max_name_fds;		/* names may hold this many fds (limits.h) */
	uid_t euid;			/* trackerd's: INDEX and SHUTDOWN are for this uid and root */
	struct clients *clients;	/* to read sessions' TRACKs before they count */

	/* trackerd --manager: AUTH and SHUTDOWN are served, INDEX is not. */
	bool manager;
	/* A manager's auth key: SEALSHM_PROTO_KEY_MAX bytes, zero past
	 * @key_len. @key_len 0: no key, no AUTH needed (AUTH of length 0
	 * still succeeds). */
	const uint8_t *key;
	uint32_t key_len;
	struct listener *listener;	/* SHUTDOWN removes its socket file at once */
	struct loop *loop;		/* and ends it once the reply has left */
	struct client *shutdown_by;	/* the first SHUTDOWN's client; NULL: none yet */
	/* For STATS: when trackerd started (CLOCK_REALTIME, and CLOCK_MONOTONIC
	 * for the uptime) and the limits it enforces. */
	int64_t start_ns;
	uint64_t start_mono_ns;
	uint32_t max_names;
	uint32_t max_names_per_uid;
	uint32_t max_clients;
	uint64_t max_bytes_per_uid;	/* 0: no limit */
};

/* The request layer as the transport's user, with a struct request_state
 * as userdata (clients_new()). Its handler sends exactly one reply per
 * message, except on a session, where TRACK gets none and any other message
 * ends the session (and the connection, without a reply); it returns a
 * negative errno only when the connection must close at once (the reply
 * could not even be queued). A session's connection ending ends the
 * session; the connection that asked a manager to SHUTDOWN closing (its
 * reply sent, or it went away) ends the loop. */
extern const struct client_ops request_client_ops;

#endif /* TRACKERD_REQUEST_H */

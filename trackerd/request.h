/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests: decoding and validating each message against proto.h's spec
 * table, permission checks against the registry, replies and log lines.
 * Request semantics are those of Documentation/protocol.md.
 */
#ifndef TRACKERD_REQUEST_H
#define TRACKERD_REQUEST_H

#include "client.h"

#include <stdint.h>
#include <sys/types.h>

struct index;
struct registry;
struct sessions;

/* What requests act on: the userdata of both handlers. */
struct request_state {
	struct registry *registry;
	struct sessions *sessions;
	struct index *index;		/* NULL when none could be made: INDEX fails */
	uint64_t max_name_fds;		/* names may hold this many fds (limits.h) */
	uid_t euid;			/* trackerd's: INDEX is for this uid and root */
	struct clients *clients;	/* to read sessions' TRACKs before they count */
	/* For STATS: when trackerd started (CLOCK_REALTIME, and CLOCK_MONOTONIC
	 * for the uptime) and the limits it enforces. */
	int64_t start_ns;
	uint64_t start_mono_ns;
	uint32_t max_names;
	uint32_t max_names_per_uid;
	uint32_t max_clients;
	uint64_t max_bytes_per_uid;	/* 0: no limit */
};

/* A client_handler_t. Sends exactly one reply per message, except on a
 * session, where TRACK gets none and any other message ends the session
 * (and the connection, without a reply). Returns 0, or a negative errno when the connection must close
 * at once (the reply could not even be queued). */
int request_handle(struct client *c, struct client_msg *m, void *userdata);

/* A client_close_handler_t: a session's connection ending ends the session. */
void request_closed(struct client *c, void *userdata);

#endif /* TRACKERD_REQUEST_H */

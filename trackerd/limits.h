/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Caps on everything a client controls, so no client can make trackerd
 * grow without bound or starve the others.
 *
 * File descriptors: trackerd holds the lock file, the listening socket,
 * epoll, a signalfd and a few timerfds, one fd per connected client
 * (LIMIT_CLIENTS), at most one queued fd per client, and one fd per
 * registered name (LIMIT_NAMES). main() raises the RLIMIT_NOFILE soft limit
 * to the hard limit; below what these caps need, an accept() or a received
 * fd fails with EMFILE (the client gets an error, trackerd keeps serving).
 */
#ifndef TRACKERD_LIMITS_H
#define TRACKERD_LIMITS_H

#include "proto.h"

/* Connected clients, tracking sessions included (a session is a
 * connection); more are accepted and closed at once, with a log line. */
#define LIMIT_CLIENTS		1024

/* Bytes of replies queued for a client that does not read. trackerd stops
 * reading a client's requests while a reply waits, so the queue holds one
 * reply in practice; this is the backstop. */
#define LIMIT_OUTPUT_BYTES	(4 * SEALSHM_PROTO_MSG_MAX)

/* Requests handled per readiness event of one client, so a busy client
 * cannot starve the others (the level-triggered epoll reports it again). */
#define LIMIT_MSGS_PER_EVENT	16

/* Receive buffer: larger than any request, so a larger message arrives
 * with MSG_TRUNC and is refused (-EXFULL) instead of being taken apart. */
#define LIMIT_REQUEST_SIZE	512

/* fds with one message: proto.h's cap. */
#define LIMIT_FDS_PER_MSG	SEALSHM_PROTO_FDS_MAX

/* Registered names in all, and per owner uid: each holds an fd. */
#define LIMIT_NAMES		65536
#define LIMIT_NAMES_PER_UID	4096

/* Names one session tracks: as many as its uid may own. One link each
 * (about 48 bytes), so sessions hold at most LIMIT_CLIENTS times this. */
#define LIMIT_LINKS_PER_SESSION	LIMIT_NAMES_PER_UID

/* After accept() fails for lack of fds, wait this long before trying again
 * (the listening socket stays readable, polling it would spin). */
#define LIMIT_ACCEPT_BACKOFF_USEC	(250 * 1000)

_Static_assert(LIMIT_REQUEST_SIZE > sizeof(struct sealshm_msg_create), "request buffer");
_Static_assert(LIMIT_REQUEST_SIZE > sizeof(struct sealshm_msg_name), "request buffer");
_Static_assert(LIMIT_OUTPUT_BYTES >= SEALSHM_PROTO_MSG_MAX, "one reply must fit");

#endif /* TRACKERD_LIMITS_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Caps on everything a client controls, so no client can make trackerd
 * grow without bound or starve the others.
 *
 * File descriptors: trackerd holds the lock file, the listening socket,
 * epoll, a signalfd, a few timerfds, the index and liveness memfds, one fd per
 * connected client (--max-clients), at most one queued fd per client, a
 * few in flight (a request's LIMIT_FDS_PER_MSG, a read-only reopen), and
 * one fd per registered name, two for a name whose read-only twin it keeps
 * (request.c). main() raises the RLIMIT_NOFILE soft limit to the hard
 * limit (and the hard limit to fs.nr_open when it may), then keeps
 * LIMIT_FD_RESERVE of them out of the names' reach: a create whose fds
 * would eat into the reserve is refused (-EMFILE), so clients can still
 * connect and be answered at the limit. With an fd limit too low for
 * --max-clients as well, main() lowers --max-clients to what fits, so that
 * accept() never runs out of fds below it and a uid's share of the
 * connections (--max-clients-per-uid) stays a share of what is there.
 */
#ifndef TRACKERD_LIMITS_H
#define TRACKERD_LIMITS_H

#include "liveness_format.h"
#include "proto.h"

/* Connected clients, tracking sessions included (a session is a
 * connection), unless --max-clients says otherwise; more are accepted and
 * closed at once, with a log line. session.c sizes its token hash for the
 * default (more clients only make its chains longer). */
#define LIMIT_CLIENTS		1024
#define LIMIT_CLIENTS_MAX	(1u << 20)

/* Connections one peer uid may hold at once, unless --max-clients-per-uid
 * says otherwise: three quarters of --max-clients, so that one uid (one
 * member of a system instance or a sidecar's volume) holding all it may
 * still leaves a quarter to everyone else. Never more than --max-clients. */
#define LIMIT_CLIENTS_PER_UID(clients)	((clients) - (clients) / 4)

/* A connection that has sent nothing this long after it was accepted is
 * closed (--hello-timeout): HELLO is the first message, and the library
 * sends it right after connect(). An idle connection that has said HELLO
 * counts against its uid's share instead. */
#define LIMIT_FIRST_MESSAGE_MS		2000
#define LIMIT_FIRST_MESSAGE_MS_MAX	(3600 * 1000)

/* Refused and timed-out connections are logged in bursts: the first in
 * full, then, while more come, one line with their count per this many
 * seconds, so that a client opening thousands of connections cannot flood
 * the log. */
#define LIMIT_LOG_BURST_SEC	5

/* Bytes of segments registered per owner uid (--max-bytes-per-uid); 0 is
 * no limit, the default: memory is charged to whoever touches the pages
 * (the creator's cgroup), not to trackerd, so this is a policy knob for
 * shared instances rather than trackerd's own safety. */
#define LIMIT_BYTES_PER_UID_DEFAULT	0

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

/* Registered names in all and per owner uid, unless --max-names and
 * --max-names-per-uid say otherwise; each holds an fd (or two). A session tracks
 * at most as many names as its uid may own (one link each, 48 bytes). */
#define LIMIT_NAMES_DEFAULT	1048576
/* The largest --max-names: the index's entries then take 2 GiB of address
 * space (pages are only allocated as they are written). */
#define LIMIT_NAMES_MAX		(1u << 24)

/* fds kept from names for @clients (--max-clients): one per possible
 * client and one for a reply it has queued, plus what trackerd holds itself
 * and has in flight (a connection refused over a limit holds one for the
 * moment between accept() and close()). With a lower fd limit than twice
 * this, names get half of it, and clients as many as the other half keeps
 * room for: LIMIT_FD_CLIENTS(). */
#define LIMIT_FD_OWN			64
#define LIMIT_FD_RESERVE(clients)	(2 * (uint64_t)(clients) + LIMIT_FD_OWN)
#define LIMIT_FD_CLIENTS(fds)		((fds) > LIMIT_FD_OWN + 2 ? \
					 ((fds) - LIMIT_FD_OWN) / 2 : 1)

/* Holder ids alive at once (--max-holders): every slot the id's 16 bits
 * name (lib/liveness_format.h), 512 KiB of liveness segment, paid for as
 * slots are first used. A holder is a connection: --max-clients caps them
 * first unless it is raised. */
#define LIMIT_HOLDERS_MAX	(1u << SEALSHM_HOLDER_SLOT_BITS)

/* After accept() fails for lack of fds, wait this long before trying again
 * (the listening socket stays readable, polling it would spin). */
#define LIMIT_ACCEPT_BACKOFF_USEC	(250 * 1000)

_Static_assert(LIMIT_REQUEST_SIZE > sizeof(struct sealshm_msg_create), "request buffer");
_Static_assert(LIMIT_REQUEST_SIZE > sizeof(struct sealshm_msg_name), "request buffer");
_Static_assert(LIMIT_OUTPUT_BYTES >= SEALSHM_PROTO_MSG_MAX, "one reply must fit");

#endif /* TRACKERD_LIMITS_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire protocol between libsealshm and trackerd: the only definition.
 * Documentation/protocol.md restates it in prose; change both together,
 * bump SEALSHM_PROTO_VERSION on any incompatible change, and add a
 * selftests/proto_test.c case.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET.  One message = one datagram, so fds
 * sent with SCM_RIGHTS always stay with the message they belong to.
 * Fields are fixed-width, host byte order (both ends share a kernel),
 * explicitly padded.  Every request gets exactly one reply, in order.
 */
#ifndef SEALSHM_PROTO_H
#define SEALSHM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "include/sealshm.h"

#define SEALSHM_PROTO_MAGIC	0x4d485353u	/* "SSHM" little-endian */
#define SEALSHM_PROTO_VERSION	3u

/* Largest message either side sends (a LIST reply page).  Requests are
 * far smaller; trackerd refuses anything larger than its request type. */
#define SEALSHM_PROTO_MSG_MAX	65536u
/* Most fds one message carries. */
#define SEALSHM_PROTO_FDS_MAX	1u
/* Fixed name field: SEALSHM_NAME_MAX bytes and a NUL, rest zero. */
#define SEALSHM_PROTO_NAME_SIZE	(SEALSHM_NAME_MAX + 1)

/* Message types; values are never reused.  A reply has the request's type
 * with SEALSHM_MSG_REPLY set. */
enum {
	SEALSHM_MSG_HELLO	= 1,	/* c->s, first message on a connection */
	SEALSHM_MSG_CREATE	= 2,	/* c->s + 1 fd: register a sealed memfd */
	SEALSHM_MSG_ATTACH	= 3,	/* c->s; reply + 1 fd on success */
	SEALSHM_MSG_UNLINK	= 4,	/* c->s: remove a name */
	SEALSHM_MSG_STAT	= 5,	/* c->s: one name's info */
	SEALSHM_MSG_LIST	= 6,	/* c->s: one page of names */
	SEALSHM_MSG_SESSION	= 7,	/* c->s: make this connection a tracking session */
	SEALSHM_MSG_INDEX	= 8,	/* c->s; reply + 1 fd: the published index (lib/index.h) */
	SEALSHM_MSG_TRACK	= 9,	/* c->s on a session only, one-way: track a name */

	SEALSHM_MSG_REPLY	= 0x8000,
};

/* Every message starts with this. */
struct sealshm_msg_hdr {
	uint32_t type;		/* SEALSHM_MSG_* */
	uint32_t size;		/* whole message in bytes, header included */
	uint32_t seq;		/* chosen by the client, echoed in the reply */
	int32_t status;		/* replies: 0 or -errno; requests: 0 */
};
_Static_assert(sizeof(struct sealshm_msg_hdr) == 16, "hdr size");

/* HELLO request.  A version mismatch is answered with status -EPROTO
 * (reply carries trackerd's version) and the connection is closed. */
struct sealshm_msg_hello {
	struct sealshm_msg_hdr hdr;
	uint32_t magic;		/* SEALSHM_PROTO_MAGIC */
	uint32_t version;	/* SEALSHM_PROTO_VERSION */
	uint32_t flags;		/* none defined, must be 0 */
	uint32_t __pad;
};
_Static_assert(sizeof(struct sealshm_msg_hello) == 32, "hello size");

struct sealshm_msg_hello_reply {
	struct sealshm_msg_hdr hdr;
	uint32_t magic;
	uint32_t version;
	uint32_t server_pid;	/* trackerd's pid in its own namespace */
	uint32_t server_uid;
};
_Static_assert(sizeof(struct sealshm_msg_hello_reply) == 32, "hello reply size");

/* Bytes of a session token: random, known to trackerd and to the
 * processes of the session's family only. */
#define SEALSHM_PROTO_TOKEN_SIZE 16

/* SESSION request (header only, after HELLO).  From then on the connection
 * is the session: trackerd sends nothing more on it and reads from it only
 * to see its end, which is when every process holding it has closed it
 * (exited, crashed, exec'd).  Then every name the session still tracks is
 * unlinked (see the lifetime flags).  The client sends nothing more on it;
 * a message that comes anyway ends the session. */
struct sealshm_msg_session_reply {
	struct sealshm_msg_hdr hdr;
	uint64_t id;		/* for logs and listings */
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
};
_Static_assert(sizeof(struct sealshm_msg_session_reply) == 40, "session reply size");

/* INDEX reply; carries exactly one fd when status is 0: an O_RDONLY memfd
 * laid out as lib/index.h says.  Offered only to clients whose uid is
 * trackerd's or 0, who could take any of trackerd's fds with pidfd_getfd(2)
 * anyway (-EPERM for others), so the fast path adds no access. */
struct sealshm_msg_index_reply {
	struct sealshm_msg_hdr hdr;
	uint64_t size;		/* bytes of the index */
};
_Static_assert(sizeof(struct sealshm_msg_index_reply) == 24, "index reply size");

/* TRACK: one-way, sent on a *session* connection by a process that attached
 * through the index, so its attach costs no round trip.  trackerd links the
 * name in registry slot @slot to that session if the slot still holds the
 * same @generation and @ino, and ignores it otherwise (the name was unlinked
 * meanwhile: nothing to track).  No reply.  Any other message on a session
 * ends it. */
struct sealshm_msg_track {
	struct sealshm_msg_hdr hdr;
	uint32_t slot;
	uint32_t generation;
	uint64_t ino;
};
_Static_assert(sizeof(struct sealshm_msg_track) == 32, "track size");

/* CREATE/ATTACH flags */
#define SEALSHM_PROTO_TRACK	(1u << 0)	/* track the name in the session named by token */
#define SEALSHM_PROTO_RDONLY	(1u << 1)	/* attach: O_RDONLY fd */
/* create: the name lives until the last session tracking it ends, instead
 * of going when the first one ends (CPython's rule, the default). */
#define SEALSHM_PROTO_LIFETIME_LAST (1u << 2)
#define SEALSHM_PROTO_CREATE_FLAGS (SEALSHM_PROTO_TRACK | SEALSHM_PROTO_LIFETIME_LAST)
#define SEALSHM_PROTO_ATTACH_FLAGS (SEALSHM_PROTO_TRACK | SEALSHM_PROTO_RDONLY)

/* CREATE request; carries exactly one fd: a memfd of exactly @size bytes,
 * opened O_RDWR, carrying at least F_SEAL_SHRINK | F_SEAL_GROW. */
struct sealshm_msg_create {
	struct sealshm_msg_hdr hdr;
	uint64_t size;
	uint32_t mode;		/* permission bits, <= 0777 */
	uint32_t flags;		/* SEALSHM_PROTO_CREATE_FLAGS */
	/* With SEALSHM_PROTO_TRACK: the session's token.  An unknown token
	 * (the session has ended) is refused with -ESTALE and nothing is
	 * registered, so a name can never outlive a dead session. */
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	char name[SEALSHM_PROTO_NAME_SIZE];
};
_Static_assert(sizeof(struct sealshm_msg_create) == 16 + 16 + 16 + 256, "create size");
_Static_assert(offsetof(struct sealshm_msg_create, name) == 48, "create name");

/* ATTACH, UNLINK and STAT requests share this shape. */
struct sealshm_msg_name {
	struct sealshm_msg_hdr hdr;
	uint32_t flags;		/* ATTACH: SEALSHM_PROTO_ATTACH_FLAGS; others 0 */
	uint32_t __pad;
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];	/* ATTACH with TRACK; else zero */
	char name[SEALSHM_PROTO_NAME_SIZE];
};
_Static_assert(sizeof(struct sealshm_msg_name) == 16 + 8 + 16 + 256, "name msg size");

/* ATTACH reply; carries exactly one fd when status is 0, none otherwise. */
struct sealshm_msg_attach_reply {
	struct sealshm_msg_hdr hdr;
	uint64_t size;
	uint64_t ino;
	uint32_t seals;
	uint32_t mode;
};
_Static_assert(sizeof(struct sealshm_msg_attach_reply) == 40, "attach reply size");

/* Tracker pids an info record carries (the first pid of each of the
 * first sessions tracking the name, oldest first). */
#define SEALSHM_PROTO_INFO_PIDS 4

/* One name as STAT and LIST report it. */
struct sealshm_wire_info {
	char name[SEALSHM_PROTO_NAME_SIZE];
	uint64_t size;
	uint64_t ino;
	int64_t ctime_ns;	/* CLOCK_REALTIME */
	uint32_t uid;
	uint32_t gid;
	uint32_t mode;
	uint32_t seals;
	uint32_t creator_pid;
	uint32_t flags;		/* SEALSHM_PROTO_LIFETIME_LAST */
	uint32_t n_sessions;	/* sessions tracking the name */
	uint32_t session_pids[SEALSHM_PROTO_INFO_PIDS];
	uint32_t __pad;
};
_Static_assert(sizeof(struct sealshm_wire_info) == 256 + 72, "info size");

struct sealshm_msg_stat_reply {
	struct sealshm_msg_hdr hdr;
	struct sealshm_wire_info info;
};

/* LIST request: entries from @cursor on (0 = start). */
struct sealshm_msg_list {
	struct sealshm_msg_hdr hdr;
	uint64_t cursor;
};
_Static_assert(sizeof(struct sealshm_msg_list) == 24, "list size");

/* LIST reply: @count entries follow; @next_cursor is 0 after the last page.
 * Names added or removed while paging may or may not appear (as readdir). */
struct sealshm_msg_list_reply {
	struct sealshm_msg_hdr hdr;
	uint64_t next_cursor;
	uint32_t count;
	uint32_t __pad;
	struct sealshm_wire_info entries[];
};
_Static_assert(sizeof(struct sealshm_msg_list_reply) == 32, "list reply size");

#define SEALSHM_PROTO_LIST_PAGE \
	((SEALSHM_PROTO_MSG_MAX - sizeof(struct sealshm_msg_list_reply)) / \
	 sizeof(struct sealshm_wire_info))

/* What trackerd accepts: exact request size and fd count per type. */
struct sealshm_msg_spec {
	uint32_t type;
	uint32_t size;		/* exact size of the request */
	uint32_t nfds;		/* exact number of fds with the request */
	const char *name;	/* for logs */
};

static inline const struct sealshm_msg_spec *sealshm_proto_request_spec(uint32_t type)
{
	static const struct sealshm_msg_spec specs[] = {
		{ SEALSHM_MSG_HELLO,  sizeof(struct sealshm_msg_hello),  0, "hello"  },
		{ SEALSHM_MSG_CREATE, sizeof(struct sealshm_msg_create), 1, "create" },
		{ SEALSHM_MSG_ATTACH, sizeof(struct sealshm_msg_name),   0, "attach" },
		{ SEALSHM_MSG_UNLINK, sizeof(struct sealshm_msg_name),   0, "unlink" },
		{ SEALSHM_MSG_STAT,   sizeof(struct sealshm_msg_name),   0, "stat"   },
		{ SEALSHM_MSG_LIST,   sizeof(struct sealshm_msg_list),   0, "list"   },
		{ SEALSHM_MSG_SESSION, sizeof(struct sealshm_msg_hdr),   0, "session" },
		{ SEALSHM_MSG_INDEX,  sizeof(struct sealshm_msg_hdr),    0, "index"  },
	};

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (specs[i].type == type)
			return &specs[i];
	return NULL;
}

#endif /* SEALSHM_PROTO_H */

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
#define SEALSHM_PROTO_VERSION	4u

/* Largest message either side sends (a LIST reply page).  Requests are
 * far smaller; trackerd refuses anything larger than its request type. */
#define SEALSHM_PROTO_MSG_MAX	65536u
/* Most fds one message carries (a CREATE with its read-only twin). */
#define SEALSHM_PROTO_FDS_MAX	2u
/* Fixed name field: SEALSHM_NAME_MAX bytes and a NUL, rest zero. */
#define SEALSHM_PROTO_NAME_SIZE	(SEALSHM_NAME_MAX + 1)

/* Message types; values are never reused.  A reply has the request's type
 * with SEALSHM_MSG_REPLY set. */
enum {
	SEALSHM_MSG_HELLO	= 1,	/* c->s, first message on a connection */
	SEALSHM_MSG_CREATE	= 2,	/* c->s + 1 or 2 fds: register a sealed memfd */
	SEALSHM_MSG_ATTACH	= 3,	/* c->s; reply + 1 fd on success */
	SEALSHM_MSG_UNLINK	= 4,	/* c->s: remove a name */
	SEALSHM_MSG_STAT	= 5,	/* c->s: one name's info */
	SEALSHM_MSG_LIST	= 6,	/* c->s: one page of names */
	SEALSHM_MSG_SESSION	= 7,	/* c->s: make this connection a tracking session */
	SEALSHM_MSG_INDEX	= 8,	/* c->s; reply + 1 fd: the published index (lib/index_format.h) */
	SEALSHM_MSG_TRACK	= 9,	/* c->s on a session only, one-way: track a name */
	SEALSHM_MSG_AUTH	= 10,	/* c->s, right after HELLO: a manager's auth key */
	SEALSHM_MSG_SHUTDOWN	= 11,	/* c->s, manager only: unlink everything, exit */
	SEALSHM_MSG_STATS	= 12,	/* c->s: trackerd's global figures */
	SEALSHM_MSG_HOLDER	= 13,	/* c->s; reply + 1 fd: a holder id and the liveness segment */

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
 * laid out as lib/index_format.h says.  Offered only to clients whose uid is
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

/* AUTH request: the key a manager (trackerd --manager) was started with.
 * Sent right after HELLO; until it succeeds a manager with a key refuses
 * every other request with -EACCES.  A wrong key (compared in constant time,
 * all SEALSHM_PROTO_KEY_MAX bytes and the length) is answered -EACCES and the
 * connection closed.  A trackerd that is no manager answers -EOPNOTSUPP.
 * Reply: header only. */
#define SEALSHM_PROTO_KEY_MAX 256u
struct sealshm_msg_auth {
	struct sealshm_msg_hdr hdr;
	uint32_t len;		/* key bytes, 0..SEALSHM_PROTO_KEY_MAX */
	uint32_t __pad;
	uint8_t key[SEALSHM_PROTO_KEY_MAX];	/* zero past @len */
};
_Static_assert(sizeof(struct sealshm_msg_auth) == 16 + 8 + 256, "auth size");

/* HOLDER request (header only, after HELLO, and AUTH where a key is
 * wanted).  From then on the connection is this process's *holder*: the id
 * in the reply names it in the lock words of shared objects
 * (lib/liveness_format.h), and lives exactly as long as the connection.
 * trackerd sends nothing more on it and reads from it only to see its end;
 * then it marks the id dead in the liveness segment, bumps its death epoch
 * and wakes every waiter.  A message that comes anyway ends it.  The
 * client keeps the connection for its process's life, closes it in a
 * forked child (which asks for an id of its own) and lets exec close it.
 *
 * The reply carries exactly one fd when status is 0: an O_RDONLY memfd,
 * sealed against writes, growth and shrinking, laid out as
 * lib/liveness_format.h says.  Offered to every client (a lock is shared
 * between uids): it tells only which holder ids live and their pids.
 * -EUSERS when every slot is taken. */
struct sealshm_msg_holder_reply {
	struct sealshm_msg_hdr hdr;
	uint32_t holder;	/* this connection's holder id, never 0 */
	uint32_t __pad;
	uint64_t size;		/* bytes of the liveness segment */
};
_Static_assert(sizeof(struct sealshm_msg_holder_reply) == 32, "holder reply size");

/* SHUTDOWN request (header only), manager only (-EOPNOTSUPP otherwise):
 * every name is unlinked, the reply (header only) sent, and trackerd exits,
 * removing its socket; the connection then ends. */

/* STATS request (header only): trackerd's global figures.  Counts of names
 * and bytes cover every name (not only the caller's); the caller's own
 * use of its quotas is reported apart. */
enum {
	SEALSHM_PROTO_REFUSED_ENOENT,	/* no such name */
	SEALSHM_PROTO_REFUSED_EACCES,	/* mode bits, auth */
	SEALSHM_PROTO_REFUSED_EPERM,	/* not the owner, write-sealed */
	SEALSHM_PROTO_REFUSED_EEXIST,	/* name taken */
	SEALSHM_PROTO_REFUSED_EDQUOT,	/* quotas */
	SEALSHM_PROTO_REFUSED_EINVAL,	/* bad fields, bad fds */
	SEALSHM_PROTO_REFUSED_PROTO,	/* framing and handshake: connection closed */
	SEALSHM_PROTO_REFUSED_OTHER,	/* anything else (-EMFILE, -ENOMEM, -ESTALE, ...) */
	SEALSHM_PROTO_REFUSED_MAX
};
struct sealshm_wire_stats {
	int64_t start_ns;	/* trackerd's start, CLOCK_REALTIME */
	uint64_t uptime_ns;	/* CLOCK_MONOTONIC since start */
	uint64_t names;
	uint64_t bytes;		/* sum of sizes */
	uint64_t resident;	/* sum of resident bytes */
	uint64_t requests;	/* requests answered since start (TRACKs included) */
	uint64_t refused[SEALSHM_PROTO_REFUSED_MAX];	/* by SEALSHM_PROTO_REFUSED_* */
	uint32_t sessions;
	uint32_t clients;	/* connections now, sessions included */
	uint32_t max_names;
	uint32_t max_names_per_uid;
	uint32_t max_clients;
	uint32_t caller_names;	/* names the caller's uid owns */
	uint64_t max_bytes_per_uid;	/* 0: no limit */
	uint64_t caller_bytes;	/* bytes the caller's uid owns */
	uint32_t pid;		/* trackerd's */
	uint32_t flags;		/* SEALSHM_PROTO_STATS_MANAGER */
};
#define SEALSHM_PROTO_STATS_MANAGER (1u << 0)	/* trackerd runs as a manager */
_Static_assert(sizeof(struct sealshm_wire_stats) == 48 + 8 * SEALSHM_PROTO_REFUSED_MAX + 24 + 24,
	       "stats size");

struct sealshm_msg_stats_reply {
	struct sealshm_msg_hdr hdr;
	struct sealshm_wire_stats stats;
};

/* CREATE/ATTACH flags */
#define SEALSHM_PROTO_TRACK	(1u << 0)	/* track the name in the session named by token */
#define SEALSHM_PROTO_RDONLY	(1u << 1)	/* attach: O_RDONLY fd */
/* create: the name lives until the last session tracking it ends, instead
 * of going when the first one ends (CPython's rule, the default). */
#define SEALSHM_PROTO_LIFETIME_LAST (1u << 2)
#define SEALSHM_PROTO_CREATE_FLAGS (SEALSHM_PROTO_TRACK | SEALSHM_PROTO_LIFETIME_LAST)
#define SEALSHM_PROTO_ATTACH_FLAGS (SEALSHM_PROTO_TRACK | SEALSHM_PROTO_RDONLY)

/* CREATE request; carries one or two fds.  The first: a memfd of exactly
 * @size bytes, opened O_RDWR, carrying at least F_SEAL_SHRINK | F_SEAL_GROW.
 * The second, optional: its "read-only twin", an O_RDONLY open of the same
 * memfd (same st_dev and st_ino), which the creator can make (it owns the
 * inode) where a trackerd of another uid may not (the inode's mode is the
 * name's).  trackerd keeps it only when it cannot reopen the memfd
 * read-only itself, and hands it out for read-only attaches.  Anything
 * else as second fd is refused with -EINVAL and nothing is registered. */
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
	/* UNLINK: 0, or the inode number the name's memfd must have: an unlink
	 * through a handle removes the name only while it still names the
	 * handle's segment (-ENOENT otherwise).  Others: 0. */
	uint64_t ino;
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];	/* ATTACH with TRACK; else zero */
	char name[SEALSHM_PROTO_NAME_SIZE];
};
_Static_assert(sizeof(struct sealshm_msg_name) == 16 + 8 + 8 + 16 + 256, "name msg size");

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
	/* Bytes of the memfd's pages that are allocated (fstat st_blocks *
	 * 512, capped at size): trackerd never maps a segment. */
	uint64_t resident;
	/* Attaches trackerd served by round trip, plus fast attaches a
	 * session reported with TRACK (untracked fast attaches are not seen). */
	uint64_t n_attaches;
	int64_t atime_ns;	/* the last of those, CLOCK_REALTIME; 0: never */
};
_Static_assert(sizeof(struct sealshm_wire_info) == 256 + 96, "info size");

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

/* What trackerd accepts: exact request size and the range of fd counts
 * per type. */
struct sealshm_msg_spec {
	uint32_t type;
	uint32_t size;		/* exact size of the request */
	uint32_t nfds_min;	/* fds with the request: at least */
	uint32_t nfds_max;	/* and at most (<= SEALSHM_PROTO_FDS_MAX) */
	const char *name;	/* for logs */
};

static inline const struct sealshm_msg_spec *sealshm_proto_request_spec(uint32_t type)
{
	static const struct sealshm_msg_spec specs[] = {
		{ SEALSHM_MSG_HELLO,  sizeof(struct sealshm_msg_hello),  0, 0, "hello"  },
		{ SEALSHM_MSG_CREATE, sizeof(struct sealshm_msg_create), 1, 2, "create" },
		{ SEALSHM_MSG_ATTACH, sizeof(struct sealshm_msg_name),   0, 0, "attach" },
		{ SEALSHM_MSG_UNLINK, sizeof(struct sealshm_msg_name),   0, 0, "unlink" },
		{ SEALSHM_MSG_STAT,   sizeof(struct sealshm_msg_name),   0, 0, "stat"   },
		{ SEALSHM_MSG_LIST,   sizeof(struct sealshm_msg_list),   0, 0, "list"   },
		{ SEALSHM_MSG_SESSION, sizeof(struct sealshm_msg_hdr),   0, 0, "session" },
		{ SEALSHM_MSG_INDEX,  sizeof(struct sealshm_msg_hdr),    0, 0, "index"  },
		{ SEALSHM_MSG_AUTH,   sizeof(struct sealshm_msg_auth),   0, 0, "auth"   },
		{ SEALSHM_MSG_SHUTDOWN, sizeof(struct sealshm_msg_hdr),  0, 0, "shutdown" },
		{ SEALSHM_MSG_STATS,  sizeof(struct sealshm_msg_hdr),    0, 0, "stats"  },
		{ SEALSHM_MSG_HOLDER, sizeof(struct sealshm_msg_hdr),    0, 0, "holder" },
	};

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (specs[i].type == type)
			return &specs[i];
	return NULL;
}

#endif /* SEALSHM_PROTO_H */

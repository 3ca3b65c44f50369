// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One request in, one reply out. Framing (size, type, fd count, truncation)
 * is checked before any payload field is read; a framing error or a missing
 * HELLO is answered and then ends the connection. Field errors and refusals
 * are answered and the connection stays.
 *
 * Each request type has a row in request_types[], beside the row proto.h
 * has for it (sealshm_proto_request_spec(): size, fds, name): its handler
 * and when it may come.
 *
 * Received fds belong to the message (client.c closes what is left); CREATE
 * takes its fds only once the name is registered.
 *
 * Read-only attaches get an O_RDONLY fd: a reopen of the name's fd through
 * /proc/self/fd, which the kernel checks against the memfd's mode (the
 * name's, set by its creator) with trackerd's uid and no capability.  A
 * trackerd of another uid than the creator (a system instance, --user, a
 * sidecar) is "other" to a 0640 name and may not; so the creator sends
 * with CREATE an O_RDONLY open of its own (the read-only twin, proto.h),
 * and trackerd keeps it for the names it cannot reopen itself.
 *
 * Tracking: SESSION turns a fresh connection into a session (session.c);
 * a tracked CREATE or ATTACH names its session by token and is linked to it
 * in the same request, or refused with nothing done. A process that
 * attached through the published index says so with a one-way TRACK on its
 * session, the only message a session may carry.
 *
 * Holders: HOLDER turns a fresh connection into this process's holder
 * connection (holder.h): the reply carries its holder id and a read-only
 * fd of the liveness segment, and the id lives exactly as long as the
 * connection. Nothing is sent on it afterwards; any message that comes on
 * it ends it, without a reply. The segment goes to every client, whatever
 * its uid: a lock is shared between uids, and the segment says only which
 * ids live and their pids.
 *
 * INDEX hands the published index (index.h) to clients of trackerd's own
 * uid or root: those could take any of trackerd's fds with pidfd_getfd(2)
 * anyway, so the fast path it enables gives nobody more access.
 *
 * A manager (trackerd --manager) started with a key serves a connection
 * only once AUTH has matched it: before that, anything but HELLO and AUTH
 * is refused with -EACCES and the connection closed, with nothing looked
 * up or registered. It serves no INDEX (the fast path would bypass AUTH),
 * and SHUTDOWN unlinks every name and ends it.
 *
 * STATS reports what this layer counts (messages handled, refusals by
 * reason) with the registry's and the sessions' figures, to anyone
 * connected: they are totals, they name nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "clock.h"
#include "holder.h"
#include "index.h"
#include "internal.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "memfd.h"
#include "name.h"
#include "perm.h"
#include "proto.h"
#include "registry.h"
#include "request.h"
#include "session.h"

/* Slots one LIST page looks at, at most. */
#define LIST_SCAN_MAX	4096
/* Slots one STATS request fstat()s for the resident bytes, at most: about
 * a millisecond.  With more names the figure is that of the last complete
 * pass (registry_resident()). */
#define STATS_SCAN_MAX	1024

struct requests {
	struct request_config cfg;
	struct client *shutdown_by;	/* the first SHUTDOWN's client; NULL: none yet */

	/* What STATS reports: when trackerd started (CLOCK_REALTIME, and
	 * CLOCK_MONOTONIC for the uptime), and this layer's work since. */
	int64_t start_ns;
	int64_t start_mono_ns;
	uint64_t n_requests;				/* messages handled, TRACKs too */
	uint64_t refused[SEALSHM_PROTO_REFUSED_MAX];	/* SEALSHM_PROTO_REFUSED_* */

	/* One LIST page, up to SEALSHM_PROTO_MSG_MAX bytes: here, not on the
	 * stack. */
	union {
		struct sealshm_msg_list_reply rep;
		char buf[SEALSHM_PROTO_MSG_MAX];
	} page;
};

/* A connection's state in the request layer, in the bytes the transport
 * keeps for it (client_data()). */
struct request_conn {
	bool greeted;		/* HELLO done */
	bool authed;		/* a manager's AUTH matched */
	bool used;		/* a request marked "uses" in request_types[] came:
				 * the connection can no longer become a session */
	struct session *session;	/* the session it is, if any; session.c
					 * clears this when the session ends */
	uint32_t holder;	/* the holder id it is (holder.h), 0 if none */
};

/* The request being handled: what its handler, its refusals and its reply
 * need. */
struct request {
	struct requests *rs;
	struct client *client;
	struct request_conn *conn;
	const struct client_cred *cred;
	struct client_msg *msg;
	struct sealshm_msg_hdr hdr;	/* echoed in the reply */
	const char *verb;		/* proto.h's name of the type, for log lines */
};

static struct request_conn *conn_of(const struct client *c)
{
	return client_data(c);
}

/* The SEALSHM_PROTO_REFUSED_* bucket of a request refused with @error. */
static unsigned refused_bucket(int error)
{
	switch (error) {
	case -ENOENT:
		return SEALSHM_PROTO_REFUSED_ENOENT;
	case -EACCES:
		return SEALSHM_PROTO_REFUSED_EACCES;
	case -EPERM:
		return SEALSHM_PROTO_REFUSED_EPERM;
	case -EEXIST:
		return SEALSHM_PROTO_REFUSED_EEXIST;
	case -EDQUOT:
		return SEALSHM_PROTO_REFUSED_EDQUOT;
	case -EINVAL:
	case -EBADF:		/* an fd of the wrong kind or access mode */
		return SEALSHM_PROTO_REFUSED_EINVAL;
	default:
		return SEALSHM_PROTO_REFUSED_OTHER;
	}
}

/* The header of @rq's reply, of @size bytes in all. */
static struct sealshm_msg_hdr reply_hdr(const struct request *rq, size_t size)
{
	return (struct sealshm_msg_hdr){
		.type = rq->hdr.type | SEALSHM_MSG_REPLY,
		.size = (uint32_t)size,
		.seq = rq->hdr.seq,
	};
}

/* @rep (@len bytes, its header from reply_hdr()) without an fd. */
static int reply(struct request *rq, const void *rep, size_t len)
{
	return client_send(rq->client, rep, len, -EBADF, false);
}

/* The header alone: status 0, or @error. */
static int reply_status(struct request *rq, int error)
{
	struct sealshm_msg_hdr h = reply_hdr(rq, sizeof(h));

	h.status = error;
	return reply(rq, &h, sizeof(h));
}

/* A framing or handshake violation: answer, then close once it is sent. */
static int refuse_connection(struct request *rq, int error, const char *why)
{
	rq->rs->refused[SEALSHM_PROTO_REFUSED_PROTO]++;
	log_info("refused message from pid %d (uid %u): %s; closing connection",
		 (int)rq->cred->pid, (unsigned)rq->cred->ids.uid, why);
	client_shutdown(rq->client);
	return reply_status(rq, error);
}

/* A request that cannot be granted. @name may be NULL (it was invalid). */
static int refuse(struct request *rq, const char *name, int error, const char *why)
{
	const struct client_cred *cr = rq->cred;
	void (*log_fn)(const char *, ...) = log_info;

	rq->rs->refused[refused_bucket(error)]++;
	/* Looking up a missing name is routine, not an event. */
	if (error == -ENOENT)
		log_fn = log_debug;
	if (name)
		log_fn("refused %s '%s' from pid %d (uid %u): %s", rq->verb, name, (int)cr->pid,
		       (unsigned)cr->ids.uid, why);
	else
		log_fn("refused %s from pid %d (uid %u): %s", rq->verb, (int)cr->pid,
		       (unsigned)cr->ids.uid, why);
	return reply_status(rq, error);
}

/* The file permission rule over @e's owner, group and mode. */
static bool may(const struct client_cred *cr, const struct registry_entry *e, uint32_t want)
{
	return sealshm__may(&cr->ids, e->uid, e->gid, e->mode, want);
}

/* uid 0 and trackerd's own uid: INDEX, a manager's SHUTDOWN. */
static bool is_trackerd_uid(const struct request *rq)
{
	return rq->cred->ids.uid == 0 || rq->cred->ids.uid == rq->rs->cfg.euid;
}

/* Seals now (publishing may add some after registration). F_GET_SEALS
 * reads inode flags, it does not touch the pages. */
static uint32_t seals_now(const struct registry_entry *e)
{
	int s = fcntl(e->fd, F_GET_SEALS);

	return s < 0 ? e->seals : (uint32_t)s;
}

static void info_fill(struct sealshm_wire_info *w, const struct sessions *ss, uint32_t slot,
		      const struct registry_entry *e)
{
	*w = (struct sealshm_wire_info){
		.size = e->size,
		.ino = e->ino,
		.ctime_ns = e->ctime_ns,
		.uid = e->uid,
		.gid = e->gid,
		.mode = e->mode,
		.seals = seals_now(e),
		.creator_pid = e->creator_pid,
		.flags = (e->flags & REGISTRY_LIFETIME_LAST) ? SEALSHM_PROTO_LIFETIME_LAST : 0,
		/* One fstat(), about a microsecond: a LIST page of them
		 * stays well below a millisecond. */
		.resident = registry_entry_resident(e),
		.n_attaches = e->n_attaches,
		.atime_ns = e->atime_ns,
	};
	memcpy(w->name, e->name, strlen(e->name) + 1);
	w->n_sessions = sessions_of_name(ss, slot, w->session_pids, SEALSHM_PROTO_INFO_PIDS);
}

static bool token_is_zero(const uint8_t *token)
{
	uint8_t d = 0;

	for (size_t i = 0; i < SEALSHM_PROTO_TOKEN_SIZE; i++)
		d |= token[i];
	return d == 0;
}

/* The session a CREATE/ATTACH names. Returns 1 and *@ret_s (NULL when
 * untracked), or 0 when refused (and answered), or a negative errno when not
 * even the refusal could be sent. */
static int track_session(struct request *rq, const char *name, uint32_t flags,
			 const uint8_t *token, struct session **ret_s)
{
	struct session *s;

	if (!(flags & SEALSHM_PROTO_TRACK)) {
		if (!token_is_zero(token))
			return refuse(rq, name, -EINVAL, "session token without tracking");
		*ret_s = NULL;
		return 1;
	}
	s = session_find(rq->rs->cfg.sessions, token);
	if (!s)
		/* It ended (or never was): tracking in it cannot be honoured,
		 * and a name must never outlive its session. */
		return refuse(rq, name, -ESTALE, "unknown session");
	/* A family whose one-way TRACKs filled its session's socket (a few
	 * hundred fit in the sender's buffer, and trackerd reads sessions
	 * lazily) falls back to tracked round trips like this one: read them
	 * now, so that its fast attaches flow again.  One recvmsg when
	 * nothing waits. */
	client_drain(session_client(s));
	*ret_s = s;
	return 1;
}

static int handle_hello(struct request *rq)
{
	struct sealshm_msg_hello req;
	struct sealshm_msg_hello_reply rep;
	int r;

	memcpy(&req, rq->msg->data, sizeof(req));
	if (req.magic != SEALSHM_PROTO_MAGIC)
		return refuse_connection(rq, -EPROTO, "bad magic in hello");

	rep = (struct sealshm_msg_hello_reply){
		.hdr = reply_hdr(rq, sizeof(rep)),
		.magic = SEALSHM_PROTO_MAGIC,
		.version = SEALSHM_PROTO_VERSION,
		.server_pid = (uint32_t)getpid(),
		.server_uid = (uint32_t)geteuid(),
	};

	if (req.version != SEALSHM_PROTO_VERSION) {
		/* The full reply, so the client can tell which version we speak. */
		log_info("refused %s from pid %d: protocol version %u, we speak %u; "
			 "closing connection", rq->verb, (int)rq->cred->pid, req.version,
			 SEALSHM_PROTO_VERSION);
		rep.hdr.status = -EPROTO;
		rq->rs->refused[SEALSHM_PROTO_REFUSED_PROTO]++;
		client_shutdown(rq->client);
		return reply(rq, &rep, sizeof(rep));
	}
	if (req.flags != 0 || req.__pad != 0)
		return refuse(rq, NULL, -EINVAL, "unknown flags");

	r = reply(rq, &rep, sizeof(rep));
	if (r < 0)
		return r;
	rq->conn->greeted = true;
	return 0;
}

/* @req's key is the manager's, compared in constant time: every one of the
 * SEALSHM_PROTO_KEY_MAX bytes and the lengths, differences accumulated,
 * no early exit, so how long it takes says nothing about how much of a
 * guess was right. Both keys are zero past their length. */
static bool key_matches(const struct request_config *cfg, const struct sealshm_msg_auth *req)
{
	static const uint8_t none[SEALSHM_PROTO_KEY_MAX];
	const uint8_t *key = cfg->key ? cfg->key : none;
	uint32_t d = req->len ^ cfg->key_len;

	for (size_t i = 0; i < SEALSHM_PROTO_KEY_MAX; i++)
		d |= (uint32_t)(req->key[i] ^ key[i]);
	return d == 0;
}

static int handle_auth(struct request *rq)
{
	const struct client_cred *cr = rq->cred;
	struct sealshm_msg_auth req;
	uint8_t tail = 0;
	bool ok;

	memcpy(&req, rq->msg->data, sizeof(req));
	if (!rq->rs->cfg.manager) {
		explicit_bzero(req.key, sizeof(req.key));
		return refuse(rq, NULL, -EOPNOTSUPP, "not a manager");
	}
	/* The client's own length: checking its padding may take as long as
	 * it likes. */
	if (req.len <= SEALSHM_PROTO_KEY_MAX)
		for (size_t i = req.len; i < SEALSHM_PROTO_KEY_MAX; i++)
			tail |= req.key[i];
	if (req.len > SEALSHM_PROTO_KEY_MAX || req.__pad != 0 || tail != 0) {
		explicit_bzero(req.key, sizeof(req.key));
		return refuse_connection(rq, -EINVAL, "malformed auth");
	}
	ok = key_matches(&rq->rs->cfg, &req);
	explicit_bzero(req.key, sizeof(req.key));
	if (!ok) {
		/* Worth a warning even from a quiet manager: someone who
		 * reached its socket does not have the key. */
		log_warn("refused %s from pid %d (uid %u): wrong key; closing connection",
			 rq->verb, (int)cr->pid, (unsigned)cr->ids.uid);
		client_shutdown(rq->client);
		return reply_status(rq, -EACCES);
	}
	rq->conn->authed = true;
	log_debug("authenticated pid %d (uid %u)", (int)cr->pid, (unsigned)cr->ids.uid);
	return reply_status(rq, 0);
}

/* SHUTDOWN: every name goes now, and the socket file, so that a connect
 * from now on gets ENOENT, never ECONNREFUSED (a client cannot tell the
 * latter from a manager that is not up yet). The loop ends when this
 * connection closes: right after the reply has left (client_shutdown()),
 * or when the client goes away first; request_closed() sees to it. */
static int handle_shutdown(struct request *rq)
{
	struct requests *rs = rq->rs;
	struct registry *reg = rs->cfg.registry;
	size_t n = 0;

	if (!rs->cfg.manager)
		return refuse(rq, NULL, -EOPNOTSUPP, "not a manager");
	if (!is_trackerd_uid(rq))
		return refuse(rq, NULL, -EPERM, "not trackerd's uid");

	/* Sessions forget each name first: the slot is reused otherwise. */
	for (uint32_t slot = 0, end = registry_slots(reg); slot < end; slot++) {
		if (!registry_get(reg, slot))
			continue;
		sessions_forget_name(rs->cfg.sessions, slot);
		registry_remove(reg, slot);
		n++;
	}
	listener_unlink(rs->cfg.listener);
	log_info("shutdown by pid %d (uid %u): %zu names unlinked", (int)rq->cred->pid,
		 (unsigned)rq->cred->ids.uid, n);

	/* A second SHUTDOWN (another client, before we are gone) is answered
	 * the same; the first one's connection decides when we exit. */
	if (!rs->shutdown_by) {
		rs->shutdown_by = rq->client;
		client_shutdown(rq->client);
	}
	return reply_status(rq, 0);
}

/* CREATE's second fd must be the read-only twin of the first (whose fstat
 * is @sb): open O_RDONLY (not O_PATH, which no mmap takes) on the same
 * inode.  0, or -EINVAL and *@ret_reason. */
static int twin_check(int twin, const struct stat *sb, const char **ret_reason)
{
	struct stat tb;
	int fl = fcntl(twin, F_GETFL);

	if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY || (fl & O_PATH)) {
		*ret_reason = "second fd is not open read-only";
		return -EINVAL;
	}
	if (fstat(twin, &tb) < 0 || tb.st_dev != sb->st_dev || tb.st_ino != sb->st_ino) {
		*ret_reason = "second fd is another file than the memfd";
		return -EINVAL;
	}
	return 0;
}

/* A CREATE on its way: the request, and what its steps found out. */
struct create {
	struct sealshm_msg_create req;
	struct session *session;	/* to track the name in; NULL: untracked */
	uint32_t seals;			/* the memfd's */
	struct stat sb;			/* the memfd's */
	int twin;			/* the read-only twin the name keeps; -EBADF: none */
};

/* The fields, the fds left for names, and the session. Returns 1 to go on,
 * else as refuse(). */
static int create_check(struct request *rq, struct create *cr)
{
	const struct sealshm_msg_create *req = &cr->req;
	int r;

	if (sealshm__name_check_wire(req->name) < 0)
		return refuse(rq, NULL, -EINVAL, "invalid name");
	if (req->flags & ~SEALSHM_PROTO_CREATE_FLAGS)
		return refuse(rq, req->name, -EINVAL, "unknown flags");
	if (req->mode > 0777)
		return refuse(rq, req->name, -EINVAL, "mode above 0777");
	if (req->size == 0)
		return refuse(rq, req->name, -EINVAL, "size 0");
	/* Each name holds one of trackerd's fds, or two (a read-only twin).
	 * Keep the reserve for clients (limits.h), or at the fd limit nobody
	 * could even connect to unlink a name. (The ones received with this
	 * message are already counted in the reserve; they are closed again
	 * when refused.) Room for the twin is checked once we know whether
	 * it stays. */
	if (registry_fds(rq->rs->cfg.registry) >= rq->rs->cfg.max_name_fds)
		return refuse(rq, req->name, -EMFILE,
			      "no fd left for another name (RLIMIT_NOFILE)");
	r = track_session(rq, req->name, req->flags, req->token, &cr->session);
	if (r <= 0)
		return r;
	/* Checked now, so that linking after the registration cannot meet it. */
	if (cr->session && session_may_link(cr->session) < 0)
		return refuse(rq, req->name, -EDQUOT, "session tracks too many names");
	return 1;
}

/* The fds that came with it: a sealed memfd of the size asked for, open
 * read-write, and maybe its read-only twin, which the name keeps only when
 * trackerd may not reopen the memfd read-only itself. Returns 1 to go on,
 * else as refuse(). */
static int create_fds(struct request *rq, struct create *cr)
{
	const struct sealshm_msg_create *req = &cr->req;
	const struct client_msg *m = rq->msg;
	int fd = m->fds[0], twin = m->nfds > 1 ? m->fds[1] : -EBADF;
	const char *reason;
	int r, fl;

	r = sealshm__segment_check(fd, req->size, &cr->seals, &reason);
	if (r < 0)
		return refuse(rq, req->name, r, reason);

	/* An O_RDONLY fd would make every read-write attach fail later. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDWR)
		return refuse(rq, req->name, -EBADF, "fd is not open read-write");
	if (fstat(fd, &cr->sb) < 0)
		return refuse(rq, req->name, -errno, "cannot fstat the fd");
	if (twin < 0)
		return 1;

	r = twin_check(twin, &cr->sb, &reason);
	if (r < 0)
		return refuse(rq, req->name, r, reason);
	/* Tried once, now: when we may reopen the memfd read-only ourselves,
	 * read-only attaches reopen it as before and the twin goes with the
	 * message (one fd per name). */
	r = sealshm__memfd_reopen(fd, O_RDONLY);
	if (r >= 0) {
		safe_close(r);
		return 1;
	}
	if (registry_fds(rq->rs->cfg.registry) + 2 > rq->rs->cfg.max_name_fds)
		return refuse(rq, req->name, -EMFILE,
			      "no fd left for another name and its read-only twin "
			      "(RLIMIT_NOFILE)");
	cr->twin = twin;
	return 1;
}

/* Register the name, taking its fds from the message, and track it in its
 * session. Returns 1 to go on, else as refuse(). */
static int create_register(struct request *rq, struct create *cr)
{
	const struct sealshm_msg_create *req = &cr->req;
	const struct client_cred *id = rq->cred;
	struct registry *reg = rq->rs->cfg.registry;
	struct registry_entry e = {
		.size = req->size,
		.ino = cr->sb.st_ino,
		.ctime_ns = sealshm__now_ns(CLOCK_REALTIME),
		.uid = id->ids.uid,
		.gid = id->ids.gid,
		.mode = req->mode,
		.seals = cr->seals,
		.creator_pid = (uint32_t)id->pid,
		.flags = ((req->flags & SEALSHM_PROTO_TRACK) ? REGISTRY_TRACK : 0) |
			 ((req->flags & SEALSHM_PROTO_LIFETIME_LAST) ? REGISTRY_LIFETIME_LAST : 0),
		.fd = rq->msg->fds[0],
		.ro_fd = cr->twin,
	};
	int slot, r;

	slot = registry_add(reg, req->name, &e);
	if (slot < 0)
		return refuse(rq, req->name, slot,
			      slot == -EEXIST ? "name taken" :
			      slot == -EDQUOT ? "over this uid's quota of names or bytes" :
			      slot == -ENOSPC ? "registry full" : strerror(-slot));
	/* The registry owns the fd now, and the twin when it kept it. */
	rq->msg->fds[0] = -EBADF;
	if (cr->twin >= 0)
		rq->msg->fds[1] = -EBADF;

	if (cr->session) {
		/* Tracked in the same request: no crash window. Only -ENOMEM
		 * is left (create_check() checked the quota); then the name
		 * goes again, fd and all, and nothing is left. */
		r = session_link(rq->rs->cfg.sessions, cr->session, (uint32_t)slot);
		if (r < 0) {
			registry_remove(reg, (uint32_t)slot);
			return refuse(rq, req->name, r, strerror(-r));
		}
		log_info("registered '%s' (%llu bytes, uid %u, mode %04o) by pid %d, "
			 "tracked by session %llu%s", req->name, (unsigned long long)req->size,
			 (unsigned)id->ids.uid, req->mode, (int)id->pid,
			 (unsigned long long)session_id(cr->session),
			 (req->flags & SEALSHM_PROTO_LIFETIME_LAST) ? " (lifetime last)" : "");
	} else {
		log_info("registered '%s' (%llu bytes, uid %u, mode %04o) by pid %d", req->name,
			 (unsigned long long)req->size, (unsigned)id->ids.uid, req->mode,
			 (int)id->pid);
	}
	if (cr->twin >= 0)
		log_debug("'%s': read-only twin kept (trackerd may not reopen it)", req->name);
	return 1;
}

static int handle_create(struct request *rq)
{
	struct create cr = { .twin = -EBADF };
	int r;

	memcpy(&cr.req, rq->msg->data, sizeof(cr.req));
	r = create_check(rq, &cr);
	if (r > 0)
		r = create_fds(rq, &cr);
	if (r > 0)
		r = create_register(rq, &cr);
	if (r <= 0)
		return r;
	return reply_status(rq, 0);
}

/* Decode an ATTACH/UNLINK/STAT request, find its session (ATTACH with
 * SEALSHM_PROTO_TRACK; *@ret_s is NULL otherwise) and its name. Returns 1
 * and *@ret_slot, 0 when it was refused (and answered), or a negative errno
 * when not even the refusal could be sent. */
static int name_request(struct request *rq, uint32_t allowed_flags, struct sealshm_msg_name *req,
			struct session **ret_s, uint32_t *ret_slot)
{
	int slot, r;

	memcpy(req, rq->msg->data, sizeof(*req));
	if (sealshm__name_check_wire(req->name) < 0)
		return refuse(rq, NULL, -EINVAL, "invalid name");
	if ((req->flags & ~allowed_flags) || req->__pad != 0)
		return refuse(rq, req->name, -EINVAL, "unknown flags");
	if (req->ino != 0 && rq->hdr.type != SEALSHM_MSG_UNLINK)
		return refuse(rq, req->name, -EINVAL, "an inode number where none belongs");
	/* Before the name: a stale session learns nothing about names. */
	r = track_session(rq, req->name, req->flags, req->token, ret_s);
	if (r <= 0)
		return r;

	slot = registry_lookup(rq->rs->cfg.registry, req->name);
	if (slot < 0)
		return refuse(rq, req->name, slot, "no such name");
	*ret_slot = (uint32_t)slot;
	return 1;
}

/* Track the attached name in @s (none: untracked). Returns 1 to go on, else
 * as refuse(). */
static int attach_track(struct request *rq, struct session *s, const char *name, uint32_t slot)
{
	int r;

	if (!s)
		return 1;
	r = session_link(rq->rs->cfg.sessions, s, slot);
	if (r < 0)
		return refuse(rq, name, r,
			      r == -EDQUOT ? "session tracks too many names" : strerror(-r));
	if (r > 0)
		log_debug("'%s' tracked by session %llu of pid %d", name,
			  (unsigned long long)session_id(s), (int)session_pid(s));
	return 1;
}

/* The O_RDONLY fd a read-only attach of @e gets, into *@ret_fd: -EBADF for
 * the name's read-only twin, else a new open file description. Returns 1
 * to go on, else as refuse(). */
static int attach_rdonly_fd(struct request *rq, const struct registry_entry *e, int *ret_fd)
{
	char why[128];
	int fd;

	/* An O_RDONLY open file description: the client cannot mmap it
	 * writable, and F_SETFL cannot change its access mode. The creator's
	 * twin, when trackerd kept one, is one (shared by every read-only
	 * attacher, as trackerd's own fd is by the read-write ones). Else a
	 * new one: the kernel checks the inode mode (the name's mode, set by
	 * the creator) for us as it would for anyone. */
	if (e->ro_fd >= 0) {
		*ret_fd = -EBADF;
		return 1;
	}
	fd = sealshm__memfd_reopen(e->fd, O_RDONLY);
	if (fd == -EACCES || fd == -EPERM) {
		(void)snprintf(why, sizeof(why), "trackerd (uid %u) may not open it "
			       "read-only, and its creator sent no read-only twin",
			       (unsigned)geteuid());
		return refuse(rq, e->name, -EACCES, why);
	}
	if (fd < 0) {
		rq->rs->refused[SEALSHM_PROTO_REFUSED_OTHER]++;
		log_warn("Failed to reopen '%s' read-only for pid %d (uid %u): %s", e->name,
			 (int)rq->cred->pid, (unsigned)rq->cred->ids.uid, strerror(-fd));
		return reply_status(rq, fd);
	}
	*ret_fd = fd;
	return 1;
}

static int handle_attach(struct request *rq)
{
	const struct client_cred *cr = rq->cred;
	const struct registry_entry *e;
	struct sealshm_msg_name req;
	struct sealshm_msg_attach_reply rep;
	_cleanup_close_ int fd = -EBADF;
	struct session *s;
	uint32_t slot, seals;
	bool rdonly;
	int r;

	r = name_request(rq, SEALSHM_PROTO_ATTACH_FLAGS, &req, &s, &slot);
	if (r <= 0)
		return r;
	e = registry_get(rq->rs->cfg.registry, slot);
	rdonly = req.flags & SEALSHM_PROTO_RDONLY;

	if (!may(cr, e, rdonly ? SEALSHM__MAY_READ : SEALSHM__MAY_READ | SEALSHM__MAY_WRITE))
		return refuse(rq, req.name, -EACCES, "permission denied");
	/* Published (sealshm_seal()): the client's writable mmap() would fail
	 * with EPERM anyway; refuse before anything is tracked. The fast path
	 * (lib/fastpath.c) falls back to us for this answer. */
	seals = seals_now(e);
	if (!rdonly && seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return refuse(rq, req.name, -EPERM, "write-sealed");
	if (rdonly) {
		r = attach_rdonly_fd(rq, e, &fd);
		if (r <= 0)
			return r;
	}

	rep = (struct sealshm_msg_attach_reply){
		.hdr = reply_hdr(rq, sizeof(rep)),
		.size = e->size,
		.ino = e->ino,
		.seals = seals,
		.mode = e->mode,
	};
	/* Tracked only once nothing can fail but the send. */
	r = attach_track(rq, s, req.name, slot);
	if (r <= 0)
		return r;
	if (fd >= 0)
		r = client_send(rq->client, &rep, sizeof(rep), TAKE_FD(fd), true);
	else
		r = client_send(rq->client, &rep, sizeof(rep), rdonly ? e->ro_fd : e->fd, false);
	if (r < 0)
		return r;
	registry_note_attach(rq->rs->cfg.registry, slot, sealshm__now_ns(CLOCK_REALTIME));
	log_debug("attached '%s'%s by pid %d (uid %u)", req.name, rdonly ? " read-only" : "",
		  (int)cr->pid, (unsigned)cr->ids.uid);
	return 0;
}

static int handle_unlink(struct request *rq)
{
	struct registry *reg = rq->rs->cfg.registry;
	const struct registry_entry *e;
	struct sealshm_msg_name req;
	struct session *s;
	uint32_t slot;
	int r;

	r = name_request(rq, 0, &req, &s, &slot);
	if (r <= 0)
		return r;
	e = registry_get(reg, slot);

	if (rq->cred->ids.uid != 0 && rq->cred->ids.uid != e->uid)
		return refuse(rq, req.name, -EPERM, "not the owner");
	/* Through a handle: only the segment that handle maps.  The name may
	 * have been unlinked and made again since (by anyone, or after a
	 * restart): the newer segment is not the handle's to remove. */
	if (req.ino != 0 && req.ino != e->ino)
		return refuse(rq, req.name, -ENOENT, "the name now names another segment");

	/* Out of every session too: no warning when they end, and a later
	 * name of the same spelling is not theirs. */
	sessions_forget_name(rq->rs->cfg.sessions, slot);
	registry_remove(reg, slot);
	log_info("unlinked '%s' by pid %d", req.name, (int)rq->cred->pid);
	return reply_status(rq, 0);
}

static int handle_stat(struct request *rq)
{
	const struct registry_entry *e;
	struct sealshm_msg_name req;
	struct sealshm_msg_stat_reply rep;
	struct session *s;
	uint32_t slot;
	int r;

	r = name_request(rq, 0, &req, &s, &slot);
	if (r <= 0)
		return r;
	/* Pending TRACKs count before we say who tracks the name (they link
	 * only: the slot stays valid). */
	clients_drain(client_clients(rq->client));
	e = registry_get(rq->rs->cfg.registry, slot);

	if (!may(rq->cred, e, SEALSHM__MAY_READ))
		return refuse(rq, req.name, -EACCES, "permission denied");

	rep.hdr = reply_hdr(rq, sizeof(rep));
	info_fill(&rep.info, rq->rs->cfg.sessions, slot, e);
	return reply(rq, &rep, sizeof(rep));
}

static int handle_list(struct request *rq)
{
	struct sealshm_msg_list_reply *rep = &rq->rs->page.rep;
	struct registry *reg = rq->rs->cfg.registry;
	struct sealshm_msg_list req;
	uint32_t count = 0, end = registry_slots(reg);
	uint64_t i, stop;
	size_t size;

	memcpy(&req, rq->msg->data, sizeof(req));
	/* After the copy: draining reads into the shared receive buffer. */
	clients_drain(client_clients(rq->client));

	/* A cursor is a slot index (0 = start); one past the end reads as
	 * the end, whatever it is. A page looks at LIST_SCAN_MAX slots at
	 * most: in a registry of a million slots mostly free, or mostly not
	 * the caller's, one request must not walk them all. A short (even
	 * empty) page with a cursor further on is what the client then
	 * gets. */
	stop = req.cursor < end && end - req.cursor > LIST_SCAN_MAX ? req.cursor + LIST_SCAN_MAX :
								      end;
	for (i = req.cursor; i < stop && count < SEALSHM_PROTO_LIST_PAGE; i++) {
		const struct registry_entry *e = registry_get(reg, (uint32_t)i);

		if (e && may(rq->cred, e, SEALSHM__MAY_READ))
			info_fill(&rep->entries[count++], rq->rs->cfg.sessions, (uint32_t)i, e);
	}

	size = sizeof(*rep) + count * sizeof(rep->entries[0]);
	rep->hdr = reply_hdr(rq, size);
	/* i > cursor whenever i < end: a page stops only after taking an
	 * entry or scanning LIST_SCAN_MAX slots, so the cursor moves on. */
	rep->next_cursor = i < end ? i : 0;
	rep->count = count;
	rep->__pad = 0;
	return reply(rq, rep, size);
}

static int handle_session(struct request *rq)
{
	struct sealshm_msg_session_reply rep;
	struct session *s;
	int r;

	/* A session is a connection of its own: requests on it would be
	 * answered on a connection the whole family shares, and it must be
	 * told apart from one that only happens to be idle. */
	if (rq->conn->used)
		return refuse_connection(rq, -EPROTO, "session on a connection used for requests");

	r = session_open(rq->rs->cfg.sessions, rq->client, &rq->conn->session);
	if (r < 0)
		return refuse(rq, NULL, r, strerror(-r));
	s = rq->conn->session;
	/* Nothing but one-way TRACKs comes on it from now on: read only when
	 * their effect is about to be seen, and at its end. */
	client_set_passive(rq->client);

	rep.hdr = reply_hdr(rq, sizeof(rep));
	rep.id = session_id(s);
	memcpy(rep.token, session_token(s), sizeof(rep.token));
	/* The last thing sent on it. A failure closes the connection, which
	 * ends the session (it tracks nothing yet). */
	return reply(rq, &rep, sizeof(rep));
}

static int handle_holder(struct request *rq)
{
	const struct request_config *cfg = &rq->rs->cfg;
	struct sealshm_msg_holder_reply rep;
	uint32_t id;
	int fd, r;

	/* A connection of its own, as a session is: it must end when the
	 * process does, and never carry replies to other requests. */
	if (rq->conn->used)
		return refuse_connection(rq, -EPROTO, "holder on a connection used for requests");
	if (!cfg->holders)
		return refuse(rq, NULL, -EOPNOTSUPP, "no liveness segment");

	/* A new open file description, O_RDONLY, for each client, as INDEX
	 * gives the index: the seals refuse a writable mapping anyway. */
	fd = sealshm__memfd_reopen(holders_fd(cfg->holders), O_RDONLY);
	if (fd < 0) {
		rq->rs->refused[SEALSHM_PROTO_REFUSED_OTHER]++;
		log_warn("Failed to reopen the liveness segment read-only: %s", strerror(-fd));
		return reply_status(rq, fd);
	}
	r = holder_open(cfg->holders, rq->cred->pid, &id);
	if (r < 0) {
		safe_close(fd);
		return refuse(rq, NULL, r, r == -EUSERS ? "no holder slot left (--max-holders)" :
							  strerror(-r));
	}
	rq->conn->holder = id;
	log_debug("holder %u (slot %u) given to pid %d (uid %u)", id,
		  id & SEALSHM_HOLDER_SLOT_MASK, (int)rq->cred->pid, (unsigned)rq->cred->ids.uid);

	rep = (struct sealshm_msg_holder_reply){
		.hdr = reply_hdr(rq, sizeof(rep)),
		.holder = id,
		.size = holders_size(cfg->holders),
	};
	/* The last thing sent on it. A failure closes the connection, which
	 * ends the id (request_closed()). */
	return client_send(rq->client, &rep, sizeof(rep), fd, true);
}

static int handle_index(struct request *rq)
{
	const struct request_config *cfg = &rq->rs->cfg;
	struct sealshm_msg_index_reply rep;
	int fd;

	/* A manager's names are reached through AUTH only: the fast path
	 * would go around it. */
	if (cfg->manager)
		return refuse(rq, NULL, -EOPNOTSUPP, "a manager has no index");
	/* The index only says where to look; what makes it worth having is
	 * pidfd_getfd(2) on trackerd, which the kernel grants to the same
	 * uid (ptrace access) or root. Others could not use it, and must
	 * not learn every name, owner and mode from it. */
	if (!is_trackerd_uid(rq))
		return refuse(rq, NULL, -EPERM, "not trackerd's uid");
	if (!cfg->index)
		return refuse(rq, NULL, -EOPNOTSUPP, "no index published");

	/* A new open file description, O_RDONLY, for each client: nothing a
	 * client does with its fd (F_SETFL, offsets) reaches another's. The
	 * seals refuse a writable mapping on any fd anyway. */
	fd = sealshm__memfd_reopen(index_fd(cfg->index), O_RDONLY);
	if (fd < 0) {
		rq->rs->refused[SEALSHM_PROTO_REFUSED_OTHER]++;
		log_warn("Failed to reopen the index read-only: %s", strerror(-fd));
		return reply_status(rq, fd);
	}
	rep.hdr = reply_hdr(rq, sizeof(rep));
	rep.size = index_size(cfg->index);
	log_debug("index sent to pid %d (uid %u)", (int)rq->cred->pid,
		  (unsigned)rq->cred->ids.uid);
	return client_send(rq->client, &rep, sizeof(rep), fd, true);
}

static int handle_stats(struct request *rq)
{
	struct requests *rs = rq->rs;
	struct registry *reg = rs->cfg.registry;
	struct clients *cs = client_clients(rq->client);
	struct sealshm_msg_stats_reply rep;
	struct sealshm_wire_stats *w = &rep.stats;
	int64_t mono = sealshm__now_ns(CLOCK_MONOTONIC);

	/* Pending TRACKs are requests too, and sessions may have ended.
	 * (Draining reads into the shared receive buffer: rq->hdr is a copy.) */
	clients_drain(cs);

	rep.hdr = reply_hdr(rq, sizeof(rep));
	*w = (struct sealshm_wire_stats){
		.start_ns = rs->start_ns,
		.uptime_ns = mono > rs->start_mono_ns ? (uint64_t)(mono - rs->start_mono_ns) : 0,
		.names = registry_count(reg),
		.bytes = registry_bytes(reg),
		.resident = registry_resident(reg, STATS_SCAN_MAX),
		.requests = rs->n_requests,
		.sessions = (uint32_t)sessions_count(rs->cfg.sessions),
		.clients = (uint32_t)clients_count(cs),
		.max_names = registry_capacity(reg),
		.max_names_per_uid = registry_max_per_uid(reg),
		.max_clients = (uint32_t)clients_max(cs),
		.max_bytes_per_uid = registry_max_bytes_per_uid(reg),
		.pid = (uint32_t)getpid(),
		/* A manager says so: sealshm_manager_start(3). */
		.flags = rs->cfg.manager ? SEALSHM_PROTO_STATS_MANAGER : 0,
	};
	_Static_assert(sizeof(w->refused) == sizeof(rs->refused), "refusal buckets");
	memcpy(w->refused, rs->refused, sizeof(w->refused));
	registry_uid_use(reg, rq->cred->ids.uid, &w->caller_names, &w->caller_bytes);
	log_debug("stats sent to pid %d (uid %u)", (int)rq->cred->pid,
		  (unsigned)rq->cred->ids.uid);
	return reply(rq, &rep, sizeof(rep));
}

/* How each request type is handled, beside proto.h's row for it
 * (sealshm_proto_request_spec(): its size, fds and name); indexed by type.
 * TRACK has a row in neither: it is no request (session_message()). */
static const struct request_type {
	int (*handle)(struct request *rq);
	bool before_hello;	/* may come before HELLO */
	bool before_auth;	/* may come before a keyed manager's AUTH */
	bool uses;		/* marks the connection used: no session after it */
} request_types[] = {
	[SEALSHM_MSG_HELLO]	= { .handle = handle_hello, .before_hello = true,
				    .before_auth = true },
	/* Not a use: an authenticated connection may still become a
	 * session. */
	[SEALSHM_MSG_AUTH]	= { .handle = handle_auth, .before_auth = true },
	[SEALSHM_MSG_SESSION]	= { .handle = handle_session },
	[SEALSHM_MSG_HOLDER]	= { .handle = handle_holder },
	[SEALSHM_MSG_CREATE]	= { .handle = handle_create, .uses = true },
	[SEALSHM_MSG_ATTACH]	= { .handle = handle_attach, .uses = true },
	[SEALSHM_MSG_UNLINK]	= { .handle = handle_unlink, .uses = true },
	[SEALSHM_MSG_STAT]	= { .handle = handle_stat, .uses = true },
	[SEALSHM_MSG_LIST]	= { .handle = handle_list, .uses = true },
	[SEALSHM_MSG_INDEX]	= { .handle = handle_index, .uses = true },
	[SEALSHM_MSG_SHUTDOWN]	= { .handle = handle_shutdown, .uses = true },
	[SEALSHM_MSG_STATS]	= { .handle = handle_stats, .uses = true },
};

static const struct request_type *find_type(uint32_t type)
{
	if (type >= ELEMENTSOF(request_types) || !request_types[type].handle)
		return NULL;
	return &request_types[type];
}

/* TRACK on session @s: the session's process attached a name through the
 * index and wants it tracked. One-way: nothing is ever sent back on a
 * session. A malformed TRACK ends the session like any other message (a
 * peer that frames badly cannot be trusted with the rest); a TRACK whose
 * name is gone (unlinked, the slot reused: generation or inode differ) is
 * ignored, the normal outcome of a race with UNLINK. */
static int handle_track(struct requests *rs, struct client *c, struct session *s,
			const struct client_msg *m)
{
	const struct client_cred *cr = client_cred(c);
	const struct registry_entry *e;
	struct sealshm_msg_track t;
	int r;

	memcpy(&t, m->data, sizeof(t));
	if (m->error || m->nfds != 0 || m->len != sizeof(t) || t.hdr.size != sizeof(t) ||
	    t.hdr.status != 0) {
		rs->refused[SEALSHM_PROTO_REFUSED_PROTO]++;
		log_info("malformed track on session %llu of pid %d; ending it",
			 (unsigned long long)session_id(s), (int)session_pid(s));
		return -EPROTO;
	}

	/* registry_get() bounds-checks the slot. */
	e = registry_get(rs->cfg.registry, t.slot);
	if (!e || e->generation != t.generation || e->ino != t.ino) {
		log_debug("ignored track of slot %u (generation %u) on session %llu of pid %d: "
			  "name gone", t.slot, t.generation, (unsigned long long)session_id(s),
			  (int)session_pid(s));
		return 0;
	}
	/* Only what an ATTACH by the session's owner would have granted: a
	 * session of another uid must not keep a name of lifetime "last"
	 * alive. (The index goes to trackerd's uid and root only; this
	 * guards against a TRACK made up by anyone else.) */
	if (!may(cr, e, SEALSHM__MAY_READ)) {
		rs->refused[SEALSHM_PROTO_REFUSED_EACCES]++;
		log_info("refused track '%s' on session %llu of pid %d (uid %u): permission denied",
			 e->name, (unsigned long long)session_id(s), (int)session_pid(s),
			 (unsigned)cr->ids.uid);
		return 0;
	}
	r = session_link(rs->cfg.sessions, s, t.slot);
	if (r < 0) {
		rs->refused[refused_bucket(r)]++;
		log_info("refused track '%s' on session %llu of pid %d: %s", e->name,
			 (unsigned long long)session_id(s), (int)session_pid(s),
			 r == -EDQUOT ? "session tracks too many names" : strerror(-r));
		return 0;
	}
	/* A fast attach, counted as one: the library sends one TRACK per
	 * name and session (lib/session.c), so r == 0 is another process
	 * of the family that attached it too. */
	registry_note_attach(rs->cfg.registry, t.slot, sealshm__now_ns(CLOCK_REALTIME));
	if (r > 0)
		log_debug("'%s' tracked by session %llu of pid %d (fast attach)", e->name,
			  (unsigned long long)session_id(s), (int)session_pid(s));
	return 0;
}

/* Nothing but TRACK may come on a session: anything else ends it (closing
 * the connection ends it, in request_closed()), and no reply goes out on a
 * connection that a whole process family holds. */
static int session_message(struct requests *rs, struct client *c, struct session *s,
			   const struct client_msg *m, uint32_t type)
{
	if (type == SEALSHM_MSG_TRACK)
		return handle_track(rs, c, s, m);
	rs->refused[SEALSHM_PROTO_REFUSED_PROTO]++;
	log_info("message on session %llu of pid %d; ending it",
		 (unsigned long long)session_id(s), (int)session_pid(s));
	return -EPROTO;
}

/* The framing: size, fd count and status as proto.h's row for the type
 * says. Returns 1 to go on, else as refuse_connection(). */
static int check_framing(struct request *rq, const struct sealshm_msg_spec *spec)
{
	const struct client_msg *m = rq->msg;
	char why[128];

	if (rq->hdr.size != m->len || m->len != spec->size) {
		(void)snprintf(why, sizeof(why), "%s of %zu bytes (header says %u, must be %u)",
			       spec->name, m->len, rq->hdr.size, spec->size);
		return refuse_connection(rq, -EBADMSG, why);
	}
	if (m->nfds < spec->nfds_min || m->nfds > spec->nfds_max) {
		if (spec->nfds_min == spec->nfds_max)
			(void)snprintf(why, sizeof(why), "%s with %zu fds (must be %u)",
				       spec->name, m->nfds, spec->nfds_min);
		else
			(void)snprintf(why, sizeof(why), "%s with %zu fds (must be %u to %u)",
				       spec->name, m->nfds, spec->nfds_min, spec->nfds_max);
		return refuse_connection(rq, -ECHRNG, why);
	}
	if (rq->hdr.status != 0)
		return refuse_connection(rq, -EBADMSG, "request with a status");
	return 1;
}

/* Whether the connection's state lets a request of type @t through now.
 * Returns 1 to go on, else as refuse_connection(). */
static int check_state(struct request *rq, const struct request_type *t)
{
	const struct request_config *cfg = &rq->rs->cfg;
	char why[128];

	if (!rq->conn->greeted && !t->before_hello) {
		(void)snprintf(why, sizeof(why), "%s before hello", rq->verb);
		return refuse_connection(rq, -EPROTO, why);
	}
	/* A keyed manager serves nobody who has not shown the key: refused
	 * before anything is looked up or registered (a CREATE's fd is
	 * closed with the message). */
	if (cfg->manager && cfg->key_len > 0 && !rq->conn->authed && !t->before_auth) {
		(void)snprintf(why, sizeof(why), "%s before auth", rq->verb);
		return refuse_connection(rq, -EACCES, why);
	}
	return 1;
}

static int request_handle(struct client *c, struct client_msg *m, void *userdata)
{
	struct request rq = {
		.rs = userdata,
		.client = c,
		.conn = conn_of(c),
		.cred = client_cred(c),
		.msg = m,
	};
	const struct sealshm_msg_spec *spec;
	const struct request_type *t;
	char why[128];
	int r;

	/* The buffer is zeroed past what arrived: even a short or cut message
	 * has a header to echo in the reply. */
	memcpy(&rq.hdr, m->data, sizeof(rq.hdr));
	rq.rs->n_requests++;

	if (rq.conn->session)
		return session_message(rq.rs, c, rq.conn->session, m, rq.hdr.type);
	if (rq.conn->holder) {
		/* Nothing may come on a holder connection: a peer that sends
		 * anyway is not the library, and its id ends with it. */
		rq.rs->refused[SEALSHM_PROTO_REFUSED_PROTO]++;
		log_info("message on the connection of holder %u of pid %d; ending it",
			 rq.conn->holder, (int)rq.cred->pid);
		return -EPROTO;
	}

	if (m->error == -EXFULL)
		return refuse_connection(&rq, -EXFULL, "message too large");
	if (m->error == -ECHRNG)
		return refuse_connection(&rq, -ECHRNG, "too many fds or control data cut");
	if (m->len < sizeof(rq.hdr))
		return refuse_connection(&rq, -EBADMSG, "message shorter than a header");
	/* TRACK is a session's; on a request connection it would be a
	 * message nobody answers, and the client waiting forever. */
	if (rq.hdr.type == SEALSHM_MSG_TRACK)
		return refuse_connection(&rq, -EPROTO, "track on a connection that is no session");

	spec = sealshm_proto_request_spec(rq.hdr.type);
	if (!spec) {
		(void)snprintf(why, sizeof(why), "unknown message type %u", rq.hdr.type);
		return refuse_connection(&rq, -EBADMSG, why);
	}
	t = find_type(rq.hdr.type);
	if (!t) {
		/* proto.h's table and ours disagree (requests_new() checks). */
		assert(false);
		return refuse_connection(&rq, -EBADMSG, "unhandled message type");
	}
	rq.verb = spec->name;

	r = check_framing(&rq, spec);
	if (r > 0)
		r = check_state(&rq, t);
	if (r <= 0)
		return r;
	if (t->uses)
		rq.conn->used = true;
	return t->handle(&rq);
}

static void request_closed(struct client *c, void *userdata)
{
	struct requests *rs = userdata;
	struct request_conn *conn = conn_of(c);
	struct session *s = conn->session;

	/* SHUTDOWN's reply has left (or its client has gone): exit now. */
	if (c == rs->shutdown_by) {
		rs->shutdown_by = NULL;
		loop_exit(rs->cfg.loop, EXIT_SUCCESS);
	}

	/* Other sessions' pending TRACKs first: a name of lifetime "last"
	 * lives on if one of them tracks it.  (This session's own were read
	 * before its end of stream.) */
	if (s) {
		clients_drain(client_clients(c));
		session_end(rs->cfg.sessions, s);
	}

	/* Its process ended (or closed it, or exec'd): the id dies, and every
	 * process waiting on one of its objects is woken. */
	if (conn->holder) {
		log_debug("holder %u of pid %d ended", conn->holder, (int)client_cred(c)->pid);
		holder_end(rs->cfg.holders, conn->holder);
		conn->holder = 0;
	}
}

const struct client_ops request_client_ops = {
	.data_size = sizeof(struct request_conn),
	.handle = request_handle,
	.closed = request_closed,
};

int requests_new(const struct request_config *cfg, struct requests **ret)
{
	struct requests *rs;

	/* Every type proto.h lets through has a row here, and no other:
	 * request types are below SEALSHM_MSG_REPLY. */
	for (uint32_t type = 0; type < SEALSHM_MSG_REPLY; type++)
		assert(!sealshm_proto_request_spec(type) == !find_type(type));

	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->cfg = *cfg;
	rs->start_ns = sealshm__now_ns(CLOCK_REALTIME);
	rs->start_mono_ns = sealshm__now_ns(CLOCK_MONOTONIC);
	*ret = rs;
	return 0;
}

struct requests *requests_free(struct requests *rs)
{
	free(rs);
	return NULL;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One request in, one reply out. Framing (size, type, fd count, truncation)
 * is checked before any payload field is read; a framing error or a missing
 * HELLO is answered and then ends the connection. Field errors and refusals
 * are answered and the connection stays.
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
#include <time.h>

#include "clock.h"
#include "index.h"
#include "internal.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "memfd.h"
#include "perm.h"
#include "registry.h"
#include "request.h"
#include "session.h"

/* Slots one LIST page looks at, at most. */
#define LIST_SCAN_MAX	4096
/* Slots one STATS request fstat()s for the resident bytes, at most: about
 * a millisecond.  With more names the figure is that of the last complete
 * pass (registry_resident()). */
#define STATS_SCAN_MAX	1024

/* What STATS reports of the request layer's own work since start. One
 * trackerd, one tally: kept here, not in request_state, so that every
 * refusal path counts without being handed the state. */
static struct {
	uint64_t requests;				/* messages handled, TRACKs too */
	uint64_t refused[SEALSHM_PROTO_REFUSED_MAX];	/* SEALSHM_PROTO_REFUSED_* */
} counters;

/* A connection's state in the request layer, in the bytes the transport
 * keeps for it (client_data()). */
struct request_conn {
	bool greeted;		/* HELLO done */
	bool authed;		/* a manager's AUTH matched */
	bool used;		/* a request other than HELLO, AUTH and SESSION came:
				 * the connection can no longer become a session */
	struct session *session;	/* the session it is, if any; session.c
					 * clears this when the session ends */
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

static int reply_error(struct client *c, const struct sealshm_msg_hdr *req, int error)
{
	struct sealshm_msg_hdr h = {
		.type = req->type | SEALSHM_MSG_REPLY,
		.size = sizeof(h),
		.seq = req->seq,
		.status = error,
	};

	return client_send(c, &h, sizeof(h), -EBADF, false);
}

/* A framing or handshake violation: answer, then close once it is sent. */
static int refuse_connection(struct client *c, const struct sealshm_msg_hdr *req, int error,
			     const char *why)
{
	const struct client_cred *cr = client_cred(c);

	counters.refused[SEALSHM_PROTO_REFUSED_PROTO]++;
	log_info("refused message from pid %d (uid %u): %s; closing connection", (int)cr->pid,
		 (unsigned)cr->ids.uid, why);
	client_shutdown(c);
	return reply_error(c, req, error);
}

/* A request that cannot be granted. @name may be NULL (it was invalid). */
static int refuse(struct client *c, const struct sealshm_msg_hdr *req, const char *verb,
		  const char *name, int error, const char *why)
{
	const struct client_cred *cr = client_cred(c);
	void (*log_fn)(const char *, ...) = log_info;

	counters.refused[refused_bucket(error)]++;
	/* Looking up a missing name is routine, not an event. */
	if (error == -ENOENT)
		log_fn = log_debug;
	if (name)
		log_fn("refused %s '%s' from pid %d (uid %u): %s", verb, name, (int)cr->pid,
		       (unsigned)cr->ids.uid, why);
	else
		log_fn("refused %s from pid %d (uid %u): %s", verb, (int)cr->pid,
		       (unsigned)cr->ids.uid, why);
	return reply_error(c, req, error);
}

/* The file permission rule over @e's owner, group and mode. */
static bool may(const struct client_cred *cr, const struct registry_entry *e, uint32_t want)
{
	return sealshm__may(&cr->ids, e->uid, e->gid, e->mode, want);
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
static int track_session(struct client *c, const struct sealshm_msg_hdr *req, const char *verb,
			 const char *name, uint32_t flags, const uint8_t *token,
			 const struct sessions *ss, struct session **ret_s)
{
	struct session *s;

	if (!(flags & SEALSHM_PROTO_TRACK)) {
		if (!token_is_zero(token))
			return refuse(c, req, verb, name, -EINVAL, "session token without tracking");
		*ret_s = NULL;
		return 1;
	}
	s = session_find(ss, token);
	if (!s)
		/* It ended (or never was): tracking in it cannot be honoured,
		 * and a name must never outlive its session. */
		return refuse(c, req, verb, name, -ESTALE, "unknown session");
	/* A family whose one-way TRACKs filled its session's socket (a few
	 * hundred fit in the sender's buffer, and trackerd reads sessions
	 * lazily) falls back to tracked round trips like this one: read them
	 * now, so that its fast attaches flow again.  One recvmsg when
	 * nothing waits. */
	client_drain(session_client(s));
	*ret_s = s;
	return 1;
}

static int handle_hello(struct client *c, const struct client_msg *m)
{
	struct sealshm_msg_hello req;
	struct sealshm_msg_hello_reply rep;
	int r;

	memcpy(&req, m->data, sizeof(req));
	if (req.magic != SEALSHM_PROTO_MAGIC)
		return refuse_connection(c, &req.hdr, -EPROTO, "bad magic in hello");

	rep = (struct sealshm_msg_hello_reply){
		.hdr = {
			.type = SEALSHM_MSG_HELLO | SEALSHM_MSG_REPLY,
			.size = sizeof(rep),
			.seq = req.hdr.seq,
		},
		.magic = SEALSHM_PROTO_MAGIC,
		.version = SEALSHM_PROTO_VERSION,
		.server_pid = (uint32_t)getpid(),
		.server_uid = (uint32_t)geteuid(),
	};

	if (req.version != SEALSHM_PROTO_VERSION) {
		/* The full reply, so the client can tell which version we speak. */
		log_info("refused hello from pid %d: protocol version %u, we speak %u; "
			 "closing connection", (int)client_cred(c)->pid, req.version,
			 SEALSHM_PROTO_VERSION);
		rep.hdr.status = -EPROTO;
		counters.refused[SEALSHM_PROTO_REFUSED_PROTO]++;
		client_shutdown(c);
		return client_send(c, &rep, sizeof(rep), -EBADF, false);
	}
	if (req.flags != 0 || req.__pad != 0)
		return refuse(c, &req.hdr, "hello", NULL, -EINVAL, "unknown flags");

	r = client_send(c, &rep, sizeof(rep), -EBADF, false);
	if (r < 0)
		return r;
	conn_of(c)->greeted = true;
	return 0;
}

/* @req's key is the manager's, compared in constant time: every one of the
 * SEALSHM_PROTO_KEY_MAX bytes and the lengths, differences accumulated,
 * no early exit, so how long it takes says nothing about how much of a
 * guess was right. Both keys are zero past their length. */
static bool key_matches(const struct request_state *st, const struct sealshm_msg_auth *req)
{
	static const uint8_t none[SEALSHM_PROTO_KEY_MAX];
	const uint8_t *key = st->key ? st->key : none;
	uint32_t d = req->len ^ st->key_len;

	for (size_t i = 0; i < SEALSHM_PROTO_KEY_MAX; i++)
		d |= (uint32_t)(req->key[i] ^ key[i]);
	return d == 0;
}

static int handle_auth(struct client *c, const struct client_msg *m,
		       const struct request_state *st)
{
	const struct client_cred *cr = client_cred(c);
	struct sealshm_msg_auth req;
	struct sealshm_msg_hdr rep;
	uint8_t tail = 0;
	bool ok;

	memcpy(&req, m->data, sizeof(req));
	if (!st->manager) {
		explicit_bzero(req.key, sizeof(req.key));
		return refuse(c, &req.hdr, "auth", NULL, -EOPNOTSUPP, "not a manager");
	}
	/* The client's own length: checking its padding may take as long as
	 * it likes. */
	if (req.len <= SEALSHM_PROTO_KEY_MAX)
		for (size_t i = req.len; i < SEALSHM_PROTO_KEY_MAX; i++)
			tail |= req.key[i];
	if (req.len > SEALSHM_PROTO_KEY_MAX || req.__pad != 0 || tail != 0) {
		explicit_bzero(req.key, sizeof(req.key));
		return refuse_connection(c, &req.hdr, -EINVAL, "malformed auth");
	}
	ok = key_matches(st, &req);
	explicit_bzero(req.key, sizeof(req.key));
	if (!ok) {
		/* Worth a warning even from a quiet manager: someone who
		 * reached its socket does not have the key. */
		log_warn("refused auth from pid %d (uid %u): wrong key; closing connection",
			 (int)cr->pid, (unsigned)cr->ids.uid);
		client_shutdown(c);
		return reply_error(c, &req.hdr, -EACCES);
	}
	conn_of(c)->authed = true;
	log_debug("authenticated pid %d (uid %u)", (int)cr->pid, (unsigned)cr->ids.uid);

	rep = (struct sealshm_msg_hdr){
		.type = req.hdr.type | SEALSHM_MSG_REPLY,
		.size = sizeof(rep),
		.seq = req.hdr.seq,
	};
	return client_send(c, &rep, sizeof(rep), -EBADF, false);
}

/* SHUTDOWN: every name goes now, and the socket file, so that a connect
 * from now on gets ENOENT, never ECONNREFUSED (a client cannot tell the
 * latter from a manager that is not up yet). The loop ends when this
 * connection closes: right after the reply has left (client_shutdown()),
 * or when the client goes away first; request_closed() sees to it. */
static int handle_shutdown(struct client *c, const struct client_msg *m,
			   struct request_state *st)
{
	const struct client_cred *cr = client_cred(c);
	struct registry *reg = st->registry;
	struct sealshm_msg_hdr req, rep;
	size_t n = 0;

	memcpy(&req, m->data, sizeof(req));
	if (!st->manager)
		return refuse(c, &req, "shutdown", NULL, -EOPNOTSUPP, "not a manager");
	if (cr->ids.uid != 0 && cr->ids.uid != st->euid)
		return refuse(c, &req, "shutdown", NULL, -EPERM, "not trackerd's uid");

	/* Sessions forget each name first: the slot is reused otherwise. */
	for (uint32_t slot = 0, end = registry_slots(reg); slot < end; slot++) {
		if (!registry_get(reg, slot))
			continue;
		sessions_forget_name(st->sessions, slot);
		registry_remove(reg, slot);
		n++;
	}
	listener_unlink(st->listener);
	log_info("shutdown by pid %d (uid %u): %zu names unlinked", (int)cr->pid,
		 (unsigned)cr->ids.uid, n);

	/* A second SHUTDOWN (another client, before we are gone) is answered
	 * the same; the first one's connection decides when we exit. */
	if (!st->shutdown_by) {
		st->shutdown_by = c;
		client_shutdown(c);
	}
	rep = (struct sealshm_msg_hdr){
		.type = req.type | SEALSHM_MSG_REPLY,
		.size = sizeof(rep),
		.seq = req.seq,
	};
	return client_send(c, &rep, sizeof(rep), -EBADF, false);
}

static int handle_create(struct client *c, struct client_msg *m, const struct request_state *st)
{
	struct registry *reg = st->registry;
	const struct client_cred *cr = client_cred(c);
	struct session *s;
	struct sealshm_msg_create req;
	struct sealshm_msg_hdr rep;
	struct registry_entry e;
	const char *reason;
	struct stat sb;
	uint32_t seals;
	int fd = m->fds[0], twin = m->nfds > 1 ? m->fds[1] : -EBADF;
	int r, slot, fl;

	memcpy(&req, m->data, sizeof(req));
	if (sealshm__name_check_wire(req.name) < 0)
		return refuse(c, &req.hdr, "create", NULL, -EINVAL, "invalid name");
	if (req.flags & ~SEALSHM_PROTO_CREATE_FLAGS)
		return refuse(c, &req.hdr, "create", req.name, -EINVAL, "unknown flags");
	if (req.mode > 0777)
		return refuse(c, &req.hdr, "create", req.name, -EINVAL, "mode above 0777");
	if (req.size == 0)
		return refuse(c, &req.hdr, "create", req.name, -EINVAL, "size 0");
	/* Each name holds one of trackerd's fds, or two (a read-only twin).
	 * Keep the reserve for clients (limits.h), or at the fd limit nobody
	 * could even connect to unlink a name. (The ones received with this
	 * message are already counted in the reserve; they are closed again
	 * when refused.) Room for the twin is checked once we know whether
	 * it stays. */
	if (registry_fds(reg) >= st->max_name_fds)
		return refuse(c, &req.hdr, "create", req.name, -EMFILE,
			      "no fd left for another name (RLIMIT_NOFILE)");
	r = track_session(c, &req.hdr, "create", req.name, req.flags, req.token, st->sessions, &s);
	if (r <= 0)
		return r;
	/* Checked now, so that linking after the registration cannot meet it. */
	if (s && session_may_link(s) < 0)
		return refuse(c, &req.hdr, "create", req.name, -EDQUOT,
			      "session tracks too many names");

	r = sealshm__segment_check(fd, req.size, &seals, &reason);
	if (r < 0)
		return refuse(c, &req.hdr, "create", req.name, r, reason);

	/* An O_RDONLY fd would make every read-write attach fail later. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDWR)
		return refuse(c, &req.hdr, "create", req.name, -EBADF,
			      "fd is not open read-write");
	if (fstat(fd, &sb) < 0)
		return refuse(c, &req.hdr, "create", req.name, -errno, "cannot fstat the fd");
	if (twin >= 0) {
		r = twin_check(twin, &sb, &reason);
		if (r < 0)
			return refuse(c, &req.hdr, "create", req.name, r, reason);
		/* Tried once, now: when we may reopen the memfd read-only
		 * ourselves, read-only attaches reopen it as before and the
		 * twin goes with the message (one fd per name). */
		r = sealshm__memfd_reopen(fd, O_RDONLY);
		if (r >= 0) {
			safe_close(r);
			twin = -EBADF;
		} else if (registry_fds(reg) + 2 > st->max_name_fds) {
			return refuse(c, &req.hdr, "create", req.name, -EMFILE,
				      "no fd left for another name and its read-only twin "
				      "(RLIMIT_NOFILE)");
		}
	}
	e = (struct registry_entry){
		.size = req.size,
		.ino = sb.st_ino,
		.ctime_ns = sealshm__now_ns(CLOCK_REALTIME),
		.uid = cr->ids.uid,
		.gid = cr->ids.gid,
		.mode = req.mode,
		.seals = seals,
		.creator_pid = (uint32_t)cr->pid,
		.flags = ((req.flags & SEALSHM_PROTO_TRACK) ? REGISTRY_TRACK : 0) |
			 ((req.flags & SEALSHM_PROTO_LIFETIME_LAST) ? REGISTRY_LIFETIME_LAST : 0),
		.fd = fd,
		.ro_fd = twin,
	};
	slot = registry_add(reg, req.name, &e);
	if (slot < 0)
		return refuse(c, &req.hdr, "create", req.name, slot,
			      slot == -EEXIST ? "name taken" :
			      slot == -EDQUOT ? "over this uid's quota of names or bytes" :
			      slot == -ENOSPC ? "registry full" : strerror(-slot));
	/* The registry owns the fd now, and the twin when it kept it. */
	m->fds[0] = -EBADF;
	if (twin >= 0)
		m->fds[1] = -EBADF;

	if (s) {
		/* Tracked in the same request: no crash window. Only -ENOMEM
		 * is left (track_session() checked the quota); then the name
		 * goes again, fd and all, and nothing is left. */
		r = session_link(st->sessions, s, (uint32_t)slot);
		if (r < 0) {
			registry_remove(reg, (uint32_t)slot);
			return refuse(c, &req.hdr, "create", req.name, r, strerror(-r));
		}
		log_info("registered '%s' (%llu bytes, uid %u, mode %04o) by pid %d, "
			 "tracked by session %llu%s", req.name, (unsigned long long)req.size,
			 (unsigned)cr->ids.uid, req.mode, (int)cr->pid,
			 (unsigned long long)session_id(s),
			 (req.flags & SEALSHM_PROTO_LIFETIME_LAST) ? " (lifetime last)" : "");
	} else {
		log_info("registered '%s' (%llu bytes, uid %u, mode %04o) by pid %d", req.name,
			 (unsigned long long)req.size, (unsigned)cr->ids.uid, req.mode, (int)cr->pid);
	}
	if (twin >= 0)
		log_debug("'%s': read-only twin kept (trackerd may not reopen it)", req.name);

	rep = (struct sealshm_msg_hdr){
		.type = req.hdr.type | SEALSHM_MSG_REPLY,
		.size = sizeof(rep),
		.seq = req.hdr.seq,
	};
	return client_send(c, &rep, sizeof(rep), -EBADF, false);
}

/* Decode an ATTACH/UNLINK/STAT request, find its session (ATTACH with
 * SEALSHM_PROTO_TRACK; *@ret_s is NULL otherwise) and its name. Returns 1
 * and *@ret_slot, 0 when it was refused (and answered), or a negative errno
 * when not even the refusal could be sent. */
static int name_request(struct client *c, const struct client_msg *m,
			const struct request_state *st, const char *verb, uint32_t allowed_flags,
			struct sealshm_msg_name *req, struct session **ret_s, uint32_t *ret_slot)
{
	struct registry *reg = st->registry;
	int slot, r;

	memcpy(req, m->data, sizeof(*req));
	if (sealshm__name_check_wire(req->name) < 0)
		return refuse(c, &req->hdr, verb, NULL, -EINVAL, "invalid name");
	if ((req->flags & ~allowed_flags) || req->__pad != 0)
		return refuse(c, &req->hdr, verb, req->name, -EINVAL, "unknown flags");
	/* Before the name: a stale session learns nothing about names. */
	r = track_session(c, &req->hdr, verb, req->name, req->flags, req->token, st->sessions,
			  ret_s);
	if (r <= 0)
		return r;

	slot = registry_lookup(reg, req->name);
	if (slot < 0)
		return refuse(c, &req->hdr, verb, req->name, slot, "no such name");
	*ret_slot = (uint32_t)slot;
	return 1;
}

/* Track the attached name in @s (none: untracked). Returns 1 to go on, else
 * as refuse(). */
static int attach_track(struct client *c, const struct request_state *st, struct session *s,
			const struct sealshm_msg_name *req, uint32_t slot)
{
	int r;

	if (!s)
		return 1;
	r = session_link(st->sessions, s, slot);
	if (r < 0)
		return refuse(c, &req->hdr, "attach", req->name, r,
			      r == -EDQUOT ? "session tracks too many names" : strerror(-r));
	if (r > 0)
		log_debug("'%s' tracked by session %llu of pid %d", req->name,
			  (unsigned long long)session_id(s), (int)session_pid(s));
	return 1;
}

static int handle_attach(struct client *c, const struct client_msg *m,
			 const struct request_state *st)
{
	const struct client_cred *cr = client_cred(c);
	const struct registry_entry *e;
	struct sealshm_msg_name req;
	struct sealshm_msg_attach_reply rep;
	_cleanup_close_ int fd = -EBADF;
	struct session *s;
	uint32_t slot, seals;
	char why[128];
	bool rdonly;
	int r;

	r = name_request(c, m, st, "attach", SEALSHM_PROTO_ATTACH_FLAGS, &req, &s, &slot);
	if (r <= 0)
		return r;
	e = registry_get(st->registry, slot);
	rdonly = req.flags & SEALSHM_PROTO_RDONLY;

	if (!may(cr, e, rdonly ? SEALSHM__MAY_READ : SEALSHM__MAY_READ | SEALSHM__MAY_WRITE))
		return refuse(c, &req.hdr, "attach", req.name, -EACCES, "permission denied");
	/* Published (sealshm_seal()): the client's writable mmap() would fail
	 * with EPERM anyway; refuse before anything is tracked. The fast path
	 * (lib/fastpath.c) falls back to us for this answer. */
	seals = seals_now(e);
	if (!rdonly && seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return refuse(c, &req.hdr, "attach", req.name, -EPERM, "write-sealed");

	rep = (struct sealshm_msg_attach_reply){
		.hdr = {
			.type = req.hdr.type | SEALSHM_MSG_REPLY,
			.size = sizeof(rep),
			.seq = req.hdr.seq,
		},
		.size = e->size,
		.ino = e->ino,
		.seals = seals,
		.mode = e->mode,
	};

	if (!rdonly) {
		r = attach_track(c, st, s, &req, slot);
		if (r <= 0)
			return r;
		r = client_send(c, &rep, sizeof(rep), e->fd, false);
		if (r < 0)
			return r;
		registry_note_attach(st->registry, slot, sealshm__now_ns(CLOCK_REALTIME));
		log_debug("attached '%s' by pid %d (uid %u)", req.name, (int)cr->pid,
			  (unsigned)cr->ids.uid);
		return 0;
	}

	/* An O_RDONLY open file description: the client cannot mmap it
	 * writable, and F_SETFL cannot change its access mode. The creator's
	 * twin, when trackerd kept one, is one (shared by every read-only
	 * attacher, as trackerd's own fd is by the read-write ones). Else a
	 * new one: the kernel checks the inode mode (the name's mode, set by
	 * the creator) for us as it would for anyone. */
	if (e->ro_fd < 0) {
		fd = sealshm__memfd_reopen(e->fd, O_RDONLY);
		if (fd == -EACCES || fd == -EPERM) {
			(void)snprintf(why, sizeof(why), "trackerd (uid %u) may not open it "
				       "read-only, and its creator sent no read-only twin",
				       (unsigned)geteuid());
			return refuse(c, &req.hdr, "attach", req.name, -EACCES, why);
		}
		if (fd < 0) {
			counters.refused[SEALSHM_PROTO_REFUSED_OTHER]++;
			log_warn("Failed to reopen '%s' read-only for pid %d (uid %u): %s",
				 req.name, (int)cr->pid, (unsigned)cr->ids.uid, strerror(-fd));
			return reply_error(c, &req.hdr, fd);
		}
	}
	/* Tracked only once nothing can fail but the send. */
	r = attach_track(c, st, s, &req, slot);
	if (r <= 0)
		return r;
	if (fd >= 0)
		r = client_send(c, &rep, sizeof(rep), TAKE_FD(fd), true);
	else
		r = client_send(c, &rep, sizeof(rep), e->ro_fd, false);
	if (r < 0)
		return r;
	registry_note_attach(st->registry, slot, sealshm__now_ns(CLOCK_REALTIME));
	log_debug("attached '%s' read-only by pid %d (uid %u)", req.name, (int)cr->pid,
		  (unsigned)cr->ids.uid);
	return 0;
}

static int handle_unlink(struct client *c, const struct client_msg *m,
			 const struct request_state *st)
{
	const struct client_cred *cr = client_cred(c);
	const struct registry_entry *e;
	struct sealshm_msg_name req;
	struct sealshm_msg_hdr rep;
	struct session *s;
	uint32_t slot;
	int r;

	r = name_request(c, m, st, "unlink", 0, &req, &s, &slot);
	if (r <= 0)
		return r;
	e = registry_get(st->registry, slot);

	if (cr->ids.uid != 0 && cr->ids.uid != e->uid)
		return refuse(c, &req.hdr, "unlink", req.name, -EPERM, "not the owner");

	/* Out of every session too: no warning when they end, and a later
	 * name of the same spelling is not theirs. */
	sessions_forget_name(st->sessions, slot);
	registry_remove(st->registry, slot);
	log_info("unlinked '%s' by pid %d", req.name, (int)cr->pid);

	rep = (struct sealshm_msg_hdr){
		.type = req.hdr.type | SEALSHM_MSG_REPLY,
		.size = sizeof(rep),
		.seq = req.hdr.seq,
	};
	return client_send(c, &rep, sizeof(rep), -EBADF, false);
}

static int handle_stat(struct client *c, const struct client_msg *m,
		       const struct request_state *st)
{
	const struct registry_entry *e;
	struct sealshm_msg_name req;
	struct sealshm_msg_stat_reply rep;
	struct session *s;
	uint32_t slot;
	int r;

	r = name_request(c, m, st, "stat", 0, &req, &s, &slot);
	if (r <= 0)
		return r;
	/* Pending TRACKs count before we say who tracks the name (they link
	 * only: the slot stays valid). */
	clients_drain(st->clients);
	e = registry_get(st->registry, slot);

	if (!may(client_cred(c), e, SEALSHM__MAY_READ))
		return refuse(c, &req.hdr, "stat", req.name, -EACCES, "permission denied");

	rep.hdr = (struct sealshm_msg_hdr){
		.type = req.hdr.type | SEALSHM_MSG_REPLY,
		.size = sizeof(rep),
		.seq = req.hdr.seq,
	};
	info_fill(&rep.info, st->sessions, slot, e);
	return client_send(c, &rep, sizeof(rep), -EBADF, false);
}

static int handle_list(struct client *c, const struct client_msg *m,
		       const struct request_state *st)
{
	/* One page, up to SEALSHM_PROTO_MSG_MAX bytes: static, not on the stack. */
	static union {
		struct sealshm_msg_list_reply rep;
		char buf[SEALSHM_PROTO_MSG_MAX];
	} page;
	const struct client_cred *cr = client_cred(c);
	struct registry *reg = st->registry;
	struct sealshm_msg_list req;
	uint32_t count = 0, end = registry_slots(reg);
	uint64_t i, stop;
	size_t size;

	memcpy(&req, m->data, sizeof(req));
	/* After the copy: draining reads into the shared receive buffer. */
	clients_drain(st->clients);

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

		if (e && may(cr, e, SEALSHM__MAY_READ))
			info_fill(&page.rep.entries[count++], st->sessions, (uint32_t)i, e);
	}

	size = sizeof(page.rep) + count * sizeof(page.rep.entries[0]);
	page.rep.hdr = (struct sealshm_msg_hdr){
		.type = req.hdr.type | SEALSHM_MSG_REPLY,
		.size = (uint32_t)size,
		.seq = req.hdr.seq,
	};
	/* i > cursor whenever i < end: a page stops only after taking an
	 * entry or scanning LIST_SCAN_MAX slots, so the cursor moves on. */
	page.rep.next_cursor = i < end ? i : 0;
	page.rep.count = count;
	page.rep.__pad = 0;
	return client_send(c, &page, size, -EBADF, false);
}

static int handle_session(struct client *c, const struct client_msg *m,
			  const struct request_state *st)
{
	struct sealshm_msg_session_reply rep;
	struct session *s;
	int r;

	memcpy(&rep.hdr, m->data, sizeof(rep.hdr));
	/* A session is a connection of its own: requests on it would be
	 * answered on a connection the whole family shares, and it must be
	 * told apart from one that only happens to be idle. */
	if (conn_of(c)->used)
		return refuse_connection(c, &rep.hdr, -EPROTO,
					 "session on a connection used for requests");

	r = session_open(st->sessions, c, &conn_of(c)->session);
	if (r < 0)
		return refuse(c, &rep.hdr, "session", NULL, r, strerror(-r));
	s = conn_of(c)->session;
	/* Nothing but one-way TRACKs comes on it from now on: read only when
	 * their effect is about to be seen, and at its end. */
	client_set_passive(c);

	rep.hdr = (struct sealshm_msg_hdr){
		.type = rep.hdr.type | SEALSHM_MSG_REPLY,
		.size = sizeof(rep),
		.seq = rep.hdr.seq,
	};
	rep.id = session_id(s);
	memcpy(rep.token, session_token(s), sizeof(rep.token));
	/* The last thing sent on it. A failure closes the connection, which
	 * ends the session (it tracks nothing yet). */
	return client_send(c, &rep, sizeof(rep), -EBADF, false);
}

static int handle_index(struct client *c, const struct client_msg *m,
			const struct request_state *st)
{
	const struct client_cred *cr = client_cred(c);
	struct sealshm_msg_index_reply rep;
	int fd;

	memcpy(&rep.hdr, m->data, sizeof(rep.hdr));
	/* A manager's names are reached through AUTH only: the fast path
	 * would go around it. */
	if (st->manager)
		return refuse(c, &rep.hdr, "index", NULL, -EOPNOTSUPP, "a manager has no index");
	/* The index only says where to look; what makes it worth having is
	 * pidfd_getfd(2) on trackerd, which the kernel grants to the same
	 * uid (ptrace access) or root. Others could not use it, and must
	 * not learn every name, owner and mode from it. */
	if (cr->ids.uid != 0 && cr->ids.uid != st->euid)
		return refuse(c, &rep.hdr, "index", NULL, -EPERM, "not trackerd's uid");
	if (!st->index)
		return refuse(c, &rep.hdr, "index", NULL, -EOPNOTSUPP, "no index published");

	/* A new open file description, O_RDONLY, for each client: nothing a
	 * client does with its fd (F_SETFL, offsets) reaches another's. The
	 * seals refuse a writable mapping on any fd anyway. */
	fd = sealshm__memfd_reopen(index_fd(st->index), O_RDONLY);
	if (fd < 0) {
		counters.refused[SEALSHM_PROTO_REFUSED_OTHER]++;
		log_warn("Failed to reopen the index read-only: %s", strerror(-fd));
		return reply_error(c, &rep.hdr, fd);
	}
	rep.hdr = (struct sealshm_msg_hdr){
		.type = rep.hdr.type | SEALSHM_MSG_REPLY,
		.size = sizeof(rep),
		.seq = rep.hdr.seq,
	};
	rep.size = index_size(st->index);
	log_debug("index sent to pid %d (uid %u)", (int)cr->pid, (unsigned)cr->ids.uid);
	return client_send(c, &rep, sizeof(rep), fd, true);
}

/* TRACK on session @s: the session's process attached a name through the
 * index and wants it tracked. One-way: nothing is ever sent back on a
 * session. A malformed TRACK ends the session like any other message (a
 * peer that frames badly cannot be trusted with the rest); a TRACK whose
 * name is gone (unlinked, the slot reused: generation or inode differ) is
 * ignored, the normal outcome of a race with UNLINK. */
static int handle_track(struct client *c, struct session *s, const struct client_msg *m,
			const struct request_state *st)
{
	const struct client_cred *cr = client_cred(c);
	const struct registry_entry *e;
	struct sealshm_msg_track t;
	int r;

	if (m->error || m->nfds != 0 || m->len != sizeof(t)) {
		counters.refused[SEALSHM_PROTO_REFUSED_PROTO]++;
		log_info("malformed track on session %llu of pid %d; ending it",
			 (unsigned long long)session_id(s), (int)session_pid(s));
		return -EPROTO;
	}
	memcpy(&t, m->data, sizeof(t));
	if (t.hdr.size != sizeof(t) || t.hdr.status != 0) {
		counters.refused[SEALSHM_PROTO_REFUSED_PROTO]++;
		log_info("malformed track on session %llu of pid %d; ending it",
			 (unsigned long long)session_id(s), (int)session_pid(s));
		return -EPROTO;
	}

	/* registry_get() bounds-checks the slot. */
	e = registry_get(st->registry, t.slot);
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
		counters.refused[SEALSHM_PROTO_REFUSED_EACCES]++;
		log_info("refused track '%s' on session %llu of pid %d (uid %u): permission denied",
			 e->name, (unsigned long long)session_id(s), (int)session_pid(s),
			 (unsigned)cr->ids.uid);
		return 0;
	}
	r = session_link(st->sessions, s, t.slot);
	if (r < 0) {
		counters.refused[refused_bucket(r)]++;
		log_info("refused track '%s' on session %llu of pid %d: %s", e->name,
			 (unsigned long long)session_id(s), (int)session_pid(s),
			 r == -EDQUOT ? "session tracks too many names" : strerror(-r));
		return 0;
	}
	/* A fast attach, counted as one: the library sends one TRACK per
	 * name and session (lib/session.c), so r == 0 is another process
	 * of the family that attached it too. */
	registry_note_attach(st->registry, t.slot, sealshm__now_ns(CLOCK_REALTIME));
	if (r > 0)
		log_debug("'%s' tracked by session %llu of pid %d (fast attach)", e->name,
			  (unsigned long long)session_id(s), (int)session_pid(s));
	return 0;
}

static int handle_stats(struct client *c, const struct client_msg *m,
			const struct request_state *st)
{
	const struct client_cred *cr = client_cred(c);
	struct sealshm_msg_stats_reply rep;
	struct sealshm_wire_stats *w = &rep.stats;
	int64_t mono = sealshm__now_ns(CLOCK_MONOTONIC);

	memcpy(&rep.hdr, m->data, sizeof(rep.hdr));
	/* After the copy: draining reads into the shared receive buffer.
	 * Pending TRACKs are requests too, and sessions may have ended. */
	clients_drain(st->clients);

	rep.hdr = (struct sealshm_msg_hdr){
		.type = rep.hdr.type | SEALSHM_MSG_REPLY,
		.size = sizeof(rep),
		.seq = rep.hdr.seq,
	};
	*w = (struct sealshm_wire_stats){
		.start_ns = st->start_ns,
		.uptime_ns = mono > 0 && (uint64_t)mono > st->start_mono_ns ?
			     (uint64_t)mono - st->start_mono_ns : 0,
		.names = registry_count(st->registry),
		.bytes = registry_bytes(st->registry),
		.resident = registry_resident(st->registry, STATS_SCAN_MAX),
		.requests = counters.requests,
		.sessions = (uint32_t)sessions_count(st->sessions),
		.clients = (uint32_t)clients_count(st->clients),
		.max_names = st->max_names,
		.max_names_per_uid = st->max_names_per_uid,
		.max_clients = st->max_clients,
		.max_bytes_per_uid = st->max_bytes_per_uid,
		.pid = (uint32_t)getpid(),
		/* A manager says so: sealshm_manager_start(3). */
		.flags = st->manager ? SEALSHM_PROTO_STATS_MANAGER : 0,
	};
	_Static_assert(sizeof(w->refused) == sizeof(counters.refused), "refusal buckets");
	memcpy(w->refused, counters.refused, sizeof(w->refused));
	registry_uid_use(st->registry, cr->ids.uid, &w->caller_names, &w->caller_bytes);
	log_debug("stats sent to pid %d (uid %u)", (int)cr->pid, (unsigned)cr->ids.uid);
	return client_send(c, &rep, sizeof(rep), -EBADF, false);
}

static void request_closed(struct client *c, void *userdata)
{
	struct request_state *st = userdata;
	struct session *s = conn_of(c)->session;

	/* SHUTDOWN's reply has left (or its client has gone): exit now. */
	if (c == st->shutdown_by) {
		st->shutdown_by = NULL;
		loop_exit(st->loop, EXIT_SUCCESS);
	}

	/* Other sessions' pending TRACKs first: a name of lifetime "last"
	 * lives on if one of them tracks it.  (This session's own were read
	 * before its end of stream.) */
	if (s) {
		clients_drain(st->clients);
		session_end(st->sessions, s);
	}
}

static int request_handle(struct client *c, struct client_msg *m, void *userdata)
{
	struct request_state *st = userdata;
	struct request_conn *rc = conn_of(c);
	const struct sealshm_msg_spec *spec;
	struct sealshm_msg_hdr hdr;
	struct session *s;
	char why[128];

	/* The buffer is zeroed past what arrived: even a short or cut message
	 * has a header to echo in the reply. */
	memcpy(&hdr, m->data, sizeof(hdr));
	counters.requests++;

	/* Nothing but TRACK may come on a session: anything else ends it
	 * (closing the connection ends it, in request_closed()), and no reply
	 * goes out on a connection that a whole process family holds. */
	s = rc->session;
	if (s && hdr.type == SEALSHM_MSG_TRACK)
		return handle_track(c, s, m, st);
	if (s) {
		counters.refused[SEALSHM_PROTO_REFUSED_PROTO]++;
		log_info("message on session %llu of pid %d; ending it",
			 (unsigned long long)session_id(s), (int)session_pid(s));
		return -EPROTO;
	}

	if (m->error == -EXFULL)
		return refuse_connection(c, &hdr, -EXFULL, "message too large");
	if (m->error == -ECHRNG)
		return refuse_connection(c, &hdr, -ECHRNG, "too many fds or control data cut");
	if (m->len < sizeof(hdr))
		return refuse_connection(c, &hdr, -EBADMSG, "message shorter than a header");

	/* TRACK is a session's; on a request connection it would be a
	 * message nobody answers, and the client waiting forever. */
	if (hdr.type == SEALSHM_MSG_TRACK)
		return refuse_connection(c, &hdr, -EPROTO, "track on a connection that is no session");

	spec = sealshm_proto_request_spec(hdr.type);
	if (!spec) {
		(void)snprintf(why, sizeof(why), "unknown message type %u", hdr.type);
		return refuse_connection(c, &hdr, -EBADMSG, why);
	}
	if (hdr.size != m->len || m->len != spec->size) {
		(void)snprintf(why, sizeof(why), "%s of %zu bytes (header says %u, must be %u)",
			       spec->name, m->len, hdr.size, spec->size);
		return refuse_connection(c, &hdr, -EBADMSG, why);
	}
	if (m->nfds < spec->nfds_min || m->nfds > spec->nfds_max) {
		if (spec->nfds_min == spec->nfds_max)
			(void)snprintf(why, sizeof(why), "%s with %zu fds (must be %u)",
				       spec->name, m->nfds, spec->nfds_min);
		else
			(void)snprintf(why, sizeof(why), "%s with %zu fds (must be %u to %u)",
				       spec->name, m->nfds, spec->nfds_min, spec->nfds_max);
		return refuse_connection(c, &hdr, -ECHRNG, why);
	}
	if (hdr.status != 0)
		return refuse_connection(c, &hdr, -EBADMSG, "request with a status");
	if (!rc->greeted && hdr.type != SEALSHM_MSG_HELLO) {
		(void)snprintf(why, sizeof(why), "%s before hello", spec->name);
		return refuse_connection(c, &hdr, -EPROTO, why);
	}

	/* A keyed manager serves nobody who has not shown the key: refused
	 * before anything is looked up or registered (a CREATE's fd is
	 * closed with the message). */
	if (st->manager && st->key_len > 0 && !rc->authed &&
	    hdr.type != SEALSHM_MSG_HELLO && hdr.type != SEALSHM_MSG_AUTH) {
		(void)snprintf(why, sizeof(why), "%s before auth", spec->name);
		return refuse_connection(c, &hdr, -EACCES, why);
	}

	switch (hdr.type) {
	case SEALSHM_MSG_HELLO:
		return handle_hello(c, m);
	case SEALSHM_MSG_AUTH:
		/* Not a use: an authenticated connection may still become a
		 * session. */
		return handle_auth(c, m, st);
	case SEALSHM_MSG_SESSION:
		return handle_session(c, m, st);
	}

	rc->used = true;
	switch (hdr.type) {
	case SEALSHM_MSG_CREATE:
		return handle_create(c, m, st);
	case SEALSHM_MSG_ATTACH:
		return handle_attach(c, m, st);
	case SEALSHM_MSG_UNLINK:
		return handle_unlink(c, m, st);
	case SEALSHM_MSG_STAT:
		return handle_stat(c, m, st);
	case SEALSHM_MSG_LIST:
		return handle_list(c, m, st);
	case SEALSHM_MSG_INDEX:
		return handle_index(c, m, st);
	case SEALSHM_MSG_SHUTDOWN:
		return handle_shutdown(c, m, st);
	case SEALSHM_MSG_STATS:
		return handle_stats(c, m, st);
	}
	/* The spec table and this switch disagree. */
	assert(false);
	return refuse_connection(c, &hdr, -EBADMSG, "unhandled message type");
}

const struct client_ops request_client_ops = {
	.data_size = sizeof(struct request_conn),
	.handle = request_handle,
	.closed = request_closed,
};

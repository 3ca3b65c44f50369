// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Peers: what this process holds for each trackerd it talks to, one per
 * socket path, under one lock.
 *
 *   request connection  this process's own: opened on first use, greeted
 *                       and authenticated once, one request/reply round
 *                       trip at a time;
 *   session             the process family's tracking session (session.c);
 *   index               the fast path's view of trackerd's names
 *                       (fastpath.c), asked for on the first connection;
 *   key                 a manager's auth key, while handles for it live.
 *
 * sealshm_session_export() is here too: it hands out a peer's session.
 *
 * A connection is opened in one order, written out in peer_open() and
 * peer_connection():  connect -> HELLO -> AUTH (when a key is known) ->
 * INDEX (the request connection, once per trackerd), or -> SESSION (a
 * connection of its own that becomes the session).
 *
 * Fork: a child must never talk on its parent's request connection
 * (replies would go to whichever process reads first, and trackerd's view
 * of who holds what would be wrong).  Each peer remembers the pid that
 * opened its connection; a child closes what it inherited, without a byte
 * of traffic, and opens its own.  The session is the opposite: kept on
 * purpose, so the family's names live as long as any member does.  The
 * index (a read-only mapping and a pidfd) and the key are kept too.  exec
 * needs nothing: every fd is close-on-exec.
 *
 * A thread of the parent may hold the lock at fork(); it does not exist in
 * the child, so the child starts with a fresh mutex.  The list and each
 * peer's pointers and fds change only by single release stores of fully
 * built values (a connection's fd is withdrawn before it is closed), so a
 * child forked while another thread is inside a call sees every peer
 * either before or after the change, never half of it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>

#include "conn.h"
#include "fastpath.h"
#include "internal.h"
#include "locate.h"
#include "memfd.h"
#include "peer.h"
#include "perm.h"
#include "session.h"

/* A fresh connection whose HELLO is cut off (trackerd exiting on idle just
 * as we connected) is retried this many times in all; so is a SESSION. */
#define HELLO_ATTEMPTS		3
#define SESSION_ATTEMPTS	2

enum index_state {
	INDEX_UNKNOWN,	/* not asked yet, or trackerd went away since */
	INDEX_READY,	/* index is usable */
	INDEX_OFF,	/* refused or not permitted: never again in this process */
};

struct peer {
	struct peer *next;
	char path[SEALSHM__SUN_PATH_SIZE];

	/* The request connection (-EBADF: none). */
	int fd;
	pid_t pid;			/* who opened it: a forked child must not use it */
	uint32_t seq;
	uint32_t server_uid;		/* trackerd's euid, from its HELLO reply */

	struct sealshm__session *session;	/* NULL: none yet */

	enum index_state index_state;
	bool index_asked;		/* INDEX sent on the current connection */
	struct sealshm__index *index;	/* INDEX_READY only */

	unsigned key_refs;		/* 0: no key */
	size_t key_len;
	uint8_t key[SEALSHM_PROTO_KEY_MAX];
};

static struct {
	pthread_mutex_t lock;
	pthread_once_t once;
	struct peer *list;
	uint64_t epochs;		/* of indexes fetched, to tell them apart */
	struct sealshm__socket_memo memo;	/* the fast path's socket path */
	/*
	 * Who trackerd thinks we are: it judges a request by the SO_PEERCRED
	 * and SO_PEERGROUPS of our request connection, i.e. our effective ids
	 * and groups when that connection was opened.  The fast path takes
	 * the same snapshot when a connection opens and after fork() (the
	 * child's connection will carry the child's ids), so that it answers
	 * as trackerd would without a syscall per attach.
	 */
	bool creds_stale;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
} peers = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.once = PTHREAD_ONCE_INIT,
	.creds_stale = true,
};

#define PUBLISH(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

static void peers_atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	peers.lock = fresh;
	peers.creds_stale = true;
}

static void peers_init(void)
{
	/* On failure (ENOMEM) a fork() racing a request may leave the child's
	 * mutex locked, and a child keeps its parent's ids until it opens a
	 * connection: an answer a round trip may not give, never an access
	 * the kernel does not allow (pidfd_getfd checks that). */
	(void)pthread_atfork(NULL, NULL, peers_atfork_child);
}

/* Take the lock with thread cancellation disabled: connect, sendmsg,
 * recvmsg, nanosleep and waitpid are cancellation points, and a thread
 * cancelled in there would leave the lock held and a connection half-way
 * through a round trip.  Returns the cancel state to hand back. */
static int peers_lock(void)
{
	int cancel;

	(void)pthread_once(&peers.once, peers_init);
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	(void)pthread_mutex_lock(&peers.lock);
	return cancel;
}

static void peers_unlock(int cancel)
{
	(void)pthread_mutex_unlock(&peers.lock);
	(void)pthread_setcancelstate(cancel, NULL);
}

/* SEALSHM_NO_FASTPATH=1 (any non-empty value but "0"): always round trip.
 * Read on every call: benchmarks and tests switch it within a process. */
static bool env_no_fastpath(void)
{
	const char *e = secure_getenv("SEALSHM_NO_FASTPATH");

	return e && *e && strcmp(e, "0") != 0;
}

static struct peer *peer_find(const char *path)
{
	for (struct peer *p = peers.list; p; p = p->next)
		if (strcmp(p->path, path) == 0)
			return p;
	return NULL;
}

/* The peer for @path, made if there is none.  NULL: out of memory. */
static struct peer *peer_get(const char *path)
{
	struct peer *p = peer_find(path);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	assert(strlen(path) < sizeof(p->path));
	strcpy(p->path, path);
	p->fd = -EBADF;
	p->next = peers.list;
	PUBLISH(peers.list, p);
	return p;
}

/* Close the request connection.  In a forked child this closes only the
 * child's copy of the socket: the parent's connection lives on. */
static void peer_disconnect(struct peer *p)
{
	int fd = p->fd;

	PUBLISH(p->fd, -EBADF);
	safe_close(fd);
}

/* Drop the index and go to @state. */
static void peer_drop_index(struct peer *p, enum index_state state)
{
	struct sealshm__index *x = p->index;

	PUBLISH(p->index, NULL);
	p->index_state = state;
	sealshm__index_free(x);
}

/* Drop our copy of the session (trackerd no longer knows it, or ended it):
 * other members of the family still hold theirs, and find out on their
 * next -ESTALE.  The next tracked call opens a new one. */
static void peer_drop_session(struct peer *p)
{
	struct sealshm__session *s = p->session;

	PUBLISH(p->session, NULL);
	sealshm__session_free(s);
}

static void peer_free(struct peer *p)
{
	peer_disconnect(p);
	peer_drop_session(p);
	peer_drop_index(p, INDEX_UNKNOWN);
	explicit_bzero(p->key, sizeof(p->key));
	free(p);
}

/* Unlink @p from the list first, so a child forked in between never sees
 * it freed, then free it. */
static void peer_remove(struct peer *p)
{
	for (struct peer **pp = &peers.list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			PUBLISH(*pp, p->next);
			peer_free(p);
			return;
		}
}

/* At exit (or dlclose) close and unmap what this process holds, so that
 * leak checkers see nothing of ours; the kernel would close it anyway, with
 * the same effect on trackerd.  A thread still inside a call holds the
 * lock and its connection: leave it all rather than pull it away. */
__attribute__((destructor)) static void peers_release(void)
{
	int cancel;

	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (pthread_mutex_trylock(&peers.lock) != 0) {
		(void)pthread_setcancelstate(cancel, NULL);
		return;
	}
	while (peers.list) {
		struct peer *p = peers.list;

		peers.list = p->next;
		peer_free(p);
	}
	free(peers.groups);
	peers.groups = NULL;
	peers.creds_stale = true;
	peers_unlock(cancel);
}

/* connect -> HELLO -> AUTH: a greeted connection to @p's trackerd, which
 * is started first if @autostart allows and nobody answers.  Returns the
 * fd, with its last seq in *@ret_seq. */
static int peer_open(struct peer *p, bool autostart, uint32_t *ret_seq, uint32_t *ret_server_uid)
{
	int r = -ECONNRESET;

	for (int i = 0; i < HELLO_ATTEMPTS; i++) {
		_cleanup_close_ int fd = -EBADF;
		uint32_t seq = 0;

		fd = sealshm__conn_connect(p->path, autostart);
		if (fd < 0)
			return fd;
		r = sealshm__conn_hello(fd, &seq, ret_server_uid, NULL);
		/* A manager wants its key before anything else. */
		if (r == 0 && p->key_refs > 0)
			r = sealshm__conn_auth(fd, &seq, p->key, p->key_len);
		if (r == 0) {
			*ret_seq = seq;
			return TAKE_FD(fd);
		}
		if (!sealshm__is_disconnect(r))
			return r;
	}
	return r;
}

/* Take a snapshot of our ids for the fast path (see peers.creds_stale). */
static int creds_refresh(void)
{
	gid_t *groups = NULL;
	int n;

	n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	if (n > 0) {
		groups = malloc(sizeof(gid_t) * (size_t)n);
		if (!groups)
			return -ENOMEM;
		n = getgroups(n, groups);	/* may shrink, never grows under us */
		if (n < 0) {
			free(groups);
			return -errno;
		}
	}
	free(peers.groups);
	peers.groups = groups;
	peers.n_groups = (size_t)n;
	peers.uid = geteuid();
	peers.gid = getegid();
	peers.creds_stale = false;
	return 0;
}

/*
 * INDEX on @p's request connection @sock (just opened and greeted when
 * @fresh), once per trackerd: a trackerd that answers with an index or a
 * pidfd that is no good is not asked again and again.  Returns 0, or a
 * negative errno when @sock must be dropped (the fast path then stays off,
 * or asks again on a later connection).
 */
static int peer_ask_index(struct peer *p, int sock, uint32_t *seq, bool fresh)
{
	struct sealshm__index *x = NULL;
	int r;

	/* trackerd will judge this connection by the ids we have now. */
	peers.creds_stale = true;

	if (fresh)
		p->index_asked = false;	/* it may lead to another trackerd */
	if (p->index_state == INDEX_OFF)
		return 0;
	if (p->index_state == INDEX_READY) {
		/* A new connection after the old one broke: the same trackerd
		 * (one per path, it holds the lock file) unless it exited. */
		if (!fresh || !sealshm__index_gone(p->index))
			return 0;
		peer_drop_index(p, INDEX_UNKNOWN);
	}
	if (p->index_asked || env_no_fastpath())
		return 0;

	p->index_asked = true;
	r = sealshm__index_fetch(sock, seq, ++peers.epochs, &x);
	if (r <= 0) {
		/* Refused: off for good.  Cut off (trackerd exiting on idle
		 * as we asked): ask again on the next connection. */
		p->index_state = r == 0 || r == -EPROTO ? INDEX_OFF : INDEX_UNKNOWN;
		return r;
	}
	p->index_state = INDEX_READY;
	PUBLISH(p->index, x);
	return 0;
}

/*
 * @p's request connection, opened if this process has none: connect ->
 * HELLO -> AUTH -> INDEX.  The index is asked for on the first connection
 * to each trackerd, so that its pidfd is part of what this process holds
 * from its first call on (fd counts stay flat afterwards).  *@ret_fresh
 * when it was just opened.
 */
static int peer_connection(struct peer *p, bool autostart, bool *ret_fresh)
{
	uint32_t seq, server_uid;
	int fd, r;

	if (p->fd >= 0 && p->pid == getpid()) {
		*ret_fresh = false;
		return 0;
	}
	peer_disconnect(p);	/* inherited across fork(), or broken */

	fd = peer_open(p, autostart, &seq, &server_uid);
	if (fd < 0)
		return fd;
	r = peer_ask_index(p, fd, &seq, true);
	if (r < 0) {
		/* Asking cost us the connection (a trackerd that does not
		 * know INDEX hangs up; or it was exiting on idle): a new one,
		 * without asking, carries the request. */
		safe_close(fd);
		fd = peer_open(p, autostart, &seq, &server_uid);
		if (fd < 0)
			return fd;
	}
	p->seq = seq;
	p->server_uid = server_uid;
	p->pid = getpid();
	PUBLISH(p->fd, fd);
	*ret_fresh = true;
	return 0;
}

/* The family's session with @p's trackerd: kept, adopted from
 * $SEALSHM_SESSION, or opened: connect -> HELLO -> AUTH -> SESSION. */
static int peer_session(struct peer *p, bool autostart, struct sealshm__session **ret)
{
	struct sealshm__session *s = NULL;
	int r = -ECONNRESET;

	if (p->session) {
		*ret = p->session;
		return 0;
	}
	r = sealshm__session_adopt(p->path, &s);
	for (int i = 0; r == 0 && i < SESSION_ATTEMPTS; i++) {
		uint32_t seq;
		int fd = peer_open(p, autostart, &seq, NULL);

		if (fd < 0)
			return fd;
		r = sealshm__session_open(fd, &seq, &s);
		if (r == 0)
			r = 1;
		else if (sealshm__is_disconnect(r))
			r = 0;	/* trackerd exiting on idle as we asked: again */
	}
	if (r <= 0)
		return r < 0 ? r : -ECONNRESET;
	PUBLISH(p->session, s);
	*ret = s;
	return 0;
}

/* The read-only twin of the memfd @fd: an O_RDONLY open of it through
 * /proc, which its owner may make whatever trackerd's uid.  -errno when we
 * may not either (a mode without the owner's read bit, no /proc): the
 * CREATE then goes without it, and read-only attaches work only where
 * trackerd may reopen the memfd itself, as with no twin at all. */
static int ro_twin(int fd)
{
	return sealshm__memfd_reopen(fd, O_RDONLY);
}

static int call_locked(struct peer *p, bool autostart, struct sealshm_msg_hdr *req, int fd,
		       void *reply, size_t reply_len, int *ret_fd)
{
	_cleanup_close_ int rfd = -EBADF, twin = -EBADF;
	enum sealshm__rt rt;
	bool fresh;
	ssize_t n;
	int r;

	for (int attempt = 0;; attempt++) {
		int fds[2] = { fd, -EBADF };
		size_t nfds = fd >= 0 ? 1 : 0;

		r = peer_connection(p, autostart, &fresh);
		if (r < 0)
			return r;

		/* Only for a trackerd that is not of our uid: one of ours
		 * reopens the memfd itself, and the create costs no open. */
		if (req->type == SEALSHM_MSG_CREATE && fd >= 0 &&
		    p->server_uid != (uint32_t)geteuid()) {
			if (twin == -EBADF)
				twin = ro_twin(fd);
			if (twin >= 0)
				fds[nfds++] = twin;
		}
		req->seq = ++p->seq;
		req->status = 0;
		n = sealshm__roundtrip(p->fd, req, fds, nfds, reply, reply_len, &rfd, &rt);
		if (rt == SEALSHM__RT_DONE)
			break;
		/* The stream is broken or out of step: start over next time. */
		peer_disconnect(p);
		if (rt == SEALSHM__RT_BROKEN)
			return sealshm__is_disconnect(n) ? -ECONNRESET : (int)n;
		/* A kept connection whose trackerd has gone (restarted, killed)
		 * since our last request: this request never left, so one new
		 * connection may carry it. */
		if (!sealshm__is_disconnect(n))
			return (int)n;
		if (fresh || attempt > 0)
			return -ECONNRESET;
	}
	if (n < 0)
		return (int)n;	/* refused; rfd (there should be none) is closed */
	if (ret_fd)
		*ret_fd = TAKE_FD(rfd);
	return (int)n;
}

int sealshm__peer_call(const struct sealshm_opts *opts, struct sealshm_msg_hdr *req, int fd,
		       uint8_t *track_token, void *reply, size_t reply_len, int *ret_fd)
{
	char path[SEALSHM__SUN_PATH_SIZE];
	struct peer *p;
	bool autostart;
	int r, cancel;

	assert(req && reply);
	assert(!track_token || (track_token >= (uint8_t *)req &&
				track_token + SEALSHM_PROTO_TOKEN_SIZE <= (uint8_t *)req + req->size));

	r = sealshm__socket_path(opts, path, sizeof(path), &autostart);
	if (r < 0)
		return r;

	/* Token and request under one hold of the lock: another thread's
	 * -ESTALE cannot swap the session between fetching and sending. */
	cancel = peers_lock();
	p = peer_get(path);
	r = p ? 0 : -ENOMEM;
	for (int attempt = 0; r == 0; attempt++) {
		struct sealshm__session *s = NULL;

		if (track_token) {
			r = peer_session(p, autostart, &s);
			if (r < 0)
				break;
			memcpy(track_token, sealshm__session_token(s), SEALSHM_PROTO_TOKEN_SIZE);
		}
		r = call_locked(p, autostart, req, fd, reply, reply_len, ret_fd);
		if (r >= 0 && s)
			sealshm__session_confirm(s);
		/* -ESTALE: trackerd does not know the token (an adopted session
		 * that had already ended, or a trackerd restarted since we
		 * opened ours) and has done nothing.  A fresh session makes
		 * the request good; once, so a trackerd that keeps refusing
		 * cannot keep us opening sessions. */
		if (r != -ESTALE || !s || attempt > 0)
			break;
		peer_drop_session(p);
		r = 0;
	}
	peers_unlock(cancel);
	return r;
}

/* The fast attach itself, lock held.  Returns 1 with *@ret (fd O_RDWR),
 * 0 for "use the round trip". */
static int attach_locked(const char *path, bool autostart, const char *name, bool rdonly,
			 bool track, struct sealshm__fast_attach *ret)
{
	struct sealshm__session *s;
	struct sealshm__cred cr;
	struct peer *p = peer_find(path);
	int r;

	if (!p || (p->index_state == INDEX_UNKNOWN && !p->index_asked)) {
		bool fresh;

		/* No connection to this trackerd yet (or it restarted, or the
		 * fast path was off when we connected): open or reuse one,
		 * which asks for the index.  @path was checked when it was
		 * first resolved (sealshm__socket_path_memo()). */
		p = p ? p : peer_get(path);
		if (!p || peer_connection(p, autostart, &fresh) < 0)
			return 0;
		if (!fresh && peer_ask_index(p, p->fd, &p->seq, false) < 0) {
			peer_disconnect(p);
			return 0;
		}
	}
	if (p->index_state != INDEX_READY)
		return 0;
	if (peers.creds_stale && creds_refresh() < 0)
		return 0;

	cr = (struct sealshm__cred){
		.uid = peers.uid,
		.gid = peers.gid,
		.groups = peers.groups,
		.n_groups = peers.n_groups,
	};
	switch (sealshm__index_attach(p->index, &cr, name, rdonly, ret)) {
	case SEALSHM__FAST_YES:
		break;
	case SEALSHM__FAST_OFF:
		peer_drop_index(p, INDEX_OFF);
		return 0;
	case SEALSHM__FAST_STALE:
		peer_drop_index(p, INDEX_UNKNOWN);
		return 0;
	default:
		return 0;
	}
	if (!track)
		return 1;

	r = peer_session(p, autostart, &s);
	if (r == 0) {
		r = sealshm__session_track(s, ret->epoch, ret->slot, ret->generation, ret->ino);
		/* trackerd ended the session (restarted): the round trip
		 * opens a new one. */
		if (r < 0 && sealshm__is_disconnect(r))
			peer_drop_session(p);
		/* Sent now: between our look at the index and the TRACK, the
		 * last session tracking a LIFETIME_LAST name (or any, for
		 * CPython's lifetime) may have ended and taken the name.  If
		 * the index still has it after the TRACK left, trackerd reads
		 * the TRACK before any later removal (sealshm__index_still()).
		 * Otherwise the round trip gives the real answer. */
		if (r == 1 && !sealshm__index_still(p->index, ret))
			r = -ESTALE;
	}
	if (r < 0) {
		/* The round trip tracks it instead. */
		safe_close(ret->fd);
		return 0;
	}
	return 1;
}

int sealshm__peer_attach_fast(const struct sealshm_opts *opts, const char *name, bool rdonly,
			      bool track, int *ret_fd, uint64_t *ret_size)
{
	char path[SEALSHM__SUN_PATH_SIZE];
	struct sealshm__fast_attach fa;
	bool autostart;
	int r, cancel;

	/* Longer names are not published: not worth a lock. */
	if (strlen(name) > SEALSHM_INDEX_NAME_MAX || env_no_fastpath())
		return 0;

	cancel = peers_lock();
	r = sealshm__socket_path_memo(opts, &peers.memo, path, sizeof(path), &autostart);
	if (r == 0)	/* else the round trip reports it */
		r = attach_locked(path, autostart, name, rdonly, track, &fa);
	peers_unlock(cancel);
	if (r <= 0)
		return 0;

	if (rdonly) {
		/* A new open file description, as trackerd gives a read-only
		 * attach: nobody can mmap it writable or F_SETFL it.  The
		 * inode's mode (the name's, set by the creator) is checked by
		 * the kernel here as for anyone. */
		int fd = sealshm__memfd_reopen(fa.fd, O_RDONLY);

		safe_close(fa.fd);
		if (fd < 0)
			return 0;
		fa.fd = fd;
	}
	*ret_fd = fa.fd;
	*ret_size = fa.size;
	return 1;
}

int sealshm__peer_key_ref(const char *path, const void *key, size_t len)
{
	struct peer *p;
	int r = 0, cancel;

	assert(len <= SEALSHM_PROTO_KEY_MAX);
	cancel = peers_lock();
	p = peer_get(path);
	if (!p)
		r = -ENOMEM;
	else if (p->key_refs > 0 &&
		 (p->key_len != len || (len && memcmp(p->key, key, len) != 0)))
		r = -EACCES;
	else if (p->key_refs++ == 0) {
		if (len)
			memcpy(p->key, key, len);
		p->key_len = len;
	}
	peers_unlock(cancel);
	return r;
}

void sealshm__peer_key_unref(const char *path)
{
	struct peer *p;
	int cancel;

	cancel = peers_lock();
	p = peer_find(path);
	if (p && p->key_refs > 0 && --p->key_refs == 0) {
		/* The manager is gone, or at least no business of ours. */
		explicit_bzero(p->key, sizeof(p->key));
		p->key_len = 0;
		peer_disconnect(p);
		peer_drop_index(p, INDEX_UNKNOWN);
		p->index_asked = false;
		/* Nothing left: forget the peer too (a manager's address is
		 * never used again once it has gone). */
		if (!p->session)
			peer_remove(p);
	}
	peers_unlock(cancel);
}

int sealshm__peer_connect(const char *path, uint32_t *ret_seq)
{
	struct peer *p;
	int r, cancel;

	cancel = peers_lock();
	p = peer_get(path);
	r = p ? peer_open(p, false, ret_seq, NULL) : -ENOMEM;
	peers_unlock(cancel);
	return r;
}

int sealshm_session_export(const struct sealshm_opts *opts, char *buf, size_t len)
{
	char path[SEALSHM__SUN_PATH_SIZE], val[SEALSHM_SESSION_ENV_MAX];
	_cleanup_close_ int fd = -EBADF;
	struct sealshm__session *s;
	struct peer *p;
	bool autostart;
	int r, cancel;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(buf, -EINVAL);
	sealshm__return_if_fail(!(OPTS_GET(opts, flags, 0) & ~SEALSHM__FLAGS_TRACKERD), -EINVAL);

	r = sealshm__socket_path(opts, path, sizeof(path), &autostart);
	if (r < 0)
		return sealshm__err(r);

	cancel = peers_lock();
	p = peer_get(path);
	r = p ? peer_session(p, autostart, &s) : -ENOMEM;
	if (r >= 0)
		r = fd = sealshm__session_export(s, val);
	peers_unlock(cancel);
	if (r < 0)
		return sealshm__err(r);

	if (strlen(val) >= len)
		return sealshm__err(-ERANGE);
	strcpy(buf, val);
	return TAKE_FD(fd);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * This process's connections to trackerd: one per socket path, opened on
 * first use (starting trackerd if allowed), greeted with HELLO once, and
 * used for one request/reply round trip at a time.
 *
 * Fork: a child must never talk on its parent's connection (replies would
 * go to whichever process reads first, and trackerd's view of who holds
 * what would be wrong). Each connection remembers the pid that opened it;
 * a child closes what it inherited, without a byte of traffic, and opens
 * its own. exec needs nothing: the sockets are close-on-exec.
 *
 * Tracking sessions (session.c) are the opposite on fork and live under the
 * same lock: a tracked request fetches its session's token and sends it in
 * the same locked round trip.  So does the fast path (fastpath.c), whose
 * index is asked for on the first connection to each trackerd.
 *
 * A CREATE to a trackerd of another uid than ours (its HELLO says which)
 * carries the memfd's read-only twin as a second fd (proto.h): that
 * trackerd may not be allowed to reopen the memfd read-only for read-only
 * attaches, and we, its owner, are.  A trackerd of our own uid gets one fd.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "clock.h"
#include "conn.h"
#include "internal.h"
#include "memfd.h"
#include "locate.h"

/* How long to wait for an auto-started trackerd to answer. */
#define CONNECT_TIMEOUT_NS	(5 * NSEC_PER_SEC)
#define CONNECT_DELAY_MIN_NS	(1 * NSEC_PER_MSEC)
#define CONNECT_DELAY_MAX_NS	(100 * NSEC_PER_MSEC)
/* Spawn again when it still does not answer after this long: the instance
 * that held the lock when we first tried may have been exiting on idle. */
#define RESPAWN_AFTER_NS	NSEC_PER_SEC
/* Fresh connections whose HELLO is cut off (trackerd exiting on idle just
 * as we connected) are retried this many times in all. */
#define HELLO_ATTEMPTS		3

struct conn {
	struct conn *next;
	int fd;
	pid_t pid;		/* who opened it: a forked child must not use it */
	uint32_t seq;
	uint32_t server_uid;	/* trackerd's euid, from its HELLO reply */
	char path[SEALSHM__SUN_PATH_SIZE];
};

/* The list and every use of a connection are under conns_lock, so one
 * connection carries at most one request at a time and replies cannot be
 * mixed up between threads. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t conns_once = PTHREAD_ONCE_INIT;
static struct conn *conns;

/* A thread of the parent may have held conns_lock at fork(); it does not
 * exist in the child, so the child starts with a fresh mutex. The list is
 * only changed by single pointer stores of fully built nodes, so the child
 * sees a usable list whatever the parent was doing; its entries all carry
 * the parent's pid and are closed on the child's first call. */
static void conns_atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	conns_lock = fresh;
}

static void conns_init(void)
{
	/* On failure (ENOMEM) a fork() racing a request may leave the child's
	 * mutex locked; nothing better can be done from here. */
	(void)pthread_atfork(NULL, NULL, conns_atfork_child);
}

/* Unlink *@pp from the list and free it. In a forked child this closes
 * only the child's copy of the socket: the parent's connection lives on. */
static void conn_drop(struct conn **pp)
{
	struct conn *c = *pp;

	__atomic_store_n(pp, c->next, __ATOMIC_RELEASE);
	safe_close(c->fd);
	free(c);
}

/* At exit (or dlclose) close what this process opened, so that nothing of
 * ours is left for leak checkers to report. A thread still inside a call
 * keeps its connection: skip the cleanup rather than pull it away. */
__attribute__((destructor)) static void conns_release(void)
{
	if (pthread_mutex_trylock(&conns_lock) != 0)
		return;
	while (conns)
		conn_drop(&conns);
	(void)pthread_mutex_unlock(&conns_lock);
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	size_t len = strlen(path);
	socklen_t sa_len = offsetof(struct sockaddr_un, sun_path) + len + 1;

	assert(len < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, len + 1);

	/* Blocking: a request is a short round trip to a local daemon. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* On EINTR the connect completes asynchronously (connect(2)); simpler
	 * to start over with a new socket than to poll for it. */
	while (connect(fd, (struct sockaddr *)&sa, sa_len) < 0) {
		if (errno != EINTR)
			return -errno;
		safe_close(fd);
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
	}
	return TAKE_FD(fd);
}

/* Connect to @path; when nobody listens there and @autostart allows, start
 * trackerd and keep trying, with backoff, for CONNECT_TIMEOUT_NS. */
static int connect_or_start(const char *path, bool autostart)
{
	int64_t start, last_spawn, delay = CONNECT_DELAY_MIN_NS;
	int r;

	r = try_connect(path);
	if (r >= 0 || !autostart || (r != -ENOENT && r != -ECONNREFUSED))
		return r;

	r = sealshm__autostart(path);
	if (r < 0)
		return r;
	start = last_spawn = sealshm__now_ns(CLOCK_MONOTONIC);

	for (;;) {
		/* trackerd normally listens before autostart returns; we get
		 * here when another process's trackerd won the lock but has
		 * not bound yet, or when SIGCHLD is ignored (no waitpid). */
		r = try_connect(path);
		if (r >= 0 || (r != -ENOENT && r != -ECONNREFUSED))
			return r;
		if (sealshm__now_ns(CLOCK_MONOTONIC) - start >= CONNECT_TIMEOUT_NS)
			return r;
		if (sealshm__now_ns(CLOCK_MONOTONIC) - last_spawn >= RESPAWN_AFTER_NS) {
			int q = sealshm__autostart(path);

			if (q < 0)
				return q;
			last_spawn = sealshm__now_ns(CLOCK_MONOTONIC);
		}
		sealshm__sleep_ns(delay);
		delay = delay * 2 > CONNECT_DELAY_MAX_NS ? CONNECT_DELAY_MAX_NS : delay * 2;
	}
}

int sealshm__check_reply(const struct sealshm_msg_hdr *h, size_t n, uint32_t type, uint32_t seq)
{
	if (n < sizeof(*h) || h->size != n)
		return -EBADMSG;
	if (h->type != (type | SEALSHM_MSG_REPLY) || h->seq != seq)
		return -EBADMSG;
	if (h->status > 0 || h->status < -4095)
		return -EBADMSG;
	return h->status;
}

ssize_t sealshm__roundtrip(int sock, const struct sealshm_msg_hdr *req, void *reply,
			   size_t reply_len, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	size_t nfds = 0;
	ssize_t n;
	int r;

	r = sealshm__send(sock, req, req->size, NULL, 0, 0);
	if (r < 0)
		return r;
	/* Without @ret_fd an fd that comes anyway fails the receive. */
	n = sealshm__recv(sock, reply, reply_len, &fd, ret_fd ? 1 : 0, ret_fd ? &nfds : NULL, 0);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return (n == -EXFULL || n == -ECHRNG) ? -EBADMSG : n;
	r = sealshm__check_reply(reply, n, req->type, req->seq);
	if (r < 0)
		return r;
	if (ret_fd)
		*ret_fd = TAKE_FD(fd);
	return n;
}

/* Greet trackerd on @fd; its euid goes to *@ret_server_uid. */
static int hello(int fd, uint32_t *ret_server_uid)
{
	struct sealshm_msg_hello req = {
		.hdr = {
			.type = SEALSHM_MSG_HELLO,
			.size = sizeof(req),
			.seq = SEALSHM__HELLO_SEQ,
		},
		.magic = SEALSHM_PROTO_MAGIC,
		.version = SEALSHM_PROTO_VERSION,
	};
	struct sealshm_msg_hello_reply rep;
	ssize_t n;

	/* Whatever answers must be a trackerd speaking our version; anything
	 * it says that we cannot parse means it speaks another protocol. */
	n = sealshm__roundtrip(fd, &req.hdr, &rep, sizeof(rep), NULL);
	if (n < 0)
		return n == -EBADMSG ? -EPROTO : (int)n;	/* -EPROTO on version mismatch */
	if ((size_t)n != sizeof(rep) || rep.magic != SEALSHM_PROTO_MAGIC ||
	    rep.version != SEALSHM_PROTO_VERSION)
		return -EPROTO;
	*ret_server_uid = rep.server_uid;
	return 0;
}

static int connect_greeted(const char *path, bool autostart, uint32_t *ret_server_uid)
{
	int r = -ECONNRESET;

	for (int i = 0; i < HELLO_ATTEMPTS; i++) {
		int fd = connect_or_start(path, autostart);

		if (fd < 0)
			return fd;
		r = hello(fd, ret_server_uid);
		/* A manager's (manager.c) wants its key before anything else. */
		if (r == 0)
			r = sealshm__manager_greet(path, fd);
		if (r == 0)
			return fd;
		safe_close(fd);
		if (!sealshm__is_disconnect(r))
			return r;
	}
	return r;
}

int sealshm__connect(const char *path, bool autostart)
{
	uint32_t server_uid;

	return connect_greeted(path, autostart, &server_uid);
}

/* Open and greet a connection to @path. */
static int conn_open(const char *path, bool autostart, struct conn **ret)
{
	_cleanup_free_ struct conn *c = NULL;
	int fd;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	assert(strlen(path) < sizeof(c->path));
	strcpy(c->path, path);

	fd = connect_greeted(path, autostart, &c->server_uid);
	if (fd < 0)
		return fd;
	c->fd = fd;
	c->seq = SEALSHM__HELLO_SEQ;
	c->pid = getpid();
	*ret = TAKE_PTR(c);
	return 0;
}

/* This process's connection to @path: found, or opened and put first. */
static int conn_get(const char *path, bool autostart, struct conn ***ret_pp, bool *ret_fresh)
{
	pid_t pid = getpid();
	struct conn **pp, *c = NULL;
	int r;

	for (pp = &conns; *pp;) {
		if ((*pp)->pid != pid) {
			conn_drop(pp);		/* inherited across fork() */
			continue;
		}
		if (strcmp((*pp)->path, path) == 0) {
			*ret_pp = pp;
			*ret_fresh = false;
			return 0;
		}
		pp = &(*pp)->next;
	}

	r = conn_open(path, autostart, &c);
	if (r < 0)
		return r;
	/* Fast path: the index is asked for on the first connection to each
	 * trackerd, so its pidfd is part of what this process holds from its
	 * first call on (fd counts stay flat afterwards). */
	r = sealshm__fastpath_connected(path, c->fd, &c->seq, true);
	if (r < 0) {
		/* Asking cost us the connection (a trackerd that does not
		 * know INDEX hangs up; or it was exiting on idle): a new one,
		 * without asking, carries the request. */
		safe_close(c->fd);
		free(c);
		c = NULL;
		r = conn_open(path, autostart, &c);
		if (r < 0)
			return r;
	}
	c->next = conns;
	__atomic_store_n(&conns, c, __ATOMIC_RELEASE);
	*ret_pp = &conns;
	*ret_fresh = true;
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

static int call_locked(const char *path, bool autostart, struct sealshm_msg_hdr *req, int fd,
		       void *reply, size_t reply_len, int *ret_fd)
{
	_cleanup_close_ int rfd = -EBADF, twin = -EBADF;
	struct conn **pp;
	size_t nfds = 0;
	bool fresh;
	ssize_t n;
	int r;

	for (int attempt = 0;; attempt++) {
		int fds[2] = { fd, -EBADF };
		size_t nsend = fd >= 0 ? 1 : 0;

		r = conn_get(path, autostart, &pp, &fresh);
		if (r < 0)
			return r;

		/* Only for a trackerd that is not of our uid: one of ours
		 * reopens the memfd itself, and the create costs no open. */
		if (req->type == SEALSHM_MSG_CREATE && fd >= 0 &&
		    (*pp)->server_uid != (uint32_t)geteuid()) {
			if (twin == -EBADF)
				twin = ro_twin(fd);
			if (twin >= 0)
				fds[nsend++] = twin;
		}
		req->seq = ++(*pp)->seq;
		req->status = 0;
		r = sealshm__send((*pp)->fd, req, req->size, fds, nsend, 0);
		if (r == 0)
			break;
		conn_drop(pp);
		/* A kept connection whose trackerd has gone (restarted, killed)
		 * since our last request: this request never left, so one new
		 * connection may carry it. */
		if (!sealshm__is_disconnect(r))
			return r;
		if (fresh || attempt > 0)
			return -ECONNRESET;
	}

	n = sealshm__recv((*pp)->fd, reply, reply_len, &rfd, 1, &nfds, 0);
	if (n <= 0) {
		/* The stream is broken or out of step: start over next time. */
		conn_drop(pp);
		if (sealshm__is_disconnect(n))
			return -ECONNRESET;
		return (n == -EXFULL || n == -ECHRNG) ? -EBADMSG : (int)n;
	}
	r = sealshm__check_reply(reply, n, req->type, req->seq);
	if (r == -EBADMSG) {
		conn_drop(pp);
		return r;
	}
	if (r < 0)
		return r;	/* refused; rfd (there should be none) is closed */

	if (ret_fd)
		*ret_fd = TAKE_FD(rfd);
	return (int)n;
}

void sealshm__conn_forget(const char *path)
{
	pid_t pid = getpid();

	for (struct conn **pp = &conns; *pp;) {
		if ((*pp)->pid == pid && strcmp((*pp)->path, path) == 0) {
			conn_drop(pp);
			continue;
		}
		pp = &(*pp)->next;
	}
	sealshm__fastpath_forget(path);
}

int sealshm__conn_index(const char *path, bool autostart)
{
	struct conn **pp;
	bool fresh;
	int r;

	r = conn_get(path, autostart, &pp, &fresh);
	if (r < 0 || fresh)
		return r;	/* a fresh one has asked already */
	r = sealshm__fastpath_connected(path, (*pp)->fd, &(*pp)->seq, false);
	if (r < 0)
		conn_drop(pp);
	return r;
}

int sealshm__conn_lock(void)
{
	int cancel;

	(void)pthread_once(&conns_once, conns_init);

	/* connect, sendmsg, recvmsg, nanosleep and waitpid are cancellation
	 * points: a thread cancelled in there would leave conns_lock held and
	 * a connection half-way through a round trip. */
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	(void)pthread_mutex_lock(&conns_lock);
	return cancel;
}

void sealshm__conn_unlock(int cancel_state)
{
	(void)pthread_mutex_unlock(&conns_lock);
	(void)pthread_setcancelstate(cancel_state, NULL);
}

int sealshm__conn_trylock(void)
{
	int cancel;

	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (pthread_mutex_trylock(&conns_lock) != 0) {
		(void)pthread_setcancelstate(cancel, NULL);
		return -EBUSY;
	}
	return cancel;
}

int sealshm__call(const struct sealshm_opts *opts, struct sealshm_msg_hdr *req, int fd,
		  uint8_t *track_token, void *reply, size_t reply_len, int *ret_fd)
{
	char path[SEALSHM__SUN_PATH_SIZE];
	bool autostart;
	int r, cancel;

	assert(req && reply);
	assert(req->size >= sizeof(*req) && req->size <= SEALSHM_PROTO_MSG_MAX);
	assert(reply_len >= sizeof(struct sealshm_msg_hdr));
	assert(!track_token || (track_token >= (uint8_t *)req &&
				track_token + SEALSHM_PROTO_TOKEN_SIZE <= (uint8_t *)req + req->size));

	r = sealshm__socket_path(opts, path, sizeof(path), &autostart);
	if (r < 0)
		return r;

	/* Token and request under one hold of the lock: another thread's
	 * -ESTALE cannot swap the session between fetching and sending. */
	cancel = sealshm__conn_lock();
	for (int attempt = 0;; attempt++) {
		if (track_token) {
			r = sealshm__session_token(path, autostart, track_token);
			if (r < 0)
				break;
		}
		r = call_locked(path, autostart, req, fd, reply, reply_len, ret_fd);
		if (r >= 0 && track_token)
			sealshm__session_confirm(path);
		/* -ESTALE: trackerd does not know the token (an adopted session
		 * that had already ended, or a trackerd restarted since we
		 * opened ours) and has done nothing.  A fresh session makes
		 * the request good; once, so a trackerd that keeps refusing
		 * cannot keep us opening sessions. */
		if (r != -ESTALE || !track_token || attempt > 0)
			break;
		sealshm__session_forget(path);
	}
	sealshm__conn_unlock(cancel);
	return r;
}

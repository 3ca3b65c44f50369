// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The transport to trackerd: connect (starting a per-user trackerd when
 * nobody answers and the caller allows it), greet, authenticate, and one
 * request/reply round trip at a time.  Nothing here keeps state: the
 * connections a process holds, and which messages go on them in which
 * order, are lib/peer.c's.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "autostart.h"
#include "clock.h"
#include "conn.h"
#include "fdpass.h"
#include "internal.h"

/* How long to wait for an auto-started trackerd to answer. */
#define CONNECT_TIMEOUT_NS	(5 * NSEC_PER_SEC)
#define CONNECT_DELAY_MIN_NS	(1 * NSEC_PER_MSEC)
#define CONNECT_DELAY_MAX_NS	(100 * NSEC_PER_MSEC)
/* Spawn again when it still does not answer after this long: the instance
 * that held the lock when we first tried may have been exiting on idle. */
#define RESPAWN_AFTER_NS	NSEC_PER_SEC

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

static bool nobody_listens(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED;
}

/* connect() says ECONNREFUSED for a stale socket, and as well for a file, a
 * directory or a FIFO at @path: those are a mistake in $SEALSHM_SOCKET or
 * opts.socket, never something to start a trackerd on (it would make
 * PATH.lock and PATH.log beside them).  -ENOTSOCK for them, else @r. */
static int refused_why(const char *path, int r)
{
	struct stat st;

	if (r == -ECONNREFUSED && lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	return r;
}

int sealshm__conn_connect(const char *path, bool autostart)
{
	int64_t start, last_spawn, delay = CONNECT_DELAY_MIN_NS;
	int r;

	r = try_connect(path);
	if (r == -ECONNREFUSED)
		r = refused_why(path, r);
	if (r >= 0 || !autostart || !nobody_listens(r))
		return r;

	r = sealshm__autostart(path);
	if (r < 0)
		return r;
	start = last_spawn = sealshm__now_ns(CLOCK_MONOTONIC);

	for (;;) {
		int64_t now;

		/* trackerd normally listens before autostart returns; we get
		 * here when another process's trackerd won the lock but has
		 * not bound yet, or when SIGCHLD is ignored (no waitpid). */
		r = try_connect(path);
		if (r >= 0 || !nobody_listens(r))
			return r;
		now = sealshm__now_ns(CLOCK_MONOTONIC);
		if (now - start >= CONNECT_TIMEOUT_NS)
			return r;
		if (now - last_spawn >= RESPAWN_AFTER_NS) {
			r = sealshm__autostart(path);
			if (r < 0)
				return r;
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

ssize_t sealshm__roundtrip(int sock, const struct sealshm_msg_hdr *req, const int *fds,
			   size_t nfds, void *reply, size_t reply_len, int *ret_fd,
			   enum sealshm__rt *ret_rt)
{
	_cleanup_close_ int fd = -EBADF;
	enum sealshm__rt rt = SEALSHM__RT_UNSENT;
	size_t n_rfds = 0;
	ssize_t n;
	int r;

	assert(req->size >= sizeof(*req) && req->size <= SEALSHM_PROTO_MSG_MAX);
	assert(reply_len >= sizeof(struct sealshm_msg_hdr));

	r = sealshm__send(sock, req, req->size, fds, nfds, 0);
	if (r < 0)
		goto out;
	rt = SEALSHM__RT_BROKEN;
	/* Without @ret_fd an fd that comes anyway fails the receive. */
	n = sealshm__recv(sock, reply, reply_len, &fd, ret_fd ? 1 : 0, ret_fd ? &n_rfds : NULL, 0);
	if (n == 0) {
		r = -ECONNRESET;
		goto out;
	}
	if (n < 0) {
		r = (n == -EXFULL || n == -ECHRNG) ? -EBADMSG : (int)n;
		goto out;
	}
	r = sealshm__check_reply(reply, (size_t)n, req->type, req->seq);
	/* -EBADMSG: malformed, or trackerd refused our framing and hangs up:
	 * either way the connection is out of step. */
	if (r == -EBADMSG)
		goto out;
	rt = SEALSHM__RT_DONE;
	if (r < 0)
		goto out;	/* refused; an fd that came anyway is closed */
	if (ret_fd)
		*ret_fd = TAKE_FD(fd);
	r = (int)n;
out:
	if (ret_rt)
		*ret_rt = rt;
	return r;
}

int sealshm__conn_hello(int sock, uint32_t *seq, uint32_t *ret_server_uid,
			uint32_t *ret_server_pid)
{
	struct sealshm_msg_hello req = {
		.hdr = {
			.type = SEALSHM_MSG_HELLO,
			.size = sizeof(req),
			.seq = ++*seq,
		},
		.magic = SEALSHM_PROTO_MAGIC,
		.version = SEALSHM_PROTO_VERSION,
	};
	struct sealshm_msg_hello_reply rep;
	ssize_t n;

	/* Whatever answers must be a trackerd speaking our version; anything
	 * it says that we cannot parse means it speaks another protocol. */
	n = sealshm__roundtrip(sock, &req.hdr, NULL, 0, &rep, sizeof(rep), NULL, NULL);
	if (n < 0)
		return n == -EBADMSG ? -EPROTO : (int)n;	/* -EPROTO on version mismatch */
	if ((size_t)n != sizeof(rep) || rep.magic != SEALSHM_PROTO_MAGIC ||
	    rep.version != SEALSHM_PROTO_VERSION)
		return -EPROTO;
	if (ret_server_uid)
		*ret_server_uid = rep.server_uid;
	if (ret_server_pid)
		*ret_server_pid = rep.server_pid;
	return 0;
}

int sealshm__conn_auth(int sock, uint32_t *seq, const void *key, size_t len)
{
	struct sealshm_msg_auth req = {
		.hdr = {
			.type = SEALSHM_MSG_AUTH,
			.size = sizeof(req),
			.seq = ++*seq,
		},
		.len = (uint32_t)len,
	};
	struct sealshm_msg_hdr rep;
	ssize_t n;

	assert(len <= sizeof(req.key));
	memcpy(req.key, key, len);
	n = sealshm__roundtrip(sock, &req.hdr, NULL, 0, &rep, sizeof(rep), NULL, NULL);
	explicit_bzero(req.key, sizeof(req.key));
	if (n < 0)
		return (int)n;
	return (size_t)n == sizeof(rep) ? 0 : -EBADMSG;
}

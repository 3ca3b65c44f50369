// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "internal.h"
#include "proto.h"

#include "fake_trackerd.h"
#include "now.h"
#include "process.h"
#include "raw.h"
#include "trackerd.h"

/* What the fake serves, built once in the child. */
struct fake {
	size_t n;				/* names */
	unsigned int flags;			/* FAKE_TRACKERD_* */
	struct sealshm_msg_list_reply *page;	/* the LIST reply: every name */
	size_t page_len;
	uint64_t bytes;				/* sum of the records' sizes */
	int64_t start_ns;			/* CLOCK_REALTIME */
	uint64_t start_mono_ns;
	size_t n_conns;				/* open now */
};

struct conn {
	int fd;					/* -EBADF: a free slot */
	bool greeted;				/* HELLO done */
};

/* Every request fits; a message that does not is cut (-EXFULL). */
union request {
	struct sealshm_msg_hdr hdr;
	struct sealshm_msg_hello hello;
	struct sealshm_msg_name name;
	struct sealshm_msg_list list;
	struct sealshm_msg_create create;
	struct sealshm_msg_auth auth;
};

static volatile sig_atomic_t stopping;

static void on_sigterm(int sig)
{
	(void)sig;
	stopping = 1;
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	(void)clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* The LIST page of @names (@n of them), each with its record. */
static int fake_build(struct fake *f, const char *const *names, size_t n, unsigned int flags)
{
	*f = (struct fake) {
		.n = n,
		.flags = flags,
		.page_len = sizeof(*f->page) + n * sizeof(f->page->entries[0]),
		.start_ns = (int64_t)clock_ns(CLOCK_REALTIME),
		.start_mono_ns = clock_ns(CLOCK_MONOTONIC),
	};
	f->page = calloc(1, f->page_len);
	if (!f->page)
		return -ENOMEM;
	f->page->count = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct sealshm_wire_info *w = &f->page->entries[i];
		size_t len = strlen(names[i]);

		/* As it is, cut at the field's end: a name of the field's
		 * size or more leaves no room for the NUL. */
		memcpy(w->name, names[i], len < sizeof(w->name) ? len : sizeof(w->name));
		w->size = 4096 * (i + 1);
		w->ino = 1000 + i;
		w->ctime_ns = f->start_ns;
		w->uid = (uint32_t)geteuid();
		w->gid = (uint32_t)getegid();
		w->mode = 0600;
		w->seals = SEALSHM_SEAL_SHRINK | SEALSHM_SEAL_GROW;
		w->creator_pid = (uint32_t)getpid();
		f->bytes += w->size;
	}
	return 0;
}

/* Send @rep (@len bytes) as the reply to @req with @status. */
static int reply(int fd, const struct sealshm_msg_hdr *req, struct sealshm_msg_hdr *rep,
		 size_t len, int status)
{
	rep->type = req->type | SEALSHM_MSG_REPLY;
	rep->size = (uint32_t)len;
	rep->seq = req->seq;
	rep->status = status;
	return sealshm__send(fd, rep, len, NULL, 0, 0);
}

/* A header-only reply to @req with @status (< 0). */
static int refuse(int fd, const struct sealshm_msg_hdr *req, int status)
{
	struct sealshm_msg_hdr rep = { 0 };

	return reply(fd, req, &rep, sizeof(rep), status);
}

static int answer_hello(struct conn *c, const struct sealshm_msg_hello *req)
{
	struct sealshm_msg_hello_reply rep = {
		.magic = SEALSHM_PROTO_MAGIC,
		.version = SEALSHM_PROTO_VERSION,
		.server_pid = (uint32_t)getpid(),
		.server_uid = (uint32_t)geteuid(),
	};
	int status = 0;

	/* As trackerd: our version in the reply, then the connection is
	 * closed. */
	if (req->magic != SEALSHM_PROTO_MAGIC || req->version != SEALSHM_PROTO_VERSION)
		status = -EPROTO;
	if (reply(c->fd, &req->hdr, &rep.hdr, sizeof(rep), status) < 0 || status < 0)
		return 0;
	c->greeted = true;
	return 1;
}

static int answer_list(const struct fake *f, int fd, const struct sealshm_msg_list *req)
{
	struct sealshm_msg_list_reply end = { .count = 0 };

	/* Every name is on the first page; the library never asks for a
	 * second (next_cursor is 0), another client gets an empty one. */
	if (req->cursor != 0)
		return reply(fd, &req->hdr, &end.hdr, sizeof(end), 0);
	return reply(fd, &req->hdr, &f->page->hdr, f->page_len, 0);
}

static int answer_stat(const struct fake *f, int fd, const struct sealshm_msg_name *req)
{
	struct sealshm_msg_stat_reply rep = { .hdr = { 0 } };

	for (size_t i = 0; i < f->n; i++) {
		const struct sealshm_wire_info *w = &f->page->entries[i];

		/* Whole fields: both are zero-padded (or have no NUL). */
		if ((f->flags & FAKE_TRACKERD_STAT_FIRST) ||
		    !memcmp(w->name, req->name, sizeof(w->name))) {
			rep.info = *w;
			return reply(fd, &req->hdr, &rep.hdr, sizeof(rep), 0);
		}
	}
	return refuse(fd, &req->hdr, -ENOENT);
}

static int answer_stats(const struct fake *f, int fd, const struct sealshm_msg_hdr *req)
{
	struct sealshm_msg_stats_reply rep = {
		.stats = {
			.start_ns = f->start_ns,
			.uptime_ns = clock_ns(CLOCK_MONOTONIC) - f->start_mono_ns,
			.names = f->n,
			.bytes = f->bytes,
			.clients = (uint32_t)f->n_conns,
			.max_clients = FAKE_TRACKERD_CONNS,
			.pid = (uint32_t)getpid(),
		},
	};

	return reply(fd, req, &rep.hdr, sizeof(rep), 0);
}

/* Read one request on @c and answer it.  Returns 1 to keep the connection,
 * 0 to close it. */
static int answer(const struct fake *f, struct conn *c)
{
	union request rq;
	const struct sealshm_msg_spec *spec;
	ssize_t n;

	memset(&rq, 0, sizeof(rq));
	/* End of stream, a reset, a message too big for any request or with
	 * more fds than one may bring: the connection is over.  Fds that
	 * come with a request (CREATE) are closed. */
	n = raw_recv(c->fd, &rq, sizeof(rq), NULL);
	if (n <= 0)
		return 0;

	spec = sealshm_proto_request_spec(rq.hdr.type);
	if ((size_t)n < sizeof(rq.hdr) || rq.hdr.size != (size_t)n || !spec ||
	    spec->size != (size_t)n) {
		(void)refuse(c->fd, &rq.hdr, -EBADMSG);
		return 0;
	}
	if (!c->greeted && rq.hdr.type != SEALSHM_MSG_HELLO) {
		(void)refuse(c->fd, &rq.hdr, -EPROTO);
		return 0;
	}

	switch (rq.hdr.type) {
	case SEALSHM_MSG_HELLO:
		return answer_hello(c, &rq.hello);
	case SEALSHM_MSG_LIST:
		return answer_list(f, c->fd, &rq.list) == 0;
	case SEALSHM_MSG_STAT:
		return answer_stat(f, c->fd, &rq.name) == 0;
	case SEALSHM_MSG_STATS:
		return answer_stats(f, c->fd, &rq.hdr) == 0;
	default:
		/* INDEX: the library's fast path stays off; SESSION and the
		 * rest: nothing a listing needs. */
		return refuse(c->fd, &rq.hdr, -EOPNOTSUPP) == 0;
	}
}

/* Take a waiting connection into a free slot, or close it. */
static void accept_one(struct fake *f, int lfd, struct conn *conns)
{
	struct timeval tv = { .tv_sec = HELPER_IO_TIMEOUT_MS / 1000 };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (size_t i = 0; i < FAKE_TRACKERD_CONNS; i++)
		if (conns[i].fd < 0) {
			/* A client that reads nothing must not stop the fake
			 * for good: sends give up. */
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			conns[i] = (struct conn) { .fd = fd };
			f->n_conns++;
			return;
		}
	(void)close(fd);
}

/* The loop: until SIGTERM (0), idle for FAKE_TRACKERD_IDLE_MS (2) or a
 * failure (1).  SIGTERM is blocked but while waiting in ppoll(), so it
 * cannot slip in between the check of @stopping and the wait. */
static int fake_serve(struct fake *f, int lfd, const sigset_t *wait_mask)
{
	struct conn conns[FAKE_TRACKERD_CONNS];
	uint64_t idle_end = helper_now_ms() + FAKE_TRACKERD_IDLE_MS;

	for (size_t i = 0; i < FAKE_TRACKERD_CONNS; i++)
		conns[i] = (struct conn) { .fd = -EBADF };

	while (!stopping) {
		struct pollfd p[1 + FAKE_TRACKERD_CONNS];
		size_t slot[1 + FAKE_TRACKERD_CONNS], np = 0;
		uint64_t now = helper_now_ms(), left;
		struct timespec ts;

		if (now >= idle_end)
			return 2;
		left = idle_end - now;
		ts = (struct timespec) { .tv_sec = (time_t)(left / 1000),
					 .tv_nsec = (long)(left % 1000) * 1000000 };

		p[np++] = (struct pollfd) { .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < FAKE_TRACKERD_CONNS; i++)
			if (conns[i].fd >= 0) {
				slot[np] = i;
				p[np++] = (struct pollfd) { .fd = conns[i].fd, .events = POLLIN };
			}
		if (ppoll(p, np, &ts, wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}

		for (size_t k = 1; k < np; k++) {
			struct conn *c = &conns[slot[k]];

			if (!p[k].revents)
				continue;
			idle_end = helper_now_ms() + FAKE_TRACKERD_IDLE_MS;
			if (!answer(f, c)) {
				c->fd = safe_close(c->fd);
				c->greeted = false;
				f->n_conns--;
			}
		}
		if (p[0].revents & POLLIN) {
			idle_end = helper_now_ms() + FAKE_TRACKERD_IDLE_MS;
			accept_one(f, lfd, conns);
		}
	}
	return 0;
}

/* The forked child: set up, then serve.  Returns its exit code. */
static int fake_main(int lfd, pid_t parent, const char *const *names, size_t n,
		     unsigned int flags, const sigset_t *test_mask)
{
	struct sigaction sa = { .sa_handler = on_sigterm };
	sigset_t wait_mask = *test_mask;
	struct fake f;

	/* Dies with the test; a test gone before the prctl() took effect
	 * would never send the signal. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return 1;
	/* Nothing of the test's but stdio and the listening socket: a copy
	 * of the test's session or request connection would keep it open
	 * for as long as the fake lives. */
	if (lfd > 3)
		(void)close_range(3, (unsigned int)lfd - 1, 0);
	(void)close_range((unsigned int)lfd + 1, ~0U, 0);

	/* No SA_RESTART: ppoll() returns on it (it never restarts anyway). */
	if (sigaction(SIGTERM, &sa, NULL) < 0)
		return 1;
	(void)sigdelset(&wait_mask, SIGTERM);
	if (fake_build(&f, names, n, flags) < 0)
		return 1;
	return fake_serve(&f, lfd, &wait_mask);
}

int fake_trackerd_start(struct fake_trackerd *f, const char *path, const char *const *names,
			unsigned int flags)
{
	pid_t parent = getpid(), pid;
	sigset_t term, old;
	size_t n = 0;
	int lfd, r = 0;

	*f = (struct fake_trackerd) FAKE_TRACKERD_INIT;
	while (names && names[n])
		n++;
	if (n > SEALSHM_PROTO_LIST_PAGE)
		return -E2BIG;
	if (strlen(path) >= sizeof(f->sock))
		return -ENAMETOOLONG;
	lfd = helper_listen_unix(path, SOCK_SEQPACKET);
	if (lfd < 0)
		return lfd;

	/* SIGTERM blocked across fork(): a stop that comes before the child
	 * has its handler waits for it instead of killing it. */
	(void)sigemptyset(&term);
	(void)sigaddset(&term, SIGTERM);
	(void)pthread_sigmask(SIG_BLOCK, &term, &old);
	pid = fork();
	if (pid == 0)
		_exit(fake_main(lfd, parent, names, n, flags, &old));
	if (pid < 0)
		r = -errno;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	(void)close(lfd);
	if (r < 0) {
		(void)unlink(path);
		return r;
	}
	f->pid = pid;
	strcpy(f->sock, path);
	return 0;
}

int fake_trackerd_stop(struct fake_trackerd *f)
{
	int status;

	if (f->pid <= 0)
		return 0;
	(void)kill(f->pid, SIGTERM);
	status = helper_reap(f->pid, HELPER_IO_TIMEOUT_MS);
	f->pid = 0;
	(void)unlink(f->sock);
	return helper_exit_code(status);
}

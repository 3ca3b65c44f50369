// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: trackerd's real request path, in-process.
 *
 * trackerd's objects (all but main.c, listen.c, log.c and sandbox.c) run
 * their event loop in a thread of their own, exactly as in the daemon:
 * clients.c accepts, reads with sealshm__recv(), request.c validates and
 * answers, sessions, the registry, the index and the holder ids are the
 * real ones.
 * Only two things are replaced: the listener (an eventfd that says "a
 * connection is waiting", handing over one end of a socketpair), and the
 * log (silent; FUZZ_LOG=1 writes it to stderr).
 *
 * Each input is one message, sent on a fresh connection:
 *   byte 0, bits 0-2: the fds that go with it: none, a sealed memfd of the
 *     size the message's CREATE size field says, an unsealed memfd, a pipe,
 *     a sealed memfd and its read-only twin (CREATE's second fd; hostile_test
 *     sends the bad twins), a memfd sealed against shrinking only, an eventfd,
 *     a sealed memfd opened O_RDONLY;
 *   bit 3: send a good HELLO first;
 *   bit 4: make the connection a session first (the message then goes on a
 *     session: TRACK or the end of it);
 *   bit 5: open a second connection as a session and write its token into
 *     the message's CREATE/ATTACH token field (tracked requests that work);
 *   bytes 1..: the message (up to 1024 bytes).
 * After it: every reply trackerd sends must be well formed, a CREATE that
 * succeeded is undone, every connection is closed, and this process (which
 * is trackerd too) must hold exactly the fds it held before the input
 * (it found that a zero-length datagram carrying fds leaked them in
 * trackerd; hostile_test.c empty_datagram_with_fds keeps that fixed).
 * A hang (no HELLO reply, no sync within 5 s) aborts, so it is found too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "fdpass.h"
#include "internal.h"
#include "proto.h"
#include "../../trackerd/client.h"
#include "../../trackerd/holder.h"
#include "../../trackerd/index.h"
#include "../../trackerd/listen.h"
#include "../../trackerd/log.h"
#include "../../trackerd/loop.h"
#include "../../trackerd/registry.h"
#include "../../trackerd/request.h"
#include "../../trackerd/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_NAMES	1024
#define FUZZ_MSG_MAX	1024
#define FUZZ_TIMEOUT_S	5

/* --- the log: silent unless FUZZ_LOG=1 ----------------------------------- */
static bool log_on;
static bool log_verbose;

void log_set_verbose(bool on)
{
	log_verbose = on;
}

bool log_is_verbose(void)
{
	return log_verbose;
}

static void log_line(const char *fmt, va_list ap)
{
	if (!log_on)
		return;
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

/* --- the listener: one socketpair end at a time -------------------------- */
struct listener {
	int efd;		/* readable while a connection waits */
	_Atomic int pending;	/* trackerd's end of it, or -1 */
};

static struct listener fake = { .efd = -1, .pending = -1 };

int listener_fd(const struct listener *l)
{
	return l->efd;
}

int listener_accept(struct listener *l)
{
	uint64_t v;
	int fd = atomic_exchange(&l->pending, -1);

	(void)read(l->efd, &v, sizeof(v));
	return fd >= 0 ? fd : -EAGAIN;
}

/* SHUTDOWN's, a manager's only: the fuzzed trackerd is none. */
void listener_unlink(struct listener *l)
{
	(void)l;
}

/* --- trackerd, in its own thread ---------------------------------------- */
static struct loop *loop;
static struct index *idx;
static struct holders *holders;
static struct registry *registry;
static struct sessions *sessions;
static struct clients *clients;
static struct requests *requests;
static int sync_sock = -1;	/* a greeted connection: LIST round trips */

static void *loop_thread(void *arg)
{
	(void)arg;
	(void)loop_run(loop);
	return NULL;
}

static void die(const char *what)
{
	fprintf(stderr, "trackerd_fuzz: %s (errno %d)\n", what, errno);
	abort();
}

/* Open fds of this process (the fuzzer's and trackerd's), not counting
 * the directory's own. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		die("/proc/self/fd");
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
			n++;
	closedir(d);
	return n;
}

/* A connection to the in-process trackerd; waits until it is accepted
 * (the pending slot is empty again). */
static int fuzz_connect(void)
{
	struct timeval tv = { .tv_sec = FUZZ_TIMEOUT_S };
	uint64_t one = 1;
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		die("socketpair");
	if (fcntl(sp[1], F_SETFL, O_NONBLOCK) < 0)
		die("O_NONBLOCK");
	(void)setsockopt(sp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(sp[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	atomic_store(&fake.pending, sp[1]);
	if (write(fake.efd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	for (int i = 0; atomic_load(&fake.pending) >= 0; i++) {
		if (i > FUZZ_TIMEOUT_S * 10000)
			die("connection never accepted");
		usleep(100);
	}
	return sp[0];
}

/* One reply on @sock (blocking up to the timeout); it must be well formed.
 * Returns its length, 0 at the end of the stream, -1 when none came. */
static ssize_t get_reply(int sock, void *buf, size_t len, int flags)
{
	int fds[SEALSHM_PROTO_FDS_MAX];
	size_t nfds = 0;
	ssize_t n = sealshm__recv(sock, buf, len, fds, 1, &nfds, flags);
	const struct sealshm_msg_hdr *h = buf;

	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	if (n == 0 || n == -ECONNRESET)
		return 0;
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(*h) || h->size != (uint32_t)n || !(h->type & SEALSHM_MSG_REPLY) ||
	    h->status > 0 || h->status < -4095 || (nfds && h->status != 0))
		die("malformed reply");
	return n;
}

static int greet(int sock)
{
	struct sealshm_msg_hello req = {
		.hdr = { .type = SEALSHM_MSG_HELLO, .size = sizeof(req), .seq = 1 },
		.magic = SEALSHM_PROTO_MAGIC, .version = SEALSHM_PROTO_VERSION,
	};
	_Alignas(8) char buf[64];

	if (sealshm__send(sock, &req, sizeof(req), NULL, 0, 0) < 0)
		die("hello send");
	if (get_reply(sock, buf, sizeof(buf), 0) != sizeof(struct sealshm_msg_hello_reply))
		die("no hello reply");
	return ((struct sealshm_msg_hdr *)buf)->status;
}

/* Make @sock (greeted) a session; its token into @token. */
static int make_session(int sock, uint8_t *token)
{
	struct sealshm_msg_hdr req = { .type = SEALSHM_MSG_SESSION, .size = sizeof(req), .seq = 2 };
	_Alignas(8) char buf[64];
	const struct sealshm_msg_session_reply *rep = (void *)buf;

	if (sealshm__send(sock, &req, sizeof(req), NULL, 0, 0) < 0)
		die("session send");
	if (get_reply(sock, buf, sizeof(buf), 0) <= 0)
		die("no session reply");
	if (rep->hdr.status)
		return rep->hdr.status;
	memcpy(token, rep->token, SEALSHM_PROTO_TOKEN_SIZE);
	return 0;
}

/* A round trip on the sync connection: trackerd has handled what was sent
 * before it (and read the sessions' pending messages, as LIST does). */
static void sync_trackerd(void)
{
	static _Alignas(8) char buf[SEALSHM_PROTO_MSG_MAX];
	struct sealshm_msg_list req = {
		.hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(req), .seq = 3 },
	};

	if (sealshm__send(sync_sock, &req, sizeof(req), NULL, 0, 0) < 0)
		die("sync send");
	if (get_reply(sync_sock, buf, sizeof(buf), 0) <= 0)
		die("no sync reply: trackerd hangs");
}

static void fuzz_init(void)
{
	pthread_t t;
	int r;

	log_on = getenv("FUZZ_LOG") && !strcmp(getenv("FUZZ_LOG"), "1");
	fake.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fake.efd < 0)
		die("eventfd");
	if (loop_new(&loop) < 0)
		die("loop_new");
	if (index_new(FUZZ_MAX_NAMES, &idx) < 0)
		idx = NULL;	/* as trackerd: serve without one */
	if (holders_new(FUZZ_MAX_NAMES, &holders) < 0)
		holders = NULL;	/* as trackerd: serve without holder ids */
	r = registry_new(FUZZ_MAX_NAMES, FUZZ_MAX_NAMES, 0, idx, &registry);
	if (r < 0)
		die("registry_new");
	if (sessions_new(registry, FUZZ_MAX_NAMES, &sessions) < 0)
		die("sessions_new");
	if (requests_new(&(struct request_config){
				 .registry = registry,
				 .sessions = sessions,
				 .index = idx,
				 .holders = holders,
				 .max_name_fds = FUZZ_MAX_NAMES,
				 .euid = geteuid(),
			 }, &requests) < 0)
		die("requests_new");
	if (clients_new(loop, &fake, &request_client_ops, requests, &clients) < 0)
		die("clients_new");
	if (pthread_create(&t, NULL, loop_thread, NULL) != 0)
		die("pthread_create");
	sync_sock = fuzz_connect();
	if (greet(sync_sock) != 0)
		die("sync hello refused");
	sync_trackerd();
}

/* The fds that go with the message (kind 0..7); returns how many. */
static size_t make_fds(unsigned kind, const uint8_t *msg, size_t len, int *fds)
{
	uint64_t size = 4096;
	char path[64];
	int p[2];

	if (len >= 24) {
		memcpy(&size, msg + 16, sizeof(size));
		if (size == 0 || size > (1u << 20))
			size = 4096;
	}
	switch (kind) {
	case 0:
		return 0;
	case 1:
	case 4:
	case 7:
		fds[0] = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fds[0] < 0 || ftruncate(fds[0], (off_t)size) < 0 ||
		    fcntl(fds[0], F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
			die("memfd");
		if (kind == 1)
			return 1;
		/* 4: the memfd and its read-only twin (CREATE's two fds);
		 * 7: the read-only open alone. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
		p[0] = open(path, O_RDONLY | O_CLOEXEC);
		if (p[0] < 0)
			die("reopen");
		if (kind == 4) {
			fds[1] = p[0];
			return 2;
		}
		close(fds[0]);
		fds[0] = p[0];
		return 1;
	case 2:
	case 5:
		fds[0] = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fds[0] < 0 || ftruncate(fds[0], (off_t)size) < 0 ||
		    (kind == 5 && fcntl(fds[0], F_ADD_SEALS, F_SEAL_SHRINK) < 0))
			die("memfd");
		return 1;
	case 3:
		if (pipe2(p, O_CLOEXEC) < 0)
			die("pipe");
		close(p[1]);
		fds[0] = p[0];
		return 1;
	default:
		fds[0] = eventfd(0, EFD_CLOEXEC);
		if (fds[0] < 0)
			die("eventfd");
		return 1;
	}
}

/* Send @len bytes with @nfds fds, as many as make_fds() makes. */
static void send_raw(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	char control[CMSG_SPACE(sizeof(int) * 2)] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	/* A session's socket may be full, a closed one refuses: both fine. */
	(void)sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Undo a CREATE that succeeded (unlink its name on the sync connection). */
static void undo_create(const uint8_t *msg, size_t len)
{
	struct sealshm_msg_name req = {
		.hdr = { .type = SEALSHM_MSG_UNLINK, .size = sizeof(req), .seq = 4 },
	};
	_Alignas(8) char buf[64];

	if (len < sizeof(struct sealshm_msg_create))
		die("a short CREATE succeeded");
	memcpy(req.name, msg + offsetof(struct sealshm_msg_create, name), sizeof(req.name));
	if (sealshm__send(sync_sock, &req, sizeof(req), NULL, 0, 0) < 0)
		die("unlink send");
	/* 0 or -ENOENT (a tracked name may have gone with its session). */
	if (get_reply(sync_sock, buf, sizeof(buf), 0) <= 0)
		die("no unlink reply");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	_Alignas(8) uint8_t msg[FUZZ_MSG_MAX];
	static _Alignas(8) char buf[SEALSHM_PROTO_MSG_MAX];
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	int sock, other = -1, fds[2], n, baseline_fds;
	bool created = false;
	size_t len, nfds;
	uint8_t mode;

	if (!ready) {
		fuzz_init();
		ready = true;
	}
	if (size < 1)
		return 0;
	/* Counted per input: between inputs libFuzzer may start its
	 * symbolizer, whose pipes are no leak of ours. */
	baseline_fds = count_fds();
	mode = data[0];
	len = size - 1 > sizeof(msg) ? sizeof(msg) : size - 1;
	memcpy(msg, data + 1, len);

	sock = fuzz_connect();
	if ((mode & 0x08) && greet(sock) == 0 && (mode & 0x10))
		(void)make_session(sock, token);
	if (mode & 0x20) {
		other = fuzz_connect();
		if (greet(other) == 0 && make_session(other, token) == 0) {
			if (len >= offsetof(struct sealshm_msg_create, name))
				memcpy(msg + offsetof(struct sealshm_msg_create, token), token,
				       sizeof(token));
			else if (len >= offsetof(struct sealshm_msg_name, name))
				memcpy(msg + offsetof(struct sealshm_msg_name, token), token,
				       sizeof(token));
		}
	}

	nfds = make_fds(mode & 7, msg, len, fds);
	send_raw(sock, msg, len, fds, nfds);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	sync_trackerd();

	/* Every reply that came, well formed. */
	for (;;) {
		ssize_t r = get_reply(sock, buf, sizeof(buf), MSG_DONTWAIT);
		const struct sealshm_msg_hdr *h = (const void *)buf;

		if (r <= 0)
			break;
		if (h->type == (SEALSHM_MSG_CREATE | SEALSHM_MSG_REPLY) && h->status == 0)
			created = true;
	}
	if (created)
		undo_create(msg, len);

	close(sock);
	if (other >= 0)
		close(other);
	/* Closed connections end sessions and free their fds; the fds of a
	 * name a CREATE registered went with the unlink. */
	for (int i = 0; (n = count_fds()) != baseline_fds; i++) {
		if (i >= 100) {
			fprintf(stderr, "trackerd_fuzz: %d fds, %d before the input\n", n,
				baseline_fds);
			for (int fd = 0; fd < 1024; fd++) {
				char path[64], target[128];
				ssize_t k;

				snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
				k = readlink(path, target, sizeof(target) - 1);
				if (k > 0)
					fprintf(stderr, "  fd %d: %.*s\n", fd, (int)k, target);
			}
			die("fd leak");
		}
		sync_trackerd();
		usleep(i < 10 ? 0 : 1000);
	}
	return 0;
}

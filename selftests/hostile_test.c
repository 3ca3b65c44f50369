// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hostile clients: one trackerd, started before the first test and shared
 * by all of them, is attacked with everything a client controls (the fds
 * it passes, every field of every message, framing, names, connection
 * counts, reading nothing, hanging up at the worst moment, flooding a
 * session).  After each attack a well-behaved client must still create,
 * attach and unlink within WELL_BEHAVED_MS, and trackerd must hold the fds
 * it held before the attack; the last test checks trackerd's fd count
 * against the one it had before the first.
 *
 * trackerd_protocol_test.c has the one-off cases of malformed messages and
 * checks their exact replies; this suite sweeps the whole space and cares
 * about survival and service: a refusal must be an error reply (or a
 * closed connection for framing errors), never a crash, a hang or a leak.
 */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "kselftest_harness.h"

#include "helpers.h"

/* The bound on a well-behaved create + attach + unlink under attack. */
#define WELL_BEHAVED_MS	2000
/* Idle connections held at once: within one uid's share of trackerd's
 * connections (three quarters of LIMIT_CLIENTS, 768), with the library's
 * own; trackerd_limits_test.c goes past it. */
#define IDLE_CONNS	700
/* SCM_MAX_FD: the most fds the kernel lets one message carry. */
#define SCM_MAX		253

/* The shared daemon, started by main() before the harness forks a test. */
static struct trackerd daemon_;
static int daemon_fds_baseline;

/* --- helpers -------------------------------------------------------------- */

/* Create, attach (and see the creator's byte), unlink: the library still
 * serves.  Returns the milliseconds it took, or -errno. */
static int well_behaved(void)
{
	struct sealshm *a = NULL, *b = NULL;
	uint64_t t0 = helper_now_ms();
	char name[64];
	int r;

	snprintf(name, sizeof(name), "well_behaved_%d", (int)getpid());
	r = sealshm_create(name, 4096, NULL, &a);
	if (r < 0)
		return r;
	((char *)sealshm_buf(a))[7] = 'w';
	r = sealshm_attach(name, NULL, &b);
	if (r == 0 && ((char *)sealshm_buf(b))[7] != 'w')
		r = -EIO;
	if (sealshm_unlink(a) < 0 && r == 0)
		r = -EIO;
	sealshm_close(a);
	sealshm_close(b);
	return r < 0 ? r : (int)(helper_now_ms() - t0);
}

/* Send @len bytes with @nfds fds (up to SCM_MAX, repeats allowed). */
static int send_many_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	static char control[CMSG_SPACE(sizeof(int) * SCM_MAX)];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (nfds > SCM_MAX)
		return -EINVAL;
	if (nfds) {
		memset(control, 0, sizeof(control));
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Status of one request on @sock: the reply's status, 1 when the reply was
 * a success, -ENOTCONN when trackerd closed the connection without one, or
 * the transport's -errno.  A reply must echo @seq and the type. */
static int call_status(int sock, const void *req, size_t len, const int *fds, size_t nfds)
{
	static char reply[SEALSHM_PROTO_MSG_MAX];
	const struct sealshm_msg_hdr *rq = req, *h = (void *)reply;
	struct sealshm_msg_hdr copy = { 0 };
	int fd = -EBADF;
	ssize_t n;
	int r;

	memcpy(&copy, rq, len < sizeof(copy) ? len : sizeof(copy));
	r = send_many_fds(sock, req, len, fds, nfds);
	if (r < 0)
		return r == -EPIPE || r == -ECONNRESET ? -ENOTCONN : r;
	n = raw_recv(sock, reply, sizeof(reply), &fd);
	safe_close(fd);
	if (n == 0 || n == -ECONNRESET)
		return -ENOTCONN;
	if (n < 0)
		return (int)n;
	if (n < (ssize_t)sizeof(*h) || h->size != (uint32_t)n || h->seq != copy.seq ||
	    h->type != (copy.type | SEALSHM_MSG_REPLY) || h->status > 0)
		return -EPROTO;		/* a malformed reply is a failure */
	return h->status == 0 ? 1 : h->status;
}

/* A fresh greeted connection to the shared daemon. */
static int hostile_client(void)
{
	return raw_client(daemon_.sock, NULL);
}

/* trackerd's fds now, waiting up to 3 s for it to come back to @want. */
static int daemon_fds(int want)
{
	return helper_wait_fds(daemon_.pid, want, 3000);
}

/* Every test: the library's connections are open (well_behaved() once),
 * trackerd's fd count then is the test's baseline. */
FIXTURE(hostile) {
	int base;		/* trackerd's fds before the attack */
};

FIXTURE_SETUP(hostile)
{
	int ms = well_behaved();

	ASSERT_GE(ms, 0) {
		TH_LOG("well-behaved client before the attack: %s", strerror(-ms));
	}
	self->base = helper_count_fds(daemon_.pid);
	ASSERT_GT(self->base, 0);
}

/* After every attack: alive, serving within the bound, no fd kept. */
FIXTURE_TEARDOWN(hostile)
{
	int ms;

	ASSERT_TRUE(helper_pid_alive(daemon_.pid));
	ms = well_behaved();
	EXPECT_GE(ms, 0) {
		TH_LOG("well-behaved client after the attack: %s", strerror(-ms));
	}
	EXPECT_LT(ms, WELL_BEHAVED_MS);
	EXPECT_EQ(self->base, daemon_fds(self->base));
	if (!_metadata->passed) {
		char *log = trackerd_log(&daemon_);
		size_t len = strlen(log);

		/* The tail: the daemon is shared, its log is long. */
		TH_LOG("trackerd log (tail):\n%s", len > 4000 ? log + len - 4000 : log);
		free(log);
	}
}

/* A CREATE of @name claiming @size with @fd; returns call_status(). */
static int create_with(int sock, const char *name, uint64_t size, uint32_t mode, uint32_t flags,
		       int fd)
{
	struct sealshm_msg_create req;

	raw_create_req(&req, 41, name, size, mode, flags);
	return call_status(sock, &req, sizeof(req), &fd, 1);
}

/* A LIST round trip works on @sock: the connection is alive and in step. */
static bool raw_list_works_here(int sock)
{
	struct sealshm_msg_list req = {
		.hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(req), .seq = 77 },
	};

	return call_status(sock, &req, sizeof(req), NULL, 0) == 1;
}

/* No name @name is registered. */
static bool absent(const char *name)
{
	struct sealshm_info info;

	return sealshm_stat(name, NULL, &info) == -ENOENT;
}

/* --- fds that are not what CREATE needs ------------------------------------ */

/* Regular file, pipe, socket, eventfd, O_PATH: refused with an error reply,
 * the connection stays, nothing registered. */
TEST_F(hostile, non_memfd_fds)
{
	int sock = hostile_client(), fds[6], sp[2], pp[2], n = 0;

	ASSERT_GE(sock, 0);
	fds[n] = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fds[n] >= 0) {
		ASSERT_EQ(0, ftruncate(fds[n], 4096));
		n++;
	}
	ASSERT_EQ(0, pipe2(pp, O_CLOEXEC));
	fds[n++] = pp[0];
	fds[n++] = pp[1];
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	fds[n++] = sp[0];
	fds[n] = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(fds[n], 0);
	n++;
	fds[n] = open("/dev/null", O_PATH | O_CLOEXEC);
	ASSERT_GE(fds[n], 0);
	n++;
	for (int i = 0; i < n; i++) {
		EXPECT_GT(0, create_with(sock, "not_a_memfd", 4096, 0600, 0, fds[i])) {
			TH_LOG("fd kind %d was accepted", i);
		}
		EXPECT_TRUE(absent("not_a_memfd"));
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	close(sp[1]);
	close(sock);
}

/* Memfds without both size seals, or whose size is not the claimed one. */
TEST_F(hostile, unsealed_half_sealed_and_lying_memfds)
{
	static const unsigned int seals[] = {
		0, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE | F_SEAL_SEAL,
	};
	static const uint64_t lies[] = { 0, 1, 4095, 4097, 8192, UINT64_MAX, UINT64_MAX - 4095,
					 1ull << 63 };
	int sock = hostile_client(), fd;

	ASSERT_GE(sock, 0);
	for (size_t i = 0; i < ELEMENTSOF(seals); i++) {
		fd = helper_memfd(4096, seals[i]);
		ASSERT_GE(fd, 0);
		EXPECT_GT(0, create_with(sock, "half_sealed", 4096, 0600, 0, fd)) {
			TH_LOG("seals %#x were accepted", seals[i]);
		}
		close(fd);
	}
	/* Not created with MFD_ALLOW_SEALING: F_SEAL_SEAL from birth. */
	fd = memfd_create("no_sealing", MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	EXPECT_GT(0, create_with(sock, "half_sealed", 4096, 0600, 0, fd));
	close(fd);

	fd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(fd, 0);
	for (size_t i = 0; i < ELEMENTSOF(lies); i++) {
		EXPECT_GT(0, create_with(sock, "size_lie", lies[i], 0600, 0, fd)) {
			TH_LOG("size %llu for a 4096-byte memfd was accepted",
			       (unsigned long long)lies[i]);
		}
	}
	/* Read-only fd of a good memfd. */
	{
		char path[64];
		int ro;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ro = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_GE(ro, 0);
		EXPECT_GT(0, create_with(sock, "size_lie", 4096, 0600, 0, ro));
		close(ro);
	}
	close(fd);
	EXPECT_TRUE(absent("half_sealed"));
	EXPECT_TRUE(absent("size_lie"));
	close(sock);
}

/* 0, 3 and 253 fds with a CREATE (it takes 1 or 2), 1 and 253 with
 * requests that take none: refused, the connection closed, every fd
 * trackerd received closed. */
TEST_F(hostile, wrong_fd_counts)
{
	static int fds[SCM_MAX];
	static const size_t counts[] = { 0, 3, 4, SCM_MAX };
	struct sealshm_msg_create req;
	struct sealshm_msg_name att;
	int mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);

	ASSERT_GE(mfd, 0);
	for (int i = 0; i < SCM_MAX; i++)
		fds[i] = mfd;
	raw_create_req(&req, 5, "fd_count", 4096, 0600, 0);
	for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
		int sock = hostile_client(), r;

		ASSERT_GE(sock, 0);
		r = call_status(sock, &req, sizeof(req), fds, counts[i]);
		EXPECT_TRUE(r < 0 && r != -EPROTO) {
			TH_LOG("create with %zu fds: %d", counts[i], r);
		}
		EXPECT_TRUE(raw_closed_by_peer(sock));
		close(sock);
	}
	raw_name_req(&att, SEALSHM_MSG_STAT, 6, "fd_count", 0);
	for (size_t n = 1; n <= SCM_MAX; n += SCM_MAX - 1) {
		int sock = hostile_client(), r;

		ASSERT_GE(sock, 0);
		r = call_status(sock, &att, sizeof(att), fds, n);
		EXPECT_TRUE(r < 0 && r != -EPROTO);
		close(sock);
	}
	close(mfd);
	EXPECT_TRUE(absent("fd_count"));
}

/* A CREATE's second fd that is no read-only twin of its memfd (O_RDONLY,
 * same inode): every other kind of fd, and a twin of another memfd, is
 * refused with an error reply, nothing registered, the registry's count
 * unchanged, the connection kept, and no fd of it left in trackerd.  A
 * real twin still registers. */
TEST_F(hostile, create_with_bad_read_only_twin)
{
	int sock = hostile_client(), mfd, other, bad[9], sp[2], pp[2], n = 0, fds[2];
	struct sealshm_registry_stats before, after;
	char path[64];

	ASSERT_GE(sock, 0);
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &before));
	mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	other = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(mfd, 0);
	ASSERT_GE(other, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	bad[n++] = mfd;					/* itself: read-write */
	bad[n++] = open(path, O_RDWR | O_CLOEXEC);	/* read-write reopen */
	bad[n++] = open(path, O_WRONLY | O_CLOEXEC);	/* write-only */
	bad[n++] = open(path, O_PATH | O_CLOEXEC);	/* no access at all */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", other);
	bad[n++] = open(path, O_RDONLY | O_CLOEXEC);	/* another memfd's twin */
	bad[n++] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(0, pipe2(pp, O_CLOEXEC));
	bad[n++] = pp[0];
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	bad[n++] = sp[0];
	bad[n++] = eventfd(0, EFD_CLOEXEC);
	for (int i = 0; i < n; i++)
		ASSERT_GE(bad[i], 0);

	fds[0] = mfd;
	for (int i = 0; i < n; i++) {
		struct sealshm_msg_create req;

		raw_create_req(&req, 43, "bad_twin", 4096, 0600, 0);
		fds[1] = bad[i];
		EXPECT_EQ(-EINVAL, call_status(sock, &req, sizeof(req), fds, 2)) {
			TH_LOG("second fd kind %d", i);
		}
		EXPECT_TRUE(absent("bad_twin"));
		EXPECT_TRUE(raw_list_works_here(sock));
	}
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &after));
	EXPECT_EQ(before.names, after.names);
	EXPECT_TRUE(helper_pid_alive(daemon_.pid));

	/* The connection still registers a memfd with its real twin. */
	{
		struct sealshm_msg_create req;
		struct sealshm_msg_name un;

		raw_create_req(&req, 44, "bad_twin", 4096, 0600, 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
		fds[1] = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_GE(fds[1], 0);
		EXPECT_EQ(1, call_status(sock, &req, sizeof(req), fds, 2));
		close(fds[1]);
		raw_name_req(&un, SEALSHM_MSG_UNLINK, 45, "bad_twin", 0);
		EXPECT_EQ(1, call_status(sock, &un, sizeof(un), NULL, 0));
	}
	for (int i = 1; i < n; i++)
		close(bad[i]);
	close(sp[1]);
	close(pp[1]);
	close(other);
	close(mfd);
	close(sock);
}

/* Every request type cut at every length below its size, and grown past
 * it up to beyond trackerd's receive buffer: refused and closed. */
TEST_F(hostile, truncated_and_oversized_messages)
{
	static const uint32_t types[] = {
		SEALSHM_MSG_HELLO, SEALSHM_MSG_CREATE, SEALSHM_MSG_ATTACH, SEALSHM_MSG_UNLINK,
		SEALSHM_MSG_STAT, SEALSHM_MSG_LIST, SEALSHM_MSG_SESSION, SEALSHM_MSG_INDEX,
	};
	static char buf[SEALSHM_PROTO_MSG_MAX + 4096];
	static const size_t big[] = { 1, 8, 511, 512, 513, 4096, SEALSHM_PROTO_MSG_MAX,
				      sizeof(buf) };
	int mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);

	ASSERT_GE(mfd, 0);
	for (size_t t = 0; t < ELEMENTSOF(types); t++) {
		const struct sealshm_msg_spec *spec = sealshm_proto_request_spec(types[t]);
		int nfds;

		ASSERT_NE(NULL, spec);
		nfds = spec->nfds_min;	/* a count the type takes */
		/* Cut: 1 .. size - 1 bytes (0 bytes reads as end of stream). */
		for (size_t len = 1; len < spec->size; len++) {
			int sock = hostile_client(), r;
			struct sealshm_msg_hdr *h = (void *)buf;

			ASSERT_GE(sock, 0);
			memset(buf, 0, spec->size);
			h->type = types[t];
			h->size = spec->size;	/* the header lies too */
			h->seq = (uint32_t)len;
			r = call_status(sock, buf, len, &mfd, nfds);
			EXPECT_TRUE(r < 0 && r != -EPROTO) {
				TH_LOG("%s cut to %zu bytes: %d", spec->name, len, r);
			}
			close(sock);
		}
		/* Grown. */
		for (size_t i = 0; i < ELEMENTSOF(big); i++) {
			int sock = hostile_client(), r;
			struct sealshm_msg_hdr *h = (void *)buf;
			size_t len = spec->size + big[i];

			ASSERT_GE(sock, 0);
			memset(buf, 'A', sizeof(buf));
			h->type = types[t];
			h->size = (uint32_t)len;
			h->seq = 3;
			h->status = 0;
			if (len > sizeof(buf))
				len = sizeof(buf);
			r = call_status(sock, buf, len, &mfd, nfds);
			/* A datagram above the socket buffer is refused by
			 * the kernel (EMSGSIZE, ENOBUFS) before trackerd. */
			EXPECT_TRUE(r < 0 && r != -EPROTO) {
				TH_LOG("%s grown to %zu bytes: %d", spec->name, len, r);
			}
			close(sock);
		}
	}
	close(mfd);
}

/* Bad magic and every sort of wrong version: -EPROTO, then closed. */
TEST_F(hostile, wrong_protocol_version)
{
	static const uint32_t versions[] = { 0, 1, SEALSHM_PROTO_VERSION - 1,
					     SEALSHM_PROTO_VERSION + 1, 0x7fffffff, UINT32_MAX };
	static const uint32_t magics[] = { 0, ~SEALSHM_PROTO_MAGIC, 0x5353484d, UINT32_MAX };

	for (size_t i = 0; i < ELEMENTSOF(versions) + ELEMENTSOF(magics); i++) {
		struct sealshm_msg_hello_reply rep;
		int sock = raw_connect(daemon_.sock);
		bool v = i < ELEMENTSOF(versions);
		ssize_t n;

		ASSERT_GE(sock, 0);
		n = raw_hello_with(sock, v ? SEALSHM_PROTO_MAGIC : magics[i - ELEMENTSOF(versions)],
				   v ? versions[i] : SEALSHM_PROTO_VERSION, &rep);
		EXPECT_LE((ssize_t)sizeof(rep.hdr), n);
		EXPECT_EQ(-EPROTO, rep.hdr.status);
		EXPECT_TRUE(raw_closed_by_peer(sock));
		close(sock);
	}
}

/* Unknown types, before and after HELLO, replies sent as requests, and a
 * second HELLO: refused (closed for unknown types), never a crash. */
TEST_F(hostile, unknown_message_types)
{
	static const uint32_t types[] = {
		0, SEALSHM_MSG_TRACK + 1, 100, 0x7fff, SEALSHM_MSG_REPLY,
		SEALSHM_MSG_REPLY | SEALSHM_MSG_HELLO, SEALSHM_MSG_REPLY | SEALSHM_MSG_CREATE,
		0x10000 | SEALSHM_MSG_HELLO, 0x80000000u | SEALSHM_MSG_LIST, UINT32_MAX,
	};

	for (size_t i = 0; i < ELEMENTSOF(types); i++) {
		for (int greeted = 0; greeted < 2; greeted++) {
			struct sealshm_msg_name req;
			int sock = greeted ? hostile_client() : raw_connect(daemon_.sock), r;

			ASSERT_GE(sock, 0);
			raw_name_req(&req, types[i], 8, "x", 0);
			r = call_status(sock, &req, sizeof(req), NULL, 0);
			EXPECT_TRUE(r < 0 && r != -EPROTO) {
				TH_LOG("type %#x (greeted %d): %d", types[i], greeted, r);
			}
			EXPECT_TRUE(raw_closed_by_peer(sock));
			close(sock);
		}
	}
	/* HELLO twice: answered either way, the connection stays usable. */
	{
		struct sealshm_msg_hello_reply rep;
		int sock = hostile_client();

		ASSERT_GE(sock, 0);
		EXPECT_LE(0, raw_hello_with(sock, SEALSHM_PROTO_MAGIC, SEALSHM_PROTO_VERSION, &rep));
		close(sock);
	}
}

/* Every field at its bounds.  Valid extremes (size 1, mode 0777, seq 0 and
 * UINT32_MAX) succeed and are echoed; invalid ones are refused with the
 * connection kept. */
TEST_F(hostile, fields_at_bounds)
{
	static const uint32_t seqs[] = { 0, 1, 0x7fffffff, 0x80000000u, UINT32_MAX };
	struct sealshm_msg_create req;
	struct sealshm_msg_name nreq;
	struct sealshm_msg_list lreq = { .hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(lreq) } };
	int sock = hostile_client(), fd, r;

	ASSERT_GE(sock, 0);
	/* size 1: the smallest segment. */
	fd = helper_memfd(1, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(1, create_with(sock, "bounds_size1", 1, 0600, 0, fd));
	close(fd);
	raw_name_req(&nreq, SEALSHM_MSG_UNLINK, 2, "bounds_size1", 0);
	EXPECT_EQ(1, call_status(sock, &nreq, sizeof(nreq), NULL, 0));

	fd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(fd, 0);
	/* size UINT64_MAX: no memfd is that large. */
	EXPECT_GT(0, create_with(sock, "bounds", UINT64_MAX, 0600, 0, fd));
	/* mode: 0777 fine; 01000, 04777, UINT32_MAX refused. */
	EXPECT_EQ(-EINVAL, create_with(sock, "bounds", 4096, 01000, 0, fd));
	EXPECT_EQ(-EINVAL, create_with(sock, "bounds", 4096, 04777, 0, fd));
	EXPECT_EQ(-EINVAL, create_with(sock, "bounds", 4096, UINT32_MAX, 0, fd));
	/* flags: every bit, every unknown bit, TRACK with a made-up token. */
	EXPECT_EQ(-EINVAL, create_with(sock, "bounds", 4096, 0600, UINT32_MAX, fd));
	EXPECT_EQ(-EINVAL, create_with(sock, "bounds", 4096, 0600,
				       ~SEALSHM_PROTO_CREATE_FLAGS, fd));
	raw_create_req(&req, 9, "bounds", 4096, 0600, SEALSHM_PROTO_TRACK);
	memset(req.token, 0xa5, sizeof(req.token));
	EXPECT_EQ(-ESTALE, call_status(sock, &req, sizeof(req), &fd, 1));
	/* A token without TRACK. */
	raw_create_req(&req, 9, "bounds", 4096, 0600, 0);
	memset(req.token, 0xff, sizeof(req.token));
	EXPECT_EQ(-EINVAL, call_status(sock, &req, sizeof(req), &fd, 1));
	EXPECT_TRUE(absent("bounds"));
	/* mode 0777 and extreme seqs, echoed. */
	for (size_t i = 0; i < ELEMENTSOF(seqs); i++) {
		raw_create_req(&req, seqs[i], "bounds", 4096, 0777, 0);
		EXPECT_EQ(1, call_status(sock, &req, sizeof(req), &fd, 1));
		raw_name_req(&nreq, SEALSHM_MSG_STAT, seqs[i], "bounds", 0);
		EXPECT_EQ(1, call_status(sock, &nreq, sizeof(nreq), NULL, 0));
		raw_name_req(&nreq, SEALSHM_MSG_UNLINK, seqs[i], "bounds", 0);
		EXPECT_EQ(1, call_status(sock, &nreq, sizeof(nreq), NULL, 0));
	}
	close(fd);
	/* Name requests: flags all bits, unknown bits, padding, TRACK. */
	for (uint32_t type = SEALSHM_MSG_ATTACH; type <= SEALSHM_MSG_STAT; type++) {
		raw_name_req(&nreq, type, 4, "bounds", UINT32_MAX);
		EXPECT_EQ(-EINVAL, call_status(sock, &nreq, sizeof(nreq), NULL, 0));
		raw_name_req(&nreq, type, 4, "bounds", ~SEALSHM_PROTO_ATTACH_FLAGS);
		EXPECT_EQ(-EINVAL, call_status(sock, &nreq, sizeof(nreq), NULL, 0));
		raw_name_req(&nreq, type, 4, "bounds", 0);
		nreq.__pad = UINT32_MAX;
		EXPECT_EQ(-EINVAL, call_status(sock, &nreq, sizeof(nreq), NULL, 0));
		raw_name_req(&nreq, type, 4, "bounds", SEALSHM_PROTO_TRACK);
		memset(nreq.token, 0x5a, sizeof(nreq.token));
		r = call_status(sock, &nreq, sizeof(nreq), NULL, 0);
		EXPECT_EQ(type == SEALSHM_MSG_ATTACH ? -ESTALE : -EINVAL, r);
	}
	/* LIST cursors: 0, far beyond the registry, the largest. */
	{
		static const uint64_t cursors[] = { 0, 1, 0xffffffffull, 1ull << 32, 1ull << 63,
						    UINT64_MAX - 1, UINT64_MAX };

		for (size_t i = 0; i < ELEMENTSOF(cursors); i++) {
			lreq.cursor = cursors[i];
			lreq.hdr.seq = (uint32_t)i;
			EXPECT_EQ(1, call_status(sock, &lreq, sizeof(lreq), NULL, 0)) {
				TH_LOG("cursor %llu", (unsigned long long)cursors[i]);
			}
		}
	}
	/* HELLO flags and padding (connection kept or not: just answered). */
	{
		struct sealshm_msg_hello h = {
			.hdr = { .type = SEALSHM_MSG_HELLO, .size = sizeof(h), .seq = UINT32_MAX },
			.magic = SEALSHM_PROTO_MAGIC, .version = SEALSHM_PROTO_VERSION,
			.flags = UINT32_MAX,
		};

		EXPECT_EQ(-EINVAL, call_status(sock, &h, sizeof(h), NULL, 0));
		h.flags = 0;
		h.__pad = 1;
		EXPECT_EQ(-EINVAL, call_status(sock, &h, sizeof(h), NULL, 0));
	}
	/* A request carrying a status: framing error, closed. */
	raw_name_req(&nreq, SEALSHM_MSG_STAT, 4, "bounds", 0);
	nreq.hdr.status = INT32_MIN;
	r = call_status(sock, &nreq, sizeof(nreq), NULL, 0);
	EXPECT_TRUE(r < 0 && r != -EPROTO);
	EXPECT_TRUE(raw_closed_by_peer(sock));
	close(sock);
}

/* Names: empty, 256 bytes without a NUL, '/' anywhere, control
 * characters, invalid UTF-8, bytes after the NUL, "." and "..", and
 * characters that spoof a listing (spaces and separators beyond ASCII,
 * zero width and bidirectional controls, tags).  Refused with -EINVAL by
 * every name request, the connection kept.  255 bytes, valid UTF-8 (emoji
 * with a variation selector) and other dots work. */
TEST_F(hostile, hostile_names)
{
	static const char *const bad[] = {
		"", "/", "/lead", "mid/dle", "trail/", "a//b", "tab\tx", "nl\nx", "cr\rx",
		"esc\x1b[2Jx", "del\x7fx", "sp ace", "\x01", "bell\x07",
		"\xff", "\xfe\xff", "\x80", "cont\x80x", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
		"\xed\xa0\x80" /* surrogate */, "\xf4\x90\x80\x80" /* > U+10FFFF */,
		"\xf5\x80\x80\x80", "\xe2\x82" /* cut */, "\xc2\x85" /* C1 NEL */,
		"\xf0\x9f\x98" /* cut emoji */, ".", "..",
		"a\xe2\x80\xae" "b" /* U+202E RLO */, "\xe2\x81\xa6x" /* U+2066 LRI */,
		"zw\xe2\x80\x8b" /* U+200B */, "\xef\xbb\xbf" /* U+FEFF */,
		"shy\xc2\xad" /* U+00AD */, "tag\xf3\xa0\x80\x81" /* U+E0001 */,
		"nb\xc2\xa0sp" /* U+00A0 */, "\xe3\x80\x80" /* U+3000 */,
		"l\xe2\x80\xa8s" /* U+2028 */, "hf\xe3\x85\xa4" /* U+3164 */,
	};
	static const uint32_t types[] = { SEALSHM_MSG_ATTACH, SEALSHM_MSG_UNLINK, SEALSHM_MSG_STAT };
	char field[SEALSHM_PROTO_NAME_SIZE];
	struct sealshm_msg_create req;
	struct sealshm_msg_name nreq;
	int sock = hostile_client();
	int fd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);

	ASSERT_GE(sock, 0);
	ASSERT_GE(fd, 0);
	for (size_t i = 0; i < ELEMENTSOF(bad) + 2; i++) {
		memset(field, 0, sizeof(field));
		if (i < ELEMENTSOF(bad)) {
			strcpy(field, bad[i]);
		} else if (i == ELEMENTSOF(bad)) {
			memset(field, 'n', sizeof(field));	/* 256 bytes, no NUL */
		} else {
			strcpy(field, "good");
			field[100] = 'x';		/* garbage after the NUL */
		}
		raw_create_req(&req, 11, "", 4096, 0600, 0);
		memcpy(req.name, field, sizeof(field));
		EXPECT_EQ(-EINVAL, call_status(sock, &req, sizeof(req), &fd, 1)) {
			TH_LOG("create name %zu accepted", i);
		}
		for (size_t t = 0; t < ELEMENTSOF(types); t++) {
			raw_name_req(&nreq, types[t], 12, "", 0);
			memcpy(nreq.name, field, sizeof(field));
			EXPECT_EQ(-EINVAL, call_status(sock, &nreq, sizeof(nreq), NULL, 0)) {
				TH_LOG("name %zu, type %u", i, types[t]);
			}
		}
	}
	/* The longest name, and UTF-8, work (and go again). */
	{
		const char *good[] = {
			NULL, "caf\xc3\xa9_\xe2\x82\xac_\xf0\x9f\x98\x80", "...",
			"\xe2\x9d\xa4\xef\xb8\x8f" /* U+2764 U+FE0F */,
		};
		char longest[SEALSHM_NAME_MAX + 1];

		memset(longest, 'L', SEALSHM_NAME_MAX);
		longest[SEALSHM_NAME_MAX] = '\0';
		good[0] = longest;
		for (size_t i = 0; i < ELEMENTSOF(good); i++) {
			EXPECT_EQ(1, create_with(sock, good[i], 4096, 0600, 0, fd));
			raw_name_req(&nreq, SEALSHM_MSG_UNLINK, 13, good[i], 0);
			EXPECT_EQ(1, call_status(sock, &nreq, sizeof(nreq), NULL, 0));
		}
	}
	EXPECT_TRUE(raw_list_works_here(sock));
	close(fd);
	close(sock);
}

/* 700 idle connections (half greeted, half silent since connect) while a
 * well-behaved client is served within the bound; the silent ones are
 * closed once their first message is late, the greeted ones stay and
 * answer; then all go, and so do their fds in trackerd.  (The fd limit is
 * raised as far as the hard limit allows; tests run as root in CI, where
 * it can be raised too.) */
TEST_F_TIMEOUT(hostile, idle_connections, 60)
{
	static int socks[IDLE_CONNS];
	int ms, r;

	r = helper_raise_nofile(IDLE_CONNS + 256);
	if (r < 0)
		SKIP(return, "cannot raise RLIMIT_NOFILE to %d: %s", IDLE_CONNS + 256,
		     strerror(-r));
	for (int i = 0; i < IDLE_CONNS; i++) {
		socks[i] = (i & 1) ? hostile_client() : raw_connect(daemon_.sock);
		ASSERT_GE(socks[i], 0) {
			TH_LOG("connection %d: %s", i, strerror(-socks[i]));
		}
	}
	ms = well_behaved();
	EXPECT_GE(ms, 0);
	EXPECT_LT(ms, WELL_BEHAVED_MS);
	TH_LOG("well-behaved client next to %d idle connections: %d ms", IDLE_CONNS, ms);
	/* The silent ones are closed 2 s after they were accepted (limits.h,
	 * LIMIT_FIRST_MESSAGE_MS): trackerd keeps one fd per greeted one. */
	EXPECT_EQ(self->base + IDLE_CONNS / 2,
		  helper_wait_fds(daemon_.pid, self->base + IDLE_CONNS / 2, 15000));
	EXPECT_TRUE(raw_closed_by_peer(socks[0]));
	/* The greeted ones still answer. */
	EXPECT_TRUE(raw_list_works_here(socks[1]));
	EXPECT_TRUE(raw_list_works_here(socks[IDLE_CONNS - 1]));
	for (int i = 0; i < IDLE_CONNS; i++)
		close(socks[i]);
}

/* A client that sends requests whose replies carry fds (read-only ATTACH:
 * a new fd each) and never reads them, then a LIST flood: trackerd stops
 * reading it, serves others, and releases the queued fds when it goes. */
TEST_F(hostile, client_never_reads_replies)
{
	struct sealshm_msg_name att;
	struct sealshm_msg_list list = {
		.hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(list) },
	};
	int mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	int owner = hostile_client(), sock = hostile_client(), sent = 0, ms;

	ASSERT_GE(mfd, 0);
	ASSERT_GE(owner, 0);
	ASSERT_GE(sock, 0);
	ASSERT_EQ(1, create_with(owner, "unread", 4096, 0644, 0, mfd));
	close(mfd);
	raw_name_req(&att, SEALSHM_MSG_ATTACH, 0, "unread", SEALSHM_PROTO_RDONLY);
	for (int i = 0; i < 5000; i++) {
		void *req = (i & 1) ? (void *)&list : (void *)&att;
		size_t len = (i & 1) ? sizeof(list) : sizeof(att);

		((struct sealshm_msg_hdr *)req)->seq = (uint32_t)i;
		if (send(sock, req, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		sent++;
	}
	TH_LOG("%d requests sent unread", sent);
	ms = well_behaved();
	EXPECT_GE(ms, 0);
	EXPECT_LT(ms, WELL_BEHAVED_MS);
	EXPECT_TRUE(raw_list_works_here(owner));
	close(sock);
	/* Its queued replies (and their fds) go with it: left are the owner's
	 * connection and the name's fd. */
	EXPECT_EQ(self->base + 2, daemon_fds(self->base + 2));
	{
		struct sealshm_msg_name un;

		raw_name_req(&un, SEALSHM_MSG_UNLINK, 1, "unread", 0);
		EXPECT_EQ(1, call_status(owner, &un, sizeof(un), NULL, 0));
	}
	close(owner);
}

/* Hang up at every moment of a request: right after sending it (with an
 * fd in flight, or a reply with an fd on its way back), after shutting
 * down our sending side, after half a HELLO, and by being killed. */
TEST_F(hostile, client_disconnects_mid_request)
{
	int mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	int owner = hostile_client();

	ASSERT_GE(mfd, 0);
	ASSERT_GE(owner, 0);
	ASSERT_EQ(1, create_with(owner, "midway", 4096, 0644, 0, mfd));
	for (int round = 0; round < 300; round++) {
		int sock = round % 5 == 4 ? raw_connect(daemon_.sock) : hostile_client();
		struct sealshm_msg_create cr;
		struct sealshm_msg_name nr;

		ASSERT_GE(sock, 0);
		switch (round % 5) {
		case 0:	/* a CREATE with its fd, then gone */
			raw_create_req(&cr, 1, "midway_new", 4096, 0600, 0);
			(void)send_many_fds(sock, &cr, sizeof(cr), &mfd, 1);
			break;
		case 1:	/* an ATTACH whose reply carries an fd */
			raw_name_req(&nr, SEALSHM_MSG_ATTACH, 1, "midway", 0);
			(void)send_many_fds(sock, &nr, sizeof(nr), NULL, 0);
			break;
		case 2:	/* read-only ATTACH (a new fd), then SHUT_WR, then gone */
			raw_name_req(&nr, SEALSHM_MSG_ATTACH, 1, "midway", SEALSHM_PROTO_RDONLY);
			(void)send_many_fds(sock, &nr, sizeof(nr), NULL, 0);
			(void)shutdown(sock, SHUT_WR);
			break;
		case 3:	/* a SESSION request, gone before the reply */
			(void)send_many_fds(sock, &(struct sealshm_msg_hdr){
				.type = SEALSHM_MSG_SESSION, .size = 16, .seq = 1 }, 16, NULL, 0);
			break;
		case 4:	/* half a HELLO */
			(void)send_many_fds(sock, &(struct sealshm_msg_hello){
				.hdr = { .type = SEALSHM_MSG_HELLO, .size = 32 } }, 10, NULL, 0);
			break;
		}
		close(sock);
		/* A name a vanished CREATE registered stays (it was not
		 * tracked): clean it for the next round. */
		if (round % 5 == 0) {
			raw_name_req(&nr, SEALSHM_MSG_UNLINK, 2, "midway_new", 0);
			(void)call_status(owner, &nr, sizeof(nr), NULL, 0);
		}
	}
	/* Killed with a request in flight. */
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			struct sealshm_msg_name nr;
			int sock = hostile_client();

			if (sock < 0)
				_exit(1);
			raw_name_req(&nr, SEALSHM_MSG_ATTACH, 1, "midway", SEALSHM_PROTO_RDONLY);
			(void)send_many_fds(sock, &nr, sizeof(nr), NULL, 0);
			raise(SIGKILL);
			_exit(2);
		}
		EXPECT_EQ(128 + SIGKILL, helper_exit_code(helper_reap(pid, 5000)));
	}
	close(mfd);
	{
		struct sealshm_msg_name un;

		raw_name_req(&un, SEALSHM_MSG_UNLINK, 3, "midway_new", 0);
		(void)call_status(owner, &un, sizeof(un), NULL, 0);
		raw_name_req(&un, SEALSHM_MSG_UNLINK, 3, "midway", 0);
		EXPECT_EQ(1, call_status(owner, &un, sizeof(un), NULL, 0));
	}
	close(owner);
}

/* A session that floods TRACKs (real slots, made-up slots, generations and
 * inodes) until its socket is full: trackerd reads sessions lazily, so the
 * flood must cost others nothing, and a STAT (which reads every pending
 * TRACK first) still answers within the bound. */
TEST_F(hostile, session_floods_tracks)
{
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_info info;
	struct sealshm_msg_track t = {
		.hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t) },
	};
	int mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	int owner = hostile_client(), sess, sent = 0, ms;
	uint64_t t0;

	ASSERT_GE(mfd, 0);
	ASSERT_GE(owner, 0);
	ASSERT_EQ(1, create_with(owner, "flooded", 4096, 0644, 0, mfd));
	close(mfd);
	sess = raw_session_client(daemon_.sock, token, NULL);
	ASSERT_GE(sess, 0);
	for (int round = 0; round < 3; round++) {
		for (uint32_t i = 0;; i++) {
			/* Every slot a small registry has, with wrong and
			 * extreme generations and inodes. */
			t.slot = (i & 7) == 7 ? UINT32_MAX - i : i % 64;
			t.generation = (i & 1) ? 0 : i;
			t.ino = (i & 2) ? UINT64_MAX : i;
			t.hdr.seq = i;
			if (send(sess, &t, sizeof(t), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				break;
			sent++;
		}
		ms = well_behaved();
		EXPECT_GE(ms, 0);
		EXPECT_LT(ms, WELL_BEHAVED_MS);
		t0 = helper_now_ms();
		EXPECT_EQ(0, sealshm_stat("flooded", NULL, &info));
		EXPECT_LT(helper_now_ms() - t0, (uint64_t)WELL_BEHAVED_MS);
	}
	TH_LOG("%d TRACKs sent", sent);
	/* The session survived its well-formed flood: the name it never
	 * tracked stays when it ends. */
	close(sess);
	EXPECT_EQ(-ETIMEDOUT, helper_wait_gone("flooded", 300));
	{
		struct sealshm_msg_name un;

		raw_name_req(&un, SEALSHM_MSG_UNLINK, 3, "flooded", 0);
		EXPECT_EQ(1, call_status(owner, &un, sizeof(un), NULL, 0));
	}
	close(owner);
}

/* A zero-length datagram reads as the end of the stream; one that carries
 * fds must not leave them in trackerd (found by trackerd_fuzz). */
TEST_F(hostile, empty_datagram_with_fds)
{
	int mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);

	ASSERT_GE(mfd, 0);
	for (int i = 0; i < 16; i++) {
		int sock = (i & 1) ? hostile_client() : raw_connect(daemon_.sock);

		ASSERT_GE(sock, 0);
		EXPECT_EQ(0, send_many_fds(sock, "", 0, &mfd, 1));
		EXPECT_TRUE(raw_closed_by_peer(sock));
		close(sock);
	}
	close(mfd);
}

/* Connect and hang up, fast, many times (accept churn, nothing sent). */
TEST_F(hostile, connection_churn)
{
	for (int i = 0; i < 2000; i++) {
		int sock = raw_connect(daemon_.sock);

		ASSERT_GE(sock, 0);
		if (i & 1)
			(void)send(sock, "", 0, MSG_NOSIGNAL);	/* an empty datagram */
		close(sock);
	}
}

/* Last (fixtures run in the order written; a plain TEST would run first):
 * after every attack, trackerd is alive, serves, and holds exactly the fds
 * it held before the first. */
FIXTURE(zz_final) {
	int unused;
};

FIXTURE_SETUP(zz_final)
{
}

FIXTURE_TEARDOWN(zz_final)
{
}

TEST_F(zz_final, daemon_fds_back_to_baseline)
{
	int ms;

	ASSERT_TRUE(helper_pid_alive(daemon_.pid));
	/* Longer than a test's wait: the last connections to go are those a
	 * test's children inherited, and under the sanitizers a process takes
	 * its time to exit (LeakSanitizer scans it first). */
	EXPECT_EQ(daemon_fds_baseline, helper_wait_fds(daemon_.pid, daemon_fds_baseline, 15000)) {
		TH_LOG("trackerd held %d fds before the suite", daemon_fds_baseline);
	}
	/* Served from a child, so the library's connections of this process
	 * do not count in the baseline above. */
	ms = well_behaved();
	EXPECT_GE(ms, 0);
	EXPECT_LT(ms, WELL_BEHAVED_MS);
}

/* TEST_HARNESS_MAIN's half of the harness's test-order detection. */
static void __attribute__((constructor)) __constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

/* One trackerd for the whole suite: started here, before the harness forks
 * the first test, and stopped (exit code 0: it survived) after the last. */
int main(int argc, char **argv)
{
	int r, rc;

	r = trackerd_start(&daemon_, NULL);
	if (r < 0) {
		fprintf(stderr, "hostile_test: cannot start trackerd: %s\n", strerror(-r));
		trackerd_cleanup(&daemon_);
		return KSFT_FAIL;
	}
	if (setenv("SEALSHM_SOCKET", daemon_.sock, 1) < 0 ||
	    setenv("SEALSHM_NO_AUTOSTART", "1", 1) < 0) {
		trackerd_cleanup(&daemon_);
		return KSFT_FAIL;
	}
	daemon_fds_baseline = helper_count_fds(daemon_.pid);
	rc = test_harness_run(argc, argv);
	r = trackerd_stop(&daemon_);
	if (r != 0) {
		fprintf(stderr, "hostile_test: trackerd exited %d after the suite\n", r);
		rc = KSFT_FAIL;
	}
	trackerd_cleanup(&daemon_);
	return rc;
}

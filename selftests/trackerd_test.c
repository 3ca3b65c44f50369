// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_test: the daemon, driven by a raw client that speaks lib/proto.h
 * directly (so it can misbehave), by the library, and by exec'd peers.
 * trackerd must refuse every malformed or dishonest request with an error
 * reply, close the connection after a protocol violation, keep serving well
 * behaved clients, not leak fds (its /proc/PID/fd count returns to its
 * baseline), log what it refused, and enforce owner/mode permissions.
 * Protocol version 3: the published index (INDEX) and TRACK on sessions;
 * the fd limit and the --max-names options.
 */
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "index_format.h"
#include "memfd.h"
#include "siphash.h"

#define NEXTRA 4

FIXTURE(trackerd) {
	struct trackerd d;
	int raw;			/* a raw client after a good HELLO */
	int extra[NEXTRA];		/* more fds a test opens */
	struct sealshm *shm[2];
	int fds_before;			/* ours */
	int daemon_fds_before;		/* trackerd's, without the raw client */
};

FIXTURE_SETUP(trackerd)
{
	self->raw = -EBADF;
	for (int i = 0; i < NEXTRA; i++)
		self->extra[i] = -EBADF;
	memset(self->shm, 0, sizeof(self->shm));
	/* The library's cached connection is part of both baselines. */
	self->fds_before = trackerd_start_connected(&self->d, NULL);
	ASSERT_GT(self->fds_before, 0) {
		TH_LOG("trackerd_start_connected: %s", strerror(-self->fds_before));
	}
	self->daemon_fds_before = helper_count_fds(self->d.pid);
	ASSERT_GT(self->daemon_fds_before, 0);
	self->raw = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->raw, 0);
}

FIXTURE_TEARDOWN(trackerd)
{
	self->raw = safe_close(self->raw);
	for (int i = 0; i < NEXTRA; i++)
		self->extra[i] = safe_close(self->extra[i]);
	for (int i = 0; i < 2; i++)
		sealshm_close(self->shm[i]);
	EXPECT_REGISTRY_EMPTY();
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	if (self->d.pid > 0)
		EXPECT_EQ(self->daemon_fds_before,
			  helper_wait_fds(self->d.pid, self->daemon_fds_before, 3000));
	if (!_metadata->passed) {
		char *log = trackerd_log(&self->d);

		TH_LOG("trackerd log:\n%s", log);
		free(log);
	}
	if (self->d.pid > 0)
		EXPECT_EQ(0, trackerd_stop(&self->d));
	trackerd_cleanup(&self->d);
}

/* Check a header-only error reply to @type/@seq and return its status. */
static int error_reply(struct __test_metadata *_metadata, const void *buf, ssize_t n,
		       uint32_t type, uint32_t seq)
{
	const struct sealshm_msg_hdr *h = buf;

	EXPECT_EQ((ssize_t)sizeof(*h), n) {
		TH_LOG("error reply to type %u: %zd bytes", type, n);
	}
	if (n < (ssize_t)sizeof(*h))
		return n < 0 ? (int)n : -EIO;
	EXPECT_EQ(type | SEALSHM_MSG_REPLY, h->type);
	EXPECT_EQ(seq, h->seq);
	EXPECT_EQ(sizeof(*h), h->size);
	EXPECT_GT(0, h->status);
	return h->status;
}

/* The errnos COMMON.md allows for malformed input. */
static bool malformed_errno(int status)
{
	return status == -EINVAL || status == -EBADMSG || status == -ECHRNG ||
	       status == -EXFULL || status == -EPROTO;
}

/* Send CREATE @name on @sock with @fds and @token (NULL: zero) and return
 * the reply's status (an error reply is checked for shape). */
static int raw_create_token(struct __test_metadata *_metadata, int sock, const char *name,
			    uint64_t size, uint32_t mode, uint32_t flags, const uint8_t *token,
			    const int *fds, size_t nfds)
{
	struct sealshm_msg_create req;
	char reply[64];
	ssize_t n;

	raw_create_req(&req, 7, name, size, mode, flags);
	if (token)
		memcpy(req.token, token, sizeof(req.token));
	n = raw_call(sock, &req, sizeof(req), fds, nfds, reply, sizeof(reply), NULL);
	/* Success and error replies to CREATE are both header-only. */
	if (n == 16 && ((struct sealshm_msg_hdr *)reply)->status != 0)
		return error_reply(_metadata, reply, n, SEALSHM_MSG_CREATE, 7);
	EXPECT_EQ(16, n) {
		TH_LOG("create '%s': reply of %zd bytes", name, n);
	}
	if (n != 16)
		return n < 0 ? (int)n : -EIO;
	EXPECT_EQ(SEALSHM_MSG_CREATE | SEALSHM_MSG_REPLY, ((struct sealshm_msg_hdr *)reply)->type);
	EXPECT_EQ(7, ((struct sealshm_msg_hdr *)reply)->seq);
	return 0;
}

static int raw_create(struct __test_metadata *_metadata, int sock, const char *name,
		      uint64_t size, uint32_t mode, uint32_t flags, const int *fds, size_t nfds)
{
	return raw_create_token(_metadata, sock, name, size, mode, flags, NULL, fds, nfds);
}

/* Status of a name request (ATTACH/UNLINK/STAT) on @sock carrying @token
 * (NULL: zero); an fd that comes with it goes to *@ret_fd (or is closed). */
static int raw_name_call_token(int sock, uint32_t type, const char *name, uint32_t flags,
			       const uint8_t *token, void *reply, size_t reply_len, int *ret_fd)
{
	struct sealshm_msg_name req;
	ssize_t n;

	raw_name_req(&req, type, 9, name, flags);
	if (token)
		memcpy(req.token, token, sizeof(req.token));
	n = raw_call(sock, &req, sizeof(req), NULL, 0, reply, reply_len, ret_fd);
	if (n < (ssize_t)sizeof(struct sealshm_msg_hdr))
		return n < 0 ? (int)n : -EIO;
	return ((struct sealshm_msg_hdr *)reply)->status;
}

static int raw_name_call(int sock, uint32_t type, const char *name, uint32_t flags, void *reply,
			 size_t reply_len, int *ret_fd)
{
	return raw_name_call_token(sock, type, name, flags, NULL, reply, reply_len, ret_fd);
}

/* A LIST round trip works on @sock (the connection is alive and in sync). */
static bool raw_list_works(int sock)
{
	struct sealshm_msg_list req = {
		.hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(req), .seq = 77 },
	};
	static char reply[SEALSHM_PROTO_MSG_MAX];
	struct sealshm_msg_list_reply *r = (void *)reply;
	ssize_t n;

	n = raw_call(sock, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	return n >= (ssize_t)sizeof(*r) && r->hdr.status == 0 && r->hdr.seq == 77 &&
	       r->hdr.type == (SEALSHM_MSG_LIST | SEALSHM_MSG_REPLY) &&
	       (size_t)n == sizeof(*r) + r->count * sizeof(struct sealshm_wire_info);
}

/* The library still serves: create, attach, read, unlink. */
static bool library_works(void)
{
	struct sealshm *a = NULL, *b = NULL;
	bool ok = false;

	if (sealshm_create("well_behaved", 4096, NULL, &a) < 0)
		return false;
	((char *)sealshm_buf(a))[7] = 'w';
	if (sealshm_attach("well_behaved", NULL, &b) == 0)
		ok = ((char *)sealshm_buf(b))[7] == 'w';
	ok = sealshm_unlink(a) == 0 && ok;
	sealshm_close(a);
	sealshm_close(b);
	return ok;
}

/* HELLO is answered with magic, version, trackerd's pid and uid. */
TEST_F(trackerd, hello_reply_identifies_server)
{
	struct sealshm_msg_hello_reply reply;

	self->extra[0] = raw_connect(self->d.sock);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(sizeof(reply), raw_hello_with(self->extra[0], SEALSHM_PROTO_MAGIC,
						SEALSHM_PROTO_VERSION, &reply));
	EXPECT_EQ(SEALSHM_MSG_HELLO | SEALSHM_MSG_REPLY, reply.hdr.type);
	EXPECT_EQ(sizeof(reply), reply.hdr.size);
	EXPECT_EQ(1, reply.hdr.seq);
	EXPECT_EQ(0, reply.hdr.status);
	EXPECT_EQ(SEALSHM_PROTO_MAGIC, reply.magic);
	EXPECT_EQ(SEALSHM_PROTO_VERSION, reply.version);
	EXPECT_EQ((uint32_t)self->d.pid, reply.server_pid);
	EXPECT_EQ(getuid(), reply.server_uid);
}

/* A HELLO with another version gets the full hello reply with -EPROTO and
 * trackerd's version, then the connection is closed. */
TEST_F(trackerd, wrong_version_is_eproto_then_closed)
{
	const uint32_t versions[] = { 0, SEALSHM_PROTO_VERSION + 1, UINT32_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		struct sealshm_msg_hello_reply reply;
		int fd = raw_connect(self->d.sock);

		ASSERT_GE(fd, 0);
		EXPECT_EQ(sizeof(reply), raw_hello_with(fd, SEALSHM_PROTO_MAGIC, versions[i],
							&reply));
		EXPECT_EQ(SEALSHM_MSG_HELLO | SEALSHM_MSG_REPLY, reply.hdr.type);
		EXPECT_EQ(-EPROTO, reply.hdr.status) {
			TH_LOG("version %u", versions[i]);
		}
		EXPECT_EQ(SEALSHM_PROTO_VERSION, reply.version);
		EXPECT_TRUE(raw_closed_by_peer(fd));
		close(fd);
	}
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* A HELLO with a wrong magic or unknown flags is refused and closed. */
TEST_F(trackerd, bad_hello_is_refused_then_closed)
{
	struct sealshm_msg_hello_reply reply;
	struct sealshm_msg_hello req = {
		.hdr = { .type = SEALSHM_MSG_HELLO, .size = sizeof(req), .seq = 3 },
		.magic = SEALSHM_PROTO_MAGIC,
		.version = SEALSHM_PROTO_VERSION,
		.flags = 0x1,
	};
	ssize_t n;

	self->extra[0] = raw_connect(self->d.sock);
	ASSERT_GE(self->extra[0], 0);
	n = raw_hello_with(self->extra[0], 0x12345678, SEALSHM_PROTO_VERSION, &reply);
	ASSERT_GE(n, 16);
	EXPECT_GT(0, reply.hdr.status);
	EXPECT_TRUE(raw_closed_by_peer(self->extra[0]));

	self->extra[1] = raw_connect(self->d.sock);
	ASSERT_GE(self->extra[1], 0);
	n = raw_call(self->extra[1], &req, sizeof(req), NULL, 0, &reply, sizeof(reply), NULL);
	ASSERT_GE(n, 16);
	EXPECT_GT(0, reply.hdr.status);
	EXPECT_EQ(3, reply.hdr.seq);
}

/* Any request before HELLO is answered -EPROTO and the connection closed. */
TEST_F(trackerd, request_before_hello_is_eproto_then_closed)
{
	struct sealshm_msg_name req;
	char reply[64];
	ssize_t n;

	self->extra[0] = raw_connect(self->d.sock);
	ASSERT_GE(self->extra[0], 0);
	raw_name_req(&req, SEALSHM_MSG_STAT, 5, "anything", 0);
	n = raw_call(self->extra[0], &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_EQ(-EPROTO, error_reply(_metadata, reply, n, SEALSHM_MSG_STAT, 5));
	EXPECT_TRUE(raw_closed_by_peer(self->extra[0]));
}

/* A regular file and a pipe are refused on CREATE (-EBADF, not a memfd),
 * the name is not registered, the connection stays usable, and the log line
 * names the name and the reason. */
TEST_F(trackerd, create_refuses_non_memfd)
{
	char path[192], reply[64];
	int p[2] = { -EBADF, -EBADF };

	snprintf(path, sizeof(path), "%s/regular", self->d.dir);
	self->extra[0] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(0, ftruncate(self->extra[0], 4096));
	EXPECT_EQ(-EBADF, raw_create(_metadata, self->raw, "victim_file", 4096, 0600, 0,
				     &self->extra[0], 1));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_STAT, "victim_file", 0, reply,
					 sizeof(reply), NULL));

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->extra[1] = p[0];
	self->extra[2] = p[1];
	EXPECT_EQ(-EBADF, raw_create(_metadata, self->raw, "victim_pipe", 4096, 0600, 0,
				     &self->extra[1], 1));
	EXPECT_EQ(-EBADF, raw_create(_metadata, self->raw, "victim_pipe", 4096, 0600, 0,
				     &self->extra[2], 1));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_STAT, "victim_pipe", 0, reply,
					 sizeof(reply), NULL));
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'victim_file'", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'victim_pipe'", "memfd",
					  NULL));
}

/* A memfd without both size seals is refused with -EINVAL: no seals, only
 * SHRINK, only GROW, or only write seals. */
TEST_F(trackerd, create_refuses_unsealed_memfd)
{
	const unsigned int sets[] = { 0, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE,
				      F_SEAL_SHRINK | F_SEAL_SEAL };

	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		int fd = helper_memfd(4096, sets[i]);

		ASSERT_GE(fd, 0);
		EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "unsealed", 4096, 0600, 0,
					      &fd, 1)) {
			TH_LOG("seals 0x%x", sets[i]);
		}
		close(fd);
	}
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'unsealed'", NULL));
}

/* A memfd whose size differs from the declared size is refused (-EINVAL). */
TEST_F(trackerd, create_refuses_size_mismatch)
{
	const uint64_t sizes[] = { 4095, 4097, 8192, 1, UINT64_MAX };

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "mismatch", sizes[i], 0600, 0,
					      &self->extra[0], 1)) {
			TH_LOG("declared %ju for 4096", (uintmax_t)sizes[i]);
		}
	}
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'mismatch'", NULL));
}

/* A read-only fd of a good memfd is refused: trackerd must hold an O_RDWR
 * fd to hand out read-write attaches. */
TEST_F(trackerd, create_refuses_rdonly_fd)
{
	char path[64];
	int ro;

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->extra[0]);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(ro, 0);
	self->extra[1] = ro;
	EXPECT_GT(0, raw_create(_metadata, self->raw, "rdonly_fd", 4096, 0600, 0, &ro, 1));
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_EQ(-ENOENT, sealshm_attach("rdonly_fd", NULL, &self->shm[0]));
}

/* Size 0, mode beyond 0777 and unknown flag bits are refused (-EINVAL):
 * RDONLY is no CREATE flag, LIFETIME_LAST no ATTACH flag. */
TEST_F(trackerd, create_refuses_bad_fields)
{
	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	self->extra[1] = helper_memfd(0, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[1], 0);
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "zero", 0, 0600, 0,
				      &self->extra[1], 1));
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "fields", 4096, 01000, 0,
				      &self->extra[0], 1));
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "fields", 4096, 0600, 0x80,
				      &self->extra[0], 1));
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "fields", 4096, 0600,
				      SEALSHM_PROTO_RDONLY, &self->extra[0], 1));
	EXPECT_EQ(-ENOENT, sealshm_attach("fields", NULL, &self->shm[0]));
	EXPECT_EQ(0, raw_create(_metadata, self->raw, "fields", 4096, 0600, 0, &self->extra[0], 1));
	{
		struct sealshm_msg_attach_reply reply;

		EXPECT_EQ(-EINVAL, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "fields",
						 SEALSHM_PROTO_LIFETIME_LAST, &reply,
						 sizeof(reply), NULL));
	}
	EXPECT_EQ(0, sealshm_unlink_name("fields", NULL));
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* Name fields that are not a valid wire name are refused (-EINVAL): no NUL,
 * bytes after the NUL, empty, '/' inside or leading, control characters. */
TEST_F(trackerd, bad_name_fields_are_refused)
{
	struct sealshm_msg_name req;
	char reply[64];

	for (int i = 0; i < 6; i++) {
		int fd = raw_client(self->d.sock, NULL);
		ssize_t n;

		ASSERT_GE(fd, 0);
		raw_name_req(&req, SEALSHM_MSG_STAT, 11, "", 0);
		switch (i) {
		case 0: memset(req.name, 'a', sizeof(req.name)); break;
		case 1: strcpy(req.name, "ok"); req.name[10] = 'x'; break;
		case 2: break;
		case 3: strcpy(req.name, "a/b"); break;
		case 4: strcpy(req.name, "/lead"); break;
		case 5: strcpy(req.name, "ctl\x01"); break;
		}
		n = raw_call(fd, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
		EXPECT_EQ(-EINVAL, error_reply(_metadata, reply, n, SEALSHM_MSG_STAT, 11)) {
			TH_LOG("bad name case %d", i);
		}
		close(fd);
	}
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* CREATE without an fd is a protocol violation: error, then close. */
TEST_F(trackerd, create_without_fd_is_refused_then_closed)
{
	int status = raw_create(_metadata, self->raw, "nofd", 4096, 0600, 0, NULL, 0);

	EXPECT_TRUE(malformed_errno(status)) {
		TH_LOG("status %d", status);
	}
	EXPECT_TRUE(raw_closed_by_peer(self->raw));
	EXPECT_TRUE(library_works());
}

/* An O_RDONLY (or @flags) open of @fd through /proc, or -errno. */
static int reopen_fd(int fd, int flags)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, flags | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

/* A CREATE's second fd must be the read-only twin of its memfd: another
 * memfd, the memfd itself (read-write), an O_PATH of it and a read-only
 * open of another memfd are refused (-EINVAL, logged), nothing registered,
 * the connection kept; trackerd keeps none of those fds. */
TEST_F(trackerd, create_second_fd_must_be_read_only_twin)
{
	int bad[4], fds[2];

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	self->extra[1] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_GE(self->extra[1], 0);
	bad[0] = self->extra[1];
	bad[1] = self->extra[0];
	bad[2] = self->extra[2] = reopen_fd(self->extra[0], O_PATH);
	bad[3] = self->extra[3] = reopen_fd(self->extra[1], O_RDONLY);
	ASSERT_GE(self->extra[2], 0);
	ASSERT_GE(self->extra[3], 0);
	fds[0] = self->extra[0];
	for (int i = 0; i < 4; i++) {
		fds[1] = bad[i];
		EXPECT_EQ(-EINVAL,
			  raw_create(_metadata, self->raw, "twin", 4096, 0600, 0, fds, 2)) {
			TH_LOG("bad twin %d", i);
		}
		EXPECT_TRUE(raw_list_works(self->raw));
	}
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused create 'twin'",
					  "second fd is not open read-only", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused create 'twin'",
					  "second fd is another file", NULL));
	EXPECT_EQ(-ENOENT, sealshm_attach("twin", NULL, &self->shm[0]));
	/* The raw client's connection, and nothing more. */
	EXPECT_EQ(self->daemon_fds_before + 1,
		  helper_wait_fds(self->d.pid, self->daemon_fds_before + 1, 3000));
}

/* A real twin is accepted; a trackerd that may reopen the memfd itself (of
 * our uid, here) drops it: one fd per name, closed at unlink. */
TEST_F(trackerd, create_with_twin_keeps_one_fd_when_reopen_works)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY | SEALSHM_NO_TRACK);
	struct sealshm_msg_attach_reply reply;
	int fds[2];

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	self->extra[1] = reopen_fd(self->extra[0], O_RDONLY);
	ASSERT_GE(self->extra[1], 0);
	fds[0] = self->extra[0];
	fds[1] = self->extra[1];
	ASSERT_EQ(0, raw_create(_metadata, self->raw, "twin_ok", 4096, 0600, 0, fds, 2));
	EXPECT_EQ(self->daemon_fds_before + 2,
		  helper_wait_fds(self->d.pid, self->daemon_fds_before + 2, 3000));
	ASSERT_EQ(0, sealshm_attach("twin_ok", &ro, &self->shm[0]));
	EXPECT_EQ(O_RDONLY, fcntl(sealshm_fd(self->shm[0]), F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "twin_ok", 0, &reply,
				   sizeof(reply), NULL));
	EXPECT_EQ(self->daemon_fds_before + 1,
		  helper_wait_fds(self->d.pid, self->daemon_fds_before + 1, 3000));
}

/* CREATE with three fds (the memfd and two twins): error, then close;
 * trackerd keeps none of them. */
TEST_F(trackerd, create_with_three_fds_is_refused_then_closed)
{
	int status, fds[3];

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	self->extra[1] = reopen_fd(self->extra[0], O_RDONLY);
	ASSERT_GE(self->extra[1], 0);
	fds[0] = self->extra[0];
	fds[1] = fds[2] = self->extra[1];
	status = raw_create(_metadata, self->raw, "threefds", 4096, 0600, 0, fds, 3);
	EXPECT_TRUE(malformed_errno(status)) {
		TH_LOG("status %d", status);
	}
	EXPECT_TRUE(raw_closed_by_peer(self->raw));
	self->raw = safe_close(self->raw);
	EXPECT_EQ(self->daemon_fds_before, helper_wait_fds(self->d.pid, self->daemon_fds_before,
							    3000));
	EXPECT_EQ(-ENOENT, sealshm_attach("threefds", NULL, &self->shm[0]));
}

/* Many fds on one message (MSG_CTRUNC in trackerd): error, then close; no fd
 * stays behind in trackerd. */
TEST_F(trackerd, create_with_many_fds_is_refused_then_closed)
{
	int fds[6];

	for (int i = 0; i < 6; i++) {
		fds[i] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
		ASSERT_GE(fds[i], 0);
	}
	EXPECT_GT(0, raw_create(_metadata, self->raw, "manyfds", 4096, 0600, 0, fds, 6));
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	EXPECT_TRUE(raw_closed_by_peer(self->raw));
	self->raw = safe_close(self->raw);
	EXPECT_EQ(self->daemon_fds_before, helper_wait_fds(self->d.pid, self->daemon_fds_before,
							    3000));
}

/* An fd on a request that takes none: error, then close; fd not kept. */
TEST_F(trackerd, fd_on_attach_is_refused_then_closed)
{
	struct sealshm_msg_name req;
	char reply[64];
	ssize_t n;

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	raw_name_req(&req, SEALSHM_MSG_ATTACH, 12, "x", 0);
	n = raw_call(self->raw, &req, sizeof(req), &self->extra[0], 1, reply, sizeof(reply),
		     NULL);
	EXPECT_TRUE(malformed_errno(error_reply(_metadata, reply, n, SEALSHM_MSG_ATTACH, 12)));
	EXPECT_TRUE(raw_closed_by_peer(self->raw));
	self->raw = safe_close(self->raw);
	EXPECT_EQ(self->daemon_fds_before, helper_wait_fds(self->d.pid, self->daemon_fds_before,
							    3000));
}

/* A truncated CREATE (shorter than its struct, with its fd) is refused and
 * the connection closed; so is a message shorter than the header. */
TEST_F(trackerd, truncated_message_is_refused_then_closed)
{
	struct sealshm_msg_create req;
	char reply[64];
	ssize_t n;

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	raw_create_req(&req, 13, "short", 4096, 0600, 0);
	req.hdr.size = 100;
	n = raw_call(self->raw, &req, 100, &self->extra[0], 1, reply, sizeof(reply), NULL);
	EXPECT_TRUE(malformed_errno(error_reply(_metadata, reply, n, SEALSHM_MSG_CREATE, 13)));
	EXPECT_TRUE(raw_closed_by_peer(self->raw));

	/* Shorter than a header: no seq to echo; the connection is closed
	 * (an error reply first is allowed). */
	self->extra[1] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[1], 0);
	ASSERT_EQ(0, raw_send_fds(self->extra[1], &req, 8, NULL, 0));
	EXPECT_TRUE(raw_closed_by_peer(self->extra[1]));

	EXPECT_EQ(-ENOENT, sealshm_attach("short", NULL, &self->shm[0]));
	EXPECT_TRUE(library_works());
}

/* The header's size field must match the datagram: a lie is refused. */
TEST_F(trackerd, size_field_mismatch_is_refused_then_closed)
{
	struct sealshm_msg_name req;
	char reply[64];
	ssize_t n;

	raw_name_req(&req, SEALSHM_MSG_STAT, 14, "liar", 0);
	req.hdr.size = sizeof(req) + 8;
	n = raw_call(self->raw, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_TRUE(malformed_errno(error_reply(_metadata, reply, n, SEALSHM_MSG_STAT, 14)));
	EXPECT_TRUE(raw_closed_by_peer(self->raw));
}

/* A message larger than its type (and one larger than any request) is
 * refused and the connection closed. */
TEST_F(trackerd, oversized_message_is_refused_then_closed)
{
	static char big[SEALSHM_PROTO_MSG_MAX + 4096];
	struct sealshm_msg_list *req = (void *)big;
	char reply[64];
	ssize_t n;

	memset(big, 0, sizeof(big));
	req->hdr.type = SEALSHM_MSG_LIST;
	req->hdr.seq = 15;
	req->hdr.size = sizeof(*req) + 64;
	n = raw_call(self->raw, big, sizeof(*req) + 64, NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_TRUE(malformed_errno(error_reply(_metadata, reply, n, SEALSHM_MSG_LIST, 15)));
	EXPECT_TRUE(raw_closed_by_peer(self->raw));

	self->extra[0] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[0], 0);
	req->hdr.size = sizeof(big);
	req->hdr.seq = 16;
	n = raw_call(self->extra[0], big, sizeof(big), NULL, 0, reply, sizeof(reply), NULL);
	if (n > 0)
		EXPECT_TRUE(malformed_errno(((struct sealshm_msg_hdr *)reply)->status));
	EXPECT_TRUE(raw_closed_by_peer(self->extra[0]));
	EXPECT_TRUE(library_works());
}

/* Unknown types, a reply type sent as a request, and type 0 are refused
 * and the connection closed. */
TEST_F(trackerd, unknown_type_is_refused_then_closed)
{
	const uint32_t types[] = { 0, 99, SEALSHM_MSG_STAT | SEALSHM_MSG_REPLY, UINT32_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		struct sealshm_msg_name req;
		char reply[64];
		int fd = raw_client(self->d.sock, NULL);
		ssize_t n;

		ASSERT_GE(fd, 0);
		raw_name_req(&req, types[i], 17, "x", 0);
		n = raw_call(fd, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
		EXPECT_TRUE(malformed_errno(error_reply(_metadata, reply, n, types[i], 17))) {
			TH_LOG("type 0x%x", types[i]);
		}
		EXPECT_TRUE(raw_closed_by_peer(fd));
		close(fd);
	}
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* After a barrage of attacks from many connections, trackerd is alive,
 * serves the library, and holds exactly the fds it held before. */
TEST_F(trackerd, keeps_serving_after_attacks)
{
	for (int round = 0; round < 20; round++) {
		int fd = raw_client(self->d.sock, NULL), mfd, fds[3];
		struct sealshm_msg_create req;

		ASSERT_GE(fd, 0);
		mfd = helper_memfd(4096, (round & 1) ? F_SEAL_SHRINK : 0);
		ASSERT_GE(mfd, 0);
		fds[0] = fds[1] = fds[2] = mfd;
		raw_create_req(&req, 1, "barrage", 4096, 0600, 0);
		switch (round % 4) {
		case 0: (void)raw_send_fds(fd, &req, sizeof(req), &mfd, 1); break;
		case 1: (void)raw_send_fds(fd, &req, sizeof(req), fds, 3); break;
		case 2: (void)raw_send_fds(fd, &req, 50, &mfd, 1); break;
		case 3: (void)raw_send_fds(fd, &req, sizeof(req), NULL, 0); break;
		}
		close(mfd);
		/* Hang up without reading the reply. */
		close(fd);
	}
	EXPECT_TRUE(helper_pid_alive(self->d.pid));
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(library_works());
	self->raw = safe_close(self->raw);
	EXPECT_EQ(self->daemon_fds_before, helper_wait_fds(self->d.pid, self->daemon_fds_before,
							    3000));
}

/* A client that sends many requests and never reads its replies, then
 * hangs up, costs trackerd nothing: others are served meanwhile. */
TEST_F(trackerd, survives_client_that_never_reads)
{
	struct sealshm_msg_list req = {
		.hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(req) },
	};
	int sent = 0;

	self->extra[0] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[0], 0);
	for (int i = 0; i < 2000; i++) {
		req.hdr.seq = (uint32_t)i;
		if (send(self->extra[0], &req, sizeof(req), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		sent++;
	}
	TH_LOG("queued %d requests", sent);
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(library_works());
	self->extra[0] = safe_close(self->extra[0]);
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* A client killed (SIGKILL) in the middle of its conversation costs nothing:
 * a name it registered untracked stays, trackerd keeps serving, and its
 * connection's fds are released. */
TEST_F(trackerd, survives_client_killed_mid_request)
{
	struct sealshm_msg_stat_reply st;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct sealshm_msg_create req;
		int fd = raw_client(self->d.sock, NULL);
		int mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
		char reply[64];

		if (fd < 0 || mfd < 0)
			_exit(1);
		raw_create_req(&req, 1, "orphan", 4096, 0600, 0);
		if (raw_call(fd, &req, sizeof(req), &mfd, 1, reply, sizeof(reply), NULL) != 16 ||
		    ((struct sealshm_msg_hdr *)reply)->status != 0)
			_exit(2);
		/* Half a request, then death. */
		(void)raw_send_fds(fd, &req, 20, &mfd, 1);
		raise(SIGKILL);
		_exit(3);
	}
	status = helper_reap(pid, 10000);
	EXPECT_EQ(128 + SIGKILL, helper_exit_code(status));
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_STAT, "orphan", 0, &st, sizeof(st),
				   NULL));
	EXPECT_EQ((uint32_t)pid, st.info.creator_pid);
	EXPECT_EQ(0, sealshm_unlink_name("orphan", NULL));
	EXPECT_TRUE(library_works());
}

/* CREATE then a duplicate: -EEXIST, and trackerd keeps only the first fd. */
TEST_F(trackerd, duplicate_create_is_eexist)
{
	int baseline;

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	self->extra[1] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_GE(self->extra[1], 0);
	baseline = helper_count_fds(self->d.pid);
	EXPECT_EQ(0, raw_create(_metadata, self->raw, "dup", 4096, 0600, 0, &self->extra[0], 1));
	EXPECT_EQ(baseline + 1, helper_count_fds(self->d.pid));
	EXPECT_EQ(-EEXIST, raw_create(_metadata, self->raw, "dup", 4096, 0600, 0,
				      &self->extra[1], 1));
	/* The refused fd may be closed just after the reply is flushed. */
	EXPECT_EQ(baseline + 1, helper_wait_fds(self->d.pid, baseline + 1, 2000));
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_EQ(0, sealshm_unlink_name("dup", NULL));
	EXPECT_EQ(baseline, helper_wait_fds(self->d.pid, baseline, 2000));
}

/* ATTACH replies with size, inode, seals, mode and one fd for the same
 * memfd; read-only attaches get an O_RDONLY fd; UNLINK and STAT of a missing
 * name are -ENOENT. */
TEST_F(trackerd, attach_reply_carries_fd_and_info)
{
	struct sealshm_msg_attach_reply reply;
	struct stat st, st2;
	int fd = -EBADF;

	self->extra[0] = helper_memfd(8000, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(0, fstat(self->extra[0], &st));
	ASSERT_EQ(0, raw_create(_metadata, self->raw, "wire", 8000, 0640, 0, &self->extra[0], 1));

	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "wire", 0, &reply,
				   sizeof(reply), &fd));
	EXPECT_EQ(sizeof(reply), reply.hdr.size);
	EXPECT_EQ(8000, reply.size);
	EXPECT_EQ(st.st_ino, reply.ino);
	EXPECT_EQ(0640, reply.mode);
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, reply.seals & (F_SEAL_SHRINK | F_SEAL_GROW));
	ASSERT_GE(fd, 0);
	self->extra[1] = fd;
	ASSERT_EQ(0, fstat(fd, &st2));
	EXPECT_EQ(st.st_ino, st2.st_ino);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	fd = -EBADF;
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "wire", SEALSHM_PROTO_RDONLY,
				   &reply, sizeof(reply), &fd));
	ASSERT_GE(fd, 0);
	self->extra[2] = fd;
	ASSERT_EQ(0, fstat(fd, &st2));
	EXPECT_EQ(st.st_ino, st2.st_ino);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);

	EXPECT_EQ(-EINVAL, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "wire", 1u << 20, &reply,
					 sizeof(reply), NULL));
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "wire", 0, &reply,
				   sizeof(reply), NULL));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "wire", 0, &reply,
					 sizeof(reply), NULL));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "wire", 0, &reply,
					 sizeof(reply), NULL));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_STAT, "wire", 0, &reply,
					 sizeof(reply), NULL));
}

/* Registration, unlink and refusals each log one line naming the name. */
TEST_F(trackerd, log_names_name_and_reason)
{
	ASSERT_EQ(0, sealshm_create("logged", 48, NULL, &self->shm[0]));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "registered", "'logged'", NULL));
	EXPECT_EQ(-EEXIST, sealshm_create("logged", 48, NULL, &self->shm[1]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "unlinked", "'logged'", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "trackerd[", NULL));

	self->extra[0] = helper_memfd(4096, 0);
	ASSERT_GE(self->extra[0], 0);
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "logged_refusal", 4096, 0600, 0,
				      &self->extra[0], 1));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'logged_refusal'", "seal",
					  NULL));
}

/* --- tracking sessions over the raw protocol ------------------------------ */

static bool token_is_zero(const uint8_t *t)
{
	for (int i = 0; i < SEALSHM_PROTO_TOKEN_SIZE; i++)
		if (t[i])
			return false;
	return true;
}

/* The raw STAT info of @name on @sock; returns the status. */
static int raw_stat(int sock, const char *name, struct sealshm_wire_info *ret)
{
	struct sealshm_msg_stat_reply st;
	int r = raw_name_call(sock, SEALSHM_MSG_STAT, name, 0, &st, sizeof(st), NULL);

	if (r == 0)
		*ret = st.info;
	return r;
}

/* Tracked CREATE of @name (64 bytes) with @token; returns the status. */
static int raw_create_tracked(struct __test_metadata *_metadata, int sock, const char *name,
			      uint32_t flags, const uint8_t *token)
{
	int mfd = helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW), r;

	if (mfd < 0)
		return mfd;
	r = raw_create_token(_metadata, sock, name, 64, 0600, flags, token, &mfd, 1);
	close(mfd);
	return r;
}

/* SESSION is answered with the full reply: a non-zero random token and an
 * id, different for every session; trackerd logs the opening with our pid
 * and uid. */
TEST_F(trackerd, session_reply_carries_id_and_random_token)
{
	struct sealshm_msg_session_reply r1, r2;
	char line[96];

	self->extra[0] = raw_client(self->d.sock, NULL);
	self->extra[1] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_GE(self->extra[1], 0);
	ASSERT_EQ(0, raw_session(self->extra[0], &r1));
	ASSERT_EQ(0, raw_session(self->extra[1], &r2));
	EXPECT_EQ(SEALSHM_MSG_SESSION | SEALSHM_MSG_REPLY, r1.hdr.type);
	EXPECT_EQ(sizeof(r1), r1.hdr.size);
	EXPECT_EQ(21, r1.hdr.seq);
	EXPECT_FALSE(token_is_zero(r1.token));
	EXPECT_FALSE(token_is_zero(r2.token));
	EXPECT_NE(0, memcmp(r1.token, r2.token, sizeof(r1.token)));
	EXPECT_NE(r1.id, r2.id);
	snprintf(line, sizeof(line), "session %llu opened by pid %d (uid %u)",
		 (unsigned long long)r2.id, (int)getpid(), getuid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
	/* trackerd says nothing more on a session. */
	errno = 0;
	EXPECT_EQ(-1, recv(self->extra[0], line, sizeof(line), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

/* A tracked request with a token trackerd does not know (or the zero
 * token) is refused with -ESTALE and changes nothing: no name registered,
 * no tracker added to an existing one; the connection stays usable. */
TEST_F(trackerd, unknown_token_is_estale_and_changes_nothing)
{
	struct sealshm_msg_attach_reply reply;
	struct sealshm_wire_info info;
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	int r;

	ASSERT_EQ(sizeof(token), getrandom(token, sizeof(token), 0));
	token[0] |= 1;
	EXPECT_EQ(-ESTALE, raw_create_tracked(_metadata, self->raw, "stale", SEALSHM_PROTO_TRACK,
					      token));
	EXPECT_EQ(-ENOENT, raw_stat(self->raw, "stale", &info));
	r = raw_create_tracked(_metadata, self->raw, "stale", SEALSHM_PROTO_TRACK, NULL);
	EXPECT_TRUE(r == -ESTALE || r == -EINVAL) {
		TH_LOG("zero token: %d", r);
	}
	EXPECT_EQ(-ENOENT, raw_stat(self->raw, "stale", &info));

	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "known", 0, NULL));
	EXPECT_EQ(-ESTALE, raw_name_call_token(self->raw, SEALSHM_MSG_ATTACH, "known",
					       SEALSHM_PROTO_TRACK, token, &reply, sizeof(reply),
					       NULL));
	ASSERT_EQ(0, raw_stat(self->raw, "known", &info));
	EXPECT_EQ(0, info.n_sessions);
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "known", 0, &reply,
				   sizeof(reply), NULL));
}

/* A non-zero token without SEALSHM_PROTO_TRACK is refused with -EINVAL,
 * even a live session's, and nothing is registered or tracked. */
TEST_F(trackerd, token_without_track_is_einval)
{
	struct sealshm_msg_attach_reply reply;
	struct sealshm_wire_info info;
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];

	self->extra[0] = raw_session_client(self->d.sock, token, NULL);
	ASSERT_GE(self->extra[0], 0);
	EXPECT_EQ(-EINVAL, raw_create_tracked(_metadata, self->raw, "untracked_token", 0, token));
	EXPECT_EQ(-ENOENT, raw_stat(self->raw, "untracked_token", &info));

	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "untracked_token", 0, NULL));
	EXPECT_EQ(-EINVAL, raw_name_call_token(self->raw, SEALSHM_MSG_ATTACH, "untracked_token",
					       0, token, &reply, sizeof(reply), NULL));
	EXPECT_EQ(-EINVAL, raw_name_call_token(self->raw, SEALSHM_MSG_ATTACH, "untracked_token",
					       SEALSHM_PROTO_RDONLY, token, &reply, sizeof(reply),
					       NULL));
	ASSERT_EQ(0, raw_stat(self->raw, "untracked_token", &info));
	EXPECT_EQ(0, info.n_sessions);
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "untracked_token", 0, &reply,
				   sizeof(reply), NULL));
}

/* A tracked CREATE links the name to the session named by the token, an
 * ATTACH with the same token adds no second link, and the session's end
 * (close) unlinks the name with the warning and the summary line. */
TEST_F(trackerd, session_end_unlinks_tracked_names)
{
	struct sealshm_msg_attach_reply reply;
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_wire_info info;
	char line[160];
	uint64_t id;
	int fd;

	self->extra[0] = raw_session_client(self->d.sock, token, &id);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "raw_tracked",
					SEALSHM_PROTO_TRACK, token));
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(0, raw_name_call_token(self->raw, SEALSHM_MSG_ATTACH, "raw_tracked",
						 SEALSHM_PROTO_TRACK, token, &reply, sizeof(reply),
						 &fd));
		if (fd >= 0)
			close(fd);
	}
	ASSERT_EQ(0, raw_stat(self->raw, "raw_tracked", &info));
	EXPECT_EQ(1, info.n_sessions);
	EXPECT_EQ((uint32_t)getpid(), info.session_pids[0]);
	EXPECT_EQ(0, info.session_pids[1]);
	EXPECT_EQ(0, info.flags);

	self->extra[0] = safe_close(self->extra[0]);
	EXPECT_EQ(0, helper_wait_gone("raw_tracked", 5000));
	snprintf(line, sizeof(line),
		 "leaked segment 'raw_tracked' cleaned up (session %llu of pid %d ended)",
		 (unsigned long long)id, (int)getpid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
	snprintf(line, sizeof(line), "session %llu of pid %d ended: 1 name", (unsigned long long)id,
		 (int)getpid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
	/* The token died with the session. */
	EXPECT_EQ(-ESTALE, raw_create_tracked(_metadata, self->raw, "raw_tracked",
					      SEALSHM_PROTO_TRACK, token));
}

/* Any message on a session connection (a second SESSION, a LIST) ends the
 * session once trackerd reads it (sessions are read lazily, at the latest
 * before a STAT or LIST): trackerd closes it and cleans up its names, and
 * its token is dead. */
TEST_F(trackerd, message_on_session_ends_it)
{
	const uint32_t types[] = { SEALSHM_MSG_SESSION, SEALSHM_MSG_LIST };

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		struct sealshm_msg_list req = {
			.hdr = { .type = types[i], .seq = 30 },
		};
		uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
		char line[96];
		uint64_t id;

		req.hdr.size = types[i] == SEALSHM_MSG_LIST ? sizeof(req) : sizeof(req.hdr);
		self->extra[0] = raw_session_client(self->d.sock, token, &id);
		ASSERT_GE(self->extra[0], 0);
		ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "chatty",
						SEALSHM_PROTO_TRACK, token));
		ASSERT_EQ(0, raw_send_fds(self->extra[0], &req, req.hdr.size, NULL, 0));
		/* Sessions are read lazily, at the latest before a LIST. */
		EXPECT_TRUE(raw_list_works(self->raw));
		EXPECT_TRUE(raw_closed_by_peer(self->extra[0])) {
			TH_LOG("type %u", types[i]);
		}
		self->extra[0] = safe_close(self->extra[0]);
		EXPECT_EQ(0, helper_wait_gone("chatty", 5000));
		EXPECT_EQ(-ESTALE, raw_create_tracked(_metadata, self->raw, "chatty",
						      SEALSHM_PROTO_TRACK, token));
		snprintf(line, sizeof(line), "session %llu of pid %d ended: 1 name",
			 (unsigned long long)id, (int)getpid());
		EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
	}
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* A malformed SESSION (longer than a header) is refused and the connection
 * closed, as any malformed request; so is SESSION before HELLO. */
TEST_F(trackerd, malformed_session_is_refused_then_closed)
{
	struct sealshm_msg_list req = {
		.hdr = { .type = SEALSHM_MSG_SESSION, .size = sizeof(req), .seq = 31 },
	};
	char reply[64];
	ssize_t n;

	self->extra[0] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[0], 0);
	n = raw_call(self->extra[0], &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_TRUE(malformed_errno(error_reply(_metadata, reply, n, SEALSHM_MSG_SESSION, 31)));
	EXPECT_TRUE(raw_closed_by_peer(self->extra[0]));

	self->extra[1] = raw_connect(self->d.sock);
	ASSERT_GE(self->extra[1], 0);
	req.hdr.size = sizeof(req.hdr);
	n = raw_call(self->extra[1], &req, sizeof(req.hdr), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_EQ(-EPROTO, error_reply(_metadata, reply, n, SEALSHM_MSG_SESSION, 31));
	EXPECT_TRUE(raw_closed_by_peer(self->extra[1]));
	EXPECT_TRUE(library_works());
}

/* UNLINK takes the name out of every session tracking it: their ends then
 * clean up nothing and warn about nothing. */
TEST_F(trackerd, unlink_removes_name_from_sessions)
{
	struct sealshm_msg_attach_reply reply;
	uint8_t t1[SEALSHM_PROTO_TOKEN_SIZE], t2[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_wire_info info;
	uint64_t id1, id2;
	char line[96];
	int fd;

	self->extra[0] = raw_session_client(self->d.sock, t1, &id1);
	self->extra[1] = raw_session_client(self->d.sock, t2, &id2);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_GE(self->extra[1], 0);
	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "unlinked_early",
					SEALSHM_PROTO_TRACK, t1));
	ASSERT_EQ(0, raw_name_call_token(self->raw, SEALSHM_MSG_ATTACH, "unlinked_early",
					 SEALSHM_PROTO_TRACK, t2, &reply, sizeof(reply), &fd));
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, raw_stat(self->raw, "unlinked_early", &info));
	EXPECT_EQ(2, info.n_sessions);
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "unlinked_early", 0, &reply,
				   sizeof(reply), NULL));
	self->extra[0] = safe_close(self->extra[0]);
	self->extra[1] = safe_close(self->extra[1]);
	snprintf(line, sizeof(line), "session %llu of pid %d ended: 0 name",
		 (unsigned long long)id1, (int)getpid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
	snprintf(line, sizeof(line), "session %llu of pid %d ended: 0 name",
		 (unsigned long long)id2, (int)getpid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
	EXPECT_EQ(0, trackerd_log_count(&self->d, "leaked segment", NULL));
}

/* --- the published index and TRACK (protocol version 3) -------------------- */

/* A client's mapping of the index. */
struct idx {
	int fd;
	void *map;
	size_t size;
};

/* INDEX on @sock: the reply's status; on success *@x holds the fd and a
 * read-only mapping of it. */
static int raw_index(int sock, struct idx *x)
{
	struct sealshm_msg_hdr req = { .type = SEALSHM_MSG_INDEX, .size = sizeof(req), .seq = 41 };
	struct sealshm_msg_index_reply rep;
	ssize_t n;
	int fd;

	*x = (struct idx){ .fd = -EBADF, .map = MAP_FAILED };
	memset(&rep, 0, sizeof(rep));
	n = raw_call(sock, &req, sizeof(req), NULL, 0, &rep, sizeof(rep), &fd);
	if (n < (ssize_t)sizeof(rep.hdr)) {
		safe_close(fd);
		return n < 0 ? (int)n : -EIO;
	}
	if (rep.hdr.status != 0 || n != (ssize_t)sizeof(rep) || fd < 0) {
		safe_close(fd);
		return rep.hdr.status ? rep.hdr.status : -EBADMSG;
	}
	x->fd = fd;
	x->size = rep.size;
	x->map = mmap(NULL, x->size, PROT_READ, MAP_SHARED, fd, 0);
	return x->map == MAP_FAILED ? -errno : 0;
}

static void idx_close(struct idx *x)
{
	if (x->map != MAP_FAILED)
		(void)munmap(x->map, x->size);
	x->map = MAP_FAILED;
	x->fd = safe_close(x->fd);
}

/* Look @name up as a fast-path client does: under the seqlock, every index
 * taken from the map bounds-checked.  0 and the entry (and its slot), or
 * -ENOENT, or -EAGAIN when trackerd kept writing. */
static int idx_find(const struct idx *x, const char *name, struct sealshm_index_entry *ret,
		    uint32_t *ret_slot)
{
	const struct sealshm_index_header *h = x->map;
	const uint32_t *buckets = (const uint32_t *)((const char *)x->map + h->buckets_off);
	const struct sealshm_index_entry *e =
		(const void *)((const char *)x->map + h->entries_off);
	size_t len = strlen(name);

	for (int tries = 0; tries < 100; tries++) {
		uint64_t s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE), s2;
		uint32_t i = buckets[sealshm__siphash(name, len, h->hash_key) & (h->n_buckets - 1)];
		int found = -ENOENT;

		if (s1 & 1)
			continue;
		for (uint32_t hops = 0; i != 0 && hops <= h->capacity; hops++) {
			if (i > h->capacity)
				break;	/* torn: the seq check below fails */
			if (e[i - 1].name_len == len && !memcmp(e[i - 1].name, name, len)) {
				*ret = e[i - 1];
				*ret_slot = i - 1;
				found = 0;
				break;
			}
			i = e[i - 1].next;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return found;
	}
	return -EAGAIN;
}

/* Send TRACK for @slot/@generation/@ino on session @sock (one-way). */
static int raw_track(int sock, uint32_t slot, uint32_t generation, uint64_t ino)
{
	struct sealshm_msg_track t = {
		.hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t), .seq = 51 },
		.slot = slot,
		.generation = generation,
		.ino = ino,
	};

	return raw_send_fds(sock, &t, sizeof(t), NULL, 0);
}

/* INDEX to a client of trackerd's uid: the full reply with one fd, O_RDONLY,
 * sealed against writes, shrinking, growing and more seals, of the size the
 * reply says, whose header validates; no writable mapping of it is
 * possible.  Each client gets its own open file description. */
TEST_F(trackerd, index_granted_to_same_uid)
{
	const unsigned int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
	const struct sealshm_index_header *h;
	struct idx x, y;
	struct stat st;
	int seals;

	ASSERT_EQ(0, raw_index(self->raw, &x));
	EXPECT_EQ(O_RDONLY, fcntl(x.fd, F_GETFL) & O_ACCMODE);
	EXPECT_TRUE(fcntl(x.fd, F_GETFD) & FD_CLOEXEC);
	seals = fcntl(x.fd, F_GET_SEALS);
	EXPECT_EQ(want, (unsigned int)seals & want);
	ASSERT_EQ(0, fstat(x.fd, &st));
	EXPECT_EQ(x.size, (size_t)st.st_size);

	h = x.map;
	EXPECT_EQ(SEALSHM_INDEX_MAGIC, h->magic);
	EXPECT_EQ(SEALSHM_INDEX_VERSION, h->version);
	EXPECT_EQ(0, h->seq & 1);
	EXPECT_EQ(x.size, h->size);
	EXPECT_EQ((uint32_t)self->d.pid, h->server_pid);
	EXPECT_NE(0, h->n_buckets);
	EXPECT_EQ(0, h->n_buckets & (h->n_buckets - 1));
	EXPECT_GE(h->n_buckets, h->capacity);
	/* The default capacity: --max-names 1048576. */
	EXPECT_EQ(1048576, h->capacity);
	EXPECT_EQ(0, h->buckets_off % 8);
	EXPECT_EQ(0, h->entries_off % 8);
	EXPECT_GE(h->buckets_off, sizeof(*h));
	EXPECT_GE(h->entries_off, h->buckets_off + (uint64_t)h->n_buckets * 4);
	EXPECT_EQ(h->size, h->entries_off + (uint64_t)h->capacity * 128);
	EXPECT_FALSE(h->hash_key[0] == 0 && h->hash_key[1] == 0);

	/* Read-only for good: no writable mapping, no write, no resize, and
	 * the seals cannot be lifted or added to. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, x.size, PROT_READ | PROT_WRITE, MAP_SHARED, x.fd, 0));
	EXPECT_EQ(-1, ftruncate(x.fd, 0));
	EXPECT_EQ(-1, fcntl(x.fd, F_ADD_SEALS, F_SEAL_WRITE));

	/* A second client's fd is another open file description. */
	ASSERT_EQ(0, raw_index(self->raw, &y));
	EXPECT_NE(x.fd, y.fd);
	EXPECT_EQ(0, memcmp(x.map, y.map, sizeof(*h)));
	idx_close(&y);
	idx_close(&x);
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* An entry appears in the index when a name is created, with trackerd's fd
 * number, the inode, size, owner and mode, and goes when it is unlinked; a
 * name created again in the same slot has another generation. */
TEST_F(trackerd, index_entries_follow_create_and_unlink)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK, .mode = 0640);
	struct sealshm_index_entry e, e2;
	struct idx x;
	struct stat st;
	uint32_t slot, slot2;

	ASSERT_EQ(0, raw_index(self->raw, &x));
	EXPECT_EQ(-ENOENT, idx_find(&x, "indexed", &e, &slot));
	ASSERT_EQ(0, sealshm_create("indexed", 8192, &o, &self->shm[0]));
	ASSERT_EQ(0, idx_find(&x, "indexed", &e, &slot));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[0]), &st));
	EXPECT_EQ(SEALSHM_INDEX_USED, e.flags);
	EXPECT_EQ((uint64_t)st.st_ino, e.ino);
	EXPECT_EQ(8192, e.size);
	EXPECT_EQ(getuid(), e.uid);
	EXPECT_EQ(getgid(), e.gid);
	EXPECT_EQ(0640, e.mode);
	EXPECT_EQ(7, e.name_len);
	EXPECT_STREQ("indexed", e.name);
	EXPECT_GE(e.fd, 3);
	EXPECT_LT(slot, ((const struct sealshm_index_header *)x.map)->capacity);
	EXPECT_EQ(0, ((const struct sealshm_index_header *)x.map)->seq & 1);

	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(-ENOENT, idx_find(&x, "indexed", &e2, &slot2));
	/* The slot is free again and taken by the next name: a new
	 * generation says it is another name. */
	sealshm_close(self->shm[0]);
	self->shm[0] = NULL;
	ASSERT_EQ(0, sealshm_create("indexed_again", 4096, &o, &self->shm[0]));
	ASSERT_EQ(0, idx_find(&x, "indexed_again", &e2, &slot2));
	EXPECT_EQ(slot, slot2);
	EXPECT_NE(e.generation, e2.generation);
	EXPECT_STREQ("indexed_again", e2.name);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(-ENOENT, idx_find(&x, "indexed_again", &e2, &slot2));
	idx_close(&x);
}

/* A name longer than SEALSHM_INDEX_NAME_MAX is registered but not
 * published; it attaches normally (through the round trip). */
TEST_F(trackerd, long_name_is_not_indexed_but_attaches)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
	char name[SEALSHM_INDEX_NAME_MAX + 2];
	struct sealshm_index_entry e;
	struct idx x;
	uint32_t slot;

	memset(name, 'L', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(0, raw_index(self->raw, &x));
	ASSERT_EQ(0, sealshm_create(name, 4096, &o, &self->shm[0]));
	((char *)sealshm_buf(self->shm[0]))[5] = 'l';
	EXPECT_EQ(-ENOENT, idx_find(&x, name, &e, &slot));
	ASSERT_EQ(0, sealshm_attach(name, &o, &self->shm[1]));
	EXPECT_EQ('l', ((char *)sealshm_buf(self->shm[1]))[5]);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	sealshm_close(self->shm[0]);
	self->shm[0] = NULL;
	/* One byte shorter is published. */
	name[SEALSHM_INDEX_NAME_MAX] = '\0';
	ASSERT_EQ(0, sealshm_create(name, 4096, &o, &self->shm[0]));
	ASSERT_EQ(0, idx_find(&x, name, &e, &slot));
	EXPECT_EQ(SEALSHM_INDEX_NAME_MAX, e.name_len);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	idx_close(&x);
}

/* TRACK on a session links a name attached through the index: the name
 * counts the session, and the session's end cleans it up as for a tracked
 * ATTACH.  Nothing is ever sent back on the session. */
TEST_F(trackerd, track_links_name_to_session)
{
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_index_entry e;
	struct sealshm_wire_info info;
	char line[160], buf[64];
	struct idx x;
	uint32_t slot;
	uint64_t id;

	ASSERT_EQ(0, raw_index(self->raw, &x));
	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "fast_tracked", 0, NULL));
	ASSERT_EQ(0, idx_find(&x, "fast_tracked", &e, &slot));
	self->extra[0] = raw_session_client(self->d.sock, token, &id);
	ASSERT_GE(self->extra[0], 0);

	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation, e.ino));
	/* Twice: a session tracks a name once. */
	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation, e.ino));
	info.n_sessions = 0;
	for (int i = 0; i < 200 && info.n_sessions == 0; i++) {
		ASSERT_EQ(0, raw_stat(self->raw, "fast_tracked", &info));
		if (info.n_sessions == 0)
			helper_sleep_ms(10);
	}
	EXPECT_EQ(1, info.n_sessions);
	EXPECT_EQ((uint32_t)getpid(), info.session_pids[0]);
	errno = 0;
	EXPECT_EQ(-1, recv(self->extra[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	self->extra[0] = safe_close(self->extra[0]);
	EXPECT_EQ(0, helper_wait_gone("fast_tracked", 5000));
	snprintf(line, sizeof(line),
		 "leaked segment 'fast_tracked' cleaned up (session %llu of pid %d ended)",
		 (unsigned long long)id, (int)getpid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
	EXPECT_EQ(-ENOENT, idx_find(&x, "fast_tracked", &e, &slot));
	idx_close(&x);
}

/* A TRACK that names what is no longer there (another generation, another
 * inode, a slot beyond the registry) is ignored: nothing is tracked and
 * the session lives on. */
TEST_F(trackerd, stale_track_is_ignored)
{
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_index_entry e, f;
	struct sealshm_msg_attach_reply reply;
	struct sealshm_wire_info info;
	uint32_t slot, fslot;
	struct idx x;
	char buf[64];
	uint64_t id;

	ASSERT_EQ(0, raw_index(self->raw, &x));
	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "stale_target", 0, NULL));
	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "fence", 0, NULL));
	ASSERT_EQ(0, idx_find(&x, "stale_target", &e, &slot));
	ASSERT_EQ(0, idx_find(&x, "fence", &f, &fslot));
	self->extra[0] = raw_session_client(self->d.sock, token, &id);
	ASSERT_GE(self->extra[0], 0);

	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation + 1, e.ino));
	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation - 1, e.ino));
	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation, e.ino + 1));
	ASSERT_EQ(0, raw_track(self->extra[0], UINT32_MAX, e.generation, e.ino));
	ASSERT_EQ(0, raw_track(self->extra[0], 1u << 30, e.generation, e.ino));
	/* A good one last: once it shows, the others were handled before. */
	ASSERT_EQ(0, raw_track(self->extra[0], fslot, f.generation, f.ino));
	info.n_sessions = 0;
	for (int i = 0; i < 200 && info.n_sessions == 0; i++) {
		ASSERT_EQ(0, raw_stat(self->raw, "fence", &info));
		if (info.n_sessions == 0)
			helper_sleep_ms(10);
	}
	EXPECT_EQ(1, info.n_sessions);
	ASSERT_EQ(0, raw_stat(self->raw, "stale_target", &info));
	EXPECT_EQ(0, info.n_sessions);

	/* Still a live session: nothing sent, not closed. */
	errno = 0;
	EXPECT_EQ(-1, recv(self->extra[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, trackerd_log_count(&self->d, "message on session", NULL));

	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "stale_target", 0, &reply,
				   sizeof(reply), NULL));
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "fence", 0, &reply,
				   sizeof(reply), NULL));
	self->extra[0] = safe_close(self->extra[0]);
	EXPECT_EQ(0, trackerd_log_count(&self->d, "leaked segment", NULL));
	idx_close(&x);
}

/* TRACK on a request connection (not a session) is refused with -EPROTO
 * and the connection closed: it expects no reply, so it is a protocol
 * error there. */
TEST_F(trackerd, track_on_request_connection_is_refused)
{
	struct sealshm_msg_track t = {
		.hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t), .seq = 52 },
	};
	char reply[64];
	ssize_t n;

	self->extra[0] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[0], 0);
	n = raw_call(self->extra[0], &t, sizeof(t), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_EQ(-EPROTO, error_reply(_metadata, reply, n, SEALSHM_MSG_TRACK, 52));
	EXPECT_TRUE(raw_closed_by_peer(self->extra[0]));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused message", "no session", NULL));
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* A malformed TRACK (wrong size, or with an fd) ends the session like any
 * message that is not a good TRACK: its names are cleaned up. */
TEST_F(trackerd, malformed_track_ends_session)
{
	for (int round = 0; round < 2; round++) {
		struct sealshm_msg_track t[2] = {
			{ .hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t[0]), .seq = 53 } },
		};
		uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
		int mfd = helper_memfd(64, 0);

		ASSERT_GE(mfd, 0);
		self->extra[0] = raw_session_client(self->d.sock, token, NULL);
		ASSERT_GE(self->extra[0], 0);
		ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "badly_tracked",
						SEALSHM_PROTO_TRACK, token));
		if (round == 0) {
			ASSERT_EQ(0, raw_send_fds(self->extra[0], t, sizeof(t), NULL, 0));
		} else {
			ASSERT_EQ(0, raw_send_fds(self->extra[0], t, sizeof(t[0]), &mfd, 1));
		}
		close(mfd);
		EXPECT_TRUE(raw_list_works(self->raw));	/* reads sessions */
		EXPECT_TRUE(raw_closed_by_peer(self->extra[0]));
		self->extra[0] = safe_close(self->extra[0]);
		EXPECT_EQ(0, helper_wait_gone("badly_tracked", 5000));
	}
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* INDEX is a request like any other on a request connection: such a
 * connection cannot become a session afterwards. */
TEST_F(trackerd, index_makes_connection_a_request_one)
{
	struct sealshm_msg_session_reply r;
	struct idx x;

	self->extra[0] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(0, raw_index(self->extra[0], &x));
	idx_close(&x);
	EXPECT_EQ(-EPROTO, raw_session(self->extra[0], &r));
}

/* A program started with fork+exec attaches by name and writes; the parent
 * sees the write, and reads back what the peer reads. */
TEST_F(trackerd, exec_peer_attaches_by_name_and_writes)
{
	char out[32];
	unsigned char *p;

	ASSERT_EQ(0, sealshm_create("cross", 1000, NULL, &self->shm[0]));
	p = sealshm_buf(self->shm[0]);
	/* Untracked: a tracking peer's exit would take the name (tracking_test). */
	EXPECT_EQ(0, run_peer((const char *[]){ "--no-track", "attach", "cross", "999", "123",
						NULL }, NULL, 0));
	EXPECT_EQ(123, p[999]);
	p[0] = 42;
	EXPECT_EQ(0, run_peer((const char *[]){ "--no-track", "read", "/cross", "0", NULL }, out,
			      sizeof(out)));
	EXPECT_STREQ("42\n", out);
	EXPECT_EQ(1, run_peer((const char *[]){ "read", "no_such_name", "0", NULL }, NULL, 0));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* SIGHUP is logged and ignored: trackerd keeps serving with the same pid. */
TEST_F(trackerd, sighup_is_ignored)
{
	ASSERT_EQ(0, kill(self->d.pid, SIGHUP));
	helper_sleep_ms(100);
	EXPECT_TRUE(helper_pid_alive(self->d.pid));
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(library_works());
}

/* A second trackerd on the same socket finds the lock held, says so and
 * exits 0; the first keeps serving. */
TEST_F(trackerd, second_instance_on_same_socket_exits_zero)
{
	struct sealshm_msg_hello_reply hello;
	struct trackerd second = self->d;
	int rc;

	second.pid = 0;
	/* trackerd_spawn waits for a connectable socket, which the first one
	 * provides; then the second must exit on its own. */
	rc = trackerd_spawn(&second, NULL);
	if (rc == 0) {
		EXPECT_EQ(0, helper_exit_code(helper_reap(second.pid, 5000)));
	} else {
		EXPECT_EQ(-ECHILD, rc);	/* it exited before we looked */
	}
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "already serves", NULL));
	self->extra[0] = raw_client(self->d.sock, &hello);
	ASSERT_GE(self->extra[0], 0);
	EXPECT_EQ((uint32_t)self->d.pid, hello.server_pid);
	EXPECT_TRUE(library_works());
}

/* SIGTERM makes trackerd exit 0 and remove its socket; a new instance then
 * serves the same path. */
TEST(sigterm_exits_zero_and_removes_socket)
{
	struct sealshm_msg_hello_reply hello;
	struct trackerd d;
	int fds_before = helper_count_fds(0), fd;

	ASSERT_EQ(0, trackerd_start(&d, NULL));
	EXPECT_EQ(0, access(d.sock, F_OK));
	EXPECT_EQ(0, trackerd_stop(&d));
	EXPECT_EQ(-1, access(d.sock, F_OK));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_TRUE(trackerd_log_has_line(&d, 0, "trackerd[", NULL));

	ASSERT_EQ(0, trackerd_spawn(&d, NULL));
	fd = raw_client(d.sock, &hello);
	EXPECT_LE(0, fd);
	EXPECT_EQ((uint32_t)d.pid, hello.server_pid);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);
	EXPECT_EQ(fds_before, helper_count_fds(0));
}

/* Start trackerd for @d as systemd would: @lfd as fd 3, LISTEN_PID and
 * LISTEN_FDS=1 set for it.  Returns its pid or -errno. */
static pid_t spawn_activated(const struct trackerd *d, int lfd)
{
	char prog[PATH_MAX];
	pid_t pid;

	if (helper_trackerd_path(prog, sizeof(prog)) < 0)
		return -ENOENT;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char num[16];

		if (helper_daemon_stdio(d->log) < 0 || helper_dup_to(lfd, 3) < 0)
			_exit(126);
		(void)close_range(4, ~0U, 0);
		snprintf(num, sizeof(num), "%d", (int)getpid());
		if (setenv("LISTEN_PID", num, 1) < 0 || setenv("LISTEN_FDS", "1", 1) < 0)
			_exit(126);
		execl(prog, prog, "--foreground", "--socket", d->sock, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Socket activation: trackerd serves the SOCK_SEQPACKET socket passed as
 * fd 3 (LISTEN_PID/LISTEN_FDS) instead of binding its own, and refuses a
 * passed socket of the wrong type. */
TEST(socket_activation_serves_passed_socket)
{
	struct sealshm_msg_hello_reply hello;
	int fds_before = helper_count_fds(0), lfd, fd, n;
	struct stat st_ours, st_theirs;
	struct trackerd d;
	char path[64];

	ASSERT_EQ(0, trackerd_prepare(&d));
	lfd = helper_listen_unix(d.sock, SOCK_SEQPACKET);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, fstat(lfd, &st_ours));
	d.pid = spawn_activated(&d, lfd);
	close(lfd);
	ASSERT_GT(d.pid, 0);

	fd = raw_client(d.sock, &hello);
	EXPECT_LE(0, fd);
	EXPECT_EQ((uint32_t)d.pid, hello.server_pid);
	if (fd >= 0)
		close(fd);
	/* The listening socket it serves is the very one we passed. */
	snprintf(path, sizeof(path), "/proc/%d/fd/3", (int)d.pid);
	ASSERT_EQ(0, stat(path, &st_theirs));
	EXPECT_EQ(st_ours.st_ino, st_theirs.st_ino);
	EXPECT_EQ(0, trackerd_stop(&d));

	/* A stream socket is not what the protocol needs: refused. */
	(void)unlink(d.sock);
	lfd = helper_listen_unix(d.sock, SOCK_STREAM);
	ASSERT_GE(lfd, 0);
	d.pid = spawn_activated(&d, lfd);
	close(lfd);
	ASSERT_GT(d.pid, 0);
	n = helper_exit_code(helper_reap(d.pid, 5000));
	d.pid = 0;
	EXPECT_NE(0, n);
	EXPECT_NE(128 + SIGKILL, n);	/* it exited by itself */
	trackerd_cleanup(&d);
	EXPECT_EQ(fds_before, helper_count_fds(0));
}

/* With --idle-exit N trackerd exits 0 once nothing is registered and no
 * client is connected for N seconds, but not while a name is registered. */
FIXTURE(idle) {
	struct trackerd d;
	int sock;
	int fds_before;
};

FIXTURE_SETUP(idle)
{
	const char *const idle[] = { "--idle-exit", "1", NULL };

	self->sock = -EBADF;
	self->fds_before = helper_count_fds(0);
	ASSERT_EQ(0, trackerd_start(&self->d, idle));
}

FIXTURE_TEARDOWN(idle)
{
	self->sock = safe_close(self->sock);
	trackerd_cleanup(&self->d);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
}

TEST_F_TIMEOUT(idle, idle_exit_only_when_idle, 30)
{
	struct sealshm_msg_create req;
	char reply[64];
	int mfd;

	self->sock = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->sock, 0);
	mfd = helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(mfd, 0);
	raw_create_req(&req, 1, "keeps_alive", 64, 0600, 0);
	EXPECT_EQ(16, raw_call(self->sock, &req, sizeof(req), &mfd, 1, reply, sizeof(reply),
			       NULL));
	close(mfd);
	ASSERT_EQ(0, ((struct sealshm_msg_hdr *)reply)->status);
	self->sock = safe_close(self->sock);

	/* A registered name keeps it alive past the idle time. */
	helper_sleep_ms(2500);
	ASSERT_TRUE(helper_pid_alive(self->d.pid));

	self->sock = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->sock, 0);
	EXPECT_EQ(0, raw_name_call(self->sock, SEALSHM_MSG_UNLINK, "keeps_alive", 0, reply,
				   sizeof(reply), NULL));
	/* A connected client keeps it alive too. */
	helper_sleep_ms(2500);
	ASSERT_TRUE(helper_pid_alive(self->d.pid));
	self->sock = safe_close(self->sock);

	/* Then nothing: it leaves by itself, exit code 0. */
	EXPECT_EQ(0, helper_exit_code(helper_reap(self->d.pid, 5000)));
	self->d.pid = 0;
}

/* --- permissions: needs root to switch to another uid --------------------- */
#define NOBODY 65534

FIXTURE(perm) {
	struct trackerd d;
	struct sealshm *shm[4];
	int fds_before;
};

FIXTURE_SETUP(perm)
{
	int fds;

	memset(self->shm, 0, sizeof(self->shm));
	self->fds_before = -1;
	if (geteuid() != 0)
		SKIP(return, "switching uid needs root");
	fds = trackerd_start_connected(&self->d, NULL);
	ASSERT_GT(fds, 0) {
		TH_LOG("trackerd_start_connected: %s", strerror(-fds));
	}
	/* Let the other uid reach the socket. */
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, chmod(self->d.sock, 0666));
	self->fds_before = fds;
}

FIXTURE_TEARDOWN(perm)
{
	struct sealshm_info *infos = NULL;

	if (self->fds_before < 0)
		return;
	for (int i = 0; i < 4; i++)
		sealshm_close(self->shm[i]);
	EXPECT_EQ(0, sealshm_registry_list(NULL, &infos));
	free(infos);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	if (!_metadata->passed) {
		char *log = trackerd_log(&self->d);

		TH_LOG("trackerd log:\n%s", log);
		free(log);
	}
	trackerd_cleanup(&self->d);
}

static int other_uid_on_private(void)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_info *infos = NULL, info;
	struct sealshm *s = NULL;
	int n;

	CHILD_CHECK(1, sealshm_attach("private", NULL, &s) == -EACCES);
	CHILD_CHECK(2, sealshm_attach("private", &ro, &s) == -EACCES);
	CHILD_CHECK(3, s == NULL);
	CHILD_CHECK(4, sealshm_unlink_name("private", NULL) == -EPERM);
	CHILD_CHECK(5, sealshm_stat("private", NULL, &info) == -EACCES);
	n = sealshm_registry_list(NULL, &infos);
	CHILD_CHECK(6, n == 0);
	free(infos);
	return 0;
}

/* Another uid cannot attach a 0600 segment (-EACCES, even read-only), nor
 * stat or list it, nor unlink it (-EPERM); the name survives. */
TEST_F(perm, other_uid_cannot_touch_private_segment)
{
	if (_metadata->skip)
		return;	/* the 6.1 harness runs the test after SKIP in setup */
	ASSERT_EQ(0, sealshm_create("private", 4096, NULL, &self->shm[0]));
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_on_private));
	ASSERT_EQ(0, sealshm_attach("private", NULL, &self->shm[1]));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'private'", NULL));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

static int other_uid_on_public(void)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_info *infos = NULL;
	struct sealshm *s = NULL;
	char path[64];
	int n, fd;

	CHILD_CHECK(1, sealshm_attach("public", NULL, &s) == -EACCES);
	CHILD_CHECK(2, sealshm_attach("public", &ro, &s) == 0);
	CHILD_CHECK(3, ((char *)sealshm_buf(s))[0] == 'P');
	CHILD_CHECK(4, (fcntl(sealshm_fd(s), F_GETFL) & O_ACCMODE) == O_RDONLY);
	/* The memfd's own mode refuses a write reopen through /proc. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sealshm_fd(s));
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHILD_CHECK(5, fd < 0 && errno == EACCES);
	CHILD_CHECK(6, mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sealshm_fd(s), 0) ==
			       MAP_FAILED);
	CHILD_CHECK(7, sealshm_unlink(s) == -EPERM);
	sealshm_close(s);
	n = sealshm_registry_list(NULL, &infos);
	CHILD_CHECK(8, n == 1 && !strcmp(infos[0].name, "public"));
	free(infos);
	return 0;
}

/* Another uid attaches a 0644 segment read-only (and cannot make it
 * writable: no read-write attach, no write reopen, no writable mapping) and
 * cannot unlink it; it sees only that name in the list. */
TEST_F(perm, other_uid_reads_public_segment_only)
{
	SEALSHM_OPTS(sealshm_opts, pub, .mode = 0644);

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, sealshm_create("public", 4096, &pub, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create("private", 4096, NULL, &self->shm[1]));
	((char *)sealshm_buf(self->shm[0]))[0] = 'P';
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_on_public));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

static int group_member_on_0640(void)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm *s = NULL;

	CHILD_CHECK(1, sealshm_attach("grouped", NULL, &s) == -EACCES);
	CHILD_CHECK(2, sealshm_attach("grouped", &ro, &s) == 0);
	sealshm_close(s);
	CHILD_CHECK(3, sealshm_attach("grouped_rw", NULL, &s) == 0);
	((char *)sealshm_buf(s))[1] = 'g';
	sealshm_close(s);
	return 0;
}

/* A member of the owner's group gets the group bits: read-only on 0640,
 * read-write on 0660. */
TEST_F(perm, group_member_gets_group_bits)
{
	SEALSHM_OPTS(sealshm_opts, g, .mode = 0640);
	SEALSHM_OPTS(sealshm_opts, grw, .mode = 0660);

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, sealshm_create("grouped", 64, &g, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create("grouped_rw", 64, &grw, &self->shm[1]));
	EXPECT_EQ(0, run_as_user(NOBODY, getgid(), group_member_on_0640));
	EXPECT_EQ('g', ((char *)sealshm_buf(self->shm[1]))[1]);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

static int nobody_creates(void)
{
	/* Untracked: the name must outlive this child. */
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
	struct sealshm *s = NULL;

	CHILD_CHECK(1, sealshm_create("nobodys", 128, &o, &s) == 0);
	((char *)sealshm_buf(s))[0] = 'n';
	sealshm_close(s);
	return 0;
}

/* Root may attach and unlink a segment another uid owns, whatever its mode;
 * the owner recorded is the creator's uid. */
TEST_F(perm, root_overrides_mode)
{
	struct sealshm_info info;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, run_as_user(NOBODY, NOBODY, nobody_creates));
	ASSERT_EQ(0, sealshm_stat("nobodys", NULL, &info));
	EXPECT_EQ(NOBODY, info.uid);
	EXPECT_EQ(NOBODY, info.gid);
	EXPECT_EQ(0600, info.mode);
	ASSERT_EQ(0, sealshm_attach("nobodys", NULL, &self->shm[0]));
	EXPECT_EQ('n', ((char *)sealshm_buf(self->shm[0]))[0]);
	EXPECT_EQ(0, sealshm_unlink_name("nobodys", NULL));
}

static int other_uid_asks_for_index(void)
{
	const char *sock = getenv("SEALSHM_SOCKET");
	struct idx x;
	int fd, r;

	CHILD_CHECK(1, sock != NULL);
	fd = raw_client(sock, NULL);
	CHILD_CHECK(2, fd >= 0);
	r = raw_index(fd, &x);
	CHILD_CHECK(3, r == -EPERM);
	CHILD_CHECK(4, x.fd < 0);
	/* The connection stays usable: a refusal, not a violation. */
	CHILD_CHECK(5, raw_list_works(fd));
	close(fd);
	return 0;
}

/* INDEX is refused (-EPERM, no fd) to a client whose uid is neither
 * trackerd's nor root: the fast path is only for who could take trackerd's
 * fds anyway. */
TEST_F(perm, index_refused_to_other_uid)
{
	if (_metadata->skip)
		return;
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_asks_for_index));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused index", "uid 65534", NULL));
}

/* A TRACK from a session whose uid could not read the name is not honoured:
 * it must not keep another user's name alive. */
static int other_uid_tracks_private(void)
{
	const char *sock = getenv("SEALSHM_SOCKET"), *slot_s = getenv("TRACK_SLOT");
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_msg_track t = {
		.hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t), .seq = 54 },
	};
	int fd;

	CHILD_CHECK(1, sock && slot_s);
	fd = raw_session_client(sock, token, NULL);
	CHILD_CHECK(2, fd >= 0);
	CHILD_CHECK(3, sscanf(slot_s, "%u %u %" SCNu64, &t.slot, &t.generation, &t.ino) == 3);
	CHILD_CHECK(4, raw_send_fds(fd, &t, sizeof(t), NULL, 0) == 0);
	helper_sleep_ms(200);
	close(fd);
	return 0;
}

TEST_F(perm, track_needs_read_permission)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
	struct sealshm_index_entry e;
	struct sealshm_info info;
	struct idx x;
	char env[96];
	uint32_t slot;
	int sock;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, sealshm_create("private_fast", 64, &o, &self->shm[0]));
	sock = raw_client(self->d.sock, NULL);
	ASSERT_GE(sock, 0);
	ASSERT_EQ(0, raw_index(sock, &x));
	ASSERT_EQ(0, idx_find(&x, "private_fast", &e, &slot));
	idx_close(&x);
	close(sock);
	snprintf(env, sizeof(env), "%u %u %" PRIu64, slot, e.generation, e.ino);
	ASSERT_EQ(0, setenv("TRACK_SLOT", env, 1));
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_tracks_private));
	unsetenv("TRACK_SLOT");
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused track 'private_fast'", NULL));
	ASSERT_EQ(0, sealshm_stat("private_fast", NULL, &info));
	EXPECT_EQ(0, info.n_sessions);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* --- the fd limit ------------------------------------------------------------ */

/* At its fd limit trackerd refuses creates with -EMFILE (and says so in its
 * log) but keeps fds for clients: new connections are accepted and
 * served, names attach, and unlinking makes room again.  trackerd runs
 * under a hard limit of 300 fds (prlimit), without CAP_SYS_RESOURCE
 * (setpriv, when we are root) so it cannot raise it. */
TEST_F_TIMEOUT(trackerd, fd_limit_refuses_creates_not_clients, 60)
{
	const char *root_wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", "/usr/bin/setpriv",
				    "--bounding-set=-sys_resource", "--inh-caps=-sys_resource",
				    NULL };
	const char *user_wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	char name[32];
	int n = 0, r = 0, sock, fd, conns[20];

	if (access("/usr/bin/prlimit", X_OK) < 0 ||
	    (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) < 0))
		SKIP(return, "needs prlimit (and setpriv as root), util-linux");
	ASSERT_EQ(0, trackerd_prepare(&d));
	ASSERT_EQ(0, trackerd_spawn_wrapped(&d, geteuid() == 0 ? root_wrap : user_wrap, NULL,
					    5000));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);

	for (n = 0; n < 300; n++) {
		snprintf(name, sizeof(name), "fd_%d", n);
		r = raw_create_tracked(_metadata, sock, name, 0, NULL);
		if (r < 0)
			break;
	}
	EXPECT_EQ(-EMFILE, r);
	/* Names got about half of 300 (limits.h), no fewer than 100. */
	EXPECT_GE(n, 100);
	EXPECT_LE(n, 150);
	EXPECT_TRUE(trackerd_log_has_line(&d, 2000, "refused create", "RLIMIT_NOFILE", NULL));

	/* Clients still connect and are served. */
	for (int i = 0; i < 20; i++) {
		conns[i] = raw_client(d.sock, NULL);
		EXPECT_GE(conns[i], 0);
		if (conns[i] >= 0)
			EXPECT_TRUE(raw_list_works(conns[i]));
	}
	for (int i = 0; i < 20; i++)
		safe_close(conns[i]);
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_ATTACH, "fd_0", SEALSHM_PROTO_RDONLY, &reply,
				   sizeof(reply), &fd));
	EXPECT_GE(fd, 0);
	safe_close(fd);

	/* Room again after an unlink. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "fd_0", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "fd_again", 0, NULL));
	EXPECT_TRUE(helper_pid_alive(d.pid));

	safe_close(sock);
	if (!_metadata->passed) {
		char *log = trackerd_log(&d);

		TH_LOG("trackerd log:\n%s", log);
		free(log);
	}
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);
}

/* A name whose read-only twin trackerd keeps holds two of its fds, and
 * counts as two against the fd limit: under the same hard limit of 300
 * (see above), half as many such names fit, -EMFILE says so, unlinking
 * closes both fds, and read-only attaches get the twin.  The memfds' mode
 * is 0, so that trackerd (root without capabilities) may not reopen them
 * and keeps the twins that we (root with CAP_DAC_OVERRIDE) could make. */
TEST_F_TIMEOUT(trackerd, fd_limit_counts_read_only_twins, 60)
{
	const char *wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", "/usr/bin/setpriv",
			       "--bounding-set=-sys_resource", "--inh-caps=-sys_resource", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	char name[32];
	int n, r = 0, sock, fd, base;

	if (geteuid() != 0)
		SKIP(return, "a twin trackerd may not reopen takes root to make");
	if (access("/usr/bin/prlimit", X_OK) < 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP(return, "needs prlimit and setpriv, util-linux");
	ASSERT_EQ(0, trackerd_prepare(&d));
	ASSERT_EQ(0, trackerd_spawn_wrapped(&d, wrap, NULL, 5000));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	base = helper_count_fds(d.pid);
	ASSERT_GT(base, 0);

	for (n = 0; n < 300; n++) {
		int fds[2] = { helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW), -EBADF };

		ASSERT_GE(fds[0], 0);
		ASSERT_EQ(0, fchmod(fds[0], 0));
		fds[1] = reopen_fd(fds[0], O_RDONLY);
		ASSERT_GE(fds[1], 0);
		snprintf(name, sizeof(name), "twin_%d", n);
		r = raw_create(_metadata, sock, name, 64, 0400, 0, fds, 2);
		close(fds[0]);
		close(fds[1]);
		if (r < 0)
			break;
	}
	EXPECT_EQ(-EMFILE, r);
	/* Names got about half of 300 fds (limits.h), two each. */
	EXPECT_GE(n, 50);
	EXPECT_LE(n, 75);
	/* Waited for: the refused message's fds close after its reply left. */
	EXPECT_EQ(base + 2 * n, helper_wait_fds(d.pid, base + 2 * n, 3000));
	EXPECT_TRUE(trackerd_log_has_line(&d, 2000, "refused create", "RLIMIT_NOFILE", NULL));

	/* Read-only attaches are served with the twin: trackerd may not
	 * reopen the memfd. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_ATTACH, "twin_0", SEALSHM_PROTO_RDONLY,
				   &reply, sizeof(reply), &fd));
	EXPECT_GE(fd, 0);
	if (fd >= 0)
		EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	safe_close(fd);

	/* Unlinking closes both fds, and makes room for one more. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "twin_0", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(base + 2 * (n - 1), helper_wait_fds(d.pid, base + 2 * (n - 1), 3000));
	{
		int fds[2] = { helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW), -EBADF };

		ASSERT_GE(fds[0], 0);
		ASSERT_EQ(0, fchmod(fds[0], 0));
		fds[1] = reopen_fd(fds[0], O_RDONLY);
		EXPECT_EQ(0, raw_create(_metadata, sock, "twin_again", 64, 0400, 0, fds, 2));
		close(fds[0]);
		safe_close(fds[1]);
	}
	EXPECT_TRUE(helper_pid_alive(d.pid));

	safe_close(sock);
	EXPECT_TRACKERD_STOPS(&d);
}

/* --max-names and --max-names-per-uid cap the registry (-ENOSPC, -EDQUOT)
 * and size the index; bad values are a usage error (exit 2). */
TEST(max_names_options)
{
	const char *opts[] = { "--max-names", "3", "--max-names-per-uid", "2", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	const struct helper_run_opts quiet = { .err_path = "/dev/null" };
	struct idx x;
	char prog[PATH_MAX];
	int sock;

	ASSERT_EQ(0, trackerd_start(&d, opts));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	ASSERT_EQ(0, raw_index(sock, &x));
	EXPECT_EQ(3, ((const struct sealshm_index_header *)x.map)->capacity);
	idx_close(&x);
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_1", 0, NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_2", 0, NULL));
	EXPECT_EQ(-EDQUOT, raw_create_tracked(_metadata, sock, "cap_3", 0, NULL));
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "cap_1", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "cap_2", 0, &reply, sizeof(reply),
				   NULL));
	safe_close(sock);
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);

	ASSERT_EQ(0, trackerd_start(&d, (const char *[]){ "--max-names", "2", NULL }));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_1", 0, NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_2", 0, NULL));
	EXPECT_EQ(-ENOSPC, raw_create_tracked(_metadata, sock, "cap_3", 0, NULL));
	safe_close(sock);
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);

	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	for (int i = 0; i < 3; i++) {
		const char *bad[] = { "0", "-1", "99999999999" };

		EXPECT_EQ(2, helper_run(prog, (const char *const[]){ "--foreground", "--socket",
					"/nonexistent/x", "--max-names", bad[i], NULL },
					&quiet, NULL, 0));
	}
}

TEST_HARNESS_MAIN

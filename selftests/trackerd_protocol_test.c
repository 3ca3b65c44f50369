// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_protocol_test: trackerd driven by a raw client that speaks
 * lib/proto.h directly, so that it can misbehave.  HELLO identifies the
 * server; a wrong version or magic, a request before HELLO, bad name fields,
 * wrong fd counts, truncated, oversized or lying messages and unknown types
 * are each refused with an error reply and, for a protocol violation, the
 * connection closed; trackerd keeps serving well-behaved clients, after a
 * barrage of attacks, beside a client that never reads and after one killed
 * mid-request, and keeps no fd it was sent.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "trackerd_fixture.h"

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

TEST_HARNESS_MAIN

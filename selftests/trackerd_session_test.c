// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_session_test: tracking sessions over the raw protocol.  SESSION
 * gives a random token and an id; a tracked CREATE or ATTACH needs a live
 * session's token (-ESTALE otherwise, -EINVAL for a token without TRACK);
 * the session's end, or any message on it, unlinks the names it tracks with
 * a warning each and a summary line; UNLINK takes a name out of every
 * session tracking it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "trackerd_fixture.h"

static bool token_is_zero(const uint8_t *t)
{
	for (int i = 0; i < SEALSHM_PROTO_TOKEN_SIZE; i++)
		if (t[i])
			return false;
	return true;
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

TEST_HARNESS_MAIN

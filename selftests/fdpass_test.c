// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fdpass_test: sealshm__send / sealshm__recv over a SOCK_SEQPACKET pair.
 * fds travel with their message and arrive close-on-exec; a message whose
 * fds or bytes do not fit is refused and every fd that did arrive is closed
 * (counted through /proc/self/fd).
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "fdpass.h"
#include "helpers.h"

#define NMEMFD 5

FIXTURE(fdpass) {
	int sk[2];		/* sk[0] sends, sk[1] receives */
	int memfd[NMEMFD];
	int got;		/* a received fd, if any */
	int fds_before;
};

FIXTURE_SETUP(fdpass)
{
	self->sk[0] = self->sk[1] = self->got = -EBADF;
	for (int i = 0; i < NMEMFD; i++)
		self->memfd[i] = -EBADF;
	self->fds_before = helper_count_fds(0);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, self->sk));
	for (int i = 0; i < NMEMFD; i++) {
		self->memfd[i] = helper_memfd(4096 * (i + 1), F_SEAL_SHRINK | F_SEAL_GROW);
		ASSERT_GE(self->memfd[i], 0);
	}
}

FIXTURE_TEARDOWN(fdpass)
{
	self->sk[0] = safe_close(self->sk[0]);
	self->sk[1] = safe_close(self->sk[1]);
	self->got = safe_close(self->got);
	for (int i = 0; i < NMEMFD; i++)
		self->memfd[i] = safe_close(self->memfd[i]);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
}

static ino_t fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 ? 0 : st.st_ino;
}

/* One fd sent with a message arrives as a new, close-on-exec fd for the
 * same file, together with the message's bytes. */
TEST_F(fdpass, fd_arrives_cloexec_with_its_message)
{
	char buf[64] = "";
	size_t nfds = 99;
	ssize_t n;

	ASSERT_EQ(0, sealshm__send(self->sk[0], "hello", 6, &self->memfd[0], 1, 0));
	n = sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0);
	EXPECT_EQ(6, n);
	EXPECT_STREQ("hello", buf);
	ASSERT_EQ(1, nfds);
	EXPECT_NE(self->memfd[0], self->got);
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->got, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(fd_ino(self->memfd[0]), fd_ino(self->got));
}

/* A message without fds reports zero fds. */
TEST_F(fdpass, message_without_fd_reports_none)
{
	char buf[16];
	size_t nfds = 99;

	ASSERT_EQ(0, sealshm__send(self->sk[0], "x", 1, NULL, 0, 0));
	EXPECT_EQ(1, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
	EXPECT_EQ(0, nfds);
}

/* fds stay with the message they were sent with (SOCK_SEQPACKET). */
TEST_F(fdpass, fds_stay_with_their_message)
{
	char buf[16];
	size_t nfds;

	ASSERT_EQ(0, sealshm__send(self->sk[0], "a", 1, &self->memfd[1], 1, 0));
	ASSERT_EQ(0, sealshm__send(self->sk[0], "b", 1, NULL, 0, 0));
	ASSERT_EQ(0, sealshm__send(self->sk[0], "c", 1, &self->memfd[2], 1, 0));

	EXPECT_EQ(1, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
	EXPECT_EQ('a', buf[0]);
	ASSERT_EQ(1, nfds);
	EXPECT_EQ(fd_ino(self->memfd[1]), fd_ino(self->got));
	self->got = safe_close(self->got);

	EXPECT_EQ(1, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
	EXPECT_EQ('b', buf[0]);
	EXPECT_EQ(0, nfds);

	EXPECT_EQ(1, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
	EXPECT_EQ('c', buf[0]);
	ASSERT_EQ(1, nfds);
	EXPECT_EQ(fd_ino(self->memfd[2]), fd_ino(self->got));
}

/* Two fds where one is allowed: -ECHRNG and both received fds closed. */
TEST_F(fdpass, too_many_fds_closes_every_fd)
{
	char buf[16];
	size_t nfds = 0;
	int before;

	before = helper_count_fds(0);
	ASSERT_EQ(0, raw_send_fds(self->sk[0], "2", 1, self->memfd, 2));
	EXPECT_EQ(-ECHRNG, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
	EXPECT_EQ(-EBADF, self->got);
	EXPECT_EQ(before, helper_count_fds(0));
}

/* More fds than the control buffer holds (MSG_CTRUNC): -ECHRNG and every fd
 * that did arrive is closed. */
TEST_F(fdpass, ctrunc_closes_every_fd)
{
	char buf[16];
	size_t nfds = 0;
	int before;

	before = helper_count_fds(0);
	ASSERT_EQ(0, raw_send_fds(self->sk[0], "5", 1, self->memfd, NMEMFD));
	EXPECT_EQ(-ECHRNG, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
	EXPECT_EQ(before, helper_count_fds(0));

	/* The connection still works for the next, well-formed message. */
	ASSERT_EQ(0, sealshm__send(self->sk[0], "ok", 3, &self->memfd[4], 1, 0));
	EXPECT_EQ(3, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
	EXPECT_EQ(1, nfds);
	EXPECT_EQ(fd_ino(self->memfd[4]), fd_ino(self->got));
}

/* An fd where none is expected (max 0) is closed and the call fails. */
TEST_F(fdpass, unexpected_fd_is_closed)
{
	int out = -EBADF;
	char buf[16];
	size_t nfds = 0;
	int before;

	before = helper_count_fds(0);
	ASSERT_EQ(0, sealshm__send(self->sk[0], "u", 1, &self->memfd[0], 1, 0));
	EXPECT_EQ(-ECHRNG, sealshm__recv(self->sk[1], buf, sizeof(buf), NULL, 0, &nfds, 0));
	EXPECT_EQ(before, helper_count_fds(0));

	/* Room for one, but no place to report it: closed too, and the out
	 * array is not written on failure (it would name a closed fd). */
	ASSERT_EQ(0, sealshm__send(self->sk[0], "v", 1, &self->memfd[0], 1, 0));
	EXPECT_EQ(-ECHRNG, sealshm__recv(self->sk[1], buf, sizeof(buf), &out, 1, NULL, 0));
	EXPECT_EQ(-EBADF, out);
	EXPECT_EQ(before, helper_count_fds(0));
}

/* A message longer than the buffer (MSG_TRUNC): -EXFULL, its fd closed. */
TEST_F(fdpass, truncated_message_closes_fd)
{
	char big[256], buf[16];
	size_t nfds = 0;
	int before;

	memset(big, 'B', sizeof(big));
	before = helper_count_fds(0);
	ASSERT_EQ(0, sealshm__send(self->sk[0], big, sizeof(big), &self->memfd[0], 1, 0));
	EXPECT_EQ(-EXFULL, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
	EXPECT_EQ(-EBADF, self->got);
	EXPECT_EQ(before, helper_count_fds(0));
}

/* The peer's close reads as 0 (end of stream), and MSG_DONTWAIT on an empty
 * socket as -EAGAIN. */
TEST_F(fdpass, eof_and_empty)
{
	char buf[16];
	size_t nfds;

	EXPECT_EQ(-EAGAIN, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds,
					 MSG_DONTWAIT));
	self->sk[0] = safe_close(self->sk[0]);
	EXPECT_EQ(0, sealshm__recv(self->sk[1], buf, sizeof(buf), &self->got, 1, &nfds, 0));
}

/* Sending to a closed peer fails with -EPIPE and raises no SIGPIPE (which
 * would kill the test). */
TEST_F(fdpass, send_to_closed_peer_is_epipe)
{
	self->sk[1] = safe_close(self->sk[1]);
	EXPECT_EQ(-EPIPE, sealshm__send(self->sk[0], "p", 1, &self->memfd[0], 1, 0));
	EXPECT_EQ(-EPIPE, sealshm__send(self->sk[0], "p", 1, NULL, 0, 0));
}

TEST_HARNESS_MAIN

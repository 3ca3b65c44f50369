// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_lifecycle_test: trackerd's life as a process.  SIGHUP is
 * ignored; a second instance on the same socket exits 0 and leaves the
 * first serving; SIGTERM exits 0 and removes the socket; socket activation
 * serves the SOCK_SEQPACKET socket passed as fd 3 and refuses a stream
 * socket; --idle-exit leaves only when nothing is registered and no client
 * is connected.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "trackerd_fixture.h"

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
	/* No library connection: a client would keep trackerd up. */
	trackerd_fixture_setup(_metadata, &self->d, idle, TRACKERD_FIXTURE_NO_CLIENT,
			       &self->fds_before, NULL);
}

/* The test lets trackerd exit by itself (with an empty registry, or it
 * would not); the registry is checked when it is still up, as after a
 * failure. */
FIXTURE_TEARDOWN(idle)
{
	self->sock = safe_close(self->sock);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
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

TEST_HARNESS_MAIN

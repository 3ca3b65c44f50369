// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * activation_test: trackerd under a service manager, played by the test as
 * systemd would (there is no systemd in CI).  Socket activation: a
 * listening socket the test binds is passed as fd 3 with LISTEN_FDS=1 and
 * LISTEN_PID=<trackerd's pid>; trackerd serves on it and the library
 * creates and attaches through it.  Readiness: a datagram socket of the
 * test's as NOTIFY_SOCKET (a path or an '@' abstract name) receives
 * "READY=1" from trackerd's pid once it serves and "STOPPING=1" on SIGTERM.
 * LISTEN_PID of another process is ignored (trackerd binds its own socket);
 * a daemonized trackerd never notifies; a manager that does not listen
 * costs a log line, not the service.
 *
 * trackerd_lifecycle_test.c keeps its own socket-activation case (the
 * passed socket is the one served; a SOCK_STREAM socket is refused).
 * trackerd runs with --seccomp=kill here (log in sanitizer builds), so the
 * notifications prove that the allow-list lets them through.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#define NOTIFY_WAIT_MS	5000

/* Whose pid goes into LISTEN_PID. */
enum listen_pid {
	LISTEN_NONE,		/* no LISTEN_* variables at all */
	LISTEN_SELF,		/* trackerd's own: the socket is for it */
	LISTEN_OTHER,		/* the test's: meant for another process */
};

FIXTURE(activation) {
	struct trackerd d;	/* dir, DIR/trackerd.sock, DIR/trackerd.log */
	int lfd;		/* the listening socket we pass (or -EBADF) */
	int nfd;		/* our NOTIFY_SOCKET end (or -EBADF) */
	char notify[108];	/* its address as NOTIFY_SOCKET spells it */
	pid_t daemon;		/* a daemonized trackerd, not our child */
	int fds_before;
};

/* Our end of NOTIFY_SOCKET: a datagram socket bound at @addr ("/path" or
 * "@abstract"), with SO_PASSCRED so that each datagram says who sent it,
 * as systemd's does. */
static int notify_socket(const char *addr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(addr);
	int one = 1, fd, r;

	if (strlen(addr) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, addr, strlen(addr));
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract: no NUL at the end either */
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* One datagram from @fd within @timeout_ms (0: only what is queued):
 * its text into @buf, the sender's pid into *@ret_pid.  Returns its
 * length, -ETIMEDOUT (-EAGAIN for @timeout_ms 0), or -errno. */
static int notify_recv(int fd, unsigned int timeout_ms, char *buf, size_t len, pid_t *ret_pid)
{
	char control[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	*ret_pid = 0;
	if (timeout_ms > 0) {
		int r = poll(&pfd, 1, (int)timeout_ms);

		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
	}
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*ret_pid = uc.pid;
		}
	}
	return (int)n;
}

/*
 * Start trackerd as a service manager would: @lfd (when >= 0) as fd 3 and
 * LISTEN_FDS=@nfds with LISTEN_PID as @who says, NOTIFY_SOCKET=@notify
 * (when not NULL), stderr to the log, `trackerd [--foreground] --socket
 * SOCK --seccomp=... [extra]`.  Returns the pid or -errno.
 */
static pid_t spawn(const struct trackerd *d, int lfd, enum listen_pid who, const char *nfds,
		   const char *notify, bool foreground, const char *extra)
{
	char prog[PATH_MAX];
	pid_t pid;

	if (helper_trackerd_path(prog, sizeof(prog)) < 0)
		return -ENOENT;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		const char *argv[8];
		char num[16];
		int argc = 0;

		if (helper_daemon_stdio(d->log) < 0 || (lfd >= 0 && helper_dup_to(lfd, 3) < 0))
			_exit(126);
		(void)close_range(lfd >= 0 ? 4 : 3, ~0U, 0);
		if (who != LISTEN_NONE) {
			snprintf(num, sizeof(num), "%d", (int)(who == LISTEN_SELF ? getpid() :
								getppid()));
			if (setenv("LISTEN_PID", num, 1) < 0 || setenv("LISTEN_FDS", nfds, 1) < 0)
				_exit(126);
		} else {
			(void)unsetenv("LISTEN_PID");
			(void)unsetenv("LISTEN_FDS");
		}
		if (notify ? setenv("NOTIFY_SOCKET", notify, 1) : unsetenv("NOTIFY_SOCKET"))
			_exit(126);
		argv[argc++] = prog;
		if (foreground)
			argv[argc++] = "--foreground";
		argv[argc++] = "--socket";
		argv[argc++] = d->sock;
		argv[argc++] = helper_seccomp_arg();
		if (extra)
			argv[argc++] = extra;
		argv[argc] = NULL;
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

FIXTURE_SETUP(activation)
{
	self->lfd = self->nfd = -EBADF;
	self->daemon = 0;
	self->fds_before = helper_count_fds(0);
	ASSERT_EQ(0, trackerd_prepare(&self->d));
	snprintf(self->notify, sizeof(self->notify), "%s/notify", self->d.dir);
}

FIXTURE_TEARDOWN(activation)
{
	TH_LOG_TRACKERD_ON_FAILURE(&self->d);
	if (self->daemon > 0 && helper_pid_alive(self->daemon))
		(void)kill(self->daemon, SIGKILL);
	self->lfd = safe_close(self->lfd);
	self->nfd = safe_close(self->nfd);
	trackerd_cleanup(&self->d);
	if (self->fds_before >= 0)
		EXPECT_EQ(self->fds_before, helper_count_fds(0));
}

/* Start with the passed socket and NOTIFY_SOCKET=self->notify; wait for
 * READY=1 and return its sender's pid in *@ret_sender. */
static void start_activated(struct __test_metadata *_metadata, FIXTURE_DATA(activation) *self,
			    pid_t *ret_sender)
{
	char buf[256];

	self->lfd = helper_listen_unix(self->d.sock, SOCK_SEQPACKET);
	ASSERT_LE(0, self->lfd);
	self->nfd = notify_socket(self->notify);
	ASSERT_LE(0, self->nfd);
	self->d.pid = spawn(&self->d, self->lfd, LISTEN_SELF, "1", self->notify, true, NULL);
	ASSERT_LT(0, self->d.pid);
	ASSERT_EQ(7, notify_recv(self->nfd, NOTIFY_WAIT_MS, buf, sizeof(buf), ret_sender));
	ASSERT_STREQ("READY=1", buf);
}

/* SIGTERM: STOPPING=1 from trackerd's pid, then a clean exit. */
static void stop_expect_stopping(struct __test_metadata *_metadata,
				 FIXTURE_DATA(activation) *self)
{
	char buf[256];
	pid_t sender, pid = self->d.pid;

	ASSERT_EQ(0, kill(pid, SIGTERM));
	EXPECT_EQ(10, notify_recv(self->nfd, NOTIFY_WAIT_MS, buf, sizeof(buf), &sender));
	EXPECT_STREQ("STOPPING=1", buf);
	EXPECT_EQ(pid, sender);
	EXPECT_EQ(0, trackerd_stop(&self->d));
}

/* trackerd serves the socket it was passed: HELLO names it as the server,
 * fd 3 is our very socket, and the library creates a segment there that an
 * exec'd peer reads and writes.  On SIGTERM the socket file stays: its path
 * is the manager's, and trackerd took no lock beside it. */
TEST_F_TIMEOUT(activation, serves_passed_socket_to_the_library, 60)
{
	struct sealshm_msg_hello_reply hello;
	struct sealshm *shm = NULL;
	struct stat ours, theirs;
	char path[PATH_MAX], out[64];
	int fd, baseline;
	pid_t sender;

	start_activated(_metadata, self, &sender);
	EXPECT_EQ(self->d.pid, sender);
	ASSERT_EQ(0, fstat(self->lfd, &ours));
	snprintf(path, sizeof(path), "/proc/%d/fd/3", (int)self->d.pid);
	ASSERT_EQ(0, stat(path, &theirs));
	EXPECT_EQ(ours.st_ino, theirs.st_ino);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "serving", self->d.sock,
					  "(socket activation)", NULL));
	fd = raw_client(self->d.sock, &hello);
	ASSERT_LE(0, fd);
	EXPECT_EQ((uint32_t)self->d.pid, hello.server_pid);
	close(fd);

	/* Through the library, and another process. */
	baseline = trackerd_connect(&self->d);
	ASSERT_LT(0, baseline);
	/* The library's connection and session stay open for the rest of this
	 * process: fds are checked against the baseline taken with them. */
	self->fds_before = -1;
	ASSERT_EQ(0, sealshm_create("activated", 4096, NULL, &shm));
	((unsigned char *)sealshm_buf(shm))[100] = 42;
	EXPECT_EQ(0, run_peer((const char *const[]){ "--no-track", "read", "activated", "100",
						     NULL }, out, sizeof(out)));
	EXPECT_STREQ("42\n", out);
	EXPECT_EQ(0, run_peer((const char *const[]){ "--no-track", "attach", "activated", "200",
						     "7", NULL }, NULL, 0));
	EXPECT_EQ(7, ((unsigned char *)sealshm_buf(shm))[200]);
	EXPECT_EQ(0, sealshm_unlink(shm));
	sealshm_close(shm);
	EXPECT_REGISTRY_EMPTY();
	EXPECT_EQ(baseline, helper_count_fds(0));

	stop_expect_stopping(_metadata, self);
	EXPECT_EQ(0, access(self->d.sock, F_OK));
	snprintf(path, sizeof(path), "%s.lock", self->d.sock);
	EXPECT_EQ(-1, access(path, F_OK));
}

/* READY=1 comes once, as one datagram from trackerd's own pid, when it
 * already answers; the next datagram is STOPPING=1, sent on SIGTERM. */
TEST_F(activation, ready_once_when_serving_then_stopping)
{
	struct sealshm_msg_hello_reply hello;
	pid_t sender;
	int fd;

	start_activated(_metadata, self, &sender);
	EXPECT_EQ(self->d.pid, sender);
	/* Serving by then: a HELLO is answered at once. */
	fd = raw_client(self->d.sock, &hello);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	stop_expect_stopping(_metadata, self);
	/* Nothing after STOPPING=1 (trackerd has exited: all it sent is queued). */
	{
		char buf[64];

		EXPECT_EQ(-EAGAIN, notify_recv(self->nfd, 0, buf, sizeof(buf), &sender));
	}
}

/* An abstract NOTIFY_SOCKET ("@name", as systemd uses for user managers in
 * containers) gets READY=1 and STOPPING=1 as a path does. */
TEST_F(activation, abstract_notify_socket)
{
	uint32_t rnd = 0;
	pid_t sender;

	(void)getrandom(&rnd, sizeof(rnd), 0);
	snprintf(self->notify, sizeof(self->notify), "@sealshm-test-%d-%08x", (int)getpid(), rnd);
	start_activated(_metadata, self, &sender);
	EXPECT_EQ(self->d.pid, sender);
	stop_expect_stopping(_metadata, self);
}

/* LISTEN_PID of another process: the passed fds are not trackerd's.  It
 * closes fd 3, binds and locks its own socket, serves there, and notifies
 * READY=1 all the same (Type=notify without a socket unit). */
TEST_F(activation, listen_pid_of_another_process_is_ignored)
{
	char passed[PATH_MAX], lock[PATH_MAX], buf[64], fdpath[PATH_MAX], target[128];
	struct sealshm_msg_hello_reply hello;
	struct stat ours;
	pid_t sender;
	int fd;

	snprintf(passed, sizeof(passed), "%s/passed.sock", self->d.dir);
	self->lfd = helper_listen_unix(passed, SOCK_SEQPACKET);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, fstat(self->lfd, &ours));
	self->nfd = notify_socket(self->notify);
	ASSERT_LE(0, self->nfd);
	self->d.pid = spawn(&self->d, self->lfd, LISTEN_OTHER, "1", self->notify, true, NULL);
	ASSERT_LT(0, self->d.pid);
	ASSERT_EQ(7, notify_recv(self->nfd, NOTIFY_WAIT_MS, buf, sizeof(buf), &sender));
	EXPECT_STREQ("READY=1", buf);
	EXPECT_EQ(self->d.pid, sender);

	fd = raw_client(self->d.sock, &hello);
	ASSERT_LE(0, fd);
	EXPECT_EQ((uint32_t)self->d.pid, hello.server_pid);
	close(fd);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "serving", self->d.sock, NULL));
	EXPECT_EQ(0, trackerd_log_count(&self->d, "(socket activation)", NULL));
	snprintf(lock, sizeof(lock), "%s.lock", self->d.sock);
	EXPECT_EQ(0, access(lock, F_OK));
	/* fd 3 is not the socket we passed (it is whatever trackerd opened
	 * since, if anything). */
	snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/3", (int)self->d.pid);
	{
		struct stat theirs;

		if (stat(fdpath, &theirs) == 0)
			EXPECT_NE(ours.st_ino, theirs.st_ino) {
				ssize_t n = readlink(fdpath, target, sizeof(target) - 1);

				target[n > 0 ? n : 0] = '\0';
				TH_LOG("trackerd still holds the passed socket as fd 3 (%s)",
				       target);
			}
	}

	stop_expect_stopping(_metadata, self);
	/* Its own socket, so it removes it. */
	EXPECT_EQ(-1, access(self->d.sock, F_OK));
}

/* A NOTIFY_SOCKET nobody listens on costs one log line; trackerd serves
 * and exits cleanly as usual. */
TEST_F(activation, unreachable_notify_socket_is_not_fatal)
{
	int fd;

	self->lfd = helper_listen_unix(self->d.sock, SOCK_SEQPACKET);
	ASSERT_LE(0, self->lfd);
	self->d.pid = spawn(&self->d, self->lfd, LISTEN_SELF, "1", self->notify, true, NULL);
	ASSERT_LT(0, self->d.pid);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, NOTIFY_WAIT_MS, "Failed to send 'READY=1'",
					  self->notify, NULL));
	fd = raw_client(self->d.sock, NULL);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_TRUE(helper_pid_alive(self->d.pid));
	EXPECT_EQ(0, trackerd_stop(&self->d));
}

/* A daemonized trackerd (no --foreground, as the library's autostart runs
 * it) is no manager's main process: a NOTIFY_SOCKET it inherited is not
 * its to use, and nothing is sent, through to its exit. */
TEST_F(activation, daemonized_trackerd_does_not_notify)
{
	struct sealshm_msg_hello_reply hello;
	char logopt[PATH_MAX], buf[64];
	uint64_t end;
	pid_t sender;
	int fd;

	self->nfd = notify_socket(self->notify);
	ASSERT_LE(0, self->nfd);
	snprintf(logopt, sizeof(logopt), "--log=%s", self->d.log);
	self->d.pid = spawn(&self->d, -EBADF, LISTEN_NONE, NULL, self->notify, false, logopt);
	ASSERT_LT(0, self->d.pid);
	/* The first process exits 0 once its daemon listens. */
	ASSERT_EQ(0, helper_exit_code(helper_reap(self->d.pid, 10000)));
	self->d.pid = 0;
	fd = raw_client(self->d.sock, &hello);
	ASSERT_LE(0, fd);
	close(fd);
	self->daemon = (pid_t)hello.server_pid;
	ASSERT_LT(0, self->daemon);

	ASSERT_EQ(0, kill(self->daemon, SIGTERM));
	end = helper_now_ms() + 5000;
	while (helper_pid_alive(self->daemon) && helper_now_ms() < end)
		helper_sleep_ms(10);
	ASSERT_FALSE(helper_pid_alive(self->daemon));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "exiting", NULL));
	EXPECT_EQ(-EAGAIN, notify_recv(self->nfd, 0, buf, sizeof(buf), &sender)) {
		TH_LOG("received '%s' from pid %d", buf, (int)sender);
	}
}

/* An activated trackerd takes no lock beside its socket (the service
 * manager keeps it to one instance), so a trackerd started by hand on the
 * same path gets the lock: it must still see that the socket answers, and
 * leave it alone (exit 0, "already serves") rather than unlink and bind
 * over it. */
TEST_F(activation, manual_trackerd_leaves_an_activated_one_alone)
{
	struct sealshm_msg_hello_reply hello;
	struct stat before, after;
	pid_t sender, manual;
	int fd;

	start_activated(_metadata, self, &sender);
	ASSERT_EQ(0, stat(self->d.sock, &before));

	manual = spawn(&self->d, -EBADF, LISTEN_NONE, NULL, NULL, true, NULL);
	ASSERT_LT(0, manual);
	EXPECT_EQ(0, helper_exit_code(helper_reap(manual, 10000)));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "already serves", self->d.sock, NULL));

	ASSERT_EQ(0, stat(self->d.sock, &after));
	EXPECT_EQ(before.st_ino, after.st_ino);
	fd = raw_client(self->d.sock, &hello);
	ASSERT_LE(0, fd);
	EXPECT_EQ((uint32_t)self->d.pid, hello.server_pid);
	close(fd);
	stop_expect_stopping(_metadata, self);
}

/* systemd passes several fds only to services that asked for several;
 * trackerd serves one socket, and says so rather than guess. */
TEST_F(activation, more_than_one_passed_fd_is_refused)
{
	int rc;

	self->lfd = helper_listen_unix(self->d.sock, SOCK_SEQPACKET);
	ASSERT_LE(0, self->lfd);
	self->d.pid = spawn(&self->d, self->lfd, LISTEN_SELF, "2", NULL, true, NULL);
	ASSERT_LT(0, self->d.pid);
	rc = helper_exit_code(helper_reap(self->d.pid, 5000));
	self->d.pid = 0;
	EXPECT_EQ(EXIT_FAILURE, rc);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 0, "Failed to listen", strerror(EINVAL),
					  NULL));
}

TEST_HARNESS_MAIN

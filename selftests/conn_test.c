// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * conn_test: how the library reaches trackerd.  With nothing listening on
 * $SEALSHM_SOCKET the first call starts exactly one trackerd, also when
 * several processes race; never for an explicit opts->socket or with
 * SEALSHM_NO_AUTOSTART.  A forked child never reuses its parent's
 * connection.  Autostarted daemons are found by their command line (they
 * detach, so they are not our children) and killed at teardown.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

/* Fields 4 (ppid) and 6 (session) of /proc/PID/stat. */
static int proc_stat_ids(pid_t pid, pid_t *ppid, pid_t *sid)
{
	char path[64], *stat = NULL, *p;
	int pgrp, r = -EIO;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (helper_read_file(path, &stat) < 0)
		return -ENOENT;
	p = strrchr(stat, ')');
	if (p && sscanf(p + 1, " %*c %d %d %d", ppid, &pgrp, sid) == 3)
		r = 0;
	free(stat);
	return r;
}

/* Wait until exactly one trackerd serves @path (losers of a start race may
 * take a moment to exit); returns the count seen last and its pid. */
static int wait_one_trackerd(const char *path, pid_t *ret_pid)
{
	uint64_t end = helper_now_ms() + 3000;
	pid_t pids[16];
	int n;

	for (;;) {
		n = helper_find_trackerds(path, pids, 16);
		if (n == 1 || helper_now_ms() >= end)
			break;
		helper_sleep_ms(20);
	}
	*ret_pid = n >= 1 ? pids[0] : 0;
	return n;
}

/* Bind a socket at @path and close it: a stale socket file that refuses
 * connections (ECONNREFUSED), as a crashed daemon leaves behind. */
static int make_stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r = 0;

	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	close(fd);
	return r;
}

FIXTURE(autostart) {
	struct trackerd d;	/* only its directory and paths: nothing runs */
	int fds_before;
};

FIXTURE_SETUP(autostart)
{
	char prog[PATH_MAX];

	ASSERT_EQ(0, trackerd_prepare(&self->d));
	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	ASSERT_EQ(0, access(prog, X_OK)) {
		TH_LOG("no trackerd at %s", prog);
	}
	ASSERT_EQ(0, setenv("SEALSHM_TRACKERD", prog, 1));
	ASSERT_EQ(0, setenv("SEALSHM_SOCKET", self->d.sock, 1));
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_AUTOSTART"));
	ASSERT_EQ(0, helper_find_trackerds(self->d.dir, NULL, 0));
	self->fds_before = helper_count_fds(0);
}

FIXTURE_TEARDOWN(autostart)
{
	if (!_metadata->passed) {
		char path[192], *log = NULL;

		snprintf(path, sizeof(path), "%s.log", self->d.sock);
		if (helper_read_file(path, &log) == 0)
			TH_LOG("trackerd log:\n%s", log);
		free(log);
	}
	/* Not our child: it detached.  Kill whatever serves our directory. */
	(void)helper_kill_trackerds(self->d.dir);
	helper_rm_dir(self->d.dir);
}

/* The first call with nothing listening starts one detached trackerd on
 * $SEALSHM_SOCKET (logging to PATH.log), succeeds, and leaves no zombie;
 * later calls use that same daemon. */
/* Does @pid's command line hold @opt followed by @val? */
static bool cmdline_has(pid_t pid, const char *opt, const char *val)
{
	char path[64], buf[4096];
	bool found = false;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n && !found; p += strlen(p) + 1)
		found = !strcmp(p, opt) && p + strlen(p) + 1 < buf + n &&
			!strcmp(p + strlen(p) + 1, val);
	return found;
}

TEST_F_TIMEOUT(autostart, first_call_starts_one_trackerd, 60)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm_msg_hello_reply hello;
	struct sealshm_info *infos = NULL;
	struct sealshm *shm = NULL;
	pid_t pid = 0, ppid = 0, sid = 0, again;
	char log[192];
	int fd;

	EXPECT_EQ(-1, access(self->d.sock, F_OK));
	ASSERT_EQ(0, sealshm_registry_list(NULL, &infos));
	free(infos);

	ASSERT_EQ(1, wait_one_trackerd(self->d.sock, &pid));
	fd = raw_client(self->d.sock, &hello);
	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_EQ((uint32_t)pid, hello.server_pid);

	/* Detached: its own session, not our child, and nothing to reap. */
	ASSERT_EQ(0, proc_stat_ids(pid, &ppid, &sid));
	EXPECT_NE(getpid(), ppid);
	EXPECT_EQ(pid, sid);
	errno = 0;
	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	snprintf(log, sizeof(log), "%s.log", self->d.sock);
	EXPECT_EQ(0, access(log, F_OK));
	/* A per-user instance: its user may hold every connection. */
	EXPECT_TRUE(cmdline_has(pid, "--max-clients-per-uid", "1024"));

	ASSERT_EQ(0, sealshm_create("autostarted", 64, &untracked, &shm));
	EXPECT_EQ(0, sealshm_unlink(shm));
	sealshm_close(shm);
	EXPECT_EQ(1, wait_one_trackerd(self->d.sock, &again));
	EXPECT_EQ(pid, again);
	/* One cached connection and trackerd's pidfd (the fast path's,
	 * taken with the index on that connection) are all the library
	 * keeps (untracked calls open no session). */
	EXPECT_EQ(self->fds_before + 2, helper_count_fds(0));
}

/* A stale socket file (its daemon died) does not stop autostart: the new
 * trackerd replaces it and the call succeeds. */
TEST_F_TIMEOUT(autostart, stale_socket_is_replaced, 60)
{
	struct sealshm_info *infos = NULL;
	pid_t pid;

	ASSERT_EQ(0, make_stale_socket(self->d.sock));
	ASSERT_EQ(-ECONNREFUSED, raw_connect(self->d.sock));
	EXPECT_EQ(0, sealshm_registry_list(NULL, &infos));
	free(infos);
	EXPECT_EQ(1, wait_one_trackerd(self->d.sock, &pid));
}

FIXTURE(race) {
	struct trackerd d;
	uint32_t *server_pids;	/* shared with the racers */
};

FIXTURE_VARIANT(race) {
	int racers;
};
FIXTURE_VARIANT_ADD(race, two) { .racers = 2 };
FIXTURE_VARIANT_ADD(race, eight) { .racers = 8 };

FIXTURE_SETUP(race)
{
	char prog[PATH_MAX];

	self->server_pids = MAP_FAILED;
	ASSERT_EQ(0, trackerd_prepare(&self->d));
	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	ASSERT_EQ(0, setenv("SEALSHM_TRACKERD", prog, 1));
	ASSERT_EQ(0, setenv("SEALSHM_SOCKET", self->d.sock, 1));
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_AUTOSTART"));
	self->server_pids = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				 -1, 0);
	ASSERT_NE(MAP_FAILED, self->server_pids);
}

FIXTURE_TEARDOWN(race)
{
	if (self->server_pids != MAP_FAILED)
		munmap(self->server_pids, 4096);
	(void)helper_kill_trackerds(self->d.dir);
	helper_rm_dir(self->d.dir);
}

/* Processes racing to make the first call all succeed, all end up talking
 * to the same trackerd, and exactly one trackerd serves the path. */
TEST_F_TIMEOUT(race, racing_processes_start_exactly_one, 90)
{
	pid_t kids[16], pid = 0;
	int gate[2];

	ASSERT_LE(variant->racers, 16);
	ASSERT_EQ(0, pipe2(gate, O_CLOEXEC));
	for (int i = 0; i < variant->racers; i++) {
		kids[i] = fork();
		ASSERT_GE(kids[i], 0);
		if (kids[i] == 0) {
			struct sealshm_msg_hello_reply hello;
			struct sealshm_info *infos = NULL;
			struct sealshm *shm = NULL;
			char name[32], c;
			int fd;

			close(gate[1]);
			/* Everyone leaves the gate together when it closes. */
			(void)read(gate[0], &c, 1);
			snprintf(name, sizeof(name), "racer_%d", i);
			if (i % 2 == 0) {
				if (sealshm_registry_list(NULL, &infos) < 0)
					_exit(10);
				free(infos);
			} else {
				SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);

				if (sealshm_create(name, 64, &o, &shm) < 0)
					_exit(11);
				sealshm_close(shm);
			}
			fd = raw_client(getenv("SEALSHM_SOCKET"), &hello);
			if (fd < 0)
				_exit(12);
			close(fd);
			self->server_pids[i] = hello.server_pid;
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (int i = 0; i < variant->racers; i++) {
		EXPECT_EQ(0, helper_exit_code(helper_reap(kids[i], 30000))) {
			TH_LOG("racer %d", i);
		}
	}

	EXPECT_EQ(1, wait_one_trackerd(self->d.sock, &pid));
	for (int i = 0; i < variant->racers; i++) {
		EXPECT_EQ((uint32_t)pid, self->server_pids[i]) {
			TH_LOG("racer %d talked to pid %u, not %d", i, self->server_pids[i], pid);
		}
	}
	/* Every racer that created a name registered it with that one daemon. */
	for (int i = 1; i < variant->racers; i += 2) {
		struct sealshm_info info;
		char name[32];

		snprintf(name, sizeof(name), "racer_%d", i);
		EXPECT_EQ(0, sealshm_stat(name, NULL, &info)) {
			TH_LOG("%s", name);
		}
	}
}

/* A program run from the build tree, with no SEALSHM_TRACKERD, starts the
 * trackerd built beside it (not the installed path, where none may be):
 * what a new user does after `make demo`.  sealshm_trackerd_path() names
 * it, for this statically linked test and the CLI alike. */
TEST_F_TIMEOUT(autostart, build_tree_programs_find_their_trackerd, 60)
{
	char prog[PATH_MAX], want[PATH_MAX], out[512];
	struct helper_run_opts o = { .timeout_ms = 20000, .flags = HELPER_RUN_ERR_TO_OUT };

	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	ASSERT_NE(NULL, realpath(prog, want));
	ASSERT_EQ(0, unsetenv("SEALSHM_TRACKERD"));
	EXPECT_STREQ(want, sealshm_trackerd_path());

	EXPECT_EQ(0, helper_run_prog(helper_cli_path, (const char *const[]){ "ls", NULL }, &o,
				     out, sizeof(out))) {
		TH_LOG("sealshm ls: %s", out);
	}
	EXPECT_EQ(1, helper_find_trackerds(self->d.dir, NULL, 0));
	ASSERT_EQ(0, setenv("SEALSHM_TRACKERD", prog, 1));
}

FIXTURE(noauto) {
	struct trackerd d;
	int fds_before;
};

FIXTURE_SETUP(noauto)
{
	char prog[PATH_MAX];

	ASSERT_EQ(0, trackerd_prepare(&self->d));
	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	/* Autostart would be possible: a binary is there. */
	ASSERT_EQ(0, setenv("SEALSHM_TRACKERD", prog, 1));
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_AUTOSTART"));
	ASSERT_EQ(0, unsetenv("SEALSHM_SOCKET"));
	self->fds_before = helper_count_fds(0);
}

FIXTURE_TEARDOWN(noauto)
{
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	EXPECT_EQ(0, helper_kill_trackerds(self->d.dir)) {
		TH_LOG("a trackerd was started");
	}
	helper_rm_dir(self->d.dir);
}

static bool no_connection_error(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED;
}

/* An explicit opts->socket with nothing there fails (-ENOENT) and starts
 * no daemon; with a stale socket file, -ECONNREFUSED. */
TEST_F(noauto, explicit_socket_never_autostarts)
{
	char path[192];
	SEALSHM_OPTS(sealshm_opts, opts, .socket = path);
	struct sealshm_info *infos = NULL;
	struct sealshm *shm = NULL;

	snprintf(path, sizeof(path), "%s/explicit.sock", self->d.dir);
	EXPECT_EQ(-ENOENT, sealshm_registry_list(&opts, &infos));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_TRUE(no_connection_error(sealshm_create("x", 8, &opts, &shm)));
	EXPECT_TRUE(no_connection_error(sealshm_attach("x", &opts, &shm)));
	EXPECT_EQ(NULL, shm);
	EXPECT_EQ(-1, access(path, F_OK));

	ASSERT_EQ(0, make_stale_socket(path));
	EXPECT_EQ(-ECONNREFUSED, sealshm_registry_list(&opts, &infos));
	helper_sleep_ms(100);
	EXPECT_EQ(0, helper_find_trackerds(self->d.dir, NULL, 0));
}

/* SEALSHM_NO_AUTOSTART=1 (or the opts flag) with nothing listening on
 * $SEALSHM_SOCKET fails and starts no daemon. */
TEST_F(noauto, no_autostart_never_starts)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = SEALSHM_NO_AUTOSTART);
	struct sealshm_info *infos = NULL;
	struct sealshm *shm = NULL;

	ASSERT_EQ(0, setenv("SEALSHM_SOCKET", self->d.sock, 1));
	ASSERT_EQ(0, setenv("SEALSHM_NO_AUTOSTART", "1", 1));
	EXPECT_EQ(-ENOENT, sealshm_registry_list(NULL, &infos));
	EXPECT_TRUE(no_connection_error(sealshm_create("y", 8, NULL, &shm)));
	helper_sleep_ms(100);
	EXPECT_EQ(0, helper_find_trackerds(self->d.dir, NULL, 0));

	ASSERT_EQ(0, unsetenv("SEALSHM_NO_AUTOSTART"));
	EXPECT_EQ(-ENOENT, sealshm_registry_list(&opts, &infos));
	EXPECT_TRUE(no_connection_error(sealshm_attach("y", &opts, &shm)));
	helper_sleep_ms(100);
	EXPECT_EQ(0, helper_find_trackerds(self->d.dir, NULL, 0));
	EXPECT_EQ(-1, access(self->d.sock, F_OK));
}

/* $SEALSHM_SOCKET naming a file, a directory or a FIFO is a mistake:
 * -ENOTSOCK at once, no trackerd started, nothing created beside it (as
 * root, SEALSHM_SOCKET=/dev/null used to leave /dev/null.lock).  trackerd
 * itself refuses such a --socket before making PATH.lock. */
TEST_F(noauto, socket_path_that_is_no_socket_is_refused)
{
	struct helper_run_opts o = { .flags = HELPER_RUN_ERR_TO_OUT };
	const char *kinds[] = { "file", "dir", "fifo" };
	char path[192], side[200], out[512];
	struct sealshm *shm = NULL;

	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		snprintf(path, sizeof(path), "%s/%s", self->d.dir, kinds[i]);
		if (i == 0) {
			ASSERT_EQ(0, close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)));
		} else if (i == 1) {
			ASSERT_EQ(0, mkdir(path, 0700));
		} else {
			ASSERT_EQ(0, mkfifo(path, 0600));
		}
		ASSERT_EQ(0, setenv("SEALSHM_SOCKET", path, 1));
		EXPECT_EQ(-ENOTSOCK, sealshm_create("x", 8, NULL, &shm)) {
			TH_LOG("SEALSHM_SOCKET at a %s", kinds[i]);
		}
		EXPECT_EQ(-ENOTSOCK, sealshm_attach("x", NULL, &shm));
		EXPECT_EQ(NULL, shm);

		EXPECT_EQ(1, helper_run_prog(helper_trackerd_path,
					     (const char *const[]){ "--foreground", "--socket",
								    path, NULL },
					     &o, out, sizeof(out)));
		EXPECT_NE(NULL, strstr(out, "is not a socket")) {
			TH_LOG("trackerd said: %s", out);
		}
		snprintf(side, sizeof(side), "%s.lock", path);
		EXPECT_EQ(-1, access(side, F_OK));
		snprintf(side, sizeof(side), "%s.log", path);
		EXPECT_EQ(-1, access(side, F_OK));
	}
	ASSERT_EQ(0, unsetenv("SEALSHM_SOCKET"));
	helper_sleep_ms(100);
	EXPECT_EQ(0, helper_find_trackerds(self->d.dir, NULL, 0));
}

/* When the trackerd binary is missing, autostart fails promptly with
 * -ENOPKG (not -ENOENT, which reads as a missing name), leaking nothing,
 * and sealshm_trackerd_path() names the program it looked for. */
TEST_F_TIMEOUT(noauto, missing_trackerd_binary_fails_cleanly, 30)
{
	struct sealshm_info *infos = NULL;
	uint64_t start;
	int r;

	ASSERT_EQ(0, setenv("SEALSHM_SOCKET", self->d.sock, 1));
	ASSERT_EQ(0, setenv("SEALSHM_TRACKERD", "/nonexistent/trackerd", 1));
	start = helper_now_ms();
	EXPECT_STREQ("/nonexistent/trackerd", sealshm_trackerd_path());
	r = sealshm_registry_list(NULL, &infos);
	EXPECT_EQ(-ENOPKG, r);
	EXPECT_EQ(-ENOPKG, sealshm_attach("x", NULL, &(struct sealshm *){ NULL }));
	EXPECT_GT(8000, helper_now_ms() - start);
	errno = 0;
	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
}

/* --- fork safety, against a trackerd we started -------------------------- */
FIXTURE(fork) {
	struct trackerd d;
	int fds_before;
};

FIXTURE_SETUP(fork)
{
	/* The parent's connection is part of the baseline. */
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
}

FIXTURE_TEARDOWN(fork)
{
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* A forked child's requests go over a connection of its own: trackerd sees
 * the child's pid as creator (SO_PEERCRED is fixed at connect), the child
 * holds none of the parent's sockets after its call but the tracking
 * session (shared with the family on purpose), and the parent's connection
 * still works after the child exits. */
TEST_F(fork, child_gets_own_connection)
{
	char env[SEALSHM_SESSION_ENV_MAX];
	struct sealshm_info info;
	unsigned long parent_socks[16];
	int nparent, status, sfd;
	struct stat st;
	pid_t pid;

	/* The session's socket: same inode as the fd export hands out. */
	sfd = sealshm_session_export(NULL, env, sizeof(env));
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, fstat(sfd, &st));
	close(sfd);
	nparent = helper_socket_inodes(parent_socks, 16);
	ASSERT_GE(nparent, 2);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
		unsigned long socks[16];
		struct sealshm *shm = NULL;
		int n;

		if (sealshm_create("by_child", 64, &o, &shm) < 0)
			_exit(10);
		sealshm_close(shm);
		n = helper_socket_inodes(socks, 16);
		if (n < 1)
			_exit(11);
		for (int i = 0; i < n; i++)
			for (int j = 0; j < nparent; j++)
				if (socks[i] == parent_socks[j] && socks[i] != st.st_ino)
					_exit(12);	/* still holds the parent's */
		_exit(0);
	}
	status = helper_reap(pid, 10000);
	EXPECT_EQ(0, helper_exit_code(status));

	ASSERT_EQ(0, sealshm_stat("by_child", NULL, &info));
	EXPECT_EQ((uint32_t)pid, info.creator_pid);
	EXPECT_EQ(0, sealshm_unlink_name("by_child", NULL));
}

/* Parent and child issuing requests at the same time each get their own
 * replies (a shared connection would cross them). */
TEST_F_TIMEOUT(fork, parent_and_child_requests_do_not_cross, 60)
{
	/* Untracked: a session would be inherited by the child (on purpose),
	 * and this test is about request connections. */
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *a = NULL, *b = NULL;
	int status, bad = 0;
	pid_t pid;

	ASSERT_EQ(0, sealshm_create("parents", 111, &untracked, &a));
	ASSERT_EQ(0, sealshm_create("childs", 222, &untracked, &b));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		for (int i = 0; i < 500; i++) {
			struct sealshm_info info;

			if (sealshm_stat("childs", NULL, &info) < 0 || info.size != 222)
				_exit(10);
		}
		_exit(0);
	}
	for (int i = 0; i < 500; i++) {
		struct sealshm_info info;

		if (sealshm_stat("parents", NULL, &info) < 0 || info.size != 111)
			bad++;
	}
	EXPECT_EQ(0, bad);
	status = helper_reap(pid, 30000);
	EXPECT_EQ(0, helper_exit_code(status));
	EXPECT_EQ(0, sealshm_unlink(a));
	EXPECT_EQ(0, sealshm_unlink(b));
	sealshm_close(a);
	sealshm_close(b);
}

TEST_HARNESS_MAIN

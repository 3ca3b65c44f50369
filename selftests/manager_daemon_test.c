// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * manager_daemon_test: `trackerd --manager` from the outside, over the raw
 * protocol, started the way sealshm_manager_start() starts it: a private
 * directory, the owner's pidfd inherited as --owner-pidfd, the key through
 * a pipe as --auth-fd.  The owner here is a stand-in child of the test
 * (blocked on a pipe), so a test can kill it with -9.
 *
 * AUTH (right, wrong, missing, malformed; constant-time comparison is
 * read, not timed), every other request refused with -EACCES before AUTH
 * with nothing registered, SHUTDOWN (names, socket, lock and directory
 * gone, exit 0), the owner's death (the manager gone at once, saying which
 * names went), SIGINT ignored, no INDEX, bad --auth-fd input, and a clean
 * run that writes nothing to stderr.  The library's side of the manager
 * is manager_test.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

/* Where the manager finds what it inherits (any numbers above 2 do). */
#define OWNER_FD	5
#define AUTH_FD		6

static const char test_key[] = "open sesame, 17 bytes and more";

/* A manager and its stand-in owner. */
struct mgr {
	struct trackerd d;	/* d.dir holds the log and the manager's own directory */
	char dir[128];		/* DIR/mgr: the manager's, removed by it */
	char sock[160];		/* DIR/mgr/manager.sock */
	pid_t owner;		/* blocked reading owner_release's pipe */
	int owner_pidfd;
	int owner_release;	/* closing it lets the owner exit */
	pid_t pid;		/* the manager; 0 when reaped */
	int pidfd;		/* the manager's: readable once it has exited */
	int base_fds;		/* the manager's fd count once up */
};

static int pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

/* The temp directory, its mgr/ subdirectory (0700, as mkdtemp makes it)
 * and the stand-in owner. */
static int mgr_prepare(struct mgr *m)
{
	int p[2], r;
	pid_t pid;

	m->owner_pidfd = m->owner_release = m->pidfd = -EBADF;
	m->owner = m->pid = 0;
	r = trackerd_prepare(&m->d);
	if (r < 0)
		return r;
	snprintf(m->dir, sizeof(m->dir), "%s/mgr", m->d.dir);
	snprintf(m->sock, sizeof(m->sock), "%s/manager.sock", m->dir);
	if (mkdir(m->dir, 0700) < 0)
		return -errno;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		char c;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		/* Until the test closes its end (nobody writes). */
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	m->owner = pid;
	m->owner_release = p[1];
	m->owner_pidfd = pidfd_open(pid);
	return m->owner_pidfd < 0 ? m->owner_pidfd : 0;
}

/* Wait up to @timeout_ms for the manager to exit and reap it.  Returns its
 * exit code (128 + signal), or -ETIMEDOUT (it still runs). */
static int mgr_wait_exit(struct mgr *m, int timeout_ms)
{
	struct pollfd p = { .fd = m->pidfd, .events = POLLIN };
	int status, r;

	if (m->pid <= 0)
		return -ECHILD;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r < 0 ? -errno : -ETIMEDOUT;
	if (waitpid(m->pid, &status, 0) != m->pid)
		return -errno;
	m->pid = 0;
	return helper_exit_code(status);
}

/* Start `trackerd --manager --socket SOCK --owner-pidfd 5 [--auth-fd 6]
 * --seccomp=... [extra...]` with stderr to the log.  @keylen < 0: no
 * --auth-fd; else @keylen bytes of @key go through the pipe.  Does not
 * wait for it to serve (mgr_wait_up()). */
static int mgr_spawn(struct mgr *m, const void *key, ssize_t keylen, const char *const *extra)
{
	char prog[PATH_MAX], owner_arg[16], auth_arg[16];
	const char *argv[32];
	int kp[2] = { -EBADF, -EBADF };
	int argc = 0, r;
	pid_t pid;

	r = helper_trackerd_path(prog, sizeof(prog));
	if (r < 0)
		return r;
	snprintf(owner_arg, sizeof(owner_arg), "%d", OWNER_FD);
	snprintf(auth_arg, sizeof(auth_arg), "%d", AUTH_FD);
	argv[argc++] = prog;
	argv[argc++] = "--manager";
	argv[argc++] = "--socket";
	argv[argc++] = m->sock;
	argv[argc++] = "--owner-pidfd";
	argv[argc++] = owner_arg;
	if (keylen >= 0) {
		argv[argc++] = "--auth-fd";
		argv[argc++] = auth_arg;
	}
	argv[argc++] = helper_seccomp_arg();
	for (int i = 0; extra && extra[i] && argc < 31; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	if (keylen >= 0) {
		/* The whole key fits the pipe: written before the manager
		 * runs, the write end closed, as the library does. */
		if (pipe2(kp, O_CLOEXEC) < 0)
			return -errno;
		if (write(kp[1], key, (size_t)keylen) != keylen) {
			r = -errno;
			close(kp[0]);
			close(kp[1]);
			return r ? r : -EIO;
		}
		kp[1] = safe_close(kp[1]);
	}

	pid = fork();
	if (pid < 0) {
		r = -errno;
		safe_close(kp[0]);
		return r;
	}
	if (pid == 0) {
		int p, a = -1;

		if (helper_daemon_stdio(m->d.log) < 0)
			_exit(126);
		/* Out of the way first, then to their numbers (dup2 clears
		 * close-on-exec), then nothing else: the manager's fds are
		 * 0, 1, 2 and these two. */
		p = fcntl(m->owner_pidfd, F_DUPFD_CLOEXEC, 20);
		if (kp[0] >= 0)
			a = fcntl(kp[0], F_DUPFD_CLOEXEC, 20);
		if (p < 0 || (kp[0] >= 0 && a < 0) || dup2(p, OWNER_FD) < 0 ||
		    (a >= 0 && dup2(a, AUTH_FD) < 0))
			_exit(126);
		(void)close_range(3, OWNER_FD - 1, 0);
		(void)close_range(a >= 0 ? AUTH_FD + 1 : OWNER_FD + 1, ~0U, 0);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	safe_close(kp[0]);
	m->pid = pid;
	m->pidfd = pidfd_open(pid);
	return m->pidfd < 0 ? m->pidfd : 0;
}

/* Wait up to 5 s until the manager answers HELLO (a keyed one does without
 * AUTH).  0, -ECHILD when it exited first, -ETIMEDOUT. */
static int mgr_wait_up(struct mgr *m)
{
	uint64_t end = helper_now_ms() + 5000;

	for (;;) {
		struct pollfd p = { .fd = m->pidfd, .events = POLLIN };
		int fd = raw_client(m->sock, NULL);

		if (fd >= 0) {
			int held = helper_count_fds(m->pid);

			close(fd);
			m->base_fds = helper_wait_fds(m->pid, held - 1, 2000);
			return 0;
		}
		if (helper_now_ms() >= end)
			return -ETIMEDOUT;
		/* The pause between tries, cut short by its exit. */
		if (poll(&p, 1, 10) > 0)
			return -ECHILD;
	}
}

static int mgr_start(struct mgr *m, const void *key, ssize_t keylen)
{
	int r = mgr_spawn(m, key, keylen, NULL);

	return r < 0 ? r : mgr_wait_up(m);
}

static void mgr_cleanup(struct mgr *m)
{
	helper_kill_reap(&m->pid);
	helper_kill_reap(&m->owner);
	m->pidfd = safe_close(m->pidfd);
	m->owner_pidfd = safe_close(m->owner_pidfd);
	m->owner_release = safe_close(m->owner_release);
	if (m->dir[0])
		helper_rm_dir(m->dir);
	helper_rm_dir(m->d.dir);
	m->d.dir[0] = '\0';
}

/* --- raw requests ----------------------------------------------------------- */

/* AUTH with @len (may be too long) bytes of @key and @pad.  The reply's
 * status, or -errno (0 bytes: -EPIPE, the connection was closed). */
static int raw_auth(int sock, const void *key, uint32_t len, uint32_t pad)
{
	struct sealshm_msg_auth req = {
		.hdr = { .type = SEALSHM_MSG_AUTH, .size = sizeof(req), .seq = 31 },
		.len = len,
		.__pad = pad,
	};
	struct sealshm_msg_hdr rep;
	ssize_t n;

	memcpy(req.key, key, len < sizeof(req.key) ? len : sizeof(req.key));
	n = raw_call(sock, &req, sizeof(req), NULL, 0, &rep, sizeof(rep), NULL);
	if (n != (ssize_t)sizeof(rep))
		return n < 0 ? (int)n : n == 0 ? -EPIPE : -EIO;
	if (rep.type != (SEALSHM_MSG_AUTH | SEALSHM_MSG_REPLY) || rep.seq != 31)
		return -EIO;
	return rep.status;
}

/* A connection after HELLO and (@key not NULL) a successful AUTH. */
static int mgr_client(const struct mgr *m, const char *key)
{
	int fd = raw_client(m->sock, NULL), r;

	if (fd < 0 || !key)
		return fd;
	r = raw_auth(fd, key, (uint32_t)strlen(key), 0);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* A header-only request of @type; the status of its reply (any fd that
 * comes with it is closed), or -errno (-EPIPE: closed without a reply). */
static int raw_simple(int sock, uint32_t type)
{
	struct sealshm_msg_hdr req = { .type = type, .size = sizeof(req), .seq = 41 };
	char reply[128];
	const struct sealshm_msg_hdr *h = (const void *)reply;
	ssize_t n;

	n = raw_call(sock, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	if (n < (ssize_t)sizeof(*h))
		return n < 0 ? (int)n : n == 0 ? -EPIPE : -EIO;
	if (h->type != (type | SEALSHM_MSG_REPLY) || h->seq != 41)
		return -EIO;
	return h->status;
}

/* CREATE @name (4096 bytes, mode 0600, untracked) with a fresh sealed
 * memfd; the status of the reply or -errno. */
static int raw_create_new(int sock, const char *name)
{
	struct sealshm_msg_create req;
	struct sealshm_msg_hdr rep;
	int fd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ssize_t n;

	if (fd < 0)
		return fd;
	raw_create_req(&req, 51, name, 4096, 0600, 0);
	n = raw_call(sock, &req, sizeof(req), &fd, 1, &rep, sizeof(rep), NULL);
	close(fd);
	if (n != (ssize_t)sizeof(rep))
		return n < 0 ? (int)n : n == 0 ? -EPIPE : -EIO;
	return rep.status;
}

/* ATTACH/STAT/UNLINK @name: the status; an attached fd goes to *@ret_fd
 * (NULL: closed). */
static int raw_name(int sock, uint32_t type, const char *name, int *ret_fd)
{
	struct sealshm_msg_name req;
	char reply[sizeof(struct sealshm_msg_stat_reply)];
	int fd = -EBADF;
	ssize_t n;

	raw_name_req(&req, type, 61, name, 0);
	n = raw_call(sock, &req, sizeof(req), NULL, 0, reply, sizeof(reply), &fd);
	if (ret_fd)
		*ret_fd = fd;
	else
		safe_close(fd);
	if (n < (ssize_t)sizeof(struct sealshm_msg_hdr))
		return n < 0 ? (int)n : n == 0 ? -EPIPE : -EIO;
	return ((struct sealshm_msg_hdr *)reply)->status;
}

/* Names LIST reports on its first page, or -errno. */
static int raw_list_count(int sock)
{
	static char reply[SEALSHM_PROTO_MSG_MAX];
	struct sealshm_msg_list req = {
		.hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(req), .seq = 71 },
	};
	const struct sealshm_msg_list_reply *r = (const void *)reply;
	ssize_t n;

	n = raw_call(sock, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	if (n == (ssize_t)sizeof(r->hdr) && r->hdr.status < 0)
		return r->hdr.status;	/* a refusal is the header alone */
	if (n < (ssize_t)sizeof(*r))
		return n < 0 ? (int)n : n == 0 ? -EPIPE : -EIO;
	if (r->hdr.status)
		return r->hdr.status;
	return (int)r->count;
}

static bool path_gone(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 && errno == ENOENT;
}

static char *mgr_lock_path(const struct mgr *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s.lock", m->sock);
	return buf;
}

/* --- with a keyed manager ----------------------------------------------------- */

FIXTURE(manager) {
	struct mgr m;
	int raw[4];
	int fds_before;
};

FIXTURE_SETUP(manager)
{
	memset(&self->m, 0, sizeof(self->m));
	for (int i = 0; i < 4; i++)
		self->raw[i] = -EBADF;
	self->fds_before = helper_count_fds(0);
	ASSERT_EQ(0, mgr_prepare(&self->m));
}

FIXTURE_TEARDOWN(manager)
{
	for (int i = 0; i < 4; i++)
		self->raw[i] = safe_close(self->raw[i]);
	TH_LOG_TRACKERD_ON_FAILURE(&self->m.d);
	mgr_cleanup(&self->m);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
}

/* The right key opens the manager: create, attach, stat, list, unlink. */
TEST_F(manager, auth_right_key_serves)
{
	char lock[200];
	int fd = -EBADF;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	self->raw[0] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_auth(self->raw[0], test_key, (uint32_t)strlen(test_key), 0));
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_a"));
	EXPECT_EQ(0, raw_name(self->raw[0], SEALSHM_MSG_ATTACH, "mgr_a", &fd));
	EXPECT_LE(0, fd);
	fd = safe_close(fd);
	EXPECT_EQ(0, raw_name(self->raw[0], SEALSHM_MSG_STAT, "mgr_a", NULL));
	EXPECT_EQ(1, raw_list_count(self->raw[0]));
	EXPECT_EQ(0, raw_name(self->raw[0], SEALSHM_MSG_UNLINK, "mgr_a", NULL));
	EXPECT_EQ(0, raw_list_count(self->raw[0]));
	/* A second AUTH on the same connection is fine too. */
	EXPECT_EQ(0, raw_auth(self->raw[0], test_key, (uint32_t)strlen(test_key), 0));
	/* It holds its lock like any trackerd. */
	EXPECT_FALSE(path_gone(mgr_lock_path(&self->m, lock, sizeof(lock))));
}

/* A wrong key, even a right prefix of the key (the length counts), is
 * refused with -EACCES, the connection closed, and one line logged;
 * nothing was registered and the right key still works. */
TEST_F(manager, auth_wrong_key_refused_and_closed)
{
	static const char wrong[] = "open sesame, 17 bytes and mor3";
	int me = (int)getpid();
	char pid[32];

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	snprintf(pid, sizeof(pid), "from pid %d ", me);

	self->raw[0] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(-EACCES, raw_auth(self->raw[0], wrong, (uint32_t)strlen(wrong), 0));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[0]));

	self->raw[1] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[1]);
	EXPECT_EQ(-EACCES, raw_auth(self->raw[1], test_key, (uint32_t)strlen(test_key) - 1, 0));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[1]));

	/* The key plus one byte. */
	self->raw[2] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[2]);
	{
		char longer[sizeof(test_key) + 1];

		memcpy(longer, test_key, sizeof(test_key) - 1);
		longer[sizeof(test_key) - 1] = 'x';
		EXPECT_EQ(-EACCES, raw_auth(self->raw[2], longer, sizeof(longer), 0));
	}
	EXPECT_TRUE(raw_closed_by_peer(self->raw[2]));

	/* No key at all (length 0) is a wrong key for a keyed manager. */
	self->raw[3] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[3]);
	EXPECT_EQ(-EACCES, raw_auth(self->raw[3], "", 0, 0));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[3]));

	EXPECT_EQ(4, trackerd_log_count(&self->m.d, "refused auth ", pid, "wrong key", NULL));

	for (int i = 0; i < 4; i++)
		self->raw[i] = safe_close(self->raw[i]);
	self->raw[0] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_list_count(self->raw[0]));
	/* Every refused connection is gone from the manager too. */
	EXPECT_EQ(self->m.base_fds + 1, helper_wait_fds(self->m.pid, self->m.base_fds + 1, 3000));
}

/* Before AUTH, every request but HELLO and AUTH is refused with -EACCES
 * and the connection closed, before anything happens: the CREATE's name
 * is not registered and its memfd not kept, SHUTDOWN shuts nothing down. */
TEST_F(manager, requests_before_auth_refused)
{
	/* The header-only requests. */
	static const uint32_t types[] = {
		SEALSHM_MSG_SESSION, SEALSHM_MSG_INDEX, SEALSHM_MSG_SHUTDOWN,
	};
	int fd;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	/* An authenticated connection makes one. */
	self->raw[0] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_owned"));

	fd = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EACCES, raw_create_new(fd, "mgr_sneaky"));
	EXPECT_TRUE(raw_closed_by_peer(fd));
	close(fd);

	fd = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EACCES, raw_name(fd, SEALSHM_MSG_ATTACH, "mgr_owned", &self->raw[1]));
	EXPECT_EQ(-EBADF, self->raw[1]);
	EXPECT_TRUE(raw_closed_by_peer(fd));
	close(fd);

	fd = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EACCES, raw_name(fd, SEALSHM_MSG_STAT, "mgr_owned", NULL));
	EXPECT_TRUE(raw_closed_by_peer(fd));
	close(fd);

	fd = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EACCES, raw_name(fd, SEALSHM_MSG_UNLINK, "mgr_owned", NULL));
	EXPECT_TRUE(raw_closed_by_peer(fd));
	close(fd);

	fd = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EACCES, raw_list_count(fd));
	EXPECT_TRUE(raw_closed_by_peer(fd));
	close(fd);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		fd = raw_client(self->m.sock, NULL);
		ASSERT_LE(0, fd);
		EXPECT_EQ(-EACCES, raw_simple(fd, types[i])) {
			TH_LOG("request type %u", types[i]);
		}
		EXPECT_TRUE(raw_closed_by_peer(fd));
		close(fd);
	}

	/* Nothing changed: one name, the manager up, its fds as before
	 * (base, the authenticated connection, the name's memfd). */
	EXPECT_EQ(1, raw_list_count(self->raw[0]));
	EXPECT_EQ(-ENOENT, raw_name(self->raw[0], SEALSHM_MSG_STAT, "mgr_sneaky", NULL));
	EXPECT_EQ(0, raw_name(self->raw[0], SEALSHM_MSG_STAT, "mgr_owned", NULL));
	EXPECT_EQ(self->m.base_fds + 2, helper_wait_fds(self->m.pid, self->m.base_fds + 2, 3000));
	EXPECT_TRUE(helper_pid_alive(self->m.pid));
	EXPECT_EQ(0, raw_name(self->raw[0], SEALSHM_MSG_UNLINK, "mgr_owned", NULL));
}

/* AUTH with a length past SEALSHM_PROTO_KEY_MAX, padding set or bytes past
 * its length is malformed: -EINVAL and the connection closed. */
TEST_F(manager, malformed_auth_closes)
{
	char key[SEALSHM_PROTO_KEY_MAX];
	struct sealshm_msg_auth req = {
		.hdr = { .type = SEALSHM_MSG_AUTH, .size = sizeof(req), .seq = 3 },
		.len = 3,
	};
	struct sealshm_msg_hdr rep;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	memset(key, 'k', sizeof(key));

	self->raw[0] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(-EINVAL, raw_auth(self->raw[0], key, SEALSHM_PROTO_KEY_MAX + 1, 0));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[0]));

	self->raw[1] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[1]);
	EXPECT_EQ(-EINVAL, raw_auth(self->raw[1], test_key, (uint32_t)strlen(test_key), 1));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[1]));

	self->raw[2] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[2]);
	memcpy(req.key, "abcdef", 6);	/* "def" past len 3 */
	EXPECT_EQ((ssize_t)sizeof(rep),
		  raw_call(self->raw[2], &req, sizeof(req), NULL, 0, &rep, sizeof(rep), NULL));
	EXPECT_EQ(-EINVAL, rep.status);
	EXPECT_TRUE(raw_closed_by_peer(self->raw[2]));

	EXPECT_TRUE(helper_pid_alive(self->m.pid));
}

/* SHUTDOWN: reply 0, every name gone at once, the socket unlinked before
 * the reply (a connect gets ENOENT, never ECONNREFUSED), then trackerd
 * exits 0 and its lock and directory are gone too.  A mapping made before
 * stays valid. */
TEST_F(manager, shutdown_unlinks_everything_and_exits)
{
	char lock[200], *buf;
	int fd = -EBADF, c;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	self->raw[0] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[0]);
	/* Another connection, open across the shutdown. */
	self->raw[1] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[1]);
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_x"));
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_y"));
	ASSERT_EQ(0, raw_name(self->raw[1], SEALSHM_MSG_ATTACH, "mgr_x", &fd));
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	fd = safe_close(fd);
	buf[100] = 'm';

	EXPECT_EQ(0, raw_simple(self->raw[0], SEALSHM_MSG_SHUTDOWN));
	c = raw_connect(self->m.sock);
	EXPECT_EQ(-ENOENT, c);
	safe_close(c);
	EXPECT_TRUE(raw_closed_by_peer(self->raw[0]));
	EXPECT_EQ(0, mgr_wait_exit(&self->m, 5000));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[1]));

	EXPECT_TRUE(path_gone(self->m.sock));
	EXPECT_TRUE(path_gone(mgr_lock_path(&self->m, lock, sizeof(lock))));
	EXPECT_TRUE(path_gone(self->m.dir));
	EXPECT_EQ('m', buf[100]);
	munmap(buf, 4096);
}

/* The owner killed with -9: the manager notices through the owner's pidfd
 * and is gone within a second, saying which names went. */
TEST_F(manager, owner_kill9_ends_manager_at_once)
{
	char needle[64], lock[200];
	uint64_t t0, elapsed;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	self->raw[0] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_left_1"));
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_left_2"));

	snprintf(needle, sizeof(needle), "owner pid %d exited without shutting down",
		 (int)self->m.owner);
	t0 = helper_now_ms();
	ASSERT_EQ(0, kill(self->m.owner, SIGKILL));
	EXPECT_EQ(0, mgr_wait_exit(&self->m, 1000));
	elapsed = helper_now_ms() - t0;
	EXPECT_GT(1000, elapsed);
	EXPECT_TRUE(trackerd_log_has_line(&self->m.d, 0, needle, "unlinking 2 names",
					  "'mgr_left_1'", "'mgr_left_2'", NULL));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[0]));
	EXPECT_TRUE(path_gone(self->m.sock));
	EXPECT_TRUE(path_gone(mgr_lock_path(&self->m, lock, sizeof(lock))));
	EXPECT_TRUE(path_gone(self->m.dir));
}

/* An owner that exits with no names left: the manager goes too, quietly. */
TEST_F(manager, owner_exit_without_names_is_quiet)
{
	char *log;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	self->m.owner_release = safe_close(self->m.owner_release);
	EXPECT_EQ(0, mgr_wait_exit(&self->m, 5000));
	EXPECT_TRUE(path_gone(self->m.dir));
	log = trackerd_log(&self->m.d);
	EXPECT_STREQ("", log);
	free(log);
}

/* Many names: the owner-exit line stays one bounded line and counts them
 * all. */
TEST_F(manager, owner_exit_line_is_bounded)
{
	char name[64], *log;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	self->raw[0] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[0]);
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "mgr_a_rather_long_name_number_%02d", i);
		ASSERT_EQ(0, raw_create_new(self->raw[0], name));
	}
	ASSERT_EQ(0, kill(self->m.owner, SIGKILL));
	EXPECT_EQ(0, mgr_wait_exit(&self->m, 5000));
	EXPECT_TRUE(trackerd_log_has_line(&self->m.d, 0, "unlinking 60 names",
					  "'mgr_a_rather_long_name_number_", " more", NULL));
	log = trackerd_log(&self->m.d);
	EXPECT_EQ(1, trackerd_log_count(&self->m.d, "trackerd[", NULL));
	EXPECT_GT(1024, strlen(log));
	free(log);
}

/* SIGINT (a Ctrl-C in the owner's terminal) is ignored: the manager still
 * serves; SIGTERM ends it, removing its directory. */
TEST_F(manager, sigint_ignored_sigterm_exits)
{
	char path[64], *status = NULL, *p;
	unsigned long long ign = 0;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)self->m.pid);
	ASSERT_EQ(0, helper_read_file(path, &status));
	p = strstr(status, "\nSigIgn:");
	ASSERT_NE(NULL, p);
	ign = strtoull(p + 8, NULL, 16);
	free(status);
	EXPECT_TRUE(ign & (1ULL << (SIGINT - 1)));

	/* An ignored signal is dropped when sent: after kill() it is done. */
	ASSERT_EQ(0, kill(self->m.pid, SIGINT));
	self->raw[0] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_after_sigint"));
	EXPECT_EQ(1, raw_list_count(self->raw[0]));
	EXPECT_TRUE(helper_pid_alive(self->m.pid));

	ASSERT_EQ(0, kill(self->m.pid, SIGTERM));
	EXPECT_EQ(0, mgr_wait_exit(&self->m, 5000));
	EXPECT_TRUE(path_gone(self->m.dir));
}

/* No fast path into a manager: INDEX is refused with -EOPNOTSUPP, even to
 * trackerd's own uid, and the connection stays. */
TEST_F(manager, index_not_offered)
{
	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	self->raw[0] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(-EOPNOTSUPP, raw_simple(self->raw[0], SEALSHM_MSG_INDEX));
	EXPECT_EQ(0, raw_list_count(self->raw[0]));
}

/* The owner pidfd is kept (close-on-exec from startup on), the key's pipe
 * is read and closed (the manager holds no pipe at all). */
TEST_F(manager, inherited_fds_handled)
{
	char path[96], *info = NULL, *p;
	struct dirent *de;
	char want[32];
	DIR *d;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)self->m.pid, OWNER_FD);
	ASSERT_EQ(0, helper_read_file(path, &info));
	snprintf(want, sizeof(want), "Pid:\t%d\n", (int)self->m.owner);
	EXPECT_NE(NULL, strstr(info, want)) {
		TH_LOG("%s", info);
	}
	p = strstr(info, "flags:");
	ASSERT_NE(NULL, p);
	EXPECT_TRUE(strtoul(p + 6, NULL, 8) & O_CLOEXEC);
	free(info);

	/* Its fd numbers are reused; what they are tells. */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)self->m.pid);
	d = opendir(path);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		char link[PATH_MAX], target[128];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		EXPECT_NE(0, strncmp(target, "pipe:", 5)) {
			TH_LOG("manager fd %s is %s", de->d_name, target);
		}
	}
	closedir(d);
}

/* A key longer than SEALSHM_PROTO_KEY_MAX on --auth-fd is a usage error:
 * exit 2, saying why, nothing bound. */
TEST_F(manager, key_too_long_exits_2)
{
	char key[SEALSHM_PROTO_KEY_MAX + 1];

	memset(key, 'k', sizeof(key));
	ASSERT_EQ(0, mgr_spawn(&self->m, key, sizeof(key), NULL));
	EXPECT_EQ(2, mgr_wait_exit(&self->m, 5000));
	EXPECT_TRUE(trackerd_log_has_line(&self->m.d, 0, "key longer than 256 bytes", NULL));
	EXPECT_TRUE(path_gone(self->m.sock));
}

/* A key of exactly SEALSHM_PROTO_KEY_MAX bytes is fine. */
TEST_F(manager, longest_key_accepted)
{
	char key[SEALSHM_PROTO_KEY_MAX + 1];

	memset(key, 'q', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	ASSERT_EQ(0, mgr_start(&self->m, key, SEALSHM_PROTO_KEY_MAX));
	self->raw[0] = mgr_client(&self->m, key);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_list_count(self->raw[0]));
}

/* Misuse of the manager options is a usage error (exit 2). */
TEST_F(manager, option_misuse_exits_2)
{
	static const char *const idle[] = { "--idle-exit", "5", NULL };
	const struct helper_run_opts to_log = {
		.err_path = self->m.d.log, .flags = HELPER_RUN_APPEND,
	};
	char prog[PATH_MAX];
	int status;
	pid_t pid;

	/* --idle-exit with --manager. */
	ASSERT_EQ(0, mgr_spawn(&self->m, NULL, -1, idle));
	EXPECT_EQ(2, mgr_wait_exit(&self->m, 5000));
	self->m.pidfd = safe_close(self->m.pidfd);

	/* --owner-pidfd that is no pidfd: fd 5 is then the log file. */
	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(self->m.d.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		/* dup2() onto itself would keep close-on-exec. */
		if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 5) < 0 || fcntl(5, F_SETFD, 0) < 0)
			_exit(126);
		execl(prog, prog, "--manager", "--socket", self->m.sock, "--owner-pidfd", "5",
		      (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(2, helper_exit_code(status));
	EXPECT_TRUE(trackerd_log_has_line(&self->m.d, 0, "--owner-pidfd 5 is no pidfd", NULL));

	/* --owner-pidfd without --manager; --manager without --socket. */
	EXPECT_EQ(2, helper_run(prog, (const char *const[]){ "--foreground", "--socket",
				self->m.sock, "--owner-pidfd", "2", NULL }, &to_log, NULL, 0));
	EXPECT_EQ(2, helper_run(prog, (const char *const[]){ "--manager", NULL }, &to_log,
				NULL, 0));
	EXPECT_TRUE(trackerd_log_has_line(&self->m.d, 0, "--manager needs --socket", NULL));
	EXPECT_TRUE(path_gone(self->m.sock));
}

/* Start, authenticate, create, attach, unlink, create again, shut down:
 * nothing at all on stderr. */
TEST_F(manager, clean_run_writes_nothing)
{
	char *log;
	int fd = -EBADF;

	ASSERT_EQ(0, mgr_start(&self->m, test_key, (ssize_t)strlen(test_key)));
	self->raw[0] = mgr_client(&self->m, test_key);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_clean_1"));
	EXPECT_EQ(0, raw_name(self->raw[0], SEALSHM_MSG_ATTACH, "mgr_clean_1", &fd));
	fd = safe_close(fd);
	EXPECT_EQ(0, raw_name(self->raw[0], SEALSHM_MSG_UNLINK, "mgr_clean_1", NULL));
	EXPECT_EQ(-ENOENT, raw_name(self->raw[0], SEALSHM_MSG_STAT, "mgr_clean_1", NULL));
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_clean_2"));
	EXPECT_EQ(0, raw_simple(self->raw[0], SEALSHM_MSG_SHUTDOWN));
	EXPECT_EQ(0, mgr_wait_exit(&self->m, 5000));
	EXPECT_TRUE(path_gone(self->m.dir));
	log = trackerd_log(&self->m.d);
	EXPECT_STREQ("", log);
	free(log);
}

/* --- without a key ---------------------------------------------------------- */

/* A manager without a key serves without AUTH; AUTH of length 0 succeeds,
 * any key is wrong. */
TEST_F(manager, keyless_serves_without_auth)
{
	ASSERT_EQ(0, mgr_start(&self->m, NULL, -1));
	self->raw[0] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_create_new(self->raw[0], "mgr_open"));
	EXPECT_EQ(0, raw_auth(self->raw[0], "", 0, 0));
	EXPECT_EQ(1, raw_list_count(self->raw[0]));

	self->raw[1] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[1]);
	EXPECT_EQ(-EACCES, raw_auth(self->raw[1], test_key, (uint32_t)strlen(test_key), 0));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[1]));

	EXPECT_EQ(0, raw_simple(self->raw[0], SEALSHM_MSG_SHUTDOWN));
	EXPECT_EQ(0, mgr_wait_exit(&self->m, 5000));
	EXPECT_TRUE(path_gone(self->m.dir));
}

/* An empty key on --auth-fd is no key. */
TEST_F(manager, empty_auth_fd_is_no_key)
{
	ASSERT_EQ(0, mgr_start(&self->m, "", 0));
	self->raw[0] = raw_client(self->m.sock, NULL);
	ASSERT_LE(0, self->raw[0]);
	EXPECT_EQ(0, raw_list_count(self->raw[0]));
}

/* --- a plain trackerd ----------------------------------------------------- */

/* A trackerd that is no manager answers AUTH and SHUTDOWN with
 * -EOPNOTSUPP, keeps the connection, and keeps serving. */
TEST(plain_trackerd_refuses_auth_and_shutdown)
{
	struct trackerd d;
	int fds_before = helper_count_fds(0);
	int fd;

	ASSERT_EQ(0, trackerd_start(&d, NULL));
	fd = raw_client(d.sock, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EOPNOTSUPP, raw_auth(fd, test_key, (uint32_t)strlen(test_key), 0));
	EXPECT_EQ(-EOPNOTSUPP, raw_simple(fd, SEALSHM_MSG_SHUTDOWN));
	EXPECT_EQ(0, raw_list_count(fd));
	EXPECT_TRUE(helper_pid_alive(d.pid));
	close(fd);
	EXPECT_TRACKERD_STOPS(&d);
	EXPECT_EQ(fds_before, helper_count_fds(0));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * holder_test: holder ids (lib/holder.c) and trackerd's liveness segment
 * (trackerd/holder.c), with a private trackerd and real processes.  An id
 * is non-zero and alive with its process's pid; a process keeps one per
 * trackerd; a forked child, an exec'd program and a process in another pid
 * namespace each get their own; a process's death (kill -9 included) marks
 * its id dead, moves the death epoch and wakes a futex waiter on it, and a
 * forked child does not keep its parent's id alive.  The segment is
 * read-only and sealed; HOLDER out of place ends the connection, and
 * trackerd serves on; --max-holders runs out (-EUSERS); slots come back
 * least recently freed first, each time with a new generation.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "holder.h"

extern char **environ;

#define LIVENESS_SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)

/* The environment variable that makes this program, exec'd, a holder
 * child (exec_child() below) instead of the test runner. */
#define EXEC_CHILD_ENV	"SEALSHM_HOLDER_TEST_CHILD"

/* What a child process reports on a pipe. */
struct report {
	int r;			/* sealshm__holder_get()'s result */
	uint32_t id;		/* its holder id */
	uint32_t id_at_fork;	/* the id its holder had right after fork() */
	int32_t pid;		/* its pid as the reporter sees it */
	int32_t extra_fds;	/* exec'd: fds open beyond 0-3 before any call */
	int32_t pid2;		/* another process's pid, when there is one */
};

static int report_write(int fd, const struct report *rep)
{
	return write(fd, rep, sizeof(*rep)) == (ssize_t)sizeof(*rep) ? 0 : -EIO;
}

/* Read one report, waiting at most HELPER_IO_TIMEOUT_MS. */
static int report_read(int fd, struct report *rep)
{
	struct timeval tv = { .tv_sec = HELPER_IO_TIMEOUT_MS / 1000 };
	fd_set set;
	ssize_t n;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	n = select(fd + 1, &set, NULL, NULL, &tv);
	if (n <= 0)
		return n < 0 ? -errno : -ETIMEDOUT;
	n = read(fd, rep, sizeof(*rep));
	return n == (ssize_t)sizeof(*rep) ? 0 : n < 0 ? -errno : -EIO;
}

/*
 * Exec'd with EXEC_CHILD_ENV set (before the harness's main() runs): count
 * the fds it was given beyond stdin, stdout, stderr and the report pipe
 * (fd 3), ask for a holder id, report on fd 3 and wait for stdin's end.
 */
__attribute__((constructor)) static void exec_child(void)
{
	const struct sealshm__holder *h = NULL;
	struct report rep = { .pid = getpid() };
	char c;

	if (!getenv(EXEC_CHILD_ENV))
		return;
	rep.extra_fds = helper_count_fds(0) - 4;
	rep.r = sealshm__holder_get(NULL, &h);
	rep.id = rep.r == 0 ? h->id : 0;
	if (report_write(3, &rep) < 0)
		_exit(1);
	while (read(0, &c, 1) > 0)
		;
	_exit(0);
}

static int futex_wait(const uint32_t *word, uint32_t val, const struct timespec *timeout)
{
	/* Shared (no FUTEX_PRIVATE_FLAG): trackerd wakes it from its own
	 * mapping of the segment. */
	return syscall(SYS_futex, word, FUTEX_WAIT, val, timeout, NULL, 0) < 0 ? -errno : 0;
}

/* A thread sleeping on the death epoch until it moves from @val. */
struct epoch_waiter {
	const uint32_t *word;
	uint32_t val;
	pid_t tid;		/* set once it runs */
	int r;			/* 0: woken with the epoch moved; -ETIMEDOUT */
	int sleeps;		/* futex waits it made */
};

static void *epoch_wait(void *arg)
{
	struct epoch_waiter *w = arg;
	uint64_t end = helper_now_ms() + 10000;

	__atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	w->r = -ETIMEDOUT;
	while (helper_now_ms() < end) {
		struct timespec ts = { .tv_sec = 10 };
		int r;

		w->sleeps++;
		r = futex_wait(w->word, w->val, &ts);
		if (__atomic_load_n(w->word, __ATOMIC_ACQUIRE) != w->val) {
			w->r = 0;
			break;
		}
		if (r == -ETIMEDOUT)
			break;
	}
	return NULL;
}

/* Whether thread @tid of this process sleeps in futex(2) now. */
static bool thread_in_futex(pid_t tid)
{
	char path[64], buf[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr == SYS_futex;
}

/* Wait up to @timeout_ms until @id is dead in @h's segment. */
static bool wait_dead(const struct sealshm__holder *h, uint32_t id, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	while (sealshm__holder_alive(h, id)) {
		if (helper_now_ms() >= end)
			return false;
		helper_sleep_ms(1);
	}
	return true;
}

/* HOLDER on @sock (after HELLO): the reply's status; the reply in *@rep,
 * the segment's fd in *@ret_fd (-EBADF when none came). */
static int raw_holder(int sock, uint32_t seq, struct sealshm_msg_holder_reply *rep, int *ret_fd)
{
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_HOLDER,
		.size = sizeof(req),
		.seq = seq,
	};
	ssize_t n;

	memset(rep, 0, sizeof(*rep));
	n = raw_call(sock, &req, sizeof(req), NULL, 0, rep, sizeof(*rep), ret_fd);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ECONNRESET;
	if (n < (ssize_t)sizeof(rep->hdr))
		return -EIO;
	if (rep->hdr.status)
		return rep->hdr.status;
	return n == (ssize_t)sizeof(*rep) && *ret_fd >= 0 ? 0 : -EIO;
}

/* A raw holder connection to @path: its socket, its id in *@ret_id. */
static int raw_holder_client(const char *path, uint32_t *ret_id)
{
	struct sealshm_msg_holder_reply rep;
	int sock = raw_client(path, NULL), fd = -EBADF, r;

	if (sock < 0)
		return sock;
	r = raw_holder(sock, 2, &rep, &fd);
	safe_close(fd);
	if (r < 0) {
		safe_close(sock);
		return r;
	}
	*ret_id = rep.holder;
	return sock;
}

#define NPIDS	4
#define NSOCKS	8

FIXTURE(holder) {
	struct trackerd d;
	struct trackerd small;		/* one with --max-holders, when a test starts it */
	const struct sealshm__holder *h;	/* this process's, with d */
	pid_t pids[NPIDS];		/* children to kill and reap */
	int socks[NSOCKS];		/* raw connections */
	int fds_before;
	int daemon_fds_before;
};

FIXTURE_SETUP(holder)
{
	static const char *const extra[] = { "--verbose", NULL };
	int daemon_fds;

	for (int i = 0; i < NSOCKS; i++)
		self->socks[i] = -EBADF;
	memset(self->pids, 0, sizeof(self->pids));
	memset(&self->small, 0, sizeof(self->small));
	/* Forked children must find their parent's children's ends. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	trackerd_fixture_setup(_metadata, &self->d, extra, TRACKERD_FIXTURE_NO_SESSION,
			       &self->fds_before, &daemon_fds);
	/* Our holder connection lasts as long as this process: part of
	 * both baselines. */
	ASSERT_EQ(0, sealshm__holder_get(NULL, &self->h));
	self->fds_before = helper_count_fds(0);
	self->daemon_fds_before = helper_wait_fds(self->d.pid, daemon_fds + 1, 2000);
	ASSERT_EQ(daemon_fds + 1, self->daemon_fds_before);
}

FIXTURE_TEARDOWN(holder)
{
	for (int i = 0; i < NPIDS; i++)
		helper_kill_reap(&self->pids[i]);
	for (int i = 0; i < NSOCKS; i++)
		self->socks[i] = safe_close(self->socks[i]);
	if (self->small.dir[0])
		trackerd_cleanup(&self->small);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, self->daemon_fds_before);
}

/* An id is non-zero, no SEALSHM_HOLDER_NONE, alive in the liveness
 * mapping with our pid; the segment's header is trackerd's; trackerd logs
 * which pid got it. */
TEST_F(holder, id_is_alive_with_our_pid)
{
	const struct sealshm__holder *h = self->h;
	char id[32], pid[32];

	ASSERT_NE(0, h->id);
	EXPECT_NE(SEALSHM_HOLDER_NONE, h->id);
	EXPECT_EQ(0, h->id & ~SEALSHM_HOLDER_MASK);
	EXPECT_NE(0, h->instance);
	EXPECT_EQ(h->instance, h->lv->instance);
	EXPECT_EQ(65536, h->n_slots);
	EXPECT_EQ(SEALSHM_LIVENESS_MAGIC, h->lv->magic);
	EXPECT_EQ((uint32_t)self->d.pid, h->lv->server_pid);
	EXPECT_LE(1, h->lv->holders);
	EXPECT_TRUE(sealshm__holder_alive(h, h->id));
	EXPECT_EQ((uint32_t)getpid(), sealshm__holder_pid(h, h->id));
	EXPECT_FALSE(sealshm__holder_alive(h, 0));
	EXPECT_FALSE(sealshm__holder_alive(h, SEALSHM_HOLDER_NONE));
	/* The same slot, another generation: not ours. */
	EXPECT_FALSE(sealshm__holder_alive(h, h->id + (1u << SEALSHM_HOLDER_SLOT_BITS)));
	snprintf(id, sizeof(id), "holder %u ", h->id);
	snprintf(pid, sizeof(pid), "given to pid %d ", (int)getpid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, id, pid, NULL));
}

/* A second call returns the same holder with the same id; find() and
 * lookup() give it by instance; an instance nobody has is -ENXIO for
 * find() and NULL for lookup(). */
TEST_F(holder, same_holder_every_time)
{
	const struct sealshm__holder *h2 = NULL, *h3 = NULL;
	uint32_t id = self->h->id;

	ASSERT_EQ(0, sealshm__holder_get(NULL, &h2));
	EXPECT_EQ(self->h, h2);
	EXPECT_EQ(id, h2->id);
	ASSERT_EQ(0, sealshm__holder_find(self->h->instance, &h3));
	EXPECT_EQ(self->h, h3);
	EXPECT_EQ(self->h, sealshm__holder_lookup(self->h->instance));
	EXPECT_EQ(NULL, sealshm__holder_lookup(self->h->instance ^ 1));
	EXPECT_EQ(-ENXIO, sealshm__holder_find(self->h->instance ^ 1, &h3));
	/* The socket by name is the same trackerd, and the same holder. */
	{
		SEALSHM_OPTS(sealshm_opts, o, .socket = self->d.sock);

		ASSERT_EQ(0, sealshm__holder_get(&o, &h2));
		EXPECT_EQ(self->h, h2);
		EXPECT_EQ(id, h2->id);
	}
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
}

/* A forked child starts without an id, gets one of its own (not the
 * parent's, alive with its pid), sees the parent's alive, and its end
 * ends its id only. */
TEST_F(holder, forked_child_gets_its_own_id)
{
	uint32_t parent = self->h->id;
	int rep_pipe[2], go_pipe[2];
	struct report rep;
	pid_t pid;

	ASSERT_EQ(0, pipe2(rep_pipe, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go_pipe, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const struct sealshm__holder *h = NULL;
		struct report r = { .pid = getpid() };
		char c;

		r.id_at_fork = self->h->id;
		r.r = sealshm__holder_get(NULL, &h);
		if (r.r == 0) {
			r.id = h->id;
			/* The parent's id, through our mapping. */
			r.pid2 = (int32_t)sealshm__holder_pid(h, parent);
		}
		(void)report_write(rep_pipe[1], &r);
		close(go_pipe[1]);
		while (read(go_pipe[0], &c, 1) > 0)
			;
		_exit(0);
	}
	self->pids[0] = pid;
	close(rep_pipe[1]);
	close(go_pipe[0]);
	ASSERT_EQ(0, report_read(rep_pipe[0], &rep));
	close(rep_pipe[0]);

	EXPECT_EQ(0, rep.id_at_fork);
	ASSERT_EQ(0, rep.r);
	EXPECT_NE(0, rep.id);
	EXPECT_NE(self->h->id, rep.id);
	EXPECT_EQ(getpid(), rep.pid2);
	EXPECT_TRUE(sealshm__holder_alive(self->h, rep.id));
	EXPECT_EQ((uint32_t)pid, sealshm__holder_pid(self->h, rep.id));

	/* The child exits: its id dies, ours lives. */
	close(go_pipe[1]);
	EXPECT_EQ(0, helper_exit_code(helper_reap(pid, 5000)));
	self->pids[0] = 0;
	EXPECT_TRUE(wait_dead(self->h, rep.id, 5000));
	EXPECT_TRUE(sealshm__holder_alive(self->h, self->h->id));
}

/* A child killed with SIGKILL is marked dead: the epoch moves, a thread
 * asleep on the epoch word (futex wait, shared) is woken, and trackerd
 * logs the id's end. */
TEST_F(holder, killed_child_is_dead_and_wakes_epoch_waiters)
{
	struct epoch_waiter w = { .word = sealshm__holder_epoch_word(self->h) };
	int rep_pipe[2];
	struct report rep;
	char line[64];
	pthread_t th;
	uint32_t before;
	uint64_t end;
	pid_t pid;

	ASSERT_EQ(0, pipe2(rep_pipe, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const struct sealshm__holder *h = NULL;
		struct report r = { .pid = getpid() };

		r.r = sealshm__holder_get(NULL, &h);
		r.id = r.r == 0 ? h->id : 0;
		(void)report_write(rep_pipe[1], &r);
		for (;;)
			pause();
	}
	self->pids[0] = pid;
	close(rep_pipe[1]);
	ASSERT_EQ(0, report_read(rep_pipe[0], &rep));
	close(rep_pipe[0]);
	ASSERT_EQ(0, rep.r);
	ASSERT_TRUE(sealshm__holder_alive(self->h, rep.id));

	before = sealshm__holder_epoch(self->h);
	w.val = before;
	ASSERT_EQ(0, pthread_create(&th, NULL, epoch_wait, &w));
	/* Asleep in the futex before the kill, so that it is the wake that
	 * ends its wait (up to 5 s to get there). */
	end = helper_now_ms() + 5000;
	while (helper_now_ms() < end &&
	       !(__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE) && thread_in_futex(w.tid)))
		helper_sleep_ms(1);
	EXPECT_TRUE(thread_in_futex(w.tid));

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, w.r) {
		TH_LOG("the epoch waiter was not woken in 10 s");
	}
	EXPECT_EQ(1, w.sleeps);
	EXPECT_FALSE(sealshm__holder_alive(self->h, rep.id));
	EXPECT_EQ(0, sealshm__holder_pid(self->h, rep.id));
	EXPECT_LT(0, (int32_t)(sealshm__holder_epoch(self->h) - before));
	EXPECT_TRUE(sealshm__holder_alive(self->h, self->h->id));
	EXPECT_EQ(128 + SIGKILL, helper_exit_code(helper_reap(pid, 5000)));
	self->pids[0] = 0;
	snprintf(line, sizeof(line), "holder %u of pid %d ended", rep.id, (int)pid);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
}

/* A parent killed while its forked child lives on is seen dead: the
 * child closed its copy of the parent's holder connection at fork().  The
 * child's own id lives on. */
TEST_F(holder, parent_death_seen_while_child_lives)
{
	int rep_pipe[2], go_pipe[2];
	struct report parent, child;
	pid_t pid;

	ASSERT_EQ(0, pipe2(rep_pipe, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go_pipe, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The parent: an id, then a child that gets its own and
		 * waits for the go pipe's end; then wait to be killed. */
		const struct sealshm__holder *h = NULL;
		struct report r = { .pid = getpid() };
		pid_t c;

		r.r = sealshm__holder_get(NULL, &h);
		r.id = r.r == 0 ? h->id : 0;
		c = fork();
		if (c == 0) {
			struct report cr = { .pid = getpid() };
			char b;

			cr.id_at_fork = h ? h->id : 0;
			cr.r = sealshm__holder_get(NULL, &h);
			cr.id = cr.r == 0 ? h->id : 0;
			(void)report_write(rep_pipe[1], &cr);
			close(go_pipe[1]);
			while (read(go_pipe[0], &b, 1) > 0)
				;
			_exit(0);
		}
		r.pid2 = c;
		(void)report_write(rep_pipe[1], &r);
		for (;;)
			pause();
	}
	self->pids[0] = pid;
	close(rep_pipe[1]);
	close(go_pipe[0]);
	/* Two reports, in either order. */
	ASSERT_EQ(0, report_read(rep_pipe[0], &parent));
	ASSERT_EQ(0, report_read(rep_pipe[0], &child));
	close(rep_pipe[0]);
	if (parent.pid != pid) {
		struct report t = parent;

		parent = child;
		child = t;
	}
	ASSERT_EQ(pid, parent.pid);
	ASSERT_LT(0, parent.pid2);
	self->pids[1] = parent.pid2;	/* ours to reap: we are the subreaper */
	ASSERT_EQ(parent.pid2, child.pid);
	ASSERT_EQ(0, parent.r);
	ASSERT_EQ(0, child.r);
	EXPECT_EQ(0, child.id_at_fork);
	EXPECT_NE(parent.id, child.id);
	ASSERT_TRUE(sealshm__holder_alive(self->h, parent.id));
	ASSERT_TRUE(sealshm__holder_alive(self->h, child.id));

	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, helper_exit_code(helper_reap(pid, 5000)));
	self->pids[0] = 0;
	EXPECT_TRUE(wait_dead(self->h, parent.id, 5000));
	EXPECT_TRUE(helper_pid_alive(child.pid));
	EXPECT_TRUE(sealshm__holder_alive(self->h, child.id));

	close(go_pipe[1]);
	EXPECT_EQ(0, helper_exit_code(helper_reap(child.pid, 5000)));
	self->pids[1] = 0;
	EXPECT_TRUE(wait_dead(self->h, child.id, 5000));
}

/* An exec'd program has its own id, and was not given our holder
 * connection: posix_spawn(3) runs no atfork handler, so close-on-exec
 * alone keeps it from the program. */
TEST_F(holder, execd_child_has_its_own_id)
{
	posix_spawn_file_actions_t fa;
	int rep_pipe[2], go_pipe[2];
	char *argv[] = { "holder_test", NULL };
	struct report rep;
	pid_t pid;

	ASSERT_EQ(0, pipe2(rep_pipe, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go_pipe, O_CLOEXEC));
	ASSERT_EQ(0, setenv(EXEC_CHILD_ENV, "1", 1));
	ASSERT_EQ(0, posix_spawn_file_actions_init(&fa));
	ASSERT_EQ(0, posix_spawn_file_actions_adddup2(&fa, go_pipe[0], 0));
	ASSERT_EQ(0, posix_spawn_file_actions_adddup2(&fa, rep_pipe[1], 3));
	ASSERT_EQ(0, posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ));
	self->pids[0] = pid;
	posix_spawn_file_actions_destroy(&fa);
	unsetenv(EXEC_CHILD_ENV);
	close(rep_pipe[1]);
	close(go_pipe[0]);
	ASSERT_EQ(0, report_read(rep_pipe[0], &rep));
	close(rep_pipe[0]);

	EXPECT_EQ(0, rep.extra_fds);
	ASSERT_EQ(0, rep.r);
	EXPECT_EQ(pid, rep.pid);
	EXPECT_NE(0, rep.id);
	EXPECT_NE(self->h->id, rep.id);
	EXPECT_TRUE(sealshm__holder_alive(self->h, rep.id));
	EXPECT_EQ((uint32_t)pid, sealshm__holder_pid(self->h, rep.id));

	close(go_pipe[1]);
	EXPECT_EQ(0, helper_exit_code(helper_reap(pid, 5000)));
	self->pids[0] = 0;
	EXPECT_TRUE(wait_dead(self->h, rep.id, 5000));
	EXPECT_TRUE(sealshm__holder_alive(self->h, self->h->id));
}

/* The segment a HOLDER reply carries is an O_RDONLY memfd with every seal:
 * no writable shared mapping, not even through a read-write reopen (root
 * passes the mode check), no write(2), no resize, no seal removed. */
TEST_F(holder, segment_is_read_only_and_sealed)
{
	struct sealshm_msg_holder_reply rep;
	int fd = -EBADF, rw;
	struct stat st;
	void *p;

	self->socks[0] = raw_client(self->d.sock, NULL);
	ASSERT_LE(0, self->socks[0]);
	ASSERT_EQ(0, raw_holder(self->socks[0], 2, &rep, &fd));
	self->socks[1] = fd;

	EXPECT_EQ(SEALSHM_MSG_HOLDER | SEALSHM_MSG_REPLY, rep.hdr.type);
	EXPECT_EQ(2, rep.hdr.seq);
	EXPECT_NE(0, rep.holder);
	EXPECT_TRUE(sealshm__holder_alive(self->h, rep.holder));
	EXPECT_EQ((uint32_t)getpid(), sealshm__holder_pid(self->h, rep.holder));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(rep.size, (uint64_t)st.st_size);
	EXPECT_EQ(self->h->lv->size, rep.size);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(LIVENESS_SEALS, fcntl(fd, F_GET_SEALS) & LIVENESS_SEALS);
	EXPECT_NE(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	p = mmap(NULL, rep.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, rep.size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_NE(0, mprotect(p, rep.size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, memcmp(p, self->h->lv, sizeof(*self->h->lv)));
	munmap(p, rep.size);
	EXPECT_EQ(-1, fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));

	rw = reopen_fd(fd, O_RDWR);
	if (rw >= 0) {
		uint32_t zero = 0;

		p = mmap(NULL, rep.size, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EPERM, errno);
		EXPECT_EQ(-1, pwrite(rw, &zero, sizeof(zero), 64));
		EXPECT_EQ(-1, ftruncate(rw, 0));
		EXPECT_EQ(-1, ftruncate(rw, (off_t)rep.size * 2));
		close(rw);
	} else {
		/* Not root: the mode (0400, trackerd's) refuses it. */
		EXPECT_EQ(-EACCES, rw);
	}

	/* Its end is its id's. */
	self->socks[0] = safe_close(self->socks[0]);
	EXPECT_TRUE(wait_dead(self->h, rep.holder, 5000));
}

/* HOLDER out of place ends the connection: before HELLO (-EPROTO), after a
 * request (-EPROTO), with an fd (-ECHRNG), as a session's message (no
 * reply); any message on a holder connection ends it without a reply and
 * its id dies.  trackerd serves the rest throughout. */
TEST_F(holder, misplaced_holder_ends_the_connection)
{
	struct sealshm_msg_holder_reply rep;
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_HOLDER,
		.size = sizeof(req),
		.seq = 7,
	};
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	uint32_t id;
	int fd = -EBADF, sock, memfd;
	ssize_t n;

	/* Before HELLO. */
	sock = self->socks[0] = raw_connect(self->d.sock);
	ASSERT_LE(0, sock);
	n = raw_call(sock, &req, sizeof(req), NULL, 0, &rep, sizeof(rep), &fd);
	ASSERT_EQ((ssize_t)sizeof(rep.hdr), n);
	EXPECT_EQ(-EPROTO, rep.hdr.status);
	EXPECT_EQ(-EBADF, fd);
	EXPECT_TRUE(raw_closed_by_peer(sock));

	/* After a request on the same connection. */
	sock = self->socks[1] = raw_client(self->d.sock, NULL);
	ASSERT_LE(0, sock);
	ASSERT_TRUE(raw_list_works(sock));
	EXPECT_EQ(-EPROTO, raw_holder(sock, 9, &rep, &fd));
	EXPECT_EQ(-EBADF, fd);
	EXPECT_TRUE(raw_closed_by_peer(sock));

	/* With an fd. */
	sock = self->socks[2] = raw_client(self->d.sock, NULL);
	ASSERT_LE(0, sock);
	memfd = helper_memfd(4096, 0);
	ASSERT_LE(0, memfd);
	n = raw_call(sock, &req, sizeof(req), &memfd, 1, &rep, sizeof(rep), &fd);
	close(memfd);
	ASSERT_EQ((ssize_t)sizeof(rep.hdr), n);
	EXPECT_EQ(-ECHRNG, rep.hdr.status);
	EXPECT_TRUE(raw_closed_by_peer(sock));

	/* On a session: the session ends, nothing is answered.  trackerd
	 * reads a session when its effect is about to be seen: a LIST. */
	sock = self->socks[3] = raw_session_client(self->d.sock, token, NULL);
	ASSERT_LE(0, sock);
	ASSERT_EQ(0, raw_send_fds(sock, &req, sizeof(req), NULL, 0));
	self->socks[6] = raw_client(self->d.sock, NULL);
	ASSERT_LE(0, self->socks[6]);
	EXPECT_TRUE(raw_list_works(self->socks[6]));
	EXPECT_TRUE(raw_closed_by_peer(sock));

	/* Anything on a holder connection, even another HOLDER. */
	sock = self->socks[4] = raw_holder_client(self->d.sock, &id);
	ASSERT_LE(0, sock);
	ASSERT_TRUE(sealshm__holder_alive(self->h, id));
	ASSERT_EQ(0, raw_send_fds(sock, &req, sizeof(req), NULL, 0));
	EXPECT_TRUE(raw_closed_by_peer(sock));
	EXPECT_TRUE(wait_dead(self->h, id, 5000));

	/* A HELLO too. */
	sock = self->socks[5] = raw_holder_client(self->d.sock, &id);
	ASSERT_LE(0, sock);
	{
		struct sealshm_msg_hello_reply hr;

		/* No reply: the end of the stream, or a reset. */
		EXPECT_GE(0, raw_hello_with(sock, SEALSHM_PROTO_MAGIC, SEALSHM_PROTO_VERSION, &hr));
	}
	EXPECT_TRUE(wait_dead(self->h, id, 5000));

	/* trackerd serves on: requests, and holders. */
	EXPECT_TRUE(raw_list_works(self->socks[6]));
	self->socks[7] = raw_holder_client(self->d.sock, &id);
	ASSERT_LE(0, self->socks[7]);
	EXPECT_TRUE(sealshm__holder_alive(self->h, id));
	EXPECT_TRUE(sealshm__holder_alive(self->h, self->h->id));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "message on the connection of holder",
					  NULL));
}

/* With --max-holders 3: a fourth is -EUSERS (raw and through the
 * library); a slot freed comes back only after the never-used ones, with
 * a new generation (the dead id is not given again); freed slots come
 * back in the order they were freed. */
TEST_F(holder, slots_run_out_and_come_back_least_recently_freed)
{
	static const char *const extra[] = { "--max-holders", "3", NULL };
	const struct sealshm__holder *h = NULL;
	struct sealshm_msg_holder_reply rep;
	uint32_t a, b, c, d, f;
	int fd = -EBADF;

	ASSERT_EQ(0, trackerd_start(&self->small, extra));
	SEALSHM_OPTS(sealshm_opts, o, .socket = self->small.sock);

	self->socks[0] = raw_holder_client(self->small.sock, &a);
	ASSERT_LE(0, self->socks[0]);
	self->socks[1] = raw_holder_client(self->small.sock, &b);
	ASSERT_LE(0, self->socks[1]);
	EXPECT_EQ(0, a & SEALSHM_HOLDER_SLOT_MASK);
	EXPECT_EQ(1, b & SEALSHM_HOLDER_SLOT_MASK);
	EXPECT_EQ(1, a >> SEALSHM_HOLDER_SLOT_BITS);

	/* a's slot is freed, but slot 2 has never been used: c gets it. */
	self->socks[0] = safe_close(self->socks[0]);
	ASSERT_EQ(0, sealshm__holder_get(&o, &h));
	/* Our holder connection to it lasts as long as this process. */
	self->fds_before++;
	c = h->id;
	EXPECT_EQ(3, h->n_slots);
	EXPECT_NE(self->h->instance, h->instance);
	EXPECT_EQ(2, c & SEALSHM_HOLDER_SLOT_MASK);
	/* a's end is seen (trackerd handled it before our HOLDER or not:
	 * wait), then its slot comes back, generation 2. */
	EXPECT_TRUE(wait_dead(h, a, 5000));
	self->socks[2] = raw_holder_client(self->small.sock, &d);
	ASSERT_LE(0, self->socks[2]);
	EXPECT_EQ(0, d & SEALSHM_HOLDER_SLOT_MASK);
	EXPECT_EQ(2, d >> SEALSHM_HOLDER_SLOT_BITS);
	EXPECT_NE(a, d);
	EXPECT_FALSE(sealshm__holder_alive(h, a));
	EXPECT_TRUE(sealshm__holder_alive(h, d));

	/* Full. */
	self->socks[3] = raw_client(self->small.sock, NULL);
	ASSERT_LE(0, self->socks[3]);
	EXPECT_EQ(-EUSERS, raw_holder(self->socks[3], 2, &rep, &fd));
	EXPECT_EQ(-EBADF, fd);
	EXPECT_TRUE(raw_list_works(self->socks[3]));
	EXPECT_EQ(3, h->lv->holders);
	EXPECT_TRUE(trackerd_log_has_line(&self->small, 2000, "no holder slot left", NULL));

	/* b's slot (1) then d's (0) are freed: the next id takes slot 1. */
	self->socks[1] = safe_close(self->socks[1]);
	EXPECT_TRUE(wait_dead(h, b, 5000));
	self->socks[2] = safe_close(self->socks[2]);
	EXPECT_TRUE(wait_dead(h, d, 5000));
	self->socks[4] = raw_holder_client(self->small.sock, &f);
	ASSERT_LE(0, self->socks[4]);
	EXPECT_EQ(1, f & SEALSHM_HOLDER_SLOT_MASK);
	EXPECT_EQ(2, f >> SEALSHM_HOLDER_SLOT_BITS);

	/* The library's error when none is left: the forked child has no
	 * id yet, and the only free slot is taken first. */
	self->socks[5] = raw_holder_client(self->small.sock, &d);
	ASSERT_LE(0, self->socks[5]);
	{
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			const struct sealshm__holder *ch = NULL;

			_exit(sealshm__holder_get(&o, &ch) == -EUSERS ? 0 : 1);
		}
		self->pids[0] = pid;
		EXPECT_EQ(0, helper_exit_code(helper_reap(pid, 5000)));
		self->pids[0] = 0;
	}
	EXPECT_TRUE(sealshm__holder_alive(h, c));
}

/* A process in a pid namespace of its own (unshare(CLONE_NEWPID), then
 * fork: pid 1 there) gets an id, which trackerd records with its pid as
 * trackerd sees it; its kill -9 is seen through the liveness segment. */
TEST_F(holder, pid_namespace_child_death_is_seen)
{
	int rep_pipe[2];
	struct report rep, inner;
	pid_t pid;

	ASSERT_EQ(0, pipe2(rep_pipe, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The intermediate: it reports whether it may, and the
		 * namespace's first process's pid (as we see it); that one
		 * reports its id and its own idea of its pid. */
		struct report r = { .pid = getpid() };
		pid_t c;

		if (unshare(CLONE_NEWPID) < 0) {
			r.r = -errno;
			(void)report_write(rep_pipe[1], &r);
			_exit(0);
		}
		c = fork();
		if (c == 0) {
			const struct sealshm__holder *h = NULL;
			struct report cr = { .pid = getpid() };

			cr.r = sealshm__holder_get(NULL, &h);
			cr.id = cr.r == 0 ? h->id : 0;
			(void)report_write(rep_pipe[1], &cr);
			for (;;)
				pause();
		}
		r.r = c < 0 ? -errno : 0;
		r.pid2 = c;
		(void)report_write(rep_pipe[1], &r);
		if (c > 0)
			(void)waitpid(c, NULL, 0);
		_exit(0);
	}
	self->pids[0] = pid;
	close(rep_pipe[1]);
	ASSERT_EQ(0, report_read(rep_pipe[0], &rep));
	if (rep.r == -EPERM || rep.r == -EINVAL || rep.r == -ENOSYS || rep.r == -EUSERS) {
		close(rep_pipe[0]);
		SKIP(return, "unshare(CLONE_NEWPID) is not permitted here: %s", strerror(-rep.r));
	}
	ASSERT_EQ(0, rep.r);
	ASSERT_LT(0, rep.pid2);
	self->pids[1] = rep.pid2;	/* the subreaper's, if the intermediate goes */
	ASSERT_EQ(0, report_read(rep_pipe[0], &inner));
	close(rep_pipe[0]);

	EXPECT_EQ(1, inner.pid);
	ASSERT_EQ(0, inner.r);
	EXPECT_NE(self->h->id, inner.id);
	ASSERT_TRUE(sealshm__holder_alive(self->h, inner.id));
	EXPECT_EQ((uint32_t)rep.pid2, sealshm__holder_pid(self->h, inner.id));

	ASSERT_EQ(0, kill(rep.pid2, SIGKILL));
	EXPECT_TRUE(wait_dead(self->h, inner.id, 5000));
	EXPECT_TRUE(sealshm__holder_alive(self->h, self->h->id));
	EXPECT_EQ(0, helper_exit_code(helper_reap(pid, 5000)));
	self->pids[0] = 0;
	self->pids[1] = 0;	/* reaped by the intermediate */
}

TEST_HARNESS_MAIN

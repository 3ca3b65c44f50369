// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tracking_test: the tracking rules (CPython's: a tracked name goes with
 * the first tracking session to end, an untracked one stays; and the
 * opt-in lifetime until the last), proved with real processes against a
 * real trackerd on a private socket: exec'd peers that create or attach
 * and then exit when told, forked process families, an exec'd child handed
 * its parent's session, kill -9 at random points, and a thousand sessions
 * from forked workers.
 *
 * The test process itself tracks nothing (its own calls are untracked), so
 * it never holds a session that its forked "parents" would inherit; every
 * test ends with its fd count, trackerd's fd count and an empty registry.
 * Where trackerd must act on a session's end (after the process is gone),
 * the test polls the registry with a bounded timeout.
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#define NPEERS		6
#define GONE_MS		5000	/* bound for trackerd to act on a session's end */
#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })

/* The bytes peer.c's holding "create" writes. */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 31 + 7);
}

static size_t pattern_mismatches(const unsigned char *p, size_t size)
{
	size_t bad = 0;

	for (size_t i = 0; i < size; i++)
		bad += p[i] != pattern(i);
	return bad;
}

/* Start a holding peer and wait for its "ready PID SIZE" line. */
static int peer_ready(struct peer *p, const char *const *args, int keep_fd, const char *env)
{
	char line[128];
	int pid, r;

	r = peer_start(p, args, keep_fd, env);
	if (r < 0)
		return r;
	r = peer_line(p, line, sizeof(line), 10000);
	if (r < 0)
		return r;
	if (sscanf(line, "ready %d", &pid) != 1 || pid != p->pid)
		return -EPROTO;
	return 0;
}

/* The peer's one-line answer to @cmd equals @want. */
static bool peer_says(struct peer *p, const char *cmd, const char *want)
{
	char line[128];

	return peer_cmd(p, cmd, line, sizeof(line)) >= 0 && !strcmp(line, want);
}

/* The peer reads pattern(@off) at @off of its mapping. */
static bool peer_reads_pattern(struct peer *p, size_t off)
{
	char cmd[32], want[8];

	snprintf(cmd, sizeof(cmd), "read %zu", off);
	snprintf(want, sizeof(want), "%u", pattern(off));
	return peer_says(p, cmd, want);
}

/* trackerd logged "session N of pid P ended: K name(s) cleaned up" for the
 * session @pid opened. */
static bool log_session_ended(const struct trackerd *d, pid_t pid, int k)
{
	int64_t id = trackerd_log_session_id(d, pid, 2000);
	char line[128];

	if (id < 0)
		return false;
	snprintf(line, sizeof(line), "session %lld of pid %d ended: %d name", (long long)id,
		 (int)pid, k);
	return trackerd_log_has_line(d, 2000, line, NULL);
}

/* trackerd logged the warning for @name, naming the session @pid opened. */
static bool log_leaked(const struct trackerd *d, const char *name, pid_t pid)
{
	int64_t id = trackerd_log_session_id(d, pid, 2000);
	char line[384];

	if (id < 0)
		return false;
	snprintf(line, sizeof(line),
		 "leaked segment '%s' cleaned up (session %lld of pid %d ended)", name,
		 (long long)id, (int)pid);
	return trackerd_log_has_line(d, 2000, line, NULL);
}

/* Warning lines about @name so far. */
static int warnings_about(const struct trackerd *d, const char *name)
{
	char needle[300];

	snprintf(needle, sizeof(needle), "leaked segment '%s'", name);
	return trackerd_log_count(d, needle, NULL);
}

/* Sessions the log shows opened (by a pid other than @except) but not
 * ended. */
static int count_unended_sessions(const struct trackerd *d, pid_t except)
{
	char *log = trackerd_log(d);
	int n = 0;

	for (char *line = log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		char *s = strstr(line, "session "), ended[96];
		long long id;
		int pid;

		nl = strchr(line, '\n');
		if (!s || (nl && s > nl) ||
		    sscanf(s, "session %lld opened by pid %d", &id, &pid) != 2 || pid == except)
			continue;
		snprintf(ended, sizeof(ended), "session %lld of pid %d ended:", id, pid);
		n += !strstr(log, ended);
	}
	free(log);
	return n;
}

/* Wait up to @timeout_ms for every session but @except's to have ended;
 * returns how many have not. */
static int unended_sessions(const struct trackerd *d, pid_t except, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		int n = count_unended_sessions(d, except);

		if (n == 0 || helper_now_ms() >= end)
			return n;
		helper_sleep_ms(20);
	}
}

/* --- forked helpers: a child that reports "ready" and waits for "go" ------ */
struct child {
	pid_t pid;
	int ready;	/* read end: the child writes one line when ready */
	int go;		/* write end: closing it lets the child finish */
};

#define CHILD_INIT { .pid = 0, .ready = -EBADF, .go = -EBADF }

typedef int (*child_fn)(const void *arg, int ready_fd, int go_fd);

/* Fork a child running @fn (its return value is the exit code). */
static int child_start(struct child *c, child_fn fn, const void *arg)
{
	int ready[2], go[2];
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(go, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		close(go[1]);
		_exit(fn(arg, ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	c->pid = pid;
	c->ready = ready[0];
	c->go = go[1];
	return 0;
}

/* The child's ready line (up to @len - 1 bytes), waiting up to 20 s.
 * Returns its length, -EPIPE when the child ended first. */
static int child_wait_ready(struct child *c, char *line, size_t len)
{
	struct pollfd pfd = { .fd = c->ready, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, 20000) <= 0)
		return -ETIMEDOUT;
	n = read(c->ready, line, len - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
	line[n] = '\0';
	return (int)n;
}

/* Let the child finish and reap it; returns its exit code. */
static int child_finish(struct child *c)
{
	int rc = 0;

	c->go = safe_close(c->go);
	if (c->pid > 0)
		rc = helper_exit_code(helper_reap(c->pid, 20000));
	c->pid = 0;
	c->ready = safe_close(c->ready);
	return rc;
}

/* In a child: say @line on @ready_fd, then block until @go_fd's EOF. */
static int ready_then_wait(int ready_fd, int go_fd, const char *line)
{
	char c;

	if (write(ready_fd, line, strlen(line)) < 0)
		return 90;
	close(ready_fd);
	for (;;) {
		ssize_t n = read(go_fd, &c, 1);

		if (n == 0 || (n < 0 && errno != EINTR))
			return 0;
	}
}

FIXTURE(tracking) {
	struct trackerd d;
	struct peer peer[NPEERS];
	struct child child;
	struct sealshm *shm[4];
	int fds_before;
	int daemon_fds_before;
};

FIXTURE_SETUP(tracking)
{
	for (int i = 0; i < NPEERS; i++)
		self->peer[i] = (struct peer)PEER_INIT;
	self->child = (struct child)CHILD_INIT;
	memset(self->shm, 0, sizeof(self->shm));
	ASSERT_EQ(0, unsetenv(SEALSHM_SESSION_ENV));
	/* The library's request connection is part of both baselines; no
	 * session is (the test process never tracks). */
	trackerd_fixture_setup(_metadata, &self->d, NULL, TRACKERD_FIXTURE_NO_SESSION,
			       &self->fds_before, &self->daemon_fds_before);
}

FIXTURE_TEARDOWN(tracking)
{
	for (int i = 0; i < NPEERS; i++)
		peer_destroy(&self->peer[i]);
	if (self->child.pid > 0)
		(void)kill(self->child.pid, SIGKILL);
	(void)child_finish(&self->child);
	for (int i = 0; i < 4; i++)
		sealshm_close(self->shm[i]);
	/* Peers killed above end their sessions a little later: the
	 * teardown waits TRACKERD_FIXTURE_SETTLE_MS for their names to go. */
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, self->daemon_fds_before);
}

/* 1. A tracked creator that exits without unlinking takes the name with it,
 * with one warning naming the segment and its pid; a process that still
 * maps the segment keeps reading and writing it. */
TEST_F(tracking, creator_exit_unlinks_name_and_warns)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm_info info;
	unsigned char *p;
	pid_t pid;

	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("create", "leaky", "8192"), -1, NULL));
	pid = self->peer[0].pid;
	ASSERT_EQ(0, sealshm_attach("leaky", &untracked, &self->shm[0]));
	ASSERT_EQ(0, sealshm_stat("leaky", NULL, &info));
	EXPECT_EQ(1, info.n_sessions);
	EXPECT_EQ((uint32_t)pid, info.session_pids[0]);
	EXPECT_EQ(0, info.session_pids[1]);
	EXPECT_EQ(0, info.flags);
	{
		char opened[96];

		snprintf(opened, sizeof(opened), " opened by pid %d (uid %u)", (int)pid, getuid());
		EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "session ", opened, NULL));
	}

	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
	EXPECT_EQ(0, helper_wait_gone("leaky", GONE_MS));
	EXPECT_EQ(-ENOENT, sealshm_attach("leaky", &untracked, &self->shm[1]));
	EXPECT_TRUE(log_leaked(&self->d, "leaky", pid));
	EXPECT_TRUE(log_session_ended(&self->d, pid, 1));
	EXPECT_EQ(1, warnings_about(&self->d, "leaky"));

	p = sealshm_buf(self->shm[0]);
	EXPECT_EQ(0, pattern_mismatches(p, 8192));
	p[8191] = 0xee;
	EXPECT_EQ(0xee, p[8191]);
}

/* 2. With tracking off the creator's exit changes nothing: the name stays
 * attachable with the creator's bytes (no session was even opened), until
 * an explicit unlink removes it. */
TEST_F(tracking, untracked_creator_exit_keeps_name)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm_info info;
	pid_t pid;

	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("--no-track", "create", "kept", "4096"), -1,
				NULL));
	pid = self->peer[0].pid;
	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
	/* No session, hence no end of one to wait for. */
	EXPECT_EQ(-ENOENT, trackerd_log_session_id(&self->d, pid, 0));

	ASSERT_EQ(0, sealshm_attach("kept", &untracked, &self->shm[0]));
	EXPECT_EQ(0, pattern_mismatches(sealshm_buf(self->shm[0]), 4096));
	ASSERT_EQ(0, sealshm_stat("kept", NULL, &info));
	EXPECT_EQ(0, info.n_sessions);
	EXPECT_EQ(0, info.session_pids[0]);
	EXPECT_EQ((uint32_t)pid, info.creator_pid);

	EXPECT_EQ(0, sealshm_unlink_name("kept", NULL));
	EXPECT_EQ(-ENOENT, sealshm_attach("kept", &untracked, &self->shm[1]));
	EXPECT_EQ(0, warnings_about(&self->d, "kept"));
}

/* 3. Two unrelated exec'd programs both track a name: whichever exits
 * first removes it (CPython's first-exit deletion), though the other still
 * uses the segment; the other's end then finds nothing to clean up. */
TEST_F(tracking, first_exit_of_two_trackers_unlinks)
{
	for (int order = 0; order < 2; order++) {
		const char *name = order ? "first_is_attacher" : "first_is_creator";
		struct peer *c = &self->peer[0], *a = &self->peer[1];
		struct peer *first = order ? a : c, *other = order ? c : a;
		struct sealshm_info info;
		pid_t first_pid, other_pid;

		ASSERT_EQ(0, peer_ready(c, ARGS("create", name, "4096"), -1, NULL));
		ASSERT_EQ(0, peer_ready(a, ARGS("attach-hold", name), -1, NULL));
		ASSERT_EQ(0, sealshm_stat(name, NULL, &info));
		EXPECT_EQ(2, info.n_sessions);
		EXPECT_EQ((uint32_t)c->pid, info.session_pids[0]);
		EXPECT_EQ((uint32_t)a->pid, info.session_pids[1]);

		first_pid = first->pid;
		other_pid = other->pid;
		EXPECT_EQ(0, peer_finish(first, 5000));
		EXPECT_EQ(0, helper_wait_gone(name, GONE_MS)) {
			TH_LOG("%s: name survived the first exit", name);
		}
		EXPECT_TRUE(log_leaked(&self->d, name, first_pid));

		/* The survivor still reads and writes its mapping. */
		EXPECT_TRUE(peer_reads_pattern(other, 100));
		EXPECT_TRUE(peer_says(other, "write 5 77", "ok"));
		EXPECT_TRUE(peer_says(other, "read 5", "77"));
		EXPECT_EQ(0, peer_finish(other, 5000));
		EXPECT_TRUE(log_session_ended(&self->d, other_pid, 0));
		EXPECT_EQ(1, warnings_about(&self->d, name));
	}
}

/* 4. An attacher with tracking off neither shortens nor lengthens the
 * name's life: it outlives the attacher and goes when the creator exits. */
TEST_F(tracking, untracked_attacher_leaves_lifetime_to_creator)
{
	struct sealshm_info info;
	pid_t creator, attacher;

	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("create", "outlives", "4096"), -1, NULL));
	ASSERT_EQ(0, peer_ready(&self->peer[1], ARGS("--no-track", "attach-hold", "outlives"), -1,
				NULL));
	creator = self->peer[0].pid;
	attacher = self->peer[1].pid;
	ASSERT_EQ(0, sealshm_stat("outlives", NULL, &info));
	EXPECT_EQ(1, info.n_sessions);
	EXPECT_EQ((uint32_t)creator, info.session_pids[0]);

	EXPECT_EQ(0, peer_finish(&self->peer[1], 5000));
	/* It never opened a session, so its exit cannot end one. */
	EXPECT_EQ(-ENOENT, trackerd_log_session_id(&self->d, attacher, 0));
	ASSERT_EQ(0, sealshm_stat("outlives", NULL, &info));
	EXPECT_EQ(1, info.n_sessions);

	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
	EXPECT_EQ(0, helper_wait_gone("outlives", GONE_MS));
	EXPECT_TRUE(log_leaked(&self->d, "outlives", creator));
}

#define FAMILY_KIDS 4

/* The parent of test 5, a forked child of the test: creates @arg tracked,
 * forks children that attach it tracked, write and exit, checks the name
 * survived them, says "ready", waits, and exits without unlinking. */
static int family_parent(const void *arg, int ready_fd, int go_fd)
{
	const char *name = arg;
	struct sealshm *shm = NULL;
	struct sealshm_info info;
	pid_t kids[FAMILY_KIDS];
	unsigned char *p;

	if (sealshm_create(name, 4096, NULL, &shm) < 0)
		return 10;
	for (int i = 0; i < FAMILY_KIDS; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			return 11;
		if (kids[i] == 0) {
			struct sealshm *s = NULL;

			if (sealshm_attach(name, NULL, &s) < 0)
				_exit(1);
			((unsigned char *)sealshm_buf(s))[i] = (unsigned char)(i + 1);
			/* Tracked in the family's one session, the parent's. */
			if (sealshm_stat(name, NULL, &info) < 0 || info.n_sessions != 1 ||
			    info.session_pids[0] != (uint32_t)getppid())
				_exit(2);
			_exit(0);	/* no close, no unlink */
		}
	}
	for (int i = 0; i < FAMILY_KIDS; i++)
		if (helper_exit_code(helper_reap(kids[i], 10000)) != 0)
			return 20 + i;
	p = sealshm_buf(shm);
	for (int i = 0; i < FAMILY_KIDS; i++)
		if (p[i] != i + 1)
			return 30 + i;
	if (sealshm_stat(name, NULL, &info) < 0)
		return 40;
	if (info.n_sessions != 1 || info.session_pids[0] != (uint32_t)getpid())
		return 41;
	return ready_then_wait(ready_fd, go_fd, "ready\n");
}

/* 5. Forked children attaching tracked belong to their parent's session:
 * their exits leave the name; the parent's exit takes it. */
TEST_F(tracking, forked_children_share_parents_session)
{
	struct sealshm_info info;
	char line[64];
	pid_t parent;

	ASSERT_EQ(0, child_start(&self->child, family_parent, "family"));
	parent = self->child.pid;
	ASSERT_LT(0, child_wait_ready(&self->child, line, sizeof(line))) {
		TH_LOG("family parent exited %d", child_finish(&self->child));
	}
	ASSERT_EQ(0, sealshm_stat("family", NULL, &info));
	EXPECT_EQ(1, info.n_sessions);
	EXPECT_EQ((uint32_t)parent, info.session_pids[0]);
	/* One session for the whole family, none ended yet. */
	EXPECT_EQ(1, trackerd_log_count(&self->d, " opened by pid ", NULL));
	EXPECT_EQ(0, trackerd_log_count(&self->d, " ended: ", NULL));

	EXPECT_EQ(0, child_finish(&self->child));
	EXPECT_EQ(0, helper_wait_gone("family", GONE_MS));
	EXPECT_TRUE(log_leaked(&self->d, "family", parent));
	EXPECT_TRUE(log_session_ended(&self->d, parent, 1));
}

/* Which SEALSHM_SESSION a handing parent gives its exec'd child. */
enum hand_mode {
	HAND_EXACT,		/* what sealshm_session_export() wrote */
	HAND_WRONG_TOKEN,	/* the right fd, a token trackerd does not know */
};

struct hand_arg {
	const char *name;
	enum hand_mode mode;
};

/* The parent of test 6: creates the name tracked, hands its session to an
 * exec'd peer that attaches tracked and exits, checks the peer joined its
 * session (or, given a wrong token, got one of its own), says "ready PEERPID"
 * and waits. */
static int handing_parent(const void *arg, int ready_fd, int go_fd)
{
	const struct hand_arg *h = arg;
	struct peer peer = PEER_INIT;
	struct sealshm *shm = NULL;
	char env[SEALSHM_SESSION_ENV_MAX], hex[40], line[64];
	struct sealshm_info info;
	int fd, envfd, rc = 0;
	pid_t peer_pid;

	if (sealshm_create(h->name, 4096, NULL, &shm) < 0)
		return 10;
	fd = sealshm_session_export(NULL, env, sizeof(env));
	if (fd < 3)
		return 11;
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		return 12;
	if (sscanf(env, "%d:%39[0-9a-f]", &envfd, hex) != 2 || envfd != fd || strlen(hex) != 32 ||
	    (size_t)snprintf(line, sizeof(line), "%d:%s", fd, hex) != strlen(env))
		return 13;
	if (h->mode == HAND_WRONG_TOKEN)
		env[strlen(env) - 1] = env[strlen(env) - 1] == '0' ? '1' : '0';

	if (peer_ready(&peer, ARGS("attach-hold", h->name), fd, env) < 0)
		return 20;
	peer_pid = peer.pid;
	/* Adopted or not, the session fd is not passed further on exec. */
	if (!peer_says(&peer, "cloexec", "ok"))
		rc = 21;
	if (sealshm_stat(h->name, NULL, &info) < 0)
		rc = 22;
	else if (h->mode == HAND_EXACT &&
		 (info.n_sessions != 1 || info.session_pids[0] != (uint32_t)getpid()))
		rc = 23;
	else if (h->mode == HAND_WRONG_TOKEN &&
		 (info.n_sessions != 2 || info.session_pids[1] != (uint32_t)peer_pid))
		rc = 24;
	if (peer_finish(&peer, 5000) != 0)
		rc = rc ?: 25;
	close(fd);
	if (rc)
		return rc;
	snprintf(line, sizeof(line), "ready %d\n", (int)peer_pid);
	return ready_then_wait(ready_fd, go_fd, line);
}

/* 6. An exec'd program handed the session explicitly (inherited fd and
 * $SEALSHM_SESSION) joins it instead of opening its own: its exit leaves
 * the name; the parent's exit takes it. */
TEST_F(tracking, exec_child_handed_session_is_family)
{
	const struct hand_arg h = { .name = "handed", .mode = HAND_EXACT };
	struct sealshm_info info;
	char line[64];
	pid_t parent;
	int peer_pid = 0;

	ASSERT_EQ(0, child_start(&self->child, handing_parent, &h));
	parent = self->child.pid;
	ASSERT_LT(0, child_wait_ready(&self->child, line, sizeof(line))) {
		TH_LOG("handing parent exited %d", child_finish(&self->child));
	}
	ASSERT_EQ(1, sscanf(line, "ready %d", &peer_pid));
	/* The exec'd child has exited; the name is still the family's. */
	ASSERT_EQ(0, sealshm_stat("handed", NULL, &info));
	EXPECT_EQ(1, info.n_sessions);
	EXPECT_EQ((uint32_t)parent, info.session_pids[0]);
	EXPECT_EQ(-ENOENT, trackerd_log_session_id(&self->d, peer_pid, 0));

	EXPECT_EQ(0, child_finish(&self->child));
	EXPECT_EQ(0, helper_wait_gone("handed", GONE_MS));
	EXPECT_TRUE(log_leaked(&self->d, "handed", parent));
}

/* A handed session whose token trackerd does not know (-ESTALE) is dropped:
 * the library opens a session of its own and the request succeeds. */
TEST_F(tracking, handed_session_with_unknown_token_is_replaced)
{
	const struct hand_arg h = { .name = "stale_hand", .mode = HAND_WRONG_TOKEN };
	char line[64];
	int peer_pid = 0;
	pid_t parent;

	ASSERT_EQ(0, child_start(&self->child, handing_parent, &h));
	parent = self->child.pid;
	ASSERT_LT(0, child_wait_ready(&self->child, line, sizeof(line))) {
		TH_LOG("handing parent exited %d", child_finish(&self->child));
	}
	ASSERT_EQ(1, sscanf(line, "ready %d", &peer_pid));
	/* The peer's own session ended with it: first exit takes the name. */
	EXPECT_EQ(0, helper_wait_gone("stale_hand", GONE_MS));
	EXPECT_TRUE(log_leaked(&self->d, "stale_hand", peer_pid));
	EXPECT_EQ(0, child_finish(&self->child));
	EXPECT_TRUE(log_session_ended(&self->d, parent, 0));
}

/* $SEALSHM_SESSION that is malformed, names a closed fd, or names an fd
 * that is no session socket is ignored: the program opens its own session. */
TEST_F(tracking, bad_session_env_is_ignored)
{
	int p[2] = { -EBADF, -EBADF };
	char env[3][80], fd_line[16];
	struct sealshm_info info;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	snprintf(env[0], sizeof(env[0]), "not a session");
	snprintf(env[1], sizeof(env[1]), "987:%s", "00112233445566778899aabbccddeeff");
	snprintf(env[2], sizeof(env[2]), "%d:%s", p[0], "00112233445566778899aabbccddeeff");
	/* The pipe is left as it was: inheritable. */
	snprintf(fd_line, sizeof(fd_line), "fd %d", p[0]);

	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("--lifetime-last", "create", "env", "4096"),
				-1, NULL));
	for (int i = 0; i < 3; i++) {
		struct peer *a = &self->peer[1];
		pid_t pid;

		ASSERT_EQ(0, peer_ready(a, ARGS("attach-hold", "env"), i == 2 ? p[0] : -1,
					env[i])) {
			TH_LOG("SEALSHM_SESSION=%s", env[i]);
		}
		pid = a->pid;
		ASSERT_EQ(0, sealshm_stat("env", NULL, &info));
		EXPECT_EQ(2, info.n_sessions) {
			TH_LOG("SEALSHM_SESSION=%s", env[i]);
		}
		EXPECT_EQ((uint32_t)pid, info.session_pids[1]);
		EXPECT_TRUE(peer_says(a, "cloexec", i == 2 ? fd_line : "ok")) {
			TH_LOG("SEALSHM_SESSION=%s", env[i]);
		}
		EXPECT_EQ(0, peer_finish(a, 5000));
		EXPECT_EQ(0, helper_wait_sessions("env", 1, GONE_MS, &info));
	}
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
	EXPECT_EQ(0, helper_wait_gone("env", GONE_MS));
}

/* A tracking worker for test 7: creates, re-attaches and attaches "live",
 * sometimes unlinks, in a loop, until it is killed. */
static void kill_worker(int iter)
{
	for (unsigned int j = 0; j < 2000; j++) {
		struct sealshm *s = NULL, *t = NULL, *l = NULL;
		char name[32];

		snprintf(name, sizeof(name), "k%d_%u", iter, j);
		if (sealshm_create(name, 4096, NULL, &s) < 0)
			_exit(1);
		if (j % 2 == 0)
			(void)sealshm_attach(name, NULL, &t);
		if (j % 3 == 0)
			(void)sealshm_attach("live", NULL, &l);
		if (j % 5 == 4)
			(void)sealshm_unlink(s);
		sealshm_close(l);
		sealshm_close(t);
		sealshm_close(s);
	}
	_exit(0);
}

static uint32_t xorshift32(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#define KILL_ITERATIONS 240

/* 7. SIGKILL at random points of create/attach loops (forked and exec'd
 * creators, 240 times) leaves no name of a dead session in the registry:
 * only the one a live session tracks; every session opened has ended, and
 * trackerd still serves. */
TEST_F_TIMEOUT(tracking, kill9_during_loops_leaves_no_orphan, 170)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	uint32_t seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	struct sealshm_info *infos = NULL, info;
	struct peer *live = &self->peer[0];
	int n, ended_early = 0, failed = 0;

	TH_LOG("seed %u", seed);
	seed = seed ?: 1;
	ASSERT_EQ(0, peer_ready(live, ARGS("--lifetime-last", "create", "live", "4096"), -1,
				NULL));

	for (int iter = 0; iter < KILL_ITERATIONS; iter++) {
		uint32_t r = xorshift32(&seed);
		unsigned int delay = r % 5 == 0 ? 0 : (r >> 8) % (r % 7 == 0 ? 20000 : 4000);
		struct peer *p = &self->peer[1];
		int status;

		if (iter % 8 == 7) {
			/* An exec'd creator, killed wherever it is. */
			char name[32];

			snprintf(name, sizeof(name), "x%d", iter);
			ASSERT_EQ(0, peer_start(p, ARGS("create", name, "4096"), -1, NULL));
			sleep_us(delay);
			peer_destroy(p);
			continue;
		}
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0)
			kill_worker(iter);
		sleep_us(delay);
		(void)kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ended_early += WIFEXITED(status);
		failed += WIFEXITED(status) && WEXITSTATUS(status) != 0;
	}
	TH_LOG("%d sessions opened, %d names registered, %d cleaned up after kill -9",
	       trackerd_log_count(&self->d, " opened by pid ", NULL),
	       trackerd_log_count(&self->d, "registered '", NULL),
	       trackerd_log_count(&self->d, "leaked segment '", NULL));
	if (ended_early)
		TH_LOG("%d workers ended before their kill", ended_early);
	EXPECT_EQ(0, failed);

	/* Only "live" may stay, tracked by its live creator alone. */
	n = helper_wait_names(1, 20000);
	EXPECT_EQ(1, n);
	n = sealshm_registry_list(NULL, &infos);
	for (int i = 0; i < n; i++) {
		EXPECT_STREQ("live", infos[i].name);
	}
	free(infos);
	EXPECT_EQ(0, helper_wait_sessions("live", 1, GONE_MS, &info));
	EXPECT_EQ((uint32_t)live->pid, info.session_pids[0]);
	EXPECT_EQ(SEALSHM_LIFETIME_LAST, info.flags);
	EXPECT_EQ(0, unended_sessions(&self->d, live->pid, GONE_MS));

	/* trackerd still serves. */
	EXPECT_TRUE(helper_pid_alive(self->d.pid));
	ASSERT_EQ(0, sealshm_create("after_storm", 4096, &untracked, &self->shm[0]));
	ASSERT_EQ(0, sealshm_attach("after_storm", &untracked, &self->shm[1]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_TRUE(peer_reads_pattern(live, 1));

	EXPECT_EQ(0, peer_finish(live, 5000));
	EXPECT_EQ(0, helper_wait_gone("live", GONE_MS));
}

/* 8. Unlink takes the name out of the session: no warning when the session
 * ends, and a later name of the same spelling is not tracked by it. */
TEST_F(tracking, unlink_untracks_name)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm_info info;
	pid_t pid;

	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("create", "respelled", "4096"), -1, NULL));
	pid = self->peer[0].pid;
	EXPECT_TRUE(peer_says(&self->peer[0], "unlink", "ok"));
	EXPECT_EQ(-ENOENT, sealshm_stat("respelled", NULL, &info));
	ASSERT_EQ(0, sealshm_create("respelled", 64, &untracked, &self->shm[0]));

	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
	EXPECT_TRUE(log_session_ended(&self->d, pid, 0));
	EXPECT_EQ(0, warnings_about(&self->d, "respelled"));
	ASSERT_EQ(0, sealshm_stat("respelled", NULL, &info));
	EXPECT_EQ(0, info.n_sessions);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* 9. Under the last-session lifetime a name lives while any session tracks
 * it, whoever created it, and goes (with the warning) with the last one. */
TEST_F(tracking, lifetime_last_lives_until_last_session)
{
	struct sealshm_info info;
	pid_t creator, a1, a2;

	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("--lifetime-last", "create", "last", "4096"),
				-1, NULL));
	ASSERT_EQ(0, peer_ready(&self->peer[1], ARGS("attach-hold", "last"), -1, NULL));
	creator = self->peer[0].pid;
	a1 = self->peer[1].pid;
	ASSERT_EQ(0, sealshm_stat("last", NULL, &info));
	EXPECT_EQ(SEALSHM_LIFETIME_LAST, info.flags);
	EXPECT_EQ(2, info.n_sessions);

	/* The creator goes first: the attacher keeps the name. */
	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
	EXPECT_EQ(0, helper_wait_sessions("last", 1, GONE_MS, &info));
	EXPECT_EQ((uint32_t)a1, info.session_pids[0]);
	EXPECT_TRUE(log_session_ended(&self->d, creator, 0));
	EXPECT_EQ(0, warnings_about(&self->d, "last"));

	/* A newcomer joins; the first attacher leaves; the newcomer keeps it. */
	ASSERT_EQ(0, peer_ready(&self->peer[2], ARGS("attach-hold", "last"), -1, NULL));
	a2 = self->peer[2].pid;
	EXPECT_TRUE(peer_reads_pattern(&self->peer[2], 4095));
	EXPECT_EQ(0, peer_finish(&self->peer[1], 5000));
	EXPECT_EQ(0, helper_wait_sessions("last", 1, GONE_MS, &info));
	EXPECT_EQ((uint32_t)a2, info.session_pids[0]);
	EXPECT_EQ(0, warnings_about(&self->d, "last"));

	/* The last one takes it. */
	EXPECT_EQ(0, peer_finish(&self->peer[2], 5000));
	EXPECT_EQ(0, helper_wait_gone("last", GONE_MS));
	EXPECT_TRUE(log_leaked(&self->d, "last", a2));
	EXPECT_EQ(1, warnings_about(&self->d, "last"));
}

/* stat and list report the lifetime, the number of tracking sessions and
 * the first pids of the oldest four, oldest first. */
TEST_F(tracking, stat_reports_sessions_and_pids)
{
	struct sealshm_info info;
	pid_t pids[5];

	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("--lifetime-last", "create", "watched",
						     "4096"), -1, NULL));
	pids[0] = self->peer[0].pid;
	for (int i = 1; i < 5; i++) {
		ASSERT_EQ(0, peer_ready(&self->peer[i], ARGS("attach-hold", "watched"), -1, NULL));
		pids[i] = self->peer[i].pid;
		ASSERT_EQ(0, sealshm_stat("watched", NULL, &info));
		EXPECT_EQ((uint32_t)i + 1, info.n_sessions);
	}
	for (int i = 0; i < SEALSHM_INFO_PIDS; i++)
		EXPECT_EQ((uint32_t)pids[i], info.session_pids[i]);

	/* The second oldest leaves: the list moves up. */
	EXPECT_EQ(0, peer_finish(&self->peer[1], 5000));
	EXPECT_EQ(0, helper_wait_sessions("watched", 4, GONE_MS, &info));
	EXPECT_EQ((uint32_t)pids[0], info.session_pids[0]);
	EXPECT_EQ((uint32_t)pids[2], info.session_pids[1]);
	EXPECT_EQ((uint32_t)pids[3], info.session_pids[2]);
	EXPECT_EQ((uint32_t)pids[4], info.session_pids[3]);

	/* The listing says the same. */
	{
		struct sealshm_info *infos = NULL;
		int n = sealshm_registry_list(NULL, &infos);

		ASSERT_EQ(1, n);
		EXPECT_EQ(4, infos[0].n_sessions);
		EXPECT_EQ(SEALSHM_LIFETIME_LAST, infos[0].flags);
		EXPECT_EQ((uint32_t)pids[2], infos[0].session_pids[1]);
		free(infos);
	}
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(0, peer_finish(&self->peer[i], 5000));
	EXPECT_EQ(0, helper_wait_gone("watched", GONE_MS));
}

/* A forked process attaching the same name twice tracks it once. */
static int attach_twice(const void *arg, int ready_fd, int go_fd)
{
	struct sealshm *a = NULL, *b = NULL;
	struct sealshm_info info;

	if (sealshm_attach(arg, NULL, &a) < 0 || sealshm_attach(arg, NULL, &b) < 0)
		return 10;
	if (sealshm_stat(arg, NULL, &info) < 0 || info.n_sessions != 2)
		return 11;
	return ready_then_wait(ready_fd, go_fd, "ready\n");
}

/* Attaching twice from one family links the name to its session once;
 * the session's end then unlinks it once. */
TEST_F(tracking, attach_twice_tracks_once)
{
	char line[64];
	pid_t pid;

	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("--lifetime-last", "create", "twice",
						     "4096"), -1, NULL));
	ASSERT_EQ(0, child_start(&self->child, attach_twice, "twice"));
	pid = self->child.pid;
	ASSERT_LT(0, child_wait_ready(&self->child, line, sizeof(line))) {
		TH_LOG("child exited %d", child_finish(&self->child));
	}
	EXPECT_EQ(0, child_finish(&self->child));
	EXPECT_TRUE(log_session_ended(&self->d, pid, 0));
	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
	EXPECT_EQ(0, helper_wait_gone("twice", GONE_MS));
	EXPECT_EQ(1, warnings_about(&self->d, "twice"));
}

#define NOBODY 65534

/* Runs as another uid: attach "foreign" read-only, tracked, check both
 * sessions track it, exit. */
static int foreign_attacher(const void *arg, int ready_fd, int go_fd)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm *s = NULL;
	struct sealshm_info info;

	(void)arg;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 100;
	if (sealshm_attach("foreign", &ro, &s) < 0)
		return 10;
	if (sealshm_stat("foreign", NULL, &info) < 0 || info.n_sessions != 2)
		return 11;
	return ready_then_wait(ready_fd, go_fd, "ready\n");
}

/* Under the default lifetime, the end of a session of another uid (which
 * may not unlink the name) only stops it tracking the name. */
TEST_F(tracking, other_uid_session_end_only_untracks)
{
	struct sealshm_info info;
	char line[64];
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "switching uid needs root");
	/* Let the other uid reach the socket. */
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, chmod(self->d.sock, 0666));
	ASSERT_EQ(0, peer_ready(&self->peer[0], ARGS("--mode=0644", "create", "foreign", "4096"),
				-1, NULL));
	ASSERT_EQ(0, child_start(&self->child, foreign_attacher, NULL));
	pid = self->child.pid;
	ASSERT_LT(0, child_wait_ready(&self->child, line, sizeof(line))) {
		TH_LOG("child exited %d", child_finish(&self->child));
	}
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, " opened by pid ", "(uid 65534)", NULL));
	EXPECT_EQ(0, child_finish(&self->child));
	EXPECT_EQ(0, helper_wait_sessions("foreign", 1, GONE_MS, &info));
	EXPECT_EQ((uint32_t)self->peer[0].pid, info.session_pids[0]);
	EXPECT_TRUE(log_session_ended(&self->d, pid, 0));
	EXPECT_EQ(0, warnings_about(&self->d, "foreign"));
	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
	EXPECT_EQ(0, helper_wait_gone("foreign", GONE_MS));
}

#define SESSIONS	1000
#define WORKERS		8

/* One of test 10's workers: @w-th share of the sessions, one forked
 * process each, run one after another. */
static int session_worker(int w)
{
	for (int i = w; i < SESSIONS; i += WORKERS) {
		pid_t pid = fork();

		if (pid < 0)
			return 10;
		if (pid == 0) {
			struct sealshm *s = NULL;
			char name[32];

			snprintf(name, sizeof(name), "s%d", i);
			/* Opens the session; exits without unlinking. */
			_exit(sealshm_create(name, 64, NULL, &s) < 0 ? 1 : 0);
		}
		if (helper_exit_code(helper_reap(pid, 20000)) != 0)
			return 20;
	}
	return 0;
}

/* 10. A thousand sessions opened and ended concurrently by forked workers
 * each clean up their name, and trackerd's fd count returns to where it
 * started. */
TEST_F_TIMEOUT(tracking, thousand_sessions_return_fds_to_baseline, 170)
{
	pid_t workers[WORKERS];

	for (int w = 0; w < WORKERS; w++) {
		workers[w] = fork();
		ASSERT_GE(workers[w], 0);
		if (workers[w] == 0)
			_exit(session_worker(w));
	}
	for (int w = 0; w < WORKERS; w++) {
		EXPECT_EQ(0, helper_exit_code(helper_reap(workers[w], 150000))) {
			TH_LOG("worker %d", w);
		}
	}
	EXPECT_EQ(0, helper_wait_names(0, 20000));
	EXPECT_EQ(self->daemon_fds_before,
		  helper_wait_fds(self->d.pid, self->daemon_fds_before, 20000));
	EXPECT_EQ(SESSIONS, trackerd_log_count(&self->d, " opened by pid ", NULL));
	EXPECT_EQ(SESSIONS, trackerd_log_count(&self->d, " ended: 1 name", NULL));
	EXPECT_EQ(SESSIONS, trackerd_log_count(&self->d, "leaked segment 's", NULL));
	EXPECT_TRUE(helper_pid_alive(self->d.pid));
}

TEST_HARNESS_MAIN

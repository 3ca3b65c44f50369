// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fastpath_test: attach by name through trackerd's published index and
 * pidfd (lib/fastpath.c), without a round trip, gives exactly what the
 * round trip gives - or falls back to it.
 *
 * How a test knows which path an attach took, without strace: trackerd
 * runs with --verbose, which logs "attached 'NAME' by pid P" for every
 * ATTACH request it serves; an attach through the index sends no request,
 * so it leaves no such line (a tracked one leaves "'NAME' tracked by
 * session N of pid P (fast attach)" instead, from its one-way TRACK).
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "index_format.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOBODY 65534
#define GONE_MS 5000

static const char *const verbose[] = { "--verbose", NULL };

/* Lines "attached 'NAME'" trackerd logged for requests of @pid (0: any). */
static int attach_lines(const struct trackerd *d, const char *name, pid_t pid)
{
	char what[300], who[32];

	snprintf(what, sizeof(what), "attached '%s' ", name);
	if (!pid)
		return trackerd_log_count(d, what, NULL);
	snprintf(who, sizeof(who), " by pid %d ", (int)pid);
	return trackerd_log_count(d, what, who, NULL);
}

FIXTURE(fastpath) {
	struct trackerd d;
	struct peer peer[2];
	int fds_before;
};

FIXTURE_SETUP(fastpath)
{
	self->peer[0] = (struct peer)PEER_INIT;
	self->peer[1] = (struct peer)PEER_INIT;
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_FASTPATH"));
	ASSERT_EQ(0, unsetenv(SEALSHM_SESSION_ENV));
	/* The baseline holds the request connection, the session and
	 * trackerd's pidfd (taken with the index on the first connection). */
	trackerd_fixture_setup(_metadata, &self->d, verbose, 0, &self->fds_before, NULL);
}

FIXTURE_TEARDOWN(fastpath)
{
	peer_destroy(&self->peer[0]);
	peer_destroy(&self->peer[1]);
	(void)unsetenv("SEALSHM_NO_FASTPATH");
	/* Within TRACKERD_FIXTURE_SETTLE_MS, the names of the peers' sessions go. */
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* Attach of a published name sends no request, maps the same bytes, and
 * also works in a forked child that never opened a connection of its own. */
TEST_F(fastpath, attach_through_index_sends_no_request)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *c = NULL, *a = NULL;
	char who[32];
	int status;
	pid_t pid;

	ASSERT_EQ(0, sealshm_create("fp_basic", 8192, &untracked, &c));
	memset(sealshm_buf(c), 0x5a, 8192);
	ASSERT_EQ(0, sealshm_attach("fp_basic", &untracked, &a));
	EXPECT_EQ(8192, sealshm_size(a));
	EXPECT_STREQ("fp_basic", sealshm_name(a));
	EXPECT_EQ(0, memcmp(sealshm_buf(a), sealshm_buf(c), 8192));
	/* Shared, both ways. */
	((char *)sealshm_buf(a))[100] = 1;
	EXPECT_EQ(1, ((char *)sealshm_buf(c))[100]);
	EXPECT_EQ(O_RDWR, fcntl(sealshm_fd(a), F_GETFL) & O_ACCMODE);
	EXPECT_NE(0, fcntl(sealshm_fd(a), F_GETFD) & FD_CLOEXEC);
	sealshm_close(a);
	EXPECT_EQ(0, attach_lines(&self->d, "fp_basic", 0));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct sealshm *s = NULL;
		int rc = 0;

		if (sealshm_attach("fp_basic", &untracked, &s) < 0)
			_exit(10);
		if (((unsigned char *)sealshm_buf(s))[0] != 0x5a)
			rc = 11;
		sealshm_close(s);
		_exit(rc);
	}
	status = helper_reap(pid, 10000);
	EXPECT_EQ(0, helper_exit_code(status));
	EXPECT_EQ(0, attach_lines(&self->d, "fp_basic", pid));
	/* The child needed no connection: trackerd never heard of it. */
	snprintf(who, sizeof(who), "from pid %d ", (int)pid);
	EXPECT_EQ(0, trackerd_log_count(&self->d, who, NULL));

	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
	/* Gone from the index too: the round trip answers. */
	EXPECT_EQ(-ENOENT, sealshm_attach("fp_basic", &untracked, &a));
}

/* A read-only fast attach gets an O_RDONLY fd of its own: neither the fd
 * nor the mapping can be made writable. */
TEST_F(fastpath, rdonly_attach_gives_rdonly_fd)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY | SEALSHM_NO_TRACK);
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *c = NULL, *a = NULL;
	void *p;

	ASSERT_EQ(0, sealshm_create("fp_ro", 4096, &untracked, &c));
	strcpy(sealshm_buf(c), "read me");
	ASSERT_EQ(0, sealshm_attach("fp_ro", &ro, &a));
	EXPECT_STREQ("read me", (char *)sealshm_buf(a));
	EXPECT_EQ(O_RDONLY, fcntl(sealshm_fd(a), F_GETFL) & O_ACCMODE);
	EXPECT_NE(0, fcntl(sealshm_fd(a), F_GETFD) & FD_CLOEXEC);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sealshm_fd(a), 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(sealshm_buf(a), 4096, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	sealshm_close(a);
	EXPECT_EQ(0, attach_lines(&self->d, "fp_ro", 0));
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

/* --- a racing create/unlink/recreate loop --------------------------------- */
#define RACE_NAMES	4
#define RACE_CREATORS	2	/* each its own names; more churn, more preemption */
#define RACE_MS		1500

/* Generation @g of name @k: its size, and the tag at both ends.  One size
 * for all: a wrong segment must be caught by what the fast path checks
 * beyond the size (inode, generation), not by the size. */
static size_t race_size(unsigned int k, uint64_t g)
{
	(void)k;
	(void)g;
	return 4096;
}

static uint64_t race_tag(unsigned int k, uint64_t g)
{
	return (g << 8) | k;
}

/* Creator *@arg: create, tag (before unlink, so every segment that was
 * ever attachable is tagged), unlink, close its names, for RACE_MS: the
 * names keep moving between slots, generations and trackerd's fd numbers. */
static int race_creator(const void *arg)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *s[RACE_NAMES] = {};
	uint64_t end = helper_now_ms() + RACE_MS;
	unsigned int c = *(const unsigned int *)arg;
	uint64_t g = 1;

	for (; helper_now_ms() < end; g++) {
		unsigned int k = (g % (RACE_NAMES / RACE_CREATORS)) * RACE_CREATORS + c;
		char name[16];
		uint64_t tag = race_tag(k, g);
		size_t size = race_size(k, g);

		snprintf(name, sizeof(name), "race%u", k);
		if (s[k]) {
			if (sealshm_unlink(s[k]) < 0)
				return 10;
			sealshm_close(s[k]);
			s[k] = NULL;
		}
		if (sealshm_create(name, size, &untracked, &s[k]) < 0)
			return 11;
		memcpy((char *)sealshm_buf(s[k]) + size - 8, &tag, 8);
		__atomic_store_n((uint64_t *)sealshm_buf(s[k]), tag, __ATOMIC_RELEASE);
	}
	for (unsigned int k = 0; k < RACE_NAMES; k++) {
		if (s[k] && sealshm_unlink(s[k]) < 0)
			return 12;
		sealshm_close(s[k]);
	}
	return 0;
}

/* Another process creates, unlinks and recreates names while we attach
 * them: an attach returns the name's current segment or -ENOENT, never
 * another name's or an older generation than one seen before. */
TEST_F_TIMEOUT(fastpath, racing_recreate_never_gives_wrong_segment, 60)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	uint64_t last[RACE_NAMES] = {}, end;
	int attached = 0, absent = 0, requests;
	pid_t pid[RACE_CREATORS];

	for (unsigned int c = 0; c < RACE_CREATORS; c++) {
		pid[c] = fork();
		ASSERT_GE(pid[c], 0);
		if (pid[c] == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(race_creator(&c));
		}
	}

	end = helper_now_ms() + RACE_MS;
	for (unsigned int i = 0; helper_now_ms() < end; i++) {
		unsigned int k = i % RACE_NAMES;
		struct sealshm *a = NULL;
		uint64_t tag = 0, tail, g, wait_end;
		char name[16];
		int r;

		snprintf(name, sizeof(name), "race%u", k);
		r = sealshm_attach(name, &untracked, &a);
		if (r == -ENOENT) {
			absent++;
			continue;
		}
		ASSERT_EQ(0, r);
		attached++;
		/* Tagged right after create: wait for it. */
		wait_end = helper_now_ms() + 2000;
		while (!(tag = __atomic_load_n((uint64_t *)sealshm_buf(a), __ATOMIC_ACQUIRE)) &&
		       helper_now_ms() < wait_end)
			;
		ASSERT_NE(0, tag);
		g = tag >> 8;
		memcpy(&tail, (char *)sealshm_buf(a) + sealshm_size(a) - 8, 8);
		EXPECT_EQ(k, tag & 0xff);
		EXPECT_EQ(race_size(k, g), sealshm_size(a));
		EXPECT_EQ(tag, tail);
		EXPECT_LE(last[k], g);
		last[k] = g;
		sealshm_close(a);
		if (!_metadata->passed)
			break;
	}
	for (unsigned int c = 0; c < RACE_CREATORS; c++)
		EXPECT_EQ(0, helper_exit_code(helper_reap(pid[c], 10000)));
	requests = trackerd_log_count(&self->d, "attached 'race", NULL);
	TH_LOG("%d attached (%d by round trip), %d absent", attached, requests, absent);
	EXPECT_GT(attached, 0);
	/* Most went through the index. */
	EXPECT_LT(requests, attached);
}

/* A tracked fast attach is tracked (by its one-way TRACK): the first of
 * two tracking processes to exit takes the name, even if it is the
 * attacher. */
TEST_F(fastpath, tracked_fast_attach_follows_first_exit_rule)
{
	struct sealshm_info info;
	char line[64], who[32];
	pid_t attacher;

	ASSERT_EQ(0, peer_start(&self->peer[0], ARGS("create", "fp_tracked", "4096"), -1, NULL));
	ASSERT_LT(0, peer_line(&self->peer[0], line, sizeof(line), 5000));
	ASSERT_EQ(0, peer_start(&self->peer[1], ARGS("attach-hold", "fp_tracked"), -1, NULL));
	ASSERT_LT(0, peer_line(&self->peer[1], line, sizeof(line), 5000));
	attacher = self->peer[1].pid;

	EXPECT_EQ(0, helper_wait_sessions("fp_tracked", 2, GONE_MS, &info));
	EXPECT_EQ(0, attach_lines(&self->d, "fp_tracked", attacher));
	snprintf(who, sizeof(who), "of pid %d (fast attach)", (int)attacher);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "'fp_tracked' tracked by session ",
					  who, NULL));

	/* The attacher exits first: CPython's rule takes the name. */
	EXPECT_EQ(0, peer_finish(&self->peer[1], 5000));
	EXPECT_EQ(0, helper_wait_gone("fp_tracked", GONE_MS));
	snprintf(who, sizeof(who), "of pid %d ended", (int)attacher);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "leaked segment 'fp_tracked'", who,
					  NULL));
	EXPECT_EQ(0, peer_finish(&self->peer[0], 5000));
}

/* One line from @fd (a pause point's report), within @timeout_ms; its
 * length without the newline, or -errno. */
static int read_line(int fd, char *buf, size_t len, unsigned int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r;

		if (poll(&p, 1, (int)timeout_ms) <= 0)
			return -ETIMEDOUT;
		r = read(fd, buf + n, 1);
		if (r <= 0)
			return r == 0 ? -EPIPE : -errno;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return (int)n;
}

/* The window between a fast attach's look at the index and its one-way
 * TRACK, opened on purpose with the test-only pause point: a forked child
 * stops there, the only family tracking a LIFETIME_LAST name ends, and
 * trackerd removes the name.  The attach must then not report success for
 * a name that is gone (the round trip would say -ENOENT): it checks the
 * index again after the TRACK left and asks the round trip. */
TEST_F_TIMEOUT(fastpath, tracked_fast_attach_racing_last_tracker_end, 60)
{
	char line[128], env[64], c = 'g';
	struct sealshm *a = NULL;
	int sv[2], status;
	pid_t pid;

	ASSERT_EQ(0, peer_start(&self->peer[0], ARGS("--lifetime-last", "create", "fp_last", "4096"),
				-1, NULL));
	ASSERT_LT(0, peer_line(&self->peer[0], line, sizeof(line), 5000));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int r;

		close(sv[0]);
		snprintf(env, sizeof(env), "before-track:%d", sv[1]);
		if (setenv("SEALSHM_TEST_PAUSE", env, 1) < 0)
			_exit(10);
		r = sealshm_attach("fp_last", NULL, &a);
		/* 0: the name is gone and the attach says so; 1: it claims a
		 * tracked name that trackerd has removed. */
		_exit(r == -ENOENT ? 0 : r == 0 ? 1 : 20 + (-r & 0x3f));
	}
	close(sv[1]);
	/* The child is at the pause point: it has checked the index. */
	ASSERT_LT(0, read_line(sv[0], line, sizeof(line), 5000)) {
		kill(pid, SIGKILL);
	}
	EXPECT_STREQ("before-track", line);
	/* The last (only) tracking family ends; trackerd removes the name. */
	peer_destroy(&self->peer[0]);
	EXPECT_EQ(0, helper_wait_gone("fp_last", GONE_MS));
	ASSERT_EQ(1, write(sv[0], &c, 1));
	status = helper_reap(pid, 10000);
	EXPECT_EQ(0, helper_exit_code(status)) {
		TH_LOG("the attach returned %s", helper_exit_code(status) == 1 ?
		       "0 for a name that is gone" : "another error");
	}
	close(sv[0]);
}

/* A burst of tracked fast attaches of distinct names is tracked whole,
 * and nearly without round trips: trackerd reads sessions lazily, the
 * session's socket takes a few hundred TRACKs (its send buffer), and the
 * round trip an attach falls back to when it is full reads them. */
#define BURST 600
TEST_F_TIMEOUT(fastpath, burst_of_tracked_fast_attaches_is_tracked, 60)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm **created = calloc(BURST, sizeof(*created));
	struct sealshm **attached = calloc(BURST, sizeof(*attached));
	int round_trips;
	char name[32];

	ASSERT_TRUE(created && attached);
	for (int i = 0; i < BURST; i++) {
		snprintf(name, sizeof(name), "fp_burst_%d", i);
		ASSERT_EQ(0, sealshm_create(name, 4096, &untracked, &created[i]));
	}
	for (int i = 0; i < BURST; i++) {
		snprintf(name, sizeof(name), "fp_burst_%d", i);
		ASSERT_EQ(0, sealshm_attach(name, NULL, &attached[i]));
	}
	snprintf(name, sizeof(name), " by pid %d ", (int)getpid());
	round_trips = trackerd_log_count(&self->d, "attached 'fp_burst_", name, NULL);
	for (int i = 0; i < BURST; i++) {
		struct sealshm_info info;

		snprintf(name, sizeof(name), "fp_burst_%d", i);
		ASSERT_EQ(0, sealshm_stat(name, NULL, &info));
		EXPECT_EQ(1, info.n_sessions) {
			TH_LOG("'%s' not tracked by our session", name);
		}
	}
	/* One fallback each time the socket fills (some 280 TRACKs here);
	 * without the read at the fallback, every later attach would be one. */
	EXPECT_LE(round_trips, 10) {
		TH_LOG("%d of %d tracked attaches took the round trip", round_trips, BURST);
	}
	for (int i = 0; i < BURST; i++) {
		EXPECT_EQ(0, sealshm_unlink(created[i]));
		sealshm_close(created[i]);
		sealshm_close(attached[i]);
	}
	free(created);
	free(attached);
}

/* --- another uid ------------------------------------------------------------ */
struct probe {
	const char *name;
	bool rdonly;
};

static const struct probe other_uid_probes[] = {
	{ "fp_0600", false }, { "fp_0600", true },
	{ "fp_0644", false }, { "fp_0644", true },
	{ "fp_0666", false }, { "fp_missing", true },
};

static int attach_result(const struct probe *p)
{
	SEALSHM_OPTS(sealshm_opts, opts,
		     .flags = SEALSHM_NO_TRACK | (p->rdonly ? SEALSHM_RDONLY : 0));
	struct sealshm *s = NULL;
	int r = sealshm_attach(p->name, &opts, &s);

	sealshm_close(s);
	return r;
}

/* As nobody, with the index and pidfd inherited from root: each attach
 * answers as the round trip does.  Exit code: 0, or 10 + the first probe
 * whose answers differ, or 50 + one that gave the wrong answer. */
static int other_uid_attacher(const void *arg)
{
	static const int want[] = { -EACCES, -EACCES, -EACCES, 0, 0, -ENOENT };

	(void)arg;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 100;
	for (size_t i = 0; i < ELEMENTSOF(other_uid_probes); i++) {
		int fast, slow;

		fast = attach_result(&other_uid_probes[i]);
		if (setenv("SEALSHM_NO_FASTPATH", "1", 1) < 0)
			return 101;
		slow = attach_result(&other_uid_probes[i]);
		(void)unsetenv("SEALSHM_NO_FASTPATH");
		if (fast != slow)
			return 10 + (int)i;
		if (fast != want[i])
			return 50 + (int)i;
	}
	return 0;
}

/* Another uid cannot take trackerd's fds (pidfd_getfd: EPERM): it falls
 * back to the round trip, silently, and gets the same answers. */
TEST_F(fastpath, other_uid_falls_back_with_same_answers)
{
	static const unsigned int modes[] = { 0600, 0644, 0666 };
	struct sealshm *c[3] = {};
	char name[16];

	if (geteuid() != 0)
		SKIP(return, "switching uid needs root");
	/* Let the other uid reach the socket. */
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, chmod(self->d.sock, 0666));
	for (int i = 0; i < 3; i++) {
		SEALSHM_OPTS(sealshm_opts, opts, .flags = SEALSHM_NO_TRACK, .mode = modes[i]);

		snprintf(name, sizeof(name), "fp_%04o", modes[i]);
		ASSERT_EQ(0, sealshm_create(name, 4096, &opts, &c[i]));
	}
	EXPECT_EQ(0, run_child(other_uid_attacher, NULL, 20000));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "attached 'fp_0644' read-only",
					  "(uid 65534)", NULL));
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(0, sealshm_unlink(c[i]));
		sealshm_close(c[i]);
	}
}

/* As nobody, against nobody's own trackerd: a 0400 segment refuses its
 * owner a read-write attach (-EACCES, with the index as without it) and
 * gives a read-only one through the index.  Exit code 0, or where it
 * failed. */
static int own_uid_owner_rules(const void *arg)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY | SEALSHM_NO_TRACK);
	SEALSHM_OPTS(sealshm_opts, rw, .flags = SEALSHM_NO_TRACK);
	SEALSHM_OPTS(sealshm_opts, c0400, .flags = SEALSHM_NO_TRACK, .mode = 0400);
	struct sealshm *c = NULL, *a = NULL;
	struct sealshm_info *infos = NULL;
	struct trackerd d;
	int rc = 0;
	pid_t me;

	/* A trackerd nobody can execute (see the test below). */
	if (setenv("SEALSHM_TRACKERD", arg, 1) < 0)
		return 99;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 100;
	/* Our own trackerd, as nobody: the index is ours to have. */
	if (trackerd_start(&d, verbose) < 0)
		return 101;
	me = getpid();
	if (setenv("SEALSHM_SOCKET", d.sock, 1) < 0 || sealshm_registry_list(NULL, &infos) < 0)
		rc = 102;
	free(infos);
	if (!rc && sealshm_create("fp_0400", 4096, &c0400, &c) < 0)
		rc = 103;
	if (!rc && sealshm_attach("fp_0400", &rw, &a) != -EACCES)
		rc = 10;
	sealshm_close(a);
	a = NULL;
	if (!rc && (setenv("SEALSHM_NO_FASTPATH", "1", 1) < 0 ||
		    sealshm_attach("fp_0400", &rw, &a) != -EACCES))
		rc = 11;
	(void)unsetenv("SEALSHM_NO_FASTPATH");
	sealshm_close(a);
	a = NULL;
	if (!rc && sealshm_attach("fp_0400", &ro, &a) < 0)
		rc = 12;
	if (!rc && (O_RDONLY != (fcntl(sealshm_fd(a), F_GETFL) & O_ACCMODE)))
		rc = 13;
	sealshm_close(a);
	/* A refusal by the index is confirmed by the round trip (which has
	 * the last word: the index may lag), so trackerd refused both; the
	 * read-only attach went through the index alone. */
	if (!rc && trackerd_log_count(&d, "refused attach 'fp_0400'", NULL) != 2)
		rc = 14;
	if (!rc && attach_lines(&d, "fp_0400", me) != 0)
		rc = 15;
	if (c && sealshm_unlink(c) < 0 && !rc)
		rc = 16;
	sealshm_close(c);
	(void)trackerd_stop(&d);
	trackerd_cleanup(&d);
	return rc;
}

/* The mode rule is trackerd's, owner bits included: 0400 refuses its
 * owner a read-write attach with -EACCES, also through the index. */
TEST_F(fastpath, owner_write_refused_by_mode_0400)
{
	char dir[] = "/tmp/sealshm-bin.XXXXXX", bin[sizeof(dir) + 16];
	const char *src = getenv("SEALSHM_TRACKERD");
	int in, out;
	ssize_t n;

	if (geteuid() != 0)
		SKIP(return, "needs root to become another uid (root may do anything)");
	/* The build tree may sit where nobody cannot reach it (a checkout
	 * under /root): run a copy from a directory anyone may enter. */
	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, chmod(dir, 0755));
	snprintf(bin, sizeof(bin), "%s/trackerd", dir);
	in = open(src, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in);
	out = open(bin, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ASSERT_LE(0, out);
	do
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
	while (n > 0);
	EXPECT_EQ(0, n);
	close(in);
	close(out);

	EXPECT_EQ(0, run_child(own_uid_owner_rules, bin, 30000));
	EXPECT_EQ(0, unlink(bin));
	EXPECT_EQ(0, rmdir(dir));
}

/* SEALSHM_NO_FASTPATH=1 makes every attach a round trip, and it works. */
TEST_F(fastpath, no_fastpath_env_uses_round_trip)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *c = NULL, *a = NULL;

	ASSERT_EQ(0, sealshm_create("fp_env", 4096, &untracked, &c));
	strcpy(sealshm_buf(c), "env");
	ASSERT_EQ(0, setenv("SEALSHM_NO_FASTPATH", "1", 1));
	ASSERT_EQ(0, sealshm_attach("fp_env", &untracked, &a));
	EXPECT_STREQ("env", (char *)sealshm_buf(a));
	sealshm_close(a);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "attached 'fp_env' by pid", NULL));
	EXPECT_EQ(1, attach_lines(&self->d, "fp_env", 0));
	/* And back on. */
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_FASTPATH"));
	ASSERT_EQ(0, sealshm_attach("fp_env", &untracked, &a));
	sealshm_close(a);
	EXPECT_EQ(1, attach_lines(&self->d, "fp_env", 0));
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

/* Names longer than the index holds are not published: they attach by
 * round trip, as before. */
TEST_F(fastpath, long_name_attaches_by_round_trip)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *c = NULL, *a = NULL;
	char name[SEALSHM_INDEX_NAME_MAX + 40];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(0, sealshm_create(name, 4096, &untracked, &c));
	strcpy(sealshm_buf(c), "long");
	ASSERT_EQ(0, sealshm_attach(name, &untracked, &a));
	EXPECT_STREQ("long", (char *)sealshm_buf(a));
	sealshm_close(a);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "attached 'nnnnnnnnnn", NULL));
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

/* Every fd the fast path keeps is close-on-exec: an exec'd program
 * inherits none (the peer fails check-fds otherwise). */
TEST_F(fastpath, kept_fds_do_not_survive_exec)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *c = NULL, *a = NULL;

	ASSERT_EQ(0, sealshm_create("fp_exec", 4096, &untracked, &c));
	ASSERT_EQ(0, sealshm_attach("fp_exec", &untracked, &a));
	EXPECT_EQ(0, run_peer(ARGS("check-fds"), NULL, 0));
	sealshm_close(a);
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

TEST_HARNESS_MAIN

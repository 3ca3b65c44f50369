// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * arena_test: arenas and their blocks (sealshm_arena(3)) between real
 * processes through a real trackerd on a private socket: blocks shared
 * both ways with a forked child and with an exec'd program attaching by
 * reference, counted references and reuse in a new generation (old
 * references -ESTALE), when a segment's name goes (after the close and the
 * last release, not before; a large block's segment with its block), many
 * small blocks in one segment, kill -9 of a whole family leaving no name,
 * forked children (inherited blocks are not theirs to release, their own
 * attaches and arenas work), and corrupt references and segments (a clear
 * error, never a crash).  Every wait is bounded.
 *
 * The exec'd programs are this one: with $ARENA_TEST_WORKER set, a
 * constructor runs the worker it names and exits before the harness
 * starts.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#define WORKER_ENV	"ARENA_TEST_WORKER"
#define REF_ENV		"ARENA_TEST_REF"
#define FD_ENV		"ARENA_TEST_FD"
#define CHILD_MS	20000
#define GONE_MS		10000

/* --- references as text (for exec'd workers) ------------------------------- */

static void ref_format(const struct sealshm_ref *ref, char *buf, size_t len)
{
	snprintf(buf, len, "%s %" PRIu64 " %" PRIu64 " %" PRIu64, ref->name, ref->offset,
		 ref->size, ref->generation);
}

static int ref_parse(const char *s, struct sealshm_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	return sscanf(s, "%255s %" SCNu64 " %" SCNu64 " %" SCNu64, ref->name, &ref->offset,
		      &ref->size, &ref->generation) == 4 ? 0 : -EINVAL;
}

/* --- exec'd workers ---------------------------------------------------------- */

/* Attach the block $ARENA_TEST_REF names, find "parent" in it, write
 * "child" at +16, check a second attach is the same place, release both. */
static int worker_attach(void)
{
	struct sealshm_ref ref, back;
	char *p = NULL, *q = NULL;
	const char *s = getenv(REF_ENV);

	CHILD_CHECK(10, s && ref_parse(s, &ref) == 0);
	CHILD_CHECK(11, sealshm_block_attach(&ref, NULL, (void **)&p) == 0);
	CHILD_CHECK(12, ((uintptr_t)p & 15) == 0);
	CHILD_CHECK(13, memcmp(p, "parent", 7) == 0);
	CHILD_CHECK(14, sealshm_block_ref(p, &back) == 0);
	CHILD_CHECK(15, memcmp(&back, &ref, sizeof(ref)) == 0);
	CHILD_CHECK(16, sealshm_block_attach(&ref, NULL, (void **)&q) == 0 && q == p);
	memcpy(p + 16, "child", 6);
	CHILD_CHECK(17, sealshm_block_release(q) == 0);
	CHILD_CHECK(18, sealshm_block_release(p) == 0);
	/* Nothing held through the segment any more: unmapped, not a block. */
	CHILD_CHECK(19, sealshm_block_release(p) == -EINVAL);
	return 0;
}

static int write_line(int fd, const char *s)
{
	size_t len = strlen(s);

	return write(fd, s, len) == (ssize_t)len && write(fd, "\n", 1) == 1 ? 0 : -EIO;
}

/* A family with a tracked arena: a small block, a large one, and a forked
 * child allocating from the same arena (a segment of its own); every
 * segment name goes to $ARENA_TEST_FD, then "ready", then both wait to be
 * killed. */
static int worker_family(void)
{
	struct sealshm_arena *a = NULL;
	const char *fds = getenv(FD_ENV);
	struct sealshm_ref ref;
	void *b, *big;
	pid_t pid;
	int fd;

	CHILD_CHECK(20, fds && (fd = atoi(fds)) > 2);
	CHILD_CHECK(21, sealshm_arena_open(NULL, &a) == 0);
	CHILD_CHECK(22, sealshm_block_alloc(a, 100, &b) == 0);
	CHILD_CHECK(23, sealshm_block_ref(b, &ref) == 0 && write_line(fd, ref.name) == 0);
	CHILD_CHECK(24, sealshm_block_alloc(a, 1 << 20, &big) == 0);
	CHILD_CHECK(25, sealshm_block_ref(big, &ref) == 0 && write_line(fd, ref.name) == 0);
	pid = fork();
	CHILD_CHECK(26, pid >= 0);
	if (pid == 0) {
		void *c;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sealshm_block_alloc(a, 100, &c) < 0 || sealshm_block_ref(c, &ref) < 0 ||
		    write_line(fd, ref.name) < 0 || write_line(fd, "ready") < 0)
			_exit(27);
		for (;;)
			pause();
	}
	for (;;)
		pause();
}

__attribute__((constructor)) static void worker_main(void)
{
	const char *w = getenv(WORKER_ENV);

	if (!w)
		return;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (strcmp(w, "attach") == 0)
		_exit(worker_attach());
	if (strcmp(w, "family") == 0)
		_exit(worker_family());
	_exit(99);
}

/* Fork and exec this program as worker @w with $ARENA_TEST_REF @ref (or
 * none) and $ARENA_TEST_FD @fd (or none), in a tracking session of its
 * own. */
static pid_t exec_worker(const char *w, const char *ref, int fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)unsetenv(SEALSHM_SESSION_ENV);
	if (setenv(WORKER_ENV, w, 1) < 0 || (ref && setenv(REF_ENV, ref, 1) < 0))
		_exit(97);
	if (fd >= 0) {
		char buf[16];

		snprintf(buf, sizeof(buf), "%d", fd);
		if (setenv(FD_ENV, buf, 1) < 0 || fcntl(fd, F_SETFD, 0) < 0)
			_exit(97);
	}
	execl("/proc/self/exe", "arena_test", (char *)NULL);
	_exit(98);
}

/* --- fixture ----------------------------------------------------------------- */

FIXTURE(arena) {
	struct trackerd d;
	struct sealshm_arena *a;
	pid_t kids[4];
	int fds_before;
};

FIXTURE_SETUP(arena)
{
	memset(self->kids, 0, sizeof(self->kids));
	self->a = NULL;
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
	ASSERT_EQ(0, sealshm_arena_open(NULL, &self->a));
}

FIXTURE_TEARDOWN(arena)
{
	for (size_t i = 0; i < ELEMENTSOF(self->kids); i++)
		helper_kill_reap(&self->kids[i]);
	sealshm_arena_close(self->a);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

static bool name_exists(const char *name)
{
	struct sealshm_info info;

	return sealshm_stat(name, NULL, &info) == 0;
}

static int count_names(void)
{
	struct sealshm_info *infos = NULL;
	int n = sealshm_registry_list(NULL, &infos);

	free(infos);
	return n;
}

/* --- tests ------------------------------------------------------------------- */

/* Blocks are zeroed, 16-aligned, and their references say where they are;
 * calls on what is not a block this process holds fail cleanly. */
TEST_F(arena, alloc_ref_release)
{
	struct sealshm_ref ref;
	unsigned char *b[5];
	int x;

	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(0, sealshm_block_alloc(self->a, 1 + 37 * i, (void **)&b[i]));
		EXPECT_EQ(0, (uintptr_t)b[i] & 15);
		for (int j = 0; j < 1 + 37 * i; j++)
			ASSERT_EQ(0, b[i][j]);
		memset(b[i], 0xa5, 1 + 37 * i);
		ASSERT_EQ(0, sealshm_block_ref(b[i], &ref));
		EXPECT_EQ((uint64_t)(1 + 37 * i), ref.size);
		EXPECT_EQ(0, ref.offset & 15);
		EXPECT_NE(0, ref.generation);
		EXPECT_EQ(0, sealshm_check_name(ref.name, NULL));
		EXPECT_TRUE(name_exists(ref.name));
	}
	EXPECT_EQ(-EINVAL, sealshm_block_ref(NULL, &ref));
	EXPECT_EQ(-EINVAL, sealshm_block_ref(b[0], NULL));
	EXPECT_EQ(-EINVAL, sealshm_block_ref(&x, &ref));
	EXPECT_EQ(-EINVAL, sealshm_block_ref(b[1] + 16, &ref));
	EXPECT_EQ(-EINVAL, sealshm_block_release(NULL));
	EXPECT_EQ(-EINVAL, sealshm_block_release(&x));
	EXPECT_EQ(-EINVAL, sealshm_block_release(b[1] + 1));
	EXPECT_EQ(-EINVAL, sealshm_block_alloc(self->a, 0, (void **)&b[0]));
	EXPECT_EQ(-EINVAL, sealshm_block_alloc(NULL, 16, (void **)&b[0]));
	EXPECT_EQ(-EINVAL, sealshm_block_alloc(self->a, 16, NULL));
	EXPECT_EQ(-EINVAL, sealshm_block_alloc(self->a, SIZE_MAX, (void **)&b[0]));
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(0, sealshm_block_release(b[i]));
	/* Released: a block of a segment mapped here, not ours any more. */
	EXPECT_EQ(-EPERM, sealshm_block_release(b[2]));
	EXPECT_EQ(-EINVAL, sealshm_block_ref(b[2], &ref));
}

/* Opts an arena or an attach cannot honour are refused. */
TEST_F(arena, bad_opts)
{
	SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX);
	SEALSHM_OPTS(sealshm_opts, rdonly, .flags = SEALSHM_RDONLY);
	SEALSHM_OPTS(sealshm_opts, mode, .mode = 01777);
	struct sealshm_arena *a = (void *)1;
	struct sealshm_ref ref;
	void *b, *p = NULL;

	EXPECT_EQ(-EINVAL, sealshm_arena_open(&posix, &a));
	EXPECT_EQ(-EINVAL, sealshm_arena_open(&rdonly, &a));
	EXPECT_EQ(-EINVAL, sealshm_arena_open(&mode, &a));
	EXPECT_EQ(-EINVAL, sealshm_arena_open(NULL, NULL));
	EXPECT_EQ((void *)1, a);
	EXPECT_EQ(0, sealshm_arena_close(NULL));

	ASSERT_EQ(0, sealshm_block_alloc(self->a, 64, &b));
	ASSERT_EQ(0, sealshm_block_ref(b, &ref));
	EXPECT_EQ(-EINVAL, sealshm_block_attach(&ref, &rdonly, &p));
	EXPECT_EQ(-EINVAL, sealshm_block_attach(&ref, &posix, &p));
	EXPECT_EQ(-EINVAL, sealshm_block_attach(NULL, NULL, &p));
	EXPECT_EQ(-EINVAL, sealshm_block_attach(&ref, NULL, NULL));
	EXPECT_EQ(NULL, p);
	EXPECT_EQ(0, sealshm_block_release(b));
}

/* An exec'd program attaches a block by its reference: what each side
 * writes, the other reads. */
TEST_F(arena, exec_attach_shares_both_ways)
{
	struct sealshm_ref ref;
	char text[400];
	char *b;
	int status;

	ASSERT_EQ(0, sealshm_block_alloc(self->a, 200, (void **)&b));
	memcpy(b, "parent", 7);
	ASSERT_EQ(0, sealshm_block_ref(b, &ref));
	ref_format(&ref, text, sizeof(text));
	self->kids[0] = exec_worker("attach", text, -1);
	ASSERT_GT(self->kids[0], 0);
	status = helper_reap(self->kids[0], CHILD_MS);
	self->kids[0] = 0;
	EXPECT_EQ(0, helper_exit_code(status));
	EXPECT_STREQ("child", b + 16);
	/* The attacher's tracking session ended with it: the name stays,
	 * as this process's session still tracks it. */
	EXPECT_TRUE(name_exists(ref.name));
	EXPECT_EQ(0, sealshm_block_release(b));
}

/* A forked child: the parent's blocks are there through the inherited
 * mapping but are not the child's to release; it attaches its own
 * reference (to the same place), and an arena it uses makes segments of
 * its own. */
static int forked_child(const void *arg)
{
	struct sealshm_arena *a = *(struct sealshm_arena *const *)arg;
	struct sealshm_ref ref, mine;
	char *inherited, *p = NULL, *c = NULL;

	CHILD_CHECK(1, (inherited = getenv("ARENA_TEST_PTR")) != NULL);
	CHILD_CHECK(2, sscanf(inherited, "%p", (void **)&inherited) == 1);
	CHILD_CHECK(3, ref_parse(getenv(REF_ENV), &ref) == 0);
	CHILD_CHECK(4, sealshm_block_release(inherited) == -EPERM);
	CHILD_CHECK(5, sealshm_block_ref(inherited, &mine) == -EINVAL);
	CHILD_CHECK(6, strcmp(inherited, "parent") == 0);
	CHILD_CHECK(7, sealshm_block_attach(&ref, NULL, (void **)&p) == 0);
	CHILD_CHECK(8, p == inherited);
	CHILD_CHECK(9, sealshm_block_ref(p, &mine) == 0 && memcmp(&mine, &ref, sizeof(ref)) == 0);
	CHILD_CHECK(10, sealshm_block_alloc(a, 48, (void **)&c) == 0);
	CHILD_CHECK(11, sealshm_block_ref(c, &mine) == 0 && strcmp(mine.name, ref.name) != 0);
	CHILD_CHECK(12, name_exists(mine.name));
	memcpy(p + 16, "child", 6);
	CHILD_CHECK(13, sealshm_block_release(p) == 0);
	CHILD_CHECK(14, sealshm_block_release(p) == -EPERM);
	CHILD_CHECK(15, sealshm_block_release(c) == 0);
	CHILD_CHECK(16, sealshm_arena_close(a) == 0);
	/* The child's arena is closed and its block free: its name went. */
	CHILD_CHECK(17, !name_exists(mine.name));
	return 0;
}

TEST_F(arena, forked_child)
{
	struct sealshm_ref ref;
	char text[400], ptr[32];
	char *b;

	ASSERT_EQ(0, sealshm_block_alloc(self->a, 64, (void **)&b));
	strcpy(b, "parent");
	ASSERT_EQ(0, sealshm_block_ref(b, &ref));
	ref_format(&ref, text, sizeof(text));
	snprintf(ptr, sizeof(ptr), "%p", (void *)b);
	ASSERT_EQ(0, setenv(REF_ENV, text, 1));
	ASSERT_EQ(0, setenv("ARENA_TEST_PTR", ptr, 1));
	EXPECT_EQ(0, run_child(forked_child, &self->a, CHILD_MS));
	EXPECT_STREQ("child", b + 16);
	/* The parent's reference is still there, and its block unchanged. */
	EXPECT_EQ(0, sealshm_block_ref(b, &ref));
	EXPECT_EQ(1, count_names());
	EXPECT_EQ(0, sealshm_block_release(b));
}

/* The last release, wherever it happens, frees the block: old references
 * are -ESTALE, and the allocator reuses the block in a new generation. */
/* Attach every block of @refs, tell the parent through @fd, wait for its
 * word, release them all: the last references to them. */
static int hold_until_told(const struct sealshm_ref *refs, int n, int wfd, int rfd)
{
	void *p[64];
	char c;

	for (int i = 0; i < n; i++)
		CHILD_CHECK(1, sealshm_block_attach(&refs[i], NULL, &p[i]) == 0);
	CHILD_CHECK(2, write(wfd, "h", 1) == 1);
	CHILD_CHECK(3, read(rfd, &c, 1) == 1);
	for (int i = 0; i < n; i++)
		CHILD_CHECK(4, sealshm_block_release(p[i]) == 0);
	return 0;
}

TEST_F(arena, reuse_after_last_release)
{
	struct sealshm_ref ref, again, refs[64];
	int up[2], down[2], n = 0, n_got = 0, status;
	void *b, *c, *p, *kept, *got[128];
	char ch;

	/* Released by this process last: reused at once. */
	ASSERT_EQ(0, sealshm_block_alloc(self->a, 100, &b));
	ASSERT_EQ(0, sealshm_block_ref(b, &ref));
	ASSERT_EQ(0, sealshm_block_release(b));
	EXPECT_EQ(-ESTALE, sealshm_block_attach(&ref, NULL, &p));
	ASSERT_EQ(0, sealshm_block_alloc(self->a, 100, &c));
	EXPECT_EQ(b, c);
	ASSERT_EQ(0, sealshm_block_ref(c, &again));
	EXPECT_STREQ(ref.name, again.name);
	EXPECT_EQ(ref.offset, again.offset);
	EXPECT_NE(ref.generation, again.generation);
	EXPECT_EQ(-ESTALE, sealshm_block_attach(&ref, NULL, &p));
	/* Still held (by us): attached again, it is the same place. */
	ASSERT_EQ(0, sealshm_block_attach(&again, NULL, &p));
	EXPECT_EQ(c, p);
	EXPECT_EQ(0, sealshm_block_release(p));
	EXPECT_EQ(0, sealshm_block_release(c));

	/* Blocks released last by another process: they come back once the
	 * free lists and the segment cannot serve, before a new segment. */
	ASSERT_EQ(0, pipe2(up, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(down, O_CLOEXEC));
	for (;; n++) {
		ASSERT_LT(n, 64);
		ASSERT_EQ(0, sealshm_block_alloc(self->a, 60000, &b));
		ASSERT_EQ(0, sealshm_block_ref(b, &refs[n]));
		if (strcmp(refs[n].name, refs[0].name) != 0)
			break;	/* the first segment is full */
	}
	/* refs[n] is in a second segment: keep it, give the rest away. */
	kept = b;
	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0)
		_exit(hold_until_told(refs, n, up[1], down[0]));
	ASSERT_EQ(1, read(up[0], &ch, 1));
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, sealshm_block_attach(&refs[i], NULL, &p));
		EXPECT_EQ(0, sealshm_block_release(p));
		EXPECT_EQ(0, sealshm_block_release(p));	/* the alloc's */
	}
	ASSERT_EQ(1, write(down[1], "r", 1));
	status = helper_reap(self->kids[0], CHILD_MS);
	self->kids[0] = 0;
	ASSERT_EQ(0, helper_exit_code(status));
	for (int i = 0; i < n; i++)
		EXPECT_EQ(-ESTALE, sealshm_block_attach(&refs[i], NULL, &p));
	EXPECT_EQ(2, count_names());
	/* Fill the second segment, then the first comes back. */
	for (int i = 0; i < 2 * n; i++) {
		ASSERT_EQ(0, sealshm_block_alloc(self->a, 60000, &c));
		got[n_got++] = c;
		ASSERT_EQ(0, sealshm_block_ref(c, &again));
		if (strcmp(again.name, refs[0].name) == 0)
			break;
		ASSERT_STREQ(refs[n].name, again.name);
	}
	EXPECT_STREQ(refs[0].name, again.name);
	EXPECT_EQ(2, count_names());
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	/* Closed with blocks held: the names stay while they are. */
	sealshm_arena_close(self->a);
	self->a = NULL;
	EXPECT_EQ(2, count_names());
	EXPECT_EQ(0, sealshm_block_release(kept));
	for (int i = 0; i < n_got; i++)
		EXPECT_EQ(0, sealshm_block_release(got[i]));
	EXPECT_EQ(0, count_names());
}

/* A segment's name goes once its arena is closed and none of its blocks
 * is held, whoever releases last; not before. */
static int release_when_told(const void *arg)
{
	const int *fds = arg;
	struct sealshm_ref ref;
	char text[400];
	void *p;
	char c;

	CHILD_CHECK(1, read(fds[0], text, sizeof(text)) > 0);
	CHILD_CHECK(2, ref_parse(text, &ref) == 0);
	CHILD_CHECK(3, sealshm_block_attach(&ref, NULL, &p) == 0);
	CHILD_CHECK(4, write(fds[3], "a", 1) == 1);
	CHILD_CHECK(5, read(fds[2], &c, 1) == 1);
	CHILD_CHECK(6, sealshm_block_release(p) == 0);
	/* The last reference was ours, after the close: the name is gone. */
	CHILD_CHECK(7, !name_exists(ref.name));
	return 0;
}

TEST_F(arena, name_goes_after_close_and_last_release)
{
	struct sealshm_ref ref, small, big;
	struct sealshm_arena *a;
	int to_child[2], from_child[2], status;
	char text[400], c;
	void *b, *l, *r;

	/* Closed with nothing held: every name goes at once. */
	ASSERT_EQ(0, sealshm_arena_open(NULL, &a));
	ASSERT_EQ(0, sealshm_block_alloc(a, 10, &b));
	ASSERT_EQ(0, sealshm_block_ref(b, &ref));
	ASSERT_EQ(0, sealshm_block_release(b));
	EXPECT_TRUE(name_exists(ref.name));
	EXPECT_EQ(0, sealshm_arena_close(a));
	EXPECT_FALSE(name_exists(ref.name));

	/* Closed while this process holds blocks: they stay usable, the
	 * names go with the last release. */
	ASSERT_EQ(0, sealshm_arena_open(NULL, &a));
	ASSERT_EQ(0, sealshm_block_alloc(a, 10, &b));
	ASSERT_EQ(0, sealshm_block_alloc(a, 10, &r));
	ASSERT_EQ(0, sealshm_block_alloc(a, 500000, &l));
	ASSERT_EQ(0, sealshm_block_ref(b, &small));
	ASSERT_EQ(0, sealshm_block_ref(l, &big));
	EXPECT_STRNE(small.name, big.name);
	EXPECT_EQ(0, sealshm_arena_close(a));
	memset(b, 1, 10);
	memset(l, 1, 500000);
	EXPECT_TRUE(name_exists(small.name));
	EXPECT_TRUE(name_exists(big.name));
	EXPECT_EQ(0, sealshm_block_release(l));
	EXPECT_FALSE(name_exists(big.name));
	EXPECT_EQ(0, sealshm_block_release(b));
	EXPECT_TRUE(name_exists(small.name));
	EXPECT_EQ(0, sealshm_block_release(r));
	EXPECT_FALSE(name_exists(small.name));

	/* Another process releases last, after the close. */
	ASSERT_EQ(0, pipe2(to_child, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(from_child, O_CLOEXEC));
	ASSERT_EQ(0, sealshm_arena_open(NULL, &a));
	ASSERT_EQ(0, sealshm_block_alloc(a, 10, &b));
	ASSERT_EQ(0, sealshm_block_ref(b, &ref));
	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		/* Its reference and its word to go come on the same pipe. */
		int fds[4] = { to_child[0], to_child[1], to_child[0], from_child[1] };

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(release_when_told(fds));
	}
	ref_format(&ref, text, sizeof(text));
	ASSERT_EQ((ssize_t)strlen(text) + 1, write(to_child[1], text, strlen(text) + 1));
	ASSERT_EQ(1, read(from_child[0], &c, 1));
	EXPECT_EQ(0, sealshm_arena_close(a));
	EXPECT_EQ(0, sealshm_block_release(b));
	EXPECT_TRUE(name_exists(ref.name));
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	status = helper_reap(self->kids[0], CHILD_MS);
	self->kids[0] = 0;
	EXPECT_EQ(0, helper_exit_code(status));
	EXPECT_FALSE(name_exists(ref.name));
	for (int i = 0; i < 2; i++) {
		close(to_child[i]);
		close(from_child[i]);
	}
}

/* A thousand small blocks share a segment or two; a large block has a
 * segment of its own, whose name goes with its block. */
TEST_F(arena, many_small_few_segments)
{
	static void *b[1000];
	struct sealshm_ref ref, first;
	void *l;

	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(0, sealshm_block_alloc(self->a, 24 + i % 40, &b[i]));
		memset(b[i], i & 0xff, 24 + i % 40);
	}
	ASSERT_EQ(0, sealshm_block_ref(b[0], &first));
	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(0, sealshm_block_ref(b[i], &ref));
		EXPECT_STREQ(first.name, ref.name);
		EXPECT_EQ(i & 0xff, ((unsigned char *)b[i])[23 + i % 40]);
	}
	EXPECT_EQ(1, count_names());
	ASSERT_EQ(0, sealshm_block_alloc(self->a, 300000, &l));
	ASSERT_EQ(0, sealshm_block_ref(l, &ref));
	EXPECT_STRNE(first.name, ref.name);
	EXPECT_EQ(2, count_names());
	EXPECT_EQ(0, sealshm_block_release(l));
	EXPECT_FALSE(name_exists(ref.name));
	EXPECT_EQ(1, count_names());
	for (int i = 0; i < 1000; i++)
		EXPECT_EQ(0, sealshm_block_release(b[i]));
	/* All free: reused, no new segment. */
	for (int i = 0; i < 1000; i++)
		ASSERT_EQ(0, sealshm_block_alloc(self->a, 24 + i % 40, &b[i]));
	EXPECT_EQ(1, count_names());
	for (int i = 0; i < 1000; i++)
		EXPECT_EQ(0, sealshm_block_release(b[i]));
}

/* A large block released last by another process: its name goes then,
 * though the arena is open, and the arena forgets its segment. */
TEST_F(arena, large_block_released_elsewhere)
{
	struct sealshm_ref ref;
	unsigned char *l;
	void *m;

	ASSERT_EQ(0, sealshm_block_alloc(self->a, 1000000, (void **)&l));
	l[999999] = 0x5a;
	ASSERT_EQ(0, sealshm_block_ref(l, &ref));
	/* The child attaches while this process holds it, then this
	 * process releases first: the child's release is the last. */
	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		void *p;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sealshm_block_attach(&ref, NULL, &p) < 0)
			_exit(10);
		raise(SIGSTOP);
		if (sealshm_block_release(p) < 0 || name_exists(ref.name))
			_exit(11);
		_exit(0);
	}
	{
		int status;

		ASSERT_EQ(self->kids[0], waitpid(self->kids[0], &status, WUNTRACED));
		ASSERT_TRUE(WIFSTOPPED(status));
	}
	EXPECT_EQ(0, sealshm_block_release(l));
	EXPECT_TRUE(name_exists(ref.name));
	ASSERT_EQ(0, kill(self->kids[0], SIGCONT));
	EXPECT_EQ(0, helper_exit_code(helper_reap(self->kids[0], CHILD_MS)));
	self->kids[0] = 0;
	EXPECT_FALSE(name_exists(ref.name));
	/* Another large block: a new segment; the old one is forgotten. */
	ASSERT_EQ(0, sealshm_block_alloc(self->a, 1000000, &m));
	EXPECT_EQ(1, count_names());
	EXPECT_EQ(0, sealshm_block_release(m));
	EXPECT_EQ(0, count_names());
	/* Attached again here: the name goes with the second release. */
	ASSERT_EQ(0, sealshm_block_alloc(self->a, 1000000, (void **)&l));
	l[999999] = 0x5a;
	ASSERT_EQ(0, sealshm_block_ref(l, &ref));
	ASSERT_EQ(0, sealshm_block_attach(&ref, NULL, &m));
	EXPECT_EQ((void *)l, m);
	EXPECT_EQ(0, sealshm_block_release(m));
	EXPECT_TRUE(name_exists(ref.name));
	EXPECT_EQ(0, sealshm_block_release(l));
	EXPECT_FALSE(name_exists(ref.name));
}

/* kill -9 of a whole family that made a tracked arena (its forked child
 * too) leaves none of its names. */
TEST_F(arena, family_killed_leaves_no_name)
{
	char buf[2048], *names[8], *save = NULL, *line;
	size_t len = 0;
	int p[2], n = 0;
	uint64_t end;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->kids[0] = exec_worker("family", NULL, p[1]);
	ASSERT_GT(self->kids[0], 0);
	close(p[1]);
	end = helper_now_ms() + CHILD_MS;
	while (!memmem(buf, len, "ready\n", 6)) {
		ssize_t r;

		ASSERT_LT(helper_now_ms(), end);
		ASSERT_LT(len, sizeof(buf) - 1);
		r = read(p[0], buf + len, sizeof(buf) - 1 - len);
		ASSERT_GT(r, 0);
		len += (size_t)r;
	}
	buf[len] = 0;
	close(p[0]);
	for (line = strtok_r(buf, "\n", &save); line && n < 8; line = strtok_r(NULL, "\n", &save))
		if (strcmp(line, "ready") != 0)
			names[n++] = line;
	ASSERT_EQ(3, n);
	EXPECT_STRNE(names[0], names[1]);
	EXPECT_STRNE(names[0], names[2]);
	for (int i = 0; i < n; i++)
		EXPECT_TRUE(name_exists(names[i]));
	helper_kill_reap(&self->kids[0]);	/* its child dies with it */
	for (int i = 0; i < n; i++) {
		const char *name = names[i];

		EXPECT_EQ(0, helper_wait_gone(name, GONE_MS)) {
			TH_LOG("'%s' still registered", name);
		}
	}
}

static unsigned char *corrupt_block;
static struct sealshm_ref corrupt_ref;

/* In a forked child (which holds none of its parent's references). */
static int attach_corrupt_header(const void *arg)
{
	unsigned char *hdr = corrupt_block - 32, saved[32];
	void *p = NULL;

	(void)arg;
	memcpy(saved, hdr, 32);
	hdr[0] ^= 0xff;				/* magic */
	CHILD_CHECK(1, sealshm_block_attach(&corrupt_ref, NULL, &p) == -EBADMSG);
	memcpy(hdr, saved, 32);
	memset(hdr + 8, 0xff, 8);		/* size: past the segment */
	CHILD_CHECK(2, sealshm_block_attach(&corrupt_ref, NULL, &p) == -EBADMSG);
	memcpy(hdr, saved, 32);
	hdr[8] ^= 0x10;				/* size: another */
	CHILD_CHECK(3, sealshm_block_attach(&corrupt_ref, NULL, &p) == -ESTALE);
	memcpy(hdr, saved, 32);
	memset(hdr + 16, 0, 8);			/* generation and count: free */
	CHILD_CHECK(4, sealshm_block_attach(&corrupt_ref, NULL, &p) == -ESTALE);
	memcpy(hdr, saved, 32);
	CHILD_CHECK(5, p == NULL);
	CHILD_CHECK(6, sealshm_block_attach(&corrupt_ref, NULL, &p) == 0 && p == corrupt_block);
	CHILD_CHECK(7, sealshm_block_release(p) == 0);
	return 0;
}

/* References that name no block, or a block of another generation or
 * size, and segments that are no arena's or hold garbage: a clear error,
 * never an access out of bounds (run under ASan) nor a crash. */
TEST_F(arena, corrupt_references)
{
	struct sealshm_ref ref, bad;
	struct sealshm *plain = NULL, *tiny = NULL;
	unsigned char *b;
	uint64_t seg_size;
	void *p = NULL;

	ASSERT_EQ(0, sealshm_block_alloc(self->a, 40, (void **)&b));
	ASSERT_EQ(0, sealshm_block_ref(b, &ref));
	{
		struct sealshm_info info;

		ASSERT_EQ(0, sealshm_stat(ref.name, NULL, &info));
		seg_size = info.size;
	}

	/* Where: out of range, misaligned, inside the headers. */
	const uint64_t offsets[] = { 0, 8, 16, 64, 80, ref.offset + 8, ref.offset + 16,
				     seg_size - 16, seg_size, seg_size + 16, UINT64_MAX - 15,
				     UINT64_MAX, 1ull << 63 };
	for (size_t i = 0; i < ELEMENTSOF(offsets); i++) {
		bad = ref;
		bad.offset = offsets[i];
		EXPECT_EQ(-EBADMSG, sealshm_block_attach(&bad, NULL, &p)) {
			TH_LOG("offset %" PRIu64, offsets[i]);
		}
	}
	/* Which: another generation or size. */
	bad = ref;
	bad.generation++;
	EXPECT_EQ(-ESTALE, sealshm_block_attach(&bad, NULL, &p));
	bad.generation = UINT64_MAX;
	EXPECT_EQ(-ESTALE, sealshm_block_attach(&bad, NULL, &p));
	bad = ref;
	bad.size++;
	EXPECT_EQ(-ESTALE, sealshm_block_attach(&bad, NULL, &p));
	/* Names: none, bad, unterminated. */
	bad = ref;
	strcpy(bad.name, "no_such_arena");
	EXPECT_EQ(-ENOENT, sealshm_block_attach(&bad, NULL, &p));
	bad.name[0] = 0;
	EXPECT_EQ(-EINVAL, sealshm_block_attach(&bad, NULL, &p));
	memset(bad.name, 'a', sizeof(bad.name));
	EXPECT_EQ(-EINVAL, sealshm_block_attach(&bad, NULL, &p));
	EXPECT_EQ(NULL, p);

	/* Garbage in the block's header, as another process could write it,
	 * seen by a process that does not hold the block. */
	corrupt_block = b;
	corrupt_ref = ref;
	EXPECT_EQ(0, run_child(attach_corrupt_header, NULL, CHILD_MS));

	/* A segment that is no arena's, and one too small for a header. */
	ASSERT_EQ(0, sealshm_create("arena_test_plain", 4096, NULL, &plain));
	ASSERT_EQ(0, sealshm_create("arena_test_tiny", 16, NULL, &tiny));
	bad = ref;
	strcpy(bad.name, "arena_test_plain");
	bad.offset = 96;
	EXPECT_EQ(-EBADMSG, sealshm_block_attach(&bad, NULL, &p));
	strcpy(bad.name, "arena_test_tiny");
	bad.offset = 0;
	EXPECT_EQ(-EBADMSG, sealshm_block_attach(&bad, NULL, &p));
	bad.offset = 96;
	EXPECT_EQ(-EBADMSG, sealshm_block_attach(&bad, NULL, &p));

	/* An arena segment's header and random bytes everywhere else,
	 * attached at every 16th offset with the generation and size the
	 * bytes there would need: whatever succeeds is released again. */
	{
		unsigned char *m = sealshm_buf(plain);
		uint32_t x = 2463534242u;
		int ok = 0;

		memcpy(m, b - ref.offset, 64);	/* this arena's segment header */
		for (size_t i = 64; i < 4096; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			m[i] = (unsigned char)x;
		}
		strcpy(bad.name, "arena_test_plain");
		for (uint64_t off = 0; off <= 4096 + 32; off += 16) {
			uint64_t word = 0, size = 0;
			int r;

			if (off >= 96 && off <= 4096) {
				memcpy(m + off - 32, b - 32, 4);	/* block magic */
				memcpy(&size, m + off - 24, 8);
				memcpy(&word, m + off - 16, 8);
				if (off % 64 == 0) {	/* some plausible sizes */
					size = 4096 - off;
					memcpy(m + off - 24, &size, 8);
				}
			}
			bad.offset = off;
			bad.size = size;
			bad.generation = word >> 24;
			r = sealshm_block_attach(&bad, NULL, &p);
			EXPECT_TRUE(r == 0 || r == -EBADMSG || r == -ESTALE) {
				TH_LOG("offset %" PRIu64 ": %d", off, r);
			}
			if (r == 0) {
				ok++;
				EXPECT_EQ(0, sealshm_block_release(p));
			}
		}
		TH_LOG("%d garbage blocks attached and released", ok);
	}
	EXPECT_EQ(0, sealshm_unlink(plain));
	EXPECT_EQ(0, sealshm_unlink(tiny));
	sealshm_close(plain);
	sealshm_close(tiny);

	/* The real block is still fine. */
	ASSERT_EQ(0, sealshm_block_attach(&ref, NULL, &p));
	EXPECT_EQ(b, p);
	EXPECT_EQ(0, sealshm_block_release(p));
	EXPECT_EQ(0, sealshm_block_release(b));
}

/* Threads allocating, attaching and releasing on one arena at once. */
struct thread_arg {
	struct sealshm_arena *a;
	int id;
	int failures;
};

static void *thread_work(void *arg)
{
	struct thread_arg *t = arg;
	void *b[16];

	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 16; i++) {
			struct sealshm_ref ref;
			void *p;

			if (sealshm_block_alloc(t->a, 16 + (size_t)(i * 40 + t->id), &b[i]) < 0) {
				t->failures++;
				b[i] = NULL;
				continue;
			}
			memset(b[i], t->id, 16);
			if (sealshm_block_ref(b[i], &ref) < 0 ||
			    sealshm_block_attach(&ref, NULL, &p) < 0 || p != b[i] ||
			    sealshm_block_release(p) < 0)
				t->failures++;
		}
		for (int i = 0; i < 16; i++) {
			if (b[i] && ((unsigned char *)b[i])[15] != t->id)
				t->failures++;
			if (b[i] && sealshm_block_release(b[i]) < 0)
				t->failures++;
		}
	}
	return NULL;
}

TEST_F(arena, threads)
{
	struct thread_arg args[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .a = self->a, .id = i + 1 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, thread_work, &args[i]));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, args[i].failures);
	}
	EXPECT_EQ(1, count_names());
}

TEST_HARNESS_MAIN

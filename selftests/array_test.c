// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * array_test: values and arrays (sealshm_array(3)) between real processes
 * through a real trackerd on a private socket: every typecode and a
 * caller's struct round-trip through _write()/_read() and the data
 * pointer, also in an exec'd process that attaches by name; the classic
 * documentation example; exact counts under each kind of lock; a holder
 * of an array's lock killed -9; bounds, typecode and size errors; corrupt
 * headers; read-only mappings; sealshm_object_info() and `sealshm stat`
 * on arrays.  Every wait in here is bounded.
 */
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "array.h"
#include "helpers.h"
#include "holder.h"

extern char **environ;

/* The environment that makes this program, exec'd, a child (exec_child()
 * below) instead of the test runner: the command, a name, an argument. */
#define CHILD_ENV	"SEALSHM_ARRAY_TEST_CHILD"
#define CHILD_NAME_ENV	"SEALSHM_ARRAY_TEST_NAME"
#define CHILD_ARG_ENV	"SEALSHM_ARRAY_TEST_ARG"

/* Every typecode, as sealshm_array(3) lists them. */
static const char typecodes[] = "cbB?hHiIlLqQfd";

/* How long a child waits for a lock before it gives up, and how long the
 * test waits for a child. */
#define CHILD_WAIT_S	20
#define REAP_MS		90000
#define PROCS		8
#define ROUNDS		10000
#define ITEMS		37

/* --- values every test knows ------------------------------------------------ */

/* Item @i of pattern @seed for @tc, stored at @p as its C type. */
static void pattern(uint32_t tc, uint64_t i, int seed, void *p)
{
	switch (tc) {
	case 'c': *(char *)p = (char)('A' + (i * 7 + (uint64_t)seed) % 26); break;
	case 'b': *(signed char *)p = (signed char)(-100 + (int)((i * 13 + (uint64_t)seed) % 200)); break;
	case 'B': *(unsigned char *)p = (unsigned char)(i * 31 + (uint64_t)seed * 101); break;
	case '?': *(_Bool *)p = (i + (uint64_t)seed) & 1; break;
	case 'h': *(short *)p = (short)(-30000 + (int)((i * 977 + (uint64_t)seed) % 60000)); break;
	case 'H': *(unsigned short *)p = (unsigned short)(65535 - i * 3 - (uint64_t)seed); break;
	case 'i': *(int *)p = INT_MIN + (int)(i * 12345 + (uint64_t)seed); break;
	case 'I': *(unsigned int *)p = UINT_MAX - (unsigned int)(i * 54321 + (uint64_t)seed); break;
	case 'l': *(long *)p = LONG_MIN + (long)(i * 1000003 + (uint64_t)seed); break;
	case 'L': *(unsigned long *)p = ULONG_MAX - (unsigned long)(i * 1000033 + (uint64_t)seed); break;
	case 'q': *(long long *)p = LLONG_MIN + (long long)(i * 0x100000001ULL + (uint64_t)seed); break;
	case 'Q': *(unsigned long long *)p = ULLONG_MAX - (i * 0x100000001ULL + (uint64_t)seed); break;
	case 'f': *(float *)p = (float)i * 0.5f - (float)seed * 1000.25f; break;
	case 'd': *(double *)p = (double)i * 1e-300 - (double)seed * 1e300; break;
	default: abort();
	}
}

static size_t size_of(uint32_t tc)
{
	switch (tc) {
	case 'c': return sizeof(char);
	case 'b': return sizeof(signed char);
	case 'B': return sizeof(unsigned char);
	case '?': return sizeof(_Bool);
	case 'h': return sizeof(short);
	case 'H': return sizeof(unsigned short);
	case 'i': return sizeof(int);
	case 'I': return sizeof(unsigned int);
	case 'l': return sizeof(long);
	case 'L': return sizeof(unsigned long);
	case 'q': return sizeof(long long);
	case 'Q': return sizeof(unsigned long long);
	case 'f': return sizeof(float);
	case 'd': return sizeof(double);
	}
	abort();
}

static size_t align_of(uint32_t tc)
{
	switch (tc) {
	case 'c': case 'b': case 'B': case '?': return 1;
	case 'h': case 'H': return _Alignof(short);
	case 'i': case 'I': return _Alignof(int);
	case 'f': return _Alignof(float);
	case 'l': case 'L': return _Alignof(long);
	case 'q': case 'Q': return _Alignof(long long);
	case 'd': return _Alignof(double);
	}
	abort();
}

/* @n items of pattern @seed into @buf, each stored as its type. */
static void fill(uint32_t tc, int seed, void *buf, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		pattern(tc, i, seed, (char *)buf + i * size_of(tc));
}

/* The caller's struct of the struct tests. */
struct point {
	double x;
	int32_t y;
	char tag[4];
};

/* One aligned to 16, as a struct with a long double or __int128 is. */
struct wide {
	_Alignas(16) uint64_t lo;
	uint64_t hi;
	uint32_t n;
};

/* --- the exec'd child ------------------------------------------------------- */

/* The exec'd child's work for "roundtrip": attach the array named in the
 * environment, of typecode ARG, find pattern 1 through _read() and the
 * data pointer, then write pattern 2: its first half with _write(), the
 * rest through the data pointer.  Returns the exit code. */
static int child_roundtrip(const char *name, uint32_t tc)
{
	struct sealshm_array *a = NULL;
	char want[ITEMS * 8], got[ITEMS * 8];
	size_t sz = size_of(tc), half = ITEMS / 2;
	char *data;

	CHILD_CHECK(10, sealshm_array_attach(name, NULL, &a) == 0);
	CHILD_CHECK(11, sealshm_array_length(a) == ITEMS);
	CHILD_CHECK(12, sealshm_array_typecode(a) == tc);
	CHILD_CHECK(13, sealshm_array_item_size(a) == sz);
	data = sealshm_array_data(a);
	CHILD_CHECK(14, ((uintptr_t)data % align_of(tc)) == 0 && ((uintptr_t)data % 8) == 0);
	fill(tc, 1, want, ITEMS);
	CHILD_CHECK(15, sealshm_array_read(a, 0, ITEMS, tc, got, ITEMS * sz) == 0);
	CHILD_CHECK(16, memcmp(want, got, ITEMS * sz) == 0);
	CHILD_CHECK(17, memcmp(want, data, ITEMS * sz) == 0);
	fill(tc, 2, want, ITEMS);
	CHILD_CHECK(18, sealshm_array_write(a, 0, half, tc, want, half * sz) == 0);
	for (uint64_t i = half; i < ITEMS; i++)
		pattern(tc, i, 2, data + i * sz);
	CHILD_CHECK(19, sealshm_array_close(a) == 0);
	return 0;
}

/* "classic": the documentation example's worker: add 10 to the Value('i')
 * named NAME and double each item of the Array('f') named ARG, each under
 * its own lock. */
static int child_classic(const char *vname, const char *aname)
{
	struct sealshm_array *v = NULL, *a = NULL;
	struct timespec t = { .tv_sec = CHILD_WAIT_S };
	float *f;
	int *n;

	CHILD_CHECK(20, sealshm_array_attach(vname, NULL, &v) == 0);
	CHILD_CHECK(21, sealshm_array_attach(aname, NULL, &a) == 0);
	CHILD_CHECK(22, sealshm_array_rlock(v) != NULL && sealshm_array_rlock(a) != NULL);
	n = sealshm_array_data(v);
	f = sealshm_array_data(a);
	CHILD_CHECK(23, sealshm_rlock_acquire(sealshm_array_rlock(v), &t, 0) == 0);
	*n += 10;
	CHILD_CHECK(24, sealshm_rlock_release(sealshm_array_rlock(v)) == 0);
	CHILD_CHECK(25, sealshm_rlock_acquire(sealshm_array_rlock(a), &t, 0) == 0);
	for (uint64_t i = 0; i < sealshm_array_length(a); i++)
		f[i] *= 2;
	CHILD_CHECK(26, sealshm_rlock_release(sealshm_array_rlock(a)) == 0);
	sealshm_array_close(a);
	sealshm_array_close(v);
	return 0;
}

/* "struct": the array of struct point named NAME holds ITEMS points with
 * x = i; the child reads them all and writes y = -i through _write(). */
static int child_struct(const char *name)
{
	struct sealshm_array *a = NULL;
	struct point p[ITEMS];

	CHILD_CHECK(30, sealshm_array_attach(name, NULL, &a) == 0);
	CHILD_CHECK(31, sealshm_array_typecode(a) == 0);
	CHILD_CHECK(32, sealshm_array_item_size(a) == sizeof(struct point));
	CHILD_CHECK(33, sealshm_array_read(a, 0, ITEMS, 0, p, sizeof(p)) == 0);
	for (int i = 0; i < ITEMS; i++) {
		CHILD_CHECK(34, p[i].x == i && memcmp(p[i].tag, "pt", 3) == 0);
		p[i].y = -i;
	}
	CHILD_CHECK(35, sealshm_array_write(a, 0, ITEMS, 0, p, sizeof(p)) == 0);
	sealshm_array_close(a);
	return 0;
}

/* "refcount": attach the Value('q') in the arena block that NAME (its
 * segment) and ARG ("offset:size:generation:rounds") name, and add 1
 * to it rounds times under its Lock. */
static int child_refcount(const char *name, const char *arg)
{
	struct timespec t = { .tv_sec = CHILD_WAIT_S };
	struct sealshm_ref ref = { .offset = 0 };
	struct sealshm_array *v = NULL;
	unsigned long long off, size, gen, rounds;
	long long *q;

	CHILD_CHECK(40, sscanf(arg, "%llu:%llu:%llu:%llu", &off, &size, &gen, &rounds) == 4);
	CHILD_CHECK(41, strlen(name) < sizeof(ref.name));
	strcpy(ref.name, name);
	ref.offset = off;
	ref.size = size;
	ref.generation = gen;
	CHILD_CHECK(42, sealshm_array_attach_ref(&ref, NULL, &v) == 0);
	CHILD_CHECK(43, sealshm_array_typecode(v) == 'q' && sealshm_array_lock(v));
	q = sealshm_array_data(v);
	for (unsigned long long k = 0; k < rounds; k++) {
		CHILD_CHECK(44, sealshm_lock_acquire(sealshm_array_lock(v), &t, 0) == 0);
		(*q)++;
		CHILD_CHECK(45, sealshm_lock_release(sealshm_array_lock(v)) == 0);
	}
	sealshm_array_close(v);
	return 0;
}

/*
 * Exec'd with CHILD_ENV set (before the harness's main() runs): do the
 * command and exit with its code; die with the test.
 */
__attribute__((constructor)) static void exec_child(void)
{
	const char *cmd = getenv(CHILD_ENV), *name = getenv(CHILD_NAME_ENV);
	const char *arg = getenv(CHILD_ARG_ENV);

	if (!cmd)
		return;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!name || !arg)
		_exit(2);
	if (strcmp(cmd, "roundtrip") == 0)
		_exit(child_roundtrip(name, (uint32_t)(unsigned char)arg[0]));
	if (strcmp(cmd, "classic") == 0)
		_exit(child_classic(name, arg));
	if (strcmp(cmd, "struct") == 0)
		_exit(child_struct(name));
	if (strcmp(cmd, "refcount") == 0)
		_exit(child_refcount(name, arg));
	_exit(2);
}

/* Exec this program as a child doing @cmd on @name and @arg; its pid or
 * -errno. */
static pid_t spawn_exec(const char *cmd, const char *name, const char *arg)
{
	char *argv[] = { (char *)"array_test", NULL };
	pid_t pid;
	int r;

	if (setenv(CHILD_ENV, cmd, 1) < 0 || setenv(CHILD_NAME_ENV, name, 1) < 0 ||
	    setenv(CHILD_ARG_ENV, arg, 1) < 0)
		return -errno;
	r = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
	unsetenv(CHILD_ENV);
	unsetenv(CHILD_NAME_ENV);
	unsetenv(CHILD_ARG_ENV);
	return r ? -r : pid;
}

/* --- the fixture ------------------------------------------------------------ */

FIXTURE(array) {
	struct trackerd d;
	char prefix[48];
	pid_t kids[PROCS];
	int fds_before;
};

FIXTURE_SETUP(array)
{
	const struct sealshm__holder *h;

	memset(self->kids, 0, sizeof(self->kids));
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
	/* This process's holder connection lives as long as it does: part
	 * of the baseline. */
	ASSERT_EQ(0, sealshm__holder_get(NULL, &h));
	self->fds_before = helper_count_fds(0);
	snprintf(self->prefix, sizeof(self->prefix), "array_test_%d", (int)getpid());
}

FIXTURE_TEARDOWN(array)
{
	for (int i = 0; i < PROCS; i++)
		helper_kill_reap(&self->kids[i]);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* A name of this test's: PREFIX_SUFFIX. */
#define NAME(buf, suffix) snprintf((buf), sizeof(buf), "%s_%s", self->prefix, (suffix))

/* Exit code of our child *@pid, waiting up to @ms (then killed: 128 + 9). */
static int reap_code(pid_t *pid, unsigned int ms)
{
	int rc = helper_exit_code(helper_reap(*pid, ms));

	*pid = 0;
	return rc;
}

/* Close @a and unlink its segment's name. */
static void drop(struct sealshm_array *a)
{
	if (a)
		(void)sealshm_unlink(sealshm_array_shm(a));
	sealshm_array_close(a);
}

/* --- every typecode ---------------------------------------------------------- */

/* Each typecode's items go in and out unchanged through _write()/_read()
 * and the data pointer, here and in an exec'd process attaching by name;
 * geometry and alignment are the C type's. */
TEST_F_TIMEOUT(array, every_typecode_round_trips, 120)
{
	for (const char *c = typecodes; *c; c++) {
		uint32_t tc = (uint32_t)(unsigned char)*c;
		size_t sz = size_of(tc);
		char init[ITEMS * 8], got[ITEMS * 8], name[80], arg[2] = { *c, 0 };
		SEALSHM_OPTS(sealshm_array_params, p, .typecode = tc, .length = ITEMS,
			     .init = init);
		struct sealshm_array *a = NULL;
		size_t need;
		char *data;

		snprintf(name, sizeof(name), "%s_tc%02x", self->prefix, tc);
		fill(tc, 1, init, ITEMS);
		ASSERT_EQ(0, sealshm_array_size(&p, &need));
		EXPECT_EQ(64 + ITEMS * sz, need);
		ASSERT_EQ(0, sealshm_array_create(name, &p, NULL, &a)) {
			TH_LOG("typecode '%c'", *c);
		}
		EXPECT_EQ(ITEMS, sealshm_array_length(a));
		EXPECT_EQ(tc, sealshm_array_typecode(a));
		EXPECT_EQ(sz, sealshm_array_item_size(a));
		EXPECT_EQ(0u, sealshm_array_flags(a));
		EXPECT_EQ(NULL, sealshm_array_lock(a));
		EXPECT_EQ(NULL, sealshm_array_rlock(a));
		data = sealshm_array_data(a);
		EXPECT_EQ(0u, (uintptr_t)data % align_of(tc));
		EXPECT_EQ((char *)sealshm_buf(sealshm_array_shm(a)) + 64, data);

		/* What init said, both ways. */
		EXPECT_EQ(0, memcmp(init, data, ITEMS * sz));
		memset(got, 0x5a, sizeof(got));
		EXPECT_EQ(0, sealshm_array_read(a, 0, ITEMS, tc, got, ITEMS * sz));
		EXPECT_EQ(0, memcmp(init, got, ITEMS * sz));
		/* A slice in the middle, and one item at the end. */
		EXPECT_EQ(0, sealshm_array_read(a, 5, 3, tc, got, 3 * sz));
		EXPECT_EQ(0, memcmp(init + 5 * sz, got, 3 * sz));
		EXPECT_EQ(0, sealshm_array_read(a, ITEMS - 1, 1, tc, got, sz));
		EXPECT_EQ(0, memcmp(init + (ITEMS - 1) * sz, got, sz));
		EXPECT_EQ(0, sealshm_array_read(a, ITEMS, 0, tc, got, 0));

		/* Pattern 3 in through _write(), seen through the pointer; then
		 * pattern 1 through the pointer, seen by _read(). */
		fill(tc, 3, init, ITEMS);
		EXPECT_EQ(0, sealshm_array_write(a, 0, ITEMS, tc, init, ITEMS * sz));
		EXPECT_EQ(0, memcmp(init, data, ITEMS * sz));
		for (uint64_t i = 0; i < ITEMS; i++)
			pattern(tc, i, 1, data + i * sz);
		fill(tc, 1, init, ITEMS);
		EXPECT_EQ(0, sealshm_array_read(a, 0, ITEMS, tc, got, ITEMS * sz));
		EXPECT_EQ(0, memcmp(init, got, ITEMS * sz));

		/* Another program attaches by name, checks pattern 1, writes 2. */
		ASSERT_LT(0, self->kids[0] = spawn_exec("roundtrip", name, arg));
		EXPECT_EQ(0, reap_code(&self->kids[0], REAP_MS)) {
			TH_LOG("typecode '%c'", *c);
		}
		fill(tc, 2, init, ITEMS);
		EXPECT_EQ(0, memcmp(init, data, ITEMS * sz)) {
			TH_LOG("typecode '%c'", *c);
		}
		drop(a);
	}
}

/* --- the documentation example ----------------------------------------------- */

/* multiprocessing's example with two workers: each adds 10 to Value('i',
 * 5) and doubles Array('f', [1, 2, 3, 4]) under get_lock() (an RLock, the
 * default): 25 and [4, 8, 12, 16].  One worker is forked and uses the
 * parent's handles, the other is exec'd and attaches by name. */
TEST_F_TIMEOUT(array, classic_example, 60)
{
	int five = 5;
	float f0[4] = { 1.0f, 2.0f, 3.0f, 4.0f }, f[4];
	SEALSHM_OPTS(sealshm_array_params, vp, .typecode = 'i', .length = 1, .init = &five,
		     .flags = SEALSHM_ARRAY_RLOCK | SEALSHM_ARRAY_VALUE);
	SEALSHM_OPTS(sealshm_array_params, ap, .typecode = 'f', .length = 4, .init = f0,
		     .flags = SEALSHM_ARRAY_RLOCK);
	struct sealshm_array *v = NULL, *a = NULL;
	char vname[80], aname[80];
	int n = 0;

	NAME(vname, "num");
	NAME(aname, "arr");
	ASSERT_EQ(0, sealshm_array_create(vname, &vp, NULL, &v));
	ASSERT_EQ(0, sealshm_array_create(aname, &ap, NULL, &a));
	EXPECT_EQ(SEALSHM_ARRAY_RLOCK | SEALSHM_ARRAY_VALUE, sealshm_array_flags(v));
	EXPECT_NE(NULL, sealshm_array_rlock(v));
	EXPECT_EQ(NULL, sealshm_array_lock(v));
	EXPECT_EQ((char *)sealshm_buf(sealshm_array_shm(v)) + 64, (char *)sealshm_array_rlock(v));
	EXPECT_EQ((char *)sealshm_buf(sealshm_array_shm(v)) + 96, (char *)sealshm_array_data(v));

	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct timespec t = { .tv_sec = CHILD_WAIT_S };
		float *fp = sealshm_array_data(a);
		int *np = sealshm_array_data(v);

		if (sealshm_rlock_acquire(sealshm_array_rlock(v), &t, 0) != 0)
			_exit(1);
		*np += 10;
		if (sealshm_rlock_release(sealshm_array_rlock(v)) != 0)
			_exit(2);
		if (sealshm_rlock_acquire(sealshm_array_rlock(a), &t, 0) != 0)
			_exit(3);
		for (int i = 0; i < 4; i++)
			fp[i] *= 2;
		_exit(sealshm_rlock_release(sealshm_array_rlock(a)) == 0 ? 0 : 4);
	}
	ASSERT_LT(0, self->kids[1] = spawn_exec("classic", vname, aname));
	EXPECT_EQ(0, reap_code(&self->kids[0], REAP_MS));
	EXPECT_EQ(0, reap_code(&self->kids[1], REAP_MS));

	EXPECT_EQ(0, sealshm_array_read(v, 0, 1, 'i', &n, sizeof(n)));
	EXPECT_EQ(25, n);
	EXPECT_EQ(0, sealshm_array_read(a, 0, 4, 'f', f, sizeof(f)));
	EXPECT_EQ(4.0f, f[0]);
	EXPECT_EQ(8.0f, f[1]);
	EXPECT_EQ(12.0f, f[2]);
	EXPECT_EQ(16.0f, f[3]);
	drop(v);
	drop(a);
}

/* --- exact counts ------------------------------------------------------------- */

struct count_arg {
	const char *name;
	struct sealshm_array *a;	/* the parent's handle */
};

/* A child: add 1 to the Value('q') ROUNDS times under its lock, through
 * the inherited handle (even @i) or one of its own, attached by name. */
static int counting_child(void *arg, int i)
{
	const struct count_arg *c = arg;
	struct sealshm_array *a = c->a, *mine = NULL;
	struct timespec t = { .tv_sec = CHILD_WAIT_S };
	long long *q;

	if (i % 2) {
		if (sealshm_array_attach(c->name, NULL, &mine) < 0)
			return 10;
		a = mine;
	}
	q = sealshm_array_data(a);
	for (int k = 0; k < ROUNDS; k++) {
		struct sealshm_lock *lk = sealshm_array_lock(a);
		struct sealshm_rlock *rl = sealshm_array_rlock(a);
		int r = lk ? sealshm_lock_acquire(lk, &t, 0) : sealshm_rlock_acquire(rl, &t, 0);

		if (r != 0)
			return 11;
		(*q)++;
		r = lk ? sealshm_lock_release(lk) : sealshm_rlock_release(rl);
		if (r != 0)
			return 12;
	}
	sealshm_array_close(mine);
	return 0;
}

/* PROCS processes each add 1 ROUNDS times to a Value('q') under its Lock,
 * then under its RLock: the total is exact. */
TEST_F_TIMEOUT(array, processes_count_exactly, 300)
{
	static const uint32_t kinds[] = { SEALSHM_ARRAY_LOCK, SEALSHM_ARRAY_RLOCK };

	for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
		SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'q', .length = 1,
			     .flags = kinds[k] | SEALSHM_ARRAY_VALUE);
		struct count_arg c;
		long long total = -1;
		char name[80];

		NAME(name, k ? "rcount" : "count");
		c.name = name;
		ASSERT_EQ(0, sealshm_array_create(name, &p, NULL, &c.a));
		for (int i = 0; i < PROCS; i++)
			ASSERT_LT(0, self->kids[i] = spawn_child(counting_child, &c, i));
		for (int i = 0; i < PROCS; i++)
			EXPECT_EQ(0, reap_code(&self->kids[i], REAP_MS));
		EXPECT_EQ(0, sealshm_array_read(c.a, 0, 1, 'q', &total, sizeof(total)));
		EXPECT_EQ((long long)PROCS * ROUNDS, total) {
			TH_LOG("%s", k ? "RLock" : "Lock");
		}
		drop(c.a);
	}
}

/* --- a holder's death --------------------------------------------------------- */

struct death_arg {
	struct sealshm_array *v;	/* Value('q') with a lock */
	struct sealshm_array *ready;	/* RawValue('i'): the child holds the lock */
};

/* A child: take the value's lock, add 1, say so, and wait to be killed. */
static int hold_and_wait(void *arg, int i)
{
	const struct death_arg *d = arg;
	struct timespec t = { .tv_sec = CHILD_WAIT_S };
	struct sealshm_lock *lk = sealshm_array_lock(d->v);
	int one = 1, r;

	(void)i;
	r = lk ? sealshm_lock_acquire(lk, &t, 0) :
		 sealshm_rlock_acquire(sealshm_array_rlock(d->v), &t, 0);
	if (r != 0)
		return 10;
	++*(long long *)sealshm_array_data(d->v);
	if (sealshm_array_write(d->ready, 0, 1, 'i', &one, sizeof(one)) != 0)
		return 11;
	for (int k = 0; k < CHILD_WAIT_S * 100; k++)
		usleep(10000);
	return 12;
}

/* A holder of a Value's lock killed -9: the next acquirer gets it with
 * -EOWNERDEAD, finds the holder's change, makes it consistent and goes
 * on; the lock is an ordinary one again. */
TEST_F_TIMEOUT(array, holder_killed_owner_dead, 60)
{
	static const uint32_t kinds[] = { SEALSHM_ARRAY_LOCK, SEALSHM_ARRAY_RLOCK };
	SEALSHM_OPTS(sealshm_array_params, rp, .typecode = 'i', .length = 1,
		     .flags = SEALSHM_ARRAY_VALUE);
	struct sealshm_array *ready = NULL;
	char rname[80];

	NAME(rname, "ready");
	ASSERT_EQ(0, sealshm_array_create(rname, &rp, NULL, &ready));
	for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
		long long five = 5, q = 0;
		SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'q', .length = 1,
			     .flags = kinds[k] | SEALSHM_ARRAY_VALUE, .init = &five);
		struct sealshm_object_info info = { .sz = sizeof(info) };
		struct timespec t = { .tv_sec = 10 };
		struct death_arg d = { .ready = ready };
		struct sealshm_lock *lk;
		struct sealshm_rlock *rl;
		uint64_t end;
		int zero = 0, flag = 0, r;
		char name[80];

		NAME(name, k ? "rdeath" : "death");
		ASSERT_EQ(0, sealshm_array_write(ready, 0, 1, 'i', &zero, sizeof(zero)));
		ASSERT_EQ(0, sealshm_array_create(name, &p, NULL, &d.v));
		lk = sealshm_array_lock(d.v);
		rl = sealshm_array_rlock(d.v);
		ASSERT_TRUE(k ? rl && !lk : lk && !rl);

		ASSERT_LT(0, self->kids[0] = spawn_child(hold_and_wait, &d, 0));
		end = helper_now_ms() + 10000;
		while (sealshm_array_read(ready, 0, 1, 'i', &flag, sizeof(flag)) == 0 && !flag &&
		       helper_now_ms() < end)
			usleep(1000);
		ASSERT_EQ(1, flag);
		ASSERT_EQ(0, sealshm_object_info((char *)sealshm_array_data(d.v) - 32, 32, NULL,
						 &info));
		EXPECT_EQ(SEALSHM_OBJECT_HELD, info.flags & SEALSHM_OBJECT_HELD);
		EXPECT_EQ(-EBUSY, lk ? sealshm_lock_tryacquire(lk) : sealshm_rlock_tryacquire(rl));

		helper_kill_reap(&self->kids[0]);
		r = lk ? sealshm_lock_acquire(lk, &t, 0) : sealshm_rlock_acquire(rl, &t, 0);
		EXPECT_EQ(-EOWNERDEAD, r);
		EXPECT_EQ(0, sealshm_array_read(d.v, 0, 1, 'q', &q, sizeof(q)));
		EXPECT_EQ(6, q);
		q++;
		EXPECT_EQ(0, sealshm_array_write(d.v, 0, 1, 'q', &q, sizeof(q)));
		EXPECT_EQ(0, lk ? sealshm_lock_consistent(lk) : sealshm_rlock_consistent(rl));
		EXPECT_EQ(0, lk ? sealshm_lock_release(lk) : sealshm_rlock_release(rl));
		EXPECT_EQ(0, lk ? sealshm_lock_acquire(lk, &t, 0) : sealshm_rlock_acquire(rl, &t, 0));
		EXPECT_EQ(0, lk ? sealshm_lock_release(lk) : sealshm_rlock_release(rl));
		EXPECT_EQ(0, sealshm_array_read(d.v, 0, 1, 'q', &q, sizeof(q)));
		EXPECT_EQ(7, q);
		drop(d.v);
	}
	drop(ready);
}

/* --- bad input ---------------------------------------------------------------- */

/* Reads and writes with a wrong typecode or size are -EINVAL, out of range
 * -ERANGE (also where start + count overflows), with errno set and the
 * items unchanged; bad handles and buffers are -EINVAL. */
TEST_F(array, access_errors)
{
	double init[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, buf[11] = { 0 }, before[10];
	SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'd', .length = 10, .init = init);
	struct sealshm_array *a = NULL;
	char name[80];

	NAME(name, "errors");
	ASSERT_EQ(0, sealshm_array_create(name, &p, NULL, &a));
	memcpy(before, sealshm_array_data(a), sizeof(before));
	for (int i = 0; i < 11; i++)
		buf[i] = -1;

	/* Wrong typecodes: another type of the same size, a struct, unknown. */
	EXPECT_EQ(-EINVAL, sealshm_array_read(a, 0, 1, 'q', buf, 8));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sealshm_array_write(a, 0, 1, 'Q', buf, 8));
	EXPECT_EQ(-EINVAL, sealshm_array_write(a, 0, 1, 0, buf, 8));
	EXPECT_EQ(-EINVAL, sealshm_array_read(a, 0, 1, 'x', buf, 8));
	/* Out of range. */
	EXPECT_EQ(-ERANGE, sealshm_array_read(a, 10, 1, 'd', buf, 8));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-ERANGE, sealshm_array_write(a, 10, 1, 'd', buf, 8));
	EXPECT_EQ(-ERANGE, sealshm_array_write(a, 0, 11, 'd', buf, 88));
	EXPECT_EQ(-ERANGE, sealshm_array_write(a, 9, 2, 'd', buf, 16));
	EXPECT_EQ(-ERANGE, sealshm_array_write(a, 11, 0, 'd', buf, 0));
	EXPECT_EQ(-ERANGE, sealshm_array_write(a, 1, UINT64_MAX, 'd', buf, 8));
	EXPECT_EQ(-ERANGE, sealshm_array_write(a, UINT64_MAX, 2, 'd', buf, 16));
	EXPECT_EQ(-ERANGE, sealshm_array_read(a, UINT64_MAX, UINT64_MAX, 'd', buf, 8));
	/* Sizes other than count * 8. */
	EXPECT_EQ(-EINVAL, sealshm_array_write(a, 0, 2, 'd', buf, 8));
	EXPECT_EQ(-EINVAL, sealshm_array_write(a, 0, 2, 'd', buf, 17));
	EXPECT_EQ(-EINVAL, sealshm_array_read(a, 0, 2, 'd', buf, 24));
	EXPECT_EQ(-EINVAL, sealshm_array_read(a, 0, 0, 'd', buf, 8));
	/* Bad buffers and handles. */
	EXPECT_EQ(-EINVAL, sealshm_array_write(a, 0, 1, 'd', NULL, 8));
	EXPECT_EQ(-EINVAL, sealshm_array_read(a, 0, 1, 'd', NULL, 8));
	EXPECT_EQ(0, sealshm_array_read(a, 0, 0, 'd', NULL, 0));
	EXPECT_EQ(-EINVAL, sealshm_array_read(NULL, 0, 1, 'd', buf, 8));
	EXPECT_EQ(-EINVAL, sealshm_array_write(NULL, 0, 1, 'd', buf, 8));
	EXPECT_EQ(0, sealshm_array_length(NULL));
	EXPECT_EQ(0u, sealshm_array_typecode(NULL));
	EXPECT_EQ(0u, sealshm_array_item_size(NULL));
	EXPECT_EQ(0u, sealshm_array_flags(NULL));
	EXPECT_EQ(NULL, sealshm_array_data(NULL));
	EXPECT_EQ(NULL, sealshm_array_lock(NULL));
	EXPECT_EQ(NULL, sealshm_array_rlock(NULL));
	EXPECT_EQ(NULL, sealshm_array_shm(NULL));
	EXPECT_EQ(0, sealshm_array_close(NULL));

	/* Nothing changed, and the buffer of the failed reads neither. */
	EXPECT_EQ(0, memcmp(before, sealshm_array_data(a), sizeof(before)));
	for (int i = 0; i < 11; i++)
		EXPECT_EQ(-1.0, buf[i]);
	drop(a);
}

/* Bad parameters are -EINVAL for _size(), _init() and _create() (which
 * then leaves no name), too large -EOVERFLOW; _init() checks room and
 * alignment. */
TEST_F(array, param_errors)
{
	struct {
		struct sealshm_array_params p;
		int err;
	} bad[] = {
		{ { .typecode = 'd', .length = 0 }, -EINVAL },
		{ { .typecode = 'x', .length = 1 }, -EINVAL },
		{ { .typecode = 'D', .length = 1 }, -EINVAL },
		{ { .typecode = 'd', .length = 1, .item_size = 4 }, -EINVAL },
		{ { .typecode = 'd', .length = 1, .item_align = 4 + _Alignof(double) }, -EINVAL },
		{ { .typecode = 'd', .length = 2, .flags = SEALSHM_ARRAY_VALUE }, -EINVAL },
		{ { .typecode = 'd', .length = 1, .flags = SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_RLOCK },
		  -EINVAL },
		{ { .typecode = 'd', .length = 1, .flags = SEALSHM_ARRAY_RDONLY }, -EINVAL },
		{ { .typecode = 'd', .length = 1, .flags = 1u << 20 }, -EINVAL },
		{ { .typecode = 0, .length = 1 }, -EINVAL },
		{ { .typecode = 0, .length = 1, .item_size = 8 }, -EINVAL },
		{ { .typecode = 0, .length = 1, .item_size = 12, .item_align = 3 }, -EINVAL },
		{ { .typecode = 0, .length = 1, .item_size = 32, .item_align = 32 }, -EINVAL },
		{ { .typecode = 0, .length = 1, .item_size = 12, .item_align = 8 }, -EINVAL },
		{ { .typecode = 'd', .length = UINT64_MAX / 4 }, -EOVERFLOW },
		{ { .typecode = 'B', .length = UINT64_MAX }, -EOVERFLOW },
		{ { .typecode = 0, .length = UINT64_MAX / 2, .item_size = 16, .item_align = 16 },
		  -EOVERFLOW },
	};
	SEALSHM_OPTS(sealshm_array_params, good, .typecode = 'i', .length = 4);
	struct sealshm_array *a = NULL;
	struct sealshm_info si;
	struct sealshm *shm = NULL;
	size_t need = 0;
	char name[80];
	char *mem;

	NAME(name, "params");
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		bad[i].p.sz = sizeof(bad[i].p);
		EXPECT_EQ(bad[i].err, sealshm_array_size(&bad[i].p, &need)) {
			TH_LOG("case %zu", i);
		}
		EXPECT_EQ(bad[i].err, sealshm_array_create(name, &bad[i].p, NULL, &a)) {
			TH_LOG("case %zu", i);
		}
		EXPECT_EQ(-ENOENT, sealshm_stat(name, NULL, &si));
	}
	EXPECT_EQ(NULL, a);
	/* The typecode's own size and alignment may be spelled out. */
	good.item_size = sizeof(int);
	good.item_align = _Alignof(int);
	EXPECT_EQ(0, sealshm_array_size(&good, &need));
	EXPECT_EQ(64 + 4 * sizeof(int), need);
	good.item_size = good.item_align = 0;
	EXPECT_EQ(-EINVAL, sealshm_array_size(NULL, &need));
	EXPECT_EQ(-EINVAL, sealshm_array_size(&good, NULL));
	good.sz = 3;
	EXPECT_EQ(-EINVAL, sealshm_array_size(&good, &need));
	/* A newer caller's longer struct: zeros past what we know are fine. */
	{
		struct { struct sealshm_array_params p; uint64_t more; } longer = {
			.p = { .sz = sizeof(longer), .typecode = 'i', .length = 4 },
		};

		EXPECT_EQ(0, sealshm_array_size(&longer.p, &need));
		longer.more = 1;
		EXPECT_EQ(-EINVAL, sealshm_array_size(&longer.p, &need));
	}
	good.sz = sizeof(good);

	/* _init(): room, alignment, opts. */
	ASSERT_EQ(0, sealshm_create(name, 4096, NULL, &shm));
	mem = sealshm_buf(shm);
	EXPECT_EQ(-ENOSPC, sealshm_array_init(mem, need - 1, &good, NULL));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-EINVAL, sealshm_array_init(mem + 4, 4000, &good, NULL));
	EXPECT_EQ(-EINVAL, sealshm_array_init(NULL, 4000, &good, NULL));
	EXPECT_EQ(-EINVAL, sealshm_array_init(mem, 4000, NULL, NULL));
	{
		SEALSHM_OPTS(sealshm_opts, o);

		o.sz = 2;
		EXPECT_EQ(-EINVAL, sealshm_array_init(mem, 4000, &good, &o));
	}
	/* A struct aligned to 16 needs a 16-aligned place. */
	{
		SEALSHM_OPTS(sealshm_array_params, wp, .length = 2, .item_size = 32,
			     .item_align = 16);

		EXPECT_EQ(-EINVAL, sealshm_array_init(mem + 8, 4000, &wp, NULL));
		EXPECT_EQ(0, sealshm_array_init(mem + 16, 4000, &wp, NULL));
	}
	/* Nothing was set up at mem by the failures. */
	EXPECT_EQ(-EBADMSG, sealshm_array_open(mem, 4096, &a));
	EXPECT_EQ(-EINVAL, sealshm_array_open(mem, 4096, NULL));
	EXPECT_EQ(-EINVAL, sealshm_array_open(NULL, 4096, &a));
	EXPECT_EQ(-EINVAL, sealshm_array_open(mem + 4, 4000, &a));
	EXPECT_EQ(NULL, a);
	EXPECT_EQ(-EINVAL, sealshm_array_attach(name, NULL, NULL));
	EXPECT_EQ(-EBADMSG, sealshm_array_attach(name, NULL, &a));
	EXPECT_EQ(0, sealshm_unlink(shm));
	sealshm_close(shm);
	EXPECT_EQ(-ENOENT, sealshm_array_attach(name, NULL, &a));
	EXPECT_EQ(NULL, a);
}

/* --- corrupt headers ------------------------------------------------------------ */

/* What _open() finds at @mem (@len bytes) with the header @hdr written
 * over the real one: its result, the handle closed. */
static int open_with(void *mem, size_t len, const struct sealshm__array_hdr *hdr)
{
	struct sealshm_array *a = NULL;
	int r;

	memcpy((char *)mem + 4, (const char *)hdr + 4, sizeof(*hdr) - 4);
	__atomic_store_n((uint32_t *)mem, hdr->hdr.magic, __ATOMIC_RELEASE);
	r = sealshm_array_open(mem, len, &a);
	if (r < 0 && a)
		r = -EFAULT;	/* a failed call must not set *ret */
	sealshm_array_close(a);
	return r;
}

/* Headers this library would not have written are -EBADMSG from _open():
 * a length too large for the mapping or overflowing, an unknown
 * typecode, an item size or alignment other than its typecode's, a wrong
 * data offset, bad flags, reserved bytes set, a lock that is none or of
 * the other kind.  Once open, the handle does not see a header changed
 * under it. */
TEST_F(array, corrupt_headers)
{
	SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'd', .length = 100,
		     .flags = SEALSHM_ARRAY_LOCK);
	struct sealshm__array_hdr good, h;
	struct sealshm_array *a = NULL;
	struct sealshm *shm = NULL;
	size_t need, len;
	double d = 0;
	char name[80];
	char *mem;

	NAME(name, "corrupt");
	ASSERT_EQ(0, sealshm_array_size(&p, &need));
	EXPECT_EQ(96 + 800, need);
	len = need;
	ASSERT_EQ(0, sealshm_create(name, 4096, NULL, &shm));
	mem = sealshm_buf(shm);
	ASSERT_EQ(0, sealshm_array_init(mem, len, &p, NULL));
	memcpy(&good, mem, sizeof(good));
	EXPECT_EQ(SEALSHM_OBJECT_ARRAY, good.hdr.type);
	EXPECT_EQ(64, good.hdr.size);
	EXPECT_EQ(96u, good.data_offset);
	EXPECT_EQ(0, open_with(mem, len, &good));

#define CORRUPT(field, value)						\
	do {								\
		h = good;						\
		h.field = (value);					\
		EXPECT_EQ(-EBADMSG, open_with(mem, len, &h)) {		\
			TH_LOG(#field " = " #value);			\
		}							\
	} while (0)
	CORRUPT(hdr.magic, 0);
	CORRUPT(hdr.version, 2);
	CORRUPT(hdr.type, SEALSHM_OBJECT_LOCK);
	CORRUPT(hdr.size, 32);
	CORRUPT(hdr.size, 128);
	CORRUPT(length, 101);
	CORRUPT(length, 0);
	CORRUPT(length, UINT64_MAX / 8 + 1);
	CORRUPT(length, UINT64_MAX);
	CORRUPT(typecode, 'x');
	CORRUPT(typecode, 'f');
	CORRUPT(item_size, 4);
	CORRUPT(item_size, 0);
	CORRUPT(item_align, 4);
	CORRUPT(item_align, 0);
	CORRUPT(data_offset, 64);
	CORRUPT(data_offset, 128);
	CORRUPT(flags, 0);
	CORRUPT(flags, SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_RLOCK);
	CORRUPT(flags, SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_VALUE);
	CORRUPT(flags, SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_RDONLY);
	CORRUPT(flags, SEALSHM_ARRAY_LOCK | (1u << 31));
	CORRUPT(flags, SEALSHM_ARRAY_RLOCK);	/* the lock there is a Lock */
	CORRUPT(__reserved[0], 1);
	CORRUPT(__reserved[4], 1);
	/* A caller's struct with a bad alignment or size. */
	h = good;
	h.typecode = 0;
	h.item_align = 3;
	EXPECT_EQ(-EBADMSG, open_with(mem, len, &h));
	h.item_align = 8;
	h.item_size = 12;
	EXPECT_EQ(-EBADMSG, open_with(mem, len, &h));
	/* The same item as a struct is fine: the header says what it is. */
	h.item_size = 8;
	EXPECT_EQ(0, open_with(mem, len, &h));
#undef CORRUPT

	/* Too few bytes mapped for it. */
	EXPECT_EQ(-EBADMSG, open_with(mem, len - 1, &good));
	EXPECT_EQ(-EBADMSG, open_with(mem, 64, &good));
	EXPECT_EQ(-EBADMSG, open_with(mem, 8, &good));
	EXPECT_EQ(0, open_with(mem, len, &good));

	/* The lock: no magic, then an RLock where a Lock should be. */
	memset(mem + 64, 0, 4);
	EXPECT_EQ(-EBADMSG, open_with(mem, len, &good));
	ASSERT_EQ(0, sealshm_rlock_init((struct sealshm_rlock *)(mem + 64), NULL));
	EXPECT_EQ(-EBADMSG, open_with(mem, len, &good));
	h = good;
	h.flags = SEALSHM_ARRAY_RLOCK;
	EXPECT_EQ(0, open_with(mem, len, &h));
	ASSERT_EQ(0, sealshm_lock_init((struct sealshm_lock *)(mem + 64), NULL));

	/* Open, then the header is made to lie: the handle keeps its bounds. */
	ASSERT_EQ(0, open_with(mem, len, &good));
	ASSERT_EQ(0, sealshm_array_open(mem, len, &a));
	h = good;
	h.length = 1000000;
	h.typecode = 'q';
	memcpy(mem, &h, sizeof(h));
	EXPECT_EQ(100, sealshm_array_length(a));
	EXPECT_EQ((uint32_t)'d', sealshm_array_typecode(a));
	EXPECT_EQ(-ERANGE, sealshm_array_read(a, 100, 1, 'd', &d, sizeof(d)));
	EXPECT_EQ(-ERANGE, sealshm_array_write(a, 1000, 1, 'd', &d, sizeof(d)));
	EXPECT_EQ(0, sealshm_array_read(a, 99, 1, 'd', &d, sizeof(d)));
	sealshm_array_close(a);

	EXPECT_EQ(0, sealshm_unlink(shm));
	sealshm_close(shm);
}

/* --- a caller's struct ----------------------------------------------------------- */

/* Items of a caller's struct (typecode 0) keep their size and alignment,
 * 16 included, and round-trip here and in an exec'd process; the size of
 * a copy must be a whole number of them. */
TEST_F_TIMEOUT(array, struct_items, 60)
{
	struct point pts[ITEMS], got[ITEMS];
	SEALSHM_OPTS(sealshm_array_params, p, .length = ITEMS, .item_size = sizeof(struct point),
		     .item_align = _Alignof(struct point), .init = pts,
		     .flags = SEALSHM_ARRAY_LOCK);
	SEALSHM_OPTS(sealshm_array_params, wp, .length = 3, .item_size = sizeof(struct wide),
		     .item_align = _Alignof(struct wide), .flags = SEALSHM_ARRAY_RLOCK);
	struct sealshm_array *a = NULL, *w = NULL;
	struct wide wv = { .lo = 1, .hi = 2, .n = 3 }, wgot;
	char name[80], wname[80];

	_Static_assert(_Alignof(struct wide) == 16, "a struct aligned to 16");
	NAME(name, "points");
	NAME(wname, "wide");
	memset(pts, 0, sizeof(pts));
	for (int i = 0; i < ITEMS; i++) {
		pts[i].x = i;
		pts[i].y = i * 100;
		memcpy(pts[i].tag, "pt", 3);
	}
	ASSERT_EQ(0, sealshm_array_create(name, &p, NULL, &a));
	EXPECT_EQ(0u, sealshm_array_typecode(a));
	EXPECT_EQ(sizeof(struct point), sealshm_array_item_size(a));
	EXPECT_EQ(0u, (uintptr_t)sealshm_array_data(a) % _Alignof(struct point));
	EXPECT_EQ(0, memcmp(pts, sealshm_array_data(a), sizeof(pts)));
	EXPECT_EQ(-EINVAL, sealshm_array_read(a, 0, 1, 'd', got, sizeof(struct point)));
	EXPECT_EQ(-EINVAL, sealshm_array_read(a, 0, 2, 0, got, sizeof(struct point) + 8));
	EXPECT_EQ(-EINVAL, sealshm_array_read(a, 0, 2, 0, got, sizeof(struct point)));
	EXPECT_EQ(-ERANGE, sealshm_array_read(a, ITEMS, 1, 0, got, sizeof(struct point)));

	ASSERT_LT(0, self->kids[0] = spawn_exec("struct", name, "-"));
	EXPECT_EQ(0, reap_code(&self->kids[0], REAP_MS));
	EXPECT_EQ(0, sealshm_array_read(a, 0, ITEMS, 0, got, sizeof(got)));
	for (int i = 0; i < ITEMS; i++) {
		EXPECT_EQ(i, got[i].x);
		EXPECT_EQ(-i, got[i].y);
	}

	/* Aligned to 16: the items start at 96, a multiple of 16, after the
	 * header and the RLock. */
	ASSERT_EQ(0, sealshm_array_create(wname, &wp, NULL, &w));
	EXPECT_EQ(0u, (uintptr_t)sealshm_array_data(w) % 16);
	EXPECT_EQ(96, (char *)sealshm_array_data(w) - (char *)sealshm_buf(sealshm_array_shm(w)));
	EXPECT_EQ(0, sealshm_array_write(w, 2, 1, 0, &wv, sizeof(wv)));
	EXPECT_EQ(0, sealshm_array_read(w, 2, 1, 0, &wgot, sizeof(wgot)));
	EXPECT_EQ(0, memcmp(&wv, &wgot, sizeof(wv)));
	drop(a);
	drop(w);
}

/* --- read-only ----------------------------------------------------------------- */

/* A lockless array attached read-only gives a read-only handle: reads
 * work, writes are -EROFS (nothing changes), without a fault.  One with
 * a lock is -EROFS to attach or open read-only, and so is setting one up
 * in read-only memory. */
TEST_F(array, read_only)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	int init[5] = { 1, 2, 3, 4, 5 }, got[5] = { 0 }, six = 6;
	SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'i', .length = 5, .init = init);
	SEALSHM_OPTS(sealshm_array_params, lp, .typecode = 'i', .length = 5, .init = init,
		     .flags = SEALSHM_ARRAY_LOCK);
	struct sealshm_array *a = NULL, *r = NULL, *l = NULL, *x = NULL;
	struct sealshm *shm = NULL;
	char name[80], lname[80];

	NAME(name, "raw");
	NAME(lname, "locked");
	ASSERT_EQ(0, sealshm_array_create(name, &p, NULL, &a));
	ASSERT_EQ(0, sealshm_array_create(lname, &lp, NULL, &l));
	EXPECT_EQ(0u, sealshm_array_flags(a) & SEALSHM_ARRAY_RDONLY);

	/* A RawArray, attached read-only. */
	ASSERT_EQ(0, sealshm_array_attach(name, &ro, &r));
	EXPECT_EQ(SEALSHM_ARRAY_RDONLY, sealshm_array_flags(r));
	EXPECT_EQ(0, sealshm_array_read(r, 0, 5, 'i', got, sizeof(got)));
	EXPECT_EQ(0, memcmp(init, got, sizeof(got)));
	EXPECT_EQ(-EROFS, sealshm_array_write(r, 0, 1, 'i', &six, sizeof(six)));
	EXPECT_EQ(EROFS, errno);
	/* Argument errors come first. */
	EXPECT_EQ(-ERANGE, sealshm_array_write(r, 5, 1, 'i', &six, sizeof(six)));
	EXPECT_EQ(-EINVAL, sealshm_array_write(r, 0, 1, 'q', &six, sizeof(six)));
	/* Written through the read-write handle, seen through this one. */
	EXPECT_EQ(0, sealshm_array_write(a, 4, 1, 'i', &six, sizeof(six)));
	EXPECT_EQ(0, sealshm_array_read(r, 4, 1, 'i', got, sizeof(int)));
	EXPECT_EQ(6, got[0]);
	/* _init() there: -EROFS, and the array is intact. */
	EXPECT_EQ(-EROFS, sealshm_array_init(sealshm_buf(sealshm_array_shm(r)),
					     sealshm_size(sealshm_array_shm(r)), &p, NULL));
	EXPECT_EQ(0, sealshm_array_read(r, 0, 1, 'i', got, sizeof(int)));
	EXPECT_EQ(1, got[0]);
	sealshm_array_close(r);
	r = NULL;

	/* With a lock: -EROFS, by name or in place, and no fd is left. */
	EXPECT_EQ(-EROFS, sealshm_array_attach(lname, &ro, &x));
	EXPECT_EQ(NULL, x);
	ASSERT_EQ(0, sealshm_attach(lname, &ro, &shm));
	EXPECT_EQ(-EROFS, sealshm_array_open(sealshm_buf(shm), sealshm_size(shm), &x));
	EXPECT_EQ(NULL, x);
	sealshm_close(shm);
	/* Read-write, it opens. */
	ASSERT_EQ(0, sealshm_array_attach(lname, NULL, &x));
	EXPECT_EQ(SEALSHM_ARRAY_LOCK, sealshm_array_flags(x));
	sealshm_array_close(x);
	drop(a);
	drop(l);
}

/* --- in place -------------------------------------------------------------------- */

/* Arrays set up in place, several in one segment, each opened from its
 * offset; _init() again starts over; a lock's holder is the trackerd
 * opts chose. */
TEST_F(array, in_place)
{
	SEALSHM_OPTS(sealshm_array_params, vp, .typecode = 'q', .length = 1,
		     .flags = SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_VALUE);
	SEALSHM_OPTS(sealshm_array_params, ap, .typecode = 'h', .length = 7);
	struct sealshm_array *v = NULL, *a = NULL;
	struct sealshm *shm = NULL;
	size_t vsize, asize;
	long long q = 42;
	short h[7] = { 0 };
	char name[80];
	char *mem;

	NAME(name, "place");
	ASSERT_EQ(0, sealshm_array_size(&vp, &vsize));
	ASSERT_EQ(0, sealshm_array_size(&ap, &asize));
	EXPECT_EQ(96 + 8, vsize);
	EXPECT_EQ(64 + 14, asize);
	ASSERT_EQ(0, sealshm_create(name, 4096, NULL, &shm));
	mem = sealshm_buf(shm);
	memset(mem, 0x77, 4096);	/* _init() zeroes the items itself */
	ASSERT_EQ(0, sealshm_array_init(mem + 8, vsize, &vp, NULL));
	ASSERT_EQ(0, sealshm_array_init(mem + 1024, asize, &ap, NULL));
	ASSERT_EQ(0, sealshm_array_open(mem + 8, 4096 - 8, &v));
	ASSERT_EQ(0, sealshm_array_open(mem + 1024, asize, &a));
	EXPECT_EQ(NULL, sealshm_array_shm(v));
	EXPECT_EQ(0, sealshm_array_read(v, 0, 1, 'q', &q, sizeof(q)));
	EXPECT_EQ(0, q);
	EXPECT_EQ(0, sealshm_array_read(a, 0, 7, 'h', h, sizeof(h)));
	for (int i = 0; i < 7; i++)
		EXPECT_EQ(0, h[i]);
	EXPECT_EQ(0x77, (unsigned char)mem[1024 + asize]);	/* not a byte more */
	EXPECT_EQ(0, sealshm_lock_acquire(sealshm_array_lock(v), NULL, 0));
	q = 43;
	EXPECT_EQ(0, sealshm_array_write(v, 0, 1, 'q', &q, sizeof(q)));
	EXPECT_EQ(0, sealshm_lock_release(sealshm_array_lock(v)));
	sealshm_array_close(v);
	v = NULL;
	/* Set up again over itself: a new, zeroed Value. */
	ASSERT_EQ(0, sealshm_array_init(mem + 8, vsize, &vp, NULL));
	ASSERT_EQ(0, sealshm_array_open(mem + 8, vsize, &v));
	EXPECT_EQ(0, sealshm_array_read(v, 0, 1, 'q', &q, sizeof(q)));
	EXPECT_EQ(0, q);
	sealshm_array_close(v);
	sealshm_array_close(a);
	EXPECT_EQ(0, sealshm_unlink(shm));
	sealshm_close(shm);
}

/* --- description ----------------------------------------------------------------- */

/* sealshm_object_info() on an array: its type, header size, length, item
 * size, typecode, flags (in value) and items' offset (in max); its lock
 * is an object of its own at +64; sealshm_object_create() cannot make
 * one; sealshm_object_attach() finds it; `sealshm stat` lists both. */
TEST_F_TIMEOUT(array, object_info_and_stat, 60)
{
	SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'd', .length = 1000,
		     .flags = SEALSHM_ARRAY_RLOCK);
	SEALSHM_OPTS(sealshm_object_params, op, .type = SEALSHM_OBJECT_ARRAY);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_array *a = NULL;
	struct sealshm *shm = NULL;
	struct sealshm_info si;
	char name[80], other[80], out[4096] = "";
	const char *args[] = { "stat", name, NULL };
	double *d;
	char *mem;
	int rc;

	NAME(name, "info");
	NAME(other, "object");
	EXPECT_STREQ("array", sealshm_object_type_name(SEALSHM_OBJECT_ARRAY));
	ASSERT_EQ(0, sealshm_array_create(name, &p, NULL, &a));
	mem = sealshm_buf(sealshm_array_shm(a));
	ASSERT_EQ(0, sealshm_object_info(mem, sealshm_size(sealshm_array_shm(a)), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_ARRAY, info.type);
	EXPECT_EQ(64u, info.size);
	EXPECT_EQ(1000u, info.length);
	EXPECT_EQ(sizeof(double), info.item_size);
	EXPECT_EQ((uint32_t)'d', info.typecode);
	EXPECT_EQ(SEALSHM_ARRAY_RLOCK, info.value);
	EXPECT_EQ(96u, info.max);
	EXPECT_EQ(0u, info.flags);
	/* Only the header is needed (and read). */
	EXPECT_EQ(0, sealshm_object_info(mem, 64, NULL, &info));
	EXPECT_EQ(-EBADMSG, sealshm_object_info(mem, 63, NULL, &info));
	/* The lock, held. */
	EXPECT_EQ(0, sealshm_rlock_acquire(sealshm_array_rlock(a), NULL, 0));
	ASSERT_EQ(0, sealshm_object_info(mem + 64, 32, NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_RLOCK, info.type);
	EXPECT_EQ(SEALSHM_OBJECT_HELD, info.flags);
	EXPECT_EQ((uint32_t)getpid(), info.holder_pid);
	EXPECT_EQ(0, sealshm_rlock_release(sealshm_array_rlock(a)));

	/* Items that look like objects are not listed. */
	d = sealshm_array_data(a);
	memcpy(&d[10], mem + 64, 32);	/* a copy of the RLock among the items */

	/* sealshm stat lists the array and its lock, not the fake. */
	rc = helper_run_prog(helper_cli_path, args, NULL, out, sizeof(out));
	EXPECT_EQ(0, rc);
	EXPECT_NE(NULL, strstr(out, "array at 0: 'd' x 1000, rlock")) {
		TH_LOG("stat said:\n%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "rlock at 64: free")) {
		TH_LOG("stat said:\n%s", out);
	}
	EXPECT_EQ(NULL, strstr(out, "rlock at 176")) {
		TH_LOG("stat said:\n%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "objects:  2")) {
		TH_LOG("stat said:\n%s", out);
	}

	/* As an object of its own: attached, never made. */
	ASSERT_EQ(0, sealshm_object_attach(name, SEALSHM_OBJECT_ARRAY, NULL, &shm));
	sealshm_close(shm);
	shm = NULL;
	EXPECT_EQ(-EBADMSG, sealshm_object_attach(name, SEALSHM_OBJECT_LOCK, NULL, &shm));
	EXPECT_EQ(-EINVAL, sealshm_object_create(other, &op, NULL, &shm));
	EXPECT_EQ(NULL, shm);
	EXPECT_EQ(-ENOENT, sealshm_stat(other, NULL, &si));
	drop(a);
}

/* --- arenas ------------------------------------------------------------------------ */

/* The names in the registry now ($SEALSHM_SOCKET's trackerd). */
static int names_now(void)
{
	struct sealshm_info *infos = NULL;
	int n = sealshm_registry_list(NULL, &infos);

	free(infos);
	return n;
}

/* Many small Values in an arena share its segments (not a name each), each
 * with its own items and lock; their references name distinct blocks; a
 * Value made by name has none; bad parameters allocate nothing. */
TEST_F(array, arena_values_share_segments)
{
#define N_VALUES 200
	struct sealshm_array *v[N_VALUES] = { NULL }, *named = NULL, *x = NULL;
	struct sealshm_ref refs[N_VALUES], r;
	struct sealshm_arena *arena = NULL;
	int names_before = names_now(), segments = 0;
	char name[80];

	ASSERT_LE(0, names_before);
	ASSERT_EQ(0, sealshm_arena_open(NULL, &arena));
	for (int i = 0; i < N_VALUES; i++) {
		long long init = i;
		SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'q', .length = 1, .init = &init,
			     .flags = (i % 2 ? SEALSHM_ARRAY_RLOCK : SEALSHM_ARRAY_LOCK) |
				      SEALSHM_ARRAY_VALUE);

		ASSERT_EQ(0, sealshm_array_alloc(arena, &p, NULL, &v[i])) {
			TH_LOG("value %d", i);
		}
		ASSERT_EQ(0, sealshm_array_ref(v[i], &refs[i]));
		EXPECT_EQ(NULL, sealshm_array_shm(v[i]));
		EXPECT_EQ(0u, (uintptr_t)sealshm_array_data(v[i]) % 8);
	}
	for (int i = 0; i < N_VALUES; i++) {
		bool seen = false;
		long long q = -1;

		EXPECT_EQ(0, sealshm_array_read(v[i], 0, 1, 'q', &q, sizeof(q)));
		EXPECT_EQ(i, q);
		EXPECT_EQ(104u, refs[i].size);
		for (int j = 0; j < i; j++) {
			if (strcmp(refs[i].name, refs[j].name) == 0) {
				seen = true;
				/* Distinct blocks of one segment do not overlap. */
				EXPECT_TRUE(refs[i].offset + refs[i].size <= refs[j].offset ||
					    refs[j].offset + refs[j].size <= refs[i].offset);
			}
		}
		segments += !seen;
	}
	TH_LOG("%d values in %d segments", N_VALUES, segments);
	EXPECT_LE(1, segments);
	EXPECT_GE(N_VALUES / 10, segments);
	EXPECT_EQ(names_before + segments, names_now());
	/* Each lock is its own. */
	EXPECT_EQ(0, sealshm_lock_acquire(sealshm_array_lock(v[0]), NULL, 0));
	EXPECT_EQ(0, sealshm_lock_tryacquire(sealshm_array_lock(v[2])));
	EXPECT_EQ(0, sealshm_lock_release(sealshm_array_lock(v[2])));
	EXPECT_EQ(0, sealshm_lock_release(sealshm_array_lock(v[0])));

	/* Not in a block; bad parameters. */
	NAME(name, "named");
	{
		SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'q', .length = 1);
		SEALSHM_OPTS(sealshm_array_params, bad, .typecode = 'q', .length = 0);

		ASSERT_EQ(0, sealshm_array_create(name, &p, NULL, &named));
		EXPECT_EQ(-EINVAL, sealshm_array_ref(named, &r));
		EXPECT_EQ(-EINVAL, sealshm_array_ref(NULL, &r));
		EXPECT_EQ(-EINVAL, sealshm_array_ref(v[0], NULL));
		EXPECT_EQ(-EINVAL, sealshm_array_alloc(arena, &bad, NULL, &x));
		EXPECT_EQ(-EINVAL, sealshm_array_alloc(NULL, &p, NULL, &x));
		EXPECT_EQ(-EINVAL, sealshm_array_alloc(arena, &p, NULL, NULL));
		EXPECT_EQ(-EINVAL, sealshm_array_attach_ref(NULL, NULL, &x));
		EXPECT_EQ(NULL, x);
	}
	drop(named);

	for (int i = 0; i < N_VALUES; i++)
		EXPECT_EQ(0, sealshm_array_close(v[i]));
	EXPECT_EQ(0, sealshm_arena_close(arena));
	/* Closed, with no block held: the segments' names go. */
	EXPECT_EQ(0, helper_wait_names(names_before, 5000));
#undef N_VALUES
}

/* A Value in an arena, attached by reference in other programs: exec'd
 * children each add 1 ROUNDS times under its Lock, as the parent does,
 * and the total is exact; the block stays while any of them holds it;
 * once everyone released it, its reference is stale. */
TEST_F_TIMEOUT(array, arena_attach_ref_counts_exactly, 300)
{
	SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'q', .length = 1,
		     .flags = SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_VALUE);
	struct sealshm_array *v = NULL, *again = NULL;
	struct sealshm_arena *arena = NULL;
	struct timespec t = { .tv_sec = CHILD_WAIT_S };
	struct sealshm_ref ref, ref2;
	long long total = -1, *q;
	char arg[128];
	int kids = PROCS / 2;

	ASSERT_EQ(0, sealshm_arena_open(NULL, &arena));
	ASSERT_EQ(0, sealshm_array_alloc(arena, &p, NULL, &v));
	ASSERT_EQ(0, sealshm_array_ref(v, &ref));
	snprintf(arg, sizeof(arg), "%llu:%llu:%llu:%d", (unsigned long long)ref.offset,
		 (unsigned long long)ref.size, (unsigned long long)ref.generation, ROUNDS);
	for (int i = 0; i < kids; i++)
		ASSERT_LT(0, self->kids[i] = spawn_exec("refcount", ref.name, arg));
	q = sealshm_array_data(v);
	for (int k = 0; k < ROUNDS; k++) {
		ASSERT_EQ(0, sealshm_lock_acquire(sealshm_array_lock(v), &t, 0));
		(*q)++;
		ASSERT_EQ(0, sealshm_lock_release(sealshm_array_lock(v)));
	}
	for (int i = 0; i < kids; i++)
		EXPECT_EQ(0, reap_code(&self->kids[i], REAP_MS));
	EXPECT_EQ(0, sealshm_array_read(v, 0, 1, 'q', &total, sizeof(total)));
	EXPECT_EQ((long long)(kids + 1) * ROUNDS, total);

	/* A reference of this process's own, then the first one dropped:
	 * the block lives on. */
	ASSERT_EQ(0, sealshm_array_attach_ref(&ref, NULL, &again));
	ASSERT_EQ(0, sealshm_array_ref(again, &ref2));
	EXPECT_STREQ(ref.name, ref2.name);
	EXPECT_EQ(ref.offset, ref2.offset);
	EXPECT_EQ(ref.generation, ref2.generation);
	EXPECT_EQ(0, sealshm_array_close(v));
	EXPECT_EQ(0, sealshm_array_read(again, 0, 1, 'q', &total, sizeof(total)));
	EXPECT_EQ((long long)(kids + 1) * ROUNDS, total);
	EXPECT_EQ(0, sealshm_array_close(again));
	/* Released by everyone: stale. */
	EXPECT_EQ(-ESTALE, sealshm_array_attach_ref(&ref, NULL, &v));
	EXPECT_EQ(0, sealshm_arena_close(arena));
}

/* A forked child uses its parent's arena Value through the inherited
 * handle, and may close it without dropping the parent's reference. */
TEST_F_TIMEOUT(array, arena_forked_child, 60)
{
	long long seven = 7, q = 0;
	SEALSHM_OPTS(sealshm_array_params, p, .typecode = 'q', .length = 1, .init = &seven,
		     .flags = SEALSHM_ARRAY_RLOCK | SEALSHM_ARRAY_VALUE);
	struct sealshm_arena *arena = NULL;
	struct sealshm_array *v = NULL, *w = NULL;
	struct sealshm_ref ref;

	ASSERT_EQ(0, sealshm_arena_open(NULL, &arena));
	ASSERT_EQ(0, sealshm_array_alloc(arena, &p, NULL, &v));
	ASSERT_EQ(0, sealshm_array_ref(v, &ref));
	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		struct timespec t = { .tv_sec = CHILD_WAIT_S };
		struct sealshm_rlock *rl = sealshm_array_rlock(v);

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sealshm_rlock_acquire(rl, &t, 0) != 0)
			_exit(1);
		*(long long *)sealshm_array_data(v) *= 6;
		if (sealshm_rlock_release(rl) != 0)
			_exit(2);
		_exit(sealshm_array_close(v) == 0 ? 0 : 3);
	}
	EXPECT_EQ(0, reap_code(&self->kids[0], REAP_MS));
	EXPECT_EQ(0, sealshm_array_read(v, 0, 1, 'q', &q, sizeof(q)));
	EXPECT_EQ(42, q);
	/* The parent's reference is still there. */
	ASSERT_EQ(0, sealshm_array_attach_ref(&ref, NULL, &w));
	EXPECT_EQ(0, sealshm_array_read(w, 0, 1, 'q', &q, sizeof(q)));
	EXPECT_EQ(42, q);
	sealshm_array_close(w);
	sealshm_array_close(v);
	EXPECT_EQ(0, sealshm_arena_close(arena));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * barrier_test: sealshm_barrier_* (threading.Barrier's semantics) between
 * real processes over a private trackerd: many processes by many rounds
 * (each round's indices are a permutation), a timeout, abort and reset
 * that break it for everyone, the ACTION protocol, parties that die
 * (waiting, at random moments, running the action, inside the barrier's
 * guard): the others get -EPIPE, never a hang, and reset makes it usable
 * again; and bad input.  Every wait is bounded.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "holder.h"

#define NPROC		6
#define ROUNDS		300
#define RANDOM_KILLS	30
#define ASLEEP_KILLS	8

/* The layout (Documentation/objects.md). */
#define BAR_GUARD_OFF	20
#define BAR_PARTIES_OFF	24
#define BAR_COUNT_OFF	28
#define BAR_TABLE_OFF	64

struct shared {
	struct sealshm_barrier b;
	struct sealshm_lock lk;
	uint32_t flags;			/* wait flags of the children */
	uint32_t wait_ms;		/* their timeout */
	int32_t result[NPROC];		/* last wait's result, INT32_MIN while waiting */
	uint32_t waits[NPROC];		/* waits that returned an index */
	uint32_t ids[NPROC];		/* the children's holder ids */
	struct sealshm_lock idlk[NPROC];	/* each child holds its own, to show its id */
	uint8_t idx[ROUNDS][NPROC];
};

FIXTURE(barrier) {
	struct trackerd d;
	struct shared *s;
	pid_t pids[NPROC + 2];
	int fds_before;
};

FIXTURE_SETUP(barrier)
{
	self->s = MAP_FAILED;
	memset(self->pids, 0, sizeof(self->pids));
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
	self->s = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->s);
	ASSERT_EQ(0, sealshm_lock_init(&self->s->lk, NULL));
	self->s->wait_ms = 10000;
	for (int i = 0; i < NPROC; i++)
		self->s->result[i] = INT32_MIN;
	/* The holder connection lives as long as the process. */
	self->fds_before = helper_count_fds(0);
}

FIXTURE_TEARDOWN(barrier)
{
	for (size_t i = 0; i < ELEMENTSOF(self->pids); i++)
		helper_kill_reap(&self->pids[i]);
	if (self->s != MAP_FAILED)
		munmap(self->s, sizeof(struct shared));
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

static struct timespec ms_ts(unsigned int ms)
{
	return (struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
}

static uint32_t *bar_word(struct sealshm_barrier *b, size_t off)
{
	return (uint32_t *)((char *)b + off);
}

/* Reap @n pids (up to @ms in all); how many exited 0. */
static int reap_all(pid_t *pids, int n, unsigned int ms)
{
	uint64_t end = helper_now_ms() + ms;
	int ok = 0;

	for (int i = 0; i < n; i++) {
		uint64_t now = helper_now_ms();
		int st;

		if (!pids[i])
			continue;
		st = helper_reap(pids[i], now < end ? (unsigned int)(end - now) : 1);
		pids[i] = 0;
		if (st >= 0 && helper_exit_code(st) == 0)
			ok++;
	}
	return ok;
}

/* Wait up to @ms until n_waiting() is @n. */
static bool wait_n_waiting(struct sealshm_barrier *b, int n, unsigned int ms)
{
	uint64_t end = helper_now_ms() + ms;

	while (sealshm_barrier_n_waiting(b) != n)
		if (helper_now_ms() >= end)
			return false;
		else
			helper_sleep_ms(1);
	return true;
}

/* One wait; its result in s->result[i]; exit 0 whatever it was. */
static int once_child(void *arg, int i)
{
	struct shared *s = arg;
	struct timespec t = ms_ts(s->wait_ms);
	int r = sealshm_barrier_wait(&s->b, &t, s->flags);

	__atomic_store_n(&s->result[i], r, __ATOMIC_RELEASE);
	return 0;
}

static void spawn_once(struct __test_metadata *_metadata, FIXTURE_DATA(barrier) *self,
		       int first, int n)
{
	for (int i = first; i < first + n; i++) {
		self->s->result[i] = INT32_MIN;
		self->pids[i] = spawn_child(once_child, self->s, i);
		ASSERT_LT(0, self->pids[i]);
	}
}

/* A full round of @parties: @parties - 1 children and this process. */
static void full_round(struct __test_metadata *_metadata, FIXTURE_DATA(barrier) *self,
		       int parties)
{
	struct timespec t = ms_ts(10000);
	bool seen[NPROC + 1] = { false };
	int r;

	self->s->flags = 0;
	spawn_once(_metadata, self, 0, parties - 1);
	r = sealshm_barrier_wait(&self->s->b, &t, 0);
	ASSERT_LE(0, r);
	ASSERT_GT(parties, r);
	seen[r] = true;
	ASSERT_EQ(parties - 1, reap_all(self->pids, parties - 1, 10000));
	for (int i = 0; i < parties - 1; i++) {
		ASSERT_LE(0, self->s->result[i]);
		ASSERT_GT(parties, self->s->result[i]);
		EXPECT_FALSE(seen[self->s->result[i]]);
		seen[self->s->result[i]] = true;
	}
	EXPECT_EQ(0, sealshm_barrier_broken(&self->s->b));
	EXPECT_EQ(0, sealshm_barrier_n_waiting(&self->s->b));
}

/* --- bad input ------------------------------------------------------------------ */

/* parties 0 or > max, NULL, misaligned, wrong type, corrupt header or
 * counts, read-only mapping, bad flags: errors, never a hang or a crash. */
TEST_F(barrier, bad_input)
{
	struct sealshm_barrier *b = &self->s->b, *copy;
	struct timespec t = ms_ts(10);
	char *raw;
	int fd;

	EXPECT_EQ(-EINVAL, sealshm_barrier_init(b, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sealshm_barrier_init(b, SEALSHM_BARRIER_PARTIES_MAX + 1, NULL));
	EXPECT_EQ(-EINVAL, sealshm_barrier_init(NULL, 2, NULL));
	EXPECT_EQ(-EINVAL, sealshm_barrier_wait(NULL, NULL, 0));
	EXPECT_EQ(-EINVAL, sealshm_barrier_init((struct sealshm_barrier *)((char *)b + 4), 2,
						NULL));
	/* No barrier there yet. */
	EXPECT_EQ(-EBADMSG, sealshm_barrier_parties(b));
	EXPECT_EQ(-EBADMSG, sealshm_barrier_parties((struct sealshm_barrier *)&self->s->lk));

	ASSERT_EQ(0, sealshm_barrier_init(b, SEALSHM_BARRIER_PARTIES_MAX, NULL));
	EXPECT_EQ(SEALSHM_BARRIER_PARTIES_MAX, sealshm_barrier_parties(b));
	ASSERT_EQ(0, sealshm_barrier_init(b, 2, NULL));
	EXPECT_EQ(-EINVAL, sealshm_barrier_wait(b, &t, 1u << 7));
	EXPECT_EQ(0, sealshm_barrier_n_waiting(b));
	EXPECT_EQ(-EBADMSG, sealshm_lock_release((struct sealshm_lock *)b));

	/* Corrupt copies: header, parties, count. */
	raw = malloc(sizeof(*b) + 8);
	ASSERT_NE(NULL, raw);
	copy = (struct sealshm_barrier *)(((uintptr_t)raw + 7) & ~(uintptr_t)7);
	memcpy(copy, b, sizeof(*b));
	((char *)copy)[0] ^= 1;
	EXPECT_EQ(-EBADMSG, sealshm_barrier_wait(copy, &t, 0));
	memcpy(copy, b, sizeof(*b));
	*bar_word(copy, BAR_PARTIES_OFF) = 0;
	EXPECT_EQ(-EBADMSG, sealshm_barrier_wait(copy, &t, 0));
	*bar_word(copy, BAR_PARTIES_OFF) = SEALSHM_BARRIER_PARTIES_MAX + 1;
	EXPECT_EQ(-EBADMSG, sealshm_barrier_n_waiting(copy));
	*bar_word(copy, BAR_PARTIES_OFF) = 2;
	*bar_word(copy, BAR_COUNT_OFF) = 1000000;
	EXPECT_EQ(-EBADMSG, sealshm_barrier_wait(copy, &t, 0));
	EXPECT_EQ(-EBADMSG, sealshm_barrier_reset(copy));
	/* A table of garbage ids, counted: dead parties, so broken (found
	 * by a waiter; a last arriver would just pass). */
	*bar_word(copy, BAR_PARTIES_OFF) = 3;
	*bar_word(copy, BAR_COUNT_OFF) = 1;
	*bar_word(copy, BAR_TABLE_OFF) = 0x3ffffffe;
	EXPECT_EQ(-EPIPE, sealshm_barrier_wait(copy, &t, 0));
	EXPECT_EQ(1, sealshm_barrier_broken(copy));
	free(raw);

	/* Read-only mapping. */
	fd = memfd_create("barrier_ro", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	{
		void *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		void *rd = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

		ASSERT_NE(MAP_FAILED, rw);
		ASSERT_NE(MAP_FAILED, rd);
		ASSERT_EQ(0, sealshm_barrier_init(rw, 2, NULL));
		EXPECT_EQ(-EROFS, sealshm_barrier_wait(rd, &t, 0));
		EXPECT_EQ(-EROFS, sealshm_barrier_init(rd, 2, NULL));
		EXPECT_EQ(-EROFS, sealshm_barrier_reset(rd));
		EXPECT_EQ(2, sealshm_barrier_parties(rw));
		munmap(rw, 4096);
		munmap(rd, 4096);
	}
	close(fd);
}

/* --- CPython's semantics ------------------------------------------------------------ */

/* parties, n_waiting, broken; a barrier of one passes at once. */
TEST_F(barrier, properties_and_one_party)
{
	struct sealshm_barrier *b = &self->s->b;

	ASSERT_EQ(0, sealshm_barrier_init(b, 1, NULL));
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, sealshm_barrier_wait(b, NULL, 0));
	ASSERT_EQ(0, sealshm_barrier_init(b, 3, NULL));
	EXPECT_EQ(3, sealshm_barrier_parties(b));
	EXPECT_EQ(0, sealshm_barrier_n_waiting(b));
	EXPECT_EQ(0, sealshm_barrier_broken(b));
	spawn_once(_metadata, self, 0, 2);
	EXPECT_TRUE(wait_n_waiting(b, 2, 10000));
	EXPECT_EQ(0, sealshm_barrier_broken(b));
	EXPECT_LE(0, sealshm_barrier_wait(b, NULL, 0));
	EXPECT_EQ(2, reap_all(self->pids, 2, 10000));
	EXPECT_EQ(0, sealshm_barrier_n_waiting(b));
	EXPECT_LE(0, self->s->result[0]);
	EXPECT_LE(0, self->s->result[1]);
	EXPECT_NE(self->s->result[0], self->s->result[1]);
}

static int rounds_child(void *arg, int i)
{
	struct shared *s = arg;

	for (int r = 0; r < ROUNDS; r++) {
		struct timespec t = ms_ts(20000);
		int idx = sealshm_barrier_wait(&s->b, &t, 0);

		if (idx < 0)
			return 10 + (-idx & 0x7f) % 100;
		s->idx[r][i] = (uint8_t)idx;
	}
	return 0;
}

/* NPROC processes by ROUNDS rounds: each round's indices are a
 * permutation of 0..NPROC-1. */
TEST_F_TIMEOUT(barrier, rounds_are_permutations, 120)
{
	struct shared *s = self->s;
	int bad = 0;

	ASSERT_EQ(0, sealshm_barrier_init(&s->b, NPROC, NULL));
	for (int i = 0; i < NPROC; i++) {
		self->pids[i] = spawn_child(rounds_child, s, i);
		ASSERT_LT(0, self->pids[i]);
	}
	EXPECT_EQ(NPROC, reap_all(self->pids, NPROC, 100000));
	for (int r = 0; r < ROUNDS; r++) {
		unsigned int mask = 0;

		for (int i = 0; i < NPROC; i++)
			mask |= 1u << s->idx[r][i];
		bad += mask != (1u << NPROC) - 1;
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, sealshm_barrier_broken(&s->b));
}

/* A timeout breaks the barrier: -ETIMEDOUT for the one whose time ran
 * out, -EPIPE for the others and for later arrivals, until reset. */
TEST_F(barrier, timeout_breaks_it)
{
	struct sealshm_barrier *b = &self->s->b;
	struct timespec t = ms_ts(50);

	ASSERT_EQ(0, sealshm_barrier_init(b, 3, NULL));
	spawn_once(_metadata, self, 0, 1);
	ASSERT_TRUE(wait_n_waiting(b, 1, 10000));
	EXPECT_EQ(-ETIMEDOUT, sealshm_barrier_wait(b, &t, 0));
	EXPECT_EQ(1, reap_all(self->pids, 1, 10000));
	EXPECT_EQ(-EPIPE, self->s->result[0]);
	EXPECT_EQ(1, sealshm_barrier_broken(b));
	EXPECT_EQ(0, sealshm_barrier_n_waiting(b));
	EXPECT_EQ(-EPIPE, sealshm_barrier_wait(b, &t, 0));
	EXPECT_EQ(EPIPE, errno);

	EXPECT_EQ(0, sealshm_barrier_reset(b));
	EXPECT_EQ(0, sealshm_barrier_broken(b));
	full_round(_metadata, self, 3);

	/* Absolute deadlines too. */
	{
		struct timespec abs;

		spawn_once(_metadata, self, 0, 1);
		ASSERT_TRUE(wait_n_waiting(b, 1, 10000));
		ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &abs));
		EXPECT_EQ(-ETIMEDOUT, sealshm_barrier_wait(b, &abs, SEALSHM_WAIT_ABSTIME));
		EXPECT_EQ(1, reap_all(self->pids, 1, 10000));
		EXPECT_EQ(-EPIPE, self->s->result[0]);
		EXPECT_EQ(0, sealshm_barrier_reset(b));
	}
}

/* abort() breaks it for the waiters and later arrivals; reset() mends. */
TEST_F(barrier, abort_breaks_it)
{
	struct sealshm_barrier *b = &self->s->b;

	ASSERT_EQ(0, sealshm_barrier_init(b, 3, NULL));
	spawn_once(_metadata, self, 0, 2);
	ASSERT_TRUE(wait_n_waiting(b, 2, 10000));
	EXPECT_EQ(0, sealshm_barrier_abort(b));
	EXPECT_EQ(2, reap_all(self->pids, 2, 10000));
	EXPECT_EQ(-EPIPE, self->s->result[0]);
	EXPECT_EQ(-EPIPE, self->s->result[1]);
	EXPECT_EQ(1, sealshm_barrier_broken(b));
	EXPECT_EQ(-EPIPE, sealshm_barrier_wait(b, NULL, 0));
	EXPECT_EQ(0, sealshm_barrier_reset(b));
	full_round(_metadata, self, 3);
}

/* reset() with parties waiting: they get -EPIPE (BrokenBarrierError),
 * and the barrier is usable again, unbroken. */
TEST_F(barrier, reset_wakes_waiters)
{
	struct sealshm_barrier *b = &self->s->b;

	ASSERT_EQ(0, sealshm_barrier_init(b, 3, NULL));
	spawn_once(_metadata, self, 0, 2);
	ASSERT_TRUE(wait_n_waiting(b, 2, 10000));
	EXPECT_EQ(0, sealshm_barrier_reset(b));
	EXPECT_EQ(2, reap_all(self->pids, 2, 10000));
	EXPECT_EQ(-EPIPE, self->s->result[0]);
	EXPECT_EQ(-EPIPE, self->s->result[1]);
	EXPECT_EQ(0, sealshm_barrier_broken(b));
	EXPECT_EQ(0, sealshm_barrier_n_waiting(b));
	full_round(_metadata, self, 3);
	full_round(_metadata, self, 3);
}

/* SEALSHM_BARRIER_ACTION: the last arriver returns parties - 1 at once
 * with the others still waiting; pass() lets them go, abort() breaks it;
 * pass() with no action of ours pending is -EPERM. */
TEST_F(barrier, action_protocol)
{
	struct sealshm_barrier *b = &self->s->b;
	struct timespec t = ms_ts(10000);

	ASSERT_EQ(0, sealshm_barrier_init(b, 3, NULL));
	EXPECT_EQ(-EPERM, sealshm_barrier_pass(b));
	self->s->flags = SEALSHM_BARRIER_ACTION;
	spawn_once(_metadata, self, 0, 2);
	ASSERT_TRUE(wait_n_waiting(b, 2, 10000));
	EXPECT_EQ(2, sealshm_barrier_wait(b, &t, SEALSHM_BARRIER_ACTION));
	EXPECT_EQ(3, sealshm_barrier_n_waiting(b));
	helper_sleep_ms(100);
	EXPECT_EQ(INT32_MIN, self->s->result[0]);
	EXPECT_EQ(INT32_MIN, self->s->result[1]);
	EXPECT_EQ(0, sealshm_barrier_pass(b));
	EXPECT_EQ(2, reap_all(self->pids, 2, 10000));
	EXPECT_EQ(1, self->s->result[0] + self->s->result[1]);
	EXPECT_EQ(-EPERM, sealshm_barrier_pass(b));
	EXPECT_EQ(0, sealshm_barrier_n_waiting(b));

	/* The action fails: abort. */
	spawn_once(_metadata, self, 0, 2);
	ASSERT_TRUE(wait_n_waiting(b, 2, 10000));
	EXPECT_EQ(2, sealshm_barrier_wait(b, &t, SEALSHM_BARRIER_ACTION));
	EXPECT_EQ(0, sealshm_barrier_abort(b));
	EXPECT_EQ(2, reap_all(self->pids, 2, 10000));
	EXPECT_EQ(-EPIPE, self->s->result[0]);
	EXPECT_EQ(-EPIPE, self->s->result[1]);
	EXPECT_EQ(-EPERM, sealshm_barrier_pass(b));
	EXPECT_EQ(1, sealshm_barrier_broken(b));
	EXPECT_EQ(0, sealshm_barrier_reset(b));

	/* Waiters whose timeout runs out during the action wait for it
	 * (CPython: they wait for the lock the action runs under).  Their
	 * timeout is long enough for both to arrive on a loaded machine
	 * (else the first one's runs out before the second comes, and
	 * breaks the barrier), and the action outlasts it. */
	self->s->wait_ms = 1000;
	spawn_once(_metadata, self, 0, 2);
	ASSERT_TRUE(wait_n_waiting(b, 2, 10000));
	EXPECT_EQ(2, sealshm_barrier_wait(b, &t, SEALSHM_BARRIER_ACTION));
	helper_sleep_ms(1500);
	EXPECT_EQ(0, sealshm_barrier_pass(b));
	EXPECT_EQ(2, reap_all(self->pids, 2, 10000));
	EXPECT_EQ(1, self->s->result[0] + self->s->result[1]);
	full_round(_metadata, self, 3);
}

/* --- deaths ------------------------------------------------------------------------ */

/* Wait round after round until an error: exit 0 on -EPIPE, 1 on
 * -ETIMEDOUT, 2 on anything else. */
static int loop_child(void *arg, int i)
{
	struct shared *s = arg;
	struct sealshm_object_info info = { .sz = sizeof(info) };

	if (sealshm_lock_acquire(&s->idlk[i], NULL, 0) < 0 ||
	    sealshm_object_info(&s->idlk[i], sizeof(s->idlk[i]), NULL, &info) < 0)
		return 3;
	__atomic_store_n(&s->ids[i], info.holder, __ATOMIC_RELEASE);
	for (;;) {
		struct timespec t = ms_ts(s->wait_ms);
		int r = sealshm_barrier_wait(&s->b, &t, s->flags);

		if (r >= 0) {
			s->waits[i]++;
			continue;
		}
		__atomic_store_n(&s->result[i], r, __ATOMIC_RELEASE);
		return r == -EPIPE ? 0 : r == -ETIMEDOUT ? 1 : 2;
	}
}

/* Whether holder @id is inside the barrier: in the guard, or counted in
 * the table (read while the victim is dead and the others may move
 * entries: a removal only ever takes a dead one out, and breaks it). */
static bool inside(struct sealshm_barrier *b, uint32_t id)
{
	uint64_t instance = *(uint64_t *)((char *)b + 8), end = helper_now_ms() + 10000;
	const struct sealshm__holder *h;
	uint32_t count, g;

	/* Once its death shows and the guard is free, nothing can pass the
	 * generation it waited in (the last arriver looks for the dead). */
	if (sealshm__holder_find(instance, &h) < 0)
		return false;
	while (sealshm__holder_alive(h, id) && helper_now_ms() < end)
		helper_sleep_ms(1);
	do {
		g = __atomic_load_n(bar_word(b, BAR_GUARD_OFF), __ATOMIC_ACQUIRE) & 0x3fffffff;
	} while (g && g != id && sealshm__holder_alive(h, g) && helper_now_ms() < end);
	count = __atomic_load_n(bar_word(b, BAR_COUNT_OFF), __ATOMIC_ACQUIRE);

	if ((__atomic_load_n(bar_word(b, BAR_GUARD_OFF), __ATOMIC_ACQUIRE) & 0x3fffffff) == id)
		return true;
	for (uint32_t i = 0; i < count && i < SEALSHM_BARRIER_PARTIES_MAX; i++)
		if (__atomic_load_n(bar_word(b, BAR_TABLE_OFF + 4 * i), __ATOMIC_RELAXED) == id)
			return true;
	return sealshm_barrier_broken(b) == 1;
}

/* kill -9 of a party at a random moment (arriving, in the guard,
 * asleep, just released): when it died inside the barrier the others all
 * get -EPIPE, never their (long) timeout; when it died between two waits
 * it was no waiting party and breaks nothing, so this process aborts the
 * barrier to end the round.  Reset makes it usable again. */
TEST_F_TIMEOUT(barrier, party_dies_at_random, 170)
{
	struct shared *s = self->s;
	unsigned int seed = (unsigned int)getpid();
	int epipe_only = 0;

	s->wait_ms = 30000;
	ASSERT_EQ(0, sealshm_barrier_init(&s->b, 4, NULL));
	int k;

	for (k = 0; k < RANDOM_KILLS; k++) {
		int v = rand_r(&seed) % 4, ok;

		uint64_t end = helper_now_ms() + 10000;
		bool started = false;

		bool in;

		memset(s->waits, 0, sizeof(s->waits));
		memset(s->ids, 0, sizeof(s->ids));
		for (int i = 0; i < 4; i++) {
			ASSERT_EQ(0, sealshm_lock_init(&s->idlk[i], NULL));
			self->pids[i] = spawn_child(loop_child, s, i);
			ASSERT_LT(0, self->pids[i]);
		}
		/* Going round, then a moment later. */
		while (!started && helper_now_ms() < end) {
			started = __atomic_load_n(&s->waits[v], __ATOMIC_RELAXED) > 0;
			helper_sleep_ms(1);
		}
		ASSERT_TRUE(started);
		usleep(rand_r(&seed) % 5000);
		ASSERT_EQ(0, kill(self->pids[v], SIGKILL));
		helper_kill_reap(&self->pids[v]);
		ASSERT_NE(0, s->ids[v]);
		in = inside(&s->b, s->ids[v]);
		if (!in)
			EXPECT_EQ(0, sealshm_barrier_abort(&s->b));
		ok = 0;
		for (int i = 0; i < 4; i++) {
			int st;

			if (i == v)
				continue;
			st = helper_reap(self->pids[i], 20000);
			self->pids[i] = 0;
			ok += st >= 0 && helper_exit_code(st) == 0;
			if (st < 0 || helper_exit_code(st) != 0)
				TH_LOG("party %d: exit %d, result %d", i,
				       st < 0 ? st : helper_exit_code(st), s->result[i]);
		}
		ASSERT_EQ(3, ok) {
			TH_LOG("kill %d of party %d: %s the barrier; word %#x count %u guard %#x",
			       k, v, in ? "inside" : "outside", *bar_word(&s->b, 16),
			       *bar_word(&s->b, BAR_COUNT_OFF), *bar_word(&s->b, BAR_GUARD_OFF));
		}
		epipe_only += in;
		EXPECT_EQ(0, sealshm_barrier_reset(&s->b));
		EXPECT_EQ(0, sealshm_barrier_broken(&s->b));
		EXPECT_EQ(0, sealshm_barrier_n_waiting(&s->b));
	}
	/* How many broke it by the death alone (the deterministic tests
	 * below make sure of each case: asleep, running the action, inside
	 * the guard). */
	TH_LOG("%d of %d kills inside the barrier", epipe_only, k);
	full_round(_metadata, self, 4);
}

/* kill -9 of a party asleep in the wait: every other gets -EPIPE (not
 * its timeout), every time. */
TEST_F_TIMEOUT(barrier, party_dies_asleep, 120)
{
	struct shared *s = self->s;
	unsigned int seed = (unsigned int)getpid();

	s->wait_ms = 30000;
	ASSERT_EQ(0, sealshm_barrier_init(&s->b, 5, NULL));
	for (int k = 0; k < ASLEEP_KILLS; k++) {
		int v = rand_r(&seed) % 4;
		uint64_t t0;

		spawn_once(_metadata, self, 0, 4);
		ASSERT_TRUE(wait_n_waiting(&s->b, 4, 10000));
		ASSERT_EQ(0, helper_wait_futex_sleepers(self->pids, 4, 10000));
		t0 = helper_now_ms();
		ASSERT_EQ(0, kill(self->pids[v], SIGKILL));
		helper_kill_reap(&self->pids[v]);
		EXPECT_EQ(3, reap_all(self->pids, 4, 10000));
		/* Well before their 30 s. */
		EXPECT_GT(t0 + 10000, helper_now_ms());
		for (int i = 0; i < 4; i++)
			if (i != v)
				EXPECT_EQ(-EPIPE, s->result[i]);
		EXPECT_EQ(1, sealshm_barrier_broken(&s->b));
		EXPECT_EQ(-EPIPE, sealshm_barrier_wait(&s->b, NULL, 0));
		EXPECT_EQ(0, sealshm_barrier_reset(&s->b));
	}
	full_round(_metadata, self, 5);
}

static int action_runner_child(void *arg, int i)
{
	struct shared *s = arg;
	struct timespec t = ms_ts(10000);
	int r = sealshm_barrier_wait(&s->b, &t, SEALSHM_BARRIER_ACTION);

	__atomic_store_n(&s->result[i], r, __ATOMIC_RELEASE);
	/* Runs its action for ever: killed there. */
	for (int k = 0; k < 3000; k++)
		helper_sleep_ms(10);
	return 1;
}

/* The last arriver dies running the action: the others get -EPIPE. */
TEST_F(barrier, action_runner_dies)
{
	struct shared *s = self->s;
	uint64_t end;

	ASSERT_EQ(0, sealshm_barrier_init(&s->b, 3, NULL));
	s->wait_ms = 30000;
	spawn_once(_metadata, self, 0, 2);
	ASSERT_TRUE(wait_n_waiting(&s->b, 2, 10000));
	s->result[2] = INT32_MIN;
	self->pids[2] = spawn_child(action_runner_child, s, 2);
	ASSERT_LT(0, self->pids[2]);
	end = helper_now_ms() + 10000;
	while (__atomic_load_n(&s->result[2], __ATOMIC_ACQUIRE) == INT32_MIN &&
	       helper_now_ms() < end)
		helper_sleep_ms(1);
	ASSERT_EQ(2, s->result[2]);
	EXPECT_EQ(3, sealshm_barrier_n_waiting(&s->b));
	helper_kill_reap(&self->pids[2]);
	EXPECT_EQ(2, reap_all(self->pids, 2, 10000));
	EXPECT_EQ(-EPIPE, s->result[0]);
	EXPECT_EQ(-EPIPE, s->result[1]);
	EXPECT_EQ(0, sealshm_barrier_reset(&s->b));
	full_round(_metadata, self, 3);
}

static int guard_dier_child(void *arg, int i)
{
	struct shared *s = arg;
	struct sealshm_object_info info = { .sz = sizeof(info) };
	uint32_t count;

	(void)i;
	/* Its holder id, as a held Lock shows it. */
	if (sealshm_lock_acquire(&s->lk, NULL, 0) < 0 ||
	    sealshm_object_info(&s->lk, sizeof(s->lk), NULL, &info) < 0 || !info.holder)
		return 1;
	/* Inside the guard, halfway through an arrival: its entry
	 * written, not yet counted.  Then it dies. */
	__atomic_store_n(bar_word(&s->b, BAR_GUARD_OFF), info.holder, __ATOMIC_SEQ_CST);
	count = *bar_word(&s->b, BAR_COUNT_OFF);
	__atomic_store_n(bar_word(&s->b, BAR_TABLE_OFF + 4 * count), info.holder,
			 __ATOMIC_SEQ_CST);
	raise(SIGKILL);
	return 2;
}

/* A process that dies holding the barrier's guard: a sleeping party takes
 * it over, repairs, breaks the barrier; reset works after. */
TEST_F(barrier, guard_holder_dies)
{
	struct shared *s = self->s;

	ASSERT_EQ(0, sealshm_barrier_init(&s->b, 3, NULL));
	s->wait_ms = 30000;
	spawn_once(_metadata, self, 0, 1);
	ASSERT_TRUE(wait_n_waiting(&s->b, 1, 10000));
	ASSERT_EQ(0, helper_wait_futex_sleepers(self->pids, 1, 10000));
	self->pids[1] = spawn_child(guard_dier_child, s, 1);
	ASSERT_LT(0, self->pids[1]);
	EXPECT_EQ(128 + SIGKILL, helper_exit_code(helper_reap(self->pids[1], 10000)));
	self->pids[1] = 0;
	EXPECT_EQ(1, reap_all(self->pids, 1, 10000));
	EXPECT_EQ(-EPIPE, s->result[0]);
	EXPECT_EQ(0, *bar_word(&s->b, BAR_GUARD_OFF));
	EXPECT_EQ(1, sealshm_barrier_broken(&s->b));
	EXPECT_EQ(0, sealshm_barrier_reset(&s->b));
	full_round(_metadata, self, 3);
	/* The dead holder's Lock, for the record. */
	EXPECT_EQ(-EOWNERDEAD, sealshm_lock_acquire(&s->lk, NULL, 0));
	EXPECT_EQ(0, sealshm_lock_consistent(&s->lk));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
}

/* As an object of its own (sealshm_object_create()) and described by
 * sealshm_object_info(): parties, n_waiting, waiters, BROKEN. */
TEST_F(barrier, object_and_info)
{
	SEALSHM_OPTS(sealshm_object_params, p, .type = SEALSHM_OBJECT_BARRIER, .parties = 0);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_barrier *b;
	struct sealshm *shm = NULL;

	EXPECT_EQ(-EINVAL, sealshm_object_create(NULL, &p, NULL, &shm));
	p.parties = SEALSHM_BARRIER_PARTIES_MAX + 1;
	EXPECT_EQ(-EINVAL, sealshm_object_create(NULL, &p, NULL, &shm));
	p.parties = 3;
	ASSERT_EQ(0, sealshm_object_create(NULL, &p, NULL, &shm));
	b = sealshm_buf(shm);
	EXPECT_STREQ("barrier", sealshm_object_type_name(SEALSHM_OBJECT_BARRIER));
	EXPECT_EQ(3, sealshm_barrier_parties(b));
	ASSERT_EQ(0, sealshm_object_info(b, sizeof(*b), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_BARRIER, info.type);
	EXPECT_EQ(sizeof(*b), info.size);
	EXPECT_EQ(3, info.max);
	EXPECT_EQ(0, info.value);
	EXPECT_EQ(0, info.flags & SEALSHM_OBJECT_BROKEN);

	/* A waiter in it. */
	self->pids[0] = fork();
	ASSERT_LE(0, self->pids[0]);
	if (self->pids[0] == 0) {
		struct timespec t = ms_ts(10000);

		_exit(sealshm_barrier_wait(b, &t, 0) == -EPIPE ? 0 : 1);
	}
	ASSERT_TRUE(wait_n_waiting(b, 1, 10000));
	ASSERT_EQ(0, sealshm_object_info(b, sizeof(*b), NULL, &info));
	EXPECT_EQ(1, info.value);
	EXPECT_EQ(1, info.waiters);
	EXPECT_EQ(0, sealshm_barrier_abort(b));
	EXPECT_EQ(1, reap_all(self->pids, 1, 10000));
	ASSERT_EQ(0, sealshm_object_info(b, sizeof(*b), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_BROKEN, info.flags & SEALSHM_OBJECT_BROKEN);
	EXPECT_EQ(0, info.value);
	EXPECT_EQ(0, sealshm_barrier_reset(b));
	EXPECT_EQ(0, sealshm_unlink(shm));
	sealshm_close(shm);
}

TEST_HARNESS_MAIN

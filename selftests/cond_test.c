// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cond_test: sealshm_cond_* (multiprocessing.Condition) between real
 * processes over a private trackerd: a producer/consumer that loses no
 * item, notify(n) waking n sleepers and notify_all all, timeouts that
 * return with the lock held, -EPERM without the lock, an RLock held
 * recursively, deaths of waiters and notifiers at random moments (the
 * survivors go on, later notifies still wake exactly as many), notify(1)
 * waking exactly one while other processes of the trackerd die, what a
 * dead waiter's share becomes, and bad input.  Every wait is bounded.
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

#define PRODUCERS	3
#define CONSUMERS	3
#define ITEMS		1500	/* per producer */
#define RING		8
#define SLEEPERS	6
#define WAITERS_MAX	8
#define NOTIFIERS	2
#define KILLS		40
#define EXACT_WAITERS	4
#define EXACT_NOTIFIES	25

/* The layout's state word (Documentation/objects.md): at offset 16, 64
 * bits changed whole by a compare-and-swap. */
#define COND_STATE_OFF	16
union cond_state {
	uint64_t all;
	struct {
		uint16_t seq, gen, waiters, wakeups;
	} f;
};

static uint64_t *cond_state_word(struct sealshm_cond *c)
{
	return (uint64_t *)((char *)c + COND_STATE_OFF);
}

static union cond_state cond_state(struct sealshm_cond *c)
{
	return (union cond_state){ .all = __atomic_load_n(cond_state_word(c), __ATOMIC_ACQUIRE) };
}

/* The compare-and-swap of a notify(@n) that wakes some but not all, as
 * the layout says, without the futex wake that follows it. */
static bool cond_hand_out(struct sealshm_cond *c, uint16_t n)
{
	union cond_state cur = cond_state(c), next;

	do {
		if (cur.f.waiters <= n)
			return false;
		next = cur;
		next.f.seq++;
		next.f.waiters -= n;
		next.f.wakeups += n;
	} while (!__atomic_compare_exchange_n(cond_state_word(c), &cur.all, next.all, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
	return true;
}

/* What the processes share, in a MAP_SHARED mapping. */
struct shared {
	struct sealshm_lock lk;
	struct sealshm_rlock rl;
	struct sealshm_cond c;		/* not empty, tokens, wake-ups */
	struct sealshm_cond c2;		/* not full */
	uint32_t ready, woken, stop;
	uint32_t head, tail, consumed;
	uint32_t ring[RING];
	uint32_t tokens, produced, taken;
	uint32_t failures;
	uint32_t churn_stop, deaths, gc_ready;
	uint8_t seen[PRODUCERS * ITEMS];
};

FIXTURE(cond) {
	struct trackerd d;
	struct shared *s;
	pid_t pids[16];
	int fds_before;
};

FIXTURE_SETUP(cond)
{
	self->s = MAP_FAILED;
	memset(self->pids, 0, sizeof(self->pids));
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
	self->s = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->s);
	ASSERT_EQ(0, sealshm_lock_init(&self->s->lk, NULL));
	ASSERT_EQ(0, sealshm_rlock_init(&self->s->rl, NULL));
	ASSERT_EQ(0, sealshm_cond_init(&self->s->c, NULL));
	ASSERT_EQ(0, sealshm_cond_init(&self->s->c2, NULL));
	/* The holder connection opened by the first init lives as long as
	 * the process: part of the baseline. */
	self->fds_before = helper_count_fds(0);
}

FIXTURE_TEARDOWN(cond)
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

/* In children: the lock, taken over from a dead holder when it comes to
 * that (nothing it guards needs repair in these tests). */
static int lock_take(struct shared *s)
{
	struct timespec t = ms_ts(20000);
	int r = sealshm_lock_acquire(&s->lk, &t, 0);

	if (r == -EOWNERDEAD)
		r = sealshm_lock_consistent(&s->lk);
	return r;
}

/* cond_wait with -EOWNERDEAD made consistent; 0, -ETIMEDOUT or -EINTR
 * (lock held), or an error. */
static int wait_c(struct shared *s, struct sealshm_cond *c, unsigned int ms)
{
	struct timespec t = ms_ts(ms);
	int r = sealshm_cond_wait(c, &s->lk, &t, 0);

	if (r == -EOWNERDEAD)
		r = sealshm_lock_consistent(&s->lk);
	return r;
}

/* Reap every pid of @self->pids (up to @ms in all); the number that
 * exited 0. */
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

/* --- bad input ------------------------------------------------------------- */

/* NULL, misaligned, wrong type, corrupt header, read-only mapping, bad
 * flags and timeouts: errors, no hang, no crash. */
TEST_F(cond, bad_input)
{
	struct timespec bad = { .tv_sec = 0, .tv_nsec = 1000000000L }, t = ms_ts(10);
	struct shared *s = self->s;
	uint64_t scratch[8] = { 0 };
	struct sealshm_cond *ro;
	char *raw = (char *)scratch;
	int fd;

	EXPECT_EQ(-EINVAL, sealshm_cond_init(NULL, NULL));
	EXPECT_EQ(-EINVAL, sealshm_cond_notify(NULL, 1));
	EXPECT_EQ(-EINVAL, sealshm_cond_wait(&s->c, NULL, NULL, 0));
	EXPECT_EQ(-EINVAL, sealshm_cond_wait_rlock(NULL, &s->rl, NULL, 0));
	EXPECT_EQ(-EINVAL, sealshm_cond_init((struct sealshm_cond *)(raw + 4), NULL));

	/* A Lock is no Condition, and a Condition no Lock. */
	EXPECT_EQ(-EBADMSG, sealshm_cond_notify((struct sealshm_cond *)&s->lk, 1));
	EXPECT_EQ(EBADMSG, errno);
	EXPECT_EQ(-EBADMSG, sealshm_cond_wait((struct sealshm_cond *)&s->rl, &s->lk, &t, 0));

	/* Bad flags or timespec: nothing released. */
	ASSERT_EQ(0, lock_take(s));
	EXPECT_EQ(-EINVAL, sealshm_cond_wait(&s->c, &s->lk, &t, 1u << 7));
	EXPECT_EQ(-EINVAL, sealshm_cond_wait(&s->c, &s->lk, &bad, 0));
	EXPECT_EQ(-EBUSY, sealshm_lock_tryacquire(&s->lk)) {
		TH_LOG("the lock stays held");
	}
	/* The Condition over a wrong object. */
	EXPECT_EQ(-EBADMSG, sealshm_cond_wait(&s->c, (struct sealshm_lock *)&s->c2, &t, 0));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));

	/* Corrupt header: magic, then version. */
	memcpy(raw, &s->c, sizeof(s->c));
	raw[0] ^= 0x55;
	EXPECT_EQ(-EBADMSG, sealshm_cond_notify_all((struct sealshm_cond *)raw));
	raw[0] ^= 0x55;
	raw[4] = 99;
	EXPECT_EQ(-EBADMSG, sealshm_cond_notify((struct sealshm_cond *)raw, 1));
	memset(raw, 0, 64);

	/* Read-only mapping of a live Condition. */
	fd = memfd_create("cond_ro", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	{
		void *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		void *rd = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

		ASSERT_NE(MAP_FAILED, rw);
		ASSERT_NE(MAP_FAILED, rd);
		ASSERT_EQ(0, sealshm_cond_init(rw, NULL));
		ro = rd;
		EXPECT_EQ(-EROFS, sealshm_cond_notify(ro, 1));
		EXPECT_EQ(-EROFS, sealshm_cond_init(ro, NULL));
		EXPECT_EQ(0, sealshm_cond_notify(rw, 1));
		munmap(rw, 4096);
		munmap(rd, 4096);
	}
	close(fd);
}

/* --- the lock ----------------------------------------------------------------- */

static int hold_lock_child(void *arg, int i)
{
	struct shared *s = arg;

	(void)i;
	if (lock_take(s) < 0)
		return 1;
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
		helper_sleep_ms(2);
	return sealshm_lock_release(&s->lk) == 0 ? 0 : 2;
}

/* wait without holding the lock, or while another process holds it:
 * -EPERM, and the waiter count is back where it was. */
TEST_F(cond, eperm_without_lock)
{
	struct shared *s = self->s;
	struct timespec t = ms_ts(10);
	uint64_t end;

	EXPECT_EQ(-EPERM, sealshm_cond_wait(&s->c, &s->lk, &t, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-EPERM, sealshm_cond_wait_rlock(&s->c, &s->rl, &t, 0));

	self->pids[0] = spawn_child(hold_lock_child, s, 0);
	ASSERT_LT(0, self->pids[0]);
	end = helper_now_ms() + 10000;
	while (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) && helper_now_ms() < end)
		helper_sleep_ms(2);
	ASSERT_EQ(1, s->ready);
	EXPECT_EQ(-EPERM, sealshm_cond_wait(&s->c, &s->lk, &t, 0));
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(1, reap_all(self->pids, 1, 10000));

	/* Nobody left counted, and no notify came. */
	EXPECT_EQ(0, cond_state(&s->c).all);
}

/* 65535 counted (waiters and wake-ups not taken, as dead waiters could
 * leave them): a wait returns at once, as a spurious wake-up, with the
 * lock held; a notify of everyone drops the counts and waits sleep
 * again. */
TEST_F(cond, counts_full)
{
	struct shared *s = self->s;
	struct timespec t = ms_ts(30);
	union cond_state st = { .f = { .waiters = 65000, .wakeups = 535 } };

	__atomic_store_n(cond_state_word(&s->c), st.all, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, lock_take(s));
	EXPECT_EQ(0, sealshm_cond_wait(&s->c, &s->lk, &t, 0));
	EXPECT_EQ(-EBUSY, sealshm_lock_tryacquire(&s->lk));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
	EXPECT_EQ(-EPERM, sealshm_cond_wait(&s->c, &s->lk, &t, 0));
	EXPECT_EQ(st.all, cond_state(&s->c).all);

	EXPECT_EQ(0, sealshm_cond_notify_all(&s->c));
	st = cond_state(&s->c);
	EXPECT_EQ(1, st.f.gen);
	EXPECT_EQ(0, st.f.waiters + st.f.wakeups);
	ASSERT_EQ(0, lock_take(s));
	EXPECT_EQ(-ETIMEDOUT, sealshm_cond_wait(&s->c, &s->lk, &t, 0));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
}

/* Timeouts, relative and absolute, return -ETIMEDOUT with the lock held
 * again, after the time asked for. */
TEST_F(cond, timeout_keeps_lock)
{
	struct shared *s = self->s;
	struct timespec t = ms_ts(50), abs;
	uint64_t t0;

	ASSERT_EQ(0, lock_take(s));
	t0 = helper_now_ms();
	EXPECT_EQ(-ETIMEDOUT, sealshm_cond_wait(&s->c, &s->lk, &t, 0));
	EXPECT_LE(t0 + 50, helper_now_ms());
	EXPECT_EQ(-EBUSY, sealshm_lock_tryacquire(&s->lk));

	ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &abs));
	abs.tv_nsec += 60 * 1000000L;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	t0 = helper_now_ms();
	EXPECT_EQ(-ETIMEDOUT, sealshm_cond_wait(&s->c, &s->lk, &abs, SEALSHM_WAIT_ABSTIME));
	EXPECT_LE(t0 + 59, helper_now_ms());
	/* A deadline already past: at once, still held. */
	EXPECT_EQ(-ETIMEDOUT, sealshm_cond_wait(&s->c, &s->lk, &abs, SEALSHM_WAIT_ABSTIME));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
	EXPECT_EQ(-EPERM, sealshm_lock_release(&s->lk));
}

static int rlock_taker_child(void *arg, int i)
{
	struct shared *s = arg;
	struct timespec t = ms_ts(10000);

	(void)i;
	/* Only possible while the waiter has released it completely. */
	if (sealshm_rlock_acquire(&s->rl, &t, 0) != 0)
		return 1;
	s->woken = 1;
	if (sealshm_cond_notify(&s->c, 1) != 0)
		return 2;
	return sealshm_rlock_release(&s->rl) == 0 ? 0 : 3;
}

/* Over an RLock held three times: released fully while waiting (another
 * process takes it), its count restored after. */
TEST_F(cond, rlock_count_restored)
{
	struct shared *s = self->s;
	struct timespec t = ms_ts(10000);
	int r = 0;

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, sealshm_rlock_acquire(&s->rl, NULL, 0));
	self->pids[0] = spawn_child(rlock_taker_child, s, 0);
	ASSERT_LT(0, self->pids[0]);
	while (!s->woken && r >= 0)
		r = sealshm_cond_wait_rlock(&s->c, &s->rl, &t, 0);
	EXPECT_EQ(0, r);
	EXPECT_EQ(1, s->woken);
	EXPECT_EQ(1, reap_all(self->pids, 1, 10000));
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, sealshm_rlock_release(&s->rl));
	EXPECT_EQ(-EPERM, sealshm_rlock_release(&s->rl));

	/* A timeout also restores the count. */
	ASSERT_EQ(0, sealshm_rlock_acquire(&s->rl, NULL, 0));
	ASSERT_EQ(0, sealshm_rlock_acquire(&s->rl, NULL, 0));
	t = ms_ts(20);
	EXPECT_EQ(-ETIMEDOUT, sealshm_cond_wait_rlock(&s->c, &s->rl, &t, 0));
	EXPECT_EQ(0, sealshm_rlock_release(&s->rl));
	EXPECT_EQ(0, sealshm_rlock_release(&s->rl));
	EXPECT_EQ(-EPERM, sealshm_rlock_release(&s->rl));
}

/* --- notify(n) and notify_all ------------------------------------------------- */

/* One wait, counted in s->ready before and s->woken after. */
static int sleeper_child(void *arg, int i)
{
	struct shared *s = arg;
	int r;

	(void)i;
	if (lock_take(s) < 0)
		return 1;
	s->ready++;
	r = wait_c(s, &s->c, 20000);
	s->woken++;
	if (sealshm_lock_release(&s->lk) < 0)
		return 2;
	/* Alive until told, or at once with s->stop set: an exit moves
	 * the death epoch, through which the sleepers a notify passed over
	 * must sleep on (notifier_dies_before_wake counts that). */
	for (int k = 0; k < 2000 && !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE); k++)
		helper_sleep_ms(10);
	return r == 0 ? 0 : 3;
}

static uint32_t locked_get(struct shared *s, uint32_t *v)
{
	uint32_t x;

	if (lock_take(s) < 0)
		return UINT32_MAX;
	x = *v;
	(void)sealshm_lock_release(&s->lk);
	return x;
}

/* Wait up to @ms until *@v (read under the lock) is @want. */
static bool locked_wait_for(struct shared *s, uint32_t *v, uint32_t want, unsigned int ms)
{
	uint64_t end = helper_now_ms() + ms;

	while (locked_get(s, v) != want)
		if (helper_now_ms() >= end)
			return false;
		else
			helper_sleep_ms(2);
	return true;
}

/* @n sleepers asleep in the wait; then notify(2) wakes exactly 2,
 * notify(3) 3 more, notify_all the rest. */
static void notify_counts(struct __test_metadata *_metadata, struct shared *s, pid_t *pids)
{
	s->ready = s->woken = s->stop = 0;
	for (int i = 0; i < SLEEPERS; i++) {
		pids[i] = spawn_child(sleeper_child, s, i);
		ASSERT_LT(0, pids[i]);
	}
	ASSERT_TRUE(locked_wait_for(s, &s->ready, SLEEPERS, 10000));
	ASSERT_EQ(0, helper_wait_futex_sleepers(pids, SLEEPERS, 10000));

	ASSERT_EQ(0, lock_take(s));
	EXPECT_EQ(0, sealshm_cond_notify(&s->c, 2));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
	EXPECT_TRUE(locked_wait_for(s, &s->woken, 2, 10000));
	helper_sleep_ms(100);
	EXPECT_EQ(2, locked_get(s, &s->woken)) {
		TH_LOG("notify(2) woke more than 2");
	}

	EXPECT_EQ(0, sealshm_cond_notify(&s->c, 3));	/* without the lock, as pthreads allow */
	EXPECT_TRUE(locked_wait_for(s, &s->woken, 5, 10000));
	helper_sleep_ms(100);
	EXPECT_EQ(5, locked_get(s, &s->woken));

	ASSERT_EQ(0, lock_take(s));
	EXPECT_EQ(0, sealshm_cond_notify_all(&s->c));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
	EXPECT_TRUE(locked_wait_for(s, &s->woken, SLEEPERS, 10000));
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(SLEEPERS, reap_all(pids, SLEEPERS, 10000));
	EXPECT_EQ(SLEEPERS, s->woken);
}

TEST_F(cond, notify_n_wakes_n)
{
	notify_counts(_metadata, self->s, self->pids);
	/* notify(0), and notify with nobody waiting: nothing. */
	EXPECT_EQ(0, sealshm_cond_notify(&self->s->c, 0));
	EXPECT_EQ(0, sealshm_cond_notify_all(&self->s->c));
}

/* --- producer / consumer ------------------------------------------------------- */

static int producer_child(void *arg, int p)
{
	struct shared *s = arg;

	for (uint32_t k = 0; k < ITEMS; k++) {
		if (lock_take(s) < 0)
			return 1;
		while (s->tail - s->head == RING) {
			int r = wait_c(s, &s->c2, 20000);

			if (r < 0 && r != -EINTR) {
				(void)sealshm_lock_release(&s->lk);
				return r == -ETIMEDOUT ? 2 : 3;
			}
		}
		s->ring[s->tail % RING] = (uint32_t)p * ITEMS + k;
		s->tail++;
		if (sealshm_cond_notify(&s->c, 1) < 0 || sealshm_lock_release(&s->lk) < 0)
			return 4;
	}
	return 0;
}

static int consumer_child(void *arg, int i)
{
	struct shared *s = arg;

	(void)i;
	if (lock_take(s) < 0)
		return 1;
	for (;;) {
		uint32_t item;

		while (s->head == s->tail && s->consumed < PRODUCERS * ITEMS) {
			int r = wait_c(s, &s->c, 20000);

			if (r < 0 && r != -EINTR) {
				(void)sealshm_lock_release(&s->lk);
				return r == -ETIMEDOUT ? 2 : 3;
			}
		}
		if (s->consumed == PRODUCERS * ITEMS)
			break;
		item = s->ring[s->head % RING];
		s->head++;
		s->consumed++;
		if (item < PRODUCERS * ITEMS)
			s->seen[item]++;
		if (sealshm_cond_notify(&s->c2, 1) < 0)
			return 4;
		/* The last one lets the other consumers go home. */
		if (s->consumed == PRODUCERS * ITEMS && sealshm_cond_notify_all(&s->c) < 0)
			return 5;
	}
	return sealshm_lock_release(&s->lk) == 0 ? 0 : 6;
}

/* Producers and consumers over a ring of 8 with notify(1) on two
 * Conditions: every item arrives exactly once, and no wait times out. */
TEST_F_TIMEOUT(cond, producer_consumer, 120)
{
	struct shared *s = self->s;
	int n = 0, bad = 0;

	for (int i = 0; i < CONSUMERS; i++)
		self->pids[n++] = spawn_child(consumer_child, s, i);
	for (int p = 0; p < PRODUCERS; p++)
		self->pids[n++] = spawn_child(producer_child, s, p);
	for (int i = 0; i < n; i++)
		ASSERT_LT(0, self->pids[i]);
	EXPECT_EQ(n, reap_all(self->pids, n, 90000));
	EXPECT_EQ(PRODUCERS * ITEMS, s->consumed);
	for (int i = 0; i < PRODUCERS * ITEMS; i++)
		bad += s->seen[i] != 1;
	EXPECT_EQ(0, bad);
}

/* --- deaths ----------------------------------------------------------------------- */

/* Take tokens as they come, until told to stop. */
static int token_waiter_child(void *arg, int i)
{
	struct shared *s = arg;

	(void)i;
	if (lock_take(s) < 0)
		return 1;
	for (;;) {
		while (s->tokens == 0 && !s->stop) {
			int r = wait_c(s, &s->c, 30000);

			if (r == -ETIMEDOUT)
				__atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
			else if (r < 0 && r != -EINTR)
				return 2;
		}
		if (s->tokens == 0)
			break;
		s->tokens--;
		s->taken++;
	}
	return sealshm_lock_release(&s->lk) == 0 ? 0 : 3;
}

/* Add tokens with notify(1) each, until told to stop. */
static int token_notifier_child(void *arg, int i)
{
	struct shared *s = arg;
	unsigned int seed = (unsigned int)getpid() * 7919u + (unsigned int)i;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		if (lock_take(s) < 0)
			return 1;
		s->tokens++;
		s->produced++;
		if (sealshm_cond_notify(&s->c, 1) < 0)
			return 2;
		if (sealshm_lock_release(&s->lk) < 0)
			return 3;
		usleep(rand_r(&seed) % 400);
	}
	return 0;
}

/* kill -9 of waiters and notifiers at random moments (in a wait, in a
 * notify, holding the lock): the survivors go on, and the Condition still
 * wakes exactly as many as asked (dead waiters counted in take no wake). */
TEST_F_TIMEOUT(cond, waiter_and_notifier_deaths, 150)
{
	struct shared *s = self->s;
	unsigned int seed = (unsigned int)getpid();
	const int n = WAITERS_MAX + NOTIFIERS;
	int kills = 0;

	for (int i = 0; i < n; i++) {
		self->pids[i] = spawn_child(i < WAITERS_MAX ? token_waiter_child :
					    token_notifier_child, s, i);
		ASSERT_LT(0, self->pids[i]);
	}
	while (kills < KILLS) {
		int v = rand_r(&seed) % n;

		helper_sleep_ms(1 + rand_r(&seed) % 15);
		ASSERT_EQ(0, kill(self->pids[v], SIGKILL));
		helper_kill_reap(&self->pids[v]);
		kills++;
		self->pids[v] = spawn_child(v < WAITERS_MAX ? token_waiter_child :
					    token_notifier_child, s, v);
		ASSERT_LT(0, self->pids[v]);
	}
	/* The notifiers stop; the waiters take what is left. */
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(NOTIFIERS, reap_all(self->pids + WAITERS_MAX, NOTIFIERS, 20000));
	ASSERT_EQ(0, lock_take(s));
	EXPECT_EQ(0, sealshm_cond_notify_all(&s->c));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
	EXPECT_EQ(WAITERS_MAX, reap_all(self->pids, WAITERS_MAX, 20000));
	EXPECT_EQ(0, s->tokens);
	EXPECT_EQ(0, s->failures) {
		TH_LOG("waits that timed out");
	}
	TH_LOG("%d kills, %u tokens taken", kills, s->taken);

	/* The Condition still counts and wakes exactly, while the last
	 * deaths reach trackerd (the notify_all above dropped the counts of
	 * the dead waiters). */
	notify_counts(_metadata, s, self->pids);
}

/* Gets a holder id of its own (a notify of the other Condition, which
 * nobody waits on), so that its end moves the death epoch; then ends as
 * @i says: 0 exits, 1 kills itself, 2 waits to be killed. */
static int holder_child(void *arg, int i)
{
	struct shared *s = arg;

	if (sealshm_cond_notify(&s->c2, 1) < 0)
		return 1;
	__atomic_store_n(&s->gc_ready, 1, __ATOMIC_RELEASE);
	if (i == 1)
		raise(SIGKILL);
	if (i == 2)
		for (int k = 0; k < 2000; k++)
			helper_sleep_ms(10);
	return 0;
}

static int bumper_child(void *arg, int i)
{
	struct shared *s = arg;

	(void)i;
	if (sealshm_cond_notify(&s->c2, 1) < 0)
		return 1;
	/* What a notifier killed between its compare-and-swap and its
	 * wake leaves. */
	if (!cond_hand_out(&s->c, 1))
		return 2;
	raise(SIGKILL);
	return 3;
}

/* A notifier that dies between handing out a wake-up and waking: a
 * sleeper wakes with its death (the epoch), not at its timeout, and only
 * one of them. */
TEST_F(cond, notifier_dies_before_wake)
{
	struct shared *s = self->s;
	const int n = 3;

	s->ready = s->woken = 0;
	s->stop = 1;	/* the sleepers exit once woken */
	for (int i = 0; i < n; i++) {
		self->pids[i] = spawn_child(sleeper_child, s, i);
		ASSERT_LT(0, self->pids[i]);
	}
	ASSERT_TRUE(locked_wait_for(s, &s->ready, n, 10000));
	ASSERT_EQ(0, helper_wait_futex_sleepers(self->pids, n, 10000));
	for (uint32_t k = 1; k < (uint32_t)n; k++) {
		self->pids[n] = spawn_child(bumper_child, s, 0);
		ASSERT_LT(0, self->pids[n]);
		EXPECT_EQ(128 + SIGKILL, helper_exit_code(helper_reap(self->pids[n], 10000)));
		self->pids[n] = 0;
		/* The waits are 20 s: back well before means the death woke
		 * one; the woken one's exit wakes the others, who find
		 * nothing for them. */
		EXPECT_TRUE(locked_wait_for(s, &s->woken, k, 10000));
		helper_sleep_ms(150);
		EXPECT_EQ(k, locked_get(s, &s->woken));
	}
	EXPECT_EQ(0, sealshm_cond_notify_all(&s->c));
	EXPECT_EQ(n, reap_all(self->pids, n, 10000));
	EXPECT_EQ(n, s->woken);
}

/* Waits again and again, counting each wake-up (a return of 0) in
 * s->woken, until s->stop; without futex_waitv(2) when @i says so
 * (OLD_KERNEL). */
#define OLD_KERNEL	0x100
static int rewaiter_child(void *arg, int i)
{
	struct shared *s = arg;

	if (i & OLD_KERNEL) {
#ifdef AUDIT_ARCH_NATIVE
		if (helper_deny_futex_waitv() < 0)
			return 4;
#else
		return 4;
#endif
	}
	if (lock_take(s) < 0)
		return 1;
	s->ready++;
	while (!s->stop) {
		int r = wait_c(s, &s->c, 30000);

		if (r == 0)
			s->woken++;
		else if (r == -ETIMEDOUT)
			s->failures++;
		else if (r != -EINTR)
			return 2;
	}
	return sealshm_lock_release(&s->lk) == 0 ? 0 : 3;
}

/* Processes with holder ids of the trackerd, one after the other, each
 * exiting, killing itself or killed, until s->churn_stop. */
static int churn_child(void *arg, int i)
{
	struct shared *s = arg;
	unsigned int seed = (unsigned int)getpid() * 31u + (unsigned int)i;

	while (!__atomic_load_n(&s->churn_stop, __ATOMIC_ACQUIRE)) {
		int how = (int)(rand_r(&seed) % 3);
		uint64_t end;
		pid_t p;
		int st;

		__atomic_store_n(&s->gc_ready, 0, __ATOMIC_RELEASE);
		p = spawn_child(holder_child, s, how);
		if (p < 0)
			return 1;
		if (how == 2) {
			end = helper_now_ms() + 10000;
			while (!__atomic_load_n(&s->gc_ready, __ATOMIC_ACQUIRE) &&
			       helper_now_ms() < end)
				helper_sleep_ms(1);
			(void)kill(p, SIGKILL);
		}
		st = helper_reap(p, 10000);
		if (st < 0)
			return 2;
		if (!__atomic_load_n(&s->gc_ready, __ATOMIC_ACQUIRE))
			return 3;	/* it never had an id */
		__atomic_add_fetch(&s->deaths, 1, __ATOMIC_RELEASE);
		helper_sleep_ms(rand_r(&seed) % 3);
	}
	return 0;
}

/* Wait up to 10 s until the churn has ended @n more processes. */
static bool deaths_after(struct shared *s, uint32_t since, uint32_t n)
{
	uint64_t end = helper_now_ms() + 10000;

	while (__atomic_load_n(&s->deaths, __ATOMIC_ACQUIRE) - since < n)
		if (helper_now_ms() >= end)
			return false;
		else
			helper_sleep_ms(1);
	return true;
}

/* Waiters that wait again as soon as they are woken (@flags: OLD_KERNEL
 * or 0), while processes with holder ids of the same trackerd exit or
 * are killed one after the other (each death moves the death epoch the
 * sleepers also sleep on, or look at between slices): k notify(1) are
 * exactly k wake-ups, and a notify(2) exactly 2 more. */
static void notify_one_exact(struct __test_metadata *_metadata, struct shared *s, pid_t *pids,
			     int flags)
{
	const int churn = EXACT_WAITERS;
	uint32_t d0, k;

	s->ready = s->woken = s->stop = s->failures = s->deaths = s->churn_stop = 0;
	for (int i = 0; i < EXACT_WAITERS; i++) {
		pids[i] = spawn_child(rewaiter_child, s, i | flags);
		ASSERT_LT(0, pids[i]);
	}
	ASSERT_TRUE(locked_wait_for(s, &s->ready, EXACT_WAITERS, 10000));
	if (!flags)
		ASSERT_EQ(0, helper_wait_futex_sleepers(pids, EXACT_WAITERS, 10000));
	pids[churn] = spawn_child(churn_child, s, 0);
	ASSERT_LT(0, pids[churn]);
	ASSERT_TRUE(deaths_after(s, 0, 3));
	EXPECT_EQ(0, locked_get(s, &s->woken)) {
		TH_LOG("deaths woke waiters no notify had come for");
	}

	for (k = 1; k <= EXACT_NOTIFIES; k++) {
		uint64_t end = helper_now_ms() + 10000;

		ASSERT_EQ(0, lock_take(s));
		EXPECT_EQ(0, sealshm_cond_notify(&s->c, 1));
		EXPECT_EQ(0, sealshm_lock_release(&s->lk));
		while (locked_get(s, &s->woken) < k && helper_now_ms() < end)
			helper_sleep_ms(1);
		/* Deaths between this notify and the next: the waiters it
		 * passed over wake with each and must sleep on. */
		d0 = __atomic_load_n(&s->deaths, __ATOMIC_ACQUIRE);
		ASSERT_TRUE(deaths_after(s, d0, 2));
		ASSERT_EQ(k, locked_get(s, &s->woken)) {
			TH_LOG("notify(1) number %u: %u wake-ups", k, locked_get(s, &s->woken));
		}
	}
	ASSERT_EQ(0, lock_take(s));
	EXPECT_EQ(0, sealshm_cond_notify(&s->c, 2));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
	EXPECT_TRUE(locked_wait_for(s, &s->woken, EXACT_NOTIFIES + 2, 10000));
	d0 = __atomic_load_n(&s->deaths, __ATOMIC_ACQUIRE);
	ASSERT_TRUE(deaths_after(s, d0, 5));
	EXPECT_EQ(EXACT_NOTIFIES + 2, locked_get(s, &s->woken));

	__atomic_store_n(&s->churn_stop, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(1, reap_all(pids + churn, 1, 20000));
	ASSERT_EQ(0, lock_take(s));
	s->stop = 1;
	EXPECT_EQ(0, sealshm_cond_notify_all(&s->c));
	EXPECT_EQ(0, sealshm_lock_release(&s->lk));
	EXPECT_EQ(EXACT_WAITERS, reap_all(pids, EXACT_WAITERS, 20000));
	EXPECT_EQ(0, s->failures);
	TH_LOG("%u deaths", s->deaths);
}

TEST_F_TIMEOUT(cond, notify_one_exact_while_holders_die, 120)
{
	notify_one_exact(_metadata, self->s, self->pids, 0);
}

#ifdef AUDIT_ARCH_NATIVE
/* The same on a kernel without futex_waitv(2): sleepers wait in slices
 * and look at the death epoch between them. */
TEST_F_TIMEOUT(cond, notify_one_exact_without_futex_waitv, 120)
{
	notify_one_exact(_metadata, self->s, self->pids, OLD_KERNEL);
}
#endif

/* A waiter killed in its wait: a wake-up handed out that it did not
 * take goes to another waiter (its death wakes them); its own count
 * stays, so a notify(1) still wakes one, until a notify of everyone
 * drops it. */
TEST_F(cond, dead_waiter_share)
{
	struct shared *s = self->s;
	union cond_state st;

	s->ready = s->woken = s->stop = 0;
	for (int i = 0; i < 2; i++) {
		self->pids[i] = spawn_child(sleeper_child, s, i);
		ASSERT_LT(0, self->pids[i]);
	}
	ASSERT_TRUE(locked_wait_for(s, &s->ready, 2, 10000));
	ASSERT_EQ(0, helper_wait_futex_sleepers(self->pids, 2, 10000));

	/* One wake-up handed out, nobody woken to take it yet; the first
	 * waiter dies: the second takes it. */
	ASSERT_TRUE(cond_hand_out(&s->c, 1));
	helper_sleep_ms(50);
	EXPECT_EQ(0, locked_get(s, &s->woken));
	ASSERT_EQ(0, kill(self->pids[0], SIGKILL));
	helper_kill_reap(&self->pids[0]);
	EXPECT_TRUE(locked_wait_for(s, &s->woken, 1, 10000));
	st = cond_state(&s->c);
	EXPECT_EQ(1, st.f.waiters + st.f.wakeups) {
		TH_LOG("the dead waiter stays counted");
	}

	/* Two more; notify(1) wakes one, also when a holder dies after. */
	for (int i = 2; i < 4; i++) {
		self->pids[i] = spawn_child(sleeper_child, s, i);
		ASSERT_LT(0, self->pids[i]);
	}
	ASSERT_TRUE(locked_wait_for(s, &s->ready, 4, 10000));
	ASSERT_EQ(0, helper_wait_futex_sleepers(self->pids + 2, 2, 10000));
	EXPECT_EQ(0, sealshm_cond_notify(&s->c, 1));
	EXPECT_TRUE(locked_wait_for(s, &s->woken, 2, 10000));
	self->pids[4] = spawn_child(holder_child, s, 0);
	ASSERT_LT(0, self->pids[4]);
	EXPECT_EQ(1, reap_all(self->pids + 4, 1, 10000));
	helper_sleep_ms(100);
	EXPECT_EQ(2, locked_get(s, &s->woken));

	/* notify_all: the last one, and the dead one's count goes. */
	EXPECT_EQ(0, sealshm_cond_notify_all(&s->c));
	EXPECT_TRUE(locked_wait_for(s, &s->woken, 3, 10000));
	st = cond_state(&s->c);
	EXPECT_EQ(0, st.f.waiters + st.f.wakeups);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(3, reap_all(self->pids, 4, 10000));
}

/* As an object of its own (sealshm_object_create()) and described by
 * sealshm_object_info(): the waiters it counts. */
TEST_F(cond, object_and_info)
{
	SEALSHM_OPTS(sealshm_object_params, p, .type = SEALSHM_OBJECT_COND, .parties = 2);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm *shm = NULL;
	struct sealshm_cond *c;

	EXPECT_EQ(-EINVAL, sealshm_object_create(NULL, &p, NULL, &shm));
	p.parties = 0;
	ASSERT_EQ(0, sealshm_object_create(NULL, &p, NULL, &shm));
	c = sealshm_buf(shm);
	EXPECT_STREQ("condition", sealshm_object_type_name(SEALSHM_OBJECT_COND));
	ASSERT_EQ(0, sealshm_object_info(c, sizeof(*c), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_COND, info.type);
	EXPECT_EQ(sizeof(*c), info.size);
	EXPECT_EQ(0, info.waiters);
	EXPECT_EQ(0, sealshm_cond_notify_all(c));

	/* One waiter, counted while it waits. */
	self->s->ready = self->s->woken = 0;
	self->s->stop = 1;
	self->pids[0] = fork();
	ASSERT_LE(0, self->pids[0]);
	if (self->pids[0] == 0) {
		struct shared *s = self->s;
		int r;

		if (lock_take(s) < 0)
			_exit(1);
		s->ready = 1;
		r = wait_c(s, c, 10000);
		s->woken = 1;
		_exit(sealshm_lock_release(&s->lk) == 0 && r == 0 ? 0 : 2);
	}
	ASSERT_TRUE(locked_wait_for(self->s, &self->s->ready, 1, 10000));
	ASSERT_EQ(0, helper_wait_futex_sleepers(self->pids, 1, 10000));
	ASSERT_EQ(0, sealshm_object_info(c, sizeof(*c), NULL, &info));
	EXPECT_EQ(1, info.waiters);
	EXPECT_EQ(0, sealshm_cond_notify(c, 1));
	EXPECT_EQ(1, reap_all(self->pids, 1, 10000));
	ASSERT_EQ(0, sealshm_object_info(c, sizeof(*c), NULL, &info));
	EXPECT_EQ(0, info.waiters);
	EXPECT_EQ(0, sealshm_unlink(shm));
	sealshm_close(shm);
}

TEST_HARNESS_MAIN

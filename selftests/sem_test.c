// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sem_test: Semaphore and BoundedSemaphore (sealshm_sem(3)), in both
 * modes, between real processes through a real trackerd on a private
 * socket: never more than k inside and exact work under contention from
 * processes and threads, the bound, tries, timeouts and signals, the death
 * of holders (kill -9 at random moments, and at every instruction of a
 * call, single-stepped: the robust mode gives back exactly the dead
 * process's units, the default mode loses them as CPython does), and bad
 * input (a clear error, never a crash or a hang).  Every wait in here is
 * bounded: an acquire a child makes has a timeout, and a child that
 * overstays is killed.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "holder.h"
#include "sem.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

/* Worker slots of the kill test: never reused, so at most this many
 * workers in one run (a bit each in inside_mask). */
#define SLOTS		64
#define MAX_KIDS	32
/* How long a child waits in an acquire that should succeed. */
#define CHILD_WAIT_S	20

/* What the processes of a test share: the segment's layout. */
struct shared {
	struct sealshm_sem sem;
	struct sealshm_sem other;
	struct sealshm_event not_a_sem;
	uint64_t counter;	/* the work: exact */
	uint64_t rounds;	/* critical sections done */
	uint64_t inside_mask;	/* workers between acquire and release, by slot */
	uint32_t inside;	/* processes between acquire and release */
	uint32_t max_inside;
	uint32_t violations;	/* times more than k were inside */
	uint32_t errors;	/* unexpected results in workers */
	int32_t last_error;
	uint32_t k;		/* the most that may be inside */
	uint32_t ready, go, stop;
	uint32_t entered;	/* children that got their unit */
	uint32_t ids[SLOTS];	/* each worker's holder id */
};

FIXTURE(sem) {
	struct trackerd d;
	struct sealshm *shm;
	struct shared *s;
	char name[64];
	pid_t kids[MAX_KIDS];
	int fds_before;
};

FIXTURE_VARIANT(sem) {
	uint32_t flags;
};

/* CPython's meaning: a dead process's units are lost. */
FIXTURE_VARIANT_ADD(sem, plain) {
	.flags = 0,
};

/* They come back. */
FIXTURE_VARIANT_ADD(sem, robust) {
	.flags = SEALSHM_SEM_ROBUST,
};

FIXTURE_SETUP(sem)
{
	memset(self->kids, 0, sizeof(self->kids));
	self->shm = NULL;
	trackerd_fixture_setup(_metadata, &self->d, NULL, TRACKERD_FIXTURE_HOLDER,
			       &self->fds_before, NULL);
	snprintf(self->name, sizeof(self->name), "sem_test_%d", (int)getpid());
	ASSERT_EQ(0, sealshm_create(self->name, sizeof(struct shared), NULL, &self->shm));
	self->s = sealshm_buf(self->shm);
	ASSERT_EQ(0, sealshm_sem_init(&self->s->sem, 1, 0, variant->flags, NULL));
}

FIXTURE_TEARDOWN(sem)
{
	for (int i = 0; i < MAX_KIDS; i++)
		helper_kill_reap(&self->kids[i]);
	if (self->shm) {
		EXPECT_EQ(0, sealshm_unlink(self->shm));
		sealshm_close(self->shm);
	}
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* --- helpers ---------------------------------------------------------------- */

/* Fork a child that dies with the test and runs @fn(@s, @arg), leaving
 * with its result as exit code. */
static pid_t spawn(int (*fn)(struct shared *, long), struct shared *s, long arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(s, arg));
	}
	return pid;
}

static const struct sealshm__holder *holder(void)
{
	const struct sealshm__holder *h = NULL;

	return sealshm__holder_get(NULL, &h) == 0 ? h : NULL;
}

/* Wait until holder @id no longer lives for trackerd (it saw the death). */
static bool wait_dead(uint32_t id, unsigned int ms)
{
	const struct sealshm__holder *h = holder();
	uint64_t end = helper_now_ms() + ms;

	while (h && sealshm__holder_alive(h, id))
		if (helper_now_ms() > end)
			return false;
		else
			usleep(200);
	return h != NULL;
}

static struct sealshm__sem *layout(struct sealshm_sem *s)
{
	return (struct sealshm__sem *)s;
}

static uint32_t value_of(struct sealshm_sem *s)
{
	uint32_t v = UINT32_MAX;

	return sealshm_sem_value(s, &v) == 0 ? v : UINT32_MAX;
}

/* Poll the value until it is @want (@ms at most); returns the last seen.
 * For units that come back when trackerd sees their holder's end. */
static uint32_t wait_value(struct sealshm_sem *s, uint32_t want, unsigned int ms)
{
	uint64_t end = helper_now_ms() + ms;
	uint32_t v;

	while ((v = value_of(s)) != want && helper_now_ms() < end)
		usleep(500);
	return v;
}

/* Units the table gives @id (robust mode). */
static uint32_t units_of(struct sealshm_sem *s, uint32_t id)
{
	uint32_t n = 0;

	for (int i = 0; i < SEALSHM__SEM_TABLE; i++)
		if (layout(s)->table[i].holder == id)
			n += layout(s)->table[i].units;
	return n;
}

/* Entries of the table in use. */
static int entries_used(struct sealshm_sem *s)
{
	int n = 0;

	for (int i = 0; i < SEALSHM__SEM_TABLE; i++)
		n += layout(s)->table[i].holder != 0;
	return n;
}

/* Exit codes for a child's acquire result. */
static int code_of(int r)
{
	return r == 0 ? 0 : r == -EAGAIN ? 1 : r == -ETIMEDOUT ? 2 : r == -EINTR ? 3 :
	       r == -ENOSPC ? 4 : 9;
}

/* A child: acquire @arg units, write its holder id to ids[0] and say so,
 * then wait to be killed. */
static int hold_and_wait(struct shared *s, long arg)
{
	struct timespec t = helper_rel_ms(CHILD_WAIT_S * 1000);
	const struct sealshm__holder *h = holder();

	if (!h)
		return 20;
	for (long i = 0; i < arg; i++) {
		int r = sealshm_sem_acquire(&s->sem, &t, 0);

		if (r != 0)
			return 10 + code_of(r);
	}
	__atomic_store_n(&s->ids[0], h->id, __ATOMIC_RELEASE);
	__atomic_fetch_add(&s->ready, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < CHILD_WAIT_S * 100; i++)
		usleep(10000);
	return 30;
}

/* A child: one acquire of @arg ms (0: a try); exit code as code_of(). */
static int acquire_child(struct shared *s, long arg)
{
	struct timespec t = helper_rel_ms(arg);

	__atomic_fetch_add(&s->ready, 1, __ATOMIC_RELEASE);
	return code_of(arg ? sealshm_sem_acquire(&s->sem, &t, 0) : sealshm_sem_tryacquire(&s->sem));
}

/* A child: acquire (@arg ms), count itself in entered, and wait for go
 * (10 s at most) before it leaves with its unit. */
static int acquire_and_stay(struct shared *s, long arg)
{
	struct timespec t = helper_rel_ms(arg);
	uint64_t end;
	int r;

	r = sealshm_sem_acquire(&s->sem, &t, 0);
	if (r != 0)
		return code_of(r);
	__atomic_fetch_add(&s->entered, 1, __ATOMIC_RELEASE);
	end = helper_now_ms() + 10000;
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		if (helper_now_ms() > end)
			return 12;
		else
			usleep(500);
	return 0;
}

/* A child: sleep @arg ms, release once. */
static int release_later(struct shared *s, long arg)
{
	usleep(arg * 1000);
	return sealshm_sem_release(&s->sem) == 0 ? 0 : 10;
}

/* --- uncontended ------------------------------------------------------------- */

/* Acquire, try, release, value and info of a Semaphore(2), in one process. */
TEST_F(sem, uncontended)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_sem *s = &self->s->sem;
	const struct sealshm__holder *h = holder();
	uint32_t v = 99;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, sealshm_sem_init(s, 2, 0, variant->flags, NULL));
	ASSERT_EQ(0, sealshm_sem_value(s, &v));
	EXPECT_EQ(2u, v);
	ASSERT_EQ(0, sealshm_object_info(s, sizeof(*s), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_SEM, info.type);
	EXPECT_EQ(sizeof(*s), info.size);
	EXPECT_EQ(variant->flags ? SEALSHM_OBJECT_ROBUST : 0u, info.flags);
	EXPECT_EQ(2u, info.value);
	EXPECT_EQ(0u, info.max);
	EXPECT_EQ(0u, info.waiters);
	EXPECT_EQ(h->instance, info.instance);
	EXPECT_STREQ("semaphore", sealshm_object_type_name(SEALSHM_OBJECT_SEM));

	EXPECT_EQ(0, sealshm_sem_acquire(s, NULL, 0));
	EXPECT_EQ(1u, value_of(s));
	EXPECT_EQ(0, sealshm_sem_tryacquire(s));
	EXPECT_EQ(0u, value_of(s));
	EXPECT_EQ(-EAGAIN, sealshm_sem_tryacquire(s));
	EXPECT_EQ(EAGAIN, errno);
	if (variant->flags) {
		EXPECT_EQ(2u, units_of(s, h->id));
		EXPECT_EQ(1, entries_used(s));
	}
	EXPECT_EQ(0, sealshm_sem_release(s));
	EXPECT_EQ(0, sealshm_sem_release(s));
	EXPECT_EQ(2u, value_of(s));
	if (variant->flags)
		EXPECT_EQ(0, entries_used(s));

	for (int i = 0; i < 100000; i++) {
		if (sealshm_sem_acquire(s, NULL, 0) || sealshm_sem_release(s)) {
			EXPECT_TRUE(false) {
				TH_LOG("round %d", i);
			}
			break;
		}
	}
	EXPECT_EQ(2u, value_of(s));
	ASSERT_EQ(0, sealshm_object_info(s, sizeof(*s), NULL, &info));
	EXPECT_EQ(2u, info.value);
}

/* BoundedSemaphore: a release past max is -EOVERFLOW and changes
 * nothing; so is one past 2^31 - 1 for any semaphore; a bad init is
 * -EINVAL and leaves the object as it was. */
TEST_F(sem, bounded)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_sem *s = &self->s->sem;

	ASSERT_EQ(0, sealshm_sem_init(s, 1, 2, variant->flags, NULL));
	EXPECT_EQ(0, sealshm_sem_release(s));
	EXPECT_EQ(2u, value_of(s));
	EXPECT_EQ(-EOVERFLOW, sealshm_sem_release(s));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ(2u, value_of(s));
	ASSERT_EQ(0, sealshm_object_info(s, sizeof(*s), NULL, &info));
	EXPECT_EQ(2u, info.max);
	EXPECT_EQ(2u, info.value);
	EXPECT_EQ(0, sealshm_sem_acquire(s, NULL, 0));
	EXPECT_EQ(0, sealshm_sem_release(s));
	EXPECT_EQ(-EOVERFLOW, sealshm_sem_release(s));
	EXPECT_EQ(2u, value_of(s));

	/* max == value: already full. */
	ASSERT_EQ(0, sealshm_sem_init(s, 3, 3, variant->flags, NULL));
	EXPECT_EQ(-EOVERFLOW, sealshm_sem_release(s));
	EXPECT_EQ(3u, value_of(s));

	/* Unbounded: 2^31 - 1 is the most. */
	ASSERT_EQ(0, sealshm_sem_init(s, 0x7fffffff, 0, variant->flags, NULL));
	EXPECT_EQ(-EOVERFLOW, sealshm_sem_release(s));
	EXPECT_EQ(0x7fffffffu, value_of(s));
	EXPECT_EQ(0, sealshm_sem_acquire(s, NULL, 0));
	EXPECT_EQ(0x7ffffffeu, value_of(s));
	EXPECT_EQ(0, sealshm_sem_release(s));
	EXPECT_EQ(-EOVERFLOW, sealshm_sem_release(s));

	/* Bad init: the object stays what it was. */
	ASSERT_EQ(0, sealshm_sem_init(s, 1, 2, variant->flags, NULL));
	EXPECT_EQ(-EINVAL, sealshm_sem_init(s, 3, 2, variant->flags, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sealshm_sem_init(s, 0x80000000u, 0, variant->flags, NULL));
	EXPECT_EQ(-EINVAL, sealshm_sem_init(s, 0, 0x80000000u, variant->flags, NULL));
	EXPECT_EQ(-EINVAL, sealshm_sem_init(s, 0, 0, 1u << 9, NULL));
	EXPECT_EQ(1u, value_of(s));
	EXPECT_EQ(0, sealshm_sem_release(s));
	EXPECT_EQ(-EOVERFLOW, sealshm_sem_release(s));
}

/* --- contention ----------------------------------------------------------------- */

#define PROCS		6
#define PROC_ROUNDS	4000

/* One critical section of a worker: count itself in, check the count
 * against k, do the work, count itself out. */
static void inside(struct shared *s)
{
	uint32_t n = __atomic_add_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
	uint32_t m = __atomic_load_n(&s->max_inside, __ATOMIC_RELAXED);

	if (n > s->k)
		__atomic_fetch_add(&s->violations, 1, __ATOMIC_RELAXED);
	while (n > m && !__atomic_compare_exchange_n(&s->max_inside, &m, n, false,
						     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	for (int i = 0; i < 300; i++)
		__asm__ __volatile__("" ::: "memory");
	if (s->k == 1) {
		/* A mutex: plain increments must not be lost. */
		uint64_t c = s->counter;

		__asm__ __volatile__("" ::: "memory");
		s->counter = c + 1;
	} else {
		__atomic_fetch_add(&s->counter, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_sub(&s->inside, 1, __ATOMIC_SEQ_CST);
}

/* A child: @arg rounds of acquire, inside(), release. */
static int counting_child(struct shared *s, long arg)
{
	struct timespec to = helper_rel_ms(CHILD_WAIT_S * 1000);

	for (long i = 0; i < arg; i++) {
		int r = sealshm_sem_acquire(&s->sem, &to, 0);

		if (r != 0)
			return 10 + code_of(r);
		inside(s);
		if (sealshm_sem_release(&s->sem))
			return 20;
	}
	return 0;
}

/* Processes contending on a Semaphore(k): never more than k inside,
 * the work exact, the value k again at the end; k = 1 is a mutex. */
TEST_F_TIMEOUT(sem, processes_never_exceed_k, 150)
{
	static const uint32_t ks[] = { 1, 3 };

	for (unsigned int j = 0; j < ELEMENTSOF(ks); j++) {
		struct shared *s = self->s;

		ASSERT_EQ(0, sealshm_sem_init(&s->sem, ks[j], 0, variant->flags, NULL));
		s->k = ks[j];
		s->counter = s->inside = s->max_inside = s->violations = 0;
		for (int i = 0; i < PROCS; i++)
			ASSERT_LT(0, self->kids[i] = spawn(counting_child, s, PROC_ROUNDS));
		for (int i = 0; i < PROCS; i++)
			EXPECT_EQ(0, helper_reap_code(&self->kids[i], 120000));
		EXPECT_EQ((uint64_t)PROCS * PROC_ROUNDS, s->counter);
		EXPECT_EQ(0u, s->violations);
		EXPECT_GE(ks[j], s->max_inside);
		EXPECT_EQ(ks[j], value_of(&s->sem));
		if (variant->flags)
			EXPECT_EQ(0, entries_used(&s->sem));
		TH_LOG("k = %u: at most %u inside at once", ks[j], s->max_inside);
	}
}

#define THREADS		4
#define THREAD_ROUNDS	20000

struct thread_arg {
	struct shared *s;
	int failed;
};

static void *counting_thread(void *p)
{
	struct thread_arg *t = p;

	t->failed = counting_child(t->s, THREAD_ROUNDS);
	return NULL;
}

/* Threads of one process (one holder id) contending on a Semaphore(2). */
TEST_F_TIMEOUT(sem, threads_never_exceed_k, 120)
{
	struct thread_arg args[THREADS];
	struct shared *s = self->s;
	pthread_t th[THREADS];

	ASSERT_EQ(0, sealshm_sem_init(&s->sem, 2, 0, variant->flags, NULL));
	s->k = 2;
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct thread_arg){ .s = s };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, counting_thread, &args[i]));
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, args[i].failed);
	}
	EXPECT_EQ((uint64_t)THREADS * THREAD_ROUNDS, s->counter);
	EXPECT_EQ(0u, s->violations);
	EXPECT_EQ(2u, value_of(&s->sem));
	if (variant->flags)
		EXPECT_EQ(0, entries_used(&s->sem));
}

/* Sleepers in several processes: each release lets exactly one in.  They
 * leave with their units: the robust mode gives them back. */
TEST_F_TIMEOUT(sem, each_release_wakes_one, 60)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct shared *s = self->s;

	ASSERT_EQ(0, sealshm_sem_init(&s->sem, 0, 0, variant->flags, NULL));
	s->go = 0;
	s->entered = 0;
	for (int i = 0; i < PROCS; i++)
		ASSERT_LT(0, self->kids[i] = spawn(acquire_and_stay, s, CHILD_WAIT_S * 1000));
	/* All asleep (or about to be): counted as waiters. */
	for (uint64_t end = helper_now_ms() + 10000; helper_now_ms() < end; usleep(1000)) {
		ASSERT_EQ(0, sealshm_object_info(&s->sem, sizeof(s->sem), NULL, &info));
		if (info.waiters == PROCS)
			break;
	}
	ASSERT_EQ((uint32_t)PROCS, info.waiters);

	/* Half the units: half of them get in, the rest sleep on. */
	for (int i = 0; i < PROCS / 2; i++)
		EXPECT_EQ(0, sealshm_sem_release(&s->sem));
	EXPECT_TRUE(helper_wait_count(&s->entered, PROCS / 2, 10000));
	usleep(50000);
	EXPECT_EQ((uint32_t)PROCS / 2, s->entered);
	EXPECT_EQ(0u, value_of(&s->sem));
	ASSERT_EQ(0, sealshm_object_info(&s->sem, sizeof(s->sem), NULL, &info));
	EXPECT_EQ((uint32_t)(PROCS - PROCS / 2), info.waiters);

	for (int i = 0; i < PROCS - PROCS / 2; i++)
		EXPECT_EQ(0, sealshm_sem_release(&s->sem));
	EXPECT_TRUE(helper_wait_count(&s->entered, PROCS, 10000));
	EXPECT_EQ(0u, value_of(&s->sem));
	ASSERT_EQ(0, sealshm_object_info(&s->sem, sizeof(s->sem), NULL, &info));
	EXPECT_EQ(0u, info.waiters);
	__atomic_store_n(&s->go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < PROCS; i++)
		EXPECT_EQ(0, helper_reap_code(&self->kids[i], 10000));
	EXPECT_EQ(variant->flags ? (uint32_t)PROCS : 0u,
		  wait_value(&s->sem, variant->flags ? PROCS : 0, 5000));
}

/* --- tries, timeouts, signals ------------------------------------------------------ */

/* At 0: a try is -EAGAIN; relative and absolute timeouts give -ETIMEDOUT,
 * not before the deadline; bad timeouts and flags are -EINVAL; another
 * process's release lets a waiter in. */
TEST_F_TIMEOUT(sem, tries_and_timeouts, 60)
{
	struct sealshm_sem *s = &self->s->sem;
	struct timespec t = helper_rel_ms(150), abs;
	int64_t t0, dt;
	int r;

	ASSERT_EQ(0, sealshm_sem_init(s, 0, 0, variant->flags, NULL));
	EXPECT_EQ(-EAGAIN, sealshm_sem_tryacquire(s));

	t0 = helper_now_ns();
	r = sealshm_sem_acquire(s, &t, 0);
	dt = helper_now_ns() - t0;
	EXPECT_EQ(-ETIMEDOUT, r);
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(150000000, dt);
	EXPECT_GT(10000000000LL, dt);

	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 100000000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	EXPECT_EQ(-ETIMEDOUT, sealshm_sem_acquire(s, &abs, SEALSHM_WAIT_ABSTIME));
	EXPECT_LE((int64_t)abs.tv_sec * 1000000000 + abs.tv_nsec, helper_now_ns());

	/* A deadline passed already, and a zero interval. */
	abs.tv_sec -= 5;
	EXPECT_EQ(-ETIMEDOUT, sealshm_sem_acquire(s, &abs, SEALSHM_WAIT_ABSTIME));
	t = helper_rel_ms(0);
	EXPECT_EQ(-ETIMEDOUT, sealshm_sem_acquire(s, &t, 0));

	t = (struct timespec){ .tv_nsec = 1000000000 };
	EXPECT_EQ(-EINVAL, sealshm_sem_acquire(s, &t, 0));
	t = (struct timespec){ .tv_sec = -1 };
	EXPECT_EQ(-EINVAL, sealshm_sem_acquire(s, &t, 0));
	t = helper_rel_ms(10);
	EXPECT_EQ(-EINVAL, sealshm_sem_acquire(s, &t, 1u << 7));
	EXPECT_EQ(0u, value_of(s));

	/* With a unit there, a passed deadline still takes it. */
	EXPECT_EQ(0, sealshm_sem_release(s));
	t = helper_rel_ms(0);
	EXPECT_EQ(0, sealshm_sem_acquire(s, &t, 0));

	/* Another process releases while we wait. */
	ASSERT_LT(0, self->kids[0] = spawn(release_later, self->s, 100));
	t = helper_rel_ms(CHILD_WAIT_S * 1000);
	t0 = helper_now_ns();
	EXPECT_EQ(0, sealshm_sem_acquire(s, &t, 0));
	EXPECT_LE(50000000, helper_now_ns() - t0);
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
	EXPECT_EQ(0u, value_of(s));
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal handler (installed without SA_RESTART) that runs during a
 * wait ends it with -EINTR, and nothing changed. */
TEST_F_TIMEOUT(sem, signal_interrupts_wait, 60)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_sem *s = &self->s->sem;
	struct timespec t = helper_rel_ms(CHILD_WAIT_S * 1000);
	int64_t t0, dt;
	int r;

	ASSERT_EQ(0, sealshm_sem_init(s, 0, 0, variant->flags, NULL));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	t0 = helper_now_ns();
	r = sealshm_sem_acquire(s, &t, 0);
	dt = helper_now_ns() - t0;
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ(-EINTR, r);
	EXPECT_EQ(EINTR, errno);
	EXPECT_GT(10000000000LL, dt);
	EXPECT_EQ(0u, value_of(s));
	ASSERT_EQ(0, sealshm_object_info(s, sizeof(*s), NULL, &info));
	EXPECT_EQ(0u, info.waiters);
	EXPECT_EQ(0, sealshm_sem_release(s));
	EXPECT_EQ(0, sealshm_sem_tryacquire(s));
}

/* --- death ------------------------------------------------------------------------ */

/* A holder of 2 of 3 units is killed: the robust mode gives them back
 * (to a sleeper first), the default mode loses them as CPython does. */
TEST_F_TIMEOUT(sem, dead_holder_units, 60)
{
	struct shared *s = self->s;
	uint32_t id;

	ASSERT_EQ(0, sealshm_sem_init(&s->sem, 3, 0, variant->flags, NULL));
	ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, s, 2));
	ASSERT_TRUE(helper_wait_count(&s->ready, 1, 10000));
	id = s->ids[0];
	EXPECT_EQ(0, sealshm_sem_acquire(&s->sem, NULL, 0));
	EXPECT_EQ(0u, value_of(&s->sem));
	if (variant->flags)
		EXPECT_EQ(2u, units_of(&s->sem, id));

	/* A sleeper in another process, then the holder's death. */
	s->ready = 0;
	ASSERT_LT(0, self->kids[1] = spawn(acquire_child, s, variant->flags ? 10000 : 1000));
	ASSERT_TRUE(helper_wait_count(&s->ready, 1, 10000));
	usleep(20000);
	helper_kill_reap(&self->kids[0]);
	ASSERT_TRUE(wait_dead(id, 5000));
	if (variant->flags) {
		/* One unit to the sleeper (which leaves with it: it comes
		 * back too), one left. */
		EXPECT_EQ(0, helper_reap_code(&self->kids[1], 10000));
		EXPECT_EQ(0u, units_of(&s->sem, id));
		EXPECT_EQ(2u, wait_value(&s->sem, 2, 5000));
		EXPECT_EQ(1, entries_used(&s->sem));
		EXPECT_EQ(0, sealshm_sem_release(&s->sem));
		EXPECT_EQ(3u, value_of(&s->sem));
		EXPECT_EQ(0, entries_used(&s->sem));
	} else {
		EXPECT_EQ(code_of(-ETIMEDOUT), helper_reap_code(&self->kids[1], 10000));
		EXPECT_EQ(0u, value_of(&s->sem));
		EXPECT_EQ(0, sealshm_sem_release(&s->sem));
		EXPECT_EQ(1u, value_of(&s->sem));
	}
}

/* A release by a process that holds nothing only adds (a semaphore used
 * as a signal); a dead holder's units then come back only up to max. */
TEST_F_TIMEOUT(sem, release_without_holding, 60)
{
	struct shared *s = self->s;
	uint32_t id;

	ASSERT_EQ(0, sealshm_sem_init(&s->sem, 1, 1, variant->flags, NULL));
	ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, s, 1));
	ASSERT_TRUE(helper_wait_count(&s->ready, 1, 10000));
	id = s->ids[0];
	EXPECT_EQ(0u, value_of(&s->sem));
	EXPECT_EQ(0, sealshm_sem_release(&s->sem));
	EXPECT_EQ(1u, value_of(&s->sem));
	EXPECT_EQ(-EOVERFLOW, sealshm_sem_release(&s->sem));
	helper_kill_reap(&self->kids[0]);
	ASSERT_TRUE(wait_dead(id, 5000));
	EXPECT_EQ(1u, value_of(&s->sem));
	if (variant->flags)
		EXPECT_EQ(0, entries_used(&s->sem));
	EXPECT_EQ(0, sealshm_sem_acquire(&s->sem, NULL, 0));
	EXPECT_EQ(-EAGAIN, sealshm_sem_tryacquire(&s->sem));
}

/* The robust table names SEALSHM__SEM_TABLE holders: one more live
 * holder is -ENOSPC with nothing changed, until one of them dies.  The
 * default mode has no table and no such limit. */
TEST_F_TIMEOUT(sem, more_holders_than_entries, 90)
{
	struct shared *s = self->s;
	const int n = SEALSHM__SEM_TABLE;
	pid_t *kids;
	uint32_t id;

	_Static_assert(SEALSHM__SEM_TABLE < MAX_KIDS, "kids for a full table");
	kids = self->kids;
	ASSERT_EQ(0, sealshm_sem_init(&s->sem, n + 5, 0, variant->flags, NULL));
	for (int i = 0; i < n; i++) {
		s->ready = 0;
		ASSERT_LT(0, kids[i] = spawn(hold_and_wait, s, 1));
		ASSERT_TRUE(helper_wait_count(&s->ready, 1, 10000));
	}
	id = s->ids[0];		/* the last one's */
	EXPECT_EQ(5u, value_of(&s->sem));
	if (variant->flags) {
		EXPECT_EQ(n, entries_used(&s->sem));
		EXPECT_EQ(-ENOSPC, sealshm_sem_acquire(&s->sem, NULL, 0));
		EXPECT_EQ(ENOSPC, errno);
		EXPECT_EQ(-ENOSPC, sealshm_sem_tryacquire(&s->sem));
		EXPECT_EQ(5u, value_of(&s->sem));
		/* A release by a process that holds nothing needs no entry. */
		EXPECT_EQ(0, sealshm_sem_release(&s->sem));
		EXPECT_EQ(6u, value_of(&s->sem));
		helper_kill_reap(&kids[n - 1]);
		ASSERT_TRUE(wait_dead(id, 5000));
		EXPECT_EQ(0, sealshm_sem_acquire(&s->sem, NULL, 0));
		EXPECT_EQ(6u, value_of(&s->sem));
		EXPECT_EQ(n, entries_used(&s->sem));
	} else {
		EXPECT_EQ(0, sealshm_sem_acquire(&s->sem, NULL, 0));
		EXPECT_EQ(4u, value_of(&s->sem));
	}
	for (int i = 0; i < n; i++)
		helper_kill_reap(&kids[i]);
}

/* --- pid namespaces ------------------------------------------------------------------ */

/* Fork a child that unshares a new pid namespace and forks its pid 1,
 * which runs @fn(@s, @arg); the child waits for it and leaves with its
 * exit code (100: unshare() refused, 102: not pid 1).  Our pid of that
 * pid 1 goes to *@inner (shared memory). */
static pid_t spawn_in_pidns(int (*fn)(struct shared *, long), struct shared *s, long arg,
			    pid_t *inner)
{
	pid_t pid = fork();

	if (pid == 0) {
		pid_t in;
		int st;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(100);
		in = fork();
		if (in < 0)
			_exit(101);
		if (in == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(getpid() == 1 ? fn(s, arg) : 102);
		}
		__atomic_store_n(inner, in, __ATOMIC_RELEASE);
		if (waitpid(in, &st, 0) != in)
			_exit(103);
		_exit(helper_exit_code(st));
	}
	return pid;
}

/* Two holders that are both pid 1, of two pid namespaces: one is killed
 * and only its unit comes back (robust mode), the other's stays its own
 * until it dies too; and two pid 1s count exactly under a Semaphore(1). */
TEST_F_TIMEOUT(sem, pid_namespaces, 120)
{
	struct shared *s = self->s;
	pid_t *inner;
	uint32_t ids[2];

	if (!helper_pidns_allowed())
		SKIP(return, "unshare(CLONE_NEWPID) is not permitted here (needs CAP_SYS_ADMIN)");
	inner = mmap(NULL, 2 * sizeof(*inner), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	ASSERT_NE(MAP_FAILED, inner);
	ASSERT_EQ(0, sealshm_sem_init(&s->sem, 3, 0, variant->flags, NULL));
	for (int i = 0; i < 2; i++) {
		s->ready = 0;
		inner[i] = 0;
		ASSERT_LT(0, self->kids[i] = spawn_in_pidns(hold_and_wait, s, 1, &inner[i]));
		ASSERT_TRUE(helper_wait_count(&s->ready, 1, 10000));
		ids[i] = s->ids[0];
		ASSERT_LT(0, inner[i]);
	}
	EXPECT_NE(ids[0], ids[1]);
	EXPECT_EQ(1u, value_of(&s->sem));
	if (variant->flags) {
		EXPECT_EQ(1u, units_of(&s->sem, ids[0]));
		EXPECT_EQ(1u, units_of(&s->sem, ids[1]));
	}
	ASSERT_EQ(0, kill(inner[0], SIGKILL));
	EXPECT_EQ(128 + SIGKILL, helper_reap_code(&self->kids[0], 10000));
	ASSERT_TRUE(wait_dead(ids[0], 5000));
	EXPECT_EQ(variant->flags ? 2u : 1u, value_of(&s->sem));
	if (variant->flags)
		EXPECT_EQ(1u, units_of(&s->sem, ids[1]));
	ASSERT_EQ(0, kill(inner[1], SIGKILL));
	EXPECT_EQ(128 + SIGKILL, helper_reap_code(&self->kids[1], 10000));
	ASSERT_TRUE(wait_dead(ids[1], 5000));
	EXPECT_EQ(variant->flags ? 3u : 1u, value_of(&s->sem));

	/* Two pid 1s (same pid, same thread id) as a mutex. */
	ASSERT_EQ(0, sealshm_sem_init(&s->sem, 1, 0, variant->flags, NULL));
	s->k = 1;
	s->counter = s->violations = 0;
	for (int i = 0; i < 2; i++)
		ASSERT_LT(0, self->kids[i] = spawn_in_pidns(counting_child, s, PROC_ROUNDS,
							     &inner[i]));
	for (int i = 0; i < 2; i++)
		EXPECT_EQ(0, helper_reap_code(&self->kids[i], 90000));
	EXPECT_EQ(2ull * PROC_ROUNDS, s->counter);
	EXPECT_EQ(0u, s->violations);
	EXPECT_EQ(1u, value_of(&s->sem));
	munmap(inner, 2 * sizeof(*inner));
}

/* --- kill -9 at random moments ------------------------------------------------------ */

#define KILL_WORKERS	6
#define KILLS_ROBUST	40
#define KILLS_PLAIN	15

/* A worker in slot @slot: until told to stop, acquire, check that at
 * most k live workers are inside, work a little, release.  The robust
 * mode must never time out; the default one may run out of units. */
static int kill_worker(struct shared *s, long slot)
{
	const struct sealshm__holder *h = holder();
	bool robust = layout(&s->sem)->flags & SEALSHM_SEM_ROBUST;
	uint64_t bit = 1ull << slot;
	unsigned int seed = (unsigned int)getpid();

	if (!h)
		return 20;
	__atomic_store_n(&s->ids[slot], h->id, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct timespec to = helper_rel_ms(robust ? CHILD_WAIT_S * 1000 : 100);
		uint64_t m;
		uint32_t n = 0;
		int r;

		r = sealshm_sem_acquire(&s->sem, &to, 0);
		if (r == -ETIMEDOUT && !robust)
			continue;
		if (r != 0) {
			__atomic_store_n(&s->last_error, r, __ATOMIC_RELAXED);
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
			return 10 + code_of(r);
		}
		/* Everyone inside at this instant, less the dead (whose
		 * units may have come back). */
		m = __atomic_or_fetch(&s->inside_mask, bit, __ATOMIC_SEQ_CST);
		for (int b = 0; b < SLOTS; b++)
			if ((m >> b) & 1)
				n += b == slot || sealshm__holder_alive(
					h, __atomic_load_n(&s->ids[b], __ATOMIC_ACQUIRE));
		if (n > s->k)
			__atomic_fetch_add(&s->violations, 1, __ATOMIC_RELAXED);
		/* Mostly short, sometimes long enough for kills to land
		 * inside. */
		if (rand_r(&seed) % 4 == 0)
			usleep(rand_r(&seed) % 500);
		else
			for (int i = (int)(rand_r(&seed) % 200); i > 0; i--)
				__asm__ __volatile__("" ::: "memory");
		__atomic_fetch_and(&s->inside_mask, ~bit, __ATOMIC_SEQ_CST);
		r = sealshm_sem_release(&s->sem);
		if (r != 0) {
			__atomic_store_n(&s->last_error, r, __ATOMIC_RELAXED);
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
			return 20;
		}
		__atomic_fetch_add(&s->rounds, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

/* Workers contend on a Semaphore(5) of which this process and a keeper
 * child hold one each, while the test SIGKILLs workers at random moments
 * (inside acquire, release, a wait, or between) and starts new ones.
 * Never more than 3 live workers inside; nothing hangs.  Robust: the
 * workers never starve, and once they are gone the value is exactly 5
 * less what the living hold (this process and the keeper), then 5.
 * Default: the value ends between 3 less the kills and 3. */
TEST_F_TIMEOUT(sem, kill9_at_random_moments, 170)
{
	const int kills_wanted = variant->flags ? KILLS_ROBUST : KILLS_PLAIN;
	const uint32_t total = 5;
	struct shared *s = self->s;
	pid_t workers[SLOTS] = { 0 };
	unsigned int seed = (unsigned int)getpid();
	int next = 0, kills = 0, in_mask = 0;
	uint32_t keeper_id, v = 0;

	ASSERT_EQ(0, sealshm_sem_init(&s->sem, total, 0, variant->flags, NULL));
	s->k = total - 2;
	ASSERT_EQ(0, sealshm_sem_acquire(&s->sem, NULL, 0));
	ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, s, 1));
	ASSERT_TRUE(helper_wait_count(&s->ready, 1, 10000));
	keeper_id = s->ids[0];
	s->ids[0] = 0;
	next = 1;

	for (int i = 0; i < KILL_WORKERS; i++, next++)
		ASSERT_LT(0, workers[next] = spawn(kill_worker, s, next));
	while (kills < kills_wanted) {
		int victim;

		usleep(rand_r(&seed) % 3000);
		do
			victim = 1 + (int)(rand_r(&seed) % (unsigned int)(next - 1));
		while (!workers[victim]);
		if (__atomic_load_n(&s->inside_mask, __ATOMIC_RELAXED) & (1ull << victim))
			in_mask++;
		helper_kill_reap(&workers[victim]);
		kills++;
		ASSERT_LT(next, SLOTS);
		ASSERT_LT(0, workers[next] = spawn(kill_worker, s, next));
		next++;
	}
	if (variant->flags) {
		/* Still making progress after all that. */
		uint64_t r0 = __atomic_load_n(&s->rounds, __ATOMIC_RELAXED);
		uint64_t end = helper_now_ms() + 10000;

		while (__atomic_load_n(&s->rounds, __ATOMIC_RELAXED) < r0 + 100 &&
		       helper_now_ms() < end)
			usleep(1000);
		EXPECT_LE(r0 + 100, __atomic_load_n(&s->rounds, __ATOMIC_RELAXED)) {
			TH_LOG("no progress after %d kills", kills);
		}
	}
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	for (int i = 1; i < next; i++) {
		if (!workers[i])
			continue;
		EXPECT_EQ(0, helper_reap_code(&workers[i], 30000)) {
			TH_LOG("worker %d", i);
		}
	}
	EXPECT_EQ(0u, s->violations);
	EXPECT_EQ(0u, s->errors) {
		TH_LOG("last error %d", s->last_error);
	}
	TH_LOG("%d kills (%d seen inside), %llu rounds", kills, in_mask,
	       (unsigned long long)s->rounds);

	/* Every worker is gone: trackerd saw the deaths when the keeper's
	 * and ours are all the ids left in the table. */
	if (variant->flags) {
		for (uint64_t end = helper_now_ms() + 5000;; usleep(1000)) {
			v = value_of(&s->sem);
			ASSERT_GE(total - 2, v) {
				TH_LOG("a unit counted twice");
			}
			if (v == total - 2 || helper_now_ms() > end)
				break;
		}
		EXPECT_EQ(total - 2, v);
		EXPECT_EQ(2, entries_used(&s->sem));
		EXPECT_EQ(1u, units_of(&s->sem, keeper_id));
		EXPECT_EQ(1u, units_of(&s->sem, holder()->id));
		EXPECT_EQ(0u, layout(&s->sem)->intent_op);
		helper_kill_reap(&self->kids[0]);
		ASSERT_TRUE(wait_dead(keeper_id, 5000));
		EXPECT_EQ(total - 1, value_of(&s->sem));
		EXPECT_EQ(0, sealshm_sem_release(&s->sem));
		EXPECT_EQ(total, value_of(&s->sem));
		EXPECT_EQ(0, entries_used(&s->sem));
	} else {
		v = value_of(&s->sem);
		EXPECT_GE(total - 2, v);
		EXPECT_LE((int)(total - 2) - kills, (int)v);
		TH_LOG("units lost with the dead: %u", total - 2 - v);
		helper_kill_reap(&self->kids[0]);
		ASSERT_TRUE(wait_dead(keeper_id, 5000));
		EXPECT_EQ(v, value_of(&s->sem));
		EXPECT_EQ(0, sealshm_sem_release(&s->sem));
		EXPECT_EQ(v + 1, value_of(&s->sem));
	}
}

/* --- killed at every instruction (single-stepped) ---------------------------------- */

#define MAX_STATES	128

/* The distinct states of the semaphore a single-stepped call went
 * through, in order. */
struct states {
	struct shared *s;
	struct sealshm__sem st[MAX_STATES];
	int n;
	bool overflow;
};

static bool record_state(void *ctx, unsigned long step)
{
	struct states *r = ctx;

	(void)step;
	if (r->n > 0 && !memcmp(&r->st[r->n - 1], &r->s->sem, sizeof(r->st[0])))
		return false;
	if (r->n == MAX_STATES) {
		r->overflow = true;
		return true;
	}
	memcpy(&r->st[r->n++], &r->s->sem, sizeof(r->st[0]));
	return false;
}

enum step_op { OP_ACQUIRE, OP_RELEASE, OP_VALUE };

struct step_arg {
	struct shared *s;
	enum step_op op;
	uint32_t pre;		/* units to acquire before */
};

/* Untraced: the holder id (in ids[1]), and a first call on the object
 * so that the traced one takes its common path. */
static int step_setup(void *p)
{
	struct step_arg *a = p;
	const struct sealshm__holder *h = holder();
	uint32_t v;

	if (!h)
		return 20;
	for (uint32_t i = 0; i < a->pre; i++)
		if (sealshm_sem_tryacquire(&a->s->sem) != 0)
			return 21;
	/* Not on the one stepped through: that would do what we want to
	 * see done under the steps (giving back a dead holder's units). */
	if (sealshm_sem_value(&a->s->other, &v) != 0)
		return 22;
	__atomic_store_n(&a->s->ids[1], h->id, __ATOMIC_RELEASE);
	return 0;
}

static int step_call(void *p)
{
	struct step_arg *a = p;
	uint32_t v;

	switch (a->op) {
	case OP_ACQUIRE:
		return code_of(sealshm_sem_tryacquire(&a->s->sem));
	case OP_RELEASE:
		return sealshm_sem_release(&a->s->sem) == 0 ? 0 : 10;
	case OP_VALUE:
		return sealshm_sem_value(&a->s->sem, &v) == 0 ? 0 : 10;
	}
	return 11;
}

/* Run @op in a child, one instruction at a time, from the state the
 * semaphore has now, recording every state it leaves; wait until
 * trackerd saw the child die.  Returns the steps taken or -errno. */
static long step_op(struct shared *s, enum step_op op, uint32_t pre, struct states *rec)
{
	struct step_arg a = { .s = s, .op = op, .pre = pre };
	const struct step_child c = {
		.setup = step_setup, .call = step_call, .arg = &a,
		.look = record_state, .ctx = rec,
		.max_steps = 200000, .timeout_ms = 60000,
	};
	long steps;
	int status;

	rec->s = s;
	rec->n = 0;
	rec->overflow = false;
	s->ids[1] = 0;
	steps = step_child_run(&c, &status);
	if (steps >= 0 && !wait_dead(s->ids[1], 5000))
		return -ETIMEDOUT;
	return steps;
}

/* A robust Semaphore(4) of which this process holds 1: whatever state a
 * single-stepped child left when killed, and then a second child
 * single-stepped through the repair of that state and killed at any of
 * its instructions, the value comes back to 3 with this process's unit
 * the only one in the table.  The child's call: an acquire, a release
 * of a unit it holds, and an acquire that must first give back a dead
 * holder's three units. */
TEST_F_TIMEOUT(sem, killed_at_every_instruction, 170)
{
	static struct states rec1, rec2;
	struct shared *s = self->s;
	struct sealshm__sem *l = layout(&s->sem);
	const struct sealshm__holder *h = holder();
	const uint32_t total = 4;
	long steps;

	ASSERT_NE(NULL, h);
	for (int scenario = 0; scenario < 3; scenario++) {
		enum step_op op = scenario == 1 ? OP_RELEASE : OP_ACQUIRE;
		int checked = 0;

		ASSERT_EQ(0, sealshm_sem_init(&s->sem, total, 0, variant->flags, NULL));
		ASSERT_EQ(0, sealshm_sem_init(&s->other, 1, 0, variant->flags, NULL));
		ASSERT_EQ(0, sealshm_sem_acquire(&s->sem, NULL, 0));
		if (scenario == 2) {
			/* A holder of the last three units, dead. */
			s->ready = 0;
			ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, s, 3));
			ASSERT_TRUE(helper_wait_count(&s->ready, 1, 10000));
			helper_kill_reap(&self->kids[0]);
			ASSERT_TRUE(wait_dead(s->ids[0], 5000));
			ASSERT_EQ(0u, l->value);
		}
		steps = step_op(s, op, scenario == 1 ? 1 : 0, &rec1);
		if (steps == -EPERM)
			SKIP(return, "ptrace() of a child is not permitted here");
		ASSERT_LT(0, steps);
		ASSERT_FALSE(rec1.overflow);
		TH_LOG("scenario %d: %ld instructions, %d states", scenario, steps, rec1.n);
		if (!variant->flags) {
			/* Default mode: the value is the one before or after,
			 * never anything else. */
			uint32_t before = rec1.st[0].value;

			for (int i = 0; i < rec1.n; i++) {
				uint32_t v = rec1.st[i].value;
				uint32_t after = op == OP_RELEASE ? before + 1 : before - 1;

				EXPECT_TRUE(v == before || v == after) {
					TH_LOG("state %d: value %u (before %u)", i, v, before);
				}
			}
			continue;
		}
		for (int i = 0; i < rec1.n; i++) {
			/* The first child's state, then a second child's repair
			 * of it killed at each of its instructions. */
			memcpy(l, &rec1.st[i], sizeof(*l));
			steps = step_op(s, OP_VALUE, 0, &rec2);
			ASSERT_LT(0, steps);
			ASSERT_FALSE(rec2.overflow);
			for (int j = 0; j < rec2.n; j++) {
				memcpy(l, &rec2.st[j], sizeof(*l));
				EXPECT_EQ(total - 1, value_of(&s->sem)) {
					TH_LOG("scenario %d, state %d of %d, repair state %d of %d",
					       scenario, i, rec1.n, j, rec2.n);
				}
				EXPECT_EQ(1, entries_used(&s->sem));
				EXPECT_EQ(1u, units_of(&s->sem, h->id));
				EXPECT_EQ(0u, l->intent_op);
				EXPECT_EQ(0u, l->guard);
				checked++;
			}
		}
		TH_LOG("scenario %d: %d states after two deaths checked", scenario, checked);
	}
}

/* The releaser dies after its change of the value and before its
 * FUTEX_WAKE: the sleeper is still woken (by the death epoch) and gets
 * the unit.  Robust mode also when it dies still holding the guard. */
static bool released_not_woken(void *ctx, unsigned long step)
{
	struct shared *s = ctx;
	struct sealshm__sem *l = layout(&s->sem);

	(void)step;
	if (!(l->flags & SEALSHM_SEM_ROBUST))
		return __atomic_load_n(&l->value, __ATOMIC_ACQUIRE) == 1;
	if (s->go == 0)
		/* Done but the guard still held. */
		return l->value == 1 && l->intent_op == 0 && l->guard != 0;
	/* Done and the guard let go: only the wake-up is left. */
	return l->value == 1 && l->guard == 0;
}

static int release_call(void *p)
{
	struct shared *s = p;

	return sealshm_sem_release(&s->sem) == 0 ? 0 : 10;
}

static int value_setup(void *p)
{
	struct shared *s = p;
	uint32_t v;

	return sealshm_sem_value(&s->sem, &v) == 0 ? 0 : 10;
}

TEST_F_TIMEOUT(sem, releaser_killed_before_wake, 90)
{
	struct shared *s = self->s;
	const struct step_child c = {
		.setup = value_setup, .call = release_call, .arg = s,
		.look = released_not_woken, .ctx = s,
		.max_steps = 200000, .timeout_ms = 60000,
	};

	for (uint32_t round = 0; round < (variant->flags ? 2u : 1u); round++) {
		struct sealshm_object_info info = { .sz = sizeof(info) };
		long steps;
		int status;

		ASSERT_EQ(0, sealshm_sem_init(&s->sem, 0, 0, variant->flags, NULL));
		s->go = round;
		s->ready = 0;
		ASSERT_LT(0, self->kids[1] = spawn(acquire_child, s, 10000));
		for (uint64_t end = helper_now_ms() + 10000; helper_now_ms() < end; usleep(1000)) {
			ASSERT_EQ(0, sealshm_object_info(&s->sem, sizeof(s->sem), NULL, &info));
			if (info.waiters == 1)
				break;
		}
		ASSERT_EQ(1u, info.waiters);
		usleep(20000);
		steps = step_child_run(&c, &status);
		if (steps == -EPERM)
			SKIP(return, "ptrace() of a child is not permitted here");
		ASSERT_LT(0, steps);
		EXPECT_TRUE(WIFSIGNALED(status)) {
			TH_LOG("the releaser ran to its end (status %#x)", status);
		}
		EXPECT_EQ(0, helper_reap_code(&self->kids[1], 10000)) {
			TH_LOG("round %u: the sleeper never got the unit", round);
		}
		/* It left with it: lost, or back in the robust mode. */
		EXPECT_EQ(variant->flags ? 1u : 0u, wait_value(&s->sem, variant->flags ? 1 : 0, 5000));
	}
}

/* --- without futex_waitv(2) ------------------------------------------------------------- */

#ifdef AUDIT_ARCH_NATIVE
/* A child without futex_waitv(2): a timed acquire ends in time, then it
 * waits (10 s) for a unit; exit code as code_of(), 50 + n on a failed
 * step. */
static int old_kernel_waiter(struct shared *s, long arg)
{
	struct timespec t = helper_rel_ms(100);
	int64_t t0;

	(void)arg;
	if (helper_deny_futex_waitv() < 0)
		return 50;
	t0 = helper_now_ns();
	if (sealshm_sem_acquire(&s->sem, &t, 0) != -ETIMEDOUT)
		return 51;
	if (helper_now_ns() - t0 < 100000000)
		return 52;
	__atomic_fetch_add(&s->ready, 1, __ATOMIC_RELEASE);
	t = helper_rel_ms(10000);
	return code_of(sealshm_sem_acquire(&s->sem, &t, 0));
}

/* On a kernel without futex_waitv(2) a waiter still times out, and gets
 * a unit a release gives, or (robust mode) the unit of a holder that dies
 * while it sleeps. */
TEST_F_TIMEOUT(sem, without_futex_waitv, 60)
{
	struct shared *s = self->s;
	uint32_t id;

	ASSERT_EQ(0, sealshm_sem_init(&s->sem, 1, 0, variant->flags, NULL));
	s->ready = 0;
	ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, s, 1));
	ASSERT_TRUE(helper_wait_count(&s->ready, 1, 10000));
	id = s->ids[0];
	ASSERT_LT(0, self->kids[1] = spawn(old_kernel_waiter, s, 0));
	ASSERT_TRUE(helper_wait_count(&s->ready, 2, 10000));
	usleep(50000);
	helper_kill_reap(&self->kids[0]);
	if (!variant->flags) {
		/* Lost with the dead: a release gives one. */
		ASSERT_TRUE(wait_dead(id, 5000));
		usleep(50000);
		EXPECT_EQ(0, sealshm_sem_release(&s->sem));
	}
	EXPECT_EQ(0, helper_reap_code(&self->kids[1], 20000));
}
#endif

/* --- bad input ----------------------------------------------------------------------- */

/* Every call on @obj, expecting @err. */
#define EXPECT_ALL_CALLS(err, obj)							\
	do {										\
		uint32_t v_;								\
		EXPECT_EQ(err, sealshm_sem_acquire((obj), NULL, 0));			\
		EXPECT_EQ(err, sealshm_sem_tryacquire(obj));				\
		EXPECT_EQ(err, sealshm_sem_release(obj));				\
		EXPECT_EQ(err, sealshm_sem_value((obj), &v_));				\
	} while (0)

/* NULL, misaligned, zeroed, corrupt and mistyped objects are refused
 * with -EINVAL or -EBADMSG, and never crash. */
TEST_F(sem, bad_objects)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_sem *s = &self->s->sem;
	_Alignas(8) unsigned char mem[sizeof(struct sealshm_sem) + 8];
	uint32_t v;

	EXPECT_ALL_CALLS(-EINVAL, (struct sealshm_sem *)NULL);
	EXPECT_EQ(-EINVAL, sealshm_sem_init(NULL, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, sealshm_sem_value(s, NULL));
	EXPECT_EQ(-EINVAL, sealshm_sem_init((void *)(mem + 4), 0, 0, variant->flags, NULL));
	EXPECT_ALL_CALLS(-EINVAL, (struct sealshm_sem *)(void *)(mem + 4));

	/* Never set up. */
	memset(mem, 0, sizeof(mem));
	EXPECT_ALL_CALLS(-EBADMSG, (struct sealshm_sem *)(void *)mem);
	EXPECT_EQ(-EBADMSG, sealshm_object_info(mem, sizeof(mem), NULL, &info));

	/* Another type: an Event is no semaphore, nor the other way round. */
	ASSERT_EQ(0, sealshm_event_init(&self->s->not_a_sem, NULL));
	EXPECT_ALL_CALLS(-EBADMSG, (struct sealshm_sem *)(void *)&self->s->not_a_sem);
	EXPECT_EQ(-EBADMSG, sealshm_event_set((struct sealshm_event *)(void *)s));
	EXPECT_EQ(-EBADMSG, sealshm_event_wait((struct sealshm_event *)(void *)s, NULL, 0));

	/* A header with any byte of its first eight changed. */
	ASSERT_EQ(0, sealshm_sem_init(s, 2, 0, variant->flags, NULL));
	for (int i = 0; i < 8; i++) {
		struct sealshm_sem *copy = (struct sealshm_sem *)(void *)mem;

		memcpy(mem, s, sizeof(*s));
		mem[i] ^= 0x40;
		EXPECT_EQ(-EBADMSG, sealshm_sem_acquire(copy, NULL, 0)) {
			TH_LOG("byte %d", i);
		}
	}

	/* Fields no semaphore has: every call says so, none waits. */
	{
		struct sealshm__sem *l = layout(s);
		struct sealshm__sem good;
		static const struct { size_t off; uint32_t val; } bad[] = {
			{ offsetof(struct sealshm__sem, max), 0x80000000u },
			{ offsetof(struct sealshm__sem, flags), 1u << 4 },
			{ offsetof(struct sealshm__sem, value), 0x80000000u },
		};

		memcpy(&good, l, sizeof(good));
		for (unsigned int i = 0; i < ELEMENTSOF(bad); i++) {
			memcpy(l, &good, sizeof(good));
			memcpy((char *)l + bad[i].off, &bad[i].val, 4);
			EXPECT_ALL_CALLS(-EBADMSG, s);
		}
		/* Bounded, with a value past its max. */
		memcpy(l, &good, sizeof(good));
		l->max = 1;
		EXPECT_ALL_CALLS(-EBADMSG, s);
		if (variant->flags) {
			/* An intent record that is none, left by a dead guard
			 * holder (no id lives as SEALSHM_HOLDER_NONE). */
			memcpy(l, &good, sizeof(good));
			l->guard = SEALSHM_HOLDER_NONE;
			l->intent_op = 9;
			EXPECT_ALL_CALLS(-EBADMSG, s);
			EXPECT_EQ(0u, l->guard);
			l->intent_op = SEALSHM__SEM_OP_ACQUIRE;
			l->intent_slot = SEALSHM__SEM_TABLE;
			EXPECT_ALL_CALLS(-EBADMSG, s);
			/* A free entry with units, found at the next cleaning. */
			memcpy(l, &good, sizeof(good));
			l->table[3].units = 2;
			l->epoch--;
			EXPECT_EQ(-EBADMSG, sealshm_sem_value(s, &v));
			EXPECT_EQ(-EBADMSG, sealshm_sem_acquire(s, NULL, 0));
		}
		memcpy(l, &good, sizeof(good));
		EXPECT_EQ(0, sealshm_sem_value(s, &v));
		EXPECT_EQ(2u, v);
	}
}

/* A semaphore in a read-only mapping is -EROFS for every call, without
 * a fault; info still reads it. */
TEST_F(sem, read_only_mapping)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm *r1 = NULL;
	struct shared *s;

	ASSERT_EQ(0, sealshm_sem_init(&self->s->sem, 2, 3, variant->flags, NULL));
	ASSERT_EQ(0, sealshm_attach(self->name, &ro, &r1));
	s = sealshm_buf(r1);
	EXPECT_ALL_CALLS(-EROFS, &s->sem);
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-EROFS, sealshm_sem_init(&s->sem, 0, 0, variant->flags, NULL));
	EXPECT_EQ(0, sealshm_object_info(&s->sem, sizeof(s->sem), NULL, &info));
	EXPECT_EQ(2u, info.value);
	EXPECT_EQ(3u, info.max);
	sealshm_close(r1);
	EXPECT_EQ(2u, value_of(&self->s->sem));
}

/* --- objects of their own ------------------------------------------------------------ */

/* A child: attach the semaphore @name by name and take a unit. */
static int attach_and_take(struct shared *s, long arg)
{
	struct sealshm *o = NULL;
	int r;

	(void)arg;
	if (sealshm_object_attach((const char *)s->ids, SEALSHM_OBJECT_SEM, NULL, &o) < 0)
		return 10;
	r = sealshm_sem_tryacquire(sealshm_buf(o));
	sealshm_close(o);
	return code_of(r);
}

/* sealshm_object_create() of a semaphore from params, info on it, and
 * another process's attach; params a semaphore does not take are -EINVAL. */
TEST_F(sem, object_create_attach_info)
{
	SEALSHM_OPTS(sealshm_object_params, p, .type = SEALSHM_OBJECT_SEM, .value = 1, .max = 2,
		     .flags = variant->flags);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm *o = NULL, *x = NULL;
	char name[80];

	snprintf(name, sizeof(name), "%s_obj", self->name);
	ASSERT_EQ(0, sealshm_object_create(name, &p, NULL, &o));
	EXPECT_EQ(sizeof(struct sealshm_sem), sealshm_size(o));
	ASSERT_EQ(0, sealshm_object_info(sealshm_buf(o), sealshm_size(o), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_SEM, info.type);
	EXPECT_EQ(1u, info.value);
	EXPECT_EQ(2u, info.max);
	EXPECT_EQ(variant->flags ? SEALSHM_OBJECT_ROBUST : 0u, info.flags);

	/* The name travels in ids[] (any shared bytes do). */
	snprintf((char *)self->s->ids, sizeof(self->s->ids), "%s", name);
	ASSERT_LT(0, self->kids[0] = spawn(attach_and_take, self->s, 0));
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
	/* The child left with its unit: lost, or back in the robust mode. */
	if (variant->flags) {
		EXPECT_EQ(1u, wait_value(sealshm_buf(o), 1, 5000));
		EXPECT_EQ(0, sealshm_sem_tryacquire(sealshm_buf(o)));
	}
	EXPECT_EQ(0u, value_of(sealshm_buf(o)));
	EXPECT_EQ(-EAGAIN, sealshm_sem_tryacquire(sealshm_buf(o)));
	EXPECT_EQ(0, sealshm_sem_release(sealshm_buf(o)));
	EXPECT_EQ(0, sealshm_sem_release(sealshm_buf(o)));
	EXPECT_EQ(-EOVERFLOW, sealshm_sem_release(sealshm_buf(o)));
	EXPECT_EQ(-EBADMSG, sealshm_object_attach(name, SEALSHM_OBJECT_EVENT, NULL, &x));
	EXPECT_EQ(0, sealshm_unlink(o));
	sealshm_close(o);

	p.max = 0;
	p.value = 0x80000000u;
	EXPECT_EQ(-EINVAL, sealshm_object_create(name, &p, NULL, &o));
	p.value = 3;
	p.max = 2;
	EXPECT_EQ(-EINVAL, sealshm_object_create(name, &p, NULL, &o));
	p.max = 0;
	p.parties = 2;
	EXPECT_EQ(-EINVAL, sealshm_object_create(name, &p, NULL, &o));
	p.parties = 0;
	p.flags = 1u << 3;
	EXPECT_EQ(-EINVAL, sealshm_object_create(name, &p, NULL, &o));
}

TEST_HARNESS_MAIN

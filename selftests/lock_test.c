// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lock_test: Lock and RLock (sealshm_lock(3)) and the calls on objects of
 * their own (sealshm_object(3)), between real processes through a real
 * trackerd on a private socket: exact counts under contention from
 * threads and processes, tries, timeouts and signals, who may release,
 * the death of a holder at random moments (kill -9), also in other pid
 * namespaces, and bad input (a clear error, never a crash or a hang).
 * Every wait in here is bounded: an acquire a child makes has a timeout,
 * and a child that overstays is killed.
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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "holder.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

/* What the processes of a test share: the segment's layout. */
struct shared {
	struct sealshm_lock lock;
	struct sealshm_rlock rlock;
	/* Under the lock: a is incremented first, b last, so a holder that
	 * dies leaves a == b or a == b + 1, and anyone who gets the lock
	 * without -EOWNERDEAD must find a == b. */
	uint64_t a, b;
	uint64_t counter;
	uint64_t owner_dead;	/* -EOWNERDEAD seen by the workers */
	uint64_t broken;	/* inconsistencies the workers saw */
	uint64_t rounds;	/* critical sections done */
	uint32_t ready;		/* children that hold what they should */
	uint32_t go;
};

/* How long a child waits for a lock before it gives up (a hang is a
 * failure, never a stuck test). */
#define CHILD_WAIT_S	20
#define MAX_KIDS	8

FIXTURE(lock) {
	struct trackerd d;
	struct sealshm *shm;
	struct shared *s;
	char name[64];
	pid_t kids[MAX_KIDS];
	int fds_before;
};

FIXTURE_SETUP(lock)
{
	memset(self->kids, 0, sizeof(self->kids));
	self->shm = NULL;
	trackerd_fixture_setup(_metadata, &self->d, NULL, TRACKERD_FIXTURE_HOLDER,
			       &self->fds_before, NULL);
	snprintf(self->name, sizeof(self->name), "lock_test_%d", (int)getpid());
	ASSERT_EQ(0, sealshm_create(self->name, sizeof(struct shared), NULL, &self->shm));
	self->s = sealshm_buf(self->shm);
	ASSERT_EQ(0, sealshm_lock_init(&self->s->lock, NULL));
	ASSERT_EQ(0, sealshm_rlock_init(&self->s->rlock, NULL));
}

FIXTURE_TEARDOWN(lock)
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

static struct timespec rel_s(time_t s)
{
	return (struct timespec){ .tv_sec = s };
}

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

/* SIGKILL our child and reap it. */
static void kill9(pid_t *pid)
{
	helper_kill_reap(pid);
}

/* A child: take the Lock (arg 0) or the RLock @arg times (arg > 0), say
 * so, and wait to be killed. */
static int hold_and_wait(struct shared *s, long arg)
{
	struct timespec t = rel_s(CHILD_WAIT_S);
	int r;

	if (arg == 0)
		r = sealshm_lock_acquire(&s->lock, &t, 0);
	else
		for (long i = 0; i < arg; i++)
			if ((r = sealshm_rlock_acquire(&s->rlock, &t, 0)) != 0)
				break;
	if (r != 0)
		return 10;
	__atomic_fetch_add(&s->ready, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < CHILD_WAIT_S * 100; i++)
		usleep(10000);
	return 11;
}

/* A child: as hold_and_wait(), then release when s->go is set. */
static int hold_until_go(struct shared *s, long arg)
{
	struct timespec t = rel_s(CHILD_WAIT_S);
	uint64_t end = helper_now_ms() + CHILD_WAIT_S * 1000;
	int r;

	r = arg ? sealshm_rlock_acquire(&s->rlock, &t, 0) : sealshm_lock_acquire(&s->lock, &t, 0);
	if (r != 0)
		return 10;
	__atomic_fetch_add(&s->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		if (helper_now_ms() > end)
			return 11;
		else
			usleep(200);
	r = arg ? sealshm_rlock_release(&s->rlock) : sealshm_lock_release(&s->lock);
	return r == 0 ? 0 : 12;
}

/* Exit codes for a child's acquire result. */
static int code_of(int r)
{
	return r == 0 ? 0 : r == -EOWNERDEAD ? 1 : r == -ETIMEDOUT ? 2 : r == -EINTR ? 3 :
	       r == -ENOTRECOVERABLE ? 4 : 9;
}

/* --- uncontended ------------------------------------------------------------- */

/* Acquire, try, release and info of a free Lock, in one process. */
TEST_F(lock, lock_uncontended)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_lock *lk = &self->s->lock;
	const struct sealshm__holder *h;

	ASSERT_EQ(0, sealshm__holder_get(NULL, &h));
	ASSERT_EQ(0, sealshm_object_info(lk, sizeof(*lk), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_LOCK, info.type);
	EXPECT_EQ(sizeof(*lk), info.size);
	EXPECT_EQ(0u, info.flags);
	EXPECT_EQ(0u, info.holder);
	EXPECT_EQ(h->instance, info.instance);

	EXPECT_EQ(0, sealshm_lock_acquire(lk, NULL, 0));
	ASSERT_EQ(0, sealshm_object_info(lk, sizeof(*lk), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_HELD, info.flags);
	EXPECT_EQ(h->id, info.holder);
	EXPECT_EQ((uint32_t)getpid(), info.holder_pid);
	/* Held, by this process too: a try fails. */
	EXPECT_EQ(-EBUSY, sealshm_lock_tryacquire(lk));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, sealshm_lock_release(lk));
	EXPECT_EQ(-EPERM, sealshm_lock_release(lk));
	EXPECT_EQ(0, sealshm_lock_tryacquire(lk));
	EXPECT_EQ(0, sealshm_lock_release(lk));

	for (int i = 0; i < 100000; i++) {
		if (sealshm_lock_acquire(lk, NULL, 0) || sealshm_lock_release(lk)) {
			EXPECT_TRUE(false) {
				TH_LOG("round %d", i);
			}
			break;
		}
	}
	ASSERT_EQ(0, sealshm_object_info(lk, sizeof(*lk), NULL, &info));
	EXPECT_EQ(0u, info.flags);
}

/* RLock: recursion counts, release by count, info shows the count. */
TEST_F(lock, rlock_uncontended)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_rlock *rl = &self->s->rlock;

	EXPECT_EQ(0, sealshm_rlock_acquire(rl, NULL, 0));
	EXPECT_EQ(0, sealshm_rlock_acquire(rl, NULL, 0));
	EXPECT_EQ(0, sealshm_rlock_tryacquire(rl));
	ASSERT_EQ(0, sealshm_object_info(rl, sizeof(*rl), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_RLOCK, info.type);
	EXPECT_EQ(SEALSHM_OBJECT_HELD, info.flags);
	EXPECT_EQ(3u, info.value);
	EXPECT_EQ((uint32_t)getpid(), info.holder_pid);
	EXPECT_EQ(0, sealshm_rlock_release(rl));
	EXPECT_EQ(0, sealshm_rlock_release(rl));
	ASSERT_EQ(0, sealshm_object_info(rl, sizeof(*rl), NULL, &info));
	EXPECT_EQ(1u, info.value);
	EXPECT_EQ(0, sealshm_rlock_release(rl));
	EXPECT_EQ(-EPERM, sealshm_rlock_release(rl));
	ASSERT_EQ(0, sealshm_object_info(rl, sizeof(*rl), NULL, &info));
	EXPECT_EQ(0u, info.flags);
	EXPECT_EQ(0u, info.value);
}

/* The recursion count stops at 2^32 - 1 (-EAGAIN beyond, nothing
 * changed); reached by writing the count where objects.md puts it. */
TEST_F(lock, rlock_count_limit)
{
	struct sealshm_rlock *rl = &self->s->rlock;
	uint32_t *count = (uint32_t *)((char *)rl + 20);

	ASSERT_EQ(0, sealshm_rlock_acquire(rl, NULL, 0));
	ASSERT_EQ(1u, *count);
	*count = UINT32_MAX - 1;
	EXPECT_EQ(0, sealshm_rlock_acquire(rl, NULL, 0));
	EXPECT_EQ(UINT32_MAX, *count);
	EXPECT_EQ(-EAGAIN, sealshm_rlock_acquire(rl, NULL, 0));
	EXPECT_EQ(-EAGAIN, sealshm_rlock_tryacquire(rl));
	EXPECT_EQ(UINT32_MAX, *count);
	*count = 2;
	EXPECT_EQ(0, sealshm_rlock_release(rl));
	EXPECT_EQ(0, sealshm_rlock_release(rl));
	EXPECT_EQ(-EPERM, sealshm_rlock_release(rl));
}

/* --- contention ----------------------------------------------------------------- */

#define THREADS		4
#define THREAD_ROUNDS	50000

struct thread_arg {
	struct shared *s;
	bool rlock;
	int failed;
};

static void *counting_thread(void *p)
{
	struct thread_arg *t = p;
	struct timespec to = rel_s(CHILD_WAIT_S);

	for (int i = 0; i < THREAD_ROUNDS; i++) {
		if (t->rlock) {
			if (sealshm_rlock_acquire(&t->s->rlock, &to, 0) ||
			    sealshm_rlock_acquire(&t->s->rlock, &to, 0)) {
				t->failed++;
				break;
			}
			t->s->counter++;
			if (sealshm_rlock_release(&t->s->rlock) ||
			    sealshm_rlock_release(&t->s->rlock)) {
				t->failed++;
				break;
			}
		} else {
			if (sealshm_lock_acquire(&t->s->lock, &to, 0)) {
				t->failed++;
				break;
			}
			t->s->counter++;
			if (sealshm_lock_release(&t->s->lock)) {
				t->failed++;
				break;
			}
		}
	}
	return NULL;
}

/* Threads of one process count exactly under a Lock, then an RLock. */
TEST_F_TIMEOUT(lock, threads_count_exactly, 120)
{
	for (int kind = 0; kind < 2; kind++) {
		struct thread_arg args[THREADS];
		pthread_t th[THREADS];

		self->s->counter = 0;
		for (int i = 0; i < THREADS; i++) {
			args[i] = (struct thread_arg){ .s = self->s, .rlock = kind == 1 };
			ASSERT_EQ(0, pthread_create(&th[i], NULL, counting_thread, &args[i]));
		}
		for (int i = 0; i < THREADS; i++) {
			pthread_join(th[i], NULL);
			EXPECT_EQ(0, args[i].failed);
		}
		EXPECT_EQ((uint64_t)THREADS * THREAD_ROUNDS, self->s->counter) {
			TH_LOG("%s", kind ? "RLock" : "Lock");
		}
	}
}

#define PROCS		4
#define PROC_ROUNDS	20000

/* A child: PROC_ROUNDS increments of s->counter under the Lock (arg 0)
 * or the RLock taken twice (arg 1). */
static int counting_child(struct shared *s, long arg)
{
	struct timespec to = rel_s(CHILD_WAIT_S);

	for (int i = 0; i < PROC_ROUNDS; i++) {
		if (arg) {
			if (sealshm_rlock_acquire(&s->rlock, &to, 0) ||
			    sealshm_rlock_acquire(&s->rlock, &to, 0))
				return 10;
			s->counter++;
			if (sealshm_rlock_release(&s->rlock) || sealshm_rlock_release(&s->rlock))
				return 11;
		} else {
			if (sealshm_lock_acquire(&s->lock, &to, 0))
				return 10;
			s->counter++;
			if (sealshm_lock_release(&s->lock))
				return 11;
		}
	}
	return 0;
}

/* N processes x M increments under a Lock, then an RLock with
 * recursion, reach exactly N * M. */
TEST_F_TIMEOUT(lock, processes_count_exactly, 120)
{
	for (long kind = 0; kind < 2; kind++) {
		self->s->counter = 0;
		for (int i = 0; i < PROCS; i++)
			ASSERT_LT(0, self->kids[i] = spawn(counting_child, self->s, kind));
		for (int i = 0; i < PROCS; i++)
			EXPECT_EQ(0, helper_reap_code(&self->kids[i], 90000));
		EXPECT_EQ((uint64_t)PROCS * PROC_ROUNDS, self->s->counter) {
			TH_LOG("%s", kind ? "RLock" : "Lock");
		}
	}
}

/* --- tries, timeouts, signals ------------------------------------------------------ */

/* Held by another process: a try is -EBUSY; relative and absolute
 * timeouts give -ETIMEDOUT, not before the deadline; bad timeouts and
 * flags are -EINVAL; the holder's release lets a waiter in. */
TEST_F_TIMEOUT(lock, tries_and_timeouts, 60)
{
	for (long kind = 0; kind < 2; kind++) {
		struct timespec t = helper_rel_ms(150), abs;
		int64_t t0, dt;
		int r;

		self->s->ready = self->s->go = 0;
		ASSERT_LT(0, self->kids[0] = spawn(hold_until_go, self->s, kind));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));

#define ACQ(to, fl) (kind ? sealshm_rlock_acquire(&self->s->rlock, to, fl) \
			  : sealshm_lock_acquire(&self->s->lock, to, fl))
#define TRY() (kind ? sealshm_rlock_tryacquire(&self->s->rlock) \
		    : sealshm_lock_tryacquire(&self->s->lock))
#define REL() (kind ? sealshm_rlock_release(&self->s->rlock) \
		    : sealshm_lock_release(&self->s->lock))

		EXPECT_EQ(-EBUSY, TRY());
		EXPECT_EQ(-EPERM, REL());

		t0 = helper_now_ns();
		r = ACQ(&t, 0);
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
		r = ACQ(&abs, SEALSHM_WAIT_ABSTIME);
		EXPECT_EQ(-ETIMEDOUT, r);
		EXPECT_LE((int64_t)abs.tv_sec * 1000000000 + abs.tv_nsec, helper_now_ns());

		/* A deadline passed already, and a zero interval. */
		abs.tv_sec -= 5;
		EXPECT_EQ(-ETIMEDOUT, ACQ(&abs, SEALSHM_WAIT_ABSTIME));
		t = helper_rel_ms(0);
		EXPECT_EQ(-ETIMEDOUT, ACQ(&t, 0));

		t = (struct timespec){ .tv_nsec = 1000000000 };
		EXPECT_EQ(-EINVAL, ACQ(&t, 0));
		t = (struct timespec){ .tv_sec = -1 };
		EXPECT_EQ(-EINVAL, ACQ(&t, 0));
		t = helper_rel_ms(10);
		EXPECT_EQ(-EINVAL, ACQ(&t, 1u << 7));

		/* The holder lets go while we wait. */
		__atomic_store_n(&self->s->go, 1, __ATOMIC_RELEASE);
		t = rel_s(CHILD_WAIT_S);
		EXPECT_EQ(0, ACQ(&t, 0));
		EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
		EXPECT_EQ(0, REL());
#undef ACQ
#undef TRY
#undef REL
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal handler (installed without SA_RESTART) that runs during a
 * wait ends it with -EINTR; the lock stays its holder's. */
TEST_F_TIMEOUT(lock, signal_interrupts_wait, 60)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	/* Again every 100 ms: one that fires before the wait began is not
	 * the last. */
	struct itimerval it = { .it_value = { .tv_usec = 100000 },
				.it_interval = { .tv_usec = 100000 } };
	struct itimerval off = { 0 };

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	for (long kind = 0; kind < 2; kind++) {
		struct timespec t = rel_s(CHILD_WAIT_S);
		int64_t t0, dt;
		int r;

		self->s->ready = 0;
		ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, self->s, kind));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
		t0 = helper_now_ns();
		r = kind ? sealshm_rlock_acquire(&self->s->rlock, &t, 0)
			 : sealshm_lock_acquire(&self->s->lock, &t, 0);
		dt = helper_now_ns() - t0;
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &off, NULL));
		EXPECT_EQ(-EINTR, r);
		EXPECT_EQ(EINTR, errno);
		EXPECT_GT(10000000000LL, dt);
		EXPECT_EQ(-EBUSY, kind ? sealshm_rlock_tryacquire(&self->s->rlock)
				       : sealshm_lock_tryacquire(&self->s->lock));
		kill9(&self->kids[0]);
		/* Taken over from the dead child; put back in order. */
		EXPECT_EQ(-EOWNERDEAD, kind ? sealshm_rlock_acquire(&self->s->rlock, &t, 0)
					    : sealshm_lock_acquire(&self->s->lock, &t, 0));
		if (kind) {
			EXPECT_EQ(0, sealshm_rlock_consistent(&self->s->rlock));
			EXPECT_EQ(0, sealshm_rlock_release(&self->s->rlock));
		} else {
			EXPECT_EQ(0, sealshm_lock_consistent(&self->s->lock));
			EXPECT_EQ(0, sealshm_lock_release(&self->s->lock));
		}
	}
	sigaction(SIGALRM, &old, NULL);
}

/* --- who may release ---------------------------------------------------------------- */

struct other_thread {
	struct shared *s;
	int r_try, r_timed, r_release, r_rl_try, r_rl_release, r_rl_consistent;
};

static void *other_thread_fn(void *p)
{
	struct other_thread *o = p;
	struct timespec t = helper_rel_ms(50);

	o->r_try = sealshm_lock_tryacquire(&o->s->lock);
	o->r_timed = sealshm_lock_acquire(&o->s->lock, &t, 0);
	o->r_release = sealshm_lock_release(&o->s->lock);
	o->r_rl_try = sealshm_rlock_tryacquire(&o->s->rlock);
	o->r_rl_release = sealshm_rlock_release(&o->s->rlock);
	o->r_rl_consistent = sealshm_rlock_consistent(&o->s->rlock);
	return NULL;
}

/* Another thread of the holding process waits like any other, and may
 * release a Lock (CPython's Lock is a binary semaphore) but not an
 * RLock; another process may release neither; _consistent() of a lock
 * that is not owner-died is -EINVAL. */
TEST_F_TIMEOUT(lock, who_may_release, 60)
{
	struct other_thread o = { .s = self->s };
	pthread_t th;

	EXPECT_EQ(-EPERM, sealshm_lock_release(&self->s->lock));
	EXPECT_EQ(-EPERM, sealshm_rlock_release(&self->s->rlock));
	EXPECT_EQ(-EINVAL, sealshm_lock_consistent(&self->s->lock));

	ASSERT_EQ(0, sealshm_lock_acquire(&self->s->lock, NULL, 0));
	ASSERT_EQ(0, sealshm_rlock_acquire(&self->s->rlock, NULL, 0));
	EXPECT_EQ(-EINVAL, sealshm_lock_consistent(&self->s->lock));
	EXPECT_EQ(-EINVAL, sealshm_rlock_consistent(&self->s->rlock));
	ASSERT_EQ(0, pthread_create(&th, NULL, other_thread_fn, &o));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-EBUSY, o.r_try);
	EXPECT_EQ(-ETIMEDOUT, o.r_timed);
	EXPECT_EQ(0, o.r_release);
	EXPECT_EQ(-EBUSY, o.r_rl_try);
	EXPECT_EQ(-EPERM, o.r_rl_release);
	EXPECT_EQ(-EINVAL, o.r_rl_consistent);
	/* The Lock was released by the other thread; the RLock is ours. */
	EXPECT_EQ(-EPERM, sealshm_lock_release(&self->s->lock));
	EXPECT_EQ(0, sealshm_rlock_release(&self->s->rlock));

	/* Another process holds them: we may release neither. */
	self->s->ready = self->s->go = 0;
	ASSERT_LT(0, self->kids[0] = spawn(hold_until_go, self->s, 0));
	ASSERT_LT(0, self->kids[1] = spawn(hold_until_go, self->s, 1));
	ASSERT_TRUE(helper_wait_count(&self->s->ready, 2, 10000));
	EXPECT_EQ(-EPERM, sealshm_lock_release(&self->s->lock));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-EPERM, sealshm_rlock_release(&self->s->rlock));
	EXPECT_EQ(-EINVAL, sealshm_lock_consistent(&self->s->lock));
	__atomic_store_n(&self->s->go, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
	EXPECT_EQ(0, helper_reap_code(&self->kids[1], 10000));
}

struct rlock_thread {
	struct shared *s;
	int r_try, r_acquire;
};

static void *rlock_waiter(void *p)
{
	struct rlock_thread *t = p;
	struct timespec to = rel_s(CHILD_WAIT_S);

	t->r_try = sealshm_rlock_tryacquire(&t->s->rlock);
	t->r_acquire = sealshm_rlock_acquire(&t->s->rlock, &to, 0);
	if (t->r_acquire == 0)
		(void)sealshm_rlock_release(&t->s->rlock);
	return NULL;
}

/* An RLock belongs to a thread: another thread of the same process
 * waits until the owner released every count. */
TEST_F_TIMEOUT(lock, rlock_belongs_to_a_thread, 60)
{
	struct rlock_thread t = { .s = self->s };
	pthread_t th;

	ASSERT_EQ(0, sealshm_rlock_acquire(&self->s->rlock, NULL, 0));
	ASSERT_EQ(0, sealshm_rlock_acquire(&self->s->rlock, NULL, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, rlock_waiter, &t));
	usleep(50000);
	EXPECT_EQ(0, sealshm_rlock_release(&self->s->rlock));
	usleep(50000);
	EXPECT_EQ(0, sealshm_rlock_release(&self->s->rlock));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-EBUSY, t.r_try);
	EXPECT_EQ(0, t.r_acquire);
	EXPECT_EQ(-EPERM, sealshm_rlock_release(&self->s->rlock));
}

/* --- owner death ------------------------------------------------------------------------ */

/* The next acquirer of a lock whose holder was killed gets it with
 * -EOWNERDEAD, whether it was asleep on it already or comes later; after
 * _consistent() it is an ordinary lock; released without it, it is
 * -ENOTRECOVERABLE for everyone until set up again. */
TEST_F_TIMEOUT(lock, owner_death, 60)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct timespec t = rel_s(CHILD_WAIT_S);

	for (long kind = 0; kind < 2; kind++) {
		long arg = kind ? 3 : 0;	/* an RLock held 3 times */

#define ACQ() (kind ? sealshm_rlock_acquire(&self->s->rlock, &t, 0) \
		    : sealshm_lock_acquire(&self->s->lock, &t, 0))
#define TRY() (kind ? sealshm_rlock_tryacquire(&self->s->rlock) \
		    : sealshm_lock_tryacquire(&self->s->lock))
#define REL() (kind ? sealshm_rlock_release(&self->s->rlock) \
		    : sealshm_lock_release(&self->s->lock))
#define CONS() (kind ? sealshm_rlock_consistent(&self->s->rlock) \
		     : sealshm_lock_consistent(&self->s->lock))
		void *obj = kind ? (void *)&self->s->rlock : (void *)&self->s->lock;

		/* Killed while nobody waits: found by the next try. */
		self->s->ready = 0;
		ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, self->s, arg));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));
		EXPECT_EQ(-EBUSY, TRY());
		kill9(&self->kids[0]);
		/* trackerd sees the death shortly after the kill. */
		for (int i = 0; i < 1000; i++) {
			int r = TRY();

			if (r != -EBUSY) {
				EXPECT_EQ(-EOWNERDEAD, r);
				EXPECT_EQ(EOWNERDEAD, errno);
				break;
			}
			usleep(5000);
		}
		ASSERT_EQ(0, sealshm_object_info(obj, 32, NULL, &info));
		EXPECT_EQ(SEALSHM_OBJECT_HELD | SEALSHM_OBJECT_OWNER_DIED, info.flags);
		EXPECT_EQ((uint32_t)getpid(), info.holder_pid);
		if (kind) {
			EXPECT_EQ(1u, info.value);
		}
		EXPECT_EQ(0, CONS());
		EXPECT_EQ(-EINVAL, CONS());
		EXPECT_EQ(0, REL());
		EXPECT_EQ(0, ACQ());
		EXPECT_EQ(0, REL());

		/* Killed while we sleep on it. */
		self->s->ready = 0;
		ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, self->s, arg));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));
		self->kids[1] = fork();
		if (self->kids[1] == 0) {
			usleep(100000);
			kill(self->kids[0], SIGKILL);
			_exit(0);
		}
		ASSERT_LT(0, self->kids[1]);
		EXPECT_EQ(-EOWNERDEAD, ACQ());
		EXPECT_EQ(0, helper_reap_code(&self->kids[1], 10000));
		kill9(&self->kids[0]);
		/* Recursion by the heir, then released without _consistent(). */
		if (kind) {
			EXPECT_EQ(0, ACQ());
			EXPECT_EQ(0, REL());
		}
		EXPECT_EQ(0, REL());
		EXPECT_EQ(-ENOTRECOVERABLE, ACQ());
		EXPECT_EQ(ENOTRECOVERABLE, errno);
		EXPECT_EQ(-ENOTRECOVERABLE, TRY());
		EXPECT_EQ(-EPERM, REL());
		EXPECT_EQ(-EINVAL, CONS());
		ASSERT_EQ(0, sealshm_object_info(obj, 32, NULL, &info));
		EXPECT_EQ(SEALSHM_OBJECT_NOTRECOVERABLE, info.flags);
		EXPECT_EQ(0u, info.holder);

		/* Set up again, it works. */
		ASSERT_EQ(0, kind ? sealshm_rlock_init(&self->s->rlock, NULL)
				  : sealshm_lock_init(&self->s->lock, NULL));
		EXPECT_EQ(0, ACQ());
		EXPECT_EQ(0, REL());
#undef ACQ
#undef TRY
#undef REL
#undef CONS
	}
}

/* A child waiting for the lock (10 s): exit code as code_of(); it
 * releases what it got, after _consistent() when it inherited it. */
static int wait_for_lock(struct shared *s, long kind)
{
	struct timespec t = rel_s(10);
	int r;

	r = kind ? sealshm_rlock_acquire(&s->rlock, &t, 0) : sealshm_lock_acquire(&s->lock, &t, 0);
	if (r == -EOWNERDEAD)
		(void)(kind ? sealshm_rlock_consistent(&s->rlock) : sealshm_lock_consistent(&s->lock));
	if (r == 0 || r == -EOWNERDEAD)
		(void)(kind ? sealshm_rlock_release(&s->rlock) : sealshm_lock_release(&s->lock));
	return code_of(r);
}

/* Several processes asleep on a lock whose holder dies: one inherits it
 * (-EOWNERDEAD), the others get it in turn (0), nobody hangs. */
TEST_F_TIMEOUT(lock, owner_death_wakes_one_heir, 60)
{
	for (long kind = 0; kind < 2; kind++) {
		int heirs = 0, plain = 0;

		self->s->ready = 0;
		ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, self->s, kind));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));
		for (int i = 1; i <= 3; i++)
			ASSERT_LT(0, self->kids[i] = spawn(wait_for_lock, self->s, kind));
		usleep(200000);
		kill9(&self->kids[0]);
		for (int i = 1; i <= 3; i++) {
			int rc = helper_reap_code(&self->kids[i], 20000);

			if (rc == 1) {
				heirs++;
			} else if (rc == 0) {
				plain++;
			} else {
				EXPECT_EQ(0, rc) {
					TH_LOG("%s waiter %d", kind ? "RLock" : "Lock", i);
				}
			}
		}
		EXPECT_EQ(1, heirs);
		EXPECT_EQ(2, plain);
	}
}

/* --- kill -9 at random moments ------------------------------------------------------ */

#define KILL_WORKERS	3
#define KILLS_PER_KIND	40

/* A worker: forever take the lock (an RLock twice), check that a == b
 * (a dead holder may have left a == b + 1: then the lock said
 * -EOWNERDEAD, and the worker repairs), advance a and b, give it back. */
static int kill_worker(struct shared *s, long kind)
{
	struct timespec t = rel_s(CHILD_WAIT_S);

	for (;;) {
		int r = kind ? sealshm_rlock_acquire(&s->rlock, &t, 0)
			     : sealshm_lock_acquire(&s->lock, &t, 0);

		if (r == -EOWNERDEAD) {
			__atomic_fetch_add(&s->owner_dead, 1, __ATOMIC_RELAXED);
			if (s->a != s->b && s->a != s->b + 1)
				s->broken++;
			s->b = s->a;
			if (kind ? sealshm_rlock_consistent(&s->rlock)
				 : sealshm_lock_consistent(&s->lock))
				return 20;
		} else if (r != 0) {
			return 10 + code_of(r);
		} else if (s->a != s->b) {
			s->broken++;
		}
		if (kind && sealshm_rlock_acquire(&s->rlock, &t, 0))
			return 30;
		s->a++;
		for (volatile int i = 0; i < 100; i++)
			;
		s->b++;
		s->rounds++;
		if (kind && sealshm_rlock_release(&s->rlock))
			return 31;
		if (kind ? sealshm_rlock_release(&s->rlock) : sealshm_lock_release(&s->lock))
			return 32;
	}
}

/* Workers hammer a lock while the test SIGKILLs one at a random moment,
 * KILLS_PER_KIND times for the Lock and as many for the RLock: every
 * death while holding is handed to the next acquirer as -EOWNERDEAD,
 * the data is never seen torn without it, and nobody hangs. */
TEST_F_TIMEOUT(lock, kill9_at_random_moments, 150)
{
	unsigned int seed = (unsigned int)getpid() ^ (unsigned int)time(NULL);
	struct timespec t = rel_s(10);

	TH_LOG("seed %u", seed);
	for (long kind = 0; kind < 2; kind++) {
		struct shared *s = self->s;
		int kills = 0, r;

		s->a = s->b = s->rounds = s->owner_dead = s->broken = 0;
		for (int i = 0; i < KILL_WORKERS; i++)
			ASSERT_LT(0, self->kids[i] = spawn(kill_worker, s, kind));
		while (kills < KILLS_PER_KIND) {
			int victim = rand_r(&seed) % KILL_WORKERS;
			uint64_t before = __atomic_load_n(&s->rounds, __ATOMIC_RELAXED);
			uint64_t end = helper_now_ms() + 20000;

			/* Let them run a little: at least one more round. */
			usleep(rand_r(&seed) % 3000);
			while (__atomic_load_n(&s->rounds, __ATOMIC_RELAXED) == before &&
			       helper_now_ms() < end)
				usleep(100);
			ASSERT_NE(before, __atomic_load_n(&s->rounds, __ATOMIC_RELAXED)) {
				TH_LOG("%s: no progress after %d kills", kind ? "RLock" : "Lock",
				       kills);
			}
			kill9(&self->kids[victim]);
			kills++;
			/* The others are still at work. */
			for (int i = 0; i < KILL_WORKERS; i++) {
				int st;

				if (i != victim && waitpid(self->kids[i], &st, WNOHANG) != 0) {
					self->kids[i] = 0;
					ASSERT_TRUE(false) {
						TH_LOG("worker %d ended by itself: exit code %d", i,
						       helper_exit_code(st));
					}
				}
			}
			ASSERT_LT(0, self->kids[victim] = spawn(kill_worker, s, kind));
		}
		for (int i = 0; i < KILL_WORKERS; i++)
			kill9(&self->kids[i]);

		/* The last word is ours. */
		r = kind ? sealshm_rlock_acquire(&s->rlock, &t, 0)
			 : sealshm_lock_acquire(&s->lock, &t, 0);
		if (r == -EOWNERDEAD) {
			s->owner_dead++;
			EXPECT_TRUE(s->a == s->b || s->a == s->b + 1);
			s->b = s->a;
			EXPECT_EQ(0, kind ? sealshm_rlock_consistent(&s->rlock)
					  : sealshm_lock_consistent(&s->lock));
		} else {
			EXPECT_EQ(0, r);
			EXPECT_EQ(s->a, s->b);
		}
		EXPECT_EQ(0, kind ? sealshm_rlock_release(&s->rlock)
				  : sealshm_lock_release(&s->lock));
		EXPECT_EQ(0u, s->broken);
		EXPECT_LT(0u, s->owner_dead);
		TH_LOG("%s: %d kills, %llu rounds, %llu taken over from the dead",
		       kind ? "RLock" : "Lock", kills, (unsigned long long)s->rounds,
		       (unsigned long long)s->owner_dead);
	}
}

/* --- pid namespaces ----------------------------------------------------------------------- */

static int (*pidns_fn)(struct shared *, long);

/* Fork a child that unshares a new pid namespace and forks its pid 1,
 * which runs @fn(@s, @arg); the child waits for it and leaves with its
 * exit code (100: unshare() refused, 102: not pid 1).  The child writes
 * its pid 1's number in our namespace into *@slot (shared memory). */
static pid_t spawn_in_pidns(int (*fn)(struct shared *, long), struct shared *s, long arg,
			    pid_t *slot)
{
	pid_t pid;

	pidns_fn = fn;
	pid = fork();
	if (pid == 0) {
		pid_t inner;
		int st;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(100);
		inner = fork();
		if (inner < 0)
			_exit(101);
		if (inner == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getpid() != 1)
				_exit(102);
			_exit(pidns_fn(s, arg));
		}
		__atomic_store_n(slot, inner, __ATOMIC_RELEASE);
		if (waitpid(inner, &st, 0) != inner)
			_exit(103);
		_exit(helper_exit_code(st));
	}
	return pid;
}

/* Where the children in pid namespaces write their pid 1's number. */
struct pidns_slots {
	pid_t inner[2];
};

static int hold_rlock_until_go(struct shared *s, long arg)
{
	(void)arg;
	return hold_until_go(s, 1);
}

/* The RLock's try from another pid 1 (same pid, same thread id): it must
 * see the lock held by someone else. */
static int try_rlock(struct shared *s, long arg)
{
	(void)arg;
	return sealshm_rlock_tryacquire(&s->rlock) == -EBUSY ? 0 : 40;
}

/* A holder that is pid 1 of a pid namespace of its own dies: a process
 * outside inherits its Lock and RLock with -EOWNERDEAD.  Two pid 1s of
 * two namespaces (same pid, same thread id) are two holders: an RLock
 * one holds is busy for the other, and they count exactly together. */
TEST_F_TIMEOUT(lock, pid_namespaces, 120)
{
	struct pidns_slots *slots;
	struct timespec t = rel_s(10);
	struct sealshm_object_info info = { .sz = sizeof(info) };

	if (!helper_pidns_allowed())
		SKIP(return, "unshare(CLONE_NEWPID) is not permitted here (needs CAP_SYS_ADMIN)");
	slots = mmap(NULL, sizeof(*slots), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	ASSERT_NE(MAP_FAILED, slots);

	/* A holder in another pid namespace, killed. */
	for (long kind = 0; kind < 2; kind++) {
		void *obj = kind ? (void *)&self->s->rlock : (void *)&self->s->lock;

		self->s->ready = 0;
		slots->inner[0] = 0;
		ASSERT_LT(0, self->kids[0] = spawn_in_pidns(hold_and_wait, self->s, kind,
							     &slots->inner[0]));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));
		/* The middle process stores its child's pid after the fork
		 * that child may have reported ready from already. */
		ASSERT_TRUE(helper_wait_count((const uint32_t *)&slots->inner[0], 1, 10000));
		/* trackerd names the holder by its pid in trackerd's namespace. */
		ASSERT_EQ(0, sealshm_object_info(obj, 32, NULL, &info));
		EXPECT_EQ((uint32_t)slots->inner[0], info.holder_pid);
		EXPECT_EQ(-EBUSY, kind ? sealshm_rlock_tryacquire(&self->s->rlock)
				       : sealshm_lock_tryacquire(&self->s->lock));
		ASSERT_EQ(0, kill(slots->inner[0], SIGKILL));
		EXPECT_EQ(128 + SIGKILL, helper_reap_code(&self->kids[0], 10000));
		EXPECT_EQ(-EOWNERDEAD, kind ? sealshm_rlock_acquire(&self->s->rlock, &t, 0)
					    : sealshm_lock_acquire(&self->s->lock, &t, 0));
		EXPECT_EQ(0, kind ? sealshm_rlock_consistent(&self->s->rlock)
				  : sealshm_lock_consistent(&self->s->lock));
		EXPECT_EQ(0, kind ? sealshm_rlock_release(&self->s->rlock)
				  : sealshm_lock_release(&self->s->lock));
	}

	/* Two pid 1s: one holds the RLock, the other's try is -EBUSY. */
	self->s->ready = self->s->go = 0;
	ASSERT_LT(0, self->kids[0] = spawn_in_pidns(hold_rlock_until_go, self->s, 0,
						     &slots->inner[0]));
	ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));
	ASSERT_LT(0, self->kids[1] = spawn_in_pidns(try_rlock, self->s, 0, &slots->inner[1]));
	EXPECT_EQ(0, helper_reap_code(&self->kids[1], 10000));
	__atomic_store_n(&self->s->go, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));

	/* Two pid 1s count together under each lock. */
	for (long kind = 0; kind < 2; kind++) {
		self->s->counter = 0;
		for (int i = 0; i < 2; i++)
			ASSERT_LT(0, self->kids[i] = spawn_in_pidns(counting_child, self->s, kind,
								     &slots->inner[i]));
		for (int i = 0; i < 2; i++)
			EXPECT_EQ(0, helper_reap_code(&self->kids[i], 90000));
		EXPECT_EQ(2ull * PROC_ROUNDS, self->s->counter) {
			TH_LOG("%s", kind ? "RLock" : "Lock");
		}
	}
	munmap(slots, sizeof(*slots));
}

/* --- without futex_waitv(2) ---------------------------------------------------------------- */

#ifdef AUDIT_ARCH_NATIVE
/* A child without futex_waitv(2): a timed wait ends in time, then it
 * waits (10 s) for the lock; exit code as code_of(), 50 + n on a
 * failed step. */
static int old_kernel_waiter(struct shared *s, long kind)
{
	struct timespec t = helper_rel_ms(100);
	int64_t t0;
	int r;

	if (helper_deny_futex_waitv() < 0)
		return 50;
	t0 = helper_now_ns();
	r = kind ? sealshm_rlock_acquire(&s->rlock, &t, 0) : sealshm_lock_acquire(&s->lock, &t, 0);
	if (r != -ETIMEDOUT)
		return 51;
	if (helper_now_ns() - t0 < 100000000)
		return 52;
	__atomic_fetch_add(&s->ready, 1, __ATOMIC_RELEASE);
	return wait_for_lock(s, kind);
}

/* On a kernel without futex_waitv(2) a waiter still times out, is woken
 * by a release, and notices its holder's death. */
TEST_F_TIMEOUT(lock, without_futex_waitv, 60)
{
	for (long kind = 0; kind < 2; kind++) {
		/* The holder dies. */
		self->s->ready = 0;
		ASSERT_LT(0, self->kids[0] = spawn(hold_and_wait, self->s, kind));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));
		ASSERT_LT(0, self->kids[1] = spawn(old_kernel_waiter, self->s, kind));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 2, 10000));
		usleep(50000);
		kill9(&self->kids[0]);
		EXPECT_EQ(1, helper_reap_code(&self->kids[1], 20000));

		/* The holder lets go. */
		self->s->ready = self->s->go = 0;
		ASSERT_LT(0, self->kids[0] = spawn(hold_until_go, self->s, kind));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 1, 10000));
		ASSERT_LT(0, self->kids[1] = spawn(old_kernel_waiter, self->s, kind));
		ASSERT_TRUE(helper_wait_count(&self->s->ready, 2, 10000));
		usleep(50000);
		__atomic_store_n(&self->s->go, 1, __ATOMIC_RELEASE);
		EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
		EXPECT_EQ(0, helper_reap_code(&self->kids[1], 20000));
	}
}
#endif

/* --- bad input ----------------------------------------------------------------------------- */

/* Every call on each object type, expecting @err. */
#define EXPECT_ALL_CALLS(err, lk, rl)						\
	do {									\
		struct timespec t_ = helper_rel_ms(10);				\
										\
		EXPECT_EQ(err, sealshm_lock_acquire(lk, &t_, 0));		\
		EXPECT_EQ(err, sealshm_lock_tryacquire(lk));			\
		EXPECT_EQ(err, sealshm_lock_release(lk));			\
		EXPECT_EQ(err, sealshm_lock_consistent(lk));			\
		EXPECT_EQ(err, sealshm_rlock_acquire(rl, &t_, 0));		\
		EXPECT_EQ(err, sealshm_rlock_tryacquire(rl));			\
		EXPECT_EQ(err, sealshm_rlock_release(rl));			\
		EXPECT_EQ(err, sealshm_rlock_consistent(rl));			\
	} while (0)

/* NULL, misaligned, zeroed, corrupt and mistyped objects are refused
 * with -EINVAL or -EBADMSG, and never crash. */
TEST_F(lock, bad_objects)
{
	uint64_t mem[16] __attribute__((aligned(64)));
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_lock *copy = (struct sealshm_lock *)mem;

	EXPECT_ALL_CALLS(-EINVAL, NULL, NULL);
	EXPECT_EQ(-EINVAL, sealshm_lock_init(NULL, NULL));
	EXPECT_EQ(-EINVAL, sealshm_rlock_init(NULL, NULL));
	EXPECT_EQ(-EINVAL, sealshm_object_info(NULL, 32, NULL, &info));
	EXPECT_EQ(-EINVAL, sealshm_object_info(&self->s->lock, 32, NULL, NULL));

	/* Misaligned. */
	memset(mem, 0, sizeof(mem));
	EXPECT_EQ(-EINVAL, sealshm_lock_init((void *)((char *)mem + 4), NULL));
	EXPECT_EQ(-EINVAL, sealshm_rlock_init((void *)((char *)mem + 4), NULL));
	EXPECT_ALL_CALLS(-EINVAL, (void *)((char *)mem + 4), (void *)((char *)mem + 4));
	EXPECT_EQ(-EINVAL, sealshm_object_info((char *)mem + 4, 32, NULL, &info));

	/* Zeroed memory. */
	EXPECT_ALL_CALLS(-EBADMSG, (void *)mem, (void *)mem);
	EXPECT_EQ(-EBADMSG, sealshm_object_info(mem, sizeof(mem), NULL, &info));

	/* An RLock passed as a Lock, and the other way round. */
	EXPECT_EQ(-EBADMSG, sealshm_lock_acquire((void *)&self->s->rlock, NULL, 0));
	EXPECT_EQ(-EBADMSG, sealshm_lock_release((void *)&self->s->rlock));
	EXPECT_EQ(-EBADMSG, sealshm_rlock_acquire((void *)&self->s->lock, NULL, 0));
	EXPECT_EQ(-EBADMSG, sealshm_rlock_tryacquire((void *)&self->s->lock));

	/* A corrupt magic, version, type or size; too short for info. */
	for (int field = 0; field < 4; field++) {
		memcpy(mem, &self->s->lock, sizeof(self->s->lock));
		switch (field) {
		case 0: ((uint8_t *)mem)[1] ^= 0x40; break;	/* magic */
		case 1: ((uint8_t *)mem)[4] = 2; break;		/* version */
		case 2: ((uint8_t *)mem)[5] = 77; break;	/* type */
		case 3: ((uint8_t *)mem)[6] = 64; break;	/* size */
		}
		EXPECT_EQ(-EBADMSG, sealshm_lock_acquire(copy, NULL, 0)) {
			TH_LOG("field %d", field);
		}
		EXPECT_EQ(-EBADMSG, sealshm_object_info(mem, sizeof(mem), NULL, &info)) {
			TH_LOG("field %d", field);
		}
	}
	memcpy(mem, &self->s->lock, sizeof(self->s->lock));
	EXPECT_EQ(0, sealshm_object_info(mem, 32, NULL, &info));
	EXPECT_EQ(-EBADMSG, sealshm_object_info(mem, 31, NULL, &info));
	EXPECT_EQ(-EBADMSG, sealshm_object_info(mem, 8, NULL, &info));

	/* Bad opts. */
	{
		struct sealshm_opts o = { .sz = 3 };

		EXPECT_EQ(-EINVAL, sealshm_lock_init(copy, &o));
		EXPECT_EQ(-EINVAL, sealshm_object_info(copy, 32, &o, &info));
	}
}

/* An object of a trackerd this process cannot reach (another instance)
 * is -ENXIO, found before anything is written. */
TEST_F(lock, unreachable_trackerd)
{
	uint64_t mem[4] __attribute__((aligned(8)));
	struct sealshm_object_info info = { .sz = sizeof(info) };

	memcpy(mem, &self->s->lock, sizeof(mem));
	mem[1] ^= 0x5a5a5a5a5a5a5a5aull;	/* the instance */
	EXPECT_EQ(-ENXIO, sealshm_lock_acquire((void *)mem, NULL, 0));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-ENXIO, sealshm_lock_tryacquire((void *)mem));
	/* info still describes it, without a holder's pid. */
	EXPECT_EQ(0, sealshm_object_info(mem, sizeof(mem), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_LOCK, info.type);
	EXPECT_EQ(mem[1], info.instance);
}

/* A lock in a read-only mapping is -EROFS for every call, without a
 * fault; also at an address this thread used read-write before. */
TEST_F(lock, read_only_mapping)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm *rw = NULL, *r1 = NULL, *r2 = NULL;
	char name[80];
	struct shared *s;
	void *addr;

	snprintf(name, sizeof(name), "%s_ro", self->name);
	ASSERT_EQ(0, sealshm_create(name, sizeof(struct shared), NULL, &rw));
	s = sealshm_buf(rw);
	ASSERT_EQ(0, sealshm_lock_init(&s->lock, NULL));
	ASSERT_EQ(0, sealshm_rlock_init(&s->rlock, NULL));
	ASSERT_EQ(0, sealshm_attach(name, &ro, &r1));
	s = sealshm_buf(r1);
	EXPECT_ALL_CALLS(-EROFS, &s->lock, &s->rlock);
	/* Read-only is enough to be described. */
	{
		struct sealshm_object_info info = { .sz = sizeof(info) };

		EXPECT_EQ(0, sealshm_object_info(&s->rlock, 32, NULL, &info));
		EXPECT_EQ(SEALSHM_OBJECT_RLOCK, info.type);
	}
	EXPECT_EQ(-EROFS, sealshm_lock_init(&s->lock, NULL));
	EXPECT_EQ(-EROFS, sealshm_rlock_init(&s->rlock, NULL));
	sealshm_close(r1);

	/* Used read-write, unmapped, mapped again read-only: most likely at
	 * the same address. */
	s = sealshm_buf(rw);
	addr = s;
	EXPECT_EQ(0, sealshm_lock_acquire(&s->lock, NULL, 0));
	EXPECT_EQ(0, sealshm_lock_release(&s->lock));
	EXPECT_EQ(0, sealshm_rlock_acquire(&s->rlock, NULL, 0));
	EXPECT_EQ(0, sealshm_rlock_release(&s->rlock));
	sealshm_close(rw);
	ASSERT_EQ(0, sealshm_attach(name, &ro, &r2));
	s = sealshm_buf(r2);
	TH_LOG("mapped again %s", (void *)s == addr ? "at the same address" : "elsewhere");
	EXPECT_ALL_CALLS(-EROFS, &s->lock, &s->rlock);
	EXPECT_EQ(0, sealshm_unlink(r2));
	sealshm_close(r2);
}

/* --- objects of their own ------------------------------------------------------------------- */

/* sealshm_object_create(), _attach() and _info() round trip for a Lock
 * and an RLock; a create that fails leaves no name behind; an attach
 * checks what the segment holds. */
TEST_F(lock, object_create_attach_info)
{
	SEALSHM_OPTS(sealshm_object_params, lp, .type = SEALSHM_OBJECT_LOCK);
	SEALSHM_OPTS(sealshm_object_params, rp, .type = SEALSHM_OBJECT_RLOCK);
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm *a = NULL, *b = NULL, *c = NULL;
	struct sealshm_info si;
	char ln[80], rn[80], pn[80];

	snprintf(ln, sizeof(ln), "%s_lock", self->name);
	snprintf(rn, sizeof(rn), "%s_rlock", self->name);
	snprintf(pn, sizeof(pn), "%s_plain", self->name);

	EXPECT_STREQ("lock", sealshm_object_type_name(SEALSHM_OBJECT_LOCK));
	EXPECT_STREQ("rlock", sealshm_object_type_name(SEALSHM_OBJECT_RLOCK));
	EXPECT_EQ(NULL, sealshm_object_type_name(0));
	EXPECT_EQ(NULL, sealshm_object_type_name(1000));

	/* A Lock of its own, attached by name and used through both. */
	ASSERT_EQ(0, sealshm_object_create(ln, &lp, NULL, &a));
	EXPECT_EQ(sizeof(struct sealshm_lock), sealshm_size(a));
	EXPECT_EQ(-EEXIST, sealshm_object_create(ln, &lp, NULL, &b));
	ASSERT_EQ(0, sealshm_object_attach(ln, SEALSHM_OBJECT_LOCK, NULL, &b));
	EXPECT_EQ(0, sealshm_lock_acquire(sealshm_buf(b), NULL, 0));
	ASSERT_EQ(0, sealshm_object_info(sealshm_buf(a), sealshm_size(a), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_LOCK, info.type);
	EXPECT_EQ(SEALSHM_OBJECT_HELD, info.flags);
	EXPECT_EQ((uint32_t)getpid(), info.holder_pid);
	EXPECT_EQ(-EBUSY, sealshm_lock_tryacquire(sealshm_buf(a)));
	EXPECT_EQ(0, sealshm_lock_release(sealshm_buf(a)));
	sealshm_close(b);
	b = NULL;
	ASSERT_EQ(0, sealshm_object_attach(ln, 0, NULL, &b));
	sealshm_close(b);
	b = NULL;
	EXPECT_EQ(-EBADMSG, sealshm_object_attach(ln, SEALSHM_OBJECT_RLOCK, NULL, &b));
	EXPECT_EQ(-EINVAL, sealshm_object_attach(ln, 1000, NULL, &b));
	EXPECT_EQ(-EROFS, sealshm_object_attach(ln, SEALSHM_OBJECT_LOCK, &ro, &b));
	EXPECT_EQ(-ENOENT, sealshm_object_attach(pn, 0, NULL, &b));
	EXPECT_EQ(NULL, b);

	/* An RLock of its own; info with a struct shorter than ours. */
	ASSERT_EQ(0, sealshm_object_create(rn, &rp, NULL, &c));
	EXPECT_EQ(0, sealshm_rlock_acquire(sealshm_buf(c), NULL, 0));
	EXPECT_EQ(0, sealshm_rlock_acquire(sealshm_buf(c), NULL, 0));
	memset(&info, 0xff, sizeof(info));
	info.sz = offsetof(struct sealshm_object_info, holder);
	ASSERT_EQ(0, sealshm_object_info(sealshm_buf(c), sealshm_size(c), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_RLOCK, info.type);
	EXPECT_EQ(SEALSHM_OBJECT_HELD, info.flags);
	EXPECT_EQ(0xffffffffu, info.holder);	/* past sz: untouched */
	info.sz = sizeof(info);
	ASSERT_EQ(0, sealshm_object_info(sealshm_buf(c), sealshm_size(c), NULL, &info));
	EXPECT_EQ(2u, info.value);
	EXPECT_EQ(0, sealshm_rlock_release(sealshm_buf(c)));
	EXPECT_EQ(0, sealshm_rlock_release(sealshm_buf(c)));

	/* Creates that fail leave no name and no fd. */
	lp.value = 1;
	EXPECT_EQ(-EINVAL, sealshm_object_create(pn, &lp, NULL, &b));
	EXPECT_EQ(-ENOENT, sealshm_stat(pn, NULL, &si));
	lp.value = 0;
	lp.type = 1000;
	EXPECT_EQ(-EINVAL, sealshm_object_create(pn, &lp, NULL, &b));
	EXPECT_EQ(-ENOENT, sealshm_stat(pn, NULL, &si));
	lp.type = SEALSHM_OBJECT_LOCK;
	lp.sz = 3;
	EXPECT_EQ(-EINVAL, sealshm_object_create(pn, &lp, NULL, &b));
	EXPECT_EQ(-EINVAL, sealshm_object_create(pn, NULL, NULL, &b));
	EXPECT_EQ(NULL, b);

	/* A segment that holds no object. */
	ASSERT_EQ(0, sealshm_create(pn, 64, NULL, &b));
	{
		struct sealshm *x = NULL;

		EXPECT_EQ(-EBADMSG, sealshm_object_attach(pn, 0, NULL, &x));
		EXPECT_EQ(NULL, x);
	}
	EXPECT_EQ(0, sealshm_unlink(b));
	sealshm_close(b);

	EXPECT_EQ(0, sealshm_unlink(a));
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(a);
	sealshm_close(c);
}

/* --- the common path's checks on a held lock ------------------------------------------- */

/* The word of @lk (a Lock or an RLock: at the same offset). */
static uint32_t word_of(const void *lk)
{
	return __atomic_load_n((const uint32_t *)((const char *)lk + 16), __ATOMIC_RELAXED);
}

/* A child: release the Lock and the RLock its parent holds (it must be
 * refused, and change nothing), then try them. */
static int release_parents(struct shared *s, long arg)
{
	(void)arg;
	if (sealshm_lock_release(&s->lock) != -EPERM)
		return 10;
	if (sealshm_rlock_release(&s->rlock) != -EPERM)
		return 11;
	if (sealshm_lock_tryacquire(&s->lock) != -EBUSY)
		return 12;
	if (sealshm_rlock_tryacquire(&s->rlock) != -EBUSY)
		return 13;
	return 0;
}

/* A child: take the Lock and the RLock, say so with their holder ids
 * (s->a, s->b), release them. */
static int take_and_tell(struct shared *s, long arg)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct timespec t = rel_s(CHILD_WAIT_S);

	(void)arg;
	if (sealshm_lock_acquire(&s->lock, &t, 0) != 0 ||
	    sealshm_rlock_acquire(&s->rlock, &t, 0) != 0)
		return 10;
	if (sealshm_object_info(&s->lock, sizeof(s->lock), NULL, &info) != 0)
		return 11;
	s->a = info.holder;
	if (sealshm_object_info(&s->rlock, sizeof(s->rlock), NULL, &info) != 0)
		return 12;
	s->b = info.holder;
	if (sealshm_lock_release(&s->lock) != 0 || sealshm_rlock_release(&s->rlock) != 0)
		return 13;
	return 0;
}

/*
 * A release whose word is our own id, which is all a bare
 * compare-and-swap would look at, still makes every check: a header
 * corrupted, zeroed or of another type (-EBADMSG), of another trackerd
 * (-ENXIO), a read-only mapping of a lock held through a writable one
 * (-EROFS, no fault), and the same address mapped again read-only; a
 * forked child, which inherits the caches, is not its parent's holder.
 * Each refusal leaves the word as it was.
 */
TEST_F_TIMEOUT(lock, held_lock_checks_every_call, 60)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_lock *lk = &self->s->lock;
	struct sealshm_rlock *rl = &self->s->rlock;
	struct sealshm *r1 = NULL, *rw = NULL, *r2 = NULL;
	uint64_t hdr_lk[2], hdr_rl[2];
	uint32_t w_lk, w_rl, parent_id;
	struct shared *s;
	char name[80];
	void *addr;

	ASSERT_EQ(0, sealshm_lock_acquire(lk, NULL, 0));
	ASSERT_EQ(0, sealshm_rlock_acquire(rl, NULL, 0));
	w_lk = word_of(lk);
	w_rl = word_of(rl);
	ASSERT_EQ(0, sealshm_object_info(lk, sizeof(*lk), NULL, &info));
	parent_id = info.holder;
	ASSERT_EQ(parent_id, w_lk);
	memcpy(hdr_lk, lk, sizeof(hdr_lk));
	memcpy(hdr_rl, rl, sizeof(hdr_rl));

	/* Each field of the header corrupted in place, then all of it zeroed
	 * (field 5); the instance (4) is another trackerd's. */
	for (int field = 0; field < 6; field++) {
		int want = field == 4 ? -ENXIO : -EBADMSG;

		for (int k = 0; k < 2; k++) {
			uint8_t *b = k ? (uint8_t *)rl : (uint8_t *)lk;

			switch (field) {
			case 0: b[1] ^= 0x40; break;		/* magic */
			case 1: b[4] = 2; break;		/* version */
			case 2: b[5] = 77; break;		/* type */
			case 3: b[6] = 64; break;		/* size */
			case 4: b[9] ^= 0x5a; break;		/* instance */
			case 5: memset(b, 0, 16); break;
			}
		}
		EXPECT_EQ(want, sealshm_lock_release(lk)) {
			TH_LOG("field %d", field);
		}
		EXPECT_EQ(want, sealshm_rlock_release(rl)) {
			TH_LOG("field %d", field);
		}
		EXPECT_EQ(want, sealshm_lock_tryacquire(lk));
		EXPECT_EQ(want, sealshm_rlock_tryacquire(rl));
		EXPECT_EQ(w_lk, word_of(lk));
		EXPECT_EQ(w_rl, word_of(rl));
		memcpy(lk, hdr_lk, sizeof(hdr_lk));
		memcpy(rl, hdr_rl, sizeof(hdr_rl));
	}

	/* Each held one passed as the other type. */
	EXPECT_EQ(-EBADMSG, sealshm_lock_release((struct sealshm_lock *)rl));
	EXPECT_EQ(-EBADMSG, sealshm_rlock_release((struct sealshm_rlock *)lk));
	EXPECT_EQ(w_lk, word_of(lk));
	EXPECT_EQ(w_rl, word_of(rl));

	/* The same segment mapped again read-only, at another address, while
	 * the writable mapping holds them. */
	ASSERT_EQ(0, sealshm_attach(self->name, &ro, &r1));
	s = sealshm_buf(r1);
	ASSERT_NE((void *)s, (void *)self->s);
	EXPECT_EQ(-EROFS, sealshm_lock_release(&s->lock));
	EXPECT_EQ(-EROFS, sealshm_rlock_release(&s->rlock));
	EXPECT_EQ(-EROFS, sealshm_lock_tryacquire(&s->lock));
	EXPECT_EQ(-EROFS, sealshm_rlock_acquire(&s->rlock, NULL, 0));
	EXPECT_EQ(w_lk, word_of(lk));
	EXPECT_EQ(w_rl, word_of(rl));
	sealshm_close(r1);

	/* A forked child inherits the caches, not the holder. */
	ASSERT_LT(0, self->kids[0] = spawn(release_parents, self->s, 0));
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
	EXPECT_EQ(w_lk, word_of(lk));
	EXPECT_EQ(w_rl, word_of(rl));

	EXPECT_EQ(0, sealshm_lock_release(lk));
	EXPECT_EQ(0, sealshm_rlock_release(rl));
	EXPECT_EQ(0u, word_of(lk));
	EXPECT_EQ(0u, word_of(rl));
	/* ... and takes them with an id of its own. */
	self->s->a = self->s->b = 0;
	ASSERT_LT(0, self->kids[0] = spawn(take_and_tell, self->s, 0));
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
	EXPECT_NE(0u, self->s->a);
	EXPECT_NE(parent_id, self->s->a);
	EXPECT_EQ(self->s->a, self->s->b);

	/* Held through a writable mapping, which is then unmapped, and the
	 * address mapped again read-only (most likely the same one). */
	snprintf(name, sizeof(name), "%s_again", self->name);
	ASSERT_EQ(0, sealshm_create(name, sizeof(struct shared), NULL, &rw));
	s = sealshm_buf(rw);
	ASSERT_EQ(0, sealshm_lock_init(&s->lock, NULL));
	ASSERT_EQ(0, sealshm_rlock_init(&s->rlock, NULL));
	ASSERT_EQ(0, sealshm_lock_acquire(&s->lock, NULL, 0));
	ASSERT_EQ(0, sealshm_rlock_acquire(&s->rlock, NULL, 0));
	addr = s;
	sealshm_close(rw);
	ASSERT_EQ(0, sealshm_attach(name, &ro, &r2));
	s = sealshm_buf(r2);
	TH_LOG("mapped again %s", (void *)s == addr ? "at the same address" : "elsewhere");
	EXPECT_EQ(parent_id, word_of(&s->lock));
	EXPECT_EQ(-EROFS, sealshm_lock_release(&s->lock));
	EXPECT_EQ(-EROFS, sealshm_rlock_release(&s->rlock));
	EXPECT_EQ(0, sealshm_unlink(r2));
	sealshm_close(r2);
}

/* A lock across a 4 KiB boundary (the common path takes only objects
 * within one): every call works, and is -EROFS through a read-only
 * mapping while held through a writable one. */
TEST_F(lock, across_a_page_boundary)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm *rw = NULL, *r1 = NULL;
	struct sealshm_lock *lk, *lk_ro;
	struct sealshm_rlock *rl, *rl_ro;
	char name[80];

	snprintf(name, sizeof(name), "%s_across", self->name);
	ASSERT_EQ(0, sealshm_create(name, 3 * 4096, NULL, &rw));
	lk = (void *)((char *)sealshm_buf(rw) + 4096 - 16);
	rl = (void *)((char *)sealshm_buf(rw) + 2 * 4096 - 8);
	ASSERT_EQ(0, sealshm_lock_init(lk, NULL));
	ASSERT_EQ(0, sealshm_rlock_init(rl, NULL));
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(0, sealshm_lock_acquire(lk, NULL, 0));
		EXPECT_EQ(-EBUSY, sealshm_lock_tryacquire(lk));
		EXPECT_EQ(0, sealshm_lock_release(lk));
		EXPECT_EQ(-EPERM, sealshm_lock_release(lk));
		EXPECT_EQ(0, sealshm_lock_tryacquire(lk));
		EXPECT_EQ(0, sealshm_lock_release(lk));
		EXPECT_EQ(0, sealshm_rlock_acquire(rl, NULL, 0));
		EXPECT_EQ(0, sealshm_rlock_tryacquire(rl));
		EXPECT_EQ(0, sealshm_rlock_release(rl));
		EXPECT_EQ(0, sealshm_rlock_release(rl));
		EXPECT_EQ(-EPERM, sealshm_rlock_release(rl));
	}
	ASSERT_EQ(0, sealshm_lock_acquire(lk, NULL, 0));
	ASSERT_EQ(0, sealshm_rlock_acquire(rl, NULL, 0));
	ASSERT_EQ(0, sealshm_attach(name, &ro, &r1));
	lk_ro = (void *)((char *)sealshm_buf(r1) + 4096 - 16);
	rl_ro = (void *)((char *)sealshm_buf(r1) + 2 * 4096 - 8);
	EXPECT_EQ(-EROFS, sealshm_lock_release(lk_ro));
	EXPECT_EQ(-EROFS, sealshm_rlock_release(rl_ro));
	sealshm_close(r1);
	EXPECT_EQ(0, sealshm_lock_release(lk));
	EXPECT_EQ(0, sealshm_rlock_release(rl));
	EXPECT_EQ(0, sealshm_unlink(rw));
	sealshm_close(rw);
}

TEST_HARNESS_MAIN

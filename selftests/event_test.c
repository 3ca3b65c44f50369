// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * event_test: Event (sealshm_event(3)) between real processes through a
 * real trackerd on a private socket: set, clear and is_set, many waiters
 * in many processes woken by one set(), a set() and clear() that come
 * before a woken waiter looks, timeouts and signals, waiters and setters
 * killed at random moments (kill -9) and a setter killed between its store
 * and its wake-up (single-stepped), and bad input (a clear error, never a
 * crash or a hang).  Every wait in here is bounded.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "event.h"
#include "helpers.h"
#include "holder.h"

#define MAX_KIDS	16
/* How long a child waits for an event that should come. */
#define CHILD_WAIT_S	20

struct shared {
	struct sealshm_event ev;
	struct sealshm_event other;
	struct sealshm_sem not_an_event;
	uint32_t ready;		/* children about to wait */
	uint32_t woke;		/* children whose wait returned 0 */
	char name[128];
};

FIXTURE(event) {
	struct trackerd d;
	struct sealshm *shm;
	struct shared *s;
	char name[64];
	pid_t kids[MAX_KIDS];
	int fds_before;
};

FIXTURE_SETUP(event)
{
	memset(self->kids, 0, sizeof(self->kids));
	self->shm = NULL;
	trackerd_fixture_setup(_metadata, &self->d, NULL, TRACKERD_FIXTURE_HOLDER,
			       &self->fds_before, NULL);
	snprintf(self->name, sizeof(self->name), "event_test_%d", (int)getpid());
	ASSERT_EQ(0, sealshm_create(self->name, sizeof(struct shared), NULL, &self->shm));
	self->s = sealshm_buf(self->shm);
	ASSERT_EQ(0, sealshm_event_init(&self->s->ev, NULL));
}

FIXTURE_TEARDOWN(event)
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

static pid_t spawn(int (*fn)(struct shared *, long), struct shared *s, long arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(s, arg));
	}
	return pid;
}

/* Wait until the event counts @n waiters (@ms at most). */
static bool wait_waiters(struct sealshm_event *e, uint32_t n, unsigned int ms)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	uint64_t end = helper_now_ms() + ms;

	for (;;) {
		if (sealshm_object_info(e, sizeof(*e), NULL, &info) < 0)
			return false;
		if (info.waiters >= n)
			return true;
		if (helper_now_ms() > end)
			return false;
		usleep(200);
	}
}

static int code_of(int r)
{
	return r == 0 ? 0 : r == -ETIMEDOUT ? 2 : r == -EINTR ? 3 : 9;
}

/* A child: wait @arg ms for the event; exit code as code_of(). */
static int waiter(struct shared *s, long arg)
{
	struct timespec t = helper_rel_ms(arg);
	int r;

	__atomic_fetch_add(&s->ready, 1, __ATOMIC_RELEASE);
	r = sealshm_event_wait(&s->ev, &t, 0);
	if (r == 0)
		__atomic_fetch_add(&s->woke, 1, __ATOMIC_RELEASE);
	return code_of(r);
}

/* A child: set the event (after @arg µs). */
static int setter(struct shared *s, long arg)
{
	if (arg)
		usleep(arg);
	return sealshm_event_set(&s->ev) == 0 ? 0 : 10;
}

/* --- one process ------------------------------------------------------------- */

/* set, clear, is_set, a wait on a set event, info. */
TEST_F(event, set_clear_is_set)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm_event *e = &self->s->ev;
	const struct sealshm__holder *h;
	struct timespec t = helper_rel_ms(0);

	ASSERT_EQ(0, sealshm__holder_get(NULL, &h));
	EXPECT_EQ(0, sealshm_event_is_set(e));
	ASSERT_EQ(0, sealshm_object_info(e, sizeof(*e), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_EVENT, info.type);
	EXPECT_EQ(sizeof(*e), info.size);
	EXPECT_EQ(0u, info.flags);
	EXPECT_EQ(0u, info.waiters);
	EXPECT_EQ(h->instance, info.instance);
	EXPECT_STREQ("event", sealshm_object_type_name(SEALSHM_OBJECT_EVENT));
	EXPECT_EQ(-ETIMEDOUT, sealshm_event_wait(e, &t, 0));

	EXPECT_EQ(0, sealshm_event_set(e));
	EXPECT_EQ(1, sealshm_event_is_set(e));
	EXPECT_EQ(0, sealshm_event_set(e));
	EXPECT_EQ(1, sealshm_event_is_set(e));
	ASSERT_EQ(0, sealshm_object_info(e, sizeof(*e), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_SET, info.flags);
	/* Set: every wait returns at once, whatever its timeout. */
	EXPECT_EQ(0, sealshm_event_wait(e, &t, 0));
	EXPECT_EQ(0, sealshm_event_wait(e, NULL, 0));

	EXPECT_EQ(0, sealshm_event_clear(e));
	EXPECT_EQ(0, sealshm_event_is_set(e));
	EXPECT_EQ(0, sealshm_event_clear(e));
	EXPECT_EQ(-ETIMEDOUT, sealshm_event_wait(e, &t, 0));
	ASSERT_EQ(0, sealshm_object_info(e, sizeof(*e), NULL, &info));
	EXPECT_EQ(0u, info.flags);
	EXPECT_EQ(0u, info.waiters);

	for (int i = 0; i < 100000; i++)
		if (sealshm_event_set(e) || sealshm_event_is_set(e) != 1 ||
		    sealshm_event_clear(e) || sealshm_event_is_set(e) != 0) {
			EXPECT_TRUE(false) {
				TH_LOG("round %d", i);
			}
			break;
		}
}

/* --- many processes ------------------------------------------------------------ */

#define WAITERS		8

/* Waiters in many processes: one set() wakes them all; once cleared,
 * waits time out again; a set() before the wait returns at once. */
TEST_F_TIMEOUT(event, set_wakes_every_waiter, 60)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct shared *s = self->s;

	for (int i = 0; i < WAITERS; i++)
		ASSERT_LT(0, self->kids[i] = spawn(waiter, s, CHILD_WAIT_S * 1000));
	ASSERT_TRUE(wait_waiters(&s->ev, WAITERS, 10000));
	usleep(20000);
	EXPECT_EQ(0u, s->woke);
	EXPECT_EQ(0, sealshm_event_set(&s->ev));
	for (int i = 0; i < WAITERS; i++)
		EXPECT_EQ(0, helper_reap_code(&self->kids[i], 10000));
	EXPECT_EQ((uint32_t)WAITERS, s->woke);
	ASSERT_EQ(0, sealshm_object_info(&s->ev, sizeof(s->ev), NULL, &info));
	EXPECT_EQ(0u, info.waiters);
	EXPECT_EQ(SEALSHM_OBJECT_SET, info.flags);

	/* Still set: new waiters return at once. */
	for (int i = 0; i < WAITERS; i++)
		ASSERT_LT(0, self->kids[i] = spawn(waiter, s, 0));
	for (int i = 0; i < WAITERS; i++)
		EXPECT_EQ(0, helper_reap_code(&self->kids[i], 10000));

	/* Cleared: they time out. */
	EXPECT_EQ(0, sealshm_event_clear(&s->ev));
	for (int i = 0; i < WAITERS; i++)
		ASSERT_LT(0, self->kids[i] = spawn(waiter, s, 200));
	for (int i = 0; i < WAITERS; i++)
		EXPECT_EQ(code_of(-ETIMEDOUT), helper_reap_code(&self->kids[i], 10000));
	ASSERT_EQ(0, sealshm_object_info(&s->ev, sizeof(s->ev), NULL, &info));
	EXPECT_EQ(0u, info.waiters);
}

/* A set() followed at once by a clear(): every waiter asleep during the
 * set() returns 0 (threading.Event's wait() returns True then), even if
 * it looks only after the clear(). */
TEST_F_TIMEOUT(event, set_then_clear_still_wakes, 60)
{
	struct shared *s = self->s;

	for (int round = 0; round < 5; round++) {
		s->woke = 0;
		for (int i = 0; i < WAITERS; i++)
			ASSERT_LT(0, self->kids[i] = spawn(waiter, s, CHILD_WAIT_S * 1000));
		ASSERT_TRUE(wait_waiters(&s->ev, WAITERS, 10000));
		usleep(20000);
		EXPECT_EQ(0, sealshm_event_set(&s->ev));
		EXPECT_EQ(0, sealshm_event_clear(&s->ev));
		for (int i = 0; i < WAITERS; i++) {
			EXPECT_EQ(0, helper_reap_code(&self->kids[i], 10000)) {
				TH_LOG("round %d, waiter %d", round, i);
			}
		}
		EXPECT_EQ((uint32_t)WAITERS, s->woke);
		EXPECT_EQ(0, sealshm_event_is_set(&s->ev));
	}
}

/* --- timeouts, signals ----------------------------------------------------------- */

/* Relative and absolute timeouts give -ETIMEDOUT, not before the
 * deadline; bad ones and unknown flags are -EINVAL; a set() from another
 * process ends a wait. */
TEST_F_TIMEOUT(event, timeouts, 60)
{
	struct sealshm_event *e = &self->s->ev;
	struct timespec t = helper_rel_ms(150), abs;
	int64_t t0, dt;

	t0 = helper_now_ns();
	EXPECT_EQ(-ETIMEDOUT, sealshm_event_wait(e, &t, 0));
	EXPECT_EQ(ETIMEDOUT, errno);
	dt = helper_now_ns() - t0;
	EXPECT_LE(150000000, dt);
	EXPECT_GT(10000000000LL, dt);

	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 100000000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	EXPECT_EQ(-ETIMEDOUT, sealshm_event_wait(e, &abs, SEALSHM_WAIT_ABSTIME));
	EXPECT_LE((int64_t)abs.tv_sec * 1000000000 + abs.tv_nsec, helper_now_ns());
	abs.tv_sec -= 5;
	EXPECT_EQ(-ETIMEDOUT, sealshm_event_wait(e, &abs, SEALSHM_WAIT_ABSTIME));

	t = (struct timespec){ .tv_nsec = 1000000000 };
	EXPECT_EQ(-EINVAL, sealshm_event_wait(e, &t, 0));
	t = (struct timespec){ .tv_sec = -1 };
	EXPECT_EQ(-EINVAL, sealshm_event_wait(e, &t, 0));
	t = helper_rel_ms(10);
	EXPECT_EQ(-EINVAL, sealshm_event_wait(e, &t, 1u << 6));

	ASSERT_LT(0, self->kids[0] = spawn(setter, self->s, 100000));
	t = helper_rel_ms(CHILD_WAIT_S * 1000);
	t0 = helper_now_ns();
	EXPECT_EQ(0, sealshm_event_wait(e, &t, 0));
	EXPECT_LE(50000000, helper_now_ns() - t0);
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal handler (without SA_RESTART) during a wait ends it with -EINTR. */
TEST_F_TIMEOUT(event, signal_interrupts_wait, 60)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct timespec t = helper_rel_ms(CHILD_WAIT_S * 1000);
	int64_t t0;
	int r;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	t0 = helper_now_ns();
	r = sealshm_event_wait(&self->s->ev, &t, 0);
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ(-EINTR, r);
	EXPECT_EQ(EINTR, errno);
	EXPECT_GT(10000000000LL, helper_now_ns() - t0);
	ASSERT_EQ(0, sealshm_object_info(&self->s->ev, sizeof(self->s->ev), NULL, &info));
	EXPECT_EQ(0u, info.waiters);
	EXPECT_EQ(0, sealshm_event_is_set(&self->s->ev));
}

/* --- death ------------------------------------------------------------------------- */

#define KILL_ROUNDS	12
#define KILL_WAITERS	6

/* Rounds of waiters in several processes, two of them killed at random
 * moments, and a setter killed at a random moment (before, during or
 * after its set()): every waiter left returns 0, nothing hangs. */
TEST_F_TIMEOUT(event, kill9_at_random_moments, 120)
{
	struct shared *s = self->s;
	unsigned int seed = (unsigned int)getpid();
	int kills = 0, setter_first = 0;

	for (int round = 0; round < KILL_ROUNDS; round++) {
		pid_t set_pid;
		int alive = KILL_WAITERS;

		EXPECT_EQ(0, sealshm_event_clear(&s->ev));
		s->ready = s->woke = 0;
		for (int i = 0; i < KILL_WAITERS; i++)
			ASSERT_LT(0, self->kids[i] = spawn(waiter, s, CHILD_WAIT_S * 1000));
		ASSERT_TRUE(helper_wait_count(&s->ready, KILL_WAITERS, 10000));
		for (int n = 0; n < 2; n++) {
			int victim = (int)(rand_r(&seed) % KILL_WAITERS);

			usleep(rand_r(&seed) % 2000);
			if (self->kids[victim]) {
				helper_kill_reap(&self->kids[victim]);
				kills++;
				alive--;
			}
		}
		ASSERT_LT(0, set_pid = self->kids[KILL_WAITERS] = spawn(setter, s, 0));
		usleep(rand_r(&seed) % 4000);
		helper_kill_reap(&self->kids[KILL_WAITERS]);
		kills++;
		/* Killed before it set: the test sets. */
		if (sealshm_event_is_set(&s->ev)) {
			setter_first++;
		} else {
			EXPECT_EQ(0, sealshm_event_set(&s->ev));
		}
		for (int i = 0; i < KILL_WAITERS; i++) {
			if (!self->kids[i])
				continue;
			EXPECT_EQ(0, helper_reap_code(&self->kids[i], 10000)) {
				TH_LOG("round %d, waiter %d", round, i);
			}
		}
		EXPECT_LE((uint32_t)alive, s->woke);
		(void)set_pid;
	}
	TH_LOG("%d kills; the setter set before it died in %d of %d rounds", kills,
	       setter_first, KILL_ROUNDS);
}

/* Stop the setter once the event is set: before its FUTEX_WAKE. */
static bool set_not_woken(void *ctx, unsigned long step)
{
	struct shared *s = ctx;
	const struct sealshm__event *e = (const void *)&s->ev;

	(void)step;
	return __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) & SEALSHM__EVENT_SET;
}

static int setter_setup(void *p)
{
	struct shared *s = p;

	/* The holder id and the object's checks, untraced. */
	return sealshm_event_is_set(&s->other) == 0 ? 0 : 10;
}

static int setter_call(void *p)
{
	struct shared *s = p;

	return sealshm_event_set(&s->ev) == 0 ? 0 : 10;
}

/* A setter killed after its store and before its wake-up: the sleepers
 * still return 0, woken when trackerd sees the death. */
TEST_F_TIMEOUT(event, setter_killed_before_wake, 60)
{
	struct shared *s = self->s;
	const struct step_child c = {
		.setup = setter_setup, .call = setter_call, .arg = s,
		.look = set_not_woken, .ctx = s,
		.max_steps = 200000, .timeout_ms = 30000,
	};
	long steps;
	int status;

	ASSERT_EQ(0, sealshm_event_init(&s->other, NULL));
	for (int i = 0; i < 3; i++)
		ASSERT_LT(0, self->kids[i] = spawn(waiter, s, CHILD_WAIT_S * 1000));
	ASSERT_TRUE(wait_waiters(&s->ev, 3, 10000));
	usleep(20000);
	steps = step_child_run(&c, &status);
	if (steps == -EPERM)
		SKIP(return, "ptrace() of a child is not permitted here");
	ASSERT_LT(0, steps);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(1, sealshm_event_is_set(&s->ev));
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, helper_reap_code(&self->kids[i], 10000));
	TH_LOG("the setter stored after %ld instructions", steps);
}

/* --- bad input ---------------------------------------------------------------------- */

#define EXPECT_ALL_CALLS(err, obj)						\
	do {									\
		EXPECT_EQ(err, sealshm_event_set(obj));				\
		EXPECT_EQ(err, sealshm_event_clear(obj));			\
		EXPECT_EQ(err, sealshm_event_is_set(obj));			\
		EXPECT_EQ(err, sealshm_event_wait((obj), NULL, 0));		\
	} while (0)

/* NULL, misaligned, zeroed, corrupt and mistyped objects are refused
 * with -EINVAL or -EBADMSG, and never crash or wait. */
TEST_F(event, bad_objects)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	_Alignas(8) unsigned char mem[sizeof(struct sealshm_event) + 8];
	struct sealshm_event *e = &self->s->ev;

	EXPECT_ALL_CALLS(-EINVAL, (struct sealshm_event *)NULL);
	EXPECT_EQ(-EINVAL, sealshm_event_init(NULL, NULL));
	EXPECT_EQ(-EINVAL, sealshm_event_init((void *)(mem + 4), NULL));
	EXPECT_ALL_CALLS(-EINVAL, (struct sealshm_event *)(void *)(mem + 4));

	memset(mem, 0, sizeof(mem));
	EXPECT_ALL_CALLS(-EBADMSG, (struct sealshm_event *)(void *)mem);
	EXPECT_EQ(-EBADMSG, sealshm_object_info(mem, sizeof(mem), NULL, &info));

	/* A semaphore is no event. */
	ASSERT_EQ(0, sealshm_sem_init(&self->s->not_an_event, 0, 0, 0, NULL));
	EXPECT_ALL_CALLS(-EBADMSG, (struct sealshm_event *)(void *)&self->s->not_an_event);

	for (int i = 0; i < 8; i++) {
		memcpy(mem, e, sizeof(*e));
		mem[i] ^= 0x08;
		EXPECT_ALL_CALLS(-EBADMSG, (struct sealshm_event *)(void *)mem);
	}
	/* The reserved bytes are not zero. */
	memcpy(mem, e, sizeof(*e));
	mem[offsetof(struct sealshm__event, __reserved) + 3] = 1;
	EXPECT_ALL_CALLS(-EBADMSG, (struct sealshm_event *)(void *)mem);
	/* A size that runs past what info may read. */
	EXPECT_EQ(-EBADMSG, sealshm_object_info(e, sizeof(*e) - 1, NULL, &info));
	EXPECT_EQ(0, sealshm_event_is_set(e));
}

/* An event in a read-only mapping is -EROFS for every call, without a
 * fault; info still reads it. */
TEST_F(event, read_only_mapping)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct sealshm *r1 = NULL;
	struct shared *s;

	ASSERT_EQ(0, sealshm_event_set(&self->s->ev));
	ASSERT_EQ(0, sealshm_attach(self->name, &ro, &r1));
	s = sealshm_buf(r1);
	EXPECT_ALL_CALLS(-EROFS, &s->ev);
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-EROFS, sealshm_event_init(&s->ev, NULL));
	EXPECT_EQ(0, sealshm_object_info(&s->ev, sizeof(s->ev), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_SET, info.flags);
	sealshm_close(r1);
	EXPECT_EQ(1, sealshm_event_is_set(&self->s->ev));
}

/* --- objects of their own ------------------------------------------------------------ */

/* A child: attach the event s->name and set it. */
static int attach_and_set(struct shared *s, long arg)
{
	struct sealshm *o = NULL;
	int r;

	(void)arg;
	if (sealshm_object_attach(s->name, SEALSHM_OBJECT_EVENT, NULL, &o) < 0)
		return 10;
	r = sealshm_event_set(sealshm_buf(o));
	sealshm_close(o);
	return r == 0 ? 0 : 11;
}

/* sealshm_object_create() of an event, a wait on it that another process
 * ends through its own attach; params an event does not take are -EINVAL. */
TEST_F_TIMEOUT(event, object_create_attach_info, 60)
{
	SEALSHM_OPTS(sealshm_object_params, p, .type = SEALSHM_OBJECT_EVENT);
	struct sealshm_object_info info = { .sz = sizeof(info) };
	struct timespec t = helper_rel_ms(CHILD_WAIT_S * 1000);
	struct sealshm *o = NULL;
	char name[80];

	snprintf(name, sizeof(name), "%s_obj", self->name);
	ASSERT_EQ(0, sealshm_object_create(name, &p, NULL, &o));
	EXPECT_EQ(sizeof(struct sealshm_event), sealshm_size(o));
	ASSERT_EQ(0, sealshm_object_info(sealshm_buf(o), sealshm_size(o), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_EVENT, info.type);
	EXPECT_EQ(0u, info.flags);
	snprintf(self->s->name, sizeof(self->s->name), "%s", name);
	ASSERT_LT(0, self->kids[0] = spawn(attach_and_set, self->s, 0));
	EXPECT_EQ(0, sealshm_event_wait(sealshm_buf(o), &t, 0));
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], 10000));
	EXPECT_EQ(1, sealshm_event_is_set(sealshm_buf(o)));
	EXPECT_EQ(0, sealshm_unlink(o));
	sealshm_close(o);

	p.value = 1;
	EXPECT_EQ(-EINVAL, sealshm_object_create(name, &p, NULL, &o));
	p.value = 0;
	p.flags = SEALSHM_SEM_ROBUST;
	EXPECT_EQ(-EINVAL, sealshm_object_create(name, &p, NULL, &o));
}

TEST_HARNESS_MAIN

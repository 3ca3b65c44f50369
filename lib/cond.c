// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Condition: multiprocessing.Condition over a sealshm Lock or RLock.
 *
 * One 64-bit state word, every change of it one compare-and-swap (layout
 * in Documentation/objects.md): two 16-bit notify counters that together
 * are the futex word waiters sleep on, the waiters not yet woken, and the
 * wake-ups handed out but not yet taken.
 *
 * wait: count itself among the waiters, noting the counters (one CAS),
 * release the lock, then sleep until it is woken, and take the lock back.
 * A waiter is woken when a notify that woke everyone came after it began
 * (`gen` moved), or when it takes one of the wake-ups (a CAS on
 * `wakeups`) after some notify came after it began (the counters moved).
 * notify(n): when n covers every waiter not yet woken, `gen += 1` and the
 * counts go to 0 (everyone counted is woken); otherwise n waiters move
 * from `waiters` to `wakeups` and `seq += 1`; then FUTEX_WAKE.  So a notify
 * wakes at most n, never one that began after it, and a sleeper that
 * wakes for another reason (a death moved the death epoch, a signal, a
 * wake-up another waiter took) finds nothing to take and sleeps again.
 * Wake-ups are anyone's who began before the notify that made them: the
 * kernel wakes n sleepers, but a waiter that was awake anyway may take
 * one first, and the sleeper that then finds none sleeps on.
 *
 * Leaving early (timeout, signal): a waiter already woken by a notify of
 * everyone is notified; else one that could take a wake-up takes it and
 * says it was notified (it was there before that notify, and a wake-up
 * left behind could only go to a waiter that began after it); else it
 * takes itself out of `waiters`.
 *
 * Deaths.  A killed waiter stays counted, in `waiters` or as a wake-up
 * nobody takes for it, until the next notify that wakes everyone resets
 * both; until then a notify may hand its share to a live waiter (one
 * wake-up more than asked).  A notifier killed after its CAS and before
 * its wake leaves sleepers on the old counters: the death epoch wakes
 * them (sealshm__object_wait() sleeps on it too) and they find what it
 * handed out.  One that dies holding the lock hands it over with
 * -EOWNERDEAD, which a waiter's re-acquire returns.
 *
 * notify_all wakes every sleeper (FUTEX_WAKE) rather than requeueing them
 * onto the lock word: the call does not name the lock, whose address in
 * this process a Condition cannot record (each process maps it
 * elsewhere), a requeued sleeper would need the lock word's waiters bit
 * set by someone who knows the lock's protocol, and the sleepers sleep on
 * two words at once (futex_waitv), which FUTEX_CMP_REQUEUE does not move
 * as a pair.  Documentation/objects.md has the measurement.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cond.h"
#include "internal.h"
#include "lock.h"
#include "object.h"

/*
 * The state word.  seq and gen side by side are the futex word (word[0],
 * whatever the byte order); waiters + wakeups count the processes (and
 * threads) between counting themselves in and leaving, the dead ones
 * until a notify of everyone.
 */
union cond_state {
	uint64_t all;
	struct {
		uint16_t seq;		/* +1 by a notify that wakes some waiters */
		uint16_t gen;		/* +1 by a notify that wakes every waiter */
		uint16_t waiters;	/* counted in, not yet woken */
		uint16_t wakeups;	/* handed out by notifies, not yet taken */
	} f;
	uint32_t word[2];
};

/* At most this many counted at once (waiters + wakeups); beyond, a wait
 * returns at once, as a spurious wake-up. */
#define COND_COUNT_MAX	UINT16_MAX

struct cond {
	struct sealshm__object_hdr hdr;
	union cond_state st;
	uint64_t __reserved;	/* 0 */
};
_Static_assert(sizeof(struct cond) == sizeof(struct sealshm_cond), "cond size");
_Static_assert(sizeof(union cond_state) == 8, "cond state size");
_Static_assert(offsetof(struct cond, st) == 16, "cond state offset");
_Static_assert(_Alignof(struct cond) <= SEALSHM_OBJECT_ALIGN, "cond alignment");

/* The lock a wait is over: exactly one of the two. */
struct cond_lock {
	struct sealshm_lock *lk;
	struct sealshm_rlock *rl;
};

static int cond_enter(struct sealshm_cond *c, const struct sealshm__holder **ret)
{
	return sealshm__object_enter(c, SEALSHM_OBJECT_COND, sizeof(struct cond), ret);
}

static int cond_setup(void *obj, const struct sealshm_opts *opts)
{
	const struct sealshm__holder *h;
	struct cond *c = obj;
	int r;

	r = sealshm__object_init_begin(obj, sizeof(*c), opts, &h);
	if (r < 0)
		return r;
	__atomic_store_n(&c->st.all, 0, __ATOMIC_RELAXED);
	c->__reserved = 0;
	sealshm__object_init_end(obj, SEALSHM_OBJECT_COND, sizeof(*c), h);
	return 0;
}

SEALSHM_API int sealshm_cond_init(struct sealshm_cond *c, const struct sealshm_opts *opts)
{
	sealshm__return_if_fail(c, -EINVAL);
	return sealshm__err(cond_setup(c, opts));
}

/* Release @l whatever its recursion count (*@ret_count, for the
 * re-acquire); -EPERM when the caller does not hold it. */
static int cond_lock_release(const struct cond_lock *l, uint32_t *ret_count)
{
	if (l->rl)
		return sealshm__rlock_release_all(l->rl, ret_count);
	*ret_count = 1;
	return sealshm_lock_release(l->lk);
}

/*
 * Take @l back, with no deadline, as CPython's Condition.wait does:
 * whatever the wait returns, the caller holds the lock again.  A signal
 * does not cut this short (the caller must come back holding it).
 * Returns 0, -EOWNERDEAD (held: its holder died) or an error with the
 * lock not held (-ENOTRECOVERABLE, or the lock's memory went bad).
 */
static int cond_lock_reacquire(const struct cond_lock *l, uint32_t count)
{
	int r;

	do {
		if (l->rl)
			r = sealshm__rlock_acquire_count(l->rl, count, -1);
		else
			r = sealshm__lock_acquire_until(l->lk, -1);
	} while (r == -EINTR);
	return r;
}

static uint64_t cond_load(const struct cond *c)
{
	return __atomic_load_n(&c->st.all, __ATOMIC_ACQUIRE);
}

static bool cond_cas(struct cond *c, union cond_state *cur, union cond_state next)
{
	return __atomic_compare_exchange_n(&c->st.all, &cur->all, next.all, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE);
}

/*
 * Count a waiter in; *@ret_start is the state it began at.  -EAGAIN when
 * COND_COUNT_MAX are counted already.
 */
static int cond_count_in(struct cond *c, union cond_state *ret_start)
{
	union cond_state cur = { .all = cond_load(c) }, next;

	do {
		if (cur.f.waiters + cur.f.wakeups >= COND_COUNT_MAX)
			return -EAGAIN;
		next = cur;
		next.f.waiters++;
	} while (!cond_cas(c, &cur, next));
	*ret_start = cur;
	return 0;
}

/* Whether a waiter that began at @start may take a wake-up in @cur: a
 * notify came since. */
static bool cond_after(union cond_state cur, union cond_state start)
{
	return cur.word[0] != start.word[0];
}

/*
 * Take a wake-up, for a waiter that began at @start, from @cur (loaded
 * by the caller): true when it is woken (by a notify of everyone, or a
 * wake-up it took), false when there is none for it now.
 */
static bool cond_take(struct cond *c, union cond_state cur, union cond_state start)
{
	union cond_state next;

	for (;;) {
		if (cur.f.gen != start.f.gen)
			return true;
		if (!cur.f.wakeups || !cond_after(cur, start))
			return false;
		next = cur;
		next.f.wakeups--;
		if (cond_cas(c, &cur, next))
			return true;
	}
}

/*
 * A waiter that began at @start leaves without having been woken in its
 * loop (timeout, signal, or the lock's release failed): it takes itself
 * out of the counts.  With @take, it takes a wake-up it may take rather
 * than leave it behind (see the top of the file).  True when it turns out
 * woken: by a notify of everyone, or it took a wake-up.
 */
static bool cond_leave(struct cond *c, union cond_state start, bool take)
{
	union cond_state cur = { .all = cond_load(c) }, next;

	do {
		if (cur.f.gen != start.f.gen)
			return true;	/* counted out by that notify */
		next = cur;
		if (take && cur.f.wakeups && cond_after(cur, start))
			next.f.wakeups--;
		else if (cur.f.waiters)
			next.f.waiters--;
		else if (cur.f.wakeups)
			next.f.wakeups--;	/* all handed out: one is ours */
		else
			return false;	/* not counted: only if the word was trampled */
	} while (!cond_cas(c, &cur, next));
	return next.f.wakeups != cur.f.wakeups;
}

static int cond_wait(struct sealshm_cond *obj, const struct cond_lock *l,
		     const struct timespec *timeout, uint32_t flags)
{
	const struct sealshm__holder *h;
	struct cond *c = (struct cond *)obj;
	union cond_state start, cur;
	int64_t deadline;
	uint32_t count = 0;
	int r, rl;

	r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
	if (r < 0)
		return r;
	r = cond_enter(obj, &h);
	if (r < 0)
		return r;

	/* Counted in, and the counters noted, before the lock is released:
	 * a notify after the release sees this waiter. */
	if (cond_count_in(c, &start) < 0) {
		/* Full: a wake-up at once (spurious, which the contract
		 * allows), after a release that checks the lock is held. */
		r = cond_lock_release(l, &count);
		if (r < 0)
			return r;
		rl = cond_lock_reacquire(l, count);
		return rl < 0 ? rl : 0;
	}
	r = cond_lock_release(l, &count);
	if (r < 0) {
		(void)cond_leave(c, start, false);
		return r;
	}

	for (;;) {
		/* The epoch is read before the check that decides to sleep. */
		uint32_t epoch = sealshm__holder_epoch(h);

		cur.all = cond_load(c);
		if (cond_take(c, cur, start)) {
			r = 0;
			break;
		}
		/* Sleep while no notify comes, as the counters are now: a
		 * notify since @start that left nothing to take is past. */
		r = sealshm__object_wait(&c->st.word[0], cur.word[0], h, epoch, deadline);
		if (r < 0) {
			/* -ETIMEDOUT or -EINTR; notified meanwhile: say so. */
			if (cond_leave(c, start, true))
				r = 0;
			break;
		}
	}

	rl = cond_lock_reacquire(l, count);
	return rl < 0 ? rl : r;
}

SEALSHM_API int sealshm_cond_wait(struct sealshm_cond *c, struct sealshm_lock *lk,
				  const struct timespec *timeout, uint32_t flags)
{
	struct cond_lock l = { .lk = lk };

	sealshm__return_if_fail(c && lk, -EINVAL);
	return sealshm__err(cond_wait(c, &l, timeout, flags));
}

SEALSHM_API int sealshm_cond_wait_rlock(struct sealshm_cond *c, struct sealshm_rlock *rl,
					const struct timespec *timeout, uint32_t flags)
{
	struct cond_lock l = { .rl = rl };

	sealshm__return_if_fail(c && rl, -EINVAL);
	return sealshm__err(cond_wait(c, &l, timeout, flags));
}

static int cond_notify(struct sealshm_cond *obj, uint32_t n)
{
	const struct sealshm__holder *h;
	struct cond *c = (struct cond *)obj;
	union cond_state cur, next;
	bool all;
	int r;

	r = cond_enter(obj, &h);
	if (r < 0)
		return r;
	if (n == 0)
		return 0;
	cur.all = cond_load(c);
	do {
		/* Nobody waiting and not yet woken: nothing to do, and a
		 * waiter that counts itself in later began after this. */
		if (cur.f.waiters == 0)
			return 0;
		next = cur;
		all = n >= cur.f.waiters;
		if (all) {
			/* Everyone counted is woken, those already handed a
			 * wake-up too (and the dead, whose counts go). */
			next.f.gen++;
			next.f.waiters = 0;
			next.f.wakeups = 0;
		} else {
			next.f.seq++;
			next.f.waiters -= n;
			next.f.wakeups += n;
		}
	} while (!cond_cas(c, &cur, next));
	r = sealshm__object_wake(&c->st.word[0], all ? INT_MAX : (int)n);
	return r < 0 ? r : 0;
}

SEALSHM_API int sealshm_cond_notify(struct sealshm_cond *c, uint32_t n)
{
	sealshm__return_if_fail(c, -EINVAL);
	return sealshm__err(cond_notify(c, n));
}

SEALSHM_API int sealshm_cond_notify_all(struct sealshm_cond *c)
{
	sealshm__return_if_fail(c, -EINVAL);
	return sealshm__err(cond_notify(c, UINT32_MAX));
}

/* sealshm_object_create(): nothing to choose but the trackerd. */
static int cond_type_init(void *obj, const struct sealshm_object_params *params,
			  const struct sealshm_opts *opts)
{
	if (params->flags || params->value || params->max || params->parties)
		return -EINVAL;
	return cond_setup(obj, opts);
}

static void cond_type_info(const void *obj, const struct sealshm__holder *h,
			   struct sealshm_object_info *info)
{
	const struct cond *c = obj;

	union cond_state st = { .all = __atomic_load_n(&c->st.all, __ATOMIC_RELAXED) };

	(void)h;
	info->waiters = (uint32_t)st.f.waiters + st.f.wakeups;
}

const struct sealshm__type sealshm__cond_type = {
	.type = SEALSHM_OBJECT_COND,
	.size = sizeof(struct cond),
	.name = "condition",
	.init = cond_type_init,
	.info = cond_type_info,
};

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Semaphore and BoundedSemaphore in shared memory (sealshm_sem(3)).
 *
 * The default mode is CPython's: a value word, decremented by a
 * compare-and-swap while it is above 0 and slept on (FUTEX_WAIT on 0)
 * otherwise, and a count of sleepers, so a release wakes one only when
 * someone sleeps.  Units a dead process acquired are lost, as in CPython.
 *
 * The robust mode (SEALSHM_SEM_ROBUST) remembers who holds units: a table
 * of (holder id, units) entries, changed together with the value under an
 * internal lock word, the guard, one transaction at a time with an intent
 * record (sem.h).  A process killed at any instruction leaves either no
 * transaction, or one with its intent record complete, which the next
 * process to take the guard undoes before anything else.  The units of a
 * holder whose id died go back to the value (a reclaim, itself such a
 * transaction) when someone takes the guard after the death epoch moved,
 * and when an acquire finds the value 0.
 *
 * Wake-ups: every sleeper also wakes when the death epoch moves
 * (sealshm__object_wait()), so a process killed between a change of the
 * value and its FUTEX_WAKE delays a sleeper until trackerd saw it die, and
 * no more.  A sleeper that was woken but leaves without a unit (timeout,
 * signal) takes a last look, or hands the wake-up on.
 */
#include <limits.h>

#include "internal.h"
#include "sem.h"

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

#define WAITERS		SEALSHM__WORD_WAITERS

static inline struct sealshm__sem *sem_of(struct sealshm_sem *s)
{
	return (struct sealshm__sem *)s;
}

/* The most value @s takes; -EBADMSG when its fixed fields are not a
 * semaphore's (corrupt memory). */
static int sem_limit(const struct sealshm__sem *s, uint32_t *ret)
{
	uint32_t max = LOAD(&s->max), flags = LOAD(&s->flags);

	if (max > SEALSHM__SEM_VALUE_MAX || (flags & ~SEALSHM_SEM_ROBUST))
		return -EBADMSG;
	*ret = max ? max : SEALSHM__SEM_VALUE_MAX;
	return 0;
}

static inline bool robust(const struct sealshm__sem *s)
{
	return LOAD(&s->flags) & SEALSHM_SEM_ROBUST;
}

/* --- the default mode ----------------------------------------------------- */

/* Take a unit if there is one: 0, -EAGAIN, or -EBADMSG (value past @limit). */
static int plain_try(struct sealshm__sem *s, uint32_t limit)
{
	uint32_t v = LOAD(&s->value);

	do {
		if (v > limit)
			return -EBADMSG;
		if (v == 0)
			return -EAGAIN;
	} while (!__atomic_compare_exchange_n(&s->value, &v, v - 1, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_ACQUIRE));
	return 0;
}

static int plain_acquire(struct sealshm__sem *s, const struct sealshm__holder *h,
			 uint32_t limit, int64_t deadline)
{
	int r = plain_try(s, limit);

	if (r != -EAGAIN || deadline == -2)
		return r;
	/* Counted before the last look at the value (both sequentially
	 * consistent): a release either sees us counted and wakes, or we see
	 * its unit, or FUTEX_WAIT finds the value changed. */
	__atomic_fetch_add(&s->waiters, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t epoch = sealshm__holder_epoch(h);

		r = plain_try(s, limit);
		if (r != -EAGAIN)
			break;
		r = sealshm__object_wait(&s->value, 0, h, epoch, deadline);
		if (r < 0) {
			/* A release may have woken us just now: its unit is
			 * ours rather than nobody's. */
			if (plain_try(s, limit) == 0)
				r = 0;
			break;
		}
	}
	__atomic_fetch_sub(&s->waiters, 1, __ATOMIC_SEQ_CST);
	return r;
}

static int plain_release(struct sealshm__sem *s, uint32_t limit)
{
	uint32_t v = LOAD(&s->value);

	do {
		if (v > limit)
			return -EBADMSG;
		if (v == limit)
			return -EOVERFLOW;
	} while (!__atomic_compare_exchange_n(&s->value, &v, v + 1, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_ACQUIRE));
	if (__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST) > 0)
		(void)sealshm__object_wake(&s->value, 1);
	return 0;
}

/* --- the robust mode: the guard ------------------------------------------ */

/*
 * Take @s's guard for @h's id, until @deadline (-1: none): 0, -ETIMEDOUT
 * or -EINTR.  A guard whose holder died is taken over; repair() then
 * undoes what it left.  A waiter that wakes takes the guard with WAITERS
 * set, as it cannot know whether others still sleep (Drepper's mutex 3).
 */
static int guard_take(struct sealshm__sem *s, const struct sealshm__holder *h, int64_t deadline)
{
	uint32_t w = 0, id = h->id;

	if (__atomic_compare_exchange_n(&s->guard, &w, id, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return 0;
	for (;;) {
		uint32_t epoch = sealshm__holder_epoch(h);
		int r;

		w = LOAD(&s->guard);
		if (w == 0 || !sealshm__holder_alive(h, SEALSHM__WORD_HOLDER(w))) {
			/* Free, or its holder died (or the word is garbage). */
			if (__atomic_compare_exchange_n(&s->guard, &w, id | WAITERS, false,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return 0;
			continue;
		}
		if (!(w & WAITERS) &&
		    !__atomic_compare_exchange_n(&s->guard, &w, w | WAITERS, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			continue;
		r = sealshm__object_wait(&s->guard, w | WAITERS, h, epoch, deadline);
		if (r < 0)
			return r;
	}
}

static void guard_give(struct sealshm__sem *s)
{
	if (__atomic_exchange_n(&s->guard, 0, __ATOMIC_RELEASE) & WAITERS)
		(void)sealshm__object_wake(&s->guard, 1);
}

/* The guard for a call that does not wait (release, value): a signal
 * does not cut it short, as it is held only for a few stores. */
static int guard_take_always(struct sealshm__sem *s, const struct sealshm__holder *h)
{
	int r;

	do
		r = guard_take(s, h, -1);
	while (r == -EINTR);
	return r;
}

/* --- the robust mode: transactions ---------------------------------------- */

/*
 * Set value to @value and, unless @slot is SEALSHM__SEM_NO_SLOT, table[@slot]
 * to (@holder, @units), so that a death at any store leaves an intent
 * record complete enough to undo it, or nothing.  Under the guard.
 */
static void txn(struct sealshm__sem *s, uint32_t op, uint32_t slot, uint32_t value,
		uint32_t holder, uint32_t units)
{
	STORE(&s->intent_slot, slot);
	STORE(&s->intent_value, LOAD(&s->value));
	if (slot != SEALSHM__SEM_NO_SLOT) {
		STORE(&s->intent_holder, LOAD(&s->table[slot].holder));
		STORE(&s->intent_units, LOAD(&s->table[slot].units));
	}
	/* The record is complete: from here on it is undone if we die. */
	STORE(&s->intent_op, op);
	__atomic_store_n(&s->value, value, __ATOMIC_SEQ_CST);
	if (slot != SEALSHM__SEM_NO_SLOT) {
		STORE(&s->table[slot].holder, holder);
		STORE(&s->table[slot].units, units);
	}
	STORE(&s->intent_op, SEALSHM__SEM_OP_NONE);
}

/* Wake every sleeper on the value: it went up other than by a release. */
static void wake_all_if_waiters(struct sealshm__sem *s)
{
	if (__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST) > 0)
		(void)sealshm__object_wake(&s->value, INT_MAX);
}

/*
 * Give back the units of every holder in the table whose id no longer
 * lives (never past @limit: units a process released without holding
 * them may already have taken their place).  Under the guard.  Returns
 * how many entries it freed, or -EBADMSG for a corrupt entry.
 */
static int reclaim(struct sealshm__sem *s, const struct sealshm__holder *h, uint32_t limit)
{
	int n = 0;

	for (uint32_t i = 0; i < SEALSHM__SEM_TABLE; i++) {
		uint32_t holder = LOAD(&s->table[i].holder), units = LOAD(&s->table[i].units);
		uint32_t v;

		if (holder == 0) {
			if (units != 0)
				return -EBADMSG;
			continue;
		}
		if (sealshm__holder_alive(h, holder))
			continue;
		v = LOAD(&s->value);
		if (v > limit)
			return -EBADMSG;
		v = units > limit - v ? limit : v + units;
		txn(s, SEALSHM__SEM_OP_RECLAIM, i, v, 0, 0);
		n++;
	}
	return n;
}

/*
 * What whoever takes the guard does first: undo a transaction a dead
 * holder of the guard left half done, then, when the death epoch moved
 * since the last look (@epoch is its value now, read before), give back
 * the dead holders' units.  Idempotent: if we die in here, the next taker
 * does it again.  0, or -EBADMSG (then the guard is still ours).
 */
static int repair(struct sealshm__sem *s, const struct sealshm__holder *h, uint32_t epoch,
		  uint32_t limit)
{
	uint32_t op = LOAD(&s->intent_op);
	bool woke = false;
	int r;

	if (LOAD(&s->value) > limit)
		return -EBADMSG;
	if (op != SEALSHM__SEM_OP_NONE) {
		uint32_t slot = LOAD(&s->intent_slot), value = LOAD(&s->intent_value);

		if (op > SEALSHM__SEM_OP_RECLAIM || value > limit ||
		    (slot >= SEALSHM__SEM_TABLE && slot != SEALSHM__SEM_NO_SLOT))
			return -EBADMSG;
		__atomic_store_n(&s->value, value, __ATOMIC_SEQ_CST);
		if (slot != SEALSHM__SEM_NO_SLOT) {
			STORE(&s->table[slot].holder, LOAD(&s->intent_holder));
			STORE(&s->table[slot].units, LOAD(&s->intent_units));
		}
		STORE(&s->intent_op, SEALSHM__SEM_OP_NONE);
		woke = true;
	}
	if (LOAD(&s->epoch) != epoch) {
		r = reclaim(s, h, limit);
		if (r < 0)
			return r;
		STORE(&s->epoch, epoch);
		woke = woke || r > 0;
	}
	if (woke)
		wake_all_if_waiters(s);
	return 0;
}

/* Where @id's units go: its entry, else a free one; -ENOSPC when neither. */
static int find_slot(struct sealshm__sem *s, uint32_t id, bool may_add)
{
	int free_slot = -ENOSPC;

	for (uint32_t i = 0; i < SEALSHM__SEM_TABLE; i++) {
		uint32_t holder = LOAD(&s->table[i].holder);

		if (holder == id)
			return (int)i;
		if (holder == 0 && free_slot < 0)
			free_slot = (int)i;
	}
	return may_add ? free_slot : -ENOENT;
}

/* Take a unit for @id (value > 0), under the guard: 0 or -ENOSPC,
 * -EOVERFLOW. */
static int robust_take(struct sealshm__sem *s, const struct sealshm__holder *h, uint32_t limit)
{
	uint32_t units;
	int i = find_slot(s, h->id, true);

	if (i < 0) {
		/* Full: a holder may have died since the last look. */
		int r = reclaim(s, h, limit);

		if (r < 0)
			return r;
		if (r > 0)
			wake_all_if_waiters(s);
		i = find_slot(s, h->id, true);
		if (i < 0)
			return i;
	}
	units = LOAD(&s->table[i].units);
	if (units == UINT32_MAX)
		return -EOVERFLOW;
	txn(s, SEALSHM__SEM_OP_ACQUIRE, (uint32_t)i, LOAD(&s->value) - 1, h->id, units + 1);
	return 0;
}

static int robust_acquire(struct sealshm__sem *s, const struct sealshm__holder *h,
			  uint32_t limit, int64_t deadline)
{
	bool counted = false;
	int r;

	for (;;) {
		uint32_t epoch;

		r = guard_take(s, h, deadline < 0 ? -1 : deadline);
		if (r < 0)
			break;
		epoch = sealshm__holder_epoch(h);
		r = repair(s, h, epoch, limit);
		if (r == 0 && LOAD(&s->value) == 0) {
			/* Nothing left: are some of the units with the dead? */
			r = reclaim(s, h, limit);
			if (r > 0)
				wake_all_if_waiters(s);
		}
		if (r >= 0 && LOAD(&s->value) > 0) {
			r = robust_take(s, h, limit);
			guard_give(s);
			break;
		}
		if (r < 0 || deadline == -2) {
			guard_give(s);
			if (r >= 0)
				r = -EAGAIN;
			break;
		}
		/* Counted under the guard, which every release takes: it
		 * sees us and wakes one after its change of the value. */
		if (!counted)
			__atomic_fetch_add(&s->waiters, 1, __ATOMIC_SEQ_CST);
		counted = true;
		guard_give(s);
		r = sealshm__object_wait(&s->value, 0, h, epoch, deadline);
		if (r < 0)
			break;
	}
	if (counted) {
		__atomic_fetch_sub(&s->waiters, 1, __ATOMIC_SEQ_CST);
		/* Leaving without a unit, perhaps woken for one: hand the
		 * wake-up on to another sleeper. */
		if (r < 0 && LOAD(&s->value) > 0 &&
		    __atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST) > 0)
			(void)sealshm__object_wake(&s->value, 1);
	}
	return r;
}

static int robust_release(struct sealshm__sem *s, const struct sealshm__holder *h,
			  uint32_t limit)
{
	uint32_t v, waiters;
	int r, i;

	r = guard_take_always(s, h);
	if (r < 0)
		return r;
	r = repair(s, h, sealshm__holder_epoch(h), limit);
	if (r < 0)
		goto out;
	v = LOAD(&s->value);
	if (v >= limit) {
		r = -EOVERFLOW;
		goto out;
	}
	i = find_slot(s, h->id, false);
	if (i >= 0) {
		uint32_t units = LOAD(&s->table[i].units);

		if (units == 0) {
			r = -EBADMSG;
			goto out;
		}
		txn(s, SEALSHM__SEM_OP_RELEASE, (uint32_t)i, v + 1, units > 1 ? h->id : 0,
		    units - 1);
	} else {
		/* A unit it does not hold (a semaphore used as a signal):
		 * it only adds. */
		txn(s, SEALSHM__SEM_OP_RELEASE, SEALSHM__SEM_NO_SLOT, v + 1, 0, 0);
	}
out:
	waiters = __atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST);
	guard_give(s);
	if (r == 0 && waiters > 0)
		(void)sealshm__object_wake(&s->value, 1);
	return r;
}

/* --- the calls ------------------------------------------------------------- */

static int sem_init(struct sealshm__sem *s, uint32_t value, uint32_t max, uint32_t flags,
		    const struct sealshm_opts *opts)
{
	const struct sealshm__holder *h;
	int r;

	if (!s || (flags & ~SEALSHM_SEM_ROBUST) || value > SEALSHM__SEM_VALUE_MAX ||
	    max > SEALSHM__SEM_VALUE_MAX || (max != 0 && max < value))
		return -EINVAL;
	r = sealshm__object_init_begin(s, sizeof(*s), opts, &h);
	if (r < 0)
		return r;
	memset((char *)s + sizeof(s->hdr), 0, sizeof(*s) - sizeof(s->hdr));
	s->value = value;
	s->max = max;
	s->flags = flags;
	s->intent_slot = SEALSHM__SEM_NO_SLOT;
	s->epoch = sealshm__holder_epoch(h);
	sealshm__object_init_end(s, SEALSHM_OBJECT_SEM, sizeof(*s), h);
	return 0;
}

int sealshm_sem_init(struct sealshm_sem *s, uint32_t value, uint32_t max, uint32_t flags,
		     const struct sealshm_opts *opts)
{
	return sealshm__err(sem_init(sem_of(s), value, max, flags, opts));
}

/* Acquire until @deadline (-1: none, -2: do not wait). */
static int sem_acquire(struct sealshm_sem *sem, int64_t deadline)
{
	struct sealshm__sem *s = sem_of(sem);
	const struct sealshm__holder *h;
	uint32_t limit;
	int r;

	r = sealshm__object_enter(s, SEALSHM_OBJECT_SEM, sizeof(*s), &h);
	if (r < 0)
		return r;
	r = sem_limit(s, &limit);
	if (r < 0)
		return r;
	if (robust(s))
		return robust_acquire(s, h, limit, deadline);
	return plain_acquire(s, h, limit, deadline);
}

int sealshm_sem_acquire(struct sealshm_sem *s, const struct timespec *timeout, uint32_t flags)
{
	int64_t deadline;
	int r;

	r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
	if (r < 0)
		return sealshm__err(r);
	return sealshm__err(sem_acquire(s, deadline));
}

int sealshm_sem_tryacquire(struct sealshm_sem *s)
{
	return sealshm__err(sem_acquire(s, -2));
}

int sealshm_sem_release(struct sealshm_sem *sem)
{
	struct sealshm__sem *s = sem_of(sem);
	const struct sealshm__holder *h;
	uint32_t limit;
	int r;

	r = sealshm__object_enter(s, SEALSHM_OBJECT_SEM, sizeof(*s), &h);
	if (r < 0)
		return sealshm__err(r);
	r = sem_limit(s, &limit);
	if (r < 0)
		return sealshm__err(r);
	if (robust(s))
		return sealshm__err(robust_release(s, h, limit));
	return sealshm__err(plain_release(s, limit));
}

int sealshm_sem_value(struct sealshm_sem *sem, uint32_t *ret)
{
	struct sealshm__sem *s = sem_of(sem);
	const struct sealshm__holder *h;
	uint32_t limit, v;
	int r;

	sealshm__return_if_fail(ret, -EINVAL);
	r = sealshm__object_enter(s, SEALSHM_OBJECT_SEM, sizeof(*s), &h);
	if (r < 0)
		return sealshm__err(r);
	r = sem_limit(s, &limit);
	if (r < 0)
		return sealshm__err(r);
	if (robust(s)) {
		uint32_t epoch = sealshm__holder_epoch(h), g = LOAD(&s->guard);

		/* A death since the last look, a guard left by the dead, or
		 * an intent record nobody works on: repair first, so the
		 * value counts the units that came back. */
		if (LOAD(&s->epoch) != epoch ||
		    (g != 0 ? !sealshm__holder_alive(h, SEALSHM__WORD_HOLDER(g))
			    : LOAD(&s->intent_op) != SEALSHM__SEM_OP_NONE)) {
			r = guard_take_always(s, h);
			if (r < 0)
				return sealshm__err(r);
			r = repair(s, h, sealshm__holder_epoch(h), limit);
			guard_give(s);
			if (r < 0)
				return sealshm__err(r);
		}
	}
	v = LOAD(&s->value);
	if (v > limit)
		return sealshm__err(-EBADMSG);
	*ret = v;
	return 0;
}

/* --- objects.c's view ------------------------------------------------------ */

static int sem_type_init(void *obj, const struct sealshm_object_params *params,
			 const struct sealshm_opts *opts)
{
	if (params->parties)
		return -EINVAL;
	return sem_init(obj, params->value, params->max, params->flags, opts);
}

static void sem_type_info(const void *obj, const struct sealshm__holder *h,
			  struct sealshm_object_info *info)
{
	const struct sealshm__sem *s = obj;

	(void)h;
	info->value = LOAD(&s->value);
	info->max = LOAD(&s->max);
	info->waiters = LOAD(&s->waiters);
	if (LOAD(&s->flags) & SEALSHM_SEM_ROBUST)
		info->flags |= SEALSHM_OBJECT_ROBUST;
}

const struct sealshm__type sealshm__sem_type = {
	.type = SEALSHM_OBJECT_SEM,
	.size = sizeof(struct sealshm_sem),
	.name = "semaphore",
	.init = sem_type_init,
	.info = sem_type_info,
};

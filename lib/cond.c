// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Condition: multiprocessing.Condition over a sealshm Lock or RLock.
 *
 * A sequence word and a count of waiters (layout in
 * Documentation/objects.md).  wait: count itself in, read seq, release
 * the lock, sleep while seq is unchanged, count itself out, re-acquire
 * the lock.  notify: when anyone is counted, bump seq and wake up to n
 * sleepers on it.  Reading seq before the lock is released and bumping it
 * before the wake is what makes a notify that comes between the release
 * and the sleep visible: the sleep then does not happen.
 *
 * Deaths.  A waiter holds nothing while it sleeps: the kernel takes a
 * killed sleeper off the futex queue, so it never swallows a later
 * wake-up.  It leaves the count one too high, which costs later notifies
 * a futex call they could have skipped, never a wake-up (the count only
 * decides whether to make the call).  A notifier killed between its bump
 * and its wake leaves sleepers on the old value: the death epoch wakes
 * them (sealshm__object_wait() sleeps on it too), they see seq moved and
 * return, as they would at the next notify or their timeout.  A notifier
 * that dies holding the lock hands it over with -EOWNERDEAD, which a
 * waiter's re-acquire returns.
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
#include <stddef.h>
#include <string.h>

#include "cond.h"
#include "internal.h"
#include "lock.h"
#include "object.h"

struct cond {
	struct sealshm__object_hdr hdr;
	uint32_t seq;		/* futex word: +1 by every notify that finds waiters */
	uint32_t waiters;	/* processes between counting in and out of a wait */
	uint64_t __reserved;	/* 0 */
};
_Static_assert(sizeof(struct cond) == sizeof(struct sealshm_cond), "cond size");
_Static_assert(offsetof(struct cond, seq) == 16, "cond seq offset");
_Static_assert(offsetof(struct cond, waiters) == 20, "cond waiters offset");
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
	__atomic_store_n(&c->seq, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->waiters, 0, __ATOMIC_RELAXED);
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

static int cond_wait(struct sealshm_cond *obj, const struct cond_lock *l,
		     const struct timespec *timeout, uint32_t flags)
{
	const struct sealshm__holder *h;
	struct cond *c = (struct cond *)obj;
	int64_t deadline;
	uint32_t seq, count = 0;
	int r, rl;

	r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
	if (r < 0)
		return r;
	r = cond_enter(obj, &h);
	if (r < 0)
		return r;

	/* Counted in before seq is read, both sequentially consistent, as a
	 * notify bumps seq before it reads the count: either it sees us, or
	 * we see its bump. */
	__atomic_add_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
	seq = __atomic_load_n(&c->seq, __ATOMIC_SEQ_CST);
	r = cond_lock_release(l, &count);
	if (r < 0) {
		__atomic_sub_fetch(&c->waiters, 1, __ATOMIC_RELEASE);
		return r;
	}

	for (;;) {
		/* The epoch is read before the check that decides to sleep. */
		uint32_t epoch = sealshm__holder_epoch(h);

		if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != seq) {
			r = 0;
			break;
		}
		r = sealshm__object_wait(&c->seq, seq, h, epoch, deadline);
		if (r < 0) {
			/* -ETIMEDOUT or -EINTR; notified meanwhile: say so. */
			if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != seq)
				r = 0;
			break;
		}
	}
	__atomic_sub_fetch(&c->waiters, 1, __ATOMIC_RELEASE);

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
	int r;

	r = cond_enter(obj, &h);
	if (r < 0)
		return r;
	if (n == 0)
		return 0;
	/* Nobody counted: nothing to wake, and a waiter that counts itself
	 * in later began waiting after this notify. */
	if (__atomic_load_n(&c->waiters, __ATOMIC_SEQ_CST) == 0)
		return 0;
	__atomic_add_fetch(&c->seq, 1, __ATOMIC_SEQ_CST);
	r = sealshm__object_wake(&c->seq, n > INT_MAX ? INT_MAX : (int)n);
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

	(void)h;
	info->waiters = __atomic_load_n(&c->waiters, __ATOMIC_RELAXED);
}

const struct sealshm__type sealshm__cond_type = {
	.type = SEALSHM_OBJECT_COND,
	.size = sizeof(struct cond),
	.name = "condition",
	.init = cond_type_init,
	.info = cond_type_info,
};

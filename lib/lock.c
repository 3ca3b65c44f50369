// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lock and RLock: multiprocessing's, in shared memory, robust to the death
 * of their holder (lock.h, sealshm_lock(3); layouts and death rules in
 * Documentation/objects.md).
 *
 * Both keep one futex word, WAITERS | OWNER_DIED | holder id (object.h):
 * 0 is free, SEALSHM_HOLDER_NONE not recoverable.  Every change of the
 * word is one compare-and-swap, so a process that dies anywhere leaves it
 * either as it was or changed whole.  A waiter that finds a holder id in
 * the word checks it against the liveness segment; a dead one's lock is
 * taken over, marked OWNER_DIED, and the taker gets -EOWNERDEAD.
 *
 * An RLock also records its owner thread, as (holder id, thread id) in one
 * 64-bit word that only the owner writes after it took the lock word, and
 * its count.  Its owner thread recognises itself by that pair alone: the
 * holder id makes a value left by a dead process match no live one, the
 * thread id (gettid(2), in the owner's pid namespace) tells its threads
 * apart.
 */
#include <limits.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "internal.h"
#include "lock.h"
#include "object.h"

struct lock_obj {
	struct sealshm__object_hdr hdr;
	uint32_t word;		/* WAITERS | OWNER_DIED | holder id */
	uint32_t __reserved[3];
};
_Static_assert(sizeof(struct lock_obj) == sizeof(struct sealshm_lock), "Lock size");
_Static_assert(offsetof(struct lock_obj, word) == 16, "Lock word offset");

struct rlock_obj {
	struct sealshm__object_hdr hdr;
	uint32_t word;		/* as a Lock's */
	uint32_t count;		/* recursion count of the owner thread */
	uint64_t owner;		/* thread id << 32 | holder id of the owner thread, 0: none */
};
_Static_assert(sizeof(struct rlock_obj) == sizeof(struct sealshm_rlock), "RLock size");
_Static_assert(offsetof(struct rlock_obj, word) == 16, "RLock word offset");
_Static_assert(offsetof(struct rlock_obj, count) == 20, "RLock count offset");
_Static_assert(offsetof(struct rlock_obj, owner) == 24, "RLock owner offset");

#define WAITERS		SEALSHM__WORD_WAITERS
#define OWNER_DIED	SEALSHM__WORD_OWNER_DIED
#define HOLDER(w)	SEALSHM__WORD_HOLDER(w)

/* This process's id with @h, read once: 0 only when its connection to
 * that trackerd ended meanwhile (the trackerd went away). */
static inline int holder_id(const struct sealshm__holder *h, uint32_t *ret)
{
	*ret = __atomic_load_n(&h->id, __ATOMIC_RELAXED);
	return __builtin_expect(*ret != 0, 1) ? 0 : -ENXIO;
}

/* --- the lock word ---------------------------------------------------------- */

static inline bool cas_acquire(uint32_t *word, uint32_t *expected, uint32_t desired)
{
	return __atomic_compare_exchange_n(word, expected, desired, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline bool cas_release(uint32_t *word, uint32_t *expected, uint32_t desired)
{
	return __atomic_compare_exchange_n(word, expected, desired, false, __ATOMIC_RELEASE,
					   __ATOMIC_RELAXED);
}

/*
 * Take @word for holder @id of @h: 0, -EOWNERDEAD (taken from a holder that died),
 * -ENOTRECOVERABLE, -EBUSY (@try, held), -ETIMEDOUT (@deadline_ns, -1:
 * none), -EINTR.
 */
static int word_take(uint32_t *word, const struct sealshm__holder *h, uint32_t id, bool try,
		     int64_t deadline_ns)
{
	uint32_t waiters = 0;

	for (;;) {
		/* The epoch before the liveness check: a death after it
		 * moves the epoch, and the wait below then returns at once. */
		uint32_t epoch = sealshm__holder_epoch(h);
		uint32_t w = __atomic_load_n(word, __ATOMIC_RELAXED);
		uint32_t holder = HOLDER(w);
		int r;

		if (holder == 0) {
			/* Free.  One that slept keeps WAITERS set: others may
			 * sleep still, and its release must wake one. */
			if (cas_acquire(word, &w, id | (w & WAITERS) | waiters))
				return 0;
			continue;
		}
		if (holder == SEALSHM_HOLDER_NONE)
			return -ENOTRECOVERABLE;
		if (!sealshm__holder_alive(h, holder)) {
			if (cas_acquire(word, &w, id | OWNER_DIED | (w & WAITERS) | waiters))
				return -EOWNERDEAD;
			continue;
		}
		if (try)
			return -EBUSY;
		if (!(w & WAITERS)) {
			if (!__atomic_compare_exchange_n(word, &w, w | WAITERS, false,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				continue;
			w |= WAITERS;
		}
		r = sealshm__object_wait(word, w, h, epoch, deadline_ns);
		if (r < 0)
			return r;
		waiters = WAITERS;
	}
}

/*
 * Give @word back from holder @id: free (waking one sleeper), or, when
 * its holder died and nobody called _consistent(), not recoverable
 * (waking all).  -EPERM when @id does not hold it.
 */
static int word_give(uint32_t *word, uint32_t id)
{
	uint32_t w = __atomic_load_n(word, __ATOMIC_RELAXED);

	for (;;) {
		if (HOLDER(w) != id)
			return -EPERM;
		if (w & OWNER_DIED) {
			if (cas_release(word, &w, SEALSHM_HOLDER_NONE)) {
				(void)sealshm__object_wake(word, INT_MAX);
				return 0;
			}
			continue;
		}
		if (cas_release(word, &w, 0)) {
			if (w & WAITERS)
				(void)sealshm__object_wake(word, 1);
			return 0;
		}
	}
}

/* Clear OWNER_DIED of @word held by @id: -EINVAL unless it is set. */
static int word_consistent(uint32_t *word, uint32_t id)
{
	uint32_t w = __atomic_load_n(word, __ATOMIC_RELAXED);

	for (;;) {
		if (HOLDER(w) != id || !(w & OWNER_DIED))
			return -EINVAL;
		if (__atomic_compare_exchange_n(word, &w, w & ~OWNER_DIED, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return 0;
	}
}

/* What sealshm_object_info() says of a lock word. */
static void word_info(uint32_t w, const struct sealshm__holder *h,
		      struct sealshm_object_info *info)
{
	uint32_t holder = HOLDER(w);

	if (holder == SEALSHM_HOLDER_NONE) {
		info->flags |= SEALSHM_OBJECT_NOTRECOVERABLE;
	} else if (holder) {
		info->flags |= SEALSHM_OBJECT_HELD;
		info->holder = holder;
		if (h)
			info->holder_pid = sealshm__holder_pid(h, holder);
	}
	if (w & OWNER_DIED && holder != SEALSHM_HOLDER_NONE)
		info->flags |= SEALSHM_OBJECT_OWNER_DIED;
	/* The word tells whether someone may sleep, not how many do. */
	info->waiters = w & WAITERS ? 1 : 0;
}

/* The params of sealshm_object_create() a Lock or an RLock takes: none. */
static bool params_none(const struct sealshm_object_params *p)
{
	return !p || (!p->flags && !p->value && !p->max && !p->parties);
}

/* --- Lock ------------------------------------------------------------------- */

static inline int lock_enter(struct sealshm_lock *lk, const struct sealshm__holder **ret,
			     uint32_t *ret_id)
{
	int r = sealshm__object_enter(lk, SEALSHM_OBJECT_LOCK, sizeof(*lk), ret);

	return r < 0 ? r : holder_id(*ret, ret_id);
}

int sealshm_lock_init(struct sealshm_lock *lk, const struct sealshm_opts *opts)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	const struct sealshm__holder *h;
	int r;

	r = sealshm__object_init_begin(lk, sizeof(*lk), opts, &h);
	if (r < 0)
		return sealshm__err(r);
	memset((char *)o + sizeof(o->hdr), 0, sizeof(*o) - sizeof(o->hdr));
	sealshm__object_init_end(lk, SEALSHM_OBJECT_LOCK, sizeof(*lk), h);
	return 0;
}

/*
 * The common path of each call, inline: every check of
 * sealshm__object_enter() answered from its caches
 * (sealshm__object_enter_fast()), then one compare-and-swap of the word.
 * Anything else (a check that fails or a cache that misses, a word held,
 * with waiters or OWNER_DIED) goes the whole way, from the start, in a
 * function of its own.
 */
static inline bool lock_fast(struct sealshm_lock *lk, uint32_t *ret_id)
{
	const struct sealshm__holder *h;

	return __builtin_expect(sealshm__object_enter_fast(lk, SEALSHM_OBJECT_LOCK, sizeof(*lk),
							   &h, ret_id), 1);
}

static __attribute__((noinline)) int lock_acquire_slow(struct sealshm_lock *lk,
							int64_t deadline_ns)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	const struct sealshm__holder *h;
	uint32_t id, w = 0;
	int r;

	r = lock_enter(lk, &h, &id);
	if (r < 0)
		return r;
	if (cas_acquire(&o->word, &w, id))
		return 0;
	return word_take(&o->word, h, id, false, deadline_ns);
}

int sealshm__lock_acquire_until(struct sealshm_lock *lk, int64_t deadline_ns)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	uint32_t id, w = 0;

	if (lock_fast(lk, &id) && __builtin_expect(cas_acquire(&o->word, &w, id), 1))
		return 0;
	return lock_acquire_slow(lk, deadline_ns);
}

static __attribute__((noinline)) int lock_acquire_timed(struct sealshm_lock *lk,
							 const struct timespec *timeout,
							 uint32_t flags)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	const struct sealshm__holder *h;
	int64_t deadline;
	uint32_t id, w = 0;
	int r;

	sealshm__return_if_fail(!(flags & ~SEALSHM_WAIT_ABSTIME), -EINVAL);
	r = lock_enter(lk, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	if (cas_acquire(&o->word, &w, id))
		return 0;
	/* As pthread_mutex_timedlock(), the timeout is looked at only when
	 * the lock is not free. */
	r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
	if (r < 0)
		return sealshm__err(r);
	return sealshm__err(word_take(&o->word, h, id, false, deadline));
}

int sealshm_lock_acquire(struct sealshm_lock *lk, const struct timespec *timeout, uint32_t flags)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	uint32_t id, w = 0;

	if (__builtin_expect(!(flags & ~SEALSHM_WAIT_ABSTIME), 1) && lock_fast(lk, &id) &&
	    __builtin_expect(cas_acquire(&o->word, &w, id), 1))
		return 0;
	return lock_acquire_timed(lk, timeout, flags);
}

static __attribute__((noinline)) int lock_tryacquire_slow(struct sealshm_lock *lk)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	const struct sealshm__holder *h;
	uint32_t id;
	int r;

	r = lock_enter(lk, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	return sealshm__err(word_take(&o->word, h, id, true, -1));
}

int sealshm_lock_tryacquire(struct sealshm_lock *lk)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	uint32_t id, w = 0;

	if (lock_fast(lk, &id) && __builtin_expect(cas_acquire(&o->word, &w, id), 1))
		return 0;
	return lock_tryacquire_slow(lk);
}

static __attribute__((noinline)) int lock_release_slow(struct sealshm_lock *lk)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	const struct sealshm__holder *h;
	uint32_t id;
	int r;

	r = lock_enter(lk, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	/* Any thread of the holding process may release (CPython's Lock is
	 * a binary semaphore); another process may not. */
	return sealshm__err(word_give(&o->word, id));
}

int sealshm_lock_release(struct sealshm_lock *lk)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	uint32_t id, w;

	/* The word is our id alone: nobody waits, nobody died. */
	if (lock_fast(lk, &id)) {
		w = id;
		if (__builtin_expect(cas_release(&o->word, &w, 0), 1))
			return 0;
	}
	return lock_release_slow(lk);
}

int sealshm_lock_consistent(struct sealshm_lock *lk)
{
	struct lock_obj *o = (struct lock_obj *)lk;
	const struct sealshm__holder *h;
	uint32_t id;
	int r;

	r = lock_enter(lk, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	return sealshm__err(word_consistent(&o->word, id));
}

static int lock_type_init(void *obj, const struct sealshm_object_params *params,
			  const struct sealshm_opts *opts)
{
	if (!params_none(params))
		return -EINVAL;
	return sealshm_lock_init(obj, opts);
}

static void lock_type_info(const void *obj, const struct sealshm__holder *h,
			   struct sealshm_object_info *info)
{
	const struct lock_obj *o = obj;

	word_info(__atomic_load_n(&o->word, __ATOMIC_RELAXED), h, info);
}

const struct sealshm__type sealshm__lock_type = {
	.type = SEALSHM_OBJECT_LOCK,
	.size = sizeof(struct sealshm_lock),
	.name = "lock",
	.init = lock_type_init,
	.info = lock_type_info,
};

/* --- RLock ------------------------------------------------------------------ */

/*
 * The calling thread's id, cached: gettid(2) is a system call, and an
 * RLock asks on every call.  A forked child's only thread has another
 * id: the atfork handler forgets the cached one.
 */
static __thread uint32_t cached_tid;
static pthread_once_t tid_once = PTHREAD_ONCE_INIT;
static bool tid_no_cache;

static void tid_atfork_child(void)
{
	cached_tid = 0;
}

static void tid_init(void)
{
	/* Without the handler (ENOMEM) a forked child would keep its
	 * parent's thread id: ask every time then. */
	if (pthread_atfork(NULL, NULL, tid_atfork_child) != 0)
		tid_no_cache = true;
}

static uint32_t my_tid(void)
{
	uint32_t tid = cached_tid;

	if (__builtin_expect(tid != 0, 1))
		return tid;
	(void)pthread_once(&tid_once, tid_init);
	tid = (uint32_t)syscall(SYS_gettid);
	if (!tid_no_cache)
		cached_tid = tid;
	return tid;
}

/* The owner word of the calling thread of holder @id. */
static inline uint64_t owner_of(uint32_t id)
{
	return (uint64_t)my_tid() << 32 | id;
}

static inline int rlock_enter(struct sealshm_rlock *rl, const struct sealshm__holder **ret,
			      uint32_t *ret_id)
{
	int r = sealshm__object_enter(rl, SEALSHM_OBJECT_RLOCK, sizeof(*rl), ret);

	return r < 0 ? r : holder_id(*ret, ret_id);
}

/* Whether the calling thread (@me) owns @o: its owner word is ours, which
 * only we write, after taking the lock word and before giving it back. */
static inline bool rlock_mine(const struct rlock_obj *o, uint64_t me)
{
	return __atomic_load_n(&o->owner, __ATOMIC_RELAXED) == me;
}

/* After taking the word: we own it, @count times.  The owner word first:
 * a death between the two stores leaves a dead holder's lock, which the
 * next acquirer takes over and overwrites whole. */
static inline void rlock_own(struct rlock_obj *o, uint64_t me, uint32_t count)
{
	__atomic_store_n(&o->owner, me, __ATOMIC_RELAXED);
	__atomic_store_n(&o->count, count, __ATOMIC_RELAXED);
}

/* Give @o back whatever its count: owner and count cleared first (a
 * death after that leaves a dead holder's lock, as above), then the word. */
static int rlock_give(struct rlock_obj *o, uint32_t id)
{
	__atomic_store_n(&o->count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&o->owner, 0, __ATOMIC_RELAXED);
	return word_give(&o->word, id);
}

/* Take @o (not held by the caller) and set its count. */
static int rlock_take(struct rlock_obj *o, const struct sealshm__holder *h, uint32_t id,
		      uint64_t me, uint32_t count, bool try, int64_t deadline_ns)
{
	uint32_t w = 0;
	int r = 0;

	if (!cas_acquire(&o->word, &w, id))
		r = word_take(&o->word, h, id, try, deadline_ns);
	if (r == 0 || r == -EOWNERDEAD)
		rlock_own(o, me, count);
	return r;
}

/* Acquire again by its owner thread. */
static int rlock_recurse(struct rlock_obj *o)
{
	uint32_t c = __atomic_load_n(&o->count, __ATOMIC_RELAXED);

	if (c == 0)
		return -EBADMSG;
	if (c == UINT32_MAX)
		return -EAGAIN;
	__atomic_store_n(&o->count, c + 1, __ATOMIC_RELAXED);
	return 0;
}

int sealshm_rlock_init(struct sealshm_rlock *rl, const struct sealshm_opts *opts)
{
	struct rlock_obj *o = (struct rlock_obj *)rl;
	const struct sealshm__holder *h;
	int r;

	r = sealshm__object_init_begin(rl, sizeof(*rl), opts, &h);
	if (r < 0)
		return sealshm__err(r);
	memset((char *)o + sizeof(o->hdr), 0, sizeof(*o) - sizeof(o->hdr));
	sealshm__object_init_end(rl, SEALSHM_OBJECT_RLOCK, sizeof(*rl), h);
	return 0;
}

/* As lock_fast(), for an RLock. */
static inline bool rlock_fast(struct sealshm_rlock *rl, uint32_t *ret_id)
{
	const struct sealshm__holder *h;

	return __builtin_expect(sealshm__object_enter_fast(rl, SEALSHM_OBJECT_RLOCK, sizeof(*rl),
							   &h, ret_id), 1);
}

static __attribute__((noinline)) int rlock_acquire_slow(struct sealshm_rlock *rl,
							 const struct timespec *timeout,
							 uint32_t flags)
{
	struct rlock_obj *o = (struct rlock_obj *)rl;
	const struct sealshm__holder *h;
	int64_t deadline;
	uint32_t id, w = 0;
	uint64_t me;
	int r;

	sealshm__return_if_fail(!(flags & ~SEALSHM_WAIT_ABSTIME), -EINVAL);
	r = rlock_enter(rl, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	me = owner_of(id);
	if (cas_acquire(&o->word, &w, id)) {
		rlock_own(o, me, 1);
		return 0;
	}
	if (rlock_mine(o, me))
		return sealshm__err(rlock_recurse(o));
	r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
	if (r < 0)
		return sealshm__err(r);
	return sealshm__err(rlock_take(o, h, id, me, 1, false, deadline));
}

int sealshm_rlock_acquire(struct sealshm_rlock *rl, const struct timespec *timeout,
			  uint32_t flags)
{
	struct rlock_obj *o = (struct rlock_obj *)rl;
	uint32_t id, w = 0;

	if (__builtin_expect(!(flags & ~SEALSHM_WAIT_ABSTIME), 1) && rlock_fast(rl, &id) &&
	    __builtin_expect(cas_acquire(&o->word, &w, id), 1)) {
		rlock_own(o, owner_of(id), 1);
		return 0;
	}
	return rlock_acquire_slow(rl, timeout, flags);
}

static __attribute__((noinline)) int rlock_tryacquire_slow(struct sealshm_rlock *rl)
{
	struct rlock_obj *o = (struct rlock_obj *)rl;
	const struct sealshm__holder *h;
	uint32_t id;
	uint64_t me;
	int r;

	r = rlock_enter(rl, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	me = owner_of(id);
	if (rlock_mine(o, me))
		return sealshm__err(rlock_recurse(o));
	return sealshm__err(rlock_take(o, h, id, me, 1, true, -1));
}

int sealshm_rlock_tryacquire(struct sealshm_rlock *rl)
{
	struct rlock_obj *o = (struct rlock_obj *)rl;
	uint32_t id, w = 0;

	if (rlock_fast(rl, &id) && __builtin_expect(cas_acquire(&o->word, &w, id), 1)) {
		rlock_own(o, owner_of(id), 1);
		return 0;
	}
	return rlock_tryacquire_slow(rl);
}

/* Release by the calling thread of holder @id, checked. */
static inline int rlock_release_checked(struct rlock_obj *o, uint32_t id)
{
	uint32_t c, w;

	/* Only its owner thread may release it, as CPython's RLock. */
	if (!rlock_mine(o, owner_of(id)))
		return -EPERM;
	c = __atomic_load_n(&o->count, __ATOMIC_RELAXED);
	if (c == 0)
		return -EBADMSG;
	if (c > 1) {
		__atomic_store_n(&o->count, c - 1, __ATOMIC_RELAXED);
		return 0;
	}
	/* rlock_give(), with its common case inline: the word is our id
	 * alone. */
	__atomic_store_n(&o->count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&o->owner, 0, __ATOMIC_RELAXED);
	w = id;
	if (__builtin_expect(cas_release(&o->word, &w, 0), 1))
		return 0;
	return word_give(&o->word, id);
}

static __attribute__((noinline)) int rlock_release_slow(struct sealshm_rlock *rl)
{
	const struct sealshm__holder *h;
	uint32_t id;
	int r;

	r = rlock_enter(rl, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	return sealshm__err(rlock_release_checked((struct rlock_obj *)rl, id));
}

int sealshm_rlock_release(struct sealshm_rlock *rl)
{
	uint32_t id;

	if (rlock_fast(rl, &id))
		return sealshm__err(rlock_release_checked((struct rlock_obj *)rl, id));
	return rlock_release_slow(rl);
}

int sealshm_rlock_consistent(struct sealshm_rlock *rl)
{
	struct rlock_obj *o = (struct rlock_obj *)rl;
	const struct sealshm__holder *h;
	uint32_t id;
	int r;

	r = rlock_enter(rl, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	if (!rlock_mine(o, owner_of(id)))
		return sealshm__err(-EINVAL);
	return sealshm__err(word_consistent(&o->word, id));
}

int sealshm__rlock_release_all(struct sealshm_rlock *rl, uint32_t *ret_count)
{
	struct rlock_obj *o = (struct rlock_obj *)rl;
	const struct sealshm__holder *h;
	uint32_t id, c;
	int r;

	r = rlock_enter(rl, &h, &id);
	if (r < 0)
		return r;
	if (!rlock_mine(o, owner_of(id)))
		return -EPERM;
	c = __atomic_load_n(&o->count, __ATOMIC_RELAXED);
	if (c == 0)
		return -EBADMSG;
	r = rlock_give(o, id);
	if (r < 0)
		return r;
	*ret_count = c;
	return 0;
}

int sealshm__rlock_acquire_count(struct sealshm_rlock *rl, uint32_t count, int64_t deadline_ns)
{
	struct rlock_obj *o = (struct rlock_obj *)rl;
	const struct sealshm__holder *h;
	uint32_t id;
	uint64_t me;
	int r;

	if (count == 0)
		return -EINVAL;
	r = rlock_enter(rl, &h, &id);
	if (r < 0)
		return r;
	me = owner_of(id);
	if (rlock_mine(o, me))
		return -EINVAL;
	return rlock_take(o, h, id, me, count, false, deadline_ns);
}

static int rlock_type_init(void *obj, const struct sealshm_object_params *params,
			   const struct sealshm_opts *opts)
{
	if (!params_none(params))
		return -EINVAL;
	return sealshm_rlock_init(obj, opts);
}

static void rlock_type_info(const void *obj, const struct sealshm__holder *h,
			    struct sealshm_object_info *info)
{
	const struct rlock_obj *o = obj;
	uint32_t w = __atomic_load_n(&o->word, __ATOMIC_RELAXED);

	word_info(w, h, info);
	if (HOLDER(w) && HOLDER(w) != SEALSHM_HOLDER_NONE)
		info->value = __atomic_load_n(&o->count, __ATOMIC_RELAXED);
}

const struct sealshm__type sealshm__rlock_type = {
	.type = SEALSHM_OBJECT_RLOCK,
	.size = sizeof(struct sealshm_rlock),
	.name = "rlock",
	.init = rlock_type_init,
	.info = rlock_type_info,
};

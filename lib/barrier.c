// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Barrier: threading.Barrier's semantics (CPython's Lib/threading.py) for
 * processes, robust to the death of any of them.  Layout in
 * Documentation/objects.md.
 *
 * State.  `word`, the futex word every sleeper sleeps on, holds the
 * generation and three flags: BROKEN, RESETTING (reset() came while
 * parties waited: new arrivals wait until they have all left) and ACTION
 * (every party is in; the last one runs the action and then passes or
 * aborts).  `count` parties wait in the current generation, their holder
 * ids in table[0..count - 1] (in no order: a party that leaves is
 * replaced by the last entry).  A wait's index is count at its arrival.
 *
 * Passing bumps the generation.  Breaking (a timeout, abort(), a death)
 * keeps it and sets BROKEN, so a waiter of generation g that finds the
 * generation moved knows it passed: a broken generation does not end
 * while any of its waiters is still in the table, and each leaves it (or
 * is taken out, dead) before a reset can start the next one.  No history
 * is kept, and released parties need not come back to "drain" as in
 * CPython, so a party that passed may arrive again at once.
 *
 * The guard.  Everything but the sleeps happens under a small lock of
 * the barrier's own, `guard` (holder id | WAITERS), held for a few stores
 * and never across a sleep.  A process that dies holding it is found dead
 * by the next one that wants it (sealshm__holder_alive()), which takes it
 * over and repairs: it completes a removal from the table that was under
 * way (the `intent` record, written before the table is touched), then
 * breaks the barrier, as a death inside an operation is a party's death
 * (or an aborting or resetting process's, whose operation may be half
 * done).  Every other step is a single store, each leaving a state the
 * next holder can read: an arrival writes its table entry before counting
 * itself, a pass zeroes the count before it moves the generation.
 *
 * Deaths of waiting parties.  sealshm__object_wait() wakes sleepers when
 * the death epoch moves; each then looks for a dead id in the table (and
 * at the guard) and, finding one, takes the guard and tidies: dead ids
 * leave the table and the barrier breaks.  Waiters look once more when
 * they arrive, in case the death came before they slept.
 *
 * Timeouts follow CPython: a waiter whose time runs out breaks the
 * barrier (-ETIMEDOUT for it, -EPIPE for the others), unless the
 * generation passed meanwhile; once every party is in (ACTION), waiters
 * wait for the pass without a deadline, as CPython's wait for the lock
 * that the action runs under; and waiting to arrive (while an action
 * runs or a reset drains) has none either.  A signal (-EINTR) takes the
 * waiter out of the barrier unbroken, as an exception does in CPython.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "barrier.h"
#include "internal.h"
#include "object.h"

#define WORD_BROKEN	(1u << 0)
#define WORD_RESETTING	(1u << 1)
#define WORD_ACTION	(1u << 2)
#define WORD_FLAGS	(WORD_BROKEN | WORD_RESETTING | WORD_ACTION)
#define WORD_GEN_SHIFT	3
#define WORD_GEN(w)	((w) >> WORD_GEN_SHIFT)

#define GUARD_WAITERS	SEALSHM__WORD_WAITERS

/* intent: VALID | count << 8 | index, with intent_id the entry moved. */
#define INTENT_VALID	(1u << 31)

struct barrier {
	struct sealshm__object_hdr hdr;
	uint32_t word;		/* futex: generation << 3 | ACTION | RESETTING | BROKEN */
	uint32_t guard;		/* futex: WAITERS | holder id inside, 0 when free */
	uint32_t parties;	/* 1..SEALSHM_BARRIER_PARTIES_MAX */
	uint32_t count;		/* parties in table[] */
	uint32_t action_id;	/* holder id of the last arriver running the action, or 0 */
	uint32_t intent;	/* a removal from table[] under way, or 0 */
	uint32_t intent_id;	/* the entry that removal moves */
	uint32_t __reserved[5];	/* 0 */
	uint32_t table[SEALSHM_BARRIER_PARTIES_MAX];	/* holder ids of the waiting parties */
};
_Static_assert(sizeof(struct barrier) == sizeof(struct sealshm_barrier), "barrier size");
_Static_assert(offsetof(struct barrier, word) == 16, "barrier word offset");
_Static_assert(offsetof(struct barrier, guard) == 20, "barrier guard offset");
_Static_assert(offsetof(struct barrier, parties) == 24, "barrier parties offset");
_Static_assert(offsetof(struct barrier, count) == 28, "barrier count offset");
_Static_assert(offsetof(struct barrier, action_id) == 32, "barrier action_id offset");
_Static_assert(offsetof(struct barrier, intent) == 36, "barrier intent offset");
_Static_assert(offsetof(struct barrier, intent_id) == 40, "barrier intent_id offset");
_Static_assert(offsetof(struct barrier, table) == 64, "barrier table offset");
_Static_assert(_Alignof(struct barrier) <= SEALSHM_OBJECT_ALIGN, "barrier alignment");

/* One call's view of a barrier. */
struct bctx {
	struct barrier *b;
	const struct sealshm__holder *h;
	uint32_t id;		/* this process's holder id */
	bool wake;		/* word changed under the guard: wake every sleeper */
	bool scanned;		/* looked for dead parties at least once */
	uint32_t epoch;		/* the death epoch when it last looked */
};

static inline uint32_t ld(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void st(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline uint32_t next_gen(uint32_t w)
{
	return (WORD_GEN(w) + 1) << WORD_GEN_SHIFT;
}

/* Sleepers read the word without the guard: publish it with release. */
static void set_word(struct bctx *x, uint32_t w)
{
	__atomic_store_n(&x->b->word, w, __ATOMIC_RELEASE);
	x->wake = true;
}

static bool counts_ok(const struct barrier *b)
{
	uint32_t parties = ld(&b->parties);

	return parties >= 1 && parties <= SEALSHM_BARRIER_PARTIES_MAX && ld(&b->count) <= parties;
}

static int barrier_enter(struct sealshm_barrier *obj, struct bctx *x)
{
	int r;

	*x = (struct bctx){ .b = (struct barrier *)obj };
	r = sealshm__object_enter(obj, SEALSHM_OBJECT_BARRIER, sizeof(struct barrier), &x->h);
	if (r < 0)
		return r;
	if (!counts_ok(x->b))
		return -EBADMSG;
	x->id = __atomic_load_n(&x->h->id, __ATOMIC_RELAXED);
	return 0;
}

/* --- the table ------------------------------------------------------------ */

/* Remove entry @i of the @c counted: the last one takes its place.  The
 * intent goes first, so that a death at any store can be completed. */
static void table_remove_at(struct barrier *b, uint32_t i, uint32_t c)
{
	uint32_t moved = ld(&b->table[c - 1]);

	st(&b->intent_id, moved);
	__atomic_store_n(&b->intent, INTENT_VALID | c << 8 | i, __ATOMIC_RELEASE);
	st(&b->table[i], moved);
	st(&b->table[c - 1], 0);
	st(&b->count, c - 1);
	__atomic_store_n(&b->intent, 0, __ATOMIC_RELEASE);
}

/* Finish a removal its process died in (the guard's previous holder). */
static void table_finish_intent(struct barrier *b)
{
	uint32_t in = __atomic_load_n(&b->intent, __ATOMIC_ACQUIRE);
	uint32_t i = in & 0xff, c = (in >> 8) & 0x1ff;

	if (!(in & INTENT_VALID))
		return;
	if (i < c && c <= ld(&b->parties)) {
		st(&b->table[i], ld(&b->intent_id));
		st(&b->table[c - 1], 0);
		st(&b->count, c - 1);
	}
	__atomic_store_n(&b->intent, 0, __ATOMIC_RELEASE);
}

/* Take one entry @id out of the table; false when it holds none. */
static bool table_remove_id(struct barrier *b, uint32_t id)
{
	uint32_t c = ld(&b->count);

	for (uint32_t i = c; i-- > 0;)
		if (ld(&b->table[i]) == id) {
			table_remove_at(b, i, c);
			return true;
		}
	return false;
}

/* Whether a waiting party, or the guard's holder, is dead (no guard:
 * reads only, bounded by parties whatever count says). */
static bool someone_dead(const struct bctx *x)
{
	const struct barrier *b = x->b;
	uint32_t g = ld(&b->guard) & SEALSHM_HOLDER_MASK;
	uint32_t c = ld(&b->count), parties = ld(&b->parties);

	if (g && !sealshm__holder_alive(x->h, g))
		return true;
	if (c > parties)
		c = parties;
	if (c > SEALSHM_BARRIER_PARTIES_MAX)
		c = SEALSHM_BARRIER_PARTIES_MAX;
	for (uint32_t i = 0; i < c; i++)
		if (!sealshm__holder_alive(x->h, ld(&b->table[i])))
			return true;
	return false;
}

/* --- state changes (under the guard) --------------------------------------- */

/* Break the current generation: its waiters get -EPIPE. */
static void do_break(struct bctx *x)
{
	uint32_t w = ld(&x->b->word);

	set_word(x, (w & ~(WORD_ACTION | WORD_RESETTING)) | WORD_BROKEN);
}

/* The last party of a reset left: the next generation starts, unbroken. */
static void reset_done_if_empty(struct bctx *x)
{
	uint32_t w = ld(&x->b->word);

	if ((w & WORD_RESETTING) && ld(&x->b->count) == 0) {
		st(&x->b->action_id, 0);
		set_word(x, next_gen(w));
	}
}

/* Dead parties leave the table; one that died waiting breaks the barrier. */
static void tidy(struct bctx *x)
{
	struct barrier *b = x->b;
	bool died = false;
	uint32_t a;

	for (uint32_t i = ld(&b->count); i-- > 0;) {
		uint32_t id = ld(&b->table[i]);

		if (!sealshm__holder_alive(x->h, id)) {
			table_remove_at(b, i, ld(&b->count));
			died = true;
		}
	}
	a = ld(&b->action_id);
	if (a && !sealshm__holder_alive(x->h, a)) {
		st(&b->action_id, 0);
		died = true;
	}
	if (died && !(ld(&b->word) & (WORD_BROKEN | WORD_RESETTING)))
		do_break(x);
	reset_done_if_empty(x);
}

/* The guard's previous holder died inside: finish its removal, if any,
 * and break the barrier (its operation may be half done). */
static void repair(struct bctx *x)
{
	table_finish_intent(x->b);
	if (!(ld(&x->b->word) & (WORD_BROKEN | WORD_RESETTING)))
		do_break(x);
	tidy(x);
}

/* --- the guard --------------------------------------------------------------- */

static void guard_unlock(struct bctx *x)
{
	uint32_t v = __atomic_exchange_n(&x->b->guard, 0, __ATOMIC_RELEASE);

	if (v & GUARD_WAITERS)
		(void)sealshm__object_wake(&x->b->guard, 1);
	if (x->wake) {
		x->wake = false;
		(void)sealshm__object_wake(&x->b->word, INT_MAX);
	}
}

/*
 * Take the guard (Drepper's three-state mutex with a holder id): sleep
 * while a live holder has it; take it over from a dead one, then repair.
 * Signals do not cut this short: it is held only for a few stores.  Then
 * check the counts it trusts (-EBADMSG, guard released).
 */
static int guard_lock(struct bctx *x)
{
	struct barrier *b = x->b;
	uint32_t want = x->id, v = 0;
	bool inherited = false;

	while (!__atomic_compare_exchange_n(&b->guard, &v, want, false, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		uint32_t epoch = sealshm__holder_epoch(x->h);

		if (v == 0)
			continue;
		if (!sealshm__holder_alive(x->h, v & SEALSHM_HOLDER_MASK)) {
			if (__atomic_compare_exchange_n(&b->guard, &v, want | (v & GUARD_WAITERS),
							false, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED)) {
				inherited = true;
				break;
			}
			continue;
		}
		if (!(v & GUARD_WAITERS) &&
		    !__atomic_compare_exchange_n(&b->guard, &v, v | GUARD_WAITERS, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			continue;
		(void)sealshm__object_wait(&b->guard, v | GUARD_WAITERS, x->h, epoch, -1);
		/* Others may sleep too: whoever takes it after a sleep keeps
		 * the waiters bit, so its release wakes the next one. */
		want = x->id | GUARD_WAITERS;
		v = 0;
	}
	if (!counts_ok(b)) {
		guard_unlock(x);
		return -EBADMSG;
	}
	if (inherited)
		repair(x);
	return 0;
}

/*
 * Sleep while the word is @w, until @deadline_ns (-1: none): 0 when it
 * changed, -ETIMEDOUT, -EINTR.  Whenever the death epoch moved (and once
 * at first), look for dead parties, and take them out.
 */
static int sleep_while(struct bctx *x, uint32_t w, int64_t deadline_ns)
{
	int r;

	for (;;) {
		uint32_t epoch = sealshm__holder_epoch(x->h);

		if (__atomic_load_n(&x->b->word, __ATOMIC_ACQUIRE) != w)
			return 0;
		if (!x->scanned || epoch != x->epoch) {
			x->scanned = true;
			x->epoch = epoch;
			if (someone_dead(x)) {
				r = guard_lock(x);
				if (r < 0)
					return r;
				tidy(x);
				guard_unlock(x);
				continue;
			}
		}
		r = sealshm__object_wait(&x->b->word, w, x->h, epoch, deadline_ns);
		if (r < 0)
			return r;
	}
}

/* A waiter of a broken generation (or one that stops waiting) leaves:
 * out of the table, and the reset completes when it was the last. */
static int leave(struct bctx *x, int ret)
{
	int r = guard_lock(x);

	if (r < 0)
		return r;
	(void)table_remove_id(x->b, x->id);
	reset_done_if_empty(x);
	guard_unlock(x);
	return ret;
}

/* --- public calls --------------------------------------------------------------- */

static int barrier_setup(void *obj, uint32_t parties, const struct sealshm_opts *opts)
{
	const struct sealshm__holder *h;
	struct barrier *b = obj;
	int r;

	if (parties < 1 || parties > SEALSHM_BARRIER_PARTIES_MAX)
		return -EINVAL;
	r = sealshm__object_init_begin(obj, sizeof(*b), opts, &h);
	if (r < 0)
		return r;
	memset((char *)b + sizeof(b->hdr), 0, sizeof(*b) - sizeof(b->hdr));
	b->parties = parties;
	sealshm__object_init_end(obj, SEALSHM_OBJECT_BARRIER, sizeof(*b), h);
	return 0;
}

SEALSHM_API int sealshm_barrier_init(struct sealshm_barrier *b, uint32_t parties,
				     const struct sealshm_opts *opts)
{
	sealshm__return_if_fail(b, -EINVAL);
	return sealshm__err(barrier_setup(b, parties, opts));
}

/* Arrive: the index, with *@ret_gen the generation joined and *@ret_last
 * set for the last party (which waits no more); or -EPIPE (broken),
 * -EINTR (before arriving: nothing to undo). */
static int arrive(struct bctx *x, uint32_t flags, uint32_t *ret_gen, bool *ret_last)
{
	struct barrier *b = x->b;
	int r;

	for (;;) {
		uint32_t w, c, parties;

		r = guard_lock(x);
		if (r < 0)
			return r;
		/* The last one first looks for parties that died waiting: it
		 * must not pass a generation one of them can never leave
		 * (its death may not have woken anyone yet). */
		if (ld(&b->count) + 1 == ld(&b->parties))
			tidy(x);
		w = ld(&b->word);
		c = ld(&b->count);
		parties = ld(&b->parties);
		if (w & WORD_BROKEN) {
			guard_unlock(x);
			return -EPIPE;
		}
		if (!(w & (WORD_RESETTING | WORD_ACTION)) && c < parties) {
			if (c + 1 == parties && !(flags & SEALSHM_BARRIER_ACTION)) {
				/* The last: release everyone.  The count
				 * goes first: a death between the two
				 * stores leaves an empty generation that the
				 * next holder breaks. */
				st(&b->count, 0);
				set_word(x, next_gen(w));
			} else {
				/* Entry first, then the count: a death
				 * between leaves an entry nobody counts. */
				st(&b->table[c], x->id);
				st(&b->count, c + 1);
				if (c + 1 == parties) {
					/* Sleepers have nothing to do yet:
					 * no wake-up. */
					st(&b->action_id, x->id);
					__atomic_store_n(&b->word, w | WORD_ACTION,
							 __ATOMIC_RELEASE);
				}
			}
			guard_unlock(x);
			*ret_gen = WORD_GEN(w);
			*ret_last = c + 1 == parties;
			return (int)c;
		}
		guard_unlock(x);
		if (!(w & (WORD_RESETTING | WORD_ACTION)))
			return -EBADMSG;	/* filling, yet full */
		/* An action or a reset is under way: wait for its end. */
		r = sleep_while(x, w, -1);
		if (r < 0)
			return r;
	}
}

/*
 * Time ran out, or a signal came (@why): unless the generation passed
 * meanwhile (*@ret = the index), leave it, breaking it on a timeout
 * (CPython).  Returns false when the waiter must wait on: every party is
 * in, and the pass will come (a timeout no longer breaks, as in CPython).
 */
static bool stop_waiting(struct bctx *x, uint32_t gen, int idx, int why, int *ret)
{
	struct barrier *b = x->b;
	uint32_t w;
	int r;

	r = guard_lock(x);
	if (r < 0) {
		*ret = r;
		return true;
	}
	w = ld(&b->word);
	if (WORD_GEN(w) != gen) {
		guard_unlock(x);
		*ret = idx;
		return true;
	}
	if (w & (WORD_BROKEN | WORD_RESETTING)) {
		why = -EPIPE;
	} else if (why == -ETIMEDOUT) {
		if (w & WORD_ACTION) {
			guard_unlock(x);
			return false;
		}
		do_break(x);
	}
	(void)table_remove_id(b, x->id);
	reset_done_if_empty(x);
	guard_unlock(x);
	*ret = why;
	return true;
}

static int barrier_wait(struct sealshm_barrier *obj, const struct timespec *timeout,
			uint32_t flags)
{
	struct bctx x;
	int64_t deadline;
	uint32_t gen;
	bool last;
	int idx, r;

	r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME | SEALSHM_BARRIER_ACTION,
			      &deadline);
	if (r < 0)
		return r;
	r = barrier_enter(obj, &x);
	if (r < 0)
		return r;
	idx = arrive(&x, flags, &gen, &last);
	if (idx < 0 || last)
		return idx;

	for (;;) {
		uint32_t w = __atomic_load_n(&x.b->word, __ATOMIC_ACQUIRE);

		if (WORD_GEN(w) != gen)
			return idx;
		if (w & (WORD_BROKEN | WORD_RESETTING))
			return leave(&x, -EPIPE);
		r = sleep_while(&x, w, (w & WORD_ACTION) ? -1 : deadline);
		if (r == -ETIMEDOUT || r == -EINTR) {
			if (stop_waiting(&x, gen, idx, r, &r))
				return r;
		} else if (r < 0) {
			return r;
		}
	}
}

SEALSHM_API int sealshm_barrier_wait(struct sealshm_barrier *b, const struct timespec *timeout,
				     uint32_t flags)
{
	sealshm__return_if_fail(b, -EINVAL);
	return sealshm__err(barrier_wait(b, timeout, flags));
}

/* The action ran: release the waiters.  -EPERM when this process runs no
 * action here; -EPIPE when the barrier broke or was reset meanwhile (the
 * waiters got -EPIPE). */
static int barrier_pass(struct sealshm_barrier *obj)
{
	struct bctx x;
	uint32_t w;
	int r;

	r = barrier_enter(obj, &x);
	if (r < 0)
		return r;
	r = guard_lock(&x);
	if (r < 0)
		return r;
	tidy(&x);
	w = ld(&x.b->word);
	if (ld(&x.b->action_id) != x.id) {
		r = -EPERM;
	} else if (w & WORD_ACTION) {
		st(&x.b->count, 0);
		st(&x.b->action_id, 0);
		set_word(&x, next_gen(w));
	} else {
		(void)table_remove_id(x.b, x.id);
		st(&x.b->action_id, 0);
		reset_done_if_empty(&x);
		r = -EPIPE;
	}
	guard_unlock(&x);
	return r;
}

SEALSHM_API int sealshm_barrier_pass(struct sealshm_barrier *b)
{
	sealshm__return_if_fail(b, -EINVAL);
	return sealshm__err(barrier_pass(b));
}

/* Break it: waiters now and arrivals until a reset get -EPIPE.  The last
 * arriver aborting its action also leaves. */
static int barrier_abort(struct sealshm_barrier *obj)
{
	struct bctx x;
	uint32_t w;
	int r;

	r = barrier_enter(obj, &x);
	if (r < 0)
		return r;
	r = guard_lock(&x);
	if (r < 0)
		return r;
	tidy(&x);
	w = ld(&x.b->word);
	if ((w & WORD_FLAGS) != WORD_BROKEN)
		do_break(&x);
	if (ld(&x.b->action_id) == x.id) {
		(void)table_remove_id(x.b, x.id);
		st(&x.b->action_id, 0);
	}
	guard_unlock(&x);
	return 0;
}

SEALSHM_API int sealshm_barrier_abort(struct sealshm_barrier *b)
{
	sealshm__return_if_fail(b, -EINVAL);
	return sealshm__err(barrier_abort(b));
}

/* CPython's reset(): with parties in, they get -EPIPE and new arrivals
 * wait until they have left; else back to a fresh generation now. */
static int barrier_reset(struct sealshm_barrier *obj)
{
	struct bctx x;
	uint32_t w;
	int r;

	r = barrier_enter(obj, &x);
	if (r < 0)
		return r;
	r = guard_lock(&x);
	if (r < 0)
		return r;
	tidy(&x);
	w = ld(&x.b->word);
	if (w & WORD_RESETTING)
		;	/* already draining */
	else if (ld(&x.b->count) > 0)
		set_word(&x, (w & ~(WORD_BROKEN | WORD_ACTION)) | WORD_RESETTING);
	else if (w & WORD_FLAGS) {
		st(&x.b->action_id, 0);
		set_word(&x, next_gen(w));
	}
	guard_unlock(&x);
	return 0;
}

SEALSHM_API int sealshm_barrier_reset(struct sealshm_barrier *b)
{
	sealshm__return_if_fail(b, -EINVAL);
	return sealshm__err(barrier_reset(b));
}

SEALSHM_API int sealshm_barrier_parties(struct sealshm_barrier *b)
{
	struct bctx x;
	int r;

	sealshm__return_if_fail(b, -EINVAL);
	r = barrier_enter(b, &x);
	return sealshm__err(r < 0 ? r : (int)ld(&x.b->parties));
}

/* CPython: the parties waiting in the current generation, 0 while it is
 * broken or being reset. */
SEALSHM_API int sealshm_barrier_n_waiting(struct sealshm_barrier *b)
{
	struct bctx x;
	int r;

	sealshm__return_if_fail(b, -EINVAL);
	r = barrier_enter(b, &x);
	if (r < 0)
		return sealshm__err(r);
	if (__atomic_load_n(&x.b->word, __ATOMIC_ACQUIRE) & (WORD_BROKEN | WORD_RESETTING))
		return 0;
	return (int)ld(&x.b->count);
}

SEALSHM_API int sealshm_barrier_broken(struct sealshm_barrier *b)
{
	struct bctx x;
	int r;

	sealshm__return_if_fail(b, -EINVAL);
	r = barrier_enter(b, &x);
	if (r < 0)
		return sealshm__err(r);
	return !!(__atomic_load_n(&x.b->word, __ATOMIC_ACQUIRE) & WORD_BROKEN);
}

/* sealshm_object_create(): a barrier of params->parties. */
static int barrier_type_init(void *obj, const struct sealshm_object_params *params,
			     const struct sealshm_opts *opts)
{
	if (params->flags || params->value || params->max)
		return -EINVAL;
	return barrier_setup(obj, params->parties, opts);
}

static void barrier_type_info(const void *obj, const struct sealshm__holder *h,
			      struct sealshm_object_info *info)
{
	const struct barrier *b = obj;
	uint32_t w = __atomic_load_n(&b->word, __ATOMIC_ACQUIRE);
	uint32_t count = ld(&b->count), parties = ld(&b->parties);

	(void)h;
	if (count > parties)
		count = parties;
	info->waiters = count;
	info->value = (w & (WORD_BROKEN | WORD_RESETTING)) ? 0 : count;
	info->max = parties;
	if (w & WORD_BROKEN)
		info->flags |= SEALSHM_OBJECT_BROKEN;
}

const struct sealshm__type sealshm__barrier_type = {
	.type = SEALSHM_OBJECT_BARRIER,
	.size = sizeof(struct barrier),
	.name = "barrier",
	.init = barrier_type_init,
	.info = barrier_type_info,
};

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Event in shared memory (sealshm_event(3)): multiprocessing.Event.
 *
 * One state word, the flag and a generation; wait() sleeps on it
 * (FUTEX_WAIT on the value it saw clear) and set() wakes all sleepers,
 * only when the count of waiters says there are some, so a set() with
 * nobody waiting is one compare-and-swap and one load.  A waiter returns
 * once the flag is set or the generation moved: set() moves it, so a
 * waiter that a set() woke returns 0 even when a clear() came first (as
 * threading.Event's wait() returns True then).
 *
 * Death: no process holds an Event.  A setter killed between its store
 * and its FUTEX_WAKE delays the sleepers until trackerd saw it die (they
 * also sleep on the death epoch); a waiter killed while counted stays
 * counted, which costs each later set() one FUTEX_WAKE with nobody to
 * wake, and nothing else.
 */
#include <limits.h>

#include "event.h"
#include "internal.h"

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)

static inline struct sealshm__event *event_of(struct sealshm_event *e)
{
	return (struct sealshm__event *)e;
}

static int event_enter(struct sealshm_event *ev, struct sealshm__event **ret_e,
		       const struct sealshm__holder **ret_h)
{
	struct sealshm__event *e = event_of(ev);
	int r;

	r = sealshm__object_enter(e, SEALSHM_OBJECT_EVENT, sizeof(*e), ret_h);
	if (r < 0)
		return r;
	if (LOAD(&e->__reserved) != 0)
		return -EBADMSG;
	*ret_e = e;
	return 0;
}

static int event_init(struct sealshm__event *e, const struct sealshm_opts *opts)
{
	const struct sealshm__holder *h;
	int r;

	r = sealshm__object_init_begin(e, sizeof(*e), opts, &h);
	if (r < 0)
		return r;
	memset((char *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	sealshm__object_init_end(e, SEALSHM_OBJECT_EVENT, sizeof(*e), h);
	return 0;
}

int sealshm_event_init(struct sealshm_event *ev, const struct sealshm_opts *opts)
{
	return sealshm__err(event_init(event_of(ev), opts));
}

int sealshm_event_set(struct sealshm_event *ev)
{
	const struct sealshm__holder *h;
	struct sealshm__event *e;
	uint32_t w;
	int r;

	r = event_enter(ev, &e, &h);
	if (r < 0)
		return sealshm__err(r);
	w = LOAD(&e->state);
	do {
		if (w & SEALSHM__EVENT_SET)
			return 0;
	} while (!__atomic_compare_exchange_n(&e->state, &w,
					      (w + SEALSHM__EVENT_GEN_ONE) | SEALSHM__EVENT_SET,
					      false, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
	/* After the store (both sequentially consistent): a waiter counted
	 * too late for us to see has its FUTEX_WAIT fail on the new word. */
	if (__atomic_load_n(&e->waiters, __ATOMIC_SEQ_CST) > 0)
		(void)sealshm__object_wake(&e->state, INT_MAX);
	return 0;
}

int sealshm_event_clear(struct sealshm_event *ev)
{
	const struct sealshm__holder *h;
	struct sealshm__event *e;
	int r;

	r = event_enter(ev, &e, &h);
	if (r < 0)
		return sealshm__err(r);
	if (LOAD(&e->state) & SEALSHM__EVENT_SET)
		__atomic_fetch_and(&e->state, ~SEALSHM__EVENT_SET, __ATOMIC_RELEASE);
	return 0;
}

int sealshm_event_is_set(struct sealshm_event *ev)
{
	const struct sealshm__holder *h;
	struct sealshm__event *e;
	int r;

	r = event_enter(ev, &e, &h);
	if (r < 0)
		return sealshm__err(r);
	return LOAD(&e->state) & SEALSHM__EVENT_SET ? 1 : 0;
}

/* Set, or set since the generation @gen was seen clear. */
static inline bool event_done(uint32_t w, uint32_t gen)
{
	return (w & SEALSHM__EVENT_SET) || (w >> 1) != gen;
}

int sealshm_event_wait(struct sealshm_event *ev, const struct timespec *timeout, uint32_t flags)
{
	const struct sealshm__holder *h;
	struct sealshm__event *e;
	int64_t deadline;
	uint32_t w, gen;
	int r;

	r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
	if (r < 0)
		return sealshm__err(r);
	r = event_enter(ev, &e, &h);
	if (r < 0)
		return sealshm__err(r);
	w = LOAD(&e->state);
	if (w & SEALSHM__EVENT_SET)
		return 0;
	gen = w >> 1;
	/* Counted before the last look at the state: see set(). */
	__atomic_fetch_add(&e->waiters, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t epoch = sealshm__holder_epoch(h);

		w = __atomic_load_n(&e->state, __ATOMIC_SEQ_CST);
		if (event_done(w, gen)) {
			r = 0;
			break;
		}
		r = sealshm__object_wait(&e->state, w, h, epoch, deadline);
		if (r < 0) {
			if (event_done(LOAD(&e->state), gen))
				r = 0;
			break;
		}
	}
	__atomic_fetch_sub(&e->waiters, 1, __ATOMIC_SEQ_CST);
	return sealshm__err(r);
}

/* --- objects.c's view ------------------------------------------------------ */

static int event_type_init(void *obj, const struct sealshm_object_params *params,
			   const struct sealshm_opts *opts)
{
	/* An Event takes none of the parameters. */
	if (params->flags || params->value || params->max || params->parties)
		return -EINVAL;
	return event_init(obj, opts);
}

static void event_type_info(const void *obj, const struct sealshm__holder *h,
			    struct sealshm_object_info *info)
{
	const struct sealshm__event *e = obj;

	(void)h;
	info->waiters = LOAD(&e->waiters);
	if (LOAD(&e->state) & SEALSHM__EVENT_SET)
		info->flags |= SEALSHM_OBJECT_SET;
}

const struct sealshm__type sealshm__event_type = {
	.type = SEALSHM_OBJECT_EVENT,
	.size = sizeof(struct sealshm_event),
	.name = "event",
	.init = event_type_init,
	.info = event_type_info,
};

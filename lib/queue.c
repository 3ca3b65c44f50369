// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Queues in shared memory (sealshm_queue(3)): multiprocessing's Queue and
 * JoinableQueue, bounded, in a segment of their own.  Layout in queue.h;
 * layout and rules in Documentation/objects.md ("Queues").
 *
 * A ring of slots with two tickets, tail (the next put's) and head (the
 * next get's).  Ticket t uses slot t % capacity in lap t / capacity.  Each
 * slot has one 64-bit state word, lap | state | holder id, changed only
 * whole by compare-and-swap, so a process that dies at any instruction
 * leaves it as it was or changed whole:
 *
 *   FREE(lap) -put-> WRITING(lap, H) -put-> FULL(lap)
 *             -get-> READING(lap, H) -get-> FREE(lap + 1)
 *
 * A put takes its slot first (FREE -> WRITING by its holder id), and only
 * then moves tail past its ticket; a get likewise takes FULL -> READING,
 * then moves head.  Moving a ticket is one compare-and-swap that anyone
 * who sees the slot taken does too, so a process that dies between the
 * two steps leaves nothing half done.  A slot WRITING or READING by a
 * holder that no longer lives (the liveness segment, object.h) is taken
 * over: a dead writer's message is skipped by the get that reaches it, a
 * dead reader's slot is freed by whoever needs it; each loses that one
 * message.  Nobody else ever writes a slot another process holds, so a
 * message is never torn, and a FULL slot is taken by exactly one
 * compare-and-swap, so it is never got twice.
 *
 * Sleepers sleep on a sequence word (items for getters, space for putters
 * and joiners) and on the death epoch, counted in a waiter count that the
 * wakers read after changing the sequence (sequentially consistent on both
 * sides).  Nothing here trusts the shared header after attach: the handle
 * keeps a checked copy of the geometry, and every slot index is a ticket
 * modulo that copy's capacity.
 */
#include <limits.h>

#include "internal.h"
#include "object.h"
#include "queue.h"

#define HDR_SIZE	SEALSHM__QUEUE_HDR_SIZE
#define SLOT_HDR	SEALSHM__QUEUE_SLOT_HDR
#define PARAM_FLAGS	SEALSHM_QUEUE_JOINABLE

#define FREE		SEALSHM__QSLOT_FREE
#define WRITING		SEALSHM__QSLOT_WRITING
#define FULL		SEALSHM__QSLOT_FULL
#define READING		SEALSHM__QSLOT_READING
#define SLOT(l, s, id)	SEALSHM__QSLOT(l, s, id)
#define LAP(w)		SEALSHM__QSLOT_LAP(w)
#define STATE(w)	SEALSHM__QSLOT_STATE(w)
#define HOLDER(w)	SEALSHM__QSLOT_HOLDER(w)

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define SUB(p, v)	__atomic_fetch_sub((p), (v), __ATOMIC_SEQ_CST)

struct sealshm_queue {
	/* The checked geometry: what every access uses. */
	struct sealshm__queue_hdr *hdr;
	unsigned char *ring;
	uint32_t capacity;
	uint32_t slot_size;
	uint32_t stride;
	uint32_t flags;
	struct sealshm *shm;
};

static inline bool cas(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

static inline bool cas32(uint32_t *p, uint32_t *expected, uint32_t desired)
{
	return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

/* --- geometry --------------------------------------------------------------- */

static uint32_t stride_of(uint32_t slot_size)
{
	return SLOT_HDR + ((slot_size + 7u) & ~7u);
}

/* Bytes of a queue of @capacity slots of @slot_size (both checked):
 * -EOVERFLOW when it cannot be mapped. */
static int total_of(uint32_t capacity, uint32_t slot_size, size_t *ret)
{
	uint64_t ring;

	if (__builtin_mul_overflow((uint64_t)capacity, (uint64_t)stride_of(slot_size), &ring) ||
	    ring > PTRDIFF_MAX - HDR_SIZE)
		return -EOVERFLOW;
	*ret = (size_t)(HDR_SIZE + ring);
	return 0;
}

static bool geometry_ok(uint32_t capacity, uint32_t slot_size, uint32_t flags)
{
	return capacity >= 1 && capacity <= SEALSHM_QUEUE_CAPACITY_MAX && slot_size >= 1 &&
	       slot_size <= SEALSHM_QUEUE_SLOT_SIZE_MAX && !(flags & ~PARAM_FLAGS);
}

static inline struct sealshm__queue_slot *slot_of(const struct sealshm_queue *q, uint64_t t)
{
	return (struct sealshm__queue_slot *)(q->ring + (size_t)(t % q->capacity) * q->stride);
}

static inline uint32_t lap_of(const struct sealshm_queue *q, uint64_t t)
{
	return (uint32_t)(t / q->capacity);
}

/* --- entering --------------------------------------------------------------- */

static int queue_enter(struct sealshm_queue *q, const struct sealshm__holder **ret_h,
		       uint32_t *ret_id)
{
	int r = sealshm__object_enter(q->hdr, SEALSHM_OBJECT_QUEUE, HDR_SIZE, ret_h);

	if (r < 0)
		return r;
	*ret_id = __atomic_load_n(&(*ret_h)->id, __ATOMIC_RELAXED);
	return *ret_id ? 0 : -ENXIO;
}

/* Whether the slot word @w holds a holder id that no longer lives (0 and
 * ids out of range included: a corrupt one is no live holder). */
static inline bool holder_dead(const struct sealshm__holder *h, uint64_t w)
{
	return !sealshm__holder_alive(h, HOLDER(w));
}

/* --- tickets ---------------------------------------------------------------- */

/* Move tail past ticket @t, whose slot a put has taken (if tail is still
 * @t: whoever sees it taken does it, the put itself included). */
static inline void tail_pass(struct sealshm__queue_hdr *hdr, uint64_t t)
{
	uint64_t x = t;

	(void)cas(&hdr->tail, &x, t + 1);
}

/* Move head past ticket @t, whose slot a get has taken; tail first, so
 * that head never passes tail (the put of @t may have died before moving
 * it). */
static inline void head_pass(struct sealshm__queue_hdr *hdr, uint64_t t)
{
	uint64_t x = t;

	tail_pass(hdr, t);
	(void)cas(&hdr->head, &x, t + 1);
}

/*
 * Tail and head as they were at one instant (head was read between two
 * equal reads of tail), each first moved past a slot taken whose mover
 * died or has not moved it yet.  -EBADMSG when they make no sense.
 */
static int tickets(const struct sealshm_queue *q, uint64_t *ret_tail, uint64_t *ret_head)
{
	struct sealshm__queue_hdr *hdr = q->hdr;

	for (;;) {
		uint64_t t = LOAD(&hdr->tail), h, w;

		w = LOAD(&slot_of(q, t)->state);
		if (LAP(w) == lap_of(q, t) && STATE(w) != FREE) {
			tail_pass(hdr, t);
			continue;
		}
		h = LOAD(&hdr->head);
		w = LOAD(&slot_of(q, h)->state);
		if (LAP(w) == lap_of(q, h) && STATE(w) == READING) {
			head_pass(hdr, h);
			continue;
		}
		if (LOAD(&hdr->tail) != t)
			continue;
		if (h > t || t - h > q->capacity)
			return -EBADMSG;
		*ret_tail = t;
		*ret_head = h;
		return 0;
	}
}

/* --- waking ----------------------------------------------------------------- */

/* A message was published: wake a getter if any sleeps. */
static void wake_items(struct sealshm__queue_hdr *hdr)
{
	ADD(&hdr->items, 1);
	if (LOAD(&hdr->get_waiters) > 0)
		(void)sealshm__object_wake(&hdr->items, 1);
}

/* A slot was freed or the last task done: wake a putter, and every
 * joiner (they look at the whole queue). */
static void wake_space(struct sealshm__queue_hdr *hdr)
{
	ADD(&hdr->space, 1);
	if (LOAD(&hdr->join_waiters) > 0)
		(void)sealshm__object_wake(&hdr->space, INT_MAX);
	else if (LOAD(&hdr->put_waiters) > 0)
		(void)sealshm__object_wake(&hdr->space, 1);
}

/* Free @s, READING in lap @lap by a holder that died (@w): its message
 * is lost with it.  Head has passed it already: only a get moves a slot
 * to READING, and READING slots at head are passed by whoever sees them. */
static void free_dead_reader(struct sealshm__queue_hdr *hdr, struct sealshm__queue_slot *s,
			     uint64_t w, uint32_t lap)
{
	if (cas(&s->state, &w, SLOT(lap + 1, FREE, 0)))
		wake_space(hdr);
}

/* --- put -------------------------------------------------------------------- */

/* One look at the slot of tail: 1 put, 0 look again, -EAGAIN full,
 * -EPIPE, -EBADMSG. */
static int put_once(struct sealshm_queue *q, const struct sealshm__holder *h, uint32_t id,
		    const void *msg, size_t len)
{
	struct sealshm__queue_hdr *hdr = q->hdr;
	uint64_t t = LOAD(&hdr->tail);
	struct sealshm__queue_slot *s = slot_of(q, t);
	uint32_t lap = lap_of(q, t);
	uint64_t w = LOAD(&s->state), mine;
	int32_t d = (int32_t)(LAP(w) - lap);

	if (LOAD(&hdr->shutdown))
		return -EPIPE;
	if (d == 0 && STATE(w) == FREE) {
		if (HOLDER(w) != 0)
			return -EBADMSG;
		mine = SLOT(lap, WRITING, id);
		if (!cas(&s->state, &w, mine))
			return 0;
		tail_pass(hdr, t);
		if (len)
			memcpy(s->data, msg, len);
		__atomic_store_n(&s->len, (uint32_t)len, __ATOMIC_RELAXED);
		/* Published with the message: a get that sees FULL sees them. */
		if (!cas(&s->state, &mine, SLOT(lap, FULL, 0)))
			/* Taken over from under a live holder: this process
			 * is not its trackerd's any more, or memory is
			 * corrupt.  The message is lost. */
			return -EBADMSG;
		wake_items(hdr);
		return 1;
	}
	if (d == 0) {
		/* Taken by a put that has not moved tail (yet). */
		tail_pass(hdr, t);
		return 0;
	}
	if (d == -1) {
		/* Still the previous lap's: full, unless its reader died. */
		if (STATE(w) == READING && holder_dead(h, w)) {
			free_dead_reader(hdr, s, w, lap - 1);
			return 0;
		}
		if (STATE(w) == FREE)
			return -EBADMSG;
		return -EAGAIN;
	}
	/* Another lap: tail moved meanwhile, or the slot is corrupt. */
	return LOAD(&hdr->tail) == t ? -EBADMSG : 0;
}

/* Whether a slot may be free for a put at tail (for a putter that leaves
 * without putting, to hand a wake-up on). */
static bool room_now(const struct sealshm_queue *q)
{
	uint64_t t = LOAD(&q->hdr->tail), w = LOAD(&slot_of(q, t)->state);

	return LAP(w) == lap_of(q, t) && STATE(w) == FREE;
}

static int queue_put(struct sealshm_queue *q, const void *msg, size_t len, bool try,
		     const struct timespec *timeout, uint32_t flags)
{
	struct sealshm__queue_hdr *hdr;
	const struct sealshm__holder *h;
	bool counted = false;
	int64_t deadline = -1;
	uint32_t id;
	int r;

	if (!q || (!msg && len))
		return -EINVAL;
	if (!try) {
		r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
		if (r < 0)
			return r;
	}
	r = queue_enter(q, &h, &id);
	if (r < 0)
		return r;
	if (len > q->slot_size)
		return -EMSGSIZE;
	hdr = q->hdr;
	for (;;) {
		/* The epoch before any liveness check, the sequence before
		 * the look: a death or a free after them ends the sleep. */
		uint32_t epoch = sealshm__holder_epoch(h);
		uint32_t seq = LOAD(&hdr->space);

		r = put_once(q, h, id, msg, len);
		if (r == 1) {
			r = 0;
			break;
		}
		if (r == 0)
			continue;
		if (r != -EAGAIN || try)
			break;
		if (!counted) {
			/* Counted before the next look (see wake_space()). */
			ADD(&hdr->put_waiters, 1);
			counted = true;
			continue;
		}
		r = sealshm__object_wait(&hdr->space, seq, h, epoch, deadline);
		if (r < 0)
			break;
	}
	if (counted) {
		SUB(&hdr->put_waiters, 1);
		/* A wake-up this sleeper took but does not use goes on. */
		if (r < 0 && LOAD(&hdr->put_waiters) > 0 && room_now(q))
			(void)sealshm__object_wake(&hdr->space, 1);
	}
	return r;
}

int sealshm_queue_put(struct sealshm_queue *q, const void *msg, size_t len,
		      const struct timespec *timeout, uint32_t flags)
{
	return sealshm__err(queue_put(q, msg, len, false, timeout, flags));
}

int sealshm_queue_tryput(struct sealshm_queue *q, const void *msg, size_t len)
{
	return sealshm__err(queue_put(q, msg, len, true, NULL, 0));
}

/* --- get -------------------------------------------------------------------- */

/* One look at the slot of head: 1 got (*@ret_len), 0 look again, -EAGAIN
 * empty, -EPIPE (shut down and empty), -EMSGSIZE (*@ret_len), -EBADMSG. */
static int get_once(struct sealshm_queue *q, const struct sealshm__holder *h, uint32_t id,
		    void *buf, size_t len, size_t *ret_len)
{
	struct sealshm__queue_hdr *hdr = q->hdr;
	uint64_t t = LOAD(&hdr->head);
	struct sealshm__queue_slot *s = slot_of(q, t);
	uint32_t lap = lap_of(q, t), n;
	uint64_t w = LOAD(&s->state), mine;
	int32_t d = (int32_t)(LAP(w) - lap);

	if (d == 0 && STATE(w) == FULL) {
		if (HOLDER(w) != 0)
			return -EBADMSG;
		/* Written before FULL was published; nobody writes it
		 * again before the slot is FREE. */
		n = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
		if (n > q->slot_size)
			return -EBADMSG;
		if (n > len) {
			*ret_len = n;
			return -EMSGSIZE;
		}
		mine = SLOT(lap, READING, id);
		if (!cas(&s->state, &w, mine))
			return 0;
		head_pass(hdr, t);
		if (n)
			memcpy(buf, s->data, n);
		/* Counted before the slot is freed: a joiner that finds the
		 * slot free finds the count (see queue_join()). */
		if (q->flags & SEALSHM_QUEUE_JOINABLE)
			ADD(&hdr->outstanding, 1);
		if (!cas(&s->state, &mine, SLOT(lap + 1, FREE, 0))) {
			/* Taken over from under a live holder (see put_once()):
			 * the copy may be torn, so it is not returned. */
			if (q->flags & SEALSHM_QUEUE_JOINABLE)
				SUB(&hdr->outstanding, 1);
			return -EBADMSG;
		}
		wake_space(hdr);
		*ret_len = n;
		return 1;
	}
	if (d == 0 && STATE(w) == WRITING) {
		if (!holder_dead(h, w))
			return -EAGAIN;
		/* Its put died: take the slot, pass it, free it. */
		mine = SLOT(lap, READING, id);
		if (!cas(&s->state, &w, mine))
			return 0;
		head_pass(hdr, t);
		if (cas(&s->state, &mine, SLOT(lap + 1, FREE, 0)))
			wake_space(hdr);
		return 0;
	}
	if (d == 0 && STATE(w) == READING) {
		head_pass(hdr, t);
		return 0;
	}
	if (d == 0 || d == -1) {
		/* FREE in this lap, or still the previous lap's (READING:
		 * FULL and WRITING are passed by head already): ticket t is
		 * not taken, the queue is empty. */
		if (d == -1) {
			if (STATE(w) != READING)
				return -EBADMSG;
			if (holder_dead(h, w)) {
				free_dead_reader(hdr, s, w, lap - 1);
				return 0;
			}
		} else if (HOLDER(w) != 0) {
			return -EBADMSG;
		}
		return LOAD(&hdr->shutdown) ? -EPIPE : -EAGAIN;
	}
	return LOAD(&hdr->head) == t ? -EBADMSG : 0;
}

/* Whether the slot of head holds a message (for a getter that leaves
 * without one, to hand a wake-up on). */
static bool message_now(const struct sealshm_queue *q)
{
	uint64_t t = LOAD(&q->hdr->head), w = LOAD(&slot_of(q, t)->state);

	return LAP(w) == lap_of(q, t) && STATE(w) == FULL;
}

static int queue_get(struct sealshm_queue *q, void *buf, size_t len, size_t *ret_len, bool try,
		     const struct timespec *timeout, uint32_t flags)
{
	struct sealshm__queue_hdr *hdr;
	const struct sealshm__holder *h;
	bool counted = false;
	int64_t deadline = -1;
	size_t n = 0;
	uint32_t id;
	int r;

	if (!q || !ret_len || (!buf && len))
		return -EINVAL;
	if (!try) {
		r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
		if (r < 0)
			return r;
	}
	r = queue_enter(q, &h, &id);
	if (r < 0)
		return r;
	hdr = q->hdr;
	for (;;) {
		uint32_t epoch = sealshm__holder_epoch(h);
		uint32_t seq = LOAD(&hdr->items);

		r = get_once(q, h, id, buf, len, &n);
		if (r == 1) {
			r = 0;
			break;
		}
		if (r == 0)
			continue;
		if (r != -EAGAIN || try)
			break;
		if (!counted) {
			/* Counted before the next look (see wake_items()). */
			ADD(&hdr->get_waiters, 1);
			counted = true;
			continue;
		}
		r = sealshm__object_wait(&hdr->items, seq, h, epoch, deadline);
		if (r < 0)
			break;
	}
	if (counted) {
		SUB(&hdr->get_waiters, 1);
		if (r < 0 && LOAD(&hdr->get_waiters) > 0 && message_now(q))
			(void)sealshm__object_wake(&hdr->items, 1);
	}
	if (r == 0 || r == -EMSGSIZE)
		*ret_len = n;
	return r;
}

int sealshm_queue_get(struct sealshm_queue *q, void *buf, size_t len, size_t *ret_len,
		      const struct timespec *timeout, uint32_t flags)
{
	return sealshm__err(queue_get(q, buf, len, ret_len, false, timeout, flags));
}

int sealshm_queue_tryget(struct sealshm_queue *q, void *buf, size_t len, size_t *ret_len)
{
	return sealshm__err(queue_get(q, buf, len, ret_len, true, NULL, 0));
}

/* --- size, shutdown --------------------------------------------------------- */

static int queue_size(struct sealshm_queue *q)
{
	const struct sealshm__holder *h;
	uint64_t t, hd;
	uint32_t id;
	int r;

	if (!q)
		return -EINVAL;
	r = queue_enter(q, &h, &id);
	if (r < 0)
		return r;
	r = tickets(q, &t, &hd);
	return r < 0 ? r : (int)(t - hd);
}

int sealshm_queue_size(struct sealshm_queue *q)
{
	return sealshm__err(queue_size(q));
}

int sealshm_queue_empty(struct sealshm_queue *q)
{
	int r = queue_size(q);

	return sealshm__err(r < 0 ? r : r == 0);
}

int sealshm_queue_full(struct sealshm_queue *q)
{
	int r = queue_size(q);

	return sealshm__err(r < 0 ? r : (uint32_t)r >= q->capacity);
}

int sealshm_queue_shutdown(struct sealshm_queue *q)
{
	const struct sealshm__holder *h;
	uint32_t id;
	int r;

	sealshm__return_if_fail(q, -EINVAL);
	r = queue_enter(q, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	if (__atomic_exchange_n(&q->hdr->shutdown, 1, __ATOMIC_SEQ_CST))
		return 0;
	/* After the flag: a sleeper that looked before it has its wait
	 * fail on the moved sequence, or is woken. */
	ADD(&q->hdr->items, 1);
	ADD(&q->hdr->space, 1);
	(void)sealshm__object_wake(&q->hdr->items, INT_MAX);
	(void)sealshm__object_wake(&q->hdr->space, INT_MAX);
	return 0;
}

/* --- task_done, join -------------------------------------------------------- */

int sealshm_queue_task_done(struct sealshm_queue *q)
{
	const struct sealshm__holder *h;
	uint32_t id, o;
	int r;

	sealshm__return_if_fail(q, -EINVAL);
	sealshm__return_if_fail(q->flags & SEALSHM_QUEUE_JOINABLE, -EINVAL);
	r = queue_enter(q, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	o = LOAD(&q->hdr->outstanding);
	do {
		if (o == 0)
			return sealshm__err(-EOVERFLOW);
	} while (!cas32(&q->hdr->outstanding, &o, o - 1));
	if (o == 1)
		wake_space(q->hdr);
	return 0;
}

/* Whether some live get is copying a message out (O(capacity)). */
static bool live_reader(const struct sealshm_queue *q, const struct sealshm__holder *h)
{
	for (uint32_t i = 0; i < q->capacity; i++) {
		uint64_t w = LOAD(&slot_of(q, i)->state);

		if (STATE(w) == READING && !holder_dead(h, w))
			return true;
	}
	return false;
}

/*
 * Done when, in this order: the queue is empty (tail == head), no live
 * get is between taking a slot and freeing it, and no message got waits
 * for its task_done().  A get counts its message (outstanding) before it
 * frees its slot, so a joiner that finds the slot free finds the count,
 * and one that finds it READING waits.
 */
static int join_done(struct sealshm_queue *q, const struct sealshm__holder *h)
{
	uint64_t t, hd;
	int r = tickets(q, &t, &hd);

	if (r < 0)
		return r;
	if (t != hd || live_reader(q, h))
		return 0;
	return LOAD(&q->hdr->outstanding) == 0;
}

int sealshm_queue_join(struct sealshm_queue *q, const struct timespec *timeout, uint32_t flags)
{
	struct sealshm__queue_hdr *hdr;
	const struct sealshm__holder *h;
	bool counted = false;
	int64_t deadline;
	uint32_t id;
	int r;

	sealshm__return_if_fail(q, -EINVAL);
	sealshm__return_if_fail(q->flags & SEALSHM_QUEUE_JOINABLE, -EINVAL);
	r = sealshm__deadline(timeout, flags, SEALSHM_WAIT_ABSTIME, &deadline);
	if (r < 0)
		return sealshm__err(r);
	r = queue_enter(q, &h, &id);
	if (r < 0)
		return sealshm__err(r);
	hdr = q->hdr;
	for (;;) {
		uint32_t epoch = sealshm__holder_epoch(h);
		uint32_t seq = LOAD(&hdr->space);

		r = join_done(q, h);
		if (r != 0)
			break;
		if (!counted) {
			ADD(&hdr->join_waiters, 1);
			counted = true;
			continue;
		}
		r = sealshm__object_wait(&hdr->space, seq, h, epoch, deadline);
		if (r < 0)
			break;
	}
	if (counted)
		SUB(&hdr->join_waiters, 1);
	return sealshm__err(r < 0 ? r : 0);
}

/* --- creating and attaching ------------------------------------------------- */

/* The geometry a header copied out of shared memory describes, checked
 * whole against the @len bytes mapped: -EBADMSG on anything this library
 * would not have written. */
static int header_check(const struct sealshm__queue_hdr *c, size_t len)
{
	size_t total;

	for (size_t i = 0; i < ELEMENTSOF(c->__reserved0); i++)
		if (c->__reserved0[i] != 0)
			return -EBADMSG;
	if (!geometry_ok(c->capacity, c->slot_size, c->flags) ||
	    c->slot_stride != stride_of(c->slot_size) || c->ring_offset != HDR_SIZE ||
	    total_of(c->capacity, c->slot_size, &total) < 0 || total > len)
		return -EBADMSG;
	return 0;
}

/* A handle on the queue of @shm (which it takes on success). */
static int queue_open(struct sealshm *shm, const struct sealshm_opts *opts,
		      struct sealshm_queue **ret)
{
	void *mem = sealshm_buf(shm);
	size_t len = sealshm_size(shm), total;
	const struct sealshm__holder *h;
	struct sealshm__queue_hdr c;
	struct sealshm_queue *q;
	unsigned char *ring;
	uint32_t type;
	size_t size;
	int r;

	r = sealshm__object_check(mem, len, &type, &size);
	if (r < 0)
		return r;
	if (type != SEALSHM_OBJECT_QUEUE || size != HDR_SIZE)
		return -EBADMSG;
	/* A copy, taken after the magic's acquire load: only the copy's
	 * geometry is used from here on. */
	memcpy(&c, mem, offsetof(struct sealshm__queue_hdr, tail));
	r = header_check(&c, len);
	if (r < 0)
		return r;
	(void)total_of(c.capacity, c.slot_size, &total);
	ring = (unsigned char *)mem + HDR_SIZE;
	/* Every call writes the header and the slots. */
	r = sealshm__object_writable(ring, 4);
	if (r == 0)
		r = sealshm__object_writable((unsigned char *)mem + total - 4, 4);
	if (r < 0)
		return r;
	if (opts) {
		r = sealshm__holder_get(opts, &h);
		if (r < 0)
			return r;
	}
	r = sealshm__object_enter(mem, SEALSHM_OBJECT_QUEUE, HDR_SIZE, &h);
	if (r < 0)
		return r;

	q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	*q = (struct sealshm_queue){
		.hdr = mem,
		.ring = ring,
		.capacity = c.capacity,
		.slot_size = c.slot_size,
		.stride = c.slot_stride,
		.flags = c.flags,
		.shm = shm,
	};
	*ret = q;
	return 0;
}

int sealshm_queue_create(const char *name, const struct sealshm_queue_params *params,
			 const struct sealshm_opts *opts, struct sealshm_queue **ret)
{
	struct sealshm *shm = NULL;
	struct sealshm__queue_hdr *hdr;
	const struct sealshm__holder *h;
	uint32_t capacity, slot_size, flags;
	size_t total;
	int r;

	sealshm__return_if_fail(params && ret, -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(params, sealshm_queue_params), -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(OPTS_GET(params, __pad, 0) == 0, -EINVAL);
	capacity = OPTS_GET(params, capacity, 0);
	slot_size = OPTS_GET(params, slot_size, 0);
	flags = OPTS_GET(params, flags, 0);
	sealshm__return_if_fail(geometry_ok(capacity, slot_size, flags), -EINVAL);
	if (OPTS_GET(params, max_bytes, 0) != 0)
		return sealshm__err(-EOPNOTSUPP);
	r = total_of(capacity, slot_size, &total);
	if (r < 0)
		return sealshm__err(r);

	r = sealshm_create(name, total, opts, &shm);
	if (r < 0)
		return sealshm__err(r);
	hdr = sealshm_buf(shm);
	/* A new segment is zeroed: every slot is FREE in lap 0. */
	r = sealshm__object_init_begin(hdr, HDR_SIZE, opts, &h);
	if (r == 0) {
		hdr->capacity = capacity;
		hdr->slot_size = slot_size;
		hdr->slot_stride = stride_of(slot_size);
		hdr->flags = flags;
		hdr->ring_offset = HDR_SIZE;
		sealshm__object_init_end(hdr, SEALSHM_OBJECT_QUEUE, HDR_SIZE, h);
		r = queue_open(shm, NULL, ret);
	}
	if (r < 0) {
		/* Nothing left behind: the name goes with the handle. */
		(void)sealshm_unlink(shm);
		(void)sealshm_close(shm);
		return sealshm__err(r);
	}
	return 0;
}

int sealshm_queue_attach(const char *name, const struct sealshm_opts *opts,
			 struct sealshm_queue **ret)
{
	struct sealshm *shm = NULL;
	int r;

	sealshm__return_if_fail(ret, -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	/* Every call writes the queue. */
	if (OPTS_GET(opts, flags, 0) & SEALSHM_RDONLY)
		return sealshm__err(-EROFS);
	r = sealshm_attach(name, opts, &shm);
	if (r < 0)
		return sealshm__err(r);
	r = queue_open(shm, opts, ret);
	if (r < 0) {
		(void)sealshm_close(shm);
		return sealshm__err(r);
	}
	return 0;
}

int sealshm_queue_close(struct sealshm_queue *q)
{
	if (!q)
		return 0;
	(void)sealshm_close(q->shm);
	free(q);
	return 0;
}

struct sealshm *sealshm_queue_shm(const struct sealshm_queue *q)
{
	return q ? q->shm : NULL;
}

uint32_t sealshm_queue_capacity(const struct sealshm_queue *q)
{
	return q ? q->capacity : 0;
}

uint32_t sealshm_queue_slot_size(const struct sealshm_queue *q)
{
	return q ? q->slot_size : 0;
}

uint32_t sealshm_queue_flags(const struct sealshm_queue *q)
{
	return q ? q->flags : 0;
}

/* --- the type, for objects.c ------------------------------------------------ */

/* sealshm_object_create() cannot describe a queue: sealshm_queue_create()
 * makes one. */
static int queue_type_init(void *obj, const struct sealshm_object_params *params,
			   const struct sealshm_opts *opts)
{
	(void)obj, (void)params, (void)opts;
	return -EINVAL;
}

/* The header's fields as they are, changing nothing (a tool may map the
 * queue read-only): value is tail - head (at most the capacity), length
 * the bytes of the header and the slots, so that a scan skips the slots. */
static void queue_type_info(const void *obj, const struct sealshm__holder *h,
			    struct sealshm_object_info *info)
{
	const struct sealshm__queue_hdr *hdr = obj;
	uint64_t t, hd;
	size_t total;

	(void)h;
	do {
		t = LOAD(&hdr->tail);
		hd = LOAD(&hdr->head);
	} while (LOAD(&hdr->tail) != t);
	info->max = hdr->capacity;
	info->value = hd > t ? 0 : t - hd > hdr->capacity ? hdr->capacity : (uint32_t)(t - hd);
	info->waiters = LOAD(&hdr->get_waiters) + LOAD(&hdr->put_waiters) +
			LOAD(&hdr->join_waiters);
	info->item_size = hdr->slot_size;
	info->length = geometry_ok(hdr->capacity, hdr->slot_size, 0) &&
				       total_of(hdr->capacity, hdr->slot_size, &total) == 0 ?
			       total : HDR_SIZE;
	if (LOAD(&hdr->shutdown))
		info->flags |= SEALSHM_OBJECT_SHUTDOWN;
	if (hdr->flags & SEALSHM_QUEUE_JOINABLE)
		info->flags |= SEALSHM_OBJECT_JOINABLE;
}

const struct sealshm__type sealshm__queue_type = {
	.type = SEALSHM_OBJECT_QUEUE,
	.size = HDR_SIZE,
	.name = "queue",
	.init = queue_type_init,
	.info = queue_type_info,
};

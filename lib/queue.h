/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Queues (lib/queue.c): the layout of a queue's segment, for the tests,
 * and the type objects.c describes (object.h).  Documentation/objects.md
 * ("Queues") restates it with the rules.
 *
 * A queue is a 256-byte header that is an object of its own (type
 * SEALSHM_OBJECT_QUEUE), then `capacity` slots of `slot_stride` bytes.
 * The header's lines: the geometry (written once), the producers' ticket,
 * the consumers' ticket, the futex words.
 */
#ifndef SEALSHM_QUEUE_H
#define SEALSHM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "include/sealshm.h"
#include "object.h"

#define SEALSHM__QUEUE_HDR_SIZE		256u
#define SEALSHM__QUEUE_SLOT_HDR		16u

struct sealshm__queue_hdr {
	/* line 0: written by the creator, then only read */
	struct sealshm__object_hdr hdr;	/* type SEALSHM_OBJECT_QUEUE, size 256 */
	uint32_t capacity;		/* slots, 1..SEALSHM_QUEUE_CAPACITY_MAX */
	uint32_t slot_size;		/* largest message, 1..SEALSHM_QUEUE_SLOT_SIZE_MAX */
	uint32_t slot_stride;		/* 16 + slot_size rounded up to 8 */
	uint32_t flags;			/* SEALSHM_QUEUE_JOINABLE */
	uint32_t ring_offset;		/* 256: the first slot, from the header */
	uint32_t __reserved0[7];	/* 0 */
	/* line 1: producers */
	uint64_t tail;			/* the next put's ticket */
	uint64_t __reserved1[7];
	/* line 2: consumers */
	uint64_t head;			/* the next get's ticket */
	uint32_t outstanding;		/* JOINABLE: messages got, task_done() not called */
	uint32_t __reserved2[13];
	/* line 3: futex words */
	uint32_t items;			/* +1 at every message published, and at shutdown */
	uint32_t get_waiters;		/* getters counted in while they sleep on items */
	uint32_t space;			/* +1 at every slot freed, task_done() to 0, shutdown */
	uint32_t put_waiters;		/* putters counted in while they sleep on space */
	uint32_t shutdown;		/* 1: shut down */
	uint32_t join_waiters;		/* joiners counted in while they sleep on space */
	uint32_t __reserved3[10];
};
_Static_assert(sizeof(struct sealshm__queue_hdr) == SEALSHM__QUEUE_HDR_SIZE, "queue header size");
_Static_assert(offsetof(struct sealshm__queue_hdr, capacity) == 16, "queue capacity offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, slot_size) == 20, "queue slot_size offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, slot_stride) == 24, "queue slot_stride offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, flags) == 28, "queue flags offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, ring_offset) == 32, "queue ring_offset offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, tail) == 64, "queue tail offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, head) == 128, "queue head offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, outstanding) == 136, "queue outstanding offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, items) == 192, "queue items offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, get_waiters) == 196, "queue get_waiters offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, space) == 200, "queue space offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, put_waiters) == 204, "queue put_waiters offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, shutdown) == 208, "queue shutdown offset");
_Static_assert(offsetof(struct sealshm__queue_hdr, join_waiters) == 212, "queue join_waiters offset");

/*
 * A slot: its state word, the length of its message, the message.  The
 * state word is changed only whole, by compare-and-swap:
 *   lap << 32 | state << 30 | holder id
 * where ticket t uses slot t % capacity in lap t / capacity (mod 2^32).
 */
struct sealshm__queue_slot {
	uint64_t state;
	uint32_t len;			/* bytes of the message, written while WRITING */
	uint32_t __reserved;
	unsigned char data[];		/* slot_size bytes, then padding to 8 */
};
_Static_assert(sizeof(struct sealshm__queue_slot) == SEALSHM__QUEUE_SLOT_HDR, "queue slot header");

#define SEALSHM__QSLOT_FREE	0u	/* ready for the put of ticket lap * capacity + index */
#define SEALSHM__QSLOT_WRITING	1u	/* that put is copying its message in (holder) */
#define SEALSHM__QSLOT_FULL	2u	/* its message waits for a get */
#define SEALSHM__QSLOT_READING	3u	/* a get is copying it out (holder) */

#define SEALSHM__QSLOT(lap, st, id) \
	((uint64_t)(uint32_t)(lap) << 32 | (uint64_t)(st) << 30 | ((id) & SEALSHM_HOLDER_MASK))
#define SEALSHM__QSLOT_LAP(w)		((uint32_t)((w) >> 32))
#define SEALSHM__QSLOT_STATE(w)		((uint32_t)((w) >> 30) & 3u)
#define SEALSHM__QSLOT_HOLDER(w)	((uint32_t)(w) & SEALSHM_HOLDER_MASK)

extern const struct sealshm__type sealshm__queue_type;

#endif /* SEALSHM_QUEUE_H */

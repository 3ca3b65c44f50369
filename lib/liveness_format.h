/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The liveness segment: which holder ids live, for the shared objects
 * (locks, semaphores, barriers...) that record their holders by id.  This
 * is its only definition, shared by trackerd (writer) and libsealshm
 * (reader).
 *
 * A holder id names one process's holder connection to one trackerd
 * (SEALSHM_MSG_HOLDER, lib/proto.h): never a pid or a thread id, which
 * collide between pid namespaces and are reused.  An id is 30 bits, so it
 * fits in a futex word beside two flag bits:
 *   id = generation << SEALSHM_HOLDER_SLOT_BITS | slot
 * with generation 1..SEALSHM_HOLDER_GEN_MAX (never 0, so no id is 0, and
 * never all ones, so SEALSHM_HOLDER_NONE is no id).  trackerd hands out
 * slots least recently freed first and bumps a slot's generation on each
 * reuse, so an id comes back only after about 2^30 holders.
 *
 * trackerd keeps it in a memfd of its own, mapped read-write by trackerd
 * alone, sealed F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
 * F_SEAL_SEAL before it is handed out (as the index, index_format.h).
 * Clients map it PROT_READ.
 *
 * Holder @id lives iff  (id & SEALSHM_HOLDER_SLOT_MASK) < n_slots  and
 * slots[id & SEALSHM_HOLDER_SLOT_MASK].holder == id  (one load).  trackerd
 * writes slots[s].pid, then slots[s].holder = id (a release store, so a
 * reader that sees the id sees its pid) when it gives the id out, and
 * when the holder's connection ends: slots[s].holder = 0, then
 * death_epoch += 1, then FUTEX_WAKE(death_epoch, INT_MAX).  A waiter
 * sleeps on its object's word and death_epoch together (futex_waitv(2)),
 * and when the epoch moved it looks again at the holders it waits for.
 *
 * Layout (offsets from the start of the memfd):
 *   header (64 bytes) | struct sealshm_liveness_slot slots[n_slots] at slots_off
 */
#ifndef SEALSHM_LIVENESS_FORMAT_H
#define SEALSHM_LIVENESS_FORMAT_H

#include <stdint.h>

#define SEALSHM_LIVENESS_MAGIC		0x56494c53u	/* "SLIV" little-endian */
#define SEALSHM_LIVENESS_VERSION	1u

#define SEALSHM_HOLDER_BITS		30
#define SEALSHM_HOLDER_MASK		((1u << SEALSHM_HOLDER_BITS) - 1)
#define SEALSHM_HOLDER_SLOT_BITS	16
#define SEALSHM_HOLDER_SLOT_MASK	((1u << SEALSHM_HOLDER_SLOT_BITS) - 1)
#define SEALSHM_HOLDER_GEN_MAX		((1u << (SEALSHM_HOLDER_BITS - SEALSHM_HOLDER_SLOT_BITS)) - 2)
/* All 30 bits set: no holder id ever; objects use it as "not recoverable". */
#define SEALSHM_HOLDER_NONE		SEALSHM_HOLDER_MASK

struct sealshm_liveness_header {
	uint32_t magic;		/* SEALSHM_LIVENESS_MAGIC */
	uint32_t version;	/* SEALSHM_LIVENESS_VERSION */
	uint64_t instance;	/* random, never 0: which trackerd's ids these are */
	uint32_t death_epoch;	/* futex word: +1 after every holder's end */
	uint32_t n_slots;	/* <= 1 << SEALSHM_HOLDER_SLOT_BITS */
	uint64_t slots_off;	/* 64-aligned */
	uint64_t size;		/* bytes of the whole segment (the memfd's size) */
	uint32_t server_pid;	/* trackerd, in its own pid namespace (informative) */
	uint32_t holders;	/* ids alive now (informative) */
	uint8_t __reserved[16];
};
_Static_assert(sizeof(struct sealshm_liveness_header) == 64, "liveness header size");

struct sealshm_liveness_slot {
	uint32_t holder;	/* the live id in this slot, 0 when none */
	uint32_t pid;		/* its process, as trackerd sees it (SO_PEERCRED): informative */
};
_Static_assert(sizeof(struct sealshm_liveness_slot) == 8, "liveness slot size");

#endif /* SEALSHM_LIVENESS_FORMAT_H */

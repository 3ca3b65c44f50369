/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Holder ids and the liveness segment (format: lib/liveness_format.h): a
 * memfd of trackerd's own saying which holder ids live, for the shared
 * objects (locks, semaphores...) that record their holders by id.
 *
 * trackerd alone writes it, through the one writable mapping it makes
 * before sealing the memfd F_SEAL_SHRINK | F_SEAL_GROW |
 * F_SEAL_FUTURE_WRITE | F_SEAL_SEAL, as the published index (index.h):
 * nobody can map it writable again, write(2) it, resize it or lift the
 * seals, whichever fd they hold.
 *
 * Slots are handed out least recently freed first: slots never used
 * before any freed one, then freed ones in the order they were freed (a
 * FIFO). Each use of a slot after its first bumps its generation
 * (1..SEALSHM_HOLDER_GEN_MAX, then 1 again), so an id comes back only
 * after about 2^30 holders, and a dead holder's id is not someone else's
 * a moment later.
 */
#ifndef TRACKERD_HOLDER_H
#define TRACKERD_HOLDER_H

#include <stdint.h>
#include <sys/types.h>

/* The format, shared with the library. */
#include "liveness_format.h"

struct holders;

/* A sealed liveness segment of @n_slots slots (1..1 << SEALSHM_HOLDER_SLOT_BITS),
 * with a random instance. Its pages are allocated as slots are first
 * used. Errors: -EINVAL, -ENOMEM, getrandom(2), memfd_create(2) and
 * mmap(2) errors. */
int holders_new(uint32_t n_slots, struct holders **ret);
/* Unmap and close. NULL is fine. Returns NULL. */
struct holders *holders_free(struct holders *hs);

/* trackerd's fd of the memfd (to reopen read-only for a client) and its
 * size in bytes. */
int holders_fd(const struct holders *hs);
uint64_t holders_size(const struct holders *hs);
/* Ids alive now, and the most there can be. */
uint32_t holders_count(const struct holders *hs);
uint32_t holders_max(const struct holders *hs);

/* A new id for process @pid (as SO_PEERCRED saw it): alive in the segment
 * from now on. Returns 0 and *@ret_id, or -EUSERS (every slot taken). */
int holder_open(struct holders *hs, pid_t pid, uint32_t *ret_id);
/* The connection of @id (from holder_open()) has ended: the id is dead,
 * the death epoch moves on and every process sleeping on it is woken.
 * Nothing after holders_stop(). */
void holder_end(struct holders *hs, uint32_t id);

/* trackerd is stopping, and the connections it closes now are no ends of
 * their processes, which may live on holding objects: their ids stay
 * alive in the segment, which outlives trackerd in their mappings. NULL
 * is fine. */
void holders_stop(struct holders *hs);

#endif /* TRACKERD_HOLDER_H */

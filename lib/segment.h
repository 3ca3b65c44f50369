/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files above lib/segment.c (seal.c, slist.c, manager.c) need of a
 * segment handle beyond the public accessors.
 */
#ifndef SEALSHM_SEGMENT_H
#define SEALSHM_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

struct sealshm;

/*
 * Bumped (after the fact) each time the library unmaps a segment or maps
 * one read-only in place (sealshm_seal()): an address found writable
 * before may be read-only now.  The object layer (object.c) empties its
 * caches of writable pages when it moves.
 */
extern uint32_t sealshm__unmap_gen;

static inline void sealshm__unmap_note(void)
{
	__atomic_fetch_add(&sealshm__unmap_gen, 1, __ATOMIC_RELEASE);
}

/* True for a handle of the POSIX backend (sealshm_seal() refuses those). */
bool sealshm__is_posix(const struct sealshm *shm);

#endif /* SEALSHM_SEGMENT_H */

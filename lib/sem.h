/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Semaphore and BoundedSemaphore (lib/sem.c): the layout of struct
 * sealshm_sem, for the tests that build the states a process killed
 * half-way leaves, and the type objects.c sets up and describes
 * (object.h).  Documentation/objects.md restates the layout and the
 * rules of death.
 */
#ifndef SEALSHM_SEM_H
#define SEALSHM_SEM_H

#include <stdint.h>

#include "include/sealshm.h"
#include "object.h"

/* Most units a robust semaphore's table names holders for. */
#define SEALSHM__SEM_TABLE	24
/* Most value of any semaphore: 2^31 - 1, as the value word must stay a
 * non-negative int for every reader. */
#define SEALSHM__SEM_VALUE_MAX	0x7fffffffu

/* The intent record's op (0: none pending). */
#define SEALSHM__SEM_OP_NONE	0u
#define SEALSHM__SEM_OP_ACQUIRE	1u	/* value - 1, the caller's entry + 1 */
#define SEALSHM__SEM_OP_RELEASE	2u	/* value + 1, the caller's entry - 1 if it has one */
#define SEALSHM__SEM_OP_RECLAIM	3u	/* value + a dead holder's units, its entry freed */
/* The intent record's slot when the op touches no table entry. */
#define SEALSHM__SEM_NO_SLOT	0xffffffffu

/* One robust semaphore table entry: units @holder acquired and has not
 * released (holder 0: free, and units 0). */
struct sealshm__sem_entry {
	uint32_t holder;
	uint32_t units;
};

/*
 * struct sealshm_sem as it lies in memory.  The default mode uses value,
 * waiters, max and flags; the rest is the robust mode's, where every
 * change of value and table happens under the guard, as one transaction
 * of at most one table entry: the intent record (slot and the values
 * before) is written, then op, then the new values, then op = 0.  Whoever
 * takes the guard from a dead holder finds op != 0 and puts the values
 * before back (undo), which is always right: the dead process never
 * returned from that call.
 */
struct sealshm__sem {
	struct sealshm__object_hdr hdr;
	uint32_t value;		/* futex word: units available, 0..max */
	uint32_t waiters;	/* processes' threads sleeping on value */
	uint32_t max;		/* BoundedSemaphore's most value; 0: 2^31 - 1 */
	uint32_t flags;		/* SEALSHM_SEM_ROBUST */
	/* Robust mode only (zero otherwise). */
	uint32_t guard;		/* lock word: SEALSHM__WORD_WAITERS | holder id, 0 free */
	uint32_t epoch;		/* the death epoch the table was last cleaned at */
	uint32_t intent_op;	/* SEALSHM__SEM_OP_*, 0 when none is pending */
	uint32_t intent_slot;	/* table index or SEALSHM__SEM_NO_SLOT */
	uint32_t intent_value;	/* value before */
	uint32_t intent_holder;	/* table[intent_slot] before */
	uint32_t intent_units;
	uint32_t __reserved;	/* 0 */
	struct sealshm__sem_entry table[SEALSHM__SEM_TABLE];
};
_Static_assert(sizeof(struct sealshm__sem) == sizeof(struct sealshm_sem), "sem size");
_Static_assert(_Alignof(struct sealshm__sem) <= SEALSHM_OBJECT_ALIGN, "sem alignment");
_Static_assert(offsetof(struct sealshm__sem, value) == 0x10, "sem value offset");
_Static_assert(offsetof(struct sealshm__sem, guard) == 0x20, "sem guard offset");
_Static_assert(offsetof(struct sealshm__sem, intent_op) == 0x28, "sem intent offset");
_Static_assert(offsetof(struct sealshm__sem, table) == 0x40, "sem table offset");

extern const struct sealshm__type sealshm__sem_type;

#endif /* SEALSHM_SEM_H */

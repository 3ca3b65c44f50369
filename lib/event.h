/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Event (lib/event.c): the layout of struct sealshm_event, for the tests,
 * and the type objects.c sets up and describes (object.h).
 * Documentation/objects.md restates the layout.
 */
#ifndef SEALSHM_EVENT_H
#define SEALSHM_EVENT_H

#include <stdint.h>

#include "include/sealshm.h"
#include "object.h"

/* The state word: the flag, and a generation that each set() of a clear
 * event moves, so that a waiter woken by a set() returns even if a
 * clear() came before it looked. */
#define SEALSHM__EVENT_SET	1u
#define SEALSHM__EVENT_GEN_ONE	2u	/* generation += 1 */

struct sealshm__event {
	struct sealshm__object_hdr hdr;
	uint32_t state;		/* futex word: generation << 1 | SEALSHM__EVENT_SET */
	uint32_t waiters;	/* threads counted in wait() */
	uint64_t __reserved;	/* 0 */
};
_Static_assert(sizeof(struct sealshm__event) == sizeof(struct sealshm_event), "event size");
_Static_assert(_Alignof(struct sealshm__event) <= SEALSHM_OBJECT_ALIGN, "event alignment");
_Static_assert(offsetof(struct sealshm__event, state) == 0x10, "event state offset");
_Static_assert(offsetof(struct sealshm__event, waiters) == 0x14, "event waiters offset");

extern const struct sealshm__type sealshm__event_type;

#endif /* SEALSHM_EVENT_H */

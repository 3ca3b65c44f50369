/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files above lib/segment.c (seal.c, slist.c, manager.c) need of a
 * segment handle beyond the public accessors.
 */
#ifndef SEALSHM_SEGMENT_H
#define SEALSHM_SEGMENT_H

#include <stdbool.h>

struct sealshm;

/* True for a handle of the POSIX backend (sealshm_seal() refuses those). */
bool sealshm__is_posix(const struct sealshm *shm);

#endif /* SEALSHM_SEGMENT_H */

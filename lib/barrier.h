/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Barrier (lib/barrier.c): the public sealshm_barrier_* calls, and its
 * struct sealshm__type (object.h) for objects.c.
 */
#ifndef SEALSHM_BARRIER_H
#define SEALSHM_BARRIER_H

#include "object.h"

extern const struct sealshm__type sealshm__barrier_type;

#endif /* SEALSHM_BARRIER_H */

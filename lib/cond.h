/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Condition (lib/cond.c): the public sealshm_cond_* calls, and its struct
 * sealshm__type (object.h) for objects.c.
 */
#ifndef SEALSHM_COND_H
#define SEALSHM_COND_H

#include "object.h"

extern const struct sealshm__type sealshm__cond_type;

#endif /* SEALSHM_COND_H */

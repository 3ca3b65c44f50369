/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lock and RLock (lib/lock.c): what the files above them use besides the
 * public calls: cond.c waits over either lock; objects.c sets up and
 * describes them through their struct sealshm__type (object.h).
 */
#ifndef SEALSHM_LOCK_H
#define SEALSHM_LOCK_H

#include <stdint.h>

#include "include/sealshm.h"
#include "object.h"

/*
 * An RLock held by the calling thread, released whatever its count:
 * *@ret_count is the count to give back to sealshm__rlock_acquire_count().
 * -EPERM when the caller does not hold it.  (Condition.wait on an RLock.)
 */
int sealshm__rlock_release_all(struct sealshm_rlock *rl, uint32_t *ret_count);
/* Acquire @rl (not held by the caller) until @deadline_ns (-1: none) and
 * set its count to @count.  Returns as sealshm_rlock_acquire(). */
int sealshm__rlock_acquire_count(struct sealshm_rlock *rl, uint32_t count, int64_t deadline_ns);
/* sealshm_lock_acquire() with a deadline (-1: none). */
int sealshm__lock_acquire_until(struct sealshm_lock *lk, int64_t deadline_ns);

extern const struct sealshm__type sealshm__lock_type;
extern const struct sealshm__type sealshm__rlock_type;

#endif /* SEALSHM_LOCK_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reserving a segment's memory when it is created (SEALSHM_RESERVE), so
 * that running out of memory is an error from create, not a SIGBUS or an
 * OOM kill when a page is first touched.
 */
#ifndef SEALSHM_RESERVE_H
#define SEALSHM_RESERVE_H

#include <stdint.h>

/*
 * Allocate every page of @fd, a new shmem file (memfd or /dev/shm) of
 * @size bytes, now: the pages are charged to the caller's memory cgroup as
 * a first touch would charge them.  The kernel answers an allocation past a
 * memory cgroup's limit by killing a process, not with an error, so first
 * the size is held against what the machine (MemAvailable) and the
 * caller's memory cgroup and its ancestors (limit less usage, reclaimable
 * file pages counted as free) have available, again before each slice.
 * Returns 0, -ENOMEM (does not fit: nothing more is allocated, and what was
 * goes with @fd) or fallocate(2)'s error (-ENOSPC: /dev/shm is full).
 */
int sealshm__reserve(int fd, uint64_t size);

#endif /* SEALSHM_RESERVE_H */

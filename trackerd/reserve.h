/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reserved arrays: address space for an array at its largest size, taken
 * once at startup (anonymous, private, MAP_NORESERVE), so the array never
 * moves nor is copied while it grows, and memory is paid for only as pages
 * are first touched. trackerd's per-slot tables (registry entries, the
 * sessions tracking each name, hash buckets) are sized by --max-names this
 * way: every operation on them is O(1), never a realloc() of a million
 * entries, and a small registry costs little whatever the cap.
 *
 * Fresh pages read as zero: a table whose "empty" is all-zero bytes needs
 * no initialisation.
 */
#ifndef TRACKERD_RESERVE_H
#define TRACKERD_RESERVE_H

#include <stddef.h>

/* Reserve @n elements of @size bytes, zeroed. Returns 0 and *@ret, or
 * -EOVERFLOW, -ENOMEM. */
int reserve_new(size_t n, size_t size, void **ret);
/* Release what reserve_new() gave for the same @n and @size. NULL is fine.
 * Returns NULL. */
void *reserve_free(void *p, size_t n, size_t size);

#endif /* TRACKERD_RESERVE_H */

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mmap()ed reservations for trackerd's per-slot tables.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "reserve.h"

int reserve_new(size_t n, size_t size, void **ret)
{
	void *p;

	if (n == 0 || size == 0)
		return -EINVAL;
	if (n > SIZE_MAX / size)
		return -EOVERFLOW;
	/* MAP_NORESERVE: with the default overcommit policy the reservation
	 * is not charged up front, only the pages touched. (Under the strict
	 * policy, vm.overcommit_memory=2, the flag is ignored and all of it
	 * counts: still correct, only costlier.) */
	p = mmap(NULL, n * size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	*ret = p;
	return 0;
}

void *reserve_free(void *p, size_t n, size_t size)
{
	if (p)
		(void)munmap(p, n * size);
	return NULL;
}

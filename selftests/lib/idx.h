/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trackerd's published index from a raw client's side: INDEX and a
 * read-only mapping of the index it grants, a lookup as the library's fast
 * path makes it (under the seqlock, every offset bounds-checked), and TRACK
 * on a session for a name found there.
 */
#ifndef SEALSHM_SELFTESTS_LIB_IDX_H
#define SEALSHM_SELFTESTS_LIB_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "index_format.h"

/* A client's mapping of the index. */
struct idx {
	int fd;
	void *map;
	size_t size;
};

/* INDEX on @sock: the reply's status; on success *@x holds the fd and a
 * read-only mapping of it. */
int raw_index(int sock, struct idx *x);

/* Unmap and close what raw_index() gave (either may be missing). */
void idx_close(struct idx *x);

/* Look @name up as a fast-path client does: under the seqlock, every index
 * taken from the map bounds-checked.  0 and the entry (and its slot), or
 * -ENOENT, or -EAGAIN when trackerd kept writing. */
int idx_find(const struct idx *x, const char *name, struct sealshm_index_entry *ret,
	     uint32_t *ret_slot);

/* Send TRACK for @slot/@generation/@ino on session @sock (one-way). */
int raw_track(int sock, uint32_t slot, uint32_t generation, uint64_t ino);

#endif /* SEALSHM_SELFTESTS_LIB_IDX_H */

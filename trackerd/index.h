/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The published index (format: lib/index_format.h): a memfd of trackerd's own that
 * mirrors the registry, slot for slot, for same-uid clients to attach
 * without a round trip.
 *
 * trackerd alone writes it, through the one writable mapping it makes
 * before sealing the memfd F_SEAL_SHRINK | F_SEAL_GROW |
 * F_SEAL_FUTURE_WRITE | F_SEAL_SEAL: from then on nobody (trackerd
 * included) can map it writable again, write(2) it, resize it or lift the
 * seals, whichever fd they hold (even trackerd's own, taken with
 * pidfd_getfd(2)). Every change runs under the seqlock of its header.
 *
 * Names longer than SEALSHM_INDEX_NAME_MAX are not published: their slot's
 * entry stays free and clients use the round trip for them.
 */
#ifndef TRACKERD_INDEX_H
#define TRACKERD_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The format, shared with the library. */
#include "index_format.h"

struct index;

/* A sealed index of @capacity entries (the registry's slots). Its pages are
 * allocated as entries are first written. Errors: -ENOMEM, -EOVERFLOW,
 * memfd_create(2) and mmap(2) errors. */
int index_new(uint32_t capacity, struct index **ret);
/* Unmap and close. NULL is fine. Returns NULL. */
struct index *index_free(struct index *x);

/* trackerd's fd of the memfd (to reopen read-only for a client) and its
 * size in bytes. */
int index_fd(const struct index *x);
uint64_t index_size(const struct index *x);

/* Publish the name in registry slot @slot (free in the index until now):
 * @e's fd, generation, ino, size, uid, gid and mode, and @name of @len
 * bytes. A name longer than SEALSHM_INDEX_NAME_MAX is not published.
 * Returns true when published. */
bool index_publish(struct index *x, uint32_t slot, const char *name, size_t len,
		   const struct sealshm_index_entry *e);
/* Withdraw the entry of @slot, if published. */
void index_withdraw(struct index *x, uint32_t slot);

#endif /* TRACKERD_INDEX_H */

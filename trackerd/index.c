// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The writer side of the published index: the memfd, its sealing, and the
 * seqlock-guarded updates of buckets and entries.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "index.h"
#include "internal.h"
#include "memfd.h"
#include "siphash.h"

#define INDEX_BUCKETS_MIN	64u

struct index {
	int fd;
	uint64_t size;
	void *map;				/* PROT_READ | PROT_WRITE, MAP_SHARED */
	struct sealshm_index_header *hdr;
	uint32_t *buckets;			/* [n_buckets]: entry index + 1, 0 = none */
	struct sealshm_index_entry *entries;	/* [capacity] */
	uint32_t n_buckets;
	uint32_t capacity;
	uint64_t key[2];
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int index_new(uint32_t capacity, struct index **ret)
{
	_cleanup_close_ int fd = -EBADF;
	struct index *x;
	uint64_t size, buckets_off, entries_off;
	uint32_t nb = INDEX_BUCKETS_MIN;
	void *map;

	if (capacity == 0 || capacity > UINT32_MAX / 2)
		return -EOVERFLOW;
	/* At least one bucket per entry: chains stay short however full. */
	while (nb < capacity)
		nb *= 2;
	buckets_off = align_up(sizeof(struct sealshm_index_header), 8);
	/* Entries start on a cache line: one entry is two lines, never three. */
	entries_off = align_up(buckets_off + (uint64_t)nb * sizeof(uint32_t), 64);
	size = entries_off + (uint64_t)capacity * sizeof(struct sealshm_index_entry);

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->fd = -EBADF;
	/* At startup, like the registry's key. A reader may know this key
	 * (it reads the header); it is random so that nobody can pick names
	 * that collide before it is published. */
	if (getrandom(x->key, sizeof(x->key), 0) != (ssize_t)sizeof(x->key)) {
		int r = errno ? -errno : -EIO;

		free(x);
		return r;
	}

	fd = sealshm__memfd_create("sealshm-index");
	if (fd < 0) {
		free(x);
		return fd;
	}
	/* Sparse: pages are allocated as entries are first written. */
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	/* Owner read-only: a /proc/PID/fd reopen for writing is refused by
	 * the mode too, not only by the seals. trackerd's own read-only
	 * reopen for INDEX is allowed. */
	if (fchmod(fd, 0400) < 0)
		goto fail;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto fail;
	/* After the mapping, in this order of necessity: F_SEAL_FUTURE_WRITE
	 * (Linux 5.1) leaves this mapping writable but refuses every new writable
	 * mapping and write(2) (F_SEAL_WRITE would refuse to be set while
	 * this mapping exists); SHRINK|GROW keep the size every reader
	 * bounds-checks against; SEAL makes it final. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
		  F_SEAL_SEAL) < 0) {
		(void)munmap(map, size);
		goto fail;
	}

	x->map = map;
	x->size = size;
	x->hdr = map;
	x->buckets = (uint32_t *)((char *)map + buckets_off);
	x->entries = (struct sealshm_index_entry *)((char *)map + entries_off);
	x->n_buckets = nb;
	x->capacity = capacity;
	*x->hdr = (struct sealshm_index_header){
		.magic = SEALSHM_INDEX_MAGIC,
		.version = SEALSHM_INDEX_VERSION,
		.seq = 0,
		.hash_key = { x->key[0], x->key[1] },
		.n_buckets = nb,
		.capacity = capacity,
		.buckets_off = buckets_off,
		.entries_off = entries_off,
		.size = size,
		.server_pid = (uint32_t)getpid(),
	};
	x->fd = TAKE_FD(fd);
	*ret = x;
	return 0;
fail:
	free(x);
	return -errno;
}

struct index *index_free(struct index *x)
{
	if (!x)
		return NULL;
	if (x->map)
		(void)munmap(x->map, x->size);
	safe_close(x->fd);
	free(x);
	return NULL;
}

int index_fd(const struct index *x)
{
	return x->fd;
}

uint64_t index_size(const struct index *x)
{
	return x->size;
}

/*
 * The seqlock, writer side (the kernel's write_seqcount_begin/end). Only
 * trackerd writes, from one thread, so its own reads of seq need no
 * ordering. Readers run in other processes at any moment:
 *
 *  - begin: seq becomes odd, then a release fence, so no write of the
 *    update can become visible before the odd count (smp_wmb()): a reader
 *    that saw any of it reads an odd or changed count afterwards and
 *    retries;
 *  - end: seq becomes even with a release store, so every write of the
 *    update is visible before the new even count: a reader that saw the
 *    new count before and after its copy has a consistent copy.
 *
 * The payload writes between them are plain: readers copy under the
 * count and bounds-check every index they take from the map, so a torn
 * value costs them a retry, never an access outside the mapping.
 */
static void write_begin(struct index *x)
{
	__atomic_store_n(&x->hdr->seq, x->hdr->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(struct index *x)
{
	__atomic_store_n(&x->hdr->seq, x->hdr->seq + 1, __ATOMIC_RELEASE);
}

static uint32_t *bucket_of(struct index *x, const char *name, size_t len)
{
	return &x->buckets[sealshm__siphash(name, len, x->key) & (x->n_buckets - 1)];
}

bool index_publish(struct index *x, uint32_t slot, const char *name, size_t len,
		   const struct sealshm_index_entry *e)
{
	struct sealshm_index_entry *d;
	uint32_t *b;

	assert(slot < x->capacity);
	if (len == 0 || len > SEALSHM_INDEX_NAME_MAX)
		return false;
	d = &x->entries[slot];
	assert(!(d->flags & SEALSHM_INDEX_USED));
	b = bucket_of(x, name, len);

	write_begin(x);
	d->flags = SEALSHM_INDEX_USED;
	d->fd = e->fd;
	d->generation = e->generation;
	d->ino = e->ino;
	d->size = e->size;
	d->uid = e->uid;
	d->gid = e->gid;
	d->mode = e->mode;
	d->name_len = (uint32_t)len;
	memcpy(d->name, name, len);
	/* NUL-padded: the tail of a longer name that used this slot before
	 * must not show. */
	memset(d->name + len, 0, sizeof(d->name) - len);
	d->next = *b;
	*b = slot + 1;
	write_end(x);
	return true;
}

void index_withdraw(struct index *x, uint32_t slot)
{
	struct sealshm_index_entry *d;
	uint32_t *p;

	assert(slot < x->capacity);
	d = &x->entries[slot];
	if (!(d->flags & SEALSHM_INDEX_USED))
		return;

	/* The chain holds the entry: walk to the link naming it. Chains are
	 * short (at least one bucket per entry, keyed hash). */
	write_begin(x);
	for (p = bucket_of(x, d->name, d->name_len); *p != slot + 1; p = &x->entries[*p - 1].next)
		assert(*p != 0 && *p <= x->capacity);
	*p = d->next;
	/* Generation stays: a reader holding this slot's old generation
	 * keeps seeing it differ from the next name's. */
	d->next = 0;
	d->flags = 0;
	d->fd = -1;
	d->ino = 0;
	d->size = 0;
	write_end(x);
}

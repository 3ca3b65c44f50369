// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Slot array, free list, and a chained hash table of slots keyed with
 * SipHash-2-4: names come from clients, and with a known hash function a
 * hostile client could put every name in one chain (hash flooding).
 *
 * The table grows by linear hashing (Litwin 1980): when names outnumber
 * buckets, one bucket is split into two. A lookup takes bucket
 * hash & (base - 1), or hash & (2 * base - 1) when that bucket was split
 * already this round. Buckets and slots live in reserved arrays that never
 * move, so no operation ever costs more than one bucket's chain.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include "index.h"
#include "internal.h"
#include "registry.h"
#include "reserve.h"
#include "siphash.h"

#define NONE		0u	/* in "slot + 1" links */
#define BUCKETS_MIN	64u

struct uid_count {
	uint32_t uid;
	uint32_t count;
	uint64_t bytes;		/* sum of the sizes of its names */
};

struct registry {
	struct registry_entry *entries;	/* reserved [capacity] */
	uint32_t capacity;
	uint32_t nslots;		/* slots ever used */
	uint32_t free_head;		/* slot + 1, NONE when empty */
	size_t count;
	size_t ro_fds;			/* names that hold a read-only twin */
	uint64_t bytes;			/* sum of the sizes of every name */
	uint32_t max_per_uid;
	uint64_t max_bytes_per_uid;	/* 0: no limit */

	uint32_t *buckets;		/* reserved [max_buckets]: slot + 1, NONE */
	uint32_t max_buckets;		/* a power of two, >= capacity */
	uint32_t base;			/* buckets before this round of splits */
	uint32_t split;			/* next bucket to split, < base */
	uint64_t key[2];

	/* Names per owner. Distinct owners are real accounts (a user
	 * namespace's unmapped ids all read as the overflow uid), few in
	 * practice: a linear search. */
	struct uid_count *uids;
	size_t n_uids;

	struct index *index;		/* NULL: not published */

	/* registry_resident()'s pass over the slots. */
	uint32_t resident_cursor;	/* next slot of the pass under way */
	uint64_t resident_partial;	/* its sum so far */
	uint64_t resident_total;	/* the sum of the last complete pass */
	bool resident_done;		/* a pass has completed */
};

static uint32_t name_hash(const struct registry *r, const char *name, size_t len)
{
	return (uint32_t)sealshm__siphash(name, len, r->key);
}

static uint32_t *bucket_of(const struct registry *r, uint32_t hash)
{
	uint32_t b = hash & (r->base - 1);

	if (b < r->split)
		b = hash & (2 * r->base - 1);
	return &r->buckets[b];
}

int registry_new(uint32_t max_names, uint32_t max_per_uid, uint64_t max_bytes_per_uid,
		 struct index *index, struct registry **ret)
{
	struct registry *r;
	void *p;
	int k;

	if (max_names == 0 || max_names > UINT32_MAX / 4)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->capacity = max_names;
	r->max_per_uid = max_per_uid;
	r->max_bytes_per_uid = max_bytes_per_uid;
	r->index = index;
	r->max_buckets = BUCKETS_MIN;
	while (r->max_buckets < max_names)
		r->max_buckets *= 2;
	r->base = BUCKETS_MIN;

	/* At startup, before the loop. Blocks only until the kernel's pool is
	 * initialised (early boot); a guessable key would defeat SipHash. */
	if (getrandom(r->key, sizeof(r->key), 0) != (ssize_t)sizeof(r->key)) {
		k = errno ? -errno : -EIO;
		goto fail;
	}
	/* Both zero-filled: every bucket empty, every slot free. */
	k = reserve_new(r->capacity, sizeof(*r->entries), &p);
	if (k < 0)
		goto fail;
	r->entries = p;
	k = reserve_new(r->max_buckets, sizeof(*r->buckets), &p);
	if (k < 0)
		goto fail;
	r->buckets = p;
	*ret = r;
	return 0;
fail:
	reserve_free(r->entries, r->capacity, sizeof(*r->entries));
	free(r);
	return k;
}

struct registry *registry_free(struct registry *r)
{
	if (!r)
		return NULL;
	for (uint32_t i = 0; i < r->nslots; i++)
		if (r->entries[i].flags & REGISTRY_USED) {
			safe_close(r->entries[i].fd);
			safe_close(r->entries[i].ro_fd);
			free((char *)r->entries[i].name);
		}
	reserve_free(r->entries, r->capacity, sizeof(*r->entries));
	reserve_free(r->buckets, r->max_buckets, sizeof(*r->buckets));
	free(r->uids);
	free(r);
	return NULL;
}

int registry_lookup(const struct registry *r, const char *name)
{
	uint32_t h = name_hash(r, name, strlen(name));

	for (uint32_t s = *bucket_of(r, h); s != NONE; s = r->entries[s - 1].next)
		if (r->entries[s - 1].hash == h && strcmp(r->entries[s - 1].name, name) == 0)
			return (int)(s - 1);
	return -ENOENT;
}

/* One step of growth: split bucket r->split between itself and its image
 * r->split + r->base, by the next bit of each hash. */
static void split_one(struct registry *r)
{
	uint32_t old = r->split, img = r->split + r->base, mask = 2 * r->base - 1;
	uint32_t *p = &r->buckets[old], *q = &r->buckets[img];

	assert(*q == NONE);
	while (*p != NONE) {
		struct registry_entry *e = &r->entries[*p - 1];

		if ((e->hash & mask) == img) {
			uint32_t s = *p;

			*p = e->next;
			e->next = NONE;
			*q = s;
			q = &e->next;
		} else {
			p = &e->next;
		}
	}
	if (++r->split == r->base) {
		r->base *= 2;
		r->split = 0;
	}
}

static struct uid_count *uid_find(const struct registry *r, uint32_t uid)
{
	for (size_t i = 0; i < r->n_uids; i++)
		if (r->uids[i].uid == uid)
			return &r->uids[i];
	return NULL;
}

int registry_add(struct registry *r, const char *name, const struct registry_entry *e)
{
	struct registry_entry *d;
	struct uid_count *u;
	uint32_t s, h, generation, *b;
	size_t len = strlen(name);
	char *copy;

	assert(e->fd >= 0);
	if (registry_lookup(r, name) >= 0)
		return -EEXIST;
	if (r->count >= r->capacity)
		return -ENOSPC;

	u = uid_find(r, e->uid);
	if (u && u->count >= r->max_per_uid)
		return -EDQUOT;
	/* Written so that a size near UINT64_MAX cannot wrap the sum. */
	if (r->max_bytes_per_uid &&
	    (e->size > r->max_bytes_per_uid ||
	     (u && u->bytes > r->max_bytes_per_uid - e->size)))
		return -EDQUOT;
	if (!u) {
		u = realloc(r->uids, sizeof(*u) * (r->n_uids + 1));
		if (!u)
			return -ENOMEM;
		r->uids = u;
		u = &r->uids[r->n_uids++];
		*u = (struct uid_count){ .uid = e->uid };
	}

	/* Every allocation before any change, so a failure leaves no trace
	 * (an empty uid_count is harmless). */
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, name, len + 1);

	if (r->free_head != NONE) {
		s = r->free_head - 1;
		r->free_head = r->entries[s].next;
	} else {
		assert(r->nslots < r->capacity);
		s = r->nslots++;
	}

	h = name_hash(r, name, len);
	d = &r->entries[s];
	generation = d->generation + 1;
	*d = *e;
	d->name = copy;
	d->flags |= REGISTRY_USED;
	d->generation = generation;
	d->hash = h;
	b = bucket_of(r, h);
	d->next = *b;
	*b = s + 1;
	r->count++;
	if (e->ro_fd >= 0)
		r->ro_fds++;
	r->bytes += e->size;
	u->count++;
	u->bytes += e->size;
	/* Load <= 1: a name more than buckets splits one bucket. */
	if (r->count > r->base + r->split && r->base + r->split < r->max_buckets)
		split_one(r);

	if (r->index)
		(void)index_publish(r->index, s, copy, len,
				    &(struct sealshm_index_entry){
					    .fd = d->fd,
					    .generation = d->generation,
					    .ino = d->ino,
					    .size = d->size,
					    .uid = d->uid,
					    .gid = d->gid,
					    .mode = d->mode,
				    });
	return (int)s;
}

void registry_remove(struct registry *r, uint32_t slot)
{
	struct registry_entry *e = &r->entries[slot];
	struct uid_count *u;
	uint32_t generation;
	uint32_t *p;

	assert(slot < r->nslots && (e->flags & REGISTRY_USED));

	/* Out of the index first: a reader must not find an entry whose fd
	 * number is closed (and may be reused by the next segment). It would
	 * still fail its inode check; this keeps it from trying. */
	if (r->index)
		index_withdraw(r->index, slot);

	for (p = bucket_of(r, e->hash); *p != slot + 1; p = &r->entries[*p - 1].next)
		assert(*p != NONE);
	*p = e->next;

	u = uid_find(r, e->uid);
	assert(u && u->count > 0 && u->bytes >= e->size);
	u->bytes -= e->size;
	r->bytes -= e->size;
	if (--u->count == 0)
		*u = r->uids[--r->n_uids];

	safe_close(e->fd);
	if (e->ro_fd >= 0) {
		safe_close(e->ro_fd);
		r->ro_fds--;
	}
	free((char *)e->name);
	generation = e->generation + 1;

	*e = (struct registry_entry){ .fd = -EBADF, .ro_fd = -EBADF, .generation = generation };
	e->next = r->free_head;
	r->free_head = slot + 1;
	r->count--;
}

const struct registry_entry *registry_get(const struct registry *r, uint32_t slot)
{
	if (slot >= r->nslots || !(r->entries[slot].flags & REGISTRY_USED))
		return NULL;
	return &r->entries[slot];
}

void registry_note_attach(struct registry *r, uint32_t slot, int64_t now_ns)
{
	struct registry_entry *e = &r->entries[slot];

	assert(slot < r->nslots && (e->flags & REGISTRY_USED));
	e->n_attaches++;
	e->atime_ns = now_ns;
}

uint64_t registry_entry_resident(const struct registry_entry *e)
{
	struct stat sb;
	uint64_t bytes;

	/* i_blocks of a shmem inode: its allocated pages, swapped ones
	 * included, in 512-byte units (shmem_getattr()); fstat() reads the
	 * inode, never a page. A huge page may count past the size, hence
	 * the cap. */
	if (fstat(e->fd, &sb) < 0 || sb.st_blocks < 0)
		return 0;
	bytes = (uint64_t)sb.st_blocks * 512;
	return bytes < e->size ? bytes : e->size;
}

uint64_t registry_resident(struct registry *r, uint32_t max_slots)
{
	for (uint32_t n = 0; n < max_slots && r->resident_cursor < r->nslots;
	     n++, r->resident_cursor++) {
		const struct registry_entry *e = &r->entries[r->resident_cursor];

		if (e->flags & REGISTRY_USED)
			r->resident_partial += registry_entry_resident(e);
	}
	if (r->resident_cursor < r->nslots)
		return r->resident_done ? r->resident_total : r->resident_partial;
	r->resident_total = r->resident_partial;
	r->resident_partial = 0;
	r->resident_cursor = 0;
	r->resident_done = true;
	return r->resident_total;
}

uint64_t registry_bytes(const struct registry *r)
{
	return r->bytes;
}

void registry_uid_use(const struct registry *r, uint32_t uid, uint32_t *ret_names,
		      uint64_t *ret_bytes)
{
	const struct uid_count *u = uid_find(r, uid);

	*ret_names = u ? u->count : 0;
	*ret_bytes = u ? u->bytes : 0;
}

uint32_t registry_slots(const struct registry *r)
{
	return r->nslots;
}

uint32_t registry_capacity(const struct registry *r)
{
	return r->capacity;
}

uint32_t registry_max_per_uid(const struct registry *r)
{
	return r->max_per_uid;
}

uint64_t registry_max_bytes_per_uid(const struct registry *r)
{
	return r->max_bytes_per_uid;
}

size_t registry_count(const struct registry *r)
{
	return r->count;
}

size_t registry_fds(const struct registry *r)
{
	return r->count + r->ro_fds;
}

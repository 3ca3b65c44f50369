// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Slot array, free list, and a chained hash table of slot indices keyed with
 * SipHash-2-4: names come from clients, and with a known hash function a
 * hostile client could put every name in one chain (hash flooding).
 */
#include <sys/random.h>

#include "internal.h"
#include "limits.h"
#include "registry.h"
#include "index.h"

#define NO_SLOT		UINT32_MAX
#define BUCKETS_MIN	64

/* Private per-slot state, beside the publishable entry. */
struct slot_link {
	uint32_t next;		/* used: next slot in the bucket; free: next free slot */
	uint32_t hash;
};

struct uid_count {
	uint32_t uid;
	uint32_t count;
};

struct registry {
	struct registry_entry *entries;	/* [capacity] */
	struct slot_link *links;	/* [capacity] */
	uint32_t capacity;
	uint32_t nslots;		/* slots ever used */
	uint32_t free_head;		/* NO_SLOT when empty */
	size_t count;

	uint32_t *buckets;		/* [nbuckets], slot or NO_SLOT */
	uint32_t nbuckets;		/* a power of two */
	uint64_t key[2];

	/* Names per owner. Few distinct owners in practice; linear search. */
	struct uid_count *uids;
	size_t n_uids;
};

static uint32_t name_hash(const struct registry *r, const char *name)
{
	return (uint32_t)sealshm__siphash(name, strlen(name), r->key);
}

int registry_new(struct registry **ret)
{
	struct registry *r;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->free_head = NO_SLOT;

	/* At startup, before the loop. Blocks only until the kernel's pool is
	 * initialised (early boot); a guessable key would defeat SipHash. */
	if (getrandom(r->key, sizeof(r->key), 0) != (ssize_t)sizeof(r->key)) {
		int e = errno ? -errno : -EIO;

		free(r);
		return e;
	}

	r->nbuckets = BUCKETS_MIN;
	r->buckets = malloc(sizeof(*r->buckets) * r->nbuckets);
	if (!r->buckets) {
		free(r);
		return -ENOMEM;
	}
	memset(r->buckets, 0xff, sizeof(*r->buckets) * r->nbuckets);

	*ret = r;
	return 0;
}

struct registry *registry_free(struct registry *r)
{
	if (!r)
		return NULL;
	for (uint32_t i = 0; i < r->nslots; i++)
		if (r->entries[i].flags & REGISTRY_USED)
			safe_close(r->entries[i].fd);
	free(r->entries);
	free(r->links);
	free(r->buckets);
	free(r->uids);
	free(r);
	return NULL;
}

int registry_lookup(const struct registry *r, const char *name)
{
	uint32_t h = name_hash(r, name);

	for (uint32_t s = r->buckets[h & (r->nbuckets - 1)]; s != NO_SLOT; s = r->links[s].next)
		if (r->links[s].hash == h && strcmp(r->entries[s].name, name) == 0)
			return (int)s;
	return -ENOENT;
}

/* Rehash into twice the buckets, keeping chains short (load <= 1). */
static int buckets_grow(struct registry *r)
{
	uint32_t n = r->nbuckets * 2;
	uint32_t *b;

	b = malloc(sizeof(*b) * n);
	if (!b)
		return -ENOMEM;
	memset(b, 0xff, sizeof(*b) * n);
	for (uint32_t s = 0; s < r->nslots; s++) {
		uint32_t i = r->links[s].hash & (n - 1);

		if (!(r->entries[s].flags & REGISTRY_USED))
			continue;
		r->links[s].next = b[i];
		b[i] = s;
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = n;
	return 0;
}

static int slots_grow(struct registry *r)
{
	uint32_t n = r->capacity ? r->capacity * 2 : 64;
	struct registry_entry *e;
	struct slot_link *l;

	if (n > LIMIT_NAMES)
		n = LIMIT_NAMES;
	/* Entries are only ever named by index, so moving them is fine. */
	e = realloc(r->entries, sizeof(*e) * n);
	if (!e)
		return -ENOMEM;
	r->entries = e;
	l = realloc(r->links, sizeof(*l) * n);
	if (!l)
		return -ENOMEM;
	r->links = l;
	memset(r->entries + r->capacity, 0, sizeof(*e) * (n - r->capacity));
	r->capacity = n;
	return 0;
}

static struct uid_count *uid_find(struct registry *r, uint32_t uid)
{
	for (size_t i = 0; i < r->n_uids; i++)
		if (r->uids[i].uid == uid)
			return &r->uids[i];
	return NULL;
}

int registry_add(struct registry *r, const struct registry_entry *e)
{
	struct uid_count *u;
	uint32_t s, h, generation;
	int k;

	assert(e->fd >= 0);
	if (registry_lookup(r, e->name) >= 0)
		return -EEXIST;
	if (r->count >= LIMIT_NAMES)
		return -ENOSPC;

	u = uid_find(r, e->uid);
	if (u && u->count >= LIMIT_NAMES_PER_UID)
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
	if (r->count >= r->nbuckets) {
		k = buckets_grow(r);
		if (k < 0)
			return k;
	}
	if (r->free_head == NO_SLOT && r->nslots == r->capacity) {
		k = slots_grow(r);
		if (k < 0)
			return k;
	}

	if (r->free_head != NO_SLOT) {
		s = r->free_head;
		r->free_head = r->links[s].next;
	} else {
		s = r->nslots++;
	}

	h = name_hash(r, e->name);
	generation = r->entries[s].generation + 1;

	r->entries[s] = *e;
	r->entries[s].flags |= REGISTRY_USED;
	r->entries[s].generation = generation;
	r->links[s] = (struct slot_link){
		.next = r->buckets[h & (r->nbuckets - 1)],
		.hash = h,
	};
	r->buckets[h & (r->nbuckets - 1)] = s;
	r->count++;
	u->count++;
	return (int)s;
}

void registry_remove(struct registry *r, uint32_t slot)
{
	struct registry_entry *e = &r->entries[slot];
	struct uid_count *u;
	uint32_t generation;
	uint32_t *p;

	assert(slot < r->nslots && (e->flags & REGISTRY_USED));

	for (p = &r->buckets[r->links[slot].hash & (r->nbuckets - 1)]; *p != slot;
	     p = &r->links[*p].next)
		assert(*p != NO_SLOT);
	*p = r->links[slot].next;

	u = uid_find(r, e->uid);
	assert(u && u->count > 0);
	if (--u->count == 0)
		*u = r->uids[--r->n_uids];

	safe_close(e->fd);
	generation = e->generation + 1;

	*e = (struct registry_entry){ .fd = -EBADF, .generation = generation };
	r->links[slot].next = r->free_head;
	r->free_head = slot;
	r->count--;
}

const struct registry_entry *registry_get(const struct registry *r, uint32_t slot)
{
	if (slot >= r->nslots || !(r->entries[slot].flags & REGISTRY_USED))
		return NULL;
	return &r->entries[slot];
}

uint32_t registry_slots(const struct registry *r)
{
	return r->nslots;
}

size_t registry_count(const struct registry *r)
{
	return r->count;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry: name -> segment. It owns one fd per registered name.
 *
 * Entries live in a slot array (reused through a free list); a slot index
 * is what a LIST cursor names. A keyed hash table (SipHash-2-4, random key)
 * maps names to slots in O(1), whatever names clients choose.
 *
 * struct registry_entry is a fixed layout without pointers, so a later
 * issue can move the slot array into a memfd of trackerd's own and publish
 * it read-only: a same-uid client would find a name's slot there and take
 * its fd with pidfd_getfd(trackerd, entry->fd), with no round trip. Hash
 * links and other private state are kept apart from it for that reason, as
 * are the sessions tracking a name (session.c, by slot).
 */
#ifndef TRACKERD_REGISTRY_H
#define TRACKERD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* registry_entry.flags */
#define REGISTRY_USED	(1u << 0)	/* the slot holds a name */
#define REGISTRY_TRACK	(1u << 1)	/* created with SEALSHM_PROTO_TRACK */
#define REGISTRY_LIFETIME_LAST (1u << 2) /* lives until the last tracking session ends */

struct registry_entry {
	char name[SEALSHM_PROTO_NAME_SIZE];	/* NUL-padded */
	uint64_t size;		/* bytes, sealed */
	uint64_t ino;		/* the memfd's inode number */
	int64_t ctime_ns;	/* registration, CLOCK_REALTIME */
	uint32_t uid;		/* owner, from SO_PEERCRED */
	uint32_t gid;
	uint32_t mode;		/* permission bits, <= 0777 */
	uint32_t seals;		/* F_SEAL_* at registration */
	uint32_t creator_pid;	/* from SO_PEERCRED */
	uint32_t flags;		/* REGISTRY_* */
	int32_t fd;		/* trackerd's fd (a pidfd_getfd() target) */
	uint32_t generation;	/* bumped whenever the slot changes */
};

struct registry;

int registry_new(struct registry **ret);
/* Closes every fd. NULL is fine. Returns NULL. */
struct registry *registry_free(struct registry *r);

/* Slot of @name, or -ENOENT. */
int registry_lookup(const struct registry *r, const char *name);

/* Register a copy of @e (name, fd and fields filled in). On success the
 * registry owns e->fd and the slot is returned. Errors: -EEXIST,
 * -ENOSPC (LIMIT_NAMES), -EDQUOT (LIMIT_NAMES_PER_UID for e->uid), -ENOMEM. */
int registry_add(struct registry *r, const struct registry_entry *e);

/* Remove the name in @slot and close its fd. Sessions must have forgotten
 * it first (sessions_forget_name()): the slot is reused. */
void registry_remove(struct registry *r, uint32_t slot);

/* The entry in @slot, or NULL when the slot is free or beyond the end. */
const struct registry_entry *registry_get(const struct registry *r, uint32_t slot);

/* Slots ever used: every entry has a slot below this. */
uint32_t registry_slots(const struct registry *r);
size_t registry_count(const struct registry *r);

#endif /* TRACKERD_REGISTRY_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry: name -> segment. It owns one fd per registered name, and a
 * second one for a name whose read-only twin trackerd had to keep (see
 * registry_entry.ro_fd).
 *
 * Entries live in a slot array reserved at its largest size (--max-names;
 * reserve.h) and reused through a free list; a slot index is what a LIST
 * cursor and the published index (index.h) name. A keyed hash table
 * (SipHash-2-4, random key) maps names to slots; it grows one bucket at a
 * time (linear hashing), so every operation is O(1), never a rehash of a
 * million names. Each name's string is allocated to its length: a million
 * short names cost well under 256 bytes each, all tables included.
 *
 * Every add and remove is mirrored in the published index (when there is
 * one), at the same slot, with the same generation.
 */
#ifndef TRACKERD_REGISTRY_H
#define TRACKERD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct index;

/* registry_entry.flags */
#define REGISTRY_USED	(1u << 0)	/* the slot holds a name */
#define REGISTRY_TRACK	(1u << 1)	/* created with SEALSHM_PROTO_TRACK */
#define REGISTRY_LIFETIME_LAST (1u << 2) /* lives until the last tracking session ends */

struct registry_entry {
	const char *name;	/* owned by the registry, NUL-terminated */
	uint64_t size;		/* bytes, sealed */
	uint64_t ino;		/* the memfd's inode number */
	int64_t ctime_ns;	/* registration, CLOCK_REALTIME */
	uint32_t uid;		/* owner, from SO_PEERCRED */
	uint32_t gid;
	uint16_t mode;		/* permission bits, <= 0777 */
	uint16_t flags;		/* REGISTRY_* */
	uint32_t seals;		/* F_SEAL_* at registration */
	uint32_t creator_pid;	/* from SO_PEERCRED */
	int32_t fd;		/* trackerd's fd, O_RDWR (a pidfd_getfd() target) */
	/* The creator's O_RDONLY open of the same memfd, kept only when
	 * trackerd could not reopen the memfd read-only itself (it runs as
	 * another uid than the creator and the mode refuses it); read-only
	 * attaches get it.  Negative: none. */
	int32_t ro_fd;
	uint32_t generation;	/* bumped whenever the slot changes */
	/* Attaches served by round trip and fast attaches a session reported
	 * (registry_note_attach()); the last of them, CLOCK_REALTIME, 0: none. */
	uint64_t n_attaches;
	int64_t atime_ns;
	/* Private to registry.c. */
	uint32_t next;		/* used: next slot + 1 in the bucket; free: next free slot + 1 */
	uint32_t hash;
};
/* A million names are a million entries: a field more must take the room
 * of one that goes (bench/scale_bench.c measures the bytes per name). */
_Static_assert(sizeof(struct registry_entry) == 88, "registry entry size");

struct registry;

/* A registry of at most @max_names names, @max_per_uid per owner uid,
 * whose sizes add up to at most @max_bytes_per_uid per owner uid (0: no
 * limit), mirrored into @index (NULL: none; its capacity must be
 * @max_names). */
int registry_new(uint32_t max_names, uint32_t max_per_uid, uint64_t max_bytes_per_uid,
		 struct index *index, struct registry **ret);
/* Closes every fd. NULL is fine. Returns NULL. */
struct registry *registry_free(struct registry *r);

/* Slot of @name, or -ENOENT. */
int registry_lookup(const struct registry *r, const char *name);

/* Register @name with a copy of @e (fd, ro_fd and fields filled in; e->name,
 * next and hash are ignored). On success the registry owns e->fd and
 * e->ro_fd (when not negative) and the slot is returned. Errors: -EEXIST,
 * -ENOSPC (max_names), -EDQUOT (max_per_uid or max_bytes_per_uid for
 * e->uid), -ENOMEM. */
int registry_add(struct registry *r, const char *name, const struct registry_entry *e);

/* Remove the name in @slot and close its fds. Sessions must have forgotten
 * it first (sessions_forget_name()): the slot is reused. */
void registry_remove(struct registry *r, uint32_t slot);

/* The entry in @slot, or NULL when the slot is free or beyond the end. */
const struct registry_entry *registry_get(const struct registry *r, uint32_t slot);

/* Count one attach of the name in @slot (a used one), at @now_ns
 * (CLOCK_REALTIME). */
void registry_note_attach(struct registry *r, uint32_t slot, int64_t now_ns);

/* Bytes of @e's memfd that are allocated (fstat()'s st_blocks, capped at
 * its size; its pages are never mapped or touched). 0 when fstat() fails. */
uint64_t registry_entry_resident(const struct registry_entry *e);
/* The resident bytes of every name, summed in passes over the slots of at
 * most @max_slots slots per call (one fstat() per name costs about a
 * microsecond: a pass over a million names at once would stall every
 * client).  When the pass that this call continues ends in it, as it
 * always does when there are no more than @max_slots slots, the result is
 * that pass's sum; otherwise the sum of the last complete pass (or, before
 * the first one, of this pass so far). */
uint64_t registry_resident(struct registry *r, uint32_t max_slots);
/* Sum of the sizes of every name. */
uint64_t registry_bytes(const struct registry *r);
/* What owner @uid uses of its quotas: names and bytes (0 and 0 when it
 * owns none). */
void registry_uid_use(const struct registry *r, uint32_t uid, uint32_t *ret_names,
		      uint64_t *ret_bytes);

/* Slots ever used: every entry has a slot below this. */
uint32_t registry_slots(const struct registry *r);
/* Slots there can be (max_names): every slot is below this. */
uint32_t registry_capacity(const struct registry *r);
/* The other limits registry_new() was given: names and bytes per owner uid
 * (bytes 0: no limit). */
uint32_t registry_max_per_uid(const struct registry *r);
uint64_t registry_max_bytes_per_uid(const struct registry *r);
size_t registry_count(const struct registry *r);
/* fds the names hold: one each, two for a name with a read-only twin. */
size_t registry_fds(const struct registry *r);

#endif /* TRACKERD_REGISTRY_H */

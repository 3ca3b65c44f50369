/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The published index: a read-only map of trackerd's names that clients of
 * trackerd's own uid (or root) use to attach without a round trip.  This is
 * its only definition, shared by trackerd (writer) and libsealshm (reader).
 *
 * trackerd keeps it in a memfd of its own, mapped read-write by trackerd
 * alone and sealed with F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW
 * before it is handed out, so no client can map it writable or resize it.
 * A client gets it once (SEALSHM_MSG_INDEX), maps it PROT_READ, and for an
 * attach looks the name up, takes trackerd's fd with pidfd_getfd(2), and
 * checks inode, seals and size of what it got before mapping it: the index
 * only says where to look, the fd itself is the proof.
 *
 * Consistency: one sequence counter (a seqlock).  trackerd makes it odd,
 * changes buckets and entries, makes it even again.  A reader copies what it
 * needs between two reads of an even, unchanged counter, and retries (or
 * falls back to the round trip) otherwise.  Readers never trust an offset or
 * index from the map without bounds checks: a torn read must not make them
 * read outside the mapping.
 *
 * Layout (all offsets from the start of the memfd, 8-aligned):
 *   header | uint32_t buckets[n_buckets] | struct sealshm_index_entry[capacity]
 * Entry i mirrors registry slot i.  Bucket b holds (entry index + 1) of the
 * first entry whose name hashes to b, 0 when none; entries chain by next.
 */
#ifndef SEALSHM_INDEX_FORMAT_H
#define SEALSHM_INDEX_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define SEALSHM_INDEX_MAGIC	0x58444953u	/* "SIDX" little-endian */
#define SEALSHM_INDEX_VERSION	1u
/* Longer names are not published (the client uses the round trip): an
 * entry stays 128 bytes, so a million names cost 128 MiB of index at most. */
#define SEALSHM_INDEX_NAME_MAX	79

struct sealshm_index_header {
	uint32_t magic;		/* SEALSHM_INDEX_MAGIC */
	uint32_t version;	/* SEALSHM_INDEX_VERSION */
	uint64_t seq;		/* seqlock: odd while trackerd writes */
	uint64_t hash_key[2];	/* SipHash-2-4 key: bucket = hash(name) & (n_buckets - 1) */
	uint32_t n_buckets;	/* a power of two */
	uint32_t capacity;	/* entries */
	uint64_t buckets_off;
	uint64_t entries_off;
	uint64_t size;		/* bytes of the whole index (the memfd's size) */
	uint32_t server_pid;	/* trackerd, in its own pid namespace (informative) */
	uint32_t __pad;
};
_Static_assert(sizeof(struct sealshm_index_header) == 72, "index header size");

/* Entry flags */
#define SEALSHM_INDEX_USED	(1u << 0)	/* the slot holds a published name */

struct sealshm_index_entry {
	uint32_t next;		/* entry index + 1 of the next in the bucket, 0 = end */
	uint32_t flags;		/* SEALSHM_INDEX_* */
	int32_t fd;		/* trackerd's fd number for the segment */
	uint32_t generation;	/* changes whenever the slot is reused */
	uint64_t ino;		/* the memfd's inode number */
	uint64_t size;		/* bytes */
	uint32_t uid;		/* owner, mode: the client applies the same rule as trackerd */
	uint32_t gid;
	uint32_t mode;
	uint32_t name_len;	/* 1..SEALSHM_INDEX_NAME_MAX */
	char name[SEALSHM_INDEX_NAME_MAX + 1];	/* NUL-terminated */
};
_Static_assert(sizeof(struct sealshm_index_entry) == 128, "index entry size");

#endif /* SEALSHM_INDEX_FORMAT_H */

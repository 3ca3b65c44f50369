/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fast path: attach by name without a round trip, through the index a
 * trackerd publishes (lib/index_format.h) and its pidfd.  This file owns
 * one index: fetching and mapping it, and an attach through it.  When a
 * process asks for an index, keeps it, and drops it is lib/peer.c's.
 */
#ifndef SEALSHM_FASTPATH_H
#define SEALSHM_FASTPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "index_format.h"
#include "perm.h"

/* One trackerd's published index, mapped read-only, and its pidfd. */
struct sealshm__index;

/* One INDEX round trip on @sock (seq ++*@seq).  @epoch tells this index
 * apart from every other this process held (sessions remember TRACKs per
 * index).  Returns 1 and *@ret; 0 when trackerd refused or sent something
 * unusable (the connection is still in step; do not ask this trackerd
 * again); or a negative errno when the connection must not be used any
 * more: -EPROTO when trackerd refused INDEX as malformed (it does not know
 * it), a transport error otherwise. */
int sealshm__index_fetch(int sock, uint32_t *seq, uint64_t epoch, struct sealshm__index **ret);

/* Unmap, close, free.  NULL is fine; returns NULL. */
struct sealshm__index *sealshm__index_free(struct sealshm__index *x);

/* Has the trackerd behind @x exited? */
bool sealshm__index_gone(const struct sealshm__index *x);

/* What a fast attach hands over: an fd of the segment (O_RDWR, checked:
 * memfd, size seals, exactly @size bytes, the published inode) and what a
 * session's TRACK needs to name the registration. */
struct sealshm__fast_attach {
	int fd;
	int32_t remote_fd;	/* trackerd's fd number for it */
	uint64_t size;
	uint64_t epoch;
	uint64_t ino;
	uint32_t slot;
	uint32_t generation;
};

enum sealshm__fast {
	SEALSHM__FAST_NO,	/* take the round trip this time: it gives the real answer */
	SEALSHM__FAST_YES,	/* *ret is filled */
	SEALSHM__FAST_OFF,	/* never again in this process: drop the index */
	SEALSHM__FAST_STALE,	/* trackerd has gone: drop the index, ask its successor */
};

/* Attach @name (checked, no leading '/') through @x, as @cr (who trackerd
 * thinks we are) with trackerd's permission rule: a name not published,
 * denied, write-sealed for a read-write attach, or any doubt is
 * SEALSHM__FAST_NO. */
enum sealshm__fast sealshm__index_attach(struct sealshm__index *x, const struct sealshm__cred *cr,
					 const char *name, bool rdonly,
					 struct sealshm__fast_attach *ret);

/* Does @x still publish the registration @fa was attached through?  After
 * a TRACK was sent for it, yes means trackerd will read that TRACK before
 * it could remove the name for a session's end (it reads every session's
 * pending TRACKs first), so the name is tracked; no means it may be gone
 * already, untracked: ask the round trip. */
bool sealshm__index_still(const struct sealshm__index *x, const struct sealshm__fast_attach *fa);

#endif /* SEALSHM_FASTPATH_H */

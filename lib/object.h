/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The layer under every shared object (lock.c, sem.c, event.c, cond.c,
 * barrier.c): the header each object starts with, the checks every call
 * makes before it trusts the memory, this process's holder for the
 * object's trackerd (holder.h), deadlines, and futex waits that also wake
 * when a holder dies.  lib/object.c; it knows none of the objects.
 *
 * Layouts are in Documentation/objects.md.  Every futex here is a shared
 * (not FUTEX_PRIVATE) one on a 4-aligned word of a MAP_SHARED mapping.
 */
#ifndef SEALSHM_OBJECT_H
#define SEALSHM_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "holder.h"
#include "include/sealshm.h"
#include "segment.h"

#define SEALSHM__OBJECT_MAGIC	0x4a424f53u	/* "SOBJ" little-endian */
#define SEALSHM__OBJECT_VERSION	1u

/* The first 16 bytes of every object. */
struct sealshm__object_hdr {
	uint32_t magic;		/* SEALSHM__OBJECT_MAGIC, written last by _init() */
	uint8_t version;	/* SEALSHM__OBJECT_VERSION */
	uint8_t type;		/* enum sealshm_object_type */
	uint16_t size;		/* bytes of the whole object */
	uint64_t instance;	/* the liveness instance of its trackerd (holder.h) */
};
_Static_assert(sizeof(struct sealshm__object_hdr) == 16, "object header size");

/* Lock words of Lock, RLock and the robust Semaphore's guard:
 * WAITERS | OWNER_DIED | holder id (0: free, SEALSHM_HOLDER_NONE: not
 * recoverable). */
#define SEALSHM__WORD_WAITERS		(1u << 31)
#define SEALSHM__WORD_OWNER_DIED	(1u << 30)
#define SEALSHM__WORD_HOLDER(w)		((w) & SEALSHM_HOLDER_MASK)

/* --- the checks of sealshm__object_enter() where every answer is cached --- */

/* The first 8 bytes of an initialised object of @type and @size, as one
 * 64-bit word in memory order (constant-folded by the compiler). */
static inline uint64_t sealshm__object_header_word(uint32_t type, size_t size)
{
	struct sealshm__object_hdr h = {
		.magic = SEALSHM__OBJECT_MAGIC,
		.version = SEALSHM__OBJECT_VERSION,
		.type = (uint8_t)type,
		.size = (uint16_t)size,
	};
	uint64_t w;

	memcpy(&w, &h, sizeof(w));
	return w;
}

/*
 * object.c's caches, which only it writes: the granules (4 KiB) found
 * writable, each entry tagged with the granule and the generation of
 * sealshm__unmap_gen (segment.h) it was probed in; and the holder last
 * found.
 */
#define SEALSHM__GRANULE_SHIFT	12
#define SEALSHM__WCACHE_BITS	4
#define SEALSHM__WCACHE_SLOTS	(1u << SEALSHM__WCACHE_BITS)
extern uint64_t sealshm__wcache[SEALSHM__WCACHE_SLOTS];
extern const struct sealshm__holder *sealshm__last_holder;

/* The entry that says granule @g was writable in generation @gen, or 0
 * when @g cannot be cached (its tag does not fit in 32 bits). */
static inline uint64_t sealshm__wcache_entry(uintptr_t g, uint32_t gen)
{
	uint64_t tag = (uint64_t)(g >> SEALSHM__WCACHE_BITS) + 1;

	return tag > UINT32_MAX ? 0 : tag << 32 | gen;
}

/*
 * Every check of sealshm__object_enter(), none skipped, answered from the
 * caches alone: true when @obj is aligned, holds an initialised object of
 * @type and @size, lies in one granule found writable in the current
 * generation, and belongs to the trackerd of the holder last found, whose
 * id (read once, not 0) is *@ret_id.  False means "ask
 * sealshm__object_enter()": something is wrong, or a cache missed.  No
 * call, no store: for the common path of the calls that cannot wait
 * (lock.c).
 */
static inline bool sealshm__object_enter_fast(void *obj, uint32_t type, size_t size,
					      const struct sealshm__holder **ret_h,
					      uint32_t *ret_id)
{
	const struct sealshm__object_hdr *hdr = obj;
	const struct sealshm__holder *h;
	uintptr_t a = (uintptr_t)obj, g = a >> SEALSHM__GRANULE_SHIFT;
	uint32_t gen, id;
	uint64_t e;

	if (!obj || (a & (SEALSHM_OBJECT_ALIGN - 1)) ||
	    g != (a + size - 1) >> SEALSHM__GRANULE_SHIFT)
		return false;
	/* Acquire: pairs with the release store of the magic by
	 * sealshm__object_init_end(). */
	if (__atomic_load_n((const uint64_t *)obj, __ATOMIC_ACQUIRE) !=
	    sealshm__object_header_word(type, size))
		return false;
	/* Acquire: an unmap before the bump shows after it. */
	gen = __atomic_load_n(&sealshm__unmap_gen, __ATOMIC_ACQUIRE);
	e = sealshm__wcache_entry(g, gen);
	if (!e || __atomic_load_n(&sealshm__wcache[g % SEALSHM__WCACHE_SLOTS],
				  __ATOMIC_RELAXED) != e)
		return false;
	h = __atomic_load_n(&sealshm__last_holder, __ATOMIC_ACQUIRE);
	if (!h || h->instance != hdr->instance)
		return false;
	/* 0 in a forked child until it has an id of its own. */
	id = __atomic_load_n(&h->id, __ATOMIC_ACQUIRE);
	if (id == 0)
		return false;
	*ret_h = h;
	*ret_id = id;
	return true;
}

/*
 * Start setting up an object of @size bytes at @obj: checks alignment
 * (-EINVAL) and that the memory is writable (-EROFS, without a fault),
 * and gets the holder of the trackerd @opts chooses (*@ret).  The caller
 * then fills in its fields and calls sealshm__object_init_end().
 */
int sealshm__object_init_begin(void *obj, size_t size, const struct sealshm_opts *opts,
			       const struct sealshm__holder **ret);
/* Write @obj's header (magic last, with a release store). */
void sealshm__object_init_end(void *obj, uint32_t type, size_t size,
			      const struct sealshm__holder *h);

/*
 * What every call does first: @obj is aligned, holds an initialised object
 * of @type and of its size (-EBADMSG otherwise), lies in memory this
 * process may write (-EROFS; a cache of pages found writable makes it
 * cheap), and *@ret is this process's holder for its trackerd, with its id
 * set (asked for again after fork()) (-ENXIO when that trackerd cannot be reached).  Cheap when nothing
 * changed: a few loads and compares.
 */
int sealshm__object_enter(void *obj, uint32_t type, size_t size,
			  const struct sealshm__holder **ret);

/* Whether [@mem, @mem + @size) may be written (-EROFS when not), found
 * without a fault, as sealshm__object_enter() finds it: for objects of
 * more than a header (an array's items).  @mem is 4-aligned, @size > 0. */
int sealshm__object_writable(const void *mem, size_t size);

/* Only the checks of the header (no holder, no writability): for
 * sealshm_object_info() over @len readable bytes. */
int sealshm__object_check(const void *obj, size_t len, uint32_t *ret_type, size_t *ret_size);

/*
 * The CLOCK_MONOTONIC deadline (ns) of @timeout as the wait calls take it
 * (NULL: none, -1; SEALSHM_WAIT_ABSTIME in @flags: absolute, else
 * relative).  -EINVAL for a bad timespec or unknown flags (@flags_ok are
 * the flags the call takes).
 */
int sealshm__deadline(const struct timespec *timeout, uint32_t flags, uint32_t flags_ok,
		      int64_t *ret_ns);

/*
 * Sleep while *@word == @val and @h's death epoch is still @epoch (read
 * it before the check that made you decide to sleep), until @deadline_ns
 * (-1: none): futex_waitv(2) on both words, or a wait on @word in slices
 * of a few ms where the kernel lacks it.  Returns 0 (woken, value or
 * epoch changed: look again), -ETIMEDOUT or -EINTR (a signal handler ran).
 */
int sealshm__object_wait(const uint32_t *word, uint32_t val, const struct sealshm__holder *h,
			 uint32_t epoch, int64_t deadline_ns);
/* Wake up to @n sleepers on @word (INT_MAX: all); returns how many. */
int sealshm__object_wake(const uint32_t *word, int n);
/* FUTEX_CMP_REQUEUE: if *@from == @val, wake @n_wake on @from and move up
 * to @n_requeue others to @to.  Returns >= 0, or -EAGAIN when *@from changed. */
int sealshm__object_requeue(const uint32_t *from, uint32_t val, int n_wake, const uint32_t *to,
			    int n_requeue);

/*
 * What objects.c knows of each type: one of these per type, defined in
 * the type's file (lock.c: Lock and RLock; sem.c; event.c; cond.c;
 * barrier.c) and declared in its header (lock.h, sem.h, ...).  objects.c,
 * above them all, keeps the table.
 */
struct sealshm__type {
	uint32_t type;		/* SEALSHM_OBJECT_* */
	uint32_t size;		/* sizeof the public struct */
	const char *name;	/* sealshm_object_type_name() */
	/* Set up an object at @obj as @params says (sealshm_object_create()). */
	int (*init)(void *obj, const struct sealshm_object_params *params,
		    const struct sealshm_opts *opts);
	/* Fill the type's fields of @info (type, size and instance are
	 * filled already) from the object at @obj, checked by
	 * sealshm__object_check(); @h is its holder when this process reaches
	 * its trackerd, else NULL (then holder_pid stays 0). */
	void (*info)(const void *obj, const struct sealshm__holder *h,
		     struct sealshm_object_info *info);
};

#endif /* SEALSHM_OBJECT_H */

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The layer under every shared object (object.h): the header checks, the
 * writability of the memory an object lies in, this process's holder for
 * its trackerd, deadlines, and futex waits that also wake when a holder
 * dies.
 *
 * Every call on an object passes through sealshm__object_enter(), so it
 * must cost a few loads and compares when nothing changed: the header is
 * checked with one 64-bit load, writability with a cache of pages found
 * writable, and the holder with a cache of the last one found.
 */
#include <limits.h>
#include <linux/futex.h>
#include <linux/time_types.h>
#include <sys/syscall.h>
#include <time.h>

#include "clock.h"
#include "internal.h"
#include "object.h"
#include "segment.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449		/* Linux 5.16 */
#endif

/* Without futex_waitv(2) (before Linux 5.16), a waiter sleeps on the
 * object's word alone, in slices this long, and looks at the death epoch
 * between them: a dead holder is noticed this late at worst. */
#define WAIT_SLICE_NS	(4 * NSEC_PER_MSEC)

/* --- the header ----------------------------------------------------------- */

static inline bool aligned(const void *obj)
{
	return ((uintptr_t)obj & (SEALSHM_OBJECT_ALIGN - 1)) == 0;
}

/* --- writability ------------------------------------------------------------ */

/*
 * Pages are tracked in 4 KiB granules: permissions never change inside
 * one (no page is smaller), whatever the page size.  Permissions belong
 * to the process, so the cache is the process's: a small direct-mapped
 * table whose entries each carry the granule and the value of
 * sealshm__unmap_gen (segment.h) when it was probed, in one 64-bit word
 * that is loaded and stored whole.  An entry of an older generation
 * never matches: since then the library unmapped a segment or remapped
 * one read-only in place, and the address may be read-only now.  No lock,
 * no thread-local storage, no call on the common path; a forked child's
 * mappings are its parent's, and so is its cache.
 *
 * The slot gives the granule's low bits; the rest must fit in 32 bits
 * (addresses below 2^52, which covers every user address of a 4-level
 * page table): above that, every call probes.  The table is declared in
 * object.h, whose sealshm__object_enter_fast() reads it without a call.
 */
uint64_t sealshm__wcache[SEALSHM__WCACHE_SLOTS];

/* A futex word nobody waits on: the first address of the probe below. */
static uint32_t probe_anchor;

/*
 * Whether the 4-aligned word at @addr may be written, without a fault:
 * FUTEX_WAKE_OP ORs 0 into it atomically (so it changes nothing, and
 * loses no concurrent store) and fails with EFAULT where a write would
 * fault.  It may wake one waiter on @addr (when the word reads -1), which
 * every futex waiter takes as a spurious wake-up; none on probe_anchor.
 */
static int probe_writable(uintptr_t addr)
{
	long r = syscall(SYS_futex, &probe_anchor, FUTEX_WAKE_OP, 0, (void *)0, (void *)addr,
			 FUTEX_OP(FUTEX_OP_OR, 0, FUTEX_OP_CMP_EQ, 0xfff));

	if (r >= 0)
		return 0;
	return errno == EFAULT ? -EROFS : -errno;
}

/* The slow path of writable(): each granule [@first, @last] not in the
 * cache probed at the object's first 4-aligned word there (@a, or the
 * granule's start), then entered. */
static __attribute__((noinline)) int writable_slow(uint32_t gen, uintptr_t a, uintptr_t first,
						   uintptr_t last)
{
	for (uintptr_t g = first; g <= last; g++) {
		uint64_t *slot = &sealshm__wcache[g % SEALSHM__WCACHE_SLOTS];
		uint64_t e = sealshm__wcache_entry(g, gen);
		int r;

		if (e && __atomic_load_n(slot, __ATOMIC_RELAXED) == e)
			continue;
		r = probe_writable(g == first ? a : g << SEALSHM__GRANULE_SHIFT);
		if (r < 0)
			return r;
		__atomic_store_n(slot, e, __ATOMIC_RELAXED);
	}
	return 0;
}

/* Whether [@obj, @obj + @size) may be written: each 4 KiB granule it
 * spans is probed once per generation. */
static inline int writable(const void *obj, size_t size)
{
	uintptr_t a = (uintptr_t)obj;
	uintptr_t first = a >> SEALSHM__GRANULE_SHIFT;
	uintptr_t last = (a + size - 1) >> SEALSHM__GRANULE_SHIFT;
	/* Acquire: an unmap before the bump shows after it. */
	uint32_t gen = __atomic_load_n(&sealshm__unmap_gen, __ATOMIC_ACQUIRE);
	uint64_t e = sealshm__wcache_entry(first, gen);

	const uint64_t *slot = &sealshm__wcache[first % SEALSHM__WCACHE_SLOTS];

	if (__builtin_expect(first == last && e && __atomic_load_n(slot, __ATOMIC_RELAXED) == e, 1))
		return 0;
	return writable_slow(gen, a, first, last);
}

int sealshm__object_writable(const void *mem, size_t size)
{
	if (!mem || ((uintptr_t)mem & 3) || size == 0)
		return -EINVAL;
	return writable(mem, size);
}

/* --- this process's holder ------------------------------------------------------ */

/* The holder last found, so that the common case costs no call: its
 * instance never changes, and its id is 0 in a forked child until it has
 * one of its own (then holder.c is asked).  sealshm__object_enter_fast()
 * (object.h) reads it too. */
const struct sealshm__holder *sealshm__last_holder;

static inline int holder_of(uint64_t instance, const struct sealshm__holder **ret)
{
	const struct sealshm__holder *h;
	int r;

	h = __atomic_load_n(&sealshm__last_holder, __ATOMIC_ACQUIRE);

	if (__builtin_expect(h && h->instance == instance &&
			     __atomic_load_n(&h->id, __ATOMIC_ACQUIRE) != 0, 1)) {
		*ret = h;
		return 0;
	}
	r = sealshm__holder_find(instance, &h);
	if (r < 0)
		return r;
	__atomic_store_n(&sealshm__last_holder, h, __ATOMIC_RELEASE);
	*ret = h;
	return 0;
}

/* --- entering and setting up ------------------------------------------------ */

int sealshm__object_enter(void *obj, uint32_t type, size_t size,
			  const struct sealshm__holder **ret)
{
	const struct sealshm__object_hdr *hdr = obj;
	int r;

	if (__builtin_expect(!obj || !aligned(obj), 0))
		return -EINVAL;
	/* Acquire: pairs with the release store of the magic in
	 * sealshm__object_init_end(), so the fields written before it show. */
	if (__builtin_expect(__atomic_load_n((const uint64_t *)obj, __ATOMIC_ACQUIRE) !=
			     sealshm__object_header_word(type, size), 0))
		return -EBADMSG;
	r = writable(obj, size);
	if (__builtin_expect(r < 0, 0))
		return r;
	return holder_of(hdr->instance, ret);
}

int sealshm__object_init_begin(void *obj, size_t size, const struct sealshm_opts *opts,
			       const struct sealshm__holder **ret)
{
	const struct sealshm__holder *h;
	int r;

	if (!obj || !aligned(obj) || size < sizeof(struct sealshm__object_hdr) ||
	    size > UINT16_MAX || !OPTS_VALID(opts, sealshm_opts))
		return -EINVAL;
	r = writable(obj, size);
	if (r < 0)
		return r;
	r = sealshm__holder_get(opts, &h);
	if (r < 0)
		return r;
	/* Whoever looks at it from now on finds no object until _init_end(). */
	__atomic_store_n(&((struct sealshm__object_hdr *)obj)->magic, 0, __ATOMIC_RELEASE);
	*ret = h;
	return 0;
}

void sealshm__object_init_end(void *obj, uint32_t type, size_t size,
			      const struct sealshm__holder *h)
{
	struct sealshm__object_hdr *hdr = obj;

	hdr->version = SEALSHM__OBJECT_VERSION;
	hdr->type = (uint8_t)type;
	hdr->size = (uint16_t)size;
	hdr->instance = h->instance;
	__atomic_store_n(&hdr->magic, SEALSHM__OBJECT_MAGIC, __ATOMIC_RELEASE);
}

int sealshm__object_check(const void *obj, size_t len, uint32_t *ret_type, size_t *ret_size)
{
	struct sealshm__object_hdr h;

	if (!obj || !aligned(obj))
		return -EINVAL;
	if (len < sizeof(h))
		return -EBADMSG;
	h.magic = __atomic_load_n(&((const struct sealshm__object_hdr *)obj)->magic,
				  __ATOMIC_ACQUIRE);
	memcpy((char *)&h + sizeof(h.magic), (const char *)obj + sizeof(h.magic),
	       sizeof(h) - sizeof(h.magic));
	if (h.magic != SEALSHM__OBJECT_MAGIC || h.version != SEALSHM__OBJECT_VERSION ||
	    h.size < sizeof(h) || h.size > len)
		return -EBADMSG;
	*ret_type = h.type;
	*ret_size = h.size;
	return 0;
}

/* --- deadlines -------------------------------------------------------------- */

int sealshm__deadline(const struct timespec *timeout, uint32_t flags, uint32_t flags_ok,
		      int64_t *ret_ns)
{
	int64_t base = 0, sec;

	if (flags & ~flags_ok)
		return -EINVAL;
	if (!timeout) {
		*ret_ns = -1;
		return 0;
	}
	if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	if (!(flags & SEALSHM_WAIT_ABSTIME))
		base = sealshm__now_ns(CLOCK_MONOTONIC);
	/* Saturate: a deadline past the year 2262 is none. */
	sec = (int64_t)timeout->tv_sec;
	if (sec >= (INT64_MAX - base) / NSEC_PER_SEC - 1) {
		*ret_ns = -1;
		return 0;
	}
	*ret_ns = base + sec * NSEC_PER_SEC + timeout->tv_nsec;
	return 0;
}

/* --- waiting and waking ----------------------------------------------------- */

static long futex(const uint32_t *word, int op, uint32_t val, const struct timespec *ts,
		  const uint32_t *word2, uint32_t val3)
{
	return syscall(SYS_futex, word, op, val, ts, word2, val3);
}

/* Set once a futex_waitv(2) call said ENOSYS; a forked child inherits the
 * kernel's answer with it. */
static bool waitv_missing;

/* The wait before Linux 5.16: the word alone, a slice at a time. */
static int wait_sliced(const uint32_t *word, uint32_t val, const struct sealshm__holder *h,
		       uint32_t epoch, int64_t deadline_ns)
{
	int64_t now = sealshm__now_ns(CLOCK_MONOTONIC), slice = WAIT_SLICE_NS;
	struct timespec ts;

	if (deadline_ns >= 0) {
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		if (deadline_ns - now < slice)
			slice = deadline_ns - now;
	}
	if (sealshm__holder_epoch(h) != epoch)
		return 0;
	ts.tv_sec = slice / NSEC_PER_SEC;
	ts.tv_nsec = slice % NSEC_PER_SEC;
	if (futex(word, FUTEX_WAIT, val, &ts, NULL, 0) == 0)
		return 0;
	switch (errno) {
	case EAGAIN:
		return 0;
	case ETIMEDOUT:
		/* A slice ended: the caller looks at the epoch again. */
		if (deadline_ns >= 0 && sealshm__now_ns(CLOCK_MONOTONIC) >= deadline_ns)
			return -ETIMEDOUT;
		return 0;
	case EINTR:
		return -EINTR;
	default:
		return -errno;
	}
}

int sealshm__object_wait(const uint32_t *word, uint32_t val, const struct sealshm__holder *h,
			 uint32_t epoch, int64_t deadline_ns)
{
	if (!__atomic_load_n(&waitv_missing, __ATOMIC_RELAXED)) {
		struct futex_waitv w[2] = {
			{ .val = val, .uaddr = (uintptr_t)word, .flags = FUTEX_32 },
			{ .val = epoch, .uaddr = (uintptr_t)sealshm__holder_epoch_word(h),
			  .flags = FUTEX_32 },
		};
		struct __kernel_timespec ts, *tsp = NULL;

		if (deadline_ns >= 0) {
			ts.tv_sec = deadline_ns / NSEC_PER_SEC;
			ts.tv_nsec = deadline_ns % NSEC_PER_SEC;
			tsp = &ts;
		}
		/* No FUTEX_PRIVATE_FLAG: the words are shared with other
		 * processes.  Either word woken, or either one changed
		 * before we slept: look again. */
		if (syscall(SYS_futex_waitv, w, 2, 0, tsp, CLOCK_MONOTONIC) >= 0)
			return 0;
		switch (errno) {
		case EAGAIN:
			return 0;
		case ETIMEDOUT:
			return -ETIMEDOUT;
		case EINTR:
			return -EINTR;
		case ENOSYS:
			__atomic_store_n(&waitv_missing, true, __ATOMIC_RELAXED);
			break;
		default:
			return -errno;
		}
	}
	return wait_sliced(word, val, h, epoch, deadline_ns);
}

int sealshm__object_wake(const uint32_t *word, int n)
{
	long r = futex(word, FUTEX_WAKE, (uint32_t)n, NULL, NULL, 0);

	return r < 0 ? -errno : (int)r;
}

int sealshm__object_requeue(const uint32_t *from, uint32_t val, int n_wake, const uint32_t *to,
			    int n_requeue)
{
	/* The fourth argument is val2, the most to requeue, cast as a
	 * pointer (futex(2)). */
	long r = syscall(SYS_futex, from, FUTEX_CMP_REQUEUE, n_wake,
			 (void *)(uintptr_t)n_requeue, to, val);

	return r < 0 ? -errno : (int)r;
}

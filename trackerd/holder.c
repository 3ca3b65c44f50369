// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The writer side of the liveness segment: the memfd, its sealing, slots
 * handed out and freed, and the death epoch's wake-ups.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "holder.h"
#include "internal.h"
#include "memfd.h"
#include "reserve.h"

_Static_assert(SEALSHM_HOLDER_GEN_MAX < UINT16_MAX, "a generation fits in 16 bits");

struct holders {
	int fd;
	uint64_t size;
	void *map;				/* PROT_READ | PROT_WRITE, MAP_SHARED */
	struct sealshm_liveness_header *hdr;
	struct sealshm_liveness_slot *slots;	/* [n_slots] */
	uint32_t n_slots;
	uint32_t count;				/* ids alive */

	/* trackerd's own bookkeeping, never published: each slot's
	 * generation (0: never used), and the freed slots in the order they
	 * were freed.  Reserved (reserve.h): paid for as slots are used. */
	uint16_t *gen;				/* [n_slots] */
	uint32_t *fifo;				/* [n_slots], a ring */
	uint32_t fifo_head;			/* the oldest freed slot */
	uint32_t fifo_len;
	uint32_t fresh;				/* slots below this have been used */
	bool stopped;				/* holders_stop(): ids no longer end */
};

int holders_new(uint32_t n_slots, struct holders **ret)
{
	_cleanup_close_ int fd = -EBADF;
	struct holders *hs;
	uint64_t instance = 0, size;
	const uint64_t slots_off = 64;
	void *map, *p;
	int r;

	if (n_slots == 0 || n_slots > 1u << SEALSHM_HOLDER_SLOT_BITS)
		return -EINVAL;
	_Static_assert(sizeof(struct sealshm_liveness_header) <= 64, "slots_off");
	size = slots_off + (uint64_t)n_slots * sizeof(struct sealshm_liveness_slot);

	/* A random instance tells this trackerd's ids from those of any other
	 * (another socket, or this one's predecessor): an object recording
	 * an id also records whose it is. At startup, like the index's key. */
	while (instance == 0)
		if (getrandom(&instance, sizeof(instance), 0) != (ssize_t)sizeof(instance))
			return errno ? -errno : -EIO;

	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	hs->fd = -EBADF;
	hs->n_slots = n_slots;
	r = reserve_new(n_slots, sizeof(*hs->gen), &p);
	if (r < 0)
		goto fail;
	hs->gen = p;
	r = reserve_new(n_slots, sizeof(*hs->fifo), &p);
	if (r < 0)
		goto fail;
	hs->fifo = p;

	fd = sealshm__memfd_create("sealshm-liveness");
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	/* Sparse: pages are allocated as slots are first written. Owner
	 * read-only, as the index: a /proc/PID/fd reopen for writing is
	 * refused by the mode too; trackerd's own read-only reopen for
	 * HOLDER is allowed. */
	if (ftruncate(fd, (off_t)size) < 0 || fchmod(fd, 0400) < 0) {
		r = -errno;
		goto fail;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	/* As index_new(): F_SEAL_FUTURE_WRITE (Linux 5.1) keeps this mapping
	 * writable and refuses every new writable mapping and write(2);
	 * SHRINK|GROW keep the size every reader bounds-checks against (no
	 * SIGBUS); SEAL makes it final. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
		  F_SEAL_SEAL) < 0) {
		r = -errno;
		(void)munmap(map, size);
		goto fail;
	}

	hs->map = map;
	hs->size = size;
	hs->hdr = map;
	hs->slots = (struct sealshm_liveness_slot *)((char *)map + slots_off);
	*hs->hdr = (struct sealshm_liveness_header){
		.magic = SEALSHM_LIVENESS_MAGIC,
		.version = SEALSHM_LIVENESS_VERSION,
		.instance = instance,
		.death_epoch = 0,
		.n_slots = n_slots,
		.slots_off = slots_off,
		.size = size,
		.server_pid = (uint32_t)getpid(),
		.holders = 0,
	};
	hs->fd = TAKE_FD(fd);
	*ret = hs;
	return 0;
fail:
	reserve_free(hs->fifo, n_slots, sizeof(*hs->fifo));
	reserve_free(hs->gen, n_slots, sizeof(*hs->gen));
	free(hs);
	return r;
}

struct holders *holders_free(struct holders *hs)
{
	if (!hs)
		return NULL;
	if (hs->map)
		(void)munmap(hs->map, hs->size);
	safe_close(hs->fd);
	reserve_free(hs->fifo, hs->n_slots, sizeof(*hs->fifo));
	reserve_free(hs->gen, hs->n_slots, sizeof(*hs->gen));
	free(hs);
	return NULL;
}

int holders_fd(const struct holders *hs)
{
	return hs->fd;
}

uint64_t holders_size(const struct holders *hs)
{
	return hs->size;
}

uint32_t holders_count(const struct holders *hs)
{
	return hs->count;
}

uint32_t holders_max(const struct holders *hs)
{
	return hs->n_slots;
}

int holder_open(struct holders *hs, pid_t pid, uint32_t *ret_id)
{
	struct sealshm_liveness_slot *s;
	uint32_t slot, gen, id;

	/* Never used slots first: they were freed longest ago (never), and
	 * their pages cost nothing until then. */
	if (hs->fresh < hs->n_slots) {
		slot = hs->fresh++;
	} else if (hs->fifo_len > 0) {
		slot = hs->fifo[hs->fifo_head];
		hs->fifo_head = (hs->fifo_head + 1) % hs->n_slots;
		hs->fifo_len--;
	} else {
		return -EUSERS;
	}

	gen = hs->gen[slot] >= SEALSHM_HOLDER_GEN_MAX ? 1 : hs->gen[slot] + 1u;
	hs->gen[slot] = (uint16_t)gen;
	id = gen << SEALSHM_HOLDER_SLOT_BITS | slot;
	assert(id != 0 && id != SEALSHM_HOLDER_NONE && !(id & ~SEALSHM_HOLDER_MASK));

	/* The pid first, then the id with a release store: a reader that
	 * sees the id alive (an acquire load) sees its pid, never the slot's
	 * previous holder's. */
	s = &hs->slots[slot];
	__atomic_store_n(&s->pid, (uint32_t)pid, __ATOMIC_RELAXED);
	__atomic_store_n(&s->holder, id, __ATOMIC_RELEASE);
	hs->count++;
	__atomic_store_n(&hs->hdr->holders, hs->count, __ATOMIC_RELAXED);
	*ret_id = id;
	return 0;
}

void holder_end(struct holders *hs, uint32_t id)
{
	uint32_t slot = id & SEALSHM_HOLDER_SLOT_MASK;
	struct sealshm_liveness_slot *s;

	if (hs->stopped)
		return;
	assert(slot < hs->n_slots && hs->count > 0);
	s = &hs->slots[slot];
	assert(s->holder == id);

	/* Dead before the epoch moves: a waiter woken by the new epoch (or
	 * reading it after) finds the id dead when it looks again. The
	 * epoch's increment is sequentially consistent, so neither store can
	 * move past it. */
	__atomic_store_n(&s->holder, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->pid, 0, __ATOMIC_RELAXED);
	hs->count--;
	__atomic_store_n(&hs->hdr->holders, hs->count, __ATOMIC_RELAXED);
	(void)__atomic_add_fetch(&hs->hdr->death_epoch, 1, __ATOMIC_SEQ_CST);
	/* Everyone sleeping on the epoch, in every process: a shared futex
	 * (not FUTEX_PRIVATE_FLAG), keyed by the memfd's inode and offset,
	 * which the clients' read-only mappings share with ours. Nothing to
	 * do about a failure: the only one possible here (EFAULT) cannot
	 * happen on our own mapping. */
	(void)syscall(SYS_futex, &hs->hdr->death_epoch, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);

	hs->fifo[(hs->fifo_head + hs->fifo_len) % hs->n_slots] = slot;
	hs->fifo_len++;
}

void holders_stop(struct holders *hs)
{
	if (hs)
		hs->stopped = true;
}

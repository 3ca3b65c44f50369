/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * This process's holder ids (lib/liveness_format.h): one per trackerd it
 * uses shared objects with, each on a connection of its own (HOLDER,
 * lib/proto.h) that lives as long as the process, with that trackerd's
 * liveness segment mapped read-only.  lib/holder.c; the object layer
 * (lib/object.c) is its only user.
 *
 * Fork: a child must not keep its parent's holder connection (the parent's
 * death would go unseen while the child lives), so the child closes it at
 * fork(), in an atfork handler, without a byte of traffic; its holders keep
 * their liveness mappings and get ids of their own on first use.  exec
 * closes it (close-on-exec).  A holder struct is never freed: objects keep
 * pointers to it.
 */
#ifndef SEALSHM_HOLDER_H
#define SEALSHM_HOLDER_H

#include <stdbool.h>
#include <stdint.h>

#include "include/sealshm.h"
#include "liveness_format.h"

struct sealshm__holder {
	/* This process's id; 0 until asked for (and again after fork()).
	 * Read it once per call (a relaxed load): 0 means ask again. */
	uint32_t id;
	uint32_t n_slots;
	uint64_t instance;	/* the liveness segment's */
	const struct sealshm_liveness_header *lv;	/* PROT_READ mapping */
	const struct sealshm_liveness_slot *slots;	/* n_slots of them */
};

/*
 * The holder for the trackerd @opts chooses (socket, autostart; the
 * other fields are ignored), with its id: asked for on first use, again
 * in a forked child.  *@ret stays valid for the process's life.
 * Errors: those of reaching trackerd (sealshm_attach(3)), -EUSERS (no
 * slot left), -EBADMSG (a liveness segment that is not one, or a trackerd
 * too old to know HOLDER), -EOPNOTSUPP (a trackerd that could not make its
 * liveness segment), -ENOMEM.
 */
int sealshm__holder_get(const struct sealshm_opts *opts, const struct sealshm__holder **ret);

/*
 * The holder for the trackerd whose liveness instance is @instance: one
 * this process already has, else one of the trackerds it has talked to
 * (asked in turn), else the default trackerd.  A cache of the last one
 * found makes the common case one compare.  *@ret has its id.
 * Errors: -ENXIO (no trackerd this process can reach has that instance:
 * the object belongs to a trackerd it never talked to, or one that has
 * restarted), and those of sealshm__holder_get().
 */
int sealshm__holder_find(uint64_t instance, const struct sealshm__holder **ret);

/* The holder this process already has for @instance, or NULL: no I/O,
 * never starts a trackerd (for sealshm_object_info()). */
const struct sealshm__holder *sealshm__holder_lookup(uint64_t instance);

/* Whether @id lives for @h's trackerd (one load; false for 0 and
 * SEALSHM_HOLDER_NONE). */
static inline bool sealshm__holder_alive(const struct sealshm__holder *h, uint32_t id)
{
	uint32_t slot = id & SEALSHM_HOLDER_SLOT_MASK;

	if (id == 0 || id == SEALSHM_HOLDER_NONE || slot >= h->n_slots)
		return false;
	return __atomic_load_n(&h->slots[slot].holder, __ATOMIC_ACQUIRE) == id;
}

/* @id's pid as trackerd saw it, or 0 when it does not live. */
static inline uint32_t sealshm__holder_pid(const struct sealshm__holder *h, uint32_t id)
{
	uint32_t slot = id & SEALSHM_HOLDER_SLOT_MASK;
	uint32_t pid;

	if (!sealshm__holder_alive(h, id))
		return 0;
	pid = __atomic_load_n(&h->slots[slot].pid, __ATOMIC_RELAXED);
	return sealshm__holder_alive(h, id) ? pid : 0;
}

/* The death epoch now, and its address (a futex word to sleep on). */
static inline uint32_t sealshm__holder_epoch(const struct sealshm__holder *h)
{
	return __atomic_load_n(&h->lv->death_epoch, __ATOMIC_ACQUIRE);
}
static inline const uint32_t *sealshm__holder_epoch_word(const struct sealshm__holder *h)
{
	return &h->lv->death_epoch;
}

#endif /* SEALSHM_HOLDER_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who may do what with a name: the file permission rule over a name's
 * owner, group and mode.  trackerd applies it to every request, and the
 * fast path applies it to the index so that it answers as trackerd would.
 */
#ifndef SEALSHM_PERM_H
#define SEALSHM_PERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SEALSHM__MAY_READ	04u
#define SEALSHM__MAY_WRITE	02u

/* Who asks: effective ids and supplementary groups (trackerd: the peer's
 * SO_PEERCRED and SO_PEERGROUPS). */
struct sealshm__cred {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
};

static inline bool sealshm__cred_in_group(const struct sealshm__cred *cr, uint32_t gid)
{
	if (cr->gid == gid)
		return true;
	for (size_t i = 0; i < cr->n_groups; i++)
		if (cr->groups[i] == gid)
			return true;
	return false;
}

/* The owner bits if @cr owns the name, else the group bits if it is in the
 * name's group, else the other bits must grant all of @want
 * (SEALSHM__MAY_*); uid 0 may do anything. */
static inline bool sealshm__may(const struct sealshm__cred *cr, uint32_t uid, uint32_t gid,
				uint32_t mode, uint32_t want)
{
	uint32_t bits;

	if (cr->uid == 0)
		return true;
	if (cr->uid == uid)
		bits = mode >> 6;
	else if (sealshm__cred_in_group(cr, gid))
		bits = mode >> 3;
	else
		bits = mode;
	return (bits & want) == want;
}

#endif /* SEALSHM_PERM_H */

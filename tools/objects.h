/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared objects (locks, semaphores, events, conditions, barriers,
 * values and arrays, queues) a segment holds, as the tools show them: found by
 * scanning the segment, described with sealshm_object_info().  Shared by
 * `sealshm stat` and shmtop's details; public API only.
 */
#ifndef SEALSHM_TOOLS_OBJECTS_H
#define SEALSHM_TOOLS_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>

#include <sealshm.h>

/* Bytes of a segment scanned at most: objects past them are not shown. */
#define OBJECTS_SCAN_MAX	(16u << 20)

struct shown_object {
	size_t off;			/* offset in the segment */
	struct sealshm_object_info info;
};

struct object_scan {
	size_t n;			/* objects found (all of them) */
	struct shown_object *v;		/* the first min(n, max) */
	bool partial;			/* the segment is larger than what was scanned */
};

/*
 * Attach @name read-only and untracked through the trackerd @opts
 * chooses, and find the objects in it: at every SEALSHM_OBJECT_ALIGN
 * offset of the parts of the segment that hold data (holes are skipped,
 * so nothing is allocated), up to OBJECTS_SCAN_MAX bytes.  @v has room
 * for @max.  Returns 0 or the attach's negative errno.
 */
int objects_scan(const char *name, const struct sealshm_opts *opts, struct shown_object *v,
		 size_t max, struct object_scan *ret);

/* One line saying what @o is and its state: "lock at 0: held by pid 12,
 * 1 waiter".  Returns @buf. */
char *object_describe(const struct shown_object *o, char *buf, size_t len);

#endif /* SEALSHM_TOOLS_OBJECTS_H */

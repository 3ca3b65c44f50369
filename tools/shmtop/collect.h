/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * collect: one snapshot of what shmtop shows, with no terminal code.
 *
 * A snapshot is trackerd's global figures (sealshm_registry_stats()), every name
 * the caller may attach (sealshm_registry_list()) and, unless told not to, the
 * processes that map each segment (mappers.h).  It also owns the order
 * and the filter both displays apply (columns, sort keys) and the text of
 * the fields that do not depend on the display (owner names, seals).
 */
#ifndef SHMTOP_COLLECT_H
#define SHMTOP_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sealshm.h>

#include "mappers.h"

/* The table's columns, left to right; each is also a sort key.  NAME is
 * last, as top(1) puts COMMAND last: the one field of unbounded width. */
enum column {
	COL_SIZE,
	COL_RES,
	COL_OWNER,
	COL_MODE,
	COL_LIFE,
	COL_TRK,
	COL_MAPS,
	COL_ATTACH,
	COL_SEALS,
	COL_AGE,
	COL_NAME,
	COL_MAX
};

struct column_info {
	const char *title;	/* header: "SIZE" */
	const char *key;	/* for --sort: "size" */
	bool descending;	/* default direction: biggest first for numbers */
};

extern const struct column_info columns[COL_MAX];

/* COL_* of a --sort key (a column's key or title, any case), or -EINVAL. */
int column_from_key(const char *key);

#define OWNER_MAX 33		/* a user name (LOGIN_NAME_MAX is 256, but 32 in practice) */

struct segment {
	struct sealshm_info info;
	char owner[OWNER_MAX];	/* user name of info.uid, or the uid in decimal */
	struct mapper_set mappers; /* empty when not scanned */
};

struct snapshot {
	struct sealshm_registry_stats stats;
	int64_t time_ns;	/* CLOCK_REALTIME when collected */
	/* Requests per second: over the interval since the previous
	 * snapshot of the same trackerd, or since trackerd started for the
	 * first one (rate_since_start). */
	double requests_per_sec;
	bool rate_since_start;
	bool mappers_scanned;
	struct mappers_totals procs;
	uint32_t n_mappers;	/* processes mapping at least one segment */
	struct segment *segs;
	size_t n_segs;
};

struct collect_config {
	const char *socket;	/* NULL: the library's lookup */
	bool no_mappers;	/* skip the /proc scan */
};

/* What the command line chose; both displays read it. */
struct shmtop_config {
	struct collect_config collect;
	double interval_s;	/* -d: seconds between frames */
	uint64_t frames;	/* -n: frames to show, 0 = until interrupted */
	bool json;		/* --json (batch) */
	const char *filter;	/* --filter: name substring, NULL = all */
	enum column sort;	/* --sort */
	bool reverse;		/* --reverse */
};

/* Take a snapshot.  @prev (may be NULL) gives the request rate.  Never
 * starts a trackerd (SEALSHM_NO_AUTOSTART).  Returns 0 or a negative errno:
 * the library's (trackerd unreachable...), or -ENOMEM. */
int collect_snapshot(const struct collect_config *cfg, const struct snapshot *prev,
		     struct snapshot **ret);

/* Say in @buf (@len bytes) why collect_snapshot() failed with @r, for
 * "shmtop: <this>": when no trackerd answers, where it was looked for and
 * how to start one (shmtop never does), not strerror()'s "No such file or
 * directory". */
void collect_describe_error(const struct collect_config *cfg, int r, char *buf, size_t len);

/* NULL is fine; returns NULL. */
struct snapshot *snapshot_free(struct snapshot *s);

/* The segments whose name contains @filter (NULL or "": all), ordered by
 * column @sort (its default direction, flipped by @reverse; ties by name).
 * *@ret is a malloc()ed array of pointers into @s (NULL when empty).
 * Returns the count or -ENOMEM. */
int snapshot_view(const struct snapshot *s, const char *filter, enum column sort, bool reverse,
		  const struct segment ***ret);

/* The segment named @name with inode @ino in @s, or NULL. */
const struct segment *snapshot_find(const struct snapshot *s, const char *name, uint64_t ino);

/* Seals as six letters, one position per seal, '-' when absent:
 * S seal, s shrink, g grow, w write, f future_write, x exec ("-sg---"). */
void seals_letters(uint32_t seals, char buf[7]);

/* Seals spelled out, comma-separated ("shrink,grow"); "-" for none;
 * unknown bits in hex. */
void seals_names(uint32_t seals, char *buf, size_t len);

/* "first" or "last" (SEALSHM_LIFETIME_LAST). */
const char *lifetime_name(const struct sealshm_info *info);

/* Seconds from @ns (CLOCK_REALTIME) to the snapshot's time, 0 if later. */
uint64_t snapshot_age_s(const struct snapshot *s, int64_t ns);

#endif /* SHMTOP_COLLECT_H */

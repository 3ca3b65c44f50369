// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * collect: snapshots of trackerd and of the processes mapping its segments
 * (see collect.h).  Public API only: sealshm_registry_stats(), sealshm_registry_list().
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../escape.h"
#include "collect.h"

const struct column_info columns[COL_MAX] = {
	[COL_SIZE]   = { "SIZE",   "size",     true  },
	[COL_RES]    = { "RES",    "resident", true  },
	[COL_OWNER]  = { "OWNER",  "owner",    false },
	[COL_MODE]   = { "MODE",   "mode",     true  },
	[COL_LIFE]   = { "LIFE",   "life",     false },
	[COL_TRK]    = { "TRK",    "tracked",  true  },
	[COL_MAPS]   = { "MAPS",   "mappers",  true  },
	[COL_ATTACH] = { "ATTACH", "attaches", true  },
	[COL_SEALS]  = { "SEALS",  "seals",    true  },
	[COL_AGE]    = { "AGE",    "age",      true  },
	[COL_NAME]   = { "NAME",   "name",     false },
};

int column_from_key(const char *key)
{
	for (int i = 0; i < COL_MAX; i++)
		if (!strcasecmp(key, columns[i].key) || !strcasecmp(key, columns[i].title))
			return i;
	return -EINVAL;
}

/* --- fields ------------------------------------------------------------------ */
void seals_letters(uint32_t seals, char buf[7])
{
	/* One letter per SEALSHM_SEAL_* bit, in bit order. */
	static const char letters[] = "Ssgwfx";

	for (size_t i = 0; i < sizeof(letters) - 1; i++)
		buf[i] = seals & (1u << i) ? letters[i] : '-';
	buf[sizeof(letters) - 1] = '\0';
}

void seals_names(uint32_t seals, char *buf, size_t len)
{
	if (len > 0 && sealshm_seals_format(seals, buf, len) <= 0)
		snprintf(buf, len, "-");
}

const char *lifetime_name(const struct sealshm_info *info)
{
	return info->flags & SEALSHM_LIFETIME_LAST ? "last" : "first";
}

uint64_t snapshot_age_s(const struct snapshot *s, int64_t ns)
{
	return s->time_ns > ns ? (uint64_t)(s->time_ns - ns) / 1000000000u : 0;
}

/* The user name of @uid, looked up once per snapshot and uid. */
struct owner_cache {
	uint32_t uid[16];
	char name[16][OWNER_MAX];
	unsigned int n, next;
};

static void owner_name(struct owner_cache *c, uint32_t uid, char buf[OWNER_MAX])
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	unsigned int slot;

	for (unsigned int i = 0; i < c->n; i++)
		if (c->uid[i] == uid) {
			memcpy(buf, c->name[i], OWNER_MAX);
			return;
		}
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res &&
	    strlen(res->pw_name) < OWNER_MAX)
		snprintf(buf, OWNER_MAX, "%s", res->pw_name);
	else
		snprintf(buf, OWNER_MAX, "%" PRIu32, uid);
	slot = c->n < 16 ? c->n++ : c->next++ % 16;
	c->uid[slot] = uid;
	memcpy(c->name[slot], buf, OWNER_MAX);
}

/* --- snapshots ----------------------------------------------------------------- */
void collect_describe_error(const struct collect_config *cfg, int r, char *buf, size_t len)
{
	const char *sock = cfg->socket, *e = getenv("SEALSHM_NO_AUTOSTART");
	bool no_autostart = e && *e && strcmp(e, "0") != 0;
	char shown[ESCAPED_NAME_MAX];

	if (r != -ENOENT && r != -ECONNREFUSED) {
		snprintf(buf, len, "Failed to read trackerd's figures: %s", strerror(-r));
		return;
	}
	if (!sock) {
		/* The library's lookup (sealshm_create(3)): $SEALSHM_SOCKET
		 * first, then the per-user socket. */
		sock = getenv("SEALSHM_SOCKET");
		if (sock && !*sock)
			sock = NULL;
	}
	if (!sock) {
		snprintf(buf, len, "no trackerd answers at the per-user socket; shmtop never "
			 "starts one (%s)", no_autostart ? "start trackerd yourself" :
			 "any other sealshm program starts it, 'sealshm ls' for one");
		return;
	}
	escape_name(sock, shown, sizeof(shown));
	snprintf(buf, len, "no trackerd answers at %s%s; shmtop never starts one (start one "
		 "there: trackerd --socket %s)", shown, cfg->socket ? "" : " ($SEALSHM_SOCKET)",
		 shown);
}

struct snapshot *snapshot_free(struct snapshot *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_segs; i++)
		mapper_set_done(&s->segs[i].mappers);
	free(s->segs);
	free(s);
	return NULL;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void request_rate(struct snapshot *s, const struct snapshot *prev)
{
	const struct sealshm_registry_stats *a = prev ? &prev->stats : NULL, *b = &s->stats;

	/* The same trackerd, later: the rate over the interval. */
	if (a && a->pid == b->pid && a->start_ns == b->start_ns && b->uptime_ns > a->uptime_ns &&
	    b->requests >= a->requests) {
		s->requests_per_sec = (double)(b->requests - a->requests) * 1e9 /
				      (double)(b->uptime_ns - a->uptime_ns);
		s->rate_since_start = false;
		return;
	}
	s->requests_per_sec = b->uptime_ns ? (double)b->requests * 1e9 / (double)b->uptime_ns : 0;
	s->rate_since_start = true;
}

static int scan_mappers(struct snapshot *s)
{
	struct mapper_set *sets = NULL;
	uint64_t *inos = NULL;
	int r = -ENOMEM;

	inos = calloc(s->n_segs ? s->n_segs : 1, sizeof(*inos));
	sets = calloc(s->n_segs ? s->n_segs : 1, sizeof(*sets));
	if (!inos || !sets)
		goto out;
	for (size_t i = 0; i < s->n_segs; i++)
		inos[i] = s->segs[i].info.ino;
	r = mappers_scan(inos, s->n_segs, sets, &s->procs);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < s->n_segs; i++) {
		s->segs[i].mappers = sets[i];
		sets[i] = (struct mapper_set){ 0 };
	}
	s->mappers_scanned = true;
out:
	if (sets)
		for (size_t i = 0; i < s->n_segs; i++)
			mapper_set_done(&sets[i]);
	free(sets);
	free(inos);
	return r;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Processes that map at least one segment (a process may map several). */
static int count_mapping_procs(struct snapshot *s)
{
	uint32_t *pids, n = 0, distinct = 0;
	size_t total = 0;

	for (size_t i = 0; i < s->n_segs; i++)
		total += s->segs[i].mappers.n;
	s->n_mappers = 0;
	if (total == 0)
		return 0;
	pids = malloc(total * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_segs; i++)
		for (size_t j = 0; j < s->segs[i].mappers.n; j++)
			pids[n++] = s->segs[i].mappers.v[j].pid;
	qsort(pids, n, sizeof(*pids), cmp_u32);
	for (uint32_t i = 0; i < n; i++)
		distinct += i == 0 || pids[i] != pids[i - 1];
	free(pids);
	s->n_mappers = distinct;
	return 0;
}

int collect_snapshot(const struct collect_config *cfg, const struct snapshot *prev,
		     struct snapshot **ret)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = SEALSHM_NO_AUTOSTART, .socket = cfg->socket);
	struct sealshm_info *infos = NULL;
	struct owner_cache owners = { .n = 0 };
	struct snapshot *s;
	int n, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = sealshm_registry_stats(&opts, &s->stats);
	if (r < 0)
		goto fail;
	n = sealshm_registry_list(&opts, &infos);
	if (n < 0) {
		r = n;
		goto fail;
	}
	s->time_ns = realtime_ns();
	if (n > 0) {
		s->segs = calloc((size_t)n, sizeof(*s->segs));
		if (!s->segs) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (int i = 0; i < n; i++) {
		s->segs[i].info = infos[i];
		owner_name(&owners, infos[i].uid, s->segs[i].owner);
	}
	s->n_segs = (size_t)n;
	free(infos);
	infos = NULL;

	request_rate(s, prev);
	if (!cfg->no_mappers) {
		r = scan_mappers(s);
		if (r < 0)
			goto fail;
		r = count_mapping_procs(s);
		if (r < 0)
			goto fail;
	}
	*ret = s;
	return 0;
fail:
	free(infos);
	snapshot_free(s);
	return r;
}

/* --- order and filter ------------------------------------------------------------ */
struct order {
	enum column col;
	bool descending;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_segment(const void *pa, const void *pb, void *userdata)
{
	const struct segment *a = *(const struct segment *const *)pa;
	const struct segment *b = *(const struct segment *const *)pb;
	const struct order *o = userdata;
	int c = 0;

	switch (o->col) {
	case COL_SIZE:
		c = cmp_u64(a->info.size, b->info.size);
		break;
	case COL_RES:
		c = cmp_u64(a->info.resident, b->info.resident);
		break;
	case COL_OWNER:
		c = strcmp(a->owner, b->owner);
		break;
	case COL_MODE:
		c = cmp_u64(a->info.mode, b->info.mode);
		break;
	case COL_LIFE:
		c = cmp_u64(a->info.flags & SEALSHM_LIFETIME_LAST,
			    b->info.flags & SEALSHM_LIFETIME_LAST);
		break;
	case COL_TRK:
		c = cmp_u64(a->info.n_sessions, b->info.n_sessions);
		break;
	case COL_MAPS:
		c = cmp_u64(a->mappers.n, b->mappers.n);
		break;
	case COL_ATTACH:
		c = cmp_u64(a->info.n_attaches, b->info.n_attaches);
		break;
	case COL_SEALS:
		c = cmp_u64(a->info.seals, b->info.seals);
		break;
	case COL_AGE:
		/* Older first when descending: the smaller creation time. */
		c = a->info.ctime_ns > b->info.ctime_ns ? -1 : a->info.ctime_ns < b->info.ctime_ns;
		break;
	case COL_NAME:
	case COL_MAX:
		break;
	}
	if (o->descending)
		c = -c;
	if (c == 0) {
		/* Ties (and NAME itself) by name, in the direction asked for. */
		c = strcmp(a->info.name, b->info.name);
		if (o->col == COL_NAME && o->descending)
			c = -c;
	}
	return c;
}

int snapshot_view(const struct snapshot *s, const char *filter, enum column sort, bool reverse,
		  const struct segment ***ret)
{
	struct order o = { .col = sort, .descending = columns[sort].descending != reverse };
	const struct segment **v = NULL;
	size_t n = 0;

	if (s->n_segs > 0) {
		v = malloc(s->n_segs * sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_segs; i++)
		if (!filter || !*filter || strstr(s->segs[i].info.name, filter))
			v[n++] = &s->segs[i];
	if (n > 1)
		qsort_r(v, n, sizeof(*v), cmp_segment, &o);
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*ret = v;
	return (int)n;
}

const struct segment *snapshot_find(const struct snapshot *s, const char *name, uint64_t ino)
{
	for (size_t i = 0; i < s->n_segs; i++)
		if (s->segs[i].info.ino == ino && !strcmp(s->segs[i].info.name, name))
			return &s->segs[i];
	return NULL;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * batch: plain-text and JSON frames (see batch.h).  The formats are
 * documented in shmtop(1); change them only by appending (a new key at the
 * end of a header line, a new JSON member), never by reordering.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../escape.h"
#include "batch.h"

/* Keys of the refusal buckets this tool knows; later ones print as
 * "bucketN". */
static const char *const refused_keys[] = {
	[SEALSHM_REFUSED_ENOENT] = "enoent",
	[SEALSHM_REFUSED_EACCES] = "eacces",
	[SEALSHM_REFUSED_EPERM]  = "eperm",
	[SEALSHM_REFUSED_EEXIST] = "eexist",
	[SEALSHM_REFUSED_EDQUOT] = "edquot",
	[SEALSHM_REFUSED_EINVAL] = "einval",
	[SEALSHM_REFUSED_PROTO]  = "proto",
	[SEALSHM_REFUSED_OTHER]  = "other",
};

static const char *refused_key(unsigned int i, char buf[16])
{
	if (i < sizeof(refused_keys) / sizeof(refused_keys[0]))
		return refused_keys[i];
	snprintf(buf, 16, "bucket%u", i);
	return buf;
}

static void iso_time(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm))
		snprintf(buf, len, "%" PRId64, ns);
}

/* "N/MAX", or "N/-" when there is no limit (@max 0). */
static void quota(uint64_t n, uint64_t max, char *buf, size_t len)
{
	if (max)
		snprintf(buf, len, "%" PRIu64 "/%" PRIu64, n, max);
	else
		snprintf(buf, len, "%" PRIu64 "/-", n);
}

/* --- text ---------------------------------------------------------------------- */
void batch_text_frame(FILE *f, const struct snapshot *s, const struct segment *const *view,
		      size_t n)
{
	const struct sealshm_registry_stats *st = &s->stats;
	char when[64], qn[48], qb[48], qc[48], key[16];

	iso_time(s->time_ns, when, sizeof(when));
	fprintf(f, "shmtop time %s trackerd %" PRIu32 " up %" PRIu64 " manager %s\n", when,
		st->pid, st->uptime_ns / 1000000000u,
		st->flags & SEALSHM_REGISTRY_MANAGER ? "yes" : "no");
	fprintf(f, "totals names %" PRIu64 " bytes %" PRIu64 " resident %" PRIu64
		" sessions %" PRIu32 " connections %" PRIu32 " requests %" PRIu64
		" req/s %.2f since %s\n",
		st->names, st->bytes, st->resident, st->sessions, st->clients, st->requests,
		s->requests_per_sec, s->rate_since_start ? "start" : "frame");
	fputs("refused", f);
	for (unsigned int i = 0; i < st->n_refused && i < SEALSHM_REFUSED_SLOTS; i++)
		fprintf(f, " %s %" PRIu64, refused_key(i, key), st->refused[i]);
	fputc('\n', f);
	quota(st->caller_names, st->max_names_per_uid, qn, sizeof(qn));
	quota(st->caller_bytes, st->max_bytes_per_uid, qb, sizeof(qb));
	quota(st->clients, st->max_clients, qc, sizeof(qc));
	fprintf(f, "quota names %s bytes %s all_names %" PRIu64 "/%" PRIu32 " connections %s\n",
		qn, qb, st->names, st->max_names, qc);
	if (s->mappers_scanned)
		fprintf(f, "mappers processes %" PRIu32 " scanned %" PRIu32 " unreadable %" PRIu32
			"\n", s->n_mappers, s->procs.scanned, s->procs.unreadable);
	else
		fputs("mappers not-scanned\n", f);

	fprintf(f, "\n%12s %12s %-8s %4s %-5s %4s %4s %8s %-6s %8s %s\n", columns[COL_SIZE].title,
		columns[COL_RES].title, columns[COL_OWNER].title, columns[COL_MODE].title,
		columns[COL_LIFE].title, columns[COL_TRK].title, columns[COL_MAPS].title,
		columns[COL_ATTACH].title, columns[COL_SEALS].title, columns[COL_AGE].title,
		columns[COL_NAME].title);
	for (size_t i = 0; i < n; i++) {
		const struct segment *g = view[i];
		char seals[7], maps[24], shown[ESCAPED_NAME_MAX];

		seals_letters(g->info.seals, seals);
		if (s->mappers_scanned)
			snprintf(maps, sizeof(maps), "%zu", g->mappers.n);
		else
			snprintf(maps, sizeof(maps), "-");
		fprintf(f, "%12" PRIu64 " %12" PRIu64 " %-8s %04" PRIo32 " %-5s %4" PRIu32
			" %4s %8" PRIu64 " %-6s %8" PRIu64 " %s\n",
			g->info.size, g->info.resident, g->owner, g->info.mode,
			lifetime_name(&g->info), g->info.n_sessions, maps, g->info.n_attaches,
			seals, snapshot_age_s(s, g->info.ctime_ns),
			escape_name(g->info.name, shown, sizeof(shown)));
	}
	fputc('\n', f);
}

/* --- JSON -------------------------------------------------------------------------- */
void json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		uint32_t cp;
		size_t n;

		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fprintf(f, "\\u%04x", *s);
			} else if (*s < 0x80) {
				fputc(*s, f);
			} else if ((n = utf8_decode((const char *)s, &cp))) {
				/* Lossless either way: a JSON reader gets the
				 * same string; a person who looks at the raw
				 * text sees what does not show as itself. */
				if (shows_as_itself(cp))
					fwrite(s, 1, n, f);
				else if (cp < 0x10000)
					fprintf(f, "\\u%04x", (unsigned int)cp);
				else
					fprintf(f, "\\u%04x\\u%04x",
						(unsigned int)(0xd800 + ((cp - 0x10000) >> 10)),
						(unsigned int)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
				s += n;
				continue;
			} else {
				fputs("\\ufffd", f);
			}
		}
		s++;
	}
	fputc('"', f);
}

static void json_segment(FILE *f, const struct snapshot *s, const struct segment *g)
{
	const struct sealshm_info *in = &g->info;
	uint32_t shown = in->n_sessions < SEALSHM_INFO_PIDS ? in->n_sessions : SEALSHM_INFO_PIDS;
	bool first = true;

	fputs("{\"name\":", f);
	json_string(f, in->name);
	fprintf(f, ",\"size\":%" PRIu64 ",\"resident\":%" PRIu64 ",\"uid\":%" PRIu32
		",\"owner\":", in->size, in->resident, in->uid);
	json_string(f, g->owner);
	fprintf(f, ",\"gid\":%" PRIu32 ",\"mode\":\"%04" PRIo32 "\",\"lifetime\":\"%s\""
		",\"n_sessions\":%" PRIu32 ",\"session_pids\":[", in->gid, in->mode,
		lifetime_name(in), in->n_sessions);
	for (uint32_t i = 0; i < shown; i++)
		fprintf(f, "%s%" PRIu32, i ? "," : "", in->session_pids[i]);
	fputs("],\"mappers\":", f);
	if (s->mappers_scanned) {
		fputc('[', f);
		for (size_t i = 0; i < g->mappers.n; i++) {
			fprintf(f, "%s{\"pid\":%" PRIu32 ",\"comm\":", i ? "," : "",
				g->mappers.v[i].pid);
			json_string(f, g->mappers.v[i].comm);
			fprintf(f, ",\"bytes\":%" PRIu64 "}", g->mappers.v[i].bytes);
		}
		fputc(']', f);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"n_attaches\":%" PRIu64 ",\"atime_ns\":%" PRId64 ",\"ctime_ns\":%" PRId64
		",\"ino\":%" PRIu64 ",\"seals\":[", in->n_attaches, in->atime_ns, in->ctime_ns,
		in->ino);
	for (unsigned int i = 0; i < 32; i++) {
		char name[16];

		if (!(in->seals & (1u << i)) || sealshm_seals_format(1u << i, name, sizeof(name)) <= 0)
			continue;
		fprintf(f, "%s\"%s\"", first ? "" : ",", name);
		first = false;
	}
	fprintf(f, "],\"seal_bits\":%" PRIu32 ",\"creator_pid\":%" PRIu32 "}", in->seals,
		in->creator_pid);
}

void batch_json_frame(FILE *f, const struct snapshot *s, const struct segment *const *view,
		      size_t n)
{
	const struct sealshm_registry_stats *st = &s->stats;
	char key[16];

	fprintf(f, "{\"time_ns\":%" PRId64 ",\"trackerd\":{\"pid\":%" PRIu32
		",\"manager\":%s,\"start_ns\":%" PRId64 ",\"uptime_ns\":%" PRIu64 "}",
		s->time_ns, st->pid, st->flags & SEALSHM_REGISTRY_MANAGER ? "true" : "false",
		st->start_ns, st->uptime_ns);
	fprintf(f, ",\"names\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"resident\":%" PRIu64
		",\"sessions\":%" PRIu32 ",\"connections\":%" PRIu32 ",\"requests\":%" PRIu64
		",\"requests_per_sec\":%.3f,\"rate_since_start\":%s,\"refused\":{",
		st->names, st->bytes, st->resident, st->sessions, st->clients, st->requests,
		s->requests_per_sec, s->rate_since_start ? "true" : "false");
	for (unsigned int i = 0; i < st->n_refused && i < SEALSHM_REFUSED_SLOTS; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", refused_key(i, key), st->refused[i]);
	fprintf(f, "},\"limits\":{\"max_names\":%" PRIu32 ",\"max_names_per_uid\":%" PRIu32
		",\"max_bytes_per_uid\":%" PRIu64 ",\"max_clients\":%" PRIu32 "}"
		",\"caller\":{\"names\":%" PRIu32 ",\"bytes\":%" PRIu64 "}",
		st->max_names, st->max_names_per_uid, st->max_bytes_per_uid, st->max_clients,
		st->caller_names, st->caller_bytes);
	if (s->mappers_scanned)
		fprintf(f, ",\"procs\":{\"mapping\":%" PRIu32 ",\"scanned\":%" PRIu32
			",\"unreadable\":%" PRIu32 "}", s->n_mappers, s->procs.scanned,
			s->procs.unreadable);
	else
		fputs(",\"procs\":null", f);
	fputs(",\"segments\":[", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_segment(f, s, view[i]);
	}
	fputs("]}\n", f);
}

/* --- the loop ------------------------------------------------------------------------ */
static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

int batch_run(const struct shmtop_config *cfg)
{
	struct snapshot *prev = NULL;
	struct timespec next;
	int ret = EXIT_SUCCESS;

	(void)clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t frame = 0; cfg->frames == 0 || frame < cfg->frames; frame++) {
		const struct segment **view = NULL;
		struct snapshot *s = NULL;
		int n, r;

		if (frame > 0) {
			/* Absolute deadlines: the interval does not drift by
			 * the time a frame takes. */
			uint64_t ns = (uint64_t)(cfg->interval_s * 1e9);

			next.tv_sec += (time_t)(ns / 1000000000u);
			next.tv_nsec += (long)(ns % 1000000000u);
			if (next.tv_nsec >= 1000000000) {
				next.tv_sec++;
				next.tv_nsec -= 1000000000;
			}
			sleep_until(&next);
		}
		r = collect_snapshot(&cfg->collect, prev, &s);
		if (r < 0) {
			char why[1024];

			collect_describe_error(&cfg->collect, r, why, sizeof(why));
			fprintf(stderr, "shmtop: %s\n", why);
			ret = EXIT_FAILURE;
			break;
		}
		n = snapshot_view(s, cfg->filter, cfg->sort, cfg->reverse, &view);
		if (n < 0) {
			fprintf(stderr, "shmtop: Failed to sort segments: %s\n", strerror(-n));
			snapshot_free(s);
			ret = EXIT_FAILURE;
			break;
		}
		if (cfg->json)
			batch_json_frame(stdout, s, view, (size_t)n);
		else
			batch_text_frame(stdout, s, view, (size_t)n);
		free(view);
		snapshot_free(prev);
		prev = s;
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "shmtop: Failed to write standard output: %s\n",
				strerror(errno));
			ret = EXIT_FAILURE;
			break;
		}
	}
	snapshot_free(prev);
	return ret;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tracking_bench: what tracking costs.  Tracked and untracked calls are
 * timed side by side (alternating, in the same run, against the same
 * private trackerd this program starts), so the ratio compares like with
 * like:
 *
 *   create               sealshm_create() alone (the target:
 *                        tracking adds at most 10%)
 *   create+close+unlink  a segment's whole life, two round trips
 *   attach+close         attaching an existing name and closing it
 *
 * plus the floor: what a create costs with no daemon at all
 * (memfd_create + ftruncate + fchmod + seals + mmap, then munmap + close).
 *
 *   tracking_bench [-n REPETITIONS] [-s SIZE]     (default 20000, 4096)
 *
 * trackerd is $SEALSHM_TRACKERD, else ../trackerd/trackerd next to this
 * program (build/bench/ -> build/trackerd/), started by bench.h in the
 * foreground on a temp-dir socket and stopped at the end.  Only the public
 * API is used.
 */
#include "bench.h"

enum { OP_CREATE, OP_LIFE, OP_ATTACH, OP_N };

static const char *const op_names[OP_N] = {
	[OP_CREATE] = "create",
	[OP_LIFE] = "create+close+unlink",
	[OP_ATTACH] = "attach+close",
};

#define now_ns bench_now_ns
#define die bench_die

/* --- the timed operations --------------------------------------------------- */
static size_t seg_size = 4096;

/* One timed operation (tracked or not); returns its nanoseconds. */
static uint64_t run_op(int op, bool tracked, unsigned long i)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = tracked ? 0 : SEALSHM_NO_TRACK);
	struct sealshm *shm = NULL;
	char name[32];
	uint64_t t0, t1;
	int r;

	snprintf(name, sizeof(name), "bench_%c_%lu", tracked ? 't' : 'u', i);
	switch (op) {
	case OP_CREATE:
		t0 = now_ns();
		r = sealshm_create(name, seg_size, &opts, &shm);
		t1 = now_ns();
		if (r < 0)
			die("create", r);
		r = sealshm_unlink(shm);
		if (r < 0)
			die("unlink", r);
		sealshm_close(shm);
		return t1 - t0;
	case OP_LIFE:
		t0 = now_ns();
		r = sealshm_create(name, seg_size, &opts, &shm);
		if (r < 0)
			die("create", r);
		sealshm_close(shm);
		r = sealshm_unlink_name(name, NULL);
		t1 = now_ns();
		if (r < 0)
			die("unlink", r);
		return t1 - t0;
	default:
		t0 = now_ns();
		r = sealshm_attach(tracked ? "bench_attach_t" : "bench_attach_u", &opts, &shm);
		sealshm_close(shm);
		t1 = now_ns();
		if (r < 0)
			die("attach", r);
		return t1 - t0;
	}
}

/* The floor: a sealed, mapped memfd with no daemon involved. */
static uint64_t run_floor(void)
{
	uint64_t t0, t1;
	void *p;
	int fd;

	t0 = now_ns();
	fd = bench_memfd(seg_size);
	if (fd < 0)
		die("make a memfd", fd);
	p = mmap(NULL, seg_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap", -errno);
	(void)munmap(p, seg_size);
	close(fd);
	t1 = now_ns();
	return t1 - t0;
}

int main(int argc, char **argv)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *keep_t = NULL, *keep_u = NULL, *warm = NULL;
	unsigned long reps = 20000;
	uint64_t *samples[OP_N][2], *floor_ns;
	struct bench_stats st[OP_N][2], fl;
	struct bench_trackerd td;
	int opt, r;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		switch (opt) {
		case 'n':
			reps = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seg_size = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: tracking_bench [-n REPETITIONS] [-s SIZE]\n");
			return 2;
		}
	}
	if (reps < 10 || seg_size == 0) {
		fprintf(stderr, "tracking_bench: need -n >= 10 and -s > 0\n");
		return 2;
	}
	for (int op = 0; op < OP_N; op++)
		for (int t = 0; t < 2; t++)
			if (!(samples[op][t] = calloc(reps, sizeof(uint64_t))))
				die("allocate", -ENOMEM);
	floor_ns = calloc(reps, sizeof(uint64_t));
	if (!floor_ns)
		die("allocate", -ENOMEM);

	bench_machine("tracking_bench");
	bench_trackerd_start(&td, NULL, true);
	/* The names attached, one per mode, and a warm-up that opens the
	 * session (once per process, not part of any sample). */
	r = sealshm_create("bench_attach_u", seg_size, &untracked, &keep_u);
	if (r == 0)
		r = sealshm_create("bench_attach_t", seg_size, &untracked, &keep_t);
	if (r == 0)
		r = sealshm_create("bench_warmup", seg_size, NULL, &warm);
	if (r < 0)
		die("create the bench names", r);
	(void)sealshm_unlink(warm);
	sealshm_close(warm);
	for (unsigned long i = 0; i < reps / 10; i++) {
		(void)run_op(i % OP_N, i & 1, reps + i);
		(void)run_floor();
	}

	/* Alternate modes and operations so drift hits both alike. */
	for (unsigned long i = 0; i < reps; i++) {
		for (int op = 0; op < OP_N; op++) {
			bool first = i & 1;

			samples[op][first][i] = run_op(op, first, 2 * reps + i);
			samples[op][!first][i] = run_op(op, !first, 2 * reps + i);
		}
		floor_ns[i] = run_floor();
	}
	(void)sealshm_unlink(keep_u);
	(void)sealshm_unlink(keep_t);
	sealshm_close(keep_u);
	sealshm_close(keep_t);
	bench_trackerd_stop(&td);

	for (int op = 0; op < OP_N; op++)
		for (int t = 0; t < 2; t++)
			st[op][t] = bench_stats_of(samples[op][t], reps, 1000.0);
	fl = bench_stats_of(floor_ns, reps, 1000.0);

	printf("tracking_bench: %zu-byte segments, %lu repetitions each, tracked and untracked "
	       "alternating\n", seg_size, reps);
	printf("%-22s %12s %12s %12s %12s %9s %9s\n", "operation (us)", "untr median",
	       "untr min", "track median", "track min", "ratio med", "ratio min");
	for (int op = 0; op < OP_N; op++)
		printf("%-22s %12.2f %12.2f %12.2f %12.2f %9.3f %9.3f\n", op_names[op],
		       st[op][0].median, st[op][0].min, st[op][1].median, st[op][1].min,
		       st[op][1].median / st[op][0].median, st[op][1].min / st[op][0].min);
	printf("%-22s %12.2f %12.2f   (memfd+ftruncate+seals+mmap, no daemon)\n", "floor",
	       fl.median, fl.min);
	printf("tracking adds %+.1f%% to a create (median; target at most +10%%)\n",
	       (st[OP_CREATE][1].median / st[OP_CREATE][0].median - 1.0) * 100.0);

	for (int op = 0; op < OP_N; op++)
		for (int t = 0; t < 2; t++)
			free(samples[op][t]);
	free(floor_ns);
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * segment_bench: a segment's life and an attach, side by side with what a
 * user would otherwise write.  For 4 KiB, 1 MiB and 64 MiB, without and with
 * touching every page:
 *
 *   create+close+unlink   POSIX shm_open+ftruncate+mmap, munmap, close,
 *                         shm_unlink; the raw floor (sealed memfd + mmap +
 *                         one SCM_RIGHTS round trip to a minimal epoll
 *                         server, then one more to "unlink"); sealshm
 *                         untracked and tracked (two round trips each)
 *   attach+close          POSIX shm_open+fstat+mmap; the raw floor (one
 *                         SCM_RIGHTS round trip for a prepared memfd, then
 *                         fstat+mmap); sealshm through the index (the fast
 *                         path) untracked and tracked, and the round trip
 *                         (SEALSHM_NO_FASTPATH=1, in a worker process
 *                         started with it) untracked and tracked
 *
 * Every repetition runs every variant once, in a rotating order, so they
 * share the machine's noise; ratios are against POSIX and the raw floor of
 * the same run.
 *
 *   segment_bench [-n REPETITIONS]     (4 KiB; fewer for larger sizes)
 */
#include "bench.h"

enum { OP_LIFE, OP_ATTACH, OP_N };
enum { V_POSIX, V_RAW, V_UNTR, V_TR, V_SLOW_UNTR, V_SLOW_TR, V_N };

static const char *const op_names[OP_N] = { "create+close+unlink", "attach+close" };
static const char *const v_names[OP_N][V_N] = {
	[OP_LIFE] = { "POSIX shm_open", "raw floor", "sealshm untracked", "sealshm tracked" },
	[OP_ATTACH] = { "POSIX shm_open", "raw floor", "sealshm fast untracked",
			"sealshm fast tracked", "sealshm slow untracked", "sealshm slow tracked" },
};
static const int n_variants[OP_N] = { 4, 6 };

static const size_t sizes[] = { 4096, 1u << 20, 64u << 20 };
#define N_SIZES (int)(sizeof(sizes) / sizeof(sizes[0]))
static const char *const size_names[N_SIZES] = { "4 KiB", "1 MiB", "64 MiB" };

/*
 * Every variant runs in one of two worker processes, started alike and
 * driven alike (one request, one timed run, one reply), so the scheduler
 * treats them the same: "fast" (the library may use the index) and "slow"
 * (SEALSHM_NO_FASTPATH=1 from the start).  Timing in the process that also
 * orchestrates biased its round trips on this 2-CPU machine.
 */
struct worker_req {
	uint8_t op;
	uint8_t v;
	uint8_t size_idx;
	uint8_t touch;
	uint32_t i;
	uint8_t quit;
	uint8_t probe;		/* count trackerd's wake-ups over 200 attaches */
	uint8_t __pad[6];
};

struct ctx {
	int raw_conn;
	pid_t trackerd;
	char posix_attach[N_SIZES][64];
	char posix_life[64];
};

static void attach_name(char *buf, size_t len, int size_idx)
{
	snprintf(buf, len, "segbench_a%d", size_idx);
}

/* One timed run of @v of @op; returns ns. */
static uint64_t run(struct ctx *c, int op, int v, int si, bool touch, unsigned long i)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	size_t size = sizes[si];
	char name[48];
	uint64_t t0, t1;
	int r;

	if (op == OP_LIFE)
		snprintf(name, sizeof(name), "segbench_l%c%d_%lu", v == V_TR ? 't' : 'u',
			 (int)getpid(), i);
	else
		attach_name(name, sizeof(name), si);

	t0 = bench_now_ns();
	switch (op * V_N + v) {
	case OP_LIFE * V_N + V_POSIX:
		r = bench_posix_life(c->posix_life, size, touch);
		break;
	case OP_LIFE * V_N + V_RAW:
		r = bench_raw_life(c->raw_conn, size, touch);
		break;
	case OP_LIFE * V_N + V_UNTR:
		r = bench_sealshm_life(name, size, &untracked, touch);
		break;
	case OP_LIFE * V_N + V_TR:
		r = bench_sealshm_life(name, size, NULL, touch);
		break;
	case OP_ATTACH * V_N + V_POSIX:
		r = bench_posix_attach(c->posix_attach[si], touch);
		break;
	case OP_ATTACH * V_N + V_RAW:
		r = bench_raw_attach(c->raw_conn, si, touch);
		break;
	case OP_ATTACH * V_N + V_UNTR:
	case OP_ATTACH * V_N + V_SLOW_UNTR:
		r = bench_sealshm_attach(name, &untracked, touch);
		break;
	default:
		r = bench_sealshm_attach(name, NULL, touch);
		break;
	}
	t1 = bench_now_ns();
	if (r < 0) {
		fprintf(stderr, "segment_bench: %s / %s / %s\n", op_names[op], v_names[op][v],
			size_names[si]);
		bench_die("run", r);
	}
	return t1 - t0;
}

/* argv: --worker FD TRACKERD_PID PARENT_PID RAW_SOCKET */
static int worker_main(char **argv)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	int sock = atoi(argv[2]);
	struct worker_req req;
	struct ctx c = { .trackerd = atoi(argv[3]) };

	c.raw_conn = bench_connect(argv[5]);
	if (c.raw_conn < 0)
		bench_die("connect to the raw server", c.raw_conn);
	snprintf(c.posix_life, sizeof(c.posix_life), "/sealshm-bench-%d-life", (int)getpid());
	for (int si = 0; si < N_SIZES; si++)
		snprintf(c.posix_attach[si], sizeof(c.posix_attach[si]), "/sealshm-bench-%s-a%d",
			 argv[4], si);
	for (;;) {
		int64_t ns;

		bench_read_all(sock, &req, sizeof(req));
		if (req.quit)
			return 0;
		if (req.probe) {
			double w = bench_fastpath_probe(c.trackerd, "segbench_a0", &untracked, 200);

			ns = (int64_t)(w * 1000);
		} else {
			ns = (int64_t)run(&c, req.op, req.v, req.size_idx, req.touch, req.i);
		}
		bench_write_all(sock, &ns, sizeof(ns));
	}
}

static int64_t ask(int worker, struct worker_req req)
{
	int64_t ns;

	bench_write_all(worker, &req, sizeof(req));
	if (req.quit)
		return 0;
	bench_read_all(worker, &ns, sizeof(ns));
	return ns;
}

static pid_t start_worker(bool no_fastpath, pid_t trackerd, const char *raw_sock, int *ret_fd)
{
	char fdarg[16], tdarg[16], pparg[16];
	char *args[] = { "--worker", fdarg, tdarg, pparg, (char *)raw_sock, NULL };
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bench_die("make a socketpair", -errno);
	snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
	snprintf(tdarg, sizeof(tdarg), "%d", (int)trackerd);
	snprintf(pparg, sizeof(pparg), "%d", (int)getpid());
	pid = bench_spawn_self(args, no_fastpath, sv[1]);
	close(sv[1]);
	*ret_fd = sv[0];
	return pid;
}

static unsigned long reps_for(unsigned long n, int si, bool touch)
{
	/* 64 MiB touched is ~16k page faults per run: keep it short. */
	static const unsigned long div[N_SIZES][2] = { { 1, 1 }, { 2, 4 }, { 8, 50 } };
	unsigned long r = n / div[si][touch];

	return r < 10 ? 10 : r;
}

int main(int argc, char **argv)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *keep[N_SIZES] = { NULL };
	char posix_attach[N_SIZES][64];
	struct bench_trackerd td;
	struct bench_raw raw;
	struct bench_stats st[N_SIZES][2][OP_N][V_N];
	unsigned long n = 2000;
	int wfast, wslow, opt, r;
	pid_t pfast, pslow;
	double wake;

	if (argc == 6 && !strcmp(argv[1], "--worker"))
		return worker_main(argv);
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: segment_bench [-n REPETITIONS]\n");
			return 2;
		}
		n = strtoul(optarg, NULL, 0);
	}
	if (n < 10) {
		fprintf(stderr, "segment_bench: need -n >= 10\n");
		return 2;
	}
	bench_machine("segment_bench");

	bench_trackerd_start(&td, NULL, true);
	bench_raw_start(&raw, sizes, N_SIZES);
	bench_wait_listening(raw.sock, raw.pid, "reach the raw server");

	/* The attached names: sealshm (untracked, so they stay), POSIX. */
	for (int si = 0; si < N_SIZES; si++) {
		char name[32];
		int fd;

		attach_name(name, sizeof(name), si);
		r = sealshm_create(name, sizes[si], &untracked, &keep[si]);
		if (r < 0)
			bench_die("create the attached names", r);
		snprintf(posix_attach[si], sizeof(posix_attach[si]), "/sealshm-bench-%d-a%d",
			 (int)getpid(), si);
		fd = shm_open(posix_attach[si], O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)sizes[si]) < 0)
			bench_die("create the POSIX names", -errno);
		close(fd);
	}
	pfast = start_worker(false, td.pid, raw.sock, &wfast);
	pslow = start_worker(true, td.pid, raw.sock, &wslow);

	/* Is the fast path taken?  (The probe's first attach fetches the index.) */
	wake = (double)ask(wfast, (struct worker_req){ .probe = 1 }) / 1000;

	for (int si = 0; si < N_SIZES; si++) {
		for (int touch = 0; touch < 2; touch++) {
			unsigned long reps = reps_for(n, si, touch);
			uint64_t *s[OP_N][V_N];

			for (int op = 0; op < OP_N; op++)
				for (int v = 0; v < n_variants[op]; v++)
					s[op][v] = bench_calloc(reps, sizeof(uint64_t));
			/* Warm-up: every variant a few times, pages touched once;
			 * then the timed runs, in a rotating order. */
			for (long i = -5; i < (long)reps; i++)
				for (int op = 0; op < OP_N; op++)
					for (int k = 0; k < n_variants[op]; k++) {
						int v = (int)((i + 5 + k) % n_variants[op]);
						struct worker_req q = {
							.op = (uint8_t)op, .v = (uint8_t)v,
							.size_idx = (uint8_t)si,
							.touch = i < 0 || touch,
							.i = (uint32_t)(i + 5),
						};
						/* Each target's pair shares a worker: fast
						 * vs POSIX, slow vs the raw floor. */
						bool slow = v >= V_SLOW_UNTR ||
							    (op == OP_ATTACH && v == V_RAW);
						int64_t ns = ask(slow ? wslow : wfast, q);

						if (i >= 0)
							s[op][v][i] = (uint64_t)ns;
					}
			for (int op = 0; op < OP_N; op++)
				for (int v = 0; v < n_variants[op]; v++) {
					st[si][touch][op][v] = bench_stats_of(s[op][v], reps, 1000.0);
					free(s[op][v]);
				}
		}
	}

	(void)ask(wfast, (struct worker_req){ .quit = 1 });
	(void)ask(wslow, (struct worker_req){ .quit = 1 });
	(void)waitpid(pfast, NULL, 0);
	(void)waitpid(pslow, NULL, 0);
	for (int si = 0; si < N_SIZES; si++) {
		(void)sealshm_unlink(keep[si]);
		sealshm_close(keep[si]);
		(void)shm_unlink(posix_attach[si]);
	}
	bench_raw_stop(&raw);
	bench_trackerd_stop(&td);

	printf("segment_bench: repetitions %lu (4 KiB) down to %lu (64 MiB touched), "
	       "variants interleaved; times in us\n", reps_for(n, 0, 0), reps_for(n, 2, 1));
	if (wake < 0)
		printf("fast path: unknown (cannot read trackerd's context switches)\n");
	else if (wake < 0.05)
		printf("fast path: taken (trackerd woke %.2f times per untracked attach)\n", wake);
	else
		printf("fast path: NOT taken (trackerd woke %.2f times per untracked attach): "
		       "\"fast\" rows are round trips\n", wake);
	for (int op = 0; op < OP_N; op++)
		for (int si = 0; si < N_SIZES; si++)
			for (int touch = 0; touch < 2; touch++) {
				const struct bench_stats *b = st[si][touch][op];

				printf("\n%s, %s, %s\n", op_names[op], size_names[si],
				       touch ? "every page touched" : "no page touched");
				printf("  %-24s %10s %10s %9s %9s %9s %9s\n", "variant", "median",
				       "min", "/posix md", "/posix mn", "/raw md", "/raw mn");
				for (int v = 0; v < n_variants[op]; v++) {
					printf("  %-24s %10.2f %10.2f", v_names[op][v], b[v].median,
					       b[v].min);
					if (v == V_POSIX) {
						printf(" %9s %9s", "-", "-");
					} else {
						bench_print_ratio(b[v].median, b[V_POSIX].median);
						bench_print_ratio(b[v].min, b[V_POSIX].min);
					}
					if (v <= V_RAW) {
						printf(" %9s %9s\n", "-", "-");
					} else {
						bench_print_ratio(b[v].median, b[V_RAW].median);
						bench_print_ratio(b[v].min, b[V_RAW].min);
						printf("\n");
					}
				}
			}

	printf("\ntargets (medians, 4 KiB, no page touched):\n");
	{
		const struct bench_stats *a = st[0][0][OP_ATTACH];
		double f = a[V_UNTR].median / a[V_POSIX].median;
		double t = a[V_TR].median / a[V_POSIX].median;
		double s = a[V_SLOW_UNTR].median / a[V_RAW].median;

		printf("  untracked attach <= 1.0x POSIX attach: %.3fx %s\n", f,
		       f <= 1.0 ? "met" : "MISSED");
		printf("  tracked attach   <= 1.2x POSIX attach: %.3fx %s\n", t,
		       t <= 1.2 ? "met" : "MISSED");
		printf("  slow-path attach <= 1.3x raw floor:    %.3fx %s\n", s,
		       s <= 1.3 ? "met" : "MISSED");
	}
	return 0;
}

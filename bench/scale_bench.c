// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * scale_bench: does a full registry slow attaches down, and what does each
 * name cost trackerd?  Two private trackerds run side by side:
 *
 *   A   holds 1,000 names for the whole run (the reference);
 *   B   grows to 1k, 100k and 1M names (untracked 4 KiB segments created by
 *       parallel filler processes through the public API).
 *
 * At each size of B, attach+close latency to names spread at random over
 * B's registry is measured interleaved with attaches to A's names, through
 * the index (fast path) and with SEALSHM_NO_FASTPATH=1 (slow path), each in
 * its own worker process; the ratio B/A is the cost of scale.  trackerd B's
 * RssAnon (its heap: the registry, names, hash table; the index is a memfd
 * and shows as RssShmem) is read from /proc/PID/status, per name, and the
 * kernel's Slab growth per name (memfd inode, dentry and file).
 *
 * Every name holds an fd in trackerd: RLIMIT_NOFILE is raised as far as
 * allowed (as root: the hard limit up to /proc/sys/fs/nr_open) before
 * trackerd starts; the limit that applied is printed and the top size
 * capped to fit.  Filling is timed; if 1M names would take longer than the
 * fill budget the top size is lowered, and the output says so.
 *
 *   scale_bench [-N TOP] [-k SAMPLES] [-b FILL_BUDGET_SECONDS] [-j FILLERS]
 *     (default 1000000, 3000, 75, 4)
 */
#include "bench.h"

#define REF_NAMES	1000
#define SEG_SIZE	4096
#define FD_RESERVE	2048	/* fds left to trackerd for clients and its own */
#define MAX_RANGES	4096

enum { V_FAST, V_SLOW, V_N };
static const char *const v_names[V_N] = { "fast (index)", "slow (round trip)" };

/* Names "s<i>" that exist in B: ranges [start, start + count). */
struct ranges {
	unsigned long start[MAX_RANGES], count[MAX_RANGES];
	int n;
	unsigned long total;
};

static unsigned long ranges_pick(const struct ranges *rg, uint64_t rnd)
{
	unsigned long k = (unsigned long)(rnd % rg->total);

	for (int i = 0; i < rg->n; i++) {
		if (k < rg->count[i])
			return rg->start[i] + k;
		k -= rg->count[i];
	}
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* --- workers ------------------------------------------------------------------ */
struct fill_res {
	uint64_t created;
	int32_t err;
	int32_t __pad;
};

/* argv: --fill SOCKET START END FD: create "s<i>" for i in [START, END). */
static int fill_main(char **argv)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = SEALSHM_NO_TRACK, .socket = argv[2]);
	unsigned long start = strtoul(argv[3], NULL, 0), end = strtoul(argv[4], NULL, 0);
	struct fill_res res = { 0 };
	int fd = atoi(argv[5]);

	for (unsigned long i = start; i < end; i++) {
		struct sealshm *shm = NULL;
		char name[32];
		int r;

		snprintf(name, sizeof(name), "s%lu", i);
		r = sealshm_create(name, SEG_SIZE, &opts, &shm);
		if (r < 0) {
			res.err = r;
			break;
		}
		sealshm_close(shm);
		res.created++;
	}
	bench_write_all(fd, &res, sizeof(res));
	return 0;
}

struct att_req {
	uint32_t which;		/* 0: A, 1: B */
	uint32_t index;		/* name "s<index>" */
};

/* argv: --attach SOCKET_A SOCKET_B FD: one timed attach+close per request. */
static int attach_main(char **argv)
{
	SEALSHM_OPTS(sealshm_opts, oa, .flags = SEALSHM_NO_TRACK, .socket = argv[2]);
	SEALSHM_OPTS(sealshm_opts, ob, .flags = SEALSHM_NO_TRACK, .socket = argv[3]);
	int fd = atoi(argv[4]);
	struct att_req q;

	for (;;) {
		char name[32];
		uint64_t t0;
		int64_t ns;
		int r;

		bench_read_all(fd, &q, sizeof(q));
		if (q.which > 1)
			return 0;
		snprintf(name, sizeof(name), "s%u", q.index);
		t0 = bench_now_ns();
		r = bench_sealshm_attach(name, q.which ? &ob : &oa, false);
		ns = r < 0 ? r : (int64_t)(bench_now_ns() - t0);
		bench_write_all(fd, &ns, sizeof(ns));
	}
}

static pid_t spawn(char **args, bool no_fastpath, int *ret_fd, char *fdarg)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bench_die("make a socketpair", -errno);
	snprintf(fdarg, 16, "%d", sv[1]);
	pid = bench_spawn_self(args, no_fastpath, sv[1]);
	close(sv[1]);
	*ret_fd = sv[0];
	return pid;
}

/* Create "s<i>" for i in [from, to) on @sock with @jobs parallel fillers;
 * record what exists in @rg.  Returns the first error or 0. */
static int fill(const char *sock, unsigned long from, unsigned long to, int jobs,
		struct ranges *rg)
{
	int fds[16], err = 0;
	pid_t pids[16];
	unsigned long per = (to - from + (unsigned long)jobs - 1) / (unsigned long)jobs;

	for (int j = 0; j < jobs; j++) {
		char a[24], b[24], fdarg[16];
		char *args[] = { "--fill", (char *)sock, a, b, fdarg, NULL };
		unsigned long s = from + per * (unsigned long)j, e = s + per;

		if (e > to)
			e = to;
		if (s > e)
			s = e;
		snprintf(a, sizeof(a), "%lu", s);
		snprintf(b, sizeof(b), "%lu", e);
		pids[j] = spawn(args, true, &fds[j], fdarg);
		if (rg->n + j < MAX_RANGES) {
			rg->start[rg->n + j] = s;
			rg->count[rg->n + j] = 0;
		}
	}
	for (int j = 0; j < jobs; j++) {
		struct fill_res res;

		bench_read_all(fds[j], &res, sizeof(res));
		close(fds[j]);
		(void)waitpid(pids[j], NULL, 0);
		if (rg->n + j < MAX_RANGES)
			rg->count[rg->n + j] = res.created;
		rg->total += res.created;
		if (res.err && !err)
			err = res.err;
	}
	rg->n = rg->n + jobs < MAX_RANGES ? rg->n + jobs : MAX_RANGES;
	return err;
}

static long meminfo_kb(const char *key)
{
	return bench_file_field("/proc/meminfo", key);
}

static long proc_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

struct level {
	unsigned long names;
	struct bench_stats b[V_N], a[V_N];
	long rss_anon_kb, rss_shmem_kb;
	long slab_kb;
	double fill_s;
};

int main(int argc, char **argv)
{
	const char *const opt_names[] = { "--max-names", "--max-names-per-uid" };
	unsigned long top = 1000000, samples = 3000, budget = 75;
	unsigned long targets[3] = { REF_NAMES, 100000, 0 };
	struct bench_trackerd ta, tb;
	static struct ranges ra, rb;
	struct level lv[3];
	int n_lv = 0, jobs = 4, opt, wfd[V_N], err = 0;
	long rss0, slab0;
	pid_t wpid[V_N];
	char capbuf[32], capnote[512] = "";
	const char *extra[8] = { NULL };
	unsigned long nofile_self, nofile_td;
	bool has_max = true;
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	if (argc == 6 && !strcmp(argv[1], "--fill"))
		return fill_main(argv);
	if (argc == 5 && !strcmp(argv[1], "--attach"))
		return attach_main(argv);
	while ((opt = getopt(argc, argv, "N:k:b:j:")) != -1) {
		switch (opt) {
		case 'N':
			top = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			samples = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			budget = strtoul(optarg, NULL, 0);
			break;
		case 'j':
			jobs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: scale_bench [-N TOP] [-k SAMPLES] "
				"[-b FILL_BUDGET_SECONDS] [-j FILLERS]\n");
			return 2;
		}
	}
	if (top < REF_NAMES || samples < 10 || jobs < 1 || jobs > 16) {
		fprintf(stderr, "scale_bench: need -N >= %d, -k >= 10, 1 <= -j <= 16\n", REF_NAMES);
		return 2;
	}
	(void)unsetenv("SEALSHM_NO_FASTPATH");
	bench_machine("scale_bench");

	/* fds: raise ours (trackerd inherits it), then read what trackerd got. */
	nofile_self = bench_raise_nofile();
	for (int i = 0; i < 2; i++)
		has_max = has_max && bench_trackerd_has_option(opt_names[i]);
	if (has_max) {
		snprintf(capbuf, sizeof(capbuf), "%lu", top + 16);
		extra[0] = opt_names[0];
		extra[1] = capbuf;
		extra[2] = opt_names[1];
		extra[3] = capbuf;
	}
	bench_trackerd_start(&ta, NULL, false);
	bench_trackerd_start(&tb, extra, false);
	nofile_td = bench_proc_nofile(tb.pid);
	printf("RLIMIT_NOFILE: %lu here, %lu in trackerd B (fs.nr_open %ld)%s\n", nofile_self,
	       nofile_td, proc_long("/proc/sys/fs/nr_open"), has_max ? "" :
	       "; trackerd has no --max-names: its built-in caps apply");
	if (nofile_td > FD_RESERVE && top > nofile_td - FD_RESERVE) {
		snprintf(capnote, sizeof(capnote), "top lowered from %lu to %lu: RLIMIT_NOFILE",
			 top, nofile_td - FD_RESERVE);
		top = nofile_td - FD_RESERVE;
	}
	targets[2] = top;
	for (int l = 0; l < 2; l++)
		if (targets[l] > top)
			targets[l] = top;
	if (nofile_self < (unsigned long)proc_long("/proc/sys/fs/nr_open") && geteuid() == 0)
		snprintf(capnote + strlen(capnote), sizeof(capnote) - strlen(capnote),
			 "%sthe hard RLIMIT_NOFILE could not be raised to fs.nr_open "
			 "(no CAP_SYS_RESOURCE here)", *capnote ? "; " : "");

	/* The workers: one per path, each attaching to both trackerds. */
	for (int v = 0; v < V_N; v++) {
		static char fdarg[V_N][16];
		char *args[] = { "--attach", ta.sock, tb.sock, fdarg[v], NULL };

		wpid[v] = spawn(args, v == V_SLOW, &wfd[v], fdarg[v]);
	}

	rss0 = bench_proc_status_kb(tb.pid, "RssAnon");
	slab0 = meminfo_kb("Slab");
	err = fill(ta.sock, 0, REF_NAMES, jobs, &ra);
	if (err < 0)
		bench_die("fill trackerd A", err);

	for (int l = 0; l < 3 && !err; l++) {
		unsigned long want = targets[l], have = rb.total;
		uint64_t t0;
		struct level *L = &lv[n_lv];

		if (want <= have)
			continue;
		if (l == 2 && n_lv > 0 && lv[n_lv - 1].fill_s > 0) {
			/* Project from the previous step's rate. */
			double rate = (double)(lv[n_lv - 1].names - (n_lv > 1 ? lv[n_lv - 2].names : 0)) /
				      lv[n_lv - 1].fill_s;
			unsigned long fits = have + (unsigned long)(rate * (double)budget);

			if (fits < want) {
				fits = fits / 50000 * 50000;
				if (fits <= have)
					break;
				snprintf(capnote + strlen(capnote), sizeof(capnote) - strlen(capnote),
					 "%stop lowered from %lu to %lu: at %.0f creates/s, %lu names "
					 "would take longer than the %lu s fill budget",
					 *capnote ? "; " : "", want, fits, rate, want, budget);
				want = fits;
			}
		}
		t0 = bench_now_ns();
		err = fill(tb.sock, have, want, jobs, &rb);
		L->fill_s = (double)(bench_now_ns() - t0) / 1e9;
		if (err < 0) {
			snprintf(capnote + strlen(capnote), sizeof(capnote) - strlen(capnote),
				 "%strackerd refused a create at %lu names: %s", *capnote ? "; " : "",
				 rb.total, strerror(-err));
			if (rb.total <= have)
				break;
		}
		L->names = rb.total;
		L->rss_anon_kb = bench_proc_status_kb(tb.pid, "RssAnon");
		L->rss_shmem_kb = bench_proc_status_kb(tb.pid, "RssShmem");
		L->slab_kb = meminfo_kb("Slab");

		/* Interleaved: B then A, fast then slow, random names. */
		{
			uint64_t *sb[V_N], *sa[V_N];

			for (int v = 0; v < V_N; v++) {
				sb[v] = bench_calloc(samples, sizeof(uint64_t));
				sa[v] = bench_calloc(samples, sizeof(uint64_t));
			}
			for (long i = -20; i < (long)samples; i++)
				for (int k = 0; k < 2 * V_N; k++) {
					int v = (int)((i + 20 + k) % V_N), which = ((i + k / V_N) & 1);
					struct att_req q = { .which = (uint32_t)which };
					int64_t ns;

					q.index = (uint32_t)ranges_pick(which ? &rb : &ra,
									xorshift(&seed));
					bench_write_all(wfd[v], &q, sizeof(q));
					bench_read_all(wfd[v], &ns, sizeof(ns));
					if (ns < 0)
						bench_die("attach a name", (int)ns);
					if (i >= 0)
						(which ? sb : sa)[v][i] = (uint64_t)ns;
				}
			for (int v = 0; v < V_N; v++) {
				L->b[v] = bench_stats_of(sb[v], samples, 1000.0);
				L->a[v] = bench_stats_of(sa[v], samples, 1000.0);
				free(sb[v]);
				free(sa[v]);
			}
		}
		n_lv++;
		fprintf(stderr, "scale_bench: %lu names in %.1f s\n", L->names, L->fill_s);
	}

	for (int v = 0; v < V_N; v++) {
		struct att_req q = { .which = 2 };

		bench_write_all(wfd[v], &q, sizeof(q));
		(void)waitpid(wpid[v], NULL, 0);
	}
	{
		uint64_t t0 = bench_now_ns();

		bench_trackerd_stop(&tb);
		bench_trackerd_stop(&ta);
		fprintf(stderr, "scale_bench: trackerds stopped in %.1f s\n",
			(double)(bench_now_ns() - t0) / 1e9);
	}

	printf("scale_bench: attach+close of 4 KiB names picked at random, %lu samples per "
	       "figure; B = trackerd growing, A = trackerd with %d names, interleaved\n",
	       samples, REF_NAMES);
	if (*capnote)
		printf("note: %s\n", capnote);
	printf("%-9s %-18s %10s %10s %10s %10s %9s %9s\n", "names(B)", "path", "B median",
	       "B min", "A median", "A min", "B/A md", "B/A mn");
	for (int l = 0; l < n_lv; l++)
		for (int v = 0; v < V_N; v++) {
			printf("%-9lu %-18s %10.2f %10.2f %10.2f %10.2f", lv[l].names, v_names[v],
			       lv[l].b[v].median, lv[l].b[v].min, lv[l].a[v].median, lv[l].a[v].min);
			bench_print_ratio(lv[l].b[v].median, lv[l].a[v].median);
			bench_print_ratio(lv[l].b[v].min, lv[l].a[v].min);
			printf("\n");
		}
	printf("\n%-9s %10s %12s %12s %12s %10s\n", "names(B)", "fill s", "RssAnon kB",
	       "anon B/name", "RssShmem kB", "slab B/name");
	for (int l = 0; l < n_lv; l++)
		printf("%-9lu %10.1f %12ld %12.0f %12ld %10.0f\n", lv[l].names, lv[l].fill_s,
		       lv[l].rss_anon_kb, (double)(lv[l].rss_anon_kb - rss0) * 1024 / lv[l].names,
		       lv[l].rss_shmem_kb, (double)(lv[l].slab_kb - slab0) * 1024 / lv[l].names);
	if (n_lv > 0) {
		const struct level *L = &lv[n_lv - 1];
		double heap = (double)(L->rss_anon_kb - rss0) * 1024 / L->names;

		printf("targets at %lu names%s:\n", L->names,
		       L->names < 1000000 ? " (fewer than 1M: see note)" : "");
		for (int v = 0; v < V_N; v++) {
			double q = bench_ratio(L->b[v].median, L->a[v].median);

			printf("  %s attach within 1.2x of 1k names: %.3fx %s\n", v_names[v], q,
			       q <= 1.2 ? "met" : "MISSED");
		}
		printf("  trackerd heap (RssAnon growth) <= 256 B per name: %.0f B %s\n", heap,
		       heap <= 256 ? "met" : "MISSED");
	}
	return 0;
}

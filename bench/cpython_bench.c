// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cpython_bench: sealshm against CPython's multiprocessing.shared_memory on
 * the same machine, in the same run.  python3 runs as a coprocess with an
 * inline script that times each operation with time.perf_counter_ns(); this
 * program alternates batches between it and sealshm, so both share the
 * machine's noise:
 *
 *   create+close+unlink  SharedMemory(name, create=True, size) .close()
 *                        .unlink()  vs  sealshm_create, close, unlink
 *   attach+close         SharedMemory(name) .close()  vs  sealshm_attach,
 *                        close (fast path when taken)
 *   ShareableList        item get and set (int), CPython only: sealshm has
 *                        no list yet
 *
 * CPython registers every segment with its resource tracker (a pipe write
 * to another process; 3.13 adds track=False), which is what its users pay:
 * the comparable sealshm figure is the tracked one.  Without python3 (or
 * without multiprocessing.shared_memory) the program says so and exits 0.
 *
 *   cpython_bench [-n BATCHES] [-k PER_BATCH] [-s SIZE]   (default 50, 100, 4096)
 */
#include "bench.h"

static const char script[] =
	"import os, sys, time\n"
	"from multiprocessing import shared_memory as sm\n"
	"pc = time.perf_counter_ns\n"
	"pid = os.getpid()\n"
	"keep = None\n"
	"L = sm.ShareableList(list(range(64)))\n"
	"print(sys.version.split()[0], flush=True)\n"
	"for line in sys.stdin:\n"
	"    a = line.split()\n"
	"    if a[0] == 'quit':\n"
	"        break\n"
	"    n, t = int(a[-1]), []\n"
	"    if a[0] == 'setup':\n"
	"        keep = sm.SharedMemory('cpb_a_%d' % pid, create=True, size=int(a[1]))\n"
	"    elif a[0] == 'life':\n"
	"        size = int(a[1])\n"
	"        for i in range(n):\n"
	"            nm = 'cpb_l_%d_%d' % (pid, i)\n"
	"            t0 = pc()\n"
	"            s = sm.SharedMemory(nm, create=True, size=size)\n"
	"            s.close()\n"
	"            s.unlink()\n"
	"            t.append(pc() - t0)\n"
	"    elif a[0] == 'attach':\n"
	"        for i in range(n):\n"
	"            t0 = pc()\n"
	"            s = sm.SharedMemory(keep.name)\n"
	"            s.close()\n"
	"            t.append(pc() - t0)\n"
	"    elif a[0] == 'lget':\n"
	"        for i in range(n):\n"
	"            t0 = pc()\n"
	"            x = L[i & 63]\n"
	"            t.append(pc() - t0)\n"
	"    elif a[0] == 'lset':\n"
	"        for i in range(n):\n"
	"            t0 = pc()\n"
	"            L[i & 63] = i\n"
	"            t.append(pc() - t0)\n"
	"    print(' '.join(map(str, t)) or '0', flush=True)\n"
	"if keep is not None:\n"
	"    keep.close()\n"
	"    keep.unlink()\n"
	"L.shm.close()\n"
	"L.shm.unlink()\n";

enum { R_PY_LIFE, R_SU_LIFE, R_ST_LIFE, R_PY_ATT, R_SU_ATT, R_ST_ATT, R_PY_LGET, R_PY_LSET, R_N };
static const char *const r_names[R_N] = {
	"CPython SharedMemory create+close+unlink",
	"sealshm untracked create+close+unlink",
	"sealshm tracked create+close+unlink",
	"CPython SharedMemory attach+close",
	"sealshm untracked attach+close",
	"sealshm tracked attach+close",
	"CPython ShareableList get (int)",
	"CPython ShareableList set (int)",
};
/* The CPython row each sealshm row is compared with. */
static const int r_base[R_N] = { -1, R_PY_LIFE, R_PY_LIFE, -1, R_PY_ATT, R_PY_ATT, -1, -1 };

static FILE *py_in, *py_out;

static void py_batch(const char *cmd, unsigned long k, uint64_t *out)
{
	static char line[1 << 20];
	char *p = line;

	fprintf(py_in, "%s %lu\n", cmd, k);
	fflush(py_in);
	if (!fgets(line, sizeof(line), py_out))
		bench_die("read python3's timings", -EPIPE);
	for (unsigned long i = 0; i < k && out; i++)
		out[i] = strtoull(p, &p, 10);
}

int main(int argc, char **argv)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	unsigned long batches = 50, k = 100;
	size_t size = 4096;
	struct bench_trackerd td;
	struct bench_stats st[R_N];
	struct sealshm *keep = NULL;
	uint64_t *s[R_N];
	char version[64], cmd[64];
	int to_py[2], from_py[2], opt, r;
	pid_t py;
	double wake;

	while ((opt = getopt(argc, argv, "n:k:s:")) != -1) {
		switch (opt) {
		case 'n':
			batches = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			k = strtoul(optarg, NULL, 0);
			break;
		case 's':
			size = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: cpython_bench [-n BATCHES] [-k PER_BATCH] [-s SIZE]\n");
			return 2;
		}
	}
	if (!batches || k < 1 || k > 10000 || !size) {
		fprintf(stderr, "cpython_bench: need -n >= 1, 1 <= -k <= 10000, -s > 0\n");
		return 2;
	}
	(void)unsetenv("SEALSHM_NO_FASTPATH");
	bench_machine("cpython_bench");
	if (system("python3 -c 'import multiprocessing.shared_memory' >/dev/null 2>&1") != 0) {
		printf("cpython_bench: skipped: no python3 with multiprocessing.shared_memory\n");
		return 0;
	}

	if (pipe2(to_py, O_CLOEXEC) < 0 || pipe2(from_py, O_CLOEXEC) < 0)
		bench_die("make pipes", -errno);
	fflush(NULL);
	py = fork();
	if (py < 0)
		bench_die("fork", -errno);
	if (py == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(to_py[0], STDIN_FILENO) < 0 || dup2(from_py[1], STDOUT_FILENO) < 0)
			_exit(126);
		execlp("python3", "python3", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(to_py[0]);
	close(from_py[1]);
	py_in = fdopen(to_py[1], "w");
	py_out = fdopen(from_py[0], "r");
	if (!py_in || !py_out || !fgets(version, sizeof(version), py_out))
		bench_die("start python3", -EPIPE);
	version[strcspn(version, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd), "setup %zu", size);
	py_batch(cmd, 0, NULL);

	bench_trackerd_start(&td, NULL, true);
	r = sealshm_create("cpbench_attach", size, &untracked, &keep);
	if (r < 0)
		bench_die("create cpbench_attach", r);
	(void)bench_sealshm_attach("cpbench_attach", &untracked, false);
	wake = bench_fastpath_probe(td.pid, "cpbench_attach", &untracked, 200);

	for (int i = 0; i < R_N; i++)
		s[i] = bench_calloc(batches * k, sizeof(uint64_t));
	/* Warm-up batch of each, then the timed ones, alternating. */
	for (long b = -1; b < (long)batches; b++) {
		uint64_t *at[R_N];
		uint64_t scratch[10000];

		for (int i = 0; i < R_N; i++)
			at[i] = b < 0 ? scratch : s[i] + (unsigned long)b * k;
		snprintf(cmd, sizeof(cmd), "life %zu", size);
		py_batch(cmd, k, at[R_PY_LIFE]);
		for (unsigned long i = 0; i < k; i++)
			for (int t = 0; t < 2; t++) {
				char name[32];
				uint64_t t0 = bench_now_ns();

				snprintf(name, sizeof(name), "cpbench_l%lu", i);
				r = bench_sealshm_life(name, size, t ? NULL : &untracked, false);
				at[t ? R_ST_LIFE : R_SU_LIFE][i] = bench_now_ns() - t0;
				if (r < 0)
					bench_die("create+close+unlink", r);
			}
		py_batch("attach", k, at[R_PY_ATT]);
		for (unsigned long i = 0; i < k; i++)
			for (int t = 0; t < 2; t++) {
				uint64_t t0 = bench_now_ns();

				r = bench_sealshm_attach("cpbench_attach", t ? NULL : &untracked, false);
				at[t ? R_ST_ATT : R_SU_ATT][i] = bench_now_ns() - t0;
				if (r < 0)
					bench_die("attach+close", r);
			}
		py_batch("lget", k, at[R_PY_LGET]);
		py_batch("lset", k, at[R_PY_LSET]);
	}
	fprintf(py_in, "quit\n");
	fclose(py_in);
	(void)waitpid(py, NULL, 0);
	fclose(py_out);
	(void)sealshm_unlink(keep);
	sealshm_close(keep);
	bench_trackerd_stop(&td);

	for (int i = 0; i < R_N; i++) {
		st[i] = bench_stats_of(s[i], batches * k, 1000.0);
		free(s[i]);
	}
	printf("cpython_bench: Python %s, %zu-byte segments, %lu batches of %lu, alternating; "
	       "times in us\n", version, size, batches, k);
	if (wake < 0)
		printf("fast path: unknown (cannot read trackerd's context switches)\n");
	else if (wake < 0.05)
		printf("fast path: taken (trackerd woke %.2f times per untracked attach)\n", wake);
	else
		printf("fast path: NOT taken (trackerd woke %.2f times per untracked attach)\n",
		       wake);
	printf("%-42s %10s %10s %10s %10s\n", "operation", "median", "min", "/CPy md", "/CPy mn");
	for (int i = 0; i < R_N; i++) {
		printf("%-42s %10.2f %10.2f", r_names[i], st[i].median, st[i].min);
		if (r_base[i] < 0) {
			printf(" %10s %10s\n", "-", "-");
			continue;
		}
		printf("  ");
		bench_print_ratio(st[i].median, st[r_base[i]].median);
		printf("  ");
		bench_print_ratio(st[i].min, st[r_base[i]].min);
		printf("\n");
	}
	printf("(ShareableList: sealshm's lists are measured by slist_bench; CPython's figures for reference)\n");
	{
		double q = bench_ratio(st[R_ST_LIFE].median, st[R_PY_LIFE].median);
		double u = bench_ratio(st[R_SU_LIFE].median, st[R_PY_LIFE].median);

		printf("target: create+close+unlink <= CPython's: tracked %.3fx %s, untracked "
		       "%.3fx %s\n", q, q <= 1.0 ? "met" : "MISSED", u, u <= 1.0 ? "met" : "MISSED");
	}
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * slist_bench: ShareableList item get and set, per second, on 1000-item
 * lists of int and of str items, three ways in the same run:
 *
 *   sealshm     sealshm_slist_get / _get_copy / _set
 *   CPython     multiprocessing.shared_memory.ShareableList, L[i] and
 *               L[i] = v, timed by python3 (a coprocess running an inline
 *               time.perf_counter_ns() loop) on the very same two lists
 *               (SEALSHM_POSIX segments it attaches by name)
 *   raw array   int64_t a[1000]: a[i] and a[i] = v
 *
 * Rounds alternate between this program and python3, so both see the same
 * machine noise; figures are medians over rounds, in ns per operation.  Each
 * C loop goes through the items in order, with a compiler barrier per item
 * so that the raw-array loops are not vectorised away.
 *
 * Targets: int get within 2x of the raw array read, and at least
 * 100x CPython's get.
 *
 *   slist_bench [-r ROUNDS] [-k PASSES]   (default 9 rounds of 200 passes over
 *                                          the 1000 items; python3 does 100k
 *                                          operations per round and figure)
 * Without python3 the CPython column says so; the rest still runs.
 */
#include "bench.h"

#define ITEMS 1000
#define STRLEN 7	/* "s000123"-style: 7 bytes, an 8-byte "8s" slot */

enum { OP_GET_INT, OP_SET_INT, OP_GET_STR, OP_GET_STR_COPY, OP_SET_STR, OP_N };
static const char *const op_names[OP_N] = {
	"get int", "set int", "get str (zero-copy)", "get str (copy)", "set str",
};
/* The CPython figure to compare each row with (-1: none). */
static const int op_py[OP_N] = { 0, 1, 2, 2, 3 };
/* The raw array figure (-1: none). */
static const int op_raw[OP_N] = { 0, 1, -1, -1, -1 };

static const char script[] =
	"import sys, time\n"
	"from multiprocessing import shared_memory as sm, resource_tracker as rt\n"
	"pc = time.perf_counter_ns\n"
	"LI = sm.ShareableList(name=sys.argv[1])\n"
	"LS = sm.ShareableList(name=sys.argv[2])\n"
	"for L in (LI, LS):\n"
	"    rt.unregister(L.shm._name, 'shared_memory')\n"
	"N = len(LI)\n"
	"def get(L, n):\n"
	"    t0 = pc()\n"
	"    for i in range(n):\n"
	"        x = L[i % N]\n"
	"    return (pc() - t0) / n\n"
	"def set_(L, n, v):\n"
	"    t0 = pc()\n"
	"    for i in range(n):\n"
	"        L[i % N] = v\n"
	"    return (pc() - t0) / n\n"
	"print(sys.version.split()[0], flush=True)\n"
	"for line in sys.stdin:\n"
	"    a = line.split()\n"
	"    if a[0] == 'quit':\n"
	"        break\n"
	"    n = int(a[1])\n"
	"    r = (get(LI, n), set_(LI, n, 12345), get(LS, n), set_(LS, n, 'abcdefg'))\n"
	"    print(' '.join('%.3f' % x for x in r), flush=True)\n"
	"LI.shm.close()\n"
	"LS.shm.close()\n";

#define BARRIER(x) __asm__ volatile("" : "+r"(x))

static double per_op(uint64_t t0, unsigned long passes)
{
	return (double)(bench_now_ns() - t0) / ((double)passes * ITEMS);
}

static void c_round(struct sealshm_slist *li, struct sealshm_slist *ls, unsigned long passes,
		    double *out)
{
	struct sealshm_item it, iv = { .type = SEALSHM_ITEM_INT };
	struct sealshm_item sv = { .type = SEALSHM_ITEM_STR, .u.s = { "abcdefg", STRLEN } };
	char buf[64];
	uint64_t sum = 0, t0;
	int r = 0;

	t0 = bench_now_ns();
	for (unsigned long p = 0; p < passes; p++)
		for (int64_t i = 0; i < ITEMS; i++) {
			r |= sealshm_slist_get(li, i, &it);
			sum += (uint64_t)it.u.i;
			BARRIER(sum);
		}
	out[OP_GET_INT] = per_op(t0, passes);

	t0 = bench_now_ns();
	for (unsigned long p = 0; p < passes; p++)
		for (int64_t i = 0; i < ITEMS; i++) {
			iv.u.i = (int64_t)(p + (uint64_t)i);
			r |= sealshm_slist_set(li, i, &iv);
		}
	out[OP_SET_INT] = per_op(t0, passes);

	t0 = bench_now_ns();
	for (unsigned long p = 0; p < passes; p++)
		for (int64_t i = 0; i < ITEMS; i++) {
			r |= sealshm_slist_get(ls, i, &it);
			sum += it.u.s.len;
			BARRIER(sum);
		}
	out[OP_GET_STR] = per_op(t0, passes);

	t0 = bench_now_ns();
	for (unsigned long p = 0; p < passes; p++)
		for (int64_t i = 0; i < ITEMS; i++) {
			int n = sealshm_slist_get_copy(ls, i, buf, sizeof(buf), &it);

			r |= n < 0 ? n : 0;
			sum += (uint64_t)n;
			BARRIER(sum);
		}
	out[OP_GET_STR_COPY] = per_op(t0, passes);

	t0 = bench_now_ns();
	for (unsigned long p = 0; p < passes; p++)
		for (int64_t i = 0; i < ITEMS; i++)
			r |= sealshm_slist_set(ls, i, &sv);
	out[OP_SET_STR] = per_op(t0, passes);

	if (r < 0)
		bench_die("get or set an item", r);
	BARRIER(sum);
}

static void raw_round(int64_t *a, unsigned long passes, double *out)
{
	uint64_t sum = 0, t0;

	t0 = bench_now_ns();
	for (unsigned long p = 0; p < passes; p++)
		for (int i = 0; i < ITEMS; i++) {
			sum += (uint64_t)a[i];
			BARRIER(sum);
		}
	out[0] = per_op(t0, passes);

	t0 = bench_now_ns();
	for (unsigned long p = 0; p < passes; p++)
		for (int i = 0; i < ITEMS; i++) {
			int64_t v = (int64_t)(p + (uint64_t)i);

			BARRIER(v);
			a[i] = v;
		}
	out[1] = per_op(t0, passes);
	BARRIER(sum);
}

static double median(double *v, size_t n)
{
	return bench_stats_of_double(v, n).median;
}

int main(int argc, char **argv)
{
	SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX);
	unsigned long rounds = 9, passes = 200;
	struct sealshm_item *items;
	struct sealshm_slist *li = NULL, *ls = NULL;
	char (*strs)[STRLEN + 1];
	char ni[64], ns[64], version[64] = "", line[256];
	double c[OP_N][64], py[4][64], raw[2][64], mc[OP_N], mpy[4], mraw[2];
	int64_t *a;
	FILE *py_in = NULL, *py_out = NULL;
	pid_t pyp = -1;
	int opt, r;

	while ((opt = getopt(argc, argv, "r:k:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			passes = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: slist_bench [-r ROUNDS] [-k PASSES]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > 64 || passes < 1) {
		fprintf(stderr, "slist_bench: need 1 <= -r <= 64, -k >= 1\n");
		return 2;
	}
	bench_machine("slist_bench");

	/* Two lists: ints 0..999 and 7-byte strs, in /dev/shm so python3
	 * attaches the same bytes. */
	items = bench_calloc(ITEMS, sizeof(*items));
	strs = bench_calloc(ITEMS, sizeof(*strs));
	a = bench_calloc(ITEMS, sizeof(*a));
	snprintf(ni, sizeof(ni), "list_bench_i_%d", (int)getpid());
	snprintf(ns, sizeof(ns), "list_bench_s_%d", (int)getpid());
	for (int i = 0; i < ITEMS; i++) {
		items[i] = (struct sealshm_item){ .type = SEALSHM_ITEM_INT, .u.i = i };
		a[i] = i;
	}
	r = sealshm_slist_create(ni, items, ITEMS, &posix, &li);
	if (r < 0)
		bench_die("create the int list", r);
	for (int i = 0; i < ITEMS; i++) {
		snprintf(strs[i], sizeof(strs[i]), "s%06d", i);
		items[i] = (struct sealshm_item){ .type = SEALSHM_ITEM_STR,
						  .u.s = { strs[i], STRLEN } };
	}
	r = sealshm_slist_create(ns, items, ITEMS, &posix, &ls);
	if (r < 0) {
		(void)sealshm_unlink(sealshm_slist_shm(li));
		bench_die("create the str list", r);
	}
	/* The names are only for python3 to find; they go as soon as it has
	 * attached (or at the end, without python3). */

	if (system("python3 -c 'import multiprocessing.shared_memory' >/dev/null 2>&1") == 0) {
		int to_py[2], from_py[2];

		if (pipe2(to_py, O_CLOEXEC) < 0 || pipe2(from_py, O_CLOEXEC) < 0)
			bench_die("make pipes", -errno);
		fflush(NULL);
		pyp = fork();
		if (pyp < 0)
			bench_die("fork", -errno);
		if (pyp == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (dup2(to_py[0], STDIN_FILENO) < 0 ||
			    dup2(from_py[1], STDOUT_FILENO) < 0)
				_exit(126);
			execlp("python3", "python3", "-c", script, ni, ns, (char *)NULL);
			_exit(127);
		}
		close(to_py[0]);
		close(from_py[1]);
		py_in = fdopen(to_py[1], "w");
		py_out = fdopen(from_py[0], "r");
		if (!py_in || !py_out || !fgets(version, sizeof(version), py_out))
			bench_die("start python3", -EPIPE);
		version[strcspn(version, "\n")] = '\0';
	}
	(void)sealshm_unlink(sealshm_slist_shm(li));
	(void)sealshm_unlink(sealshm_slist_shm(ls));

	/* A warm-up round of each, then the timed ones, alternating. */
	for (long b = -1; b < (long)rounds; b++) {
		double tc[OP_N], tp[4], tr[2];

		c_round(li, ls, passes, tc);
		raw_round(a, passes, tr);
		if (py_in) {
			fprintf(py_in, "run %d\n", b < 0 ? 10000 : 100000);
			fflush(py_in);
			if (!fgets(line, sizeof(line), py_out) ||
			    sscanf(line, "%lf %lf %lf %lf", &tp[0], &tp[1], &tp[2], &tp[3]) != 4)
				bench_die("read python3's timings", -EPIPE);
		}
		if (b < 0)
			continue;
		for (int o = 0; o < OP_N; o++)
			c[o][b] = tc[o];
		for (int o = 0; o < 2; o++)
			raw[o][b] = tr[o];
		for (int o = 0; o < 4 && py_in; o++)
			py[o][b] = tp[o];
	}
	if (py_in) {
		fprintf(py_in, "quit\n");
		fclose(py_in);
		(void)waitpid(pyp, NULL, 0);
		fclose(py_out);
	}
	sealshm_slist_close(li);
	sealshm_slist_close(ls);

	for (int o = 0; o < OP_N; o++)
		mc[o] = median(c[o], rounds);
	for (int o = 0; o < 2; o++)
		mraw[o] = median(raw[o], rounds);
	for (int o = 0; o < 4; o++)
		mpy[o] = py_in ? median(py[o], rounds) : 0;

	printf("slist_bench: %d-item lists, %lu rounds (median), %lu passes per C figure; "
	       "CPython %s\n", ITEMS, rounds, passes, py_in ? version : "(no python3: skipped)");
	printf("%-22s %9s %9s %11s %11s %9s %9s\n", "operation", "ns/op", "Mops/s",
	       "CPy ns/op", "xCPy", "raw ns/op", "/raw");
	for (int o = 0; o < OP_N; o++) {
		double p = op_py[o] >= 0 ? mpy[op_py[o]] : 0;
		double w = op_raw[o] >= 0 ? mraw[op_raw[o]] : 0;

		printf("%-22s %9.2f %9.1f", op_names[o], mc[o], 1e3 / mc[o]);
		if (p > 0)
			printf(" %11.1f %10.0fx", p, p / mc[o]);
		else
			printf(" %11s %11s", "-", "-");
		if (w > 0)
			printf(" %9.2f %8.2fx\n", w, mc[o] / w);
		else
			printf(" %9s %9s\n", "-", "-");
	}
	{
		double vr = mc[OP_GET_INT] / mraw[0];
		double vp = mpy[0] > 0 ? mpy[0] / mc[OP_GET_INT] : 0;

		printf("target: int get within 2x of the raw array read: %.2fx %s\n", vr,
		       vr <= 2.0 ? "met" : "MISSED");
		if (vp > 0)
			printf("target: int get at least 100x CPython's: %.0fx %s\n", vp,
			       vp >= 100.0 ? "met" : "MISSED");
		else
			printf("target: int get at least 100x CPython's: not measured (no python3)\n");
	}
	free(items);
	free(strs);
	free(a);
	return 0;
}

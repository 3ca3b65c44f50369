// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * value_bench: sealshm's shared values (sealshm_array(3)) and arenas
 * (sealshm_arena(3)) beside what a C program would otherwise use,
 * measured in the same run:
 *
 *   uncontended      one process, n x (lock; value++; unlock) on a Value of
 *                    'q' (an int64) in an arena block, with its Lock and
 *                    with its RLock (M ops/s): the lock and data pointers
 *                    taken once, as a C program keeps them, and through
 *                    sealshm_array_lock()/_rlock()/_data() at every
 *                    operation; against glibc's robust process-shared mutex
 *                    around an int64 in shared memory (the baseline), a
 *                    plain unlocked increment (the floor) and an atomic
 *                    fetch-and-add; timed in the worker's CPU time
 *                    (CLOCK_THREAD_CPUTIME_ID: a shared machine's other
 *                    load preempts the loop without adding to it), the
 *                    wall time beside it
 *   contended        2 processes, each n x the same on the same value, wall
 *                    time from the first start to the last end over 2n (the
 *                    total is checked); they start once both are seen
 *                    running, on two CPUs
 *   arenas           sealshm_block_alloc() of 16 bytes + _release(), in
 *                    pairs (the block reused at once) and 1000 allocations
 *                    then their 1000 releases; against calloc() + free()
 *                    alike (blocks come zeroed); and for information a
 *                    whole Value('q') with a Lock (sealshm_array_alloc() +
 *                    _close()) and an array in a segment of its own
 *                    (sealshm_array_create() + _close() + unlink: what an
 *                    arena saves); timed in wall time (segments are made
 *                    through trackerd), the worker's CPU time beside it
 *
 * The values live in blocks of the main process's arena; each worker (two,
 * forked once) takes its own reference with sealshm_array_attach_ref().
 * glibc's mutex and the floor's counters live in an untracked segment
 * shared the same way.  The main process only orchestrates.  Each
 * repetition runs every variant once, in a rotating order, so they share
 * the machine's noise; rows show medians and 90th percentiles over
 * repetitions, the ratio of medians against the baseline of the same run
 * and the median of the per-repetition ratios ("paired").  Nothing is
 * pinned.
 *
 *   value_bench [-n REPETITIONS]
 */
#include "bench.h"

#include <pthread.h>

/* --- what is measured ------------------------------------------------------------ */
enum { U_ROBUST, U_PLAIN, U_ATOMIC, U_LOCK, U_LOCK_ACC, U_RLOCK, U_RLOCK_ACC, U_N };
static const char *const u_names[U_N] = {
	"glibc robust pshared mutex, x++",
	"plain x++, no lock (floor)",
	"atomic fetch-add, no lock",
	"sealshm Value('q'), Lock",
	"sealshm Value('q'), Lock, accessors",
	"sealshm Value('q'), RLock",
	"sealshm Value('q'), RLock, accessors",
};

enum { C_ATOMIC, C_ROBUST, C_LOCK, C_RLOCK, C_N };
static const char *const c_names[C_N] = {
	"atomic fetch-add, no lock (floor)",
	"glibc robust pshared mutex, x++",
	"sealshm Value('q'), Lock",
	"sealshm Value('q'), RLock",
};

enum { A_CALLOC, A_BLOCK, A_CALLOC_BATCH, A_BLOCK_BATCH, A_VALUE, A_SEGMENT, A_N };
static const char *const a_names[A_N] = {
	"calloc(16) + free",
	"sealshm_block_alloc(16) + release",
	"1000 x calloc(16), 1000 x free",
	"1000 x block_alloc(16), 1000 x release",
	"sealshm_array_alloc Value('q') + close",
	"sealshm_array_create + close + unlink",
};
/* The baseline of each arena row (-1: none). */
static const int a_base[A_N] = { -1, A_CALLOC, -1, A_CALLOC_BATCH, A_CALLOC, -1 };

#define BATCH		1000
#define BLOCK_SIZE	16

static bool is_sealshm_u(int v)
{
	return v >= U_LOCK;
}

static bool is_sealshm_c(int v)
{
	return v >= C_LOCK;
}

static bool is_sealshm_a(int v)
{
	return v == A_BLOCK || v == A_BLOCK_BATCH || v == A_VALUE || v == A_SEGMENT;
}

/* --- the shared segment ------------------------------------------------------------ */
struct shared {
	_Alignas(64) pthread_mutex_t robust;
	_Alignas(64) int64_t robust_x;
	_Alignas(64) int64_t plain_x;
	_Alignas(64) int64_t atomic_x;
	/* the values' references, for the workers */
	struct sealshm_ref ref_lock;
	struct sealshm_ref ref_rlock;
	struct bench_rendezvous rv;	/* of two workers */
};
static struct shared *sh;

/* This process's handles on the two values (each worker's own). */
static struct sealshm_array *v_lock, *v_rlock;

/* --- workers ------------------------------------------------------------------------ */
enum { OP_UNC, OP_CONT, OP_ARENA, OP_QUIT };

/* Keep @p alive for the compiler: an allocation it may not elide. */
static inline void escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/*
 * n x (acquire; x++; release) on Value @a under its @kind ("lock" or
 * "rlock", in messages @what): value_<kind>_loop() with the lock and data
 * pointers taken once, as a C program keeps them; value_<kind>_acc_loop()
 * through sealshm_array_<kind>()/_data() at every operation.  The same
 * code for both kinds, each with its own direct calls.
 */
#define VALUE_LOOPS(kind, what)								\
static void value_##kind##_loop(struct sealshm_array *a, uint64_t n)			\
{											\
	struct sealshm_##kind *lk = sealshm_array_##kind(a);				\
	int64_t *x = sealshm_array_data(a);						\
											\
	for (uint64_t i = 0; i < n; i++) {						\
		bench_check(sealshm_##kind##_acquire(lk, NULL, 0),			\
			    "acquire a Value's " what);					\
		(*(volatile int64_t *)x)++;						\
		bench_check(sealshm_##kind##_release(lk), "release a Value's " what);	\
	}										\
}											\
											\
static void value_##kind##_acc_loop(struct sealshm_array *a, uint64_t n)		\
{											\
	for (uint64_t i = 0; i < n; i++) {						\
		bench_check(sealshm_##kind##_acquire(sealshm_array_##kind(a), NULL, 0),	\
			    "acquire a Value's " what);					\
		((volatile int64_t *)sealshm_array_data(a))[0]++;			\
		bench_check(sealshm_##kind##_release(sealshm_array_##kind(a)),		\
			    "release a Value's " what);					\
	}										\
}

VALUE_LOOPS(lock, "Lock")
VALUE_LOOPS(rlock, "RLock")

static void robust_loop(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		bench_check_pt(pthread_mutex_lock(&sh->robust), "lock");
		(*(volatile int64_t *)&sh->robust_x)++;
		bench_check_pt(pthread_mutex_unlock(&sh->robust), "unlock");
	}
}

static void atomic_loop(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		(void)__atomic_fetch_add(&sh->atomic_x, 1, __ATOMIC_SEQ_CST);
}

static void uncontended(int v, uint64_t n)
{
	switch (v) {
	case U_ROBUST:
		robust_loop(n);
		break;
	case U_PLAIN:
		for (uint64_t i = 0; i < n; i++)
			(*(volatile int64_t *)&sh->plain_x)++;
		break;
	case U_ATOMIC:
		atomic_loop(n);
		break;
	case U_LOCK:
		value_lock_loop(v_lock, n);
		break;
	case U_LOCK_ACC:
		value_lock_acc_loop(v_lock, n);
		break;
	case U_RLOCK:
		value_rlock_loop(v_rlock, n);
		break;
	case U_RLOCK_ACC:
		value_rlock_acc_loop(v_rlock, n);
		break;
	}
}

static void contended(int v, uint64_t n)
{
	switch (v) {
	case C_ATOMIC:
		atomic_loop(n);
		break;
	case C_ROBUST:
		robust_loop(n);
		break;
	case C_LOCK:
		value_lock_loop(v_lock, n);
		break;
	case C_RLOCK:
		value_rlock_loop(v_rlock, n);
		break;
	}
}

/* The worker's own arena (opened on first use: an arena used in a forked
 * child starts segments of its own anyway). */
static struct sealshm_arena *w_arena;

/* One arena run of @n operations of variant @v; returns 0 or -errno. */
static int arena_run(int v, uint64_t n)
{
	static void *ptrs[BATCH];
	struct sealshm_array_params params = {
		.sz = sizeof(params), .typecode = 'q', .length = 1,
		.flags = SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_VALUE,
	};
	char name[64];
	int r;

	switch (v) {
	case A_CALLOC:
		for (uint64_t i = 0; i < n; i++) {
			void *p = calloc(1, BLOCK_SIZE);

			if (!p)
				return -ENOMEM;
			escape(p);
			free(p);
		}
		break;
	case A_BLOCK:
		for (uint64_t i = 0; i < n; i++) {
			void *p;

			r = sealshm_block_alloc(w_arena, BLOCK_SIZE, &p);
			if (r < 0)
				return r;
			r = sealshm_block_release(p);
			if (r < 0)
				return r;
		}
		break;
	case A_CALLOC_BATCH:
		for (uint64_t i = 0; i < n; i += BATCH) {
			for (int k = 0; k < BATCH; k++) {
				ptrs[k] = calloc(1, BLOCK_SIZE);
				if (!ptrs[k])
					return -ENOMEM;
				escape(ptrs[k]);
			}
			for (int k = 0; k < BATCH; k++)
				free(ptrs[k]);
		}
		break;
	case A_BLOCK_BATCH:
		for (uint64_t i = 0; i < n; i += BATCH) {
			for (int k = 0; k < BATCH; k++) {
				r = sealshm_block_alloc(w_arena, BLOCK_SIZE, &ptrs[k]);
				if (r < 0)
					return r;
			}
			for (int k = 0; k < BATCH; k++) {
				r = sealshm_block_release(ptrs[k]);
				if (r < 0)
					return r;
			}
		}
		break;
	case A_VALUE:
		for (uint64_t i = 0; i < n; i++) {
			struct sealshm_array *a;

			r = sealshm_array_alloc(w_arena, &params, NULL, &a);
			if (r < 0)
				return r;
			(void)sealshm_array_close(a);
		}
		break;
	case A_SEGMENT:
		for (uint64_t i = 0; i < n; i++) {
			struct sealshm_array *a;

			snprintf(name, sizeof(name), "valuebench-%d-%llu", (int)getpid(),
				 (unsigned long long)i);
			r = sealshm_array_create(name, &params, NULL, &a);
			if (r < 0)
				return r;
			(void)sealshm_array_close(a);
			r = sealshm_unlink_name(name, NULL);
			if (r < 0)
				return r;
		}
		break;
	}
	return 0;
}

static struct bench_rep arena_op(int v, uint64_t n)
{
	struct bench_rep rep = { 0 };
	int r;

	if (is_sealshm_a(v) && !w_arena) {
		r = sealshm_arena_open(NULL, &w_arena);
		if (r < 0) {
			rep.rc = r;
			return rep;
		}
	}
	rep.cpu = bench_cpu_now_ns();
	rep.t0 = (int64_t)bench_now_ns();
	rep.rc = arena_run(v, n);
	rep.t1 = (int64_t)bench_now_ns();
	rep.cpu = bench_cpu_now_ns() - rep.cpu;
	return rep;
}

static struct bench_rep serve(const struct bench_req *q)
{
	struct bench_rep rep = { 0 };

	switch (q->op) {
	case OP_UNC:
		rep.cpu = bench_cpu_now_ns();
		rep.t0 = (int64_t)bench_now_ns();
		uncontended((int)q->v, q->n);
		rep.t1 = (int64_t)bench_now_ns();
		rep.cpu = bench_cpu_now_ns() - rep.cpu;
		break;
	case OP_CONT:
		rep = bench_contend(&sh->rv, q, contended);
		break;
	case OP_ARENA:
		rep = arena_op((int)q->v, q->n);
		break;
	case OP_QUIT:
		(void)sealshm_array_close(v_lock);
		(void)sealshm_array_close(v_rlock);
		(void)sealshm_arena_close(w_arena);
		_exit(0);
	}
	return rep;
}

/* A worker: attaches the values (@have_values), says so, then serves. */
static _Noreturn void worker_main(int sock, void *have_values)
{
	struct bench_rep hello = { 0 };

	if (*(bool *)have_values) {
		hello.rc = sealshm_array_attach_ref(&sh->ref_lock, NULL, &v_lock);
		if (hello.rc >= 0)
			hello.rc = sealshm_array_attach_ref(&sh->ref_rlock, NULL, &v_rlock);
	}
	bench_worker_serve(sock, hello, serve);
}

static void worker_start(struct bench_worker *w, bool have_values)
{
	struct bench_rep hello;

	if (!bench_worker_start(w, worker_main, &have_values, &hello, NULL))
		bench_die("start a worker", -EPIPE);
	if (hello.rc < 0)
		bench_die("attach the values in a worker (sealshm_array_attach_ref)", (int)hello.rc);
}

/* --- statistics and rows ------------------------------------------------------------- */
static void print_head(const char *title, const char *base, const char *extra)
{
	printf("\n%s\n", title);
	printf("  %-40s %9s %9s %9s %9s %9s %9s\n", "variant", "M ops/s", "ns/op", "p90 ns",
	       base, "paired", extra ? extra : "");
}

/* A row of times in ns per operation (@v, @n repetitions); @base: the
 * baseline's (NULL for a row without one); @extra: samples of a last
 * column (or NULL).  The ratio is a speed-up: the baseline's median time
 * over this row's.  Returns this row's median in M ops/s. */
static double print_row(const char *name, const double *v, const double *base,
			const double *extra, size_t n)
{
	struct bench_stats s = bench_stats_of_samples(v, n);

	printf("  %-40s %9.2f %9.2f %9.2f", name, s.median > 0 ? 1000 / s.median : 0, s.median,
	       s.p90);
	if (base) {
		bench_print_ratio(bench_stats_of_samples(base, n).median, s.median);
		printf(" %8.3fx", bench_paired_ratio(base, v, n));
	} else {
		printf(" %9s %9s", "-", "-");
	}
	if (extra)
		printf(" %9.2f", bench_stats_of_samples(extra, n).median);
	printf("\n");
	return s.median > 0 ? 1000 / s.median : 0;
}

static void print_unavailable(const char *name, int r)
{
	printf("  %-40s unavailable: %s\n", name, strerror(-r));
}

/* --- set-up -------------------------------------------------------------------------- */
static void init_glibc(void)
{
	pthread_mutexattr_t ma;

	if (pthread_mutexattr_init(&ma) || pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) ||
	    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) ||
	    pthread_mutex_init(&sh->robust, &ma))
		bench_die("set up the glibc mutex", -EINVAL);
	(void)pthread_mutexattr_destroy(&ma);
}

/* The two values, in blocks of @arena, their references in the shared
 * segment.  Returns 0 or what failed (the sealshm rows are then skipped). */
static int init_values(struct sealshm_arena **arena, struct sealshm_array **lk,
		       struct sealshm_array **rl)
{
	struct sealshm_array_params params = {
		.sz = sizeof(params), .typecode = 'q', .length = 1,
		.flags = SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_VALUE,
	};
	int r;

	r = sealshm_arena_open(NULL, arena);
	if (r < 0)
		return r;
	r = sealshm_array_alloc(*arena, &params, NULL, lk);
	if (r < 0)
		return r;
	params.flags = SEALSHM_ARRAY_RLOCK | SEALSHM_ARRAY_VALUE;
	r = sealshm_array_alloc(*arena, &params, NULL, rl);
	if (r < 0)
		return r;
	r = sealshm_array_ref(*lk, &sh->ref_lock);
	if (r < 0)
		return r;
	return sealshm_array_ref(*rl, &sh->ref_rlock);
}

static int64_t value_now(struct sealshm_array *a)
{
	return *(volatile int64_t *)sealshm_array_data(a);
}

static void value_set(struct sealshm_array *a, int64_t x)
{
	*(volatile int64_t *)sealshm_array_data(a) = x;
}

static void usage(void)
{
	fprintf(stderr, "usage: value_bench [-n REPETITIONS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const uint64_t n_unc = 2000000, n_cont = 500000;
	/* per arena variant: operations per run */
	const uint64_t n_arena[A_N] = { 1000000, 200000, 1000000, 200000, 20000, 200 };
	unsigned long reps = 11, apart[C_N] = { 0 };
	struct sealshm *seg = NULL;
	struct sealshm_arena *arena = NULL;
	struct sealshm_array *main_lock = NULL, *main_rlock = NULL;
	struct bench_trackerd td;
	struct bench_worker wa, wb;
	double *u[U_N], *u_wall[U_N], *c[C_N], *c_sleeps[C_N], *ar[A_N], *ar_cpu[A_N];
	int a_err[A_N] = { 0 };
	int opt, values_err;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt == 'n')
			reps = strtoul(optarg, NULL, 0);
		else
			usage();
	}
	if (optind != argc || reps < 1)
		usage();
	bench_machine("value_bench");

	bench_trackerd_start(&td, NULL, true);
	sh = bench_worker_memory("valuebench", sizeof(struct shared), &seg);
	init_glibc();
	values_err = init_values(&arena, &main_lock, &main_rlock);
	if (values_err < 0)
		printf("value_bench: no sealshm values (%s): their rows are skipped\n",
		       strerror(-values_err));

	worker_start(&wa, values_err == 0);
	worker_start(&wb, values_err == 0);

	bench_samples(u, U_N, reps);
	bench_samples(u_wall, U_N, reps);
	bench_samples(c, C_N, reps);
	bench_samples(c_sleeps, C_N, reps);
	bench_samples(ar, A_N, reps);
	bench_samples(ar_cpu, A_N, reps);

	/* Repetition -1 warms every variant up and is not kept. */
	for (long i = -1; i < (long)reps; i++) {
		for (int k = 0; k < U_N; k++) {
			int v = bench_rotate(i, k, U_N);
			struct bench_rep a;

			if (is_sealshm_u(v) && values_err)
				continue;
			a = bench_worker_ask(&wa, (struct bench_req){ .op = OP_UNC, .v = (uint32_t)v,
					     .n = n_unc });
			if (i >= 0) {
				u[v][i] = (double)a.cpu / (double)n_unc;
				u_wall[v][i] = (double)(a.t1 - a.t0) / (double)n_unc;
			}
		}
		for (int k = 0; k < C_N; k++) {
			int v = bench_rotate(i, k, C_N);
			struct sealshm_array *val = v == C_LOCK ? main_lock : main_rlock;
			int64_t got;
			struct bench_rep a, b;

			if (is_sealshm_c(v) && values_err)
				continue;
			if (is_sealshm_c(v))
				value_set(val, 0);
			else if (v == C_ROBUST)
				sh->robust_x = 0;
			else
				sh->atomic_x = 0;
			bench_contend_pair(&sh->rv, &wa, &wb, (struct bench_req){ .op = OP_CONT,
					   .v = (uint32_t)v, .n = n_cont }, &a, &b);
			got = is_sealshm_c(v) ? value_now(val) : v == C_ROBUST ? sh->robust_x :
									  sh->atomic_x;
			if (got != (int64_t)(2 * n_cont)) {
				fprintf(stderr, "value_bench: %s: counted %lld, expected %llu\n",
					c_names[v], (long long)got, (unsigned long long)(2 * n_cont));
				bench_die("count under a lock", -EPROTO);
			}
			bench_contend_keep(&a, &b, 2 * n_cont, i, c[v], c_sleeps[v], &apart[v]);
		}
		for (int k = 0; k < A_N; k++) {
			int v = bench_rotate(i, k, A_N);
			struct bench_rep a;

			if (a_err[v])
				continue;
			a = bench_worker_ask(&wa, (struct bench_req){ .op = OP_ARENA,
					     .v = (uint32_t)v, .n = n_arena[v] });
			if (a.rc < 0)
				a_err[v] = (int)a.rc;
			else if (i >= 0) {
				ar[v][i] = (double)(a.t1 - a.t0) / (double)n_arena[v];
				ar_cpu[v][i] = (double)a.cpu / (double)n_arena[v];
			}
		}
	}

	bench_worker_stop(&wa, OP_QUIT);
	bench_worker_stop(&wb, OP_QUIT);
	(void)sealshm_array_close(main_lock);
	(void)sealshm_array_close(main_rlock);
	(void)sealshm_arena_close(arena);
	(void)sealshm_close(seg);
	bench_trackerd_stop(&td);

	printf("value_bench: %lu repetitions (uncontended x %llu, contended 2 x %llu, "
	       "arena runs as listed); not pinned\n",
	       reps, (unsigned long long)n_unc, (unsigned long long)n_cont);

	{
		double m_lock = 0, m_rlock = 0, m_robust = 0;

		print_head("uncontended read-modify-write, 1 process (CPU time of the worker; "
			   "ratios: speed-up over the glibc robust mutex)", "x robust", "wall ns");
		for (int v = 0; v < U_N; v++) {
			double m;

			if (is_sealshm_u(v) && values_err) {
				print_unavailable(u_names[v], values_err);
				continue;
			}
			m = print_row(u_names[v], u[v], v == U_ROBUST ? NULL : u[U_ROBUST],
				      u_wall[v], reps);
			if (v == U_LOCK)
				m_lock = m;
			else if (v == U_RLOCK)
				m_rlock = m;
			else if (v == U_ROBUST)
				m_robust = m;
		}

		print_head("2 processes on the same value, n x (lock; x++; unlock) each "
			   "(ns/op: wall time over 2n)", "x robust", "sleeps/1k");
		for (int v = 0; v < C_N; v++) {
			if (is_sealshm_c(v) && values_err) {
				print_unavailable(c_names[v], values_err);
				continue;
			}
			print_row(c_names[v], c[v], v == C_ROBUST ? NULL : c[C_ROBUST],
				  c_sleeps[v], reps);
		}
		bench_print_apart(c_names, apart, C_N, reps);

		print_head("arena allocation, per operation (wall time, this worker's CPU time "
			   "beside it; ratios: speed-up over calloc/free)", "x calloc", "cpu ns");
		for (int v = 0; v < A_N; v++) {
			if (a_err[v]) {
				print_unavailable(a_names[v], a_err[v]);
				continue;
			}
			print_row(a_names[v], ar[v], a_base[v] >= 0 ? ar[a_base[v]] : NULL,
				  ar_cpu[v], reps);
		}

		printf("\ntargets (medians, this run; glibc robust mutex: %.1f M ops/s):\n", m_robust);
		if (values_err) {
			printf("  %-58s not measured (%s)\n", "Value read-modify-write under its Lock",
			       strerror(-values_err));
		} else {
			printf("  %-58s %7.1f M/s %s\n",
			       "Value('q') read-modify-write under its Lock >= 40 M/s", m_lock,
			       m_lock >= 40 ? "met" : "MISSED");
			printf("  %-58s %7.1f M/s %s\n",
			       "Value('q') read-modify-write under its RLock >= 40 M/s", m_rlock,
			       m_rlock >= 40 ? "met" : "MISSED");
		}
	}
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench.h: what every bench/ program shares.  Header-only (each benchmark is
 * one .c file linked against the shared library, public API only), so all
 * functions are static inline.
 *
 *  - timing (CLOCK_MONOTONIC ns, a thread's CPU time) and median/min/p90
 *    over repetitions, ratios of medians and paired ratios;
 *  - table rows with ratios against a baseline measured in the same run;
 *  - worker processes forked once and driven over a socketpair, one
 *    request and one reply at a time, and two of them started together
 *    (both seen running) for contended runs;
 *  - a description of the machine (nproc, kernel, CPU model, memory);
 *  - a private trackerd on a temp-dir socket (the one just built, in the
 *    foreground, logging to a file), with its pid for /proc figures;
 *  - the raw floor: a minimal single-threaded epoll server that answers
 *    each request with one SCM_RIGHTS message carrying a prepared memfd
 *    (what any fd-passing registry must at least cost), and its client;
 *  - POSIX shm_open baselines;
 *  - re-executing the benchmark itself as a worker process with its own
 *    environment (SEALSHM_NO_FASTPATH=1 must be seen from the first library
 *    call, so a forked copy of an already initialised process will not do).
 */
#ifndef SEALSHM_BENCH_H
#define SEALSHM_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sealshm.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

#define BENCH_PAGE 4096u

/* --- errors and time ---------------------------------------------------------- */
static inline void bench_die(const char *what, int r)
{
	fprintf(stderr, "%s: Failed to %s: %s\n", program_invocation_short_name, what,
		strerror(r < 0 ? -r : r));
	exit(1);
}

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void *bench_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		bench_die("allocate", -ENOMEM);
	return p;
}

/* --- statistics and tables ------------------------------------------------------ */
struct bench_stats {
	double median;		/* in the unit of the samples divided by @scale */
	double min;
	double p90;		/* 90th percentile (nearest rank) */
	size_t n;
};

/* The nearest-rank index of the @pct-th percentile of @n sorted samples. */
static inline size_t bench_rank(size_t n, unsigned int pct)
{
	size_t k = (n * pct + 99) / 100;

	return k ? k - 1 : 0;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and 90th percentile of @n samples divided by @scale (1000
 * turns ns into us).  Sorts @v. */
static inline struct bench_stats bench_stats_of(uint64_t *v, size_t n, double scale)
{
	struct bench_stats s = { .n = n };

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), bench_cmp_u64);
	s.min = (double)v[0] / scale;
	s.p90 = (double)v[bench_rank(n, 90)] / scale;
	s.median = n % 2 ? (double)v[n / 2] / scale : ((double)v[n / 2 - 1] + v[n / 2]) / 2 / scale;
	return s;
}

/* Same for doubles (rates, where the "min" of interest is still the min). */
static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline struct bench_stats bench_stats_of_double(double *v, size_t n)
{
	struct bench_stats s = { .n = n };

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	s.min = v[0];
	s.p90 = v[bench_rank(n, 90)];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

static inline double bench_ratio(double x, double base)
{
	return base > 0 ? x / base : 0;
}

/* "  1.234x" or "       -" when there is no baseline. */
static inline void bench_print_ratio(double x, double base)
{
	if (base > 0 && x > 0)
		printf(" %7.3fx", x / base);
	else
		printf(" %8s", "-");
}

/* bench_stats_of_double() of @n samples, @v left as it is (sorted copy). */
static inline struct bench_stats bench_stats_of_samples(const double *v, size_t n)
{
	double *c = bench_calloc(n, sizeof(*c));
	struct bench_stats s;

	memcpy(c, v, n * sizeof(*c));
	s = bench_stats_of_double(c, n);
	free(c);
	return s;
}

/* The median over repetitions of @v[i] / @base[i] (the "paired" ratio:
 * each repetition's variants shared the machine's noise), over the
 * repetitions where both were measured; 0 when there is none. */
static inline double bench_paired_ratio(const double *v, const double *base, size_t n)
{
	double *r = bench_calloc(n, sizeof(*r));
	size_t k = 0;
	double m;

	for (size_t i = 0; i < n; i++)
		if (v[i] > 0 && base[i] > 0)
			r[k++] = v[i] / base[i];
	m = k ? bench_stats_of_double(r, k).median : 0;
	free(r);
	return m;
}

/* The variant to run at place @k of repetition @i (-1: the warm-up) among
 * @n: each repetition starts one further, so that every variant runs at
 * every place of the order alike. */
static inline int bench_rotate(long i, int k, int n)
{
	return (int)((i + 1 + k) % n);
}

/* @n arrays of @reps zeroed samples each, in @ret[0] to @ret[@n - 1]. */
static inline void bench_samples(double **ret, int n, size_t reps)
{
	for (int v = 0; v < n; v++)
		ret[v] = bench_calloc(reps, sizeof(double));
}

/* --- the machine --------------------------------------------------------------- */
static inline void bench_cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += 1 + strspn(colon + 1, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

/* The number after "@key:" in a "Key: value" file such as /proc/meminfo,
 * or -1. */
static inline long bench_file_field(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The kB value of @key ("RssAnon", "VmHWM", ...) in /proc/@pid/status, or -1. */
static inline long bench_proc_status_kb(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return bench_file_field(path, key);
}

/* Context switches of @pid so far: a process asleep in epoll_wait() that
 * serves a request wakes (at least one voluntary switch), so a batch of
 * attaches that leaves this count unchanged never reached it. */
static inline long bench_proc_ctxsw(pid_t pid)
{
	long a = bench_proc_status_kb(pid, "voluntary_ctxt_switches");
	long b = bench_proc_status_kb(pid, "nonvoluntary_ctxt_switches");

	return a < 0 || b < 0 ? -1 : a + b;
}

static inline void bench_machine(const char *prog)
{
	struct utsname u;
	char cpu[256];

	(void)uname(&u);
	bench_cpu_model(cpu, sizeof(cpu));
	printf("%s: machine: nproc %ld, kernel %s %s, CPU %s, memory %lld MiB, libsealshm %s\n",
	       prog, sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, cpu,
	       (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) >> 20,
	       sealshm_version());
}

/* --- file descriptor limit ------------------------------------------------------- */
/* Raise RLIMIT_NOFILE as far as allowed: as root (CAP_SYS_RESOURCE) the hard
 * limit up to /proc/sys/fs/nr_open, then the soft limit to the hard one.
 * Children (trackerd) inherit it.  Returns the soft limit that applies. */
static inline rlim_t bench_raise_nofile(void)
{
	struct rlimit rl;
	unsigned long nr_open = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (f) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (nr_open > rl.rlim_max) {
		struct rlimit up = { nr_open, nr_open };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}

/* The "Max open files" soft limit of @pid, or 0. */
static inline unsigned long bench_proc_nofile(pid_t pid)
{
	struct rlimit rl;

	if (prlimit(pid, RLIMIT_NOFILE, NULL, &rl) < 0)
		return 0;
	return rl.rlim_cur;
}

/* --- child processes ---------------------------------------------------------------- */
/* fork(), this process's output flushed first; the child dies with this
 * process (PR_SET_PDEATHSIG). */
static inline pid_t bench_fork(void)
{
	pid_t pid;

	(void)fflush(NULL);
	pid = fork();
	if (pid < 0)
		bench_die("fork", -errno);
	if (pid == 0)
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

/* --- self re-execution ------------------------------------------------------------- */
/* Run this program again as "PROG @args..." with SEALSHM_NO_FASTPATH=1 in its
 * environment when @no_fastpath, and without it otherwise.  @keep_fd (or -1)
 * is inherited under its number.  Returns the pid. */
static inline pid_t bench_spawn_self(char *const args[], bool no_fastpath, int keep_fd)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;

	if (n < 0)
		bench_die("find /proc/self/exe", -errno);
	exe[n] = '\0';
	pid = bench_fork();
	if (pid == 0) {
		char *argv[16];
		int i = 0;

		argv[i++] = exe;
		for (; args[i - 1] && i < 15; i++)
			argv[i] = args[i - 1];
		argv[i] = NULL;
		if (no_fastpath)
			(void)setenv("SEALSHM_NO_FASTPATH", "1", 1);
		else
			(void)unsetenv("SEALSHM_NO_FASTPATH");
		if (keep_fd >= 0)
			(void)fcntl(keep_fd, F_SETFD, 0);
		execv(exe, argv);
		_exit(127);
	}
	return pid;
}

/* Exact-size I/O on a socketpair/pipe between a benchmark and its workers. */
static inline void bench_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			bench_die("write to a worker", n < 0 ? -errno : -EPIPE);
		p += n;
		len -= (size_t)n;
	}
}

static inline void bench_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			bench_die("read from a worker", n < 0 ? -errno : -EPIPE);
		p += n;
		len -= (size_t)n;
	}
}

/* --- worker processes ---------------------------------------------------------------- */
/*
 * A benchmark forks its workers once; the main process only orchestrates:
 * it sends a worker one struct bench_req at a time, the worker runs it and
 * answers with one struct bench_rep (its first, unasked, says it is ready).
 * Each benchmark numbers its own operations and variants.
 */
struct bench_req {
	uint32_t op;
	uint32_t v;		/* variant */
	uint32_t side;		/* runs of two workers: which one, 0 or 1 */
	uint32_t __pad;
	uint64_t n;		/* operations */
};

struct bench_rep {
	int64_t t0, t1;		/* CLOCK_MONOTONIC ns, the same in every pid namespace */
	int64_t cpu;		/* where measured: the worker's CPU time between t0 and t1 */
	int64_t rc;		/* 0, or what failed (-errno) */
	int64_t apart;		/* runs of two: the two were not seen running at once */
	int64_t sleeps;		/* where measured: voluntary context switches, t0 to t1 */
};

struct bench_worker {
	pid_t pid;		/* to reap: the worker, or the process that made its namespace */
	pid_t inner;		/* the worker itself, as seen from here */
	int sock;
};

/* This thread's CPU time (user + system), ns: on a shared machine, other
 * load preempts a loop without adding to it. */
static inline int64_t bench_cpu_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* This process's voluntary context switches so far: how often it slept. */
static inline int64_t bench_sleeps_now(void)
{
	struct rusage ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw;
}

/* A worker's failure: said on stderr, the worker exits 1 (its reply never
 * comes, and the main process dies of that). */
static inline _Noreturn void bench_worker_fail(const char *what, int r)
{
	fprintf(stderr, "%s: worker %d: Failed to %s: %s\n", program_invocation_short_name,
		(int)getpid(), what, strerror(r < 0 ? -r : r));
	_exit(1);
}

/* sealshm calls: 0 or more, or -errno. */
static inline void bench_check(int r, const char *what)
{
	if (r < 0)
		bench_worker_fail(what, r);
}

/* pthread and sem_t calls: 0 or a positive errno, or -1 with errno. */
static inline void bench_check_pt(int r, const char *what)
{
	if (r > 0)
		bench_worker_fail(what, r);
	if (r < 0)
		bench_worker_fail(what, errno);
}

/* A worker's loop: send @hello, then for each request on @sock the reply
 * @serve() makes (it exits the process on the benchmark's quit). */
static inline _Noreturn void bench_worker_serve(int sock, struct bench_rep hello,
						struct bench_rep (*serve)(const struct bench_req *q))
{
	struct bench_rep rep = hello;
	struct bench_req q;

	for (;;) {
		bench_write_all(sock, &rep, sizeof(rep));
		bench_read_all(sock, &q, sizeof(q));
		rep = serve(&q);
	}
}

/* Fork a worker on a socketpair: the child closes this side's end and
 * runs @child(its end, @arg), which does not return.  Waits for the
 * worker's first reply, in *@ret_hello.  Returns false when the child
 * ended without one (reaped, its wait status in *@ret_status). */
static inline bool bench_worker_start(struct bench_worker *w, void (*child)(int sock, void *arg),
				      void *arg, struct bench_rep *ret_hello, int *ret_status)
{
	int sv[2];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bench_die("make a socketpair", -errno);
	w->pid = bench_fork();
	if (w->pid == 0) {
		close(sv[0]);
		child(sv[1], arg);
		_exit(1);
	}
	close(sv[1]);
	w->sock = sv[0];
	w->inner = w->pid;
	do
		n = read(w->sock, ret_hello, sizeof(*ret_hello));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*ret_hello)) {
		(void)waitpid(w->pid, ret_status, 0);
		return false;
	}
	return true;
}

static inline void bench_worker_send(const struct bench_worker *w, struct bench_req q)
{
	bench_write_all(w->sock, &q, sizeof(q));
}

static inline struct bench_rep bench_worker_reply(const struct bench_worker *w)
{
	struct bench_rep rep;

	bench_read_all(w->sock, &rep, sizeof(rep));
	return rep;
}

static inline struct bench_rep bench_worker_ask(const struct bench_worker *w, struct bench_req q)
{
	bench_worker_send(w, q);
	return bench_worker_reply(w);
}

/* Send @quit_op, reap the worker. */
static inline void bench_worker_stop(struct bench_worker *w, uint32_t quit_op)
{
	if (w->pid <= 0)
		return;
	bench_worker_send(w, (struct bench_req){ .op = quit_op });
	(void)waitpid(w->pid, NULL, 0);
	close(w->sock);
	w->pid = 0;
}

/* Memory for the workers: an untracked segment of @size bytes named
 * "@prefix-PID", unlinked at once (the mapping stays, and workers forked
 * later inherit it).  Returns the mapping; *@ret_seg to close at the end. */
static inline void *bench_worker_memory(const char *prefix, size_t size, struct sealshm **ret_seg)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	char name[64];
	int r;

	snprintf(name, sizeof(name), "%s-%d", prefix, (int)getpid());
	r = sealshm_create(name, size, &untracked, ret_seg);
	if (r < 0)
		bench_die("create the shared segment", r);
	(void)sealshm_unlink(*ret_seg);
	return sealshm_buf(*ret_seg);
}

/* --- two workers at once ------------------------------------------------------------- */
/* Where two workers meet, in memory they share (reset before each run). */
struct bench_rendezvous {
	_Alignas(64) uint32_t ready;
	uint32_t go;
	struct {
		_Alignas(64) uint64_t n;
	} beat[2];		/* each worker's heartbeat at the start */
};

static inline void bench_rendezvous_reset(struct bench_rendezvous *rv)
{
	rv->ready = 0;
	rv->go = 0;
}

/* Both workers arrive, then both go: the two halves of a run start together. */
static inline void bench_rendezvous(struct bench_rendezvous *rv)
{
	(void)__atomic_add_fetch(&rv->ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&rv->ready, __ATOMIC_ACQUIRE) < 2)
		sched_yield();
}

/*
 * The same, and both running at that moment, on two CPUs: each beats a
 * heartbeat and watches the other's, and the first to see it move 100
 * times within 200 us says go.  Workers that the main process wakes may
 * share its CPU for a while (the scheduler pulls a wakee towards its
 * waker), and a contended run started there would time two halves taking
 * turns, not two processes contending.  Returns false when they were not
 * seen running together within a second (the run goes on anyway).
 */
static inline bool bench_rendezvous_running(struct bench_rendezvous *rv, int me)
{
	uint64_t seen, window, end;
	bool together = true;
	int moves = 0;

	bench_rendezvous(rv);
	seen = __atomic_load_n(&rv->beat[!me].n, __ATOMIC_RELAXED);
	window = bench_now_ns();
	end = window + 1000000000u;
	for (unsigned long i = 1; !__atomic_load_n(&rv->go, __ATOMIC_ACQUIRE); i++) {
		uint64_t b;

		__atomic_store_n(&rv->beat[me].n, i, __ATOMIC_RELAXED);
		b = __atomic_load_n(&rv->beat[!me].n, __ATOMIC_RELAXED);
		if (b != seen) {
			seen = b;
			moves++;
		}
		if (moves >= 100) {
			__atomic_store_n(&rv->go, 1, __ATOMIC_RELEASE);
		} else if (!(i & 255)) {
			uint64_t now = bench_now_ns();

			if (now > end) {
				together = false;
				__atomic_store_n(&rv->go, 1, __ATOMIC_RELEASE);
			} else if (now - window > 200000) {
				window = now;
				moves = 0;
			}
		}
	}
	return together;
}

/* A worker's half of a contended run: both seen running (or not: apart),
 * then @run(@q->v, @q->n) timed, with the sleeps it took. */
static inline struct bench_rep bench_contend(struct bench_rendezvous *rv, const struct bench_req *q,
					     void (*run)(int v, uint64_t n))
{
	struct bench_rep rep = { 0 };

	rep.apart = !bench_rendezvous_running(rv, (int)q->side);
	rep.sleeps = bench_sleeps_now();
	rep.t0 = (int64_t)bench_now_ns();
	run((int)q->v, q->n);
	rep.t1 = (int64_t)bench_now_ns();
	rep.sleeps = bench_sleeps_now() - rep.sleeps;
	return rep;
}

/* The main process's side: the rendezvous @rv reset, @q to @a as side 0
 * and to @b as side 1, their replies in *@ret_a, *@ret_b. */
static inline void bench_contend_pair(struct bench_rendezvous *rv, const struct bench_worker *a,
				      const struct bench_worker *b, struct bench_req q,
				      struct bench_rep *ret_a, struct bench_rep *ret_b)
{
	bench_rendezvous_reset(rv);
	q.side = 0;
	bench_worker_send(a, q);
	q.side = 1;
	bench_worker_send(b, q);
	*ret_a = bench_worker_reply(a);
	*ret_b = bench_worker_reply(b);
}

/* Keep the figures of a contended run of @ops operations in all as
 * repetition @i (-1, the warm-up: not kept): in @ns[@i] its wall time per
 * operation, from the first start to the last end; in @sleeps[@i] both
 * workers' sleeps per 1000 operations; in *@apart one more when the two
 * were not seen running at once. */
static inline void bench_contend_keep(const struct bench_rep *a, const struct bench_rep *b,
				      uint64_t ops, long i, double *ns, double *sleeps,
				      unsigned long *apart)
{
	if (i < 0)
		return;
	*apart += a->apart || b->apart;
	ns[i] = (double)((a->t1 > b->t1 ? a->t1 : b->t1) - (a->t0 < b->t0 ? a->t0 : b->t0)) /
		(double)ops;
	sleeps[i] = (double)(a->sleeps + b->sleeps) * 1000 / (double)ops;
}

/* "NAME: in A of N runs ..." for each variant @apart counted runs of. */
static inline void bench_print_apart(const char *const *names, const unsigned long *apart,
				     int n, unsigned long reps)
{
	for (int v = 0; v < n; v++)
		if (apart[v])
			printf("  %s: in %lu of %lu runs the two processes were not seen "
			       "running at once\n", names[v], apart[v], reps);
}

/* --- the private trackerd ------------------------------------------------------------ */
struct bench_trackerd {
	pid_t pid;
	char dir[64];
	char sock[128];
	char log[128];
};

static inline int bench_trackerd_prog(char *buf, size_t len)
{
	const char *e = getenv("SEALSHM_TRACKERD");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (e && *e)
		return snprintf(buf, len, "%s", e) < (int)len ? 0 : -ENAMETOOLONG;
	/* build/bench/x -> build/trackerd/trackerd */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	return snprintf(buf, len, "%s/../trackerd/trackerd", exe) < (int)len ? 0 : -ENAMETOOLONG;
}

/* Does "trackerd --help" mention @option (e.g. "--max-names")? */
static inline bool bench_trackerd_has_option(const char *option)
{
	char prog[PATH_MAX], cmd[PATH_MAX + 32], line[512];
	bool found = false;
	FILE *p;

	if (bench_trackerd_prog(prog, sizeof(prog)) < 0)
		return false;
	snprintf(cmd, sizeof(cmd), "'%s' --help 2>&1", prog);
	p = popen(cmd, "re");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p))
		if (strstr(line, option)) {
			const char *end = strstr(line, option) + strlen(option);

			/* "--max-names" must not match "--max-names-per-uid" alone */
			if (*end != '-')
				found = true;
		}
	(void)pclose(p);
	return found;
}

static inline int bench_unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* A blocking SOCK_SEQPACKET connection to @path, or -errno. */
static inline int bench_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	r = bench_unix_addr(&sa, path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Wait up to 10 s until something accepts connections on @path. */
static inline void bench_wait_listening(const char *path, pid_t pid, const char *what)
{
	uint64_t end = bench_now_ns() + 10000000000u;
	int fd;

	while ((fd = bench_connect(path)) < 0) {
		if (bench_now_ns() > end || waitpid(pid, NULL, WNOHANG) == pid)
			bench_die(what, fd);
		usleep(5000);
	}
	close(fd);
}

/*
 * Start trackerd --foreground --socket DIR/trackerd.sock [@extra...] with
 * stderr to DIR/trackerd.log.  @set_env: also point the library at it
 * ($SEALSHM_SOCKET, no autostart); otherwise callers pass opts.socket.
 */
static inline void bench_trackerd_start(struct bench_trackerd *t, const char *const *extra,
					bool set_env)
{
	char prog[PATH_MAX];
	int r;

	memset(t, 0, sizeof(*t));
	r = bench_trackerd_prog(prog, sizeof(prog));
	if (r < 0)
		bench_die("find trackerd", r);
	if (access(prog, X_OK) < 0)
		bench_die(prog, -errno);
	snprintf(t->dir, sizeof(t->dir), "/tmp/sealshm-bench.XXXXXX");
	if (!mkdtemp(t->dir))
		bench_die("make a temp dir", -errno);
	snprintf(t->sock, sizeof(t->sock), "%s/trackerd.sock", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/trackerd.log", t->dir);

	(void)fflush(NULL);
	t->pid = fork();
	if (t->pid < 0)
		bench_die("fork", -errno);
	if (t->pid == 0) {
		const char *argv[32] = { prog, "--foreground", "--socket", t->sock };
		int fd = open(t->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int i = 4;

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		for (; extra && *extra && i < 31; extra++)
			argv[i++] = *extra;
		argv[i] = NULL;
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	if (set_env) {
		if (setenv("SEALSHM_SOCKET", t->sock, 1) < 0 ||
		    setenv("SEALSHM_NO_AUTOSTART", "1", 1) < 0)
			bench_die("set the environment", -errno);
		(void)unsetenv("SEALSHM_SESSION");
	}
	bench_wait_listening(t->sock, t->pid, "reach the trackerd just started");
}

/* Count lines of the trackerd log containing @needle. */
static inline long bench_trackerd_log_count(const struct bench_trackerd *t, const char *needle)
{
	char line[1024];
	long n = 0;
	FILE *f = fopen(t->log, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static inline void bench_trackerd_stop(struct bench_trackerd *t)
{
	char path[192];

	if (t->pid > 0) {
		(void)kill(t->pid, SIGTERM);
		(void)waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
	(void)unlink(t->log);
	snprintf(path, sizeof(path), "%s.lock", t->sock);
	(void)unlink(path);
	(void)unlink(t->sock);
	(void)rmdir(t->dir);
}

/* --- the raw floor server ----------------------------------------------------------- */
/*
 * Requests are two bytes {op, idx}:
 *   'A' attach: reply one byte + the prepared memfd number idx (read-write,
 *       the same fd every time, as trackerd sends its stored fd);
 *   'C' create: the request carries one fd; the server keeps it (one per
 *       connection, as a registry would) and replies one byte;
 *   'U' unlink: the server closes the kept fd and replies one byte.
 * Single-threaded, level-triggered epoll, non-blocking sockets, in its own
 * process: the least an fd-passing daemon can do per request.
 */
#define BENCH_RAW_SIZES_MAX	8
#define BENCH_RAW_CLIENTS_MAX	4096

struct bench_raw {
	pid_t pid;
	char dir[64];
	char sock[128];
};

static inline int bench_memfd(size_t size)
{
	static unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL;
	int fd = memfd_create("sealshm:bench", flags);

	if (fd < 0 && errno == EINVAL && (flags & MFD_NOEXEC_SEAL)) {
		flags &= ~MFD_NOEXEC_SEAL;	/* before Linux 6.3 */
		fd = memfd_create("sealshm:bench", flags);
	}
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || fchmod(fd, 0600) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* One message of @len bytes with at most one fd; returns bytes or -errno. */
static inline ssize_t bench_send_fd(int sock, const void *buf, size_t len, int fd, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
	return n < 0 ? -errno : n;
}

/* Receive one message; *@ret_fd gets its fd or -1.  Returns bytes, 0 at
 * EOF, or -errno. */
static inline ssize_t bench_recv_fd(int sock, void *buf, size_t len, int *ret_fd, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*ret_fd = -1;
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
	if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
		if (*ret_fd >= 0)
			close(*ret_fd);
		*ret_fd = -1;
		return -EXFULL;
	}
	return n;
}

static inline void bench_raw_serve(int lfd, const int *memfds, int n_sizes)
{
	static int kept[BENCH_RAW_CLIENTS_MAX];
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		_exit(1);
	for (int i = 0; i < BENCH_RAW_CLIENTS_MAX; i++)
		kept[i] = -1;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		_exit(1);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, rfd;
			unsigned char req[2], ok = 0;
			ssize_t len;

			if (fd == lfd) {
				int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

				if (c < 0)
					continue;
				if (c >= BENCH_RAW_CLIENTS_MAX) {
					close(c);
					continue;
				}
				ev.data.fd = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
					close(c);
				continue;
			}
			len = bench_recv_fd(fd, req, sizeof(req), &rfd, MSG_DONTWAIT);
			if (len == -EAGAIN || len == -EINTR)
				continue;
			if (len <= 0) {
				if (kept[fd] >= 0)
					close(kept[fd]);
				kept[fd] = -1;
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				continue;
			}
			if (len == 2 && req[0] == 'A' && req[1] < n_sizes) {
				(void)bench_send_fd(fd, &ok, 1, memfds[req[1]], MSG_DONTWAIT);
			} else if (len == 2 && req[0] == 'C' && rfd >= 0) {
				if (kept[fd] >= 0)
					close(kept[fd]);
				kept[fd] = rfd;
				(void)bench_send_fd(fd, &ok, 1, -1, MSG_DONTWAIT);
			} else if (len == 2 && req[0] == 'U') {
				if (kept[fd] >= 0)
					close(kept[fd]);
				kept[fd] = -1;
				(void)bench_send_fd(fd, &ok, 1, -1, MSG_DONTWAIT);
			} else {
				if (rfd >= 0)
					close(rfd);
				ok = 1;
				(void)bench_send_fd(fd, &ok, 1, -1, MSG_DONTWAIT);
			}
		}
	}
}

/* Start the raw server with one prepared memfd per size in @sizes. */
static inline void bench_raw_start(struct bench_raw *s, const size_t *sizes, int n_sizes)
{
	struct sockaddr_un sa;
	int lfd, r;

	memset(s, 0, sizeof(*s));
	if (n_sizes > BENCH_RAW_SIZES_MAX)
		bench_die("start the raw server", -E2BIG);
	snprintf(s->dir, sizeof(s->dir), "/tmp/sealshm-bench-raw.XXXXXX");
	if (!mkdtemp(s->dir))
		bench_die("make a temp dir", -errno);
	snprintf(s->sock, sizeof(s->sock), "%s/raw.sock", s->dir);
	r = bench_unix_addr(&sa, s->sock);
	if (r < 0)
		bench_die("name the raw socket", r);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 128) < 0)
		bench_die("listen on the raw socket", -errno);
	s->pid = bench_fork();
	if (s->pid == 0) {
		int memfds[BENCH_RAW_SIZES_MAX];

		for (int i = 0; i < n_sizes; i++) {
			memfds[i] = bench_memfd(sizes[i]);
			if (memfds[i] < 0)
				_exit(1);
		}
		bench_raw_serve(lfd, memfds, n_sizes);
		_exit(0);
	}
	close(lfd);
}

static inline void bench_raw_stop(struct bench_raw *s)
{
	if (s->pid > 0) {
		(void)kill(s->pid, SIGKILL);
		(void)waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	(void)unlink(s->sock);
	(void)rmdir(s->dir);
}

/* One round trip: send {op, idx} (+ @send_fd), receive the one-byte reply
 * (+ *@ret_fd when not NULL).  Returns 0 or -errno. */
static inline int bench_raw_call(int conn, char op, int idx, int send_fd, int *ret_fd)
{
	unsigned char req[2] = { (unsigned char)op, (unsigned char)idx }, rep = 1;
	ssize_t n;
	int fd;

	n = bench_send_fd(conn, req, sizeof(req), send_fd, 0);
	if (n < 0)
		return (int)n;
	n = bench_recv_fd(conn, &rep, 1, &fd, 0);
	if (n <= 0)
		return n < 0 ? (int)n : -ECONNRESET;
	if (rep != 0) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (ret_fd)
		*ret_fd = fd;
	else if (fd >= 0)
		close(fd);
	return 0;
}

/* Touch every page of a mapping (write one byte per page when @write). */
static inline void bench_touch(void *p, size_t size, bool write)
{
	volatile unsigned char *b = p;
	unsigned char sum = 0;

	for (size_t off = 0; off < size; off += BENCH_PAGE) {
		if (write)
			b[off] = (unsigned char)off;
		else
			sum += b[off];
	}
	(void)sum;
}

/* What an attach does once it holds the fd, the same for every baseline:
 * fstat, mmap [, touch], munmap, close (@fd is consumed). */
static inline int bench_map_fd(int fd, bool touch)
{
	struct stat st;
	void *p;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	if (touch)
		bench_touch(p, (size_t)st.st_size, false);
	(void)munmap(p, (size_t)st.st_size);
	close(fd);
	return 0;
}

/* Raw floor attach: round trip for the fd, fstat, mmap [, touch], munmap, close. */
static inline int bench_raw_attach(int conn, int idx, bool touch)
{
	int fd, r;

	r = bench_raw_call(conn, 'A', idx, -1, &fd);
	if (r < 0)
		return r;
	if (fd < 0)
		return -EBADMSG;
	return bench_map_fd(fd, touch);
}

/* Raw floor create+close+unlink: sealed memfd, mmap, round trip handing the
 * fd over [, touch], munmap, close, round trip to unlink. */
static inline int bench_raw_life(int conn, size_t size, bool touch)
{
	void *p;
	int fd, r;

	fd = bench_memfd(size);
	if (fd < 0)
		return fd;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	r = bench_raw_call(conn, 'C', 0, fd, NULL);
	if (r == 0 && touch)
		bench_touch(p, size, true);
	(void)munmap(p, size);
	close(fd);
	if (r < 0)
		return r;
	return bench_raw_call(conn, 'U', 0, -1, NULL);
}

/* --- POSIX shm baselines ---------------------------------------------------------- */
/* shm_open(O_CREAT|O_EXCL) + ftruncate + mmap [, touch], munmap, close, shm_unlink. */
static inline int bench_posix_life(const char *name, size_t size, bool touch)
{
	void *p;
	int fd, r = 0;

	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		goto out;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	if (touch)
		bench_touch(p, size, true);
	(void)munmap(p, size);
out:
	close(fd);
	if (shm_unlink(name) < 0 && !r)
		r = -errno;
	return r;
}

/* shm_open(O_RDWR) + fstat + mmap [, touch], munmap, close. */
static inline int bench_posix_attach(const char *name, bool touch)
{
	int fd;

	fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	return bench_map_fd(fd, touch);
}

/* --- sealshm operations ---------------------------------------------------------- */
/* sealshm_attach [, touch], sealshm_close. */
static inline int bench_sealshm_attach(const char *name, const struct sealshm_opts *opts,
				       bool touch)
{
	struct sealshm *shm = NULL;
	int r = sealshm_attach(name, opts, &shm);

	if (r < 0)
		return r;
	if (touch)
		bench_touch(sealshm_buf(shm), sealshm_size(shm), false);
	sealshm_close(shm);
	return 0;
}

/* sealshm_create [, touch], sealshm_close, sealshm_unlink_name. */
static inline int bench_sealshm_life(const char *name, size_t size,
				     const struct sealshm_opts *opts, bool touch)
{
	struct sealshm *shm = NULL;
	int r = sealshm_create(name, size, opts, &shm);

	if (r < 0)
		return r;
	if (touch)
		bench_touch(sealshm_buf(shm), size, true);
	sealshm_close(shm);
	return sealshm_unlink_name(name, opts);
}

/*
 * Is the fast path taken?  Attach @name untracked @n times and count how
 * often trackerd (@pid) woke meanwhile: a round trip wakes it every time,
 * an attach through the index never.  Returns the wake-ups per attach.
 */
static inline double bench_fastpath_probe(pid_t pid, const char *name,
					  const struct sealshm_opts *opts, int n)
{
	long before = bench_proc_ctxsw(pid), after;

	for (int i = 0; i < n; i++) {
		int r = bench_sealshm_attach(name, opts, false);

		if (r < 0)
			bench_die("attach (fast path probe)", r);
	}
	after = bench_proc_ctxsw(pid);
	return before < 0 || after < 0 ? -1 : (double)(after - before) / n;
}

#endif /* SEALSHM_BENCH_H */

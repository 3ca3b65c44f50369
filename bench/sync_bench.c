// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sync_bench: sealshm's shared synchronisation objects beside what a C
 * program would otherwise use, measured in the same run:
 *
 *   uncontended      acquire+release in one process (ns per pair): glibc's
 *                    robust process-shared mutex (the baseline), its plain
 *                    process-shared mutex, sem_t; sealshm's Lock (blocking
 *                    and try), RLock, Semaphore
 *   contended        2 processes, each n x (lock; counter++; unlock), wall
 *                    time from the first start to the last end over 2n (ns);
 *                    they start once both are seen running, on two CPUs
 *   round trips      2 processes hand a turn back and forth, A wakes B, B
 *                    wakes A (us per round trip): a raw futex ping-pong on
 *                    one shared word (the baseline), sem_t, glibc's robust
 *                    mutex + process-shared condvar, pthread_barrier_t of 2
 *                    (two generations); sealshm's Semaphore,
 *                    Event, Condition (a turn under a Lock) and Barrier(2)
 *                    (two generations: each party wakes the other once)
 *   owner death      a holder is SIGKILLed while the next acquirer already
 *                    waits: time from kill() to the waiter holding the lock
 *                    (it gets EOWNERDEAD), for glibc's robust mutex and
 *                    sealshm's Lock, with holder and waiter in the same pid
 *                    namespace and each PID 1 of a namespace of its own
 *                    (unshare(CLONE_NEWPID); skipped when not permitted)
 *
 * Everything lives in one segment (an untracked sealshm segment), shared by
 * worker processes forked once; the main process only orchestrates, so
 * every variant runs in processes started alike.  Each repetition runs
 * every variant once, in a rotating order, so they share the machine's
 * noise; rows show the median and the 90th percentile over repetitions,
 * the ratio of medians against the baseline of the same run, the median
 * of the per-repetition ratios ("paired"), the paired ratio against
 * glibc's counterpart of a sealshm object ("/glibc": robust mutex, sem_t,
 * condvar, pthread_barrier), and for two processes how
 * often they slept (voluntary context switches of both, per 1000 pairs or
 * per round trip: a handoff that finds the turn already back sleeps not
 * at all).  Nothing is pinned.
 *
 *   sync_bench [-n REPETITIONS] [-k KILLS]
 */
#include "bench.h"

#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/syscall.h>

/* --- what is measured ------------------------------------------------------------ */
enum { U_ROBUST, U_PLAIN, U_SEMT, U_LOCK, U_LOCK_TRY, U_RLOCK, U_SEM, U_N };
static const char *const u_names[U_N] = {
	"glibc robust pshared mutex", "glibc pshared mutex", "glibc pshared sem_t",
	"sealshm Lock", "sealshm Lock (tryacquire)", "sealshm RLock", "sealshm Semaphore",
};

/* glibc's counterpart of each of sealshm's (-1: none), in the enum's order. */
static const int u_like[U_N] = { -1, -1, -1, U_ROBUST, U_ROBUST, U_ROBUST, U_SEMT };

enum { C_ROBUST, C_PLAIN, C_LOCK, C_RLOCK, C_N };
static const char *const c_names[C_N] = {
	"glibc robust pshared mutex", "glibc pshared mutex", "sealshm Lock", "sealshm RLock",
};

enum { P_FUTEX, P_SEMT, P_PCOND, P_PBARRIER, P_SEM, P_EVENT, P_COND, P_BARRIER, P_N };
static const char *const p_names[P_N] = {
	"raw futex ping-pong", "glibc sem_t post/wait", "glibc robust mutex + condvar",
	"glibc pthread_barrier(2)", "sealshm Semaphore", "sealshm Event", "sealshm Condition",
	"sealshm Barrier(2)",
};

static const int p_like[P_N] = { -1, -1, -1, -1, P_SEMT, -1, P_PCOND, P_PBARRIER };

enum { D_GLIBC, D_LOCK, D_GLIBC_NS, D_LOCK_NS, D_N };
static const char *const d_names[D_N] = {
	"glibc robust mutex", "sealshm Lock",
	"glibc robust mutex, 2 pid namespaces", "sealshm Lock, 2 pid namespaces",
};

static bool d_in_ns(int v)
{
	return v == D_GLIBC_NS || v == D_LOCK_NS;
}

/* Round trips jump between two regimes as the scheduler places the two
 * processes (each sleeping at every hand-over, or not): more, shorter
 * runs per repetition let every variant meet both alike. */
#define PING_RUNS	3

/* --- the shared segment ------------------------------------------------------------ */
struct shared {
	_Alignas(64) pthread_mutex_t robust;
	_Alignas(64) pthread_mutex_t plain;
	_Alignas(64) sem_t semt;
	_Alignas(64) sem_t semt_ping;
	_Alignas(64) sem_t semt_pong;
	_Alignas(64) pthread_mutex_t pc_mutex;
	pthread_cond_t pc_cond;
	int pc_turn;
	_Alignas(64) pthread_barrier_t pbarrier;
	_Alignas(64) uint32_t turn;	/* raw futex: bit 0 whose turn, bit 1 a sleeper */
	_Alignas(64) struct sealshm_lock lock;
	_Alignas(64) struct sealshm_rlock rlock;
	_Alignas(64) struct sealshm_sem sem;
	_Alignas(64) struct sealshm_sem sem_ping;
	_Alignas(64) struct sealshm_sem sem_pong;
	_Alignas(64) struct sealshm_event ev_ping;
	_Alignas(64) struct sealshm_event ev_pong;
	_Alignas(64) struct sealshm_lock cond_lock;
	struct sealshm_cond cond;
	int cond_turn;
	_Alignas(64) struct sealshm_barrier barrier;
	/* owner death */
	_Alignas(64) pthread_mutex_t d_mutex;
	_Alignas(64) struct sealshm_lock d_lock;
	_Alignas(64) uint32_t d_held;		/* the holder has it */
	uint32_t d_waiting;			/* the waiter is about to wait */
	int32_t d_holder_pid;			/* as seen from here */
	int32_t ns_errno;			/* why unshare(CLONE_NEWPID) failed */
	int32_t ns_worker_pid;			/* the worker in a namespace, as seen from here */
	/* the contended counter and the rendezvous of two workers */
	_Alignas(64) uint64_t counter;
	struct bench_rendezvous rv;
};
static struct shared *sh;

static long futex_call(uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* --- workers ------------------------------------------------------------------------ */
enum { OP_UNC, OP_CONT, OP_PING, OP_DWAIT, OP_QUIT };

static void uncontended(int v, uint64_t n)
{
	switch (v) {
	case U_ROBUST:
		for (uint64_t i = 0; i < n; i++) {
			bench_check_pt(pthread_mutex_lock(&sh->robust), "lock");
			bench_check_pt(pthread_mutex_unlock(&sh->robust), "unlock");
		}
		break;
	case U_PLAIN:
		for (uint64_t i = 0; i < n; i++) {
			bench_check_pt(pthread_mutex_lock(&sh->plain), "lock");
			bench_check_pt(pthread_mutex_unlock(&sh->plain), "unlock");
		}
		break;
	case U_SEMT:
		for (uint64_t i = 0; i < n; i++) {
			bench_check_pt(sem_wait(&sh->semt), "sem_wait");
			bench_check_pt(sem_post(&sh->semt), "sem_post");
		}
		break;
	case U_LOCK:
		for (uint64_t i = 0; i < n; i++) {
			bench_check(sealshm_lock_acquire(&sh->lock, NULL, 0), "acquire a Lock");
			bench_check(sealshm_lock_release(&sh->lock), "release a Lock");
		}
		break;
	case U_LOCK_TRY:
		for (uint64_t i = 0; i < n; i++) {
			bench_check(sealshm_lock_tryacquire(&sh->lock), "tryacquire a Lock");
			bench_check(sealshm_lock_release(&sh->lock), "release a Lock");
		}
		break;
	case U_RLOCK:
		for (uint64_t i = 0; i < n; i++) {
			bench_check(sealshm_rlock_acquire(&sh->rlock, NULL, 0), "acquire an RLock");
			bench_check(sealshm_rlock_release(&sh->rlock), "release an RLock");
		}
		break;
	case U_SEM:
		for (uint64_t i = 0; i < n; i++) {
			bench_check(sealshm_sem_acquire(&sh->sem, NULL, 0), "acquire a Semaphore");
			bench_check(sealshm_sem_release(&sh->sem), "release a Semaphore");
		}
		break;
	}
}

static void contended(int v, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		switch (v) {
		case C_ROBUST:
			bench_check_pt(pthread_mutex_lock(&sh->robust), "lock");
			sh->counter++;
			bench_check_pt(pthread_mutex_unlock(&sh->robust), "unlock");
			break;
		case C_PLAIN:
			bench_check_pt(pthread_mutex_lock(&sh->plain), "lock");
			sh->counter++;
			bench_check_pt(pthread_mutex_unlock(&sh->plain), "unlock");
			break;
		case C_LOCK:
			bench_check(sealshm_lock_acquire(&sh->lock, NULL, 0), "acquire a Lock");
			sh->counter++;
			bench_check(sealshm_lock_release(&sh->lock), "release a Lock");
			break;
		case C_RLOCK:
			bench_check(sealshm_rlock_acquire(&sh->rlock, NULL, 0), "acquire an RLock");
			sh->counter++;
			bench_check(sealshm_rlock_release(&sh->rlock), "release an RLock");
			break;
		}
	}
}

/* The raw futex ping-pong: wait until the turn is @me, sleeping with
 * FUTEX_WAIT after announcing it (bit 1); pass it with one exchange, and
 * FUTEX_WAKE only when someone announced a sleep. */
static void turn_wait(uint32_t me)
{
	for (;;) {
		uint32_t v = __atomic_load_n(&sh->turn, __ATOMIC_ACQUIRE);

		if ((v & 1) == me)
			return;
		if (!(v & 2) && !__atomic_compare_exchange_n(&sh->turn, &v, v | 2, false,
							     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			continue;
		(void)futex_call(&sh->turn, FUTEX_WAIT, v | 2);
	}
}

static void turn_pass(uint32_t to)
{
	if (__atomic_exchange_n(&sh->turn, to, __ATOMIC_SEQ_CST) & 2)
		(void)futex_call(&sh->turn, FUTEX_WAKE, 1);
}

/* One round trip, from side @me's point of view. */
static void ping(int v, int me)
{
	int r;

	switch (v) {
	case P_FUTEX:
		turn_wait((uint32_t)me);
		turn_pass((uint32_t)!me);
		break;
	case P_SEMT:
		if (me == 0) {
			bench_check_pt(sem_post(&sh->semt_ping), "sem_post");
			bench_check_pt(sem_wait(&sh->semt_pong), "sem_wait");
		} else {
			bench_check_pt(sem_wait(&sh->semt_ping), "sem_wait");
			bench_check_pt(sem_post(&sh->semt_pong), "sem_post");
		}
		break;
	case P_PCOND:
		bench_check_pt(pthread_mutex_lock(&sh->pc_mutex), "lock");
		while (sh->pc_turn != me)
			bench_check_pt(pthread_cond_wait(&sh->pc_cond, &sh->pc_mutex),
				       "wait on a condvar");
		sh->pc_turn = !me;
		bench_check_pt(pthread_cond_signal(&sh->pc_cond), "signal a condvar");
		bench_check_pt(pthread_mutex_unlock(&sh->pc_mutex), "unlock");
		break;
	case P_PBARRIER:
		for (int g = 0; g < 2; g++) {
			r = pthread_barrier_wait(&sh->pbarrier);
			if (r != 0 && r != PTHREAD_BARRIER_SERIAL_THREAD)
				bench_worker_fail("wait at a pthread_barrier", r);
		}
		break;
	case P_SEM:
		if (me == 0) {
			bench_check(sealshm_sem_release(&sh->sem_ping), "release a Semaphore");
			bench_check(sealshm_sem_acquire(&sh->sem_pong, NULL, 0),
				    "acquire a Semaphore");
		} else {
			bench_check(sealshm_sem_acquire(&sh->sem_ping, NULL, 0),
				    "acquire a Semaphore");
			bench_check(sealshm_sem_release(&sh->sem_pong), "release a Semaphore");
		}
		break;
	case P_EVENT:
		/* multiprocessing's figure: set -> wait+clear -> set back -> wait+clear */
		if (me == 0) {
			bench_check(sealshm_event_set(&sh->ev_ping), "set an Event");
			bench_check(sealshm_event_wait(&sh->ev_pong, NULL, 0), "wait on an Event");
			bench_check(sealshm_event_clear(&sh->ev_pong), "clear an Event");
		} else {
			bench_check(sealshm_event_wait(&sh->ev_ping, NULL, 0), "wait on an Event");
			bench_check(sealshm_event_clear(&sh->ev_ping), "clear an Event");
			bench_check(sealshm_event_set(&sh->ev_pong), "set an Event");
		}
		break;
	case P_COND:
		bench_check(sealshm_lock_acquire(&sh->cond_lock, NULL, 0), "acquire a Lock");
		while (sh->cond_turn != me)
			bench_check(sealshm_cond_wait(&sh->cond, &sh->cond_lock, NULL, 0),
				    "wait on a Condition");
		sh->cond_turn = !me;
		bench_check(sealshm_cond_notify(&sh->cond, 1), "notify a Condition");
		bench_check(sealshm_lock_release(&sh->cond_lock), "release a Lock");
		break;
	case P_BARRIER:
		for (int g = 0; g < 2; g++) {
			r = sealshm_barrier_wait(&sh->barrier, NULL, 0);
			bench_check(r, "wait at a Barrier");
		}
		break;
	}
}

/* Owner death, the waiter's half: wait (up to 5 s) for the lock the
 * holder is about to lose, note when it is ours, make it consistent and
 * release it for the next kill. */
static struct bench_rep death_wait(int v)
{
	struct bench_rep rep = { 0 };
	struct timespec abs;
	int r;

	__atomic_store_n(&sh->d_waiting, 1, __ATOMIC_RELEASE);
	if (v == D_GLIBC || v == D_GLIBC_NS) {
		(void)clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_sec += 5;
		r = pthread_mutex_clocklock(&sh->d_mutex, CLOCK_MONOTONIC, &abs);
		rep.t1 = (int64_t)bench_now_ns();
		rep.rc = -r;
		if (r == EOWNERDEAD)
			bench_check_pt(pthread_mutex_consistent(&sh->d_mutex),
				       "make a mutex consistent");
		if (r == 0 || r == EOWNERDEAD)
			bench_check_pt(pthread_mutex_unlock(&sh->d_mutex), "unlock");
	} else {
		struct timespec rel = { .tv_sec = 5 };

		r = sealshm_lock_acquire(&sh->d_lock, &rel, 0);
		rep.t1 = (int64_t)bench_now_ns();
		rep.rc = r;
		if (r == -EOWNERDEAD)
			bench_check(sealshm_lock_consistent(&sh->d_lock), "make a Lock consistent");
		if (r == 0 || r == -EOWNERDEAD)
			bench_check(sealshm_lock_release(&sh->d_lock), "release a Lock");
	}
	return rep;
}

static struct bench_rep serve(const struct bench_req *q)
{
	struct bench_rep rep = { 0 };

	switch (q->op) {
	case OP_UNC:
		rep.t0 = (int64_t)bench_now_ns();
		uncontended((int)q->v, q->n);
		rep.t1 = (int64_t)bench_now_ns();
		break;
	case OP_CONT:
		rep = bench_contend(&sh->rv, q, contended);
		break;
	case OP_PING:
		bench_rendezvous(&sh->rv);
		rep.sleeps = bench_sleeps_now();
		rep.t0 = (int64_t)bench_now_ns();
		for (uint64_t i = 0; i < q->n; i++)
			ping((int)q->v, (int)q->side);
		rep.t1 = (int64_t)bench_now_ns();
		rep.sleeps = bench_sleeps_now() - rep.sleeps;
		break;
	case OP_DWAIT:
		rep = death_wait((int)q->v);
		break;
	case OP_QUIT:
		_exit(0);
	}
	return rep;
}

static _Noreturn void worker_main(int sock)
{
	/* Warm up: this process's holder id, asked for on first use. */
	if (sealshm_lock_tryacquire(&sh->d_lock) == 0)
		bench_check(sealshm_lock_release(&sh->d_lock), "release a Lock");
	bench_worker_serve(sock, (struct bench_rep){ 0 }, serve);
}

/* A worker's process; with a pid namespace of its own (*@new_pidns), as
 * its PID 1, or exits 2 when that is not permitted (sh->ns_errno says why). */
static void worker_child(int sock, void *new_pidns)
{
	if (*(bool *)new_pidns) {
		pid_t inner;
		int st;

		if (unshare(CLONE_NEWPID) < 0) {
			sh->ns_errno = errno;
			_exit(2);
		}
		inner = fork();
		if (inner < 0)
			_exit(1);
		if (inner == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			worker_main(sock);
		}
		close(sock);
		__atomic_store_n(&sh->ns_worker_pid, inner, __ATOMIC_RELEASE);
		(void)waitpid(inner, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	worker_main(sock);
}

/* Fork a worker; with @new_pidns as PID 1 of a pid namespace of its own
 * (false when that is not permitted: sh->ns_errno says why). */
static bool worker_start(struct bench_worker *w, bool new_pidns)
{
	struct bench_rep hello;
	int st;

	if (!bench_worker_start(w, worker_child, &new_pidns, &hello, &st)) {
		if (new_pidns && WIFEXITED(st) && WEXITSTATUS(st) == 2)
			return false;
		bench_die("start a worker", -EPIPE);
	}
	/* In a new namespace the worker sees itself as PID 1; the process
	 * that made the namespace tells its pid as seen from here. */
	while (new_pidns && !(w->inner = __atomic_load_n(&sh->ns_worker_pid, __ATOMIC_ACQUIRE)))
		usleep(100);
	return true;
}

/* --- owner death: the holder --------------------------------------------------------- */
static _Noreturn void holder_main(int v)
{
	int r;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (v == D_GLIBC || v == D_GLIBC_NS) {
		r = pthread_mutex_lock(&sh->d_mutex);
		if (r)
			bench_worker_fail("lock (holder)", r);
	} else {
		bench_check(sealshm_lock_acquire(&sh->d_lock, NULL, 0), "acquire a Lock (holder)");
	}
	__atomic_store_n(&sh->d_held, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

/* Fork the holder of variant @v (in a pid namespace of its own for the
 * _NS variants); *@ret_reap is the child to reap, *@ret_kill the holder. */
static void holder_start(int v, pid_t *ret_reap, pid_t *ret_kill)
{
	pid_t pid;

	__atomic_store_n(&sh->d_holder_pid, 0, __ATOMIC_RELEASE);
	pid = bench_fork();
	if (pid == 0) {
		if (d_in_ns(v)) {
			pid_t inner;
			int st;

			if (unshare(CLONE_NEWPID) < 0)
				_exit(2);
			inner = fork();
			if (inner < 0)
				_exit(1);
			if (inner == 0)
				holder_main(v);
			__atomic_store_n(&sh->d_holder_pid, inner, __ATOMIC_RELEASE);
			(void)waitpid(inner, &st, 0);
			_exit(0);
		}
		__atomic_store_n(&sh->d_holder_pid, getpid(), __ATOMIC_RELEASE);
		holder_main(v);
	}
	*ret_reap = pid;
	*ret_kill = 0;
	for (uint64_t end = bench_now_ns() + 5000000000u;;) {
		*ret_kill = __atomic_load_n(&sh->d_holder_pid, __ATOMIC_ACQUIRE);
		if (*ret_kill && __atomic_load_n(&sh->d_held, __ATOMIC_ACQUIRE))
			break;
		if (bench_now_ns() > end || waitpid(pid, NULL, WNOHANG) == pid)
			bench_die("start a holder", -ETIMEDOUT);
		usleep(100);
	}
}

/* The scheduler state of @pid ('S' asleep, 'R' running, ...), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

struct kill_result {
	double handover_us;	/* kill() to the waiter holding the lock, or -1 */
	double reap_us;		/* kill() to waitpid()'s return (same namespace only) */
	int64_t rc;		/* the waiter's acquire: -EOWNERDEAD expected */
};

/* One kill of variant @v: holder up, waiter (@w) asleep in its acquire,
 * SIGKILL, then when the waiter held the lock. */
static struct kill_result one_kill(int v, const struct bench_worker *w)
{
	struct kill_result k = { .handover_us = -1, .reap_us = -1 };
	pid_t reap, victim;
	uint64_t t0, end;
	struct bench_rep rep;

	__atomic_store_n(&sh->d_held, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&sh->d_waiting, 0, __ATOMIC_RELEASE);
	holder_start(v, &reap, &victim);
	bench_worker_send(w, (struct bench_req){ .op = OP_DWAIT, .v = (uint32_t)v });
	/* Asleep in its acquire: announced, then in state S, then 1 ms more
	 * for whatever the acquire does before it sleeps. */
	end = bench_now_ns() + 2000000000u;
	while (!__atomic_load_n(&sh->d_waiting, __ATOMIC_ACQUIRE) && bench_now_ns() < end)
		usleep(100);
	while (proc_state(w->inner) != 'S' && bench_now_ns() < end)
		usleep(100);
	usleep(1000);

	t0 = bench_now_ns();
	if (kill(victim, SIGKILL) < 0)
		bench_die("kill the holder", -errno);
	if (waitpid(reap, NULL, 0) == reap && !d_in_ns(v))
		k.reap_us = (double)(bench_now_ns() - t0) / 1000;
	rep = bench_worker_reply(w);
	k.rc = rep.rc;
	if (rep.rc == -EOWNERDEAD)
		k.handover_us = (double)((uint64_t)rep.t1 - t0) / 1000;
	return k;
}

/* --- statistics and rows ------------------------------------------------------------- */
/* @extra: the title of a last column of figures that explain the time
 * (sleeps), or NULL. */
static void print_head(const char *title, const char *unit, const char *extra)
{
	printf("\n%s (%s)\n", title, unit);
	printf("  %-38s %10s %10s %9s %9s %9s %9s\n", "variant", "median", "p90", "ratio", "paired",
	       "/glibc", extra ? extra : "");
}

/* A row; @base is the baseline's samples (NULL for the baseline's own row),
 * @like those of glibc's counterpart (its paired ratio; NULL: none), @extra
 * the samples of the last column (or NULL).  Returns the ratio of medians
 * against the baseline (0 when there is none). */
static double print_row(const char *name, const double *v, const double *base,
			const double *like, const double *extra, size_t n)
{
	struct bench_stats s, b;
	double ratio = 0;

	s = bench_stats_of_samples(v, n);
	printf("  %-38s %10.2f %10.2f", name, s.median, s.p90);
	if (!base) {
		printf(" %9s %9s", "-", "-");
	} else {
		b = bench_stats_of_samples(base, n);
		bench_print_ratio(s.median, b.median);
		printf(" %8.3fx", bench_paired_ratio(v, base, n));
		ratio = bench_ratio(s.median, b.median);
	}
	if (like)
		printf(" %8.3fx", bench_paired_ratio(v, like, n));
	else
		printf(" %9s", "-");
	if (extra)
		printf(" %9.2f", bench_stats_of_samples(extra, n).median);
	printf("\n");
	return ratio;
}

static void print_target(const char *what, double ratio, double limit)
{
	printf("  %-58s %7.3fx %s\n", what, ratio, ratio <= limit ? "met" : "MISSED");
}

/* --- set-up -------------------------------------------------------------------------- */
static void init_glibc(void)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_barrierattr_t ba;

	if (pthread_mutexattr_init(&ma) || pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) ||
	    pthread_mutex_init(&sh->plain, &ma) ||
	    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) ||
	    pthread_mutex_init(&sh->robust, &ma) || pthread_mutex_init(&sh->pc_mutex, &ma) ||
	    pthread_mutex_init(&sh->d_mutex, &ma))
		bench_die("set up the glibc mutexes", -EINVAL);
	(void)pthread_mutexattr_destroy(&ma);
	if (pthread_condattr_init(&ca) || pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED) ||
	    pthread_cond_init(&sh->pc_cond, &ca))
		bench_die("set up the glibc condvar", -EINVAL);
	(void)pthread_condattr_destroy(&ca);
	if (pthread_barrierattr_init(&ba) ||
	    pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED) ||
	    pthread_barrier_init(&sh->pbarrier, &ba, 2))
		bench_die("set up the glibc barrier", -EINVAL);
	(void)pthread_barrierattr_destroy(&ba);
	if (sem_init(&sh->semt, 1, 1) < 0 || sem_init(&sh->semt_ping, 1, 0) < 0 ||
	    sem_init(&sh->semt_pong, 1, 0) < 0)
		bench_die("set up the sem_t", -errno);
}

static void init_sealshm(void)
{
	int r;

	r = sealshm_lock_init(&sh->lock, NULL);
	if (r >= 0)
		r = sealshm_lock_init(&sh->d_lock, NULL);
	if (r >= 0)
		r = sealshm_lock_init(&sh->cond_lock, NULL);
	if (r >= 0)
		r = sealshm_rlock_init(&sh->rlock, NULL);
	if (r >= 0)
		r = sealshm_sem_init(&sh->sem, 1, 0, 0, NULL);
	if (r >= 0)
		r = sealshm_sem_init(&sh->sem_ping, 0, 0, 0, NULL);
	if (r >= 0)
		r = sealshm_sem_init(&sh->sem_pong, 0, 0, 0, NULL);
	if (r >= 0)
		r = sealshm_event_init(&sh->ev_ping, NULL);
	if (r >= 0)
		r = sealshm_event_init(&sh->ev_pong, NULL);
	if (r >= 0)
		r = sealshm_cond_init(&sh->cond, NULL);
	if (r >= 0)
		r = sealshm_barrier_init(&sh->barrier, 2, NULL);
	if (r < 0)
		bench_die("set up sealshm's objects", r);
}

static void usage(void)
{
	fprintf(stderr, "usage: sync_bench [-n REPETITIONS] [-k KILLS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const uint64_t n_unc = 1000000, n_cont = 300000, n_ping = 1000;
	unsigned long reps = 11, kills = 50, reps_p;
	struct sealshm *seg = NULL;
	struct bench_trackerd td;
	struct bench_worker wa, wb, wns = { 0 };
	bool have_ns;
	double *u[U_N], *c[C_N], *p[P_N], *d[D_N], *reap;
	double *c_sleeps[C_N], *p_sleeps[P_N];
	size_t nd[D_N] = { 0 }, nreap = 0;
	unsigned long wrong[D_N] = { 0 }, apart[C_N] = { 0 };
	int64_t wrong_rc[D_N] = { 0 };
	int opt;

	while ((opt = getopt(argc, argv, "n:k:")) != -1) {
		if (opt == 'n')
			reps = strtoul(optarg, NULL, 0);
		else if (opt == 'k')
			kills = strtoul(optarg, NULL, 0);
		else
			usage();
	}
	if (optind != argc || reps < 1 || kills < 1)
		usage();
	reps_p = reps * PING_RUNS;
	bench_machine("sync_bench");

	bench_trackerd_start(&td, NULL, true);
	sh = bench_worker_memory("syncbench", sizeof(struct shared), &seg);
	init_glibc();
	init_sealshm();

	worker_start(&wa, false);
	worker_start(&wb, false);
	have_ns = worker_start(&wns, true);

	bench_samples(u, U_N, reps);
	bench_samples(c, C_N, reps);
	bench_samples(c_sleeps, C_N, reps);
	bench_samples(p, P_N, reps_p);
	bench_samples(p_sleeps, P_N, reps_p);
	bench_samples(d, D_N, kills);
	reap = bench_calloc(2 * kills, sizeof(double));

	/* Repetition -1 warms every variant up and is not kept. */
	for (long i = -1; i < (long)reps; i++) {
		for (int k = 0; k < U_N; k++) {
			int v = bench_rotate(i, k, U_N);
			struct bench_rep a;

			a = bench_worker_ask(&wa, (struct bench_req){ .op = OP_UNC, .v = (uint32_t)v,
					     .n = n_unc });
			if (i >= 0)
				u[v][i] = (double)(a.t1 - a.t0) / (double)n_unc;
		}
		for (int k = 0; k < C_N; k++) {
			int v = bench_rotate(i, k, C_N);
			struct bench_rep a, b;

			sh->counter = 0;
			bench_contend_pair(&sh->rv, &wa, &wb, (struct bench_req){ .op = OP_CONT,
					   .v = (uint32_t)v, .n = n_cont }, &a, &b);
			if (sh->counter != 2 * n_cont) {
				fprintf(stderr, "sync_bench: %s: counter %llu, expected %llu\n",
					c_names[v], (unsigned long long)sh->counter,
					(unsigned long long)(2 * n_cont));
				bench_die("count under a lock", -EPROTO);
			}
			bench_contend_keep(&a, &b, 2 * n_cont, i, c[v], c_sleeps[v], &apart[v]);
		}
		for (int k = 0; k < PING_RUNS * P_N; k++) {
			int v = bench_rotate(i, k, P_N);
			long j = i * PING_RUNS + k / P_N;
			struct bench_rep a, b;

			sh->rv.ready = 0;
			sh->turn = 0;
			sh->pc_turn = 0;
			sh->cond_turn = 0;
			bench_worker_send(&wb, (struct bench_req){ .op = OP_PING, .v = (uint32_t)v,
					  .side = 1, .n = n_ping });
			a = bench_worker_ask(&wa, (struct bench_req){ .op = OP_PING,
					     .v = (uint32_t)v, .side = 0, .n = n_ping });
			b = bench_worker_reply(&wb);
			if (j >= 0) {
				p[v][j] = (double)(a.t1 - a.t0) / (double)n_ping / 1000;
				p_sleeps[v][j] = (double)(a.sleeps + b.sleeps) / (double)n_ping;
			}
		}
	}

	/* Owner death: kills interleaved across variants. */
	for (unsigned long i = 0; i < kills; i++)
		for (int k = 0; k < D_N; k++) {
			int v = (int)((i + (unsigned long)k) % D_N);
			struct kill_result res;

			if (d_in_ns(v) && !have_ns)
				continue;
			res = one_kill(v, d_in_ns(v) ? &wns : &wa);
			if (res.handover_us < 0) {
				wrong[v]++;
				wrong_rc[v] = res.rc;
			} else {
				d[v][nd[v]++] = res.handover_us;
			}
			if (res.reap_us >= 0)
				reap[nreap++] = res.reap_us;
		}

	bench_worker_stop(&wa, OP_QUIT);
	bench_worker_stop(&wb, OP_QUIT);
	bench_worker_stop(&wns, OP_QUIT);
	(void)sealshm_close(seg);
	bench_trackerd_stop(&td);

	printf("sync_bench: %lu repetitions (acquire+release x %llu, contended 2 x %llu; "
	       "%lu of round trips x %llu), %lu kills per owner-death variant; not pinned\n",
	       reps, (unsigned long long)n_unc, (unsigned long long)n_cont, reps_p,
	       (unsigned long long)n_ping, kills);

	{
		double t_unc = 0, t_cont = 0, t_p[P_N] = { 0 }, t_d[D_N] = { 0 };

		print_head("uncontended acquire+release, 1 process", "ns per pair", NULL);
		for (int v = 0; v < U_N; v++) {
			double x = print_row(u_names[v], u[v],
					     v == U_ROBUST ? NULL : u[U_ROBUST],
					     u_like[v] >= 0 ? u[u_like[v]] : NULL, NULL, reps);

			if (v == U_LOCK)
				t_unc = x;
		}
		print_head("2 processes contending, lock; counter++; unlock", "ns per pair",
			   "sleeps/1k");
		for (int v = 0; v < C_N; v++) {
			double x = print_row(c_names[v], c[v],
					     v == C_ROBUST ? NULL : c[C_ROBUST],
					     v >= C_LOCK ? c[C_ROBUST] : NULL, c_sleeps[v], reps);

			if (v == C_LOCK)
				t_cont = x;
		}
		bench_print_apart(c_names, apart, C_N, reps);
		print_head("wake round trips between 2 processes, A wakes B, B wakes A",
			   "us per round trip", "sleeps/rt");
		for (int v = 0; v < P_N; v++)
			t_p[v] = print_row(p_names[v], p[v],
					   v == P_FUTEX ? NULL : p[P_FUTEX],
					   p_like[v] >= 0 ? p[p_like[v]] : NULL, p_sleeps[v], reps_p);

		printf("\nowner death: SIGKILL of the holder to the waiter holding the lock "
		       "(us, EOWNERDEAD)\n");
		printf("  %-38s %10s %10s %10s %9s\n", "variant", "median", "p90", "max", "ratio");
		{
			struct bench_stats g = bench_stats_of_samples(d[D_GLIBC], nd[D_GLIBC]);
			struct bench_stats gns = bench_stats_of_samples(d[D_GLIBC_NS],
									nd[D_GLIBC_NS]);

			for (int v = 0; v < D_N; v++) {
				struct bench_stats s, b = d_in_ns(v) ? gns : g;
				double max;

				if (d_in_ns(v) && !have_ns) {
					printf("  %-38s skipped: unshare(CLONE_NEWPID): %s\n",
					       d_names[v], strerror(sh->ns_errno));
					continue;
				}
				s = bench_stats_of_samples(d[v], nd[v]);
				max = 0;
				for (size_t i = 0; i < nd[v]; i++)
					max = d[v][i] > max ? d[v][i] : max;
				printf("  %-38s %10.1f %10.1f %10.1f", d_names[v], s.median, s.p90,
				       max);
				if (v == D_GLIBC || v == D_GLIBC_NS)
					printf(" %9s", "-");
				else
					bench_print_ratio(s.median, b.median);
				if (wrong[v])
					printf("  (%lu of %lu kills: no EOWNERDEAD, e.g. %s)", wrong[v],
					       kills, strerror((int)-wrong_rc[v]));
				printf("\n");
				t_d[v] = wrong[v] ? -1 : s.median;
			}
			if (nreap) {
				struct bench_stats s = bench_stats_of_samples(reap, nreap);

				printf("  %-38s %10.1f %10.1f\n",
				       "reference: kill() to waitpid() return", s.median, s.p90);
			}
		}

		printf("\ntargets (ratios of medians, this run):\n");
		print_target("Lock uncontended <= 1.0x glibc robust mutex", t_unc, 1.0);
		print_target("Lock 2 processes contending <= 1.0x glibc robust mutex", t_cont, 1.0);
		print_target("Semaphore round trip <= 1.2x raw futex", t_p[P_SEM], 1.2);
		print_target("Event round trip <= 1.2x raw futex", t_p[P_EVENT], 1.2);
		print_target("Condition round trip <= 1.2x raw futex", t_p[P_COND], 1.2);
		print_target("Barrier(2) round trip <= 1.2x raw futex", t_p[P_BARRIER], 1.2);
		for (int v = D_LOCK; v < D_N; v += 2) {
			const char *what = v == D_LOCK ? "owner-died hand-over <= 2 ms (median)" :
					   "owner-died hand-over, 2 pid namespaces <= 2 ms";

			if (d_in_ns(v) && !have_ns)
				printf("  %-58s skipped (no pid namespace)\n", what);
			else if (t_d[v] < 0)
				printf("  %-58s MISSED (%lu kills without EOWNERDEAD)\n", what,
				       wrong[v]);
			else
				printf("  %-58s %7.0f us %s\n", what, t_d[v],
				       t_d[v] <= 2000 ? "met" : "MISSED");
		}
	}
	return 0;
}

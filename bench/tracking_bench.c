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
 * program (build/bench/ -> build/trackerd/).  It runs in the foreground on a
 * temp-dir socket, logging to a file there as an autostarted one does, and
 * is stopped at the end.  Only the public API is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sealshm.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

enum { OP_CREATE, OP_LIFE, OP_ATTACH, OP_N };

static const char *const op_names[OP_N] = {
	[OP_CREATE] = "create",
	[OP_LIFE] = "create+close+unlink",
	[OP_ATTACH] = "attach+close",
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double median_us;
	double min_us;
};

/* Sorts @v. */
static struct stats stats_of(uint64_t *v, size_t n)
{
	struct stats s;

	qsort(v, n, sizeof(*v), cmp_u64);
	s.min_us = (double)v[0] / 1000.0;
	s.median_us = n % 2 ? (double)v[n / 2] / 1000.0 :
			      (double)(v[n / 2 - 1] + v[n / 2]) / 2000.0;
	return s;
}

static void die(const char *what, int r)
{
	fprintf(stderr, "tracking_bench: Failed to %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

/* --- the private trackerd ------------------------------------------------ */
static char dir[64];
static char sock_path[128];
static pid_t trackerd_pid;

static int trackerd_prog(char *buf, size_t len)
{
	const char *e = getenv("SEALSHM_TRACKERD");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (e && *e)
		return snprintf(buf, len, "%s", e) < (int)len ? 0 : -ENAMETOOLONG;
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

static void trackerd_start(void)
{
	char prog[PATH_MAX], log[192];
	struct sealshm_info *infos = NULL;
	uint64_t end;
	int r;

	r = trackerd_prog(prog, sizeof(prog));
	if (r < 0)
		die("find trackerd", r);
	if (access(prog, X_OK) < 0)
		die(prog, -errno);
	snprintf(dir, sizeof(dir), "/tmp/sealshm-bench.XXXXXX");
	if (!mkdtemp(dir))
		die("make a temp dir", -errno);
	snprintf(sock_path, sizeof(sock_path), "%s/trackerd.sock", dir);
	snprintf(log, sizeof(log), "%s/trackerd.log", dir);

	trackerd_pid = fork();
	if (trackerd_pid < 0)
		die("fork", -errno);
	if (trackerd_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
		execl(prog, prog, "--foreground", "--socket", sock_path, (char *)NULL);
		_exit(127);
	}
	if (setenv("SEALSHM_SOCKET", sock_path, 1) < 0 ||
	    setenv("SEALSHM_NO_AUTOSTART", "1", 1) < 0)
		die("set the environment", -errno);
	(void)unsetenv("SEALSHM_SESSION");

	/* Ready when it answers; the connection stays cached for the runs. */
	end = now_ns() + 5000000000u;
	while ((r = sealshm_list(NULL, &infos)) < 0) {
		if (now_ns() > end || waitpid(trackerd_pid, NULL, WNOHANG) == trackerd_pid)
			die("reach the trackerd just started", r);
		usleep(10000);
	}
	free(infos);
}

static void trackerd_stop(void)
{
	char path[192];

	if (trackerd_pid > 0) {
		(void)kill(trackerd_pid, SIGTERM);
		(void)waitpid(trackerd_pid, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/trackerd.log", dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/trackerd.sock.lock", dir);
	(void)unlink(path);
	(void)unlink(sock_path);
	(void)rmdir(dir);
}

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
	static unsigned int mfd_flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL;
	uint64_t t0, t1;
	void *p;
	int fd;

	t0 = now_ns();
	fd = memfd_create("sealshm:bench", mfd_flags);
	if (fd < 0 && errno == EINVAL && (mfd_flags & MFD_NOEXEC_SEAL)) {
		mfd_flags &= ~MFD_NOEXEC_SEAL;	/* kernels before 6.3 */
		fd = memfd_create("sealshm:bench", mfd_flags);
	}
	if (fd < 0 || ftruncate(fd, (off_t)seg_size) < 0 || fchmod(fd, 0600) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		die("make a memfd", -errno);
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
	struct stats st[OP_N][2], fl;
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

	trackerd_start();
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
	trackerd_stop();

	for (int op = 0; op < OP_N; op++)
		for (int t = 0; t < 2; t++)
			st[op][t] = stats_of(samples[op][t], reps);
	fl = stats_of(floor_ns, reps);

	printf("tracking_bench: %zu-byte segments, %lu repetitions each, tracked and untracked "
	       "alternating\n", seg_size, reps);
	printf("%-22s %12s %12s %12s %12s %9s %9s\n", "operation (us)", "untr median",
	       "untr min", "track median", "track min", "ratio med", "ratio min");
	for (int op = 0; op < OP_N; op++)
		printf("%-22s %12.2f %12.2f %12.2f %12.2f %9.3f %9.3f\n", op_names[op],
		       st[op][0].median_us, st[op][0].min_us, st[op][1].median_us, st[op][1].min_us,
		       st[op][1].median_us / st[op][0].median_us, st[op][1].min_us / st[op][0].min_us);
	printf("%-22s %12.2f %12.2f   (memfd+ftruncate+seals+mmap, no daemon)\n", "floor",
	       fl.median_us, fl.min_us);
	printf("tracking adds %+.1f%% to a create (median; target at most +10%%)\n",
	       (st[OP_CREATE][1].median_us / st[OP_CREATE][0].median_us - 1.0) * 100.0);

	for (int op = 0; op < OP_N; op++)
		for (int t = 0; t < 2; t++)
			free(samples[op][t]);
	free(floor_ns);
	return 0;
}

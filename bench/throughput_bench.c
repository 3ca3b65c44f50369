// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * throughput_bench: how many attaches per second one trackerd serves.
 * 1, 2, 4 and 8 client processes attach+close a 4 KiB segment in a loop
 * for a fixed time:
 *
 *   trackerd slow   sealshm_attach with SEALSHM_NO_FASTPATH=1 (every attach
 *                   is a round trip to trackerd)
 *   raw floor       one SCM_RIGHTS round trip to a minimal single-threaded
 *                   epoll server answering with a prepared memfd, then
 *                   fstat+mmap (bench.h)
 *   trackerd fast   sealshm_attach through the published index (no round
 *                   trip when the fast path is taken: scales with CPUs)
 *
 * Each round starts N fresh client processes per variant, lets them
 * connect and warm up, then releases them together; the variants alternate
 * round by round so they share the machine's noise.  Reported: the median
 * and min over rounds of the summed attaches/s, and the ratio against the
 * raw floor's of the same rounds.
 *
 *   throughput_bench [-t SECONDS_PER_ROUND] [-r ROUNDS]   (default 0.5, 5)
 */
#include "bench.h"

enum { V_SLOW, V_RAW, V_FAST, V_N };
static const char *const v_names[V_N] = { "trackerd slow path", "raw floor server",
					  "trackerd fast path" };
static const int clients[] = { 1, 2, 4, 8 };
#define N_CLIENTS (int)(sizeof(clients) / sizeof(clients[0]))
#define NAME "tpbench"

struct result {
	uint64_t count;
	uint64_t ns;
};

/* argv: --client MODE SOCKET SECONDS FD */
static int client_main(char **argv)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	int mode = atoi(argv[2]), fd = atoi(argv[5]), conn = -1, r;
	uint64_t dur = (uint64_t)(strtod(argv[4], NULL) * 1e9), t0, now;
	struct result res = { 0 };
	char c = 'r';

	if (mode == V_RAW) {
		conn = bench_connect(argv[3]);
		if (conn < 0)
			bench_die("connect to the raw server", conn);
	}
	/* Warm up: connection, HELLO, index. */
	for (int i = 0; i < 20; i++) {
		r = mode == V_RAW ? bench_raw_attach(conn, 0, false) :
				    bench_sealshm_attach(NAME, &untracked, false);
		if (r < 0)
			bench_die("attach", r);
	}
	bench_write_all(fd, &c, 1);
	bench_read_all(fd, &c, 1);	/* go */
	t0 = bench_now_ns();
	do {
		for (int i = 0; i < 16; i++) {
			r = mode == V_RAW ? bench_raw_attach(conn, 0, false) :
					    bench_sealshm_attach(NAME, &untracked, false);
			if (r < 0)
				bench_die("attach", r);
		}
		res.count += 16;
		now = bench_now_ns();
	} while (now - t0 < dur);
	res.ns = now - t0;
	bench_write_all(fd, &res, sizeof(res));
	return 0;
}

/* One round: @n clients of variant @v; returns the summed attaches/s. */
static double round_of(int v, int n, const char *sock, const char *seconds)
{
	int fds[8];
	pid_t pids[8];
	double rate = 0;
	char c;

	for (int i = 0; i < n; i++) {
		char modearg[8], fdarg[16];
		char *args[] = { "--client", modearg, (char *)sock, (char *)seconds, fdarg, NULL };
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			bench_die("make a socketpair", -errno);
		snprintf(modearg, sizeof(modearg), "%d", v);
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		pids[i] = bench_spawn_self(args, v == V_SLOW, sv[1]);
		close(sv[1]);
		fds[i] = sv[0];
	}
	for (int i = 0; i < n; i++)
		bench_read_all(fds[i], &c, 1);		/* ready */
	for (int i = 0; i < n; i++)
		bench_write_all(fds[i], "g", 1);
	for (int i = 0; i < n; i++) {
		struct result res;
		int status;

		bench_read_all(fds[i], &res, sizeof(res));
		rate += (double)res.count * 1e9 / (double)res.ns;
		close(fds[i]);
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bench_die("run a client", -ECHILD);
	}
	return rate;
}

int main(int argc, char **argv)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	static const size_t raw_sizes[] = { 4096 };
	struct bench_stats st[N_CLIENTS][V_N];
	struct sealshm *keep = NULL;
	struct bench_trackerd td;
	struct bench_raw raw;
	const char *seconds = "0.5";
	unsigned long rounds = 5;
	double wake;
	int opt, r;

	if (argc == 6 && !strcmp(argv[1], "--client"))
		return client_main(argv);
	while ((opt = getopt(argc, argv, "t:r:")) != -1) {
		switch (opt) {
		case 't':
			seconds = optarg;
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: throughput_bench [-t SECONDS] [-r ROUNDS]\n");
			return 2;
		}
	}
	if (rounds < 1 || strtod(seconds, NULL) <= 0) {
		fprintf(stderr, "throughput_bench: need -r >= 1 and -t > 0\n");
		return 2;
	}
	(void)unsetenv("SEALSHM_NO_FASTPATH");
	bench_machine("throughput_bench");
	bench_trackerd_start(&td, NULL, true);
	bench_raw_start(&raw, raw_sizes, 1);
	bench_wait_listening(raw.sock, raw.pid, "reach the raw server");
	r = sealshm_create(NAME, 4096, &untracked, &keep);
	if (r < 0)
		bench_die("create " NAME, r);
	/* Probe in this process: it never set SEALSHM_NO_FASTPATH. */
	(void)bench_sealshm_attach(NAME, &untracked, false);
	wake = bench_fastpath_probe(td.pid, NAME, &untracked, 200);

	for (int ci = 0; ci < N_CLIENTS; ci++) {
		double *rates[V_N];

		for (int v = 0; v < V_N; v++)
			rates[v] = bench_calloc(rounds, sizeof(double));
		for (unsigned long i = 0; i < rounds; i++)
			for (int k = 0; k < V_N; k++) {
				int v = (int)((i + k) % V_N);

				rates[v][i] = round_of(v, clients[ci],
						       v == V_RAW ? raw.sock : td.sock, seconds);
			}
		for (int v = 0; v < V_N; v++) {
			st[ci][v] = bench_stats_of_double(rates[v], rounds);
			free(rates[v]);
		}
	}
	(void)sealshm_unlink(keep);
	sealshm_close(keep);
	bench_raw_stop(&raw);
	bench_trackerd_stop(&td);

	printf("throughput_bench: attach+close of 4 KiB, %s s per round, %lu rounds per figure, "
	       "variants alternating\n", seconds, rounds);
	if (wake < 0)
		printf("fast path: unknown (cannot read trackerd's context switches)\n");
	else if (wake < 0.05)
		printf("fast path: taken (trackerd woke %.2f times per untracked attach)\n", wake);
	else
		printf("fast path: NOT taken (trackerd woke %.2f times per attach): the \"fast\" "
		       "rows are round trips\n", wake);
	printf("%-8s %-20s %14s %14s %9s %9s\n", "clients", "variant", "median /s", "min /s",
	       "/raw md", "/raw mn");
	for (int ci = 0; ci < N_CLIENTS; ci++)
		for (int v = 0; v < V_N; v++) {
			printf("%-8d %-20s %14.0f %14.0f", clients[ci], v_names[v],
			       st[ci][v].median, st[ci][v].min);
			if (v == V_RAW) {
				printf(" %9s %9s\n", "-", "-");
				continue;
			}
			bench_print_ratio(st[ci][v].median, st[ci][V_RAW].median);
			bench_print_ratio(st[ci][v].min, st[ci][V_RAW].min);
			printf("\n");
		}
	{
		double q = bench_ratio(st[N_CLIENTS - 1][V_SLOW].median,
				       st[N_CLIENTS - 1][V_RAW].median);

		printf("target: trackerd slow path >= 80%% of the raw floor with 8 clients: "
		       "%.0f%% %s\n", q * 100, q >= 0.8 ? "met" : "MISSED");
	}
	return 0;
}

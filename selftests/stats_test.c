// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stats_test: trackerd's statistics, per name and global, against a real
 * trackerd on a private socket, with real processes.  Per name: the
 * resident bytes (the memfd's allocated pages, after another process
 * touched some), the attaches trackerd served by round trip or heard of
 * through a tracked fast attach's TRACK, and the time of the last one.
 * Globally (sealshm_registry_stats()): names, bytes, resident bytes, sessions,
 * connections, requests, refusals by reason, limits and the caller's quota
 * use, also as another uid sees them.  And the sealshm CLI showing the new
 * fields.
 *
 * trackerd runs with --verbose, which logs "attached 'NAME' by pid P" for
 * every ATTACH it serves: that tells a round trip from a fast attach
 * (fastpath_test.c does the same).  Every test ends with its fd count,
 * trackerd's fd count and an empty registry.
 */
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define NOBODY		65534
#define GONE_MS		5000
#define MAX_BYTES_PER_UID (1u << 20)

/* Limits STATS must report as given. */
static const char *const daemon_args[] = {
	"--verbose", "--max-names", "4000", "--max-names-per-uid", "2000",
	"--max-bytes-per-uid", "1048576", "--max-clients", "64", NULL
};

static int64_t realtime_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Lines "attached 'NAME' " trackerd logged: ATTACH requests it served. */
static int attach_lines(const struct trackerd *d, const char *name)
{
	char what[300];

	snprintf(what, sizeof(what), "attached '%s' ", name);
	return trackerd_log_count(d, what, NULL);
}

/* Lines saying a TRACK linked @name (a tracked fast attach). */
static int fast_attach_lines(const struct trackerd *d, const char *name)
{
	char what[300];

	snprintf(what, sizeof(what), "'%s' tracked by session ", name);
	return trackerd_log_count(d, what, "(fast attach)", NULL);
}

/* Run the peer with $SEALSHM_NO_FASTPATH=1 (its attach is a round trip)
 * or without it. */
static int run_peer_path(bool round_trip, const char *const *args)
{
	int r;

	if (round_trip && setenv("SEALSHM_NO_FASTPATH", "1", 1) < 0)
		return -errno;
	r = run_peer(args, NULL, 0);
	(void)unsetenv("SEALSHM_NO_FASTPATH");
	return r;
}

/* Run the sealshm CLI with @args; its stdout (up to @len - 1 bytes) into
 * @out.  Returns its exit code, or -errno. */
static int run_cli(const char *const *args, char *out, size_t len)
{
	return helper_run_prog(helper_cli_path, args, NULL, out, len);
}

/* Wait up to GONE_MS until trackerd counts @want connections (it sees a
 * hangup a little after close()).  Returns the last count, or -errno. */
static int wait_clients(uint32_t want)
{
	uint64_t end = helper_now_ms() + GONE_MS;

	for (;;) {
		struct sealshm_registry_stats st;
		int r = sealshm_registry_stats(NULL, &st);

		if (r < 0)
			return r;
		if (st.clients == want || helper_now_ms() >= end)
			return (int)st.clients;
		helper_sleep_ms(10);
	}
}

FIXTURE(stats) {
	struct trackerd d;
	struct sealshm *shm[4];
	int raw[3];
	int fds_before;
	int daemon_fds_before;
	size_t page;
};

FIXTURE_SETUP(stats)
{
	memset(self->shm, 0, sizeof(self->shm));
	for (int i = 0; i < 3; i++)
		self->raw[i] = -EBADF;
	self->page = (size_t)sysconf(_SC_PAGESIZE);
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_FASTPATH"));
	ASSERT_EQ(0, unsetenv(SEALSHM_SESSION_ENV));
	/* The baseline holds the request connection and the session. */
	trackerd_fixture_setup(_metadata, &self->d, daemon_args, 0, &self->fds_before,
			       &self->daemon_fds_before);
}

FIXTURE_TEARDOWN(stats)
{
	for (int i = 0; i < 4; i++)
		sealshm_close(self->shm[i]);
	for (int i = 0; i < 3; i++)
		self->raw[i] = safe_close(self->raw[i]);
	(void)unsetenv("SEALSHM_NO_FASTPATH");
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, self->daemon_fds_before);
}

/* Resident bytes are the pages another process touched, exactly (a fresh
 * memfd has none), at most the sealed size; STAT, LIST and STATS agree. */
TEST_F(stats, resident_counts_pages_another_process_touched)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	const size_t page = self->page, size = 16 * page + 100;
	/* Page 16 is the last, partial one. */
	static const size_t touched[] = { 0, 3, 7, 16 };
	struct sealshm_info info, *infos = NULL;
	struct sealshm_registry_stats st0, st1;
	struct stat sb;
	char off[32];
	int n;

	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st0));
	EXPECT_EQ(0, st0.resident);
	ASSERT_EQ(0, sealshm_create("touched", size, &untracked, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create("tiny", 100, &untracked, &self->shm[1]));
	ASSERT_EQ(0, sealshm_stat("touched", NULL, &info));
	EXPECT_EQ(size, info.size);
	EXPECT_EQ(0, info.resident);

	for (size_t i = 0; i < ELEMENTSOF(touched); i++) {
		snprintf(off, sizeof(off), "%zu", touched[i] * page + 1);
		EXPECT_EQ(0, run_peer(ARGS("--no-track", "attach", "touched", off, "7"), NULL, 0));
	}
	EXPECT_EQ(0, run_peer(ARGS("--no-track", "attach", "tiny", "5", "7"), NULL, 0));
	EXPECT_EQ(7, ((unsigned char *)sealshm_buf(self->shm[0]))[16 * page + 1]);

	/* What the kernel says (shmem huge pages would count whole). */
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[0]), &sb));
	if ((uint64_t)sb.st_blocks * 512 != ELEMENTSOF(touched) * page)
		SKIP({ (void)sealshm_unlink(self->shm[0]); (void)sealshm_unlink(self->shm[1]);
		       return; }, "shmem allocated %llu bytes for %zu touched pages (huge pages?)",
		     (unsigned long long)sb.st_blocks * 512, ELEMENTSOF(touched));

	ASSERT_EQ(0, sealshm_stat("touched", NULL, &info));
	EXPECT_EQ(ELEMENTSOF(touched) * page, info.resident);
	EXPECT_EQ(size, info.size);
	/* One page allocated, capped at the size. */
	ASSERT_EQ(0, sealshm_stat("tiny", NULL, &info));
	EXPECT_EQ(100, info.resident);

	n = sealshm_registry_list(NULL, &infos);
	ASSERT_EQ(2, n);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(strcmp(infos[i].name, "tiny") ? ELEMENTSOF(touched) * page : 100,
			  infos[i].resident) {
			TH_LOG("LIST: '%s'", infos[i].name);
		}
	}
	free(infos);

	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st1));
	EXPECT_EQ(2, st1.names);
	EXPECT_EQ(size + 100, st1.bytes);
	EXPECT_EQ(ELEMENTSOF(touched) * page + 100, st1.resident);

	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st1));
	EXPECT_EQ(0, st1.resident);
	EXPECT_EQ(0, st1.bytes);
}

#define MANY		1030	/* more slots than one STATS request fstat()s (1024) */
#define MANY_SIZE	64	/* all of them within --max-bytes-per-uid */

/* With more names than one STATS request looks at, the resident sum is
 * that of the last complete pass over the registry: a page touched in the
 * last slot (capped at the size) counts once a pass has ended, two
 * requests later at most. */
TEST_F(stats, resident_sum_of_many_names_completes_in_a_pass)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm_registry_stats st;
	char name[32];
	int made = 0, r = 0;

	for (; made < MANY && r == 0; made++) {
		struct sealshm *s = NULL;

		snprintf(name, sizeof(name), "many%04d", made);
		r = sealshm_create(name, MANY_SIZE, &untracked, &s);
		sealshm_close(s);
	}
	ASSERT_EQ(0, r) {
		TH_LOG("create '%s': %s", name, strerror(-r));
	}
	EXPECT_EQ(0, run_peer(ARGS("--no-track", "attach", name, "0", "1"), NULL, 0));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
		if (st.resident == MANY_SIZE)
			break;
	}
	EXPECT_EQ(MANY, st.names);
	EXPECT_EQ(MANY * MANY_SIZE, st.bytes);
	EXPECT_EQ(MANY_SIZE, st.resident);
	/* Later requests report a full pass too. */
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
	EXPECT_EQ(MANY_SIZE, st.resident);

	while (made-- > 0) {
		snprintf(name, sizeof(name), "many%04d", made);
		EXPECT_EQ(0, sealshm_unlink_name(name, NULL));
	}
}

/* Attaches count the round trips trackerd served (read-write, read-only,
 * from another process) and tracked fast attaches (their TRACK, read before
 * STAT answers); an untracked fast attach sends nothing and is not seen.
 * The last attach time moves with each counted one. */
TEST_F(stats, attaches_count_round_trips_and_tracked_fast_attaches)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	SEALSHM_OPTS(sealshm_opts, ro_untracked, .flags = SEALSHM_NO_TRACK | SEALSHM_RDONLY);
	struct sealshm_info info;
	int64_t t0, t1, last;

	ASSERT_EQ(0, sealshm_create("counted", 4096, &untracked, &self->shm[0]));
	ASSERT_EQ(0, sealshm_stat("counted", NULL, &info));
	EXPECT_EQ(0, info.n_attaches);
	EXPECT_EQ(0, info.atime_ns);

	/* Round trips. */
	ASSERT_EQ(0, setenv("SEALSHM_NO_FASTPATH", "1", 1));
	t0 = realtime_ns();
	ASSERT_EQ(0, sealshm_attach("counted", &untracked, &self->shm[1]));
	ASSERT_EQ(0, sealshm_attach("counted", &ro_untracked, &self->shm[2]));
	EXPECT_EQ(0, run_peer(ARGS("--no-track", "attach", "counted", "0", "1"), NULL, 0));
	t1 = realtime_ns();
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_FASTPATH"));
	ASSERT_EQ(0, sealshm_stat("counted", NULL, &info));
	EXPECT_EQ(3, attach_lines(&self->d, "counted"));
	EXPECT_EQ(3, info.n_attaches);
	EXPECT_LE(t0, info.atime_ns);
	EXPECT_GE(t1, info.atime_ns);
	last = info.atime_ns;
	sealshm_close(self->shm[1]);
	sealshm_close(self->shm[2]);
	self->shm[1] = self->shm[2] = NULL;

	/* Untracked, through the index: no message, not counted. */
	ASSERT_EQ(0, sealshm_attach("counted", &untracked, &self->shm[1]));
	ASSERT_EQ(3, attach_lines(&self->d, "counted")) {
		TH_LOG("the attach took the round trip: no fast path here");
	}
	ASSERT_EQ(0, sealshm_stat("counted", NULL, &info));
	EXPECT_EQ(3, info.n_attaches);
	EXPECT_EQ(last, info.atime_ns);

	/* Tracked, through the index: its TRACK counts. */
	ASSERT_EQ(0, sealshm_attach("counted", NULL, &self->shm[2]));
	ASSERT_EQ(0, sealshm_stat("counted", NULL, &info));
	EXPECT_EQ(3, attach_lines(&self->d, "counted"));
	EXPECT_EQ(1, fast_attach_lines(&self->d, "counted"));
	EXPECT_EQ(1, info.n_sessions);
	EXPECT_EQ(4, info.n_attaches);
	EXPECT_LT(last, info.atime_ns);
	last = info.atime_ns;

	/* Again from the same process family: the library sent its TRACK
	 * already and sends none, so nothing more is seen. */
	ASSERT_EQ(0, sealshm_attach("counted", NULL, &self->shm[3]));
	ASSERT_EQ(0, sealshm_stat("counted", NULL, &info));
	EXPECT_EQ(4, info.n_attaches);
	EXPECT_EQ(last, info.atime_ns);

	/* A round trip from another process moves the time again. */
	EXPECT_EQ(0, run_peer_path(true, ARGS("--no-track", "read", "counted", "0")));
	ASSERT_EQ(0, sealshm_stat("counted", NULL, &info));
	EXPECT_EQ(5, info.n_attaches);
	EXPECT_LT(last, info.atime_ns);

	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* STATS reports trackerd's pid, start, uptime and limits, and counts
 * names, bytes, sessions, connections and every message handled (TRACKs
 * included), with the caller's own use of its quotas. */
TEST_F(stats, stats_count_names_sessions_clients_requests)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	SEALSHM_OPTS(sealshm_opts, bad_flags, .flags = 1u << 30);
	struct sealshm_msg_list list = {
		.hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(list), .seq = 2 },
	};
	struct sealshm_msg_track track = {
		.hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(track) },
		.slot = 999,	/* no such name: ignored, but handled */
	};
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	char reply[SEALSHM_PROTO_MSG_MAX];
	struct sealshm_registry_stats st, st2;
	int64_t now = realtime_ns();

	EXPECT_EQ(-EINVAL, sealshm_registry_stats(NULL, NULL));
	EXPECT_EQ(-EINVAL, sealshm_registry_stats(&bad_flags, &st));

	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
	EXPECT_EQ((uint32_t)self->d.pid, st.pid);
	EXPECT_EQ(0, st.flags);
	EXPECT_LT(now - 60 * 1000000000LL, st.start_ns);
	EXPECT_GE(now, st.start_ns);
	EXPECT_LT(0, st.uptime_ns);
	EXPECT_GT(60 * 1000000000ULL, st.uptime_ns);
	EXPECT_EQ(4000, st.max_names);
	EXPECT_EQ(2000, st.max_names_per_uid);
	EXPECT_EQ(64, st.max_clients);
	EXPECT_EQ(MAX_BYTES_PER_UID, st.max_bytes_per_uid);
	EXPECT_EQ(0, st.names);
	EXPECT_EQ(0, st.bytes);
	EXPECT_EQ(0, st.caller_names);
	EXPECT_EQ(0, st.caller_bytes);
	/* This process: its request connection and its session. */
	EXPECT_EQ(1, st.sessions);
	EXPECT_EQ(2, st.clients);
	/* Every bucket this library knows is reported; the slots past them
	 * are zero. */
	EXPECT_EQ(SEALSHM_REFUSED_OTHER + 1, st.n_refused);
	for (int i = 0; i < SEALSHM_REFUSED_SLOTS; i++)
		EXPECT_EQ(0, st.refused[i]);

	/* Another connection, and another session. */
	self->raw[0] = raw_client(self->d.sock, NULL);
	ASSERT_LE(0, self->raw[0]);
	self->raw[1] = raw_session_client(self->d.sock, token, NULL);
	ASSERT_LE(0, self->raw[1]);
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
	EXPECT_EQ(2, st.sessions);
	EXPECT_EQ(4, st.clients);

	/* Five requests between two STATS: six more, the second STATS too. */
	for (int i = 0; i < 5; i++)
		ASSERT_LT(0, raw_call(self->raw[0], &list, sizeof(list), NULL, 0, reply,
				      sizeof(reply), NULL));
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st2));
	EXPECT_EQ(st.requests + 6, st2.requests);

	/* A TRACK is one too (STATS reads the sessions first). */
	ASSERT_EQ(0, raw_send_fds(self->raw[1], &track, sizeof(track), NULL, 0));
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
	EXPECT_EQ(st2.requests + 2, st.requests);
	EXPECT_EQ(2, st.sessions);

	/* Names and bytes, every owner's and the caller's. */
	ASSERT_EQ(0, sealshm_create("one", 4096, &untracked, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create("two", 3 * 4096 + 1, &untracked, &self->shm[1]));
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
	EXPECT_EQ(2, st.names);
	EXPECT_EQ(4 * 4096 + 1, st.bytes);
	EXPECT_EQ(2, st.caller_names);
	EXPECT_EQ(4 * 4096 + 1, st.caller_bytes);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
	EXPECT_EQ(0, st.names);
	EXPECT_EQ(0, st.bytes);
	EXPECT_EQ(0, st.caller_names);
	EXPECT_EQ(0, st.caller_bytes);

	/* Connections that end are no longer counted. */
	self->raw[0] = safe_close(self->raw[0]);
	self->raw[1] = safe_close(self->raw[1]);
	EXPECT_EQ(2, wait_clients(2));
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st));
	EXPECT_EQ(1, st.sessions);
	EXPECT_LT(st2.uptime_ns, st.uptime_ns);
	EXPECT_EQ(st2.start_ns, st.start_ns);
}

/* Refusals are counted by reason: no such name, name taken, over quota,
 * write-sealed, bad fields, an unknown session (other), and framing or
 * handshake errors, which close the connection. */
TEST_F(stats, refusals_are_counted_by_reason)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm_msg_hello_reply hello;
	struct sealshm_msg_name attach;
	struct sealshm_registry_stats st0, st1;
	struct sealshm *shm = NULL;
	char reply[512];
	uint64_t want[SEALSHM_REFUSED_SLOTS] = { 0 };

	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st0));

	EXPECT_EQ(-ENOENT, sealshm_attach("missing", NULL, &shm));
	EXPECT_EQ(-ENOENT, sealshm_stat("missing", NULL, &(struct sealshm_info){ 0 }));
	want[SEALSHM_REFUSED_ENOENT] = 2;

	ASSERT_EQ(0, sealshm_create("taken", 4096, &untracked, &self->shm[0]));
	EXPECT_EQ(-EEXIST, sealshm_create("taken", 4096, &untracked, &shm));
	want[SEALSHM_REFUSED_EEXIST] = 1;

	EXPECT_EQ(-EDQUOT, sealshm_create("big", 2 * MAX_BYTES_PER_UID, &untracked, &shm));
	want[SEALSHM_REFUSED_EDQUOT] = 1;

	/* Published: a read-write attach is refused (the fast path asks). */
	ASSERT_EQ(0, sealshm_seal(self->shm[0], SEALSHM_SEAL_FUTURE_WRITE));
	EXPECT_EQ(-EPERM, sealshm_attach("taken", &untracked, &shm));
	want[SEALSHM_REFUSED_EPERM] = 1;

	self->raw[0] = raw_client(self->d.sock, NULL);
	ASSERT_LE(0, self->raw[0]);
	raw_name_req(&attach, SEALSHM_MSG_ATTACH, 2, "taken", 1u << 20);
	ASSERT_LT(0, raw_call(self->raw[0], &attach, sizeof(attach), NULL, 0, reply,
			      sizeof(reply), NULL));
	EXPECT_EQ(-EINVAL, ((struct sealshm_msg_hdr *)reply)->status);
	want[SEALSHM_REFUSED_EINVAL] = 1;

	/* A token no session has. */
	raw_name_req(&attach, SEALSHM_MSG_ATTACH, 3, "taken", SEALSHM_PROTO_TRACK);
	memset(attach.token, 0x5a, sizeof(attach.token));
	ASSERT_LT(0, raw_call(self->raw[0], &attach, sizeof(attach), NULL, 0, reply,
			      sizeof(reply), NULL));
	EXPECT_EQ(-ESTALE, ((struct sealshm_msg_hdr *)reply)->status);
	want[SEALSHM_REFUSED_OTHER] = 1;

	/* Shorter than a header; then a HELLO of another version. */
	ASSERT_EQ(0, raw_send_fds(self->raw[0], "xyz", 3, NULL, 0));
	EXPECT_TRUE(raw_closed_by_peer(self->raw[0]));
	self->raw[1] = raw_connect(self->d.sock);
	ASSERT_LE(0, self->raw[1]);
	EXPECT_LT(0, raw_hello_with(self->raw[1], SEALSHM_PROTO_MAGIC, 999, &hello));
	EXPECT_EQ(-EPROTO, hello.hdr.status);
	want[SEALSHM_REFUSED_PROTO] = 2;

	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st1));
	for (int i = 0; i < SEALSHM_REFUSED_SLOTS; i++) {
		EXPECT_EQ(want[i], st1.refused[i] - st0.refused[i]) {
			TH_LOG("refusal bucket %d", i);
		}
	}
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* As another uid: the create, a refused attach, a refused unlink. */
static int other_uid(const void *arg)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	const uint64_t *root_bytes = arg;
	struct sealshm_info *infos = NULL;
	struct sealshm_registry_stats st;
	struct sealshm *s = NULL;
	int n, seen = 0;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 100;
	/* No INDEX request (refused to other uids): only what is tested. */
	if (setenv("SEALSHM_NO_FASTPATH", "1", 1) < 0)
		return 101;
	if (sealshm_create("nobodys", 3 * 4096, &untracked, &s) < 0)
		return 10;
	sealshm_close(s);
	if (sealshm_attach("root_private", &untracked, &s) != -EACCES)
		return 11;
	if (sealshm_unlink_name("root_shared", &untracked) != -EPERM)
		return 12;
	/* Its own name and the one mode 0644 lets it read. */
	n = sealshm_registry_list(&untracked, &infos);
	for (int i = 0; i < n; i++)
		seen |= !strcmp(infos[i].name, "nobodys") ? 1 :
			!strcmp(infos[i].name, "root_shared") ? 2 : 4;
	free(infos);
	if (n != 2 || seen != 3)
		return 13;
	/* Everyone's names and bytes; its own use of its quotas. */
	if (sealshm_registry_stats(&untracked, &st) < 0)
		return 14;
	if (st.names != 3 || st.bytes != *root_bytes + 3 * 4096)
		return 15;
	if (st.caller_names != 1 || st.caller_bytes != 3 * 4096)
		return 16;
	return 0;
}

/* Another uid lists only the names it may attach but gets the global
 * figures, with its own quota use; its refusals count by reason. */
TEST_F(stats, other_uid_lists_its_names_and_sees_global_figures)
{
	SEALSHM_OPTS(sealshm_opts, private, .flags = SEALSHM_NO_TRACK, .mode = 0600);
	SEALSHM_OPTS(sealshm_opts, shared, .flags = SEALSHM_NO_TRACK, .mode = 0644);
	const uint64_t root_bytes = 4096 + 8192;
	struct sealshm_registry_stats st0, st1;
	int rc;

	if (geteuid() != 0)
		SKIP(return, "switching uid needs root");
	/* Let the other uid reach the socket. */
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, chmod(self->d.sock, 0666));
	ASSERT_EQ(0, sealshm_create("root_private", 4096, &private, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create("root_shared", 8192, &shared, &self->shm[1]));
	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st0));

	rc = run_child(other_uid, &root_bytes, 20000);
	EXPECT_EQ(0, rc);

	ASSERT_EQ(0, sealshm_registry_stats(NULL, &st1));
	EXPECT_EQ(1, st1.refused[SEALSHM_REFUSED_EACCES] - st0.refused[SEALSHM_REFUSED_EACCES]);
	EXPECT_EQ(1, st1.refused[SEALSHM_REFUSED_EPERM] - st0.refused[SEALSHM_REFUSED_EPERM]);
	for (int i = 0; i < SEALSHM_REFUSED_SLOTS; i++) {
		if (i == SEALSHM_REFUSED_EACCES || i == SEALSHM_REFUSED_EPERM)
			continue;
		EXPECT_EQ(st0.refused[i], st1.refused[i]) {
			TH_LOG("refusal bucket %d", i);
		}
	}
	/* Root sees all three, and owns two. */
	EXPECT_EQ(rc == 0 ? 3 : 2, st1.names);
	EXPECT_EQ(2, st1.caller_names);
	EXPECT_EQ(root_bytes, st1.caller_bytes);

	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
	if (rc == 0)
		EXPECT_EQ(0, sealshm_unlink_name("nobodys", NULL));
}

/* `sealshm stat` shows resident bytes, attaches and the last attach;
 * `sealshm ls` has RES and ATT columns. */
TEST_F(stats, cli_shows_resident_and_attaches)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	unsigned long long size = 0, res = 0, att = 0;
	char out[4096], want[64], *line;

	ASSERT_EQ(0, sealshm_create("cli_seen", 8192, &untracked, &self->shm[0]));
	ASSERT_EQ(0, run_cli(ARGS("stat", "cli_seen"), out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "\nresident: 0\n")) {
		TH_LOG("stat said:\n%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "\nattaches: 0\nattached: never\n")) {
		TH_LOG("stat said:\n%s", out);
	}

	/* One page touched by a round-trip attach. */
	EXPECT_EQ(0, run_peer_path(true, ARGS("--no-track", "attach", "cli_seen", "1", "9")));
	ASSERT_EQ(0, run_cli(ARGS("stat", "cli_seen"), out, sizeof(out)));
	snprintf(want, sizeof(want), "\nresident: %zu\n", self->page);
	EXPECT_NE(NULL, strstr(out, want)) {
		TH_LOG("stat said:\n%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "\nattaches: 1\nattached: ")) {
		TH_LOG("stat said:\n%s", out);
	}
	EXPECT_EQ(NULL, strstr(out, "attached: never"));

	ASSERT_EQ(0, run_cli(ARGS("ls"), out, sizeof(out)));
	EXPECT_EQ(0, strncmp(out, "NAME ", 5));
	EXPECT_NE(NULL, strstr(out, " SIZE          RES    ATT ")) {
		TH_LOG("ls said:\n%s", out);
	}
	line = strstr(out, "\ncli_seen ");
	ASSERT_NE(NULL, line) {
		TH_LOG("ls said:\n%s", out);
	}
	EXPECT_EQ(3, sscanf(line, " cli_seen %llu %llu %llu", &size, &res, &att));
	EXPECT_EQ(8192, size);
	EXPECT_EQ(self->page, res);
	EXPECT_EQ(1, att);

	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

TEST_HARNESS_MAIN

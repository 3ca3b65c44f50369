// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * valgrind_test: the real programs, run under valgrind's memcheck, leave no
 * leak of any kind, no memory error and no fd of their own open at exit:
 * trackerd itself (driven through the library and by malformed raw
 * messages, then SIGTERM), the exec'd peer, the sealshm CLI and the
 * fib_owner/fib_peer example, each against a private trackerd.  valgrind's
 * exit status (99 on any error, every leak kind counting as one) and its
 * log decide.
 *
 * Skipped when valgrind is not on PATH, and when the build uses ASan
 * (SANITIZE=1): ASan's shadow memory and interceptors do not run under
 * valgrind.  Each run costs valgrind's start-up (about a second), so the
 * workloads are small.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#if defined(__SANITIZE_ADDRESS__)
#define BUILT_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUILT_WITH_ASAN 1
#endif
#endif

/* valgrind's exit status when it found an error (--error-exitcode). */
#define VG_ERROR_EXIT "99"
/* Start-up, a run and shut-down under memcheck, with room for a slow CI. */
#define VG_RUN_TIMEOUT_MS 90000

/* What every run gets.  --trace-children: fib_owner execs fib_peer, which
 * is checked too.  --track-fds: the fds open at exit are listed in the log
 * (older valgrind, such as Debian 12's 3.19, does not count them as errors;
 * vg_check_logs() does). */
static const char *const vg_opts[] = {
	"--leak-check=full",
	"--show-leak-kinds=all",
	"--errors-for-leak-kinds=all",
	"--error-exitcode=" VG_ERROR_EXIT,
	"--track-fds=yes",
	"--trace-children=yes",
	/* A manager's trackerd loads a seccomp filter, which valgrind's own
	 * syscalls would break; vg_trackerd checks trackerd itself. */
	"--trace-children-skip=*/trackerd",
	"--num-callers=30",
};

struct vg {
	char valgrind[PATH_MAX];	/* the valgrind found on PATH */
	char dir[64];			/* its logs go here: DIR/vg-TAG.PID.log */
	char logopt[160];		/* --log-file= of the last vg_argv() */
	const char *argv[32];
};

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Why valgrind cannot check this build, or NULL; fills in @vg->valgrind. */
static const char *vg_find(struct vg *vg)
{
	const char *san = getenv("SEALSHM_TEST_SANITIZE");
	const char *path = getenv("PATH");

#ifdef BUILT_WITH_ASAN
	san = "1";
#endif
	if (san && *san && strcmp(san, "0"))
		return "built with SANITIZE=1: ASan programs cannot run under valgrind";
	for (const char *p = path; p && *p;) {
		size_t len = strcspn(p, ":");

		if (len > 0 && (size_t)snprintf(vg->valgrind, sizeof(vg->valgrind), "%.*s/valgrind",
						(int)len, p) < sizeof(vg->valgrind) &&
		    access(vg->valgrind, X_OK) == 0)
			return NULL;
		p += len + (p[len] == ':');
	}
	vg->valgrind[0] = '\0';
	return "valgrind is not on PATH (Debian: apt-get install valgrind)";
}

/* valgrind, its options and --log-file=DIR/vg-TAG.%p.log, followed by
 * @argv (NULL for the prefix alone, as a trackerd_spawn_wrapped() wrapper). */
static const char *const *vg_argv(struct vg *vg, const char *tag, const char *const *argv)
{
	size_t n = 0;

	vg->argv[n++] = vg->valgrind;
	for (size_t i = 0; i < ELEMENTSOF(vg_opts); i++)
		vg->argv[n++] = vg_opts[i];
	snprintf(vg->logopt, sizeof(vg->logopt), "--log-file=%s/vg-%s.%%p.log", vg->dir, tag);
	vg->argv[n++] = vg->logopt;
	for (size_t i = 0; argv && argv[i] && n < ELEMENTSOF(vg->argv) - 1; i++)
		vg->argv[n++] = argv[i];
	vg->argv[n] = NULL;
	return vg->argv;
}

/* Run @argv under valgrind with stdin from @in and stdout to @out (NULL:
 * /dev/null); stderr stays the test's.  Only fds 0-2 are passed on, so what
 * --track-fds lists is the program's own.  Returns the exit code (128 +
 * signal), or -errno. */
static int vg_run(struct vg *vg, const char *tag, const char *const *argv, const char *in,
		  const char *out)
{
	const char *const *cmd = vg_argv(vg, tag, argv);
	const struct helper_run_opts opts = {
		.in_path = in ?: "/dev/null",
		.out_path = out ?: "/dev/null",
		.flags = HELPER_RUN_ONLY_STDIO,
		.timeout_ms = VG_RUN_TIMEOUT_MS,
	};

	return helper_run(cmd[0], cmd + 1, &opts, NULL, 0);
}

/* Fds the program opened and left open, as --track-fds lists them: an
 * "Open ..." line not followed by "<inherited from parent>" (valgrind
 * before 3.24 lists its own --log-file fd as inherited, bug 311655). */
static int vg_leaked_fds(const char *log)
{
	int n = 0;

	for (const char *l = strstr(log, "== Open "); l; l = strstr(l + 1, "== Open ")) {
		const char *next = strchr(l, '\n');
		const char *end = next ? strchr(next + 1, '\n') : NULL;

		if (!next || !memmem(next, end ? (size_t)(end - next) : strlen(next),
				     "<inherited from parent>", 23))
			n++;
	}
	return n;
}

/* Check and remove every log valgrind wrote for @tag: each must say
 * "ERROR SUMMARY: 0 errors" and list no leaked fd; a bad one is shown in
 * full.  Returns how many logs there were (one per process run, exec'd
 * children included), or -errno. */
static int vg_check_logs(struct __test_metadata *_metadata, const struct vg *vg, const char *tag)
{
	char prefix[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "vg-%s.", tag);
	d = opendir(vg->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], *log = NULL;
		size_t len = strlen(de->d_name);
		int leaked, r;

		if (strncmp(de->d_name, prefix, strlen(prefix)) || len < 4 ||
		    strcmp(de->d_name + len - 4, ".log"))
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", vg->dir, de->d_name);
		r = helper_read_file(path, &log);
		if (r < 0) {
			EXPECT_EQ(0, r) {
				TH_LOG("cannot read %s", path);
			}
			continue;
		}
		leaked = vg_leaked_fds(log);
		if (!strstr(log, "ERROR SUMMARY: 0 errors from 0 contexts") || leaked) {
			EXPECT_NE(NULL, strstr(log, "ERROR SUMMARY: 0 errors from 0 contexts"));
			EXPECT_EQ(0, leaked);
			TH_LOG("%s:\n%s", de->d_name, log);
		}
		free(log);
		(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	return n;
}

/* --- trackerd under valgrind ------------------------------------------------ */
FIXTURE(vg_trackerd) {
	struct trackerd d;
	struct vg vg;
	struct sealshm *shm[4];
	int fds_before;
};

FIXTURE_SETUP(vg_trackerd)
{
	const char *why = vg_find(&self->vg);
	int r;

	memset(self->shm, 0, sizeof(self->shm));
	/* The 6.1 harness still runs the test and the teardown after a SKIP
	 * here: both return at once when _metadata->skip is set. */
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, trackerd_prepare(&self->d));
	snprintf(self->vg.dir, sizeof(self->vg.dir), "%s", self->d.dir);
	/* --seccomp=off: valgrind makes syscalls of its own in trackerd's
	 * process, which no allow-list of trackerd's can foresee. */
	r = trackerd_spawn_wrapped(&self->d, vg_argv(&self->vg, "trackerd", NULL),
				   (const char *const[]){ "--seccomp=off", NULL },
				   VG_RUN_TIMEOUT_MS);
	ASSERT_EQ(0, r) {
		char *log = trackerd_log(&self->d);

		TH_LOG("trackerd under valgrind did not come up: %s; valgrind's log is "
		       "%s/vg-trackerd.*.log, trackerd's:\n%s", strerror(-r), self->d.dir, log);
		free(log);
	}
	self->fds_before = trackerd_connect(&self->d);
	ASSERT_GT(self->fds_before, 0) {
		TH_LOG("trackerd_connect: %s", strerror(-self->fds_before));
	}
}

/* The test stops trackerd itself, with a name registered, to read
 * valgrind's verdict: the shared teardown checks the registry only when a
 * failure left trackerd up. */
FIXTURE_TEARDOWN(vg_trackerd)
{
	if (_metadata->skip)
		return;
	for (int i = 0; i < 4; i++)
		sealshm_close(self->shm[i]);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* Malformed and dishonest requests, one connection each, so that trackerd
 * walks its refusal paths (error reply, hangup, received fds closed) under
 * memcheck.  trackerd_protocol_test checks the replies in detail; here each
 * needs only to be refused: an error reply or a hangup. */
static void send_bad_messages(struct __test_metadata *_metadata, const char *sock)
{
	static char big[SEALSHM_PROTO_MSG_MAX + 4096];	/* OVERSIZED: beyond any message */
	enum { BAD_MAGIC, BAD_VERSION, BEFORE_HELLO, UNKNOWN_TYPE, TRUNCATED, SHORT_HEADER,
	       SIZE_LIE, CREATE_NO_FD, CREATE_THREE_FDS, FD_ON_ATTACH, OVERSIZED, UNSEALED,
	       NAME_NO_NUL, HANGUP_UNREAD, N_BAD };

	for (int i = 0; i < N_BAD; i++) {
		struct sealshm_msg_hello *hello = (void *)big;
		struct sealshm_msg_create *create = (void *)big;
		struct sealshm_msg_name *name = (void *)big;
		union {
			struct sealshm_msg_hdr hdr;
			struct sealshm_msg_hello_reply hello;	/* the largest error reply */
		} reply;
		int mfd[3] = { -EBADF, -EBADF, -EBADF };
		size_t len = 0, nfds = 0;
		int sock_fd, r;
		ssize_t n;

		memset(big, 0, sizeof(big));
		if (i == BAD_MAGIC || i == BAD_VERSION || i == BEFORE_HELLO)
			sock_fd = raw_connect(sock);
		else
			sock_fd = raw_client(sock, NULL);
		ASSERT_GE(sock_fd, 0);
		for (int k = 0; k < 3; k++) {
			mfd[k] = helper_memfd(4096, i == UNSEALED ? 0 : F_SEAL_SHRINK | F_SEAL_GROW);
			ASSERT_GE(mfd[k], 0);
		}

		switch (i) {
		case BAD_MAGIC:
		case BAD_VERSION:
			hello->hdr = (struct sealshm_msg_hdr){ .type = SEALSHM_MSG_HELLO,
							       .size = sizeof(*hello), .seq = 1 };
			hello->magic = i == BAD_MAGIC ? 0x12345678 : SEALSHM_PROTO_MAGIC;
			hello->version = SEALSHM_PROTO_VERSION + (i == BAD_VERSION);
			len = sizeof(*hello);
			break;
		case BEFORE_HELLO:
		case SIZE_LIE:
		case NAME_NO_NUL:
			raw_name_req(name, SEALSHM_MSG_STAT, 2, "vg_bad", 0);
			if (i == SIZE_LIE)
				name->hdr.size += 8;
			if (i == NAME_NO_NUL)
				memset(name->name, 'n', sizeof(name->name));
			len = sizeof(*name);
			break;
		case UNKNOWN_TYPE:
			raw_name_req(name, 99, 2, "vg_bad", 0);
			len = sizeof(*name);
			break;
		case FD_ON_ATTACH:
			raw_name_req(name, SEALSHM_MSG_ATTACH, 2, "vg_bad", 0);
			len = sizeof(*name);
			nfds = 1;
			break;
		case TRUNCATED:
		case SHORT_HEADER:
		case CREATE_NO_FD:
		case CREATE_THREE_FDS:
		case UNSEALED:
		case HANGUP_UNREAD:
			raw_create_req(create, 2, "vg_bad", 4096, 0600, 0);
			len = sizeof(*create);
			nfds = i == CREATE_NO_FD ? 0 : i == CREATE_THREE_FDS ? 3 : 1;
			if (i == TRUNCATED)
				create->hdr.size = len = 100;
			if (i == SHORT_HEADER)
				len = 8;
			break;
		case OVERSIZED:
			raw_name_req(name, SEALSHM_MSG_LIST, 2, "", 0);
			name->hdr.size = len = sizeof(big);
			break;
		}
		r = raw_send_fds(sock_fd, big, len, mfd, nfds);
		EXPECT_EQ(0, r) {
			TH_LOG("bad message %d: send: %s", i, strerror(-r));
		}
		for (int k = 0; k < 3; k++)
			close(mfd[k]);
		if (i == HANGUP_UNREAD) {
			/* A good CREATE whose reply goes to a client that is
			 * gone; the name stays (it is not tracked). */
			close(sock_fd);
			continue;
		}
		n = raw_recv(sock_fd, &reply, sizeof(reply), NULL);
		EXPECT_TRUE(n == 0 || n == -ECONNRESET ||
			    (n >= (ssize_t)sizeof(reply.hdr) && reply.hdr.status < 0)) {
			TH_LOG("bad message %d not refused: reply of %zd bytes, status %d", i, n,
			       n >= (ssize_t)sizeof(reply.hdr) ? reply.hdr.status : 0);
		}
		close(sock_fd);
	}
}

/* trackerd under memcheck serves the public API (create, attach read-write
 * and read-only, list, stat, unlink, and their error paths), refuses
 * malformed messages, and on SIGTERM, with clients connected and a name
 * still registered, exits 0: no leak, no memory error, no fd left open. */
TEST_F_TIMEOUT(vg_trackerd, trackerd_exits_clean_after_api_and_bad_messages, 120)
{
	SEALSHM_OPTS(sealshm_opts, rdonly, .flags = SEALSHM_RDONLY);
	const size_t size = 8192 + 5;
	struct sealshm_info info, *infos = NULL;
	int n, rc;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, sealshm_create("vg_seg", size, NULL, &self->shm[0]));
	memset(sealshm_buf(self->shm[0]), 'v', size);
	ASSERT_EQ(0, sealshm_attach("vg_seg", NULL, &self->shm[1]));
	EXPECT_EQ('v', ((char *)sealshm_buf(self->shm[1]))[size - 1]);
	ASSERT_EQ(0, sealshm_attach("vg_seg", &rdonly, &self->shm[2]));
	EXPECT_EQ('v', ((char *)sealshm_buf(self->shm[2]))[0]);
	n = sealshm_registry_list(NULL, &infos);
	EXPECT_EQ(1, n);
	if (n == 1)
		EXPECT_STREQ("vg_seg", infos[0].name);
	free(infos);
	EXPECT_EQ(0, sealshm_stat("vg_seg", NULL, &info));
	EXPECT_EQ(size, info.size);
	EXPECT_EQ(-EEXIST, sealshm_create("vg_seg", 64, NULL, &self->shm[3]));
	EXPECT_EQ(-ENOENT, sealshm_attach("vg_missing", NULL, &self->shm[3]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(-ENOENT, sealshm_stat("vg_seg", NULL, &info));

	send_bad_messages(_metadata, self->d.sock);
	/* The client that hung up left its name; the reply was dropped. */
	for (uint64_t end = helper_now_ms() + 5000;
	     sealshm_stat("vg_bad", NULL, &info) < 0 && helper_now_ms() < end;)
		helper_sleep_ms(20);
	EXPECT_EQ(0, sealshm_unlink_name("vg_bad", NULL));

	/* Still serving; this name stays registered through the SIGTERM. */
	ASSERT_EQ(0, sealshm_create("vg_kept", 4096, NULL, &self->shm[3]));
	EXPECT_EQ(0, sealshm_stat("vg_kept", NULL, &info));

	ASSERT_EQ(0, kill(self->d.pid, SIGTERM));
	rc = helper_exit_code(helper_reap(self->d.pid, VG_RUN_TIMEOUT_MS));
	self->d.pid = 0;
	EXPECT_EQ(0, rc) {
		TH_LOG("trackerd under valgrind exited %d (" VG_ERROR_EXIT ": valgrind errors)", rc);
	}
	EXPECT_EQ(1, vg_check_logs(_metadata, &self->vg, "trackerd"));
}

/* --- clients under valgrind, against a private trackerd --------------------- */
FIXTURE(vg_client) {
	struct trackerd d;
	struct vg vg;
	struct sealshm *shm;
	int fds_before;
};

FIXTURE_SETUP(vg_client)
{
	const char *why = vg_find(&self->vg);

	self->shm = NULL;
	if (why)
		SKIP(return, "%s", why);	/* see FIXTURE_SETUP(vg_trackerd) */
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
	snprintf(self->vg.dir, sizeof(self->vg.dir), "%s", self->d.dir);
}

FIXTURE_TEARDOWN(vg_client)
{
	if (_metadata->skip)
		return;
	sealshm_close(self->shm);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* The exec'd peer attaches read-write and writes, then attaches read-only
 * and reads, cleanly under memcheck. */
TEST_F_TIMEOUT(vg_client, peer_attach_and_write_is_clean, 120)
{
	char peer[PATH_MAX], out[128], *s = NULL;
	unsigned char *p;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, helper_peer_path(peer, sizeof(peer)));
	ASSERT_EQ(0, sealshm_create("vg_peer", 4096, NULL, &self->shm));
	p = sealshm_buf(self->shm);
	snprintf(out, sizeof(out), "%s/peer.out", self->d.dir);

	EXPECT_EQ(0, vg_run(&self->vg, "peer", ARGV(peer, "--no-track", "attach", "vg_peer", "4095", "77"),
			    NULL, NULL));
	EXPECT_EQ(77, p[4095]);
	EXPECT_EQ(0, vg_run(&self->vg, "peer", ARGV(peer, "--no-track", "read", "vg_peer", "4095"), NULL, out));
	ASSERT_EQ(0, helper_read_file(out, &s));
	EXPECT_STREQ("77\n", s);
	free(s);
	EXPECT_EQ(2, vg_check_logs(_metadata, &self->vg, "peer"));
	EXPECT_EQ(0, sealshm_unlink(self->shm));
}

/* sealshm create, write, cat, stat, ls and rm (and stat's "no such name"
 * path) run cleanly under memcheck and do what they say. */
TEST_F_TIMEOUT(vg_client, cli_commands_are_clean, 150)
{
	static const char text[] = "written by sealshm write under valgrind\n";
	char cli[PATH_MAX], in[128], out[128], *s = NULL;
	struct sealshm_info info;
	struct stat st;
	int fd;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, helper_cli_path(cli, sizeof(cli)));
	ASSERT_EQ(0, access(cli, X_OK)) {
		TH_LOG("no sealshm CLI at %s (set SEALSHM_TEST_CLI)", cli);
	}
	snprintf(in, sizeof(in), "%s/cli.in", self->d.dir);
	snprintf(out, sizeof(out), "%s/cli.out", self->d.dir);
	fd = open(in, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)strlen(text), write(fd, text, strlen(text)));
	close(fd);

	EXPECT_EQ(0, vg_run(&self->vg, "cli", ARGV(cli, "create", "vg_cli", "4K"), NULL, NULL));
	EXPECT_EQ(0, vg_run(&self->vg, "cli", ARGV(cli, "write", "vg_cli"), in, NULL));

	EXPECT_EQ(0, vg_run(&self->vg, "cli", ARGV(cli, "cat", "vg_cli"), NULL, out));
	ASSERT_EQ(0, stat(out, &st));
	EXPECT_EQ(4096, st.st_size);
	ASSERT_EQ(0, helper_read_file(out, &s));
	EXPECT_EQ(0, strncmp(s, text, strlen(text)));
	free(s);

	EXPECT_EQ(0, vg_run(&self->vg, "cli", ARGV(cli, "stat", "vg_cli"), NULL, out));
	ASSERT_EQ(0, helper_read_file(out, &s));
	EXPECT_NE(NULL, strstr(s, "vg_cli")) {
		TH_LOG("stat said:\n%s", s);
	}
	free(s);
	EXPECT_EQ(0, vg_run(&self->vg, "cli", ARGV(cli, "ls"), NULL, out));
	ASSERT_EQ(0, helper_read_file(out, &s));
	EXPECT_NE(NULL, strstr(s, "\nvg_cli ")) {
		TH_LOG("ls said:\n%s", s);
	}
	free(s);

	EXPECT_EQ(0, vg_run(&self->vg, "cli", ARGV(cli, "rm", "vg_cli"), NULL, NULL));
	EXPECT_EQ(-ENOENT, sealshm_stat("vg_cli", NULL, &info));
	/* An error path: exit 1 (not valgrind's 99). */
	EXPECT_EQ(1, vg_run(&self->vg, "cli", ARGV(cli, "stat", "vg_cli"), NULL, NULL));
	EXPECT_EQ(7, vg_check_logs(_metadata, &self->vg, "cli"));
}

/* shmtop's batch and JSON frames (listing, statistics, the /proc scan that
 * finds this process mapping the segment) and its error path, all clean. */
TEST_F_TIMEOUT(vg_client, shmtop_frames_are_clean, 150)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
	char top[PATH_MAX], out[128], *s = NULL;
	struct sealshm *shm = NULL;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, helper_prog_path("SEALSHM_TEST_SHMTOP", "../tools/shmtop", top, sizeof(top)));
	ASSERT_EQ(0, access(top, X_OK)) {
		TH_LOG("no shmtop at %s (set SEALSHM_TEST_SHMTOP)", top);
	}
	snprintf(out, sizeof(out), "%s/top.out", self->d.dir);
	ASSERT_EQ(0, sealshm_create("vg_top", 8192, &o, &shm));
	memset(sealshm_buf(shm), 1, 4096);

	EXPECT_EQ(0, vg_run(&self->vg, "top", ARGV(top, "-b", "-n", "2", "-d", "0.1"), NULL, out));
	ASSERT_EQ(0, helper_read_file(out, &s));
	EXPECT_NE(NULL, strstr(s, " vg_top\n")) {
		TH_LOG("shmtop -b said:\n%s", s);
	}
	free(s);
	EXPECT_EQ(0, vg_run(&self->vg, "top", ARGV(top, "--json", "-n", "1"), NULL, out));
	ASSERT_EQ(0, helper_read_file(out, &s));
	EXPECT_NE(NULL, strstr(s, "\"name\":\"vg_top\"")) {
		TH_LOG("shmtop --json said:\n%s", s);
	}
	free(s);
	/* No trackerd there: exit 1 (not valgrind's 99). */
	EXPECT_EQ(1, vg_run(&self->vg, "top", ARGV(top, "-b", "-n", "1", "--socket",
						   "/nonexistent/trackerd.sock"), NULL, NULL));
	EXPECT_EQ(3, vg_check_logs(_metadata, &self->vg, "top"));

	EXPECT_EQ(0, sealshm_unlink(shm));
	sealshm_close(shm);
}

/* The example: fib_owner creates, execs fib_peer (also under memcheck,
 * through --trace-children), sees its write and unlinks, all cleanly. */
TEST_F_TIMEOUT(vg_client, fib_owner_and_peer_are_clean, 120)
{
	char dir[PATH_MAX], owner[PATH_MAX + 16], out[128], *s = NULL;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, helper_examples_dir(dir, sizeof(dir)));
	snprintf(owner, sizeof(owner), "%s/fib_owner", dir);
	ASSERT_EQ(0, access(owner, X_OK)) {
		TH_LOG("no fib_owner at %s (set SEALSHM_TEST_EXAMPLES)", owner);
	}
	snprintf(out, sizeof(out), "%s/fib.out", self->d.dir);

	EXPECT_EQ(0, vg_run(&self->vg, "fib", ARGV(owner, "vg_fib"), NULL, out));
	ASSERT_EQ(0, helper_read_file(out, &s));
	EXPECT_NE(NULL, strstr(s, "after  1 1 2 3 5 888")) {
		TH_LOG("fib_owner said:\n%s", s);
	}
	free(s);
	EXPECT_EQ(2, vg_check_logs(_metadata, &self->vg, "fib"));
}

/* The manager example: two forked workers and the parent, all clean, every
 * fd closed (where valgrind lacks pidfd_open(2) the library falls back to a
 * pipe; the manager's trackerd runs untraced). */
TEST_F_TIMEOUT(vg_client, manager_workers_are_clean, 150)
{
	char dir[PATH_MAX], prog[PATH_MAX + 32], out[128], *s = NULL;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, helper_examples_dir(dir, sizeof(dir)));
	snprintf(prog, sizeof(prog), "%s/manager_workers", dir);
	ASSERT_EQ(0, access(prog, X_OK)) {
		TH_LOG("no manager_workers at %s (set SEALSHM_TEST_EXAMPLES)", prog);
	}
	snprintf(out, sizeof(out), "%s/mgr.out", self->d.dir);

	EXPECT_EQ(0, vg_run(&self->vg, "mgr", ARGV(prog), NULL, out));
	ASSERT_EQ(0, helper_read_file(out, &s));
	EXPECT_NE(NULL, strstr(s, "sum of squares 2664667000 (expected 2664667000)")) {
		TH_LOG("manager_workers said:\n%s", s);
	}
	/* The process posix_spawn() forked became the (untraced) manager:
	 * its log has valgrind's header and nothing else. */
	{
		const char *p = strstr(s, "manager pid ");
		char path[PATH_MAX], *log = NULL;
		int pid = p ? atoi(p + strlen("manager pid ")) : 0;

		ASSERT_LT(0, pid);
		snprintf(path, sizeof(path), "%s/vg-mgr.%d.log", self->vg.dir, pid);
		ASSERT_EQ(0, helper_read_file(path, &log));
		EXPECT_EQ(NULL, strstr(log, "ERROR SUMMARY")) {
			TH_LOG("%s:\n%s", path, log);
		}
		free(log);
		EXPECT_EQ(0, unlink(path));
	}
	free(s);
	/* The parent and its two workers. */
	EXPECT_EQ(3, vg_check_logs(_metadata, &self->vg, "mgr"));
}

TEST_HARNESS_MAIN

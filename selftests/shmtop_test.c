// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shmtop_test: shmtop(1) against segments this test creates in a private
 * trackerd, with real processes mapping, touching and tracking them.
 *
 *  - batch text (-b): exact sizes, resident bytes after a child touched
 *    pages, a mapping child's pid and bytes (and its disappearance once it
 *    unmapped or was killed), tracking counts, seals, filter, order;
 *  - JSON (--json): parsed by Python's json module (a real parser proves
 *    the escaping), schema keys, the same figures;
 *  - names an older or hostile trackerd could list though a current one
 *    refuses them (a fake trackerd, lib/fake_trackerd.h, sends them):
 *    escaped in text frames and on screen, as \uXXXX in JSON;
 *  - exit codes: 2 for usage and for interactive mode without a terminal,
 *    1 when no trackerd answers (and none is started);
 *  - the interactive screen as a person uses it: shmtop runs in tmux, the
 *    test sends keys (sort, filter, details, help, resize, quit) and reads
 *    the pane back, polling with bounded waits.  Skipped when tmux is
 *    absent (scripts/deps.sh installs it).
 *
 * shmtop is $SEALSHM_TEST_SHMTOP, else ../tools/shmtop beside this binary.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "hostile_names.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define WAIT_MS		10000	/* bound for anything the test waits for */
#define N_FIELDS	11	/* SIZE RES OWNER MODE LIFE TRK MAPS ATTACH SEALS AGE NAME */

enum { F_SIZE, F_RES, F_OWNER, F_MODE, F_LIFE, F_TRK, F_MAPS, F_ATTACH, F_SEALS, F_AGE, F_NAME };

static const char title_line[] =
	"        SIZE          RES OWNER    MODE LIFE   TRK MAPS   ATTACH SEALS       AGE NAME";

/* --- running programs ----------------------------------------------------------- */
struct run {
	int status;		/* exit code (128 + signal) */
	char *out;		/* all of stdout, NUL-terminated (malloc()ed) */
	char err[8192];		/* the start of stderr */
	int out_fd;		/* stdout's memfd, for chaining; -EBADF when not kept */
};

static void run_reset(struct run *run)
{
	free(run->out);
	run->out = NULL;
	run->err[0] = '\0';
	run->status = -1;
	run->out_fd = safe_close(run->out_fd);
}

/*
 * Run @argv (argv[0] a path, or a name found in $PATH) with stdin from
 * @in_fd (or /dev/null), stdout into a memfd and stderr through a pipe
 * read to its end.  @env: "NAME=VALUE" to set, "NAME" to unset, NULL-ended
 * (may be NULL).  With @keep_out, run->out_fd keeps the stdout memfd.
 * Returns 0 or -errno; run->status is the exit code (127: not found).
 */
static int run_argv(struct run *run, const char *const *argv, int in_fd, const char *const *env,
		    bool keep_out)
{
	struct helper_run_opts opts = {
		.in_fd = in_fd >= 0 ? in_fd : 0,
		.in_path = in_fd >= 0 ? NULL : "/dev/null",
		.err = run->err,
		.err_len = sizeof(run->err),
		.env = env,
		.timeout_ms = 60000,
	};
	struct stat st;
	int out;

	run_reset(run);
	out = memfd_create("shmtop_test-stdout", MFD_CLOEXEC);
	if (out < 0)
		return -errno;
	opts.out_fd = out;
	run->status = helper_run(argv[0], argv + 1, &opts, NULL, 0);
	if (run->status < 0) {
		close(out);
		return run->status;
	}

	if (fstat(out, &st) < 0 || !(run->out = malloc((size_t)st.st_size + 1))) {
		close(out);
		return -ENOMEM;
	}
	if (pread(out, run->out, (size_t)st.st_size, 0) != st.st_size) {
		close(out);
		return -EIO;
	}
	run->out[st.st_size] = '\0';
	if (keep_out && lseek(out, 0, SEEK_SET) == 0)
		run->out_fd = out;
	else
		close(out);
	return 0;
}

static int shmtop_path(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TEST_SHMTOP", "../tools/shmtop", buf, len);
}

/* Flatten the last JSON frame on stdin to "key=value" lines (see below);
 * every line must parse, and every object must have exactly the keys of
 * shmtop(1)'s schema ("schema=ok"). */
static const char json_script[] =
	"import json, sys\n"
	"frames = [json.loads(l) for l in sys.stdin.read().split('\\n') if l]\n"
	"print('frames=%d' % len(frames))\n"
	"f = frames[-1]\n"
	"TOP = {'time_ns', 'trackerd', 'names', 'bytes', 'resident', 'sessions', 'connections',\n"
	"       'requests', 'requests_per_sec', 'rate_since_start', 'refused', 'limits',\n"
	"       'caller', 'procs', 'segments'}\n"
	"SEG = {'name', 'size', 'resident', 'uid', 'owner', 'gid', 'mode', 'lifetime',\n"
	"       'n_sessions', 'session_pids', 'mappers', 'n_attaches', 'atime_ns', 'ctime_ns',\n"
	"       'ino', 'seals', 'seal_bits', 'creator_pid'}\n"
	"REF = {'enoent', 'eacces', 'eperm', 'eexist', 'edquot', 'einval', 'proto', 'other'}\n"
	"bad = sorted(TOP ^ set(f))\n"
	"bad += [s['name'] + ':' + k for s in f['segments'] for k in SEG ^ set(s)]\n"
	"bad += ['refused:' + k for k in REF ^ set(f['refused'])]\n"
	"print('schema=' + ('ok' if not bad else 'bad:' + ','.join(bad)))\n"
	"for k in ('names', 'bytes', 'resident', 'sessions', 'connections', 'requests'):\n"
	"    print('%s=%s' % (k, f[k]))\n"
	"print('pid=%d' % f['trackerd']['pid'])\n"
	"print('procs=' + ('null' if f['procs'] is None else 'scanned'))\n"
	"print('order=' + ','.join(s['name'] for s in f['segments']))\n"
	"for s in f['segments']:\n"
	"    p = 'seg.' + s['name'] + '.'\n"
	"    for k in ('size', 'resident', 'n_sessions', 'n_attaches', 'ino', 'mode', 'lifetime',\n"
	"              'creator_pid', 'uid'):\n"
	"        print(p + k + '=' + str(s[k]))\n"
	"    print(p + 'seals=' + ','.join(s['seals']))\n"
	"    print(p + 'session_pids=' + ','.join(map(str, s['session_pids'])))\n"
	"    if s['mappers'] is None:\n"
	"        print(p + 'mappers=null')\n"
	"    else:\n"
	"        print(p + 'mappers=%d' % len(s['mappers']))\n"
	"        for m in s['mappers']:\n"
	"            print(p + 'mapper.%d=%d %s' % (m['pid'], m['bytes'], m['comm']))\n";

/* The value after "@key=" on one of @text's lines, into @buf ("" if none). */
static const char *value_of(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	buf[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(buf, len, "%.*s", (int)strcspn(p + klen + 1, "\n"), p + klen + 1);
			break;
		}
	return buf;
}

/* A table row of a text frame, split: 10 fields, then NAME (the rest). */
struct row {
	char f[N_FIELDS][SEALSHM_NAME_MAX + 1];
};

/* The row of the first frame in @out whose NAME is @name. */
static bool find_row(const char *out, const char *name, struct row *ret)
{
	const char *p = strstr(out, title_line);

	if (!p)
		return false;
	for (p = strchr(p, '\n'); p && p[1] && p[1] != '\n'; p = strchr(p + 1, '\n')) {
		const char *s = p + 1, *eol = strchrnul(s, '\n');
		struct row r;
		int i;

		for (i = 0; i < N_FIELDS - 1; i++) {
			size_t n;

			s += strspn(s, " ");
			n = strcspn(s, " \n");
			if (n == 0 || n > SEALSHM_NAME_MAX)
				break;
			snprintf(r.f[i], sizeof(r.f[i]), "%.*s", (int)n, s);
			s += n;
		}
		if (i < N_FIELDS - 1 || *s != ' ')
			continue;
		s++;
		snprintf(r.f[F_NAME], sizeof(r.f[F_NAME]), "%.*s", (int)(eol - s), s);
		if (!strcmp(r.f[F_NAME], name)) {
			*ret = r;
			return true;
		}
	}
	return false;
}

/* Rows of the first frame, in order, NAMEs joined with ','. */
static void row_order(const char *out, char *buf, size_t len)
{
	const char *p = strstr(out, title_line);
	size_t n = 0;

	buf[0] = '\0';
	if (!p)
		return;
	for (p = strchr(p, '\n'); p && p[1] && p[1] != '\n' && n < len; p = strchr(p + 1, '\n')) {
		const char *eol = strchrnul(p + 1, '\n'), *name = eol;

		while (name > p + 1 && name[-1] != ' ')
			name--;
		n += (size_t)snprintf(buf + n, len - n, "%s%.*s", n ? "," : "", (int)(eol - name),
				      name);
	}
}

static int count_substr(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* --- processes that map and touch segments ----------------------------------------- */
struct child {
	pid_t pid;
	int cmd;	/* write end: commands */
	int ack;	/* read end: answers */
};

#define CHILD_INIT { .pid = 0, .cmd = -EBADF, .ack = -EBADF }

static int child_send(struct child *c, char cmd, char want)
{
	char got = 0;
	struct pollfd pfd = { .fd = c->ack, .events = POLLIN };

	if (cmd && write(c->cmd, &cmd, 1) != 1)
		return -EPIPE;
	if (poll(&pfd, 1, WAIT_MS) != 1 || read(c->ack, &got, 1) != 1)
		return -ETIMEDOUT;
	return got == want ? 0 : -EPROTO;
}

/* Fork a child named @comm that attaches @name (untracked, read-write),
 * says 'r', then obeys: 'u' closes (unmaps) it and says 'c'; EOF: exit. */
static int mapper_start(struct child *c, const char *name, const char *comm)
{
	int cmd[2], ack[2];

	if (pipe2(cmd, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ack, O_CLOEXEC) < 0) {
		close(cmd[0]);
		close(cmd[1]);
		return -errno;
	}
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		c->pid = 0;
		return -errno;
	}
	if (c->pid == 0) {
		SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
		struct sealshm *shm = NULL;
		char k;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)prctl(PR_SET_NAME, comm);
		if (sealshm_attach(name, &o, &shm) < 0 || write(ack[1], "r", 1) != 1)
			_exit(1);
		while (read(cmd[0], &k, 1) == 1) {
			if (k == 'u') {
				sealshm_close(shm);
				shm = NULL;
				if (write(ack[1], "c", 1) != 1)
					_exit(1);
			}
		}
		sealshm_close(shm);
		_exit(0);
	}
	close(cmd[0]);
	close(ack[1]);
	c->cmd = cmd[1];
	c->ack = ack[0];
	return child_send(c, 0, 'r');
}

static void child_destroy(struct child *c)
{
	helper_kill_reap(&c->pid);
	c->cmd = safe_close(c->cmd);
	c->ack = safe_close(c->ack);
}

/* A forked child attaches @name, writes one byte in each page of @pages
 * (page numbers, -1 ends), closes and exits.  Returns its exit code. */
static int touch_pages(const char *name, const int *pages)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
		struct sealshm *shm = NULL;
		long page = sysconf(_SC_PAGESIZE);

		if (sealshm_attach(name, &o, &shm) < 0)
			_exit(1);
		for (int i = 0; pages[i] >= 0; i++)
			((volatile char *)sealshm_buf(shm))[(size_t)pages[i] * page] = 1;
		sealshm_close(shm);
		_exit(0);
	}
	return helper_exit_code(helper_reap(pid, WAIT_MS));
}

/* @name is an executable file in one of $PATH's directories. */
static bool have_prog(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
		if (n && access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* --- the fixture ---------------------------------------------------------------------- */
FIXTURE(shmtop) {
	struct trackerd d;
	struct fake_trackerd fake;	/* in d's temp dir, when a test starts it */
	char fake_sock[160];
	int fds_before;
	char prog[PATH_MAX];
	struct run run;
	struct run py;
	struct child child[2];
	struct sealshm *shm[6];
	char tmux_sock[160];	/* "" until tmux runs */
};

FIXTURE_SETUP(shmtop)
{
	self->run.out_fd = self->py.out_fd = -EBADF;
	self->child[0] = (struct child)CHILD_INIT;
	self->child[1] = (struct child)CHILD_INIT;
	self->fake = (struct fake_trackerd)FAKE_TRACKERD_INIT;
	ASSERT_EQ(0, shmtop_path(self->prog, sizeof(self->prog)));
	ASSERT_EQ(0, access(self->prog, X_OK)) {
		TH_LOG("shmtop not found at %s (build it: make tools)", self->prog);
	}
	ASSERT_EQ(0, unsetenv(SEALSHM_SESSION_ENV));
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
	snprintf(self->fake_sock, sizeof(self->fake_sock), "%s/fake.sock", self->d.dir);
}

FIXTURE_TEARDOWN(shmtop)
{
	if (self->tmux_sock[0]) {
		/* The tmux server is a daemon of its own: stop it, then
		 * its socket goes with the temp dir. */
		(void)run_argv(&self->py, ARGS("tmux", "-S", self->tmux_sock, "kill-server"), -1,
			       NULL, false);
		self->tmux_sock[0] = '\0';
	}
	EXPECT_EQ(0, fake_trackerd_stop(&self->fake));
	child_destroy(&self->child[0]);
	child_destroy(&self->child[1]);
	for (size_t i = 0; i < ELEMENTSOF(self->shm); i++) {
		if (!self->shm[i])
			continue;
		(void)sealshm_unlink(self->shm[i]);
		sealshm_close(self->shm[i]);
	}
	run_reset(&self->run);
	run_reset(&self->py);
	EXPECT_EQ(0, helper_wait_names(0, WAIT_MS));
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* shmtop --socket <ours> @args... into self->run. */
static int shmtop(FIXTURE_DATA(shmtop) *self, const char *const *args)
{
	const char *argv[24];
	int n = 0;

	argv[n++] = self->prog;
	argv[n++] = "--socket";
	argv[n++] = self->d.sock;
	for (int i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run_argv(&self->run, argv, -1, NULL, false);
}

/* shmtop --socket <ours> --json @args..., flattened by json_script into
 * self->py.out.  -ENOENT when python3 is missing. */
static int shmtop_json(FIXTURE_DATA(shmtop) *self, const char *const *args)
{
	static const char *const py_env[] = { "PYTHONIOENCODING=utf-8", NULL };
	const char *argv[24];
	int n = 0, r;

	argv[n++] = self->prog;
	argv[n++] = "--socket";
	argv[n++] = self->d.sock;
	argv[n++] = "--json";
	for (int i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r = run_argv(&self->run, argv, -1, NULL, true);
	if (r < 0)
		return r;
	if (self->run.status != 0)
		return -EIO;
	r = run_argv(&self->py, ARGS("python3", "-c", json_script), self->run.out_fd, py_env,
		     false);
	if (r < 0)
		return r;
	return self->py.status == 127 ? -ENOENT : 0;
}

#define SHMTOP_OK(args)								\
	do {									\
		ASSERT_EQ(0, shmtop(self, args));				\
		ASSERT_EQ(0, self->run.status) {				\
			TH_LOG("shmtop: %s", self->run.err);			\
		}								\
	} while (0)

/* shmtop --json @args, flattened into self->py.out and checked against the
 * schema.  False, with a note, when python3 is missing: the caller leaves
 * its JSON checks out (json_is_valid_and_escaped skips instead). */
static bool json_frame(struct __test_metadata *_metadata, FIXTURE_DATA(shmtop) *self,
		       const char *const *args)
{
	int r = shmtop_json(self, args);

	if (r == -ENOENT) {
		TH_LOG("python3 not found: the JSON output is not checked");
		return false;
	}
	ASSERT_EQ(0, r) {
		TH_LOG("shmtop --json: exit %d: %s", self->run.status, self->run.err);
	}
	ASSERT_EQ(0, self->py.status) {
		TH_LOG("json_script: %s\n%s", self->py.err, self->run.out);
	}
	ASSERT_TRUE(helper_has_line(self->py.out, "schema=ok")) {
		TH_LOG("%s", self->py.out);
	}
	return true;
}

#define JSON(args) json_frame(_metadata, self, args)

static int create(FIXTURE_DATA(shmtop) *self, int slot, const char *name, size_t size,
		  uint32_t flags)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK | flags);

	return sealshm_create(name, size, &o, &self->shm[slot]);
}

/* --- batch text ------------------------------------------------------------------------- */
/* SIZE is the exact byte count of each segment, the header adds them up,
 * and the columns are the documented ones. */
TEST_F(shmtop, batch_shows_exact_sizes)
{
	static const size_t sizes[] = { 1, 4096, 12345, (1 << 20) + 1 };
	static const char *const names[] = { "sz_one", "sz_page", "sz_odd", "sz_mib" };
	size_t total = 0;
	struct row r;
	char want[64];

	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, create(self, i, names[i], sizes[i], 0));
		total += sizes[i];
	}
	SHMTOP_OK(ARGS("-b", "-n", "1"));
	EXPECT_EQ(1, count_substr(self->run.out, "shmtop time "));
	EXPECT_NE(NULL, strstr(self->run.out, title_line)) {
		TH_LOG("%s", self->run.out);
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_TRUE(find_row(self->run.out, names[i], &r)) {
			TH_LOG("no row for %s in:\n%s", names[i], self->run.out);
		}
		snprintf(want, sizeof(want), "%zu", sizes[i]);
		EXPECT_STREQ(want, r.f[F_SIZE]);
		EXPECT_STREQ("0600", r.f[F_MODE]);
		EXPECT_STREQ("first", r.f[F_LIFE]);
		EXPECT_STREQ("0", r.f[F_TRK]);
		EXPECT_STREQ("0", r.f[F_ATTACH]);
		/* The creator (this test) still maps it. */
		EXPECT_STREQ("1", r.f[F_MAPS]);
	}
	snprintf(want, sizeof(want), "totals names 4 bytes %zu ", total);
	EXPECT_NE(NULL, strstr(self->run.out, want)) {
		TH_LOG("%s", self->run.out);
	}
	EXPECT_NE(NULL, strstr(self->run.out, "quota names 4/")) {
		TH_LOG("%s", self->run.out);
	}

	/* -n 3: three frames, each with every row. */
	SHMTOP_OK(ARGS("-b", "-n", "3", "-d", "0.1"));
	EXPECT_EQ(3, count_substr(self->run.out, "shmtop time "));
	EXPECT_EQ(3, count_substr(self->run.out, title_line));
	EXPECT_EQ(3, count_substr(self->run.out, " sz_odd\n"));
	EXPECT_EQ(2, count_substr(self->run.out, " since frame\n"));
}

/* RES is what a child touched: exactly three pages of eight, in the row,
 * the header total and the JSON. */
TEST_F(shmtop, batch_shows_resident_after_child_touches_pages)
{
	static const int pages[] = { 0, 2, 5, -1 };
	long page = sysconf(_SC_PAGESIZE);
	char want[32], v[64];
	struct row r;

	ASSERT_EQ(0, create(self, 0, "res_seg", 8 * (size_t)page, 0));
	SHMTOP_OK(ARGS("-b", "-n", "1"));
	ASSERT_TRUE(find_row(self->run.out, "res_seg", &r));
	EXPECT_STREQ("0", r.f[F_RES]);

	ASSERT_EQ(0, touch_pages("res_seg", pages));
	SHMTOP_OK(ARGS("-b", "-n", "1"));
	ASSERT_TRUE(find_row(self->run.out, "res_seg", &r)) {
		TH_LOG("%s", self->run.out);
	}
	snprintf(want, sizeof(want), "%ld", 3 * page);
	EXPECT_STREQ(want, r.f[F_RES]);
	EXPECT_NE(NULL, strstr(self->run.out, " resident ")) {
		TH_LOG("%s", self->run.out);
	}
	snprintf(v, sizeof(v), " bytes %ld resident %ld ", 8 * page, 3 * page);
	EXPECT_NE(NULL, strstr(self->run.out, v)) {
		TH_LOG("want '%s' in:\n%s", v, self->run.out);
	}

	if (JSON(ARGS("-n", "1"))) {
		EXPECT_STREQ(want, value_of(self->py.out, "seg.res_seg.resident", v, sizeof(v)));
		EXPECT_STREQ(want, value_of(self->py.out, "resident", v, sizeof(v)));
	}
}

/* A child that maps a segment shows with its pid, comm and the page-rounded
 * length of its mapping; it is gone once it unmapped, or was killed. */
TEST_F(shmtop, batch_lists_mapper_pid_and_bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	char key[96], v[128], want[128];
	struct row r;

	/* Three pages and a bit: every process maps four. */
	ASSERT_EQ(0, create(self, 0, "map_seg", 3 * (size_t)page + 100, 0));
	sealshm_close(self->shm[0]);	/* the name stays: untracked */
	self->shm[0] = NULL;
	SHMTOP_OK(ARGS("-b", "-n", "1"));
	ASSERT_TRUE(find_row(self->run.out, "map_seg", &r));
	EXPECT_STREQ("0", r.f[F_MAPS]);

	ASSERT_EQ(0, mapper_start(&self->child[0], "map_seg", "shmtop-map-a"));
	ASSERT_EQ(0, mapper_start(&self->child[1], "map_seg", "shmtop-map-b"));
	SHMTOP_OK(ARGS("-b", "-n", "1"));
	ASSERT_TRUE(find_row(self->run.out, "map_seg", &r));
	EXPECT_STREQ("2", r.f[F_MAPS]);
	EXPECT_NE(NULL, strstr(self->run.out, "mappers processes 2 ")) {
		TH_LOG("%s", self->run.out);
	}

	if (JSON(ARGS("-n", "1"))) {
		EXPECT_STREQ("2", value_of(self->py.out, "seg.map_seg.mappers", v, sizeof(v)));
		for (int i = 0; i < 2; i++) {
			snprintf(key, sizeof(key), "seg.map_seg.mapper.%d",
				 (int)self->child[i].pid);
			snprintf(want, sizeof(want), "%ld shmtop-map-%c", 4 * page, 'a' + i);
			EXPECT_STREQ(want, value_of(self->py.out, key, v, sizeof(v))) {
				TH_LOG("%s", self->py.out);
			}
		}
	}

	/* a unmaps (and lives on), b is killed. */
	ASSERT_EQ(0, child_send(&self->child[0], 'u', 'c'));
	ASSERT_EQ(0, kill(self->child[1].pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, helper_exit_code(helper_reap(self->child[1].pid, WAIT_MS)));
	self->child[1].pid = 0;
	EXPECT_TRUE(helper_pid_alive(self->child[0].pid));
	if (JSON(ARGS("-n", "1"))) {
		EXPECT_STREQ("0", value_of(self->py.out, "seg.map_seg.mappers", v, sizeof(v))) {
			TH_LOG("%s", self->py.out);
		}
	}
	SHMTOP_OK(ARGS("-b", "-n", "1"));
	ASSERT_TRUE(find_row(self->run.out, "map_seg", &r));
	EXPECT_STREQ("0", r.f[F_MAPS]);

	ASSERT_EQ(0, sealshm_unlink_name("map_seg", NULL));
}

/* TRK counts the sessions tracking a name; the JSON names their pids. */
TEST_F(shmtop, batch_counts_tracking_sessions)
{
	struct peer p[2] = { PEER_INIT, PEER_INIT };
	struct sealshm_info info;
	char line[128], v[128], want[64];
	struct row r;

	/* Lifetime "last": the name outlives the first session to end. */
	ASSERT_EQ(0, create(self, 0, "trk_seg", 4096, SEALSHM_LIFETIME_LAST));
	for (int i = 0; i < 2; i++) {
		int pid;

		ASSERT_EQ(0, peer_start(&p[i], ARGS("attach-hold", "trk_seg"), -1, NULL));
		ASSERT_GT(peer_line(&p[i], line, sizeof(line), WAIT_MS), 0);
		ASSERT_EQ(1, sscanf(line, "ready %d", &pid));
	}
	ASSERT_EQ(0, helper_wait_sessions("trk_seg", 2, WAIT_MS, &info));

	SHMTOP_OK(ARGS("-b", "-n", "1"));
	ASSERT_TRUE(find_row(self->run.out, "trk_seg", &r)) {
		TH_LOG("%s", self->run.out);
	}
	EXPECT_STREQ("2", r.f[F_TRK]);
	EXPECT_STREQ("last", r.f[F_LIFE]);
	/* Both peers attached it, and the creator still maps it. */
	EXPECT_STREQ("3", r.f[F_MAPS]);
	/* Tracked attaches are counted, fast ones too (their TRACK). */
	EXPECT_STREQ("2", r.f[F_ATTACH]);
	/* This process's own session (the fixture opens it) and the peers'. */
	EXPECT_NE(NULL, strstr(self->run.out, " sessions 3 ")) {
		TH_LOG("%s", self->run.out);
	}

	if (JSON(ARGS("-n", "1"))) {
		EXPECT_STREQ("2", value_of(self->py.out, "seg.trk_seg.n_sessions", v, sizeof(v)));
		EXPECT_STREQ("last", value_of(self->py.out, "seg.trk_seg.lifetime", v, sizeof(v)));
		value_of(self->py.out, "seg.trk_seg.session_pids", v, sizeof(v));
		/* Oldest first: either peer may have come first. */
		snprintf(want, sizeof(want), "%d,%d", (int)p[0].pid, (int)p[1].pid);
		if (strcmp(v, want))
			snprintf(want, sizeof(want), "%d,%d", (int)p[1].pid, (int)p[0].pid);
		EXPECT_STREQ(want, v);
	}

	EXPECT_EQ(0, peer_finish(&p[0], WAIT_MS));
	ASSERT_EQ(0, helper_wait_sessions("trk_seg", 1, WAIT_MS, &info));
	SHMTOP_OK(ARGS("-b", "-n", "1"));
	ASSERT_TRUE(find_row(self->run.out, "trk_seg", &r));
	EXPECT_STREQ("1", r.f[F_TRK]);
	EXPECT_STREQ("2", r.f[F_MAPS]);
	peer_destroy(&p[1]);
	peer_destroy(&p[0]);
}

/* SEALS shows the publish seals: f for FUTURE_WRITE, w for WRITE, next
 * to the size seals every segment carries. */
TEST_F(shmtop, batch_shows_seals)
{
	char v[128];
	struct row r;

	ASSERT_EQ(0, create(self, 0, "seal_plain", 4096, 0));
	ASSERT_EQ(0, create(self, 1, "seal_future", 4096, 0));
	ASSERT_EQ(0, create(self, 2, "seal_write", 4096, 0));
	ASSERT_EQ(0, sealshm_seal(self->shm[1], SEALSHM_SEAL_FUTURE_WRITE));
	ASSERT_EQ(0, sealshm_seal(self->shm[2], SEALSHM_SEAL_WRITE));

	SHMTOP_OK(ARGS("-b", "-n", "1"));
	ASSERT_TRUE(find_row(self->run.out, "seal_plain", &r));
	/* Letters by position: S s g w f x; exec depends on the kernel. */
	EXPECT_EQ(0, strncmp("-sg--", r.f[F_SEALS], 5)) {
		TH_LOG("seals '%s'", r.f[F_SEALS]);
	}
	ASSERT_TRUE(find_row(self->run.out, "seal_future", &r));
	EXPECT_EQ(0, strncmp("-sg-f", r.f[F_SEALS], 5)) {
		TH_LOG("seals '%s'", r.f[F_SEALS]);
	}
	ASSERT_TRUE(find_row(self->run.out, "seal_write", &r));
	EXPECT_EQ(0, strncmp("-sgw-", r.f[F_SEALS], 5)) {
		TH_LOG("seals '%s'", r.f[F_SEALS]);
	}

	if (!JSON(ARGS("-n", "1")))
		return;
	value_of(self->py.out, "seg.seal_plain.seals", v, sizeof(v));
	EXPECT_EQ(0, strncmp("shrink,grow", v, 11)) {
		TH_LOG("%s", v);
	}
	EXPECT_EQ(NULL, strstr(v, "write"));
	value_of(self->py.out, "seg.seal_future.seals", v, sizeof(v));
	EXPECT_EQ(0, strncmp("shrink,grow,future_write", v, 24)) {
		TH_LOG("%s", v);
	}
	value_of(self->py.out, "seg.seal_write.seals", v, sizeof(v));
	EXPECT_EQ(0, strncmp("shrink,grow,write", v, 17)) {
		TH_LOG("%s", v);
	}
}

/* --filter keeps the names containing the text, in text and JSON; -o and
 * -R order the rows. */
TEST_F(shmtop, batch_filter_and_sort)
{
	char order[512], v[512];
	struct row r;

	ASSERT_EQ(0, create(self, 0, "flt_alpha_1", 3000, 0));
	ASSERT_EQ(0, create(self, 1, "flt_alpha_2", 1000, 0));
	ASSERT_EQ(0, create(self, 2, "flt_beta", 2000, 0));

	SHMTOP_OK(ARGS("-b", "-n", "1", "--filter", "alpha", "--sort", "name"));
	row_order(self->run.out, order, sizeof(order));
	EXPECT_STREQ("flt_alpha_1,flt_alpha_2", order);
	EXPECT_FALSE(find_row(self->run.out, "flt_beta", &r));
	/* The header still counts every name. */
	EXPECT_NE(NULL, strstr(self->run.out, "totals names 3 ")) {
		TH_LOG("%s", self->run.out);
	}

	SHMTOP_OK(ARGS("-b", "-n", "1", "--filter", "nothing-has-this"));
	row_order(self->run.out, order, sizeof(order));
	EXPECT_STREQ("", order);

	SHMTOP_OK(ARGS("-b", "-n", "1", "-o", "size"));
	row_order(self->run.out, order, sizeof(order));
	EXPECT_STREQ("flt_alpha_1,flt_beta,flt_alpha_2", order);
	SHMTOP_OK(ARGS("-b", "-n", "1", "-o", "SIZE", "-R"));
	row_order(self->run.out, order, sizeof(order));
	EXPECT_STREQ("flt_alpha_2,flt_beta,flt_alpha_1", order);
	SHMTOP_OK(ARGS("-b", "-n", "1", "--sort", "name", "--reverse"));
	row_order(self->run.out, order, sizeof(order));
	EXPECT_STREQ("flt_beta,flt_alpha_2,flt_alpha_1", order);

	if (JSON(ARGS("-n", "1", "--filter", "beta"))) {
		EXPECT_STREQ("flt_beta", value_of(self->py.out, "order", v, sizeof(v)));
		EXPECT_STREQ("3", value_of(self->py.out, "names", v, sizeof(v)));
	}
}

/* --no-mappers skips the /proc scan: MAPS is '-', JSON mappers null. */
TEST_F(shmtop, no_mappers_skips_the_scan)
{
	char v[64];
	struct row r;

	ASSERT_EQ(0, create(self, 0, "nomap_seg", 4096, 0));
	SHMTOP_OK(ARGS("-b", "-n", "1", "--no-mappers"));
	ASSERT_TRUE(find_row(self->run.out, "nomap_seg", &r));
	EXPECT_STREQ("-", r.f[F_MAPS]);
	EXPECT_TRUE(helper_has_line(self->run.out, "mappers not-scanned"));
	if (JSON(ARGS("-n", "1", "--no-mappers"))) {
		EXPECT_STREQ("null", value_of(self->py.out, "procs", v, sizeof(v)));
		EXPECT_STREQ("null", value_of(self->py.out, "seg.nomap_seg.mappers", v,
						      sizeof(v)));
	}
}

/* --- JSON ----------------------------------------------------------------------------- */
/* Every frame is one line of valid JSON with the documented keys; a UTF-8
 * name and a comm full of characters JSON must escape come out intact. */
TEST_F(shmtop, json_is_valid_and_escaped)
{
	/* PR_SET_NAME keeps 15 bytes: quote, backslash, tab, control. */
	static const char comm[] = "q\"b\\t\tc\x01z";
	static const char name[] = "json_na\xc3\xafve_\xe2\x82\xac";	/* naïve_€ */
	char key[320], v[512], want[128];

	if (!have_prog("python3"))
		SKIP(return, "python3 not found in PATH: it checks the JSON");
	ASSERT_EQ(0, create(self, 0, name, 5000, 0));
	/* Closed first: the child would inherit our mapping too. */
	sealshm_close(self->shm[0]);
	self->shm[0] = NULL;
	ASSERT_EQ(0, mapper_start(&self->child[0], name, comm));
	ASSERT_TRUE(JSON(ARGS("-n", "2", "-d", "0.1")));
	EXPECT_STREQ("2", value_of(self->py.out, "frames", v, sizeof(v)));
	EXPECT_STREQ("1", value_of(self->py.out, "names", v, sizeof(v)));
	snprintf(want, sizeof(want), "%d", (int)self->d.pid);
	EXPECT_STREQ(want, value_of(self->py.out, "pid", v, sizeof(v)));
	snprintf(key, sizeof(key), "seg.%s.size", name);
	EXPECT_STREQ("5000", value_of(self->py.out, key, v, sizeof(v))) {
		TH_LOG("%s", self->py.out);
	}
	snprintf(key, sizeof(key), "seg.%s.mode", name);
	EXPECT_STREQ("0600", value_of(self->py.out, key, v, sizeof(v)));
	snprintf(key, sizeof(key), "seg.%s.creator_pid", name);
	snprintf(want, sizeof(want), "%d", (int)getpid());
	EXPECT_STREQ(want, value_of(self->py.out, key, v, sizeof(v)));
	snprintf(key, sizeof(key), "seg.%s.mapper.%d", name, (int)self->child[0].pid);
	snprintf(want, sizeof(want), "%ld %s", 2 * sysconf(_SC_PAGESIZE), comm);
	EXPECT_STREQ(want, value_of(self->py.out, key, v, sizeof(v))) {
		TH_LOG("%s", self->py.out);
	}
	/* The raw text has the escapes, not the bytes. */
	EXPECT_NE(NULL, strstr(self->run.out, "\"comm\":\"q\\\"b\\\\t\\tc\\u0001z\"")) {
		TH_LOG("%s", self->run.out);
	}
	EXPECT_EQ(2, count_substr(self->run.out, "\n"));
	ASSERT_EQ(0, sealshm_unlink_name(name, NULL));
}

/* Nothing in @text but printable characters and newlines: no C0 control
 * byte, no DEL. */
static bool no_control_bytes(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			return false;
	return true;
}

/* Names a hostile or older trackerd could list, as a fake trackerd sends
 * them: the text frame shows every character that is no valid name
 * character escaped, never the byte itself; JSON escapes them (\uXXXX,
 * lossless: Python reads the same names back). */
TEST_F(shmtop, hostile_names_show_escaped)
{
	/* Every name but those with bytes that are no UTF-8 (U+FFFD in
	 * JSON) comes back as it was. */
	static const char names_script[] =
		"import json, sys\n"
		"f = json.loads(sys.stdin.read())\n"
		"got = sorted(s['name'] for s in f['segments'] if '\\ufffd' not in s['name'])\n"
		"print(len(f['segments']), got == sorted(sys.argv[1:]))\n";
	static const char *const py_env[] = { "PYTHONUTF8=1", "PYTHONIOENCODING=utf-8", NULL };
	static const char *const env[] = { "SEALSHM_NO_AUTOSTART=1", NULL };
	const char *argv[4 + HOSTILE_NAMES_N] = { "python3", "-c", names_script };
	char want[32];
	size_t n = 3;
	struct row r;

	ASSERT_EQ(0, hostile_names_serve(&self->fake, self->fake_sock));
	ASSERT_EQ(0, run_argv(&self->run, ARGS(self->prog, "--socket", self->fake_sock, "-b", "-n",
					       "1", "--no-mappers"), -1, env, false));
	ASSERT_EQ(0, self->run.status) {
		TH_LOG("shmtop: %s", self->run.err);
	}
	EXPECT_TRUE(no_control_bytes(self->run.out)) {
		TH_LOG("%s", self->run.out);
	}
	for (size_t i = 0; i < HOSTILE_NAMES_N; i++) {
		EXPECT_TRUE(find_row(self->run.out, hostile_names[i].shown, &r)) {
			TH_LOG("no row for '%s' in:\n%s", hostile_names[i].shown,
			       self->run.out);
		}
		if (strcmp(hostile_names[i].name, hostile_names[i].shown))
			EXPECT_EQ(NULL, strstr(self->run.out, hostile_names[i].name));
	}

	ASSERT_EQ(0, run_argv(&self->run, ARGS(self->prog, "--socket", self->fake_sock, "--json",
					       "-n", "1", "--no-mappers"), -1, env, true));
	ASSERT_EQ(0, self->run.status) {
		TH_LOG("shmtop --json: %s", self->run.err);
	}
	EXPECT_TRUE(no_control_bytes(self->run.out));
	for (size_t i = 0; i < HOSTILE_NAMES_N; i++) {
		char key[SEALSHM_NAME_MAX * 6 + 16];

		snprintf(key, sizeof(key), "\"name\":%s,", hostile_names[i].json);
		EXPECT_NE(NULL, strstr(self->run.out, key)) {
			TH_LOG("no %s in:\n%s", key, self->run.out);
		}
	}
	if (!have_prog("python3"))
		SKIP(return, "python3 not found in PATH: the JSON is not parsed");
	for (size_t i = 0; i < HOSTILE_NAMES_N; i++)
		if (!strstr(hostile_names[i].json, "\\ufffd"))
			argv[n++] = hostile_names[i].name;
	argv[n] = NULL;
	ASSERT_EQ(0, run_argv(&self->py, argv, self->run.out_fd, py_env, false));
	snprintf(want, sizeof(want), "%zu True\n", HOSTILE_NAMES_N);
	EXPECT_STREQ(want, self->py.out) {
		TH_LOG("python: %s", self->py.err);
	}
}

/* --- exit codes ------------------------------------------------------------------------- */
/* Usage errors exit 2 with a message; --help and --version exit 0. */
TEST_F(shmtop, usage_errors_exit_2)
{
	const char *const *const bad[] = {
		ARGS("-b", "--no-such-option"),
		ARGS("-b", "-n", "0"),
		ARGS("-b", "-n", "x"),
		ARGS("-b", "-d", "0"),
		ARGS("-b", "-d", "soon"),
		ARGS("-b", "--sort", "colour"),
		ARGS("-b", "extra"),
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		ASSERT_EQ(0, shmtop(self, bad[i]));
		EXPECT_EQ(2, self->run.status) {
			TH_LOG("case %zu: %s", i, self->run.err);
		}
		EXPECT_NE(NULL, strstr(self->run.err, "shmtop")) {
			TH_LOG("case %zu: stderr '%s'", i, self->run.err);
		}
		EXPECT_STREQ("", self->run.out);
	}
	SHMTOP_OK(ARGS("--version"));
	EXPECT_EQ(0, strncmp("shmtop ", self->run.out, 7));
	SHMTOP_OK(ARGS("--help"));
	EXPECT_NE(NULL, strstr(self->run.out, "--json"));
}

/* Interactive mode with stdout on a file or a pipe refuses with exit 2 and
 * says to use -b. */
TEST_F(shmtop, interactive_without_terminal_exits_2)
{
	static const char msg[] =
		"shmtop: standard output is not a terminal; use -b for batch mode\n";
	static const char pipe_script[] =
		"{ \"$0\" --socket \"$1\"; echo \"exit $?\" >&2; } | cat";
	char want[sizeof(msg) + 16];

	ASSERT_EQ(0, shmtop(self, ARGS("-d", "1")));
	EXPECT_EQ(2, self->run.status);
	EXPECT_STREQ(msg, self->run.err);
	EXPECT_STREQ("", self->run.out);

	/* A pipe: the shell prints shmtop's exit status after its message. */
	ASSERT_EQ(0, run_argv(&self->run, ARGS("/bin/sh", "-c", pipe_script, self->prog,
					       self->d.sock), -1, NULL, false));
	EXPECT_EQ(0, self->run.status);
	snprintf(want, sizeof(want), "%sexit 2\n", msg);
	EXPECT_STREQ(want, self->run.err);
	EXPECT_STREQ("", self->run.out);
}

/* No trackerd: exit 1 with a message that says where none answers and
 * how to start one (not "No such file or directory"), and shmtop starts
 * none, even where the library would (autostart allowed, trackerd program
 * known). */
TEST_F(shmtop, no_trackerd_exits_1_and_starts_none)
{
	char sock[256], trackerd[PATH_MAX], env_trackerd[PATH_MAX + 32], env_sock[300];
	const char *const env[] = { "SEALSHM_NO_AUTOSTART", env_trackerd, env_sock, NULL };
	char want[800];

	snprintf(sock, sizeof(sock), "%s/none.sock", self->d.dir);
	ASSERT_EQ(0, helper_trackerd_path(trackerd, sizeof(trackerd)));
	snprintf(env_trackerd, sizeof(env_trackerd), "SEALSHM_TRACKERD=%s", trackerd);
	snprintf(env_sock, sizeof(env_sock), "SEALSHM_SOCKET=%s", sock);

	for (int json = 0; json < 2; json++) {
		ASSERT_EQ(0, run_argv(&self->run, ARGS(self->prog, "-b", "-n", "1",
						       json ? "--json" : "--no-mappers"),
				      -1, env, false));
		EXPECT_EQ(1, self->run.status);
		snprintf(want, sizeof(want), "shmtop: no trackerd answers at %s ($SEALSHM_SOCKET); "
			 "shmtop never starts one (start one there: trackerd --socket %s)\n", sock,
			 sock);
		EXPECT_STREQ(want, self->run.err);
		EXPECT_STREQ("", self->run.out);
	}
	ASSERT_EQ(0, run_argv(&self->run, ARGS(self->prog, "-b", "--socket", sock), -1, env,
			      false));
	EXPECT_EQ(1, self->run.status);
	snprintf(want, sizeof(want), "shmtop: no trackerd answers at %s; shmtop never starts one "
		 "(start one there: trackerd --socket %s)\n", sock, sock);
	EXPECT_STREQ(want, self->run.err);
	EXPECT_EQ(0, helper_find_trackerds(sock, NULL, 0));
	EXPECT_NE(0, access(sock, F_OK));
}

/* --- interactive, in tmux ------------------------------------------------------------------ */
static int tmux(FIXTURE_DATA(shmtop) *self, const char *const *args)
{
	const char *argv[24];
	int n = 0, r;

	argv[n++] = "tmux";
	argv[n++] = "-S";
	argv[n++] = self->tmux_sock;
	for (int i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r = run_argv(&self->py, argv, -1, NULL, false);
	return r < 0 ? r : self->py.status;
}

/* The pane's text, polled until @want appears (and @absent does not, when
 * not NULL) or WAIT_MS pass; the last capture stays in self->py.out. */
static bool pane_shows(FIXTURE_DATA(shmtop) *self, const char *want, const char *absent)
{
	uint64_t end = helper_now_ms() + WAIT_MS;

	for (;;) {
		if (tmux(self, ARGS("capture-pane", "-p", "-t", "shmtop")) == 0 &&
		    strstr(self->py.out, want) && (!absent || !strstr(self->py.out, absent)))
			return true;
		if (helper_now_ms() >= end)
			return false;
		helper_sleep_ms(20);
	}
}

/* Position of @a's first occurrence before @b's in the last capture. */
static bool shown_before(FIXTURE_DATA(shmtop) *self, const char *a, const char *b)
{
	const char *pa = strstr(self->py.out, a), *pb = strstr(self->py.out, b);

	return pa && pb && pa < pb;
}

#define PANE(want, absent)							\
	ASSERT_TRUE(pane_shows(self, want, absent)) {				\
		TH_LOG("waiting for '%s' (without '%s'); pane:\n%s", want,	\
		       (absent) ? (absent) : "", self->py.out);			\
	}

#define KEYS(...)								\
	ASSERT_EQ(0, tmux(self, ARGS("send-keys", "-t", "shmtop", __VA_ARGS__)))

/* The interactive screen, driven by keys as a person would: sort, filter,
 * details (with this process as the mapper), help, a smaller terminal,
 * quit with exit status 0. */
TEST_F_TIMEOUT(shmtop, interactive_screen_in_tmux, 120)
{
	char want[128], exit_file[160], cmd[PATH_MAX + 512];

	if (!have_prog("tmux"))
		SKIP(return, "tmux not found in PATH (scripts/deps.sh installs it)");
	ASSERT_EQ(0, create(self, 0, "tui_small", 4096, 0));
	ASSERT_EQ(0, create(self, 1, "tui_big", 1 << 20, 0));
	ASSERT_EQ(0, create(self, 2, "tui_other", 8192, 0));
	ASSERT_EQ(0, create(self, 3, "tui_zzz", 2048, 0));
	memset(sealshm_buf(self->shm[1]), 1, 1 << 20);	/* resident: sorts first */
	/* The tmux clients this test forks would map the segments too, from
	 * fork to exec, and shmtop would rightly show them. */
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, madvise(sealshm_buf(self->shm[i]), sealshm_size(self->shm[i]),
				     MADV_DONTFORK));

	snprintf(self->tmux_sock, sizeof(self->tmux_sock), "%s/tmux.sock", self->d.dir);
	snprintf(exit_file, sizeof(exit_file), "%s/shmtop.exit", self->d.dir);
	/* A shell records shmtop's exit status: tmux's own #{pane_dead_status}
	 * is not always known yet when the pane is already dead. */
	/* A UTF-8 name, shown as itself under a UTF-8 locale (ncursesw);
	 * unlinked once seen, so the order checks below see four names. */
	ASSERT_EQ(0, create(self, 4, "tui_\u00fcn\u00ef", 512, 0));
	ASSERT_EQ(0, madvise(sealshm_buf(self->shm[4]), sealshm_size(self->shm[4]),
			     MADV_DONTFORK));
	snprintf(cmd, sizeof(cmd), "LC_ALL=C.UTF-8 '%s' --socket '%s'; echo $? > '%s'", self->prog,
		 self->d.sock, exit_file);
	ASSERT_EQ(0, tmux(self, ARGS("-u", "-f", "/dev/null", "new-session", "-d", "-s", "shmtop",
				     "-x", "160", "-y", "40", "/bin/sh", "-c", cmd))) {
		TH_LOG("tmux new-session: %s", self->py.err);
	}

	PANE("tui_\u00fcn\u00ef", NULL);
	ASSERT_EQ(0, sealshm_unlink(self->shm[4]));
	PANE("Names: 4 ", "tui_\u00fcn\u00ef");

	/* The header and the table; default order: resident, biggest first. */
	PANE("tui_zzz", NULL);
	PANE("sort RES v", NULL);
	ASSERT_TRUE(strstr(self->py.out, "SIZE    RES OWNER    MODE LIFE   TRK MAPS ATTACH SEALS"));
	snprintf(want, sizeof(want), "trackerd %d ", (int)self->d.pid);
	EXPECT_NE(NULL, strstr(self->py.out, want));
	EXPECT_NE(NULL, strstr(self->py.out, "Names: 4 "));
	EXPECT_TRUE(shown_before(self, "tui_big", "tui_small"));

	/* n: by name, A to Z. */
	KEYS("n");
	PANE("sort NAME ^", NULL);
	EXPECT_TRUE(shown_before(self, "tui_big", "tui_other"));
	EXPECT_TRUE(shown_before(self, "tui_other", "tui_small"));
	EXPECT_TRUE(shown_before(self, "tui_small", "tui_zzz"));
	/* R: reversed. */
	KEYS("R");
	PANE("sort NAME v", NULL);
	EXPECT_TRUE(shown_before(self, "tui_zzz", "tui_big"));
	/* s: by size, biggest first; '>' moves to the next column (RES). */
	KEYS("s");
	PANE("sort SIZE v", NULL);
	EXPECT_TRUE(shown_before(self, "tui_big", "tui_other"));
	EXPECT_TRUE(shown_before(self, "tui_other", "tui_small"));
	EXPECT_TRUE(shown_before(self, "tui_small", "tui_zzz"));
	KEYS(">");
	PANE("sort RES v", NULL);

	/* /: filter by a name. */
	KEYS("/");
	PANE("Filter: names containing", NULL);
	KEYS("sma", "Enter");
	PANE("filter 'sma'", "tui_big");
	EXPECT_NE(NULL, strstr(self->py.out, "tui_small"));
	EXPECT_EQ(NULL, strstr(self->py.out, "tui_other"));

	/* Enter: details of the selected (only) segment; this process maps it. */
	KEYS("Enter");
	PANE("Segment tui_small", NULL);
	EXPECT_NE(NULL, strstr(self->py.out, "size:        4096 bytes"));
	EXPECT_NE(NULL, strstr(self->py.out, "seals:       shrink,grow"));
	EXPECT_NE(NULL, strstr(self->py.out, "mappers:     1 process, 4096 bytes mapped")) {
		TH_LOG("pane:\n%s", self->py.out);
	}
	snprintf(want, sizeof(want), "%8d  ", (int)getpid());
	EXPECT_NE(NULL, strstr(self->py.out, want)) {
		TH_LOG("no mapper line for pid %d", (int)getpid());
	}
	KEYS("Escape");
	PANE("tui_small", "Segment tui_small");

	/* Clear the filter: an empty filter shows everything again. */
	KEYS("f");
	PANE("Filter: names containing", NULL);
	KEYS("C-u", "Enter");
	PANE("Filter cleared", NULL);
	PANE("tui_big", NULL);

	/* h: help; any key back. */
	KEYS("h");
	PANE("shmtop: keys", NULL);
	EXPECT_NE(NULL, strstr(self->py.out, "quit"));
	KEYS("x");
	PANE("tui_small", "shmtop: keys");

	/* A smaller terminal: the selected last row must stay on screen
	 * (only if shmtop saw KEY_RESIZE and fitted the table to it). */
	KEYS("n");
	PANE("sort NAME ^", NULL);
	KEYS("G");
	ASSERT_EQ(0, tmux(self, ARGS("resize-window", "-t", "shmtop", "-x", "100", "-y", "9")));
	PANE("tui_zzz", "tui_big");

	/* D: interval prompt. */
	KEYS("D");
	PANE("Interval in seconds", NULL);
	KEYS("C-u", "0.5", "Enter");
	PANE("interval 0.5s", NULL);

	/* q: quit, exit status 0. */
	KEYS("q");
	{
		uint64_t end = helper_now_ms() + WAIT_MS;
		char *status = NULL;

		while (helper_read_file(exit_file, &status) < 0 || !strchr(status, '\n')) {
			free(status);
			status = NULL;
			if (helper_now_ms() >= end)
				break;
			helper_sleep_ms(20);
		}
		EXPECT_STREQ("0\n", status ? status : "(no exit status)");
		free(status);
	}
}

/* The screen shows names a hostile trackerd could list (a fake trackerd
 * sends them) escaped as batch mode does, in the table and in the details,
 * instead of a '?' or the character itself; the terminal's title stays as
 * it was. */
TEST_F_TIMEOUT(shmtop, screen_shows_hostile_names_escaped, 60)
{
	if (!have_prog("tmux"))
		SKIP(return, "tmux not found in PATH (scripts/deps.sh installs it)");
	ASSERT_EQ(0, hostile_names_serve(&self->fake, self->fake_sock));
	snprintf(self->tmux_sock, sizeof(self->tmux_sock), "%s/tmux.sock", self->d.dir);
	ASSERT_EQ(0, tmux(self, ARGS("-u", "-f", "/dev/null", "new-session", "-d", "-s", "shmtop",
				     "-x", "160", "-y", "30", "/bin/sh", "-c", "exec env \"$0\" \"$@\"",
				     "SEALSHM_NO_AUTOSTART=1", "LC_ALL=C.UTF-8", self->prog,
				     "--socket", self->fake_sock, "--no-mappers"))) {
		TH_LOG("tmux new-session: %s", self->py.err);
	}
	PANE("Names: ", NULL);
	for (size_t i = 0; i < HOSTILE_NAMES_N; i++) {
		PANE(hostile_names[i].shown, NULL);
	}
	EXPECT_NE(NULL, strstr(self->py.out, "caf\xc3\xa9_")) {
		TH_LOG("pane:\n%s", self->py.out);
	}

	/* n: by name; the first is "back\x41", then "bad\xff\xfeutf8":
	 * down once, Enter: its details, escaped in the title and the name. */
	KEYS("n");
	PANE("sort NAME ^", NULL);
	KEYS("Down", "Enter");
	PANE("Segment bad\\xff\\xfeutf8", NULL);
	EXPECT_NE(NULL, strstr(self->py.out, "name:        bad\\xff\\xfeutf8"));
	KEYS("q");
}

TEST_HARNESS_MAIN

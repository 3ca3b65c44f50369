// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_limits_test: what caps trackerd.  At its fd limit it refuses
 * creates with -EMFILE but still accepts and serves clients, counting a
 * read-only twin it keeps as a second fd; --max-names and
 * --max-names-per-uid cap the registry (-ENOSPC, -EDQUOT) and size the
 * index; bad values are a usage error.
 *
 * Connections: one uid holding all the connections it may (thousands of
 * idle ones, --max-clients-per-uid) leaves a client of another uid served
 * and has its next one closed at once, with few log lines; so it does at
 * a low fd limit too; a connection that sends nothing is closed at the
 * deadline of its first message (--hello-timeout), one that said HELLO in
 * time is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "trackerd_fixture.h"

/* At its fd limit trackerd refuses creates with -EMFILE (and says so in its
 * log) but keeps fds for clients: new connections are accepted and
 * served, names attach, and unlinking makes room again.  trackerd runs
 * under a hard limit of 300 fds (prlimit), without CAP_SYS_RESOURCE
 * (setpriv, when we are root) so it cannot raise it. */
TEST_F_TIMEOUT(trackerd, fd_limit_refuses_creates_not_clients, 60)
{
	const char *root_wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", "/usr/bin/setpriv",
				    "--bounding-set=-sys_resource", "--inh-caps=-sys_resource",
				    NULL };
	const char *user_wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	char name[32];
	int n = 0, r = 0, sock, fd, conns[20];

	if (access("/usr/bin/prlimit", X_OK) < 0 ||
	    (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) < 0))
		SKIP(return, "needs prlimit (and setpriv as root), util-linux");
	ASSERT_EQ(0, trackerd_prepare(&d));
	ASSERT_EQ(0, trackerd_spawn_wrapped(&d, geteuid() == 0 ? root_wrap : user_wrap, NULL,
					    5000));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);

	for (n = 0; n < 300; n++) {
		snprintf(name, sizeof(name), "fd_%d", n);
		r = raw_create_tracked(_metadata, sock, name, 0, NULL);
		if (r < 0)
			break;
	}
	EXPECT_EQ(-EMFILE, r);
	/* Names got about half of 300 (limits.h), no fewer than 100. */
	EXPECT_GE(n, 100);
	EXPECT_LE(n, 150);
	EXPECT_TRUE(trackerd_log_has_line(&d, 2000, "refused create", "RLIMIT_NOFILE", NULL));

	/* Clients still connect and are served. */
	for (int i = 0; i < 20; i++) {
		conns[i] = raw_client(d.sock, NULL);
		EXPECT_GE(conns[i], 0);
		if (conns[i] >= 0)
			EXPECT_TRUE(raw_list_works(conns[i]));
	}
	for (int i = 0; i < 20; i++)
		safe_close(conns[i]);
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_ATTACH, "fd_0", SEALSHM_PROTO_RDONLY, &reply,
				   sizeof(reply), &fd));
	EXPECT_GE(fd, 0);
	safe_close(fd);

	/* Room again after an unlink. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "fd_0", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "fd_again", 0, NULL));
	EXPECT_TRUE(helper_pid_alive(d.pid));

	safe_close(sock);
	if (!_metadata->passed) {
		char *log = trackerd_log(&d);

		TH_LOG("trackerd log:\n%s", log);
		free(log);
	}
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);
}

/* A name whose read-only twin trackerd keeps holds two of its fds, and
 * counts as two against the fd limit: under the same hard limit of 300
 * (see above), half as many such names fit, -EMFILE says so, unlinking
 * closes both fds, and read-only attaches get the twin.  The memfds' mode
 * is 0, so that trackerd (root without capabilities) may not reopen them
 * and keeps the twins that we (root with CAP_DAC_OVERRIDE) could make. */
TEST_F_TIMEOUT(trackerd, fd_limit_counts_read_only_twins, 60)
{
	const char *wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", "/usr/bin/setpriv",
			       "--bounding-set=-sys_resource", "--inh-caps=-sys_resource", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	char name[32];
	int n, r = 0, sock, fd, base;

	if (geteuid() != 0)
		SKIP(return, "a twin trackerd may not reopen takes root to make");
	if (access("/usr/bin/prlimit", X_OK) < 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP(return, "needs prlimit and setpriv, util-linux");
	ASSERT_EQ(0, trackerd_prepare(&d));
	ASSERT_EQ(0, trackerd_spawn_wrapped(&d, wrap, NULL, 5000));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	base = helper_count_fds(d.pid);
	ASSERT_GT(base, 0);

	for (n = 0; n < 300; n++) {
		int fds[2] = { helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW), -EBADF };

		ASSERT_GE(fds[0], 0);
		ASSERT_EQ(0, fchmod(fds[0], 0));
		fds[1] = reopen_fd(fds[0], O_RDONLY);
		ASSERT_GE(fds[1], 0);
		snprintf(name, sizeof(name), "twin_%d", n);
		r = raw_create(_metadata, sock, name, 64, 0400, 0, fds, 2);
		close(fds[0]);
		close(fds[1]);
		if (r < 0)
			break;
	}
	EXPECT_EQ(-EMFILE, r);
	/* Names got about half of 300 fds (limits.h), two each. */
	EXPECT_GE(n, 50);
	EXPECT_LE(n, 75);
	/* Waited for: the refused message's fds close after its reply left. */
	EXPECT_EQ(base + 2 * n, helper_wait_fds(d.pid, base + 2 * n, 3000));
	EXPECT_TRUE(trackerd_log_has_line(&d, 2000, "refused create", "RLIMIT_NOFILE", NULL));

	/* Read-only attaches are served with the twin: trackerd may not
	 * reopen the memfd. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_ATTACH, "twin_0", SEALSHM_PROTO_RDONLY,
				   &reply, sizeof(reply), &fd));
	EXPECT_GE(fd, 0);
	if (fd >= 0)
		EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	safe_close(fd);

	/* Unlinking closes both fds, and makes room for one more. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "twin_0", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(base + 2 * (n - 1), helper_wait_fds(d.pid, base + 2 * (n - 1), 3000));
	{
		int fds[2] = { helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW), -EBADF };

		ASSERT_GE(fds[0], 0);
		ASSERT_EQ(0, fchmod(fds[0], 0));
		fds[1] = reopen_fd(fds[0], O_RDONLY);
		EXPECT_EQ(0, raw_create(_metadata, sock, "twin_again", 64, 0400, 0, fds, 2));
		close(fds[0]);
		safe_close(fds[1]);
	}
	EXPECT_TRUE(helper_pid_alive(d.pid));

	safe_close(sock);
	EXPECT_TRACKERD_STOPS(&d);
}

/* --max-names and --max-names-per-uid cap the registry (-ENOSPC, -EDQUOT)
 * and size the index; bad values are a usage error (exit 2). */
TEST(max_names_options)
{
	const char *opts[] = { "--max-names", "3", "--max-names-per-uid", "2", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	const struct helper_run_opts quiet = { .err_path = "/dev/null" };
	struct idx x;
	char prog[PATH_MAX];
	int sock;

	ASSERT_EQ(0, trackerd_start(&d, opts));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	ASSERT_EQ(0, raw_index(sock, &x));
	EXPECT_EQ(3, ((const struct sealshm_index_header *)x.map)->capacity);
	idx_close(&x);
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_1", 0, NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_2", 0, NULL));
	EXPECT_EQ(-EDQUOT, raw_create_tracked(_metadata, sock, "cap_3", 0, NULL));
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "cap_1", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "cap_2", 0, &reply, sizeof(reply),
				   NULL));
	safe_close(sock);
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);

	ASSERT_EQ(0, trackerd_start(&d, (const char *[]){ "--max-names", "2", NULL }));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_1", 0, NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_2", 0, NULL));
	EXPECT_EQ(-ENOSPC, raw_create_tracked(_metadata, sock, "cap_3", 0, NULL));
	safe_close(sock);
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);

	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	for (int i = 0; i < 3; i++) {
		const char *bad[] = { "0", "-1", "99999999999" };

		EXPECT_EQ(2, helper_run(prog, (const char *const[]){ "--foreground", "--socket",
					"/nonexistent/x", "--max-names", bad[i], NULL },
					&quiet, NULL, 0));
	}
}

/* --- connections ---------------------------------------------------------- */

#define NOBODY 65534

/* trackerd's defaults (limits.h): --max-clients 1024, of which one uid may
 * hold three quarters; a first message within 2 s. */
#define MAX_CLIENTS_PER_UID	768
#define FIRST_MESSAGE_MS	2000

/* How long a hog waits for trackerd to answer or close all its
 * connections. */
#define HOG_WAIT_MS		20000

/* What a hog's connections came to. */
struct hog_counts {
	int served;		/* HELLO answered */
	int refused;		/* closed by trackerd unanswered (EOF, reset) */
	int other;		/* a failed connect, a bad reply, no answer in time */
};

/* A process of our uid holding connections to a trackerd: each sends HELLO
 * at once and is kept, answered or not, until hog_stop(). */
struct hog {
	pid_t pid;		/* 0: none */
	int report;		/* read end: its struct hog_counts */
	int hold;		/* write end: closing it lets the hog go */
};

#define HOG_INIT { .pid = 0, .report = -EBADF, .hold = -EBADF }

/* The hog's body: @n connections to @path, each sending HELLO without
 * waiting; then every answer (or close) read, the counts written to
 * @report, and everything held until @hold ends.  Returns its exit code. */
static int hog_run(const char *path, int n, int report, int hold)
{
	struct sealshm_msg_hello hello = {
		.hdr = { .type = SEALSHM_MSG_HELLO, .size = sizeof(hello), .seq = 1 },
		.magic = SEALSHM_PROTO_MAGIC,
		.version = SEALSHM_PROTO_VERSION,
	};
	struct hog_counts c = { 0 };
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int *fds = calloc((size_t)n, sizeof(*fds));
	int left = 0;
	uint64_t end;
	char b;

	if (!p || !fds || helper_raise_nofile((unsigned int)n + 64) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		fds[i] = raw_connect(path);
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (fds[i] < 0) {
			c.other++;
			continue;
		}
		/* Refused already, it may fail (EPIPE): the read says so. */
		(void)send(fds[i], &hello, sizeof(hello), MSG_NOSIGNAL);
		left++;
	}
	end = helper_now_ms() + HOG_WAIT_MS;
	while (left > 0 && helper_now_ms() < end) {
		if (poll(p, (nfds_t)n, 100) < 0 && errno != EINTR)
			return 2;
		for (int i = 0; i < n; i++) {
			struct sealshm_msg_hello_reply rep;
			ssize_t k;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			k = recv(p[i].fd, &rep, sizeof(rep), MSG_DONTWAIT);
			if (k < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (k == (ssize_t)sizeof(rep) && rep.hdr.status == 0)
				c.served++;
			else if (k == 0 || (k < 0 && errno == ECONNRESET))
				c.refused++;
			else
				c.other++;
			p[i].fd = -1;	/* poll() skips it; fds[i] stays open */
			left--;
		}
	}
	c.other += left;
	if (write(report, &c, sizeof(c)) != (ssize_t)sizeof(c))
		return 3;
	while (read(hold, &b, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* Start a hog of @n connections to @path. */
static int hog_start(struct hog *h, const char *path, int n)
{
	int rp[2], hp[2];
	pid_t pid;

	if (pipe2(rp, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(hp, O_CLOEXEC) < 0) {
		close(rp[0]);
		close(rp[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		close(rp[0]);
		close(rp[1]);
		close(hp[0]);
		close(hp[1]);
		return -errno;
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(rp[0]);
		close(hp[1]);
		_exit(hog_run(path, n, rp[1], hp[0]));
	}
	close(rp[1]);
	close(hp[0]);
	*h = (struct hog){ .pid = pid, .report = rp[0], .hold = hp[1] };
	return 0;
}

/* The hog's counts, once it has them (it reads every answer first). */
static int hog_counts(struct hog *h, struct hog_counts *ret)
{
	struct pollfd p = { .fd = h->report, .events = POLLIN };
	ssize_t k;

	if (poll(&p, 1, HOG_WAIT_MS + 30000) <= 0)
		return -ETIMEDOUT;
	k = read(h->report, ret, sizeof(*ret));
	return k == (ssize_t)sizeof(*ret) ? 0 : -EIO;
}

/* Let the hog go (its connections with it) and reap it.  Returns its exit
 * code, 0 when there was none. */
static int hog_stop(struct hog *h)
{
	int code = 0;

	h->hold = safe_close(h->hold);
	if (h->pid > 0)
		code = helper_exit_code(helper_reap(h->pid, 10000));
	h->pid = 0;
	h->report = safe_close(h->report);
	return code;
}

/* Refusals over --max-clients-per-uid that trackerd's log accounts for: a
 * line each for those logged in full, and the count of each burst line
 * ("refused N more connections ..."). */
static long refusals_logged(const struct trackerd *d)
{
	char *log = trackerd_log(d);
	long n = 0;

	for (char *line = log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		long more;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strstr(line, "refused ") || !strstr(line, "(--max-clients-per-uid)"))
			continue;
		if (sscanf(strstr(line, "refused "), "refused %ld more connections", &more) == 1)
			n += more;
		else
			n++;
	}
	free(log);
	return n;
}

/* Wait up to @timeout_ms for the log to account for @want refusals over
 * --max-clients-per-uid (a burst's count comes at its end).  Returns the
 * last sum seen. */
static long wait_refusals_logged(const struct trackerd *d, long want, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;
	long n;

	while ((n = refusals_logged(d)) < want && helper_now_ms() < end)
		helper_sleep_ms(50);
	return n;
}

/* True when @sock is closed by its peer within @timeout_ms: EOF or a
 * reset, no message. */
static bool closed_within(int sock, unsigned int timeout_ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char buf[SEALSHM_PROTO_MSG_MAX];
	ssize_t n;

	if (poll(&p, 1, (int)timeout_ms) <= 0)
		return false;
	n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* In a child of another uid: the library connects, says HELLO, creates,
 * attaches (seeing the creator's byte) and unlinks. */
static int other_uid_served(void)
{
	struct sealshm *a = NULL, *b = NULL;
	char name[64];

	snprintf(name, sizeof(name), "other_uid_%d", (int)getpid());
	CHILD_CHECK(1, sealshm_create(name, 4096, NULL, &a) == 0);
	((char *)sealshm_buf(a))[9] = 'o';
	CHILD_CHECK(2, sealshm_attach(name, NULL, &b) == 0);
	CHILD_CHECK(3, ((char *)sealshm_buf(b))[9] == 'o');
	CHILD_CHECK(4, sealshm_unlink(a) == 0);
	sealshm_close(a);
	sealshm_close(b);
	return 0;
}

/* In a child of our uid, with no connection of its own yet: the library
 * is refused (the connection closed unanswered), it does not hang. */
static int same_uid_refused(const void *arg)
{
	struct sealshm_info *infos = NULL;
	int r = sealshm_registry_list(NULL, &infos);

	(void)arg;
	free(infos);
	if (r >= 0) {
		fprintf(stderr, "# a client past its uid's share was served\n");
		return 1;
	}
	fprintf(stderr, "# the library past its uid's share: %s\n", strerror(-r));
	return 0;
}

/* Connect to @path and say HELLO: the reply's length, or 0 / -ECONNRESET /
 * -EPIPE when trackerd closed the connection instead, or -EAGAIN when
 * nothing came within HELPER_IO_TIMEOUT_MS. */
static ssize_t connect_hello(const char *path, int *ret_sock)
{
	struct sealshm_msg_hello_reply rep;

	*ret_sock = raw_connect(path);
	if (*ret_sock < 0)
		return *ret_sock;
	return raw_hello_with(*ret_sock, SEALSHM_PROTO_MAGIC, SEALSHM_PROTO_VERSION, &rep);
}

/* A connection trackerd closed at once: HELLO gets no reply, the end of
 * the stream comes instead. */
static bool refused(ssize_t hello)
{
	return hello == 0 || hello == -ECONNRESET || hello == -EPIPE;
}

/* The trackerd a test starts, our fds, and what the test holds. */
FIXTURE(clients) {
	struct trackerd d;
	struct hog hog;
	int socks[4];
	int fds_before;
};

FIXTURE_SETUP(clients)
{
	memset(&self->d, 0, sizeof(self->d));
	self->hog = (struct hog)HOG_INIT;
	for (int i = 0; i < 4; i++)
		self->socks[i] = -EBADF;
	self->fds_before = helper_count_fds(0);
	ASSERT_GT(self->fds_before, 0);
}

FIXTURE_TEARDOWN(clients)
{
	EXPECT_EQ(0, hog_stop(&self->hog));
	for (int i = 0; i < 4; i++)
		self->socks[i] = safe_close(self->socks[i]);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	if (self->d.dir[0])
		EXPECT_TRACKERD_STOPS(&self->d);
}

/* Start trackerd with @extra (under @wrap when not NULL) where another uid
 * can reach it, and point the library at it (opening nothing). */
static int clients_trackerd(struct trackerd *d, const char *const *wrap,
			    const char *const *extra)
{
	int r = trackerd_prepare(d);

	if (r < 0)
		return r;
	r = trackerd_spawn_wrapped(d, wrap, extra, 5000);
	if (r < 0)
		return r;
	if (chmod(d->dir, 0755) < 0 || chmod(d->sock, 0666) < 0)
		return -errno;
	return trackerd_use(d);
}

/* 2000 idle connections of one uid (each said HELLO, then nothing): the
 * uid gets its share, three quarters of --max-clients, and the rest are
 * closed at once, with a few log lines that account for every one of
 * them; a client of another uid is still served; one more of the same uid
 * is closed at once (not left waiting), the library's too; when the hog
 * goes, so do trackerd's fds for it. */
TEST_F_TIMEOUT(clients, one_uid_leaves_room_for_others, 90)
{
	struct hog_counts c = { -1, -1, -1 };
	char needle[64];
	ssize_t hello;
	int base, lines;
	uint64_t t0;

	if (geteuid() != 0)
		SKIP(return, "a client of another uid needs root");
	ASSERT_EQ(0, clients_trackerd(&self->d, NULL, NULL));
	base = helper_count_fds(self->d.pid);
	ASSERT_GT(base, 0);

	ASSERT_EQ(0, hog_start(&self->hog, self->d.sock, 2000));
	ASSERT_EQ(0, hog_counts(&self->hog, &c));
	EXPECT_EQ(MAX_CLIENTS_PER_UID, c.served);
	EXPECT_EQ(2000 - MAX_CLIENTS_PER_UID, c.refused);
	EXPECT_EQ(0, c.other);
	snprintf(needle, sizeof(needle), "refused connection from pid %d (uid %u)",
		 (int)self->hog.pid, (unsigned)geteuid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, needle, "(--max-clients-per-uid)",
					  NULL));

	/* Another uid: the quarter left is its. */
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_served));

	/* Ours: past our share, closed at once. */
	t0 = helper_now_ms();
	hello = connect_hello(self->d.sock, &self->socks[0]);
	EXPECT_TRUE(refused(hello)) {
		TH_LOG("HELLO past the share: %zd", hello);
	}
	TH_LOG("refused in %llu ms", (unsigned long long)(helper_now_ms() - t0));
	snprintf(needle, sizeof(needle), "pid %d (uid %u)", (int)getpid(), (unsigned)geteuid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 3 * 5000, needle, "(--max-clients-per-uid)",
					  NULL));
	/* Every refusal accounted for, in a handful of lines (a full one
	 * per burst of 5 s, and the burst's count at its end). */
	EXPECT_EQ(2000 - MAX_CLIENTS_PER_UID + 1,
		  wait_refusals_logged(&self->d, 2000 - MAX_CLIENTS_PER_UID + 1, 3 * 5000));
	lines = trackerd_log_count(&self->d, "refused ", "(--max-clients-per-uid)", NULL);
	EXPECT_GE(8, lines);
	TH_LOG("%d refusals in %d log lines", 2000 - MAX_CLIENTS_PER_UID + 1, lines);
	EXPECT_EQ(0, run_child(same_uid_refused, NULL, 20000));

	/* The hog goes, and trackerd's fds for it. */
	EXPECT_EQ(0, hog_stop(&self->hog));
	EXPECT_EQ(base, helper_wait_fds(self->d.pid, base, 10000));
}

/* At a low fd limit (300, trackerd without CAP_SYS_RESOURCE as in
 * fd_limit_refuses_creates_not_clients), trackerd serves as many
 * connections as its fds keep room for, and one uid's share of them:
 * names get 150 fds, clients the other 150, (150 - 64) / 2 = 43
 * connections (limits.h), 43 * 768 / 1024 = 32 for one uid.  So one uid
 * opening 300 connections gets 32, and another uid is still served
 * (without it, accept() ran out of fds for everyone). */
TEST_F_TIMEOUT(clients, fd_limit_keeps_room_for_others, 90)
{
	const char *wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", "/usr/bin/setpriv",
			       "--bounding-set=-sys_resource", "--inh-caps=-sys_resource", NULL };
	struct hog_counts c = { -1, -1, -1 };

	if (geteuid() != 0)
		SKIP(return, "a client of another uid needs root");
	if (access("/usr/bin/prlimit", X_OK) < 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP(return, "needs prlimit and setpriv, util-linux");
	ASSERT_EQ(0, clients_trackerd(&self->d, wrap, NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "fd limit 300: room for 43 connections, "
					  "32 per uid (--max-clients 1024)", NULL));

	ASSERT_EQ(0, hog_start(&self->hog, self->d.sock, 300));
	ASSERT_EQ(0, hog_counts(&self->hog, &c));
	EXPECT_EQ(32, c.served);
	EXPECT_EQ(300 - 32, c.refused);
	EXPECT_EQ(0, c.other);
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_served));
	EXPECT_TRUE(helper_pid_alive(self->d.pid));
}

/* A connection that sends nothing is closed once its first message is
 * late (2 s after it was accepted, by default), never sooner, with a log
 * line; one that said HELLO in time stays, however long it then idles. */
TEST_F_TIMEOUT(clients, silent_connection_closed_at_deadline, 60)
{
	uint64_t t0, ms;
	int base;

	ASSERT_EQ(0, clients_trackerd(&self->d, NULL, NULL));
	base = helper_count_fds(self->d.pid);
	ASSERT_GT(base, 0);

	t0 = helper_now_ms();
	self->socks[0] = raw_connect(self->d.sock);
	ASSERT_GE(self->socks[0], 0);
	self->socks[1] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->socks[1], 0);
	EXPECT_TRUE(closed_within(self->socks[0], FIRST_MESSAGE_MS + 10000));
	ms = helper_now_ms() - t0;
	EXPECT_LE(FIRST_MESSAGE_MS, ms);
	TH_LOG("silent connection closed after %llu ms", (unsigned long long)ms);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "closing connection", "nothing received "
					  "within 2000 ms (--hello-timeout)", NULL));

	/* Past the deadline, the greeted one is served, and the only
	 * connection trackerd holds. */
	EXPECT_TRUE(raw_list_works(self->socks[1]));
	EXPECT_EQ(base + 1, helper_wait_fds(self->d.pid, base + 1, 5000));
}

/* --max-clients-per-uid and --hello-timeout: a bad value is a usage error
 * (exit 2) naming the option; --help names both; good values apply: with
 * 2 per uid a third connection of ours is closed at once, and with a
 * deadline of a minute a silent connection is still open after the
 * default's 2 s. */
TEST_F_TIMEOUT(clients, options, 60)
{
	static const char *const bad[][2] = {
		{ "--max-clients-per-uid", "0" }, { "--max-clients-per-uid", "-1" },
		{ "--max-clients-per-uid", "1048577" }, { "--max-clients-per-uid", "two" },
		{ "--max-clients-per-uid", "" }, { "--hello-timeout", "0" },
		{ "--hello-timeout", "-1" }, { "--hello-timeout", "3600001" },
		{ "--hello-timeout", "2s" }, { "--hello-timeout", "" },
	};
	const char *extra[] = { "--max-clients", "8", "--max-clients-per-uid", "2",
				"--hello-timeout", "60000", NULL };
	char prog[PATH_MAX], out[4096], err[512], want[64];
	struct pollfd p;
	int base;

	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct helper_run_opts o = { .err = err, .err_len = sizeof(err) };

		EXPECT_EQ(2, helper_run(prog, (const char *const[]){ "--foreground", "--socket",
					"/nonexistent/x", bad[i][0], bad[i][1], NULL },
					&o, NULL, 0)) {
			TH_LOG("%s '%s'", bad[i][0], bad[i][1]);
		}
		snprintf(want, sizeof(want), "invalid %s '%s'", bad[i][0], bad[i][1]);
		EXPECT_NE(NULL, strstr(err, want)) {
			TH_LOG("stderr: %s", err);
		}
	}
	EXPECT_EQ(0, helper_run(prog, (const char *const[]){ "--help", NULL }, NULL, out,
				sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "--max-clients-per-uid N"));
	EXPECT_NE(NULL, strstr(out, "--hello-timeout MS"));

	ASSERT_EQ(0, clients_trackerd(&self->d, NULL, extra));
	base = helper_count_fds(self->d.pid);
	ASSERT_GT(base, 0);
	for (int i = 0; i < 2; i++) {
		self->socks[i] = raw_client(self->d.sock, NULL);
		ASSERT_GE(self->socks[i], 0);
	}
	EXPECT_TRUE(refused(connect_hello(self->d.sock, &self->socks[2])));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "holds 2 connections already "
					  "(--max-clients-per-uid)", NULL));
	self->socks[2] = safe_close(self->socks[2]);

	/* Silent, and left open past 2 s (in the room the second one
	 * leaves, once trackerd has seen it go). */
	self->socks[1] = safe_close(self->socks[1]);
	ASSERT_EQ(base + 1, helper_wait_fds(self->d.pid, base + 1, 5000));
	self->socks[3] = raw_connect(self->d.sock);
	ASSERT_GE(self->socks[3], 0);
	p = (struct pollfd){ .fd = self->socks[3], .events = POLLIN };
	EXPECT_EQ(0, poll(&p, 1, FIRST_MESSAGE_MS + 1000));
	EXPECT_TRUE(raw_list_works(self->socks[0]));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd's privileges and limits, read from the outside: its
 * /proc/<pid>/status (capabilities, no_new_privs, seccomp), the owner and
 * mode of its socket, and what a client gets past --max-bytes-per-uid and
 * --max-clients.
 *
 * What is not here: a test that a syscall off the allow-list kills
 * trackerd. No request makes trackerd do something it never does, and a
 * hidden "make a forbidden syscall" option would be a hole of its own. The
 * kill is proven by the filter being loaded (Seccomp: 2, one filter) with
 * the kill default in this build, and by the whole suite passing with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

/* The value of "@key:" in /proc/@pid/status, as a string (up to @len - 1
 * bytes, leading blanks skipped). 0 or -errno (-ENOENT: no such line). */
static int status_field(pid_t pid, const char *key, char *buf, size_t len)
{
	char path[64], *status = NULL, *line;
	size_t klen = strlen(key);
	int r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = helper_read_file(path, &status);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (line = status; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		line += klen + 1;
		line += strspn(line, " \t");
		snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
		r = 0;
		break;
	}
	free(status);
	return r;
}

/* The status field @key as a hexadecimal (Cap*) or decimal number. */
static long long status_num(pid_t pid, const char *key, int base)
{
	char buf[128];
	int r = status_field(pid, key, buf, sizeof(buf));

	if (r < 0)
		return r;
	return strtoll(buf, NULL, base);
}

/* Did we start trackerd with the power to empty its bounding set? */
static bool we_have_setpcap(void)
{
	/* CAP_SETPCAP is capability 8. */
	return (status_num(getpid(), "CapEff", 16) >> 8) & 1;
}

FIXTURE(sandbox) {
	struct trackerd d;
	int raw[3];
	int fds_before;
};

FIXTURE_SETUP(sandbox)
{
	for (int i = 0; i < 3; i++)
		self->raw[i] = -EBADF;
	self->d.pid = 0;
	self->d.dir[0] = '\0';
	self->fds_before = helper_count_fds(0);
}

FIXTURE_TEARDOWN(sandbox)
{
	for (int i = 0; i < 3; i++)
		self->raw[i] = safe_close(self->raw[i]);
	trackerd_cleanup(&self->d);
}

/* Default start: no capability left, bounding set empty when we could
 * empty it, no_new_privs, one seccomp filter. */
TEST_F(sandbox, status_shows_no_caps_nnp_and_filter)
{
	pid_t pid;

	ASSERT_EQ(0, trackerd_start(&self->d, NULL));
	pid = self->d.pid;
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "sandbox: no capabilities", NULL));
	EXPECT_EQ(0, status_num(pid, "CapInh", 16));
	EXPECT_EQ(0, status_num(pid, "CapPrm", 16));
	EXPECT_EQ(0, status_num(pid, "CapEff", 16));
	EXPECT_EQ(0, status_num(pid, "CapAmb", 16));
	if (we_have_setpcap()) {
		EXPECT_EQ(0, status_num(pid, "CapBnd", 16));
	} else {
		TH_LOG("not started with CAP_SETPCAP: CapBnd stays as it was");
	}
	EXPECT_EQ(1, status_num(pid, "NoNewPrivs", 10));
	EXPECT_EQ(2, status_num(pid, "Seccomp", 10));
	/* Seccomp_filters is Linux 5.9. */
	if (status_num(pid, "Seccomp_filters", 10) != -ENOENT) {
		EXPECT_EQ(1, status_num(pid, "Seccomp_filters", 10));
	}
	/* And it serves, filter and all. */
	ASSERT_GT(trackerd_connect(&self->d), 0);
}

/* --seccomp=off: no filter, the rest of the sandbox stays. */
TEST_F(sandbox, seccomp_off_has_no_filter)
{
	ASSERT_EQ(0, trackerd_start(&self->d, (const char *const[]){ "--seccomp=off", NULL }));
	EXPECT_EQ(0, status_num(self->d.pid, "Seccomp", 10));
	EXPECT_EQ(1, status_num(self->d.pid, "NoNewPrivs", 10));
	EXPECT_EQ(0, status_num(self->d.pid, "CapEff", 16));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "seccomp off", NULL));
}

/* --seccomp=kill and =log both load a filter; a bad value is a usage
 * error (exit 2), never a trackerd without one. */
TEST_F(sandbox, seccomp_modes_parse)
{
	ASSERT_EQ(0, trackerd_start(&self->d, (const char *const[]){ "--seccomp=log", NULL }));
	EXPECT_EQ(2, status_num(self->d.pid, "Seccomp", 10));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "seccomp log", NULL));
	EXPECT_EQ(0, trackerd_stop(&self->d));
	ASSERT_EQ(0, trackerd_spawn(&self->d, (const char *const[]){ helper_seccomp_arg(), NULL }));
	EXPECT_EQ(2, status_num(self->d.pid, "Seccomp", 10));
	EXPECT_EQ(0, trackerd_stop(&self->d));
	EXPECT_EQ(-ECHILD, trackerd_spawn(&self->d, (const char *const[]){ "--seccomp=maybe", NULL }));
}

/* The whole life of a name, and a clean SIGTERM exit (socket unlinked),
 * under the kill filter: the exit path is on the list too. */
TEST_F(sandbox, serves_and_exits_cleanly_under_kill_filter)
{
	struct sealshm *a = NULL, *b = NULL;
	struct stat st;

	ASSERT_EQ(0, trackerd_start(&self->d, (const char *const[]){ helper_seccomp_arg(), NULL }));
	ASSERT_GT(trackerd_connect(&self->d), 0);
	ASSERT_EQ(0, sealshm_create("sb-life", 4096, NULL, &a));
	ASSERT_EQ(0, sealshm_attach("sb-life", NULL, &b));
	EXPECT_EQ(0, sealshm_unlink(a));
	sealshm_close(a);
	sealshm_close(b);
	EXPECT_EQ(0, trackerd_stop(&self->d));
	EXPECT_EQ(-1, lstat(self->d.sock, &st));
}

/* --max-bytes-per-uid: the create past it gets -EDQUOT and one log line
 * naming the name and uid; trackerd keeps serving, and freed bytes count
 * again. */
TEST_F(sandbox, bytes_per_uid_quota)
{
	struct sealshm *a = NULL, *b = NULL, *c = NULL;
	char uid[32];

	ASSERT_EQ(0, trackerd_start(&self->d,
				    (const char *const[]){ "--max-bytes-per-uid", "8192", NULL }));
	ASSERT_GT(trackerd_connect(&self->d), 0);
	ASSERT_EQ(0, sealshm_create("sb-q1", 4096, NULL, &a));
	ASSERT_EQ(0, sealshm_create("sb-q2", 4096, NULL, &b));
	EXPECT_EQ(-EDQUOT, sealshm_create("sb-q3", 1, NULL, &c));
	snprintf(uid, sizeof(uid), "uid %u", (unsigned)getuid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused create 'sb-q3'", uid,
					  "quota", NULL));
	/* One too large on its own. */
	EXPECT_EQ(-EDQUOT, sealshm_create("sb-q4", 8193, NULL, &c));
	EXPECT_EQ(0, sealshm_unlink(b));
	sealshm_close(b);
	EXPECT_EQ(0, sealshm_create("sb-q3", 4096, NULL, &c));
	EXPECT_EQ(0, sealshm_unlink(a));
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(a);
	sealshm_close(c);
	EXPECT_TRUE(helper_pid_alive(self->d.pid));
}

/* --max-clients 2: the third connection is closed at once, with a log
 * line; the two others are still answered. */
TEST_F(sandbox, max_clients_closes_the_extra_connection)
{
	struct sealshm_msg_name req;
	struct sealshm_msg_hdr rep;
	int extra;

	ASSERT_EQ(0, trackerd_start(&self->d, (const char *const[]){ "--max-clients", "2", NULL }));
	/* trackerd_start()'s probe has gone once trackerd sees its hangup. */
	for (int i = 0; i < 2; i++) {
		uint64_t end = helper_now_ms() + 2000;

		do
			self->raw[i] = raw_client(self->d.sock, NULL);
		while (self->raw[i] < 0 && helper_now_ms() < end && (helper_sleep_ms(10), true));
		ASSERT_GE(self->raw[i], 0);
	}
	extra = raw_connect(self->d.sock);
	ASSERT_GE(extra, 0);	/* accepted by the kernel, then closed by trackerd */
	self->raw[2] = extra;
	EXPECT_TRUE(raw_closed_by_peer(extra));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused connection", "--max-clients",
					  NULL));
	for (int i = 0; i < 2; i++) {
		raw_name_req(&req, SEALSHM_MSG_STAT, 2, "sb-none", 0);
		EXPECT_EQ((ssize_t)sizeof(rep), raw_call(self->raw[i], &req, sizeof(req), NULL, 0,
							 &rep, sizeof(rep), NULL));
		EXPECT_EQ(-ENOENT, rep.status);
	}
}

/* --user nobody (as root): trackerd runs as nobody, still serves root's
 * requests, and owns its lock and socket. */
TEST_F(sandbox, user_switch)
{
	struct sealshm *a = NULL, *b = NULL;
	struct passwd *pw;
	char buf[128], want[128];
	struct stat st;

	if (geteuid() != 0)
		SKIP(return, "--user needs root");
	pw = getpwnam("nobody");
	if (!pw)
		SKIP(return, "no user 'nobody'");
	/* nobody must reach the socket: a directory it may search. */
	ASSERT_EQ(0, trackerd_prepare(&self->d));
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, trackerd_spawn(&self->d, (const char *const[]){ "--user", "nobody", NULL }));
	ASSERT_EQ(0, status_field(self->d.pid, "Uid", buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)pw->pw_uid, (unsigned)pw->pw_uid,
		 (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
	EXPECT_STREQ(want, buf);
	ASSERT_EQ(0, status_field(self->d.pid, "Gid", buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)pw->pw_gid, (unsigned)pw->pw_gid,
		 (unsigned)pw->pw_gid, (unsigned)pw->pw_gid);
	EXPECT_STREQ(want, buf);
	EXPECT_EQ(0, status_num(self->d.pid, "CapEff", 16));
	EXPECT_EQ(0, status_num(self->d.pid, "CapBnd", 16));
	EXPECT_EQ(2, status_num(self->d.pid, "Seccomp", 10));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "running as user nobody", NULL));
	ASSERT_EQ(0, lstat(self->d.sock, &st));
	EXPECT_EQ(pw->pw_uid, st.st_uid);

	ASSERT_GT(trackerd_connect(&self->d), 0);
	ASSERT_EQ(0, sealshm_create("sb-user", 4096, NULL, &a));
	ASSERT_EQ(0, sealshm_attach("sb-user", NULL, &b));
	EXPECT_EQ(0, sealshm_unlink(a));
	sealshm_close(a);
	sealshm_close(b);
	/* nobody can remove the socket: the directory is still root's 0755,
	 * so it stays and the next trackerd replaces it. */
	EXPECT_EQ(0, trackerd_stop(&self->d));
}

/* A uid with no account, in root's group only: a member of the group of
 * the names root creates. */
#define GROUP_MEMBER	4242

/* A read-only attach of @name that must work: the creator's byte is there,
 * the fd is O_RDONLY.  0 or the failed check's number (from @base). */
static int attach_reads(const char *name, int base)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY | SEALSHM_NO_TRACK);
	struct sealshm *s = NULL;
	int r = sealshm_attach(name, &ro, &s);

	if (r < 0)
		fprintf(stderr, "# read-only attach of '%s' as uid %u: %s\n", name,
			(unsigned)geteuid(), strerror(-r));
	CHILD_CHECK(base + 1, r == 0);
	CHILD_CHECK(base + 2, ((char *)sealshm_buf(s))[5] == name[6]);
	CHILD_CHECK(base + 3, (fcntl(sealshm_fd(s), F_GETFL) & O_ACCMODE) == O_RDONLY);
	sealshm_close(s);
	return 0;
}

/* In the names' group: 0640 reads, 0600 and a read-write attach do not. */
static int group_member_attaches(void)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY | SEALSHM_NO_TRACK);
	SEALSHM_OPTS(sealshm_opts, rw, .flags = SEALSHM_NO_TRACK);
	struct sealshm *s = NULL;
	int r;

	r = attach_reads("ro-0640", 0);
	if (r)
		return r;
	CHILD_CHECK(4, sealshm_attach("ro-0600", &ro, &s) == -EACCES);
	CHILD_CHECK(5, sealshm_attach("ro-0640", &rw, &s) == -EACCES);
	CHILD_CHECK(6, s == NULL);
	return 0;
}

/* Neither owner nor in the group (and trackerd's own uid): refused as the
 * mode says. */
static int other_attaches(void)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY | SEALSHM_NO_TRACK);
	struct sealshm *s = NULL;

	CHILD_CHECK(1, sealshm_attach("ro-0640", &ro, &s) == -EACCES);
	CHILD_CHECK(2, sealshm_attach("ro-0600", &ro, &s) == -EACCES);
	CHILD_CHECK(3, s == NULL);
	return attach_reads("ro-0644", 10);
}

/* trackerd --user nobody serves read-only attaches of root's 0640 and
 * 0600 names (which nobody may not open itself) through the read-only
 * twin the creator sent: to the creator, to a member of the group where
 * the mode allows it, and -EACCES where it does not.  A twin is kept only
 * where trackerd needs it (not for 0644), and unlink closes both fds.
 * Without a twin, the read-only attach is refused with a log line. */
TEST_F(sandbox, rdonly_attach_through_trackerd_of_another_uid)
{
	static const struct {
		const char *name;
		uint32_t mode;
		int fds;		/* trackerd's fds for the name */
	} names[] = {
		{ "ro-0640", 0640, 2 },
		{ "ro-0600", 0600, 2 },
		{ "ro-0644", 0644, 1 },
	};
	struct sealshm *shm[ELEMENTSOF(names)] = { NULL };
	struct passwd *pw;
	int base, want;

	if (geteuid() != 0)
		SKIP(return, "--user needs root");
	pw = getpwnam("nobody");
	if (!pw)
		SKIP(return, "no user 'nobody'");
	ASSERT_EQ(0, trackerd_prepare(&self->d));
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, trackerd_spawn(&self->d, (const char *const[]){ "--user", "nobody",
		"--socket-mode", "0666", NULL }));
	/* Root's attaches go to trackerd, not through the index. */
	ASSERT_EQ(0, setenv("SEALSHM_NO_FASTPATH", "1", 1));
	ASSERT_GT(trackerd_connect(&self->d), 0);
	base = want = helper_count_fds(self->d.pid);
	ASSERT_GT(base, 0);

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		SEALSHM_OPTS(sealshm_opts, o, .mode = names[i].mode, .flags = SEALSHM_NO_TRACK);

		ASSERT_EQ(0, sealshm_create(names[i].name, 4096, &o, &shm[i]));
		((char *)sealshm_buf(shm[i]))[5] = names[i].name[6];
		want += names[i].fds;
		EXPECT_EQ(want, helper_wait_fds(self->d.pid, want, 2000)) {
			TH_LOG("trackerd's fds after creating '%s'", names[i].name);
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		EXPECT_EQ(0, attach_reads(names[i].name, 0)) {
			TH_LOG("the creator's read-only attach of '%s'", names[i].name);
		}
	}
	EXPECT_EQ(0, run_as_user(GROUP_MEMBER, 0, group_member_attaches));
	EXPECT_EQ(0, run_as_user(pw->pw_uid, pw->pw_gid, other_attaches));

	/* A creator that sends no twin (a raw client): its read-only
	 * attachers get -EACCES, and the log says why. */
	{
		struct sealshm_msg_create req;
		struct sealshm_msg_name att;
		struct sealshm_msg_attach_reply rep;
		int sock = raw_client(self->d.sock, NULL), mfd, fd;

		ASSERT_GE(sock, 0);
		mfd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
		ASSERT_GE(mfd, 0);
		ASSERT_EQ(0, fchmod(mfd, 0640));
		raw_create_req(&req, 2, "ro-no-twin", 4096, 0640, 0);
		EXPECT_EQ((ssize_t)sizeof(rep.hdr), raw_call(sock, &req, sizeof(req), &mfd, 1,
							     &rep, sizeof(rep), NULL));
		EXPECT_EQ(0, rep.hdr.status);
		close(mfd);
		raw_name_req(&att, SEALSHM_MSG_ATTACH, 3, "ro-no-twin", SEALSHM_PROTO_RDONLY);
		EXPECT_EQ((ssize_t)sizeof(rep.hdr), raw_call(sock, &att, sizeof(att), NULL, 0,
							     &rep, sizeof(rep), &fd));
		EXPECT_EQ(-EACCES, rep.hdr.status);
		EXPECT_EQ(-EBADF, fd);
		safe_close(fd);
		EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused attach 'ro-no-twin'",
						  "(uid 0)", "sent no read-only twin", NULL));
		EXPECT_EQ(0, sealshm_unlink_name("ro-no-twin", NULL));
		close(sock);
	}

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		EXPECT_EQ(0, sealshm_unlink(shm[i]));
		sealshm_close(shm[i]);
	}
	EXPECT_EQ(base, helper_wait_fds(self->d.pid, base, 2000));
	EXPECT_TRUE(helper_pid_alive(self->d.pid));
	TH_LOG_TRACKERD_ON_FAILURE(&self->d);
}

/* --socket-mode and --socket-group apply to the socket file. */
TEST_F(sandbox, socket_mode_and_group)
{
	gid_t gid = getegid() == 0 ? 12345 : getegid();
	char gidstr[16];
	struct stat st;

	ASSERT_EQ(0, trackerd_start(&self->d, (const char *const[]){ "--socket-mode", "0600", NULL }));
	ASSERT_EQ(0, lstat(self->d.sock, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, trackerd_stop(&self->d));

	snprintf(gidstr, sizeof(gidstr), "%u", (unsigned)gid);
	ASSERT_EQ(0, trackerd_spawn(&self->d, (const char *const[]){
		"--socket-mode", "660", "--socket-group", gidstr, NULL }));
	ASSERT_EQ(0, lstat(self->d.sock, &st));
	EXPECT_EQ(0660, st.st_mode & 07777);
	EXPECT_EQ(gid, st.st_gid);
	EXPECT_EQ(0, trackerd_stop(&self->d));
}

TEST_HARNESS_MAIN

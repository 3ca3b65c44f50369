// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * container_test: two "containers" share memory through a trackerd socket
 * in a directory both see, without sharing /dev/shm or an IPC namespace
 * (Documentation/containers.md).  Each container is a real process that
 * unshare(2)s a new IPC and mount namespace, makes its mounts private and
 * mounts a fresh tmpfs on /dev/shm, as a container runtime gives each
 * container its own; trackerd runs in a third one, as a sidecar.  Process
 * A creates a segment and writes it; process B attaches it by name, reads
 * it and writes back, and A sees B's bytes.  The contrast: a POSIX
 * shm_open(3) segment A makes in its /dev/shm does not exist for B
 * (ENOENT), nor for the test.
 *
 * Skipped, saying which step failed, where unshare(CLONE_NEWIPC |
 * CLONE_NEWNS) is not permitted (it needs CAP_SYS_ADMIN) or mounts cannot
 * be made private (a chroot whose /dev/shm is no mount point).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

#define SEGMENT		"ct_frames"
#define FROM_A		"frame 1 from container A"
#define FROM_B		"ack from container B"
#define B_OFFSET	64
#define REPORT_WAIT_MS	10000

/* What a container process tells the test, over a pipe. */
struct report {
	int step;			/* 1: A ready, 2: B done, 3: A done */
	int r_sealshm;			/* A: create, B: attach; then A: unlink */
	int r_posix;			/* A: shm_open(O_CREAT) ; B: -errno of shm_open */
	char seen[64];			/* B: what A wrote; A (step 3): what B wrote */
	char ns_ipc[64];		/* readlink /proc/self/ns/ipc */
	char ns_mnt[64];		/* readlink /proc/self/ns/mnt */
	uint64_t shm_dev;		/* st_dev of its /dev/shm */
	long shm_fstype;		/* statfs f_type of its /dev/shm */
	int shm_entries;		/* files in its /dev/shm when it started */
};

FIXTURE(container) {
	struct trackerd d;		/* the sidecar; its socket is the shared volume */
	char posix_name[64];		/* "/sealshm-ct-PID" */
	pid_t a, b;
	int a_report, a_go;		/* pipe ends to and from A */
	int b_report;
	int fds_before;
	bool skip;
	char why[160];
};

/* The steps of entering a container, for the skip message. */
enum { STEP_UNSHARE = 1, STEP_PRIVATE, STEP_TMPFS };
static const char *const step_what[] = {
	[STEP_UNSHARE] = "unshare(CLONE_NEWIPC|CLONE_NEWNS) (needs CAP_SYS_ADMIN)",
	[STEP_PRIVATE] = "making the mounts private (neither / nor /dev/shm is a mount point "
			 "here, as in a chroot)",
	[STEP_TMPFS]   = "mounting a tmpfs on /dev/shm",
};

/* A container's view: new IPC and mount namespaces, no mount event going
 * back out, a fresh tmpfs as /dev/shm.  0, or -errno and the failed step
 * in *@ret_step. */
static int enter_container(int *ret_step)
{
	*ret_step = STEP_UNSHARE;
	if (unshare(CLONE_NEWIPC | CLONE_NEWNS) < 0)
		return -errno;
	/* All of them; in a chroot "/" is no mount point, but /dev/shm
	 * usually is, and it is the only one we mount on. */
	*ret_step = STEP_PRIVATE;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 &&
	    mount(NULL, "/dev/shm", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	*ret_step = STEP_TMPFS;
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=4m") < 0)
		return -errno;
	return 0;
}

/* Whether this process may enter a container (in a child, so that the
 * test itself stays where it is): 0, or -errno and *@ret_step. */
static int probe_unshare(int *ret_step)
{
	pid_t pid = fork();
	int rc;

	*ret_step = 0;
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int step, r = enter_container(&step);

		/* step * 64 + errno: every errno this can give is below 64. */
		_exit(r < 0 ? step * 64 + (-r < 64 ? -r : 63) : 0);
	}
	rc = helper_exit_code(helper_reap(pid, 5000));
	if (rc <= 0)
		return rc;
	*ret_step = rc / 64;
	return -(rc % 64);
}

static void ns_of(const char *what, pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, what);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", what);
	n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void describe(struct report *rep)
{
	struct statfs sfs;
	struct stat st;
	struct dirent *de;
	DIR *d;

	ns_of("ipc", 0, rep->ns_ipc, sizeof(rep->ns_ipc));
	ns_of("mnt", 0, rep->ns_mnt, sizeof(rep->ns_mnt));
	if (stat("/dev/shm", &st) == 0)
		rep->shm_dev = st.st_dev;
	if (statfs("/dev/shm", &sfs) == 0)
		rep->shm_fstype = (long)sfs.f_type;
	rep->shm_entries = 0;
	d = opendir("/dev/shm");
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rep->shm_entries++;
		closedir(d);
	}
}

/* Read exactly one report, waiting up to REPORT_WAIT_MS.  0, -EPIPE (the
 * process is gone) or -ETIMEDOUT. */
static int report_read(int fd, struct report *rep)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	memset(rep, 0, sizeof(*rep));
	if (poll(&pfd, 1, REPORT_WAIT_MS) <= 0)
		return -ETIMEDOUT;
	n = read(fd, rep, sizeof(*rep));
	return n == (ssize_t)sizeof(*rep) ? 0 : -EPIPE;
}

static void report_write(int fd, const struct report *rep)
{
	if (write(fd, rep, sizeof(*rep)) != (ssize_t)sizeof(*rep))
		_exit(3);
}

/* Container A: create SEGMENT (tracked, as an application would) and a
 * POSIX segment in its own /dev/shm; report; wait for the test's word;
 * report what B wrote back, unlink, exit. */
static void container_a(const char *posix_name, int report_fd, int go_fd)
{
	struct report rep = { .step = 1 };
	struct sealshm *shm = NULL;
	char c;
	int fd, step;

	if (enter_container(&step) < 0)
		_exit(2);
	describe(&rep);
	fd = shm_open(posix_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	rep.r_posix = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		(void)!write(fd, FROM_A, sizeof(FROM_A));
		close(fd);
	}
	rep.r_sealshm = sealshm_create(SEGMENT, 4096, NULL, &shm);
	if (rep.r_sealshm == 0)
		memcpy(sealshm_buf(shm), FROM_A, sizeof(FROM_A));
	report_write(report_fd, &rep);

	if (read(go_fd, &c, 1) != 1)
		_exit(4);
	rep.step = 3;
	if (shm) {
		snprintf(rep.seen, sizeof(rep.seen), "%s", (char *)sealshm_buf(shm) + B_OFFSET);
		rep.r_sealshm = sealshm_unlink(shm);
		sealshm_close(shm);
	}
	(void)shm_unlink(posix_name);
	report_write(report_fd, &rep);
	_exit(0);
}

/* Container B: attach SEGMENT by name (untracked: a reader's exit must
 * not take the name), read A's bytes, write back; try the same through
 * POSIX shm_open(). */
static void container_b(const char *posix_name, int report_fd)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = SEALSHM_NO_TRACK);
	struct report rep = { .step = 2 };
	struct sealshm *shm = NULL;
	int fd, step;

	if (enter_container(&step) < 0)
		_exit(2);
	describe(&rep);
	rep.r_sealshm = sealshm_attach(SEGMENT, &opts, &shm);
	if (rep.r_sealshm == 0) {
		snprintf(rep.seen, sizeof(rep.seen), "%s", (char *)sealshm_buf(shm));
		memcpy((char *)sealshm_buf(shm) + B_OFFSET, FROM_B, sizeof(FROM_B));
		sealshm_close(shm);
	}
	fd = shm_open(posix_name, O_RDONLY | O_CLOEXEC, 0);
	rep.r_posix = fd < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	report_write(report_fd, &rep);
	_exit(0);
}

/* trackerd as a sidecar: its own container, serving the socket in the
 * directory the others see (the shared volume).  Waits for a HELLO. */
static int spawn_sidecar(struct trackerd *t)
{
	char prog[PATH_MAX];
	pid_t pid;
	int r;

	r = helper_trackerd_path(prog, sizeof(prog));
	if (r < 0)
		return r;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int step;

		if (helper_daemon_stdio(t->log) < 0)
			_exit(126);
		(void)close_range(3, ~0U, 0);
		if (enter_container(&step) < 0)
			_exit(125);
		execl(prog, prog, "--foreground", "--socket", t->sock, "--socket-mode", "0666",
		      (char *)NULL);
		_exit(127);
	}
	t->pid = pid;
	return trackerd_wait_up(t, 5000);
}

FIXTURE_SETUP(container)
{
	int r, step;

	self->a = self->b = 0;
	self->a_report = self->a_go = self->b_report = -EBADF;
	self->d.pid = 0;
	self->d.dir[0] = '\0';
	self->skip = false;
	self->fds_before = helper_count_fds(0);
	snprintf(self->posix_name, sizeof(self->posix_name), "/sealshm-ct-%d", (int)getpid());

	r = probe_unshare(&step);
	if (r == -EPERM || r == -EACCES || r == -EINVAL || r == -ENOSYS) {
		self->skip = true;
		snprintf(self->why, sizeof(self->why), "cannot enter a container here: %s: %s",
			 step > 0 && step <= STEP_TMPFS ? step_what[step] : "?", strerror(-r));
		return;
	}
	ASSERT_EQ(0, r) {
		TH_LOG("entering a container failed: %s", strerror(-r));
	}
	ASSERT_EQ(0, trackerd_prepare(&self->d));
	ASSERT_EQ(0, spawn_sidecar(&self->d));
	/* What each application container is configured with. */
	ASSERT_EQ(0, setenv("SEALSHM_SOCKET", self->d.sock, 1));
	ASSERT_EQ(0, setenv("SEALSHM_NO_AUTOSTART", "1", 1));
}

FIXTURE_TEARDOWN(container)
{
	TH_LOG_TRACKERD_ON_FAILURE(&self->d);
	self->a_go = safe_close(self->a_go);	/* A exits on EOF */
	if (self->a > 0)
		(void)helper_reap(self->a, 5000);
	if (self->b > 0)
		(void)helper_reap(self->b, 5000);
	self->a_report = safe_close(self->a_report);
	self->b_report = safe_close(self->b_report);
	trackerd_cleanup(&self->d);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
}

static pid_t fork_container(int *ret_report, int *ret_go, void (*fn_a)(const char *, int, int),
			    void (*fn_b)(const char *, int), const char *posix_name)
{
	int rep[2], go[2] = { -EBADF, -EBADF };
	pid_t pid;

	if (pipe2(rep, O_CLOEXEC) < 0)
		return -errno;
	if (ret_go && pipe2(go, O_CLOEXEC) < 0) {
		close(rep[0]);
		close(rep[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		pid = -errno;
		close(rep[0]);
		close(rep[1]);
		safe_close(go[0]);
		safe_close(go[1]);
		return pid;
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(rep[0]);
		safe_close(go[1]);
		if (fn_a)
			fn_a(posix_name, rep[1], go[0]);
		else
			fn_b(posix_name, rep[1]);
		_exit(5);
	}
	close(rep[1]);
	safe_close(go[0]);
	*ret_report = rep[0];
	if (ret_go)
		*ret_go = go[1];
	return pid;
}

/* A creates and writes, B in another IPC and mount namespace attaches by
 * name through the shared socket, reads A's bytes and writes back, and A
 * reads B's: one segment, two containers.  The same through POSIX shm
 * fails: A's /dev/shm is not B's (ENOENT), nor the test's. */
TEST_F_TIMEOUT(container, share_through_socket_not_dev_shm, 60)
{
	char test_ipc[64], sidecar_ipc[64], path[128];
	struct report a, b, a_end;
	struct stat st;

	if (self->skip)
		SKIP(return, "%s", self->why);

	self->a = fork_container(&self->a_report, &self->a_go, container_a, NULL,
				 self->posix_name);
	ASSERT_LT(0, self->a);
	ASSERT_EQ(0, report_read(self->a_report, &a));
	EXPECT_EQ(1, a.step);
	ASSERT_EQ(0, a.r_sealshm) {
		TH_LOG("A: sealshm_create: %s", strerror(-a.r_sealshm));
	}
	EXPECT_EQ(0, a.r_posix) {
		TH_LOG("A: shm_open(O_CREAT) in its own /dev/shm: %s", strerror(-a.r_posix));
	}

	self->b = fork_container(&self->b_report, NULL, NULL, container_b, self->posix_name);
	ASSERT_LT(0, self->b);
	ASSERT_EQ(0, report_read(self->b_report, &b));
	EXPECT_EQ(2, b.step);
	/* The shared socket works across the namespaces ... */
	EXPECT_EQ(0, b.r_sealshm) {
		TH_LOG("B: sealshm_attach: %s", strerror(-b.r_sealshm));
	}
	EXPECT_STREQ(FROM_A, b.seen);
	/* ... POSIX shared memory does not: B's /dev/shm is its own. */
	EXPECT_EQ(-ENOENT, b.r_posix);
	EXPECT_EQ(0, helper_exit_code(helper_reap(self->b, 5000)));
	self->b = 0;

	/* A sees what B wrote: the same pages. */
	ASSERT_EQ(1, write(self->a_go, "g", 1));
	ASSERT_EQ(0, report_read(self->a_report, &a_end));
	EXPECT_EQ(3, a_end.step);
	EXPECT_STREQ(FROM_B, a_end.seen);
	EXPECT_EQ(0, a_end.r_sealshm);	/* unlinked by its creator */
	EXPECT_EQ(0, helper_exit_code(helper_reap(self->a, 5000)));
	self->a = 0;

	/* They really were apart: four IPC namespaces (test, sidecar, A, B),
	 * A and B each in its own mount namespace with its own tmpfs on
	 * /dev/shm, empty when it started. */
	ns_of("ipc", 0, test_ipc, sizeof(test_ipc));
	ns_of("ipc", self->d.pid, sidecar_ipc, sizeof(sidecar_ipc));
	EXPECT_STRNE(a.ns_ipc, b.ns_ipc);
	EXPECT_STRNE(test_ipc, a.ns_ipc);
	EXPECT_STRNE(test_ipc, b.ns_ipc);
	EXPECT_STRNE(sidecar_ipc, a.ns_ipc);
	EXPECT_STRNE(sidecar_ipc, b.ns_ipc);
	EXPECT_STRNE(test_ipc, sidecar_ipc);
	EXPECT_STRNE(a.ns_mnt, b.ns_mnt);
	EXPECT_EQ(TMPFS_MAGIC, a.shm_fstype);
	EXPECT_EQ(TMPFS_MAGIC, b.shm_fstype);
	EXPECT_NE(a.shm_dev, b.shm_dev);
	EXPECT_EQ(0, a.shm_entries);
	EXPECT_EQ(0, b.shm_entries);
	ASSERT_EQ(0, stat("/dev/shm", &st));
	EXPECT_NE(st.st_dev, a.shm_dev);
	snprintf(path, sizeof(path), "/dev/shm%s", self->posix_name);
	EXPECT_EQ(-1, access(path, F_OK));

	/* trackerd saw both, by their pids. */
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "registered '" SEGMENT "'", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "unlinked '" SEGMENT "'", NULL));
}

TEST_HARNESS_MAIN

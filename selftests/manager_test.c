// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * manager_test: sealshm_manager_* (Python's SharedMemoryManager), the C
 * form of CPython's test_shared_memory_SharedMemoryManager_basics,
 * _reuses_resource_tracker (a clean run writes nothing to stderr) and
 * test_shared_memory_SharedMemoryServer_ignores_sigint, plus what CPython
 * does not promise: the owner's kill -9 takes the manager and its names
 * with it, exec'd processes create through it, an auth key is checked, two
 * managers are apart, a forked copy of the handle shuts nothing down, and
 * nothing leaks.
 *
 * "Another process" is this program exec'd again in helper mode
 * ("manager_test helper ..."), using only the public API.  Every test ends
 * with the fd count it started with.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#define I_INT(v)	((struct sealshm_item){ .type = SEALSHM_ITEM_INT, .u.i = (v) })
#define I_FLOAT(v)	((struct sealshm_item){ .type = SEALSHM_ITEM_FLOAT, .u.f = (v) })
#define I_STR(v)	((struct sealshm_item){ .type = SEALSHM_ITEM_STR,		\
					.u.s = { .ptr = (v), .len = strlen(v) } })

/* Plain calls through a manager's address: untracked (a manager's names
 * are its own), never an auto-started per-user trackerd. */
#define PLAIN_OPTS(NAME, ADDRESS)						\
	SEALSHM_OPTS(sealshm_opts, NAME, .socket = (ADDRESS),			\
		     .flags = SEALSHM_NO_TRACK | SEALSHM_NO_AUTOSTART)

/* The list the exec'd helper creates through a manager. */
static const struct sealshm_item helper_items[] = {
	I_INT(7), I_STR("from-helper"), I_FLOAT(2.5),
};

/* Byte @i of the segments the tests fill. */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 13 + 5);
}

static void fill(struct sealshm *shm)
{
	unsigned char *p = sealshm_buf(shm);

	for (size_t i = 0; i < sealshm_size(shm); i++)
		p[i] = pattern(i);
}

/* --- helper mode: what an exec'd process does ----------------------------
 *   manager_test helper CMD ADDRESS KEY [NAME]
 * KEY "-" is none; with a key the helper first connects with it
 * (sealshm_manager_connect), so that its plain calls present it too.
 * One line on stdout, exit 0; "error -ERRNO" and exit 1 when a call fails.
 *   connect             "ok"
 *   size NAME           plain sealshm_attach(): "size N first B"
 *   list NAME           plain sealshm_slist_attach(): "len N sum S" (sum of ints)
 *   mattach NAME        sealshm_manager_attach() (connects even without key)
 *   list-create         sealshm_manager_slist_create(helper_items): "name NAME"
 */
static int helper_fail(int r)
{
	printf("error %d\n", r);
	return 1;
}

static int helper_main(int argc, char **argv)
{
	const char *cmd, *address, *key, *name;
	SEALSHM_OPTS(sealshm_manager_opts, mo);
	struct sealshm_manager *mgr = NULL;
	struct sealshm_slist *list = NULL;
	struct sealshm *shm = NULL;
	int r = 0;

	if (argc < 5)
		return 2;
	cmd = argv[2];
	address = argv[3];
	key = argv[4];
	name = argc > 5 ? argv[5] : NULL;
	PLAIN_OPTS(po, address);
	if (strcmp(key, "-")) {
		mo.authkey = key;
		mo.authkey_len = strlen(key);
	}
	if (strcmp(key, "-") || !strcmp(cmd, "connect") || !strcmp(cmd, "mattach") ||
	    !strcmp(cmd, "list-create")) {
		r = sealshm_manager_connect(address, &mo, &mgr);
		if (r < 0)
			return helper_fail(r);
	}

	if (!strcmp(cmd, "connect")) {
		printf("ok\n");
	} else if ((!strcmp(cmd, "size") || !strcmp(cmd, "mattach")) && name) {
		r = !strcmp(cmd, "size") ? sealshm_attach(name, &po, &shm) :
					   sealshm_manager_attach(mgr, name, NULL, &shm);
		if (r < 0)
			return helper_fail(r);
		printf("size %zu first %u\n", sealshm_size(shm),
		       *(unsigned char *)sealshm_buf(shm));
		sealshm_close(shm);
	} else if (!strcmp(cmd, "list") && name) {
		int64_t sum = 0;
		int n;

		r = sealshm_slist_attach(name, &po, &list);
		if (r < 0)
			return helper_fail(r);
		n = sealshm_slist_len(list);
		for (int i = 0; i < n; i++) {
			struct sealshm_item it;

			if (sealshm_slist_get(list, i, &it) == 0 && it.type == SEALSHM_ITEM_INT)
				sum += it.u.i;
		}
		printf("len %d sum %lld\n", n, (long long)sum);
		sealshm_slist_close(list);
	} else if (!strcmp(cmd, "list-create")) {
		r = sealshm_manager_slist_create(mgr, helper_items, ELEMENTSOF(helper_items), &list);
		if (r < 0)
			return helper_fail(r);
		printf("name %s\n", sealshm_name(sealshm_slist_shm(list)));
		sealshm_slist_close(list);
	} else {
		return 2;
	}
	/* Close, never shut down: the manager is the test's. */
	sealshm_manager_close(mgr);
	return 0;
}

/* --- running programs ------------------------------------------------------ */
/* Run @argv (argv[0] a path) with stdout into @out (up to @outlen - 1 bytes,
 * one trailing newline dropped) and stderr into the file @err_path (NULL:
 * inherited).  Returns its exit code (128 + signal) or -errno. */
static int run_prog(const char *const *argv, char *out, size_t outlen, const char *err_path)
{
	const struct helper_run_opts opts = { .err_path = err_path };
	int r = helper_run(argv[0], argv + 1, &opts, out, outlen);
	size_t n = out && outlen ? strlen(out) : 0;

	if (n && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return r;
}

/* This program in helper mode: run_helper(out, len, CMD, ADDRESS, KEY [, NAME]). */
#define run_helper(out, len, ...) run_helper_argv((out), (len), (const char *[]){ __VA_ARGS__, NULL })
static int run_helper_argv(char *out, size_t len, const char *const *args)
{
	char exe[PATH_MAX];
	const char *argv[8] = { exe, "helper" };
	ssize_t n;
	int argc = 2;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	for (int i = 0; args[i] && argc < 7; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	return run_prog(argv, out, len, NULL);
}

/* Wait up to @timeout_ms for process @pid (not necessarily our child) to
 * end: 0 when it has, -ETIMEDOUT.  A pidfd sees the exit itself; without
 * one (a kernel before 5.3) /proc is polled. */
static int wait_pid_gone(pid_t pid, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0 && errno == ESRCH)
		return 0;
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		do
			r = poll(&p, 1, (int)timeout_ms);
		while (r < 0 && errno == EINTR && helper_now_ms() < end);
		close(fd);
		return r == 1 ? 0 : -ETIMEDOUT;
	}
	while (helper_pid_alive(pid)) {
		if (helper_now_ms() >= end)
			return -ETIMEDOUT;
		helper_sleep_ms(5);
	}
	return 0;
}

/* @path (a manager's socket) without its last component, into @buf. */
static void dir_of(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

/* A generated name: "psm_" and 8 hex digits. */
static bool is_generated_name(const char *name)
{
	if (!name || strlen(name) != 12 || strncmp(name, "psm_", 4))
		return false;
	for (int i = 4; i < 12; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	return true;
}

/* Read one line (without its newline) from @fd within @timeout_ms. */
static int read_line(int fd, char *buf, size_t len, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;
	size_t got = 0;

	while (got + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = helper_now_ms();
		ssize_t n;

		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(end - now)) <= 0)
			continue;
		n = read(fd, buf + got, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		if (buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = '\0';
	return (int)got;
}

/* Lines of file @path that contain @needle (0 when it cannot be read). */
static int file_count_lines(const char *path, const char *needle)
{
	char *text = NULL;
	int n = 0;

	if (helper_read_file(path, &text) < 0)
		return 0;
	for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		n += strstr(line, needle) != NULL;
	}
	free(text);
	return n;
}

/* The fds above 2 that are open now, as a bitmap of the first 1024. */
static void fd_bitmap(uint8_t map[128])
{
	struct dirent *de;
	DIR *d;

	memset(map, 0, 128);
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd != dirfd(d) && fd < 1024)
			map[fd / 8] |= (uint8_t)(1u << (fd % 8));
	}
	closedir(d);
}

FIXTURE(manager) {
	char dir[64];			/* temp dir for files a test writes */
	struct sealshm_manager *m;	/* shut down by the teardown if set */
	int fds_before;
};

FIXTURE_SETUP(manager)
{
	self->m = NULL;
	snprintf(self->dir, sizeof(self->dir), "/tmp/sealshm-test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	self->fds_before = helper_count_fds(0);
	ASSERT_GT(self->fds_before, 0);
}

FIXTURE_TEARDOWN(manager)
{
	EXPECT_EQ(0, sealshm_manager_shutdown(self->m));
	self->m = NULL;
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	helper_rm_dir(self->dir);
}

/* test_shared_memory_SharedMemoryManager_basics: lists and segments made
 * through the manager are attached by name from another (exec'd) process
 * with their length and size, and the manager's registry holds them all. */
TEST_F(manager, basics_names_attach_from_another_process)
{
	SEALSHM_OPTS(sealshm_opts, rdonly, .flags = SEALSHM_RDONLY);
	struct sealshm_slist *lol[5] = { NULL };
	struct sealshm *lom[6] = { NULL }, *shm = NULL;
	struct sealshm_item items[9];
	struct sealshm_info *infos = NULL;
	char out[256], want[64], dir[PATH_MAX];
	const char *address;
	pid_t pids[4];
	struct stat st;

	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	address = sealshm_manager_address(self->m);
	ASSERT_NE(NULL, address);
	PLAIN_OPTS(po, address);

	/* The manager is a trackerd serving that address, in a 0700
	 * directory of ours. */
	ASSERT_EQ(1, helper_find_trackerds(address, pids, 4));
	EXPECT_EQ(pids[0], sealshm_manager_pid(self->m));
	dir_of(address, dir, sizeof(dir));
	ASSERT_EQ(0, stat(dir, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0700, st.st_mode & 07777);
	EXPECT_EQ(getuid(), st.st_uid);

	/* lol = [smm.ShareableList(range(i)) for i in range(5, 10)] */
	for (int i = 0; i < 9; i++)
		items[i] = I_INT(i);
	for (int i = 5; i < 10; i++) {
		ASSERT_EQ(0, sealshm_manager_slist_create(self->m, items, (size_t)i, &lol[i - 5]));
		EXPECT_TRUE(is_generated_name(sealshm_name(sealshm_slist_shm(lol[i - 5]))));
	}
	/* lom = [smm.SharedMemory(size=j) for j in range(32, 128, 16)] */
	for (int j = 32, k = 0; j < 128; j += 16, k++) {
		ASSERT_EQ(0, sealshm_manager_create(self->m, (size_t)j, &lom[k]));
		EXPECT_EQ((size_t)j, sealshm_size(lom[k]));
		EXPECT_TRUE(is_generated_name(sealshm_name(lom[k])));
		fill(lom[k]);
	}

	EXPECT_EQ(11, sealshm_registry_list(&po, &infos));
	free(infos);
	/* Its statistics say what it is. */
	{
		struct sealshm_registry_stats st;

		ASSERT_EQ(0, sealshm_registry_stats(&po, &st));
		EXPECT_EQ(11, st.names);
		EXPECT_EQ(SEALSHM_REGISTRY_MANAGER, st.flags & SEALSHM_REGISTRY_MANAGER);
		EXPECT_EQ((uint32_t)sealshm_manager_pid(self->m), st.pid);
	}

	/* Another process, by name: every list's length, every size. */
	for (int i = 5; i < 10; i++) {
		EXPECT_EQ(0, run_helper(out, sizeof(out), "list", address, "-",
					sealshm_name(sealshm_slist_shm(lol[i - 5]))));
		snprintf(want, sizeof(want), "len %d sum %d", i, i * (i - 1) / 2);
		EXPECT_STREQ(want, out);
	}
	for (int k = 0; k < 6; k++) {
		EXPECT_EQ(0, run_helper(out, sizeof(out), "size", address, "-",
					sealshm_name(lom[k])));
		snprintf(want, sizeof(want), "size %d first %u", 32 + 16 * k, pattern(0));
		EXPECT_STREQ(want, out);
	}
	/* And through a connected handle of its own. */
	EXPECT_EQ(0, run_helper(out, sizeof(out), "mattach", address, "-", sealshm_name(lom[5])));
	EXPECT_STREQ("size 112 first 5", out);

	/* The owner attaches through its handle too. */
	ASSERT_EQ(0, sealshm_manager_attach(self->m, sealshm_name(lom[0]), &rdonly, &shm));
	EXPECT_EQ(32, sealshm_size(shm));
	EXPECT_EQ(0, memcmp(sealshm_buf(shm), sealshm_buf(lom[0]), 32));
	sealshm_close(shm);

	for (int i = 0; i < 5; i++)
		sealshm_slist_close(lol[i]);
	for (int k = 0; k < 6; k++)
		sealshm_close(lom[k]);
}

/* Shutdown unlinks every name (attach: -ENOENT), the manager process is
 * gone and reaped, its socket directory removed, and a mapping made before
 * still reads and writes. */
TEST_F(manager, shutdown_unlinks_stops_and_keeps_mappings)
{
	struct sealshm_slist *list = NULL, *l2 = NULL;
	struct sealshm *shm = NULL, *s2 = NULL;
	char address[PATH_MAX], dir[PATH_MAX], name[64], lname[64];
	struct sealshm_item it;
	unsigned char *p;
	pid_t pid;

	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	snprintf(address, sizeof(address), "%s", sealshm_manager_address(self->m));
	dir_of(address, dir, sizeof(dir));
	pid = sealshm_manager_pid(self->m);
	ASSERT_GT(pid, 0);
	ASSERT_TRUE(helper_pid_alive(pid));
	PLAIN_OPTS(po, address);

	ASSERT_EQ(0, sealshm_manager_create(self->m, 4096, &shm));
	fill(shm);
	snprintf(name, sizeof(name), "%s", sealshm_name(shm));
	ASSERT_EQ(0, sealshm_manager_slist_create(self->m, helper_items, 3, &list));
	snprintf(lname, sizeof(lname), "%s", sealshm_name(sealshm_slist_shm(list)));
	ASSERT_EQ(0, sealshm_attach(name, &po, &s2));	/* reachable before */
	sealshm_close(s2);
	s2 = NULL;

	EXPECT_EQ(0, sealshm_manager_shutdown(self->m));
	self->m = NULL;

	/* The owner waited for it: gone, and no zombie of ours left. */
	EXPECT_FALSE(helper_pid_alive(pid));
	errno = 0;
	EXPECT_EQ(-1, waitpid(pid, NULL, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_EQ(0, helper_find_trackerds(address, NULL, 0));
	EXPECT_EQ(-1, access(dir, F_OK));
	EXPECT_EQ(ENOENT, errno);

	EXPECT_EQ(-ENOENT, sealshm_attach(name, &po, &s2));
	EXPECT_EQ(NULL, s2);
	EXPECT_EQ(-ENOENT, sealshm_slist_attach(lname, &po, &l2));
	EXPECT_EQ(NULL, l2);

	/* What was mapped stays: read, write, read back. */
	p = sealshm_buf(shm);
	EXPECT_EQ(pattern(4095), p[4095]);
	p[4095] = 0xa5;
	EXPECT_EQ(0xa5, p[4095]);
	ASSERT_EQ(0, sealshm_slist_get(list, 0, &it));
	EXPECT_EQ(7, it.u.i);
	EXPECT_EQ(0, sealshm_slist_set(list, 0, &I_INT(8)));
	ASSERT_EQ(0, sealshm_slist_get(list, 0, &it));
	EXPECT_EQ(8, it.u.i);

	sealshm_slist_close(list);
	sealshm_close(shm);
}

/* _cleanup_(sealshm_manager_shutdownp) is Python's "with
 * SharedMemoryManager() as smm:": leaving the block releases every name;
 * a handle never started is left alone. */
TEST_F(manager, cleanup_attribute_releases_at_scope_exit)
{
	char address[PATH_MAX], name[64], lname[64];
	struct sealshm_slist *l2 = NULL;
	struct sealshm *s2 = NULL;
	pid_t pid;

	{
		_cleanup_(sealshm_manager_shutdownp) struct sealshm_manager *unused = NULL;

		(void)unused;	/* never started: the helper must accept NULL */
	}
	{
		_cleanup_(sealshm_manager_shutdownp) struct sealshm_manager *smm = NULL;
		struct sealshm_slist *sl = NULL;
		struct sealshm *shm = NULL;
		const struct sealshm_item howdy[] = {
			I_STR("h"), I_STR("o"), I_STR("w"), I_STR("d"), I_STR("y"),
		};

		ASSERT_EQ(0, sealshm_manager_start(NULL, &smm));
		snprintf(address, sizeof(address), "%s", sealshm_manager_address(smm));
		pid = sealshm_manager_pid(smm);
		/* sl = smm.ShareableList('howdy'); shm = smm.SharedMemory(size=128) */
		ASSERT_EQ(0, sealshm_manager_slist_create(smm, howdy, 5, &sl));
		ASSERT_EQ(0, sealshm_manager_create(smm, 128, &shm));
		snprintf(lname, sizeof(lname), "%s", sealshm_name(sealshm_slist_shm(sl)));
		snprintf(name, sizeof(name), "%s", sealshm_name(shm));
		EXPECT_EQ(5, sealshm_slist_len(sl));
		sealshm_slist_close(sl);
		sealshm_close(shm);

		PLAIN_OPTS(po, address);
		EXPECT_EQ(0, sealshm_attach(name, &po, &s2));
		sealshm_close(s2);
		s2 = NULL;
	}
	PLAIN_OPTS(po, address);
	EXPECT_EQ(-ENOENT, sealshm_slist_attach(lname, &po, &l2));
	EXPECT_EQ(-ENOENT, sealshm_attach(name, &po, &s2));
	EXPECT_FALSE(helper_pid_alive(pid));
}

/* test_shared_memory_SharedMemoryServer_ignores_sigint: a SIGINT (a Ctrl-C
 * in the owner's terminal) does not stop the manager, which serves on and
 * then shuts down; the owner's own SIGINT disposition is left as it was. */
TEST_F(manager, manager_ignores_sigint)
{
	struct sigaction before, after;
	sigset_t mask_before, mask_after;
	struct sealshm_slist *sl = NULL, *sl2 = NULL, *again = NULL;
	char address[PATH_MAX], name[64];
	struct sealshm_item items[10];
	pid_t pid;

	ASSERT_EQ(0, sigaction(SIGINT, NULL, &before));
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, NULL, &mask_before));
	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	ASSERT_EQ(0, sigaction(SIGINT, NULL, &after));
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, NULL, &mask_after));
	EXPECT_EQ(before.sa_handler, after.sa_handler);
	EXPECT_EQ(sigismember(&mask_before, SIGINT), sigismember(&mask_after, SIGINT));

	snprintf(address, sizeof(address), "%s", sealshm_manager_address(self->m));
	pid = sealshm_manager_pid(self->m);
	for (int i = 0; i < 10; i++)
		items[i] = I_INT(i);
	ASSERT_EQ(0, sealshm_manager_slist_create(self->m, items, 10, &sl));
	snprintf(name, sizeof(name), "%s", sealshm_name(sealshm_slist_shm(sl)));

	ASSERT_EQ(0, kill(pid, SIGINT));
	/* Two round trips after the signal: whatever the manager does with a
	 * pending SIGINT, it has done it by the time it answers the second. */
	EXPECT_EQ(0, sealshm_manager_slist_create(self->m, items, 10, &sl2));
	EXPECT_EQ(0, sealshm_manager_slist_attach(self->m, name, NULL, &again));
	EXPECT_TRUE(helper_pid_alive(pid));
	if (again)
		EXPECT_EQ(10, sealshm_slist_len(again));

	sealshm_slist_close(again);
	sealshm_slist_close(sl2);
	sealshm_slist_close(sl);
	EXPECT_EQ(0, sealshm_manager_shutdown(self->m));
	self->m = NULL;
	EXPECT_FALSE(helper_pid_alive(pid));
	PLAIN_OPTS(po, address);
	EXPECT_EQ(-ENOENT, sealshm_slist_attach(name, &po, &again));
}

/* test_shared_memory_SharedMemoryManager_reuses_resource_tracker: start,
 * create, shut down in a process of its own whose stderr is a file: the
 * file stays empty (no leak warnings, no log lines, from the library or
 * the manager, which shares that stderr unless it closes it). */
TEST_F(manager, clean_run_writes_nothing_to_stderr)
{
	char err_path[128], *err = NULL;
	int status;
	pid_t child;

	snprintf(err_path, sizeof(err_path), "%s/stderr", self->dir);
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct sealshm_manager *m = NULL;
		struct sealshm_slist *sl = NULL;
		struct sealshm *shm = NULL;
		struct sealshm_item items[10];
		int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(10);
		for (int i = 0; i < 10; i++)
			items[i] = I_INT(i);
		if (sealshm_manager_start(NULL, &m) < 0)
			_exit(11);
		if (sealshm_manager_slist_create(m, items, 10, &sl) < 0 ||
		    sealshm_manager_create(m, 4096, &shm) < 0)
			_exit(12);
		sealshm_slist_close(sl);
		sealshm_close(shm);
		if (sealshm_manager_shutdown(m) < 0)
			_exit(13);
		_exit(0);
	}
	status = helper_reap(child, 20000);
	EXPECT_EQ(0, helper_exit_code(status));
	ASSERT_EQ(0, helper_read_file(err_path, &err));
	EXPECT_STREQ("", err);
	free(err);
}

/* In a systemd service the owner's $NOTIFY_SOCKET is the service's: the
 * manager (a trackerd in the foreground) must not report readiness, or
 * anything, in its name.  It answers before sealshm_manager_start()
 * returns, so a READY=1 would be waiting by then. */
TEST_F(manager, manager_does_not_notify_for_its_owner)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[256];
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", self->dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, setenv("NOTIFY_SOCKET", sa.sun_path, 1));

	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	EXPECT_EQ(0, unsetenv("NOTIFY_SOCKET"));
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, sealshm_manager_shutdown(self->m));
	self->m = NULL;
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

/* The owner is SIGKILLed: within one second its manager notices (pidfd),
 * unlinks everything, says so and exits, removing its directory: none of
 * the names attaches any more, and connecting fails with -ENOENT (the
 * socket is gone, not merely refusing). */
TEST_F(manager, owner_kill9_takes_manager_and_names)
{
	char line[512], address[PATH_MAX], dir[PATH_MAX], name[64], lname[64];
	char err_path[128], *err = NULL;
	struct sealshm_slist *l2 = NULL;
	struct sealshm *s2 = NULL;
	int p[2], mpid = 0, pidfd, status;
	uint64_t t0, elapsed;
	pid_t child;

	snprintf(err_path, sizeof(err_path), "%s/stderr", self->dir);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct sealshm_manager *m = NULL;
		struct sealshm_slist *sl = NULL;
		struct sealshm *shm = NULL;
		int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		/* The manager shares this stderr: what it says lands in the file. */
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(1);
		close(p[0]);
		if (sealshm_manager_start(NULL, &m) < 0 ||
		    sealshm_manager_create(m, 4096, &shm) < 0 ||
		    sealshm_manager_slist_create(m, helper_items, 3, &sl) < 0)
			_exit(1);
		dprintf(p[1], "%s %d %s %s\n", sealshm_manager_address(m),
			(int)sealshm_manager_pid(m), sealshm_name(shm),
			sealshm_name(sealshm_slist_shm(sl)));
		for (;;)
			pause();	/* until SIGKILL */
	}
	close(p[1]);
	ASSERT_GT(read_line(p[0], line, sizeof(line), 10000), 0);
	close(p[0]);
	ASSERT_EQ(4, sscanf(line, "%4095s %d %63s %63s", address, &mpid, name, lname)) {
		TH_LOG("the owner said: %s", line);
	}
	dir_of(address, dir, sizeof(dir));
	PLAIN_OPTS(po, address);
	/* Alive and serving the names while the owner lives. */
	ASSERT_EQ(0, sealshm_attach(name, &po, &s2));
	sealshm_close(s2);
	s2 = NULL;
	pidfd = (int)syscall(SYS_pidfd_open, mpid, 0);

	t0 = helper_now_ms();
	ASSERT_EQ(0, kill(child, SIGKILL));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

		EXPECT_EQ(1, poll(&pfd, 1, 1000));
		close(pidfd);
	} else {
		EXPECT_EQ(0, wait_pid_gone(mpid, 1000));
	}
	elapsed = helper_now_ms() - t0;
	EXPECT_LE(elapsed, 1000);
	EXPECT_FALSE(helper_pid_alive(mpid));

	/* Its socket went with it: nothing to connect to. */
	EXPECT_EQ(-ENOENT, sealshm_attach(name, &po, &s2));
	EXPECT_EQ(-ENOENT, sealshm_slist_attach(lname, &po, &l2));
	EXPECT_EQ(-1, access(dir, F_OK));
	EXPECT_EQ(ENOENT, errno);

	/* And it said which names it unlinked (to the owner's stderr). */
	ASSERT_EQ(0, helper_read_file(err_path, &err));
	EXPECT_TRUE(strstr(err, name) && strstr(err, lname)) {
		TH_LOG("the manager said: %s", err);
	}
	free(err);
}

/* An exec'd process connects by address and creates a list through the
 * manager; the owner reads it, and it belongs to the manager: it outlives
 * the process that made it and goes at shutdown. */
TEST_F(manager, exec_connected_process_creates_list_owner_reads)
{
	struct sealshm_slist *l = NULL, *l2 = NULL;
	char out[256], address[PATH_MAX], name[64];
	struct sealshm_item it;
	char buf[64];

	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	snprintf(address, sizeof(address), "%s", sealshm_manager_address(self->m));
	ASSERT_EQ(0, run_helper(out, sizeof(out), "list-create", address, "-")) {
		TH_LOG("helper said: %s", out);
	}
	ASSERT_EQ(1, sscanf(out, "name %63s", name));
	EXPECT_TRUE(is_generated_name(name));

	/* The helper has exited; its list is still there. */
	ASSERT_EQ(0, sealshm_manager_slist_attach(self->m, name, NULL, &l));
	EXPECT_EQ(3, sealshm_slist_len(l));
	ASSERT_EQ(0, sealshm_slist_get(l, 0, &it));
	EXPECT_EQ(SEALSHM_ITEM_INT, it.type);
	EXPECT_EQ(7, it.u.i);
	ASSERT_EQ(11, sealshm_slist_get_copy(l, 1, buf, sizeof(buf), &it));
	EXPECT_EQ(SEALSHM_ITEM_STR, it.type);
	EXPECT_STREQ("from-helper", buf);
	ASSERT_EQ(0, sealshm_slist_get(l, 2, &it));
	EXPECT_EQ(SEALSHM_ITEM_FLOAT, it.type);
	EXPECT_EQ(2.5, it.u.f);
	sealshm_slist_close(l);

	EXPECT_EQ(0, sealshm_manager_shutdown(self->m));
	self->m = NULL;
	PLAIN_OPTS(po, address);
	EXPECT_EQ(-ENOENT, sealshm_slist_attach(name, &po, &l2));
}

/* An auth key: presented by connect, it opens the manager to a process
 * (and its plain calls); a wrong key or none is -EACCES, logged, and the
 * manager serves on; a key too long or empty is -EINVAL before anything
 * happens. */
TEST_F(manager, auth_key_refuses_wrong_or_missing_key)
{
	static const char key[] = "manager-test key";
	char big[SEALSHM_MANAGER_KEY_MAX + 1], out[256], want[64], address[PATH_MAX];
	SEALSHM_OPTS(sealshm_manager_opts, o, .authkey = key, .authkey_len = sizeof(key) - 1);
	SEALSHM_OPTS(sealshm_manager_opts, too_long, .authkey = big, .authkey_len = sizeof(big));
	SEALSHM_OPTS(sealshm_manager_opts, empty, .authkey = key, .authkey_len = 0);
	SEALSHM_OPTS(sealshm_opts, rdonly, .flags = SEALSHM_RDONLY);
	struct sealshm_manager *c = NULL, *m2 = NULL;
	struct sealshm *shm = NULL, *s2 = NULL;
	char log_path[128];
	int saved, fd, r;
	const char *name;

	memset(big, 'k', sizeof(big));
	EXPECT_EQ(-EINVAL, sealshm_manager_start(&too_long, &m2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sealshm_manager_start(&empty, &m2));
	EXPECT_EQ(NULL, m2);

	/* The manager's stderr (ours at start) is a file, to read what it
	 * logs; the test's is back right after. */
	snprintf(log_path, sizeof(log_path), "%s/manager.log", self->dir);
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	ASSERT_GE(saved, 0);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(STDERR_FILENO, dup2(fd, STDERR_FILENO));
	close(fd);
	r = sealshm_manager_start(&o, &self->m);
	ASSERT_EQ(STDERR_FILENO, dup2(saved, STDERR_FILENO));
	close(saved);
	ASSERT_EQ(0, r);
	snprintf(address, sizeof(address), "%s", sealshm_manager_address(self->m));
	ASSERT_EQ(0, sealshm_manager_create(self->m, 4096, &shm));
	fill(shm);
	name = sealshm_name(shm);
	snprintf(want, sizeof(want), "size 4096 first %u", pattern(0));

	/* The same key, in this process and in another. */
	ASSERT_EQ(0, sealshm_manager_connect(address, &o, &c));
	EXPECT_EQ(sealshm_manager_pid(self->m), sealshm_manager_pid(c));
	ASSERT_EQ(0, sealshm_manager_attach(c, name, &rdonly, &s2));
	EXPECT_EQ(4096, sealshm_size(s2));
	sealshm_close(s2);
	EXPECT_EQ(0, sealshm_manager_close(c));
	EXPECT_EQ(0, run_helper(out, sizeof(out), "mattach", address, key, name));
	EXPECT_STREQ(want, out);
	/* Connected, its plain calls present the key. */
	EXPECT_EQ(0, run_helper(out, sizeof(out), "size", address, key, name));
	EXPECT_STREQ(want, out);

	/* Refused: a wrong key of the same length, a shorter one, none. */
	EXPECT_EQ(1, run_helper(out, sizeof(out), "connect", address, "manager-test kez"));
	EXPECT_STREQ("error -13", out);
	EXPECT_EQ(1, run_helper(out, sizeof(out), "connect", address, "manager"));
	EXPECT_STREQ("error -13", out);
	EXPECT_EQ(1, run_helper(out, sizeof(out), "connect", address, "-"));
	EXPECT_STREQ("error -13", out);
	/* No key, no connect: the first plain request is refused. */
	EXPECT_EQ(1, run_helper(out, sizeof(out), "size", address, "-", name));
	EXPECT_STREQ("error -13", out);
	/* Each refused key was logged, before its refusal was sent. */
	EXPECT_EQ(3, file_count_lines(log_path, "wrong key"));

	/* Bad keys are the caller's mistake. */
	c = NULL;
	EXPECT_EQ(-EINVAL, sealshm_manager_connect(address, &too_long, &c));
	EXPECT_EQ(-EINVAL, sealshm_manager_connect(address, &empty, &c));
	EXPECT_EQ(NULL, c);

	/* The owner is still served. */
	s2 = NULL;
	EXPECT_EQ(0, sealshm_manager_attach(self->m, name, NULL, &s2));
	sealshm_close(s2);
	sealshm_close(shm);
}

/* Two managers side by side: each sees only its own names. */
TEST_F(manager, two_managers_do_not_share_names)
{
	struct sealshm_manager *m2 = NULL;
	struct sealshm *a = NULL, *b = NULL, *x = NULL;
	char a_name[64], b_name[64], a_addr[PATH_MAX];

	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	ASSERT_EQ(0, sealshm_manager_start(NULL, &m2));
	EXPECT_STRNE(sealshm_manager_address(self->m), sealshm_manager_address(m2));
	EXPECT_NE(sealshm_manager_pid(self->m), sealshm_manager_pid(m2));
	snprintf(a_addr, sizeof(a_addr), "%s", sealshm_manager_address(self->m));

	ASSERT_EQ(0, sealshm_manager_create(self->m, 64, &a));
	ASSERT_EQ(0, sealshm_manager_create(m2, 64, &b));
	snprintf(a_name, sizeof(a_name), "%s", sealshm_name(a));
	snprintf(b_name, sizeof(b_name), "%s", sealshm_name(b));

	EXPECT_EQ(-ENOENT, sealshm_manager_attach(m2, a_name, NULL, &x));
	EXPECT_EQ(-ENOENT, sealshm_manager_attach(self->m, b_name, NULL, &x));
	{
		PLAIN_OPTS(po2, sealshm_manager_address(m2));

		EXPECT_EQ(-ENOENT, sealshm_attach(a_name, &po2, &x));
	}
	EXPECT_EQ(NULL, x);

	/* Shutting one down leaves the other serving. */
	sealshm_close(a);
	EXPECT_EQ(0, sealshm_manager_shutdown(self->m));
	self->m = NULL;
	EXPECT_EQ(0, sealshm_manager_attach(m2, b_name, NULL, &x));
	sealshm_close(x);
	x = NULL;
	{
		PLAIN_OPTS(po1, a_addr);

		EXPECT_EQ(-ENOENT, sealshm_attach(a_name, &po1, &x));
	}
	sealshm_close(b);
	EXPECT_EQ(0, sealshm_manager_shutdown(m2));
}

/* fork: a child's sealshm_manager_shutdown() on the handle it inherited
 * frees only its copy; the parent's manager serves on, names and all. */
TEST_F(manager, forked_child_shutdown_frees_only_its_copy)
{
	struct sealshm *shm = NULL, *s2 = NULL, *s3 = NULL;
	int status;
	pid_t child, pid;

	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	pid = sealshm_manager_pid(self->m);
	ASSERT_EQ(0, sealshm_manager_create(self->m, 256, &shm));
	fill(shm);

	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0)
		_exit(sealshm_manager_shutdown(self->m) == 0 ? 0 : 1);
	status = helper_reap(child, 10000);
	EXPECT_EQ(0, helper_exit_code(status));

	EXPECT_TRUE(helper_pid_alive(pid));
	ASSERT_EQ(0, sealshm_manager_attach(self->m, sealshm_name(shm), NULL, &s2));
	EXPECT_EQ(pattern(255), ((unsigned char *)sealshm_buf(s2))[255]);
	EXPECT_EQ(0, sealshm_manager_create(self->m, 64, &s3));
	sealshm_close(s3);
	sealshm_close(s2);
	sealshm_close(shm);
}

/* The owner's fds: every one the manager adds is close-on-exec, and after
 * shutdown none is left (three rounds, and a connect + close of its own
 * manager in between). */
TEST_F(manager, start_shutdown_leaks_no_fds)
{
	int before = helper_count_fds(0);
	uint8_t old_fds[128];

	fd_bitmap(old_fds);
	for (int round = 0; round < 3; round++) {
		struct sealshm_manager *c = NULL;
		struct sealshm_slist *sl = NULL;
		struct sealshm *shm = NULL, *s2 = NULL;
		uint8_t now_fds[128];

		ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
		ASSERT_EQ(0, sealshm_manager_create(self->m, 4096, &shm));
		ASSERT_EQ(0, sealshm_manager_slist_create(self->m, helper_items, 3, &sl));
		ASSERT_EQ(0, sealshm_manager_attach(self->m, sealshm_name(shm), NULL, &s2));
		ASSERT_EQ(0, sealshm_manager_connect(sealshm_manager_address(self->m), NULL, &c));

		fd_bitmap(now_fds);
		for (int fd = 3; fd < 1024; fd++) {
			if (!(now_fds[fd / 8] & (1u << (fd % 8))) ||
			    (old_fds[fd / 8] & (1u << (fd % 8))))
				continue;
			EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC) {
				TH_LOG("fd %d is not close-on-exec", fd);
			}
		}

		EXPECT_EQ(0, sealshm_manager_close(c));
		sealshm_close(s2);
		sealshm_slist_close(sl);
		sealshm_close(shm);
		EXPECT_EQ(0, sealshm_manager_shutdown(self->m));
		self->m = NULL;
		EXPECT_EQ(before, helper_count_fds(0)) {
			TH_LOG("round %d", round);
		}
	}
}

/* The contract's errors: bad opts, no trackerd program, one that exits
 * before answering, no manager at an address, a trackerd that is no
 * manager, a size of 0, NULL handles. */
TEST_F(manager, errors_as_documented)
{
	/* A newer caller's struct asking for something this library lacks. */
	struct {
		struct sealshm_manager_opts o;
		uint64_t unknown;
	} bad = { .o.sz = sizeof(bad), .unknown = 1 };
	SEALSHM_OPTS(sealshm_manager_opts, missing, .trackerd = "/nonexistent/trackerd");
	SEALSHM_OPTS(sealshm_manager_opts, exits, .trackerd = "/bin/false");
	/* The socket is the manager's, names are never tracked, and nothing
	 * is created with an attach's opts. */
	SEALSHM_OPTS(sealshm_opts, elsewhere, .socket = "/nonexistent/trackerd.sock");
	SEALSHM_OPTS(sealshm_opts, tracked_last, .flags = SEALSHM_LIFETIME_LAST);
	SEALSHM_OPTS(sealshm_opts, with_mode, .mode = 0600);
	struct sealshm_manager *m = NULL;
	struct sealshm_slist *l = NULL;
	struct sealshm *shm = NULL, *s2 = NULL;
	char nowhere[128];
	struct trackerd t;
	int r;

	EXPECT_EQ(-EINVAL, sealshm_manager_start(&bad.o, &m));
	EXPECT_EQ(-EINVAL, sealshm_manager_start(NULL, NULL));
	EXPECT_EQ(-ENOPKG, sealshm_manager_start(&missing, &m));
	EXPECT_EQ(-ECHILD, sealshm_manager_start(&exits, &m));
	EXPECT_EQ(NULL, m);

	snprintf(nowhere, sizeof(nowhere), "%s/none.sock", self->dir);
	EXPECT_EQ(-ENOENT, sealshm_manager_connect(nowhere, NULL, &m));
	EXPECT_EQ(-EINVAL, sealshm_manager_connect(NULL, NULL, &m));

	/* A plain trackerd is no manager. */
	r = trackerd_start(&t, NULL);
	ASSERT_EQ(0, r) {
		trackerd_cleanup(&t);
	}
	EXPECT_EQ(-EOPNOTSUPP, sealshm_manager_connect(t.sock, NULL, &m));
	EXPECT_EQ(NULL, m);
	EXPECT_EQ(0, trackerd_stop(&t));
	trackerd_cleanup(&t);

	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	EXPECT_EQ(-EINVAL, sealshm_manager_create(self->m, 0, &shm));
	EXPECT_EQ(-EINVAL, sealshm_manager_create(NULL, 64, &shm));
	EXPECT_EQ(NULL, shm);
	ASSERT_EQ(0, sealshm_manager_create(self->m, 64, &shm));
	EXPECT_EQ(-EINVAL, sealshm_manager_attach(self->m, sealshm_name(shm), &elsewhere, &s2));
	EXPECT_EQ(-EINVAL, sealshm_manager_attach(self->m, sealshm_name(shm), &tracked_last,
						  &s2));
	EXPECT_EQ(-EINVAL, sealshm_manager_attach(self->m, sealshm_name(shm), &with_mode,
						  &s2));
	EXPECT_EQ(-EINVAL, sealshm_manager_slist_attach(self->m, sealshm_name(shm), &elsewhere, &l));
	EXPECT_EQ(NULL, s2);
	EXPECT_EQ(NULL, l);
	sealshm_close(shm);
	EXPECT_EQ(0, sealshm_manager_pid(NULL));
	EXPECT_EQ(0, sealshm_manager_close(NULL));
	EXPECT_EQ(0, sealshm_manager_shutdown(NULL));
}

/* A connected process's shutdown stops the manager too; the owner's
 * shutdown afterwards still returns 0 and reaps it. */
TEST_F(manager, connected_shutdown_stops_manager)
{
	struct sealshm_manager *c = NULL;
	struct sealshm *shm = NULL, *s2 = NULL;
	char address[PATH_MAX], name[64];
	pid_t pid;

	ASSERT_EQ(0, sealshm_manager_start(NULL, &self->m));
	pid = sealshm_manager_pid(self->m);
	snprintf(address, sizeof(address), "%s", sealshm_manager_address(self->m));
	ASSERT_EQ(0, sealshm_manager_create(self->m, 64, &shm));
	snprintf(name, sizeof(name), "%s", sealshm_name(shm));
	sealshm_close(shm);

	ASSERT_EQ(0, sealshm_manager_connect(address, NULL, &c));
	EXPECT_EQ(0, sealshm_manager_shutdown(c));
	EXPECT_EQ(0, wait_pid_gone(pid, 5000));
	PLAIN_OPTS(po, address);
	EXPECT_EQ(-ENOENT, sealshm_attach(name, &po, &s2));

	EXPECT_EQ(0, sealshm_manager_shutdown(self->m));
	self->m = NULL;
	errno = 0;
	EXPECT_EQ(-1, waitpid(pid, NULL, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
}

/* examples/manager_workers: CPython's SharedMemoryManager example (two
 * workers fill halves of a manager's list, the parent sums), run as a user
 * would, with a clean stderr. */
TEST_F(manager, example_manager_workers_runs)
{
	char dir[PATH_MAX], prog[PATH_MAX + 32], err_path[128], out[1024], *err = NULL;

	ASSERT_EQ(0, helper_examples_dir(dir, sizeof(dir)));
	snprintf(prog, sizeof(prog), "%s/manager_workers", dir);
	ASSERT_EQ(0, access(prog, X_OK)) {
		TH_LOG("no manager_workers at %s (set SEALSHM_TEST_EXAMPLES)", prog);
	}
	snprintf(err_path, sizeof(err_path), "%s/stderr", self->dir);
	EXPECT_EQ(0, run_prog((const char *[]){ prog, NULL }, out, sizeof(out), err_path)) {
		TH_LOG("manager_workers said:\n%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "sum of squares 2664667000 (expected 2664667000)")) {
		TH_LOG("manager_workers said:\n%s", out);
	}
	ASSERT_EQ(0, helper_read_file(err_path, &err));
	EXPECT_STREQ("", err);
	free(err);
}

/* TEST_HARNESS_MAIN's half of the harness's test-order detection. */
static void __attribute__((constructor)) __constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

/* "manager_test helper ..." is the exec'd process; anything else runs the
 * tests. */
int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "helper"))
		return helper_main(argc, argv);
	return test_harness_run(argc, argv);
}

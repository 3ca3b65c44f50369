// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * segment_test: sealshm_create/attach/close/unlink and the accessors, the C
 * form of CPython's test_shared_memory_basics, against a real trackerd on a
 * private socket.  Every test ends with the fd count it started with and an
 * empty registry.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "fdpass.h"
#include "helpers.h"

#define NSHM 5
/* Larger than any request the library sends. */
#define FAKE_REQUEST_MAX 512

FIXTURE(segment) {
	struct trackerd d;
	struct sealshm *shm[NSHM];
	int fds_before;
};

FIXTURE_SETUP(segment)
{
	memset(self->shm, 0, sizeof(self->shm));
	/* The library's cached connection is part of the baseline. */
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
}

FIXTURE_TEARDOWN(segment)
{
	for (int i = 0; i < NSHM; i++)
		sealshm_close(self->shm[i]);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* Sizes that are exact, one off a page, and several pages. */
FIXTURE(segment_size) {
	struct trackerd d;
	struct sealshm *shm[2];
	int fds_before;
};

FIXTURE_VARIANT(segment_size) {
	size_t size;
};

FIXTURE_VARIANT_ADD(segment_size, one) { .size = 1 };
FIXTURE_VARIANT_ADD(segment_size, page_minus_one) { .size = 4095 };
FIXTURE_VARIANT_ADD(segment_size, page) { .size = 4096 };
FIXTURE_VARIANT_ADD(segment_size, page_plus_one) { .size = 4097 };
FIXTURE_VARIANT_ADD(segment_size, four_mib_plus_three) { .size = (4u << 20) + 3 };

FIXTURE_SETUP(segment_size)
{
	memset(self->shm, 0, sizeof(self->shm));
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
}

FIXTURE_TEARDOWN(segment_size)
{
	for (int i = 0; i < 2; i++)
		sealshm_close(self->shm[i]);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* sealshm_size() is exactly the requested size for creator and attacher,
 * the memfd has exactly that size, and the memory starts zeroed. */
TEST_F(segment_size, size_is_exactly_requested)
{
	const unsigned char *p;
	struct stat st;

	ASSERT_EQ(0, sealshm_create("sized", variant->size, NULL, &self->shm[0]));
	EXPECT_EQ(variant->size, sealshm_size(self->shm[0]));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[0]), &st));
	EXPECT_EQ((off_t)variant->size, st.st_size);
	p = sealshm_buf(self->shm[0]);
	ASSERT_NE(NULL, p);
	for (size_t i = 0; i < variant->size; i++)
		if (p[i]) {
			EXPECT_EQ(0, p[i]) {
				TH_LOG("byte %zu not zero", i);
			}
			break;
		}
	/* The last byte is usable. */
	((unsigned char *)sealshm_buf(self->shm[0]))[variant->size - 1] = 0x5a;

	ASSERT_EQ(0, sealshm_attach("sized", NULL, &self->shm[1]));
	EXPECT_EQ(variant->size, sealshm_size(self->shm[1]));
	EXPECT_EQ(0x5a, ((unsigned char *)sealshm_buf(self->shm[1]))[variant->size - 1]);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* A named segment keeps the name as given, and the accessors describe it. */
TEST_F(segment, create_named_keeps_name)
{
	ASSERT_EQ(0, sealshm_create("test01_basics", 512, NULL, &self->shm[0]));
	EXPECT_STREQ("test01_basics", sealshm_name(self->shm[0]));
	EXPECT_EQ(512, sealshm_size(self->shm[0]));
	EXPECT_NE(NULL, sealshm_buf(self->shm[0]));
	EXPECT_GE(sealshm_fd(self->shm[0]), 3);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* One leading '/' is accepted and dropped, as POSIX shm users type it; the
 * name is then reachable with or without it. */
TEST_F(segment, leading_slash_is_dropped)
{
	ASSERT_EQ(0, sealshm_create("/slashed", 64, NULL, &self->shm[0]));
	EXPECT_STREQ("slashed", sealshm_name(self->shm[0]));
	ASSERT_EQ(0, sealshm_attach("slashed", NULL, &self->shm[1]));
	EXPECT_STREQ("slashed", sealshm_name(self->shm[1]));
	ASSERT_EQ(0, sealshm_attach("/slashed", NULL, &self->shm[2]));
	EXPECT_STREQ("slashed", sealshm_name(self->shm[2]));
	EXPECT_EQ(-EEXIST, sealshm_create("slashed", 64, NULL, &self->shm[3]));
	EXPECT_EQ(NULL, self->shm[3]);
	EXPECT_EQ(0, sealshm_unlink_name("/slashed", NULL));
}

/* A NULL name generates "psm_" + 8 hex digits, a different one each time,
 * and other handles attach by it. */
TEST_F(segment, create_unnamed_generates_psm_name)
{
	const char *a, *b;

	ASSERT_EQ(0, sealshm_create(NULL, 100, NULL, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create(NULL, 100, NULL, &self->shm[1]));
	a = sealshm_name(self->shm[0]);
	b = sealshm_name(self->shm[1]);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(12, strlen(a));
	EXPECT_EQ(0, strncmp(a, "psm_", 4));
	for (size_t i = 4; i < strlen(a); i++) {
		EXPECT_TRUE(isxdigit((unsigned char)a[i])) {
			TH_LOG("name '%s'", a);
		}
	}
	EXPECT_STRNE(a, b);

	memcpy(sealshm_buf(self->shm[0]), "unnamed", 8);
	ASSERT_EQ(0, sealshm_attach(a, NULL, &self->shm[2]));
	EXPECT_STREQ("unnamed", sealshm_buf(self->shm[2]));
	EXPECT_STREQ(a, sealshm_name(self->shm[2]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

/* A second handle in the same process maps the same memory at a different
 * address: writes through either are seen through the other. */
TEST_F(segment, attach_same_process_shares_bytes)
{
	unsigned char *a, *b;

	ASSERT_EQ(0, sealshm_create("same_proc", 8192, NULL, &self->shm[0]));
	a = sealshm_buf(self->shm[0]);
	memcpy(a, "howdy", 5);
	a[8191] = 0x77;

	ASSERT_EQ(0, sealshm_attach("same_proc", NULL, &self->shm[1]));
	b = sealshm_buf(self->shm[1]);
	EXPECT_NE(a, b);
	EXPECT_EQ(8192, sealshm_size(self->shm[1]));
	EXPECT_EQ(0, memcmp(b, "howdy", 5));
	EXPECT_EQ(0x77, b[8191]);
	b[100] = 0x42;
	EXPECT_EQ(0x42, a[100]);
	EXPECT_NE(sealshm_fd(self->shm[0]), sealshm_fd(self->shm[1]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

/* A forked child (its own connection) attaches by name, reads the parent's
 * bytes and writes some back; the parent sees them. */
TEST_F(segment, attach_from_forked_child_shares_bytes)
{
	unsigned char *a;
	int status;
	pid_t pid;

	ASSERT_EQ(0, sealshm_create("forked", 4097, NULL, &self->shm[0]));
	a = sealshm_buf(self->shm[0]);
	memcpy(a, "from parent", 12);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct sealshm *c = NULL;
		unsigned char *p;

		if (sealshm_attach("forked", NULL, &c) < 0)
			_exit(10);
		p = sealshm_buf(c);
		if (sealshm_size(c) != 4097)
			_exit(11);
		if (memcmp(p, "from parent", 12))
			_exit(12);
		memcpy(p + 4000, "from child", 11);
		sealshm_close(c);
		_exit(0);
	}
	status = helper_reap(pid, 10000);
	EXPECT_EQ(0, helper_exit_code(status));
	EXPECT_STREQ("from child", (char *)a + 4000);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* A separately exec'd program attaches by name, reads what the parent wrote
 * and writes a byte the parent then sees. */
TEST_F(segment, attach_from_exec_peer_shares_bytes)
{
	unsigned char *a;
	char out[64];

	ASSERT_EQ(0, sealshm_create("exec_peer", 300, NULL, &self->shm[0]));
	a = sealshm_buf(self->shm[0]);
	a[17] = 201;
	/* Untracked peers: a tracking one would take the name with it when
	 * it exits (CPython's rule, tracking_test). */
	EXPECT_EQ(0, run_peer((const char *[]){ "--no-track", "read", "exec_peer", "17", NULL },
			      out, sizeof(out)));
	EXPECT_STREQ("201\n", out);
	EXPECT_EQ(0, run_peer((const char *[]){ "--no-track", "attach", "exec_peer", "299", "99",
						NULL }, NULL, 0));
	EXPECT_EQ(99, a[299]);
	EXPECT_EQ(0, run_peer((const char *[]){ "--no-track", "size", "exec_peer", NULL }, out,
			      sizeof(out)));
	EXPECT_STREQ("300\n", out);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* Creating a name that exists fails with -EEXIST (whatever the size), sets
 * errno, leaves *ret alone and the existing segment intact. */
TEST_F(segment, create_existing_name_fails_eexist)
{
	struct sealshm *sentinel = (struct sealshm *)0x1;
	struct sealshm *out = sentinel;

	ASSERT_EQ(0, sealshm_create("taken", 4096, NULL, &self->shm[0]));
	memcpy(sealshm_buf(self->shm[0]), "first", 6);
	errno = 0;
	EXPECT_EQ(-EEXIST, sealshm_create("taken", 4096, NULL, &out));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(sentinel, out);
	EXPECT_EQ(-EEXIST, sealshm_create("taken", 1, NULL, &out));
	EXPECT_EQ(-EEXIST, sealshm_create("/taken", 1 << 20, NULL, &out));
	EXPECT_EQ(sentinel, out);

	ASSERT_EQ(0, sealshm_attach("taken", NULL, &self->shm[1]));
	EXPECT_EQ(4096, sealshm_size(self->shm[1]));
	EXPECT_STREQ("first", sealshm_buf(self->shm[1]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* Attaching or unlinking a name nobody created fails with -ENOENT and sets
 * errno. */
TEST_F(segment, missing_name_fails_enoent)
{
	struct sealshm_info info;

	errno = 0;
	EXPECT_EQ(-ENOENT, sealshm_attach("never_created", NULL, &self->shm[0]));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(NULL, self->shm[0]);
	EXPECT_EQ(-ENOENT, sealshm_unlink_name("never_created", NULL));
	EXPECT_EQ(-ENOENT, sealshm_stat("never_created", NULL, &info));
}

/* Size 0 is refused with -EINVAL for named and unnamed segments, and
 * nothing is registered. */
TEST_F(segment, create_size_zero_fails_einval)
{
	errno = 0;
	EXPECT_EQ(-EINVAL, sealshm_create("zero", 0, NULL, &self->shm[0]));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sealshm_create(NULL, 0, NULL, &self->shm[0]));
	EXPECT_EQ(NULL, self->shm[0]);
	EXPECT_EQ(-ENOENT, sealshm_attach("zero", NULL, &self->shm[0]));
}

/* A size above RLIMIT_FSIZE is -EFBIG, and the caller lives: growing the
 * file would also raise SIGXFSZ, whose default action kills.  Both
 * backends; nothing is registered, no /dev/shm file is left. */
TEST_F(segment, create_above_rlimit_fsize_fails_efbig)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = 65536, .rlim_max = RLIM_INFINITY };
		SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX);
		struct sealshm *shm = NULL;

		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(10);
		if (sealshm_create("efbig", 65537, NULL, &shm) != -EFBIG || shm)
			_exit(11);
		if (sealshm_create("sealshm-test-efbig", 65537, &posix, &shm) != -EFBIG || shm)
			_exit(12);
		/* At the limit is fine. */
		if (sealshm_create("efbig", 65536, NULL, &shm) < 0)
			_exit(13);
		if (sealshm_unlink(shm) < 0)
			_exit(14);
		sealshm_close(shm);
		_exit(0);
	}
	status = helper_reap(pid, 10000);
	EXPECT_EQ(0, helper_exit_code(status)) {
		TH_LOG("child status %#x (signal %d)", status,
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	EXPECT_EQ(-1, access("/dev/shm/sealshm-test-efbig", F_OK));
}

/* SEALSHM_RESERVE allocates every page at create (the segment is resident
 * before anyone touches it), and a size the machine cannot hold is -ENOMEM
 * at once, with nothing registered, instead of a create that succeeds and
 * a SIGBUS or OOM kill at the first touch (1 TiB is accepted without it).
 * Both backends. */
TEST_F(segment, reserve_allocates_now_or_refuses)
{
	SEALSHM_OPTS(sealshm_opts, reserve, .flags = SEALSHM_RESERVE | SEALSHM_NO_TRACK);
	SEALSHM_OPTS(sealshm_opts, lazy, .flags = SEALSHM_NO_TRACK);
	SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX | SEALSHM_RESERVE);
	struct sealshm_info info;
	char pname[64];
	struct stat st;

	EXPECT_EQ(-ENOMEM, sealshm_create("huge", (size_t)1 << 40, &reserve, &self->shm[0]));
	EXPECT_EQ(NULL, self->shm[0]);
	EXPECT_EQ(-ENOENT, sealshm_stat("huge", NULL, &info));
	/* Without it, the same create succeeds: pages come on first touch. */
	ASSERT_EQ(0, sealshm_create("huge", (size_t)1 << 40, &lazy, &self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));

	ASSERT_EQ(0, sealshm_create("reserved", 8 << 20, &reserve, &self->shm[1]));
	ASSERT_EQ(0, sealshm_stat("reserved", NULL, &info));
	EXPECT_EQ(8 << 20, info.resident);
	ASSERT_EQ(0, sealshm_create("lazy", 8 << 20, &lazy, &self->shm[2]));
	ASSERT_EQ(0, sealshm_stat("lazy", NULL, &info));
	EXPECT_EQ(0, info.resident);
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[2]));

	snprintf(pname, sizeof(pname), "sealshm_reserve_%d", (int)getpid());
	ASSERT_EQ(0, sealshm_create(pname, 4 << 20, &posix, &self->shm[3]));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[3]), &st));
	EXPECT_EQ(4 << 20, st.st_blocks * 512);
	EXPECT_EQ(0, sealshm_unlink(self->shm[3]));
	/* Attaching reserves nothing: the flag is refused there. */
	EXPECT_EQ(-EINVAL, sealshm_attach("reserved", &reserve, &self->shm[0]));
}

/* This process's memory cgroup directory (v1's memory hierarchy, else the
 * unified one) under /sys/fs/cgroup, in @buf. */
static int own_memcg(char *buf, size_t len, bool *ret_v2)
{
	char text[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(text, sizeof(text), f)) {
		char *c1 = strchr(text, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		c2[strcspn(c2 + 1, "\n") + 1] = '\0';
		if (strstr(c1 + 1, "memory")) {
			snprintf(buf, len, "/sys/fs/cgroup/memory%s", c2 + 1);
			*ret_v2 = false;
			r = 0;
			break;
		}
		if (!strcmp(text, "0:") && c1[1] == '\0') {
			snprintf(buf, len, "/sys/fs/cgroup%s", c2 + 1);
			*ret_v2 = true;
			r = 0;
		}
	}
	fclose(f);
	return r;
}

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* In a memory cgroup of 64 MiB, a reserved create of 128 MiB is -ENOMEM
 * and the caller lives (fallocate() alone would have called the cgroup's
 * OOM killer on it); 16 MiB fits.  Skipped where this process may not make
 * a memory cgroup (no cgroupfs, a read-only one, v2 without the memory
 * controller delegated). */
TEST_F(segment, reserve_refuses_what_the_memory_cgroup_cannot_hold)
{
	char dir[PATH_MAX], sub[PATH_MAX + 32], pid_s[32];
	bool v2 = false;
	int status;
	pid_t pid;

	if (own_memcg(dir, sizeof(dir), &v2) < 0)
		SKIP(return, "no memory cgroup in /proc/self/cgroup");
	snprintf(sub, sizeof(sub), "%s/sealshm-test-%d", dir, (int)getpid());
	if (mkdir(sub, 0755) < 0)
		SKIP(return, "cannot make a memory cgroup: %s", strerror(errno));
	if (write_file(sub, v2 ? "memory.max" : "memory.limit_in_bytes", "67108864") < 0) {
		rmdir(sub);
		SKIP(return, "cannot limit a memory cgroup (%s)", v2 ? "v2" : "v1");
	}

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		SEALSHM_OPTS(sealshm_opts, reserve,
			     .flags = SEALSHM_RESERVE | SEALSHM_NO_TRACK);
		struct sealshm *shm = NULL;

		snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
		if (write_file(sub, "cgroup.procs", pid_s) < 0)
			_exit(10);
		if (sealshm_create("memcg_big", 128 << 20, &reserve, &shm) != -ENOMEM || shm)
			_exit(11);
		if (sealshm_create("memcg_small", 16 << 20, &reserve, &shm) < 0)
			_exit(12);
		if (sealshm_unlink(shm) < 0)
			_exit(13);
		sealshm_close(shm);
		_exit(0);
	}
	status = helper_reap(pid, 20000);
	EXPECT_EQ(0, helper_exit_code(status)) {
		TH_LOG("child status %#x (signal %d)", status,
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	/* Empty once its process is gone and its pages freed. */
	for (int i = 0; i < 50 && rmdir(sub) < 0; i++)
		helper_sleep_ms(100);
	EXPECT_EQ(-1, access(sub, F_OK));
}

/* Every malformed name is refused with -EINVAL by every call that takes a
 * name, before anything is registered. */
TEST_F(segment, bad_names_fail_einval)
{
	char long_name[SEALSHM_NAME_MAX + 2];
	const char *bad[] = {
		"", "/", "//x", "a/b", "x/", "a b", "tab\there", "nl\n", "\x01", "del\x7f",
		"\xff", "trunc\xc3", "\xc0\xaf" /* overlong '/' */, "\xed\xa0\x80" /* surrogate */,
		long_name,
	};
	struct sealshm_info info;

	memset(long_name, 'n', SEALSHM_NAME_MAX + 1);
	long_name[SEALSHM_NAME_MAX + 1] = '\0';

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-EINVAL, sealshm_create(bad[i], 64, NULL, &self->shm[0])) {
			TH_LOG("create bad name #%zu", i);
		}
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(NULL, self->shm[0]);
		EXPECT_EQ(-EINVAL, sealshm_attach(bad[i], NULL, &self->shm[0])) {
			TH_LOG("attach bad name #%zu", i);
		}
		EXPECT_EQ(-EINVAL, sealshm_unlink_name(bad[i], NULL)) {
			TH_LOG("unlink bad name #%zu", i);
		}
		EXPECT_EQ(-EINVAL, sealshm_stat(bad[i], NULL, &info)) {
			TH_LOG("stat bad name #%zu", i);
		}
	}
	EXPECT_EQ(-EINVAL, sealshm_attach(NULL, NULL, &self->shm[0]));
	EXPECT_EQ(-EINVAL, sealshm_unlink_name(NULL, NULL));
}

/* The longest names (255 bytes, or '/' + 255) and UTF-8 beyond ASCII are
 * valid names. */
TEST_F(segment, edge_names_are_valid)
{
	char longest[SEALSHM_NAME_MAX + 2];

	memset(longest, 'L', SEALSHM_NAME_MAX);
	longest[SEALSHM_NAME_MAX] = '\0';
	ASSERT_EQ(0, sealshm_create(longest, 10, NULL, &self->shm[0]));
	EXPECT_STREQ(longest, sealshm_name(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));

	longest[0] = '/';
	memset(longest + 1, 'S', SEALSHM_NAME_MAX);
	longest[SEALSHM_NAME_MAX + 1] = '\0';
	ASSERT_EQ(0, sealshm_create(longest, 10, NULL, &self->shm[1]));
	EXPECT_STREQ(longest + 1, sealshm_name(self->shm[1]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));

	ASSERT_EQ(0, sealshm_create("caf\xc3\xa9-\xe2\x82\xac", 10, NULL, &self->shm[2]));
	ASSERT_EQ(0, sealshm_attach("caf\xc3\xa9-\xe2\x82\xac", NULL, &self->shm[3]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[3]));
}

/* @cp in UTF-8 at @buf (NUL-terminated, at most 5 bytes with the NUL). */
static char *utf8(char *buf, uint32_t cp)
{
	unsigned char *b = (unsigned char *)buf;

	if (cp < 0x80) {
		*b++ = cp;
	} else if (cp < 0x800) {
		*b++ = 0xc0 | cp >> 6;
		*b++ = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		*b++ = 0xe0 | cp >> 12;
		*b++ = 0x80 | (cp >> 6 & 0x3f);
		*b++ = 0x80 | (cp & 0x3f);
	} else {
		*b++ = 0xf0 | cp >> 18;
		*b++ = 0x80 | (cp >> 12 & 0x3f);
		*b++ = 0x80 | (cp >> 6 & 0x3f);
		*b++ = 0x80 | (cp & 0x3f);
	}
	*b = '\0';
	return buf;
}

/* "a" + @cp + "b". */
static const char *with_char(char *buf, size_t len, uint32_t cp)
{
	char c[5];

	snprintf(buf, len, "a%sb", utf8(c, cp));
	return buf;
}

/* Names that could spoof a listing are refused with -EINVAL by every call
 * that takes a name: "." and "..", and a character beyond ASCII that is a
 * control, a space or separator, or one that shows as nothing (each end of
 * every refused range of lib/name.c). */
TEST_F(segment, names_that_spoof_a_listing_fail_einval)
{
	static const uint32_t refused[] = {
		0x0080, 0x0085, 0x009b, 0x009f,		/* C1 controls */
		0x00a0, 0x1680, 0x2000, 0x2007, 0x200a, 0x202f, 0x205f, 0x3000,	/* spaces */
		0x2028, 0x2029,				/* line, paragraph separators */
		0x00ad, 0x034f, 0x061c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180e,
		0x200b, 0x200c, 0x200d, 0x200e, 0x200f,	/* zero width, LRM, RLM */
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e,	/* embeddings, overrides */
		0x2060, 0x2063, 0x2064, 0x2065,		/* word joiner, invisible ops */
		0x2066, 0x2067, 0x2068, 0x2069,		/* isolates */
		0x206a, 0x206f, 0x3164, 0xfeff, 0xffa0, 0xfff0, 0xfff8,
		0x1bca0, 0x1bca3, 0x1d173, 0x1d17a,
		0xe0000, 0xe0001, 0xe0020, 0xe007f, 0xe00ff, 0xe01f0, 0xe0fff,	/* tags */
	};
	static const char *const dots[] = { ".", "..", "/.", "/.." };
	struct sealshm_info info;
	char name[16];

	for (size_t i = 0; i < ELEMENTSOF(refused) + ELEMENTSOF(dots); i++) {
		const char *n = i < ELEMENTSOF(dots) ? dots[i] :
				with_char(name, sizeof(name), refused[i - ELEMENTSOF(dots)]);
		char what[16];

		if (i < ELEMENTSOF(dots))
			snprintf(what, sizeof(what), "'%s'", dots[i]);
		else
			snprintf(what, sizeof(what), "U+%04X", refused[i - ELEMENTSOF(dots)]);
		EXPECT_EQ(-EINVAL, sealshm_create(n, 64, NULL, &self->shm[0])) {
			TH_LOG("create: %s accepted", what);
		}
		EXPECT_EQ(NULL, self->shm[0]);
		EXPECT_EQ(-EINVAL, sealshm_attach(n, NULL, &self->shm[0])) {
			TH_LOG("attach: %s", what);
		}
		EXPECT_EQ(-EINVAL, sealshm_unlink_name(n, NULL)) {
			TH_LOG("unlink: %s", what);
		}
		EXPECT_EQ(-EINVAL, sealshm_stat(n, NULL, &info)) {
			TH_LOG("stat: %s", what);
		}
		EXPECT_EQ(-EINVAL, sealshm_check_name(n, NULL));
	}
}

/* What stays valid around those refusals: dots that are not "." or "..",
 * names that begin with '-', the neighbours of every refused range,
 * combining marks, variation selectors (emoji need U+FE0F), private-use
 * and unassigned code points, U+10FFFF.  Each is created and unlinked. */
TEST_F(segment, names_next_to_the_refused_ones_are_valid)
{
	static const char *const plain[] = {
		"...", ".x", "x.", "-", "-x", "--", "a\\b",
		"e\xcc\x81",			/* e + combining acute accent */
		"\xe2\x9d\xa4\xef\xb8\x8f",	/* U+2764 U+FE0F: red heart emoji */
	};
	static const uint32_t allowed[] = {
		0x00a1, 0x00ac, 0x00ae, 0x0300, 0x034e, 0x0350, 0x061b, 0x061d, 0x115e, 0x1161,
		0x167f, 0x1681, 0x17b3, 0x17b6, 0x180b, 0x180d, 0x180f, 0x1fff, 0x2010, 0x2027,
		0x2030, 0x205e, 0x2070, 0x2fff, 0x3001, 0x3163, 0x3165, 0xe000, 0xfe00, 0xfe0f,
		0xfefe, 0xff00, 0xff9f, 0xffa1, 0xffef, 0xfff9, 0xfffd, 0x1bc9f, 0x1bca4,
		0x1d172, 0x1d17b, 0xdffff, 0xe0100, 0xe01ef, 0xe1000, 0x10ffff,
	};
	char name[16];

	for (size_t i = 0; i < ELEMENTSOF(plain) + ELEMENTSOF(allowed); i++) {
		const char *n = i < ELEMENTSOF(plain) ? plain[i] :
				with_char(name, sizeof(name), allowed[i - ELEMENTSOF(plain)]);
		struct sealshm_info info;

		EXPECT_EQ(0, sealshm_check_name(n, NULL)) {
			TH_LOG("name #%zu", i);
		}
		ASSERT_EQ(0, sealshm_create(n, 64, NULL, &self->shm[0])) {
			TH_LOG("create name #%zu", i);
		}
		EXPECT_STREQ(n, sealshm_name(self->shm[0]));
		EXPECT_EQ(0, sealshm_stat(n, NULL, &info));
		EXPECT_STREQ(n, info.name);
		EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
		sealshm_close(self->shm[0]);
		self->shm[0] = NULL;
	}
}

/* Copies its phrase: it lives only as long as the thread. */
static void *check_name_in_thread(void *arg)
{
	char *buf = arg;
	const char *reason = NULL;

	if (sealshm_check_name("zw\xe2\x80\x8bsp", &reason) == -EINVAL && reason)
		snprintf(buf, 128, "%s", reason);
	return NULL;
}

/* sealshm_check_name() says which rule a name breaks, first one first, with
 * the code point where it names a character; it sets errno, leaves the
 * reason alone for a valid name, and a phrase stays valid while another
 * thread checks names. */
TEST(check_name_says_which_rule)
{
	char longest[SEALSHM_NAME_MAX + 2], too_long[SEALSHM_NAME_MAX + 2];
	const struct {
		const char *name, *reason;
	} cases[] = {
		{ NULL, "is NULL" },
		{ "", "is empty" },
		{ "/", "is empty" },
		{ too_long, "is longer than 255 bytes" },
		{ ".", "is \".\" or \"..\"" },
		{ "/..", "is \".\" or \"..\"" },
		{ "a/b", "has a '/' after its first byte" },
		{ "//a", "has a '/' after its first byte" },
		{ "a b/c", "has a space or control character (U+0020)" },
		{ "tab\t", "has a space or control character (U+0009)" },
		{ "esc\x1b[2J", "has a space or control character (U+001B)" },
		{ "del\x7f", "has a space or control character (U+007F)" },
		{ "nel\xc2\x85", "has a space or control character (U+0085)" },
		{ "nbsp\xc2\xa0x", "has a space or control character (U+00A0)" },
		{ "\xe3\x80\x80", "has a space or control character (U+3000)" },
		{ "ls\xe2\x80\xa8x", "has a space or control character (U+2028)" },
		{ "bad\xff", "is not well-formed UTF-8" },
		{ "\xc0\xaf", "is not well-formed UTF-8" },
		{ "cut\xe2\x82", "is not well-formed UTF-8" },
		{ "rlo\xe2\x80\xae", "has an invisible or bidirectional control character (U+202E)" },
		{ "shy\xc2\xad", "has an invisible or bidirectional control character (U+00AD)" },
		{ "bom\xef\xbb\xbf", "has an invisible or bidirectional control character (U+FEFF)" },
		{ "tag\xf3\xa0\x80\x81", "has an invisible or bidirectional control character (U+E0001)" },
	};
	const char *reason, *first;
	char theirs[128] = "";
	pthread_t t;

	memset(too_long, 'n', SEALSHM_NAME_MAX + 1);
	too_long[SEALSHM_NAME_MAX + 1] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		reason = NULL;
		errno = 0;
		EXPECT_EQ(-EINVAL, sealshm_check_name(cases[i].name, &reason)) {
			TH_LOG("case %zu", i);
		}
		EXPECT_EQ(EINVAL, errno);
		EXPECT_STREQ(cases[i].reason, reason ? reason : "(none)") {
			TH_LOG("case %zu", i);
		}
		EXPECT_EQ(-EINVAL, sealshm_check_name(cases[i].name, NULL));
	}

	/* Valid: 0, the reason untouched; the longest name, with its '/'. */
	longest[0] = '/';
	memset(longest + 1, 'L', SEALSHM_NAME_MAX);
	longest[SEALSHM_NAME_MAX + 1] = '\0';
	reason = "untouched";
	EXPECT_EQ(0, sealshm_check_name(longest, &reason));
	EXPECT_EQ(0, sealshm_check_name("caf\xc3\xa9", &reason));
	EXPECT_STREQ("untouched", reason);

	/* Another thread's phrase is its own. */
	ASSERT_EQ(-EINVAL, sealshm_check_name("rlo\xe2\x80\xae", &first));
	ASSERT_EQ(0, pthread_create(&t, NULL, check_name_in_thread, theirs));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_STREQ("has an invisible or bidirectional control character (U+200B)", theirs);
	EXPECT_STREQ("has an invisible or bidirectional control character (U+202E)", first);
}

/* After unlink the name is gone (attach -ENOENT, second unlink -ENOENT) but
 * every existing mapping still reads and writes the same memory. */
TEST_F(segment, unlink_keeps_existing_mappings)
{
	unsigned char *a, *b;

	ASSERT_EQ(0, sealshm_create("doomed", 4096, NULL, &self->shm[0]));
	ASSERT_EQ(0, sealshm_attach("doomed", NULL, &self->shm[1]));
	a = sealshm_buf(self->shm[0]);
	b = sealshm_buf(self->shm[1]);
	a[0] = 1;

	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	errno = 0;
	EXPECT_EQ(-ENOENT, sealshm_attach("doomed", NULL, &self->shm[2]));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(NULL, self->shm[2]);

	EXPECT_EQ(1, b[0]);
	b[4095] = 2;
	EXPECT_EQ(2, a[4095]);
	a[10] = 3;
	EXPECT_EQ(3, b[10]);
	EXPECT_EQ(4096, sealshm_size(self->shm[1]));

	errno = 0;
	EXPECT_EQ(-ENOENT, sealshm_unlink(self->shm[1]));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(-ENOENT, sealshm_unlink_name("doomed", NULL));
}

/* An unlinked name can be created again, and is a new, zeroed segment. */
TEST_F(segment, unlinked_name_is_reusable)
{
	struct stat st1, st2;

	ASSERT_EQ(0, sealshm_create("again", 64, NULL, &self->shm[0]));
	memset(sealshm_buf(self->shm[0]), 0xee, 64);
	ASSERT_EQ(0, sealshm_unlink_name("again", NULL));
	ASSERT_EQ(0, sealshm_create("again", 32, NULL, &self->shm[1]));
	EXPECT_EQ(32, sealshm_size(self->shm[1]));
	EXPECT_EQ(0, ((unsigned char *)sealshm_buf(self->shm[1]))[0]);
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[0]), &st1));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[1]), &st2));
	EXPECT_NE(st1.st_ino, st2.st_ino);
	EXPECT_EQ(0xee, ((unsigned char *)sealshm_buf(self->shm[0]))[63]);
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

/* An old handle unlinks only its own segment: once the name was unlinked
 * and made again (here by another handle; by anyone in general), the old
 * handle's unlink is -ENOENT and the newer segment stays; unlink by name
 * keeps its meaning, and with .ino does what the handle's unlink does,
 * handle or not.  Also for a handle from an attach, and in the POSIX
 * backend. */
TEST_F(segment, stale_handle_does_not_unlink_newer_segment)
{
	SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX);
	struct sealshm *attached = NULL;
	struct sealshm_info info;
	uint64_t old_ino, new_ino;
	struct stat st;
	char pname[64];

	ASSERT_EQ(0, sealshm_create("renewed", 64, NULL, &self->shm[0]));
	ASSERT_EQ(0, sealshm_attach("renewed", NULL, &attached));
	ASSERT_EQ(0, sealshm_unlink_name("renewed", NULL));
	ASSERT_EQ(0, sealshm_create("renewed", 32, NULL, &self->shm[1]));

	EXPECT_EQ(-ENOENT, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, sealshm_unlink(attached));
	ASSERT_EQ(0, sealshm_stat("renewed", NULL, &info));
	EXPECT_EQ(32, info.size);
	sealshm_close(attached);

	/* By name and inode: the old inode is refused, the name stays. */
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[0]), &st));
	old_ino = (uint64_t)st.st_ino;
	new_ino = info.ino;
	ASSERT_NE(old_ino, new_ino);
	{
		SEALSHM_OPTS(sealshm_opts, only_old, .ino = old_ino);

		EXPECT_EQ(-ENOENT, sealshm_unlink_name("renewed", &only_old));
	}
	ASSERT_EQ(0, sealshm_stat("renewed", NULL, &info));
	EXPECT_EQ(new_ino, info.ino);

	/* The newer handle's own unlink works; then nothing is left. */
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
	EXPECT_EQ(-ENOENT, sealshm_unlink(self->shm[1]));
	EXPECT_EQ(-ENOENT, sealshm_stat("renewed", NULL, &info));

	/* By name: whatever the name names; by name and its inode: it. */
	ASSERT_EQ(0, sealshm_create("renewed", 16, NULL, &self->shm[2]));
	EXPECT_EQ(0, sealshm_unlink_name("renewed", NULL));
	ASSERT_EQ(0, sealshm_create("renewed", 16, NULL, &self->shm[4]));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[4]), &st));
	{
		SEALSHM_OPTS(sealshm_opts, only_it, .ino = (uint64_t)st.st_ino);

		EXPECT_EQ(0, sealshm_unlink_name("renewed", &only_it));
		EXPECT_EQ(-ENOENT, sealshm_unlink_name("renewed", &only_it));
	}
	EXPECT_EQ(-ENOENT, sealshm_stat("renewed", NULL, &info));

	/* /dev/shm, as CPython names it. */
	snprintf(pname, sizeof(pname), "sealshm_renewed_%d", (int)getpid());
	ASSERT_EQ(0, sealshm_create(pname, 64, &posix, &self->shm[3]));
	ASSERT_EQ(0, sealshm_unlink_name(pname, &posix));
	ASSERT_EQ(0, sealshm_create(pname, 64, &posix, &attached));
	EXPECT_EQ(-ENOENT, sealshm_unlink(self->shm[3]));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[3]), &st));
	{
		SEALSHM_OPTS(sealshm_opts, posix_old, .flags = SEALSHM_POSIX,
			     .ino = (uint64_t)st.st_ino);

		EXPECT_EQ(-ENOENT, sealshm_unlink_name(pname, &posix_old));
	}
	EXPECT_EQ(0, sealshm_unlink(attached));
	EXPECT_EQ(-ENOENT, sealshm_unlink_name(pname, &posix));
	sealshm_close(attached);
}

/* The same across a trackerd restart: the restarted trackerd knows the name
 * with a new segment, which a handle from before must not remove. */
TEST_F(segment, handle_from_before_restart_does_not_unlink)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm_info info;

	ASSERT_EQ(0, sealshm_create("restarted", 64, &untracked, &self->shm[0]));
	ASSERT_EQ(0, trackerd_stop(&self->d));
	ASSERT_EQ(0, trackerd_spawn(&self->d, NULL));	/* the same socket */
	ASSERT_EQ(0, sealshm_create("restarted", 64, &untracked, &self->shm[1]));
	EXPECT_EQ(-ENOENT, sealshm_unlink(self->shm[0]));
	ASSERT_EQ(0, sealshm_stat("restarted", NULL, &info));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

/* sealshm_registry_list and sealshm_stat report what was created: size, owner,
 * mode, seals, creation time, creator pid and inode; after unlink, neither
 * reports it. */
TEST_F(segment, list_and_stat_report_created)
{
	SEALSHM_OPTS(sealshm_opts, opts, .mode = 0640);
	struct sealshm_info *infos = NULL, info;
	struct timespec now;
	struct stat st;
	int n, found = 0;

	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &now));
	ASSERT_EQ(0, sealshm_create("listed", 4097, &opts, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create("other", 1, NULL, &self->shm[1]));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[0]), &st));

	n = sealshm_registry_list(NULL, &infos);
	ASSERT_EQ(2, n);
	ASSERT_NE(NULL, infos);
	for (int i = 0; i < n; i++) {
		if (strcmp(infos[i].name, "listed")) {
			EXPECT_STREQ("other", infos[i].name);
			EXPECT_EQ(1, infos[i].size);
			EXPECT_EQ(0600, infos[i].mode);
			continue;
		}
		found++;
		EXPECT_EQ(4097, infos[i].size);
		EXPECT_EQ(getuid(), infos[i].uid);
		EXPECT_EQ(getgid(), infos[i].gid);
		EXPECT_EQ(0640, infos[i].mode);
		EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW,
			  infos[i].seals & (F_SEAL_SHRINK | F_SEAL_GROW));
		EXPECT_EQ((uint32_t)getpid(), infos[i].creator_pid);
		EXPECT_EQ(st.st_ino, infos[i].ino);
		EXPECT_LE((int64_t)(now.tv_sec - 5) * 1000000000, infos[i].ctime_ns);
		EXPECT_GE((int64_t)(now.tv_sec + 60) * 1000000000, infos[i].ctime_ns);
	}
	EXPECT_EQ(1, found);
	free(infos);

	ASSERT_EQ(0, sealshm_stat("/listed", NULL, &info));
	EXPECT_STREQ("listed", info.name);
	EXPECT_EQ(4097, info.size);
	EXPECT_EQ(0640, info.mode);
	EXPECT_EQ(st.st_ino, info.ino);
	EXPECT_EQ((uint32_t)getpid(), info.creator_pid);

	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(-ENOENT, sealshm_stat("listed", NULL, &info));
	infos = NULL;
	EXPECT_EQ(1, sealshm_registry_list(NULL, &infos));
	if (infos)
		EXPECT_STREQ("other", infos[0].name);
	free(infos);
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

/* An empty registry lists as 0 entries and a NULL array. */
TEST_F(segment, list_empty_is_zero)
{
	struct sealshm_info *infos = (struct sealshm_info *)0x1;

	EXPECT_EQ(0, sealshm_registry_list(NULL, &infos));
	EXPECT_EQ(NULL, infos);
}

/* More names than one LIST page holds are all listed (cursor paging). */
TEST_F_TIMEOUT(segment, list_pages_through_many_names, 60)
{
	const int total = (int)SEALSHM_PROTO_LIST_PAGE * 2 + 5;
	struct sealshm_info *infos = NULL;
	char *seen;
	int n;

	seen = calloc((size_t)total, 1);
	ASSERT_NE(NULL, seen);
	for (int i = 0; i < total; i++) {
		struct sealshm *s = NULL;
		char name[32];

		snprintf(name, sizeof(name), "page_%04d", i);
		ASSERT_EQ(0, sealshm_create(name, 1, NULL, &s)) {
			TH_LOG("creating %s", name);
		}
		sealshm_close(s);
	}
	n = sealshm_registry_list(NULL, &infos);
	EXPECT_EQ(total, n);
	for (int i = 0; i < n; i++) {
		int k = -1;

		if (sscanf(infos[i].name, "page_%d", &k) == 1 && k >= 0 && k < total)
			seen[k]++;
	}
	for (int i = 0; i < total; i++) {
		EXPECT_EQ(1, seen[i]) {
			TH_LOG("page_%04d listed %d times", i, seen[i]);
		}
	}
	free(infos);
	free(seen);
	for (int i = 0; i < total; i++) {
		char name[32];

		snprintf(name, sizeof(name), "page_%04d", i);
		EXPECT_EQ(0, sealshm_unlink_name(name, NULL));
	}
}

/* The default mode is 0600, and the memfd itself carries the segment's mode
 * (so a write reopen through /proc is refused to other users). */
TEST_F(segment, mode_is_applied_to_memfd)
{
	SEALSHM_OPTS(sealshm_opts, opts, .mode = 0644);
	struct sealshm_info info;
	struct stat st;

	ASSERT_EQ(0, sealshm_create("default_mode", 16, NULL, &self->shm[0]));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[0]), &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, sealshm_stat("default_mode", NULL, &info));
	EXPECT_EQ(0600, info.mode);

	ASSERT_EQ(0, sealshm_create("mode_0644", 16, &opts, &self->shm[1]));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[1]), &st));
	EXPECT_EQ(0644, st.st_mode & 07777);
	ASSERT_EQ(0, sealshm_stat("mode_0644", NULL, &info));
	EXPECT_EQ(0644, info.mode);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

/* Opts with a size too small, or unknown trailing bytes that are not zero,
 * are refused with -EINVAL; a larger struct with zero tail is accepted. */
TEST_F(segment, bad_opts_fail_einval)
{
	struct {
		struct sealshm_opts o;
		uint64_t future;
	} big;

	memset(&big, 0, sizeof(big));
	big.o.sz = 4;
	errno = 0;
	EXPECT_EQ(-EINVAL, sealshm_create("opts", 8, &big.o, &self->shm[0]));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sealshm_attach("opts", &big.o, &self->shm[0]));

	big.o.sz = sizeof(big);
	big.future = 1;
	EXPECT_EQ(-EINVAL, sealshm_create("opts", 8, &big.o, &self->shm[0]));
	EXPECT_EQ(-EINVAL, sealshm_attach("opts", &big.o, &self->shm[0]));
	EXPECT_EQ(-EINVAL, sealshm_unlink_name("opts", &big.o));
	EXPECT_EQ(NULL, self->shm[0]);

	big.future = 0;
	ASSERT_EQ(0, sealshm_create("opts", 8, &big.o, &self->shm[0]));
	ASSERT_EQ(0, sealshm_attach("opts", &big.o, &self->shm[1]));
	EXPECT_EQ(0, sealshm_unlink_name("opts", &big.o));
}

/* Unknown flag bits and modes beyond 0777 are refused with -EINVAL. */
TEST_F(segment, bad_flags_and_mode_fail_einval)
{
	SEALSHM_OPTS(sealshm_opts, bad_mode, .mode = 01777);
	SEALSHM_OPTS(sealshm_opts, bad_flags, .flags = 1u << 31);

	EXPECT_EQ(-EINVAL, sealshm_create("flags", 8, &bad_mode, &self->shm[0]));
	EXPECT_EQ(-EINVAL, sealshm_create("flags", 8, &bad_flags, &self->shm[0]));
	EXPECT_EQ(NULL, self->shm[0]);
	EXPECT_EQ(-ENOENT, sealshm_unlink_name("flags", NULL));
}

/* NULL is accepted by sealshm_close; bad pointers to the others fail with
 * -EINVAL instead of crashing. */
TEST_F(segment, null_arguments_are_refused)
{
	EXPECT_EQ(0, sealshm_close(NULL));
	EXPECT_EQ(-EINVAL, sealshm_create("nullret", 8, NULL, NULL));
	EXPECT_EQ(-EINVAL, sealshm_attach("nullret", NULL, NULL));
	EXPECT_EQ(-EINVAL, sealshm_unlink(NULL));
	EXPECT_EQ(-EINVAL, sealshm_registry_list(NULL, NULL));
	EXPECT_EQ(-ENOENT, sealshm_unlink_name("nullret", NULL));
}

/* Every fd the library holds (segment fds and its connection) is
 * close-on-exec. */
TEST_F(segment, fds_are_cloexec)
{
	struct dirent *de;
	DIR *d;

	ASSERT_EQ(0, sealshm_create("cloexec", 4096, NULL, &self->shm[0]));
	ASSERT_EQ(0, sealshm_attach("cloexec", NULL, &self->shm[1]));
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	ASSERT_EQ(0, sealshm_attach("cloexec", &ro, &self->shm[2]));
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(FD_CLOEXEC, fcntl(sealshm_fd(self->shm[i]), F_GETFD) & FD_CLOEXEC);
	}

	d = opendir("/proc/self/fd");
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC) {
			TH_LOG("fd %d", fd);
		}
	}
	closedir(d);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* A program exec'd while segments are open inherits none of their fds,
 * nor the library's connection. */
TEST_F(segment, exec_peer_inherits_no_fds)
{
	ASSERT_EQ(0, sealshm_create("inherit", 4096, NULL, &self->shm[0]));
	ASSERT_EQ(0, sealshm_attach("inherit", NULL, &self->shm[1]));
	EXPECT_EQ(0, run_peer((const char *[]){ "check-fds", NULL }, NULL, 0));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* A failed create leaves nothing behind: no fd, no mapping, no name. */
TEST_F(segment, failed_create_leaks_nothing)
{
	int before;

	ASSERT_EQ(0, sealshm_create("leak", 4096, NULL, &self->shm[0]));
	before = helper_count_fds(0);
	for (int i = 0; i < 50; i++) {
		EXPECT_EQ(-EEXIST, sealshm_create("leak", 1 << 20, NULL, &self->shm[1]));
	}
	EXPECT_EQ(before, helper_count_fds(0));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

/* --- what a create sends: the read-only twin ------------------------------ */

/* What the fake trackerd saw of the one CREATE it got. */
struct twin_seen {
	int nfds;
	int accmode[2];		/* O_ACCMODE of each fd, -1: none */
	bool same_inode;	/* both fds on the memfd's inode */
};

/* A fake trackerd on @lfd (listening) that says it runs as @server_uid:
 * answers HELLO, refuses everything else but CREATE (-EOPNOTSUPP: the fast
 * path's INDEX), answers a CREATE 0 after writing what came with it to
 * @out, then exits. */
static void fake_trackerd(int lfd, uint32_t server_uid, int out)
{
	_Alignas(8) char buf[FAKE_REQUEST_MAX];
	int sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (sock < 0)
		_exit(10);
	for (;;) {
		struct sealshm_msg_hdr *h = (void *)buf;
		struct twin_seen seen = { .accmode = { -1, -1 } };
		struct sealshm_msg_hello_reply hello;
		struct sealshm_msg_hdr rep;
		int fds[SEALSHM_PROTO_FDS_MAX];
		size_t nfds = 0;
		ssize_t n;

		n = sealshm__recv(sock, buf, sizeof(buf), fds, ELEMENTSOF(fds), &nfds, 0);
		if (n < (ssize_t)sizeof(*h))
			_exit(11);
		rep = (struct sealshm_msg_hdr){
			.type = h->type | SEALSHM_MSG_REPLY,
			.size = sizeof(rep),
			.seq = h->seq,
			.status = -EOPNOTSUPP,
		};
		if (h->type == SEALSHM_MSG_HELLO) {
			hello = (struct sealshm_msg_hello_reply){
				.hdr = rep,
				.magic = SEALSHM_PROTO_MAGIC,
				.version = SEALSHM_PROTO_VERSION,
				.server_pid = (uint32_t)getpid(),
				.server_uid = server_uid,
			};
			hello.hdr.size = sizeof(hello);
			hello.hdr.status = 0;
			if (sealshm__send(sock, &hello, sizeof(hello), NULL, 0, 0) < 0)
				_exit(12);
			continue;
		}
		if (h->type != SEALSHM_MSG_CREATE) {
			if (sealshm__send(sock, &rep, sizeof(rep), NULL, 0, 0) < 0)
				_exit(13);
			continue;
		}
		seen.nfds = (int)nfds;
		for (size_t i = 0; i < nfds; i++)
			seen.accmode[i] = fcntl(fds[i], F_GETFL) & O_ACCMODE;
		if (nfds == 2) {
			struct stat a, b;

			seen.same_inode = fstat(fds[0], &a) == 0 && fstat(fds[1], &b) == 0 &&
					  a.st_dev == b.st_dev && a.st_ino == b.st_ino;
		}
		if (write(out, &seen, sizeof(seen)) != (ssize_t)sizeof(seen))
			_exit(14);
		rep.status = 0;
		_exit(sealshm__send(sock, &rep, sizeof(rep), NULL, 0, 0) < 0 ? 15 : 0);
	}
}

FIXTURE(twin) {
	struct trackerd d;	/* its directory and socket path only */
	int lfd, seen[2];	/* the fake trackerd reports what it saw */
	pid_t pid;
	int fds_before;
};

FIXTURE_VARIANT(twin) {
	bool other_uid;		/* the fake trackerd's HELLO says another uid */
};

FIXTURE_VARIANT_ADD(twin, same_uid) { .other_uid = false };
FIXTURE_VARIANT_ADD(twin, other_uid) { .other_uid = true };

FIXTURE_SETUP(twin)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	self->lfd = self->seen[0] = self->seen[1] = -EBADF;
	self->pid = 0;
	self->fds_before = helper_count_fds(0);
	ASSERT_EQ(0, trackerd_prepare(&self->d));
	strcpy(sa.sun_path, self->d.sock);
	self->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ASSERT_GE(self->lfd, 0);
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(self->lfd, 4));
	ASSERT_EQ(0, pipe2(self->seen, O_CLOEXEC));
	self->pid = fork();
	ASSERT_GE(self->pid, 0);
	if (self->pid == 0)
		fake_trackerd(self->lfd, geteuid() + (variant->other_uid ? 1 : 0), self->seen[1]);
	self->lfd = safe_close(self->lfd);
	self->seen[1] = safe_close(self->seen[1]);
	ASSERT_EQ(0, setenv("SEALSHM_SOCKET", self->d.sock, 1));
	ASSERT_EQ(0, setenv("SEALSHM_NO_AUTOSTART", "1", 1));
}

FIXTURE_TEARDOWN(twin)
{
	if (self->pid > 0)
		EXPECT_EQ(0, helper_exit_code(helper_reap(self->pid, 5000)));
	safe_close(self->lfd);
	safe_close(self->seen[0]);
	safe_close(self->seen[1]);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	trackerd_cleanup(&self->d);
}

/* A create sends trackerd the memfd (O_RDWR), and its read-only twin (an
 * O_RDONLY open of the same inode) only when trackerd's HELLO names
 * another uid than ours: a trackerd of our own uid reopens the memfd
 * itself, and the create costs no extra open. */
TEST_F(twin, create_sends_twin_only_to_another_uid)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK, .mode = 0640);
	struct sealshm *shm = NULL;
	struct twin_seen seen;
	struct sealshm_info info;

	ASSERT_EQ(0, sealshm_create("twin", 4096, &o, &shm));
	sealshm_close(shm);
	ASSERT_EQ((ssize_t)sizeof(seen), read(self->seen[0], &seen, sizeof(seen)));
	EXPECT_EQ(O_RDWR, seen.accmode[0]);
	if (variant->other_uid) {
		EXPECT_EQ(2, seen.nfds);
		EXPECT_EQ(O_RDONLY, seen.accmode[1]);
		EXPECT_TRUE(seen.same_inode);
	} else {
		EXPECT_EQ(1, seen.nfds);
	}
	/* The fake has gone: this drops the library's connection to it, so
	 * the fd count can come back to where it was. */
	EXPECT_EQ(0, helper_exit_code(helper_reap(self->pid, 5000)));
	self->pid = 0;
	EXPECT_GT(0, sealshm_stat("twin", NULL, &info));
}

TEST_HARNESS_MAIN

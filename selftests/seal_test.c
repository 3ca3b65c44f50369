// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * seal_test: integrity of segments.  A segment's size is sealed, so no
 * holder can shrink it under a reader (no SIGBUS); a read-only attach cannot
 * be turned into a writable mapping; the receiver-side check
 * sealshm__segment_check refuses anything that is not a size-sealed memfd of
 * the announced size.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "memfd.h"

#define SEG_SIZE (3 * 4096 + 100)

FIXTURE(seal) {
	struct trackerd d;
	struct sealshm *creator;
	struct sealshm *shm[2];
	int fds_before;
};

FIXTURE_SETUP(seal)
{
	self->creator = NULL;
	memset(self->shm, 0, sizeof(self->shm));
	self->fds_before = trackerd_start_connected(&self->d, NULL);
	ASSERT_GT(self->fds_before, 0) {
		TH_LOG("trackerd_start_connected: %s", strerror(-self->fds_before));
	}
	ASSERT_EQ(0, sealshm_create("sealed", SEG_SIZE, NULL, &self->creator));
	memset(sealshm_buf(self->creator), 0xab, SEG_SIZE);
}

FIXTURE_TEARDOWN(seal)
{
	struct sealshm_info *infos = NULL;

	EXPECT_EQ(0, sealshm_unlink_name("sealed", NULL));
	EXPECT_EQ(0, sealshm_registry_list(NULL, &infos));
	free(infos);
	sealshm_close(self->creator);
	for (int i = 0; i < 2; i++)
		sealshm_close(self->shm[i]);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	trackerd_cleanup(&self->d);
}

/* Assert that every way of changing @fd's size fails with EPERM and the size
 * stays @size. */
static void expect_size_sealed(struct __test_metadata *_metadata, int fd, off_t size)
{
	struct stat st;

	errno = 0;
	EXPECT_EQ(-1, ftruncate(fd, size - 1));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, ftruncate(fd, 0));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, ftruncate(fd, size + 4096));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, fallocate(fd, 0, size, 4096));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(size, st.st_size);
}

/* The creator's and an attacher's fd cannot be shrunk or grown: ftruncate
 * and fallocate fail with EPERM. */
TEST_F(seal, received_segment_cannot_shrink_or_grow)
{
	ASSERT_EQ(0, sealshm_attach("sealed", NULL, &self->shm[0]));
	expect_size_sealed(_metadata, sealshm_fd(self->shm[0]), SEG_SIZE);
	expect_size_sealed(_metadata, sealshm_fd(self->creator), SEG_SIZE);
}

/* Reopening the received fd through /proc gives the same sealed inode: the
 * size stays sealed whatever fd a peer holds. */
TEST_F(seal, reopened_fd_is_still_sealed)
{
	char path[64];
	int fd;

	ASSERT_EQ(0, sealshm_attach("sealed", NULL, &self->shm[0]));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sealshm_fd(self->shm[0]));
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	expect_size_sealed(_metadata, fd, SEG_SIZE);
	close(fd);
}

/* A peer process that tries every way to shrink the segment fails, and the
 * reader then touches every byte without SIGBUS (which would kill the test). */
TEST_F(seal, peer_cannot_make_reader_sigbus)
{
	volatile unsigned char *p;
	unsigned int sum = 0;
	pid_t pid;

	ASSERT_EQ(0, sealshm_attach("sealed", NULL, &self->shm[0]));
	p = sealshm_buf(self->shm[0]);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct sealshm *c = NULL;
		char path[64];
		int fd, bad = 0;

		if (sealshm_attach("sealed", NULL, &c) < 0)
			_exit(10);
		if (ftruncate(sealshm_fd(c), 0) == 0 || errno != EPERM)
			bad |= 1;
		if (ftruncate(sealshm_fd(c), SEG_SIZE / 2) == 0 || errno != EPERM)
			bad |= 4;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", sealshm_fd(c));
		fd = open(path, O_RDWR | O_TRUNC | O_CLOEXEC);
		if (fd >= 0) {
			bad |= 2;	/* O_TRUNC must fail on a shrink-sealed memfd */
			close(fd);
		}
		sealshm_close(c);
		_exit(bad ? 20 + bad : 0);
	}
	EXPECT_EQ(0, helper_exit_code(helper_reap(pid, 10000)));

	for (size_t i = 0; i < SEG_SIZE; i++)
		sum += p[i];
	p[SEG_SIZE - 1] = 1;
	TH_LOG("read %u over %d bytes", sum, SEG_SIZE);
	EXPECT_EQ(SEG_SIZE, sealshm_size(self->shm[0]));
}

/* The seals trackerd reports and the fds carry include SHRINK and GROW. */
TEST_F(seal, seals_include_shrink_and_grow)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_info info;
	int seals;

	ASSERT_EQ(0, sealshm_attach("sealed", NULL, &self->shm[0]));
	ASSERT_EQ(0, sealshm_attach("sealed", &ro, &self->shm[1]));
	seals = fcntl(sealshm_fd(self->creator), F_GET_SEALS);
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, seals & (F_SEAL_SHRINK | F_SEAL_GROW));
	seals = fcntl(sealshm_fd(self->shm[0]), F_GET_SEALS);
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, seals & (F_SEAL_SHRINK | F_SEAL_GROW));
	seals = fcntl(sealshm_fd(self->shm[1]), F_GET_SEALS);
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, seals & (F_SEAL_SHRINK | F_SEAL_GROW));
	ASSERT_EQ(0, sealshm_stat("sealed", NULL, &info));
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, info.seals & (F_SEAL_SHRINK | F_SEAL_GROW));
	EXPECT_EQ((uint32_t)fcntl(sealshm_fd(self->creator), F_GET_SEALS), info.seals);
}

/* A read-only attach gets an O_RDONLY fd: a shared writable mapping of it is
 * refused with EACCES, and so are mprotect(PROT_WRITE) and write(). */
TEST_F(seal, rdonly_attach_refuses_writable_mapping)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	int fd, fl;
	void *p;

	ASSERT_EQ(0, sealshm_attach("sealed", &ro, &self->shm[0]));
	fd = sealshm_fd(self->shm[0]);
	fl = fcntl(fd, F_GETFL);
	ASSERT_GE(fl, 0);
	EXPECT_EQ(O_RDONLY, fl & O_ACCMODE);

	errno = 0;
	p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	if (p != MAP_FAILED)
		munmap(p, SEG_SIZE);

	errno = 0;
	EXPECT_EQ(-1, mprotect(sealshm_buf(self->shm[0]), 4096, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);

	errno = 0;
	EXPECT_EQ(-1, pwrite(fd, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(SEG_SIZE, sealshm_size(self->shm[0]));
}

/* The read-only mapping itself is not writable (a kernel write into it
 * faults with EFAULT) yet shows the writer's bytes as they change. */
TEST_F(seal, rdonly_mapping_reads_but_cannot_write)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	unsigned char *w, *r;
	int zero;

	ASSERT_EQ(0, sealshm_attach("sealed", &ro, &self->shm[0]));
	r = sealshm_buf(self->shm[0]);
	w = sealshm_buf(self->creator);
	EXPECT_EQ(0xab, r[0]);
	w[SEG_SIZE - 1] = 0x11;
	EXPECT_EQ(0x11, r[SEG_SIZE - 1]);

	zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(zero, 0);
	errno = 0;
	EXPECT_EQ(-1, read(zero, r, 1));
	EXPECT_EQ(EFAULT, errno);
	close(zero);
	EXPECT_EQ(0xab, w[0]);
}

/* A read-write attach gets an O_RDWR fd and a writable mapping. */
TEST_F(seal, rdwr_attach_is_writable)
{
	unsigned char *p;

	ASSERT_EQ(0, sealshm_attach("sealed", NULL, &self->shm[0]));
	EXPECT_EQ(O_RDWR, fcntl(sealshm_fd(self->shm[0]), F_GETFL) & O_ACCMODE);
	p = sealshm_buf(self->shm[0]);
	p[5] = 0x55;
	EXPECT_EQ(0x55, ((unsigned char *)sealshm_buf(self->creator))[5]);
}

/* --- sealshm__segment_check: what a receiver checks before mmap ----------- */
FIXTURE(segment_check) {
	int fd;
	int fds_before;
	char dir[64];
};

FIXTURE_SETUP(segment_check)
{
	self->fd = -EBADF;
	self->fds_before = helper_count_fds(0);
	snprintf(self->dir, sizeof(self->dir), "/tmp/sealshm-test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(segment_check)
{
	self->fd = safe_close(self->fd);
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	helper_rm_dir(self->dir);
}

/* A memfd of the right size with SHRINK|GROW passes and reports its seals. */
TEST_F(segment_check, accepts_size_sealed_memfd)
{
	const char *reason = NULL;
	uint32_t seals = 0;

	self->fd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(0, sealshm__segment_check(self->fd, 4096, &seals, &reason));
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, seals & (F_SEAL_SHRINK | F_SEAL_GROW));
	self->fd = safe_close(self->fd);

	/* Extra seals are fine: required, not exact. */
	self->fd = helper_memfd(10, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(0, sealshm__segment_check(self->fd, 10, &seals, &reason));
}

/* Missing seals and a size mismatch are refused with -EINVAL and a reason. */
TEST_F(segment_check, refuses_missing_seals_and_wrong_size)
{
	const unsigned int seal_sets[] = { 0, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL,
					   F_SEAL_WRITE };
	const char *reason;
	uint32_t seals;

	for (size_t i = 0; i < ARRAY_SIZE(seal_sets); i++) {
		self->fd = helper_memfd(4096, seal_sets[i]);
		ASSERT_GE(self->fd, 0);
		reason = NULL;
		EXPECT_EQ(-EINVAL, sealshm__segment_check(self->fd, 4096, &seals, &reason)) {
			TH_LOG("seals 0x%x accepted", seal_sets[i]);
		}
		EXPECT_NE(NULL, reason);
		self->fd = safe_close(self->fd);
	}

	self->fd = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->fd, 0);
	reason = NULL;
	EXPECT_EQ(-EINVAL, sealshm__segment_check(self->fd, 4095, &seals, &reason));
	EXPECT_NE(NULL, reason);
	EXPECT_EQ(-EINVAL, sealshm__segment_check(self->fd, 4097, &seals, &reason));
	EXPECT_EQ(-EINVAL, sealshm__segment_check(self->fd, 0, &seals, &reason));
}

/* Files that are not memfds are refused with -EBADF: a regular file (even
 * a sealable tmpfs one of the right size), a pipe, a socket, /dev/zero. */
TEST_F(segment_check, refuses_non_memfd)
{
	const char *reason;
	char path[128];
	uint32_t seals;
	int p[2], s[2];

	snprintf(path, sizeof(path), "%s/file", self->dir);
	self->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, ftruncate(self->fd, 4096));
	reason = NULL;
	EXPECT_EQ(-EBADF, sealshm__segment_check(self->fd, 4096, &seals, &reason));
	EXPECT_NE(NULL, reason);
	self->fd = safe_close(self->fd);

	/* /dev/shm is tmpfs like a memfd, but not one. */
	self->fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (self->fd >= 0) {
		ASSERT_EQ(0, ftruncate(self->fd, 4096));
		EXPECT_EQ(-EBADF, sealshm__segment_check(self->fd, 4096, &seals, &reason));
		self->fd = safe_close(self->fd);
	}

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-EBADF, sealshm__segment_check(p[0], 0, &seals, &reason));
	EXPECT_EQ(-EBADF, sealshm__segment_check(p[1], 0, &seals, &reason));
	close(p[0]);
	close(p[1]);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s));
	EXPECT_EQ(-EBADF, sealshm__segment_check(s[0], 0, &seals, &reason));
	close(s[0]);
	close(s[1]);

	self->fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(-EBADF, sealshm__segment_check(self->fd, 0, &seals, &reason));
}

/* sealshm__memfd_new makes a close-on-exec memfd of the size and mode asked
 * for, sealed SHRINK|GROW but not SEAL, so publish seals can come later. */
TEST_F(segment_check, memfd_new_is_size_sealed)
{
	const char *reason;
	uint32_t seals;
	struct stat st;

	self->fd = sealshm__memfd_new("seal_test", 8193, 0640);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ(8193, st.st_size);
	EXPECT_EQ(0640, st.st_mode & 0777);
	EXPECT_EQ(0, sealshm__segment_check(self->fd, 8193, &seals, &reason));
	EXPECT_EQ(0, seals & F_SEAL_SEAL);
	EXPECT_EQ(0, fcntl(self->fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
}

/* Where the kernel has MFD_NOEXEC_SEAL (6.3), segments are created
 * non-executable and exec-sealed. */
TEST_F(segment_check, memfd_new_is_noexec)
{
	struct stat st;
	int probe;

	probe = memfd_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	if (probe < 0)
		SKIP(return, "kernel without MFD_NOEXEC_SEAL (before 6.3)");
	close(probe);

	self->fd = sealshm__memfd_new("seal_test", 16, 0600);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(F_SEAL_EXEC, fcntl(self->fd, F_GET_SEALS) & F_SEAL_EXEC);
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ(0, st.st_mode & 0111);
}

TEST_HARNESS_MAIN

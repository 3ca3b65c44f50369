// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Making a size-sealed memfd and checking one that came from elsewhere
 * before it is mapped (trackerd runs the same check on every CREATE).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "internal.h"
#include "memfd.h"

/* memfd_create(2): the name, without the terminating NUL, is at most 249
 * bytes (NAME_MAX minus the "memfd:" prefix the kernel adds). */
#define MEMFD_NAME_MAX 249
#define MEMFD_NAME_PREFIX "sealshm:"

/* "sealshm:<name>", cut to the kernel's limit at a UTF-8 character
 * boundary, so /proc/PID/fd and /proc/PID/maps show readable text. */
static void memfd_name(char buf[MEMFD_NAME_MAX + 1], const char *name)
{
	const size_t room = MEMFD_NAME_MAX - (sizeof(MEMFD_NAME_PREFIX) - 1);
	size_t len = strlen(name);

	if (len > room) {
		/* name[len] is the first byte left out: while it continues a
		 * character, back up so that character goes out whole. */
		len = room;
		while (len > 0 && ((unsigned char)name[len] & 0xc0) == 0x80)
			len--;
	}
	(void)snprintf(buf, MEMFD_NAME_MAX + 1, MEMFD_NAME_PREFIX "%.*s", (int)len, name);
}

int sealshm__fsize_check(uint64_t size)
{
	struct rlimit rl;

	/* Growing a file past RLIMIT_FSIZE is EFBIG, but the kernel also sends
	 * SIGXFSZ, whose default action kills the caller: a library must not
	 * kill its caller over an argument, so say EFBIG without trying. */
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    size > rl.rlim_cur)
		return -EFBIG;
	return 0;
}

int sealshm__memfd_create(const char *debug_name)
{
	int fd = memfd_create(debug_name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);

	if (fd < 0 && errno == EINVAL)
		/* MFD_NOEXEC_SEAL is Linux 6.3+; older kernels reject the
		 * unknown flag. Drop this fallback once 6.3 is the minimum. */
		fd = memfd_create(debug_name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd < 0 ? -errno : fd;
}

int sealshm__memfd_new(const char *name, uint64_t size, mode_t mode)
{
	char mname[MEMFD_NAME_MAX + 1];
	_cleanup_close_ int fd = -EBADF;
	int r;

	/* ftruncate() takes an off_t. */
	if (size == 0 || size > INT64_MAX)
		return -EINVAL;
	if (!name || mode & ~(mode_t)0777)
		return -EINVAL;
	r = sealshm__fsize_check(size);
	if (r < 0)
		return r;

	memfd_name(mname, name);
	fd = sealshm__memfd_create(mname);
	if (fd < 0)
		return fd;

	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;

	/* The inode mode is what the kernel checks when anyone reopens the fd
	 * through /proc/PID/fd (that is how a read-only fd could be turned
	 * read-write), so it must match the name's mode. Exec bits are left
	 * out: segments are no-exec, and under F_SEAL_EXEC (set by
	 * MFD_NOEXEC_SEAL) changing them fails with EPERM. */
	if (fchmod(fd, mode & 0666) < 0)
		return -errno;

	/* Not F_SEAL_SEAL: publishing later adds F_SEAL_(FUTURE_)WRITE. */
	if (fcntl(fd, F_ADD_SEALS, SEALSHM_SEALS_REQUIRED) < 0)
		return -errno;

	return TAKE_FD(fd);
}

static int fail(int r, const char *why, const char **ret_reason)
{
	if (ret_reason)
		*ret_reason = why;
	return r;
}

/* "/proc/self/fd/N" for @fd. */
#define PROC_FD_PATH_MAX (sizeof("/proc/self/fd/") + 3 * sizeof(int))
static void proc_fd_path(char buf[PROC_FD_PATH_MAX], int fd)
{
	(void)snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

static int segment_check(int fd, uint64_t size, uint32_t *ret_seals, uint64_t *ret_ino,
			 const char **ret_reason)
{
	char path[PROC_FD_PATH_MAX];
	char target[sizeof("/memfd:")];
	struct stat st;
	ssize_t n;
	int seals;

	if (fd < 0)
		return fail(-EBADF, "not a memfd", ret_reason);

	/* F_GET_SEALS works on shmem and hugetlbfs files only; anything else
	 * (a regular file, a pipe, a socket, an O_PATH fd) fails here. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return fail(-EBADF, "not a memfd", ret_reason);

	if (fstat(fd, &st) < 0)
		return fail(-errno, "cannot fstat", ret_reason);
	if (!S_ISREG(st.st_mode))
		return fail(-EBADF, "not a memfd", ret_reason);

	/* A tmpfs or hugetlbfs file that memfd_create() did not make also
	 * answers F_GET_SEALS, but it is born with F_SEAL_SEAL and can never
	 * gain another seal: carrying the size seals proves a memfd, with no
	 * readlink on the hot path.  Only to tell the two refusals apart do we
	 * look at the /proc link (a memfd's reads "/memfd:NAME (deleted)";
	 * without /proc, in an odd chroot, say "missing size seals"). */
	if ((seals & SEALSHM_SEALS_REQUIRED) != SEALSHM_SEALS_REQUIRED) {
		proc_fd_path(path, fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			if (strcmp(target, "/memfd:") != 0)
				return fail(-EBADF, "not a memfd", ret_reason);
		}
		return fail(-EINVAL, "missing size seals", ret_reason);
	}

	/* With the size sealed, st_size can no longer change: a mapping of
	 * @size bytes can never fault past the end of the file (SIGBUS). */
	if (size > INT64_MAX || st.st_size < 0 || (uint64_t)st.st_size != size)
		return fail(-EINVAL, "size mismatch", ret_reason);

	if (ret_seals)
		*ret_seals = (uint32_t)seals;
	if (ret_ino)
		*ret_ino = (uint64_t)st.st_ino;
	return 0;
}

int sealshm__segment_check(int fd, uint64_t size, uint32_t *ret_seals, const char **ret_reason)
{
	return segment_check(fd, size, ret_seals, NULL, ret_reason);
}

int sealshm__segment_check_inode(int fd, uint64_t size, uint64_t ino, uint32_t *ret_seals)
{
	uint64_t got;
	int r;

	r = segment_check(fd, size, ret_seals, &got, NULL);
	if (r < 0)
		return r;
	return got == ino ? 0 : -ESTALE;
}

int sealshm__memfd_reopen(int fd, int flags)
{
	char path[PROC_FD_PATH_MAX];
	int r;

	assert((flags & ~O_ACCMODE) == 0);
	proc_fd_path(path, fd);
	r = open(path, flags | O_CLOEXEC | O_NOCTTY);
	return r < 0 ? -errno : r;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The classic POSIX backend (SEALSHM_POSIX): a segment is a file in
 * /dev/shm made by shm_open(3), named and sized exactly as CPython's
 * multiprocessing.shared_memory.SharedMemory does it, so that C and Python
 * programs open each other's segments:
 *
 *   create  shm_open("/" NAME, O_CREAT | O_EXCL | O_RDWR, 0600), ftruncate,
 *           mmap(PROT_READ | PROT_WRITE, MAP_SHARED)
 *   attach  shm_open("/" NAME, O_RDWR), size from fstat(), mmap
 *   unlink  shm_unlink("/" NAME)
 *
 * No trackerd, no tracking, no seals: such a segment is not size-sealed,
 * so a holder that shrinks it makes the others' reads past the new end
 * fault (SIGBUS).  That is the price of CPython's format; memfd segments
 * are the safe default.  shm_open(3) opens with O_CLOEXEC | O_NOFOLLOW.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "internal.h"
#include "memfd.h"
#include "posix.h"
#include "reserve.h"

/* "/" + name, as CPython prepends it (SharedMemory._prepend_leading_slash). */
static int posix_path(char buf[SEALSHM_NAME_MAX + 2], const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SEALSHM_NAME_MAX)
		return -EINVAL;
	buf[0] = '/';
	memcpy(buf + 1, name, len + 1);
	return 0;
}

int sealshm__posix_create(const char *name, size_t size, mode_t mode, bool reserve,
			  struct sealshm__posix_seg *ret)
{
	char path[SEALSHM_NAME_MAX + 2];
	_cleanup_close_ int fd = -EBADF;
	void *addr;
	int r;

	if (size == 0 || (uint64_t)size > INT64_MAX || mode & ~(mode_t)0777)
		return -EINVAL;
	r = posix_path(path, name);
	if (r < 0)
		return r;
	r = sealshm__fsize_check(size);
	if (r < 0)
		return r;

	fd = shm_open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;

	/* From here on the name exists: every failure removes it again. */
	if (ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		goto fail;
	}
	if (reserve) {
		r = sealshm__reserve(fd, size);
		if (r < 0)
			goto fail;
	}
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		r = -errno;
		goto fail;
	}

	ret->fd = TAKE_FD(fd);
	ret->addr = addr;
	ret->size = size;
	return 0;

fail:
	(void)shm_unlink(path);
	return r;
}

int sealshm__posix_attach(const char *name, bool rdonly, struct sealshm__posix_seg *ret)
{
	char path[SEALSHM_NAME_MAX + 2];
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	void *addr;
	int r;

	r = posix_path(path, name);
	if (r < 0)
		return r;

	fd = shm_open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* Whatever is in /dev/shm is somebody else's: a regular file with
	 * something to map, or no segment at all. */
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX)
		return -EBADMSG;

	addr = mmap(NULL, (size_t)st.st_size, rdonly ? PROT_READ : PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		return -errno;

	ret->fd = TAKE_FD(fd);
	ret->addr = addr;
	ret->size = (size_t)st.st_size;
	return 0;
}

int sealshm__posix_unlink(const char *name, uint64_t only_ino)
{
	char path[SEALSHM_NAME_MAX + 2];
	int r;

	r = posix_path(path, name);
	if (r < 0)
		return r;
	if (only_ino) {
		/* glibc's shm_open() names /dev/shm/NAME; another file there
		 * now is not the handle's to remove.  (A file made in between
		 * this check and the unlink would still go: the same window
		 * shm_unlink() itself has.) */
		char file[sizeof("/dev/shm") + sizeof(path)];
		struct stat st;

		(void)snprintf(file, sizeof(file), "/dev/shm%s", path);
		if (stat(file, &st) < 0)
			return -errno;
		if ((uint64_t)st.st_ino != only_ino)
			return -ENOENT;
	}
	if (shm_unlink(path) < 0)
		return -errno;
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Making a size-sealed memfd, checking one that came from elsewhere
 * before it is mapped (trackerd runs the same check on every CREATE), and
 * publishing one: sealshm_seal() adds F_SEAL_WRITE or F_SEAL_FUTURE_WRITE.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include <sys/resource.h>

#include "internal.h"

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

	fd = memfd_create(mname, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		/* MFD_NOEXEC_SEAL is Linux 6.3+; older kernels reject the
		 * unknown flag. Drop this fallback once 6.3 is the minimum. */
		fd = memfd_create(mname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;

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

int sealshm__segment_check(int fd, uint64_t size, uint32_t *ret_seals, const char **ret_reason)
{
	char path[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
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
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
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
	return 0;
}

#define SEALSHM_SEAL_ALL (SEALSHM_SEAL_WRITE | SEALSHM_SEAL_FUTURE_WRITE)

/*
 * Put @shm's buffer, in place (same address: the caller's pointers stay
 * valid), on a mapping that does not count as writable, so that the
 * kernel can grant F_SEAL_WRITE.
 *
 * The kernel refuses F_SEAL_WRITE with EBUSY while the inode has any
 * shared mapping that *may* become writable (VM_SHARED | VM_MAYWRITE,
 * Linux 6.7+): mprotect(PROT_READ) is not enough, and neither is a
 * PROT_READ MAP_SHARED mapping of an O_RDWR fd, which mprotect() could
 * turn writable again.  A shared mapping of an O_RDONLY open file
 * description can never become writable, so we map a read-only reopen of
 * our own fd.  Without /proc (or when the inode's mode refuses us a read
 * reopen) a MAP_PRIVATE mapping does it too: it never counts, shows the
 * same pages, and since nobody writes the file once it is sealed, no
 * write can ever be missed through it.  Before Linux 6.7 every shared
 * mapping counted, read-only or not; there only MAP_PRIVATE works, which
 * is why seal_write() retries with it.
 */
static int map_read_only(int fd, void *addr, size_t size, bool private)
{
	char path[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
	_cleanup_close_ int rofd = -EBADF;
	void *p;

	if (!private) {
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		rofd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (rofd >= 0)
		p = mmap(addr, size, PROT_READ, MAP_SHARED | MAP_FIXED, rofd, 0);
	else
		p = mmap(addr, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	assert(p == addr);
	return rofd >= 0 ? 0 : 1;	/* 1: the mapping is private */
}

/* Back to the handle's own read-write shared mapping, in place. */
static int map_read_write(int fd, void *addr, size_t size)
{
	void *p = mmap(addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	assert(p == addr);
	return 0;
}

static int seal_write(int fd, void *addr, size_t size, int seals)
{
	bool private = false;
	int r;

	for (;;) {
		r = map_read_only(fd, addr, size, private);
		if (r < 0)
			/* MAP_FIXED failed (ENOMEM).  Kernels before 6.12
			 * may have unmapped the old range already: put the
			 * read-write mapping back below either way. */
			break;
		private = r == 1;
		if (fcntl(fd, F_ADD_SEALS, seals) == 0)
			return 0;
		r = -errno;
		/* EBUSY with our own mapping shared: perhaps a kernel before
		 * 6.7, where even a read-only shared mapping counts.  Try once
		 * more with a private one; if that is still EBUSY, someone
		 * else has a writable mapping. */
		if (r != -EBUSY || private)
			break;
		private = true;
	}

	/*
	 * Put the read-write mapping back, so that a failed call changes
	 * nothing.  That is impossible once the segment carries
	 * F_SEAL_FUTURE_WRITE (sealed earlier, or meanwhile by another
	 * process holding a writable fd): no new writable mapping, ours
	 * included (EPERM).  It may also fail when memory runs out.  Then the
	 * buffer stays mapped read-only at the same address, and the caller
	 * still learns why the seal was not added.
	 */
	if (map_read_write(fd, addr, size) < 0)
		/* Shared if we can: a private mapping could be made writable
		 * by mprotect(), and writes would silently stay ours. */
		(void)map_read_only(fd, addr, size, false);
	return r;
}

int sealshm_seal(struct sealshm *shm, uint32_t flags)
{
	int fd, fl, seals = 0;

	sealshm__return_if_fail(shm, -EINVAL);
	sealshm__return_if_fail(flags && !(flags & ~SEALSHM_SEAL_ALL), -EINVAL);
	/* A /dev/shm file (SEALSHM_POSIX) cannot carry seals. */
	if (sealshm__is_posix(shm))
		return sealshm__err(-EOPNOTSUPP);
	fd = sealshm_fd(shm);

	/* F_ADD_SEALS needs an fd open for writing (fcntl(2): EPERM
	 * otherwise); a read-only attach has an O_RDONLY one. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return sealshm__err(-errno);
	if ((fl & O_ACCMODE) == O_RDONLY)
		return sealshm__err(-EPERM);

	if (flags & SEALSHM_SEAL_FUTURE_WRITE)
		seals |= F_SEAL_FUTURE_WRITE;
	if (!(flags & SEALSHM_SEAL_WRITE)) {
		/* Our own mapping stays writable: the seal only refuses new
		 * writable mappings and write(2) (Linux 5.1; before, EINVAL). */
		if (fcntl(fd, F_ADD_SEALS, seals) < 0)
			return sealshm__err(-errno);
		return 0;
	}

	seals |= F_SEAL_WRITE;
	return sealshm__err(seal_write(fd, sealshm_buf(shm), sealshm_size(shm), seals));
}

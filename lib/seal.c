// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seals: publishing a segment (sealshm_seal() adds F_SEAL_WRITE or
 * F_SEAL_FUTURE_WRITE) and their names (sealshm_seals_format()).
 */
#include <fcntl.h>
#include <stdio.h>

#include "internal.h"
#include "memfd.h"
#include "segment.h"

/* The public bits are the kernel's (sealshm.h says so). */
_Static_assert(SEALSHM_SEAL_SEAL == F_SEAL_SEAL && SEALSHM_SEAL_SHRINK == F_SEAL_SHRINK &&
	       SEALSHM_SEAL_GROW == F_SEAL_GROW && SEALSHM_SEAL_WRITE == F_SEAL_WRITE &&
	       SEALSHM_SEAL_FUTURE_WRITE == F_SEAL_FUTURE_WRITE && SEALSHM_SEAL_EXEC == F_SEAL_EXEC,
	       "seal bits");

/* What sealshm_seal() adds. */
#define PUBLISH_SEALS (SEALSHM_SEAL_WRITE | SEALSHM_SEAL_FUTURE_WRITE)

/* In bit order. */
static const char *const seal_names[] = {
	"seal", "shrink", "grow", "write", "future_write", "exec",
};

int sealshm_seals_format(uint32_t seals, char *buf, size_t len)
{
	size_t n = 0;

	sealshm__return_if_fail(buf && len > 0, -EINVAL);
	buf[0] = '\0';
	for (unsigned i = 0; i < 32; i++) {
		uint32_t bit = 1u << i;
		int w;

		if (!(seals & bit))
			continue;
		if (i < ELEMENTSOF(seal_names))
			w = snprintf(buf + n, len - n, "%s%s", n ? "," : "", seal_names[i]);
		else
			w = snprintf(buf + n, len - n, "%s0x%x", n ? "," : "", bit);
		if (w < 0 || (size_t)w >= len - n)
			return sealshm__err(-ERANGE);
		n += (size_t)w;
	}
	return (int)n;
}

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
	_cleanup_close_ int rofd = -EBADF;
	void *p;

	if (!private)
		rofd = sealshm__memfd_reopen(fd, O_RDONLY);
	if (rofd >= 0)
		p = mmap(addr, size, PROT_READ, MAP_SHARED | MAP_FIXED, rofd, 0);
	else
		p = mmap(addr, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	assert(p == addr);
	sealshm__unmap_note();
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
	int fd, fl, seals;

	sealshm__return_if_fail(shm, -EINVAL);
	sealshm__return_if_fail(flags && !(flags & ~PUBLISH_SEALS), -EINVAL);
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

	seals = (int)flags;	/* the kernel's bits */
	if (!(flags & SEALSHM_SEAL_WRITE)) {
		/* Our own mapping stays writable: the seal only refuses new
		 * writable mappings and write(2) (Linux 5.1; before, EINVAL). */
		if (fcntl(fd, F_ADD_SEALS, seals) < 0)
			return sealshm__err(-errno);
		return 0;
	}

	return sealshm__err(seal_write(fd, sealshm_buf(shm), sealshm_size(shm), seals));
}

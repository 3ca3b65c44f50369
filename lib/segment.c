// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Segment handles: create (memfd, map, register), attach (through the
 * index, or ask, check, map), close, unlink, accessors. Every call either
 * succeeds whole or leaves nothing behind: no fd, no mapping, no name.
 * With SEALSHM_POSIX the segment is a /dev/shm file instead (lib/posix.c),
 * behind the same handle.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#include "internal.h"
#include "memfd.h"
#include "name.h"
#include "peer.h"
#include "posix.h"
#include "reserve.h"
#include "segment.h"

/* A POSIX segment has no trackerd, so no lifetime to choose (NO_TRACK and
 * NO_AUTOSTART are what it does anyway, and accepted). */
#define SEALSHM_POSIX_REFUSED	SEALSHM_LIFETIME_LAST
/* Attempts at a free generated name before giving up with -EEXIST. */
#define RANDOM_NAME_ATTEMPTS	32

struct sealshm {
	int fd;
	void *addr;
	size_t size;
	uint32_t flags;		/* SEALSHM_* of the create/attach call */
	char *socket;		/* opts->socket if one was given: unlink goes there too */
	char name[SEALSHM_NAME_MAX + 1];
};

uint32_t sealshm__unmap_gen;

int sealshm_close(struct sealshm *shm)
{
	if (!shm)
		return 0;
	if (shm->addr) {
		(void)munmap(shm->addr, shm->size);
		sealshm__unmap_note();
	}
	safe_close(shm->fd);
	free(shm->socket);
	free(shm);
	return 0;
}

static void sealshm_freep(struct sealshm **p)
{
	(void)sealshm_close(*p);
}

/* A handle with no fd and no mapping yet, remembering @opts' socket. */
static int handle_new(const struct sealshm_opts *opts, uint32_t flags, struct sealshm **ret)
{
	const char *socket = OPTS_GET(opts, socket, NULL);
	struct sealshm *shm;

	shm = calloc(1, sizeof(*shm));
	if (!shm)
		return -ENOMEM;
	shm->fd = -EBADF;
	shm->flags = flags;
	if (socket) {
		shm->socket = strdup(socket);
		if (!shm->socket) {
			free(shm);
			return -ENOMEM;
		}
	}
	*ret = shm;
	return 0;
}

bool sealshm__is_posix(const struct sealshm *shm)
{
	return shm && shm->flags & SEALSHM_POSIX;
}

/* SEALSHM_POSIX: create /dev/shm/@name (@size > 0: one try, as
 * sealshm__posix_create()) or attach it (@size == 0). */
static int posix_open(const char *name, size_t size, mode_t mode, uint32_t flags,
		      struct sealshm **ret)
{
	__attribute__((cleanup(sealshm_freep))) struct sealshm *shm = NULL;
	struct sealshm__posix_seg seg;
	int r;

	/* No socket: nothing about this name ever goes to a trackerd. */
	r = handle_new(NULL, flags, &shm);
	if (r < 0)
		return r;
	strcpy(shm->name, name);
	if (size)
		r = sealshm__posix_create(name, size, mode, flags & SEALSHM_RESERVE, &seg);
	else
		r = sealshm__posix_attach(name, flags & SEALSHM_RDONLY, &seg);
	if (r < 0)
		return r;
	shm->fd = seg.fd;
	shm->addr = seg.addr;
	shm->size = seg.size;
	*ret = TAKE_PTR(shm);
	return 0;
}

static uint32_t proto_flags(uint32_t flags)
{
	return (flags & SEALSHM_NO_TRACK ? 0 : SEALSHM_PROTO_TRACK) |
	       (flags & SEALSHM_RDONLY ? SEALSHM_PROTO_RDONLY : 0) |
	       (flags & SEALSHM_LIFETIME_LAST ? SEALSHM_PROTO_LIFETIME_LAST : 0);
}

/* Where sealshm__peer_call() puts the session's token: tracked requests only
 * (untracked ones carry zeros, which trackerd requires). */
static uint8_t *track_token(uint32_t flags, uint8_t token[SEALSHM_PROTO_TOKEN_SIZE])
{
	return flags & SEALSHM_NO_TRACK ? NULL : token;
}

static void name_field(char field[SEALSHM_PROTO_NAME_SIZE], const char *name)
{
	size_t len = strlen(name);

	assert(len < SEALSHM_PROTO_NAME_SIZE);
	/* The rest of the field is already zero (callers zero the message). */
	memcpy(field, name, len);
}

/* One try at registering @name: memfd, mapping, CREATE. */
static int create_tracked(const char *name, size_t size, mode_t mode,
			  const struct sealshm_opts *opts, uint32_t flags, struct sealshm **ret)
{
	__attribute__((cleanup(sealshm_freep))) struct sealshm *shm = NULL;
	struct sealshm_msg_create req = {
		.hdr = {
			.type = SEALSHM_MSG_CREATE,
			.size = sizeof(req),
		},
		.size = size,
		.mode = mode,
		.flags = proto_flags(flags),
	};
	struct sealshm_msg_hdr rep;
	void *addr;
	int r;

	r = handle_new(opts, flags, &shm);
	if (r < 0)
		return r;
	strcpy(shm->name, name);
	name_field(req.name, name);

	r = sealshm__memfd_new(name, size, mode);
	if (r < 0)
		return r;
	shm->fd = r;
	/* Before the name exists: a segment that does not fit is no error
	 * anyone else sees. */
	if (flags & SEALSHM_RESERVE) {
		r = sealshm__reserve(shm->fd, size);
		if (r < 0)
			return r;
	}

	/* Map before registering: once trackerd has the name, nothing may
	 * fail any more, or a name would outlive a failed call. */
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, shm->fd, 0);
	if (addr == MAP_FAILED)
		return -errno;
	shm->addr = addr;
	shm->size = size;

	/* The reply buffer holds just a header, so a success reply is one:
	 * anything longer fails as malformed before trackerd's answer counts.
	 * A tracked create is registered and tracked in this one request, so
	 * no crash can fall between the two. */
	r = sealshm__peer_call(opts, &req.hdr, shm->fd, track_token(flags, req.token),
			  &rep, sizeof(rep), NULL);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(shm);
	return 0;
}

/* One try at @name with the backend @flags choose. */
static int create_one(const char *name, size_t size, mode_t mode, const struct sealshm_opts *opts,
		      uint32_t flags, struct sealshm **ret)
{
	if (flags & SEALSHM_POSIX)
		return posix_open(name, size, mode, flags, ret);
	return create_tracked(name, size, mode, opts, flags, ret);
}

int sealshm_create(const char *name, size_t size, const struct sealshm_opts *opts,
		   struct sealshm **ret)
{
	const char *n = NULL;
	uint32_t flags;
	mode_t mode;
	int r;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(ret, -EINVAL);
	flags = OPTS_GET(opts, flags, 0);
	mode = OPTS_GET(opts, mode, 0);
	/* off_t bounds what ftruncate() and mmap() accept. */
	sealshm__return_if_fail(size > 0 && (uint64_t)size <= INT64_MAX, -EINVAL);
	sealshm__return_if_fail(!(flags & ~SEALSHM__FLAGS_CREATE), -EINVAL);
	sealshm__return_if_fail(!(flags & SEALSHM_POSIX) || !(flags & SEALSHM_POSIX_REFUSED),
				-EINVAL);
	sealshm__return_if_fail(!(mode & ~(mode_t)0777), -EINVAL);
	if (mode == 0)
		mode = 0600;

	if (name) {
		sealshm__return_if_fail(sealshm__name_check(name, &n) == 0, -EINVAL);
		return sealshm__err(create_one(n, size, mode, opts, flags, ret));
	}

	/* Python's SharedMemory(create=True): a random name, retried on
	 * collision (a fresh memfd each time, so its debug name is right). */
	for (int i = 0; i < RANDOM_NAME_ATTEMPTS; i++) {
		char buf[sizeof("psm_12345678")];

		r = sealshm__name_random(buf, sizeof(buf));
		if (r < 0)
			return sealshm__err(r);
		r = create_one(buf, size, mode, opts, flags, ret);
		if (r != -EEXIST)
			return sealshm__err(r);
	}
	return sealshm__err(-EEXIST);
}

/*
 * Map an attached segment.  Before Linux 6.7 the kernel refused every new
 * shared mapping of a memfd sealed with F_SEAL_WRITE, read-only ones too
 * (EPERM); a private read-only mapping shows the same pages, and since
 * nobody can write the file any more, it misses nothing.  Drop this
 * fallback once 6.7 is the minimum.
 */
static void *map_segment(int fd, size_t size, int prot)
{
	void *addr = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	if (addr == MAP_FAILED && errno == EPERM && !(prot & PROT_WRITE)) {
		int seals = fcntl(fd, F_GET_SEALS);

		if (seals >= 0 && seals & F_SEAL_WRITE)
			addr = mmap(NULL, size, prot, MAP_PRIVATE, fd, 0);
		else
			errno = EPERM;
	}
	return addr;
}

static int attach(const char *name, const struct sealshm_opts *opts, uint32_t flags,
		  struct sealshm **ret)
{
	__attribute__((cleanup(sealshm_freep))) struct sealshm *shm = NULL;
	struct sealshm_msg_name req = {
		.hdr = {
			.type = SEALSHM_MSG_ATTACH,
			.size = sizeof(req),
		},
		.flags = proto_flags(flags),
	};
	struct sealshm_msg_attach_reply rep;
	int prot = PROT_READ, fd = -EBADF, r;
	uint64_t size;
	void *addr;

	r = handle_new(opts, flags, &shm);
	if (r < 0)
		return r;
	strcpy(shm->name, name);

	if (!(flags & SEALSHM_RDONLY))
		prot |= PROT_WRITE;

	/* Fast path: no round trip (lib/fastpath.c).  On any doubt it says
	 * no and the round trip below gives the real answer. */
	if (sealshm__peer_attach_fast(opts, name, flags & SEALSHM_RDONLY,
				      !(flags & SEALSHM_NO_TRACK), &fd, &size) > 0) {
		shm->fd = fd;
		addr = map_segment(fd, size, prot);
		if (addr == MAP_FAILED)
			return -errno;
		shm->addr = addr;
		shm->size = size;
		*ret = TAKE_PTR(shm);
		return 0;
	}

	name_field(req.name, name);
	r = sealshm__peer_call(opts, &req.hdr, -EBADF, track_token(flags, req.token),
			  &rep, sizeof(rep), &fd);
	if (r < 0)
		return r;
	shm->fd = fd;
	if ((size_t)r != sizeof(rep) || fd < 0)
		return -EBADMSG;

	/* Trust the fd, not the message: it must be a memfd whose size is
	 * sealed at exactly what we map, or a peer could make us SIGBUS. */
	if (rep.size == 0 || rep.size > SIZE_MAX ||
	    sealshm__segment_check(fd, rep.size, NULL, NULL) < 0)
		return -EBADMSG;

	addr = map_segment(fd, rep.size, prot);
	if (addr == MAP_FAILED)
		return -errno;
	shm->addr = addr;
	shm->size = rep.size;

	*ret = TAKE_PTR(shm);
	return 0;
}

int sealshm_attach(const char *name, const struct sealshm_opts *opts, struct sealshm **ret)
{
	uint32_t flags;
	const char *n;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(ret, -EINVAL);
	flags = OPTS_GET(opts, flags, 0);
	sealshm__return_if_fail(!(flags & ~SEALSHM__FLAGS_ATTACH), -EINVAL);
	sealshm__return_if_fail(sealshm__name_check(name, &n) == 0, -EINVAL);

	if (flags & SEALSHM_POSIX)
		return sealshm__err(posix_open(n, 0, 0, flags, ret));
	return sealshm__err(attach(n, opts, flags, ret));
}

/* UNLINK @name; with @ino, only while the name's memfd is that inode. */
static int unlink_name(const char *name, uint64_t ino, const struct sealshm_opts *opts)
{
	struct sealshm_msg_name req = {
		.hdr = {
			.type = SEALSHM_MSG_UNLINK,
			.size = sizeof(req),
		},
		.ino = ino,
	};
	struct sealshm_msg_hdr rep;
	int r;

	name_field(req.name, name);
	/* trackerd also drops the name from every session tracking it. */
	r = sealshm__peer_call(opts, &req.hdr, -EBADF, NULL, &rep, sizeof(rep), NULL);
	return r < 0 ? r : 0;
}

int sealshm_unlink(struct sealshm *shm)
{
	/* The trackerd the handle came from: same socket, same autostart
	 * choice (starting a trackerd only to be told -ENOENT is pointless,
	 * but it is what a NULL-opts unlink_name() would do too). */
	SEALSHM_OPTS(sealshm_opts, opts);
	struct stat st;

	sealshm__return_if_fail(shm, -EINVAL);
	/* Only the segment this handle maps: the name may name a newer one
	 * by now, which is not ours to remove (CPython's unlink() removes
	 * whatever the name names). */
	if (fstat(shm->fd, &st) < 0)
		return sealshm__err(-errno);
	if (shm->flags & SEALSHM_POSIX)
		return sealshm__err(sealshm__posix_unlink(shm->name, (uint64_t)st.st_ino));
	opts.flags = shm->flags & SEALSHM_NO_AUTOSTART;
	opts.socket = shm->socket;

	return sealshm__err(unlink_name(shm->name, (uint64_t)st.st_ino, &opts));
}

int sealshm_unlink_name(const char *name, const struct sealshm_opts *opts)
{
	uint64_t ino = OPTS_GET(opts, ino, 0);
	const char *n;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(!(OPTS_GET(opts, flags, 0) & ~SEALSHM__FLAGS_ALL), -EINVAL);
	sealshm__return_if_fail(sealshm__name_check(name, &n) == 0, -EINVAL);

	if (OPTS_GET(opts, flags, 0) & SEALSHM_POSIX)
		return sealshm__err(sealshm__posix_unlink(n, ino));
	return sealshm__err(unlink_name(n, ino, opts));
}

void *sealshm_buf(const struct sealshm *shm)
{
	return shm ? shm->addr : NULL;
}

size_t sealshm_size(const struct sealshm *shm)
{
	return shm ? shm->size : 0;
}

const char *sealshm_name(const struct sealshm *shm)
{
	return shm ? shm->name : NULL;
}

int sealshm_fd(const struct sealshm *shm)
{
	sealshm__return_if_fail(shm, -EINVAL);
	return shm->fd;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fast path: attach by name without a round trip, through the index
 * trackerd publishes (lib/index_format.h) and its pidfd.
 *
 * lib/peer.c asks for an index once per trackerd (socket path) per
 * process, on the first request connection: one INDEX round trip gives a
 * read-only memfd that we map PROT_READ and close, and the connection's
 * SO_PEERPIDFD gives trackerd's pidfd.  Both survive fork() (the mapping is
 * inherited, the pidfd is CLOEXEC): a forked child attaches without even
 * opening a connection of its own.
 *
 * An attach then looks the name up under the index's seqlock, applies
 * trackerd's mode rule, takes trackerd's fd with pidfd_getfd(2), checks it
 * (seals, size, inode) and the entry again (same generation), and maps it.
 * The index only says where to look: the fd we got, checked against an
 * entry that did not change meanwhile, is the proof.  Anything unexpected
 * (not found, torn read, denied, fd gone, mismatch) says "use the round
 * trip", which gives the authoritative answer.
 *
 * Access: INDEX is only answered for trackerd's own uid or root, and
 * pidfd_getfd() only works where the kernel would let us ptrace trackerd
 * (PTRACE_MODE_ATTACH_REALCREDS), i.e. where we could take any of its fds
 * anyway.  The mode rule here is about giving the same answers as trackerd
 * (-EACCES for a 0400 segment attached read-write), not about security.
 *
 * Nothing here locks: the caller (lib/peer.c) holds its lock around every
 * call, which also covers replacing or dropping an index.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "conn.h"
#include "fastpath.h"
#include "internal.h"
#include "memfd.h"
#include "pidfd.h"
#include "siphash.h"

/* Reads of the seqlock that may find trackerd writing (odd counter) or
 * racing us (counter moved) before we give up and use the round trip.
 * trackerd is single-threaded and may be preempted mid-update on a busy
 * machine: spinning longer would only burn the time a round trip costs. */
#define SEQ_TRIES		16
/* Rounds of lookup + pidfd_getfd + checks (the entry may change between
 * our read and the fd we take) before the round trip. */
#define ATTACH_TRIES		3
/* During a chain walk, look at the counter every this many steps: a walk
 * through a torn chain gives up early instead of running to the bound. */
#define CHAIN_RECHECK		32

struct sealshm__index {
	const void *base;
	size_t size;
	int pidfd;
	/* Copied from the header once: trackerd never changes them. */
	const uint64_t *seq;
	const uint32_t *buckets;
	const struct sealshm_index_entry *entries;
	uint32_t n_buckets;		/* a power of two */
	uint32_t capacity;
	uint64_t key[2];
	uint64_t epoch;
	/* pidfd is known to be trackerd's (see trackerd_pidfd()); until then the
	 * first failed check turns the fast path off. */
	bool verified;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

struct sealshm__index *sealshm__index_free(struct sealshm__index *x)
{
	if (x) {
		(void)munmap((void *)x->base, x->size);
		safe_close(x->pidfd);
		free(x);
	}
	return NULL;
}

bool sealshm__index_gone(const struct sealshm__index *x)
{
	return sealshm__pidfd_exited(x->pidfd);
}

/* Keep @pidfd off 0-2: a program that closed stdio and later reopens it
 * must not replace it.  Both kinds of pidfd are born close-on-exec. */
static int pidfd_above_stdio(int pidfd)
{
	int fd;

	if (pidfd >= 3)
		return pidfd;
	fd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	safe_close(pidfd);
	return fd < 0 ? -errno : fd;
}

/*
 * A pidfd (>= 3, CLOEXEC) of the trackerd behind @sock, which says it is
 * pid @server_pid in its own namespace; *@ret_verified when that is known.
 *
 * The peer of a connection is whoever called listen(): trackerd itself when
 * it runs in the foreground, but a daemonizing trackerd that listened
 * before it forked leaves its exited parent there, and with socket
 * activation it is the service manager.  So check that the peer is
 * @server_pid, else take pidfd_open(@server_pid), which is trackerd when it
 * shares our pid namespace; whether it does cannot be told cheaply, so that
 * pidfd stays unverified until an attach through it has passed every check.
 */
static int trackerd_pidfd(int sock, uint32_t server_pid, bool *ret_verified)
{
	_cleanup_close_ int pidfd = -EBADF;
	socklen_t len = sizeof(pidfd);
	pid_t pid;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
		struct ucred uc;

		/* SO_PEERPIDFD is Linux 6.5; drop this fallback once that is
		 * the minimum.  The pid may have been reused if its process
		 * died since we connected: then the check below fails. */
		pidfd = -EBADF;
		len = sizeof(uc);
		if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && uc.pid > 0)
			pidfd = sealshm__pidfd_open(uc.pid);
	}
	if (pidfd >= 0 && !sealshm__pidfd_exited(pidfd)) {
		/* 0 when it cannot be told (no /proc, or a pid namespace we
		 * cannot see into). */
		if (sealshm__pidfd_pids(pidfd, NULL, &pid) < 0)
			pid = 0;
		if (pid == 0 || (uint32_t)pid == server_pid) {
			/* 0: a pid namespace we cannot see into, where
			 * @server_pid means nothing to us either. */
			*ret_verified = pid != 0;
			return pidfd_above_stdio(TAKE_FD(pidfd));
		}
	}
	pidfd = safe_close(pidfd);

	if (server_pid == 0 || server_pid > INT_MAX)
		return -ESRCH;
	pidfd = sealshm__pidfd_open((pid_t)server_pid);
	if (pidfd < 0)
		return pidfd;
	*ret_verified = false;
	return pidfd_above_stdio(TAKE_FD(pidfd));
}

/* Map the index memfd @fd of @size bytes and check its header. */
static int index_map(int fd, uint64_t size, struct sealshm__index **ret)
{
	_cleanup_free_ struct sealshm__index *x = NULL;
	const struct sealshm_index_header *h;
	uint64_t buckets_end, entries_end;
	struct stat st;
	void *base;
	int seals;

	/* A shrink under our mapping would make reads SIGBUS: insist that
	 * the size is sealed and is what the reply and the header say. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EBADMSG;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(*h) || (uint64_t)st.st_size != size ||
	    size > SIZE_MAX)
		return -EBADMSG;

	base = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	h = base;

	/* Everything below bounds the reads of every later lookup. */
	if (h->magic != SEALSHM_INDEX_MAGIC || h->version != SEALSHM_INDEX_VERSION ||
	    h->size != size || h->n_buckets == 0 || (h->n_buckets & (h->n_buckets - 1)) ||
	    h->capacity == 0 || h->buckets_off % 8 || h->entries_off % 8 ||
	    h->buckets_off < sizeof(*h) || h->entries_off < sizeof(*h) ||
	    h->buckets_off > size || h->entries_off > size)
		goto invalid;
	buckets_end = h->buckets_off + (uint64_t)h->n_buckets * sizeof(uint32_t);
	entries_end = h->entries_off + (uint64_t)h->capacity * sizeof(struct sealshm_index_entry);
	if (buckets_end > size || entries_end > size)
		goto invalid;

	x = calloc(1, sizeof(*x));
	if (!x) {
		(void)munmap(base, size);
		return -ENOMEM;
	}
	x->base = base;
	x->size = size;
	x->pidfd = -EBADF;
	x->seq = &h->seq;
	x->buckets = (const uint32_t *)((const char *)base + h->buckets_off);
	x->entries = (const struct sealshm_index_entry *)((const char *)base + h->entries_off);
	x->n_buckets = h->n_buckets;
	x->capacity = h->capacity;
	x->key[0] = h->hash_key[0];
	x->key[1] = h->hash_key[1];
	*ret = TAKE_PTR(x);
	return 0;

invalid:
	(void)munmap(base, size);
	return -EBADMSG;
}

int sealshm__index_fetch(int sock, uint32_t *seq, uint64_t epoch, struct sealshm__index **ret)
{
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_INDEX,
		.size = sizeof(req),
		.seq = ++*seq,
	};
	struct sealshm_msg_index_reply rep;
	_cleanup_close_ int fd = -EBADF;
	struct sealshm__index *x = NULL;
	uint32_t server_pid;
	ssize_t n;
	int r;

	n = sealshm__roundtrip(sock, &req, NULL, 0, &rep, sizeof(rep), &fd, NULL);
	/* Refused: another uid (-EPERM) or no index (-EOPNOTSUPP): the fast
	 * path is off, the connection fine. */
	if (n == -EPERM || n == -EOPNOTSUPP)
		return 0;
	/* -EBADMSG: a malformed reply, or a trackerd that does not know
	 * INDEX, which refuses it as malformed and hangs up; the other
	 * protocol-level refusals hang up too, and a broken connection is
	 * broken: the caller drops it. */
	if (n < 0)
		return n == -EBADMSG || n == -ECHRNG || n == -EXFULL ? -EPROTO : (int)n;
	if ((size_t)n != sizeof(rep) || fd < 0)
		return 0;

	r = index_map(fd, rep.size, &x);
	if (r < 0)
		return 0;
	server_pid = ((const struct sealshm_index_header *)x->base)->server_pid;
	r = trackerd_pidfd(sock, server_pid, &x->verified);
	if (r < 0) {
		sealshm__index_free(x);
		return 0;
	}
	x->pidfd = r;
	x->epoch = epoch;
	*ret = x;
	return 1;
}

/* What a lookup copied out of one consistent view of an entry. */
struct fp_hit {
	uint32_t slot;
	uint32_t generation;
	int32_t fd;
	uint32_t uid;
	uint32_t gid;
	uint32_t mode;
	uint64_t ino;
	uint64_t size;
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

/*
 * Walk the chain of bucket @b for @name.  Reads race trackerd's writes: any
 * value may be torn or stale, so every index is checked against the
 * mapping before use and the walk is bounded (a torn "next" may make a
 * cycle).  The caller validates the whole walk with the counter.
 * Returns 1 (found, *@ret filled), 0 (not in this view), -EAGAIN (the
 * counter moved during the walk), -ELOOP (longer than the table: corrupt).
 */
static int chain_walk(const struct sealshm__index *x, uint64_t s1, uint32_t b, const char *name,
		      size_t len, struct fp_hit *ret)
{
	uint32_t i = LOAD(&x->buckets[b]);

	for (uint32_t steps = 0; i != 0; steps++) {
		const struct sealshm_index_entry *e;

		if (i > x->capacity || steps >= x->capacity)
			return LOAD(x->seq) == s1 ? -ELOOP : -EAGAIN;
		if (steps % CHAIN_RECHECK == CHAIN_RECHECK - 1 && LOAD(x->seq) != s1)
			return -EAGAIN;
		e = &x->entries[i - 1];
		/* name is inside the entry whatever name_len says, and
		 * SEALSHM_INDEX_NAME_MAX bounds len: the compare stays in. */
		if ((LOAD(&e->flags) & SEALSHM_INDEX_USED) && LOAD(&e->name_len) == len &&
		    memcmp(e->name, name, len) == 0) {
			*ret = (struct fp_hit){
				.slot = i - 1,
				.generation = LOAD(&e->generation),
				.fd = LOAD(&e->fd),
				.uid = LOAD(&e->uid),
				.gid = LOAD(&e->gid),
				.mode = LOAD(&e->mode),
				.ino = LOAD(&e->ino),
				.size = LOAD(&e->size),
			};
			return 1;
		}
		i = LOAD(&e->next);
	}
	return 0;
}

/* Reader side of the seqlock: an even counter, the reads, an acquire fence
 * (our reads complete before we look again), the same counter.  Returns as
 * chain_walk(), or -EAGAIN when no consistent view came in SEQ_TRIES. */
static int index_lookup(const struct sealshm__index *x, const char *name, size_t len, uint64_t hash,
			struct fp_hit *ret)
{
	uint32_t b = (uint32_t)(hash & (x->n_buckets - 1));

	for (int t = 0; t < SEQ_TRIES; t++) {
		uint64_t s1 = __atomic_load_n(x->seq, __ATOMIC_ACQUIRE);
		int r;

		if (s1 & 1) {
			cpu_relax();
			continue;
		}
		r = chain_walk(x, s1, b, name, len, ret);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (LOAD(x->seq) != s1 || r == -EAGAIN)
			continue;
		return r;
	}
	return -EAGAIN;
}

/* Does entry @h->slot still hold the registration we looked up? */
static bool entry_unchanged(const struct sealshm__index *x, const struct fp_hit *h)
{
	const struct sealshm_index_entry *e = &x->entries[h->slot];

	for (int t = 0; t < SEQ_TRIES; t++) {
		uint64_t s1 = __atomic_load_n(x->seq, __ATOMIC_ACQUIRE);
		bool same;

		if (s1 & 1) {
			cpu_relax();
			continue;
		}
		same = (LOAD(&e->flags) & SEALSHM_INDEX_USED) &&
		       LOAD(&e->generation) == h->generation && LOAD(&e->fd) == h->fd &&
		       LOAD(&e->ino) == h->ino;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (LOAD(x->seq) == s1)
			return same;
	}
	return false;
}

/* Take trackerd's fd for @h and prove that it is the segment @h names.
 * Returns as sealshm__index_attach(); on SEALSHM__FAST_NO *@ret_retry says
 * whether the entry changed under us (look again). */
static enum sealshm__fast take_fd(struct sealshm__index *x, const struct fp_hit *h, bool rdonly,
				  int *ret_fd, bool *ret_retry)
{
	uint32_t seals;
	int fd;

	*ret_retry = false;
	/*
	 * The fd number is trackerd's and may be closed and reused for
	 * anything (another segment, a client's socket) between our read and
	 * this call: we may get the wrong file.  Hence the checks below, and
	 * the entry read again after them: if it still holds the same
	 * generation, trackerd held that fd for this registration all along,
	 * so the file is the right one.
	 */
	fd = sealshm__pidfd_getfd(x->pidfd, h->fd);
	if (fd < 0) {
		/* Another uid, Yama, no_new_privs/dumpable rules, or a kernel
		 * before 5.6: it will not get better in this process. */
		if (fd == -EPERM || fd == -ENOSYS)
			return SEALSHM__FAST_OFF;
		/* trackerd is gone (a zombie answers EBADF): the next
		 * connection asks its successor. */
		if (fd == -ESRCH || sealshm__pidfd_exited(x->pidfd))
			return SEALSHM__FAST_STALE;
		/* Perhaps not trackerd at all (trackerd_pidfd()): do not keep
		 * taking fds from it. */
		if (!x->verified)
			return SEALSHM__FAST_OFF;
		*ret_retry = true;	/* EBADF: unlinked meanwhile; look again */
		return SEALSHM__FAST_NO;
	}
	/* Size sealed at exactly what we map (no SIGBUS), and the inode
	 * trackerd checked at CREATE and published. */
	if (sealshm__segment_check_inode(fd, h->size, h->ino, &seals) < 0 ||
	    !entry_unchanged(x, h)) {
		safe_close(fd);
		if (!x->verified)
			return SEALSHM__FAST_OFF;
		*ret_retry = true;
		return SEALSHM__FAST_NO;
	}
	x->verified = true;
	/* Published (sealshm_seal()): trackerd refuses a read-write attach
	 * with -EPERM.  Let the round trip say so, before anything is tracked
	 * (the seals come from the fd: the index does not carry them). */
	if (!rdonly && seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
		safe_close(fd);
		return SEALSHM__FAST_NO;
	}
	*ret_fd = fd;
	return SEALSHM__FAST_YES;
}

enum sealshm__fast sealshm__index_attach(struct sealshm__index *x, const struct sealshm__cred *cr,
					 const char *name, bool rdonly,
					 struct sealshm__fast_attach *ret)
{
	uint32_t want = rdonly ? SEALSHM__MAY_READ : SEALSHM__MAY_READ | SEALSHM__MAY_WRITE;
	size_t len = strlen(name);
	uint64_t hash;

	/* Longer names are not published. */
	if (len > SEALSHM_INDEX_NAME_MAX)
		return SEALSHM__FAST_NO;

	hash = sealshm__siphash(name, len, x->key);
	for (int attempt = 0; attempt < ATTACH_TRIES; attempt++) {
		enum sealshm__fast r;
		struct fp_hit h;
		bool retry;
		int fd;

		if (index_lookup(x, name, len, hash, &h) <= 0)
			return SEALSHM__FAST_NO;	/* not published (yet), or no clean view */
		if (!sealshm__may(cr, h.uid, h.gid, h.mode, want))
			return SEALSHM__FAST_NO;	/* the round trip says -EACCES */
		if (h.fd < 0 || h.size == 0 || h.size > SIZE_MAX)
			return SEALSHM__FAST_NO;

		r = take_fd(x, &h, rdonly, &fd, &retry);
		if (r == SEALSHM__FAST_YES) {
			*ret = (struct sealshm__fast_attach){
				.fd = fd,
				.remote_fd = h.fd,
				.size = h.size,
				.epoch = x->epoch,
				.ino = h.ino,
				.slot = h.slot,
				.generation = h.generation,
			};
			return r;
		}
		if (!retry)
			return r;
	}
	return SEALSHM__FAST_NO;
}

bool sealshm__index_still(const struct sealshm__index *x, const struct sealshm__fast_attach *fa)
{
	const struct fp_hit h = {
		.slot = fa->slot,
		.generation = fa->generation,
		.fd = fa->remote_fd,
		.ino = fa->ino,
	};

	assert(fa->slot < x->capacity);
	return entry_unchanged(x, &h);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fast path: attach by name without a round trip, through the index
 * trackerd publishes (lib/index_format.h) and its pidfd.
 *
 * Set up once per trackerd (socket path) per process, on the first request
 * connection (conn.c calls sealshm__fastpath_connected()): one INDEX round
 * trip gives a read-only memfd that we map PROT_READ and close, and the
 * connection's SO_PEERPIDFD gives trackerd's pidfd.  Both are kept across
 * fork() (the mapping is inherited, the pidfd is CLOEXEC): a forked child
 * attaches without even opening a connection of its own.
 *
 * An attach then looks the name up under the index's seqlock, applies
 * trackerd's mode rule, takes trackerd's fd with pidfd_getfd(2), checks it
 * (seals, size, inode) and the entry again (same generation), and maps it.
 * The index only says where to look: the fd we got, checked against an
 * entry that did not change meanwhile, is the proof.  Anything unexpected
 * (not found, torn read, denied, fd gone, mismatch) returns "use the round
 * trip", which gives the authoritative answer.
 *
 * Access: INDEX is only answered for trackerd's own uid or root, and
 * pidfd_getfd() only works where the kernel would let us ptrace trackerd
 * (PTRACE_MODE_ATTACH_REALCREDS), i.e. where we could take any of its fds
 * anyway.  The mode rule here is about giving the same answers as trackerd
 * (-EACCES for a 0400 segment attached read-write), not about security.
 *
 * Locking: everything here runs under conn.c's lock, which also covers
 * replacing or dropping an index (trackerd restarted, fast path disabled),
 * so no thread can read an unmapped index or use a closed pidfd.  State is
 * published with single release stores of fully built objects, as conn.c
 * does, so a child forked while another thread holds the lock sees either
 * the old or the new index, whole.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "conn.h"
#include "index_format.h"
#include "internal.h"
#include "memfd.h"
#include "perm.h"
#include "pidfd.h"
#include "locate.h"
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

/* One trackerd's published index, mapped, and its pidfd. */
struct fp_index {
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
	uint64_t epoch;			/* tells indexes (trackerds) apart */
	/* pidfd is known to be trackerd's (see peer_pidfd()); until then the
	 * first failed check turns the fast path off. */
	bool verified;
};

enum fp_state {
	FP_UNKNOWN,	/* not asked yet, or trackerd went away since */
	FP_READY,	/* idx is usable */
	FP_OFF,		/* refused or not permitted: never again in this process */
};

/* One per socket path; never freed before exit, like conn.c's list. */
struct fp {
	struct fp *next;
	enum fp_state state;
	bool asked;			/* INDEX sent on the current connection */
	struct fp_index *idx;		/* FP_READY only */
	char path[SEALSHM__SUN_PATH_SIZE];
};

static struct fp *fps;
static uint64_t epochs;

/*
 * Who trackerd thinks we are: it judges a request by the SO_PEERCRED and
 * SO_PEERGROUPS of our request connection, i.e. our effective ids and
 * groups when that connection was opened.  We take the same snapshot when
 * a connection opens and after fork() (the child's connection will carry
 * the child's ids), so the fast path answers as trackerd would without a
 * syscall per attach.
 */
static struct {
	bool valid;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int n_groups;
} creds;
static bool creds_stale = true;
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

/* The child's lock is fresh (conn.c), so no other thread is in here. */
static void fp_atfork_child(void)
{
	creds_stale = true;
}

static void fp_init(void)
{
	/* On failure (ENOMEM) a child keeps its parent's snapshot until it
	 * opens a connection: an answer a round trip may not give, never an
	 * access the kernel does not allow (pidfd_getfd checks that). */
	(void)pthread_atfork(NULL, NULL, fp_atfork_child);
}

static int creds_refresh(void)
{
	gid_t *groups = NULL;
	int n;

	n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	if (n > 0) {
		groups = malloc(sizeof(gid_t) * (size_t)n);
		if (!groups)
			return -ENOMEM;
		n = getgroups(n, groups);	/* may shrink, never grows under us */
		if (n < 0) {
			free(groups);
			return -errno;
		}
	}
	free(creds.groups);
	creds.groups = groups;
	creds.n_groups = n;
	creds.uid = geteuid();
	creds.gid = getegid();
	creds.valid = true;
	creds_stale = false;
	return 0;
}

/* SEALSHM_NO_FASTPATH=1 (any non-empty value but "0"): always round trip.
 * Read on every call: benchmarks and tests switch it within a process. */
static bool env_no_fastpath(void)
{
	const char *e = secure_getenv("SEALSHM_NO_FASTPATH");

	return e && *e && strcmp(e, "0") != 0;
}

/*
 * The socket path, as sealshm__socket_path() finds it, without its cost on
 * every attach: for the per-user default it creates and checks the
 * directory (mkdir + lstat, a quarter of a fast attach).  That check keeps
 * us from *connecting* to a socket another user planted; the fast path
 * does not connect: it uses the index and pidfd of the trackerd found
 * through the checked path, and whatever connects (conn.c, session.c)
 * resolves the path fully again.  So remember the default as resolved,
 * with what it was resolved from: $XDG_RUNTIME_DIR (its value), else the
 * euid, and the autostart choice.  An explicit socket or $SEALSHM_SOCKET
 * costs no syscall there and is not remembered.  Keep this in step with
 * lib/locate.c's inputs.  Under conn.c's lock.
 */
static struct {
	bool valid;
	bool autostart;
	bool xdg;		/* resolved from $XDG_RUNTIME_DIR (absolute) */
	uid_t uid;		/* else from this euid */
	char xdg_value[PATH_MAX];
	char path[SEALSHM__SUN_PATH_SIZE];
} path_memo;

static int socket_path(const struct sealshm_opts *opts, char path[SEALSHM__SUN_PATH_SIZE],
		       bool *ret_autostart)
{
	const char *sock = secure_getenv("SEALSHM_SOCKET");
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	uint32_t flags = OPTS_GET(opts, flags, 0);
	const char *e = secure_getenv("SEALSHM_NO_AUTOSTART");
	bool autostart = !(flags & SEALSHM_NO_AUTOSTART) && !(e && *e && strcmp(e, "0") != 0);
	bool use_xdg = xdg && xdg[0] == '/';
	int r;

	if (OPTS_GET(opts, socket, NULL) || (sock && *sock))
		return sealshm__socket_path(opts, path, SEALSHM__SUN_PATH_SIZE, ret_autostart);

	if (path_memo.valid && path_memo.autostart == autostart && path_memo.xdg == use_xdg &&
	    (use_xdg ? strcmp(path_memo.xdg_value, xdg) == 0 : path_memo.uid == geteuid())) {
		strcpy(path, path_memo.path);
		*ret_autostart = autostart;
		return 0;
	}

	r = sealshm__socket_path(opts, path, SEALSHM__SUN_PATH_SIZE, ret_autostart);
	if (r < 0)
		return r;
	path_memo.valid = false;
	if (use_xdg && strlen(xdg) >= sizeof(path_memo.xdg_value))
		return 0;
	path_memo.autostart = *ret_autostart;
	path_memo.xdg = use_xdg;
	path_memo.uid = geteuid();
	strcpy(path_memo.xdg_value, use_xdg ? xdg : "");
	strcpy(path_memo.path, path);
	path_memo.valid = true;
	return 0;
}

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

static struct fp *fp_find(const char *path)
{
	for (struct fp *f = fps; f; f = f->next)
		if (strcmp(f->path, path) == 0)
			return f;
	return NULL;
}

static struct fp *fp_get(const char *path)
{
	struct fp *f = fp_find(path);

	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	assert(strlen(path) < sizeof(f->path));
	strcpy(f->path, path);
	f->next = fps;
	__atomic_store_n(&fps, f, __ATOMIC_RELEASE);
	return f;
}

static void index_free(struct fp_index *x)
{
	if (!x)
		return;
	(void)munmap((void *)x->base, x->size);
	safe_close(x->pidfd);
	free(x);
}

/* Forget @f's index and go to @state.  The pointer goes first, so a child
 * forked in between never sees a freed index. */
static void fp_drop(struct fp *f, enum fp_state state)
{
	struct fp_index *x = f->idx;

	__atomic_store_n(&f->idx, NULL, __ATOMIC_RELEASE);
	f->state = state;
	index_free(x);
}

/* At exit (or dlclose) unmap and close, so that leak checkers see nothing
 * of ours.  A thread still inside a call holds the lock: leave it all. */
__attribute__((destructor)) static void fp_release(void)
{
	int cancel = sealshm__conn_trylock();

	if (cancel < 0)
		return;
	while (fps) {
		struct fp *f = fps;

		fp_drop(f, FP_UNKNOWN);
		fps = f->next;
		free(f);
	}
	free(creds.groups);
	creds.groups = NULL;
	creds.valid = false;
	sealshm__conn_unlock(cancel);
}

void sealshm__fastpath_forget(const char *path)
{
	for (struct fp **pp = &fps; *pp; pp = &(*pp)->next) {
		struct fp *f = *pp;

		if (strcmp(f->path, path) != 0)
			continue;
		/* Unlinked first, so a child forked in between never sees it. */
		__atomic_store_n(pp, f->next, __ATOMIC_RELEASE);
		fp_drop(f, FP_UNKNOWN);
		free(f);
		return;
	}
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
static int peer_pidfd(int sock, uint32_t server_pid, bool *ret_verified)
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
static int index_map(int fd, uint64_t size, struct fp_index **ret)
{
	_cleanup_free_ struct fp_index *x = NULL;
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

/* One INDEX round trip on @sock.  Returns 1 and *@ret, 0 when trackerd
 * refused or sent something unusable (the connection is still in step),
 * or a negative errno when the connection must not be used any more:
 * -EPROTO when trackerd refused INDEX as malformed (it does not know it),
 * a transport error otherwise. */
static int index_fetch(int sock, uint32_t *seq, struct fp_index **ret)
{
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_INDEX,
		.size = sizeof(req),
		.seq = ++*seq,
	};
	struct sealshm_msg_index_reply rep;
	_cleanup_close_ int fd = -EBADF;
	struct fp_index *x = NULL;
	uint32_t server_pid;
	ssize_t n;
	int r;

	n = sealshm__roundtrip(sock, &req, &rep, sizeof(rep), &fd);
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
	r = peer_pidfd(sock, server_pid, &x->verified);
	if (r < 0) {
		index_free(x);
		return 0;
	}
	x->pidfd = r;
	x->epoch = ++epochs;
	*ret = x;
	return 1;
}

int sealshm__fastpath_connected(const char *path, int sock, uint32_t *seq, bool fresh)
{
	struct fp_index *x = NULL;
	struct fp *f;
	int r;

	/* trackerd will judge this connection by the ids we have now. */
	creds_stale = true;

	f = fp_get(path);
	if (!f)
		return 0;		/* ENOMEM: no fast path, nothing else lost */
	if (fresh)
		f->asked = false;	/* it may lead to another trackerd */
	if (f->state == FP_OFF)
		return 0;
	if (f->state == FP_READY) {
		/* A new connection after the old one broke: the same trackerd
		 * (one per path, it holds the lock file) unless it exited. */
		if (!fresh || !sealshm__pidfd_exited(f->idx->pidfd))
			return 0;
		fp_drop(f, FP_UNKNOWN);
	}
	/* Once per connection: a trackerd that answers with a pidfd that is
	 * no good (gone by the first attach) is not asked again and again. */
	if (f->asked || env_no_fastpath())
		return 0;

	(void)pthread_once(&fp_once, fp_init);
	f->asked = true;
	r = index_fetch(sock, seq, &x);
	if (r <= 0) {
		/* Refused: off for good.  Cut off (trackerd exiting on idle
		 * as we asked): ask again on the next connection. */
		f->state = r == 0 || r == -EPROTO ? FP_OFF : FP_UNKNOWN;
		return r;
	}
	f->state = FP_READY;
	__atomic_store_n(&f->idx, x, __ATOMIC_RELEASE);
	return 0;
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
static int chain_walk(const struct fp_index *x, uint64_t s1, uint32_t b, const char *name,
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
static int index_lookup(const struct fp_index *x, const char *name, size_t len, uint64_t hash,
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
static bool entry_unchanged(const struct fp_index *x, const struct fp_hit *h)
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

/* trackerd's rule, on the snapshot of our ids. */
static bool may_attach(const struct fp_hit *h, bool rdonly)
{
	const struct sealshm__cred cr = {
		.uid = creds.uid,
		.gid = creds.gid,
		.groups = creds.groups,
		.n_groups = (size_t)creds.n_groups,
	};

	return sealshm__may(&cr, h->uid, h->gid, h->mode,
			    rdonly ? SEALSHM__MAY_READ : SEALSHM__MAY_READ | SEALSHM__MAY_WRITE);
}

/*
 * Is @fd, which we took from trackerd, the segment @h describes?
 *
 * sealshm__segment_check()'s proof (the size seals can only be on a memfd,
 * see seal.c), done inline with the fstat we need for the inode anyway:
 * the inode must be the one trackerd checked at CREATE and published.
 */
static bool fd_matches(int fd, const struct fp_hit *h, int *ret_seals)
{
	struct stat st;
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & SEALSHM_SEALS_REQUIRED) != SEALSHM_SEALS_REQUIRED)
		return false;
	*ret_seals = seals;
	if (fstat(fd, &st) < 0)
		return false;
	/* Size sealed at exactly what we map: no SIGBUS. */
	return S_ISREG(st.st_mode) && (uint64_t)st.st_ino == h->ino && st.st_size >= 0 &&
	       (uint64_t)st.st_size == h->size;
}

/* The attach itself, under conn.c's lock.  Returns 1 with *@ret (fd
 * O_RDWR), 0 for "use the round trip". */
static int attach_locked(const char *path, bool autostart, const char *name, bool rdonly,
			 bool track, struct sealshm__fast_attach *ret)
{
	size_t len = strlen(name);
	struct fp_index *x;
	uint64_t hash;
	struct fp *f;

	f = fp_find(path);
	if (!f || (f->state == FP_UNKNOWN && !f->asked)) {
		/* No connection to this trackerd yet (or it restarted, or the
		 * fast path was off when we connected): open or reuse one,
		 * which asks for the index.  The socket path's directory is
		 * checked there, once; later fast attaches never touch it. */
		if (sealshm__conn_index(path, autostart) < 0)
			return 0;
		f = fp_find(path);
	}
	if (!f || f->state != FP_READY)
		return 0;
	x = f->idx;
	if (creds_stale && creds_refresh() < 0)
		return 0;

	hash = sealshm__siphash(name, len, x->key);
	for (int attempt = 0; attempt < ATTACH_TRIES; attempt++) {
		struct fp_hit h;
		int fd, r, seals;

		r = index_lookup(x, name, len, hash, &h);
		if (r <= 0)
			return 0;	/* not published (yet), or no clean view */
		if (!may_attach(&h, rdonly))
			return 0;	/* the round trip says -EACCES */
		if (h.fd < 0 || h.size == 0 || h.size > SIZE_MAX)
			return 0;

		/*
		 * The fd number is trackerd's and may be closed and reused for
		 * anything (another segment, a client's socket) between our
		 * read and this call: we may get the wrong file.  Hence the
		 * checks below, and the entry read again after them: if it
		 * still holds the same generation, trackerd held that fd for
		 * this registration all along, so the file is the right one.
		 */
		fd = sealshm__pidfd_getfd(x->pidfd, h.fd);
		if (fd < 0) {
			if (fd == -EPERM || fd == -ENOSYS) {
				/* Another uid, Yama, no_new_privs/dumpable
				 * rules, or a kernel before 5.6: it will not
				 * get better in this process. */
				fp_drop(f, FP_OFF);
				return 0;
			}
			if (fd == -ESRCH || sealshm__pidfd_exited(x->pidfd)) {
				/* trackerd is gone (a zombie answers EBADF):
				 * the next connection asks its successor. */
				fp_drop(f, FP_UNKNOWN);
				return 0;
			}
			if (!x->verified) {
				/* Perhaps not trackerd at all (peer_pidfd()):
				 * do not keep taking fds from it. */
				fp_drop(f, FP_OFF);
				return 0;
			}
			continue;	/* EBADF: unlinked meanwhile; look again */
		}
		if (fd_matches(fd, &h, &seals) && entry_unchanged(x, &h)) {
			x->verified = true;
			/* Published (sealshm_seal()): trackerd refuses a
			 * read-write attach with -EPERM.  Let the round trip
			 * say so, before anything is tracked (the seals come
			 * from the fd: the index does not carry them). */
			if (!rdonly && seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
				safe_close(fd);
				return 0;
			}
			if (track) {
				r = sealshm__session_track(path, autostart, x->epoch, h.slot,
							   h.generation, h.ino);
				if (r < 0) {
					/* The round trip tracks it instead. */
					safe_close(fd);
					return 0;
				}
			}
			ret->fd = fd;
			ret->size = h.size;
			return 1;
		}
		safe_close(fd);
		if (!x->verified) {
			fp_drop(f, FP_OFF);
			return 0;
		}
	}
	return 0;
}

int sealshm__fastpath_attach(const struct sealshm_opts *opts, const char *name, bool rdonly,
			     bool track, struct sealshm__fast_attach *ret)
{
	char path[SEALSHM__SUN_PATH_SIZE];
	bool autostart;
	int r, cancel;

	/* Longer names are not published: not worth a lock. */
	if (strlen(name) > SEALSHM_INDEX_NAME_MAX || env_no_fastpath())
		return 0;

	cancel = sealshm__conn_lock();
	r = socket_path(opts, path, &autostart);
	if (r == 0)	/* else the round trip reports it */
		r = attach_locked(path, autostart, name, rdonly, track, ret);
	sealshm__conn_unlock(cancel);
	if (r <= 0)
		return 0;

	if (rdonly) {
		/* A new open file description, as trackerd gives a read-only
		 * attach: nobody can mmap it writable or F_SETFL it.  The
		 * inode's mode (the name's, set by the creator) is checked by
		 * the kernel here as for anyone. */
		int fd = sealshm__memfd_reopen(ret->fd, O_RDONLY);

		safe_close(ret->fd);
		if (fd < 0)
			return 0;
		ret->fd = fd;
	}
	return 1;
}

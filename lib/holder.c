// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * This process's holder ids, one per trackerd, each on a holder connection
 * of its own (HOLDER, lib/proto.h) with that trackerd's liveness segment
 * mapped read-only.
 *
 *   holders   one per trackerd instance this process has had an id from:
 *             the connection, the id, the mapping.  Never freed, never
 *             moved: objects keep pointers to them, and read the mapping
 *             through them from any thread.  Everything but the id and
 *             the connection is fixed once a holder is published.
 *   routes    one per socket path: the holder of the trackerd serving it,
 *             a newer one when that trackerd was replaced.  Two paths to
 *             one trackerd (a symlink, $SEALSHM_SOCKET naming the default)
 *             share its holder, recognised by the segment's inode: a
 *             process has one id per trackerd, whichever path it took.
 *
 * A holder connection is opened in one order: connect -> HELLO -> AUTH
 * (lib/peer.c, which knows a manager's key) -> HOLDER, whose reply carries
 * the id and the segment's fd.  The segment is checked whole before it is
 * used (its seals and size before mmap(), so no SIGBUS; its header after),
 * and the fd closed once mapped: the mapping is all we keep.
 *
 * Fork: the child must not keep its parent's holder connection, or the
 * parent's death would go unseen while the child lives.  The child closes
 * its copies in an atfork handler, without a byte of traffic, and its
 * holders keep their mappings and get ids of their own on first use.  The
 * atfork prepare handler takes the lock, so a fork waits for a holder
 * connection being opened by another thread: the child can never inherit
 * a connection that became the parent's holder after the fork (it would
 * be in some thread's local variable, out of the handler's reach).  No
 * fork happens under the lock: autostarting trackerd spawns it with
 * posix_spawn(3), which runs no atfork handlers.
 *
 * A trackerd that exits (or is replaced) closes our connection: a holder
 * whose connection has ended has no id any more.  sealshm__holder_get()
 * looks (one poll(2)) and asks the trackerd serving the path now, whose
 * instance differs; the old holder stays for objects of the old instance,
 * which sealshm__holder_find() then reports gone (-ENXIO).
 *
 * sealshm__holder_find()'s common case is one compare with the last holder
 * found and a load of its id, without the lock: a holder's instance never
 * changes, and its id is 0 in a forked child until it has its own.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "conn.h"
#include "holder.h"
#include "internal.h"
#include "locate.h"
#include "peer.h"

/* A HOLDER cut off (trackerd exiting on idle just as we asked) is asked
 * again on a new connection, this many times in all. */
#define HOLDER_ATTEMPTS		2

/* The seals trackerd puts on the segment before anyone gets it. */
#define LIVENESS_SEALS		(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)

struct holder {
	struct sealshm__holder pub;	/* what callers get; id written with atomics */
	struct holder *next;
	int fd;				/* the holder connection; -EBADF: none */
	dev_t dev;			/* the segment's inode: which trackerd */
	ino_t ino;
	char path[SEALSHM__SUN_PATH_SIZE];	/* where its trackerd was reached */
};

struct route {
	struct route *next;
	struct holder *h;		/* of the trackerd last found at @path */
	char path[SEALSHM__SUN_PATH_SIZE];
};

static struct {
	pthread_mutex_t lock;
	pthread_once_t once;
	struct holder *list;		/* read without the lock (lookup) */
	struct route *routes;
	struct holder *cache;		/* the last one found; read without the lock */
	struct sealshm__socket_memo memo;
	bool forkable;			/* the atfork handlers are in place */
} holders = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.once = PTHREAD_ONCE_INIT,
};

#define PUBLISH(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

/* The connection ends here (the copy this process holds): the id is no
 * longer ours to use. */
static void holder_disconnect(struct holder *h)
{
	int fd = h->fd;

	__atomic_store_n(&h->pub.id, 0, __ATOMIC_RELEASE);
	h->fd = -EBADF;
	safe_close(fd);
}

static void holders_atfork_prepare(void)
{
	(void)pthread_mutex_lock(&holders.lock);
}

static void holders_atfork_parent(void)
{
	(void)pthread_mutex_unlock(&holders.lock);
}

/* The child's copies only: the parent's connections live on. */
static void holders_atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	for (struct holder *h = holders.list; h; h = h->next)
		holder_disconnect(h);
	holders.lock = fresh;
}

static void holders_init(void)
{
	/* Without the handlers (ENOMEM) a forked child would keep its
	 * parent's holder connections: no holder is made then (-ENOMEM). */
	holders.forkable = pthread_atfork(holders_atfork_prepare, holders_atfork_parent,
					  holders_atfork_child) == 0;
}

/* Take the lock with thread cancellation disabled (connect, sendmsg and
 * recvmsg are cancellation points; a thread cancelled in there would leave
 * the lock held).  Returns the cancel state to hand back. */
static int holders_lock(void)
{
	int cancel;

	(void)pthread_once(&holders.once, holders_init);
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	(void)pthread_mutex_lock(&holders.lock);
	return cancel;
}

static void holders_unlock(int cancel)
{
	(void)pthread_mutex_unlock(&holders.lock);
	(void)pthread_setcancelstate(cancel, NULL);
}

/* At exit (or dlclose) close the connections, so that leak checkers see no
 * fd of ours; the kernel would close them anyway, with the same effect on
 * trackerd.  The holders and their mappings stay: objects point at them,
 * and other threads may still run.  A thread still inside a call holds the
 * lock: leave it all then. */
__attribute__((destructor)) static void holders_release(void)
{
	int cancel;

	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (pthread_mutex_trylock(&holders.lock) == 0) {
		for (struct holder *h = holders.list; h; h = h->next)
			holder_disconnect(h);
		(void)pthread_mutex_unlock(&holders.lock);
	}
	(void)pthread_setcancelstate(cancel, NULL);
}

/* Whether @h's connection still stands: trackerd sends nothing on it, so
 * anything readable (its end, most likely) means it does not. */
static bool holder_connected(const struct holder *h)
{
	struct pollfd p = { .fd = h->fd, .events = POLLIN | POLLRDHUP };

	if (h->fd < 0)
		return false;
	return poll(&p, 1, 0) <= 0;
}

/* Whether @id is one @h's trackerd may have given: a slot it has, a
 * generation there can be, and alive in the segment (trackerd marks it so
 * before it replies). */
static bool holder_id_valid(const struct holder *h, uint32_t id)
{
	uint32_t gen = id >> SEALSHM_HOLDER_SLOT_BITS;

	if (id & ~SEALSHM_HOLDER_MASK || gen == 0 || gen > SEALSHM_HOLDER_GEN_MAX)
		return false;
	return sealshm__holder_alive(&h->pub, id);
}

static struct route *route_find(const char *path)
{
	for (struct route *r = holders.routes; r; r = r->next)
		if (strcmp(r->path, path) == 0)
			return r;
	return NULL;
}

/* @path leads to @h from now on. */
static int route_set(const char *path, struct holder *h)
{
	struct route *r = route_find(path);

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		assert(strlen(path) < sizeof(r->path));
		strcpy(r->path, path);
		r->next = holders.routes;
		holders.routes = r;
	}
	r->h = h;
	return 0;
}

static struct holder *holder_by_inode(dev_t dev, ino_t ino)
{
	for (struct holder *h = holders.list; h; h = h->next)
		if (h->dev == dev && h->ino == ino)
			return h;
	return NULL;
}

/* Map the segment @fd (@size bytes by the reply) and check it whole: its
 * seals and real size before mmap() (a shrink under the mapping would
 * make reads SIGBUS; the seals make that impossible), then every header
 * field that bounds a later read.  -EBADMSG for anything that is not a
 * liveness segment. */
static int liveness_map(int fd, uint64_t size, const struct stat *st,
			const struct sealshm_liveness_header **ret)
{
	const struct sealshm_liveness_header *lv;
	uint64_t slots_end;
	int seals;
	void *base;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EINVAL ? -EBADMSG : -errno;	/* EINVAL: no memfd */
	if ((seals & LIVENESS_SEALS) != LIVENESS_SEALS)
		return -EBADMSG;
	if (!S_ISREG(st->st_mode) || st->st_size < (off_t)sizeof(*lv) ||
	    (uint64_t)st->st_size != size || size > SIZE_MAX)
		return -EBADMSG;

	base = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	lv = base;
	slots_end = lv->slots_off + (uint64_t)lv->n_slots * sizeof(struct sealshm_liveness_slot);
	if (lv->magic != SEALSHM_LIVENESS_MAGIC || lv->version != SEALSHM_LIVENESS_VERSION ||
	    lv->instance == 0 || lv->size != size || lv->n_slots == 0 ||
	    lv->n_slots > 1u << SEALSHM_HOLDER_SLOT_BITS || lv->slots_off % 64 != 0 ||
	    lv->slots_off < sizeof(*lv) || lv->slots_off > size || slots_end > size) {
		(void)munmap(base, size);
		return -EBADMSG;
	}
	*ret = lv;
	return 0;
}

/* A new holder for the segment @fd, with its id @id; not published. */
static int holder_new(const char *path, int fd, uint64_t size, const struct stat *st,
		      uint32_t id, struct holder **ret)
{
	const struct sealshm_liveness_header *lv = NULL;
	struct holder *h;
	int r;

	r = liveness_map(fd, size, st, &lv);
	if (r < 0)
		return r;
	h = calloc(1, sizeof(*h));
	if (!h) {
		(void)munmap((void *)lv, size);
		return -ENOMEM;
	}
	h->pub = (struct sealshm__holder){
		.n_slots = lv->n_slots,
		.instance = lv->instance,
		.lv = lv,
		.slots = (const struct sealshm_liveness_slot *)((const char *)lv + lv->slots_off),
	};
	h->fd = -EBADF;
	h->dev = st->st_dev;
	h->ino = st->st_ino;
	assert(strlen(path) < sizeof(h->path));
	strcpy(h->path, path);
	if (!holder_id_valid(h, id)) {
		(void)munmap((void *)lv, size);
		free(h);
		return -EBADMSG;
	}
	*ret = h;
	return 0;
}

/* A greeted connection to @path; trackerd is started first if @autostart
 * allows and nobody answers.  The last seq used on it in *@ret_seq. */
static int holder_connect(const char *path, bool autostart, uint32_t *ret_seq)
{
	int fd = sealshm__peer_connect(path, ret_seq);

	if (fd >= 0 || !autostart || (fd != -ENOENT && fd != -ECONNREFUSED))
		return fd;
	/* sealshm__peer_connect() never starts one (it greets with the key
	 * it knows); conn.c starts it and waits until it listens. */
	fd = sealshm__conn_connect(path, true);
	if (fd < 0)
		return fd;
	safe_close(fd);
	return sealshm__peer_connect(path, ret_seq);
}

/* HOLDER on @sock, greeted with seq @seq: the id and the segment's fd and
 * size, unchecked. */
static int holder_ask(int sock, uint32_t seq, uint32_t *ret_id, int *ret_fd, uint64_t *ret_size)
{
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_HOLDER,
		.size = sizeof(req),
		.seq = seq + 1,
	};
	struct sealshm_msg_holder_reply rep;
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;

	n = sealshm__roundtrip(sock, &req, NULL, 0, &rep, sizeof(rep), &fd, NULL);
	if (n < 0)
		return (int)n;
	if ((size_t)n != sizeof(rep) || fd < 0 || rep.__pad != 0)
		return -EBADMSG;
	*ret_id = rep.holder;
	*ret_size = rep.size;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* One attempt of holder_acquire(). */
static int holder_acquire_once(const char *path, bool autostart, struct holder **ret)
{
	_cleanup_close_ int sock = -EBADF, fd = -EBADF;
	struct holder *h;
	struct stat st;
	uint64_t size = 0;
	uint32_t seq, id = 0;
	int r;

	sock = holder_connect(path, autostart, &seq);
	if (sock < 0)
		return sock;
	r = holder_ask(sock, seq, &id, &fd, &size);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;

	h = holder_by_inode(st.st_dev, st.st_ino);
	if (h) {
		/* A trackerd we had an id from: this process again after
		 * fork(), or another path to it. */
		if ((uint64_t)st.st_size != size || !holder_id_valid(h, id))
			return -EBADMSG;
		r = route_set(path, h);
		if (r < 0)
			return r;
		if (h->pub.id == 0 || !holder_connected(h)) {
			holder_disconnect(h);
			h->fd = TAKE_FD(sock);
			__atomic_store_n(&h->pub.id, id, __ATOMIC_RELEASE);
		}
		/* else we have an id with it already, and keep that one: the
		 * new one dies as @sock closes. */
	} else {
		r = holder_new(path, fd, size, &st, id, &h);
		if (r < 0)
			return r;
		r = route_set(path, h);
		if (r < 0) {
			/* Unpublished: nobody has seen it. */
			(void)munmap((void *)h->pub.lv, size);
			free(h);
			return r;
		}
		h->fd = TAKE_FD(sock);
		h->pub.id = id;
		h->next = holders.list;
		PUBLISH(holders.list, h);
	}
	/* Where to ask it again after fork(). */
	assert(strlen(path) < sizeof(h->path));
	strcpy(h->path, path);
	*ret = h;
	return 0;
}

/* An id from the trackerd at @path, on a connection of its own: the
 * holder of that trackerd's segment, made or given its id anew.  Lock
 * held. */
static int holder_acquire(const char *path, bool autostart, struct holder **ret)
{
	int r = -ECONNRESET;

	for (int i = 0; i < HOLDER_ATTEMPTS; i++) {
		r = holder_acquire_once(path, autostart, ret);
		/* trackerd exiting on idle as we asked: once more. */
		if (r == 0 || !sealshm__is_disconnect(r))
			return r;
	}
	return -ECONNRESET;
}

static int holder_get_locked(const struct sealshm_opts *opts, struct holder **ret)
{
	char path[SEALSHM__SUN_PATH_SIZE];
	struct route *route;
	struct holder *h;
	bool autostart;
	int r;

	if (!holders.forkable)
		return -ENOMEM;
	/* The path as resolved before (no mkdir and lstat each time): we only
	 * connect after resolving it fully below. */
	r = sealshm__socket_path_memo(opts, &holders.memo, path, sizeof(path), &autostart);
	if (r < 0)
		return r;
	route = route_find(path);
	h = route ? route->h : NULL;
	if (h && h->pub.id != 0) {
		if (holder_connected(h)) {
			*ret = h;
			return 0;
		}
		/* Its trackerd has gone: so has the id. */
		holder_disconnect(h);
	}

	r = sealshm__socket_path(opts, path, sizeof(path), &autostart);
	if (r < 0)
		return r;
	return holder_acquire(path, autostart, ret);
}

int sealshm__holder_get(const struct sealshm_opts *opts, const struct sealshm__holder **ret)
{
	struct holder *h;
	int r, cancel;

	cancel = holders_lock();
	r = holder_get_locked(opts, &h);
	if (r == 0)
		PUBLISH(holders.cache, h);
	holders_unlock(cancel);
	if (r < 0)
		return r;
	*ret = &h->pub;
	return 0;
}

/* A trackerd that cannot be reached cannot have the instance asked for. */
static int not_there(int r)
{
	if (r == -ENOENT || r == -ECONNREFUSED || sealshm__is_disconnect(r))
		return -ENXIO;
	return r;
}

/* sealshm__holder_find() among the trackerds this process has reached.
 * Returns 1 and *@ret, 0 when none has @instance, or -errno. */
static int holder_find_locked(uint64_t instance, struct holder **ret)
{
	struct holder *h = holders.list, *n;
	int r;

	if (!holders.forkable)
		return -ENOMEM;
	for (; h && h->pub.instance != instance; h = h->next)
		;
	if (h) {
		if (h->pub.id != 0) {
			*ret = h;
			return 1;
		}
		/* Ours, and no id yet in this (forked) process. */
		r = holder_acquire(h->path, false, &n);
		if (r < 0)
			return not_there(r);
		if (n != h)
			return -ENXIO;	/* its trackerd has been replaced */
		*ret = h;
		return 1;
	}

	/* One of the trackerds we reached may have been replaced by one with
	 * this instance: ask those whose connection has ended. */
	for (struct route *route = holders.routes; route; route = route->next) {
		if (route->h->pub.id != 0 && holder_connected(route->h))
			continue;
		holder_disconnect(route->h);
		r = holder_acquire(route->path, false, &n);
		if (r == 0 && n->pub.instance == instance) {
			*ret = n;
			return 1;
		}
	}
	return 0;
}

int sealshm__holder_find(uint64_t instance, const struct sealshm__holder **ret)
{
	struct holder *h = __atomic_load_n(&holders.cache, __ATOMIC_ACQUIRE);
	const struct sealshm__holder *d;
	int r, cancel;

	if (h && h->pub.instance == instance && __atomic_load_n(&h->pub.id, __ATOMIC_ACQUIRE)) {
		*ret = &h->pub;
		return 0;
	}

	cancel = holders_lock();
	r = holder_find_locked(instance, &h);
	if (r > 0)
		PUBLISH(holders.cache, h);
	holders_unlock(cancel);
	if (r > 0) {
		*ret = &h->pub;
		return 0;
	}
	if (r < 0)
		return r;

	/* The default trackerd, which may not have been asked yet. */
	r = sealshm__holder_get(NULL, &d);
	if (r < 0)
		return not_there(r);
	if (d->instance != instance)
		return -ENXIO;
	*ret = d;
	return 0;
}

const struct sealshm__holder *sealshm__holder_lookup(uint64_t instance)
{
	/* The list only grows, at its head, by release stores of holders
	 * built whole: a walk without the lock sees each one complete. */
	for (struct holder *h = __atomic_load_n(&holders.list, __ATOMIC_ACQUIRE); h; h = h->next)
		if (h->pub.instance == instance)
			return &h->pub;
	return NULL;
}

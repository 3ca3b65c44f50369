// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Arenas: many blocks in few segments, found from another process by a
 * reference (segment name, offset, size, generation), with counted
 * references per process, blocks reused once nobody holds them, and a
 * segment's name unlinked when its arena is closed and none of its blocks
 * is held.  The layout and the rules are in Documentation/objects.md
 * ("Arenas").
 *
 * Shared memory (any process mapping a segment may write it at any time):
 *  - a 64-byte segment header: magic, size, the count of live blocks (held
 *    by someone), the "closed" flag (its arena is closed, or the segment
 *    holds one large block), the "unlinked" flag (someone took the job of
 *    unlinking the name);
 *  - per block, a 32-byte header right before its first byte: magic, the
 *    size asked for, its capacity, and one 64-bit word packing the
 *    generation (high 40 bits) and the reference count (low 24 bits), so
 *    that "same generation and still held" and "one more reference" are a
 *    single compare-and-swap.  A block whose count is 0 is free: nobody can
 *    take a reference to it any more, only its allocator can reuse it (in
 *    the next generation).
 *
 * This process's state (one mutex): the table of the segments it maps
 * (each once, with the number of blocks held through it), the blocks it
 * holds (by address: how many times attached, which generation), and per
 * open arena the allocator: per segment the blocks carved from it (by
 * offset) and a bump offset, and free lists by size class.  Nothing that
 * decides where a block lies is ever read back from shared memory: the
 * allocator uses its private copy, an attacher checks the header copy it
 * read against the bounds it knows.
 *
 * fork(): the child holds none of its parent's references.  The table is
 * stamped with the pid that built it; the first call in a child forgets
 * the held blocks and marks every mapping inherited (kept as long as the
 * child lives: its code may use its parent's blocks through it), and an
 * arena stamped with another pid forgets its parent's segments and starts
 * its own.  An atfork handler keeps the mutex usable in the child, and
 * this process's pid (a child made by a fork that runs no handlers,
 * _Fork() or a raw clone(), is taken for its parent).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "internal.h"
#include "name.h"
#include "segment.h"

#define SEG_MAGIC		0x4e524153u	/* "SARN" little-endian */
#define SEG_VERSION		1u
#define BLK_MAGIC		0x4b4c4253u	/* "SBLK" little-endian */

/* A segment of the arena: pages come on first touch, so a large one costs
 * nothing until used. */
#define SEG_SIZE		((size_t)1 << 20)
/* A block larger than this gets a segment of its own. */
#define SMALL_MAX		(SEG_SIZE / 8)
#define BLOCK_ALIGN		16u

/* The reference word: generation << REF_BITS | count. */
#define REF_BITS		24
#define REF_MAX			((1ull << REF_BITS) - 1)
#define GEN_MAX			((1ull << (64 - REF_BITS)) - 1)
#define WORD_REFS(w)		((w) & REF_MAX)
#define WORD_GEN(w)		((w) >> REF_BITS)
#define WORD(gen, refs)		((uint64_t)(gen) << REF_BITS | (refs))

/* Segment header flags. */
#define SEGF_SINGLE		(1u << 0)	/* one large block: unlinked when it is free */

/* Attempts at a free generated name before giving up with -EEXIST. */
#define NAME_ATTEMPTS		16

struct seg_hdr {
	uint32_t magic;		/* SEG_MAGIC */
	uint32_t version;	/* SEG_VERSION */
	uint64_t size;		/* bytes of the segment */
	uint32_t live;		/* blocks whose reference count is not 0 */
	uint32_t closed;	/* 1: the name goes when live drops to 0 */
	uint32_t unlinked;	/* 1: someone took the job of unlinking the name */
	uint32_t flags;		/* SEGF_* */
	uint32_t creator_pid;
	uint32_t __reserved0;
	uint64_t __reserved[3];
};
_Static_assert(sizeof(struct seg_hdr) == 64, "segment header size");

struct blk_hdr {
	uint32_t magic;		/* BLK_MAGIC */
	uint32_t __reserved;
	uint64_t size;		/* bytes asked for (struct sealshm_ref.size) */
	uint64_t word;		/* WORD(generation, references) */
	uint64_t cap;		/* bytes the block may hold, a multiple of 16 */
};
_Static_assert(sizeof(struct blk_hdr) == 32, "block header size");
_Static_assert(sizeof(struct seg_hdr) % BLOCK_ALIGN == 0 && sizeof(struct blk_hdr) % BLOCK_ALIGN == 0,
	       "headers keep blocks 16-aligned");

/* Size classes: multiples of 16 up to 128, then four per power of two. */
#define N_CLASSES		48

/* A block as its allocator knows it. */
enum { BLK_USED, BLK_FREE, BLK_LOST };
struct blk {
	uint64_t off;		/* of its header */
	uint64_t cap;
	uint8_t state;		/* BLK_*: FREE when on a free list; LOST when
				 * another process broke its header */
};

struct seg {
	struct seg *next;
	char name[SEALSHM_NAME_MAX + 1];
	char *socket;		/* where its trackerd was reached (NULL: default) */
	uint8_t *base;		/* this process's one mapping */
	size_t size;
	uint64_t ino;		/* the memfd's inode: unlink only that one */
	size_t holds;		/* blocks this process holds through it */
	bool inherited;		/* mapped before a fork: never unmapped here */
	/* While the arena that made it (in this process) is open: */
	struct sealshm_arena *arena;
	bool single;		/* one large block */
	size_t top;		/* where the next block is carved */
	struct blk *blks;	/* carved blocks, by offset */
	size_t n_blks, cap_blks;
};

struct free_ent {
	struct seg *s;
	size_t idx;
};

struct free_list {
	struct free_ent *v;
	size_t n, cap;
};

struct sealshm_arena {
	pid_t pid;		/* the process whose arena it is */
	uint32_t flags;
	uint32_t mode;
	char *socket;
	struct seg **segs;	/* its segments, the newest last */
	size_t n_segs, cap_segs;
	struct free_list free[N_CLASSES];
	uint64_t counter;	/* for names */
};

/* A block this process holds. */
struct held {
	struct held *next;
	uintptr_t addr;		/* its first byte here */
	struct seg *s;
	uint64_t off;		/* of its first byte */
	uint64_t size;
	uint64_t gen;
	uint64_t count;		/* allocs and attaches not yet released */
};

static struct {
	pthread_mutex_t lock;
	pthread_once_t once;
	pid_t pid;		/* who built what is below */
	struct seg *segs;
	struct held **buckets;	/* by address */
	size_t n_buckets, n_held;
} table = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.once = PTHREAD_ONCE_INIT,
};

/* --- the table, fork ------------------------------------------------------- */

static void atfork_prepare(void)
{
	(void)pthread_mutex_lock(&table.lock);
}

static void atfork_parent(void)
{
	(void)pthread_mutex_unlock(&table.lock);
}

/* This process's pid, kept by the child handler below (getpid() is a
 * system call, and every call here compares pids); 0 when the handler
 * could not be registered, then getpid() is asked each time. */
static pid_t self_pid;

static void atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	table.lock = fresh;
	self_pid = getpid();
}

static void table_init(void)
{
	/* Without the handler (ENOMEM), a fork while another thread holds
	 * the lock would leave the child's copy locked; the pid stamp still
	 * makes the child forget its parent's state. */
	if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) == 0)
		self_pid = getpid();
}

static pid_t my_pid(void)
{
	pid_t pid;

	(void)pthread_once(&table.once, table_init);
	pid = __atomic_load_n(&self_pid, __ATOMIC_RELAXED);
	return pid ? pid : getpid();
}

static void seg_free_alloc_state(struct seg *s)
{
	free(s->blks);
	s->blks = NULL;
	s->n_blks = s->cap_blks = 0;
	s->arena = NULL;
}

/* In a forked child: the parent's references are not ours, its mappings
 * stay (inherited), its arenas' state is forgotten. */
static void table_forget_parent(void)
{
	for (size_t i = 0; i < table.n_buckets; i++) {
		struct held *h = table.buckets[i], *next;

		for (; h; h = next) {
			next = h->next;
			free(h);
		}
		table.buckets[i] = NULL;
	}
	table.n_held = 0;
	for (struct seg *s = table.segs; s; s = s->next) {
		s->holds = 0;
		s->inherited = true;
		seg_free_alloc_state(s);
	}
}

static void table_lock(void)
{
	pid_t pid;

	pid = my_pid();
	(void)pthread_mutex_lock(&table.lock);
	if (table.pid != pid) {
		if (table.pid != 0)
			table_forget_parent();
		table.pid = pid;
	}
}

static void table_unlock(void)
{
	(void)pthread_mutex_unlock(&table.lock);
}

static size_t addr_hash(uintptr_t a)
{
	uint64_t x = (uint64_t)a >> 4;

	x *= 0x9e3779b97f4a7c15ull;
	return (size_t)(x >> 32);
}

static struct held *held_find(uintptr_t addr)
{
	if (!table.n_buckets)
		return NULL;
	for (struct held *h = table.buckets[addr_hash(addr) & (table.n_buckets - 1)]; h; h = h->next)
		if (h->addr == addr)
			return h;
	return NULL;
}

/* Room for one more held block (so that inserting it cannot fail). */
static int held_reserve(void)
{
	size_t nb = table.n_buckets ? table.n_buckets : 64;
	struct held **b;

	if (table.n_held + 1 <= table.n_buckets)
		return 0;
	while (nb < table.n_held + 1)
		nb *= 2;
	if (nb == table.n_buckets)
		nb *= 2;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < table.n_buckets; i++) {
		struct held *h = table.buckets[i], *next;

		for (; h; h = next) {
			size_t j = addr_hash(h->addr) & (nb - 1);

			next = h->next;
			h->next = b[j];
			b[j] = h;
		}
	}
	free(table.buckets);
	table.buckets = b;
	table.n_buckets = nb;
	return 0;
}

static void held_insert(struct held *h)
{
	size_t j = addr_hash(h->addr) & (table.n_buckets - 1);

	h->next = table.buckets[j];
	table.buckets[j] = h;
	table.n_held++;
}

static void held_remove(struct held *h)
{
	struct held **p = &table.buckets[addr_hash(h->addr) & (table.n_buckets - 1)];

	while (*p != h)
		p = &(*p)->next;
	*p = h->next;
	table.n_held--;
	free(h);
}

static struct seg *seg_by_addr(uintptr_t addr)
{
	for (struct seg *s = table.segs; s; s = s->next)
		if (addr >= (uintptr_t)s->base && addr - (uintptr_t)s->base < s->size)
			return s;
	return NULL;
}

static bool same_socket(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static struct seg *seg_by_name(const char *name, const char *socket)
{
	for (struct seg *s = table.segs; s; s = s->next)
		if (strcmp(s->name, name) == 0 && same_socket(s->socket, socket))
			return s;
	return NULL;
}

static struct seg_hdr *seg_hdr(const struct seg *s)
{
	return (struct seg_hdr *)s->base;
}

static struct blk_hdr *blk_hdr_at(const struct seg *s, uint64_t off)
{
	return (struct blk_hdr *)(s->base + off);
}

/* Unmap @s and forget it (nobody here holds a block through it, and no
 * open arena of ours allocates in it). */
static void seg_drop(struct seg *s)
{
	struct seg **p = &table.segs;

	assert(s->holds == 0 && !s->arena && !s->inherited);
	while (*p != s)
		p = &(*p)->next;
	*p = s->next;
	(void)munmap(s->base, s->size);
	sealshm__unmap_note();
	free(s->socket);
	free(s->blks);
	free(s);
}

static void seg_maybe_drop(struct seg *s)
{
	if (s->holds == 0 && !s->arena && !s->inherited)
		seg_drop(s);
}

/* Unlink @s's name, if nobody took that job yet. */
static void seg_unlink(struct seg *s)
{
	uint32_t zero = 0;

	if (!__atomic_compare_exchange_n(&seg_hdr(s)->unlinked, &zero, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_AUTOSTART, .socket = s->socket,
		     .ino = s->ino);
	/* The name may be gone already (its family's tracking), or not ours
	 * to unlink (another user's arena): nothing to do then. */
	(void)sealshm_unlink_name(s->name, &o);
}

/* One live block fewer in @s; the name goes at 0 when its arena is closed
 * (or the segment is one block's). */
static void seg_live_dec(struct seg *s)
{
	struct seg_hdr *h = seg_hdr(s);
	uint32_t live = __atomic_load_n(&h->live, __ATOMIC_SEQ_CST);

	do {
		if (live == 0)		/* broken by someone: never below 0 */
			return;
	} while (!__atomic_compare_exchange_n(&h->live, &live, live - 1, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	if (live == 1 && __atomic_load_n(&h->closed, __ATOMIC_SEQ_CST))
		seg_unlink(s);
}

/* Map the segment of handle @shm (its fd is closed with it) into a new
 * table entry.  The fd was checked (size-sealed memfd of its size). */
static int seg_map(struct sealshm *shm, const char *socket, struct seg **ret)
{
	_cleanup_free_ struct seg *s = calloc(1, sizeof(*s));
	struct stat st;
	void *base;

	if (!s)
		return -ENOMEM;
	if (socket) {
		s->socket = strdup(socket);
		if (!s->socket)
			return -ENOMEM;
	}
	if (fstat(sealshm_fd(shm), &st) < 0) {
		free(s->socket);
		return -errno;
	}
	base = mmap(NULL, sealshm_size(shm), PROT_READ | PROT_WRITE, MAP_SHARED,
		    sealshm_fd(shm), 0);
	if (base == MAP_FAILED) {
		free(s->socket);
		return -errno;
	}
	s->base = base;
	s->size = sealshm_size(shm);
	s->ino = st.st_ino;
	(void)snprintf(s->name, sizeof(s->name), "%s", sealshm_name(shm));
	s->next = table.segs;
	table.segs = s;
	*ret = TAKE_PTR(s);
	return 0;
}

/* --- the allocator --------------------------------------------------------- */

static uint64_t round16(uint64_t n)
{
	return (n + BLOCK_ALIGN - 1) & ~(uint64_t)(BLOCK_ALIGN - 1);
}

/* The capacity of the class of a request of @n (1..SMALL_MAX) bytes, and
 * the class's index. */
static uint64_t class_of(uint64_t n, size_t *ret_idx)
{
	uint64_t cap = round16(n), step;
	int b;

	if (cap <= 128) {
		*ret_idx = cap / 16 - 1;
		return cap;
	}
	b = 63 - __builtin_clzll(cap - 1);	/* 2^b < cap <= 2^(b+1), b >= 7 */
	step = 1ull << (b - 2);			/* four classes per power of two */
	cap = (cap + step - 1) & ~(step - 1);	/* cap / step is 5, 6, 7 or 8 */
	*ret_idx = 8 + (size_t)(b - 7) * 4 + (size_t)(cap / step - 5);
	return cap;
}

static int free_push(struct free_list *fl, struct seg *s, size_t idx)
{
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 16;
		struct free_ent *v = realloc(fl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		fl->v = v;
		fl->cap = cap;
	}
	fl->v[fl->n++] = (struct free_ent){ s, idx };
	return 0;
}

/* The block of @s whose header is at @off (binary search: carved in
 * increasing offsets), or NULL. */
static struct blk *blk_find(struct seg *s, uint64_t off, size_t *ret_idx)
{
	size_t lo = 0, hi = s->n_blks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->blks[mid].off == off) {
			*ret_idx = mid;
			return &s->blks[mid];
		}
		if (s->blks[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Put block @idx of @s (free: its count is 0) on its arena's free list. */
static void blk_freed(struct seg *s, size_t idx)
{
	struct blk *b = &s->blks[idx];
	size_t cls;

	if (b->state != BLK_USED)
		return;
	if (s->single) {	/* its segment goes: arena_reclaim(), release */
		b->state = BLK_FREE;
		return;
	}
	(void)class_of(b->cap, &cls);
	/* Without memory for the list entry the block is lost to reuse,
	 * not to correctness. */
	if (free_push(&s->arena->free[cls], s, idx) == 0)
		b->state = BLK_FREE;
	else
		b->state = BLK_LOST;
}

/* Remove @s from arena @a's list (it is one large block's, now free). */
static void arena_remove(struct sealshm_arena *a, struct seg *s)
{
	for (size_t i = 0; i < a->n_segs; i++)
		if (a->segs[i] == s) {
			memmove(&a->segs[i], &a->segs[i + 1], (a->n_segs - i - 1) * sizeof(*a->segs));
			a->n_segs--;
			break;
		}
	seg_free_alloc_state(s);
}

/* Find the blocks of @a released by everyone (perhaps by other
 * processes) and put them on the free lists; forget the large blocks'
 * segments nobody holds any more.  @singles_only: only those. */
static void arena_reclaim(struct sealshm_arena *a, bool singles_only)
{
	for (size_t i = 0; i < a->n_segs;) {
		struct seg *s = a->segs[i];

		if (singles_only && !s->single) {
			i++;
			continue;
		}
		for (size_t j = 0; j < s->n_blks; j++) {
			struct blk *b = &s->blks[j];

			if (b->state == BLK_USED &&
			    WORD_REFS(__atomic_load_n(&blk_hdr_at(s, b->off)->word,
						      __ATOMIC_ACQUIRE)) == 0)
				blk_freed(s, j);
		}
		if (s->single && s->n_blks && s->blks[0].state != BLK_USED && s->holds == 0) {
			seg_unlink(s);
			arena_remove(a, s);
			seg_maybe_drop(s);
			continue;
		}
		i++;
	}
}

static int arena_name(struct sealshm_arena *a, char *buf, size_t len)
{
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;

		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		rnd = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^
		      (uintptr_t)a;
	}
	(void)snprintf(buf, len, "sealshm_arena_%d_%016llx_%llu", (int)a->pid,
		       (unsigned long long)rnd, (unsigned long long)++a->counter);
	return 0;
}

/* A new segment of @size bytes for @a, its header written. */
static int arena_new_seg(struct sealshm_arena *a, size_t size, bool single, struct seg **ret)
{
	/* LIFETIME_LAST: a process attaching a block tracks the segment in
	 * its own family's session; its end must not take the name from the
	 * others (the name goes with the last family, or before that when
	 * the arena is closed and nothing is held). */
	SEALSHM_OPTS(sealshm_opts, o, .flags = a->flags | SEALSHM_LIFETIME_LAST, .mode = a->mode,
		     .socket = a->socket);
	struct sealshm *shm = NULL;
	struct seg *s;
	struct seg_hdr *h;
	int r = -EEXIST;

	if (a->n_segs == a->cap_segs) {
		size_t cap = a->cap_segs ? a->cap_segs * 2 : 8;
		struct seg **v = realloc(a->segs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->segs = v;
		a->cap_segs = cap;
	}
	for (int i = 0; i < NAME_ATTEMPTS && r == -EEXIST; i++) {
		char name[SEALSHM_NAME_MAX + 1];

		(void)arena_name(a, name, sizeof(name));
		r = sealshm_create(name, size, &o, &shm);
	}
	if (r < 0)
		return r;
	r = seg_map(shm, a->socket, &s);
	if (r < 0) {
		(void)sealshm_unlink(shm);
		sealshm_close(shm);
		return r;
	}
	sealshm_close(shm);

	h = seg_hdr(s);
	h->version = SEG_VERSION;
	h->size = size;
	h->flags = single ? SEGF_SINGLE : 0;
	h->closed = single;
	h->creator_pid = (uint32_t)a->pid;
	__atomic_store_n(&h->magic, SEG_MAGIC, __ATOMIC_RELEASE);

	s->arena = a;
	s->single = single;
	s->top = sizeof(struct seg_hdr);
	a->segs[a->n_segs++] = s;
	*ret = s;
	return 0;
}

/* Carve a block of capacity @cap at the top of @s (room checked). */
static int seg_carve(struct seg *s, uint64_t cap, size_t *ret_idx)
{
	struct blk_hdr *bh;

	if (s->n_blks == s->cap_blks) {
		size_t n = s->cap_blks ? s->cap_blks * 2 : 16;
		struct blk *v = realloc(s->blks, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->blks = v;
		s->cap_blks = n;
	}
	bh = blk_hdr_at(s, s->top);
	bh->magic = BLK_MAGIC;
	bh->cap = cap;
	/* Generation 0, no reference: free, taken by blk_take(). */
	__atomic_store_n(&bh->word, 0, __ATOMIC_RELEASE);
	s->blks[s->n_blks] = (struct blk){ .off = s->top, .cap = cap, .state = BLK_USED };
	*ret_idx = s->n_blks++;
	s->top += sizeof(struct blk_hdr) + cap;
	return 0;
}

/* Make block @idx of @s (count 0) the caller's, @size bytes, zeroed, in
 * the next generation.  -EBUSY when its header was changed under us. */
static int blk_take(struct seg *s, size_t idx, uint64_t size, bool fresh, uint64_t *ret_gen)
{
	struct blk *b = &s->blks[idx];
	struct blk_hdr *bh = blk_hdr_at(s, b->off);
	uint64_t w = __atomic_load_n(&bh->word, __ATOMIC_ACQUIRE), gen;

	if (WORD_REFS(w) != 0)
		return -EBUSY;
	gen = WORD_GEN(w) >= GEN_MAX ? 1 : WORD_GEN(w) + 1;
	if (!fresh)	/* new pages are zero already */
		memset(bh + 1, 0, b->cap);
	bh->magic = BLK_MAGIC;
	bh->size = size;
	bh->cap = b->cap;
	__atomic_fetch_add(&seg_hdr(s)->live, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_compare_exchange_n(&bh->word, &w, WORD(gen, 1), false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		seg_live_dec(s);
		return -EBUSY;
	}
	b->state = BLK_USED;
	*ret_gen = gen;
	return 0;
}

/* In a forked child, an arena handle copied from the parent: its segments
 * are the parent's (the table has forgotten their allocator state). */
static void arena_forget_parent(struct sealshm_arena *a)
{
	for (size_t i = 0; i < N_CLASSES; i++) {
		free(a->free[i].v);
		a->free[i] = (struct free_list){ 0 };
	}
	free(a->segs);
	a->segs = NULL;
	a->n_segs = a->cap_segs = 0;
	a->pid = my_pid();
}

/* A block of @size bytes: *@ret_s, the offset of its first byte, its
 * generation. */
static int arena_get(struct sealshm_arena *a, uint64_t size, struct seg **ret_s,
		     uint64_t *ret_off, uint64_t *ret_gen)
{
	uint64_t cap, gen = 0;
	struct seg *s = NULL;
	size_t cls, idx = 0;
	int r;

	if (size > SMALL_MAX) {
		uint64_t total = sizeof(struct seg_hdr) + sizeof(struct blk_hdr) + round16(size);
		long page = sysconf(_SC_PAGESIZE);

		if (total < size || total > INT64_MAX - (uint64_t)page || total > SIZE_MAX / 2)
			return -ENOMEM;
		total = (total + (uint64_t)page - 1) & ~((uint64_t)page - 1);
		/* Large blocks freed elsewhere: their mappings go first. */
		arena_reclaim(a, true);
		r = arena_new_seg(a, total, true, &s);
		if (r < 0)
			return r;
		r = seg_carve(s, total - sizeof(struct seg_hdr) - sizeof(struct blk_hdr), &idx);
		if (r == 0)
			r = blk_take(s, idx, size, true, &gen);
		if (r < 0) {
			seg_unlink(s);
			arena_remove(a, s);
			seg_maybe_drop(s);
			return r == -EBUSY ? -EIO : r;
		}
		goto done;
	}

	cap = class_of(size, &cls);
	for (int pass = 0; pass < 2; pass++) {
		struct free_list *fl = &a->free[cls];

		while (fl->n) {
			struct free_ent e = fl->v[--fl->n];

			e.s->blks[e.idx].state = BLK_USED;
			if (blk_take(e.s, e.idx, size, false, &gen) == 0) {
				s = e.s;
				idx = e.idx;
				goto done;
			}
			e.s->blks[e.idx].state = BLK_LOST;
		}
		/* The newest small segment, if it has room. */
		for (size_t i = a->n_segs; i-- > 0;) {
			s = a->segs[i];
			if (s->single)
				continue;
			if (s->size - s->top >= sizeof(struct blk_hdr) + cap) {
				r = seg_carve(s, cap, &idx);
				if (r < 0)
					return r;
				r = blk_take(s, idx, size, true, &gen);
				if (r == 0)
					goto done;
				s->blks[idx].state = BLK_LOST;
			}
			break;
		}
		if (pass == 0)
			arena_reclaim(a, false);
	}
	r = arena_new_seg(a, SEG_SIZE, false, &s);
	if (r < 0)
		return r;
	r = seg_carve(s, cap, &idx);
	if (r == 0)
		r = blk_take(s, idx, size, true, &gen);
	if (r < 0)
		return r == -EBUSY ? -EIO : r;
done:
	*ret_s = s;
	*ret_off = s->blks[idx].off + sizeof(struct blk_hdr);
	*ret_gen = gen;
	return 0;
}

/* --- public calls ----------------------------------------------------------- */

int sealshm_arena_open(const struct sealshm_opts *opts, struct sealshm_arena **ret)
{
	struct sealshm_arena *a;
	const char *socket;
	uint32_t flags, mode;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(ret, -EINVAL);
	flags = OPTS_GET(opts, flags, 0);
	mode = OPTS_GET(opts, mode, 0);
	socket = OPTS_GET(opts, socket, NULL);
	/* Arena segments are size-sealed memfds (a POSIX file could be
	 * truncated under us), created read-write. */
	sealshm__return_if_fail(!(flags & ~(SEALSHM__FLAGS_CREATE & ~SEALSHM_POSIX)), -EINVAL);
	sealshm__return_if_fail(!(mode & ~0777u), -EINVAL);

	a = calloc(1, sizeof(*a));
	if (!a)
		return sealshm__err(-ENOMEM);
	if (socket) {
		a->socket = strdup(socket);
		if (!a->socket) {
			free(a);
			return sealshm__err(-ENOMEM);
		}
	}
	a->flags = flags;
	a->mode = mode;
	a->pid = my_pid();
	*ret = a;
	return 0;
}

int sealshm_arena_close(struct sealshm_arena *a)
{
	if (!a)
		return 0;
	table_lock();
	if (a->pid == my_pid()) {
		for (size_t i = 0; i < a->n_segs; i++) {
			struct seg *s = a->segs[i];
			struct seg_hdr *h = seg_hdr(s);

			__atomic_store_n(&h->closed, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&h->live, __ATOMIC_SEQ_CST) == 0)
				seg_unlink(s);
			seg_free_alloc_state(s);
			seg_maybe_drop(s);
		}
	}
	/* else a forked child's copy: the segments are its parent's. */
	table_unlock();
	for (size_t i = 0; i < N_CLASSES; i++)
		free(a->free[i].v);
	free(a->segs);
	free(a->socket);
	free(a);
	return 0;
}

int sealshm_block_alloc(struct sealshm_arena *a, size_t size, void **ret)
{
	struct held *h;
	struct seg *s = NULL;
	uint64_t off = 0, gen = 0;
	int r;

	sealshm__return_if_fail(a && ret, -EINVAL);
	sealshm__return_if_fail(size > 0 && (uint64_t)size <= INT64_MAX / 2, -EINVAL);

	h = calloc(1, sizeof(*h));
	if (!h)
		return sealshm__err(-ENOMEM);
	table_lock();
	if (a->pid != my_pid())
		arena_forget_parent(a);
	r = held_reserve();
	if (r == 0)
		r = arena_get(a, size, &s, &off, &gen);
	if (r < 0) {
		table_unlock();
		free(h);
		return sealshm__err(r);
	}
	*h = (struct held){ .addr = (uintptr_t)(s->base + off), .s = s, .off = off,
			    .size = size, .gen = gen, .count = 1 };
	held_insert(h);
	s->holds++;
	table_unlock();
	*ret = s->base + off;
	return 0;
}

int sealshm_block_ref(const void *block, struct sealshm_ref *ref)
{
	struct held *h;

	sealshm__return_if_fail(block && ref, -EINVAL);
	table_lock();
	h = held_find((uintptr_t)block);
	if (!h) {
		table_unlock();
		return sealshm__err(-EINVAL);
	}
	memset(ref, 0, sizeof(*ref));
	memcpy(ref->name, h->s->name, sizeof(ref->name));
	ref->offset = h->off;
	ref->size = h->size;
	ref->generation = h->gen;
	table_unlock();
	return 0;
}

/* Take a reference to the block at @off of @s as @ref describes it. */
static int blk_attach(struct seg *s, const struct sealshm_ref *ref, uint64_t *ret_size)
{
	struct seg_hdr *sh = seg_hdr(s);
	struct blk_hdr *bh;
	uint64_t w, size;

	if (s->size < sizeof(struct seg_hdr) + sizeof(struct blk_hdr) ||
	    __atomic_load_n(&sh->magic, __ATOMIC_ACQUIRE) != SEG_MAGIC)
		return -EBADMSG;
	if (ref->offset % BLOCK_ALIGN ||
	    ref->offset < sizeof(struct seg_hdr) + sizeof(struct blk_hdr) ||
	    ref->offset > s->size)
		return -EBADMSG;
	bh = blk_hdr_at(s, ref->offset - sizeof(struct blk_hdr));
	if (__atomic_load_n(&bh->magic, __ATOMIC_RELAXED) != BLK_MAGIC)
		return -EBADMSG;
	w = __atomic_load_n(&bh->word, __ATOMIC_ACQUIRE);
	for (int tries = 0;; tries++) {
		if (WORD_GEN(w) != ref->generation || WORD_REFS(w) == 0)
			return -ESTALE;
		/* The size of this generation (written before the word
		 * published it); checked against the segment, as read. */
		size = __atomic_load_n(&bh->size, __ATOMIC_RELAXED);
		if (size == 0 || size > s->size - ref->offset)
			return -EBADMSG;
		if (size != ref->size)
			return -ESTALE;
		if (WORD_REFS(w) == REF_MAX)
			return -EOVERFLOW;
		if (__atomic_compare_exchange_n(&bh->word, &w, w + 1, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
		if (tries > 1000)	/* someone keeps changing it */
			return -EBUSY;
	}
	*ret_size = size;
	return 0;
}

/* Drop the shared reference of @s's block at @off (ours). */
static void blk_unref(struct seg *s, uint64_t off)
{
	struct blk_hdr *bh = blk_hdr_at(s, off - sizeof(struct blk_hdr));
	uint64_t w = __atomic_load_n(&bh->word, __ATOMIC_ACQUIRE);
	size_t idx;

	do {
		if (WORD_REFS(w) == 0)	/* broken by someone */
			return;
	} while (!__atomic_compare_exchange_n(&bh->word, &w, w - 1, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	if (WORD_REFS(w) != 1)
		return;
	/* The last reference: the block is free. */
	if (s->arena && blk_find(s, off - sizeof(struct blk_hdr), &idx))
		blk_freed(s, idx);
	seg_live_dec(s);
}

int sealshm_block_attach(const struct sealshm_ref *ref, const struct sealshm_opts *opts,
			 void **ret)
{
	struct sealshm *shm = NULL;
	const char *socket, *n;
	struct held *h;
	struct seg *s;
	bool fresh = false;
	uint64_t size = 0;
	uint32_t flags;
	int r;

	sealshm__return_if_fail(ref && ret, -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	flags = OPTS_GET(opts, flags, 0);
	socket = OPTS_GET(opts, socket, NULL);
	/* Taking a reference writes the block's header. */
	sealshm__return_if_fail(!(flags & ~SEALSHM__FLAGS_ATTACH), -EINVAL);
	sealshm__return_if_fail(!(flags & (SEALSHM_RDONLY | SEALSHM_POSIX)), -EINVAL);
	sealshm__return_if_fail(memchr(ref->name, 0, sizeof(ref->name)), -EINVAL);
	sealshm__return_if_fail(sealshm__name_check(ref->name, &n) == 0, -EINVAL);

	h = calloc(1, sizeof(*h));
	if (!h)
		return sealshm__err(-ENOMEM);
	table_lock();
	for (;;) {
		r = held_reserve();
		if (r < 0)
			goto out;
		s = seg_by_name(n, socket);
		if (s)
			break;
		if (shm) {
			r = seg_map(shm, socket, &s);
			if (r < 0)
				goto out;
			fresh = true;
			break;
		}
		/* No trackerd round trip under the lock; another thread may
		 * map the segment meanwhile (then its mapping is used). */
		table_unlock();
		r = sealshm_attach(n, opts, &shm);
		table_lock();
		if (r < 0)
			goto out;
	}
	if (!fresh && ref->offset <= s->size) {
		struct held *old = held_find((uintptr_t)(s->base + ref->offset));

		if (old) {
			/* Held here already: one more use of our reference. */
			if (old->off != ref->offset || old->gen != ref->generation ||
			    old->size != ref->size) {
				r = -ESTALE;
				goto out;
			}
			old->count++;
			*ret = (void *)old->addr;
			r = 0;
			goto out;
		}
	}
	r = blk_attach(s, ref, &size);
	if (r < 0) {
		if (fresh)
			seg_maybe_drop(s);
		goto out;
	}
	*h = (struct held){ .addr = (uintptr_t)(s->base + ref->offset), .s = s, .off = ref->offset,
			    .size = size, .gen = ref->generation, .count = 1 };
	held_insert(h);
	h = NULL;
	s->holds++;
	*ret = s->base + ref->offset;
	r = 0;
out:
	table_unlock();
	sealshm_close(shm);
	free(h);
	return sealshm__err(r);
}

int sealshm_block_release(void *block)
{
	struct held *h;
	struct seg *s;

	sealshm__return_if_fail(block, -EINVAL);
	table_lock();
	h = held_find((uintptr_t)block);
	if (!h) {
		/* A block start in a segment mapped here that we do not hold
		 * (a forked child's inherited block): -EPERM; anything else
		 * is not a block. */
		int r = -EINVAL;

		s = seg_by_addr((uintptr_t)block);
		if (s) {
			uint64_t off = (uintptr_t)block - (uintptr_t)s->base;

			if (off % BLOCK_ALIGN == 0 &&
			    off >= sizeof(struct seg_hdr) + sizeof(struct blk_hdr) &&
			    __atomic_load_n(&blk_hdr_at(s, off - sizeof(struct blk_hdr))->magic,
					    __ATOMIC_RELAXED) == BLK_MAGIC)
				r = -EPERM;
		}
		table_unlock();
		return sealshm__err(r);
	}
	if (--h->count > 0) {
		table_unlock();
		return 0;
	}
	s = h->s;
	blk_unref(s, h->off);
	held_remove(h);
	s->holds--;
	if (s->arena && s->single && s->holds == 0 && s->n_blks && s->blks[0].state != BLK_USED) {
		/* A large block of an open arena of ours, free now. */
		seg_unlink(s);
		arena_remove(s->arena, s);
	}
	seg_maybe_drop(s);
	table_unlock();
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Values and arrays in shared memory (sealshm_array(3)):
 * multiprocessing.sharedctypes' Value, Array, RawValue and RawArray.
 *
 * An array is a 64-byte header that is an object of its own (object.h,
 * type SEALSHM_OBJECT_ARRAY), then its Lock or RLock if it has one (a
 * whole object at +64, set up and used through lock.c's public calls),
 * then the items.  Layout and rules in Documentation/objects.md.
 *
 * Nothing after _open() trusts the shared header: the handle is this
 * process's, with a copy of the geometry checked once against the bytes
 * mapped, and every access path that takes an index checks it against
 * that copy.  Items are plain memory: no call here takes the lock.
 */
#include <stdalign.h>

#include "array.h"
#include "internal.h"
#include "object.h"

#define HDR_SIZE	SEALSHM__ARRAY_HDR_SIZE
#define LOCK_FLAGS	(SEALSHM_ARRAY_LOCK | SEALSHM_ARRAY_RLOCK)
#define PARAM_FLAGS	(LOCK_FLAGS | SEALSHM_ARRAY_VALUE)
/* Items start at least this aligned from the header (and so from the
 * mapping, whose start is page-aligned). */
#define DATA_ALIGN	16u
#define ITEM_ALIGN_MAX	16u

struct sealshm_array {
	/* The checked geometry: what every access uses. */
	uint64_t length;
	size_t item_size;
	size_t bytes;		/* length * item_size */
	uint32_t typecode;
	uint32_t flags;		/* SEALSHM_ARRAY_*, with _RDONLY for a read-only handle */
	char *data;		/* the first item */
	void *lock;		/* struct sealshm_lock or sealshm_rlock, or NULL */
	void *mem;		/* the header */
	size_t len;		/* bytes mapped from @mem on, as _open() was told */
	/* What the handle holds: a segment of its own, or an arena block. */
	struct sealshm *shm;
	void *block;
};

/* --- typecodes -------------------------------------------------------------- */

struct code {
	uint32_t typecode;
	uint32_t size;
	uint32_t align;
};

#define CODE(c, t) { (c), sizeof(t), alignof(t) }
/* The C type of each typecode, as array and ctypes map them. */
static const struct code codes[] = {
	CODE('c', char),	CODE('b', signed char),	CODE('B', unsigned char),
	CODE('?', _Bool),	CODE('h', short),	CODE('H', unsigned short),
	CODE('i', int),		CODE('I', unsigned int),
	CODE('l', long),	CODE('L', unsigned long),
	CODE('q', long long),	CODE('Q', unsigned long long),
	CODE('f', float),	CODE('d', double),
};
#undef CODE

static const struct code *code_of(uint32_t typecode)
{
	for (size_t i = 0; i < ELEMENTSOF(codes); i++)
		if (codes[i].typecode == typecode)
			return &codes[i];
	return NULL;
}

/* --- geometry --------------------------------------------------------------- */

struct geometry {
	uint64_t length;
	uint32_t typecode;
	uint32_t flags;		/* SEALSHM_ARRAY_LOCK, _RLOCK, _VALUE */
	uint32_t item_size;
	uint32_t item_align;
	uint32_t data_offset;
	size_t bytes;		/* length * item_size */
	size_t total;		/* data_offset + bytes */
};

/* Whether an item of @typecode may be @item_size bytes aligned to
 * @item_align: exactly its C type's for a typecode; for a struct (0), a
 * size that is a multiple of a power of two up to 16. */
static bool item_ok(uint32_t typecode, uint32_t item_size, uint32_t item_align)
{
	const struct code *c;

	if (typecode == 0)
		return item_size > 0 && item_align > 0 && item_align <= ITEM_ALIGN_MAX &&
		       (item_align & (item_align - 1)) == 0 && item_size % item_align == 0;
	c = code_of(typecode);
	return c && c->size == item_size && c->align == item_align;
}

static uint32_t lock_size(uint32_t flags)
{
	if (flags & SEALSHM_ARRAY_LOCK)
		return sizeof(struct sealshm_lock);
	if (flags & SEALSHM_ARRAY_RLOCK)
		return sizeof(struct sealshm_rlock);
	return 0;
}

/* Check @g's flags and length (its item fields passed item_ok()) and
 * compute where the items go and the bytes it all takes: -EINVAL,
 * -EOVERFLOW. */
static int geometry_fill(struct geometry *g)
{
	uint32_t align = g->item_align > DATA_ALIGN ? g->item_align : DATA_ALIGN;
	uint64_t bytes, total;

	if ((g->flags & ~PARAM_FLAGS) || (g->flags & LOCK_FLAGS) == LOCK_FLAGS || g->length == 0 ||
	    ((g->flags & SEALSHM_ARRAY_VALUE) && g->length != 1))
		return -EINVAL;
	g->data_offset = (HDR_SIZE + lock_size(g->flags) + align - 1) & ~(align - 1);
	if (__builtin_mul_overflow(g->length, (uint64_t)g->item_size, &bytes) ||
	    __builtin_add_overflow(bytes, (uint64_t)g->data_offset, &total) ||
	    total > PTRDIFF_MAX)
		return -EOVERFLOW;
	g->bytes = (size_t)bytes;
	g->total = (size_t)total;
	return 0;
}

/* The geometry @params asks for, and its initial items: -EINVAL,
 * -EOVERFLOW.  A typecode's item_size and item_align may be left 0. */
static int params_geometry(const struct sealshm_array_params *params, struct geometry *g,
			   const void **ret_init)
{
	const struct code *c;

	if (!params || !OPTS_VALID(params, sealshm_array_params))
		return -EINVAL;
	*g = (struct geometry){
		.typecode = OPTS_GET(params, typecode, 0),
		.flags = OPTS_GET(params, flags, 0),
		.length = OPTS_GET(params, length, 0),
		.item_size = OPTS_GET(params, item_size, 0),
		.item_align = OPTS_GET(params, item_align, 0),
	};
	c = g->typecode ? code_of(g->typecode) : NULL;
	if (c) {
		if ((g->item_size && g->item_size != c->size) ||
		    (g->item_align && g->item_align != c->align))
			return -EINVAL;
		g->item_size = c->size;
		g->item_align = c->align;
	}
	if (!item_ok(g->typecode, g->item_size, g->item_align))
		return -EINVAL;
	*ret_init = OPTS_GET(params, init, NULL);
	return geometry_fill(g);
}

/* The geometry a header copied out of shared memory describes, checked
 * whole: -EBADMSG on anything this library would not have written. */
static int header_geometry(const struct sealshm__array_hdr *hdr, struct geometry *g)
{
	for (size_t i = 0; i < ELEMENTSOF(hdr->__reserved); i++)
		if (hdr->__reserved[i] != 0)
			return -EBADMSG;
	*g = (struct geometry){
		.typecode = hdr->typecode,
		.flags = hdr->flags,
		.length = hdr->length,
		.item_size = hdr->item_size,
		.item_align = hdr->item_align,
	};
	if (!item_ok(g->typecode, g->item_size, g->item_align) || geometry_fill(g) < 0 ||
	    g->data_offset != hdr->data_offset)
		return -EBADMSG;
	return 0;
}

/* --- setting up ------------------------------------------------------------- */

/* Whether the @bytes of items at @data (16-aligned) may be written: the
 * first and the last 4-aligned word's granules (a mapping has one
 * protection; the header and the lock are probed by their own checks). */
static int items_writable(const char *data, size_t bytes)
{
	int r = sealshm__object_writable(data, 1);

	if (r < 0 || bytes <= 4)
		return r;
	return sealshm__object_writable(data + ((bytes - 1) & ~(size_t)3), 1);
}

/*
 * Set up the array @g describes at @mem (@len bytes there), its items
 * copied from @init, else zeroed unless @zeroed says they are zero
 * already (a new segment or arena block).  Nothing is written before
 * every check passed; the magic is published last.
 */
static int array_init(void *mem, size_t len, const struct geometry *g, const void *init,
		      bool zeroed, const struct sealshm_opts *opts)
{
	struct sealshm__array_hdr *hdr = mem;
	const struct sealshm__holder *h;
	char *data;
	int r;

	if (!mem || ((uintptr_t)mem & (SEALSHM_OBJECT_ALIGN - 1)) ||
	    ((uintptr_t)mem & (g->item_align - 1)) || !OPTS_VALID(opts, sealshm_opts))
		return -EINVAL;
	if (len < g->total)
		return -ENOSPC;
	data = (char *)mem + g->data_offset;
	r = items_writable(data, g->bytes);
	if (r < 0)
		return r;
	r = sealshm__object_init_begin(mem, HDR_SIZE, opts, &h);
	if (r < 0)
		return r;
	if (g->flags & SEALSHM_ARRAY_LOCK)
		r = sealshm_lock_init((struct sealshm_lock *)((char *)mem + HDR_SIZE), opts);
	else if (g->flags & SEALSHM_ARRAY_RLOCK)
		r = sealshm_rlock_init((struct sealshm_rlock *)((char *)mem + HDR_SIZE), opts);
	if (r < 0)
		return r;
	if (init)
		memcpy(data, init, g->bytes);
	else if (!zeroed)
		memset(data, 0, g->bytes);

	*hdr = (struct sealshm__array_hdr){
		.length = g->length,
		.item_size = g->item_size,
		.typecode = g->typecode,
		.flags = g->flags,
		.item_align = g->item_align,
		.data_offset = g->data_offset,
	};
	sealshm__object_init_end(mem, SEALSHM_OBJECT_ARRAY, HDR_SIZE, h);
	return 0;
}

int sealshm_array_size(const struct sealshm_array_params *params, size_t *ret)
{
	struct geometry g;
	const void *init;
	int r;

	sealshm__return_if_fail(ret, -EINVAL);
	r = params_geometry(params, &g, &init);
	if (r < 0)
		return sealshm__err(r);
	*ret = g.total;
	return 0;
}

int sealshm_array_init(void *mem, size_t len, const struct sealshm_array_params *params,
		       const struct sealshm_opts *opts)
{
	struct geometry g;
	const void *init;
	int r;

	r = params_geometry(params, &g, &init);
	if (r < 0)
		return sealshm__err(r);
	return sealshm__err(array_init(mem, len, &g, init, false, opts));
}

/* --- opening ---------------------------------------------------------------- */

/*
 * A handle on the array at @mem, checked against the @len bytes mapped
 * there.  When @opts is not NULL, this process first gets its holder for
 * the trackerd @opts chooses (the one an attach went through), so that
 * the lock's check finds it.
 */
static int array_open(void *mem, size_t len, const struct sealshm_opts *opts,
		      struct sealshm_array **ret)
{
	struct sealshm__array_hdr hdr;
	const struct sealshm__holder *h;
	struct sealshm_array *a;
	struct geometry g;
	bool rdonly = false;
	void *lock = NULL;
	uint32_t type;
	size_t size;
	char *data;
	int r;

	r = sealshm__object_check(mem, len, &type, &size);
	if (r < 0)
		return r;
	if (type != SEALSHM_OBJECT_ARRAY || size != HDR_SIZE)
		return -EBADMSG;
	/* A copy, taken after the magic's acquire load: from here on only
	 * the copy is looked at, whatever the memory says meanwhile. */
	memcpy(&hdr, mem, sizeof(hdr));
	r = header_geometry(&hdr, &g);
	if (r < 0)
		return r;
	if (g.total > len)
		return -EBADMSG;
	data = (char *)mem + g.data_offset;
	if ((uintptr_t)data & (g.item_align - 1))
		return -EINVAL;

	r = sealshm__object_writable(mem, HDR_SIZE);
	if (r == 0)
		r = items_writable(data, g.bytes);
	if (r == -EROFS)
		rdonly = true;
	else if (r < 0)
		return r;
	if (g.flags & LOCK_FLAGS) {
		/* A lock is written by every call on it. */
		if (rdonly)
			return -EROFS;
		if (opts) {
			r = sealshm__holder_get(opts, &h);
			if (r < 0)
				return r;
		}
		lock = (char *)mem + HDR_SIZE;
		r = sealshm__object_enter(lock,
					  g.flags & SEALSHM_ARRAY_LOCK ? SEALSHM_OBJECT_LOCK :
									 SEALSHM_OBJECT_RLOCK,
					  lock_size(g.flags), &h);
		if (r < 0)
			return r;
	}

	a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	*a = (struct sealshm_array){
		.length = g.length,
		.item_size = g.item_size,
		.bytes = g.bytes,
		.typecode = g.typecode,
		.flags = g.flags | (rdonly ? SEALSHM_ARRAY_RDONLY : 0),
		.data = data,
		.lock = lock,
		.mem = mem,
		.len = len,
	};
	*ret = a;
	return 0;
}

int sealshm_array_open(void *mem, size_t len, struct sealshm_array **ret)
{
	sealshm__return_if_fail(ret, -EINVAL);
	return sealshm__err(array_open(mem, len, NULL, ret));
}

int sealshm_array_close(struct sealshm_array *a)
{
	if (!a)
		return 0;
	if (a->block)
		/* -EPERM in a forked child, which holds no reference. */
		(void)sealshm_block_release(a->block);
	(void)sealshm_close(a->shm);
	free(a);
	return 0;
}

/* --- arrays in segments of their own ---------------------------------------- */

int sealshm_array_create(const char *name, const struct sealshm_array_params *params,
			 const struct sealshm_opts *opts, struct sealshm_array **ret)
{
	struct sealshm *shm = NULL;
	struct sealshm_array *a = NULL;
	struct geometry g;
	const void *init;
	int r;

	sealshm__return_if_fail(ret, -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	r = params_geometry(params, &g, &init);
	if (r < 0)
		return sealshm__err(r);
	r = sealshm_create(name, g.total, opts, &shm);
	if (r < 0)
		return sealshm__err(r);
	/* A new segment is zeroed. */
	r = array_init(sealshm_buf(shm), sealshm_size(shm), &g, init, true, opts);
	if (r == 0)
		r = array_open(sealshm_buf(shm), sealshm_size(shm), NULL, &a);
	if (r < 0) {
		/* Nothing left behind: the name goes with the handle. */
		(void)sealshm_unlink(shm);
		(void)sealshm_close(shm);
		return sealshm__err(r);
	}
	a->shm = shm;
	*ret = a;
	return 0;
}

int sealshm_array_attach(const char *name, const struct sealshm_opts *opts,
			 struct sealshm_array **ret)
{
	struct sealshm *shm = NULL;
	struct sealshm_array *a;
	int r;

	sealshm__return_if_fail(ret, -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	r = sealshm_attach(name, opts, &shm);
	if (r < 0)
		return sealshm__err(r);
	r = array_open(sealshm_buf(shm), sealshm_size(shm), opts, &a);
	if (r < 0) {
		(void)sealshm_close(shm);
		return sealshm__err(r);
	}
	a->shm = shm;
	*ret = a;
	return 0;
}

/* --- arrays in arena blocks ------------------------------------------------- */

int sealshm_array_alloc(struct sealshm_arena *arena, const struct sealshm_array_params *params,
			const struct sealshm_opts *opts, struct sealshm_array **ret)
{
	struct sealshm_array *a = NULL;
	struct geometry g;
	const void *init;
	void *mem;
	int r;

	sealshm__return_if_fail(arena && ret, -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	r = params_geometry(params, &g, &init);
	if (r < 0)
		return sealshm__err(r);
	r = sealshm_block_alloc(arena, g.total, &mem);
	if (r < 0)
		return sealshm__err(r);
	/* A block is zeroed when it is given out. */
	r = array_init(mem, g.total, &g, init, true, opts);
	if (r == 0)
		r = array_open(mem, g.total, NULL, &a);
	if (r < 0) {
		(void)sealshm_block_release(mem);
		return sealshm__err(r);
	}
	a->block = mem;
	*ret = a;
	return 0;
}

int sealshm_array_attach_ref(const struct sealshm_ref *ref, const struct sealshm_opts *opts,
			     struct sealshm_array **ret)
{
	struct sealshm_array *a;
	struct sealshm_ref mine;
	void *mem;
	int r;

	sealshm__return_if_fail(ref && ret, -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	r = sealshm_block_attach(ref, opts, &mem);
	if (r < 0)
		return sealshm__err(r);
	/* The block's size as the arena knows it bounds the array, not the
	 * size the caller's reference claims. */
	r = sealshm_block_ref(mem, &mine);
	if (r == 0)
		r = array_open(mem, mine.size < ref->size ? mine.size : ref->size, opts, &a);
	if (r < 0) {
		(void)sealshm_block_release(mem);
		return sealshm__err(r);
	}
	a->block = mem;
	*ret = a;
	return 0;
}

int sealshm_array_ref(const struct sealshm_array *a, struct sealshm_ref *ref)
{
	sealshm__return_if_fail(a && a->block && ref, -EINVAL);
	return sealshm__err(sealshm_block_ref(a->block, ref));
}

struct sealshm *sealshm_array_shm(const struct sealshm_array *a)
{
	return a ? a->shm : NULL;
}

/* --- the handle's geometry -------------------------------------------------- */

uint64_t sealshm_array_length(const struct sealshm_array *a)
{
	return a ? a->length : 0;
}

uint32_t sealshm_array_typecode(const struct sealshm_array *a)
{
	return a ? a->typecode : 0;
}

size_t sealshm_array_item_size(const struct sealshm_array *a)
{
	return a ? a->item_size : 0;
}

uint32_t sealshm_array_flags(const struct sealshm_array *a)
{
	return a ? a->flags : 0;
}

void *sealshm_array_data(const struct sealshm_array *a)
{
	return a ? a->data : NULL;
}

struct sealshm_lock *sealshm_array_lock(const struct sealshm_array *a)
{
	return a && (a->flags & SEALSHM_ARRAY_LOCK) ? a->lock : NULL;
}

struct sealshm_rlock *sealshm_array_rlock(const struct sealshm_array *a)
{
	return a && (a->flags & SEALSHM_ARRAY_RLOCK) ? a->lock : NULL;
}

/* --- copying items ---------------------------------------------------------- */

/* Where items [@start, @start + @count) are, once @typecode, the range
 * and @size (count * item size, which cannot overflow once the range
 * is checked) are right: -EINVAL, -ERANGE. */
static int items_at(const struct sealshm_array *a, uint64_t start, uint64_t count,
		    uint32_t typecode, const void *buf, size_t size, char **ret)
{
	if (!a || typecode != a->typecode)
		return -EINVAL;
	if (start > a->length || count > a->length - start)
		return -ERANGE;
	if (size != count * a->item_size || (!buf && size))
		return -EINVAL;
	*ret = a->data + start * a->item_size;
	return 0;
}

int sealshm_array_read(const struct sealshm_array *a, uint64_t start, uint64_t count,
		       uint32_t typecode, void *buf, size_t size)
{
	char *p;
	int r;

	r = items_at(a, start, count, typecode, buf, size, &p);
	if (r < 0)
		return sealshm__err(r);
	if (size)
		memcpy(buf, p, size);
	return 0;
}

int sealshm_array_write(struct sealshm_array *a, uint64_t start, uint64_t count,
			uint32_t typecode, const void *buf, size_t size)
{
	char *p;
	int r;

	r = items_at(a, start, count, typecode, buf, size, &p);
	if (r < 0)
		return sealshm__err(r);
	if (a->flags & SEALSHM_ARRAY_RDONLY)
		return sealshm__err(-EROFS);
	if (size)
		memcpy(p, buf, size);
	return 0;
}

/* --- the type, for objects.c ------------------------------------------------ */

/* sealshm_object_create() cannot describe an array (no length, no
 * typecode): sealshm_array_create() makes one. */
static int array_type_init(void *obj, const struct sealshm_object_params *params,
			   const struct sealshm_opts *opts)
{
	(void)obj, (void)params, (void)opts;
	return -EINVAL;
}

/* The header's fields as they are (a tool reads them, checks nothing):
 * value is the SEALSHM_ARRAY_* flags, max the offset of the items.  The
 * lock, an object of its own at +64, describes itself. */
static void array_type_info(const void *obj, const struct sealshm__holder *h,
			    struct sealshm_object_info *info)
{
	const struct sealshm__array_hdr *hdr = obj;

	(void)h;
	info->length = hdr->length;
	info->item_size = hdr->item_size;
	info->typecode = hdr->typecode;
	info->value = hdr->flags;
	info->max = hdr->data_offset;
}

const struct sealshm__type sealshm__array_type = {
	.type = SEALSHM_OBJECT_ARRAY,
	.size = HDR_SIZE,
	.name = "array",
	.init = array_type_init,
	.info = array_type_info,
};

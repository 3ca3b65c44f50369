// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ShareableList: typed items in one segment, laid out byte for byte as
 * CPython's multiprocessing.shared_memory.ShareableList (native byte order):
 *
 *   int64 N | int64 offsets[N + 1] | data | N x 8-byte format | N x int8 code
 *
 * (Documentation/shareablelist.md has the layout; sealshm_slist_create(3) the API.)
 *
 * What this module owns, and where it is stricter than CPython:
 * - the header (N and the offsets) is validated once at attach time and then
 *   kept in private memory, as CPython does; slot sizes never change, so
 *   another process rewriting the offsets later cannot move our reads;
 * - formats and codes do change (a set may change an item's kind), so they
 *   are read again, copied to the stack and checked on every access: a
 *   hostile writer gets -EBADMSG, never a read outside the slot;
 * - str slots are sized by UTF-8 bytes, not characters (gh-145261);
 * - indices below -len are refused;
 * - a set checks everything before it writes anything.
 */
#include <limits.h>
#include <stdint.h>

#include "internal.h"
#include "slist.h"

/* CPython's rule: the format ("<n>s") must fit in 8 characters. */
#define FMT_SIZE	8
#define STR_SLOT_MAX	9999992u	/* largest multiple of 8 with 7 digits */
#define STR_FMT_MAX	9999999u	/* largest n a format can spell */
#define ITEM_MAX	(STR_SLOT_MAX - 1)

/* Decode codes (CPython's _back_transforms_mapping). */
enum {
	CODE_PLAIN = 0,		/* int, float, bool */
	CODE_STR = 1,
	CODE_BYTES = 2,
	CODE_NONE = 3,
};

/* What one 8-byte format field says. */
enum fmt_kind {
	FMT_BAD = 0,
	FMT_INT,
	FMT_FLOAT,
	FMT_BOOL,
	FMT_NONE,
	FMT_STR,		/* "<n>s": str or bytes, told apart by the code */
};

static const char fmt_int[FMT_SIZE] = "q";
static const char fmt_float[FMT_SIZE] = "d";
static const char fmt_bool[FMT_SIZE] = "xxxxxxx?";
static const char fmt_none[FMT_SIZE] = "xxxxxx?x";

struct sealshm_slist {
	struct sealshm *shm;	/* NULL for sealshm__slist_open_buf() */
	uint8_t *base;
	size_t size;
	bool rdonly;
	size_t n;
	uint8_t *data;		/* base + 8 * (n + 2) */
	uint8_t *fmts;		/* data + off[n] */
	uint8_t *codes;		/* fmts + 8 * n */
	uint64_t off[];		/* n + 1 slot offsets, validated, private */
};

/* Parse one format field (a private copy).  "<n>s" gives *@ret_n; others
 * are exactly their known spelling, NUL padded. */
static enum fmt_kind fmt_parse(const char f[FMT_SIZE], uint32_t *ret_n)
{
	uint32_t n = 0;
	size_t i;

	if (!memcmp(f, fmt_int, FMT_SIZE))
		return FMT_INT;
	if (!memcmp(f, fmt_float, FMT_SIZE))
		return FMT_FLOAT;
	if (!memcmp(f, fmt_bool, FMT_SIZE))
		return FMT_BOOL;
	if (!memcmp(f, fmt_none, FMT_SIZE))
		return FMT_NONE;

	/* Decimal digits, no leading zero (CPython writes "%ds"), then 's',
	 * then NULs to the end of the field. */
	for (i = 0; i < FMT_SIZE - 1 && f[i] >= '0' && f[i] <= '9'; i++) {
		if (i == 0 && f[i] == '0' && f[1] != 's')
			return FMT_BAD;
		n = n * 10 + (uint32_t)(f[i] - '0');
	}
	if (i == 0 || f[i] != 's')
		return FMT_BAD;
	for (i++; i < FMT_SIZE; i++)
		if (f[i])
			return FMT_BAD;
	*ret_n = n;
	return FMT_STR;
}

static bool code_matches(enum fmt_kind k, int8_t code)
{
	switch (k) {
	case FMT_INT:
	case FMT_FLOAT:
	case FMT_BOOL:
		return code == CODE_PLAIN;
	case FMT_NONE:
		return code == CODE_NONE;
	case FMT_STR:
		return code == CODE_STR || code == CODE_BYTES;
	default:
		return false;
	}
}

/* Bytes a slot needs for a format: 8, or n for "<n>s". */
static uint64_t fmt_need(enum fmt_kind k, uint32_t n)
{
	return k == FMT_STR ? n : 8;
}

/*
 * Check a list in @buf (@size bytes) as found at attach time, reading every
 * field exactly once.  On success returns N and, when @ret_off is not NULL,
 * copies the N + 1 offsets there (the caller sized it from a first call).
 */
static int64_t validate(const uint8_t *buf, size_t size, uint64_t *ret_off, size_t ret_n)
{
	uint64_t prev = 0, data_size, need;
	int64_t sn;
	size_t n;

	if (size < 16)
		return -EBADMSG;
	memcpy(&sn, buf, sizeof(sn));
	/* Every item costs at least 8 (offset) + 8 (format) + 1 (code)
	 * bytes (a "0s" slot may be empty): bounds N without overflow before
	 * anything else. */
	if (sn < 0 || (uint64_t)sn > (size - 16) / 17 || sn > INT_MAX)
		return -EBADMSG;
	n = (size_t)sn;
	if (ret_off && n != ret_n)
		return -EBADMSG;	/* changed between two reads */

	for (size_t i = 0; i <= n; i++) {
		uint64_t o;

		memcpy(&o, buf + 8 * (i + 1), sizeof(o));
		if ((i == 0 && o != 0) || o < prev)
			return -EBADMSG;
		if (ret_off)
			ret_off[i] = o;
		prev = o;
	}
	data_size = prev;
	/* header + data + formats + codes <= size, overflow-free: the
	 * fixed part is already known to fit. */
	need = 8 * ((uint64_t)n + 2) + 9 * (uint64_t)n;
	if (data_size > size - need)
		return -EBADMSG;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *fp = buf + 8 * (n + 2) + data_size + 8 * i;
		uint64_t o0, o1;
		char f[FMT_SIZE];
		enum fmt_kind k;
		uint32_t sn_fmt = 0;
		int8_t code;

		memcpy(f, fp, FMT_SIZE);
		memcpy(&code, buf + 8 * (n + 2) + data_size + 8 * n + i, 1);
		if (ret_off) {
			o0 = ret_off[i];
			o1 = ret_off[i + 1];
		} else {
			memcpy(&o0, buf + 8 * (i + 1), sizeof(o0));
			memcpy(&o1, buf + 8 * (i + 2), sizeof(o1));
		}
		k = fmt_parse(f, &sn_fmt);
		if (k == FMT_BAD || !code_matches(k, code))
			return -EBADMSG;
		if (o1 < o0 || fmt_need(k, sn_fmt) > o1 - o0)
			return -EBADMSG;
	}
	return (int64_t)n;
}

/* Private, for the fuzzer and the tests: is @buf a list we would attach?
 * Returns N or -EBADMSG. */
int sealshm__slist_validate(const void *buf, size_t size)
{
	if (!buf)
		return -EINVAL;
	return (int)validate(buf, size, NULL, 0);
}

/* A list handle over @buf, validated; owns neither @buf nor @shm until
 * it succeeds, then owns @shm. */
static int list_open(struct sealshm *shm, void *buf, size_t size, bool rdonly,
		     struct sealshm_slist **ret)
{
	_cleanup_free_ struct sealshm_slist *l = NULL;
	int64_t n;

	n = validate(buf, size, NULL, 0);
	if (n < 0)
		return (int)n;
	l = calloc(1, sizeof(*l) + sizeof(l->off[0]) * ((size_t)n + 1));
	if (!l)
		return -ENOMEM;
	/* Read once more into private memory; another process may have
	 * changed the header since: the copy is what gets checked. */
	if (validate(buf, size, l->off, (size_t)n) < 0)
		return -EBADMSG;
	l->shm = shm;
	l->base = buf;
	l->size = size;
	l->rdonly = rdonly;
	l->n = (size_t)n;
	l->data = l->base + 8 * (l->n + 2);
	l->fmts = l->data + l->off[l->n];
	l->codes = l->fmts + 8 * l->n;
	*ret = TAKE_PTR(l);
	return 0;
}

int sealshm__slist_open_buf(void *buf, size_t size, bool rdonly, struct sealshm_slist **ret)
{
	if (!buf || !ret)
		return -EINVAL;
	return list_open(NULL, buf, size, rdonly, ret);
}

/* RFC 3629 well-formed UTF-8 (what Python's str.encode() can produce):
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp, min;
		size_t n;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 2, cp = s[i] & 0x1f, min = 0x80;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 3, cp = s[i] & 0x0f, min = 0x800;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 4, cp = s[i] & 0x07, min = 0x10000;
		else
			return false;
		if (n > len - i)
			return false;
		for (size_t j = 1; j < n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/* Check one caller item; for STR/BYTES returns its slot size (CPython's
 * 8 * (len / 8 + 1)), else 8. */
static int item_check(const struct sealshm_item *it, uint64_t *ret_slot)
{
	switch (it->type) {
	case SEALSHM_ITEM_INT:
	case SEALSHM_ITEM_FLOAT:
	case SEALSHM_ITEM_NONE:
		break;
	case SEALSHM_ITEM_BOOL:
		if (it->u.b > 1)
			return -EINVAL;
		break;
	case SEALSHM_ITEM_STR:
	case SEALSHM_ITEM_BYTES:
		if (!it->u.s.ptr && it->u.s.len)
			return -EINVAL;
		if (it->u.s.len > ITEM_MAX)
			return -E2BIG;
		if (it->type == SEALSHM_ITEM_STR && !utf8_valid(it->u.s.ptr, it->u.s.len))
			return -EINVAL;
		*ret_slot = 8 * (it->u.s.len / 8 + 1);
		return 0;
	default:
		return -EINVAL;
	}
	*ret_slot = 8;
	return 0;
}

static void fmt_str(char f[FMT_SIZE], uint64_t n)
{
	char tmp[FMT_SIZE];
	size_t len = 0;

	assert(n <= STR_FMT_MAX);
	do {
		tmp[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	memset(f, 0, FMT_SIZE);
	for (size_t i = 0; i < len; i++)
		f[i] = tmp[len - 1 - i];
	f[len] = 's';
}

/* Write @it into slot @i with format @f (already chosen and checked):
 * data first, then format and code, all of it inside the slot. */
static void item_write(struct sealshm_slist *l, size_t i, const struct sealshm_item *it,
		       const char f[FMT_SIZE], uint32_t fmt_n)
{
	uint8_t *slot = l->data + l->off[i];
	int8_t code = CODE_PLAIN;
	uint8_t b[8] = { 0 };

	switch (it->type) {
	case SEALSHM_ITEM_INT:
		memcpy(slot, &it->u.i, 8);
		break;
	case SEALSHM_ITEM_FLOAT:
		memcpy(slot, &it->u.f, 8);
		break;
	case SEALSHM_ITEM_BOOL:
		b[7] = it->u.b ? 1 : 0;
		memcpy(slot, b, 8);
		break;
	case SEALSHM_ITEM_NONE:
		/* struct packs "xxxxxx?x" with None as eight zero bytes. */
		memcpy(slot, b, 8);
		code = CODE_NONE;
		break;
	case SEALSHM_ITEM_STR:
	case SEALSHM_ITEM_BYTES:
		/* struct's "<n>s": the bytes, NUL padded to n.  memmove: the
		 * value may be a view of this very slot (sealshm_slist_get()). */
		assert(it->u.s.len <= fmt_n);
		if (it->u.s.len)
			memmove(slot, it->u.s.ptr, it->u.s.len);
		memset(slot + it->u.s.len, 0, fmt_n - it->u.s.len);
		code = it->type == SEALSHM_ITEM_STR ? CODE_STR : CODE_BYTES;
		break;
	default:
		assert(false);
	}
	memcpy(l->fmts + FMT_SIZE * i, f, FMT_SIZE);
	memcpy(l->codes + i, &code, 1);
}

/* The format a new item of type @type gets in a fresh slot of @slot bytes. */
static void fmt_for(uint32_t type, uint64_t slot, char f[FMT_SIZE])
{
	switch (type) {
	case SEALSHM_ITEM_INT:
		memcpy(f, fmt_int, FMT_SIZE);
		break;
	case SEALSHM_ITEM_FLOAT:
		memcpy(f, fmt_float, FMT_SIZE);
		break;
	case SEALSHM_ITEM_BOOL:
		memcpy(f, fmt_bool, FMT_SIZE);
		break;
	case SEALSHM_ITEM_NONE:
		memcpy(f, fmt_none, FMT_SIZE);
		break;
	default:
		fmt_str(f, slot);
		break;
	}
}

static void list_freep(struct sealshm_slist **p)
{
	(void)sealshm_slist_close(*p);
}

int sealshm_slist_create(const char *name, const struct sealshm_item *items, size_t n,
			const struct sealshm_opts *opts, struct sealshm_slist **ret)
{
	__attribute__((cleanup(list_freep))) struct sealshm_slist *l = NULL;
	struct sealshm *shm = NULL;
	uint64_t data = 0, size;
	uint8_t *base;
	int r;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(ret, -EINVAL);
	sealshm__return_if_fail(items || n == 0, -EINVAL);
	/* len/count/index return int. */
	sealshm__return_if_fail(n <= INT_MAX / 32, -E2BIG);

	for (size_t i = 0; i < n; i++) {
		uint64_t slot;

		r = item_check(&items[i], &slot);
		if (r < 0)
			return sealshm__err(r);
		data += slot;	/* <= 2^26 items of < 10^7 bytes: no overflow */
	}
	size = 8 * ((uint64_t)n + 2) + data + 9 * (uint64_t)n;
	if (size > SIZE_MAX || size > INT64_MAX)
		return sealshm__err(-E2BIG);

	/* Allocate first: once the segment exists nothing may fail, or a
	 * name would outlive a failed call. */
	l = calloc(1, sizeof(*l) + sizeof(l->off[0]) * (n + 1));
	if (!l)
		return sealshm__err(-ENOMEM);
	r = sealshm_create(name, (size_t)size, opts, &shm);
	if (r < 0)
		return r;	/* errno already set */
	base = sealshm_buf(shm);
	l->shm = shm;
	l->base = base;
	l->size = (size_t)size;
	l->n = n;
	l->off[0] = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t slot = 8;

		(void)item_check(&items[i], &slot);
		l->off[i + 1] = l->off[i] + slot;
	}
	l->data = base + 8 * (n + 2);
	l->fmts = l->data + l->off[n];
	l->codes = l->fmts + 8 * n;

	{
		int64_t sn = (int64_t)n;

		memcpy(base, &sn, 8);
		memcpy(base + 8, l->off, 8 * (n + 1));
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t slot = l->off[i + 1] - l->off[i];
		char f[FMT_SIZE];

		fmt_for(items[i].type, slot, f);
		item_write(l, i, &items[i], f, (uint32_t)slot);
	}

	*ret = TAKE_PTR(l);
	return 0;
}

int sealshm_slist_attach(const char *name, const struct sealshm_opts *opts,
			struct sealshm_slist **ret)
{
	struct sealshm_slist *l = NULL;
	struct sealshm *shm = NULL;
	int r;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(ret, -EINVAL);

	r = sealshm_attach(name, opts, &shm);
	if (r < 0)
		return r;	/* errno already set */
	r = list_open(shm, sealshm_buf(shm), sealshm_size(shm),
		      OPTS_GET(opts, flags, 0) & SEALSHM_RDONLY, &l);
	if (r < 0) {
		sealshm_close(shm);
		return sealshm__err(r);
	}
	*ret = l;
	return 0;
}

int sealshm_slist_close(struct sealshm_slist *list)
{
	if (!list)
		return 0;
	sealshm_close(list->shm);
	free(list);
	return 0;
}

struct sealshm *sealshm_slist_shm(const struct sealshm_slist *list)
{
	return list ? list->shm : NULL;
}

int sealshm_slist_len(const struct sealshm_slist *list)
{
	sealshm__return_if_fail(list, -EINVAL);
	return (int)list->n;
}

/* Python's index rules, minus CPython's reads below -len. */
static int index_norm(const struct sealshm_slist *l, int64_t index, size_t *ret)
{
	if (index < 0) {
		if ((uint64_t)-(index + 1) >= l->n)
			return -ERANGE;
		index += (int64_t)l->n;
	} else if ((uint64_t)index >= l->n) {
		return -ERANGE;
	}
	*ret = (size_t)index;
	return 0;
}

/* The current format and code of item @i, copied once and checked against
 * the slot.  Returns the kind (and *@ret_n for "<n>s") or -EBADMSG. */
static int item_kind(const struct sealshm_slist *l, size_t i, uint32_t *ret_n, int8_t *ret_code)
{
	char f[FMT_SIZE];
	enum fmt_kind k;
	uint32_t n = 0;
	int8_t code;

	memcpy(f, l->fmts + FMT_SIZE * i, FMT_SIZE);
	memcpy(&code, l->codes + i, 1);
	k = fmt_parse(f, &n);
	if (k == FMT_BAD || !code_matches(k, code) ||
	    fmt_need(k, n) > l->off[i + 1] - l->off[i])
		return -EBADMSG;
	*ret_n = n;
	*ret_code = code;
	return k;
}

/* Item @i as a view into the mapping. */
static int item_read(const struct sealshm_slist *l, size_t i, struct sealshm_item *ret)
{
	const uint8_t *slot = l->data + l->off[i];
	struct sealshm_item it = { 0 };
	uint32_t n = 0;
	int8_t code = 0;
	int k;

	k = item_kind(l, i, &n, &code);
	if (k < 0)
		return k;
	switch (k) {
	case FMT_INT:
		it.type = SEALSHM_ITEM_INT;
		memcpy(&it.u.i, slot, 8);
		break;
	case FMT_FLOAT:
		it.type = SEALSHM_ITEM_FLOAT;
		memcpy(&it.u.f, slot, 8);
		break;
	case FMT_BOOL:
		/* struct's '?': any non-zero byte is True. */
		it.type = SEALSHM_ITEM_BOOL;
		it.u.b = slot[7] != 0;
		break;
	case FMT_NONE:
		it.type = SEALSHM_ITEM_NONE;
		break;
	default:
		/* CPython's quirk: every trailing NUL is dropped. */
		while (n > 0 && slot[n - 1] == 0)
			n--;
		it.type = code == CODE_STR ? SEALSHM_ITEM_STR : SEALSHM_ITEM_BYTES;
		it.u.s.ptr = slot;
		it.u.s.len = n;
		break;
	}
	*ret = it;
	return 0;
}

int sealshm_slist_get(const struct sealshm_slist *list, int64_t index, struct sealshm_item *ret)
{
	size_t i;
	int r;

	sealshm__return_if_fail(list, -EINVAL);
	sealshm__return_if_fail(ret, -EINVAL);
	r = index_norm(list, index, &i);
	if (r < 0)
		return sealshm__err(r);
	return sealshm__err(item_read(list, i, ret));
}

int sealshm_slist_get_copy(const struct sealshm_slist *list, int64_t index, void *buf, size_t len,
			  struct sealshm_item *ret)
{
	struct sealshm_item it;
	size_t i, n, extra;
	uint8_t *b = buf;
	int r;

	sealshm__return_if_fail(list, -EINVAL);
	sealshm__return_if_fail(ret, -EINVAL);
	sealshm__return_if_fail(buf || len == 0, -EINVAL);
	r = index_norm(list, index, &i);
	if (r < 0)
		return sealshm__err(r);
	r = item_read(list, i, &it);
	if (r < 0)
		return sealshm__err(r);
	if (it.type != SEALSHM_ITEM_STR && it.type != SEALSHM_ITEM_BYTES) {
		*ret = it;
		return 0;
	}

	/* Another process may be writing: copy once, then look only at the
	 * copy (strip its trailing NULs again, it may differ from the view). */
	extra = it.type == SEALSHM_ITEM_STR ? 1 : 0;
	n = it.u.s.len;
	if (len < n + extra)
		return sealshm__err(-ENOBUFS);
	if (n)
		memcpy(b, it.u.s.ptr, n);
	while (n > 0 && b[n - 1] == 0)
		n--;
	if (extra)
		b[n] = 0;
	it.u.s.ptr = buf;
	it.u.s.len = n;
	*ret = it;
	return (int)n;
}

int sealshm_slist_set(struct sealshm_slist *list, int64_t index, const struct sealshm_item *item)
{
	uint64_t slot_size, want = 8;
	char f[FMT_SIZE];
	uint32_t n = 0;
	int8_t code;
	size_t i;
	int r, k;

	sealshm__return_if_fail(list, -EINVAL);
	sealshm__return_if_fail(item, -EINVAL);
	r = index_norm(list, index, &i);
	if (r < 0)
		return sealshm__err(r);
	r = item_check(item, &want);
	if (r < 0)
		return sealshm__err(r);
	if (list->rdonly)
		return sealshm__err(-EPERM);
	k = item_kind(list, i, &n, &code);
	if (k < 0)
		return sealshm__err(k);
	slot_size = list->off[i + 1] - list->off[i];

	if (item->type == SEALSHM_ITEM_STR || item->type == SEALSHM_ITEM_BYTES) {
		uint64_t len = item->u.s.len;

		if (len > slot_size)
			return sealshm__err(-E2BIG);
		if (k == FMT_STR && len <= n) {
			/* CPython: a str/bytes slot keeps its "<n>s". */
			fmt_str(f, n);
		} else {
			/* An 8-byte kind becomes "<slot>s" (CPython), and so does
			 * a foreign "<n>s" too short for the value, which
			 * CPython would silently truncate. */
			if (slot_size > STR_FMT_MAX)
				return sealshm__err(-E2BIG);
			n = (uint32_t)slot_size;
			fmt_str(f, n);
		}
	} else {
		/* A foreign "<n>s" slot may be shorter than 8 bytes. */
		if (slot_size < 8)
			return sealshm__err(-E2BIG);
		fmt_for(item->type, 8, f);
		n = 8;
	}

	item_write(list, i, item, f, n);
	return 0;
}

/* Python's == between two items (sealshm_slist_count(3)). */
static bool num_eq_if(double f, int64_t i)
{
	/* Exact, as Python compares int and float: no rounding of @i. */
	if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
		return false;
	if (f != (double)(int64_t)f)
		return false;
	return (int64_t)f == i;
}

static bool is_num(uint32_t t)
{
	return t == SEALSHM_ITEM_INT || t == SEALSHM_ITEM_FLOAT || t == SEALSHM_ITEM_BOOL;
}

static bool item_eq(const struct sealshm_item *a, const struct sealshm_item *b)
{
	if (is_num(a->type) && is_num(b->type)) {
		bool af = a->type == SEALSHM_ITEM_FLOAT, bf = b->type == SEALSHM_ITEM_FLOAT;
		int64_t ai = a->type == SEALSHM_ITEM_INT ? a->u.i : (int64_t)(a->u.b != 0);
		int64_t bi = b->type == SEALSHM_ITEM_INT ? b->u.i : (int64_t)(b->u.b != 0);

		if (af && bf)
			return a->u.f == b->u.f;
		if (af)
			return num_eq_if(a->u.f, bi);
		if (bf)
			return num_eq_if(b->u.f, ai);
		return ai == bi;
	}
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SEALSHM_ITEM_NONE:
		return true;
	case SEALSHM_ITEM_STR:
	case SEALSHM_ITEM_BYTES:
		return a->u.s.len == b->u.s.len &&
		       (a->u.s.len == 0 || !memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len));
	default:
		return false;
	}
}

/* Scan for @item: the count, or with @first the first index (-ENOENT). */
static int scan(const struct sealshm_slist *l, const struct sealshm_item *item, bool first)
{
	uint64_t unused;
	int count = 0, r;

	r = item_check(item, &unused);
	if (r == -E2BIG)
		return first ? -ENOENT : 0;	/* no slot could hold it */
	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n; i++) {
		struct sealshm_item it;

		r = item_read(l, i, &it);
		if (r < 0)
			return r;
		if (item_eq(&it, item)) {
			if (first)
				return (int)i;
			count++;
		}
	}
	return first ? -ENOENT : count;
}

int sealshm_slist_count(const struct sealshm_slist *list, const struct sealshm_item *item)
{
	sealshm__return_if_fail(list, -EINVAL);
	sealshm__return_if_fail(item, -EINVAL);
	return sealshm__err(scan(list, item, false));
}

int sealshm_slist_index(const struct sealshm_slist *list, const struct sealshm_item *item)
{
	sealshm__return_if_fail(list, -EINVAL);
	sealshm__return_if_fail(item, -EINVAL);
	return sealshm__err(scan(list, item, true));
}

int sealshm_slist_format(const struct sealshm_slist *list, char *buf, size_t len)
{
	size_t pos = 0;

	sealshm__return_if_fail(list, -EINVAL);
	sealshm__return_if_fail(buf || len == 0, -EINVAL);
	for (size_t i = 0; i < list->n; i++) {
		char f[FMT_SIZE];
		uint32_t n = 0;
		int8_t code;
		size_t fl;
		int k;

		k = item_kind(list, i, &n, &code);
		if (k < 0)
			return sealshm__err(k);
		/* Spell what item_kind() saw, not what is there now. */
		if (k == FMT_STR)
			fmt_str(f, n);
		else
			fmt_for(k == FMT_INT ? SEALSHM_ITEM_INT :
				k == FMT_FLOAT ? SEALSHM_ITEM_FLOAT :
				k == FMT_BOOL ? SEALSHM_ITEM_BOOL : SEALSHM_ITEM_NONE, 8, f);
		fl = strnlen(f, FMT_SIZE);
		if (pos + fl >= len)
			return sealshm__err(-ERANGE);
		memcpy(buf + pos, f, fl);
		pos += fl;
	}
	if (len == 0)
		return sealshm__err(-ERANGE);
	buf[pos] = 0;
	return (int)pos;
}

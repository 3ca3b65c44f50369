// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * slist_test: the sealshm_slist_* calls (CPython's ShareableList layout), the
 * C form of CPython's test_shared_memory_ShareableList_basics and of the
 * pickling test's "attach by name sees the same list", the exact bytes, and
 * where sealshm does better than CPython: UTF-8 sized by bytes, indices
 * below -len refused, a failed set changes nothing, corrupt headers refused.
 * Against a real trackerd on a private socket; every test ends with the fd
 * count it started with and an empty registry.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "slist.h"

#define NLIST 4

/* Item constructors. */
#define I_INT(v)	((struct sealshm_item){ .type = SEALSHM_ITEM_INT, .u.i = (v) })
#define I_FLOAT(v)	((struct sealshm_item){ .type = SEALSHM_ITEM_FLOAT, .u.f = (v) })
#define I_BOOL(v)	((struct sealshm_item){ .type = SEALSHM_ITEM_BOOL, .u.b = (v) })
#define I_NONE		((struct sealshm_item){ .type = SEALSHM_ITEM_NONE })
#define I_STR(v)	((struct sealshm_item){ .type = SEALSHM_ITEM_STR,		\
					.u.s = { .ptr = (v), .len = strlen(v) } })
#define I_BYTES(v, n)	((struct sealshm_item){ .type = SEALSHM_ITEM_BYTES,		\
					.u.s = { .ptr = (v), .len = (n) } })

/* CPython's test list: ['howdy', b'HoWdY', -273.154, 100, None, True, 42] */
static const struct sealshm_item howdy[] = {
	I_STR("howdy"), I_BYTES("HoWdY", 5), I_FLOAT(-273.154), I_INT(100),
	I_NONE, I_BOOL(1), I_INT(42),
};

FIXTURE(list) {
	struct trackerd d;
	struct sealshm_slist *l[NLIST];
	int fds_before;
};

FIXTURE_SETUP(list)
{
	memset(self->l, 0, sizeof(self->l));
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
}

FIXTURE_TEARDOWN(list)
{
	for (int i = 0; i < NLIST; i++)
		sealshm_slist_close(self->l[i]);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* Item @i of @l is the str/bytes @s. */
static bool item_is_s(struct sealshm_slist *l, int64_t i, uint32_t type, const char *s, size_t n)
{
	struct sealshm_item it;

	if (sealshm_slist_get(l, i, &it) < 0 || it.type != type || it.u.s.len != n)
		return false;
	return n == 0 || !memcmp(it.u.s.ptr, s, n);
}

static bool item_is_int(struct sealshm_slist *l, int64_t i, int64_t v)
{
	struct sealshm_item it;

	return sealshm_slist_get(l, i, &it) == 0 && it.type == SEALSHM_ITEM_INT && it.u.i == v;
}

static int fmt_of(struct sealshm_slist *l, char *buf, size_t len)
{
	return sealshm_slist_format(l, buf, len);
}

/* test_shared_memory_ShareableList_basics, assertion by assertion. */
TEST_F(list, cpython_basics)
{
	struct sealshm_slist *sl, *copy, *tethered, *empty;
	struct sealshm_item it, items[7];
	char fmt[64], fmt2[64];
	const char *name;

	ASSERT_EQ(0, sealshm_slist_create(NULL, howdy, 7, NULL, &self->l[0]));
	sl = self->l[0];
	name = sealshm_name(sealshm_slist_shm(sl));
	ASSERT_NE(NULL, name);

	/* Index out of range, get and set. */
	EXPECT_EQ(-ERANGE, sealshm_slist_get(sl, 7, &it));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-ERANGE, sealshm_slist_set(sl, 7, &I_INT(2)));

	/* str -> str keeps the format. */
	ASSERT_EQ(23, fmt_of(sl, fmt, sizeof(fmt)));
	EXPECT_EQ(0, sealshm_slist_set(sl, 0, &I_STR("howdy")));
	EXPECT_EQ(23, fmt_of(sl, fmt2, sizeof(fmt2)));
	EXPECT_STREQ(fmt, fmt2);

	EXPECT_STREQ("8s8sdqxxxxxx?xxxxxxxx?q", fmt);
	EXPECT_EQ(7, sealshm_slist_len(sl));

	/* index(): '100' (a str) is not 100. */
	EXPECT_EQ(-ENOENT, sealshm_slist_index(sl, &I_STR("100")));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(3, sealshm_slist_index(sl, &I_INT(100)));

	EXPECT_TRUE(item_is_s(sl, 0, SEALSHM_ITEM_STR, "howdy", 5));
	ASSERT_EQ(0, sealshm_slist_get(sl, -2, &it));
	EXPECT_EQ(SEALSHM_ITEM_BOOL, it.type);
	EXPECT_EQ(1, it.u.b);

	/* Iteration: every item as created. */
	for (int i = 0; i < 7; i++)
		ASSERT_EQ(0, sealshm_slist_get(sl, i, &items[i]));
	EXPECT_TRUE(item_is_s(sl, 1, SEALSHM_ITEM_BYTES, "HoWdY", 5));
	EXPECT_EQ(SEALSHM_ITEM_FLOAT, items[2].type);
	EXPECT_EQ(-273.154, items[2].u.f);
	EXPECT_TRUE(item_is_int(sl, 3, 100));
	EXPECT_EQ(SEALSHM_ITEM_NONE, items[4].type);
	EXPECT_TRUE(item_is_int(sl, 6, 42));

	/* Modify; change the type at a position. */
	EXPECT_EQ(0, sealshm_slist_set(sl, 3, &I_INT(42)));
	EXPECT_TRUE(item_is_int(sl, 3, 42));
	EXPECT_EQ(0, sealshm_slist_set(sl, 4, &I_STR("some")));
	EXPECT_TRUE(item_is_s(sl, 4, SEALSHM_ITEM_STR, "some", 4));
	EXPECT_EQ(17, fmt_of(sl, fmt, sizeof(fmt)));
	EXPECT_STREQ("8s8sdq8sxxxxxxx?q", fmt);
	EXPECT_EQ(-E2BIG, sealshm_slist_set(sl, 4, &I_STR("far too many")));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_TRUE(item_is_s(sl, 4, SEALSHM_ITEM_STR, "some", 4));
	EXPECT_EQ(0, sealshm_slist_set(sl, 0, &I_STR("encod\xc3\xa9s")));	/* 8 bytes */
	EXPECT_TRUE(item_is_s(sl, 0, SEALSHM_ITEM_STR, "encod\xc3\xa9s", 8));
	EXPECT_TRUE(item_is_s(sl, 1, SEALSHM_ITEM_BYTES, "HoWdY", 5));	/* no spillage */
	EXPECT_EQ(-E2BIG, sealshm_slist_set(sl, 0, &I_STR("encod\xc3\xa9\x65s")));	/* 9 */
	EXPECT_TRUE(item_is_s(sl, 1, SEALSHM_ITEM_BYTES, "HoWdY", 5));
	EXPECT_EQ(-E2BIG, sealshm_slist_set(sl, 1, &I_BYTES("123456789", 9)));
	EXPECT_TRUE(item_is_s(sl, 1, SEALSHM_ITEM_BYTES, "HoWdY", 5));

	/* count(). */
	EXPECT_EQ(2, sealshm_slist_count(sl, &I_INT(42)));
	EXPECT_EQ(1, sealshm_slist_count(sl, &I_BYTES("HoWdY", 5)));
	EXPECT_EQ(0, sealshm_slist_count(sl, &I_BYTES("adios", 5)));

	/* A duplicate under another name. */
	for (int i = 0; i < 7; i++)
		ASSERT_EQ(0, sealshm_slist_get(sl, i, &items[i]));
	ASSERT_EQ(0, sealshm_slist_create("test03_duplicate", items, 7, NULL, &self->l[1]));
	copy = self->l[1];
	EXPECT_STRNE(name, sealshm_name(sealshm_slist_shm(copy)));
	EXPECT_STREQ("test03_duplicate", sealshm_name(sealshm_slist_shm(copy)));
	for (int i = 0; i < 7; i++) {
		struct sealshm_item a, b;

		ASSERT_EQ(0, sealshm_slist_get(sl, i, &a));
		ASSERT_EQ(0, sealshm_slist_get(copy, i, &b));
		EXPECT_EQ(1, sealshm_slist_count(copy, &a) > 0);
		EXPECT_EQ(a.type, b.type);
	}
	EXPECT_EQ(0, sealshm_slist_count(copy, &I_STR("absent")));
	/* CPython asserts equal formats; sized by UTF-8 bytes, the copy of
	 * 'encodés' (7 characters, 8 bytes) gets a 16-byte slot, where
	 * CPython's character count gives 8 (gh-145261). */
	EXPECT_EQ(18, fmt_of(copy, fmt2, sizeof(fmt2)));
	EXPECT_STREQ("16s8sdq8sxxxxxxx?q", fmt2);
	EXPECT_EQ(0, sealshm_slist_set(copy, -1, &I_INT(77)));
	EXPECT_TRUE(item_is_int(copy, -1, 77));
	EXPECT_FALSE(item_is_int(sl, -1, 77));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(copy)));

	/* A second handle on the same list. */
	ASSERT_EQ(0, sealshm_slist_attach(name, NULL, &self->l[2]));
	tethered = self->l[2];
	EXPECT_STREQ(name, sealshm_name(sealshm_slist_shm(tethered)));
	EXPECT_EQ(0, sealshm_slist_set(tethered, -1, &I_INT(880)));
	EXPECT_TRUE(item_is_int(sl, -1, 880));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(sl)));

	/* An empty list. */
	ASSERT_EQ(0, sealshm_slist_create(NULL, NULL, 0, NULL, &self->l[3]));
	empty = self->l[3];
	EXPECT_EQ(0, sealshm_slist_len(empty));
	EXPECT_EQ(0, fmt_of(empty, fmt, sizeof(fmt)));
	EXPECT_STREQ("", fmt);
	EXPECT_EQ(0, sealshm_slist_count(empty, &I_STR("any")));
	EXPECT_EQ(-ENOENT, sealshm_slist_index(empty, &I_NONE));
	EXPECT_EQ(16, sealshm_size(sealshm_slist_shm(empty)));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(empty)));
}

/* The pickling test's point: a list attached by name (in another process
 * too) is the same list; writes go both ways; str replaces int. */
TEST_F(list, attach_by_name_sees_same_list)
{
	struct sealshm_item items[400];
	struct sealshm_slist *sl, *de;
	pid_t pid;
	int status;

	for (int i = 0; i < 10; i++)
		items[i] = I_INT(i);
	ASSERT_EQ(0, sealshm_slist_create("pickled", items, 10, NULL, &self->l[0]));
	sl = self->l[0];
	ASSERT_EQ(0, sealshm_slist_attach("pickled", NULL, &self->l[1]));
	de = self->l[1];
	EXPECT_NE(sl, de);
	EXPECT_TRUE(item_is_int(de, -1, 9));
	EXPECT_EQ(0, sealshm_slist_set(de, 4, &I_STR("changed")));
	EXPECT_TRUE(item_is_s(sl, 4, SEALSHM_ITEM_STR, "changed", 7));
	EXPECT_EQ(0, sealshm_slist_set(sl, 3, &I_STR("newvalue")));
	EXPECT_TRUE(item_is_s(de, 3, SEALSHM_ITEM_STR, "newvalue", 8));

	/* And from another process. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct sealshm_slist *c = NULL;
		int ok;

		if (sealshm_slist_attach("pickled", NULL, &c) < 0)
			_exit(2);
		ok = item_is_s(c, 3, SEALSHM_ITEM_STR, "newvalue", 8) && item_is_int(c, 9, 9) &&
		     sealshm_slist_set(c, 0, &I_FLOAT(0.5)) == 0;
		sealshm_slist_close(c);
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, helper_exit_code(status));
	ASSERT_EQ(0, sealshm_slist_get(sl, 0, &items[0]));
	EXPECT_EQ(SEALSHM_ITEM_FLOAT, items[0].type);
	EXPECT_EQ(0.5, items[0].u.f);

	/* A larger list attaches by its name alone as well. */
	for (int i = 0; i < 400; i++)
		items[i] = I_INT(i);
	ASSERT_EQ(0, sealshm_slist_create("larger", items, 400, NULL, &self->l[2]));
	ASSERT_EQ(0, sealshm_slist_attach("larger", NULL, &self->l[3]));
	EXPECT_EQ(400, sealshm_slist_len(self->l[3]));
	EXPECT_TRUE(item_is_int(self->l[3], 399, 399));
	EXPECT_EQ(0, sealshm_unlink_name("larger", NULL));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(sl)));
}

/* The segment holds CPython's bytes exactly (SHAREABLELIST.md). */
TEST_F(list, layout_is_cpythons)
{
	static const uint8_t codes[7] = { 1, 2, 0, 0, 3, 0, 0 };
	const uint8_t *b;
	int64_t v;
	double f;

	ASSERT_EQ(0, sealshm_slist_create("layout", howdy, 7, NULL, &self->l[0]));
	b = sealshm_buf(sealshm_slist_shm(self->l[0]));
	ASSERT_EQ(191, sealshm_size(sealshm_slist_shm(self->l[0])));
	memcpy(&v, b, 8);
	EXPECT_EQ(7, v);
	for (int i = 0; i <= 7; i++) {
		memcpy(&v, b + 8 + 8 * i, 8);
		EXPECT_EQ(8 * i, v);
	}
	/* data at 72 */
	EXPECT_EQ(0, memcmp(b + 72, "howdy\0\0\0", 8));
	EXPECT_EQ(0, memcmp(b + 80, "HoWdY\0\0\0", 8));
	memcpy(&f, b + 88, 8);
	EXPECT_EQ(-273.154, f);
	memcpy(&v, b + 96, 8);
	EXPECT_EQ(100, v);
	EXPECT_EQ(0, memcmp(b + 104, "\0\0\0\0\0\0\0\0", 8));
	EXPECT_EQ(0, memcmp(b + 112, "\0\0\0\0\0\0\0\1", 8));
	memcpy(&v, b + 120, 8);
	EXPECT_EQ(42, v);
	/* formats at 128, codes at 184 */
	EXPECT_EQ(0, memcmp(b + 128, "8s\0\0\0\0\0\0" "8s\0\0\0\0\0\0" "d\0\0\0\0\0\0\0"
				     "q\0\0\0\0\0\0\0" "xxxxxx?x" "xxxxxxx?" "q\0\0\0\0\0\0\0", 56));
	EXPECT_EQ(0, memcmp(b + 184, codes, 7));
	EXPECT_EQ(7, sealshm__slist_validate(b, 191));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(self->l[0])));
}

/* Better than CPython (gh-145261): str slots are sized by UTF-8 bytes, so
 * multi-byte text comes back whole. */
TEST_F(list, utf8_sized_by_bytes)
{
	/* 5 characters, 10 bytes ("ééééé"); 3 characters, 12 bytes (emoji x3). */
	const char *e5 = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
	const char *emoji = "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80";
	struct sealshm_item items[] = { I_STR(e5), I_STR(emoji), I_STR("") };
	char fmt[32], buf[32];
	struct sealshm_item it;

	ASSERT_EQ(0, sealshm_slist_create(NULL, items, 3, NULL, &self->l[0]));
	EXPECT_EQ(8, fmt_of(self->l[0], fmt, sizeof(fmt)));
	EXPECT_STREQ("16s16s8s", fmt);
	EXPECT_TRUE(item_is_s(self->l[0], 0, SEALSHM_ITEM_STR, e5, 10));
	EXPECT_TRUE(item_is_s(self->l[0], 1, SEALSHM_ITEM_STR, emoji, 12));
	EXPECT_TRUE(item_is_s(self->l[0], 2, SEALSHM_ITEM_STR, "", 0));
	EXPECT_EQ(12, sealshm_slist_get_copy(self->l[0], 1, buf, sizeof(buf), &it));
	EXPECT_STREQ(emoji, buf);
	EXPECT_EQ((const void *)buf, it.u.s.ptr);
	/* Invalid UTF-8 is not a str. */
	EXPECT_EQ(-EINVAL, sealshm_slist_set(self->l[0], 2, &I_STR("\xc3")));
	EXPECT_EQ(-EINVAL, sealshm_slist_set(self->l[0], 2, &I_STR("\xed\xa0\x80")));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(self->l[0])));
}

/* Better than CPython: indices below -len (and at/after len) are refused,
 * for get, get_copy and set, down to INT64_MIN. */
TEST_F(list, index_below_minus_len_refused)
{
	int64_t bad[] = { 7, 8, -8, -9, INT64_MIN, INT64_MAX, INT64_MIN + 1 };
	struct sealshm_item it;
	char buf[16];

	ASSERT_EQ(0, sealshm_slist_create(NULL, howdy, 7, NULL, &self->l[0]));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		EXPECT_EQ(-ERANGE, sealshm_slist_get(self->l[0], bad[i], &it));
		EXPECT_EQ(-ERANGE, sealshm_slist_get_copy(self->l[0], bad[i], buf, sizeof(buf), &it));
		EXPECT_EQ(-ERANGE, sealshm_slist_set(self->l[0], bad[i], &I_INT(1)));
	}
	EXPECT_TRUE(item_is_s(self->l[0], -7, SEALSHM_ITEM_STR, "howdy", 5));
	EXPECT_TRUE(item_is_int(self->l[0], -1, 42));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(self->l[0])));
}

/* Better than CPython: a set that fails writes nothing, anywhere in the
 * segment (CPython writes the new format first). */
TEST_F(list, failed_set_changes_nothing)
{
	struct sealshm_item bad[] = {
		I_STR("far too long for it"), I_BYTES("123456789", 9), I_STR("\xff"),
		I_BOOL(2), { .type = 0 }, { .type = 99 }, I_BYTES(NULL, 3),
	};
	uint8_t before[191];
	struct sealshm *shm;

	ASSERT_EQ(0, sealshm_slist_create(NULL, howdy, 7, NULL, &self->l[0]));
	shm = sealshm_slist_shm(self->l[0]);
	memcpy(before, sealshm_buf(shm), sizeof(before));
	for (int idx = -7; idx < 7; idx++) {
		for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
			int r = sealshm_slist_set(self->l[0], idx, &bad[i]);

			EXPECT_TRUE(r == -E2BIG || r == -EINVAL) {
				TH_LOG("index %d item %zu: %d", idx, i, r);
			}
			EXPECT_EQ(0, memcmp(before, sealshm_buf(shm), sizeof(before)));
		}
	}
	EXPECT_EQ(-EINVAL, sealshm_slist_set(self->l[0], 0, NULL));
	EXPECT_EQ(0, memcmp(before, sealshm_buf(shm), sizeof(before)));
	EXPECT_EQ(0, sealshm_unlink(shm));
}

/* A str slot that receives an int becomes "q" and keeps its size: a later
 * str may use the whole slot again ("16s"), as CPython does. */
TEST_F(list, slot_keeps_size_across_kinds)
{
	struct sealshm_item items[] = { I_STR("twelve bytes"), I_BOOL(0) };
	char fmt[32];

	ASSERT_EQ(0, sealshm_slist_create(NULL, items, 2, NULL, &self->l[0]));
	EXPECT_EQ(0, sealshm_slist_set(self->l[0], 0, &I_INT(-5)));
	fmt_of(self->l[0], fmt, sizeof(fmt));
	EXPECT_STREQ("qxxxxxxx?", fmt);
	EXPECT_TRUE(item_is_int(self->l[0], 0, -5));
	EXPECT_EQ(0, sealshm_slist_set(self->l[0], 0, &I_STR("fifteen bytes!!")));
	fmt_of(self->l[0], fmt, sizeof(fmt));
	EXPECT_STREQ("16sxxxxxxx?", fmt);
	EXPECT_TRUE(item_is_s(self->l[0], 0, SEALSHM_ITEM_STR, "fifteen bytes!!", 15));
	EXPECT_EQ(0, sealshm_slist_set(self->l[0], 0, &I_BYTES("x", 1)));
	EXPECT_TRUE(item_is_s(self->l[0], 0, SEALSHM_ITEM_BYTES, "x", 1));
	EXPECT_EQ(0, sealshm_slist_set(self->l[0], 1, &I_BYTES("12345678", 8)));
	fmt_of(self->l[0], fmt, sizeof(fmt));
	EXPECT_STREQ("16s8s", fmt);
	EXPECT_EQ(0, sealshm_slist_set(self->l[0], 1, &I_NONE));
	fmt_of(self->l[0], fmt, sizeof(fmt));
	EXPECT_STREQ("16sxxxxxx?x", fmt);
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(self->l[0])));
}

/* count()/index() use Python's ==: 1 == 1.0 == True, str never bytes,
 * None only None, NaN nothing; trailing NULs are dropped on read. */
TEST_F(list, equality_is_pythons)
{
	struct sealshm_item items[] = {
		I_INT(1), I_FLOAT(1.0), I_BOOL(1), I_STR("ab"), I_BYTES("ab", 2), I_NONE,
		I_FLOAT(NAN), I_INT(INT64_MAX), I_BYTES("a\0\0", 3),
	};

	ASSERT_EQ(0, sealshm_slist_create(NULL, items, ELEMENTSOF(items), NULL, &self->l[0]));
	EXPECT_EQ(3, sealshm_slist_count(self->l[0], &I_INT(1)));
	EXPECT_EQ(3, sealshm_slist_count(self->l[0], &I_FLOAT(1.0)));
	EXPECT_EQ(3, sealshm_slist_count(self->l[0], &I_BOOL(1)));
	EXPECT_EQ(0, sealshm_slist_count(self->l[0], &I_BOOL(0)));
	EXPECT_EQ(1, sealshm_slist_count(self->l[0], &I_STR("ab")));
	EXPECT_EQ(3, sealshm_slist_index(self->l[0], &I_STR("ab")));
	EXPECT_EQ(4, sealshm_slist_index(self->l[0], &I_BYTES("ab", 2)));
	EXPECT_EQ(5, sealshm_slist_index(self->l[0], &I_NONE));
	EXPECT_EQ(0, sealshm_slist_count(self->l[0], &I_FLOAT(NAN)));
	/* 2^63 - 1 is not the double 2^63. */
	EXPECT_EQ(0, sealshm_slist_count(self->l[0], &I_FLOAT(9223372036854775807.0)));
	EXPECT_EQ(7, sealshm_slist_index(self->l[0], &I_INT(INT64_MAX)));
	EXPECT_EQ(8, sealshm_slist_index(self->l[0], &I_BYTES("a", 1)));
	EXPECT_EQ(-ENOENT, sealshm_slist_index(self->l[0], &I_BYTES("a\0", 2)));
	EXPECT_EQ(-EINVAL, sealshm_slist_count(self->l[0], &(struct sealshm_item){ .type = 0 }));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(self->l[0])));
}

/* Copy getter, format buffer sizes, read-only attach, bad arguments. */
TEST_F(list, buffers_rdonly_and_arguments)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_opts bad_opts = { .sz = 1 };
	struct sealshm_item it, big = I_BYTES("", 9999992);
	char buf[8], fmt[24];

	ASSERT_EQ(0, sealshm_slist_create("bufs", howdy, 7, NULL, &self->l[0]));
	EXPECT_EQ(-ENOBUFS, sealshm_slist_get_copy(self->l[0], 0, buf, 5, &it));
	EXPECT_EQ(5, sealshm_slist_get_copy(self->l[0], 0, buf, 6, &it));
	EXPECT_STREQ("howdy", buf);
	EXPECT_EQ(5, sealshm_slist_get_copy(self->l[0], 1, buf, 5, &it));
	EXPECT_EQ(SEALSHM_ITEM_BYTES, it.type);
	EXPECT_EQ(0, sealshm_slist_get_copy(self->l[0], 3, NULL, 0, &it));
	EXPECT_EQ(100, it.u.i);
	EXPECT_EQ(-ERANGE, fmt_of(self->l[0], fmt, 23));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(23, fmt_of(self->l[0], fmt, 24));

	ASSERT_EQ(0, sealshm_slist_attach("bufs", &ro, &self->l[1]));
	EXPECT_TRUE(item_is_int(self->l[1], 3, 100));
	EXPECT_EQ(-EPERM, sealshm_slist_set(self->l[1], 3, &I_INT(1)));

	EXPECT_EQ(-EINVAL, sealshm_slist_create(NULL, howdy, 7, &bad_opts, &self->l[2]));
	EXPECT_EQ(-EINVAL, sealshm_slist_attach("bufs", &bad_opts, &self->l[2]));
	EXPECT_EQ(-EINVAL, sealshm_slist_create(NULL, NULL, 1, NULL, &self->l[2]));
	EXPECT_EQ(-EINVAL, sealshm_slist_create(NULL, howdy, 7, NULL, NULL));
	EXPECT_EQ(-EINVAL, sealshm_slist_create(NULL, &I_STR("\xc0\x80"), 1, NULL, &self->l[2]));
	big.u.s.ptr = calloc(1, 9999992);
	ASSERT_NE(NULL, big.u.s.ptr);
	EXPECT_EQ(-E2BIG, sealshm_slist_create(NULL, &big, 1, NULL, &self->l[2]));
	EXPECT_EQ(E2BIG, errno);
	big.u.s.len = 9999991;	/* the largest item: slot 9999992, "9999992s" */
	ASSERT_EQ(0, sealshm_slist_create(NULL, &big, 1, NULL, &self->l[2]));
	free((void *)big.u.s.ptr);
	EXPECT_EQ(8, fmt_of(self->l[2], fmt, sizeof(fmt)));
	EXPECT_STREQ("9999992s", fmt);
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(self->l[2])));
	EXPECT_EQ(NULL, self->l[3]);
	EXPECT_EQ(-ENOENT, sealshm_slist_attach("no_such_list", NULL, &self->l[3]));
	EXPECT_EQ(-EINVAL, sealshm_slist_len(NULL));
	EXPECT_EQ(0, sealshm_slist_close(NULL));
	EXPECT_EQ(NULL, sealshm_slist_shm(NULL));
	EXPECT_EQ(0, sealshm_unlink_name("bufs", NULL));
}

/* A valid 2-item list ([7, "ab"]) in @b, 8 + 24 + 16 + 16 + 2 = 66 bytes. */
static size_t good_list(uint8_t *b)
{
	int64_t v[] = { 2, 0, 8, 16, 7 };

	memset(b, 0, 66);
	memcpy(b, v, sizeof(v));
	memcpy(b + 40, "ab", 2);
	memcpy(b + 48, "q", 1);
	memcpy(b + 56, "8s", 2);
	b[64] = 0;
	b[65] = 1;
	return 66;
}

static void put64(uint8_t *b, size_t at, int64_t v)
{
	memcpy(b + at, &v, 8);
}

/* Better than CPython: corrupt headers are refused, both by the validator
 * and by sealshm_slist_attach() on a real segment. */
TEST_F(list, corrupt_headers_refused)
{
	struct {
		const char *what;
		size_t at;		/* where to write @bytes */
		const char *bytes;
		size_t len;
		int64_t v;		/* or an int64 when bytes is NULL */
		size_t size;		/* segment size; 0: 66 */
	} cases[] = {
		{ "N negative", 0, NULL, 0, -1, 0 },
		{ "N too large", 0, NULL, 0, 3, 0 },
		{ "N huge", 0, NULL, 0, INT64_MAX, 0 },
		{ "first offset not 0", 8, NULL, 0, 8, 0 },
		{ "offsets decrease", 16, NULL, 0, 20, 0 },
		{ "data past the end", 24, NULL, 0, 1 << 20, 0 },
		{ "data wraps", 24, NULL, 0, -8, 0 },
		{ "q in a 4-byte slot", 16, NULL, 0, 4, 0 },
		{ "unknown format", 48, "Q", 1, 0, 0 },
		{ "format not NUL padded", 48, "q\0x", 3, 0, 0 },
		{ "str longer than slot", 56, "9s", 2, 0, 0 },
		{ "str leading zero", 56, "08s", 3, 0, 0 },
		{ "str no digits", 56, "s", 1, 0, 0 },
		{ "str huge", 56, "99999999", 8, 0, 0 },
		{ "code 4", 65, "\4", 1, 0, 0 },
		{ "code -1", 65, "\xff", 1, 0, 0 },
		{ "code 1 on q", 64, "\1", 1, 0, 0 },
		{ "code 0 on str", 65, "\0", 1, 0, 0 },
		{ "code 0 on None", 48, "xxxxxx?x", 8, 0, 0 },
		{ "segment one short", 0, NULL, 0, 2, 65 },
		{ "segment too small", 0, NULL, 0, 0, 15 },
	};
	uint8_t b[80];

	good_list(b);
	ASSERT_EQ(2, sealshm__slist_validate(b, 66));
	ASSERT_EQ(2, sealshm__slist_validate(b, 80));	/* room to spare is fine */
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct sealshm *shm = NULL;
		size_t size = cases[i].size ? cases[i].size : 66;

		good_list(b);
		if (cases[i].bytes)
			memcpy(b + cases[i].at, cases[i].bytes, cases[i].len);
		else
			put64(b, cases[i].at, cases[i].v);
		EXPECT_EQ(-EBADMSG, sealshm__slist_validate(b, size)) {
			TH_LOG("%s", cases[i].what);
		}
		ASSERT_EQ(0, sealshm_create("corrupt", size, NULL, &shm));
		memcpy(sealshm_buf(shm), b, size < 66 ? size : 66);
		EXPECT_EQ(-EBADMSG, sealshm_slist_attach("corrupt", NULL, &self->l[0])) {
			TH_LOG("%s", cases[i].what);
		}
		EXPECT_EQ(EBADMSG, errno);
		EXPECT_EQ(NULL, self->l[0]);
		EXPECT_EQ(0, sealshm_unlink(shm));
		sealshm_close(shm);
	}
	/* An empty list is 16 bytes and valid. */
	memset(b, 0, 16);
	EXPECT_EQ(0, sealshm__slist_validate(b, 16));
}

/* A foreign list (valid, not as CPython writes it) with a 5-byte "1s"
 * slot: an 8-byte kind does not fit there and is refused, nothing written;
 * a str longer than "1s" but within the slot takes the slot's size. */
TEST(foreign_short_slot_refuses_8_byte_kinds)
{
	_Alignas(8) uint8_t b[66 - 3], before[66 - 3];
	struct sealshm_slist *l = NULL;
	char fmt[16];
	int64_t v[] = { 2, 0, 5, 13 };

	memset(b, 0, sizeof(b));
	memcpy(b, v, sizeof(v));	/* data at 32: slots of 5 and 8 bytes */
	memcpy(b + 32, "a", 1);
	memcpy(b + 45, "1s", 2);
	memcpy(b + 53, "q", 1);
	b[61] = 1;
	b[62] = 0;
	ASSERT_EQ(2, sealshm__slist_validate(b, sizeof(b)));
	ASSERT_EQ(0, sealshm__slist_open_buf(b, sizeof(b), false, &l));
	EXPECT_TRUE(item_is_s(l, 0, SEALSHM_ITEM_STR, "a", 1));
	memcpy(before, b, sizeof(b));
	EXPECT_EQ(-E2BIG, sealshm_slist_set(l, 0, &I_INT(1)));
	EXPECT_EQ(-E2BIG, sealshm_slist_set(l, 0, &I_NONE));
	EXPECT_EQ(-E2BIG, sealshm_slist_set(l, 0, &I_STR("sixsix")));
	EXPECT_EQ(0, memcmp(before, b, sizeof(b)));
	EXPECT_EQ(0, sealshm_slist_set(l, 0, &I_STR("five!")));
	EXPECT_TRUE(item_is_s(l, 0, SEALSHM_ITEM_STR, "five!", 5));
	EXPECT_EQ(3, sealshm_slist_format(l, fmt, sizeof(fmt)));
	EXPECT_STREQ("5sq", fmt);
	EXPECT_EQ(2, sealshm__slist_validate(b, sizeof(b)));
	EXPECT_EQ(NULL, sealshm_slist_shm(l));
	sealshm_slist_close(l);
}

/* Formats change after attach (another process may be hostile): a bad one
 * is refused per item with -EBADMSG, never read past the slot; rewriting the
 * offsets after attach does not move our reads. */
TEST_F(list, hostile_change_after_attach)
{
	struct sealshm_item it;
	char fmt[64];
	uint8_t *b;

	ASSERT_EQ(0, sealshm_slist_create("hostile", howdy, 7, NULL, &self->l[0]));
	ASSERT_EQ(0, sealshm_slist_attach("hostile", NULL, &self->l[1]));
	b = sealshm_buf(sealshm_slist_shm(self->l[0]));
	memcpy(b + 128, "9999999s", 8);	/* item 0's format */
	EXPECT_EQ(-EBADMSG, sealshm_slist_get(self->l[1], 0, &it));
	EXPECT_EQ(-EBADMSG, sealshm_slist_set(self->l[1], 0, &I_STR("x")));
	EXPECT_EQ(-EBADMSG, fmt_of(self->l[1], fmt, sizeof(fmt)));
	EXPECT_EQ(-EBADMSG, sealshm_slist_count(self->l[1], &I_NONE));
	EXPECT_TRUE(item_is_int(self->l[1], 3, 100));
	b[184 + 3] = 3;	/* item 3's code: None's on a "q" */
	EXPECT_EQ(-EBADMSG, sealshm_slist_get(self->l[1], 3, &it));
	put64(b, 8 + 8 * 7, 1 << 30);	/* the last offset */
	EXPECT_TRUE(item_is_int(self->l[1], 6, 42));
	EXPECT_EQ(-EBADMSG, sealshm_slist_attach("hostile", NULL, &self->l[2]));
	EXPECT_EQ(0, sealshm_unlink_name("hostile", NULL));
}

TEST_HARNESS_MAIN

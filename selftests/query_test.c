// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * query_test: sealshm_registry_list() and sealshm_stat() (lib/query.c)
 * against what a trackerd of another version, or a hostile one, may send:
 * a fake trackerd (lib/fake_trackerd.h) answers the library's real
 * requests with real messages built from lib/proto.h.
 *
 *  - a listing passes every name on as the trackerd sent it, also names
 *    a current trackerd refuses (hostile_names.h): the tools escape them;
 *  - a reply whose name field is broken (no NUL in the field, empty) is
 *    malformed: -EBADMSG, nothing returned;
 *  - a STAT reply is the record of the name asked for, or -EBADMSG.
 *
 * What the tools show of such names is cli_test's and shmtop_test's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "hostile_names.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })

/* Valid names, one that looks like an escape and one beyond ASCII. */
#define VALID_NAMES	"first", "back\\x41", "caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f"

FIXTURE(fake_trackerd) {
	struct trackerd d;		/* its temp dir only: no trackerd runs */
	struct fake_trackerd f;
	char sock[160];
	struct sealshm_opts opts;
	int fds_before;			/* -1 until serve() */
};

FIXTURE_SETUP(fake_trackerd)
{
	self->f = (struct fake_trackerd)FAKE_TRACKERD_INIT;
	self->fds_before = -1;
	ASSERT_EQ(0, trackerd_prepare(&self->d));
	snprintf(self->sock, sizeof(self->sock), "%s/fake.sock", self->d.dir);
	memset(&self->opts, 0, sizeof(self->opts));
	self->opts.sz = sizeof(self->opts);
	self->opts.flags = SEALSHM_NO_AUTOSTART;
	self->opts.socket = self->sock;
}

FIXTURE_TEARDOWN(fake_trackerd)
{
	if (self->fds_before >= 0)
		EXPECT_EQ(self->fds_before, helper_count_fds(0));
	/* It served every request without a fault of its own. */
	EXPECT_EQ(0, fake_trackerd_stop(&self->f));
	trackerd_cleanup(&self->d);
}

/* Start the fake with @names and @flags, open the library's connection to
 * it (kept for later calls, as with any trackerd, so it belongs to the
 * baseline) and take the fd baseline.  0 or -errno. */
static int serve(FIXTURE_DATA(fake_trackerd) *self, const char *const *names,
		 unsigned int flags)
{
	struct sealshm_registry_stats st;
	int r = fake_trackerd_start(&self->f, self->sock, names, flags);

	if (r < 0)
		return r;
	r = sealshm_registry_stats(&self->opts, &st);
	if (r < 0)
		return r;
	if (st.pid != (uint32_t)self->f.pid)
		return -ESRCH;
	self->fds_before = helper_count_fds(0);
	return self->fds_before < 0 ? self->fds_before : 0;
}

/* A listing of valid names: each comes back with its record, in the
 * order sent. */
TEST_F(fake_trackerd, listing_returns_every_name_with_its_record)
{
	const char *const *names = ARGS(VALID_NAMES);
	struct sealshm_info *infos = NULL;
	int n;

	ASSERT_EQ(0, serve(self, names, 0));
	n = sealshm_registry_list(&self->opts, &infos);
	ASSERT_EQ(3, n);
	for (int i = 0; i < n; i++) {
		EXPECT_STREQ(names[i], infos[i].name);
		EXPECT_EQ(4096u * (i + 1), infos[i].size);
		EXPECT_EQ(1000u + i, infos[i].ino);
		EXPECT_EQ(0600u, infos[i].mode);
		EXPECT_EQ(SEALSHM_SEAL_SHRINK | SEALSHM_SEAL_GROW, infos[i].seals);
	}
	free(infos);
}

/* Names a current trackerd refuses (control characters, a bidirectional
 * override, bytes that are no UTF-8, ...) are listed as they were sent,
 * with the valid names beside them: one such name must not hide every
 * other name, and showing them is the tools' business (they escape). */
TEST_F(fake_trackerd, listing_passes_on_names_a_trackerd_would_refuse)
{
	const char *names[HOSTILE_NAMES_N + 1] = { NULL };
	struct sealshm_info *infos = NULL;
	size_t refused = 0;
	int n;

	for (size_t i = 0; i < HOSTILE_NAMES_N; i++) {
		names[i] = hostile_names[i].name;
		refused += sealshm_check_name(names[i], NULL) < 0;
	}
	ASSERT_LT(0, refused);
	ASSERT_EQ(0, serve(self, names, 0));

	n = sealshm_registry_list(&self->opts, &infos);
	ASSERT_EQ((int)HOSTILE_NAMES_N, n) {
		TH_LOG("listing: %s", n < 0 ? strerror(-n) : "a wrong count");
	}
	for (int i = 0; i < n; i++) {
		EXPECT_STREQ(names[i], infos[i].name);
		EXPECT_EQ(4096u * (i + 1), infos[i].size);
	}
	free(infos);
}

/* A name field with no NUL (a name of 256 bytes fills it) is malformed:
 * the listing fails with -EBADMSG and returns nothing. */
TEST_F(fake_trackerd, listing_refuses_a_name_field_without_nul)
{
	struct sealshm_info *infos = NULL;
	char full[SEALSHM_PROTO_NAME_SIZE + 1];

	memset(full, 'a', sizeof(full) - 1);
	full[sizeof(full) - 1] = '\0';
	ASSERT_EQ(0, serve(self, ARGS("first", full), 0));
	EXPECT_EQ(-EBADMSG, sealshm_registry_list(&self->opts, &infos));
	EXPECT_EQ(EBADMSG, errno);
	EXPECT_EQ(NULL, infos);
}

/* An empty name is no name at all: -EBADMSG. */
TEST_F(fake_trackerd, listing_refuses_an_empty_name)
{
	struct sealshm_info *infos = NULL;

	ASSERT_EQ(0, serve(self, ARGS("first", ""), 0));
	EXPECT_EQ(-EBADMSG, sealshm_registry_list(&self->opts, &infos));
	EXPECT_EQ(NULL, infos);
}

/* STAT answers with the record of the name asked for; a name the fake
 * does not hold is -ENOENT. */
TEST_F(fake_trackerd, stat_returns_the_record_asked_for)
{
	struct sealshm_info info;

	ASSERT_EQ(0, serve(self, ARGS(VALID_NAMES), 0));
	ASSERT_EQ(0, sealshm_stat("back\\x41", &self->opts, &info));
	EXPECT_STREQ("back\\x41", info.name);
	EXPECT_EQ(8192u, info.size);
	EXPECT_EQ(1001u, info.ino);
	/* The leading '/' is dropped before the name is sent. */
	ASSERT_EQ(0, sealshm_stat("/first", &self->opts, &info));
	EXPECT_STREQ("first", info.name);
	EXPECT_EQ(-ENOENT, sealshm_stat("missing", &self->opts, &info));
}

/* A STAT reply about another name than the one asked for is malformed,
 * even when that name is a valid one. */
TEST_F(fake_trackerd, stat_refuses_the_record_of_another_name)
{
	struct sealshm_info info;

	ASSERT_EQ(0, serve(self, ARGS(VALID_NAMES), FAKE_TRACKERD_STAT_FIRST));
	ASSERT_EQ(0, sealshm_stat("first", &self->opts, &info));
	EXPECT_STREQ("first", info.name);
	memset(&info, 0x5a, sizeof(info));
	EXPECT_EQ(-EBADMSG, sealshm_stat("back\\x41", &self->opts, &info));
	EXPECT_EQ(EBADMSG, errno);
	/* Nothing written on failure. */
	EXPECT_EQ(0x5a5a5a5a5a5a5a5au, info.size);
}

TEST_HARNESS_MAIN

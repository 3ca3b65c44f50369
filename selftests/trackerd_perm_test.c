// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_perm_test: owner and mode permissions, proved from a child
 * switched to another uid (needs root; skipped otherwise).  Another uid
 * cannot attach, stat, list or unlink a 0600 name, attaches a 0644 one
 * read-only and cannot make it writable; a group member gets the group
 * bits; root overrides the mode; INDEX is refused to another uid, and a
 * TRACK from a uid that may not read the name is not honoured.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#define NOBODY 65534

FIXTURE(perm) {
	struct trackerd d;
	struct sealshm *shm[4];
	int fds_before;
};

FIXTURE_SETUP(perm)
{
	memset(self->shm, 0, sizeof(self->shm));
	self->fds_before = -1;
	if (geteuid() != 0)
		SKIP(return, "switching uid needs root");
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
	/* Let the other uid reach the socket. */
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	ASSERT_EQ(0, chmod(self->d.sock, 0666));
}

FIXTURE_TEARDOWN(perm)
{
	if (self->fds_before < 0)
		return;	/* skipped: no trackerd was started */
	for (int i = 0; i < 4; i++)
		sealshm_close(self->shm[i]);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

static int other_uid_on_private(void)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_info *infos = NULL, info;
	struct sealshm *s = NULL;
	int n;

	CHILD_CHECK(1, sealshm_attach("private", NULL, &s) == -EACCES);
	CHILD_CHECK(2, sealshm_attach("private", &ro, &s) == -EACCES);
	CHILD_CHECK(3, s == NULL);
	CHILD_CHECK(4, sealshm_unlink_name("private", NULL) == -EPERM);
	CHILD_CHECK(5, sealshm_stat("private", NULL, &info) == -EACCES);
	n = sealshm_registry_list(NULL, &infos);
	CHILD_CHECK(6, n == 0);
	free(infos);
	return 0;
}

/* Another uid cannot attach a 0600 segment (-EACCES, even read-only), nor
 * stat or list it, nor unlink it (-EPERM); the name survives. */
TEST_F(perm, other_uid_cannot_touch_private_segment)
{
	if (_metadata->skip)
		return;	/* the 6.1 harness runs the test after SKIP in setup */
	ASSERT_EQ(0, sealshm_create("private", 4096, NULL, &self->shm[0]));
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_on_private));
	ASSERT_EQ(0, sealshm_attach("private", NULL, &self->shm[1]));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'private'", NULL));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

static int other_uid_on_public(void)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm_info *infos = NULL;
	struct sealshm *s = NULL;
	char path[64];
	int n, fd;

	CHILD_CHECK(1, sealshm_attach("public", NULL, &s) == -EACCES);
	CHILD_CHECK(2, sealshm_attach("public", &ro, &s) == 0);
	CHILD_CHECK(3, ((char *)sealshm_buf(s))[0] == 'P');
	CHILD_CHECK(4, (fcntl(sealshm_fd(s), F_GETFL) & O_ACCMODE) == O_RDONLY);
	/* The memfd's own mode refuses a write reopen through /proc. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sealshm_fd(s));
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHILD_CHECK(5, fd < 0 && errno == EACCES);
	CHILD_CHECK(6, mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sealshm_fd(s), 0) ==
			       MAP_FAILED);
	CHILD_CHECK(7, sealshm_unlink(s) == -EPERM);
	sealshm_close(s);
	n = sealshm_registry_list(NULL, &infos);
	CHILD_CHECK(8, n == 1 && !strcmp(infos[0].name, "public"));
	free(infos);
	return 0;
}

/* Another uid attaches a 0644 segment read-only (and cannot make it
 * writable: no read-write attach, no write reopen, no writable mapping) and
 * cannot unlink it; it sees only that name in the list. */
TEST_F(perm, other_uid_reads_public_segment_only)
{
	SEALSHM_OPTS(sealshm_opts, pub, .mode = 0644);

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, sealshm_create("public", 4096, &pub, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create("private", 4096, NULL, &self->shm[1]));
	((char *)sealshm_buf(self->shm[0]))[0] = 'P';
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_on_public));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

static int group_member_on_0640(void)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm *s = NULL;

	CHILD_CHECK(1, sealshm_attach("grouped", NULL, &s) == -EACCES);
	CHILD_CHECK(2, sealshm_attach("grouped", &ro, &s) == 0);
	sealshm_close(s);
	CHILD_CHECK(3, sealshm_attach("grouped_rw", NULL, &s) == 0);
	((char *)sealshm_buf(s))[1] = 'g';
	sealshm_close(s);
	return 0;
}

/* A member of the owner's group gets the group bits: read-only on 0640,
 * read-write on 0660. */
TEST_F(perm, group_member_gets_group_bits)
{
	SEALSHM_OPTS(sealshm_opts, g, .mode = 0640);
	SEALSHM_OPTS(sealshm_opts, grw, .mode = 0660);

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, sealshm_create("grouped", 64, &g, &self->shm[0]));
	ASSERT_EQ(0, sealshm_create("grouped_rw", 64, &grw, &self->shm[1]));
	EXPECT_EQ(0, run_as_user(NOBODY, getgid(), group_member_on_0640));
	EXPECT_EQ('g', ((char *)sealshm_buf(self->shm[1]))[1]);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[1]));
}

static int nobody_creates(void)
{
	/* Untracked: the name must outlive this child. */
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
	struct sealshm *s = NULL;

	CHILD_CHECK(1, sealshm_create("nobodys", 128, &o, &s) == 0);
	((char *)sealshm_buf(s))[0] = 'n';
	sealshm_close(s);
	return 0;
}

/* Root may attach and unlink a segment another uid owns, whatever its mode;
 * the owner recorded is the creator's uid. */
TEST_F(perm, root_overrides_mode)
{
	struct sealshm_info info;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, run_as_user(NOBODY, NOBODY, nobody_creates));
	ASSERT_EQ(0, sealshm_stat("nobodys", NULL, &info));
	EXPECT_EQ(NOBODY, info.uid);
	EXPECT_EQ(NOBODY, info.gid);
	EXPECT_EQ(0600, info.mode);
	ASSERT_EQ(0, sealshm_attach("nobodys", NULL, &self->shm[0]));
	EXPECT_EQ('n', ((char *)sealshm_buf(self->shm[0]))[0]);
	EXPECT_EQ(0, sealshm_unlink_name("nobodys", NULL));
}

static int other_uid_asks_for_index(void)
{
	const char *sock = getenv("SEALSHM_SOCKET");
	struct idx x;
	int fd, r;

	CHILD_CHECK(1, sock != NULL);
	fd = raw_client(sock, NULL);
	CHILD_CHECK(2, fd >= 0);
	r = raw_index(fd, &x);
	CHILD_CHECK(3, r == -EPERM);
	CHILD_CHECK(4, x.fd < 0);
	/* The connection stays usable: a refusal, not a violation. */
	CHILD_CHECK(5, raw_list_works(fd));
	close(fd);
	return 0;
}

/* INDEX is refused (-EPERM, no fd) to a client whose uid is neither
 * trackerd's nor root: the fast path is only for who could take trackerd's
 * fds anyway. */
TEST_F(perm, index_refused_to_other_uid)
{
	if (_metadata->skip)
		return;
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_asks_for_index));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused index", "uid 65534", NULL));
}

/* A TRACK from a session whose uid could not read the name is not honoured:
 * it must not keep another user's name alive. */
static int other_uid_tracks_private(void)
{
	const char *sock = getenv("SEALSHM_SOCKET"), *slot_s = getenv("TRACK_SLOT");
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_msg_track t = {
		.hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t), .seq = 54 },
	};
	int fd;

	CHILD_CHECK(1, sock && slot_s);
	fd = raw_session_client(sock, token, NULL);
	CHILD_CHECK(2, fd >= 0);
	CHILD_CHECK(3, sscanf(slot_s, "%u %u %" SCNu64, &t.slot, &t.generation, &t.ino) == 3);
	CHILD_CHECK(4, raw_send_fds(fd, &t, sizeof(t), NULL, 0) == 0);
	helper_sleep_ms(200);
	close(fd);
	return 0;
}

TEST_F(perm, track_needs_read_permission)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
	struct sealshm_index_entry e;
	struct sealshm_info info;
	struct idx x;
	char env[96];
	uint32_t slot;
	int sock;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, sealshm_create("private_fast", 64, &o, &self->shm[0]));
	sock = raw_client(self->d.sock, NULL);
	ASSERT_GE(sock, 0);
	ASSERT_EQ(0, raw_index(sock, &x));
	ASSERT_EQ(0, idx_find(&x, "private_fast", &e, &slot));
	idx_close(&x);
	close(sock);
	snprintf(env, sizeof(env), "%u %u %" PRIu64, slot, e.generation, e.ino);
	ASSERT_EQ(0, setenv("TRACK_SLOT", env, 1));
	EXPECT_EQ(0, run_as_user(NOBODY, NOBODY, other_uid_tracks_private));
	unsetenv("TRACK_SLOT");
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused track 'private_fast'", NULL));
	ASSERT_EQ(0, sealshm_stat("private_fast", NULL, &info));
	EXPECT_EQ(0, info.n_sessions);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_index_test: the published index (INDEX) and TRACK.  The index is
 * granted to a client of trackerd's uid as a read-only, write-sealed memfd
 * whose header validates; its entries follow creates and unlinks (a name
 * too long for it is not published); TRACK on a session links a name found
 * there, a stale TRACK is ignored, TRACK on a request connection or a
 * malformed one is refused, and INDEX makes a connection a request one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "trackerd_fixture.h"

/* INDEX to a client of trackerd's uid: the full reply with one fd, O_RDONLY,
 * sealed against writes, shrinking, growing and more seals, of the size the
 * reply says, whose header validates; no writable mapping of it is
 * possible.  Each client gets its own open file description. */
TEST_F(trackerd, index_granted_to_same_uid)
{
	const unsigned int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
	const struct sealshm_index_header *h;
	struct idx x, y;
	struct stat st;
	int seals;

	ASSERT_EQ(0, raw_index(self->raw, &x));
	EXPECT_EQ(O_RDONLY, fcntl(x.fd, F_GETFL) & O_ACCMODE);
	EXPECT_TRUE(fcntl(x.fd, F_GETFD) & FD_CLOEXEC);
	seals = fcntl(x.fd, F_GET_SEALS);
	EXPECT_EQ(want, (unsigned int)seals & want);
	ASSERT_EQ(0, fstat(x.fd, &st));
	EXPECT_EQ(x.size, (size_t)st.st_size);

	h = x.map;
	EXPECT_EQ(SEALSHM_INDEX_MAGIC, h->magic);
	EXPECT_EQ(SEALSHM_INDEX_VERSION, h->version);
	EXPECT_EQ(0, h->seq & 1);
	EXPECT_EQ(x.size, h->size);
	EXPECT_EQ((uint32_t)self->d.pid, h->server_pid);
	EXPECT_NE(0, h->n_buckets);
	EXPECT_EQ(0, h->n_buckets & (h->n_buckets - 1));
	EXPECT_GE(h->n_buckets, h->capacity);
	/* The default capacity: --max-names 1048576. */
	EXPECT_EQ(1048576, h->capacity);
	EXPECT_EQ(0, h->buckets_off % 8);
	EXPECT_EQ(0, h->entries_off % 8);
	EXPECT_GE(h->buckets_off, sizeof(*h));
	EXPECT_GE(h->entries_off, h->buckets_off + (uint64_t)h->n_buckets * 4);
	EXPECT_EQ(h->size, h->entries_off + (uint64_t)h->capacity * 128);
	EXPECT_FALSE(h->hash_key[0] == 0 && h->hash_key[1] == 0);

	/* Read-only for good: no writable mapping, no write, no resize, and
	 * the seals cannot be lifted or added to. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, x.size, PROT_READ | PROT_WRITE, MAP_SHARED, x.fd, 0));
	EXPECT_EQ(-1, ftruncate(x.fd, 0));
	EXPECT_EQ(-1, fcntl(x.fd, F_ADD_SEALS, F_SEAL_WRITE));

	/* A second client's fd is another open file description. */
	ASSERT_EQ(0, raw_index(self->raw, &y));
	EXPECT_NE(x.fd, y.fd);
	EXPECT_EQ(0, memcmp(x.map, y.map, sizeof(*h)));
	idx_close(&y);
	idx_close(&x);
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* An entry appears in the index when a name is created, with trackerd's fd
 * number, the inode, size, owner and mode, and goes when it is unlinked; a
 * name created again in the same slot has another generation. */
TEST_F(trackerd, index_entries_follow_create_and_unlink)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK, .mode = 0640);
	struct sealshm_index_entry e, e2;
	struct idx x;
	struct stat st;
	uint32_t slot, slot2;

	ASSERT_EQ(0, raw_index(self->raw, &x));
	EXPECT_EQ(-ENOENT, idx_find(&x, "indexed", &e, &slot));
	ASSERT_EQ(0, sealshm_create("indexed", 8192, &o, &self->shm[0]));
	ASSERT_EQ(0, idx_find(&x, "indexed", &e, &slot));
	ASSERT_EQ(0, fstat(sealshm_fd(self->shm[0]), &st));
	EXPECT_EQ(SEALSHM_INDEX_USED, e.flags);
	EXPECT_EQ((uint64_t)st.st_ino, e.ino);
	EXPECT_EQ(8192, e.size);
	EXPECT_EQ(getuid(), e.uid);
	EXPECT_EQ(getgid(), e.gid);
	EXPECT_EQ(0640, e.mode);
	EXPECT_EQ(7, e.name_len);
	EXPECT_STREQ("indexed", e.name);
	EXPECT_GE(e.fd, 3);
	EXPECT_LT(slot, ((const struct sealshm_index_header *)x.map)->capacity);
	EXPECT_EQ(0, ((const struct sealshm_index_header *)x.map)->seq & 1);

	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(-ENOENT, idx_find(&x, "indexed", &e2, &slot2));
	/* The slot is free again and taken by the next name: a new
	 * generation says it is another name. */
	sealshm_close(self->shm[0]);
	self->shm[0] = NULL;
	ASSERT_EQ(0, sealshm_create("indexed_again", 4096, &o, &self->shm[0]));
	ASSERT_EQ(0, idx_find(&x, "indexed_again", &e2, &slot2));
	EXPECT_EQ(slot, slot2);
	EXPECT_NE(e.generation, e2.generation);
	EXPECT_STREQ("indexed_again", e2.name);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_EQ(-ENOENT, idx_find(&x, "indexed_again", &e2, &slot2));
	idx_close(&x);
}

/* A name longer than SEALSHM_INDEX_NAME_MAX is registered but not
 * published; it attaches normally (through the round trip). */
TEST_F(trackerd, long_name_is_not_indexed_but_attaches)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
	char name[SEALSHM_INDEX_NAME_MAX + 2];
	struct sealshm_index_entry e;
	struct idx x;
	uint32_t slot;

	memset(name, 'L', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(0, raw_index(self->raw, &x));
	ASSERT_EQ(0, sealshm_create(name, 4096, &o, &self->shm[0]));
	((char *)sealshm_buf(self->shm[0]))[5] = 'l';
	EXPECT_EQ(-ENOENT, idx_find(&x, name, &e, &slot));
	ASSERT_EQ(0, sealshm_attach(name, &o, &self->shm[1]));
	EXPECT_EQ('l', ((char *)sealshm_buf(self->shm[1]))[5]);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	sealshm_close(self->shm[0]);
	self->shm[0] = NULL;
	/* One byte shorter is published. */
	name[SEALSHM_INDEX_NAME_MAX] = '\0';
	ASSERT_EQ(0, sealshm_create(name, 4096, &o, &self->shm[0]));
	ASSERT_EQ(0, idx_find(&x, name, &e, &slot));
	EXPECT_EQ(SEALSHM_INDEX_NAME_MAX, e.name_len);
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	idx_close(&x);
}

/* TRACK on a session links a name attached through the index: the name
 * counts the session, and the session's end cleans it up as for a tracked
 * ATTACH.  Nothing is ever sent back on the session. */
TEST_F(trackerd, track_links_name_to_session)
{
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_index_entry e;
	struct sealshm_wire_info info;
	char line[160], buf[64];
	struct idx x;
	uint32_t slot;
	uint64_t id;

	ASSERT_EQ(0, raw_index(self->raw, &x));
	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "fast_tracked", 0, NULL));
	ASSERT_EQ(0, idx_find(&x, "fast_tracked", &e, &slot));
	self->extra[0] = raw_session_client(self->d.sock, token, &id);
	ASSERT_GE(self->extra[0], 0);

	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation, e.ino));
	/* Twice: a session tracks a name once. */
	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation, e.ino));
	info.n_sessions = 0;
	for (int i = 0; i < 200 && info.n_sessions == 0; i++) {
		ASSERT_EQ(0, raw_stat(self->raw, "fast_tracked", &info));
		if (info.n_sessions == 0)
			helper_sleep_ms(10);
	}
	EXPECT_EQ(1, info.n_sessions);
	EXPECT_EQ((uint32_t)getpid(), info.session_pids[0]);
	errno = 0;
	EXPECT_EQ(-1, recv(self->extra[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	self->extra[0] = safe_close(self->extra[0]);
	EXPECT_EQ(0, helper_wait_gone("fast_tracked", 5000));
	snprintf(line, sizeof(line),
		 "leaked segment 'fast_tracked' cleaned up (session %llu of pid %d ended)",
		 (unsigned long long)id, (int)getpid());
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, line, NULL));
	EXPECT_EQ(-ENOENT, idx_find(&x, "fast_tracked", &e, &slot));
	idx_close(&x);
}

/* A TRACK that names what is no longer there (another generation, another
 * inode, a slot beyond the registry) is ignored: nothing is tracked and
 * the session lives on. */
TEST_F(trackerd, stale_track_is_ignored)
{
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct sealshm_index_entry e, f;
	struct sealshm_msg_attach_reply reply;
	struct sealshm_wire_info info;
	uint32_t slot, fslot;
	struct idx x;
	char buf[64];
	uint64_t id;

	ASSERT_EQ(0, raw_index(self->raw, &x));
	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "stale_target", 0, NULL));
	ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "fence", 0, NULL));
	ASSERT_EQ(0, idx_find(&x, "stale_target", &e, &slot));
	ASSERT_EQ(0, idx_find(&x, "fence", &f, &fslot));
	self->extra[0] = raw_session_client(self->d.sock, token, &id);
	ASSERT_GE(self->extra[0], 0);

	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation + 1, e.ino));
	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation - 1, e.ino));
	ASSERT_EQ(0, raw_track(self->extra[0], slot, e.generation, e.ino + 1));
	ASSERT_EQ(0, raw_track(self->extra[0], UINT32_MAX, e.generation, e.ino));
	ASSERT_EQ(0, raw_track(self->extra[0], 1u << 30, e.generation, e.ino));
	/* A good one last: once it shows, the others were handled before. */
	ASSERT_EQ(0, raw_track(self->extra[0], fslot, f.generation, f.ino));
	info.n_sessions = 0;
	for (int i = 0; i < 200 && info.n_sessions == 0; i++) {
		ASSERT_EQ(0, raw_stat(self->raw, "fence", &info));
		if (info.n_sessions == 0)
			helper_sleep_ms(10);
	}
	EXPECT_EQ(1, info.n_sessions);
	ASSERT_EQ(0, raw_stat(self->raw, "stale_target", &info));
	EXPECT_EQ(0, info.n_sessions);

	/* Still a live session: nothing sent, not closed. */
	errno = 0;
	EXPECT_EQ(-1, recv(self->extra[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, trackerd_log_count(&self->d, "message on session", NULL));

	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "stale_target", 0, &reply,
				   sizeof(reply), NULL));
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "fence", 0, &reply,
				   sizeof(reply), NULL));
	self->extra[0] = safe_close(self->extra[0]);
	EXPECT_EQ(0, trackerd_log_count(&self->d, "leaked segment", NULL));
	idx_close(&x);
}

/* TRACK on a request connection (not a session) is refused with -EPROTO
 * and the connection closed: it expects no reply, so it is a protocol
 * error there. */
TEST_F(trackerd, track_on_request_connection_is_refused)
{
	struct sealshm_msg_track t = {
		.hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t), .seq = 52 },
	};
	char reply[64];
	ssize_t n;

	self->extra[0] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[0], 0);
	n = raw_call(self->extra[0], &t, sizeof(t), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_EQ(-EPROTO, error_reply(_metadata, reply, n, SEALSHM_MSG_TRACK, 52));
	EXPECT_TRUE(raw_closed_by_peer(self->extra[0]));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused message", "no session", NULL));
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* A malformed TRACK (wrong size, or with an fd) ends the session like any
 * message that is not a good TRACK: its names are cleaned up. */
TEST_F(trackerd, malformed_track_ends_session)
{
	for (int round = 0; round < 2; round++) {
		struct sealshm_msg_track t[2] = {
			{ .hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t[0]), .seq = 53 } },
		};
		uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
		int mfd = helper_memfd(64, 0);

		ASSERT_GE(mfd, 0);
		self->extra[0] = raw_session_client(self->d.sock, token, NULL);
		ASSERT_GE(self->extra[0], 0);
		ASSERT_EQ(0, raw_create_tracked(_metadata, self->raw, "badly_tracked",
						SEALSHM_PROTO_TRACK, token));
		if (round == 0) {
			ASSERT_EQ(0, raw_send_fds(self->extra[0], t, sizeof(t), NULL, 0));
		} else {
			ASSERT_EQ(0, raw_send_fds(self->extra[0], t, sizeof(t[0]), &mfd, 1));
		}
		close(mfd);
		EXPECT_TRUE(raw_list_works(self->raw));	/* reads sessions */
		EXPECT_TRUE(raw_closed_by_peer(self->extra[0]));
		self->extra[0] = safe_close(self->extra[0]);
		EXPECT_EQ(0, helper_wait_gone("badly_tracked", 5000));
	}
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* INDEX is a request like any other on a request connection: such a
 * connection cannot become a session afterwards. */
TEST_F(trackerd, index_makes_connection_a_request_one)
{
	struct sealshm_msg_session_reply r;
	struct idx x;

	self->extra[0] = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(0, raw_index(self->extra[0], &x));
	idx_close(&x);
	EXPECT_EQ(-EPROTO, raw_session(self->extra[0], &r));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_registry_test: registering, attaching and unlinking names over
 * the raw protocol.  CREATE is refused (with a log line naming the name and
 * the reason) unless it brings a real, size-sealed, read-write memfd of the
 * declared size, valid fields and, as a second fd, only its read-only twin;
 * a duplicate is -EEXIST; ATTACH replies with the segment's size, inode,
 * seals, mode and an fd (read-only when asked); trackerd holds one fd per
 * name, and an exec'd program attaches by name.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "trackerd_fixture.h"

/* A regular file and a pipe are refused on CREATE (-EBADF, not a memfd),
 * the name is not registered, the connection stays usable, and the log line
 * names the name and the reason. */
TEST_F(trackerd, create_refuses_non_memfd)
{
	char path[192], reply[64];
	int p[2] = { -EBADF, -EBADF };

	snprintf(path, sizeof(path), "%s/regular", self->d.dir);
	self->extra[0] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(0, ftruncate(self->extra[0], 4096));
	EXPECT_EQ(-EBADF, raw_create(_metadata, self->raw, "victim_file", 4096, 0600, 0,
				     &self->extra[0], 1));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_STAT, "victim_file", 0, reply,
					 sizeof(reply), NULL));

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->extra[1] = p[0];
	self->extra[2] = p[1];
	EXPECT_EQ(-EBADF, raw_create(_metadata, self->raw, "victim_pipe", 4096, 0600, 0,
				     &self->extra[1], 1));
	EXPECT_EQ(-EBADF, raw_create(_metadata, self->raw, "victim_pipe", 4096, 0600, 0,
				     &self->extra[2], 1));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_STAT, "victim_pipe", 0, reply,
					 sizeof(reply), NULL));
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'victim_file'", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'victim_pipe'", "memfd",
					  NULL));
}

/* A memfd without both size seals is refused with -EINVAL: no seals, only
 * SHRINK, only GROW, or only write seals. */
TEST_F(trackerd, create_refuses_unsealed_memfd)
{
	const unsigned int sets[] = { 0, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE,
				      F_SEAL_SHRINK | F_SEAL_SEAL };

	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		int fd = helper_memfd(4096, sets[i]);

		ASSERT_GE(fd, 0);
		EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "unsealed", 4096, 0600, 0,
					      &fd, 1)) {
			TH_LOG("seals 0x%x", sets[i]);
		}
		close(fd);
	}
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'unsealed'", NULL));
}

/* A memfd whose size differs from the declared size is refused (-EINVAL). */
TEST_F(trackerd, create_refuses_size_mismatch)
{
	const uint64_t sizes[] = { 4095, 4097, 8192, 1, UINT64_MAX };

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "mismatch", sizes[i], 0600, 0,
					      &self->extra[0], 1)) {
			TH_LOG("declared %ju for 4096", (uintmax_t)sizes[i]);
		}
	}
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'mismatch'", NULL));
}

/* A read-only fd of a good memfd is refused: trackerd must hold an O_RDWR
 * fd to hand out read-write attaches. */
TEST_F(trackerd, create_refuses_rdonly_fd)
{
	char path[64];
	int ro;

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->extra[0]);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(ro, 0);
	self->extra[1] = ro;
	EXPECT_GT(0, raw_create(_metadata, self->raw, "rdonly_fd", 4096, 0600, 0, &ro, 1));
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_EQ(-ENOENT, sealshm_attach("rdonly_fd", NULL, &self->shm[0]));
}

/* Size 0, mode beyond 0777 and unknown flag bits are refused (-EINVAL):
 * RDONLY is no CREATE flag, LIFETIME_LAST no ATTACH flag. */
TEST_F(trackerd, create_refuses_bad_fields)
{
	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	self->extra[1] = helper_memfd(0, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[1], 0);
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "zero", 0, 0600, 0,
				      &self->extra[1], 1));
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "fields", 4096, 01000, 0,
				      &self->extra[0], 1));
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "fields", 4096, 0600, 0x80,
				      &self->extra[0], 1));
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "fields", 4096, 0600,
				      SEALSHM_PROTO_RDONLY, &self->extra[0], 1));
	EXPECT_EQ(-ENOENT, sealshm_attach("fields", NULL, &self->shm[0]));
	EXPECT_EQ(0, raw_create(_metadata, self->raw, "fields", 4096, 0600, 0, &self->extra[0], 1));
	{
		struct sealshm_msg_attach_reply reply;

		EXPECT_EQ(-EINVAL, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "fields",
						 SEALSHM_PROTO_LIFETIME_LAST, &reply,
						 sizeof(reply), NULL));
	}
	EXPECT_EQ(0, sealshm_unlink_name("fields", NULL));
	EXPECT_TRUE(raw_list_works(self->raw));
}

/* A CREATE's second fd must be the read-only twin of its memfd: another
 * memfd, the memfd itself (read-write), an O_PATH of it and a read-only
 * open of another memfd are refused (-EINVAL, logged), nothing registered,
 * the connection kept; trackerd keeps none of those fds. */
TEST_F(trackerd, create_second_fd_must_be_read_only_twin)
{
	int bad[4], fds[2];

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	self->extra[1] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_GE(self->extra[1], 0);
	bad[0] = self->extra[1];
	bad[1] = self->extra[0];
	bad[2] = self->extra[2] = reopen_fd(self->extra[0], O_PATH);
	bad[3] = self->extra[3] = reopen_fd(self->extra[1], O_RDONLY);
	ASSERT_GE(self->extra[2], 0);
	ASSERT_GE(self->extra[3], 0);
	fds[0] = self->extra[0];
	for (int i = 0; i < 4; i++) {
		fds[1] = bad[i];
		EXPECT_EQ(-EINVAL,
			  raw_create(_metadata, self->raw, "twin", 4096, 0600, 0, fds, 2)) {
			TH_LOG("bad twin %d", i);
		}
		EXPECT_TRUE(raw_list_works(self->raw));
	}
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused create 'twin'",
					  "second fd is not open read-only", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused create 'twin'",
					  "second fd is another file", NULL));
	EXPECT_EQ(-ENOENT, sealshm_attach("twin", NULL, &self->shm[0]));
	/* The raw client's connection, and nothing more. */
	EXPECT_EQ(self->daemon_fds_before + 1,
		  helper_wait_fds(self->d.pid, self->daemon_fds_before + 1, 3000));
}

/* A real twin is accepted; a trackerd that may reopen the memfd itself (of
 * our uid, here) drops it: one fd per name, closed at unlink. */
TEST_F(trackerd, create_with_twin_keeps_one_fd_when_reopen_works)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY | SEALSHM_NO_TRACK);
	struct sealshm_msg_attach_reply reply;
	int fds[2];

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	self->extra[1] = reopen_fd(self->extra[0], O_RDONLY);
	ASSERT_GE(self->extra[1], 0);
	fds[0] = self->extra[0];
	fds[1] = self->extra[1];
	ASSERT_EQ(0, raw_create(_metadata, self->raw, "twin_ok", 4096, 0600, 0, fds, 2));
	EXPECT_EQ(self->daemon_fds_before + 2,
		  helper_wait_fds(self->d.pid, self->daemon_fds_before + 2, 3000));
	ASSERT_EQ(0, sealshm_attach("twin_ok", &ro, &self->shm[0]));
	EXPECT_EQ(O_RDONLY, fcntl(sealshm_fd(self->shm[0]), F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "twin_ok", 0, &reply,
				   sizeof(reply), NULL));
	EXPECT_EQ(self->daemon_fds_before + 1,
		  helper_wait_fds(self->d.pid, self->daemon_fds_before + 1, 3000));
}

/* CREATE then a duplicate: -EEXIST, and trackerd keeps only the first fd. */
TEST_F(trackerd, duplicate_create_is_eexist)
{
	int baseline;

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	self->extra[1] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_GE(self->extra[1], 0);
	baseline = helper_count_fds(self->d.pid);
	EXPECT_EQ(0, raw_create(_metadata, self->raw, "dup", 4096, 0600, 0, &self->extra[0], 1));
	EXPECT_EQ(baseline + 1, helper_count_fds(self->d.pid));
	EXPECT_EQ(-EEXIST, raw_create(_metadata, self->raw, "dup", 4096, 0600, 0,
				      &self->extra[1], 1));
	/* The refused fd may be closed just after the reply is flushed. */
	EXPECT_EQ(baseline + 1, helper_wait_fds(self->d.pid, baseline + 1, 2000));
	EXPECT_TRUE(raw_list_works(self->raw));
	EXPECT_EQ(0, sealshm_unlink_name("dup", NULL));
	EXPECT_EQ(baseline, helper_wait_fds(self->d.pid, baseline, 2000));
}

/* ATTACH replies with size, inode, seals, mode and one fd for the same
 * memfd; read-only attaches get an O_RDONLY fd; UNLINK and STAT of a missing
 * name are -ENOENT. */
TEST_F(trackerd, attach_reply_carries_fd_and_info)
{
	struct sealshm_msg_attach_reply reply;
	struct stat st, st2;
	int fd = -EBADF;

	self->extra[0] = helper_memfd(8000, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(0, fstat(self->extra[0], &st));
	ASSERT_EQ(0, raw_create(_metadata, self->raw, "wire", 8000, 0640, 0, &self->extra[0], 1));

	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "wire", 0, &reply,
				   sizeof(reply), &fd));
	EXPECT_EQ(sizeof(reply), reply.hdr.size);
	EXPECT_EQ(8000, reply.size);
	EXPECT_EQ(st.st_ino, reply.ino);
	EXPECT_EQ(0640, reply.mode);
	EXPECT_EQ(F_SEAL_SHRINK | F_SEAL_GROW, reply.seals & (F_SEAL_SHRINK | F_SEAL_GROW));
	ASSERT_GE(fd, 0);
	self->extra[1] = fd;
	ASSERT_EQ(0, fstat(fd, &st2));
	EXPECT_EQ(st.st_ino, st2.st_ino);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	fd = -EBADF;
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "wire", SEALSHM_PROTO_RDONLY,
				   &reply, sizeof(reply), &fd));
	ASSERT_GE(fd, 0);
	self->extra[2] = fd;
	ASSERT_EQ(0, fstat(fd, &st2));
	EXPECT_EQ(st.st_ino, st2.st_ino);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);

	EXPECT_EQ(-EINVAL, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "wire", 1u << 20, &reply,
					 sizeof(reply), NULL));
	EXPECT_EQ(0, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "wire", 0, &reply,
				   sizeof(reply), NULL));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_UNLINK, "wire", 0, &reply,
					 sizeof(reply), NULL));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_ATTACH, "wire", 0, &reply,
					 sizeof(reply), NULL));
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_STAT, "wire", 0, &reply,
					 sizeof(reply), NULL));
}

/* UNLINK with an inode removes the name only while its memfd is that
 * inode (-ENOENT, nothing removed, otherwise); ATTACH and STAT must send 0
 * there. */
TEST_F(trackerd, unlink_by_inode_spares_a_newer_segment)
{
	struct sealshm_msg_name req;
	char reply[64];
	struct stat st;
	ssize_t n;

	self->extra[0] = helper_memfd(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	ASSERT_GE(self->extra[0], 0);
	ASSERT_EQ(0, fstat(self->extra[0], &st));
	ASSERT_EQ(0, raw_create(_metadata, self->raw, "byino", 4096, 0600, 0, &self->extra[0], 1));

	raw_name_req(&req, SEALSHM_MSG_UNLINK, 70, "byino", 0);
	req.ino = st.st_ino + 1;
	n = raw_call(self->raw, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_EQ(-ENOENT, error_reply(_metadata, reply, n, SEALSHM_MSG_UNLINK, 70));

	raw_name_req(&req, SEALSHM_MSG_ATTACH, 71, "byino", 0);
	req.ino = st.st_ino;
	n = raw_call(self->raw, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_EQ(-EINVAL, error_reply(_metadata, reply, n, SEALSHM_MSG_ATTACH, 71));
	raw_name_req(&req, SEALSHM_MSG_STAT, 72, "byino", 0);
	req.ino = st.st_ino;
	n = raw_call(self->raw, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_EQ(-EINVAL, error_reply(_metadata, reply, n, SEALSHM_MSG_STAT, 72));

	raw_name_req(&req, SEALSHM_MSG_UNLINK, 73, "byino", 0);
	req.ino = st.st_ino;
	n = raw_call(self->raw, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	EXPECT_EQ((ssize_t)sizeof(struct sealshm_msg_hdr), n);
	EXPECT_EQ(0, ((struct sealshm_msg_hdr *)reply)->status);
	EXPECT_EQ(-ENOENT, raw_name_call(self->raw, SEALSHM_MSG_STAT, "byino", 0, reply,
					 sizeof(reply), NULL));
}

/* Registration, unlink and refusals each log one line naming the name. */
TEST_F(trackerd, log_names_name_and_reason)
{
	ASSERT_EQ(0, sealshm_create("logged", 48, NULL, &self->shm[0]));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "registered", "'logged'", NULL));
	EXPECT_EQ(-EEXIST, sealshm_create("logged", 48, NULL, &self->shm[1]));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "unlinked", "'logged'", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "trackerd[", NULL));

	self->extra[0] = helper_memfd(4096, 0);
	ASSERT_GE(self->extra[0], 0);
	EXPECT_EQ(-EINVAL, raw_create(_metadata, self->raw, "logged_refusal", 4096, 0600, 0,
				      &self->extra[0], 1));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "refused", "'logged_refusal'", "seal",
					  NULL));
}

/* A program started with fork+exec attaches by name and writes; the parent
 * sees the write, and reads back what the peer reads. */
TEST_F(trackerd, exec_peer_attaches_by_name_and_writes)
{
	char out[32];
	unsigned char *p;

	ASSERT_EQ(0, sealshm_create("cross", 1000, NULL, &self->shm[0]));
	p = sealshm_buf(self->shm[0]);
	/* Untracked: a tracking peer's exit would take the name (tracking_test). */
	EXPECT_EQ(0, run_peer((const char *[]){ "--no-track", "attach", "cross", "999", "123",
						NULL }, NULL, 0));
	EXPECT_EQ(123, p[999]);
	p[0] = 42;
	EXPECT_EQ(0, run_peer((const char *[]){ "--no-track", "read", "/cross", "0", NULL }, out,
			      sizeof(out)));
	EXPECT_STREQ("42\n", out);
	EXPECT_EQ(1, run_peer((const char *[]){ "read", "no_such_name", "0", NULL }, NULL, 0));
	EXPECT_EQ(0, sealshm_unlink(self->shm[0]));
}

TEST_HARNESS_MAIN

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the trackerd_*_test programs share: the `trackerd` fixture (a
 * private trackerd through trackerd_fixture_setup() and _teardown(), a raw
 * client after a good HELLO, and spare fds and handles its teardown
 * closes), and raw CREATE requests whose replies are checked through the
 * harness.  Include it after kselftest_harness.h and helpers.h.
 */
#ifndef SEALSHM_SELFTESTS_TRACKERD_FIXTURE_H
#define SEALSHM_SELFTESTS_TRACKERD_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define NEXTRA 4

FIXTURE(trackerd) {
	struct trackerd d;
	int raw;			/* a raw client after a good HELLO */
	int extra[NEXTRA];		/* more fds a test opens */
	struct sealshm *shm[2];
	int fds_before;			/* ours */
	int daemon_fds_before;		/* trackerd's, without the raw client */
};

FIXTURE_SETUP(trackerd)
{
	self->raw = -EBADF;
	for (int i = 0; i < NEXTRA; i++)
		self->extra[i] = -EBADF;
	memset(self->shm, 0, sizeof(self->shm));
	/* The library's cached connection is part of both baselines. */
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before,
			       &self->daemon_fds_before);
	self->raw = raw_client(self->d.sock, NULL);
	ASSERT_GE(self->raw, 0);
}

FIXTURE_TEARDOWN(trackerd)
{
	self->raw = safe_close(self->raw);
	for (int i = 0; i < NEXTRA; i++)
		self->extra[i] = safe_close(self->extra[i]);
	for (int i = 0; i < 2; i++)
		sealshm_close(self->shm[i]);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, self->daemon_fds_before);
}

/* Check a header-only error reply to @type/@seq and return its status. */
static inline int error_reply(struct __test_metadata *_metadata, const void *buf, ssize_t n,
			      uint32_t type, uint32_t seq)
{
	const struct sealshm_msg_hdr *h = buf;

	EXPECT_EQ((ssize_t)sizeof(*h), n) {
		TH_LOG("error reply to type %u: %zd bytes", type, n);
	}
	if (n < (ssize_t)sizeof(*h))
		return n < 0 ? (int)n : -EIO;
	EXPECT_EQ(type | SEALSHM_MSG_REPLY, h->type);
	EXPECT_EQ(seq, h->seq);
	EXPECT_EQ(sizeof(*h), h->size);
	EXPECT_GT(0, h->status);
	return h->status;
}

/* Send CREATE @name on @sock with @fds and @token (NULL: zero) and return
 * the reply's status (an error reply is checked for shape). */
static inline int raw_create_token(struct __test_metadata *_metadata, int sock,
				   const char *name, uint64_t size, uint32_t mode, uint32_t flags,
				   const uint8_t *token, const int *fds, size_t nfds)
{
	struct sealshm_msg_create req;
	char reply[64];
	ssize_t n;

	raw_create_req(&req, 7, name, size, mode, flags);
	if (token)
		memcpy(req.token, token, sizeof(req.token));
	n = raw_call(sock, &req, sizeof(req), fds, nfds, reply, sizeof(reply), NULL);
	/* Success and error replies to CREATE are both header-only. */
	if (n == 16 && ((struct sealshm_msg_hdr *)reply)->status != 0)
		return error_reply(_metadata, reply, n, SEALSHM_MSG_CREATE, 7);
	EXPECT_EQ(16, n) {
		TH_LOG("create '%s': reply of %zd bytes", name, n);
	}
	if (n != 16)
		return n < 0 ? (int)n : -EIO;
	EXPECT_EQ(SEALSHM_MSG_CREATE | SEALSHM_MSG_REPLY, ((struct sealshm_msg_hdr *)reply)->type);
	EXPECT_EQ(7, ((struct sealshm_msg_hdr *)reply)->seq);
	return 0;
}

/* raw_create_token() with the zero token. */
static inline int raw_create(struct __test_metadata *_metadata, int sock, const char *name,
			     uint64_t size, uint32_t mode, uint32_t flags, const int *fds, size_t nfds)
{
	return raw_create_token(_metadata, sock, name, size, mode, flags, NULL, fds, nfds);
}

/* Tracked CREATE of @name (64 bytes) with @token; returns the status. */
static inline int raw_create_tracked(struct __test_metadata *_metadata, int sock,
				     const char *name, uint32_t flags, const uint8_t *token)
{
	int mfd = helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW), r;

	if (mfd < 0)
		return mfd;
	r = raw_create_token(_metadata, sock, name, 64, 0600, flags, token, &mfd, 1);
	close(mfd);
	return r;
}

#endif /* SEALSHM_SELFTESTS_TRACKERD_FIXTURE_H */

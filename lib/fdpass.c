// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Messages with fds over AF_UNIX SOCK_SEQPACKET: the only file that builds
 * or parses SCM_RIGHTS control messages.
 */
#include <sys/socket.h>

#include "fdpass.h"
#include "internal.h"
#include "proto.h"

/* Room for SEALSHM_PROTO_FDS_MAX fds, aligned for struct cmsghdr. */
union fd_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * SEALSHM_PROTO_FDS_MAX)];
};

int sealshm__send(int sock, const void *buf, size_t len, const int *fds, size_t nfds, int flags)
{
	union fd_cmsg control = {};
	struct iovec iov = {
		.iov_base = (void *)buf,
		.iov_len = len,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	/* fds need at least one data byte to travel with (unix(7)). */
	assert(len >= 1);
	assert(nfds <= SEALSHM_PROTO_FDS_MAX);

	if (nfds > 0) {
		struct cmsghdr *cmsg;

		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}

	for (;;) {
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | flags);

		if (n >= 0)
			/* SOCK_SEQPACKET sends whole messages or nothing. */
			return (size_t)n == len ? 0 : -EIO;
		if (errno != EINTR)
			return -errno;
	}
}

/* Close every fd in every SCM_RIGHTS message of @msg. */
static void close_all_fds(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;

		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			safe_close(fd);
		}
	}
}

ssize_t sealshm__recv(int sock, void *buf, size_t len, int *fds, size_t max_fds,
		      size_t *ret_nfds, int flags)
{
	union fd_cmsg control = {};
	struct iovec iov = {
		.iov_base = buf,
		.iov_len = len,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	size_t nfds = 0;
	ssize_t n;

	assert(max_fds <= SEALSHM_PROTO_FDS_MAX);

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	/* Cut fds were closed by the kernel, but the ones that did arrive are
	 * ours to close (systemd recvmsg_safe). */
	if (msg.msg_flags & MSG_CTRUNC) {
		close_all_fds(&msg);
		return -ECHRNG;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		close_all_fds(&msg);
		return -EXFULL;
	}

	/* Zero bytes is the end of the stream, or an empty SOCK_SEQPACKET
	 * message, which is no valid message either: callers read 0 as the
	 * end, so fds that came with it would never be closed. */
	if (n == 0) {
		close_all_fds(&msg);
		if (ret_nfds)
			*ret_nfds = 0;
		return 0;
	}

	/* Collect first, hand out only on success: on failure the caller's
	 * array is left as it was and every fd is closed. */
	int got[SEALSHM_PROTO_FDS_MAX];

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds + k > max_fds || (k > 0 && !ret_nfds)) {
			close_all_fds(&msg);
			return -ECHRNG;
		}
		memcpy(got + nfds, CMSG_DATA(c), k * sizeof(int));
		nfds += k;
	}

	if (nfds > 0)
		memcpy(fds, got, nfds * sizeof(int));
	if (ret_nfds)
		*ret_nfds = nfds;
	return n;
}

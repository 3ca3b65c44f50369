// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdpass.h"
#include "internal.h"
#include "proto.h"
#include "now.h"
#include "raw.h"

int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = HELPER_IO_TIMEOUT_MS / 1000 };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int raw_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	char control[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > 8)
		return -EINVAL;
	memset(control, 0, sizeof(control));
	if (nfds > 0) {
		struct cmsghdr *c;

		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

ssize_t raw_recv(int sock, void *buf, size_t len, int *ret_fd)
{
	int fds[SEALSHM_PROTO_FDS_MAX];
	size_t nfds = 0;
	ssize_t n;

	n = sealshm__recv(sock, buf, len, fds, ELEMENTSOF(fds), &nfds, 0);
	if (n <= 0)
		nfds = 0;
	if (ret_fd)
		*ret_fd = nfds > 0 ? fds[0] : -EBADF;
	for (size_t i = ret_fd ? 1 : 0; i < nfds; i++)
		(void)close(fds[i]);
	return n;
}

ssize_t raw_hello_with(int sock, uint32_t magic, uint32_t version,
		       struct sealshm_msg_hello_reply *reply)
{
	struct sealshm_msg_hello req = {
		.hdr = { .type = SEALSHM_MSG_HELLO, .size = sizeof(req), .seq = 1 },
		.magic = magic,
		.version = version,
	};
	int r;

	memset(reply, 0, sizeof(*reply));
	r = sealshm__send(sock, &req, sizeof(req), NULL, 0, 0);
	if (r < 0)
		return r;
	return raw_recv(sock, reply, sizeof(*reply), NULL);
}

int raw_client(const char *path, struct sealshm_msg_hello_reply *ret_reply)
{
	struct sealshm_msg_hello_reply reply;
	ssize_t n;
	int fd;

	fd = raw_connect(path);
	if (fd < 0)
		return fd;
	n = raw_hello_with(fd, SEALSHM_PROTO_MAGIC, SEALSHM_PROTO_VERSION, &reply);
	if (n != (ssize_t)sizeof(reply) || reply.hdr.status != 0 ||
	    reply.hdr.type != (SEALSHM_MSG_HELLO | SEALSHM_MSG_REPLY) || reply.hdr.seq != 1) {
		close(fd);
		return n < 0 ? (int)n : -EPROTO;
	}
	if (ret_reply)
		*ret_reply = reply;
	return fd;
}

ssize_t raw_call(int sock, const void *req, size_t len, const int *fds, size_t nfds,
		 void *reply, size_t reply_len, int *ret_fd)
{
	int r = raw_send_fds(sock, req, len, fds, nfds);

	if (ret_fd)
		*ret_fd = -EBADF;
	if (r < 0)
		return r;
	return raw_recv(sock, reply, reply_len, ret_fd);
}

bool raw_closed_by_peer(int sock)
{
	for (int i = 0; i < 4; i++) {
		char buf[SEALSHM_PROTO_MSG_MAX];
		ssize_t n = raw_recv(sock, buf, sizeof(buf), NULL);

		if (n == 0 || n == -ECONNRESET || n == -EPIPE)
			return true;
		if (n < 0 && n != -EXFULL && n != -ECHRNG)
			return false;	/* timeout: still open */
	}
	return false;
}

void raw_create_req(struct sealshm_msg_create *req, uint32_t seq, const char *name,
		    uint64_t size, uint32_t mode, uint32_t flags)
{
	memset(req, 0, sizeof(*req));
	req->hdr.type = SEALSHM_MSG_CREATE;
	req->hdr.size = sizeof(*req);
	req->hdr.seq = seq;
	req->size = size;
	req->mode = mode;
	req->flags = flags;
	strncpy(req->name, name, sizeof(req->name) - 1);
}

void raw_name_req(struct sealshm_msg_name *req, uint32_t type, uint32_t seq,
		  const char *name, uint32_t flags)
{
	memset(req, 0, sizeof(*req));
	req->hdr.type = type;
	req->hdr.size = sizeof(*req);
	req->hdr.seq = seq;
	req->flags = flags;
	strncpy(req->name, name, sizeof(req->name) - 1);
}

int raw_session(int sock, struct sealshm_msg_session_reply *ret)
{
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_SESSION, .size = sizeof(req), .seq = 21,
	};
	ssize_t n;

	memset(ret, 0, sizeof(*ret));
	n = raw_call(sock, &req, sizeof(req), NULL, 0, ret, sizeof(*ret), NULL);
	if (n < 0)
		return (int)n;
	if (n < (ssize_t)sizeof(ret->hdr))
		return -EIO;
	if (ret->hdr.status)
		return ret->hdr.status;
	return n == (ssize_t)sizeof(*ret) ? 0 : -EIO;
}

int raw_session_client(const char *path, uint8_t token[SEALSHM_PROTO_TOKEN_SIZE],
		       uint64_t *id)
{
	struct sealshm_msg_session_reply reply;
	int fd = raw_client(path, NULL), r;

	if (fd < 0)
		return fd;
	r = raw_session(fd, &reply);
	if (r < 0) {
		close(fd);
		return r;
	}
	memcpy(token, reply.token, SEALSHM_PROTO_TOKEN_SIZE);
	if (id)
		*id = reply.id;
	return fd;
}

bool malformed_errno(int status)
{
	return status == -EINVAL || status == -EBADMSG || status == -ECHRNG ||
	       status == -EXFULL || status == -EPROTO;
}

int raw_name_call_token(int sock, uint32_t type, const char *name, uint32_t flags,
			const uint8_t *token, void *reply, size_t reply_len, int *ret_fd)
{
	struct sealshm_msg_name req;
	ssize_t n;

	raw_name_req(&req, type, 9, name, flags);
	if (token)
		memcpy(req.token, token, sizeof(req.token));
	n = raw_call(sock, &req, sizeof(req), NULL, 0, reply, reply_len, ret_fd);
	if (n < (ssize_t)sizeof(struct sealshm_msg_hdr))
		return n < 0 ? (int)n : -EIO;
	return ((struct sealshm_msg_hdr *)reply)->status;
}

int raw_name_call(int sock, uint32_t type, const char *name, uint32_t flags, void *reply,
		  size_t reply_len, int *ret_fd)
{
	return raw_name_call_token(sock, type, name, flags, NULL, reply, reply_len, ret_fd);
}

int raw_stat(int sock, const char *name, struct sealshm_wire_info *ret)
{
	struct sealshm_msg_stat_reply st;
	int r = raw_name_call(sock, SEALSHM_MSG_STAT, name, 0, &st, sizeof(st), NULL);

	if (r == 0)
		*ret = st.info;
	return r;
}

bool raw_list_works(int sock)
{
	struct sealshm_msg_list req = {
		.hdr = { .type = SEALSHM_MSG_LIST, .size = sizeof(req), .seq = 77 },
	};
	static char reply[SEALSHM_PROTO_MSG_MAX];
	struct sealshm_msg_list_reply *r = (void *)reply;
	ssize_t n;

	n = raw_call(sock, &req, sizeof(req), NULL, 0, reply, sizeof(reply), NULL);
	return n >= (ssize_t)sizeof(*r) && r->hdr.status == 0 && r->hdr.seq == 77 &&
	       r->hdr.type == (SEALSHM_MSG_LIST | SEALSHM_MSG_REPLY) &&
	       (size_t)n == sizeof(*r) + r->count * sizeof(struct sealshm_wire_info);
}

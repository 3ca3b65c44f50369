/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A raw protocol client: lib/proto.h spoken directly over
 * sealshm__send()/sealshm__recv(), so that a test can send what the library
 * never would (wrong sizes, extra fds, requests out of order) and read the
 * reply as it is.  Every socket has HELPER_IO_TIMEOUT_MS send and receive
 * timeouts: a daemon that never answers fails the test instead of hanging it.
 */
#ifndef SEALSHM_SELFTESTS_LIB_RAW_H
#define SEALSHM_SELFTESTS_LIB_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* A SOCK_SEQPACKET connection to @path, with 5 s send/receive timeouts so a
 * daemon that never answers fails the test instead of hanging it. */
int raw_connect(const char *path);

/* Send @len bytes with any number of fds (sealshm__send caps them at
 * SEALSHM_PROTO_FDS_MAX; attacks need more). */
int raw_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/* Receive one reply (up to @len bytes, its first fd into *@ret_fd, or
 * -EBADF; any other fd is closed).  Returns its length, 0 on EOF, or -errno
 * (-EAGAIN on timeout). */
ssize_t raw_recv(int sock, void *buf, size_t len, int *ret_fd);

/* Send HELLO with @magic/@version and receive the reply into @reply.
 * Returns the reply's length or -errno. */
ssize_t raw_hello_with(int sock, uint32_t magic, uint32_t version,
		       struct sealshm_msg_hello_reply *reply);

/* Connect to @path and complete a good HELLO; returns the socket or -errno
 * (-EPROTO when the reply is not a well-formed success). */
int raw_client(const char *path, struct sealshm_msg_hello_reply *ret_reply);

/* One request (with optional fds) and its reply.  Returns the reply length,
 * 0 on EOF, or -errno. */
ssize_t raw_call(int sock, const void *req, size_t len, const int *fds, size_t nfds,
		 void *reply, size_t reply_len, int *ret_fd);

/* True when the peer has closed @sock: the next receive gives EOF or a
 * reset within the timeout (any reply still queued is skipped). */
bool raw_closed_by_peer(int sock);

/* Build requests. */
void raw_create_req(struct sealshm_msg_create *req, uint32_t seq, const char *name,
		    uint64_t size, uint32_t mode, uint32_t flags);
void raw_name_req(struct sealshm_msg_name *req, uint32_t type, uint32_t seq,
		  const char *name, uint32_t flags);

/* Make @sock (after HELLO) a session: returns the reply's status, the
 * reply in *@ret (a short reply gives -EIO). */
int raw_session(int sock, struct sealshm_msg_session_reply *ret);

/* A new session with the trackerd at @path: returns its socket, its token
 * in @token and id in *@id (may be NULL). */
int raw_session_client(const char *path, uint8_t token[SEALSHM_PROTO_TOKEN_SIZE],
		       uint64_t *id);

/* An errno trackerd may answer malformed input with: -EINVAL, -EBADMSG,
 * -EPROTO, or that of a message cut short, too long (-EXFULL) or with too
 * many fds (-ECHRNG). */
bool malformed_errno(int status);

/* Status of a name request (ATTACH/UNLINK/STAT) on @sock carrying @token
 * (NULL: zero); an fd that comes with it goes to *@ret_fd (or is closed). */
int raw_name_call_token(int sock, uint32_t type, const char *name, uint32_t flags,
			const uint8_t *token, void *reply, size_t reply_len, int *ret_fd);

/* raw_name_call_token() with the zero token. */
int raw_name_call(int sock, uint32_t type, const char *name, uint32_t flags, void *reply,
		  size_t reply_len, int *ret_fd);

/* The raw STAT info of @name on @sock; returns the status. */
int raw_stat(int sock, const char *name, struct sealshm_wire_info *ret);

/* A LIST round trip works on @sock (the connection is alive and in sync). */
bool raw_list_works(int sock);

#endif /* SEALSHM_SELFTESTS_LIB_RAW_H */

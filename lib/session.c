// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One tracking session's mechanics: SESSION on a fresh connection, the
 * one-way TRACKs of fast attaches, and $SEALSHM_SESSION, which hands a
 * session to an exec'd program.
 *
 * Fork: a session is inherited on purpose (lib/peer.c keeps it in the
 * child).  The child holds the same socket, so the family's names live as
 * long as any member does, and since nobody reads the socket and the only
 * thing written to it are whole one-way messages, no two processes can mix
 * anything up on it.  exec: the socket is close-on-exec, so an exec'd
 * program opens its own session, unless it was handed one in
 * $SEALSHM_SESSION.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "conn.h"
#include "fdpass.h"
#include "internal.h"
#include "session.h"
#include "testhook.h"

/* TRACKs a session remembers having sent, direct-mapped by slot: a
 * collision only costs a TRACK sent again (trackerd links a name to a
 * session once, however often it is told). */
#define TRACKED_CACHE		64

struct tracked {
	uint64_t epoch;		/* 0: empty */
	uint64_t ino;
	uint32_t slot;
	uint32_t generation;
};

struct sealshm__session {
	int fd;
	/* trackerd accepted the token: ours, or an adopted one that a tracked
	 * round trip has carried (see sealshm__session_track()). */
	bool confirmed;
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	struct tracked tracked[TRACKED_CACHE];
};

/* $SEALSHM_SESSION as found when the library was loaded (see
 * adopt_candidate_init()); fd is -EBADF once adopted or when there is none.
 * Read-only after load but for that one take, which lib/peer.c's lock
 * covers. */
static struct {
	int fd;
	dev_t dev;
	ino_t ino;
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
} adopt = { .fd = -EBADF };

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;		/* upper case is not what we write: refused */
}

/* "FD:TOKENHEX", exactly as sealshm_session_export() writes it: FD in
 * decimal without sign or leading zero, >= 3, then 32 lower-case hex digits
 * and nothing after them. */
static int parse_env(const char *s, int *ret_fd, uint8_t ret_token[SEALSHM_PROTO_TOKEN_SIZE])
{
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	long fd = 0;

	if (*s < '1' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		fd = fd * 10 + (*s - '0');
		if (fd > INT_MAX)
			return -EINVAL;
	}
	if (*s++ != ':' || fd < 3)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(token); i++) {
		int hi = unhex(s[2 * i]), lo;

		if (hi < 0)
			return -EINVAL;
		lo = unhex(s[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		token[i] = (uint8_t)(hi << 4 | lo);
	}
	if (s[2 * sizeof(token)] != '\0')
		return -EINVAL;

	*ret_fd = (int)fd;
	memcpy(ret_token, token, sizeof(token));
	return 0;
}

/* "FD:TOKENHEX" into @val; returns its length. */
static int env_format(char val[SEALSHM_SESSION_ENV_MAX], int fd,
		      const uint8_t token[SEALSHM_PROTO_TOKEN_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	int n;

	n = snprintf(val, SEALSHM_SESSION_ENV_MAX, "%d:", fd);
	assert(n > 0 && n + 2 * SEALSHM_PROTO_TOKEN_SIZE < SEALSHM_SESSION_ENV_MAX);
	for (size_t i = 0; i < SEALSHM_PROTO_TOKEN_SIZE; i++) {
		val[n++] = hex[token[i] >> 4];
		val[n++] = hex[token[i] & 0xf];
	}
	val[n] = '\0';
	return n;
}

/*
 * Read $SEALSHM_SESSION when the library is loaded, before this process
 * has opened any socket of ours.  Checking only at the first tracked call
 * would be too late: the variable outlives the fd it names (an exec'd
 * program passes it on to its own children, whose copy of the fd closes on
 * exec), and by then the number may belong to our own request connection -
 * also a SOCK_SEQPACKET socket connected to the same path.  So remember
 * which socket the number named at load time (device and inode) and adopt
 * later only that very socket.  secure_getenv(): a set-uid program is not
 * joined to the invoking user's session.
 */
__attribute__((constructor)) static void adopt_candidate_init(void)
{
	const char *e = secure_getenv(SEALSHM_SESSION_ENV);
	struct stat st;
	int fd;

	if (!e || parse_env(e, &fd, adopt.token) < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	adopt.dev = st.st_dev;
	adopt.ino = st.st_ino;
	adopt.fd = fd;
}

/* Is @fd still the socket seen at load time, a SOCK_SEQPACKET connection
 * to trackerd's socket at @path? */
static bool adopt_matches(int fd, const char *path)
{
	struct sockaddr_un sa = {};
	socklen_t sa_len = sizeof(sa);
	int type = -1;
	socklen_t type_len = sizeof(type);
	size_t off = offsetof(struct sockaddr_un, sun_path);
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_dev != adopt.dev || st.st_ino != adopt.ino)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0 || type != SOCK_SEQPACKET)
		return false;
	/* The listener's path as it bound it; sun_path need not carry a NUL
	 * when the path fills it (unix(7)). */
	if (getpeername(fd, (struct sockaddr *)&sa, &sa_len) < 0 ||
	    sa.sun_family != AF_UNIX || sa_len <= off || sa_len > sizeof(sa))
		return false;
	return strnlen(sa.sun_path, sa_len - off) == strlen(path) &&
	       memcmp(sa.sun_path, path, strlen(path)) == 0;
}

int sealshm__session_adopt(const char *path, struct sealshm__session **ret)
{
	struct sealshm__session *s;
	int flags;

	if (adopt.fd < 0 || !adopt_matches(adopt.fd, path))
		return 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* The parent had to clear FD_CLOEXEC for us to inherit it; set it
	 * again, or our own exec'd children would hold the session too. */
	flags = fcntl(adopt.fd, F_GETFD);
	if (flags < 0 || fcntl(adopt.fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
		free(s);
		return -errno;
	}
	s->fd = TAKE_FD(adopt.fd);
	memcpy(s->token, adopt.token, sizeof(s->token));
	*ret = s;
	return 1;
}

int sealshm__session_open(int sock, uint32_t *seq, struct sealshm__session **ret)
{
	static const uint8_t zero[SEALSHM_PROTO_TOKEN_SIZE];
	_cleanup_close_ int fd = sock;
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_SESSION,
		.size = sizeof(req),
		.seq = ++*seq,
	};
	struct sealshm_msg_session_reply rep;
	struct sealshm__session *s;
	ssize_t n;

	n = sealshm__roundtrip(fd, &req, NULL, 0, &rep, sizeof(rep), NULL, NULL);
	if (n < 0)
		return (int)n;
	/* A zero token is what untracked requests carry: never a session's. */
	if ((size_t)n != sizeof(rep) || memcmp(rep.token, zero, sizeof(zero)) == 0)
		return -EBADMSG;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* From here on nobody of ours reads the socket, and only TRACK is
	 * written to it: anything else would end the session. */
	s->fd = TAKE_FD(fd);
	s->confirmed = true;
	memcpy(s->token, rep.token, sizeof(s->token));
	*ret = s;
	return 0;
}

struct sealshm__session *sealshm__session_free(struct sealshm__session *s)
{
	if (s) {
		safe_close(s->fd);
		free(s);
	}
	return NULL;
}

const uint8_t *sealshm__session_token(const struct sealshm__session *s)
{
	return s->token;
}

void sealshm__session_confirm(struct sealshm__session *s)
{
	s->confirmed = true;
}

int sealshm__session_track(struct sealshm__session *s, uint64_t epoch, uint32_t slot,
			   uint32_t generation, uint64_t ino)
{
	struct sealshm_msg_track msg = {
		.hdr = {
			.type = SEALSHM_MSG_TRACK,
			.size = sizeof(msg),
		},
		.slot = slot,
		.generation = generation,
		.ino = ino,
	};
	struct tracked *t = &s->tracked[slot % TRACKED_CACHE];
	int r;

	/*
	 * Sent before on this session for this very registration (slot and
	 * generation in this trackerd's index, same inode): the link holds
	 * until the name is unlinked - which frees the slot, so a later name
	 * there has another generation - or the session ends, and then this
	 * struct goes with it.  Attaching a name over and over costs one
	 * TRACK, not one message and one wakeup of trackerd each time.
	 */
	if (t->epoch == epoch && t->slot == slot && t->generation == generation && t->ino == ino)
		return 0;
	sealshm__test_pause(SEALSHM__PAUSE_BEFORE_TRACK);
	/* TRACK joins whatever session the socket is, token or not.  A handed
	 * session whose token trackerd does not know must instead be replaced
	 * by one of our own (-ESTALE): only a round trip, which carries the
	 * token, can tell.  So the first tracked attach after an adoption
	 * takes it, and confirms the token. */
	if (!s->confirmed)
		return -EAGAIN;
	/*
	 * One-way: no reply comes, so nothing can get out of step, and other
	 * members of the family may send on the same socket at the same time
	 * (SOCK_SEQPACKET keeps each message whole).  trackerd reads it before
	 * it sees the session end: a process that exits right after a fast
	 * attach is still counted by the first-exit rule.  MSG_DONTWAIT: a
	 * trackerd too busy to drain the socket must not block an attach; the
	 * caller then takes the round trip, which tracks in its request.
	 */
	r = sealshm__send(s->fd, &msg, sizeof(msg), NULL, 0, MSG_DONTWAIT);
	if (r < 0)
		return r;
	*t = (struct tracked){
		.epoch = epoch,
		.ino = ino,
		.slot = slot,
		.generation = generation,
	};
	return 1;
}

int sealshm__session_export(const struct sealshm__session *s,
			    char val[SEALSHM_SESSION_ENV_MAX])
{
	/* Min 3: the program must not find its session on stdio, where
	 * whatever sets up its stdin/out/err would replace it. */
	int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return -errno;
	(void)env_format(val, fd, s->token);
	return fd;
}

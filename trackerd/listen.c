// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lock, bind, listen and accept on trackerd's AF_UNIX SOCK_SEQPACKET socket.
 * Runs before the loop: the short waits in lock_take() are allowed here.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "internal.h"
#include "listen.h"
#include "log.h"

/* sd_listen_fds(3): passed fds start at 3. */
#define LISTEN_FDS_START 3

/* How long a new trackerd waits for a lock holder that does not answer. */
#define LOCK_WAIT_STEP_MS	10
#define LOCK_WAIT_STEPS		200

struct listener {
	char *path;
	char *lock_path;
	int lock_fd;
	int fd;
	bool activated;		/* socket from systemd: not ours to unlink */
	bool unlinked;		/* listener_unlink() removed the socket file */
	char *own_dir;		/* listener_own_dir(): removed at listener_free() */
};

static int sockaddr_fill(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

/* 0 when something listens at @path (a full backlog counts). */
static int probe(const char *path)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_un sa;
	int r;

	r = sockaddr_fill(&sa, path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

/*
 * Take PATH.lock. When it is held and nobody answers on @path, the holder
 * is either about to bind (then it will serve) or exiting after unlinking
 * its socket (an --idle-exit racing with a client's autostart: then the
 * lock is ours in a moment). Wait up to two seconds for one or the other,
 * rather than exit claiming a server that is going away.
 */
static int lock_take(const char *lock_path, const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;

	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;

	for (int i = 0;; i++) {
		struct timespec ts = { .tv_nsec = LOCK_WAIT_STEP_MS * 1000000L };

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (probe(path) == 0)
			return -EALREADY;
		if (i >= LOCK_WAIT_STEPS)
			return -EBUSY;
		(void)nanosleep(&ts, NULL);
	}

	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int bind_listen(const char *path, mode_t mode, gid_t gid, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_umask;
	int r;

	r = sockaddr_fill(&sa, path);
	if (r < 0)
		return r;

	/* We hold the lock: a socket there is a dead trackerd's, unless one
	 * that systemd started answers on it (socket activation takes no
	 * lock: the service manager keeps it to one instance).  Anything
	 * else at the path is a mistake we must not delete. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (probe(path) == 0)
			return -EALREADY;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;

	/*
	 * Socket mode (--socket-mode, default 0666): who may connect is
	 * decided by it and the directory (0700 for a per-user instance);
	 * what a client may do, by each name's mode bits. bind() applies the
	 * umask. Hazard: with --socket-group the group changes after bind(),
	 * so the socket is born 0600 (nobody but us and root can connect
	 * while it has the wrong group) and gets its mode only once its
	 * group is right. Without a group the mode goes through the umask
	 * directly, as before, with no chmod() window at all.
	 */
	old_umask = umask(gid == (gid_t)-1 ? ~mode & 0777 : 0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	(void)umask(old_umask);
	if (r < 0)
		return -errno;
	if (gid != (gid_t)-1) {
		/* Neither call follows a symlink swapped in at @path by
		 * someone who can write the directory (glibc does the
		 * chmod through an O_PATH fd). */
		if (fchownat(AT_FDCWD, path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			(void)unlink(path);
			return r;
		}
	}

	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		(void)unlink(path);
		return r;
	}

	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int sockopt_int(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) < 0)
		return -errno;
	return v;
}

/* sd_listen_fds(3) without libsystemd. Returns 1 and the fd when systemd
 * passed us one, 0 when it passed nothing. */
static int listen_fds_take(int *ret_fd)
{
	const char *e_pid = getenv("LISTEN_PID");
	const char *e_fds = getenv("LISTEN_FDS");
	int fd = LISTEN_FDS_START;
	char *end;
	long v;

	if (!e_pid || !e_fds)
		return 0;
	errno = 0;
	v = strtol(e_pid, &end, 10);
	if (errno || *end || v != getpid())
		return 0;	/* meant for another process */

	v = strtol(e_fds, &end, 10);
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	if (*end || v != 1)
		return -EINVAL;

	/* Passed fds are inherited without close-on-exec. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	if (sockopt_int(fd, SO_DOMAIN) != AF_UNIX || sockopt_int(fd, SO_TYPE) != SOCK_SEQPACKET ||
	    sockopt_int(fd, SO_ACCEPTCONN) != 1)
		return -EINVAL;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;

	*ret_fd = fd;
	return 1;
}

/* -ENOTSOCK when @path exists and is no socket; 0 when it is one or is
 * not there. */
static int not_a_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return S_ISSOCK(st.st_mode) ? 0 : -ENOTSOCK;
}

int listener_open(const char *path, mode_t mode, gid_t gid, struct listener **ret)
{
	struct listener *l;
	int r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->lock_fd = l->fd = -EBADF;

	l->path = strdup(path);
	if (!l->path) {
		r = -ENOMEM;
		goto fail;
	}

	r = listen_fds_take(&l->fd);
	if (r < 0)
		goto fail;
	if (r > 0) {
		struct sockaddr_un sa = {};
		socklen_t len = sizeof(sa);

		/* For the logs: the path systemd bound, not ours. */
		if (getsockname(l->fd, (struct sockaddr *)&sa, &len) == 0 &&
		    len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0]) {
			free(l->path);
			l->path = strndup(sa.sun_path, sizeof(sa.sun_path));
			if (!l->path) {
				r = -ENOMEM;
				goto fail;
			}
		}
		l->activated = true;
		*ret = l;
		return 0;
	}

	/* A path that is something else than a socket (a file, a directory,
	 * a FIFO, /dev/null) is a mistake: refuse it before PATH.lock is made
	 * beside it, and never replace it. */
	r = not_a_socket(path);
	if (r < 0)
		goto fail;
	if (asprintf(&l->lock_path, "%s.lock", path) < 0) {
		l->lock_path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = lock_take(l->lock_path, path, &l->lock_fd);
	if (r < 0)
		goto fail;
	r = bind_listen(path, mode, gid, &l->fd);
	if (r < 0)
		goto fail;

	*ret = l;
	return 0;
fail:
	listener_free(l, false);
	return r;
}

int listener_chown(struct listener *l, uid_t uid, gid_t gid)
{
	/* The lock through its fd (no path race). */
	if (l->lock_fd >= 0 && fchown(l->lock_fd, uid, (gid_t)-1) < 0)
		return -errno;
	if (!l->activated && fchownat(AT_FDCWD, l->path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

int listener_claim(struct listener *l)
{
	/* unix_listen() refreshes the socket's peer credentials each time it
	 * is called on a listening socket (net/unix/af_unix.c). */
	if (listen(l->fd, SOMAXCONN) < 0)
		return -errno;
	return 0;
}

int listener_accept(struct listener *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0)
			return fd;
		/* A connection that died in the backlog: take the next one. */
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EWOULDBLOCK)
			return -EAGAIN;
		return -errno;
	}
}

int listener_fd(const struct listener *l)
{
	return l->fd;
}

const char *listener_path(const struct listener *l)
{
	return l->path;
}

bool listener_activated(const struct listener *l)
{
	return l->activated;
}

void listener_unlink(struct listener *l)
{
	if (l->unlinked || l->fd < 0 || l->activated || l->lock_fd < 0)
		return;
	if (unlink(l->path) < 0 && errno != ENOENT)
		log_warn("Failed to remove socket '%s': %s", l->path, strerror(errno));
	l->unlinked = true;
}

int listener_own_dir(struct listener *l)
{
	const char *slash = strrchr(l->path, '/');

	/* A path without a directory part is in the working directory,
	 * which is nobody's to remove. */
	if (l->activated || !slash || slash == l->path)
		return -EINVAL;
	l->own_dir = strndup(l->path, (size_t)(slash - l->path));
	return l->own_dir ? 0 : -ENOMEM;
}

struct listener *listener_free(struct listener *l, bool unlink_socket)
{
	if (!l)
		return NULL;
	if (unlink_socket)
		listener_unlink(l);
	safe_close(l->fd);
	/*
	 * The lock file stays: removing it would let two instances lock two
	 * different files of the same name. Unless the directory is ours
	 * alone (a manager's): nobody else looks for a lock there, and the
	 * directory goes too. Removed while still held, so the removal
	 * cannot hit a successor's lock. The library removes the directory
	 * as well: ENOENT and ENOTEMPTY (some file of someone else's) are
	 * not ours to report.
	 */
	if (unlink_socket && l->own_dir && l->unlinked) {
		if (unlink(l->lock_path) < 0 && errno != ENOENT)
			log_warn("Failed to remove lock file '%s': %s", l->lock_path,
				 strerror(errno));
		if (rmdir(l->own_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY &&
		    errno != EEXIST)
			log_warn("Failed to remove directory '%s': %s", l->own_dir,
				 strerror(errno));
	}
	safe_close(l->lock_fd);
	free(l->own_dir);
	free(l->lock_path);
	free(l->path);
	free(l);
	return NULL;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SharedMemoryManager: a private trackerd whose lifetime bounds its names.
 *
 * sealshm_manager_start() makes a 0700 directory, spawns
 *   trackerd --manager --socket DIR/manager.sock --owner-pidfd 3 [--auth-fd 4]
 * as a child of the caller, with a pidfd of the caller itself on fd 3 (the
 * manager exits, names and all, the moment it polls readable: the owner has
 * died, however) and the auth key on a pipe at fd 4 (never on the command
 * line, which anyone may read in /proc).  Everything else is plain sealshm:
 * names are created and attached untracked through the manager's socket,
 * by the usual calls with sealshm_opts.socket set to the manager's address.
 *
 * Auth keys are remembered per socket path for as long as a handle for that
 * path is open in this process (and inherited by fork, as handles are):
 * lib/peer.c presents the key (AUTH) right after HELLO on every connection
 * to the path, so the plain calls reach a keyed manager too.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "clock.h"
#include "conn.h"
#include "internal.h"
#include "launch.h"
#include "locate.h"
#include "peer.h"
#include "pidfd.h"

/* How long start waits for the manager to answer, and shutdown for it to
 * exit before it is killed. */
#define MANAGER_TIMEOUT_MS	5000
#define MANAGER_DELAY_MIN_NS	(1 * NSEC_PER_MSEC)
#define MANAGER_DELAY_MAX_NS	(50 * NSEC_PER_MSEC)
#define MANAGER_SOCKET_NAME	"manager.sock"

struct sealshm_manager {
	pid_t pid;		/* the process this handle belongs to (fork copies differ) */
	pid_t child;		/* owner handle: the manager process, our child; else 0 */
	int child_pidfd;	/* owner handle: pidfd of the child; -EBADF without pidfds */
	int owner_pipe;		/* without pidfds: the write end the manager watches */
	int sock;		/* this handle's connection, greeted and authenticated */
	uint32_t seq;
	pid_t server_pid;	/* the manager's pid, as its socket says */
	char dir[PATH_MAX];	/* owner handle: the directory made for it; else "" */
	char address[SEALSHM__SUN_PATH_SIZE];
};

static int opts_key(const struct sealshm_manager_opts *opts, const void **ret_key,
		    size_t *ret_len)
{
	const void *key = OPTS_GET(opts, authkey, NULL);
	size_t len = OPTS_GET(opts, authkey_len, 0);

	if (key ? len == 0 || len > SEALSHM_MANAGER_KEY_MAX : len != 0)
		return -EINVAL;
	*ret_key = key;
	*ret_len = len;
	return 0;
}

static void handle_free(struct sealshm_manager *m)
{
	safe_close(m->sock);
	safe_close(m->child_pidfd);
	safe_close(m->owner_pipe);
	sealshm__peer_key_unref(m->address);
	free(m);
}

/* connect, HELLO and AUTH (the key is remembered for the address): the
 * handle's own connection, which shutdown goes on. */
static int handle_connect(struct sealshm_manager *m)
{
	_cleanup_close_ int fd = -EBADF;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	fd = sealshm__peer_connect(m->address, &m->seq);
	if (fd < 0)
		return fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	m->sock = TAKE_FD(fd);
	m->server_pid = cred.pid;
	return 0;
}

/* "$XDG_RUNTIME_DIR/sealshm-mgr-XXXXXX" (0700, by mkdtemp), or under /tmp. */
static int make_dir(char dir[PATH_MAX])
{
	const char *base = secure_getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int r;

	if (!base || base[0] != '/' || stat(base, &st) < 0 || !S_ISDIR(st.st_mode))
		base = "/tmp";
	r = snprintf(dir, PATH_MAX, "%s/sealshm-mgr-XXXXXX", base);
	if (r < 0 || r >= PATH_MAX)
		return -ENAMETOOLONG;
	if (!mkdtemp(dir))
		return -errno;
	return 0;
}

/* What the manager leaves in its directory if it could not remove it
 * (killed): its socket and lock file. */
static void dir_remove(const struct sealshm_manager *m)
{
	char lock[sizeof(m->address) + sizeof(".lock")];

	if (!m->dir[0])
		return;
	(void)snprintf(lock, sizeof(lock), "%s.lock", m->address);
	(void)unlink(m->address);
	(void)unlink(lock);
	(void)rmdir(m->dir);
}

/* The caller's environment without what belongs to the caller alone: a
 * service's NOTIFY_SOCKET (the manager, in the foreground, would report
 * readiness in its name) and its socket activation.  malloc()ed array of
 * pointers into environ. */
static char **manager_environ(void)
{
	static const char *const drop[] = { "NOTIFY_SOCKET=", "LISTEN_FDS=", "LISTEN_PID=",
					     "LISTEN_FDNAMES=" };
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool keep = true;

		for (size_t j = 0; j < ELEMENTSOF(drop); j++)
			if (strncmp(environ[i], drop[j], strlen(drop[j])) == 0)
				keep = false;
		if (keep)
			env[k++] = environ[i];
	}
	return env;
}

static int spawn_manager(const char *bin, struct sealshm_manager *m, int pidfd, int key_fd)
{
	_cleanup_free_ char **env = manager_environ();
	char pidfd_arg[] = "3", auth_arg[] = "4";
	const int fds[] = { pidfd, key_fd };
	char *const argv[] = {
		(char *)"trackerd", (char *)"--manager",
		(char *)"--socket", m->address,
		(char *)"--owner-pidfd", pidfd_arg,
		key_fd >= 0 ? (char *)"--auth-fd" : NULL, auth_arg,
		NULL,
	};

	if (!env)
		return -ENOMEM;
	/* The manager stays in the caller's session and process group, as
	 * CPython's does, and ignores SIGINT itself; stderr stays the
	 * caller's: what goes wrong is said there. */
	return sealshm__spawn(&(struct sealshm__spawn){
		.bin = bin,
		.argv = argv,
		.envp = env,
		.fds = fds,
		.nfds = key_fd >= 0 ? 2 : 1,
		.keep_stderr = true,
	}, &m->child);
}

/* A pipe whose read end, at or above fd 10, holds @key and EOF. */
static int key_pipe(const void *key, size_t len)
{
	int p[2], fd;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* Far below PIPE_BUF: written whole, never blocks. */
	if (write(p[1], key, len) != (ssize_t)len) {
		int r = errno ? -errno : -EIO;

		safe_close(p[0]);
		safe_close(p[1]);
		return r;
	}
	safe_close(p[1]);
	fd = fcntl(p[0], F_DUPFD_CLOEXEC, 10);
	safe_close(p[0]);
	return fd < 0 ? -errno : fd;
}

/* Wait up to @ms for the manager process to exit.  1: it has (without
 * pidfds it is reaped here, and m->child is 0 then). */
static int child_wait(struct sealshm_manager *m, int ms)
{
	int64_t end = sealshm__now_ns(CLOCK_MONOTONIC) + ms * NSEC_PER_MSEC;
	int status;

	if (m->child <= 0)
		return 1;
	if (m->child_pidfd >= 0)
		return sealshm__pidfd_wait(m->child_pidfd, ms);
	for (;;) {
		pid_t p = waitpid(m->child, &status, WNOHANG);

		if (p == m->child || (p < 0 && errno == ECHILD)) {
			m->child = 0;
			return 1;
		}
		if (sealshm__now_ns(CLOCK_MONOTONIC) >= end)
			return 0;
		sealshm__sleep_ns(2 * NSEC_PER_MSEC);
	}
}

/* Connect to the child, retrying while it starts; -ECHILD if it dies. */
static int wait_answer(struct sealshm_manager *m)
{
	int64_t end = sealshm__now_ns(CLOCK_MONOTONIC) + MANAGER_TIMEOUT_MS * NSEC_PER_MSEC;
	int64_t delay = MANAGER_DELAY_MIN_NS;

	for (;;) {
		int r = handle_connect(m);

		if (r >= 0)
			return 0;
		if (r != -ENOENT && r != -ECONNREFUSED && !sealshm__is_disconnect(r))
			return r;
		if (child_wait(m, 0) > 0)
			return -ECHILD;
		if (sealshm__now_ns(CLOCK_MONOTONIC) >= end)
			return -ETIMEDOUT;
		sealshm__sleep_ns(delay);
		delay = delay * 2 > MANAGER_DELAY_MAX_NS ? MANAGER_DELAY_MAX_NS : delay * 2;
	}
}

/* The child is gone or must go: kill it if needed, reap it. */
static void child_reap(struct sealshm_manager *m, bool kill_it)
{
	int status;

	if (m->child <= 0)
		return;
	if (kill_it || child_wait(m, MANAGER_TIMEOUT_MS) <= 0) {
		(void)kill(m->child, SIGKILL);
		(void)child_wait(m, MANAGER_TIMEOUT_MS);
	}
	if (m->child <= 0)
		return;
	/* ECHILD: the caller ignores SIGCHLD or reaped it with waitpid(-1). */
	while (waitpid(m->child, &status, 0) < 0 && errno == EINTR)
		;
	m->child = 0;
}

static struct sealshm_manager *handle_new(void)
{
	struct sealshm_manager *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->pid = getpid();
	m->sock = -EBADF;
	m->child_pidfd = -EBADF;
	m->owner_pipe = -EBADF;
	return m;
}

int sealshm_manager_start(const struct sealshm_manager_opts *opts, struct sealshm_manager **ret)
{
	_cleanup_close_ int self_pidfd = -EBADF, key_fd = -EBADF;
	struct sealshm_manager *m;
	const char *bin;
	const void *key;
	size_t key_len;
	int r;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_manager_opts), -EINVAL);
	sealshm__return_if_fail(ret, -EINVAL);
	sealshm__return_if_fail(opts_key(opts, &key, &key_len) == 0, -EINVAL);

	bin = OPTS_GET(opts, trackerd, NULL);
	if (!bin || !*bin)
		bin = sealshm_trackerd_path();
	/* Missing or not executable: an errno no name lookup gives. */
	if (access(bin, X_OK) < 0)
		return sealshm__err(-ENOPKG);

	m = handle_new();
	if (!m)
		return sealshm__err(-ENOMEM);
	r = make_dir(m->dir);
	if (r < 0) {
		free(m);
		return sealshm__err(r);
	}
	if (strlen(m->dir) + sizeof("/" MANAGER_SOCKET_NAME) > sizeof(m->address)) {
		(void)rmdir(m->dir);
		free(m);
		return sealshm__err(-ENAMETOOLONG);
	}
	(void)snprintf(m->address, sizeof(m->address), "%s/%s", m->dir, MANAGER_SOCKET_NAME);

	r = sealshm__peer_key_ref(m->address, key, key_len);
	if (r < 0) {
		(void)rmdir(m->dir);
		free(m);
		return sealshm__err(r);
	}

	/* A pidfd of this process: it polls readable when we exit, however.
	 * Above fd 10, so that placing it and the key at 3 and 4 in the
	 * child cannot overwrite one with the other. */
	r = sealshm__pidfd_open(getpid());
	if (r < 0) {
		/* No pidfds (Linux < 5.3, or valgrind): a pipe whose write
		 * end stays here, close-on-exec.  The manager then sees the
		 * end only once forked children holding it have exited too. */
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			r = -errno;
		else {
			m->owner_pipe = p[1];
			r = p[0];
		}
	}
	if (r >= 0) {
		self_pidfd = fcntl(r, F_DUPFD_CLOEXEC, 10);
		safe_close(r);
		r = self_pidfd < 0 ? -errno : 0;
	}
	if (r >= 0 && key) {
		key_fd = key_pipe(key, key_len);
		r = key_fd < 0 ? key_fd : 0;
	}
	if (r >= 0)
		r = spawn_manager(bin, m, self_pidfd, key_fd);
	if (r >= 0) {
		/* Our unreaped child: its pid cannot be reused meanwhile.
		 * Without pidfds child_wait() polls waitpid() instead. */
		m->child_pidfd = sealshm__pidfd_open(m->child);
		if (m->child_pidfd < 0)
			m->child_pidfd = -EBADF;
	}
	if (r >= 0)
		r = wait_answer(m);
	if (r < 0) {
		child_reap(m, true);
		dir_remove(m);
		handle_free(m);
		return sealshm__err(r);
	}
	*ret = m;
	return 0;
}

int sealshm_manager_connect(const char *address, const struct sealshm_manager_opts *opts,
			    struct sealshm_manager **ret)
{
	struct sealshm_manager *m;
	const void *key;
	size_t key_len;
	int r;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_manager_opts), -EINVAL);
	sealshm__return_if_fail(address && *address && ret, -EINVAL);
	sealshm__return_if_fail(strlen(address) < SEALSHM__SUN_PATH_SIZE, -EINVAL);
	sealshm__return_if_fail(opts_key(opts, &key, &key_len) == 0, -EINVAL);

	m = handle_new();
	if (!m)
		return sealshm__err(-ENOMEM);
	strcpy(m->address, address);

	r = sealshm__peer_key_ref(m->address, key, key_len);
	if (r == 0) {
		r = handle_connect(m);
		if (r < 0)
			sealshm__peer_key_unref(m->address);
	}
	if (r < 0) {
		free(m);
		return sealshm__err(r);
	}
	*ret = m;
	return 0;
}

const char *sealshm_manager_address(const struct sealshm_manager *mgr)
{
	return mgr ? mgr->address : NULL;
}

pid_t sealshm_manager_pid(const struct sealshm_manager *mgr)
{
	return mgr ? mgr->server_pid : 0;
}

/* The manager is gone: its socket refuses or has vanished. */
static int gone_is_enoent(int r)
{
	return r < 0 && (r == -ECONNREFUSED || sealshm__is_disconnect(r)) ? -ENOENT : r;
}

#define MANAGER_OPTS(o, mgr, fl) \
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK | SEALSHM_NO_AUTOSTART | (fl), \
		     .socket = (mgr)->address)

int sealshm_manager_create(struct sealshm_manager *mgr, size_t size, struct sealshm **ret)
{
	sealshm__return_if_fail(mgr, -EINVAL);
	MANAGER_OPTS(o, mgr, 0);

	return sealshm__err(gone_is_enoent(sealshm_create(NULL, size, &o, ret)));
}

int sealshm_manager_slist_create(struct sealshm_manager *mgr, const struct sealshm_item *items,
				size_t n, struct sealshm_slist **ret)
{
	sealshm__return_if_fail(mgr, -EINVAL);
	MANAGER_OPTS(o, mgr, 0);

	return sealshm__err(gone_is_enoent(sealshm_slist_create(NULL, items, n, &o, ret)));
}

/* The flags @opts may set for an attach through a manager: the socket is
 * the manager's, and its names are never tracked. */
static bool attach_opts_valid(const struct sealshm_opts *opts)
{
	return OPTS_VALID(opts, sealshm_opts) && !(OPTS_GET(opts, flags, 0) & ~SEALSHM_RDONLY) &&
	       !OPTS_GET(opts, mode, 0) && !OPTS_GET(opts, socket, NULL);
}

int sealshm_manager_attach(struct sealshm_manager *mgr, const char *name,
			   const struct sealshm_opts *opts, struct sealshm **ret)
{
	sealshm__return_if_fail(mgr && attach_opts_valid(opts), -EINVAL);
	MANAGER_OPTS(o, mgr, OPTS_GET(opts, flags, 0));

	return sealshm__err(gone_is_enoent(sealshm_attach(name, &o, ret)));
}

int sealshm_manager_slist_attach(struct sealshm_manager *mgr, const char *name,
				 const struct sealshm_opts *opts, struct sealshm_slist **ret)
{
	sealshm__return_if_fail(mgr && attach_opts_valid(opts), -EINVAL);
	MANAGER_OPTS(o, mgr, OPTS_GET(opts, flags, 0));

	return sealshm__err(gone_is_enoent(sealshm_slist_attach(name, &o, ret)));
}

/* Ask the manager to unlink everything and exit.  0 also when it is gone
 * already. */
static int send_shutdown(struct sealshm_manager *m)
{
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_SHUTDOWN,
		.size = sizeof(req),
		.seq = ++m->seq,
	};
	struct sealshm_msg_hdr rep;
	ssize_t n;

	n = sealshm__roundtrip(m->sock, &req, NULL, 0, &rep, sizeof(rep), NULL, NULL);
	if (n < 0)
		return sealshm__is_disconnect(n) ? 0 : (int)n;
	return (size_t)n == sizeof(rep) ? 0 : -EBADMSG;
}

/* A connected handle: the manager closes every connection as it exits. */
static void wait_eof(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN | POLLRDHUP };
	int64_t end = sealshm__now_ns(CLOCK_MONOTONIC) + MANAGER_TIMEOUT_MS * NSEC_PER_MSEC;
	char c;

	for (;;) {
		int64_t left = end - sealshm__now_ns(CLOCK_MONOTONIC);
		int r = poll(&p, 1, left > 0 ? (int)(left / NSEC_PER_MSEC) + 1 : 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		if (recv(sock, &c, 1, MSG_DONTWAIT) <= 0)
			return;	/* EOF (or reset): gone; stray data: keep waiting */
	}
}

int sealshm_manager_shutdown(struct sealshm_manager *mgr)
{
	int r;

	if (!mgr)
		return 0;
	/* A copy inherited by fork(): the manager is its parent's to stop. */
	if (mgr->pid != getpid())
		return sealshm_manager_close(mgr);

	r = send_shutdown(mgr);
	if (r < 0)
		return sealshm__err(r);	/* refused (-EPERM): nothing changed */
	if (mgr->child > 0)
		child_reap(mgr, false);
	else
		wait_eof(mgr->sock);
	dir_remove(mgr);
	handle_free(mgr);
	return 0;
}

int sealshm_manager_close(struct sealshm_manager *mgr)
{
	if (!mgr)
		return 0;
	/* The owner's manager lives on until shut down from elsewhere or we
	 * exit; if it exits first it stays our zombie until then (it is our
	 * child: reaping it here would wait for it). */
	handle_free(mgr);
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the selftests: a real trackerd on a private temp-dir
 * socket, fd counting through /proc, the daemon's log, the exec'd peer
 * helper and other programs run to their end (helper_run()), forked
 * children (run_child()), a raw protocol client (proto.h over
 * sealshm__send/recv), and a scan of /proc for trackerd processes serving
 * a socket path.
 *
 * Everything here returns 0/positive or a negative errno and never uses the
 * harness macros, so it may also be called from forked children (which must
 * leave with _exit(), never through the harness).
 */
#ifndef SEALSHM_SELFTESTS_HELPERS_H
#define SEALSHM_SELFTESTS_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "internal.h"
#include "proto.h"
#include "sealshm.h"

/* fds this program inherited (a make jobserver pipe, a shell's fd 10) are
 * not the library's: mark them close-on-exec at startup so that checks of
 * "no fd survives exec" and "every fd is CLOEXEC" see only ours. */
__attribute__((constructor)) static void helper_cloexec_inherited(void)
{
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
}

/* --- time ---------------------------------------------------------------- */
static inline uint64_t helper_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void helper_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- paths of the programs under test ------------------------------------ */
/* $VAR if set, else @rel resolved against the directory of this test binary
 * (build/selftests/X_test → build/selftests/peer, build/trackerd/trackerd). */
static inline int helper_prog_path(const char *var, const char *rel, char *buf, size_t len)
{
	const char *e = getenv(var);
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (e && *e) {
		if ((size_t)snprintf(buf, len, "%s", e) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/%s", exe, rel) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static inline int helper_trackerd_path(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TRACKERD", "../trackerd/trackerd", buf, len);
}

static inline int helper_peer_path(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TEST_PEER", "peer", buf, len);
}

/* The sealshm CLI and the examples' directory of the same build. */
static inline int helper_cli_path(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TEST_CLI", "../tools/sealshm", buf, len);
}

static inline int helper_examples_dir(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TEST_EXAMPLES", "../examples", buf, len);
}

/* --- fds ----------------------------------------------------------------- */
/* Number of open fds of @pid (0: this process), not counting the one used
 * to read the directory.  Negative errno on failure. */
static inline int helper_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0, self;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/fd");
	else
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	self = pid == 0 ? dirfd(d) : -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (atoi(de->d_name) == self)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

/* Wait up to @timeout_ms for @pid's fd count to become @want (a daemon
 * closes a connection only after it has seen the hangup).  Returns the last
 * count seen. */
static inline int helper_wait_fds(pid_t pid, int want, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = helper_count_fds(pid);
		if (n == want || helper_now_ms() >= end)
			return n;
		helper_sleep_ms(10);
	}
}

/* Collect the inode numbers of this process's sockets ("socket:[ino]")
 * into @inos (up to @max); returns how many. */
static inline int helper_socket_inodes(unsigned long *inos, int max)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char p[PATH_MAX], target[128];
		ssize_t len;
		unsigned long ino;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
		len = readlink(p, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%lu]", &ino) == 1 && n < max)
			inos[n++] = ino;
	}
	closedir(d);
	return n;
}

/* --- files ---------------------------------------------------------------- */
/* Read a whole file into a malloc()ed NUL-terminated string. */
static inline int helper_read_file(const char *path, char **ret)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

/* Remove a flat directory and what is in it (the daemon's temp dir). */
static inline void helper_rm_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (!dir || !dir[0])
		return;
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			(void)unlinkat(dirfd(d), de->d_name, 0);
		}
		closedir(d);
	}
	(void)rmdir(dir);
}

/* --- processes ----------------------------------------------------------- */
/* waitpid() with a timeout; SIGKILLs @pid when it runs out.  Returns the raw
 * wait status, or -errno. */
static inline int helper_reap(pid_t pid, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (helper_now_ms() >= end) {
			(void)kill(pid, SIGKILL);
			if (waitpid(pid, &status, 0) == pid)
				return status;
			return -errno;
		}
		helper_sleep_ms(5);
	}
}

/* SIGKILL and reap *@pid (our child) when there is one; *@pid becomes 0. */
static inline void helper_kill_reap(pid_t *pid)
{
	if (*pid > 0) {
		(void)kill(*pid, SIGKILL);
		(void)waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/* Exit code of a wait status; 128 + signal when killed. */
static inline int helper_exit_code(int status)
{
	if (status < 0)
		return status;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -EIO;
}

/* True while @pid exists and is not a zombie. */
static inline bool helper_pid_alive(pid_t pid)
{
	char path[64], *stat = NULL, *p;
	bool alive;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (helper_read_file(path, &stat) < 0)
		return false;
	p = strrchr(stat, ')');
	alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	free(stat);
	return alive;
}

/* Pids (up to @max) of live processes whose argv[0] ends in "trackerd" and
 * whose command line contains @needle (a socket path). */
static inline int helper_find_trackerds(const char *needle, pid_t *pids, int max)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], buf[8192];
		bool match = false;
		ssize_t len;
		size_t a0;
		pid_t pid;
		int fd;

		pid = atoi(de->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;	/* kernel thread or zombie */
		buf[len] = '\0';
		a0 = strlen(buf);
		if (a0 < 8 || strcmp(buf + a0 - 8, "trackerd"))
			continue;
		for (ssize_t i = 0; i < len; i += (ssize_t)strlen(buf + i) + 1)
			if (strstr(buf + i, needle))
				match = true;
		if (!match || !helper_pid_alive(pid))
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}

/* SIGTERM every trackerd serving @needle (not necessarily our child) and
 * wait for it to go; SIGKILL after 3 s.  Returns how many were found. */
static inline int helper_kill_trackerds(const char *needle)
{
	pid_t pids[16];
	int n = helper_find_trackerds(needle, pids, 16);

	for (int i = 0; i < n && i < 16; i++) {
		uint64_t end = helper_now_ms() + 3000;

		(void)kill(pids[i], SIGTERM);
		while (helper_pid_alive(pids[i]) && helper_now_ms() < end)
			helper_sleep_ms(10);
		if (helper_pid_alive(pids[i]))
			(void)kill(pids[i], SIGKILL);
	}
	return n;
}

/* Fork; the child dies with the test (PDEATHSIG), runs @fn(@arg) and exits
 * with its result (never through the harness).  Returns the child's exit
 * code (128 + signal; SIGKILLed after @timeout_ms), or -errno. */
static inline int run_child(int (*fn)(const void *), const void *arg, unsigned int timeout_ms)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(arg));
	}
	return helper_exit_code(helper_reap(pid, timeout_ms));
}

struct helper_as_user {
	uid_t uid;
	gid_t gid;
	int (*fn)(void);
};

static inline int helper_as_user_child(const void *arg)
{
	const struct helper_as_user *u = arg;

	if (setgroups(0, NULL) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		return 100;
	return u->fn();
}

/* run_child() of @fn in a child switched to uid @uid and gid @gid (no
 * supplementary groups; exit code 100 when the switch failed), 10 s. */
static inline int run_as_user(uid_t uid, gid_t gid, int (*fn)(void))
{
	const struct helper_as_user u = { .uid = uid, .gid = gid, .fn = fn };

	return run_child(helper_as_user_child, &u, 10000);
}

/* In a run_child() or run_as_user() function: return @n (its exit code)
 * when @expr is false, saying which check failed on stderr. */
#define CHILD_CHECK(n, expr)							\
	do {									\
		if (!(expr)) {							\
			fprintf(stderr, "# child check %d failed: %s\n", n, #expr);	\
			return n;						\
		}								\
	} while (0)

/* --- running a program --------------------------------------------------- */
/* What helper_run() gives a program besides its arguments.  Zeroed (or
 * NULL opts) is the plain case: stdin and stderr are the test's, stdout
 * goes to the caller's buffer, the environment is the test's, every other
 * fd stays as it is (so that a program run can check what exec kept), and
 * it has 20 s to exit once its output has ended. */
struct helper_run_opts {
	int in_fd;			/* stdin: this fd of ours (0: the test's) */
	const char *in_path;		/* or this file, read-only, when set */
	int out_fd;			/* stdout: this fd when > 0, not the buffer */
	const char *out_path;		/* or this file (created 0600, truncated) */
	const char *err_path;		/* stderr: this file (as out_path) */
	char *err;			/* or a pipe read to its end (all writers */
	size_t err_len;			/* gone), its first err_len - 1 bytes here */
	const char *const *env;		/* NULL-ended: "NAME=VALUE" sets, "NAME" unsets */
	unsigned int flags;		/* HELPER_RUN_* */
	unsigned int timeout_ms;	/* to exit once its output ended; 0: 20 s */
};

#define HELPER_RUN_APPEND	(1u << 0)	/* out_path and err_path: append, not truncate */
#define HELPER_RUN_ERR_TO_OUT	(1u << 1)	/* stderr goes where stdout goes (2>&1) */
#define HELPER_RUN_ONLY_STDIO	(1u << 2)	/* pass on fds 0, 1 and 2, no other */

/* In a forked child: our @fd as its @target.  dup2() clears close-on-exec
 * on the copy; onto itself it would not, so that is cleared here. */
static inline int helper_dup_to(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0) < 0 ? -errno : 0;
	return dup2(fd, target) < 0 ? -errno : 0;
}

/* In a forked child: @path opened with @flags as its @target. */
static inline int helper_open_to(const char *path, int flags, int target)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	return helper_dup_to(fd, target);
}

/* In a forked child that execs a daemon: it dies with the test
 * (PDEATHSIG), stdin and stdout are /dev/null, stderr goes to the end of
 * @log (created).  Other fds are the caller's business.  0 or -errno. */
static inline int helper_daemon_stdio(const char *log)
{
	int fd, r;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	r = helper_open_to(log, O_WRONLY | O_CREAT | O_APPEND, STDERR_FILENO);
	if (r < 0)
		return r;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = helper_dup_to(fd, STDIN_FILENO);
	return r < 0 ? r : helper_dup_to(fd, STDOUT_FILENO);
}

/* helper_run()'s child: its redirections and environment, then the exec.
 * Returns the exit code to leave with: 126 when the set-up failed, 127
 * when the exec did. */
static inline int helper_run_child(const struct helper_run_opts *o, int out_w, int err_w,
				   const char *const *argv)
{
	int mode = O_WRONLY | O_CREAT | (o->flags & HELPER_RUN_APPEND ? O_APPEND : O_TRUNC);
	int r = 0;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (o->in_path)
		r = helper_open_to(o->in_path, O_RDONLY, STDIN_FILENO);
	else if (o->in_fd > 0)
		r = helper_dup_to(o->in_fd, STDIN_FILENO);
	if (r < 0)
		return 126;

	if (o->out_path)
		r = helper_open_to(o->out_path, mode, STDOUT_FILENO);
	else
		r = helper_dup_to(o->out_fd > 0 ? o->out_fd : out_w, STDOUT_FILENO);
	if (r < 0)
		return 126;

	if (o->flags & HELPER_RUN_ERR_TO_OUT)
		r = helper_dup_to(STDOUT_FILENO, STDERR_FILENO);
	else if (o->err_path)
		r = helper_open_to(o->err_path, mode, STDERR_FILENO);
	else if (err_w >= 0)
		r = helper_dup_to(err_w, STDERR_FILENO);
	if (r < 0)
		return 126;

	if (o->flags & HELPER_RUN_ONLY_STDIO)
		(void)close_range(3, ~0U, 0);
	for (int i = 0; o->env && o->env[i]; i++) {
		const char *eq = strchr(o->env[i], '=');
		char name[128];

		if (!eq) {
			if (unsetenv(o->env[i]) < 0)
				return 126;
			continue;
		}
		if ((size_t)(eq - o->env[i]) >= sizeof(name))
			return 126;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - o->env[i]), o->env[i]);
		if (setenv(name, eq + 1, 1) < 0)
			return 126;
	}
	execvp(argv[0], (char *const *)argv);
	return 127;
}

/* Run @prog (a path, or a name looked up in $PATH) with @args
 * (NULL-terminated, without argv[0]; may be NULL), set up as @opts says.
 * Its stdout, unless @opts sends it elsewhere, is a pipe read to its end:
 * the first @outlen - 1 bytes into @out (NUL-terminated; NULL: dropped).
 * The program dies with the test (PDEATHSIG); once its output has ended
 * it is reaped (SIGKILLed after opts->timeout_ms).  Returns its exit code
 * (128 + signal; 126: a redirection failed, 127: no exec), or -errno. */
static inline int helper_run(const char *prog, const char *const *args,
			     const struct helper_run_opts *opts, char *out, size_t outlen)
{
	static const struct helper_run_opts none;
	const struct helper_run_opts *o = opts ? opts : &none;
	struct pollfd pfd[2] = { { .fd = -EBADF, .events = POLLIN },
				 { .fd = -EBADF, .events = POLLIN } };
	char *buf[2] = { out, o->err };
	size_t len[2] = { out ? outlen : 0, o->err ? o->err_len : 0 }, got[2] = { 0, 0 };
	bool piped[2] = {
		!o->out_path && o->out_fd <= 0,
		o->err && !o->err_path && !(o->flags & HELPER_RUN_ERR_TO_OUT),
	};
	int wr[2] = { -EBADF, -EBADF }, argc = 0, r;
	const char *argv[64];
	pid_t pid;

	for (int i = 0; i < 2; i++)
		if (len[i])
			buf[i][0] = '\0';
	argv[argc++] = prog;
	for (int i = 0; args && args[i]; i++) {
		if (argc == (int)ELEMENTSOF(argv) - 1)
			return -E2BIG;
		argv[argc++] = args[i];
	}
	argv[argc] = NULL;

	for (int i = 0; i < 2; i++) {
		int p[2];

		if (!piped[i])
			continue;
		if (pipe2(p, O_CLOEXEC) < 0) {
			r = -errno;
			goto fail;
		}
		pfd[i].fd = p[0];
		wr[i] = p[1];
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto fail;
	}
	if (pid == 0)
		_exit(helper_run_child(o, wr[0], wr[1], argv));

	/* Both pipes at once: a program that fills one while we wait on
	 * the other would stall. */
	for (int i = 0; i < 2; i++)
		wr[i] = safe_close(wr[i]);
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char sink[512];
			bool room = got[i] + 1 < len[i];
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = room ? read(pfd[i].fd, buf[i] + got[i], len[i] - 1 - got[i])
				 : read(pfd[i].fd, sink, sizeof(sink));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				pfd[i].fd = safe_close(pfd[i].fd);
			else if (room)
				got[i] += (size_t)n;
		}
	}
	for (int i = 0; i < 2; i++) {
		pfd[i].fd = safe_close(pfd[i].fd);
		if (len[i])
			buf[i][got[i]] = '\0';
	}
	return helper_exit_code(helper_reap(pid, o->timeout_ms ? o->timeout_ms : 20000));

fail:
	for (int i = 0; i < 2; i++) {
		pfd[i].fd = safe_close(pfd[i].fd);
		wr[i] = safe_close(wr[i]);
	}
	return r;
}

/* helper_run() of the program @path_of finds (helper_peer_path(),
 * helper_cli_path(), ...); -errno when it is no executable file. */
static inline int helper_run_prog(int (*path_of)(char *, size_t), const char *const *args,
				  const struct helper_run_opts *opts, char *out, size_t outlen)
{
	char prog[PATH_MAX];
	int r = path_of(prog, sizeof(prog));

	if (r < 0)
		return r;
	if (access(prog, X_OK) < 0)
		return -errno;
	return helper_run(prog, args, opts, out, outlen);
}

/* --seccomp=kill, except in sanitizer builds ($SEALSHM_TEST_SANITIZE=1):
 * LeakSanitizer's exit-time stop-the-world (clone, ptrace) is off the
 * allow-list and would be killed, so there it is --seccomp=log. */
static inline const char *helper_seccomp_arg(void)
{
	const char *e = getenv("SEALSHM_TEST_SANITIZE");

	return e && !strcmp(e, "1") ? "--seccomp=log" : "--seccomp=kill";
}

/* A bound, listening AF_UNIX socket of @type at @path, close-on-exec, to
 * pass to a trackerd as a service manager does (the child makes it its
 * fd 3 with helper_dup_to(), which clears the flag there).  fd or -errno. */
static inline int helper_listen_unix(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* --- raw protocol client -------------------------------------------------- */
#define HELPER_IO_TIMEOUT_MS 5000

/* A SOCK_SEQPACKET connection to @path, with 5 s send/receive timeouts so a
 * daemon that never answers fails the test instead of hanging it. */
static inline int raw_connect(const char *path)
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

/* Send @len bytes with any number of fds (sealshm__send caps them at
 * SEALSHM_PROTO_FDS_MAX; attacks need more). */
static inline int raw_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
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

/* Receive one reply (up to @len bytes, its first fd into *@ret_fd, or
 * -EBADF; any other fd is closed).  Returns its length, 0 on EOF, or -errno
 * (-EAGAIN on timeout). */
static inline ssize_t raw_recv(int sock, void *buf, size_t len, int *ret_fd)
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

/* Send HELLO with @magic/@version and receive the reply into @reply.
 * Returns the reply's length or -errno. */
static inline ssize_t raw_hello_with(int sock, uint32_t magic, uint32_t version,
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

/* Connect to @path and complete a good HELLO; returns the socket or -errno
 * (-EPROTO when the reply is not a well-formed success). */
static inline int raw_client(const char *path, struct sealshm_msg_hello_reply *ret_reply)
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

/* One request (with optional fds) and its reply.  Returns the reply length,
 * 0 on EOF, or -errno. */
static inline ssize_t raw_call(int sock, const void *req, size_t len, const int *fds, size_t nfds,
			       void *reply, size_t reply_len, int *ret_fd)
{
	int r = raw_send_fds(sock, req, len, fds, nfds);

	if (ret_fd)
		*ret_fd = -EBADF;
	if (r < 0)
		return r;
	return raw_recv(sock, reply, reply_len, ret_fd);
}

/* True when the peer has closed @sock: the next receive gives EOF or a
 * reset within the timeout (any reply still queued is skipped). */
static inline bool raw_closed_by_peer(int sock)
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

/* Build requests. */
static inline void raw_create_req(struct sealshm_msg_create *req, uint32_t seq, const char *name,
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

static inline void raw_name_req(struct sealshm_msg_name *req, uint32_t type, uint32_t seq,
				const char *name, uint32_t flags)
{
	memset(req, 0, sizeof(*req));
	req->hdr.type = type;
	req->hdr.size = sizeof(*req);
	req->hdr.seq = seq;
	req->flags = flags;
	strncpy(req->name, name, sizeof(req->name) - 1);
}

/* A memfd of @size bytes with @seals (no library involved). */
static inline int helper_memfd(uint64_t size, unsigned int seals)
{
	int fd = memfd_create("sealshm-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int r;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* --- a private trackerd ---------------------------------------------------- */
struct trackerd {
	pid_t pid;			/* 0 when not running */
	char dir[64];			/* mkdtemp() directory, "" when none */
	char sock[128];			/* DIR/trackerd.sock */
	char log[128];			/* DIR/trackerd.log (its stderr) */
};

/* Make the temp directory and paths only (for tests that start trackerd
 * some other way, or never). */
static inline int trackerd_prepare(struct trackerd *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/sealshm-test.XXXXXX");
	if (!mkdtemp(t->dir)) {
		t->dir[0] = '\0';
		return -errno;
	}
	snprintf(t->sock, sizeof(t->sock), "%s/trackerd.sock", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/trackerd.log", t->dir);
	return 0;
}

/* Wait up to @timeout_ms until trackerd @t->pid (our child) serves
 * @t->sock.  0; -ECHILD when it exited first, -ETIMEDOUT (then it is
 * killed); either way it is reaped and @t->pid is 0. */
static inline int trackerd_wait_up(struct trackerd *t, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		int status, fd;

		/* A HELLO answered, not just a connect: trackerd listens
		 * before it enters its sandbox and serves only after, and
		 * tests read what the sandbox did. */
		fd = raw_client(t->sock, NULL);
		if (fd >= 0) {
			/* And gone again before we return, so that fd counts
			 * taken next do not include the probe. */
			int held = helper_count_fds(t->pid);

			close(fd);
			if (held > 0)
				(void)helper_wait_fds(t->pid, held - 1, 2000);
			return 0;
		}
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = 0;
			return -ECHILD;	/* it exited before listening */
		}
		if (helper_now_ms() >= end) {
			helper_kill_reap(&t->pid);
			return -ETIMEDOUT;
		}
		helper_sleep_ms(10);
	}
}

/* Fork and exec `[wrapper...] trackerd --foreground --socket
 * DIR/trackerd.sock [extra...]` with stderr to DIR/trackerd.log; it dies with
 * the test (PDEATHSIG).  Waits up to @timeout_ms until the socket accepts a
 * connection.  @wrapper (a program that runs trackerd, such as valgrind, with
 * its options; argv[0] a path) and @extra are NULL or NULL-terminated lists. */
static inline int trackerd_spawn_wrapped(struct trackerd *t, const char *const *wrapper,
					 const char *const *extra, unsigned int timeout_ms)
{
	char prog[PATH_MAX];
	const char *argv[64];
	int argc = 0, r;
	pid_t pid;

	r = helper_trackerd_path(prog, sizeof(prog));
	if (r < 0)
		return r;
	if (access(prog, X_OK) < 0)
		return -errno;

	for (int i = 0; wrapper && wrapper[i]; i++) {
		if (argc >= 32)
			return -E2BIG;
		argv[argc++] = wrapper[i];
	}
	argv[argc++] = prog;
	argv[argc++] = "--foreground";
	argv[argc++] = "--socket";
	argv[argc++] = t->sock;
	for (int i = 0; extra && extra[i]; i++) {
		if (argc >= 63)
			return -E2BIG;
		argv[argc++] = extra[i];
	}
	argv[argc] = NULL;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (helper_daemon_stdio(t->log) < 0)
			_exit(126);
		/* Only 0, 1, 2: the daemon's fd baseline is its own. */
		(void)close_range(3, ~0U, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	t->pid = pid;
	return trackerd_wait_up(t, timeout_ms);
}

/* trackerd_spawn_wrapped() with no wrapper and 5 s to come up. */
static inline int trackerd_spawn(struct trackerd *t, const char *const *extra)
{
	return trackerd_spawn_wrapped(t, NULL, extra, 5000);
}

static inline int trackerd_start(struct trackerd *t, const char *const *extra)
{
	int r = trackerd_prepare(t);

	if (r < 0)
		return r;
	return trackerd_spawn(t, extra);
}

/* Open this process family's session with the trackerd of $SEALSHM_SOCKET
 * now (so that fd baselines include it): sealshm_session_export() opens
 * it; the copy it returns is closed. */
static inline int helper_session_open(void)
{
	char buf[SEALSHM_SESSION_ENV_MAX];
	int fd = sealshm_session_export(NULL, buf, sizeof(buf));

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Point the library at @t ($SEALSHM_SOCKET; $SEALSHM_NO_AUTOSTART so a
 * mistake cannot start a per-user daemon instead) and open its cached
 * connection with one sealshm_registry_list(), so that connection is part of the fd
 * baseline.  Returns this process's fd count after that (> 0), or -errno. */
static inline int trackerd_connect(const struct trackerd *t)
{
	struct sealshm_info *infos = NULL;
	int r;

	if (setenv("SEALSHM_SOCKET", t->sock, 1) < 0 ||
	    setenv("SEALSHM_NO_AUTOSTART", "1", 1) < 0)
		return -errno;
	r = sealshm_registry_list(NULL, &infos);
	if (r < 0)
		return r;
	free(infos);
	if (r != 0)
		return -ENOTEMPTY;	/* a fresh daemon lists nothing */
	/* The tracking session too: tracked calls would open it and it lives
	 * as long as the process. */
	r = helper_session_open();
	if (r < 0)
		return r;
	return helper_count_fds(0);
}

/* The common fixture setup: trackerd_start() and trackerd_connect().
 * Returns the fd baseline (> 0) or -errno; on failure @t may still hold a
 * daemon or a temp dir for trackerd_cleanup(). */
static inline int trackerd_start_connected(struct trackerd *t, const char *const *extra)
{
	int r = trackerd_start(t, extra);

	if (r < 0)
		return r;
	return trackerd_connect(t);
}

/* SIGTERM and reap (SIGKILL after 5 s).  Returns the exit code (128+sig if
 * killed), 0 if it was not running. */
static inline int trackerd_stop(struct trackerd *t)
{
	int status;

	if (t->pid <= 0)
		return 0;
	(void)kill(t->pid, SIGTERM);
	status = helper_reap(t->pid, 5000);
	t->pid = 0;
	return helper_exit_code(status);
}

/* Stop it if running and remove the temp dir. */
static inline void trackerd_cleanup(struct trackerd *t)
{
	(void)trackerd_stop(t);
	helper_rm_dir(t->dir);
	t->dir[0] = '\0';
}

/* The daemon's log so far (malloc()ed; "" when empty). */
static inline char *trackerd_log(const struct trackerd *t)
{
	char *s = NULL;

	if (helper_read_file(t->log, &s) < 0)
		return strdup("");
	return s;
}

/* True when a line of the log contains every one of the NULL-terminated
 * strings; waits up to @timeout_ms for it to be written. */
static inline bool trackerd_log_has_line(const struct trackerd *t, unsigned int timeout_ms, ...)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		char *log = trackerd_log(t);
		bool found = false;

		for (char *line = log, *nl; line && *line && !found; line = nl ? nl + 1 : NULL) {
			const char *needle;
			va_list ap;
			bool all = true;

			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			va_start(ap, timeout_ms);
			while ((needle = va_arg(ap, const char *)))
				if (!strstr(line, needle))
					all = false;
			va_end(ap);
			found = all;
		}
		free(log);
		if (found)
			return true;
		if (helper_now_ms() >= end)
			return false;
		helper_sleep_ms(20);
	}
}

/* --- the exec'd peer ------------------------------------------------------- */
/* Run the peer helper with @args (NULL-terminated, without argv[0]) and the
 * current environment; its stdout (up to @outlen - 1 bytes) goes to @out
 * when non-NULL.  Every other fd of the test stays as it is, so check-fds
 * sees what exec really kept.  Returns its exit code (128 + signal), or
 * -errno. */
static inline int run_peer(const char *const *args, char *out, size_t outlen)
{
	return helper_run_prog(helper_peer_path, args, NULL, out, outlen);
}

/* In a fixture teardown: nothing is left in the registry ($SEALSHM_SOCKET's
 * trackerd); names that are get logged.  A macro, as EXPECT and TH_LOG need
 * the test's _metadata. */
#define EXPECT_REGISTRY_EMPTY()							\
	do {									\
		struct sealshm_info *infos_ = NULL;				\
		int n_ = sealshm_registry_list(NULL, &infos_);				\
										\
		EXPECT_EQ(0, n_) {						\
			for (int i_ = 0; i_ < n_; i_++)				\
				TH_LOG("left in the registry: '%s'", infos_[i_].name); \
		}								\
		free(infos_);							\
	} while (0)

/* In a fixture teardown: when the test failed, show trackerd's log, or its
 * last 6000 bytes (the end of a long log is what matters).  A macro, as
 * TH_LOG needs the test's _metadata. */
#define TH_LOG_TRACKERD_ON_FAILURE(t)						\
	do {									\
		if (!_metadata->passed) {					\
			char *log_ = trackerd_log(t);				\
			size_t len_ = log_ ? strlen(log_) : 0;			\
										\
			TH_LOG("trackerd log%s:\n%s",				\
			       len_ > 6000 ? " (last 6000 bytes)" : "",	\
			       len_ > 6000 ? log_ + len_ - 6000 : log_ ? log_ : "");	\
			free(log_);						\
		}								\
	} while (0)

/* The end of a fixture teardown with a private trackerd @t: it exits 0 on
 * SIGTERM, its log is shown when the test failed, its temp dir goes.  A
 * macro, as EXPECT and TH_LOG need the test's _metadata. */
#define EXPECT_TRACKERD_STOPS(t)						\
	do {									\
		EXPECT_EQ(0, trackerd_stop(t));					\
		TH_LOG_TRACKERD_ON_FAILURE(t);					\
		trackerd_cleanup(t);						\
	} while (0)

/* === tracking sessions (issue 3) ===========================================
 * Waiting for trackerd to act on a session's end, the raw SESSION request,
 * and peers that stay alive until told to go (so a test decides when a
 * tracking process exits, or kills it). */

/* Wait up to @timeout_ms for @name to leave the registry (a session's end
 * is handled by trackerd after the process is gone).  0 when gone,
 * -ETIMEDOUT when still there, or stat's error. */
static inline int helper_wait_gone(const char *name, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		struct sealshm_info info;
		int r = sealshm_stat(name, NULL, &info);

		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		if (helper_now_ms() >= end)
			return -ETIMEDOUT;
		helper_sleep_ms(5);
	}
}

/* Wait up to @timeout_ms until @name is tracked by exactly @want sessions;
 * its info goes to *@ret.  0, -ETIMEDOUT (*@ret holds the last info), or
 * stat's error. */
static inline int helper_wait_sessions(const char *name, uint32_t want, unsigned int timeout_ms,
				       struct sealshm_info *ret)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		int r = sealshm_stat(name, NULL, ret);

		if (r < 0)
			return r;
		if (ret->n_sessions == want)
			return 0;
		if (helper_now_ms() >= end)
			return -ETIMEDOUT;
		helper_sleep_ms(5);
	}
}

/* Wait up to @timeout_ms until the registry holds at most @want names;
 * returns the last count (or -errno). */
static inline int helper_wait_names(int want, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		struct sealshm_info *infos = NULL;
		int n = sealshm_registry_list(NULL, &infos);

		free(infos);
		if (n < 0 || n <= want || helper_now_ms() >= end)
			return n;
		helper_sleep_ms(10);
	}
}

/* Lines of the daemon's log containing every one of the NULL-terminated
 * strings. */
static inline int trackerd_log_count(const struct trackerd *t, ...)
{
	char *log = trackerd_log(t);
	int n = 0;

	for (char *line = log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		const char *needle;
		bool all = true;
		va_list ap;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		va_start(ap, t);
		while ((needle = va_arg(ap, const char *)))
			if (!strstr(line, needle))
				all = false;
		va_end(ap);
		n += all;
	}
	free(log);
	return n;
}

/* Id of the session @pid opened ("session N opened by pid P (uid U)"),
 * waiting up to @timeout_ms for the line; -ENOENT when none. */
static inline int64_t trackerd_log_session_id(const struct trackerd *t, pid_t pid,
					      unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;
	char needle[64];

	snprintf(needle, sizeof(needle), " opened by pid %d ", (int)pid);
	for (;;) {
		char *log = trackerd_log(t), *hit = strstr(log, needle);
		int64_t id = -ENOENT;

		if (hit) {
			char *p = hit;

			while (p > log && p[-1] != '\n')
				p--;
			p = strstr(p, "session ");
			if (p && p < hit)
				id = strtoll(p + 8, NULL, 10);
		}
		free(log);
		if (id >= 0 || helper_now_ms() >= end)
			return id;
		helper_sleep_ms(10);
	}
}

/* Make @sock (after HELLO) a session: returns the reply's status, the
 * reply in *@ret (a short reply gives -EIO). */
static inline int raw_session(int sock, struct sealshm_msg_session_reply *ret)
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

/* A new session with the trackerd at @path: returns its socket, its token
 * in @token and id in *@id (may be NULL). */
static inline int raw_session_client(const char *path, uint8_t token[SEALSHM_PROTO_TOKEN_SIZE],
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

/* An exec'd peer that lives until told to go: its stdin and stdout are
 * pipes to the test. */
struct peer {
	pid_t pid;			/* 0 when none */
	int in;				/* its stdin (write end) */
	int out;			/* its stdout (read end) */
	size_t len;			/* bytes buffered in buf */
	char buf[1024];
};

#define PEER_INIT { .pid = 0, .in = -EBADF, .out = -EBADF }

/* Start the peer helper with @args (NULL-terminated, without argv[0]).
 * @keep_fd >= 0 is inherited under its number; @session_env, when not NULL,
 * becomes $SEALSHM_SESSION in its environment.  The peer dies with the
 * calling thread (PDEATHSIG). */
static inline int peer_start(struct peer *p, const char *const *args, int keep_fd,
			     const char *session_env)
{
	int in[2], out[2], argc = 0, r;
	char prog[PATH_MAX];
	const char *argv[16];
	pid_t pid;

	p->pid = 0;
	p->in = p->out = -EBADF;
	p->len = 0;
	r = helper_peer_path(prog, sizeof(prog));
	if (r < 0)
		return r;
	argv[argc++] = prog;
	for (int i = 0; args[i] && argc < 15; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		close(in[0]);
		close(in[1]);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return r;
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0)
			_exit(126);
		if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)
			_exit(126);
		if (session_env && setenv(SEALSHM_SESSION_ENV, session_env, 1) < 0)
			_exit(126);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->pid = pid;
	p->in = in[1];
	p->out = out[0];
	return 0;
}

/* Next line the peer printed (without the newline) into @line; waits up
 * to @timeout_ms.  Returns its length, -EPIPE on EOF, -ETIMEDOUT. */
static inline int peer_line(struct peer *p, char *line, size_t len, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(p->buf, '\n', p->len);
		struct pollfd pfd = { .fd = p->out, .events = POLLIN };
		uint64_t now;
		ssize_t n;

		if (nl) {
			size_t k = (size_t)(nl - p->buf);

			snprintf(line, len, "%.*s", (int)k, p->buf);
			memmove(p->buf, nl + 1, p->len - k - 1);
			p->len -= k + 1;
			return (int)k;
		}
		if (p->len == sizeof(p->buf))
			return -ENOBUFS;
		now = helper_now_ms();
		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(end - now)) < 0 && errno != EINTR)
			return -errno;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(p->out, p->buf + p->len, sizeof(p->buf) - p->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p->len += (size_t)n;
	}
}

/* Send one command line to the peer and return its one-line answer in
 * @line (see peer.c).  Returns the answer's length or -errno. */
static inline int peer_cmd(struct peer *p, const char *cmd, char *line, size_t len)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s\n", cmd);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	if (write(p->in, buf, (size_t)n) != n)
		return -EPIPE;
	return peer_line(p, line, len, HELPER_IO_TIMEOUT_MS);
}

/* Let the peer go (EOF on its stdin: it exits at once, unlinking and
 * closing nothing) and reap it.  Returns its exit code. */
static inline int peer_finish(struct peer *p, unsigned int timeout_ms)
{
	int rc = 0;

	p->in = safe_close(p->in);
	if (p->pid > 0)
		rc = helper_exit_code(helper_reap(p->pid, timeout_ms));
	p->pid = 0;
	p->out = safe_close(p->out);
	return rc;
}

/* SIGKILL it (if still running), reap, close the pipes. */
static inline void peer_destroy(struct peer *p)
{
	helper_kill_reap(&p->pid);
	p->in = safe_close(p->in);
	p->out = safe_close(p->out);
}

#endif /* SEALSHM_SELFTESTS_HELPERS_H */

// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "internal.h"
#include "process.h"
#include "run.h"

int helper_dup_to(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0) < 0 ? -errno : 0;
	return dup2(fd, target) < 0 ? -errno : 0;
}

int helper_open_to(const char *path, int flags, int target)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	return helper_dup_to(fd, target);
}

int helper_daemon_stdio(const char *log)
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
static int helper_run_child(const struct helper_run_opts *o, int out_w, int err_w,
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

int helper_run(const char *prog, const char *const *args,
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

int helper_run_prog(int (*path_of)(char *, size_t), const char *const *args,
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

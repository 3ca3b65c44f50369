// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "internal.h"
#include "sealshm.h"
#include "now.h"
#include "paths.h"
#include "process.h"
#include "run.h"
#include "peer.h"

int run_peer(const char *const *args, char *out, size_t outlen)
{
	return helper_run_prog(helper_peer_path, args, NULL, out, outlen);
}

int peer_start(struct peer *p, const char *const *args, int keep_fd,
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

int peer_line(struct peer *p, char *line, size_t len, unsigned int timeout_ms)
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

int peer_cmd(struct peer *p, const char *cmd, char *line, size_t len)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s\n", cmd);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	if (write(p->in, buf, (size_t)n) != n)
		return -EPIPE;
	return peer_line(p, line, len, HELPER_IO_TIMEOUT_MS);
}

int peer_finish(struct peer *p, unsigned int timeout_ms)
{
	int rc = 0;

	p->in = safe_close(p->in);
	if (p->pid > 0)
		rc = helper_exit_code(helper_reap(p->pid, timeout_ms));
	p->pid = 0;
	p->out = safe_close(p->out);
	return rc;
}

void peer_destroy(struct peer *p)
{
	helper_kill_reap(&p->pid);
	p->in = safe_close(p->in);
	p->out = safe_close(p->out);
}

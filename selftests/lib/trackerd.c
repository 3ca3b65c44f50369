// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sealshm.h"
#include "now.h"
#include "fds.h"
#include "files.h"
#include "paths.h"
#include "process.h"
#include "raw.h"
#include "run.h"
#include "trackerd.h"

int trackerd_prepare(struct trackerd *t)
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

int trackerd_wait_up(struct trackerd *t, unsigned int timeout_ms)
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

int trackerd_spawn_wrapped(struct trackerd *t, const char *const *wrapper,
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

int trackerd_spawn(struct trackerd *t, const char *const *extra)
{
	return trackerd_spawn_wrapped(t, NULL, extra, 5000);
}

int trackerd_start(struct trackerd *t, const char *const *extra)
{
	int r = trackerd_prepare(t);

	if (r < 0)
		return r;
	return trackerd_spawn(t, extra);
}

int helper_session_open(void)
{
	char buf[SEALSHM_SESSION_ENV_MAX];
	int fd = sealshm_session_export(NULL, buf, sizeof(buf));

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int trackerd_use(const struct trackerd *t)
{
	if (setenv("SEALSHM_SOCKET", t->sock, 1) < 0 ||
	    setenv("SEALSHM_NO_AUTOSTART", "1", 1) < 0)
		return -errno;
	return 0;
}

int trackerd_connect_requests(const struct trackerd *t)
{
	struct sealshm_info *infos = NULL;
	int r;

	r = trackerd_use(t);
	if (r < 0)
		return r;
	r = sealshm_registry_list(NULL, &infos);
	if (r < 0)
		return r;
	free(infos);
	return r == 0 ? 0 : -ENOTEMPTY;	/* a fresh daemon lists nothing */
}

int trackerd_connect(const struct trackerd *t)
{
	int r = trackerd_connect_requests(t);

	if (r < 0)
		return r;
	/* The tracking session too: tracked calls would open it and it lives
	 * as long as the process. */
	r = helper_session_open();
	if (r < 0)
		return r;
	return helper_count_fds(0);
}

int trackerd_stop(struct trackerd *t)
{
	int status;

	if (t->pid <= 0)
		return 0;
	(void)kill(t->pid, SIGTERM);
	status = helper_reap(t->pid, 5000);
	t->pid = 0;
	return helper_exit_code(status);
}

void trackerd_cleanup(struct trackerd *t)
{
	(void)trackerd_stop(t);
	helper_rm_dir(t->dir);
	t->dir[0] = '\0';
}

char *trackerd_log(const struct trackerd *t)
{
	char *s = NULL;

	if (helper_read_file(t->log, &s) < 0)
		return strdup("");
	return s;
}

bool trackerd_log_has_line(const struct trackerd *t, unsigned int timeout_ms, ...)
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

int trackerd_log_count(const struct trackerd *t, ...)
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

int64_t trackerd_log_session_id(const struct trackerd *t, pid_t pid,
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

const char *helper_seccomp_arg(void)
{
	const char *e = getenv("SEALSHM_TEST_SANITIZE");

	return e && !strcmp(e, "1") ? "--seccomp=log" : "--seccomp=kill";
}

int helper_listen_unix(const char *path, int type)
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

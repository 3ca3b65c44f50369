// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Starting a per-user trackerd on demand, as CPython starts its resource
 * tracker. trackerd does the hard parts itself: one instance per socket
 * (flock on PATH.lock), daemonizing, and exiting only once it listens.
 * Here we just spawn it cleanly from whatever state the caller is in.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>

#include "internal.h"

#ifndef SEALSHM_TRACKERD_PATH
#define SEALSHM_TRACKERD_PATH "/usr/local/sbin/trackerd"
#endif

/* Seconds an auto-started trackerd lingers with no names and no clients. */
#define AUTOSTART_IDLE_EXIT "60"

static int spawn_trackerd(const char *bin, char *const argv[], pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int r;

	r = posix_spawnattr_init(&attr);
	if (r != 0)
		return -r;
	r = posix_spawn_file_actions_init(&fa);
	if (r != 0) {
		(void)posix_spawnattr_destroy(&attr);
		return -r;
	}

	/* The caller may block or ignore signals (ignored ones survive exec)
	 * and that must not leak into a long-lived daemon: SIGTERM has to
	 * stop it. sigfillset() leaves out glibc's internal signals. */
	(void)sigemptyset(&none);
	(void)sigfillset(&all);
	(void)sigdelset(&all, SIGKILL);
	(void)sigdelset(&all, SIGSTOP);
#ifdef POSIX_SPAWN_SETSID
	/* Its own session from the start: a ^C meant for the caller's
	 * process group must not hit a daemon that is still starting. */
	flags |= POSIX_SPAWN_SETSID;
#endif
	r = posix_spawnattr_setflags(&attr, flags);
	if (r == 0)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (r == 0)
		r = posix_spawnattr_setsigdefault(&attr, &all);

	/* No stdio of the caller's: a pipe the caller reads to EOF would
	 * otherwise stay open as long as trackerd lives. */
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* Our fds are all CLOEXEC, but the caller's may not be: same hazard. */
	if (r == 0)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
#endif

	/* glibc's posix_spawn uses CLONE_VFORK and reports exec failures, and
	 * runs no pthread_atfork handlers: safe with our mutex held. */
	if (r == 0)
		r = posix_spawn(ret_pid, bin, &fa, &attr, argv, environ);

	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&attr);
	return -r;
}

int sealshm__autostart(const char *path)
{
	const char *bin = secure_getenv("SEALSHM_TRACKERD");
	char log[PATH_MAX];
	pid_t pid;
	int r, status;

	if (!bin || !*bin)
		bin = SEALSHM_TRACKERD_PATH;

	r = snprintf(log, sizeof(log), "%s.log", path);
	if (r < 0 || (size_t)r >= sizeof(log))
		return -ENAMETOOLONG;

	/* Say plainly that the binary is missing (-ENOENT) or not executable
	 * (-EACCES) rather than have the caller time out connecting. */
	if (access(bin, X_OK) < 0)
		return -errno;

	char *const argv[] = {
		(char *)"trackerd",
		(char *)"--socket", (char *)path,
		(char *)"--idle-exit", (char *)AUTOSTART_IDLE_EXIT,
		(char *)"--log", log,
		NULL,
	};
	r = spawn_trackerd(bin, argv, &pid);
	if (r < 0)
		return r;

	/* trackerd's first process exits once its daemon listens (0), or finds
	 * another instance holding the lock (0), or fails (1). Only this pid is
	 * reaped; if the caller ignores SIGCHLD the kernel reaps it instead and
	 * we get ECHILD: then the caller's connect retries find out. */
	while (waitpid(pid, &status, 0) < 0) {
		if (errno == ECHILD)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		/* The reason is in PATH.log; to the caller nothing answers. */
		return -ECONNREFUSED;
	return 0;
}

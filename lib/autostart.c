// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Starting a per-user trackerd on demand, as CPython starts its resource
 * tracker. trackerd does the hard parts itself: one instance per socket
 * (flock on PATH.lock), daemonizing, and exiting only once it listens.
 * Here we just spawn it cleanly from whatever state the caller is in.
 */
#include <limits.h>
#include <stdio.h>
#include <sys/wait.h>

#include "autostart.h"
#include "internal.h"
#include "launch.h"

/* Seconds an auto-started trackerd lingers with no names and no clients. */
#define AUTOSTART_IDLE_EXIT "60"
/* A per-user trackerd: its user may hold every connection (the share that
 * keeps room for other uids is for shared instances), as many as
 * trackerd's default --max-clients. */
#define AUTOSTART_CLIENTS_PER_UID "1024"

int sealshm__autostart(const char *path)
{
	const char *bin = sealshm_trackerd_path();
	char log[PATH_MAX];
	pid_t pid;
	int r, status;

	r = snprintf(log, sizeof(log), "%s.log", path);
	if (r < 0 || (size_t)r >= sizeof(log))
		return -ENAMETOOLONG;

	/* Say plainly that the program is missing or not executable, with an
	 * errno no name lookup gives (-ENOENT would read as "no such name"),
	 * rather than have the caller time out connecting. */
	if (access(bin, X_OK) < 0)
		return -ENOPKG;

	char *const argv[] = {
		(char *)"trackerd",
		(char *)"--socket", (char *)path,
		(char *)"--idle-exit", (char *)AUTOSTART_IDLE_EXIT,
		(char *)"--max-clients-per-uid", (char *)AUTOSTART_CLIENTS_PER_UID,
		(char *)"--log", log,
		NULL,
	};
	/* Its own session from the start: a ^C meant for the caller's
	 * process group must not hit a daemon that is still starting. */
	r = sealshm__spawn(&(struct sealshm__spawn){
		.bin = bin,
		.argv = argv,
		.new_session = true,
	}, &pid);
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

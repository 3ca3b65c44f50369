// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Starting trackerd from inside a caller's process (autostart.c: a
 * per-user daemon; manager.c: a manager, the caller's child), cleanly
 * whatever state the caller is in: no signal mask or ignored signal of
 * the caller's, no fd of the caller's but those asked for.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#include "internal.h"
#include "launch.h"

#ifndef SEALSHM_TRACKERD_PATH
#define SEALSHM_TRACKERD_PATH "/usr/local/sbin/trackerd"
#endif

/* A trackerd that travels with this library: an executable "trackerd" in
 * the directory the library (or a program linked with the static archive)
 * lives in, as a Python package bundles it, else "../trackerd/trackerd"
 * from there, which only a build tree has ($O/lib/ and $O/trackerd/, or
 * $O/selftests/ and the like); "" when there is none.  Found once: the
 * library does not move. */
static char sibling[PATH_MAX];
static pthread_once_t sibling_once = PTHREAD_ONCE_INIT;

static bool executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static void sibling_find(void)
{
	static const char *const places[] = { "trackerd", "../trackerd/trackerd" };
	char dir[PATH_MAX], path[PATH_MAX];
	Dl_info info;
	char *slash;

	if (!dladdr((void *)sealshm_trackerd_path, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, dir))
		return;
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	for (size_t i = 0; i < ELEMENTSOF(places); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, places[i]) >= (int)sizeof(path))
			continue;
		if (executable_file(path) && realpath(path, sibling))
			return;
		sibling[0] = '\0';
	}
}

const char *sealshm_trackerd_path(void)
{
	const char *bin = secure_getenv("SEALSHM_TRACKERD");

	if (bin && *bin)
		return bin;
	/* A set-uid or set-gid caller starts only the installed program. */
	if (!getauxval(AT_SECURE)) {
		(void)pthread_once(&sibling_once, sibling_find);
		if (sibling[0])
			return sibling;
	}
	return SEALSHM_TRACKERD_PATH;
}

int sealshm__spawn(const struct sealshm__spawn *sp, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int r;

	/* dup2() in the order given: no source may sit where an earlier
	 * one lands. */
	for (size_t i = 0; i < sp->nfds; i++)
		assert(sp->fds[i] >= (int)(STDERR_FILENO + 1 + sp->nfds));

	r = posix_spawnattr_init(&attr);
	if (r != 0)
		return -r;
	r = posix_spawn_file_actions_init(&fa);
	if (r != 0) {
		(void)posix_spawnattr_destroy(&attr);
		return -r;
	}

	/* The caller may block or ignore signals (ignored ones survive exec)
	 * and that must not leak into trackerd: SIGTERM has to stop it.
	 * sigfillset() leaves out glibc's internal signals. */
	(void)sigemptyset(&none);
	(void)sigfillset(&all);
	(void)sigdelset(&all, SIGKILL);
	(void)sigdelset(&all, SIGSTOP);
#ifdef POSIX_SPAWN_SETSID
	if (sp->new_session)
		flags |= POSIX_SPAWN_SETSID;
#endif
	r = posix_spawnattr_setflags(&attr, flags);
	if (r == 0)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (r == 0)
		r = posix_spawnattr_setsigdefault(&attr, &all);

	/* No stdio of the caller's: a pipe the caller reads to EOF would
	 * otherwise stay open as long as trackerd lives.  stderr is kept
	 * when asked (a manager tells its owner what went wrong there). */
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (r == 0 && !sp->keep_stderr)
		r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	/* dup2() clears close-on-exec on the copy. */
	for (size_t i = 0; r == 0 && i < sp->nfds; i++)
		r = posix_spawn_file_actions_adddup2(&fa, sp->fds[i], STDERR_FILENO + 1 + (int)i);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* Our fds are all CLOEXEC, but the caller's may not be: same hazard. */
	if (r == 0)
		r = posix_spawn_file_actions_addclosefrom_np(&fa,
							     STDERR_FILENO + 1 + (int)sp->nfds);
#endif

	/* glibc's posix_spawn uses CLONE_VFORK and reports exec failures, and
	 * runs no pthread_atfork handlers: safe with our mutex held. */
	if (r == 0)
		r = posix_spawn(ret_pid, sp->bin, &fa, &attr, sp->argv,
				sp->envp ? sp->envp : environ);

	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&attr);
	return -r;
}

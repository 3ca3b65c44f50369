/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting trackerd from inside a caller's process, whatever state the
 * caller is in (autostart.c: a per-user daemon; manager.c: a manager).
 */
#ifndef SEALSHM_LAUNCH_H
#define SEALSHM_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sealshm__spawn {
	const char *bin;
	char *const *argv;
	char *const *envp;	/* NULL: environ */
	const int *fds;
	size_t nfds;
	bool new_session;	/* its own session and process group */
	bool keep_stderr;
};

/* Spawn @sp->bin: default signal mask and dispositions, stdin and stdout
 * (and stderr unless @keep_stderr) on /dev/null, @fds[i] on fd 3 + i (each
 * source at or above 3 + @nfds), nothing else of the caller's.  Returns 0
 * and the child's pid, or -errno. */
int sealshm__spawn(const struct sealshm__spawn *sp, pid_t *ret_pid);


#endif /* SEALSHM_LAUNCH_H */

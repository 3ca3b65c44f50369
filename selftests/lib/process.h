/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processes: reaping with a timeout, exit codes, liveness, finding the
 * trackerds that serve a path (ours or not), and forked children that run
 * a function, as this user or another, and leave with _exit() (never
 * through the harness).
 */
#ifndef SEALSHM_SELFTESTS_LIB_PROCESS_H
#define SEALSHM_SELFTESTS_LIB_PROCESS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* waitpid() with a timeout; SIGKILLs @pid when it runs out.  Returns the raw
 * wait status, or -errno. */
int helper_reap(pid_t pid, unsigned int timeout_ms);

/* SIGKILL and reap *@pid (our child) when there is one; *@pid becomes 0. */
void helper_kill_reap(pid_t *pid);

/* Exit code of a wait status; 128 + signal when killed. */
int helper_exit_code(int status);

/* The exit code of our child *@pid, reaped within @timeout_ms (else
 * SIGKILLed: 128 + 9); *@pid becomes 0. */
int helper_reap_code(pid_t *pid, unsigned int timeout_ms);

/* Whether this process may make pid namespaces (CAP_SYS_ADMIN in its
 * user namespace): a forked child tries unshare(CLONE_NEWPID). */
bool helper_pidns_allowed(void);

/* True while @pid exists and is not a zombie. */
bool helper_pid_alive(pid_t pid);

/* Pids (up to @max) of live processes whose argv[0] ends in "trackerd" and
 * whose command line contains @needle (a socket path). */
int helper_find_trackerds(const char *needle, pid_t *pids, int max);

/* SIGTERM every trackerd serving @needle (not necessarily our child) and
 * wait for it to go; SIGKILL after 3 s.  Returns how many were found. */
int helper_kill_trackerds(const char *needle);

/* Fork; the child dies with the test (PDEATHSIG), runs @fn(@arg) and exits
 * with its result (never through the harness).  Returns the child's exit
 * code (128 + signal; SIGKILLed after @timeout_ms), or -errno. */
int run_child(int (*fn)(const void *), const void *arg, unsigned int timeout_ms);

/* run_child() of @fn in a child switched to uid @uid and gid @gid (no
 * supplementary groups; exit code 100 when the switch failed), 10 s. */
int run_as_user(uid_t uid, gid_t gid, int (*fn)(void));

/* In a run_child() or run_as_user() function: return @n (its exit code)
 * when @expr is false, saying which check failed on stderr. */
#define CHILD_CHECK(n, expr)							\
	do {									\
		if (!(expr)) {							\
			fprintf(stderr, "# child check %d failed: %s\n", n, #expr);	\
			return n;						\
		}								\
	} while (0)

#endif /* SEALSHM_SELFTESTS_LIB_PROCESS_H */

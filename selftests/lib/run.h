/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running a program to its end (helper_run()): its stdin, stdout and
 * stderr redirected or captured, its environment changed, a timeout; and
 * the redirections a forked child makes before it execs a daemon.
 */
#ifndef SEALSHM_SELFTESTS_LIB_RUN_H
#define SEALSHM_SELFTESTS_LIB_RUN_H

#include <stddef.h>

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
int helper_dup_to(int fd, int target);

/* In a forked child: @path opened with @flags as its @target. */
int helper_open_to(const char *path, int flags, int target);

/* In a forked child that execs a daemon: it dies with the test
 * (PDEATHSIG), stdin and stdout are /dev/null, stderr goes to the end of
 * @log (created).  Other fds are the caller's business.  0 or -errno. */
int helper_daemon_stdio(const char *log);

/* Run @prog (a path, or a name looked up in $PATH) with @args
 * (NULL-terminated, without argv[0]; may be NULL), set up as @opts says.
 * Its stdout, unless @opts sends it elsewhere, is a pipe read to its end:
 * the first @outlen - 1 bytes into @out (NUL-terminated; NULL: dropped).
 * The program dies with the test (PDEATHSIG); once its output has ended
 * it is reaped (SIGKILLed after opts->timeout_ms).  Returns its exit code
 * (128 + signal; 126: a redirection failed, 127: no exec), or -errno. */
int helper_run(const char *prog, const char *const *args,
	       const struct helper_run_opts *opts, char *out, size_t outlen);

/* helper_run() of the program @path_of finds (helper_peer_path(),
 * helper_cli_path(), ...); -errno when it is no executable file. */
int helper_run_prog(int (*path_of)(char *, size_t), const char *const *args,
		    const struct helper_run_opts *opts, char *out, size_t outlen);

#endif /* SEALSHM_SELFTESTS_LIB_RUN_H */

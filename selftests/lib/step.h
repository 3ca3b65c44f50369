/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A child run one instruction at a time (ptrace PTRACE_SINGLESTEP), with
 * a look at shared memory after each instruction: what a process killed
 * at any instruction of a call leaves behind, every such state in turn
 * rather than the few a random kill happens to hit.
 */
#ifndef SEALSHM_SELFTESTS_LIB_STEP_H
#define SEALSHM_SELFTESTS_LIB_STEP_H

#include <stdbool.h>
#include <sys/types.h>

struct step_child {
	/* In the child, untraced: what comes before the call (holder ids,
	 * warming up); nonzero is its exit code, and no step is taken. */
	int (*setup)(void *arg);
	/* In the child, one instruction at a time; its return value is
	 * the child's exit code. */
	int (*call)(void *arg);
	void *arg;
	/* In this process, with the child stopped: once before the first
	 * instruction of call (step 0) and after each one.  Return true to
	 * stop there: the child is then killed (SIGKILL) where it stands. */
	bool (*look)(void *ctx, unsigned long step);
	void *ctx;
	unsigned long max_steps;	/* then the child is killed too */
	unsigned int timeout_ms;	/* for the whole run */
};

/*
 * Fork a child that runs @c->setup, stops, and runs @c->call under our
 * single steps, calling @c->look as said above.  The child is reaped
 * before this returns (killed unless it exited).  Returns the steps
 * taken (>= 0) and the child's wait status in *@ret_status; -EPERM when
 * this process may not trace its children (the caller skips), -ECHILD
 * when setup failed (*@ret_status tells how), -ETIMEDOUT, or -errno.
 */
long step_child_run(const struct step_child *c, int *ret_status);

#endif /* SEALSHM_SELFTESTS_LIB_STEP_H */

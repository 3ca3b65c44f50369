// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "now.h"
#include "step.h"

/* Wait for the next stop or end of @pid until @end_ms: 0 with *@status,
 * -ETIMEDOUT or -errno.  A single step takes some microseconds: yield
 * first, sleep once it takes longer (a call blocked in the kernel). */
static int wait_stop(pid_t pid, uint64_t end_ms, int *status)
{
	for (unsigned int i = 0;; i++) {
		pid_t r = waitpid(pid, status, WNOHANG | __WALL);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (helper_now_ms() >= end_ms)
			return -ETIMEDOUT;
		if (i < 2000)
			(void)sched_yield();
		else
			helper_sleep_ms(1);
	}
}

long step_child_run(const struct step_child *c, int *ret_status)
{
	uint64_t end = helper_now_ms() + c->timeout_ms;
	unsigned long steps = 0;
	int status = 0, r;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int rc;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		rc = c->setup ? c->setup(c->arg) : 0;
		if (rc != 0)
			_exit(rc);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(120);
		(void)raise(SIGSTOP);
		_exit(c->call(c->arg));
	}

	r = wait_stop(pid, end, &status);
	if (r == 0 && WIFEXITED(status)) {
		*ret_status = status;
		return WEXITSTATUS(status) == 120 ? -EPERM : -ECHILD;
	}
	if (r == 0 && !(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP))
		r = -EIO;
	/* Stopped in raise(): step out of it and through the call. */
	while (r == 0) {
		if (c->look(c->ctx, steps) || steps >= c->max_steps)
			break;
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) < 0) {
			r = -errno;
			break;
		}
		r = wait_stop(pid, end, &status);
		if (r < 0)
			break;
		if (!WIFSTOPPED(status)) {
			/* It ran to its end (exited, or was killed). */
			*ret_status = status;
			return (long)steps;
		}
		steps++;
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
	*ret_status = status;
	return r < 0 ? r : (long)steps;
}

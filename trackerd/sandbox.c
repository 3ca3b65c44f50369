// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Privileges and the seccomp allow-list (sandbox.h has the order).
 *
 * The allow-list is what trackerd does once it serves: the event loop, the
 * clients' sockets, checking and reopening the fds they send, malloc, the
 * log, and the exit path. It was found by running the whole selftest suite
 * with trackerd under `strace -f -c` and under --seccomp=log, and reading
 * the code for paths the suite may miss (the exit path, malloc trimming).
 * Anything else -- exec, fork, ptrace, connect, bind, mount, open of a new
 * socket -- kills trackerd (SCMP_ACT_KILL_PROCESS: the whole daemon, not a
 * thread left half-working) with SIGSYS.
 */
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "internal.h"
#include "log.h"
#include "sandbox.h"

/* One line per syscall, with who needs it. Names, not numbers: libseccomp
 * maps them for the native architecture and skips those it does not have
 * (dup2 on aarch64, say). Syscalls of other ABIs on the same machine (i386
 * or x32 on x86_64) hit the filter's bad-arch action: kill. */
static const char *const allowed_syscalls[] = {
	/* event loop (loop.c) */
	"epoll_wait",		/* loop_run(), x86_64 glibc */
	"epoll_pwait",		/* loop_run(), other glibc/arches */
	"epoll_pwait2",		/* loop_run(), newer glibc */
	"epoll_ctl",		/* sources added, removed, EPOLLOUT toggled */
	"read",			/* signalfd and timerfd readings */
	"timerfd_settime",	/* idle timer, accept backoff, first-message deadline, log bursts */
	"timerfd_gettime",	/* loop.c timer bookkeeping */
	"clock_gettime",	/* ctime of a name, deadlines; vDSO fallback */
	"gettimeofday",		/* vDSO fallback of time() */
	"close",		/* clients, refused and surplus fds, names */
	"rt_sigreturn",		/* a signal handler returns (SIG_IGN needs none; ASan's does) */
	"restart_syscall",	/* a stopped and continued trackerd */

	/* clients (client.c, lib/fdpass.c) */
	"accept4",		/* listener_accept() */
	"recvmsg",		/* requests and their fds, MSG_CMSG_CLOEXEC */
	"sendmsg",		/* replies and the fds they carry */
	"getsockopt",		/* SO_PEERCRED, SO_PEERGROUPS of a new client */
	"shutdown",		/* a client closed after its last reply (unused today) */

	/* requests (request.c, registry.c, lib/memfd.c) */
	"fcntl",		/* F_GET_SEALS, F_GETFL of a sent fd; F_DUPFD_CLOEXEC */
	"fstat",		/* size and inode of a sent fd */
	"newfstatat",		/* glibc's fstat() */
	"statx",		/* glibc's fstat() on some arches */
	"openat",		/* read-only reopen via /proc/self/fd; /dev/null in ready() */
	"readlinkat",		/* lib/memfd.c explaining a refused fd (/proc/self/fd) */
	"readlink",		/* the same, older glibc */
	"getpid",		/* the log's trackerd[PID] */
	"geteuid",		/* HELLO reply's server_uid (request.c) */
	"getrandom",		/* session tokens (session.c), GRND_NONBLOCK */
	"futex",		/* a holder's end wakes the death epoch's waiters (holder.c) */
	"dup2",			/* ready(): stderr to /dev/null */
	"dup3",			/* ready(), arches without dup2 */
	"write",		/* log lines to stderr; the readiness pipe */

	/* memory (glibc malloc) */
	"brk",			/* malloc arena */
	"mmap",			/* large allocations */
	"munmap",		/* their free */
	"mremap",		/* realloc of large blocks */
	"mprotect",		/* malloc arena growth (heap pages) */
	"madvise",		/* free() trimming (MADV_DONTNEED) */

	/* exit (main.c teardown), a manager's SHUTDOWN (request.c) */
	"unlink",		/* listener_unlink(): the socket file; a manager's lock file */
	"unlinkat",		/* the same, on arches without unlink; their rmdir() */
	"rmdir",		/* listener_free(): a manager's private directory */
	"exit_group",		/* exit() */
	"exit",			/* the last thread's exit */
};

int sandbox_parse_seccomp(const char *s, enum sandbox_seccomp *ret)
{
	if (!strcmp(s, "kill"))
		*ret = SANDBOX_SECCOMP_KILL;
	else if (!strcmp(s, "log"))
		*ret = SANDBOX_SECCOMP_LOG;
	else if (!strcmp(s, "off"))
		*ret = SANDBOX_SECCOMP_OFF;
	else
		return -EINVAL;
	return 0;
}

const char *sandbox_seccomp_name(enum sandbox_seccomp mode)
{
	switch (mode) {
	case SANDBOX_SECCOMP_KILL:
		return "kill";
	case SANDBOX_SECCOMP_LOG:
		return "log";
	default:
		return "off";
	}
}

int sandbox_lookup_user(const char *name, struct sandbox_opts *o)
{
	struct passwd *pw;
	char *end;

	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		unsigned long v;

		if (errno)
			return -errno;
		/* A numeric uid that has no passwd entry: its own group. */
		errno = 0;
		v = strtoul(name, &end, 10);
		if (errno || !*name || *end || name[0] == '-' || v >= (uid_t)-1)
			return -ESRCH;
		pw = getpwuid((uid_t)v);
		o->uid = (uid_t)v;
		o->gid = pw ? pw->pw_gid : (gid_t)v;
	} else {
		o->uid = pw->pw_uid;
		o->gid = pw->pw_gid;
	}
	o->user = name;
	return 0;
}

static bool have_cap(cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (!caps)
		return false;
	(void)cap_get_flag(caps, cap, CAP_EFFECTIVE, &v);
	cap_free(caps);
	return v == CAP_SET;
}

/*
 * Empty the bounding set. Needs CAP_SETPCAP, so it comes before setuid()
 * (which clears our effective and permitted sets). Without the capability
 * (a per-user instance) there is nothing to gain from the bounding set
 * anyway: no_new_privs keeps execve() from granting anything, and the
 * filter forbids execve().
 */
static int drop_bounding_set(bool *dropped)
{
	*dropped = false;
	if (!CAP_IS_SUPPORTED(CAP_SETPCAP) || !have_cap(CAP_SETPCAP))
		return 0;
	/* Up to what the running kernel knows, which may be more than
	 * CAP_LAST_CAP of our headers. */
	for (cap_value_t c = 0; CAP_IS_SUPPORTED(c); c++) {
		if (cap_drop_bound(c) < 0)
			return -errno;
	}
	*dropped = true;
	return 0;
}

/* setgroups, setgid, setuid: in that order, the first two need the
 * privilege the last one gives up. setresuid() so that no saved uid 0 is
 * left to switch back to. */
static int drop_user(const struct sandbox_opts *o)
{
	if (geteuid() != 0) {
		log_warn("--user %s needs trackerd started as root", o->user);
		return -EPERM;
	}
	if (setgroups(1, &o->gid) < 0)
		return -errno;
	if (setresgid(o->gid, o->gid, o->gid) < 0)
		return -errno;
	if (setresuid(o->uid, o->uid, o->uid) < 0)
		return -errno;
	/* Hazard: a setuid() that silently kept root would leave us fully
	 * privileged; check rather than trust. */
	if (o->uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		return -EPERM;
	return 0;
}

/* Effective, permitted and inheritable empty; ambient empty. Allowed to
 * anyone: dropping never needs a privilege. */
static int drop_caps(void)
{
	cap_t none = cap_init();
	int r = 0;

	if (!none)
		return -errno;
	if (cap_set_proc(none) < 0)
		r = -errno;
	cap_free(none);
	if (r < 0)
		return r;
	/* Ambient capabilities need the kernel 4.3; EINVAL before. */
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		return -errno;
	return 0;
}

static int seccomp_load_list(enum sandbox_seccomp mode, unsigned *ret_n)
{
	uint32_t deflt = mode == SANDBOX_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	unsigned n = 0;
	int r = 0;

	ctx = seccomp_init(deflt);
	if (!ctx)
		return -ENOMEM;
	/* no_new_privs is set already (sandbox_enter), keep libseccomp from
	 * setting it again behind our back. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < ELEMENTSOF(allowed_syscalls); i++) {
		int nr = seccomp_syscall_resolve_name(allowed_syscalls[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			goto out;
		n++;
	}
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	*ret_n = n;
	return r;
}

int sandbox_enter(const struct sandbox_opts *o)
{
	bool bounded;
	unsigned n = 0;
	int r;

	r = drop_bounding_set(&bounded);
	if (r < 0) {
		log_warn("Failed to drop the capability bounding set: %s", strerror(-r));
		return r;
	}
	if (o->user) {
		r = drop_user(o);
		if (r < 0) {
			log_warn("Failed to switch to user %s (uid %u, gid %u): %s", o->user,
				 (unsigned)o->uid, (unsigned)o->gid, strerror(-r));
			return r;
		}
		log_info("running as user %s (uid %u, gid %u)", o->user, (unsigned)o->uid,
			 (unsigned)o->gid);
	}
	r = drop_caps();
	if (r < 0) {
		log_warn("Failed to drop capabilities: %s", strerror(-r));
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		log_warn("Failed to set no_new_privs: %s", strerror(-r));
		return r;
	}
	if (o->seccomp != SANDBOX_SECCOMP_OFF) {
		/* Last: everything above needs syscalls the list leaves out. */
		r = seccomp_load_list(o->seccomp, &n);
		if (r < 0) {
			log_warn("Failed to load the seccomp filter: %s", strerror(-r));
			return r;
		}
	}
	log_info("sandbox: no capabilities%s, no_new_privs, seccomp %s (%u syscalls allowed)",
		 bounded ? ", bounding set empty" : "", sandbox_seccomp_name(o->seccomp), n);
	return 0;
}

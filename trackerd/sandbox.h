/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trackerd's confinement, entered once, after everything it will ever open
 * is open (lock, socket, epoll, signalfd, timerfds, the index memfd):
 *
 *   1. with --user (as root): drop the bounding set while CAP_SETPCAP is
 *      still ours, then setgroups/setgid/setuid to that user;
 *   2. libcap: no capability at all (effective, permitted, inheritable,
 *      ambient; bounding set empty);
 *   3. PR_SET_NO_NEW_PRIVS;
 *   4. libseccomp: the allow-list, loaded last (sandbox.c lists it).
 */
#ifndef TRACKERD_SANDBOX_H
#define TRACKERD_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

enum sandbox_seccomp {
	SANDBOX_SECCOMP_KILL,	/* a syscall off the list kills trackerd (SIGSYS) */
	SANDBOX_SECCOMP_LOG,	/* it is allowed and logged by the kernel (audit) */
	SANDBOX_SECCOMP_OFF,	/* no filter */
};

/*
 * Sanitizer builds default to SANDBOX_SECCOMP_LOG: ASan/UBSan runtimes make
 * syscalls no allow-list can predict (LeakSanitizer's stop-the-world at exit
 * clones a tracer thread and ptraces us).
 */
#ifdef SEALSHM_SANITIZE
#define SANDBOX_SECCOMP_DEFAULT SANDBOX_SECCOMP_LOG
#else
#define SANDBOX_SECCOMP_DEFAULT SANDBOX_SECCOMP_KILL
#endif

struct sandbox_opts {
	enum sandbox_seccomp seccomp;
	const char *user;	/* NULL: keep our uid */
	uid_t uid;		/* --user's, looked up before anything else */
	gid_t gid;
};

/* "kill", "log" or "off". Returns 0 or -EINVAL. */
int sandbox_parse_seccomp(const char *s, enum sandbox_seccomp *ret);
const char *sandbox_seccomp_name(enum sandbox_seccomp mode);

/* Look up --user @name (a user name or a numeric uid) into @o. Call before
 * anything is open that NSS must not see, and before the sandbox (NSS opens
 * files and sockets the filter does not allow). Returns 0, -ESRCH (no such
 * user) or -errno. */
int sandbox_lookup_user(const char *name, struct sandbox_opts *o);

/* Enter the sandbox described above. Logs what it did. Returns 0 or -errno;
 * on failure trackerd must not serve (it may be half-dropped). */
int sandbox_enter(const struct sandbox_opts *o);

#endif /* TRACKERD_SANDBOX_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seccomp for the selftests: a process that acts as if its kernel were
 * older than a syscall.
 */
#ifndef SEALSHM_SELFTESTS_LIB_SECCOMP_H
#define SEALSHM_SELFTESTS_LIB_SECCOMP_H

#include <linux/audit.h>

#if defined(__x86_64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_AARCH64
#endif

#ifdef AUDIT_ARCH_NATIVE
/* Make futex_waitv(2) fail with ENOSYS in this process (and its children),
 * as on a kernel before 5.16.  Returns 0 or -errno. */
int helper_deny_futex_waitv(void);
#endif

#endif /* SEALSHM_SELFTESTS_LIB_SECCOMP_H */

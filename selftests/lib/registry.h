/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Waiting on what the registry of $SEALSHM_SOCKET's trackerd holds,
 * through the library: trackerd acts on a session's end after the process
 * is gone, so a test waits for a name to go, or for its count of sessions.
 */
#ifndef SEALSHM_SELFTESTS_LIB_REGISTRY_H
#define SEALSHM_SELFTESTS_LIB_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "sealshm.h"

/* Wait up to @timeout_ms for @name to leave the registry (a session's end
 * is handled by trackerd after the process is gone).  0 when gone,
 * -ETIMEDOUT when still there, or stat's error. */
int helper_wait_gone(const char *name, unsigned int timeout_ms);

/* Wait up to @timeout_ms until @name is tracked by exactly @want sessions;
 * its info goes to *@ret.  0, -ETIMEDOUT (*@ret holds the last info), or
 * stat's error. */
int helper_wait_sessions(const char *name, uint32_t want, unsigned int timeout_ms,
			 struct sealshm_info *ret);

/* Wait up to @timeout_ms until the registry holds at most @want names;
 * returns the last count (or -errno). */
int helper_wait_names(int want, unsigned int timeout_ms);

/* The library still serves: create, attach, read, unlink. */
bool library_works(void);

#endif /* SEALSHM_SELFTESTS_LIB_REGISTRY_H */

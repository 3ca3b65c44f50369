/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What only a manager has (trackerd --manager, started by
 * sealshm_manager_start()): the key its owner hands it on --auth-fd, its
 * owner's pidfd (--owner-pidfd), and the line it logs when that owner
 * exits without SHUTDOWN.  The key is served by request.c (AUTH), the
 * pidfd watched by main.c.
 */
#ifndef TRACKERD_MANAGER_H
#define TRACKERD_MANAGER_H

#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

struct registry;

/* Read the key from @fd up to EOF, at most SEALSHM_PROTO_KEY_MAX bytes (0
 * bytes: no key), into @key (zero past its length, which goes to
 * *@ret_len); @fd is closed either way. Blocks: call before serving.
 * Returns 0, or -errno reported on stderr (-EMSGSIZE: too long). */
int manager_read_key(int fd, uint8_t key[SEALSHM_PROTO_KEY_MAX], uint32_t *ret_len);

/* Check that @fd is a pidfd (or, where pidfd_open(2) is missing, a pipe's
 * read end only the owner writes to) and make it close-on-exec. Returns 0
 * and *@ret_pid, the owner's pid in our namespace (0: unknown or exited;
 * the loop then sees it at once), or -EBADF reported on stderr. */
int manager_take_owner(int fd, pid_t *ret_pid);

/* The owner (@owner_pid, 0: unknown) exited without SHUTDOWN: log which
 * of @reg's names go with trackerd, in one line. */
void manager_log_owner_exit(const struct registry *reg, pid_t owner_pid);

#endif /* TRACKERD_MANAGER_H */

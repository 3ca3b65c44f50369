// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A manager's key, its owner's pidfd, and the owner's exit.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>

#include "internal.h"
#include "log.h"
#include "manager.h"
#include "pidfd.h"
#include "registry.h"

/* Blocking is fine: nothing serves yet, and the owner closes its end once
 * the key is written. */
int manager_read_key(int fd, uint8_t key[SEALSHM_PROTO_KEY_MAX], uint32_t *ret_len)
{
	uint8_t buf[SEALSHM_PROTO_KEY_MAX + 1];
	size_t len = 0;
	int r = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* A non-blocking pipe: wait for the writer. */
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, -1) < 0 && errno != EINTR) {
				r = -errno;
				break;
			}
			continue;
		}
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SEALSHM_PROTO_KEY_MAX) {
			r = -EMSGSIZE;
			break;
		}
	}
	(void)close(fd);
	if (r == 0) {
		memset(key, 0, SEALSHM_PROTO_KEY_MAX);
		memcpy(key, buf, len);
		*ret_len = (uint32_t)len;
	}
	explicit_bzero(buf, sizeof(buf));
	if (r == -EMSGSIZE)
		fprintf(stderr, "trackerd: --auth-fd: key longer than %u bytes\n",
			SEALSHM_PROTO_KEY_MAX);
	else if (r < 0)
		fprintf(stderr, "trackerd: Failed to read the key from --auth-fd: %s\n",
			strerror(-r));
	return r;
}

int manager_take_owner(int fd, pid_t *ret_pid)
{
	pid_t pid = 0;
	int r;

	/* A pidfd's fdinfo has a "Pid:" line (-1 there: the owner has exited
	 * already, which the loop sees at once). */
	r = sealshm__pidfd_pids(fd, &pid, NULL);
	if (r < 0 && r != -ENOTTY) {
		fprintf(stderr, "trackerd: --owner-pidfd %d: %s\n", fd, strerror(-r));
		return -EBADF;
	}
	if (r == -ENOTTY) {
		struct stat st;

		/* Where pidfd_open(2) is missing (Linux < 5.3, valgrind) the
		 * library passes the read end of a pipe whose write end only
		 * its owner holds: it polls EPOLLHUP once they are all gone. */
		if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
			fprintf(stderr, "trackerd: --owner-pidfd %d is no pidfd (nor a pipe)\n",
				fd);
			return -EBADF;
		}
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "trackerd: --owner-pidfd %d: %s\n", fd, strerror(errno));
		return -EBADF;
	}
	*ret_pid = pid;
	return 0;
}

void manager_log_owner_exit(const struct registry *reg, pid_t owner_pid)
{
	/* One line: the first names that fit, then how many more. */
	char names[600];
	size_t len = 0, listed = 0, n = registry_count(reg);

	names[0] = '\0';
	for (uint32_t slot = 0, end = registry_slots(reg); slot < end; slot++) {
		const struct registry_entry *e = registry_get(reg, slot);
		size_t need;

		if (!e)
			continue;
		need = strlen(e->name) + 4;	/* ", '" ... "'" */
		if (len + need + 1 > sizeof(names))
			break;
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s'",
					listed ? ", " : "", e->name);
		listed++;
	}
	if (n > 0 && listed < n)
		(void)snprintf(names + len, sizeof(names) - len, "%s%zu more",
			       listed ? " and " : "", n - listed);
	if (n > 0 && owner_pid > 0)
		log_warn("owner pid %d exited without shutting down; unlinking %zu names: %s",
			 (int)owner_pid, n, names);
	else if (n > 0)
		log_warn("owner exited without shutting down; unlinking %zu names: %s", n, names);
	else
		log_info("owner exited, exiting");
}

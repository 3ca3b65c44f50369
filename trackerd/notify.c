// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sd_notify(3) without libsystemd (notify.h). The protocol is one datagram
 * of newline-separated VAR=VALUE assignments to $NOTIFY_SOCKET; the manager
 * learns the sender's pid from the kernel (SCM_CREDENTIALS on its side), so
 * nothing but the text is sent.
 */
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "internal.h"
#include "log.h"
#include "notify.h"

/* trackerd is single-threaded and never forks once it serves: one socket
 * for the process is enough. */
static int notify_fd = -EBADF;
static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len;
static char notify_name[sizeof(notify_addr.sun_path) + 1];	/* for the log */

/* "/path" or "@abstract" into notify_addr. systemd also accepts
 * "vsock:CID:PORT"; a trackerd has no use for a VM's manager. */
static int address_parse(const char *e)
{
	size_t len = strlen(e);

	if (e[0] != '/' && e[0] != '@')
		return -EAFNOSUPPORT;
	if (len < 2 || len > sizeof(notify_addr.sun_path))
		return -EINVAL;
	/* A path needs room for its NUL; an abstract name has none. */
	if (e[0] == '/' && len == sizeof(notify_addr.sun_path))
		return -ENAMETOOLONG;

	notify_addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
	memcpy(notify_addr.sun_path, e, len);
	if (e[0] == '@') {
		/* Abstract: a leading NUL, and the length counts exactly the
		 * name's bytes (no terminator), as the binder's did. */
		notify_addr.sun_path[0] = '\0';
		notify_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		notify_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	return 0;
}

int notify_open(bool foreground)
{
	const char *e = getenv("NOTIFY_SOCKET");
	int r;

	if (!e || !*e)
		return 0;
	/* Copied first: unsetenv() may free what getenv() returned. A value
	 * too long for an address is cut here and refused below. */
	snprintf(notify_name, sizeof(notify_name), "%s", e);
	r = strlen(e) < sizeof(notify_name) ? 0 : -ENAMETOOLONG;
	/* Nothing we start may take it for its own (trackerd execs nothing
	 * today; the variable is only ever ours). */
	(void)unsetenv("NOTIFY_SOCKET");
	if (!foreground)
		return 0;

	if (r == 0)
		r = address_parse(notify_name);
	if (r < 0) {
		log_warn("Failed to use NOTIFY_SOCKET '%s': %s", notify_name, strerror(-r));
		return r;
	}
	/* Non-blocking: a manager that does not read its socket must not
	 * stall the loop; the datagram is then dropped and logged. */
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (notify_fd < 0) {
		r = -errno;
		log_warn("Failed to open a socket for NOTIFY_SOCKET '%s': %s", notify_name,
			 strerror(-r));
		return r;
	}
	return 0;
}

void notify_send(const char *state)
{
	struct iovec iov = { .iov_base = (void *)state, .iov_len = strlen(state) };
	struct msghdr msg = {
		.msg_name = &notify_addr,
		.msg_namelen = notify_addr_len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	if (notify_fd < 0)
		return;
	/* sendmsg(), not sendto(): it is the one the seccomp list allows. */
	if (sendmsg(notify_fd, &msg, MSG_NOSIGNAL) < 0)
		log_warn("Failed to send '%s' to NOTIFY_SOCKET '%s': %s", state, notify_name,
			 strerror(errno));
}

void notify_stop(void)
{
	if (notify_fd < 0)
		return;
	notify_send("STOPPING=1");
	notify_fd = safe_close(notify_fd);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readiness for a service manager: the sd_notify(3) datagram protocol,
 * without libsystemd. $NOTIFY_SOCKET names an AF_UNIX datagram socket, a
 * path or, with a leading '@', an abstract address; trackerd sends it
 * "READY=1" once it serves and "STOPPING=1" when it begins to exit.
 *
 * The socket is created before the sandbox (socket(2) is off the seccomp
 * allow-list); sending is one sendmsg(2), which the list allows.
 */
#ifndef TRACKERD_NOTIFY_H
#define TRACKERD_NOTIFY_H

#include <stdbool.h>

/*
 * Take $NOTIFY_SOCKET (and unset it) and open a socket to send to it.
 * Only a @foreground trackerd notifies: a daemonized one is no service
 * manager's main process, and a variable it inherited from a program that
 * started it (the library's autostart) is meant for that program. Returns
 * 0 (also when there is nothing to notify) or -errno, logged; trackerd
 * serves either way.
 */
int notify_open(bool foreground);

/* Send @state ("READY=1", ...) if notify_open() opened a socket. A failure
 * is logged, never fatal: the manager's timeout decides. */
void notify_send(const char *state);

/* Send "STOPPING=1" if a socket is open, then close it. */
void notify_stop(void);

#endif /* TRACKERD_NOTIFY_H */

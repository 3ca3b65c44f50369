/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The listening socket, and the lock that makes trackerd the only one
 * serving its path.
 *
 * Either systemd passes the socket (LISTEN_PID/LISTEN_FDS, one AF_UNIX
 * SOCK_SEQPACKET listening socket; then systemd owns the path), or trackerd
 * takes an exclusive flock() on PATH.lock, held for life, and only then
 * removes a stale socket at PATH and binds a new one.
 */
#ifndef TRACKERD_LISTEN_H
#define TRACKERD_LISTEN_H

#include <stdbool.h>

struct listener;

/*
 * Take the lock on @path and listen there (or take systemd's socket).
 * Returns 0 and *@ret, -EALREADY when another trackerd serves @path,
 * -EBUSY when another holds the lock but has not answered for two seconds
 * (in both cases nothing was changed), or -errno: -ENAMETOOLONG, -EEXIST
 * (@path exists and is not a socket), -EINVAL (a passed socket of the
 * wrong kind), ...
 */
int listener_open(const char *path, struct listener **ret);

/* Listen again from this process: the kernel gives every connection the
 * credentials and pidfd of whoever called listen() last (SO_PEERCRED,
 * SO_PEERPIDFD), which after daemonizing or socket activation is another
 * process.  Clients use that pidfd for the index fast path. */
int listener_claim(struct listener *l);

/* Accept one connection, close-on-exec and non-blocking. Returns its fd,
 * -EAGAIN when none waits, or another -errno (-EMFILE ...). */
int listener_accept(struct listener *l);

int listener_fd(const struct listener *l);
const char *listener_path(const struct listener *l);
bool listener_activated(const struct listener *l);

/* Close the socket and release the lock. With @unlink_socket, remove the
 * socket file first, while the lock still keeps a successor from binding
 * (so it is ours we remove, not its). NULL is fine. Returns NULL. */
struct listener *listener_free(struct listener *l, bool unlink_socket);

#endif /* TRACKERD_LISTEN_H */

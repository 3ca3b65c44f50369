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
#include <sys/types.h>

struct listener;

/*
 * Take the lock on @path and listen there (or take systemd's socket), the
 * socket file with permission bits @mode and group @gid ((gid_t)-1: ours);
 * both are ignored for systemd's socket (its unit decides).
 * Returns 0 and *@ret, -EALREADY when another trackerd serves @path,
 * -EBUSY when another holds the lock but has not answered for two seconds
 * (in both cases nothing was changed), or -errno: -ENAMETOOLONG, -EEXIST
 * (@path exists and is not a socket), -EINVAL (a passed socket of the
 * wrong kind), ...
 */
int listener_open(const char *path, mode_t mode, gid_t gid, struct listener **ret);

/* Give the lock file to @uid and the socket file to @uid and @gid
 * ((gid_t)-1: unchanged), for --user: the next trackerd, running as that
 * user, can take the lock. Nothing for systemd's socket. */
int listener_chown(struct listener *l, uid_t uid, gid_t gid);

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

/* Remove the socket file now, while the lock still keeps a successor from
 * binding: from here on a connect() gets ENOENT, never ECONNREFUSED (a
 * manager shutting down). Connections already made are not affected. At
 * most once; nothing for systemd's socket. */
void listener_unlink(struct listener *l);

/* The socket's directory is ours alone (a manager's private directory):
 * listener_free() removes the lock file and the directory too. */
int listener_own_dir(struct listener *l);

/* Close the socket and release the lock. With @unlink_socket, remove the
 * socket file first, while the lock still keeps a successor from binding
 * (so it is ours we remove, not its); after listener_own_dir(), the lock
 * file and the directory (when empty) then go too. NULL is fine. Returns
 * NULL. */
struct listener *listener_free(struct listener *l, bool unlink_socket);

#endif /* TRACKERD_LISTEN_H */

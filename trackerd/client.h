/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Client connections: accepting them, who is at the other end (SO_PEERCRED,
 * SO_PEERGROUPS, taken at accept), reading one message at a time with its
 * fds, and the output queue of replies with their fds.
 *
 * Back-pressure: while a reply waits in the output queue, trackerd neither
 * reads that client's requests nor polls it for input (EPOLLOUT only), so a
 * client that never reads cannot make trackerd's memory grow.
 *
 * A connection is closed on end of stream, on a transport error, when the
 * request handler returns a negative errno, or after its queue is flushed
 * once client_shutdown() was called. The close handler runs then, while the
 * client's identity is still readable. Closed clients are freed from a
 * defer source, after the callbacks that may still hold them have returned.
 */
#ifndef TRACKERD_CLIENT_H
#define TRACKERD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "limits.h"
#include "perm.h"

struct listener;
struct loop;
struct client;
struct clients;
struct session;

/* The peer, as the kernel saw it at connect() time. */
struct client_cred {
	pid_t pid;
	/* uid, gid (SO_PEERCRED) and supplementary groups (SO_PEERGROUPS):
	 * what sealshm__may() checks. */
	struct sealshm__cred ids;
};

/* One received message. */
struct client_msg {
	const void *data;	/* LIMIT_REQUEST_SIZE bytes, zero past what arrived */
	size_t len;		/* bytes received; 0 when error is -ECHRNG */
	int error;		/* 0, -EXFULL (MSG_TRUNC) or -ECHRNG (fds cut or too many):
				 * every fd of such a message is already closed */
	int fds[LIMIT_FDS_PER_MSG];
	size_t nfds;		/* fds owned by the message: the handler TAKE_FD()s
				 * those it keeps, the rest are closed after it */
};

/* Handle one message. A negative errno closes the connection at once. */
typedef int (*client_handler_t)(struct client *c, struct client_msg *m, void *userdata);
/* The connection is closing (its fd is still open). Runs once per client,
 * from clients_free() too. */
typedef void (*client_close_handler_t)(struct client *c, void *userdata);

/* @handler and @close_handler (may be NULL) get @userdata. */
int clients_new(struct loop *loop, struct listener *listener, client_handler_t handler,
		client_close_handler_t close_handler, void *userdata, struct clients **ret);
/* Close every connection. NULL is fine. Returns NULL. */
struct clients *clients_free(struct clients *cs);
/* Accept at most @max connections at a time (default LIMIT_CLIENTS); one
 * more is accepted, logged and closed at once. */
void clients_set_max(struct clients *cs, size_t max);
/* Connections open (closing ones no longer count). */
size_t clients_count(const struct clients *cs);

const struct client_cred *client_cred(const struct client *c);
unsigned client_id(const struct client *c);

/* State of the request layer: HELLO done; a manager's AUTH done; a request
 * other than HELLO and AUTH seen (such a connection cannot become a
 * session); the tracking session the connection is (NULL: none; owned by
 * session.c, which clears it). */
bool client_greeted(const struct client *c);
void client_set_greeted(struct client *c);
bool client_authed(const struct client *c);
void client_set_authed(struct client *c);
bool client_used(const struct client *c);
void client_set_used(struct client *c);
struct session *client_session(const struct client *c);
void client_set_session(struct client *c, struct session *s);

/* Send @msg (@len bytes) with @fd (-EBADF for none), now or once the client
 * reads. With @take_fd, @fd belongs to the reply and is closed once sent or
 * on failure; otherwise it is duplicated if the reply has to wait (a name
 * may be unlinked, closing its fd, before the reply leaves).
 * Returns 0 or -errno (-ENOBUFS: LIMIT_OUTPUT_BYTES, -EPIPE ...). */
int client_send(struct client *c, const void *msg, size_t len, int fd, bool take_fd);

/* Read no more from @c; close it once its queued replies are sent. */
void client_shutdown(struct client *c);

/* Read now what sessions have sent (one-way TRACKs), for whoever is about
 * to look at tracking: STAT, LIST, a session's end.  Sessions are not polled
 * for input (see update_events() in client.c).  Never closes a client: one
 * that sent garbage is closed from the loop afterwards. */
void clients_drain_sessions(struct clients *cs);
/* The same for one client, if it is a session. */
void client_drain(struct client *c);

#endif /* TRACKERD_CLIENT_H */

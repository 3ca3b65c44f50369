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
 *
 * Limits on connections, so that nobody locks the others out: at most so
 * many at a time in all and per peer uid (one more is accepted and closed
 * at once), and a deadline for a connection's first message (one timer for
 * all of them: they wait in the order they came, all for the same time).
 * Refusals and closes for silence are logged in bursts (limits.h).
 *
 * What the messages mean is the user's (request.c): it keeps its own state
 * of each connection in the bytes client_data() gives it, which this layer
 * allocates and frees but never reads. That the first message must be
 * HELLO is the user's rule too: this layer only wants one in time.
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

/* What the transport's user (the request layer) hands it. */
struct client_ops {
	/* Bytes of the user's own data per connection: zeroed at accept, freed
	 * with the connection, reached with client_data(). */
	size_t data_size;
	/* Handle one message. A negative errno closes the connection at once. */
	int (*handle)(struct client *c, struct client_msg *m, void *userdata);
	/* The connection is closing (its fd and its data are still there).
	 * Runs once per client, from clients_free() too. May be NULL. */
	void (*closed)(struct client *c, void *userdata);
};

/* @ops (not copied: it must outlive the clients) get @userdata. */
int clients_new(struct loop *loop, struct listener *listener, const struct client_ops *ops,
		void *userdata, struct clients **ret);
/* Close every connection. NULL is fine. Returns NULL. */
struct clients *clients_free(struct clients *cs);
/* Accept at most @max connections at a time (default LIMIT_CLIENTS), and
 * at most @max_per_uid of them from one peer uid (clamped to 1..@max;
 * default LIMIT_CLIENTS_PER_UID(LIMIT_CLIENTS)); one more is accepted,
 * logged and closed at once. */
void clients_set_max(struct clients *cs, size_t max, size_t max_per_uid);
size_t clients_max(const struct clients *cs);
size_t clients_max_per_uid(const struct clients *cs);
/* Close a connection that has sent nothing @ms milliseconds (> 0) after it
 * was accepted (default LIMIT_FIRST_MESSAGE_MS). Set it before serving:
 * connections already waiting keep their deadline. */
void clients_set_first_message_timeout(struct clients *cs, unsigned ms);
/* Connections open (closing ones no longer count). */
size_t clients_count(const struct clients *cs);

/* The set @c belongs to. */
struct clients *client_clients(const struct client *c);
const struct client_cred *client_cred(const struct client *c);
unsigned client_id(const struct client *c);
/* The user's data of @c: client_ops.data_size bytes, suitably aligned. */
void *client_data(const struct client *c);

/* From now on, poll @c for its end only (EPOLLRDHUP) and read what it
 * sends only when asked: client_drain(), clients_drain(). For a connection
 * that carries only one-way messages whose effect is needed only now and
 * then: they then cost the sender no wakeup of trackerd. */
void client_set_passive(struct client *c);

/* Send @msg (@len bytes) with @fd (-EBADF for none), now or once the client
 * reads. With @take_fd, @fd belongs to the reply and is closed once sent or
 * on failure; otherwise it is duplicated if the reply has to wait (a name
 * may be unlinked, closing its fd, before the reply leaves).
 * Returns 0 or -errno (-ENOBUFS: LIMIT_OUTPUT_BYTES, -EPIPE ...). */
int client_send(struct client *c, const void *msg, size_t len, int fd, bool take_fd);

/* Read no more from @c; close it once its queued replies are sent. */
void client_shutdown(struct client *c);

/* Read now what passive connections have sent, for whoever is about to
 * look at its effect.  Never closes a client: one whose handler failed is
 * closed from the loop afterwards. */
void clients_drain(struct clients *cs);
/* The same for one client, if it is passive. */
void client_drain(struct client *c);

#endif /* TRACKERD_CLIENT_H */

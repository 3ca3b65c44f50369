// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Accepting connections and moving messages: reading requests with their
 * fds, queueing replies with theirs, and closing connections without
 * leaking an fd on any path. Also the limits on connections: how many in
 * all and per peer uid, and the deadline of a connection's first message.
 */
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "client.h"
#include "clock.h"
#include "fdpass.h"
#include "internal.h"
#include "listen.h"
#include "log.h"
#include "loop.h"

/* Connections accepted per readiness event of the listening socket. */
#define ACCEPT_PER_EVENT 16

/* Buckets of the uids holding connections: short chains for any number of
 * uids a machine really has connected at once. A power of two. */
#define SHARE_BUCKETS 1024

/* The connections one peer uid holds, while it holds any. */
struct uid_share {
	struct uid_share *next;		/* in its bucket */
	uid_t uid;
	size_t n;
};

/* What a burst of log lines is about: connections refused over each limit,
 * and connections closed for saying nothing in time. */
enum burst_kind {
	BURST_MAX_CLIENTS,
	BURST_MAX_PER_UID,
	BURST_SILENT,
	BURST_KINDS,
};

/* A burst: its first event was logged in full; those since are counted,
 * and the count logged when the burst's interval ends. */
struct burst {
	int64_t until_ns;	/* CLOCK_MONOTONIC end of the interval; 0: none */
	uint64_t n;		/* events since the last line */
	pid_t last_pid;		/* the last event's peer */
	uid_t last_uid;
};

struct outmsg {
	struct outmsg *next;
	int fd;			/* owned, -EBADF for none */
	size_t len;
	char data[];
};

struct client {
	struct clients *set;
	struct client *prev, *next;	/* set->live or set->dead */
	unsigned id;
	int fd;
	struct loop_source *source;
	struct client_cred cred;
	gid_t *groups;			/* owned; cred.ids.groups points here */
	struct uid_share *share;	/* its uid's count, which it is in */
	/* Until its first message (or its end) is read: on set->wait_*, in
	 * the order accepted, which is the order of their deadlines. */
	bool waiting;
	struct client *wait_prev, *wait_next;
	int64_t deadline_ns;		/* CLOCK_MONOTONIC */
	bool passive;		/* polled for its end only, read when drained */
	bool shutdown;		/* flush, then close */
	bool closing;		/* in client_close(): drains skip it */
	bool closed;		/* on set->dead, freed by the defer */
	int failed;		/* a drain met this error: close from the loop */

	struct outmsg *out_head, *out_tail;
	size_t out_bytes;

	max_align_t data[];	/* the user's, ops->data_size bytes */
};

struct clients {
	struct loop *loop;
	struct listener *listener;
	struct loop_source *accept_source;
	struct loop_source *backoff_timer;
	struct loop_source *reaper;	/* defer: frees closed clients */
	const struct client_ops *ops;
	void *userdata;

	struct client *live, *dead;
	size_t n_live;
	size_t max_live;	/* --max-clients */
	size_t max_per_uid;	/* --max-clients-per-uid */
	unsigned next_id;
	struct uid_share *shares[SHARE_BUCKETS];

	/* Connections that have sent nothing yet, oldest first, and one timer
	 * for the oldest one's deadline (armed while any waits). */
	struct client *wait_head, *wait_tail;
	int64_t first_message_ns;	/* --hello-timeout */
	struct loop_source *deadline_timer;
	bool deadline_armed;

	/* Log bursts, and one timer for the end of the next one. */
	struct burst bursts[BURST_KINDS];
	struct loop_source *burst_timer;
	bool burst_armed;

	/* One receive buffer for all: a message is handled before the next
	 * is read. Aligned for the wire structs. */
	_Alignas(8) char buf[LIMIT_REQUEST_SIZE];
};

static void list_remove(struct client **head, struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void list_push(struct client **head, struct client *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void outmsg_free(struct outmsg *o)
{
	safe_close(o->fd);
	free(o);
}

/* A one-shot timer @ns from now (at least 1 us: 0 would disarm it). */
static int timer_arm_ns(struct loop_source *timer, int64_t ns)
{
	return loop_timer_arm(timer, ns > NSEC_PER_USEC ? (uint64_t)(ns / NSEC_PER_USEC) : 1);
}

static struct uid_share **share_bucket(struct clients *cs, uid_t uid)
{
	/* Fibonacci hashing: the top bits of uid * 2^32 / phi. */
	return &cs->shares[(uint32_t)(uid * 2654435761u) >> 22];
}

_Static_assert(SHARE_BUCKETS == 1u << (32 - 22), "share_bucket() takes 10 bits");

static struct uid_share *share_find(struct clients *cs, uid_t uid)
{
	for (struct uid_share *s = *share_bucket(cs, uid); s; s = s->next)
		if (s->uid == uid)
			return s;
	return NULL;
}

/* Count one more connection of @uid. */
static int share_take(struct clients *cs, uid_t uid, struct uid_share **ret)
{
	struct uid_share *s = share_find(cs, uid);

	if (!s) {
		struct uid_share **b = share_bucket(cs, uid);

		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->uid = uid;
		s->next = *b;
		*b = s;
	}
	s->n++;
	*ret = s;
	return 0;
}

/* One connection of @s's uid fewer; the uid's entry goes with its last. */
static void share_put(struct clients *cs, struct uid_share *s)
{
	struct uid_share **p;

	assert(s->n > 0);
	if (--s->n > 0)
		return;
	for (p = share_bucket(cs, s->uid); *p != s; p = &(*p)->next)
		;
	*p = s->next;
	free(s);
}

/* An event of @kind from @pid and @uid: true when it opens a burst and is
 * to be logged in full; else it is counted, for the burst's end. */
static bool burst_event(struct clients *cs, enum burst_kind kind, pid_t pid, uid_t uid)
{
	struct burst *b = &cs->bursts[kind];
	int64_t interval = LIMIT_LOG_BURST_SEC * NSEC_PER_SEC;

	b->last_pid = pid;
	b->last_uid = uid;
	if (b->until_ns) {
		b->n++;
		return false;
	}
	/* The timer, when armed, ends an earlier burst first and is armed
	 * again for this one then. Without a timer, no burst: every event
	 * is logged rather than counted and never told. */
	if (!cs->burst_armed) {
		if (timer_arm_ns(cs->burst_timer, interval) < 0)
			return true;
		cs->burst_armed = true;
	}
	b->until_ns = sealshm__now_ns(CLOCK_MONOTONIC) + interval;
	return true;
}

/* The line that ends an interval of @kind's burst with @b->n events. */
static void burst_log_count(const struct clients *cs, enum burst_kind kind, const struct burst *b)
{
	unsigned long long n = (unsigned long long)b->n;

	switch (kind) {
	case BURST_MAX_CLIENTS:
		log_info("refused %llu more connections in %d s: %zu clients already "
			 "(--max-clients); the last from pid %d (uid %u)", n, LIMIT_LOG_BURST_SEC,
			 cs->max_live, (int)b->last_pid, (unsigned)b->last_uid);
		break;
	case BURST_MAX_PER_UID:
		log_info("refused %llu more connections in %d s: a uid held %zu already "
			 "(--max-clients-per-uid); the last from pid %d (uid %u)", n,
			 LIMIT_LOG_BURST_SEC, cs->max_per_uid, (int)b->last_pid,
			 (unsigned)b->last_uid);
		break;
	case BURST_SILENT:
		log_info("closed %llu more connections in %d s: nothing received within %lld ms "
			 "(--hello-timeout); the last of pid %d (uid %u)", n, LIMIT_LOG_BURST_SEC,
			 (long long)(cs->first_message_ns / NSEC_PER_MSEC), (int)b->last_pid,
			 (unsigned)b->last_uid);
		break;
	case BURST_KINDS:
		assert(false);
	}
}

/* The end of a burst's interval: the count of what came in it, and the
 * next interval if anything did; else the burst is over. */
static int on_burst_end(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct clients *cs = userdata;
	int64_t now = sealshm__now_ns(CLOCK_MONOTONIC), next = 0;

	(void)revents;
	cs->burst_armed = false;
	for (int k = 0; k < BURST_KINDS; k++) {
		struct burst *b = &cs->bursts[k];

		if (!b->until_ns)
			continue;
		if (b->until_ns <= now) {
			if (b->n == 0) {
				b->until_ns = 0;
				continue;
			}
			burst_log_count(cs, k, b);
			b->n = 0;
			b->until_ns = now + LIMIT_LOG_BURST_SEC * NSEC_PER_SEC;
		}
		if (!next || b->until_ns < next)
			next = b->until_ns;
	}
	if (!next)
		return 0;
	cs->burst_armed = true;
	return timer_arm_ns(s, next - now);
}

/* @c has sent its first message (or ended): no deadline any more. */
static void wait_remove(struct client *c)
{
	struct clients *cs = c->set;

	if (!c->waiting)
		return;
	if (c->wait_prev)
		c->wait_prev->wait_next = c->wait_next;
	else
		cs->wait_head = c->wait_next;
	if (c->wait_next)
		c->wait_next->wait_prev = c->wait_prev;
	else
		cs->wait_tail = c->wait_prev;
	c->wait_prev = c->wait_next = NULL;
	c->waiting = false;
}

/* @c, just accepted, waits for its first message until its deadline: last
 * in the queue, as every deadline is as far from its accept. The timer,
 * once armed, is left as it is when the oldest goes; it finds the next
 * oldest when it fires. */
static int wait_add(struct client *c)
{
	struct clients *cs = c->set;

	c->deadline_ns = sealshm__now_ns(CLOCK_MONOTONIC) + cs->first_message_ns;
	c->wait_prev = cs->wait_tail;
	c->wait_next = NULL;
	if (cs->wait_tail)
		cs->wait_tail->wait_next = c;
	else
		cs->wait_head = c;
	cs->wait_tail = c;
	c->waiting = true;
	if (!cs->deadline_armed) {
		int r = timer_arm_ns(cs->deadline_timer, cs->first_message_ns);

		if (r < 0)
			return r;
		cs->deadline_armed = true;
	}
	return 0;
}

/* Close the connection now; the struct is freed by the reaper. @error is
 * 0 for an orderly end. */
static void client_close(struct client *c, int error)
{
	struct clients *cs = c->set;

	if (c->closed)
		return;

	/* A peer that hangs up with replies unread ends like any other. */
	if (error == -ECONNRESET || error == -EPIPE)
		error = 0;
	if (error < 0)
		log_info("closing connection %u of pid %d: %s", c->id, (int)c->cred.pid,
			 strerror(-error));
	else
		log_debug("connection %u of pid %d closed", c->id, (int)c->cred.pid);

	/* The user's end of the connection (a session ends here, and its
	 * names may be unlinked): before anything is torn down, and exactly
	 * once, as c->closed is set below. */
	c->closing = true;
	if (cs->ops->closed)
		cs->ops->closed(c, cs->userdata);

	c->source = loop_source_free(c->source);
	c->fd = safe_close(c->fd);
	while (c->out_head) {
		struct outmsg *o = c->out_head;

		c->out_head = o->next;
		outmsg_free(o);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;

	c->closed = true;
	wait_remove(c);
	if (c->share)
		share_put(cs, c->share);
	c->share = NULL;
	list_remove(&cs->live, c);
	list_push(&cs->dead, c);
	cs->n_live--;
	(void)loop_source_enable(cs->reaper, true);
}

static struct client *client_free(struct client *c)
{
	free(c->groups);
	free(c);
	return NULL;
}

static int reap(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct clients *cs = userdata;

	(void)revents;
	while (cs->dead) {
		struct client *c = cs->dead;

		list_remove(&cs->dead, c);
		client_free(c);
	}
	return loop_source_enable(s, false);
}

/* Poll for output while a reply waits, else for input, else (shut down and
 * flushed) close.  A passive client is watched for its end only
 * (EPOLLRDHUP; HUP and ERR always come): what it sends is read by
 * client_drain() whenever its effect is about to be seen. */
static int update_events(struct client *c)
{
	if (c->out_head)
		return loop_io_set_events(c->source, EPOLLOUT);
	if (c->shutdown) {
		client_close(c, 0);
		return 0;
	}
	return loop_io_set_events(c->source, c->passive ? EPOLLRDHUP : EPOLLIN);
}

static int flush(struct client *c)
{
	struct outmsg *o;

	while ((o = c->out_head)) {
		int r = sealshm__send(c->fd, o->data, o->len, &o->fd, o->fd >= 0 ? 1 : 0,
				      MSG_DONTWAIT);

		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		c->out_head = o->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_bytes -= o->len;
		outmsg_free(o);
	}
	return 0;
}

int client_send(struct client *c, const void *msg, size_t len, int fd, bool take_fd)
{
	_cleanup_close_ int owned = take_fd ? fd : -EBADF;
	struct outmsg *o;
	int r;

	if (c->closed)
		return -EPIPE;

	if (!c->out_head) {
		r = sealshm__send(c->fd, msg, len, &fd, fd >= 0 ? 1 : 0, MSG_DONTWAIT);
		if (r != -EAGAIN)
			return r;
	}

	/* The client does not read: queue the reply. */
	if (c->out_bytes + len > LIMIT_OUTPUT_BYTES)
		return -ENOBUFS;
	o = malloc(sizeof(*o) + len);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = len;
	memcpy(o->data, msg, len);
	if (take_fd) {
		o->fd = TAKE_FD(owned);
	} else if (fd >= 0) {
		o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (o->fd < 0) {
			r = -errno;
			free(o);
			return r;
		}
	} else {
		o->fd = -EBADF;
	}

	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += len;
	return update_events(c);
}

void client_shutdown(struct client *c)
{
	c->shutdown = true;
}

/* Read and handle up to LIMIT_MSGS_PER_EVENT messages; stop early once a
 * reply has to wait (back-pressure) or the handler shut the client down. */
static int read_requests(struct client *c)
{
	struct clients *cs = c->set;

	for (int i = 0; i < LIMIT_MSGS_PER_EVENT; i++) {
		struct client_msg m = {
			.data = cs->buf,
			.fds = { [0 ... LIMIT_FDS_PER_MSG - 1] = -EBADF },
		};
		ssize_t n;
		int r;

		if (c->closed || c->shutdown || c->out_head)
			return 0;

		memset(cs->buf, 0, sizeof(cs->buf));
		n = sealshm__recv(c->fd, cs->buf, sizeof(cs->buf), m.fds, LIMIT_FDS_PER_MSG,
				  &m.nfds, MSG_DONTWAIT);
		if (n == -EAGAIN)
			return 0;
		/* Whatever came (a message, even a bad one, an error, the end)
		 * came in time. */
		wait_remove(c);
		if (n == -EXFULL || n == -ECHRNG) {
			/* Still a message to answer (its header is in buf when
			 * it arrived); sealshm__recv() closed its fds. */
			m.error = (int)n;
			m.len = n == -EXFULL ? sizeof(cs->buf) : 0;
			m.nfds = 0;
		} else if (n < 0) {
			return (int)n;
		} else if (n == 0) {
			/* End of stream. (A zero-length SOCK_SEQPACKET message
			 * reads the same; it is no valid request either.) */
			client_close(c, 0);
			return 0;
		} else {
			m.len = (size_t)n;
		}

		r = cs->ops->handle(c, &m, cs->userdata);
		/* Whatever the handler did not take, on every path. */
		for (size_t k = 0; k < m.nfds; k++)
			safe_close(m.fds[k]);
		if (r < 0)
			return r;
	}
	return 0;
}

void client_drain(struct client *c)
{
	struct clients *cs = c->set;

	if (!c->passive || c->closing || c->closed || c->failed)
		return;
	for (;;) {
		struct client_msg m = {
			.data = cs->buf,
			.fds = { [0 ... LIMIT_FDS_PER_MSG - 1] = -EBADF },
		};
		ssize_t n;
		int r;

		memset(cs->buf, 0, sizeof(cs->buf));
		n = sealshm__recv(c->fd, cs->buf, sizeof(cs->buf), m.fds, LIMIT_FDS_PER_MSG,
				  &m.nfds, MSG_DONTWAIT);
		/* The end of the stream is the loop's to handle (HUP): a drain
		 * runs inside other work and must not close a client under it. */
		if (n == -EAGAIN || n == 0)
			return;
		if (n == -EXFULL || n == -ECHRNG) {
			m.error = (int)n;	/* the handler decides */
			m.nfds = 0;
			r = cs->ops->handle(c, &m, cs->userdata);
		} else if (n < 0) {
			r = (int)n;
		} else {
			m.len = (size_t)n;
			r = cs->ops->handle(c, &m, cs->userdata);
		}
		for (size_t k = 0; k < m.nfds; k++)
			safe_close(m.fds[k]);
		if (r < 0 || c->shutdown) {
			/* Closed from the loop, where it is safe: any event
			 * will do, and a socket is writable. */
			c->failed = r < 0 ? r : -EPROTO;
			(void)loop_io_set_events(c->source, EPOLLOUT);
			return;
		}
	}
}

void clients_drain(struct clients *cs)
{
	for (struct client *c = cs->live; c; c = c->next)
		client_drain(c);
}

static int client_io(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct client *c = userdata;
	int r = 0;

	(void)s;
	if (c->failed)
		r = c->failed;
	if (r >= 0 && (revents & EPOLLOUT))
		r = flush(c);
	/* EPOLLHUP and EPOLLERR: the read (or the flush) meets the error or
	 * the end of stream and closes. */
	if (r >= 0 && (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		r = read_requests(c);
	if (r >= 0 && !c->closed)
		r = update_events(c);
	if (r < 0)
		/* A client's failure is the client's end, never the daemon's. */
		client_close(c, r);
	return 0;
}

/* SO_PEERGROUPS (Linux 4.13): the peer's supplementary groups. ERANGE
 * reports the size needed. Without it the peer has no groups to us. */
static int peer_groups(int fd, gid_t **ret, size_t *ret_n)
{
	socklen_t len = 32 * sizeof(gid_t);

	for (;;) {
		gid_t *g = malloc(len ? len : 1);
		socklen_t l = len;

		if (!g)
			return -ENOMEM;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &l) == 0) {
			*ret = g;
			*ret_n = l / sizeof(gid_t);
			return 0;
		}
		free(g);
		if (errno == ENOPROTOOPT || errno == ENODATA) {
			*ret = NULL;
			*ret_n = 0;
			return 0;
		}
		if (errno != ERANGE || l <= len || l > NGROUPS_MAX * sizeof(gid_t))
			return -errno;
		len = l;
	}
}

/* Take an accepted connection (its fd is ours, on every path). */
static int client_add(struct clients *cs, int fd)
{
	_cleanup_close_ int cfd = fd;
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct uid_share *share;
	struct client *c;
	int r;

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;

	/*
	 * Over a limit: closed at once (the fd goes on return), with a log
	 * line per burst. The total caps trackerd's fds (limits.h); a uid's
	 * share of it leaves the other uids room.
	 */
	if (cs->n_live >= cs->max_live) {
		if (burst_event(cs, BURST_MAX_CLIENTS, uc.pid, uc.uid))
			log_info("refused connection from pid %d (uid %u): %zu clients already "
				 "(--max-clients)", (int)uc.pid, (unsigned)uc.uid, cs->max_live);
		return 0;
	}
	share = share_find(cs, uc.uid);
	if (share && share->n >= cs->max_per_uid) {
		if (burst_event(cs, BURST_MAX_PER_UID, uc.pid, uc.uid))
			log_info("refused connection from pid %d (uid %u): uid %u holds %zu "
				 "connections already (--max-clients-per-uid)", (int)uc.pid,
				 (unsigned)uc.uid, (unsigned)uc.uid, share->n);
		return 0;
	}

	c = calloc(1, sizeof(*c) + cs->ops->data_size);
	if (!c)
		return -ENOMEM;
	c->set = cs;
	c->fd = -EBADF;
	c->cred.pid = uc.pid;
	c->cred.ids.uid = uc.uid;
	c->cred.ids.gid = uc.gid;
	r = peer_groups(cfd, &c->groups, &c->cred.ids.n_groups);
	if (r < 0) {
		client_free(c);
		return r;
	}
	c->cred.ids.groups = c->groups;
	r = share_take(cs, uc.uid, &c->share);
	if (r < 0) {
		client_free(c);
		return r;
	}
	r = loop_add_io(cs->loop, cfd, EPOLLIN, client_io, c, &c->source);
	if (r < 0) {
		share_put(cs, c->share);
		client_free(c);
		return r;
	}
	c->fd = TAKE_FD(cfd);
	c->id = ++cs->next_id;
	list_push(&cs->live, c);
	cs->n_live++;

	log_debug("connection %u from pid %d (uid %u, gid %u)", c->id, (int)c->cred.pid,
		  (unsigned)c->cred.ids.uid, (unsigned)c->cred.ids.gid);

	r = wait_add(c);
	if (r < 0)
		/* No deadline to keep: not served either. */
		client_close(c, r);
	return 0;
}

/* The deadline of the oldest connections that have sent nothing has come.
 * Each is read first: its first message may be waiting, sent in time, for
 * a loop that was busy (or met this timer's event before its socket's).
 * The rest are closed. Then the timer waits for the next oldest. */
static int on_deadline(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct clients *cs = userdata;
	int64_t now = sealshm__now_ns(CLOCK_MONOTONIC);

	(void)revents;
	cs->deadline_armed = false;
	while (cs->wait_head && cs->wait_head->deadline_ns <= now) {
		struct client *c = cs->wait_head;

		(void)client_io(c->source, EPOLLIN, c);
		if (!c->waiting)
			continue;	/* heard from, or closed */
		wait_remove(c);
		if (burst_event(cs, BURST_SILENT, c->cred.pid, c->cred.ids.uid))
			log_info("closing connection %u of pid %d (uid %u): nothing received "
				 "within %lld ms (--hello-timeout)", c->id, (int)c->cred.pid,
				 (unsigned)c->cred.ids.uid,
				 (long long)(cs->first_message_ns / NSEC_PER_MSEC));
		client_close(c, 0);
	}
	if (!cs->wait_head)
		return 0;
	cs->deadline_armed = true;
	return timer_arm_ns(s, cs->wait_head->deadline_ns - now);
}

static int on_accept(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct clients *cs = userdata;

	(void)revents;
	for (int i = 0; i < ACCEPT_PER_EVENT; i++) {
		int fd = listener_accept(cs->listener);
		int r;

		if (fd == -EAGAIN)
			return 0;
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
			/* The connection stays in the backlog and the socket
			 * readable: polling it now would spin. Pause instead. */
			log_warn("Failed to accept a connection: %s; pausing", strerror(-fd));
			r = loop_timer_arm(cs->backoff_timer, LIMIT_ACCEPT_BACKOFF_USEC);
			if (r < 0)
				return r;
			return loop_source_enable(s, false);
		}
		if (fd < 0) {
			log_warn("Failed to accept a connection: %s", strerror(-fd));
			return 0;
		}

		r = client_add(cs, fd);
		if (r < 0)
			log_warn("Failed to set up a connection: %s", strerror(-r));
	}
	return 0;
}

static int on_backoff(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct clients *cs = userdata;

	(void)s;
	(void)revents;
	return loop_source_enable(cs->accept_source, true);
}

int clients_new(struct loop *loop, struct listener *listener, const struct client_ops *ops,
		void *userdata, struct clients **ret)
{
	struct clients *cs;
	int r;

	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	cs->loop = loop;
	cs->listener = listener;
	cs->ops = ops;
	cs->userdata = userdata;
	cs->max_live = LIMIT_CLIENTS;
	cs->max_per_uid = LIMIT_CLIENTS_PER_UID(LIMIT_CLIENTS);
	cs->first_message_ns = LIMIT_FIRST_MESSAGE_MS * NSEC_PER_MSEC;

	r = loop_add_defer(loop, reap, cs, &cs->reaper);
	if (r >= 0)
		r = loop_add_timer(loop, on_backoff, cs, &cs->backoff_timer);
	if (r >= 0)
		r = loop_add_timer(loop, on_deadline, cs, &cs->deadline_timer);
	if (r >= 0)
		r = loop_add_timer(loop, on_burst_end, cs, &cs->burst_timer);
	if (r >= 0)
		r = loop_add_io(loop, listener_fd(listener), EPOLLIN, on_accept, cs,
				&cs->accept_source);
	if (r < 0) {
		clients_free(cs);
		return r;
	}
	*ret = cs;
	return 0;
}

struct clients *clients_free(struct clients *cs)
{
	if (!cs)
		return NULL;
	while (cs->live)
		client_close(cs->live, 0);
	while (cs->dead) {
		struct client *c = cs->dead;

		list_remove(&cs->dead, c);
		client_free(c);
	}
	loop_source_free(cs->accept_source);
	loop_source_free(cs->backoff_timer);
	loop_source_free(cs->deadline_timer);
	loop_source_free(cs->burst_timer);
	loop_source_free(cs->reaper);
	free(cs);
	return NULL;
}

void clients_set_max(struct clients *cs, size_t max, size_t max_per_uid)
{
	cs->max_live = max;
	cs->max_per_uid = max_per_uid == 0 ? 1 : max_per_uid > max ? max : max_per_uid;
}

size_t clients_max(const struct clients *cs)
{
	return cs->max_live;
}

size_t clients_max_per_uid(const struct clients *cs)
{
	return cs->max_per_uid;
}

void clients_set_first_message_timeout(struct clients *cs, unsigned ms)
{
	assert(ms > 0);
	cs->first_message_ns = (int64_t)ms * NSEC_PER_MSEC;
}

size_t clients_count(const struct clients *cs)
{
	return cs->n_live;
}

struct clients *client_clients(const struct client *c)
{
	return c->set;
}

const struct client_cred *client_cred(const struct client *c)
{
	return &c->cred;
}

unsigned client_id(const struct client *c)
{
	return c->id;
}

void *client_data(const struct client *c)
{
	return (void *)c->data;
}

void client_set_passive(struct client *c)
{
	c->passive = true;
}

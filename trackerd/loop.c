// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The event loop: epoll, with timers as timerfds and signals as a signalfd,
 * so every wakeup is an fd and epoll_wait() needs no timeout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"
#include "loop.h"

/* Events fetched per epoll_wait(); more stay pending for the next one. */
#define LOOP_EVENTS_MAX 64

enum source_type {
	SOURCE_IO,
	SOURCE_TIMER,
	SOURCE_SIGNAL,
	SOURCE_DEFER,
};

struct loop_source {
	struct loop *loop;
	enum source_type type;
	int fd;			/* io: the caller's; timer, signal: ours; defer: -EBADF */
	uint32_t events;	/* io: what the caller wants */
	bool enabled;
	bool in_epoll;
	bool dead;		/* freed; released at the end of the iteration */
	loop_callback_t callback;
	void *userdata;
	struct signalfd_siginfo siginfo;
	struct loop_source *prev, *next;
};

struct loop {
	int epoll_fd;
	struct loop_source *sources;	/* every source, dead ones until the sweep */
	bool dispatching;
	bool have_dead;
	bool exiting;
	int exit_code;
};

int loop_new(struct loop **ret)
{
	struct loop *l;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll_fd < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void source_release(struct loop_source *s)
{
	struct loop *l = s->loop;

	if (s->prev)
		s->prev->next = s->next;
	else
		l->sources = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

/* Release dead sources. Only between iterations: until then a dead source
 * may still be named by an epoll event fetched in this round. */
static void sweep(struct loop *l)
{
	struct loop_source *s, *next;

	if (!l->have_dead)
		return;
	for (s = l->sources; s; s = next) {
		next = s->next;
		if (s->dead)
			source_release(s);
	}
	l->have_dead = false;
}

struct loop *loop_free(struct loop *l)
{
	if (!l)
		return NULL;
	l->dispatching = false;
	while (l->sources) {
		struct loop_source *s = l->sources;

		if (s->dead)
			source_release(s);
		else
			loop_source_free(s);	/* releases it, not dispatching */
	}
	safe_close(l->epoll_fd);
	free(l);
	return NULL;
}

/* Bring the epoll registration in line with the source's state. An fd is
 * removed rather than registered for no events, because epoll reports
 * EPOLLHUP and EPOLLERR even then (epoll_ctl(2)). */
static int source_update(struct loop_source *s)
{
	struct epoll_event ev = { .data.ptr = s };
	bool want;

	if (s->type == SOURCE_DEFER)
		return 0;

	want = s->enabled && !s->dead && (s->type != SOURCE_IO || s->events != 0);
	ev.events = s->type == SOURCE_IO ? s->events : EPOLLIN;

	if (want) {
		if (epoll_ctl(s->loop->epoll_fd, s->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
			      s->fd, &ev) < 0)
			return -errno;
		s->in_epoll = true;
	} else if (s->in_epoll) {
		if (epoll_ctl(s->loop->epoll_fd, EPOLL_CTL_DEL, s->fd, NULL) < 0)
			return -errno;
		s->in_epoll = false;
	}
	return 0;
}

static int source_new(struct loop *l, enum source_type type, int fd, uint32_t events,
		      bool enabled, loop_callback_t cb, void *userdata, struct loop_source **ret)
{
	struct loop_source *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct loop_source){
		.loop = l,
		.type = type,
		.fd = fd,
		.events = events,
		.enabled = enabled,
		.callback = cb,
		.userdata = userdata,
	};

	r = source_update(s);
	if (r < 0) {
		free(s);
		return r;
	}

	/* At the head: a source added during an iteration is not visited by
	 * the defer walk already under way. */
	s->next = l->sources;
	if (l->sources)
		l->sources->prev = s;
	l->sources = s;

	*ret = s;
	return 0;
}

int loop_add_io(struct loop *l, int fd, uint32_t events, loop_callback_t cb, void *userdata,
		struct loop_source **ret)
{
	if (fd < 0)
		return -EBADF;
	return source_new(l, SOURCE_IO, fd, events, true, cb, userdata, ret);
}

int loop_io_set_events(struct loop_source *s, uint32_t events)
{
	assert(s->type == SOURCE_IO);
	if (s->events == events)
		return 0;
	s->events = events;
	return source_update(s);
}

int loop_add_timer(struct loop *l, loop_callback_t cb, void *userdata, struct loop_source **ret)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = source_new(l, SOURCE_TIMER, fd, EPOLLIN, true, cb, userdata, ret);
	if (r < 0)
		return r;
	TAKE_FD(fd);
	return 0;
}

int loop_timer_arm(struct loop_source *s, uint64_t usec)
{
	struct itimerspec its = {
		.it_value.tv_sec = usec / 1000000,
		.it_value.tv_nsec = (usec % 1000000) * 1000,
	};

	assert(s->type == SOURCE_TIMER);
	/* timerfd_settime() also clears an expiry not yet read: if it was
	 * already fetched by epoll this round, the read in dispatch() gets
	 * EAGAIN and the stale expiry is skipped. */
	if (timerfd_settime(s->fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int loop_add_signal(struct loop *l, const sigset_t *mask, loop_callback_t cb, void *userdata,
		    struct loop_source **ret)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = source_new(l, SOURCE_SIGNAL, fd, EPOLLIN, true, cb, userdata, ret);
	if (r < 0)
		return r;
	TAKE_FD(fd);
	return 0;
}

const struct signalfd_siginfo *loop_signal_info(const struct loop_source *s)
{
	assert(s->type == SOURCE_SIGNAL);
	return &s->siginfo;
}

int loop_add_defer(struct loop *l, loop_callback_t cb, void *userdata, struct loop_source **ret)
{
	return source_new(l, SOURCE_DEFER, -EBADF, 0, false, cb, userdata, ret);
}

int loop_source_enable(struct loop_source *s, bool enable)
{
	if (s->enabled == enable)
		return 0;
	s->enabled = enable;
	return source_update(s);
}

bool loop_source_is_enabled(const struct loop_source *s)
{
	return s->enabled;
}

struct loop *loop_source_loop(const struct loop_source *s)
{
	return s->loop;
}

struct loop_source *loop_source_free(struct loop_source *s)
{
	struct loop *l;

	if (!s || s->dead)
		return NULL;
	l = s->loop;

	/* Out of epoll before the owner closes an io fd: a closed fd whose file
	 * is still open elsewhere (a dup, a forked child) would stay registered. */
	s->dead = true;
	s->enabled = false;
	(void)source_update(s);
	if (s->type == SOURCE_TIMER || s->type == SOURCE_SIGNAL)
		s->fd = safe_close(s->fd);

	if (l->dispatching)
		l->have_dead = true;
	else
		source_release(s);
	return NULL;
}

static void dispatch(struct loop_source *s, uint32_t revents)
{
	uint64_t expirations;
	ssize_t n;
	int r;

	switch (s->type) {
	case SOURCE_IO:
		/* The source may have changed what it wants since the wait. */
		revents &= s->events | EPOLLERR | EPOLLHUP;
		if (!revents)
			return;
		break;
	case SOURCE_TIMER:
		/* Read the expiry, or the level-triggered fd stays ready. */
		n = read(s->fd, &expirations, sizeof(expirations));
		if (n != sizeof(expirations))
			return;	/* EAGAIN: re-armed since the wait */
		break;
	case SOURCE_SIGNAL:
		n = read(s->fd, &s->siginfo, sizeof(s->siginfo));
		if (n != sizeof(s->siginfo))
			return;
		break;
	case SOURCE_DEFER:
		break;
	}

	r = s->callback(s, revents, s->userdata);
	if (r < 0 && !s->dead) {
		log_warn("Failed to handle an event: %s; source disabled", strerror(-r));
		(void)loop_source_enable(s, false);
	}
}

static void run_defers(struct loop *l)
{
	/* Dead sources stay linked until the sweep, so the walk survives a
	 * callback freeing any source, the next one included. */
	for (struct loop_source *s = l->sources; s && !l->exiting; s = s->next)
		if (s->type == SOURCE_DEFER && s->enabled && !s->dead)
			dispatch(s, 0);
}

int loop_run(struct loop *l)
{
	struct epoll_event events[LOOP_EVENTS_MAX];

	while (!l->exiting) {
		int n;

		l->dispatching = true;
		run_defers(l);
		l->dispatching = false;
		sweep(l);
		if (l->exiting)
			break;

		/* No timeout: timers are fds too. */
		n = epoll_wait(l->epoll_fd, events, LOOP_EVENTS_MAX, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}

		l->dispatching = true;
		for (int i = 0; i < n && !l->exiting; i++) {
			struct loop_source *s = events[i].data.ptr;

			/* Freed or disabled by an earlier callback of this round
			 * (the memory of a freed one lives until the sweep). */
			if (s->dead || !s->enabled)
				continue;
			dispatch(s, events[i].events);
		}
		l->dispatching = false;
		sweep(l);
	}
	return l->exit_code;
}

void loop_exit(struct loop *l, int code)
{
	l->exiting = true;
	l->exit_code = code;
}

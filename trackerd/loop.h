/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small epoll event loop (after redis ae.c and sd-event). It owns the
 * epoll fd, the timerfds and signalfds of its sources, and the sources
 * themselves; io sources watch an fd their caller owns.
 *
 * An iteration: run enabled defer sources; wait; dispatch every ready
 * source, skipping any disabled or freed earlier in the same iteration;
 * release freed sources. Until loop_exit().
 *
 * A callback returning a negative errno gets its source disabled (and a log
 * line); the loop itself goes on. Callers that own a connection handle their
 * own errors (client.c closes the client) and return 0.
 */
#ifndef TRACKERD_LOOP_H
#define TRACKERD_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

struct loop;
struct loop_source;

/* @revents: EPOLL* bits for io sources, EPOLLIN for the others. */
typedef int (*loop_callback_t)(struct loop_source *s, uint32_t revents, void *userdata);

int loop_new(struct loop **ret);
/* Frees every source still attached. NULL is fine. Returns NULL. */
struct loop *loop_free(struct loop *l);

/* Run until loop_exit(); returns its code, or -errno if epoll_wait fails. */
int loop_run(struct loop *l);
/* Stop after the current callback; loop_run() returns @code. */
void loop_exit(struct loop *l, int code);

/* Watch @fd (not owned, must outlive the source) for @events (EPOLLIN,
 * EPOLLOUT; 0 = nothing, not even EPOLLHUP). Enabled. */
int loop_add_io(struct loop *l, int fd, uint32_t events, loop_callback_t cb, void *userdata,
		struct loop_source **ret);
int loop_io_set_events(struct loop_source *s, uint32_t events);

/* A one-shot CLOCK_MONOTONIC timer, created disarmed and enabled. */
int loop_add_timer(struct loop *l, loop_callback_t cb, void *userdata, struct loop_source **ret);
/* Fire once, @usec from now; 0 disarms. A pending expiry is forgotten. */
int loop_timer_arm(struct loop_source *s, uint64_t usec);

/* Signals of @mask, which the caller has blocked (sigprocmask). Enabled.
 * In the callback, loop_signal_info() is the signal being dispatched. */
int loop_add_signal(struct loop *l, const sigset_t *mask, loop_callback_t cb, void *userdata,
		    struct loop_source **ret);
const struct signalfd_siginfo *loop_signal_info(const struct loop_source *s);

/* Runs once per iteration, before the wait, while enabled. It does not
 * wake the loop: enable it from a callback, disable it once done.
 * Created disabled. */
int loop_add_defer(struct loop *l, loop_callback_t cb, void *userdata, struct loop_source **ret);

int loop_source_enable(struct loop_source *s, bool enable);
bool loop_source_is_enabled(const struct loop_source *s);
struct loop *loop_source_loop(const struct loop_source *s);

/* Stop watching and release @s (its own fds too; an io source's fd is left
 * open). Safe from any callback, @s's own included. NULL is fine. */
struct loop_source *loop_source_free(struct loop_source *s);

#endif /* TRACKERD_LOOP_H */

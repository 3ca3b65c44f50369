// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd: the sealshm registry daemon. main() parses the command line and
 * takes the fds it names; run() is the start-up order, one step each: the
 * log, the fd limit, the socket (lock and listen), daemonizing, signals,
 * the loop, the registry, clients, --idle-exit, the sandbox (sandbox.h),
 * ready; then the loop runs, and teardown() undoes what was done.
 *
 * A manager (--manager, started by sealshm_manager_start()) is the same
 * daemon as its owner's child: in the foreground, quiet, deaf to SIGINT,
 * serving a private directory that it removes when it exits, and exiting
 * as soon as its owner does (--owner-pidfd).
 */
#include <limits.h>
#include <signal.h>
#include <sys/epoll.h>

#include "client.h"
#include "clock.h"
#include "daemon.h"
#include "holder.h"
#include "index.h"
#include "internal.h"
#include "limits.h"
#include "listen.h"
#include "locate.h"
#include "log.h"
#include "loop.h"
#include "manager.h"
#include "notify.h"
#include "options.h"
#include "proto.h"
#include "registry.h"
#include "request.h"
#include "sandbox.h"
#include "session.h"

/* A usage error, a bad option or a bad fd named by one. */
#define EXIT_USAGE 2

/* What trackerd runs with: set up by the steps of run() in this order, torn
 * down by teardown() in the reverse one. */
struct trackerd {
	struct options opts;

	/* A manager's key (kept in memory only, zero past its length) and
	 * its owner's pid (from the pidfd's fdinfo; 0: unknown). */
	uint8_t key[SEALSHM_PROTO_KEY_MAX];
	uint32_t key_len;
	pid_t owner_pid;

	uint64_t nofile;		/* RLIMIT_NOFILE's soft limit, raised */
	char path[PATH_MAX];		/* the socket's */
	struct listener *listener;
	int ready_fd;			/* daemonized: the pipe to the waiting parent */
	sigset_t signals;		/* blocked, read through a signalfd */

	struct loop *loop;
	struct loop_source *signal_source;
	struct loop_source *owner_source;	/* --owner-pidfd */
	struct index *index;		/* NULL: none (a manager, or it failed) */
	struct holders *holders;	/* NULL: none (it failed) */
	struct registry *registry;
	struct sessions *sessions;
	struct requests *requests;
	struct clients *clients;
	struct loop_source *idle_timer;	/* --idle-exit */
	struct loop_source *idle_check;
	bool idle_armed;
};

/* The owner's pidfd polls readable: it has exited without SHUTDOWN (a
 * crash, kill -9, or it forgot). Its names must not outlive it (CPython's
 * SharedMemoryManager leaks them here): say which ones go, then exit; they
 * go with the registry. */
static int on_owner_exit(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct trackerd *t = userdata;

	(void)revents;
	manager_log_owner_exit(t->registry, t->owner_pid);
	loop_exit(t->loop, EXIT_SUCCESS);
	/* Level-triggered: it would fire on every further wait. */
	return loop_source_enable(s, false);
}

static int on_signal(struct loop_source *s, uint32_t revents, void *userdata)
{
	const struct signalfd_siginfo *si = loop_signal_info(s);
	struct trackerd *t = userdata;

	(void)revents;
	if (si->ssi_signo == SIGHUP) {
		log_info("SIGHUP from pid %u ignored", si->ssi_pid);
		return 0;
	}
	log_info("%s from pid %u, exiting", strsignal((int)si->ssi_signo), si->ssi_pid);
	loop_exit(t->loop, EXIT_SUCCESS);
	return 0;
}

/* Sessions are clients: an open session keeps trackerd up, as must be, for
 * its names go when it ends. */
static bool is_idle(const struct trackerd *t)
{
	return clients_count(t->clients) == 0 && registry_count(t->registry) == 0;
}

/* Runs every iteration: (re)start the idle countdown when trackerd becomes
 * idle, cancel it when it is not. */
static int on_idle_check(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct trackerd *t = userdata;
	bool idle = is_idle(t);
	int r = 0;

	(void)s;
	(void)revents;
	if (idle && !t->idle_armed)
		r = loop_timer_arm(t->idle_timer, (uint64_t)t->opts.idle_exit *
						  (NSEC_PER_SEC / NSEC_PER_USEC));
	else if (!idle && t->idle_armed)
		r = loop_timer_arm(t->idle_timer, 0);
	if (r < 0)
		return r;
	t->idle_armed = idle;
	return 0;
}

static int on_idle_timer(struct loop_source *s, uint32_t revents, void *userdata)
{
	struct trackerd *t = userdata;

	(void)s;
	(void)revents;
	t->idle_armed = false;
	if (!is_idle(t))
		return 0;
	log_info("idle for %u s, exiting", t->opts.idle_exit);
	loop_exit(t->loop, EXIT_SUCCESS);
	return 0;
}

/* The fds the command line names, a manager's: the key is read and its fd
 * closed, the owner's pidfd kept; every other inherited fd is closed. */
static int take_inherited_fds(struct trackerd *t)
{
	struct options *o = &t->opts;
	int r;

	if (o->auth_fd >= 0) {
		r = manager_read_key(o->auth_fd, t->key, &t->key_len);
		o->auth_fd = -EBADF;
		if (r < 0)
			return r;
	}
	if (o->owner_pidfd >= 0) {
		r = manager_take_owner(o->owner_pidfd, &t->owner_pid);
		if (r < 0)
			return r;
	}
	daemon_close_inherited_fds(o->owner_pidfd);
	return 0;
}

static int open_log(struct trackerd *t)
{
	int r;

	log_set_verbose(t->opts.verbose);
	/* A manager's stderr is its owner's: a clean run writes nothing. */
	log_set_quiet(t->opts.manager);
	/* A client that goes away while we write to it must cost an EPIPE,
	 * not the daemon (sends use MSG_NOSIGNAL too; this covers the log). */
	(void)signal(SIGPIPE, SIG_IGN);
	if (!t->opts.log)
		return 0;
	r = log_open(t->opts.log);
	if (r < 0)
		log_warn("Failed to open log file '%s': %s", t->opts.log, strerror(-r));
	return r;
}

/* --socket, else where the library looks ($SEALSHM_SOCKET, the per-user
 * directory). */
static int socket_path(const struct options *o, char *buf, size_t len)
{
	bool autostart;

	if (!o->socket)
		return sealshm__socket_path(NULL, buf, len, &autostart);
	if (strlen(o->socket) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, o->socket);
	return 0;
}

/* The lock and the listening socket. Returns 0, 1 when another trackerd
 * serves the path (nothing to do), or -errno. */
static int take_socket(struct trackerd *t)
{
	const struct options *o = &t->opts;
	int r;

	r = socket_path(o, t->path, sizeof(t->path));
	if (r < 0) {
		log_warn("Failed to find the socket path: %s", strerror(-r));
		return r;
	}
	r = listener_open(t->path, o->socket_mode, o->socket_group, &t->listener);
	if (o->manager && (r == -EALREADY || r == -EBUSY)) {
		/* Its owner made the directory for it alone. */
		log_warn("Failed to listen on '%s': another trackerd serves it", t->path);
		return -EADDRINUSE;
	}
	if (r == -EALREADY) {
		log_info("trackerd already serves %s", t->path);
		return 1;
	}
	if (r == -EBUSY) {
		/* Still one instance per path: not ours to take over. */
		log_warn("another trackerd holds %s.lock but does not answer on %s", t->path,
			 t->path);
		return 1;
	}
	if (r == -ENOTSOCK) {
		log_warn("Failed to listen on '%s': it exists and is not a socket (a file, a "
			 "directory or a FIFO); not replacing it", t->path);
		return r;
	}
	if (r < 0) {
		log_warn("Failed to listen on '%s': %s", t->path, strerror(-r));
		return r;
	}
	if (o->manager) {
		r = listener_own_dir(t->listener);
		if (r < 0) {
			log_warn("Failed to take '%s' as a private directory: %s", t->path,
				 strerror(-r));
			return r;
		}
	}
	return 0;
}

/* Daemonize unless told not to, and listen from the process that serves. */
static int detach(struct trackerd *t)
{
	int r;

	if (!t->opts.foreground) {
		r = daemon_detach(&t->ready_fd);
		if (r < 0) {
			log_warn("Failed to daemonize: %s", strerror(-r));
			return r;
		}
	}
	/* Clients must see this process as their peer, not our parent or the
	 * service manager that bound the socket. */
	r = listener_claim(t->listener);
	if (r < 0)
		log_warn("Failed to listen on '%s' again: %s; attaches take the round trip",
			 t->path, strerror(-r));
	return 0;
}

static int block_signals(struct trackerd *t)
{
	sigemptyset(&t->signals);
	sigaddset(&t->signals, SIGTERM);
	sigaddset(&t->signals, SIGHUP);
	/* A Ctrl-C in the owner's terminal reaches its whole foreground
	 * process group, the manager included: the owner decides when its
	 * manager goes (SHUTDOWN), or goes itself (the owner pidfd). */
	if (t->opts.manager)
		(void)signal(SIGINT, SIG_IGN);
	else
		sigaddset(&t->signals, SIGINT);
	if (sigprocmask(SIG_BLOCK, &t->signals, NULL) < 0) {
		int r = -errno;

		log_warn("Failed to block signals: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* The loop, with what it watches from the start: signals, a manager's
 * owner. */
static int make_loop(struct trackerd *t)
{
	int r;

	r = loop_new(&t->loop);
	if (r < 0) {
		log_warn("Failed to create the event loop: %s", strerror(-r));
		return r;
	}
	r = loop_add_signal(t->loop, &t->signals, on_signal, t, &t->signal_source);
	if (r < 0) {
		log_warn("Failed to watch signals: %s", strerror(-r));
		return r;
	}
	/* A pidfd polls readable once its process has exited (Linux 5.3);
	 * if it has already, at the first wait. */
	if (t->opts.owner_pidfd >= 0) {
		r = loop_add_io(t->loop, t->opts.owner_pidfd, EPOLLIN, on_owner_exit, t,
				&t->owner_source);
		if (r < 0) {
			log_warn("Failed to watch the owner's pidfd: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The published index (when there can be one), the registry it mirrors,
 * the sessions tracking its names, and the liveness segment of holder ids. */
static int make_registry(struct trackerd *t)
{
	const struct options *o = &t->opts;
	int r;

	/* Without an index trackerd still serves, by round trips only
	 * (clients fall back when INDEX fails). A manager has none: its
	 * names are reached through AUTH only. */
	if (!o->manager) {
		r = index_new(o->max_names, &t->index);
		if (r < 0)
			log_warn("Failed to create the published index: %s; attaches take the "
				 "round trip", strerror(-r));
	}
	r = registry_new(o->max_names, o->max_names_per_uid, o->max_bytes_per_uid, t->index,
			 &t->registry);
	if (r < 0) {
		log_warn("Failed to create the registry: %s", strerror(-r));
		return r;
	}
	r = sessions_new(t->registry, o->max_names_per_uid, &t->sessions);
	if (r < 0) {
		log_warn("Failed to set up sessions: %s", strerror(-r));
		return r;
	}
	/* Without it trackerd still serves names; shared objects (locks,
	 * semaphores...) need holder ids and fail (HOLDER: -EOPNOTSUPP). */
	r = holders_new(o->max_holders, &t->holders);
	if (r < 0)
		log_warn("Failed to create the liveness segment: %s; no holder ids",
			 strerror(-r));
	return 0;
}

/* How many fds names may hold: all but LIMIT_FD_RESERVE(--max-clients) of
 * the fd limit, or half of it when it is too low for that. */
static uint64_t name_fds(const struct trackerd *t)
{
	uint64_t reserve = LIMIT_FD_RESERVE(t->opts.max_clients);

	if (t->nofile >= 2 * reserve)
		return t->nofile - reserve;
	return t->nofile / 2;
}

/* How many connections the fds allow (limits.h): all of --max-clients
 * when the reserve is kept whole, else as many as the fds that names leave
 * hold. Beyond that accept() would fail for want of an fd, for every uid
 * alike, and a uid's share would no longer leave the others room. */
static uint32_t client_fds(const struct trackerd *t)
{
	uint64_t fit = LIMIT_FD_CLIENTS(t->nofile - name_fds(t));

	return fit < t->opts.max_clients ? (uint32_t)fit : t->opts.max_clients;
}

/* The limits on connections: how many the fds allow, and one uid's share
 * of them (three quarters by default; an explicit share shrinks with the
 * total). */
static void limit_clients(struct trackerd *t)
{
	const struct options *o = &t->opts;
	uint32_t max = client_fds(t);
	uint64_t per_uid = o->max_clients_per_uid ? o->max_clients_per_uid :
			   LIMIT_CLIENTS_PER_UID(o->max_clients);

	if (max < o->max_clients) {
		per_uid = per_uid * max / o->max_clients;
		if (per_uid == 0)
			per_uid = 1;
		log_info("fd limit %llu: room for %u connections, %llu per uid (--max-clients %u)",
			 (unsigned long long)t->nofile, max, (unsigned long long)per_uid,
			 o->max_clients);
	}
	clients_set_max(t->clients, max, (size_t)per_uid);
	clients_set_first_message_timeout(t->clients, o->hello_timeout_ms);
}

/* The request layer, and the clients it serves on the listening socket. */
static int serve_clients(struct trackerd *t)
{
	const struct options *o = &t->opts;
	uint64_t max_name_fds = name_fds(t);
	int r;

	if (max_name_fds < o->max_names)
		/* A name holds one fd, two with a read-only twin (request.c). */
		log_info("fd limit %llu: room for %llu fds of names (--max-names %u)",
			 (unsigned long long)t->nofile, (unsigned long long)max_name_fds,
			 o->max_names);
	/* The start STATS reports: once serving is near (after daemonizing). */
	r = requests_new(&(struct request_config){
			.registry = t->registry,
			.sessions = t->sessions,
			.index = t->index,
			.holders = t->holders,
			.max_name_fds = max_name_fds,
			/*
			 * INDEX goes to those who can use it: pidfd_getfd(2)
			 * on trackerd, i.e. ptrace access. After --user's
			 * setuid() the kernel makes us non-dumpable, so only
			 * root (CAP_SYS_PTRACE) has it then; telling the
			 * user's own clients every name for nothing would be
			 * a leak. Decided before the filter, which has no
			 * geteuid().
			 */
			.euid = o->sandbox.user ? 0 : geteuid(),
			.manager = o->manager,
			.key = t->key,
			.key_len = t->key_len,
			.listener = t->listener,
			.loop = t->loop,
		}, &t->requests);
	if (r < 0) {
		log_warn("Failed to set up requests: %s", strerror(-r));
		return r;
	}
	r = clients_new(t->loop, t->listener, &request_client_ops, t->requests, &t->clients);
	if (r < 0) {
		log_warn("Failed to watch '%s': %s", t->path, strerror(-r));
		return r;
	}
	limit_clients(t);
	return 0;
}

/* --idle-exit: a timer, and a check each iteration that arms or cancels
 * it. */
static int watch_idle(struct trackerd *t)
{
	int r;

	if (t->opts.idle_exit == 0)
		return 0;
	r = loop_add_timer(t->loop, on_idle_timer, t, &t->idle_timer);
	if (r >= 0)
		r = loop_add_defer(t->loop, on_idle_check, t, &t->idle_check);
	if (r >= 0)
		r = loop_source_enable(t->idle_check, true);
	if (r < 0)
		log_warn("Failed to set up --idle-exit: %s", strerror(-r));
	return r;
}

/*
 * Everything is open that trackerd will ever open, except the fds clients
 * send, the /proc/self/fd reopens of read-only attaches and /dev/null in
 * daemon_ready(). With --user the files bound as root go to that user
 * first (the lock, so that its next trackerd can take it; the socket, with
 * --socket-group's group if given). A manager is its owner's child, not a
 * service: the owner's $NOTIFY_SOCKET is not ours to report on (the library
 * drops it).
 */
static int enter_sandbox(struct trackerd *t)
{
	const struct options *o = &t->opts;
	int r;

	if (o->sandbox.user) {
		r = listener_chown(t->listener, o->sandbox.uid, o->socket_group != (gid_t)-1 ?
				   o->socket_group : o->sandbox.gid);
		if (r < 0) {
			log_warn("Failed to give '%s' to user %s: %s", t->path, o->sandbox.user,
				 strerror(-r));
			return r;
		}
	}
	(void)notify_open(o->foreground && !o->manager);
	return sandbox_enter(&o->sandbox);
}

/* Tell whoever waits for us: the log, the parent of a daemon, the service
 * manager. */
static void announce_ready(struct trackerd *t)
{
	log_info("serving %s%s", listener_path(t->listener),
		 listener_activated(t->listener) ? " (socket activation)" : "");
	daemon_ready(&t->ready_fd, t->opts.log != NULL);
	notify_send("READY=1");
}

/* The start-up order (each step logs its own failure), then the loop.
 * Returns 0, also when another trackerd serves the path, or -errno. */
static int run(struct trackerd *t)
{
	int r;

	r = open_log(t);
	if (r < 0)
		return r;
	t->nofile = daemon_raise_nofile();
	r = take_socket(t);
	if (r != 0)
		return r < 0 ? r : 0;
	r = detach(t);
	if (r < 0)
		return r;
	r = block_signals(t);
	if (r < 0)
		return r;
	r = make_loop(t);
	if (r < 0)
		return r;
	r = make_registry(t);
	if (r < 0)
		return r;
	r = serve_clients(t);
	if (r < 0)
		return r;
	r = watch_idle(t);
	if (r < 0)
		return r;
	r = enter_sandbox(t);
	if (r < 0)
		return r;
	announce_ready(t);

	r = loop_run(t->loop);
	if (r < 0)
		log_warn("Failed to wait for events: %s", strerror(-r));
	return r;
}

static void teardown(struct trackerd *t)
{
	notify_stop();
	/* trackerd stopping is no holder's end either: a lock's holder that
	 * lives on must not be taken for dead. */
	holders_stop(t->holders);
	/* Sessions first: trackerd stopping is no session's end, no name is
	 * cleaned up one by one (they all go with the registry). Then clients
	 * (their sources live in the loop) and the requests they were handed
	 * to; the socket last: it is unlinked while the lock still keeps a
	 * successor out. */
	t->sessions = sessions_free(t->sessions);
	t->clients = clients_free(t->clients);
	t->requests = requests_free(t->requests);
	/* After the clients: closing a holder connection ends its id. */
	t->holders = holders_free(t->holders);
	t->registry = registry_free(t->registry);
	t->index = index_free(t->index);
	t->idle_check = loop_source_free(t->idle_check);
	t->idle_timer = loop_source_free(t->idle_timer);
	t->signal_source = loop_source_free(t->signal_source);
	t->owner_source = loop_source_free(t->owner_source);
	t->loop = loop_free(t->loop);
	/* A manager's lock file and directory go too (listener_own_dir()). */
	t->listener = listener_free(t->listener, true);
	t->ready_fd = safe_close(t->ready_fd);
	t->opts.owner_pidfd = safe_close(t->opts.owner_pidfd);
	explicit_bzero(t->key, sizeof(t->key));
}

int main(int argc, char *argv[])
{
	struct trackerd t = { .ready_fd = -EBADF };
	int r, code;

	r = options_parse(argc, argv, &t.opts);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
	/* Inherited fds are named on the command line: a wrong one is a
	 * usage error, like a wrong option. */
	r = take_inherited_fds(&t);
	if (r < 0)
		code = EXIT_USAGE;
	else
		code = run(&t) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	teardown(&t);
	return code;
}

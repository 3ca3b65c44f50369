// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd: the sealshm registry daemon. main() reads as the startup order:
 * arguments, a manager's key, inherited fds, log, lock and listen,
 * daemonize, signals, loop, registry and clients, sandbox (sandbox.h),
 * ready, run, teardown.
 *
 * A manager (--manager, started by sealshm_manager_start()) is the same
 * daemon as its owner's child: in the foreground, quiet, deaf to SIGINT,
 * serving a private directory that it removes when it exits, and exiting
 * as soon as its owner does (--owner-pidfd).
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "client.h"
#include "clock.h"
#include "index.h"
#include "internal.h"
#include "limits.h"
#include "listen.h"
#include "locate.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "options.h"
#include "pidfd.h"
#include "registry.h"
#include "request.h"
#include "sandbox.h"
#include "session.h"

static struct options arg;

/* A manager's key: kept in memory only, zero past its length. */
static uint8_t manager_key[SEALSHM_PROTO_KEY_MAX];
static uint32_t manager_key_len;
static pid_t owner_pid;			/* from the pidfd's fdinfo; 0: unknown */

static struct loop *loop;
static struct index *published;
static struct registry *registry;
static struct sessions *sessions;
static struct requests *requests;
static struct clients *clients;
static struct loop_source *idle_timer;
static bool idle_armed;
static struct loop_source *owner_source;

/* --auth-fd: the key, up to EOF, at most SEALSHM_PROTO_KEY_MAX bytes (0
 * bytes: no key); the fd is closed. Blocking is fine: nothing serves yet,
 * and the owner closes its end once the key is written. */
static int read_key(void)
{
	uint8_t buf[SEALSHM_PROTO_KEY_MAX + 1];
	size_t len = 0;
	int r = 0;

	for (;;) {
		ssize_t n = read(arg.auth_fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* A non-blocking pipe: wait for the writer. */
			struct pollfd p = { .fd = arg.auth_fd, .events = POLLIN };

			if (poll(&p, 1, -1) < 0 && errno != EINTR) {
				r = -errno;
				break;
			}
			continue;
		}
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SEALSHM_PROTO_KEY_MAX) {
			r = -EMSGSIZE;
			break;
		}
	}
	(void)close(arg.auth_fd);
	arg.auth_fd = -EBADF;
	if (r == 0) {
		memcpy(manager_key, buf, len);
		manager_key_len = (uint32_t)len;
	}
	explicit_bzero(buf, sizeof(buf));
	if (r == -EMSGSIZE)
		fprintf(stderr, "trackerd: --auth-fd: key longer than %u bytes\n",
			SEALSHM_PROTO_KEY_MAX);
	else if (r < 0)
		fprintf(stderr, "trackerd: Failed to read the key from --auth-fd: %s\n",
			strerror(-r));
	return r;
}

/* --owner-pidfd: check that it is a pidfd (its fdinfo has a "Pid:" line;
 * -1 there: the owner has exited already, which the loop sees at once) or
 * a pipe's read end, and make it close-on-exec. */
static int owner_take(void)
{
	int r;

	r = sealshm__pidfd_pids(arg.owner_pidfd, &owner_pid, NULL);
	if (r < 0 && r != -ENOTTY) {
		fprintf(stderr, "trackerd: --owner-pidfd %d: %s\n", arg.owner_pidfd, strerror(-r));
		return -EBADF;
	}
	if (r == -ENOTTY) {
		struct stat st;

		/* Where pidfd_open(2) is missing (Linux < 5.3, valgrind) the
		 * library passes the read end of a pipe whose write end only
		 * its owner holds: it polls EPOLLHUP once they are all gone. */
		if (fstat(arg.owner_pidfd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
			fprintf(stderr, "trackerd: --owner-pidfd %d is no pidfd (nor a pipe)\n",
				arg.owner_pidfd);
			return -EBADF;
		}
	}
	if (fcntl(arg.owner_pidfd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "trackerd: --owner-pidfd %d: %s\n", arg.owner_pidfd,
			strerror(errno));
		return -EBADF;
	}
	return 0;
}

/* Close what whoever started us leaked (a pipe kept open in a daemon would
 * make a shell's $(...) wait forever), keeping systemd's socket at fd 3
 * and a manager's owner pidfd. */
static void close_inherited_fds(void)
{
	const char *e = getenv("LISTEN_PID");
	unsigned first = 3;

	if (e && strtol(e, NULL, 10) == getpid())
		first = 4;
	/* close_range() is Linux 5.9; without it the fds stay open. */
	if (arg.owner_pidfd >= (int)first) {
		if ((unsigned)arg.owner_pidfd > first)
			(void)close_range(first, (unsigned)arg.owner_pidfd - 1, 0);
		first = (unsigned)arg.owner_pidfd + 1;
	}
	(void)close_range(first, ~0U, 0);
}

/* fs.nr_open: the most fds a process may have (a hard limit above it is
 * refused). 0 when unreadable. */
static uint64_t nr_open(void)
{
	unsigned long long v = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* The soft limit is often 1024, too few for --max-clients connections plus
 * one fd per name, and a million names need a million fds. trackerd uses
 * no select(), so any number is fine: the soft limit goes to the hard one,
 * and with CAP_SYS_RESOURCE (a system instance, or root) the hard one to
 * fs.nr_open first. Returns the soft limit that applies. */
static uint64_t raise_nofile(void)
{
	struct rlimit rl;
	uint64_t most = nr_open();

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (most > 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < most) {
		struct rlimit up = { .rlim_cur = most, .rlim_max = most };

		/* EPERM without the capability: the hard limit stays. */
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("Failed to raise the fd limit to %llu: %s",
				 (unsigned long long)rl.rlim_max, strerror(errno));
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
}

/* How many fds names may hold under a soft limit of @nofile: all but
 * LIMIT_FD_RESERVE(--max-clients), or half when the limit is too low for
 * that. */
static uint64_t name_fds(uint64_t nofile)
{
	uint64_t reserve = LIMIT_FD_RESERVE(arg.max_clients);

	if (nofile >= 2 * reserve)
		return nofile - reserve;
	return nofile / 2;
}

/* --socket, else where the library looks ($SEALSHM_SOCKET, the per-user
 * directory). */
static int socket_path(char *buf, size_t len)
{
	bool autostart;

	if (!arg.socket)
		return sealshm__socket_path(NULL, buf, len, &autostart);
	if (strlen(arg.socket) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, arg.socket);
	return 0;
}

/* Send log lines to --log FILE (appended) from now on. */
static int log_open(void)
{
	_cleanup_close_ int fd = -EBADF;

	fd = open(arg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	if (dup2(fd, STDERR_FILENO) < 0)
		return -errno;
	return 0;
}

/*
 * Fork; the parent waits until the child reports on the pipe (written by
 * ready()) and exits 0, or 1 if the child dies first. Returns in the child,
 * in a new session, in /, with stdin and stdout on /dev/null.
 */
static int daemonize(int *ret_ready_fd)
{
	_cleanup_close_ int null_fd = -EBADF;
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		safe_close(pfd[0]);
		safe_close(pfd[1]);
		return r;
	}
	if (pid > 0) {
		char c;
		ssize_t n;

		/* The parent only waits: the socket, the lock (an flock on
		 * a shared open file description) and the cleanup are the
		 * child's. _exit, so nothing of ours runs twice. */
		safe_close(pfd[1]);
		do
			n = read(pfd[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? EXIT_SUCCESS : EXIT_FAILURE);
	}

	safe_close(pfd[0]);
	if (setsid() < 0 || chdir("/") < 0)
		goto fail;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (null_fd < 0)
		goto fail;
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
		goto fail;
	/* stderr stays until ready(): a failure to start still reaches
	 * whoever started us, who is waiting anyway. */

	*ret_ready_fd = pfd[1];
	return 0;
fail:
	safe_close(pfd[1]);
	return -errno;
}

/* Tell the waiting parent that we serve; from now on a daemon without
 * --log logs nowhere. */
static void ready(int *ready_fd)
{
	int null_fd;

	if (*ready_fd < 0)
		return;
	if (!arg.log) {
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (null_fd >= 0) {
			(void)dup2(null_fd, STDERR_FILENO);
			safe_close(null_fd);
		}
	}
	(void)!write(*ready_fd, "1", 1);
	*ready_fd = safe_close(*ready_fd);
}

/* The owner's pidfd polls readable: it has exited without SHUTDOWN (a
 * crash, kill -9, or it forgot). Its names must not outlive it (CPython's
 * manager leaks them here, gh-81158): say which ones go, then exit; they
 * go with the registry. */
static int on_owner_exit(struct loop_source *s, uint32_t revents, void *userdata)
{
	/* One line: the first names that fit, then how many more. */
	char names[600];
	size_t len = 0, listed = 0, n = registry_count(registry);

	(void)revents;
	(void)userdata;
	names[0] = '\0';
	for (uint32_t slot = 0, end = registry_slots(registry); slot < end; slot++) {
		const struct registry_entry *e = registry_get(registry, slot);
		size_t need;

		if (!e)
			continue;
		need = strlen(e->name) + 4;	/* ", '" ... "'" */
		if (len + need + 1 > sizeof(names))
			break;
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s'",
					listed ? ", " : "", e->name);
		listed++;
	}
	if (n > 0 && listed < n)
		(void)snprintf(names + len, sizeof(names) - len, "%s%zu more",
			       listed ? " and " : "", n - listed);
	if (n > 0 && owner_pid > 0)
		log_warn("owner pid %d exited without shutting down; unlinking %zu names: %s",
			 (int)owner_pid, n, names);
	else if (n > 0)
		log_warn("owner exited without shutting down; unlinking %zu names: %s", n, names);
	else
		log_info("owner exited, exiting");
	loop_exit(loop, EXIT_SUCCESS);
	/* Level-triggered: it would fire on every further wait. */
	return loop_source_enable(s, false);
}

static int on_signal(struct loop_source *s, uint32_t revents, void *userdata)
{
	const struct signalfd_siginfo *si = loop_signal_info(s);

	(void)revents;
	(void)userdata;
	if (si->ssi_signo == SIGHUP) {
		log_info("SIGHUP from pid %u ignored", si->ssi_pid);
		return 0;
	}
	log_info("%s from pid %u, exiting", strsignal((int)si->ssi_signo), si->ssi_pid);
	loop_exit(loop, EXIT_SUCCESS);
	return 0;
}

/* Sessions are clients: an open session keeps trackerd up, as must be, for
 * its names go when it ends. */
static bool is_idle(void)
{
	return clients_count(clients) == 0 && registry_count(registry) == 0;
}

/* Runs every iteration: (re)start the idle countdown when trackerd becomes
 * idle, cancel it when it is not. */
static int on_idle_check(struct loop_source *s, uint32_t revents, void *userdata)
{
	bool idle = is_idle();
	int r = 0;

	(void)s;
	(void)revents;
	(void)userdata;
	if (idle && !idle_armed)
		r = loop_timer_arm(idle_timer, (uint64_t)arg.idle_exit * (NSEC_PER_SEC / NSEC_PER_USEC));
	else if (!idle && idle_armed)
		r = loop_timer_arm(idle_timer, 0);
	if (r < 0)
		return r;
	idle_armed = idle;
	return 0;
}

static int on_idle_timer(struct loop_source *s, uint32_t revents, void *userdata)
{
	(void)s;
	(void)revents;
	(void)userdata;
	idle_armed = false;
	if (!is_idle())
		return 0;
	log_info("idle for %u s, exiting", arg.idle_exit);
	loop_exit(loop, EXIT_SUCCESS);
	return 0;
}

int main(int argc, char *argv[])
{
	struct listener *listener = NULL;
	struct loop_source *sig_source = NULL, *idle_check = NULL;
	uint64_t nofile, max_name_fds;
	char path[PATH_MAX];
	int ready_fd = -EBADF;
	sigset_t mask;
	int r;

	r = options_parse(argc, argv, &arg);
	if (r <= 0)
		return r < 0 ? 2 : EXIT_SUCCESS;
	log_set_verbose(arg.verbose);
	/* A manager's stderr is its owner's: a clean run writes nothing. */
	log_set_quiet(arg.manager);

	/* Inherited fds are named on the command line: a wrong one is a
	 * usage error, like a wrong option. */
	if (arg.auth_fd >= 0 && read_key() < 0)
		return 2;
	if (arg.owner_pidfd >= 0 && owner_take() < 0)
		return 2;
	close_inherited_fds();
	/* A client that goes away while we write to it must cost an EPIPE,
	 * not the daemon (sends use MSG_NOSIGNAL too; this covers the log). */
	(void)signal(SIGPIPE, SIG_IGN);
	if (arg.log) {
		r = log_open();
		if (r < 0) {
			log_warn("Failed to open log file '%s': %s", arg.log, strerror(-r));
			return EXIT_FAILURE;
		}
	}
	nofile = raise_nofile();
	max_name_fds = name_fds(nofile);

	r = socket_path(path, sizeof(path));
	if (r < 0) {
		log_warn("Failed to find the socket path: %s", strerror(-r));
		return EXIT_FAILURE;
	}

	r = listener_open(path, arg.socket_mode, arg.socket_group, &listener);
	if (arg.manager && (r == -EALREADY || r == -EBUSY)) {
		/* Its owner made the directory for it alone. */
		log_warn("Failed to listen on '%s': another trackerd serves it", path);
		r = -EADDRINUSE;
		goto out;
	}
	if (r == -EALREADY) {
		log_info("trackerd already serves %s", path);
		return EXIT_SUCCESS;
	}
	if (r == -EBUSY) {
		/* Still one instance per path: not ours to take over. */
		log_warn("another trackerd holds %s.lock but does not answer on %s", path, path);
		return EXIT_SUCCESS;
	}
	if (r < 0) {
		log_warn("Failed to listen on '%s': %s", path, strerror(-r));
		return EXIT_FAILURE;
	}
	if (arg.manager) {
		r = listener_own_dir(listener);
		if (r < 0) {
			log_warn("Failed to take '%s' as a private directory: %s", path,
				 strerror(-r));
			goto out;
		}
	}

	if (!arg.foreground) {
		r = daemonize(&ready_fd);
		if (r < 0) {
			log_warn("Failed to daemonize: %s", strerror(-r));
			goto out;
		}
	}
	/* Clients must see this process as their peer, not our parent or the
	 * service manager that bound the socket. */
	r = listener_claim(listener);
	if (r < 0)
		log_warn("Failed to listen on '%s' again: %s; attaches take the round trip",
			 path, strerror(-r));

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	/* A Ctrl-C in the owner's terminal reaches its whole foreground
	 * process group, the manager included: the owner decides when its
	 * manager goes (SHUTDOWN), or goes itself (the owner pidfd). */
	if (arg.manager)
		(void)signal(SIGINT, SIG_IGN);
	else
		sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		r = -errno;
		log_warn("Failed to block signals: %s", strerror(-r));
		goto out;
	}

	r = loop_new(&loop);
	if (r < 0) {
		log_warn("Failed to create the event loop: %s", strerror(-r));
		goto out;
	}
	r = loop_add_signal(loop, &mask, on_signal, NULL, &sig_source);
	if (r < 0) {
		log_warn("Failed to watch signals: %s", strerror(-r));
		goto out;
	}
	/* A pidfd polls readable once its process has exited (Linux 5.3);
	 * if it has already, at the first wait. */
	if (arg.owner_pidfd >= 0) {
		r = loop_add_io(loop, arg.owner_pidfd, EPOLLIN, on_owner_exit, NULL,
				&owner_source);
		if (r < 0) {
			log_warn("Failed to watch the owner's pidfd: %s", strerror(-r));
			goto out;
		}
	}
	/* Without an index trackerd still serves, by round trips only
	 * (clients fall back when INDEX fails). A manager has none: its
	 * names are reached through AUTH only. */
	if (!arg.manager) {
		r = index_new(arg.max_names, &published);
		if (r < 0)
			log_warn("Failed to create the published index: %s; attaches take the "
				 "round trip", strerror(-r));
	}
	r = registry_new(arg.max_names, arg.max_names_per_uid, arg.max_bytes_per_uid, published,
			 &registry);
	if (r < 0) {
		log_warn("Failed to create the registry: %s", strerror(-r));
		goto out;
	}
	r = sessions_new(registry, arg.max_names_per_uid, &sessions);
	if (r < 0) {
		log_warn("Failed to set up sessions: %s", strerror(-r));
		goto out;
	}
	if (max_name_fds < arg.max_names)
		/* A name holds one fd, two with a read-only twin (request.c). */
		log_info("fd limit %llu: room for %llu fds of names (--max-names %u)",
			 (unsigned long long)nofile, (unsigned long long)max_name_fds,
			 arg.max_names);
	/* The start STATS reports: once serving is near (after daemonize()). */
	r = requests_new(&(struct request_config){
			.registry = registry,
			.sessions = sessions,
			.index = published,
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
			.euid = arg.sandbox.user ? 0 : geteuid(),
			.manager = arg.manager,
			.key = manager_key,
			.key_len = manager_key_len,
			.listener = listener,
			.loop = loop,
		}, &requests);
	if (r < 0) {
		log_warn("Failed to set up requests: %s", strerror(-r));
		goto out;
	}
	r = clients_new(loop, listener, &request_client_ops, requests, &clients);
	if (r < 0) {
		log_warn("Failed to watch '%s': %s", path, strerror(-r));
		goto out;
	}
	clients_set_max(clients, arg.max_clients);
	if (arg.idle_exit > 0) {
		r = loop_add_timer(loop, on_idle_timer, NULL, &idle_timer);
		if (r >= 0)
			r = loop_add_defer(loop, on_idle_check, NULL, &idle_check);
		if (r >= 0)
			r = loop_source_enable(idle_check, true);
		if (r < 0) {
			log_warn("Failed to set up --idle-exit: %s", strerror(-r));
			goto out;
		}
	}

	/* Everything is open that trackerd will ever open, except the fds
	 * clients send, the /proc/self/fd reopens of read-only attaches and
	 * /dev/null in ready(). With --user the files bound as root go to
	 * that user first (the lock, so that its next trackerd can take it;
	 * the socket, with --socket-group's group if given). */
	if (arg.sandbox.user) {
		r = listener_chown(listener, arg.sandbox.uid, arg.socket_group != (gid_t)-1 ?
				   arg.socket_group : arg.sandbox.gid);
		if (r < 0) {
			log_warn("Failed to give '%s' to user %s: %s", path, arg.sandbox.user,
				 strerror(-r));
			goto out;
		}
	}
	/* A manager is its owner's child, not a service: the owner's
	 * $NOTIFY_SOCKET is not ours to report on (the library drops it). */
	(void)notify_open(arg.foreground && !arg.manager);
	r = sandbox_enter(&arg.sandbox);
	if (r < 0)
		goto out;

	log_info("serving %s%s", listener_path(listener),
		 listener_activated(listener) ? " (socket activation)" : "");
	ready(&ready_fd);
	notify_send("READY=1");

	r = loop_run(loop);
	if (r < 0)
		log_warn("Failed to wait for events: %s", strerror(-r));
out:
	notify_stop();
	/* Sessions first: trackerd stopping is no session's end, no name is
	 * cleaned up one by one (they all go with the registry). Then clients
	 * (their sources live in the loop); the socket last: it is unlinked
	 * while the lock still keeps a successor out. */
	sessions = sessions_free(sessions);
	clients = clients_free(clients);
	requests = requests_free(requests);
	registry = registry_free(registry);
	published = index_free(published);
	loop_source_free(idle_check);
	loop_source_free(idle_timer);
	loop_source_free(sig_source);
	loop_source_free(owner_source);
	loop = loop_free(loop);
	/* A manager's lock file and directory go too (listener_own_dir()). */
	listener = listener_free(listener, true);
	safe_close(ready_fd);
	safe_close(arg.owner_pidfd);
	explicit_bzero(manager_key, sizeof(manager_key));
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

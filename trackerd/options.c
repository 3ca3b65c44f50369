// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Parsing trackerd's command line into struct options.
 */
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>

#include "internal.h"
#include "limits.h"
#include "options.h"
#include "sandbox.h"

static void help(void)
{
	printf("Usage: trackerd [OPTION]...\n"
	       "The sealshm registry: names sealed memfd segments and hands them out.\n\n"
	       "  -s, --socket PATH       serve PATH (default: as the library finds it)\n"
	       "  -f, --foreground        do not daemonize\n"
	       "  -v, --verbose           also log connections and attaches\n"
	       "      --log FILE          append log lines to FILE\n"
	       "      --idle-exit SECONDS exit after SECONDS with no names and no clients\n"
	       "      --max-names N       hold at most N names (default %u)\n"
	       "      --max-names-per-uid N\n"
	       "                          at most N names per owner uid (default: --max-names)\n"
	       "      --max-bytes-per-uid BYTES\n"
	       "                          at most BYTES of segments per owner uid (default: no limit)\n"
	       "      --max-clients N     serve at most N connections at a time (default %u)\n"
	       "      --max-clients-per-uid N\n"
	       "                          at most N of them from one uid (default: 3/4 of\n"
	       "                          --max-clients)\n"
	       "      --hello-timeout MS  close a connection that has sent nothing after MS\n"
	       "                          milliseconds (default %u)\n"
	       "      --max-holders N     give at most N holder ids at a time (default %u)\n"
	       "      --socket-mode MODE  permission bits of the socket file (default 0666)\n"
	       "      --socket-group GROUP\n"
	       "                          group of the socket file\n"
	       "      --user USER         when started as root, run as USER once listening\n"
	       "      --seccomp=kill|log|off\n"
	       "                          a syscall off the allow-list kills trackerd, is logged,\n"
	       "                          or no filter (default %s)\n"
	       "      --manager           serve as a manager's private instance (implies\n"
	       "                          --foreground; quiet; SIGINT ignored; needs --socket)\n"
	       "      --owner-pidfd FD    with --manager: exit when the process of this\n"
	       "                          inherited pidfd exits, unlinking every name\n"
	       "      --auth-fd FD        with --manager: read the auth key from FD until EOF\n"
	       "  -h, --help              show this help\n"
	       "      --version           show the version\n", LIMIT_NAMES_DEFAULT, LIMIT_CLIENTS,
	       LIMIT_FIRST_MESSAGE_MS, LIMIT_HOLDERS_MAX, sandbox_seccomp_name(SANDBOX_SECCOMP_DEFAULT));
}

/* A name count of 1..LIMIT_NAMES_MAX for @opt. */
static int parse_names(const char *opt, const char *s, uint32_t *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v == 0 || v > LIMIT_NAMES_MAX) {
		fprintf(stderr, "trackerd: invalid %s '%s' (1..%u)\n", opt, s, LIMIT_NAMES_MAX);
		return -EINVAL;
	}
	*ret = (uint32_t)v;
	return 0;
}

/* A decimal number of 1..@max for @opt. */
static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "trackerd: invalid %s '%s' (1..%llu)\n", opt, s,
			(unsigned long long)max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* An inherited fd number for @opt. */
static int parse_fd(const char *opt, const char *s, int *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v > INT_MAX) {
		fprintf(stderr, "trackerd: invalid %s '%s'\n", opt, s);
		return -EINVAL;
	}
	*ret = (int)v;
	return 0;
}

/* --socket-group: a group name or a numeric gid. */
static int parse_group(const char *s, gid_t *ret)
{
	struct group *gr = getgrnam(s);
	unsigned long v;
	char *end;

	if (gr) {
		*ret = gr->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v >= (gid_t)-1) {
		fprintf(stderr, "trackerd: unknown --socket-group '%s'\n", s);
		return -EINVAL;
	}
	*ret = (gid_t)v;
	return 0;
}

/* --idle-exit: seconds, 0 for never. */
static int parse_idle_exit(const char *s, unsigned *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v > UINT_MAX / 2) {
		fprintf(stderr, "trackerd: invalid --idle-exit '%s'\n", s);
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

/* --socket-mode: octal permission bits. */
static int parse_mode(const char *s, mode_t *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || !*s || *end || s[0] == '-' || v > 0777) {
		fprintf(stderr, "trackerd: invalid --socket-mode '%s' (octal, <= 0777)\n", s);
		return -EINVAL;
	}
	*ret = (mode_t)v;
	return 0;
}

/* --user, looked up now: NSS may open files and sockets, which the sandbox
 * will not allow later. */
static int parse_user(const char *s, struct sandbox_opts *o)
{
	int r = sandbox_lookup_user(s, o);

	if (r < 0) {
		fprintf(stderr, "trackerd: unknown --user '%s'%s%s\n", s, r == -ESRCH ? "" : ": ",
			r == -ESRCH ? "" : strerror(-r));
		return -EINVAL;
	}
	return 0;
}

/* What no single option can say: how they go together. Returns 1, or
 * -EINVAL. */
static int options_check(struct options *o)
{
	if (o->max_names_per_uid == 0 || o->max_names_per_uid > o->max_names)
		o->max_names_per_uid = o->max_names;
	/* Three quarters of --max-clients by default: main.c works it out,
	 * once it knows how many clients its fds allow. */
	if (o->max_clients_per_uid > o->max_clients)
		o->max_clients_per_uid = o->max_clients;
	if (!o->manager && (o->owner_pidfd >= 0 || o->auth_fd >= 0)) {
		fprintf(stderr, "trackerd: --owner-pidfd and --auth-fd need --manager\n");
		return -EINVAL;
	}
	if (o->manager) {
		/* Its socket is a private one the owner chose: never the
		 * per-user default. It stays its owner's child, and goes
		 * when told or when the owner does, never when idle. */
		if (!o->socket) {
			fprintf(stderr, "trackerd: --manager needs --socket\n");
			return -EINVAL;
		}
		if (o->idle_exit > 0) {
			fprintf(stderr, "trackerd: --manager does not take --idle-exit\n");
			return -EINVAL;
		}
		if (o->owner_pidfd >= 0 && o->owner_pidfd == o->auth_fd) {
			fprintf(stderr, "trackerd: --owner-pidfd and --auth-fd are the same fd\n");
			return -EINVAL;
		}
		o->foreground = true;
	}
	return 1;
}

int options_parse(int argc, char *argv[], struct options *o)
{
	enum {
		ARG_LOG = 0x100, ARG_IDLE_EXIT, ARG_VERSION, ARG_MAX_NAMES, ARG_MAX_NAMES_PER_UID,
		ARG_MAX_BYTES_PER_UID, ARG_MAX_CLIENTS, ARG_MAX_CLIENTS_PER_UID, ARG_HELLO_TIMEOUT,
		ARG_SOCKET_MODE, ARG_SOCKET_GROUP, ARG_USER, ARG_SECCOMP, ARG_MANAGER,
		ARG_OWNER_PIDFD, ARG_AUTH_FD, ARG_MAX_HOLDERS,
	};
	static const struct option options[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "log",	required_argument,	NULL, ARG_LOG },
		{ "idle-exit",	required_argument,	NULL, ARG_IDLE_EXIT },
		{ "max-names",	required_argument,	NULL, ARG_MAX_NAMES },
		{ "max-names-per-uid", required_argument, NULL, ARG_MAX_NAMES_PER_UID },
		{ "max-bytes-per-uid", required_argument, NULL, ARG_MAX_BYTES_PER_UID },
		{ "max-clients", required_argument,	NULL, ARG_MAX_CLIENTS },
		{ "max-clients-per-uid", required_argument, NULL, ARG_MAX_CLIENTS_PER_UID },
		{ "hello-timeout", required_argument,	NULL, ARG_HELLO_TIMEOUT },
		{ "max-holders", required_argument,	NULL, ARG_MAX_HOLDERS },
		{ "socket-mode", required_argument,	NULL, ARG_SOCKET_MODE },
		{ "socket-group", required_argument,	NULL, ARG_SOCKET_GROUP },
		{ "user",	required_argument,	NULL, ARG_USER },
		{ "seccomp",	required_argument,	NULL, ARG_SECCOMP },
		{ "manager",	no_argument,		NULL, ARG_MANAGER },
		{ "owner-pidfd", required_argument,	NULL, ARG_OWNER_PIDFD },
		{ "auth-fd",	required_argument,	NULL, ARG_AUTH_FD },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, ARG_VERSION },
		{}
	};
	uint64_t u;
	int c;

	*o = (struct options){
		.max_names = LIMIT_NAMES_DEFAULT,
		.max_clients = LIMIT_CLIENTS,
		.hello_timeout_ms = LIMIT_FIRST_MESSAGE_MS,
		.max_holders = LIMIT_HOLDERS_MAX,
		.max_bytes_per_uid = LIMIT_BYTES_PER_UID_DEFAULT,
		.socket_mode = 0666,
		.socket_group = (gid_t)-1,
		.sandbox = { .seccomp = SANDBOX_SECCOMP_DEFAULT },
		.owner_pidfd = -EBADF,
		.auth_fd = -EBADF,
	};
	while ((c = getopt_long(argc, argv, "s:fvh", options, NULL)) >= 0) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case ARG_LOG:
			o->log = optarg;
			break;
		case ARG_IDLE_EXIT:
			if (parse_idle_exit(optarg, &o->idle_exit) < 0)
				return -EINVAL;
			break;
		case ARG_MAX_NAMES:
			if (parse_names("--max-names", optarg, &o->max_names) < 0)
				return -EINVAL;
			break;
		case ARG_MAX_NAMES_PER_UID:
			if (parse_names("--max-names-per-uid", optarg, &o->max_names_per_uid) < 0)
				return -EINVAL;
			break;
		case ARG_MAX_BYTES_PER_UID:
			if (parse_u64("--max-bytes-per-uid", optarg, UINT64_MAX,
				      &o->max_bytes_per_uid) < 0)
				return -EINVAL;
			break;
		case ARG_MAX_CLIENTS:
			if (parse_u64("--max-clients", optarg, LIMIT_CLIENTS_MAX, &u) < 0)
				return -EINVAL;
			o->max_clients = (uint32_t)u;
			break;
		case ARG_MAX_CLIENTS_PER_UID:
			if (parse_u64("--max-clients-per-uid", optarg, LIMIT_CLIENTS_MAX, &u) < 0)
				return -EINVAL;
			o->max_clients_per_uid = (uint32_t)u;
			break;
		case ARG_HELLO_TIMEOUT:
			if (parse_u64("--hello-timeout", optarg, LIMIT_FIRST_MESSAGE_MS_MAX, &u) < 0)
				return -EINVAL;
			o->hello_timeout_ms = (uint32_t)u;
			break;
		case ARG_MAX_HOLDERS:
			if (parse_u64("--max-holders", optarg, LIMIT_HOLDERS_MAX, &u) < 0)
				return -EINVAL;
			o->max_holders = (uint32_t)u;
			break;
		case ARG_SOCKET_MODE:
			if (parse_mode(optarg, &o->socket_mode) < 0)
				return -EINVAL;
			break;
		case ARG_SOCKET_GROUP:
			if (parse_group(optarg, &o->socket_group) < 0)
				return -EINVAL;
			break;
		case ARG_USER:
			if (parse_user(optarg, &o->sandbox) < 0)
				return -EINVAL;
			break;
		case ARG_SECCOMP:
			if (sandbox_parse_seccomp(optarg, &o->sandbox.seccomp) < 0) {
				fprintf(stderr, "trackerd: invalid --seccomp '%s' (kill, log or off)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case ARG_MANAGER:
			o->manager = true;
			break;
		case ARG_OWNER_PIDFD:
			if (parse_fd("--owner-pidfd", optarg, &o->owner_pidfd) < 0)
				return -EINVAL;
			break;
		case ARG_AUTH_FD:
			if (parse_fd("--auth-fd", optarg, &o->auth_fd) < 0)
				return -EINVAL;
			break;
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			printf("trackerd %s\n", sealshm_version());
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "trackerd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return options_check(o);
}

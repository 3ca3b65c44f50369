// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sealshm(1): list, create, fill, read, inspect, seal and remove named
 * segments.
 * Uses only the public API (sealshm.h).  Exit codes: 0 ok, 1 failure
 * (one message on stderr naming the segment and the reason), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sealshm.h>

#include "../escape.h"

#define EXIT_USAGE 2
#define _unused_ __attribute__((unused))

/* Every call passes NO_TRACK: this process exits at once, and a tracked
 * name would be unlinked with it.  --socket fills in .socket. */
static struct sealshm_opts arg_opts = {
	.sz = sizeof(struct sealshm_opts),
	.flags = SEALSHM_NO_TRACK,
};

static void help(FILE *f)
{
	fprintf(f,
		"Usage: sealshm [--socket PATH] COMMAND [ARG...]\n"
		"\n"
		"Named, size-sealed shared memory segments served by trackerd.\n"
		"\n"
		"Commands:\n"
		"  ls                       list the names you may attach\n"
		"  create NAME SIZE [--mode OCTAL]\n"
		"                           create a zeroed segment of SIZE bytes (suffix K, M\n"
		"                           or G for KiB, MiB, GiB); mode defaults to 0600\n"
		"  write NAME               copy stdin into the segment from offset 0; bytes\n"
		"                           past the end of the input are left as they were;\n"
		"                           more input than the segment holds is an error\n"
		"  cat NAME                 write the whole segment to stdout (read-only attach)\n"
		"  stat NAME                show one name's details\n"
		"  rm NAME...               remove names (mappings stay valid until closed)\n"
		"  seal NAME [--future]     publish: nobody writes the segment any more (fails\n"
		"                           while anyone has it mapped writable); --future:\n"
		"                           mappings writable now stay so, no new one is made.\n"
		"                           Read-write attaches of a sealed name are refused\n"
		"\n"
		"Options:\n"
		"  --socket PATH            trackerd's socket (default: $SEALSHM_SOCKET, else\n"
		"                           $XDG_RUNTIME_DIR/sealshm/trackerd.sock, else\n"
		"                           /tmp/sealshm-UID/trackerd.sock; a per-user trackerd\n"
		"                           is started there when none answers)\n"
		"  -h, --help               show this help\n"
		"      --version            show the version\n"
		"\n"
		"Names are shown with what a valid name cannot hold escaped: \\xNN for a\n"
		"byte, \\u{XXXX} for a character, \\\\ for a backslash (see sealshm(1)).\n"
		"\n"
		"Names created here are not tracked: a tracked name is removed when the\n"
		"process that tracks it exits, and this command exits at once.  Such a name\n"
		"lives until `sealshm rm NAME`.\n"
		"\n"
		"ls columns: NAME, SIZE (bytes), RES (bytes of it allocated in memory or\n"
		"swap), ATT (attaches trackerd saw), UID (owner), MODE (octal), LIFE (first:\n"
		"the name goes when the first session tracking it ends; last: when the\n"
		"last one does), TRACKED (number of tracking sessions, then the first pids\n"
		"of the oldest, '+' when there are more; '-' for none), SEALS (the memfd's\n"
		"seals, comma-separated: seal, shrink, grow, write, future_write, exec;\n"
		"'-' for none), CREATED (local time).\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("sealshm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'sealshm --help'.\n", stderr);
	return EXIT_USAGE;
}

static int fail(const char *verb, const char *name, int r)
{
	char shown[ESCAPED_NAME_MAX];

	if (name)
		fprintf(stderr, "sealshm: cannot %s '%s': %s\n", verb,
			escape_name(name, shown, sizeof(shown)), strerror(-r));
	else
		fprintf(stderr, "sealshm: cannot %s: %s\n", verb, strerror(-r));
	return EXIT_FAILURE;
}

/* "123", "4K", "16M", "1G" (powers of 1024).  Returns 0 or -EINVAL/-ERANGE. */
static int parse_size(const char *s, size_t *ret)
{
	unsigned long long v, mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ull << 10;
		end++;
		break;
	case 'm': case 'M':
		mult = 1ull << 20;
		end++;
		break;
	case 'g': case 'G':
		mult = 1ull << 30;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	if (v > SIZE_MAX / mult)
		return -ERANGE;
	*ret = v * mult;
	return 0;
}

/* "shrink,grow", or "-" for none. */
static void format_seals(uint32_t seals, char *buf, size_t len)
{
	if (sealshm_seals_format(seals, buf, len) <= 0)
		snprintf(buf, len, "-");
}

static void format_time(int64_t ns, char *buf, size_t len)
{
	time_t t = ns / 1000000000;
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%" PRId64, ns);
}

/* "-", or "N:PID,PID..." with a '+' when more sessions than pids shown. */
static void format_trackers(const struct sealshm_info *info, char *buf, size_t len)
{
	uint32_t shown = info->n_sessions < SEALSHM_INFO_PIDS ? info->n_sessions
							    : SEALSHM_INFO_PIDS;
	size_t n;

	if (info->n_sessions == 0) {
		snprintf(buf, len, "-");
		return;
	}
	n = snprintf(buf, len, "%" PRIu32 ":", info->n_sessions);
	for (uint32_t i = 0; i < shown && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%" PRIu32, i ? "," : "", info->session_pids[i]);
	if (info->n_sessions > shown && n < len)
		snprintf(buf + n, len - n, "+");
}

static const char *lifetime(const struct sealshm_info *info)
{
	return info->flags & SEALSHM_LIFETIME_LAST ? "last" : "first";
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct sealshm_info *)a)->name,
		      ((const struct sealshm_info *)b)->name);
}

static int cmd_ls(int argc _unused_, char **argv _unused_)
{
	struct sealshm_info *infos = NULL;
	int width = 4, n;

	n = sealshm_registry_list(&arg_opts, &infos);
	if (n < 0)
		return fail("list names", NULL, n);

	/* No names: infos is NULL, which qsort() must not be given. */
	if (n > 1)
		qsort(infos, n, sizeof(*infos), cmp_info);
	/* Names as shown: whatever a trackerd sent, nothing in a listing
	 * may act on the terminal (escaped twice rather than kept: a few
	 * microseconds against a kilobyte per name). */
	for (int i = 0; i < n; i++) {
		char shown[ESCAPED_NAME_MAX];
		int l = strlen(escape_name(infos[i].name, shown, sizeof(shown)));

		if (l > width)
			width = l;
	}
	printf("%-*s %12s %12s %6s %6s %4s %-5s %-20s %-24s %s\n", width, "NAME", "SIZE", "RES",
	       "ATT", "UID", "MODE", "LIFE", "TRACKED", "SEALS", "CREATED");
	for (int i = 0; i < n; i++) {
		char seals[128], ctime[64], trackers[96], shown[ESCAPED_NAME_MAX];

		format_seals(infos[i].seals, seals, sizeof(seals));
		format_time(infos[i].ctime_ns, ctime, sizeof(ctime));
		format_trackers(&infos[i], trackers, sizeof(trackers));
		printf("%-*s %12" PRIu64 " %12" PRIu64 " %6" PRIu64 " %6" PRIu32 " %04" PRIo32
		       " %-5s %-20s %-24s %s\n", width,
		       escape_name(infos[i].name, shown, sizeof(shown)), infos[i].size,
		       infos[i].resident, infos[i].n_attaches, infos[i].uid, infos[i].mode,
		       lifetime(&infos[i]), trackers, seals, ctime);
	}
	free(infos);
	return fflush(stdout) == 0 ? EXIT_SUCCESS : fail("write", "stdout", -errno);
}

static int cmd_create(int argc, char **argv)
{
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{}
	};
	struct sealshm_opts opts = arg_opts;
	struct sealshm *shm = NULL;
	const char *name, *size_arg;
	size_t size = 0;
	int c, r;

	optind = 0;	/* glibc: restart parsing on the command's own argv */
	while ((c = getopt_long(argc, argv, "m:", options, NULL)) >= 0) {
		char *end;
		unsigned long mode;

		switch (c) {
		case 'm':
			errno = 0;
			mode = strtoul(optarg, &end, 8);
			if (errno || !*optarg || *end || mode > 0777)
				return usage_error("invalid mode '%s' (octal, at most 0777)", optarg);
			opts.mode = mode;
			break;
		default:
			return usage_error("create: invalid option");
		}
	}
	if (argc - optind != 2)
		return usage_error("usage: create NAME SIZE [--mode OCTAL]");
	name = argv[optind];
	size_arg = argv[optind + 1];
	if (parse_size(size_arg, &size) < 0)
		return usage_error("invalid size '%s' (bytes, or a number with K, M or G)",
				   size_arg);

	r = sealshm_create(name, size, &opts, &shm);
	if (r < 0)
		return fail("create", name, r);
	(void)sealshm_close(shm);
	return EXIT_SUCCESS;
}

static int cmd_write(int argc _unused_, char **argv)
{
	const char *name = argv[1];
	char shown[ESCAPED_NAME_MAX];
	struct sealshm *shm = NULL;
	struct stat st;
	size_t size, off = 0;
	char *buf;
	int r, ret = EXIT_FAILURE;

	r = sealshm_attach(name, &arg_opts, &shm);
	if (r < 0)
		return fail("attach", name, r);
	buf = sealshm_buf(shm);
	size = sealshm_size(shm);

	/* A regular file that is too long is refused before anything is written. */
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t pos = lseek(STDIN_FILENO, 0, SEEK_CUR);

		if (pos >= 0 && st.st_size - pos > 0 && (uint64_t)(st.st_size - pos) > size) {
			fprintf(stderr, "sealshm: cannot write '%s': input is %jd bytes, the segment holds %zu\n",
				escape_name(name, shown, sizeof(shown)), (intmax_t)(st.st_size - pos),
				size);
			goto out;
		}
	}

	for (;;) {
		char extra;
		ssize_t n;

		if (off < size)
			n = read(STDIN_FILENO, buf + off, size - off);
		else
			n = read(STDIN_FILENO, &extra, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail("read stdin for", name, -errno);
			goto out;
		}
		if (n == 0)
			break;
		if (off == size) {
			fprintf(stderr, "sealshm: cannot write '%s': input is longer than the segment (%zu bytes)\n",
				escape_name(name, shown, sizeof(shown)), size);
			goto out;
		}
		off += n;
	}
	ret = EXIT_SUCCESS;
out:
	(void)sealshm_close(shm);
	return ret;
}

static int cmd_cat(int argc _unused_, char **argv)
{
	const char *name = argv[1];
	struct sealshm_opts opts = arg_opts;
	struct sealshm *shm = NULL;
	const char *buf;
	size_t size, off = 0;
	int r, ret = EXIT_SUCCESS;

	opts.flags |= SEALSHM_RDONLY;
	r = sealshm_attach(name, &opts, &shm);
	if (r < 0)
		return fail("attach", name, r);
	buf = sealshm_buf(shm);
	size = sealshm_size(shm);

	while (off < size) {
		ssize_t n = write(STDOUT_FILENO, buf + off, size - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = fail("write stdout for", name, -errno);
			break;
		}
		off += n;
	}
	(void)sealshm_close(shm);
	return ret;
}

static int cmd_stat(int argc _unused_, char **argv)
{
	const char *name = argv[1];
	struct sealshm_info info;
	char seals[128], ctime[64], atime[64], trackers[96], shown[ESCAPED_NAME_MAX];
	int r;

	r = sealshm_stat(name, &arg_opts, &info);
	if (r < 0)
		return fail("stat", name, r);

	format_seals(info.seals, seals, sizeof(seals));
	format_time(info.ctime_ns, ctime, sizeof(ctime));
	if (info.atime_ns)
		format_time(info.atime_ns, atime, sizeof(atime));
	else
		snprintf(atime, sizeof(atime), "never");
	format_trackers(&info, trackers, sizeof(trackers));
	printf("name:     %s\n"
	       "size:     %" PRIu64 "\n"
	       "resident: %" PRIu64 "\n"
	       "uid:      %" PRIu32 "\n"
	       "gid:      %" PRIu32 "\n"
	       "mode:     %04" PRIo32 "\n"
	       "seals:    %s\n"
	       "created:  %s\n"
	       "creator:  pid %" PRIu32 "\n"
	       "inode:    %" PRIu64 "\n"
	       "life:     %s\n"
	       "tracked:  %s\n"
	       "attaches: %" PRIu64 "\n"
	       "attached: %s\n",
	       escape_name(info.name, shown, sizeof(shown)), info.size, info.resident, info.uid, info.gid, info.mode, seals, ctime,
	       info.creator_pid, info.ino, lifetime(&info), trackers, info.n_attaches, atime);
	return fflush(stdout) == 0 ? EXIT_SUCCESS : fail("write", "stdout", -errno);
}

static int cmd_rm(int argc, char **argv)
{
	int ret = EXIT_SUCCESS;

	for (int i = 1; i < argc; i++) {
		int r = sealshm_unlink_name(argv[i], &arg_opts);

		if (r < 0)
			ret = fail("remove", argv[i], r);
	}
	return ret;
}

static int cmd_seal(int argc, char **argv)
{
	static const struct option options[] = {
		{ "future", no_argument, NULL, 'f' },
		{}
	};
	uint32_t flags = SEALSHM_SEAL_WRITE;
	char shown[ESCAPED_NAME_MAX];
	struct sealshm *shm = NULL;
	const char *name;
	int c, r;

	optind = 0;	/* glibc: restart parsing on the command's own argv */
	while ((c = getopt_long(argc, argv, "f", options, NULL)) >= 0) {
		switch (c) {
		case 'f':
			flags = SEALSHM_SEAL_FUTURE_WRITE;
			break;
		default:
			return usage_error("seal: invalid option");
		}
	}
	if (argc - optind != 1)
		return usage_error("usage: seal NAME [--future]");
	name = argv[optind];

	/* Adding seals needs a writable fd, hence a read-write attach; our
	 * own mapping is then the only writable one we add, and
	 * sealshm_seal() turns it read-only before it adds F_SEAL_WRITE. */
	r = sealshm_attach(name, &arg_opts, &shm);
	if (r < 0)
		return fail("attach", name, r);
	r = sealshm_seal(shm, flags);
	(void)sealshm_close(shm);
	if (r == -EBUSY) {
		fprintf(stderr, "sealshm: cannot seal '%s': %s (the segment is still mapped writable somewhere; try --future)\n",
			escape_name(name, shown, sizeof(shown)), strerror(-r));
		return EXIT_FAILURE;
	}
	if (r < 0)
		return fail("seal", name, r);
	return EXIT_SUCCESS;
}

/* argv[0] is the command's name. */
static const struct command {
	const char *name;
	int min_args, max_args;		/* -1: no maximum */
	int (*fn)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "ls",     0,  0, cmd_ls,     "ls" },
	{ "create", 2, -1, cmd_create, "create NAME SIZE [--mode OCTAL]" },
	{ "write",  1,  1, cmd_write,  "write NAME" },
	{ "cat",    1,  1, cmd_cat,    "cat NAME" },
	{ "stat",   1,  1, cmd_stat,   "stat NAME" },
	{ "rm",     1, -1, cmd_rm,     "rm NAME..." },
	{ "seal",   1,  2, cmd_seal,   "seal NAME [--future]" },
};

int main(int argc, char **argv)
{
	enum { ARG_VERSION = 0x100, ARG_SOCKET };
	static const struct option options[] = {
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, ARG_VERSION },
		{ "socket",  required_argument, NULL, ARG_SOCKET },
		{}
	};
	const char *cmd;
	int c;

	/* '+': stop at the command, its own options are parsed later. */
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help(stdout);
			return EXIT_SUCCESS;
		case ARG_VERSION:
			printf("sealshm %s\n", sealshm_version());
			return EXIT_SUCCESS;
		case ARG_SOCKET:
			arg_opts.socket = optarg;
			break;
		default:
			fputs("Try 'sealshm --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("missing command");

	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *k = &commands[i];

		if (strcmp(cmd, k->name) != 0)
			continue;
		/* create parses its own options, so it counts its arguments itself. */
		if (argc - 1 < k->min_args || (k->max_args >= 0 && argc - 1 > k->max_args))
			return usage_error("usage: %s", k->usage);
		return k->fn(argc, argv);
	}
	{
		char shown[ESCAPED_NAME_MAX];

		return usage_error("unknown command '%s'", escape_name(cmd, shown, sizeof(shown)));
	}
}

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
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sealshm.h>

#include "../escape.h"
#include "../objects.h"

#define EXIT_USAGE 2
/* Objects listed by stat; more are counted. */
#define STAT_OBJECTS_MAX 64
#define _unused_ __attribute__((unused))
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Every call passes NO_TRACK: this process exits at once, and a tracked
 * name would be unlinked with it.  --socket fills in .socket. */
static struct sealshm_opts arg_opts = {
	.sz = sizeof(struct sealshm_opts),
	.flags = SEALSHM_NO_TRACK,
};
static const char *arg_command;	/* the command's name, for messages */
static uint32_t arg_mode;	/* create --mode; 0: the library's default, 0600 */
static bool arg_reserve;	/* create --reserve */
static size_t arg_size;		/* create's SIZE */
static bool arg_future;		/* seal --future */

static bool no_trackerd;	/* a call found no trackerd: said once, stop */

static void help(FILE *f)
{
	fprintf(f,
		"Usage: sealshm [--socket PATH] COMMAND [ARG...]\n"
		"\n"
		"Named, size-sealed shared memory segments served by trackerd.\n"
		"\n"
		"Commands:\n"
		"  ls                       list the names you may attach\n"
		"  create [--mode OCTAL] [--reserve] NAME SIZE\n"
		"                           create a zeroed segment of SIZE bytes (1 or more;\n"
		"                           suffix K, M or G for KiB, MiB, GiB); mode defaults\n"
		"                           to 0600; --reserve allocates its memory now, and\n"
		"                           fails if the machine or your memory cgroup has not\n"
		"                           that much available (else pages come on first use)\n"
		"  write NAME               copy stdin into the segment from offset 0; bytes\n"
		"                           past the end of the input are left as they were;\n"
		"                           more input than the segment holds is an error\n"
		"  cat NAME                 write the whole segment to stdout (read-only attach)\n"
		"  stat NAME                show one name's details\n"
		"  rm NAME...               remove names (mappings stay valid until closed)\n"
		"  seal [--future] NAME     publish: nobody writes the segment any more (fails\n"
		"                           while anyone has it mapped writable); --future:\n"
		"                           mappings writable now stay so, no new one is made.\n"
		"                           Read-write attaches of a sealed name are refused\n"
		"\n"
		"A command's options may come before or after its arguments; '--' ends\n"
		"them, so a NAME that begins with '-' goes after it: sealshm rm -- -x.\n"
		"COMMAND --help shows the command's usage.\n"
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

/* $SEALSHM_NO_AUTOSTART as the library reads it (sealshm_create(3)). */
static bool env_no_autostart(void)
{
	const char *e = getenv("SEALSHM_NO_AUTOSTART");

	return e && *e && strcmp(e, "0") != 0;
}

/* Whether a trackerd answers where this command looks for one, now,
 * without starting one. */
static bool trackerd_answers(void)
{
	struct sealshm_opts opts = arg_opts;
	struct sealshm_registry_stats st;

	opts.flags |= SEALSHM_NO_AUTOSTART;
	return sealshm_registry_stats(&opts, &st) == 0;
}

/*
 * Say why no trackerd answers, after a call failed with -ENOPKG, or with
 * -ENOENT or -ECONNREFUSED while none answers: these are about trackerd,
 * not about a name, whatever strerror() would suggest ("No such file or
 * directory", "Package not installed").
 */
static int fail_no_trackerd(int r)
{
	const char *path = sealshm_trackerd_path(), *sock = arg_opts.socket;
	char shown[ESCAPED_NAME_MAX], shown_sock[ESCAPED_NAME_MAX];
	struct stat st;

	if (r == -ENOPKG) {
		bool missing = stat(path, &st) < 0;

		fprintf(stderr, "sealshm: %s: no trackerd answers, and the program to start one is "
			"%s: %s (%s, set SEALSHM_TRACKERD to a trackerd program, or start trackerd "
			"yourself)\n", arg_command, missing ? "missing" : "not executable",
			escape_name(path, shown, sizeof(shown)),
			missing ? "install sealshm" : "make it executable");
		return EXIT_FAILURE;
	}

	if (sock) {
		escape_name(sock, shown_sock, sizeof(shown_sock));
		fprintf(stderr, "sealshm: %s: no trackerd answers at %s, and none is started at a "
			"socket given with --socket (start one there: trackerd --socket %s)\n",
			arg_command, shown_sock, shown_sock);
		return EXIT_FAILURE;
	}
	sock = getenv("SEALSHM_SOCKET");
	if (sock && !*sock)
		sock = NULL;
	if (sock)
		escape_name(sock, shown_sock, sizeof(shown_sock));
	if (env_no_autostart())
		fprintf(stderr, "sealshm: %s: no trackerd answers%s%s, and SEALSHM_NO_AUTOSTART "
			"forbids starting one (unset it, or start trackerd yourself)\n", arg_command,
			sock ? " at " : "", sock ? shown_sock : "");
	else if (sock && sock[0] != '/')
		fprintf(stderr, "sealshm: %s: no trackerd answers at %s, and none is started at a "
			"relative SEALSHM_SOCKET (make it an absolute path)\n", arg_command,
			shown_sock);
	else if (sock)
		fprintf(stderr, "sealshm: %s: no trackerd answers at %s, and the one started (%s) "
			"did not come up; its log, if it wrote one, is %s.log\n", arg_command,
			shown_sock, escape_name(path, shown, sizeof(shown)), shown_sock);
	else
		fprintf(stderr, "sealshm: %s: no trackerd answers, and the one started (%s) did "
			"not come up; its log, if it wrote one, is beside its socket "
			"(trackerd.sock.log)\n", arg_command, escape_name(path, shown, sizeof(shown)));
	return EXIT_FAILURE;
}

/* A library call about @name (NULL: none) failed with @r: say so, in words
 * that tell a missing name from a missing trackerd. */
static int fail_call(const char *verb, const char *name, int r)
{
	char shown[ESCAPED_NAME_MAX];

	if (r == -ENOPKG || ((r == -ENOENT || r == -ECONNREFUSED) && !trackerd_answers())) {
		no_trackerd = true;
		return fail_no_trackerd(r);
	}
	if (name && r == -ENOENT) {
		fprintf(stderr, "sealshm: cannot %s '%s': no such name\n", verb,
			escape_name(name, shown, sizeof(shown)));
		return EXIT_FAILURE;
	}
	return fail(verb, name, r);
}

/* The largest segment: the library takes any size that fits in off_t and
 * size_t. */
#define SIZE_LIMIT ((uint64_t)INT64_MAX < (uint64_t)SIZE_MAX ? (uint64_t)INT64_MAX \
							   : (uint64_t)SIZE_MAX)

enum size_fault {
	SIZE_OK,
	SIZE_SYNTAX,
	SIZE_NEGATIVE,
	SIZE_ZERO,
	SIZE_TOO_LARGE,
};

/* "123", "4K", "16M", "1G" (powers of 1024), 1 to SIZE_LIMIT bytes, into
 * *@ret; else what is wrong with it. */
static enum size_fault parse_size(const char *s, size_t *ret)
{
	unsigned long long v, mult = 1;
	bool negative = s[0] == '-';
	char *end;
	int r;

	if (negative)
		s++;
	if (*s < '0' || *s > '9')
		return SIZE_SYNTAX;
	errno = 0;
	v = strtoull(s, &end, 10);
	r = errno;
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
		return SIZE_SYNTAX;
	}
	if (*end)
		return SIZE_SYNTAX;
	if (v == 0 && r == 0)
		return SIZE_ZERO;
	if (negative)
		return SIZE_NEGATIVE;
	if (r == ERANGE || v > SIZE_LIMIT / mult)
		return SIZE_TOO_LARGE;
	*ret = v * mult;
	return SIZE_OK;
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

static int cmd_ls(int n_args _unused_, char **args _unused_)
{
	struct sealshm_info *infos = NULL;
	int width = 4, n;

	n = sealshm_registry_list(&arg_opts, &infos);
	if (n < 0)
		return fail_call("list names", NULL, n);

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

static int cmd_create(int n _unused_, char **args)
{
	struct sealshm_opts opts = arg_opts;
	struct sealshm *shm = NULL;
	const char *name = args[0];
	int r;

	opts.mode = arg_mode;
	if (arg_reserve)
		opts.flags |= SEALSHM_RESERVE;
	r = sealshm_create(name, arg_size, &opts, &shm);
	if (r == -ENOMEM && arg_reserve) {
		char shown[ESCAPED_NAME_MAX];

		fprintf(stderr, "sealshm: cannot create '%s': --reserve: %zu bytes are more than "
			"the memory this machine or your memory cgroup has available\n",
			escape_name(name, shown, sizeof(shown)), arg_size);
		return EXIT_FAILURE;
	}
	if (r < 0)
		return fail_call("create", name, r);
	(void)sealshm_close(shm);
	return EXIT_SUCCESS;
}

static int cmd_write(int n _unused_, char **args)
{
	const char *name = args[0];
	char shown[ESCAPED_NAME_MAX];
	struct sealshm *shm = NULL;
	struct stat st;
	size_t size, off = 0;
	char *buf;
	int r, ret = EXIT_FAILURE;

	r = sealshm_attach(name, &arg_opts, &shm);
	if (r == -EPERM) {
		/* The one reason trackerd refuses a read-write attach so. */
		fprintf(stderr, "sealshm: cannot write '%s': it is sealed against writes "
			"(published with sealshm seal)\n", escape_name(name, shown, sizeof(shown)));
		return EXIT_FAILURE;
	}
	if (r < 0)
		return fail_call("attach", name, r);
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

static int cmd_cat(int n _unused_, char **args)
{
	const char *name = args[0];
	struct sealshm_opts opts = arg_opts;
	struct sealshm *shm = NULL;
	const char *buf;
	size_t size, off = 0;
	int r, ret = EXIT_SUCCESS;

	opts.flags |= SEALSHM_RDONLY;
	r = sealshm_attach(name, &opts, &shm);
	if (r < 0)
		return fail_call("attach", name, r);
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

/* stat's last lines: the shared objects the segment holds, when the
 * caller may read it. */
static void print_objects(const char *name)
{
	struct shown_object v[STAT_OBJECTS_MAX];
	struct object_scan scan;
	char line[160];
	int r;

	r = objects_scan(name, &arg_opts, v, STAT_OBJECTS_MAX, &scan);
	if (r < 0) {
		printf("objects:  not read (%s)\n", strerror(-r));
		return;
	}
	if (scan.n == 0)
		printf("objects:  none%s\n", scan.partial ? " in the first 16 MiB" : "");
	else
		printf("objects:  %zu%s\n", scan.n, scan.partial ? " in the first 16 MiB" : "");
	for (size_t i = 0; i < scan.n && i < STAT_OBJECTS_MAX; i++)
		printf("  %s\n", object_describe(&v[i], line, sizeof(line)));
	if (scan.n > STAT_OBJECTS_MAX)
		printf("  ... %zu more\n", scan.n - STAT_OBJECTS_MAX);
}

static int cmd_stat(int n _unused_, char **args)
{
	const char *name = args[0];
	struct sealshm_info info;
	char seals[128], ctime[64], atime[64], trackers[96], shown[ESCAPED_NAME_MAX];
	int r;

	r = sealshm_stat(name, &arg_opts, &info);
	if (r < 0)
		return fail_call("stat", name, r);

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
	print_objects(name);
	return fflush(stdout) == 0 ? EXIT_SUCCESS : fail("write", "stdout", -errno);
}

static int cmd_rm(int n, char **args)
{
	int ret = EXIT_SUCCESS;

	for (int i = 0; i < n && !no_trackerd; i++) {
		int r = sealshm_unlink_name(args[i], &arg_opts);

		if (r < 0)
			ret = fail_call("remove", args[i], r);
	}
	return ret;
}

static int cmd_seal(int n _unused_, char **args)
{
	uint32_t flags = arg_future ? SEALSHM_SEAL_FUTURE_WRITE : SEALSHM_SEAL_WRITE;
	const char *name = args[0];
	char shown[ESCAPED_NAME_MAX];
	struct sealshm *shm = NULL;
	int r;

	/* Adding seals needs a writable fd, hence a read-write attach; our
	 * own mapping is then the only writable one we add, and
	 * sealshm_seal() turns it read-only before it adds F_SEAL_WRITE. */
	r = sealshm_attach(name, &arg_opts, &shm);
	if (r < 0)
		return fail_call("attach", name, r);
	r = sealshm_seal(shm, flags);
	(void)sealshm_close(shm);
	if (r == -EBUSY) {
		fprintf(stderr, "sealshm: cannot seal '%s': %s (the segment is still mapped writable somewhere; try --future)\n",
			escape_name(name, shown, sizeof(shown)), strerror(-r));
		return EXIT_FAILURE;
	}
	if (r < 0)
		return fail_call("seal", name, r);
	return EXIT_SUCCESS;
}

/* Options of the commands, long only; each command takes those of its
 * .options. */
enum {
	OPT_MODE    = 1u << 0,
	OPT_FUTURE  = 1u << 1,
	OPT_RESERVE = 1u << 2,
};

static const struct command_option {
	const char *name;	/* after "--" */
	unsigned int id;
	bool has_value;		/* "--name VALUE" or "--name=VALUE" */
} command_options[] = {
	{ "mode",    OPT_MODE,    true },
	{ "future",  OPT_FUTURE,  false },
	{ "reserve", OPT_RESERVE, false },
};

static const struct command {
	const char *name;
	int (*fn)(int n, char **args);	/* the operands, options taken out */
	const char *usage;		/* after "sealshm " */
	const char *operands[2];	/* what the first two operands are */
	int min_args, max_args;		/* operands; -1: no maximum */
	int size_at;			/* the SIZE operand, -1: none; the rest are NAMEs */
	unsigned int options;		/* OPT_* it takes */
} commands[] = {
	{ "ls",     cmd_ls,     "ls",                                   { NULL },
	  0,  0, -1, 0 },
	{ "create", cmd_create, "create [--mode OCTAL] [--reserve] [--] NAME SIZE",
	  { "NAME", "SIZE" }, 2,  2,  1, OPT_MODE | OPT_RESERVE },
	{ "write",  cmd_write,  "write [--] NAME",                      { "NAME" },
	  1,  1, -1, 0 },
	{ "cat",    cmd_cat,    "cat [--] NAME",                        { "NAME" },
	  1,  1, -1, 0 },
	{ "stat",   cmd_stat,   "stat [--] NAME",                       { "NAME" },
	  1,  1, -1, 0 },
	{ "rm",     cmd_rm,     "rm [--] NAME...",                      { "NAME" },
	  1, -1, -1, 0 },
	{ "seal",   cmd_seal,   "seal [--future] [--] NAME",            { "NAME" },
	  1,  1, -1, OPT_FUTURE },
};

__attribute__((format(printf, 2, 3)))
static int command_usage_error(const struct command *k, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealshm: %s: ", k->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: sealshm %s\n", k->usage);
	return EXIT_USAGE;
}

/* Apply option @o of command @k with @value (NULL for none). */
static int command_option(const struct command *k, const struct command_option *o,
			  const char *value)
{
	char shown[ESCAPED_NAME_MAX];
	unsigned long mode;
	char *end;

	switch (o->id) {
	case OPT_MODE:
		errno = 0;
		mode = strtoul(value, &end, 8);
		if (errno || value[0] < '0' || value[0] > '7' || *end || mode > 0777)
			return command_usage_error(k, "invalid mode '%s' (octal, at most 0777)",
						   escape_name(value, shown, sizeof(shown)));
		arg_mode = (uint32_t)mode;
		break;
	case OPT_FUTURE:
		arg_future = true;
		break;
	case OPT_RESERVE:
		arg_reserve = true;
		break;
	}
	return 0;
}

/* Check @a (shown as @shown) as the SIZE of command @k into arg_size. */
static int size_operand(const struct command *k, const char *a, const char *shown)
{
	switch (parse_size(a, &arg_size)) {
	case SIZE_OK:
		return 0;
	case SIZE_SYNTAX:
		return command_usage_error(k, "invalid size '%s': not a number of bytes (digits, "
					   "then K, M or G for KiB, MiB or GiB)", shown);
	case SIZE_NEGATIVE:
		return command_usage_error(k, "invalid size '%s': it is negative", shown);
	case SIZE_ZERO:
		return command_usage_error(k, "invalid size '%s': it is zero; a segment holds "
					   "at least 1 byte", shown);
	case SIZE_TOO_LARGE:
		return command_usage_error(k, "invalid size '%s': it is more than %" PRIu64
					   " bytes, the most a segment may hold", shown,
					   (uint64_t)SIZE_LIMIT);
	}
	return EXIT_USAGE;
}

/* Where SIZE goes, a negative number is a size (refused as one), not an
 * unknown option: no option begins with a digit. */
static bool negative_number(const char *s)
{
	return s[0] == '-' && s[1] >= '0' && s[1] <= '9';
}

#define PARSE_RUN (-1)

/*
 * The one parser of every command's arguments, argv[1..argc-1] of command
 * @k, so that they follow the same rules: options may come before, between
 * or after the operands; "--" ends the options (a second "--" is an
 * operand); before it, an argument that begins with '-' (but "-" alone)
 * is an option, so
 * a NAME that begins with '-' goes after "--" (a negative number where
 * SIZE goes excepted); -h and --help show the usage.  The operands move to
 * argv[1..], in order, and *@ret_n says how many.  Returns PARSE_RUN when
 * the command is to run, else its exit status.
 */
static int parse_command(const struct command *k, int argc, char **argv, int *ret_n)
{
	char shown[ESCAPED_NAME_MAX];
	bool options_end = false;
	int n = 0, r;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct command_option *o = NULL;
		const char *value = NULL;
		size_t len;

		/* "-" alone is an operand, as getopt(3) has it. */
		if (options_end || a[0] != '-' || !a[1] ||
		    (n == k->size_at && negative_number(a))) {
			argv[1 + n++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			options_end = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("Usage: sealshm %s\n", k->usage);
			return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
		}
		len = strcspn(a + 2, "=");
		for (size_t j = 0; a[1] == '-' && j < ELEMENTSOF(command_options); j++)
			if ((k->options & command_options[j].id) &&
			    strlen(command_options[j].name) == len &&
			    !strncmp(a + 2, command_options[j].name, len))
				o = &command_options[j];
		if (!o) {
			escape_name(a, shown, sizeof(shown));
			if (k->operands[0] && !strcmp(k->operands[0], "NAME"))
				return command_usage_error(k, "unknown option '%s' (a NAME that begins "
							   "with '-' goes after '--')", shown);
			return command_usage_error(k, "unknown option '%s'", shown);
		}
		if (a[2 + len] == '=')
			value = a + 3 + len;
		if (o->has_value && !value) {
			if (i + 1 >= argc)
				return command_usage_error(k, "option '--%s' needs a value", o->name);
			value = argv[++i];
		} else if (!o->has_value && value) {
			return command_usage_error(k, "option '--%s' takes no value", o->name);
		}
		r = command_option(k, o, value);
		if (r != 0)
			return r;
	}

	if (n < k->min_args)
		return command_usage_error(k, "missing %s",
					   k->operands[n < 2 && k->operands[n] ? n : 0]);
	if (k->max_args >= 0 && n > k->max_args)
		return command_usage_error(k, "unexpected argument '%s'",
					   escape_name(argv[1 + k->max_args], shown, sizeof(shown)));

	/* Every operand is checked before anything is done: rm removes
	 * none of its names when one is not valid. */
	for (int i = 0; i < n; i++) {
		const char *a = argv[1 + i], *reason = NULL;

		escape_name(a, shown, sizeof(shown));
		if (i == k->size_at) {
			r = size_operand(k, a, shown);
			if (r != 0)
				return r;
		} else if (sealshm_check_name(a, &reason) < 0) {
			/* The library's own words: which rule the name breaks. */
			return command_usage_error(k, "invalid name '%s': it %s", shown,
						   reason ? reason : "is not valid");
		}
	}
	*ret_n = n;
	return PARSE_RUN;
}

int main(int argc, char **argv)
{
	enum { ARG_VERSION = 0x100, ARG_SOCKET };
	static const struct option options[] = {
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, ARG_VERSION },
		{ "socket",  required_argument, NULL, ARG_SOCKET },
		{}
	};
	char shown[ESCAPED_NAME_MAX];
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
	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		const struct command *k = &commands[i];
		int n = 0, r;

		if (strcmp(cmd, k->name) != 0)
			continue;
		arg_command = k->name;
		r = parse_command(k, argc, argv, &n);
		if (r != PARSE_RUN)
			return r;
		return k->fn(n, argv + 1);
	}
	return usage_error("unknown command '%s'", escape_name(cmd, shown, sizeof(shown)));
}

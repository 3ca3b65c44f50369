// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shmtop(1): a top-like monitor of trackerd's segments: who created them,
 * how big they are and how much is resident, who tracks and who maps
 * them, what seals they carry, and how trackerd itself is doing.
 *
 * main.c reads the command line and picks a display: screen.c (ncurses,
 * the default) or batch.c (-b, like top -b; --json).  Data come from
 * collect.c through the public API only.  Never starts a trackerd.
 * Exit status: 0 ok, 1 runtime failure (trackerd unreachable, output
 * failed), 2 usage (bad option, interactive mode without a terminal).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sealshm.h>

#include "batch.h"
#include "collect.h"
#include "screen.h"

#define EXIT_USAGE	2
#define INTERVAL_MIN	0.1
#define INTERVAL_MAX	3600.0

static void help(FILE *f)
{
	fprintf(f,
		"Usage: shmtop [OPTION...]\n"
		"\n"
		"Monitor the segments trackerd keeps: sizes, resident bytes, owners, seals,\n"
		"tracking sessions and the processes that map them.\n"
		"\n"
		"Options:\n"
		"  -b, --batch              batch mode: plain-text frames on standard output,\n"
		"                           no keys (like top -b); until interrupted unless -n\n"
		"  -n, --iterations N       stop after N frames\n"
		"  -d, --delay SECS         seconds between frames (default 1, %.1f..%.0f)\n"
		"      --json               batch mode, one JSON object per frame and line\n"
		"  -o, --sort COLUMN        sort by size, resident, owner, mode, life, tracked,\n"
		"                           mappers, attaches, seals, age or name (default\n"
		"                           resident); numbers biggest first, names A to Z\n"
		"  -R, --reverse            reverse the order\n"
		"      --filter TEXT        only names containing TEXT\n"
		"      --no-mappers         do not scan /proc/*/maps for mapping processes\n"
		"      --socket PATH        trackerd's socket (default: as the library finds\n"
		"                           it: $SEALSHM_SOCKET, then the per-user socket)\n"
		"  -h, --help               show this help\n"
		"      --version            show the version\n"
		"\n"
		"Columns: SIZE RES OWNER MODE LIFE TRK MAPS ATTACH SEALS AGE NAME;\n"
		"interactive keys: h.  See shmtop(1).\n"
		"\n"
		"Exit status: 0 success, 1 failure (trackerd unreachable), 2 usage error.\n",
		INTERVAL_MIN, INTERVAL_MAX);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("shmtop: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'shmtop --help'.\n", stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	enum { ARG_VERSION = 0x100, ARG_JSON, ARG_FILTER, ARG_NO_MAPPERS, ARG_SOCKET };
	static const struct option options[] = {
		{ "batch",      no_argument,       NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "delay",      required_argument, NULL, 'd' },
		{ "json",       no_argument,       NULL, ARG_JSON },
		{ "sort",       required_argument, NULL, 'o' },
		{ "reverse",    no_argument,       NULL, 'R' },
		{ "filter",     required_argument, NULL, ARG_FILTER },
		{ "no-mappers", no_argument,       NULL, ARG_NO_MAPPERS },
		{ "socket",     required_argument, NULL, ARG_SOCKET },
		{ "help",       no_argument,       NULL, 'h' },
		{ "version",    no_argument,       NULL, ARG_VERSION },
		{}
	};
	struct shmtop_config cfg = {
		.interval_s = 1.0,
		.sort = COL_RES,
	};
	bool batch = false;
	int c;

	while ((c = getopt_long(argc, argv, "bn:d:o:Rh", options, NULL)) >= 0) {
		char *end;

		switch (c) {
		case 'b':
			batch = true;
			break;
		case 'n':
			errno = 0;
			cfg.frames = strtoull(optarg, &end, 10);
			if (errno || *optarg < '0' || *optarg > '9' || *end || cfg.frames == 0)
				return usage_error("invalid number of frames '%s' (1 or more)",
						   optarg);
			break;
		case 'd':
			errno = 0;
			cfg.interval_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(cfg.interval_s) ||
			    cfg.interval_s < INTERVAL_MIN || cfg.interval_s > INTERVAL_MAX)
				return usage_error("invalid delay '%s' (seconds, %.1f to %.0f)",
						   optarg, INTERVAL_MIN, INTERVAL_MAX);
			break;
		case ARG_JSON:
			cfg.json = true;
			batch = true;
			break;
		case 'o': {
			int col = column_from_key(optarg);

			if (col < 0)
				return usage_error("unknown sort column '%s'", optarg);
			cfg.sort = (enum column)col;
			break;
		}
		case 'R':
			cfg.reverse = true;
			break;
		case ARG_FILTER:
			cfg.filter = optarg;
			break;
		case ARG_NO_MAPPERS:
			cfg.collect.no_mappers = true;
			break;
		case ARG_SOCKET:
			if (!*optarg)
				return usage_error("empty socket path");
			cfg.collect.socket = optarg;
			break;
		case 'h':
			help(stdout);
			return EXIT_SUCCESS;
		case ARG_VERSION:
			printf("shmtop %s\n", sealshm_version());
			return EXIT_SUCCESS;
		default:
			fputs("Try 'shmtop --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	if (batch)
		return batch_run(&cfg);

	if (!isatty(STDOUT_FILENO)) {
		fputs("shmtop: standard output is not a terminal; use -b for batch mode\n", stderr);
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO)) {
		fputs("shmtop: standard input is not a terminal; use -b for batch mode\n", stderr);
		return EXIT_USAGE;
	}
	return screen_run(&cfg);
}

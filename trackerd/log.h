/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trackerd's log: one line per event, "trackerd[PID]: message", written to
 * stderr (a terminal, the --log file, or /dev/null once daemonized).
 */
#ifndef TRACKERD_LOG_H
#define TRACKERD_LOG_H

#include <stdbool.h>

/* Write log lines to @path (appended, created 0600) from now on, instead
 * of the stderr we were given. Returns 0 or -errno. */
int log_open(const char *path);

/* With @verbose, log_debug() lines are written too. */
void log_set_verbose(bool verbose);
bool log_is_verbose(void);
/* With @quiet (a manager: its stderr is its owner's), log_info() lines are
 * written only when verbose; warnings always are. */
void log_set_quiet(bool quiet);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* TRACKERD_LOG_H */

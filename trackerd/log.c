// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Log lines to stderr. Each line is formatted first and written with one
 * write(2), so lines of a daemon sharing its --log file (O_APPEND) with
 * another never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

/* A line longer than this is cut; names are at most 255 bytes. */
#define LOG_LINE_MAX 1024

static bool verbose;
static bool quiet;

int log_open(const char *path)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	if (dup2(fd, STDERR_FILENO) < 0)
		r = -errno;
	(void)close(fd);
	return r;
}

void log_set_verbose(bool on)
{
	verbose = on;
}

bool log_is_verbose(void)
{
	return verbose;
}

void log_set_quiet(bool on)
{
	quiet = on;
}

static void log_line(const char *level, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	int saved = errno;
	size_t len;
	int n;

	/* getpid() each time: the pid changes when we daemonize. */
	n = snprintf(buf, sizeof(buf), "trackerd[%d]: %s", (int)getpid(), level);
	if (n < 0)
		goto out;
	len = (size_t)n;
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	if (n < 0)
		goto out;
	len += (size_t)n;
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';

	/* stderr may be a closed pipe: SIGPIPE is ignored, the line is lost.
	 * A short write to a file or terminal is not retried either. */
	(void)!write(STDERR_FILENO, buf, len);
out:
	errno = saved;
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (quiet && !verbose)
		return;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("warning: ", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

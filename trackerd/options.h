/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trackerd's command line: struct options, filled from argv and checked as
 * a whole (a manager needs --socket, --owner-pidfd needs --manager, ...).
 * Misuse is reported on stderr. Nothing is opened here: the fds named on
 * the command line are numbers until main.c takes them. --user is looked
 * up at once (sandbox_lookup_user()), while NSS may still open what it
 * likes.
 */
#ifndef TRACKERD_OPTIONS_H
#define TRACKERD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox.h"

struct options {
	const char *socket;		/* --socket; NULL: where the library looks */
	bool foreground;
	bool verbose;
	const char *log;		/* --log FILE; NULL: stderr */
	unsigned idle_exit;		/* seconds, 0 = never */
	uint32_t max_names;
	uint32_t max_names_per_uid;	/* at most max_names */
	uint32_t max_clients;
	uint32_t max_clients_per_uid;	/* 0: LIMIT_CLIENTS_PER_UID(max_clients) */
	uint32_t hello_timeout_ms;	/* a connection's first message, > 0 */
	uint32_t max_holders;		/* holder ids alive at once, 1..LIMIT_HOLDERS_MAX */
	uint64_t max_bytes_per_uid;	/* 0: no limit */
	mode_t socket_mode;
	gid_t socket_group;		/* (gid_t)-1: ours */
	struct sandbox_opts sandbox;	/* --seccomp, --user */
	bool manager;			/* implies foreground */
	int owner_pidfd;		/* inherited; -EBADF: none */
	int auth_fd;			/* inherited; -EBADF: none */
};

/* Fill @o from the command line, with defaults for what it does not say.
 * Returns 1 to go on, 0 when there is nothing more to do (--help,
 * --version: printed), or -EINVAL on misuse (reported). */
int options_parse(int argc, char *argv[], struct options *o);

#endif /* TRACKERD_OPTIONS_H */

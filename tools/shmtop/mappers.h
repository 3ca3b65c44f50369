/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mappers: which processes map which segment, read from /proc/<pid>/maps.
 *
 * A mapping belongs to a segment when it is a file mapping on the device
 * memfds live on (the kernel's internal shmem mount) and its inode is the
 * one trackerd reports for the segment: exact, never by name (the
 * "/memfd:sealshm:<name> (deleted)" path is only a label, which any
 * process may choose for any memfd).  A process's mapped bytes for a
 * segment are the sum of the lengths of its mappings of that inode
 * (whole pages).  Processes that exit during the scan, or whose maps we
 * may not read, are skipped without a message and counted.
 */
#ifndef SHMTOP_MAPPERS_H
#define SHMTOP_MAPPERS_H

#include <stdint.h>
#include <stddef.h>

/* TASK_COMM_LEN (16) bytes with the NUL. */
#define MAPPER_COMM_MAX 16

struct mapper {
	uint32_t pid;
	char comm[MAPPER_COMM_MAX];	/* /proc/<pid>/comm, "?" when gone */
	uint64_t bytes;			/* sum of the lengths of its mappings */
};

/* The processes mapping one segment, in the order /proc lists them. */
struct mapper_set {
	struct mapper *v;
	size_t n;
	size_t cap;
};

/* One line of /proc/<pid>/maps, as proc(5) describes it. */
struct maps_line {
	uint64_t start;
	uint64_t end;
	uint32_t dev_major;	/* hexadecimal in the file */
	uint32_t dev_minor;
	uint64_t ino;		/* 0: anonymous */
	const char *path;	/* points into the line ("" when none), not NUL-terminated */
	size_t path_len;
};

/* Parse one line (without its newline, @len bytes).  Returns 0, or
 * -EINVAL when it is not a maps line. */
int maps_parse_line(const char *line, size_t len, struct maps_line *ret);

struct mappers_totals {
	uint32_t scanned;	/* processes whose maps were read */
	uint32_t unreadable;	/* processes whose maps we may not read */
};

/* For every process in /proc: each mapping of the inode @inos[i] (on the
 * memfd device) adds its length to that process's entry in @sets[i].
 * @sets must be zeroed by the caller and freed with mapper_set_done()
 * (also on failure).  Returns 0 or a negative errno (-ENOMEM, or /proc
 * not readable). */
int mappers_scan(const uint64_t *inos, size_t n, struct mapper_set *sets,
		 struct mappers_totals *ret_totals);

void mapper_set_done(struct mapper_set *set);

#endif /* SHMTOP_MAPPERS_H */

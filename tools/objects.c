// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Shared objects in a segment, as the tools show them (objects.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* SEEK_DATA, SEEK_HOLE */
#endif
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "objects.h"

/* An object's first four bytes ("SOBJ" little-endian): what the scan
 * looks for before it asks the library. */
#define OBJECT_MAGIC	0x4a424f53u

/* Where the items of the array described by @info at @off end: what
 * follows its header (its lock, if any) up to there is not scanned for
 * objects, since items hold the caller's bytes.  Saturates. */
static size_t array_end(size_t off, const struct sealshm_object_info *info)
{
	uint64_t bytes, end;

	if (__builtin_mul_overflow(info->length, (uint64_t)info->item_size, &bytes) ||
	    __builtin_add_overflow(bytes, (uint64_t)off + info->max, &end) || end > SIZE_MAX)
		return SIZE_MAX;
	return (size_t)end;
}

/* Objects in [@from, @to) of @buf, a range that holds data: none
 * straddles its end, since init writes every byte of an object.  An
 * array's items, which may span ranges (pages never written are holes),
 * are skipped from its items' offset to *@items_end. */
static void scan_range(const char *buf, size_t from, size_t to, const struct sealshm_opts *opts,
		       struct shown_object *v, size_t max, struct object_scan *s,
		       size_t *items_from, size_t *items_end)
{
	from = (from + SEALSHM_OBJECT_ALIGN - 1) & ~(size_t)(SEALSHM_OBJECT_ALIGN - 1);
	for (size_t off = from; off + 16 <= to; off += SEALSHM_OBJECT_ALIGN) {
		struct sealshm_object_info info = { .sz = sizeof(info) };
		uint32_t magic;

		if (off >= *items_from && off < *items_end) {
			off = (*items_end + SEALSHM_OBJECT_ALIGN - 1) &
			      ~(size_t)(SEALSHM_OBJECT_ALIGN - 1);
			if (off < *items_end || off + 16 > to)
				break;
		}
		memcpy(&magic, buf + off, sizeof(magic));
		if (magic != OBJECT_MAGIC)
			continue;
		if (sealshm_object_info(buf + off, to - off, opts, &info) < 0)
			continue;
		if (s->n < max)
			v[s->n] = (struct shown_object){ .off = off, .info = info };
		s->n++;
		if (info.type == SEALSHM_OBJECT_ARRAY && info.max >= info.size) {
			*items_from = off + info.max;
			*items_end = array_end(off, &info);
		}
		/* A queue's slots follow its header and hold messages. */
		if (info.type == SEALSHM_OBJECT_QUEUE && info.length > info.size) {
			*items_from = off + info.size;
			*items_end = info.length > SIZE_MAX - off ? SIZE_MAX : off + (size_t)info.length;
		}
		/* The next object cannot start inside this one (sizes are
		 * multiples of the alignment). */
		off += info.size - SEALSHM_OBJECT_ALIGN;
	}
}

int objects_scan(const char *name, const struct sealshm_opts *opts, struct shown_object *v,
		 size_t max, struct object_scan *ret)
{
	struct sealshm_opts o = { .sz = sizeof(o) };
	struct object_scan s = { .v = v };
	struct sealshm *shm = NULL;
	const char *buf;
	size_t size, limit, items_from = 0, items_end = 0;
	off_t pos = 0;
	int fd, r;

	if (opts)
		o = *opts;
	o.flags |= SEALSHM_RDONLY | SEALSHM_NO_TRACK;
	r = sealshm_attach(name, &o, &shm);
	if (r < 0)
		return r;
	buf = sealshm_buf(shm);
	size = sealshm_size(shm);
	limit = size < OBJECTS_SCAN_MAX ? size : OBJECTS_SCAN_MAX;
	s.partial = size > limit;
	fd = sealshm_fd(shm);

	/* Walk the data ranges only: reading a hole of a memfd would
	 * allocate its pages, charged to whoever runs the tool. */
	while ((size_t)pos < limit) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0 || (size_t)data >= limit)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (size_t)hole > limit)
			hole = (off_t)limit;
		scan_range(buf, (size_t)data, (size_t)hole, opts, v, max, &s, &items_from,
			   &items_end);
		pos = hole;
	}
	(void)sealshm_close(shm);
	*ret = s;
	return 0;
}

static const char *plural(uint32_t n)
{
	return n == 1 ? "" : "s";
}

/* "'d' x 1000000, rlock"; "value 'q', lock"; "struct of 24 bytes x 10,
 * no lock" (an array's info: value holds its SEALSHM_ARRAY_* flags). */
static void describe_array(const struct sealshm_object_info *in, char *buf, size_t len)
{
	const char *lock = in->value & SEALSHM_ARRAY_LOCK ? "lock" :
			   in->value & SEALSHM_ARRAY_RLOCK ? "rlock" : "no lock";
	char item[40];

	if (in->typecode == 0)
		snprintf(item, sizeof(item), "struct of %" PRIu32 " bytes", in->item_size);
	else if (in->typecode < 0x7f && isprint((int)in->typecode))
		snprintf(item, sizeof(item), "'%c'", (int)in->typecode);
	else
		snprintf(item, sizeof(item), "typecode %#" PRIx32, in->typecode);
	if (in->value & SEALSHM_ARRAY_VALUE)
		snprintf(buf, len, "value %s, %s", item, lock);
	else
		snprintf(buf, len, "%s x %" PRIu64 ", %s", item, in->length, lock);
}

char *object_describe(const struct shown_object *o, char *buf, size_t len)
{
	const struct sealshm_object_info *in = &o->info;
	const char *type = sealshm_object_type_name(in->type);
	char who[64], waiters[32] = "", *start = buf;
	int n;

	/* No pid: no live process has that id at the trackerd asked, so
	 * its holder died (the next acquirer inherits the lock), or the
	 * object is another trackerd's; the tool cannot tell which. */
	if (in->holder_pid)
		snprintf(who, sizeof(who), "pid %" PRIu32, in->holder_pid);
	else
		snprintf(who, sizeof(who), "holder %#" PRIx32 " (dead, or of another trackerd)",
			 in->holder);
	if (in->waiters)
		snprintf(waiters, sizeof(waiters), ", %" PRIu32 " waiter%s", in->waiters,
			 plural(in->waiters));

	n = snprintf(buf, len, "%s at %zu: ", type ? type : "object", o->off);
	if (n < 0 || (size_t)n >= len)
		return buf;
	buf += n, len -= (size_t)n;

	switch (in->type) {
	case SEALSHM_OBJECT_LOCK:
	case SEALSHM_OBJECT_RLOCK:
		if (in->flags & SEALSHM_OBJECT_NOTRECOVERABLE)
			snprintf(buf, len, "not recoverable (its holder died, nobody repaired it)%s",
				 waiters);
		else if (!(in->flags & SEALSHM_OBJECT_HELD))
			snprintf(buf, len, "free%s", waiters);
		else if (in->type == SEALSHM_OBJECT_RLOCK)
			snprintf(buf, len, "held by %s, count %" PRIu32 "%s%s", who, in->value,
				 in->flags & SEALSHM_OBJECT_OWNER_DIED ? ", inherited from a dead holder" : "",
				 waiters);
		else
			snprintf(buf, len, "held by %s%s%s", who,
				 in->flags & SEALSHM_OBJECT_OWNER_DIED ? ", inherited from a dead holder" : "",
				 waiters);
		break;
	case SEALSHM_OBJECT_SEM:
		if (in->max)
			snprintf(buf, len, "value %" PRIu32 " of %" PRIu32 " (bounded%s)%s", in->value,
				 in->max, in->flags & SEALSHM_OBJECT_ROBUST ? ", robust" : "", waiters);
		else
			snprintf(buf, len, "value %" PRIu32 "%s%s", in->value,
				 in->flags & SEALSHM_OBJECT_ROBUST ? " (robust)" : "", waiters);
		break;
	case SEALSHM_OBJECT_EVENT:
		snprintf(buf, len, "%s%s", in->flags & SEALSHM_OBJECT_SET ? "set" : "clear", waiters);
		break;
	case SEALSHM_OBJECT_ARRAY:
		describe_array(in, buf, len);
		break;
	case SEALSHM_OBJECT_BARRIER:
		snprintf(buf, len, "%" PRIu32 " of %" PRIu32 " parties waiting%s", in->value, in->max,
			 in->flags & SEALSHM_OBJECT_BROKEN ? ", broken" : "");
		break;
	case SEALSHM_OBJECT_QUEUE:
		/* "3 of 64 messages (slots of 4096 bytes), joinable, shut down, 2 waiters" */
		snprintf(buf, len, "%" PRIu32 " of %" PRIu32 " message%s (slots of %" PRIu32
			 " bytes)%s%s%s", in->value, in->max, plural(in->max), in->item_size,
			 in->flags & SEALSHM_OBJECT_JOINABLE ? ", joinable" : "",
			 in->flags & SEALSHM_OBJECT_SHUTDOWN ? ", shut down" : "", waiters);
		break;
	default:
		snprintf(buf, len, "%" PRIu32 " waiter%s", in->waiters, plural(in->waiters));
		break;
	}
	return start;
}

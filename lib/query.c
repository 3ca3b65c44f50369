// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading trackerd's registry: sealshm_registry_list() pages through every name the
 * caller may see, sealshm_stat() fetches one, sealshm_registry_stats() trackerd's
 * global figures. Replies are checked as untrusted input: counts against
 * sizes, name fields for their structure, a STAT reply's name against the
 * one asked for.  Not listed names against the name rules: an older or a
 * hostile trackerd may hold names ours refuses, and they are passed on as
 * sent (sealshm_registry_list(3)); whoever shows them escapes them.
 */
#include <limits.h>

#include "internal.h"
#include "name.h"
#include "peer.h"

static void info_from_wire(struct sealshm_info *info, const struct sealshm_wire_info *w)
{
	*info = (struct sealshm_info) {
		.size = w->size,
		.uid = w->uid,
		.gid = w->gid,
		.mode = w->mode,
		.seals = w->seals,
		.ctime_ns = w->ctime_ns,
		.creator_pid = w->creator_pid,
		/* Wire and public bits differ: translate, never copy. */
		.flags = w->flags & SEALSHM_PROTO_LIFETIME_LAST ? SEALSHM_LIFETIME_LAST : 0,
		.ino = w->ino,
		.n_sessions = w->n_sessions,
		.resident = w->resident,
		.n_attaches = w->n_attaches,
		.atime_ns = w->atime_ns,
	};
	_Static_assert(SEALSHM_INFO_PIDS == SEALSHM_PROTO_INFO_PIDS, "session pid slots");
	/* Zero past the sessions there are, whatever trackerd left there. */
	for (uint32_t i = 0; i < SEALSHM_INFO_PIDS && i < w->n_sessions; i++)
		info->session_pids[i] = w->session_pids[i];
	_Static_assert(sizeof(info->name) == sizeof(w->name), "name field sizes");
	memcpy(info->name, w->name, sizeof(info->name));
	info->name[sizeof(info->name) - 1] = '\0';
}

/* Append one page's entries to *@infos (*@n used, *@cap allocated). */
static int append_page(const struct sealshm_msg_list_reply *rep, struct sealshm_info **infos,
		       size_t *n, size_t *cap)
{
	if (rep->count > INT_MAX - *n)
		return -EOVERFLOW;	/* the count is our return value */

	if (*n + rep->count > *cap) {
		size_t want = *cap ? *cap : SEALSHM_PROTO_LIST_PAGE;
		struct sealshm_info *p;

		while (want < *n + rep->count)
			want *= 2;
		p = reallocarray(*infos, want, sizeof(**infos));
		if (!p)
			return -ENOMEM;
		*infos = p;
		*cap = want;
	}

	for (uint32_t i = 0; i < rep->count; i++) {
		/* Structure only: one name that breaks our rules must not
		 * hide every other name from the caller. */
		if (sealshm__name_check_field(rep->entries[i].name) < 0)
			return -EBADMSG;
		info_from_wire(&(*infos)[(*n)++], &rep->entries[i]);
	}
	return 0;
}

int sealshm_registry_list(const struct sealshm_opts *opts, struct sealshm_info **ret_infos)
{
	_cleanup_free_ struct sealshm_msg_list_reply *rep = NULL;
	_cleanup_free_ struct sealshm_info *infos = NULL;
	size_t n = 0, cap = 0;
	uint64_t cursor = 0;
	int r;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(ret_infos, -EINVAL);
	sealshm__return_if_fail(!(OPTS_GET(opts, flags, 0) & ~SEALSHM__FLAGS_TRACKERD), -EINVAL);

	/* A full page is 64 KiB: too much for the stack of a caller's thread. */
	rep = malloc(SEALSHM_PROTO_MSG_MAX);
	if (!rep)
		return sealshm__err(-ENOMEM);

	for (;;) {
		struct sealshm_msg_list req = {
			.hdr = {
				.type = SEALSHM_MSG_LIST,
				.size = sizeof(req),
			},
			.cursor = cursor,
		};

		r = sealshm__peer_call(opts, &req.hdr, -EBADF, NULL, rep, SEALSHM_PROTO_MSG_MAX, NULL);
		if (r < 0)
			return sealshm__err(r);
		if ((size_t)r < sizeof(*rep) || rep->count > SEALSHM_PROTO_LIST_PAGE ||
		    (size_t)r != sizeof(*rep) + rep->count * sizeof(rep->entries[0]))
			return sealshm__err(-EBADMSG);
		/* Cursors are slot indexes and only move forward; a trackerd
		 * that sends us back would keep us here for ever. */
		if (rep->next_cursor != 0 && rep->next_cursor <= cursor)
			return sealshm__err(-EBADMSG);

		r = append_page(rep, &infos, &n, &cap);
		if (r < 0)
			return sealshm__err(r);

		if (rep->next_cursor == 0)
			break;
		cursor = rep->next_cursor;
	}

	*ret_infos = n > 0 ? TAKE_PTR(infos) : NULL;
	return (int)n;
}

int sealshm_stat(const char *name, const struct sealshm_opts *opts, struct sealshm_info *ret_info)
{
	struct sealshm_msg_name req = {
		.hdr = {
			.type = SEALSHM_MSG_STAT,
			.size = sizeof(req),
		},
	};
	struct sealshm_msg_stat_reply rep;
	const char *n;
	int r;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(ret_info, -EINVAL);
	sealshm__return_if_fail(!(OPTS_GET(opts, flags, 0) & ~SEALSHM__FLAGS_TRACKERD), -EINVAL);
	sealshm__return_if_fail(sealshm__name_check(name, &n) == 0, -EINVAL);

	memcpy(req.name, n, strlen(n));	/* rest of the field is zero */

	r = sealshm__peer_call(opts, &req.hdr, -EBADF, NULL, &rep, sizeof(rep), NULL);
	if (r < 0)
		return sealshm__err(r);
	/* The name asked for, which is valid: so is the reply's. */
	if ((size_t)r != sizeof(rep) || sealshm__name_check_field(rep.info.name) < 0 ||
	    strcmp(rep.info.name, n) != 0)
		return sealshm__err(-EBADMSG);

	info_from_wire(ret_info, &rep.info);
	return 0;
}

int sealshm_registry_stats(const struct sealshm_opts *opts, struct sealshm_registry_stats *ret_stats)
{
	struct sealshm_msg_hdr req = {
		.type = SEALSHM_MSG_STATS,
		.size = sizeof(req),
	};
	struct sealshm_msg_stats_reply rep;
	const struct sealshm_wire_stats *w = &rep.stats;
	int r;

	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	sealshm__return_if_fail(ret_stats, -EINVAL);
	sealshm__return_if_fail(!(OPTS_GET(opts, flags, 0) & ~SEALSHM__FLAGS_TRACKERD), -EINVAL);

	r = sealshm__peer_call(opts, &req, -EBADF, NULL, &rep, sizeof(rep), NULL);
	if (r < 0)
		return sealshm__err(r);
	if ((size_t)r != sizeof(rep))
		return sealshm__err(-EBADMSG);

	/* Field by field: the wire struct and the public one may part ways. */
	*ret_stats = (struct sealshm_registry_stats){
		.start_ns = w->start_ns,
		.uptime_ns = w->uptime_ns,
		.names = w->names,
		.bytes = w->bytes,
		.resident = w->resident,
		.requests = w->requests,
		.sessions = w->sessions,
		.clients = w->clients,
		.max_names = w->max_names,
		.max_names_per_uid = w->max_names_per_uid,
		.max_clients = w->max_clients,
		.caller_names = w->caller_names,
		.max_bytes_per_uid = w->max_bytes_per_uid,
		.caller_bytes = w->caller_bytes,
		.pid = w->pid,
		/* Wire and public bits differ: translate, never copy. */
		.flags = w->flags & SEALSHM_PROTO_STATS_MANAGER ? SEALSHM_REGISTRY_MANAGER : 0,
	};
	/* Same buckets in the same order (two enums: cast to compare). */
#define SAME(x) ((int)SEALSHM_REFUSED_##x == (int)SEALSHM_PROTO_REFUSED_##x)
	_Static_assert(SAME(ENOENT) && SAME(EACCES) && SAME(EPERM) && SAME(EEXIST) &&
		       SAME(EDQUOT) && SAME(EINVAL) && SAME(PROTO) && SAME(OTHER),
		       "refusal buckets");
#undef SAME
	_Static_assert(SEALSHM_PROTO_REFUSED_MAX <= SEALSHM_REFUSED_SLOTS, "refusal slots");
	for (unsigned i = 0; i < SEALSHM_PROTO_REFUSED_MAX; i++)
		ret_stats->refused[i] = w->refused[i];
	ret_stats->n_refused = SEALSHM_PROTO_REFUSED_MAX;
	return 0;
}

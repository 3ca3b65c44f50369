// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * proto_test: static properties of the wire protocol in lib/proto.h, the one
 * definition both libsealshm and trackerd build from, and of the published
 * index format in lib/index_format.h and the liveness segment's in
 * lib/liveness_format.h, shared the same way.  A change to either
 * that breaks a layout or the request table fails here.
 */
#include <stddef.h>
#include <stdint.h>

#include "kselftest_harness.h"

#include "index_format.h"
#include "liveness_format.h"
#include "proto.h"

static const uint32_t request_types[] = {
	SEALSHM_MSG_HELLO, SEALSHM_MSG_CREATE, SEALSHM_MSG_ATTACH,
	SEALSHM_MSG_UNLINK, SEALSHM_MSG_STAT, SEALSHM_MSG_LIST, SEALSHM_MSG_SESSION,
	SEALSHM_MSG_INDEX, SEALSHM_MSG_AUTH, SEALSHM_MSG_SHUTDOWN, SEALSHM_MSG_STATS,
	SEALSHM_MSG_HOLDER,
};

/* The header layout is what both ends agree on: 16 bytes, fixed offsets. */
TEST(header_layout_is_fixed)
{
	EXPECT_EQ(16, sizeof(struct sealshm_msg_hdr));
	EXPECT_EQ(0, offsetof(struct sealshm_msg_hdr, type));
	EXPECT_EQ(4, offsetof(struct sealshm_msg_hdr, size));
	EXPECT_EQ(8, offsetof(struct sealshm_msg_hdr, seq));
	EXPECT_EQ(12, offsetof(struct sealshm_msg_hdr, status));
}

/* Every message struct has the size and field offsets the protocol documents. */
TEST(message_layouts_are_fixed)
{
	EXPECT_EQ(32, sizeof(struct sealshm_msg_hello));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_hello, magic));
	EXPECT_EQ(20, offsetof(struct sealshm_msg_hello, version));
	EXPECT_EQ(24, offsetof(struct sealshm_msg_hello, flags));
	EXPECT_EQ(32, sizeof(struct sealshm_msg_hello_reply));
	EXPECT_EQ(24, offsetof(struct sealshm_msg_hello_reply, server_pid));
	EXPECT_EQ(28, offsetof(struct sealshm_msg_hello_reply, server_uid));

	EXPECT_EQ(304, sizeof(struct sealshm_msg_create));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_create, size));
	EXPECT_EQ(24, offsetof(struct sealshm_msg_create, mode));
	EXPECT_EQ(28, offsetof(struct sealshm_msg_create, flags));
	EXPECT_EQ(32, offsetof(struct sealshm_msg_create, token));
	EXPECT_EQ(48, offsetof(struct sealshm_msg_create, name));

	EXPECT_EQ(304, sizeof(struct sealshm_msg_name));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_name, flags));
	EXPECT_EQ(24, offsetof(struct sealshm_msg_name, ino));
	EXPECT_EQ(32, offsetof(struct sealshm_msg_name, token));
	EXPECT_EQ(48, offsetof(struct sealshm_msg_name, name));

	EXPECT_EQ(40, sizeof(struct sealshm_msg_session_reply));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_session_reply, id));
	EXPECT_EQ(24, offsetof(struct sealshm_msg_session_reply, token));

	EXPECT_EQ(40, sizeof(struct sealshm_msg_attach_reply));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_attach_reply, size));
	EXPECT_EQ(24, offsetof(struct sealshm_msg_attach_reply, ino));
	EXPECT_EQ(32, offsetof(struct sealshm_msg_attach_reply, seals));
	EXPECT_EQ(36, offsetof(struct sealshm_msg_attach_reply, mode));

	EXPECT_EQ(352, sizeof(struct sealshm_wire_info));
	EXPECT_EQ(0, offsetof(struct sealshm_wire_info, name));
	EXPECT_EQ(256, offsetof(struct sealshm_wire_info, size));
	EXPECT_EQ(264, offsetof(struct sealshm_wire_info, ino));
	EXPECT_EQ(272, offsetof(struct sealshm_wire_info, ctime_ns));
	EXPECT_EQ(280, offsetof(struct sealshm_wire_info, uid));
	EXPECT_EQ(296, offsetof(struct sealshm_wire_info, creator_pid));
	EXPECT_EQ(300, offsetof(struct sealshm_wire_info, flags));
	EXPECT_EQ(304, offsetof(struct sealshm_wire_info, n_sessions));
	EXPECT_EQ(308, offsetof(struct sealshm_wire_info, session_pids));
	EXPECT_EQ(328, offsetof(struct sealshm_wire_info, resident));
	EXPECT_EQ(336, offsetof(struct sealshm_wire_info, n_attaches));
	EXPECT_EQ(344, offsetof(struct sealshm_wire_info, atime_ns));

	EXPECT_EQ(16 + 352, sizeof(struct sealshm_msg_stat_reply));
	EXPECT_EQ(24, sizeof(struct sealshm_msg_list));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_list, cursor));
	EXPECT_EQ(32, sizeof(struct sealshm_msg_list_reply));
	EXPECT_EQ(32, offsetof(struct sealshm_msg_list_reply, entries));

	EXPECT_EQ(24, sizeof(struct sealshm_msg_index_reply));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_index_reply, size));

	EXPECT_EQ(32, sizeof(struct sealshm_msg_track));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_track, slot));
	EXPECT_EQ(20, offsetof(struct sealshm_msg_track, generation));
	EXPECT_EQ(24, offsetof(struct sealshm_msg_track, ino));

	EXPECT_EQ(8, SEALSHM_PROTO_REFUSED_MAX);
	EXPECT_EQ(160, sizeof(struct sealshm_wire_stats));
	EXPECT_EQ(0, offsetof(struct sealshm_wire_stats, start_ns));
	EXPECT_EQ(8, offsetof(struct sealshm_wire_stats, uptime_ns));
	EXPECT_EQ(16, offsetof(struct sealshm_wire_stats, names));
	EXPECT_EQ(24, offsetof(struct sealshm_wire_stats, bytes));
	EXPECT_EQ(32, offsetof(struct sealshm_wire_stats, resident));
	EXPECT_EQ(40, offsetof(struct sealshm_wire_stats, requests));
	EXPECT_EQ(48, offsetof(struct sealshm_wire_stats, refused));
	EXPECT_EQ(112, offsetof(struct sealshm_wire_stats, sessions));
	EXPECT_EQ(116, offsetof(struct sealshm_wire_stats, clients));
	EXPECT_EQ(120, offsetof(struct sealshm_wire_stats, max_names));
	EXPECT_EQ(124, offsetof(struct sealshm_wire_stats, max_names_per_uid));
	EXPECT_EQ(128, offsetof(struct sealshm_wire_stats, max_clients));
	EXPECT_EQ(132, offsetof(struct sealshm_wire_stats, caller_names));
	EXPECT_EQ(136, offsetof(struct sealshm_wire_stats, max_bytes_per_uid));
	EXPECT_EQ(144, offsetof(struct sealshm_wire_stats, caller_bytes));
	EXPECT_EQ(152, offsetof(struct sealshm_wire_stats, pid));
	EXPECT_EQ(156, offsetof(struct sealshm_wire_stats, flags));
	EXPECT_EQ(16 + 160, sizeof(struct sealshm_msg_stats_reply));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_stats_reply, stats));
	EXPECT_EQ(32, sizeof(struct sealshm_msg_holder_reply));
	EXPECT_EQ(16, offsetof(struct sealshm_msg_holder_reply, holder));
	EXPECT_EQ(24, offsetof(struct sealshm_msg_holder_reply, size));
}

/* Refusal buckets: the public indexes are the wire's, in the same order,
 * and the public struct has a slot for each. */
TEST(refusal_buckets_agree)
{
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_ENOENT, (int)SEALSHM_REFUSED_ENOENT);
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_EACCES, (int)SEALSHM_REFUSED_EACCES);
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_EPERM, (int)SEALSHM_REFUSED_EPERM);
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_EEXIST, (int)SEALSHM_REFUSED_EEXIST);
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_EDQUOT, (int)SEALSHM_REFUSED_EDQUOT);
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_EINVAL, (int)SEALSHM_REFUSED_EINVAL);
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_PROTO, (int)SEALSHM_REFUSED_PROTO);
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_OTHER, (int)SEALSHM_REFUSED_OTHER);
	EXPECT_EQ((int)SEALSHM_PROTO_REFUSED_MAX, (int)SEALSHM_REFUSED_OTHER + 1);
	/* The public struct has room for every bucket the wire carries. */
	EXPECT_LE(SEALSHM_PROTO_REFUSED_MAX, SEALSHM_REFUSED_SLOTS);
	EXPECT_NE(0, SEALSHM_PROTO_STATS_MANAGER);
}

/* The published index has the layout lib/index.h documents: a 72-byte
 * header, 128-byte entries with 8-aligned 64-bit fields, and room in an
 * entry for SEALSHM_INDEX_NAME_MAX bytes plus a NUL. */
TEST(index_layouts_are_fixed)
{
	EXPECT_EQ(72, sizeof(struct sealshm_index_header));
	EXPECT_EQ(0, offsetof(struct sealshm_index_header, magic));
	EXPECT_EQ(4, offsetof(struct sealshm_index_header, version));
	EXPECT_EQ(8, offsetof(struct sealshm_index_header, seq));
	EXPECT_EQ(16, offsetof(struct sealshm_index_header, hash_key));
	EXPECT_EQ(32, offsetof(struct sealshm_index_header, n_buckets));
	EXPECT_EQ(36, offsetof(struct sealshm_index_header, capacity));
	EXPECT_EQ(40, offsetof(struct sealshm_index_header, buckets_off));
	EXPECT_EQ(48, offsetof(struct sealshm_index_header, entries_off));
	EXPECT_EQ(56, offsetof(struct sealshm_index_header, size));
	EXPECT_EQ(64, offsetof(struct sealshm_index_header, server_pid));

	EXPECT_EQ(128, sizeof(struct sealshm_index_entry));
	EXPECT_EQ(0, offsetof(struct sealshm_index_entry, next));
	EXPECT_EQ(4, offsetof(struct sealshm_index_entry, flags));
	EXPECT_EQ(8, offsetof(struct sealshm_index_entry, fd));
	EXPECT_EQ(12, offsetof(struct sealshm_index_entry, generation));
	EXPECT_EQ(16, offsetof(struct sealshm_index_entry, ino));
	EXPECT_EQ(24, offsetof(struct sealshm_index_entry, size));
	EXPECT_EQ(32, offsetof(struct sealshm_index_entry, uid));
	EXPECT_EQ(44, offsetof(struct sealshm_index_entry, name_len));
	EXPECT_EQ(48, offsetof(struct sealshm_index_entry, name));
	EXPECT_EQ(SEALSHM_INDEX_NAME_MAX + 1, sizeof(((struct sealshm_index_entry *)0)->name));
	EXPECT_LT(SEALSHM_INDEX_NAME_MAX, SEALSHM_NAME_MAX);
	EXPECT_EQ(0, sizeof(struct sealshm_index_header) % 8);
}

/* The liveness segment's header and slots, and the holder id's bits: 30
 * of them, slot below generation, 0 and all ones never an id. */
TEST(liveness_layouts_are_fixed)
{
	EXPECT_EQ(64, sizeof(struct sealshm_liveness_header));
	EXPECT_EQ(0, offsetof(struct sealshm_liveness_header, magic));
	EXPECT_EQ(4, offsetof(struct sealshm_liveness_header, version));
	EXPECT_EQ(8, offsetof(struct sealshm_liveness_header, instance));
	EXPECT_EQ(16, offsetof(struct sealshm_liveness_header, death_epoch));
	EXPECT_EQ(20, offsetof(struct sealshm_liveness_header, n_slots));
	EXPECT_EQ(24, offsetof(struct sealshm_liveness_header, slots_off));
	EXPECT_EQ(32, offsetof(struct sealshm_liveness_header, size));
	EXPECT_EQ(40, offsetof(struct sealshm_liveness_header, server_pid));
	EXPECT_EQ(44, offsetof(struct sealshm_liveness_header, holders));
	EXPECT_EQ(8, sizeof(struct sealshm_liveness_slot));
	EXPECT_EQ(0, offsetof(struct sealshm_liveness_slot, holder));
	EXPECT_EQ(4, offsetof(struct sealshm_liveness_slot, pid));

	EXPECT_EQ(0x3fffffffu, SEALSHM_HOLDER_MASK);
	EXPECT_EQ(SEALSHM_HOLDER_MASK, SEALSHM_HOLDER_NONE);
	EXPECT_EQ(0xffffu, SEALSHM_HOLDER_SLOT_MASK);
	/* The largest generation with the largest slot is no SEALSHM_HOLDER_NONE. */
	EXPECT_GT(SEALSHM_HOLDER_NONE, SEALSHM_HOLDER_GEN_MAX << SEALSHM_HOLDER_SLOT_BITS |
				       SEALSHM_HOLDER_SLOT_MASK);
	EXPECT_EQ(0, (SEALSHM_HOLDER_GEN_MAX << SEALSHM_HOLDER_SLOT_BITS) & ~SEALSHM_HOLDER_MASK);
}

/* The liveness magic spells "SLIV" in memory on a little-endian host. */
TEST(liveness_magic)
{
	union {
		uint32_t u;
		char c[4];
	} m = { .u = SEALSHM_LIVENESS_MAGIC };

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	EXPECT_EQ(0, memcmp(m.c, "SLIV", 4));
#else
	EXPECT_EQ(0, memcmp(m.c, "VILS", 4));
#endif
	EXPECT_EQ(1, SEALSHM_LIVENESS_VERSION);
}

/* The index magic spells "SIDX" in memory on a little-endian host. */
TEST(index_magic)
{
	union {
		uint32_t u;
		char c[4];
	} m = { .u = SEALSHM_INDEX_MAGIC };

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	EXPECT_EQ(0, memcmp(m.c, "SIDX", 4));
#else
	EXPECT_EQ(0, memcmp(m.c, "XDIS", 4));
#endif
	EXPECT_EQ(1, SEALSHM_INDEX_VERSION);
}

/* Name fields hold SEALSHM_NAME_MAX bytes plus a NUL, no more, no less. */
TEST(name_fields_fit_longest_name)
{
	EXPECT_EQ(SEALSHM_NAME_MAX + 1, SEALSHM_PROTO_NAME_SIZE);
	EXPECT_EQ(SEALSHM_PROTO_NAME_SIZE, sizeof(((struct sealshm_msg_create *)0)->name));
	EXPECT_EQ(SEALSHM_PROTO_NAME_SIZE, sizeof(((struct sealshm_msg_name *)0)->name));
	EXPECT_EQ(SEALSHM_PROTO_NAME_SIZE, sizeof(((struct sealshm_wire_info *)0)->name));
	EXPECT_EQ(SEALSHM_PROTO_NAME_SIZE, sizeof(((struct sealshm_info *)0)->name));
}

/* Every request type has a spec whose size is its struct's (SESSION,
 * INDEX, SHUTDOWN, STATS and HOLDER: the header alone) and whose fd range is 1 to
 * 2 for CREATE (the memfd and its optional read-only twin), none for the
 * others. */
TEST(every_request_has_a_spec)
{
	for (size_t i = 0; i < ARRAY_SIZE(request_types); i++) {
		const struct sealshm_msg_spec *s = sealshm_proto_request_spec(request_types[i]);

		ASSERT_NE(NULL, s) {
			TH_LOG("no spec for type %u", request_types[i]);
		}
		EXPECT_EQ(request_types[i], s->type);
		EXPECT_NE(NULL, s->name);
		EXPECT_GE(s->size, sizeof(struct sealshm_msg_hdr));
		EXPECT_LE(s->size, SEALSHM_PROTO_MSG_MAX);
		EXPECT_LE(s->nfds_min, s->nfds_max);
		EXPECT_LE(s->nfds_max, SEALSHM_PROTO_FDS_MAX);
		EXPECT_EQ(request_types[i] == SEALSHM_MSG_CREATE ? 1u : 0u, s->nfds_min);
		EXPECT_EQ(request_types[i] == SEALSHM_MSG_CREATE ? 2u : 0u, s->nfds_max);
	}
	EXPECT_EQ(sizeof(struct sealshm_msg_hello), sealshm_proto_request_spec(SEALSHM_MSG_HELLO)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_create),
		  sealshm_proto_request_spec(SEALSHM_MSG_CREATE)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_name), sealshm_proto_request_spec(SEALSHM_MSG_ATTACH)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_name), sealshm_proto_request_spec(SEALSHM_MSG_UNLINK)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_name), sealshm_proto_request_spec(SEALSHM_MSG_STAT)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_list), sealshm_proto_request_spec(SEALSHM_MSG_LIST)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_hdr),
		  sealshm_proto_request_spec(SEALSHM_MSG_SESSION)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_hdr),
		  sealshm_proto_request_spec(SEALSHM_MSG_INDEX)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_auth), sealshm_proto_request_spec(SEALSHM_MSG_AUTH)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_hdr),
		  sealshm_proto_request_spec(SEALSHM_MSG_SHUTDOWN)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_hdr),
		  sealshm_proto_request_spec(SEALSHM_MSG_STATS)->size);
	EXPECT_EQ(sizeof(struct sealshm_msg_hdr),
		  sealshm_proto_request_spec(SEALSHM_MSG_HOLDER)->size);
}

/* Session tokens are 16 bytes in every message that carries one, and info
 * records carry as many tracker pids as the public struct. */
TEST(token_and_pid_fields_agree)
{
	EXPECT_EQ(16, SEALSHM_PROTO_TOKEN_SIZE);
	EXPECT_EQ(SEALSHM_PROTO_TOKEN_SIZE, sizeof(((struct sealshm_msg_create *)0)->token));
	EXPECT_EQ(SEALSHM_PROTO_TOKEN_SIZE, sizeof(((struct sealshm_msg_name *)0)->token));
	EXPECT_EQ(SEALSHM_PROTO_TOKEN_SIZE,
		  sizeof(((struct sealshm_msg_session_reply *)0)->token));
	EXPECT_EQ(SEALSHM_PROTO_INFO_PIDS, SEALSHM_INFO_PIDS);
	EXPECT_EQ(sizeof(((struct sealshm_wire_info *)0)->session_pids),
		  sizeof(((struct sealshm_info *)0)->session_pids));
	/* "FD:" + 32 hex digits + NUL fits the export buffer. */
	EXPECT_LE(sizeof("2147483647:") + 2 * SEALSHM_PROTO_TOKEN_SIZE, SEALSHM_SESSION_ENV_MAX);
}

/* Types that are not requests (0, unknown, replies) have no spec, so trackerd
 * refuses them.  Neither has TRACK: it is no request (no reply) and only
 * valid on a session, which trackerd handles before the table. */
TEST(non_requests_have_no_spec)
{
	EXPECT_EQ(NULL, sealshm_proto_request_spec(0));
	EXPECT_EQ(NULL, sealshm_proto_request_spec(SEALSHM_MSG_HOLDER + 1));
	EXPECT_EQ(NULL, sealshm_proto_request_spec(SEALSHM_MSG_TRACK));
	EXPECT_EQ(NULL, sealshm_proto_request_spec(UINT32_MAX));
	for (size_t i = 0; i < ARRAY_SIZE(request_types); i++)
		EXPECT_EQ(NULL, sealshm_proto_request_spec(request_types[i] | SEALSHM_MSG_REPLY));
}

/* Request types are distinct and none overlaps the reply bit. */
TEST(request_types_are_distinct)
{
	for (size_t i = 0; i < ARRAY_SIZE(request_types); i++) {
		EXPECT_EQ(0, request_types[i] & SEALSHM_MSG_REPLY);
		EXPECT_NE(SEALSHM_MSG_TRACK, request_types[i]);
		for (size_t j = i + 1; j < ARRAY_SIZE(request_types); j++)
			EXPECT_NE(request_types[i], request_types[j]);
	}
}

/* Every reply fits the largest message, and a LIST page holds at least one
 * entry without overflowing it. */
TEST(replies_fit_message_max)
{
	EXPECT_LE(sizeof(struct sealshm_msg_hello_reply), SEALSHM_PROTO_MSG_MAX);
	EXPECT_LE(sizeof(struct sealshm_msg_attach_reply), SEALSHM_PROTO_MSG_MAX);
	EXPECT_LE(sizeof(struct sealshm_msg_stat_reply), SEALSHM_PROTO_MSG_MAX);
	EXPECT_LE(sizeof(struct sealshm_msg_session_reply), SEALSHM_PROTO_MSG_MAX);
	EXPECT_LE(sizeof(struct sealshm_msg_index_reply), SEALSHM_PROTO_MSG_MAX);
	EXPECT_LE(sizeof(struct sealshm_msg_stats_reply), SEALSHM_PROTO_MSG_MAX);
	EXPECT_LE(sizeof(struct sealshm_msg_holder_reply), SEALSHM_PROTO_MSG_MAX);
	/* TRACK fits the receive buffer of a session (trackerd's requests). */
	EXPECT_LE(sizeof(struct sealshm_msg_track), sizeof(struct sealshm_msg_create));
	EXPECT_GE(SEALSHM_PROTO_LIST_PAGE, 1);
	EXPECT_LE(sizeof(struct sealshm_msg_list_reply) +
		  SEALSHM_PROTO_LIST_PAGE * sizeof(struct sealshm_wire_info),
		  SEALSHM_PROTO_MSG_MAX);
	EXPECT_GT(sizeof(struct sealshm_msg_list_reply) +
		  (SEALSHM_PROTO_LIST_PAGE + 1) * sizeof(struct sealshm_wire_info),
		  SEALSHM_PROTO_MSG_MAX);
}

/* Multi-byte fields are naturally aligned, so no compiler inserts hidden
 * padding that the other side would not expect. */
TEST(fields_are_naturally_aligned)
{
	EXPECT_EQ(0, offsetof(struct sealshm_msg_create, size) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_msg_attach_reply, size) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_msg_attach_reply, ino) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_wire_info, size) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_wire_info, ctime_ns) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_msg_list, cursor) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_msg_list_reply, next_cursor) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_msg_session_reply, id) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_msg_index_reply, size) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_msg_track, ino) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_wire_info, resident) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_wire_info, n_attaches) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_wire_info, atime_ns) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_wire_stats, refused) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_wire_stats, max_bytes_per_uid) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_wire_stats, caller_bytes) % 8);
	EXPECT_EQ(0, sizeof(struct sealshm_wire_stats) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_index_header, seq) % 8);
	EXPECT_EQ(0, offsetof(struct sealshm_index_entry, ino) % 8);
	EXPECT_EQ(0, sizeof(struct sealshm_wire_info) % 8);
}

/* Magic spells "SSHM" in memory on a little-endian host, and the protocol
 * version is 3, the first with INDEX and TRACK (never 0, which an all-zero
 * message would pass). */
TEST(magic_and_version)
{
	union {
		uint32_t u;
		char c[4];
	} m = { .u = SEALSHM_PROTO_MAGIC };

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	EXPECT_EQ(0, memcmp(m.c, "SSHM", 4));
#else
	EXPECT_EQ(0, memcmp(m.c, "MHSS", 4));
#endif
	EXPECT_EQ(4, SEALSHM_PROTO_VERSION);	/* 2: sessions; 3: index, track; 4: manager, stats */
	/* A CREATE's memfd and its read-only twin. */
	EXPECT_EQ(2, SEALSHM_PROTO_FDS_MAX);
}

/* CREATE and ATTACH flags are distinct bits; each request's mask holds
 * exactly the bits it takes (RDONLY is attach-only, LIFETIME_LAST
 * create-only). */
TEST(request_flag_masks)
{
	EXPECT_EQ(0, SEALSHM_PROTO_TRACK & SEALSHM_PROTO_RDONLY);
	EXPECT_EQ(0, SEALSHM_PROTO_TRACK & SEALSHM_PROTO_LIFETIME_LAST);
	EXPECT_EQ(0, SEALSHM_PROTO_RDONLY & SEALSHM_PROTO_LIFETIME_LAST);
	EXPECT_EQ(SEALSHM_PROTO_TRACK | SEALSHM_PROTO_LIFETIME_LAST, SEALSHM_PROTO_CREATE_FLAGS);
	EXPECT_EQ(SEALSHM_PROTO_TRACK | SEALSHM_PROTO_RDONLY, SEALSHM_PROTO_ATTACH_FLAGS);
	/* Public opts flags are distinct too. */
	EXPECT_EQ(0, SEALSHM_LIFETIME_LAST &
			     (SEALSHM_RDONLY | SEALSHM_NO_TRACK | SEALSHM_NO_AUTOSTART));
}

TEST_HARNESS_MAIN

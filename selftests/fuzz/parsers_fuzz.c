// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the parsers trackerd and the library run on bytes a
 * peer controls, in-process, with ASan and UBSan.
 *
 * Input layout: byte 0 selects the parser, the rest is its input.
 *   0: sealshm__name_check_wire() on a 256-byte name field (the input,
 *      zero-padded or cut), as trackerd runs it on every CREATE, ATTACH,
 *      UNLINK and STAT; a name it accepts must also pass
 *      sealshm__name_check() and be NUL-padded (the two must agree).
 *   1: sealshm__check_reply() on a reply header of the input's length, as
 *      the library runs it on every reply trackerd sends.
 *   2: sealshm__name_check() on a NUL-terminated string (the public API's
 *      check, the leading '/' rule included); sealshm_check_name() must
 *      agree with it and give a reason for every refusal.
 *
 * Not reachable without changing lib/: the $SEALSHM_SESSION parser
 * (parse_env() is static in lib/session.c) and the index lookup (inline in
 * lib/fastpath.c, fed by trackerd's own mapping).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "internal.h"
#include "name.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_name_wire(const uint8_t *data, size_t size)
{
	char field[SEALSHM_PROTO_NAME_SIZE] = { 0 };
	const char *name = NULL;

	memcpy(field, data, size < sizeof(field) ? size : sizeof(field));
	if (sealshm__name_check_wire(field) < 0)
		return;
	/* Accepted on the wire: a valid name, spelled without the '/'. */
	if (sealshm__name_check(field, &name) < 0 || name != field)
		abort();
	for (size_t i = strlen(field); i < sizeof(field); i++)
		if (field[i])
			abort();
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
	/* Aligned, as a receive buffer is. */
	_Alignas(8) uint8_t buf[SEALSHM_PROTO_MSG_MAX];
	struct sealshm_msg_hdr h = { 0 };
	uint32_t type, seq;
	int r;

	if (size > sizeof(buf))
		size = sizeof(buf);
	memcpy(buf, data, size);
	memcpy(&h, buf, size < sizeof(h) ? size : sizeof(h));
	type = h.type & ~(uint32_t)SEALSHM_MSG_REPLY;
	seq = h.seq;
	r = sealshm__check_reply((const struct sealshm_msg_hdr *)buf, size, type, seq);
	/* Its contract: 0, a -errno the peer sent (never positive, never
	 * below -4095), or -EBADMSG. */
	if (r > 0 || r < -4095)
		abort();
	if (r == 0 && (size < sizeof(h) || h.size != size))
		abort();
}

static void fuzz_name(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *name = NULL, *reason = NULL;
	int r;

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	r = sealshm__name_check(s, &name);
	if (r == 0 &&
	    (name < s || name > s + 1 || strlen(name) == 0 || strlen(name) > SEALSHM_NAME_MAX))
		abort();
	if (sealshm_check_name(s, &reason) != r || (r < 0 && (!reason || !*reason)))
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_name_wire(data + 1, size - 1);
		break;
	case 1:
		fuzz_reply(data + 1, size - 1);
		break;
	case 2:
		fuzz_name(data + 1, size - 1);
		break;
	}
	return 0;
}

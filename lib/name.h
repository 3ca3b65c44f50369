/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Segment names: what a valid name is, as a user types it and on the wire,
 * and the generated names of anonymous segments.
 */
#ifndef SEALSHM_NAME_H
#define SEALSHM_NAME_H

#include <stddef.h>

#include "proto.h"

/* Check @name as a user typed it: one leading '/' is dropped; what remains
 * must be 1..SEALSHM_NAME_MAX bytes, not "." or "..", of printable ASCII
 * other than space and '/', or well-formed UTF-8 beyond ASCII without the
 * control, separator and invisible characters name.c lists (the rules of
 * sealshm_create(3); sealshm_check_name() says which one a name breaks).
 * On success *@ret_name points into @name past the '/'.  -EINVAL otherwise. */
int sealshm__name_check(const char *name, const char **ret_name);

/* Check the structure of a wire name field of SEALSHM_PROTO_NAME_SIZE
 * bytes: NUL-terminated inside the field, zero after the NUL, not empty.
 * Not the name rules: what the library asks of the names in trackerd's
 * replies, which a trackerd of another version or a hostile one may fill
 * with names ours would refuse.  -EINVAL otherwise. */
int sealshm__name_check_field(const char field[SEALSHM_PROTO_NAME_SIZE]);

/* sealshm__name_check_field(), and a valid name without leading '/': what
 * trackerd asks of the names in requests. */
int sealshm__name_check_wire(const char field[SEALSHM_PROTO_NAME_SIZE]);

/* Fill @buf (>= 13 bytes) with "psm_" + 8 random hex digits. */
int sealshm__name_random(char *buf, size_t len);

#endif /* SEALSHM_NAME_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests: decoding and validating each message against proto.h's spec
 * table, permission checks against the registry, replies and log lines.
 * Request semantics are those of Documentation/protocol.md.
 */
#ifndef TRACKERD_REQUEST_H
#define TRACKERD_REQUEST_H

#include "client.h"

/* A client_handler_t; @userdata is the struct registry. Sends exactly one
 * reply per message. Returns 0, or a negative errno when the connection
 * must close at once (the reply could not even be queued). */
int request_handle(struct client *c, struct client_msg *m, void *userdata);

#endif /* TRACKERD_REQUEST_H */

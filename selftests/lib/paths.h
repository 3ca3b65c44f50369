/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the programs under test are: $VAR when the runner sets it, else
 * the same build's copy, found from the test binary's own path.
 */
#ifndef SEALSHM_SELFTESTS_LIB_PATHS_H
#define SEALSHM_SELFTESTS_LIB_PATHS_H

#include <stddef.h>

/* $VAR if set, else @rel resolved against the directory of this test binary
 * (build/selftests/X_test → build/selftests/peer, build/trackerd/trackerd). */
int helper_prog_path(const char *var, const char *rel, char *buf, size_t len);

/* trackerd ($SEALSHM_TRACKERD) and the peer helper ($SEALSHM_TEST_PEER). */
int helper_trackerd_path(char *buf, size_t len);
int helper_peer_path(char *buf, size_t len);

/* The sealshm CLI and the examples' directory of the same build. */
int helper_cli_path(char *buf, size_t len);
int helper_examples_dir(char *buf, size_t len);

#endif /* SEALSHM_SELFTESTS_LIB_PATHS_H */

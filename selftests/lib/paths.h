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

/* listing_shim.so ($SEALSHM_TEST_LISTING_SHIM), which tests preload into a
 * tool to hand it names the library would refuse. */
int helper_listing_shim_path(char *buf, size_t len);

/* The environment entries that preload listing_shim.so into a program run
 * with helper_run(): "LD_PRELOAD=..." into @preload, and into @asan the
 * $ASAN_OPTIONS that let a sanitizer build start with it (ASan wants its
 * runtime first in the list; harmless otherwise).  0 or -errno. */
int helper_listing_shim_env(char *preload, size_t plen, char *asan, size_t alen);

#endif /* SEALSHM_SELFTESTS_LIB_PATHS_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files: reading one whole, and removing a flat temporary directory.
 */
#ifndef SEALSHM_SELFTESTS_LIB_FILES_H
#define SEALSHM_SELFTESTS_LIB_FILES_H

/* Read a whole file into a malloc()ed NUL-terminated string. */
int helper_read_file(const char *path, char **ret);

/* Remove a flat directory and what is in it (the daemon's temp dir). */
void helper_rm_dir(const char *dir);

#endif /* SEALSHM_SELFTESTS_LIB_FILES_H */

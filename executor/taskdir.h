/* Host directories that pre-warmed containers bind-mount read-only at
 * /var/task: `<var_dir>/prewarm/<n>`, empty while the container is generic;
 * the function's code is copied in when a call claims the container, so the
 * code is read-only inside it as for a container started for the function. */
#ifndef LAMBDA_EXECUTOR_TASKDIR_H
#define LAMBDA_EXECUTOR_TASKDIR_H

#include "err.h"

#define TASKDIR_MAX_ENTRIES 1000 /* files, directories and links of one function's code */

/* Creates `<var_dir>/prewarm` if needed and removes everything in it (left
 * by an executor that died: its containers are orphans removed by label). */
int taskdir_sweep(const char *var_dir, struct err **e);

/* Creates a new empty directory `<var_dir>/prewarm/<seq>` (mode 0755, so that
 * uid 1000 in the container can read it).  Returns its path (caller frees). */
char *taskdir_create(const char *var_dir, unsigned long seq, struct err **e);

/* Copies the tree src into the existing empty directory dst: directories
 * 0755, files 0644, symbolic links as they are; anything else is skipped.
 * ERR_TOO_LARGE over TASKDIR_MAX_ENTRIES entries. */
int taskdir_copy(const char *src, const char *dst, struct err **e);

/* Removes path and everything under it (never follows links).  A path that
 * is gone already is not an error. */
int taskdir_remove(const char *path, struct err **e);

#endif

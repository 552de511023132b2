/* The seccomp profile of function containers (executor.seccomp_profile):
 * Docker's JSON profile format, written by scripts/seccomp.sh, read once at
 * start and sent as HostConfig.SecurityOpt "seccomp=<json>" with every
 * container the executor creates (the Engine API wants the content, not a
 * path).  See docs/design.md, "Seccomp". */
#ifndef LAMBDA_EXECUTOR_SECCOMP_H
#define LAMBDA_EXECUTOR_SECCOMP_H

#include "err.h"

/* Larger files are refused: the profile travels in every create request. */
#define SECCOMP_PROFILE_MAX (256u * 1024)

/* Reads and checks the profile at path: a regular file of at most
 * SECCOMP_PROFILE_MAX bytes holding a JSON object with a string
 * defaultAction that is not SCMP_ACT_ALLOW and a non-empty "syscalls" array
 * whose entries each have a non-empty "names" array of strings and a string
 * "action".  On success *json is the profile re-printed without spaces; the
 * caller frees it with free().  Errors are ERR_INVALID naming the file. */
int seccomp_profile_load(const char *path, char **json, struct err **e);

#endif

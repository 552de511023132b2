/* A function's code on disk for the executor: $code_dir/<sha256>/, written
 * atomically (a temporary directory renamed into place) and never changed
 * afterwards, so the executor can bind-mount it read-only. */
#ifndef LAMBDA_API_CODE_STORE_H
#define LAMBDA_API_CODE_STORE_H

#include <stddef.h>

#include "err.h"
#include "function.h"

/* Unpacks a zip archive of len bytes into the existing, empty directory
 * dir, refusing unsafe entries (absolute paths, "..", links) and anything
 * over its size caps.  Implemented by fcgi-app/zip.c; while no zip module is
 * linked this hook is NULL and zip code is refused with 400. */
typedef int (*code_unpack_fn)(const void *zip, size_t len, const char *dir, struct err **e);
extern code_unpack_fn code_zip_unpack;

/* Makes sure $code_dir/<f->code_sha256>/ holds f's code (text code under
 * the file name its handler implies, zip code unpacked).  On success *dir
 * (if not NULL) is the directory's path (caller frees). */
int code_store_write(const char *code_dir, const struct function *f, char **dir, struct err **e);

#endif

/* Allocation that never returns NULL: on failure it logs and aborts, so
 * callers never test the result (STYLE 12). */
#ifndef LAMBDA_XALLOC_H
#define LAMBDA_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated printf-formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Returns free heap memory to the kernel (glibc's malloc_trim(0): free
 * pages inside the arenas too, not only the top of the heap), so that a
 * long-running daemon's RSS follows what it uses rather than its highest
 * mark.  Costs a walk of the free lists: call it from housekeeping, every
 * few seconds, not per request.  Returns 1 when memory was released, 0
 * otherwise (and always 0 where malloc_trim does not exist). */
int xalloc_trim(void);
/* Caps the number of malloc arenas (glibc's M_ARENA_MAX; by default up to 8
 * per core, each keeping its own free memory).  Call once, before threads
 * start.  Returns 0; 1 when skipped because a sanitizer's allocator
 * replaces glibc's (the ASan build: nothing to cap, worth a debug line at
 * most); -1 where it cannot be set (worth a warning). */
int xalloc_arenas(int n);
/* Turns glibc's per-thread malloc cache (tcache) off for a daemon with many
 * long-lived threads: each thread keeps up to 7 freed chunks of every small
 * size, which held most of the executor's heap and grew for minutes.  glibc
 * reads the setting only from GLIBC_TUNABLES at start-up, so this executes
 * the program again (same pid, argv and process name) with
 * glibc.malloc.tcache_count=0 appended, and returns only if it was already
 * set (by us or by the caller's environment: set it yourself to choose) or
 * the exec failed (a warning on stderr; the program works, only larger).
 * Call first thing in main. */
void xalloc_tcache_off(char **argv);

#endif

/* Process-wide state of lambda-api (read-only once the threads run) and the
 * per-thread worker context that handlers reach through request->w. */
#ifndef LAMBDA_API_APP_H
#define LAMBDA_API_APP_H

#include <stdint.h>

#include "conf.h"

#define APP_MASTER_KEY_LEN 32

struct db;
struct exec_client;
struct journal;
struct fncache;
struct keycache;

struct app {
	struct config cfg;
	uint8_t master_key[APP_MASTER_KEY_LEN]; /* $VAR/master.key; never in the database */
	struct journal *journal;                /* this process's invocation journal */
	struct keycache *keys;                  /* valid API keys (keycache.h); NULL = none */
	struct fncache *fns;                    /* function rows (fncache.h); NULL = none */
};

/* The one instance, set up by main() (or a test) before any request. */
extern struct app *app;

struct worker {
	int id;
	struct db *db;          /* this thread's MariaDB connection */
	struct exec_client *ec; /* this thread's executor connection (lazy) */
};

#endif

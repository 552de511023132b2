/* lambda.conf for the API: the common keys and the `api.` keys (table-driven,
 * redis static_configs style).  `executor.` keys are skipped; any other
 * unknown key is an error (docs/design.md "lambda.conf"). */
#ifndef LAMBDA_API_CONF_H
#define LAMBDA_API_CONF_H

#include <stddef.h>

#include "conffile.h"
#include "err.h"

struct config {
	/* common */
	char *var_dir;         /* absolute; default: the directory of the config file */
	char *instance;        /* 12 hex digits; default derived from var_dir */
	int log_level;         /* enum log_level */
	char *executor_socket; /* default $var_dir/run/executor.sock */
	char *code_dir;        /* default $var_dir/code */
	/* api.* */
	char *db_socket;   /* default $var_dir/run/mysql.sock */
	char *db_name;     /* lambda */
	char *db_user;     /* lambda */
	char *db_password; /* "" */
	int db_connect_timeout_s;
	int db_rw_timeout_s;
	int db_bulk_timeout_s; /* read/write timeout of the code-carrying statements */
	int threads;
	long max_body_bytes;
	long max_code_bytes;
	long max_zip_bytes;
	long max_env_bytes;
	long max_event_bytes;
	char *journal_dir;  /* default $var_dir/journal */
	char *master_key;   /* path; default $var_dir/master.key */
	char *cors_origins; /* "" = none */
	int journal_flush_ms;
	int exec_connect_timeout_ms;
	int exec_ping_timeout_ms;
	int exec_margin_ms;   /* added to a function's timeout while waiting for its result */
	int key_cache_ms;     /* max age of a cached API key; 0 = no cache (keycache.h) */
	char *key_cache_file; /* the shared generation counter; default $var_dir/run/api-keys.gen */
	int fn_cache_ms;      /* max age of a cached function row; 0 = no cache (fncache.h) */
	char *fn_cache_file;  /* its generation counter; default $var_dir/run/functions.gen */
	int event_max_attempts;       /* runs of an Event invocation that fails, in all */
	int event_retry_delay_ms;     /* before the 2nd run; doubled before each further one */
	int records_retention_days;   /* invocation records older than this go; 0 = kept forever */
	int records_prune_interval_s; /* how often the record writer looks for them */
};

/* Fills c with defaults, then reads path (or $LAMBDA_CONF when path is NULL).
 * On failure c holds nothing that needs freeing and *e says which line and key.
 * On success the caller releases c with config_free(). */
int config_load(struct config *c, const char *path, struct err **e);
/* Parses text as if read from a file named `name` (for tests and -t).
 * dir is the directory used for path defaults. */
int config_parse(struct config *c, const char *text, const char *dir, struct err **e);
void config_free(struct config *c);

/* The table, for tests and --help: one entry per key. */
extern const struct conf_entry config_table[];
extern const size_t config_table_len;

#endif

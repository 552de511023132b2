#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "conf.h"
#include "crypt.h"
#include "log.h"
#include "xalloc.h"

#define OFF(f) offsetof(struct config, f)

/* Every key the API knows.  Keys with a NULL default are derived from
 * var_dir once the file has been read (see fill_derived). */
const struct conf_entry config_table[] = {
    {"var_dir", CONF_STR, OFF(var_dir), NULL, 0, 0},
    {"instance", CONF_STR, OFF(instance), NULL, 0, 0},
    {"log_level", CONF_LEVEL, OFF(log_level), "info", 0, 0},
    {"executor_socket", CONF_STR, OFF(executor_socket), NULL, 0, 0},
    {"code_dir", CONF_STR, OFF(code_dir), NULL, 0, 0},
    {"api.db_socket", CONF_STR, OFF(db_socket), NULL, 0, 0},
    {"api.db_name", CONF_STR, OFF(db_name), "lambda", 0, 0},
    {"api.db_user", CONF_STR, OFF(db_user), "lambda", 0, 0},
    {"api.db_password", CONF_STR, OFF(db_password), "", 0, 0},
    {"api.db_connect_timeout_s", CONF_INT, OFF(db_connect_timeout_s), "1", 1, 60},
    {"api.db_rw_timeout_s", CONF_INT, OFF(db_rw_timeout_s), "2", 1, 600},
    /* statements that carry a function's code (up to 50 MB zipped) */
    {"api.db_bulk_timeout_s", CONF_INT, OFF(db_bulk_timeout_s), "60", 1, 3600},
    {"api.threads", CONF_INT, OFF(threads), "16", 1, 256},
    /* just under lighttpd's default max-request-size (70000 KiB): a 50 MB zip
     * in base64 JSON fits, and the app's own cap answers first */
    {"api.max_body_bytes", CONF_LONG, OFF(max_body_bytes), "71303168", 1024, 1LL << 30},
    {"api.max_code_bytes", CONF_LONG, OFF(max_code_bytes), "4194304", 1, 1LL << 30},
    {"api.max_zip_bytes", CONF_LONG, OFF(max_zip_bytes), "52428800", 22, 1LL << 30},
    {"api.max_env_bytes", CONF_LONG, OFF(max_env_bytes), "4096", 2, 1 << 20},
    {"api.max_event_bytes", CONF_LONG, OFF(max_event_bytes), "6291456", 2, 1LL << 30},
    {"api.journal_dir", CONF_STR, OFF(journal_dir), NULL, 0, 0},
    {"api.master_key", CONF_STR, OFF(master_key), NULL, 0, 0},
    {"api.cors_origins", CONF_STR, OFF(cors_origins), "", 0, 0},
    {"api.journal_flush_ms", CONF_INT, OFF(journal_flush_ms), "50", 1, 50},
    {"api.exec_connect_timeout_ms", CONF_INT, OFF(exec_connect_timeout_ms), "1000", 10, 60000},
    {"api.exec_ping_timeout_ms", CONF_INT, OFF(exec_ping_timeout_ms), "1000", 10, 60000},
    /* Event invocations: runs in all (AWS: 1 + MaximumRetryAttempts 0..2), and
     * the wait before the 2nd run (doubled before each further one) */
    {"api.event_max_attempts", CONF_INT, OFF(event_max_attempts), "3", 1, 3},
    {"api.event_retry_delay_ms", CONF_INT, OFF(event_retry_delay_ms), "1000", 0, 3600000},
    {"api.exec_margin_ms", CONF_INT, OFF(exec_margin_ms), "30000", 0, 600000},
    {"api.key_cache_ms", CONF_INT, OFF(key_cache_ms), "5000", 0, 60000},
    {"api.key_cache_file", CONF_STR, OFF(key_cache_file), NULL, 0, 0},
    {"api.fn_cache_ms", CONF_INT, OFF(fn_cache_ms), "1000", 0, 60000},
    {"api.fn_cache_file", CONF_STR, OFF(fn_cache_file), NULL, 0, 0},
    /* AWS keeps CloudWatch logs forever unless told otherwise: so do we */
    {"api.records_retention_days", CONF_INT, OFF(records_retention_days), "0", 0, 36500},
    {"api.records_prune_interval_s", CONF_INT, OFF(records_prune_interval_s), "60", 1, 86400},
};
const size_t config_table_len = sizeof(config_table) / sizeof(config_table[0]);

static const struct conf_table table = {
    config_table, sizeof(config_table) / sizeof(config_table[0]),
    "executor." /* the executor's own keys */
};

static void set_default_path(char **slot, const char *var_dir, const char *rel)
{
	if (*slot == NULL)
		*slot = xasprintf("%s/%s", var_dir, rel);
}

static int fill_derived(struct config *c, const char *dir, struct err **e)
{
	if (c->var_dir == NULL)
		c->var_dir = xstrdup(dir);
	if (c->var_dir[0] != '/')
		return err_set(e, ERR_INVALID, "var_dir: must be an absolute path, got '%s'",
		               c->var_dir);
	set_default_path(&c->executor_socket, c->var_dir, "run/executor.sock");
	set_default_path(&c->code_dir, c->var_dir, "code");
	set_default_path(&c->db_socket, c->var_dir, "run/mysql.sock");
	set_default_path(&c->journal_dir, c->var_dir, "journal");
	set_default_path(&c->master_key, c->var_dir, "master.key");
	set_default_path(&c->key_cache_file, c->var_dir, "run/api-keys.gen");
	set_default_path(&c->fn_cache_file, c->var_dir, "run/functions.gen");
	if (c->instance == NULL) {
		char hex[65];
		crypt_sha256_hex(c->var_dir, strlen(c->var_dir), hex);
		c->instance = xstrndup(hex, 12);
	}
	return 0;
}

int config_parse(struct config *c, const char *text, const char *dir, struct err **e)
{
	struct config t;

	memset(&t, 0, sizeof(t));
	if (conf_defaults(&table, &t, e) < 0 || conf_parse(&table, &t, text, e) < 0 ||
	    fill_derived(&t, dir, e) < 0) {
		config_free(&t);
		return -1;
	}
	*c = t;
	return 0;
}

static char *dir_of(const char *path)
{
	char *abs = realpath(path, NULL);
	char *slash;

	if (abs == NULL)
		return NULL;
	slash = strrchr(abs, '/');
	if (slash == abs)
		slash[1] = '\0';
	else
		*slash = '\0';
	return abs;
}

int config_load(struct config *c, const char *path, struct err **e)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *dir = NULL;

	if (path == NULL)
		path = getenv("LAMBDA_CONF");
	if (path == NULL)
		return err_set(e, ERR_INVALID, "no configuration: give -c FILE or set LAMBDA_CONF");
	if (conf_read_file(path, &text, e) < 0)
		return -1;
	dir = dir_of(path);
	if (dir == NULL)
		return err_setsys(e, ERR_IO, "%s", path);
	if (config_parse(c, text, dir, e) < 0)
		return err_wrap(e, "%s", path);
	return 0;
}

void config_free(struct config *c)
{
	conf_free(&table, c);
}

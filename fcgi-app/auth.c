#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "auth.h"
#include "cleanup.h"
#include "crypt.h"
#include "db_core.h"
#include "keycache.h"
#include "log.h"
#include "xalloc.h"

static int read_exact(const char *path, uint8_t key[32], struct err **e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t buf[33];
	ssize_t n;

	if (fd < 0)
		return err_setsys(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "%s", path);
	n = read(fd, buf, sizeof(buf));
	if (n != 32)
		return err_set(e, ERR_INVALID, "%s: expected 32 bytes", path);
	memcpy(key, buf, 32);
	return 0;
}

int auth_master_load(const char *path, int create, uint8_t key[32], struct err **e)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	uint8_t fresh[32];
	struct err *e1 = NULL;

	if (read_exact(path, key, &e1) == 0)
		return 0;
	if (!create || e1->code != ERR_NOT_FOUND) {
		*e = e1;
		return -1;
	}
	err_free(&e1);
	/* Write a temporary file, then link(2) it into place: link fails if
	 * another process won the race, and then its key is the key. */
	if (crypt_random(fresh, sizeof(fresh), e) < 0)
		return -1;
	tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_setsys(e, ERR_IO, "%s", tmp);
	if (write(fd, fresh, sizeof(fresh)) != (ssize_t)sizeof(fresh) || fsync(fd) < 0) {
		unlink(tmp);
		return err_setsys(e, ERR_IO, "%s", tmp);
	}
	if (link(tmp, path) < 0 && errno != EEXIST) {
		unlink(tmp);
		return err_setsys(e, ERR_IO, "%s", path);
	}
	unlink(tmp);
	return read_exact(path, key, e);
}

void auth_secret(const uint8_t master[32], const char *akid, char secret[AUTH_SECRET_LEN + 1])
{
	uint8_t mac[CRYPT_SHA256_LEN];
	_cleanup_free_ char *b = NULL;

	crypt_hmac_sha256(master, 32, akid, strlen(akid), mac);
	b = crypt_base64url(mac, sizeof(mac)); /* 43 characters */
	memcpy(secret, b, AUTH_SECRET_LEN);
	secret[AUTH_SECRET_LEN] = '\0';
}

void auth_key_hash(const char *key, char hash[65])
{
	crypt_sha256_hex(key, strlen(key), hash);
}

int auth_key_new(const uint8_t master[32], char akid[AUTH_AKID_LEN + 1], char key[AUTH_KEY_LEN + 1],
                 char hash[65], struct err **e)
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t r[9];
	char id[AUTH_AKID_LEN + 1], secret[AUTH_SECRET_LEN + 1];

	if (crypt_random(r, sizeof(r), e) < 0)
		return -1;
	id[0] = 'L';
	id[1] = 'K';
	for (int i = 0; i < 9; i++) {
		id[2 + 2 * i] = hex[r[i] >> 4];
		id[3 + 2 * i] = hex[r[i] & 15];
	}
	id[AUTH_AKID_LEN] = '\0';
	auth_secret(master, id, secret);
	memcpy(akid, id, sizeof(id));
	snprintf(key, AUTH_KEY_LEN + 1, "%s.%s", id, secret);
	auth_key_hash(key, hash);
	return 0;
}

int auth_key_parse(const char *key, char akid[AUTH_AKID_LEN + 1])
{
	if (strlen(key) != AUTH_KEY_LEN || key[0] != 'L' || key[1] != 'K' ||
	    key[AUTH_AKID_LEN] != '.')
		return -1;
	for (int i = 2; i < AUTH_AKID_LEN; i++)
		if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'A' && key[i] <= 'F')))
			return -1;
	for (int i = AUTH_AKID_LEN + 1; i < AUTH_KEY_LEN; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return -1;
	}
	memcpy(akid, key, AUTH_AKID_LEN);
	akid[AUTH_AKID_LEN] = '\0';
	return 0;
}

int auth_hash_equal(const char *a, const char *b)
{
	if (strlen(a) != 64 || strlen(b) != 64)
		return 0;
	return crypt_equal(a, b, 64);
}

int auth_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
			return 0;
	return 1;
}

/* Keys whose last_used_at this process wrote recently (slot = id modulo the
 * size; a collision only costs an extra write). */
static pthread_mutex_t touch_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	long long key_id;
	long long at_s;
} touched[AUTH_TOUCH_SLOTS];

/* Writes last_used_at at most once per AUTH_TOUCH_INTERVAL_S per key and
 * process: the slot is claimed before the write, so that the other threads
 * do not write it too meanwhile. */
static void touch_key(struct worker *w, long long key_id)
{
	long long now = (long long)time(NULL);
	size_t slot = (size_t)key_id % AUTH_TOUCH_SLOTS;
	struct err *e = NULL;
	int due;

	pthread_mutex_lock(&touch_mu);
	due = !(touched[slot].key_id == key_id && now - touched[slot].at_s < AUTH_TOUCH_INTERVAL_S);
	if (due) {
		touched[slot].key_id = key_id;
		touched[slot].at_s = now;
	}
	pthread_mutex_unlock(&touch_mu);
	if (due && db_key_touch(w->db, key_id, &e) < 0) {
		log_warnx("last_used_at of key %lld: %s", key_id, err_msg(e));
		err_free(&e);
	}
}

/* Whether the raw query string carries something shaped like one of our
 * keys, under any parameter name ("LK" + 18 hex digits, then '.' or %2E). */
static int query_has_key(const char *q)
{
	for (const char *p = strstr(q, "LK"); p != NULL; p = strstr(p + 1, "LK")) {
		size_t hex = strspn(p + 2, "0123456789ABCDEF");
		const char *after = p + 2 + hex;

		if (hex == 18 && (*after == '.' || strncasecmp(after, "%2E", 3) == 0))
			return 1;
	}
	return 0;
}

static int unauthorized(struct reply *rep, const char *msg)
{
	reply_error(rep, 401, "unauthorized", "%s", msg);
	reply_header(rep, "WWW-Authenticate", "Bearer realm=\"lambda\"");
	return -1;
}

int auth_bearer(struct request *req, struct reply *rep)
{
	const char *h = request_header(req, "Authorization");
	char akid[AUTH_AKID_LEN + 1], hash[65];
	struct db_key k;
	struct err *e = NULL;
	uint64_t gen = 0;
	long long id;

	if (request_query_has(req, "key") || request_query_has(req, "api_key") ||
	    request_query_has(req, "access_token") || request_query_has(req, "token") ||
	    query_has_key(req->query))
		return unauthorized(rep, "API keys are not accepted in the query string; "
		                         "use the Authorization: Bearer header");
	if (h == NULL)
		return unauthorized(rep, "missing Authorization: Bearer <key>");
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return unauthorized(rep, "Authorization must be 'Bearer <key>'");
	h += 7;
	while (*h == ' ')
		h++;
	if (auth_key_parse(h, akid) < 0)
		return unauthorized(rep, "invalid API key");
	auth_key_hash(h, hash);
	if (app->keys != NULL && keycache_get(app->keys, hash, &id, &gen)) {
		req->key_id = id;
		touch_key(req->w, id);
		return 0;
	}
	if (db_key_find(req->w->db, akid, &k, &e) < 0) {
		if (e->code == ERR_NOT_FOUND) {
			err_free(&e);
			return unauthorized(rep, "invalid API key");
		}
		reply_err(rep, e);
		err_free(&e);
		return -1;
	}
	if (!auth_hash_equal(hash, k.hash))
		return unauthorized(rep, "invalid API key");
	if (k.revoked)
		return unauthorized(rep, "API key revoked");
	if (app->keys != NULL)
		keycache_put(app->keys, hash, k.id, gen);
	req->key_id = k.id;
	touch_key(req->w, k.id);
	return 0;
}

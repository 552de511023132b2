/* API keys (docs/design.md and BRIEF "API keys"): `<access_key_id>.<secret>`,
 * access_key_id = "LK" + 18 upper-case hex digits, secret = the first 40
 * characters of base64url(HMAC-SHA256(master_key, access_key_id)).  The
 * database keeps the access key id and SHA-256 of the whole key. */
#ifndef LAMBDA_API_AUTH_H
#define LAMBDA_API_AUTH_H

#include <stdint.h>

#include "err.h"
#include "reply.h"
#include "request.h"

#define AUTH_AKID_LEN   20
#define AUTH_SECRET_LEN 40
#define AUTH_KEY_LEN    (AUTH_AKID_LEN + 1 + AUTH_SECRET_LEN)

/* last_used_at of a key is written at most once per interval and process */
#define AUTH_TOUCH_INTERVAL_S 60
#define AUTH_TOUCH_SLOTS      256

/* Reads the 32-byte master key at path; when create is set and the file does
 * not exist, creates it (0600, random, race-free between processes). */
int auth_master_load(const char *path, int create, uint8_t key[32], struct err **e);

/* The secret of an access key id under the master key. */
void auth_secret(const uint8_t master[32], const char *akid, char secret[AUTH_SECRET_LEN + 1]);
/* A new key: its access key id, the whole key and the hex SHA-256 to store. */
int auth_key_new(const uint8_t master[32], char akid[AUTH_AKID_LEN + 1], char key[AUTH_KEY_LEN + 1],
                 char hash[65], struct err **e);
/* Checks the shape of a presented key and copies its access key id out.
 * Returns 0, or -1 when it cannot be one of ours. */
int auth_key_parse(const char *key, char akid[AUTH_AKID_LEN + 1]);
/* hex SHA-256 of a key. */
void auth_key_hash(const char *key, char hash[65]);
/* Constant-time comparison of two hex hashes: 1 when equal. */
int auth_hash_equal(const char *a, const char *b);

/* route_auth for /api routes: Authorization: Bearer <key>.  Refuses a key in
 * the query string, unknown, malformed and revoked keys (401). Sets
 * req->key_id.  Needs req->w (database). */
int auth_bearer(struct request *req, struct reply *rep);

/* The key name rule: 1-64 printable ASCII characters. */
int auth_name_valid(const char *name);

#endif

#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "crypt.h"
#include "function.h"
#include "xalloc.h"

/* ------------------------------------------------------------------ rules */

int function_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > FN_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t k;
		unsigned int cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int ident_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static const char *runtime_ext(const char *runtime)
{
	return strcmp(runtime, "python") == 0 ? ".py" : ".js";
}

/* aws style "path/module.function" or seed style "file.py" / "file.js":
 * segments of [A-Za-z0-9_-], '/' between them, one final '.' part. */
static int handler_valid(const char *h, const char **why)
{
	size_t n = strlen(h);
	const char *dot = strrchr(h, '.');
	int seg = 0;

	*why = "must look like 'module.function' or 'file.py' / 'file.js' "
	       "([A-Za-z0-9_-] parts, '/' between directories), at most 128 characters";
	if (n < 3 || n > FN_HANDLER_MAX || dot == NULL || dot == h || dot[1] == '\0')
		return 0;
	for (const char *c = h; c < dot; c++) {
		if (*c == '/') {
			if (seg == 0)
				return 0;
			seg = 0;
		} else if (ident_char(*c)) {
			seg++;
		} else {
			return 0;
		}
	}
	if (seg == 0)
		return 0;
	for (const char *c = dot + 1; *c != '\0'; c++)
		if (!ident_char(*c) && *c != '$')
			return 0;
	return 1;
}

static const char *style_of(const char *handler)
{
	size_t n = strlen(handler);

	if ((n > 3 && strcmp(handler + n - 3, ".py") == 0) ||
	    (n > 3 && strcmp(handler + n - 3, ".js") == 0))
		return "seed";
	return "aws";
}

char *function_code_file(const struct function *f)
{
	const char *dot = strrchr(f->handler, '.');

	if (dot == NULL)
		return NULL;
	if (strcmp(f->style, "seed") == 0)
		return xstrdup(f->handler);
	return xasprintf("%.*s%s", (int)(dot - f->handler), f->handler, runtime_ext(f->runtime));
}

void function_hash_code(struct function *f)
{
	crypt_sha256_hex(f->code != NULL ? f->code : "", f->code_len, f->code_sha256);
}

void function_free(struct function *f)
{
	free(f->name);
	free(f->runtime);
	free(f->handler);
	free(f->style);
	free(f->route);
	free(f->code);
	free(f->code_format);
	free(f->isolation);
	free(f->url_auth);
	free(f->env);
	free(f->created_at);
	free(f->updated_at);
	memset(f, 0, sizeof(*f));
}

/* --------------------------------------------------------------- parsing */

static int want_string(const cJSON *j, const char *field, struct err **e)
{
	if (!cJSON_IsString(j) || j->valuestring == NULL)
		return err_set(e, ERR_INVALID, "%s: must be a string", field);
	return 0;
}

/* A JSON number that is an integer within [min, max]. */
static int want_int(const cJSON *j, const char *field, long long min, long long max,
                    const char *unit, long long *out, struct err **e)
{
	double d;

	if (!cJSON_IsNumber(j))
		return err_set(e, ERR_INVALID, "%s: must be an integer between %lld and %lld%s",
		               field, min, max, unit);
	d = j->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max)
		return err_set(e, ERR_INVALID, "%s: must be an integer between %lld and %lld%s",
		               field, min, max, unit);
	*out = (long long)d;
	return 0;
}

static int parse_runtime(const cJSON *root, struct function *f, struct err **e)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(root, "runtime");
	const cJSON *lang = cJSON_GetObjectItemCaseSensitive(root, "language");
	const char *field = rt != NULL ? "runtime" : "language";
	const cJSON *j = rt != NULL ? rt : lang;

	if (j == NULL)
		return 0;
	if (want_string(j, field, e) < 0)
		return -1;
	if (rt != NULL && lang != NULL &&
	    (!cJSON_IsString(lang) || strcmp(lang->valuestring, rt->valuestring) != 0))
		return err_set(e, ERR_INVALID, "language: must equal runtime when both are given");
	if (strcmp(j->valuestring, "python") != 0 && strcmp(j->valuestring, "javascript") != 0)
		return err_set(e, ERR_INVALID,
		               "%s: unknown runtime; expected 'python' (python 3.11) or "
		               "'javascript' (node 18)",
		               field);
	f->runtime = xstrdup(j->valuestring);
	f->given |= FN_F_RUNTIME;
	return 0;
}

static int parse_timeout(const cJSON *root, struct function *f, struct err **e)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "timeout");
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "timeout_ms");
	long long v;

	if (s != NULL && ms != NULL)
		return err_set(e, ERR_INVALID,
		               "timeout: give either timeout (seconds) or "
		               "timeout_ms, not both");
	if (ms != NULL) {
		if (want_int(ms, "timeout_ms", FN_TIMEOUT_MS_MIN, FN_TIMEOUT_MS_MAX, " ms", &v, e) <
		    0)
			return -1;
		f->timeout_ms = v;
		f->given |= FN_F_TIMEOUT;
	} else if (s != NULL) {
		if (want_int(s, "timeout", FN_TIMEOUT_S_MIN, FN_TIMEOUT_S_MAX, " seconds", &v, e) <
		    0)
			return -1;
		f->timeout_ms = v * 1000;
		f->given |= FN_F_TIMEOUT;
	}
	return 0;
}

static int parse_env(const cJSON *j, const struct fn_limits *lim, struct function *f,
                     struct err **e)
{
	_cleanup_cjson_str_ char *txt = NULL;
	const cJSON *it;

	if (!cJSON_IsObject(j))
		return err_set(e, ERR_INVALID, "env: must be an object of string values");
	cJSON_ArrayForEach(it, j)
	{
		const char *k = it->string;
		size_t kl = k != NULL ? strlen(k) : 0;

		if (kl == 0 || kl > FN_ENV_KEY_MAX || (k[0] >= '0' && k[0] <= '9'))
			return err_set(e, ERR_INVALID,
			               "env: names must match [A-Za-z_][A-Za-z0-9_]{0,127}");
		for (size_t i = 0; i < kl; i++)
			if (!(ident_char(k[i]) && k[i] != '-'))
				return err_set(
				    e, ERR_INVALID,
				    "env: names must match [A-Za-z_][A-Za-z0-9_]{0,127}");
		if (!cJSON_IsString(it) || it->valuestring == NULL)
			return err_set(e, ERR_INVALID, "env: value of %s must be a string", k);
		if (!utf8_valid(it->valuestring, strlen(it->valuestring)))
			return err_set(e, ERR_INVALID, "env: value of %s must be valid UTF-8", k);
	}
	txt = cJSON_PrintUnformatted(j);
	if (txt == NULL)
		return err_set(e, ERR_INTERNAL, "env: could not serialise");
	if (strlen(txt) > lim->max_env_bytes)
		return err_set(e, ERR_INVALID, "env: exceeds %zu bytes as JSON",
		               lim->max_env_bytes);
	f->env = xstrdup(txt);
	f->given |= FN_F_ENV;
	return 0;
}

static int parse_code(const cJSON *root, const struct fn_limits *lim, struct function *f,
                      struct err **e)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
	const cJSON *zip = cJSON_GetObjectItemCaseSensitive(root, "code_zip");
	uint8_t *bytes = NULL;
	size_t n = 0;

	if (code != NULL && zip != NULL)
		return err_set(e, ERR_INVALID,
		               "code: give either code (text) or code_zip "
		               "(base64), not both");
	if (code != NULL) {
		if (want_string(code, "code", e) < 0)
			return -1;
		n = strlen(code->valuestring);
		if (n > lim->max_code_bytes)
			return err_set(e, ERR_TOO_LARGE, "code: exceeds %zu bytes",
			               lim->max_code_bytes);
		f->code = xstrndup(code->valuestring, n);
		f->code_len = n;
		f->code_format = xstrdup("text");
	} else if (zip != NULL) {
		if (want_string(zip, "code_zip", e) < 0)
			return -1;
		if (crypt_base64_decode(zip->valuestring, strlen(zip->valuestring),
		                        lim->max_zip_bytes, &bytes, &n, e) < 0)
			return err_wrap(e, "code_zip");
		f->code = (char *)bytes;
		f->code_len = n;
		f->code_format = xstrdup("zip");
	} else {
		return 0;
	}
	function_hash_code(f);
	f->given |= FN_F_CODE;
	return 0;
}

static int parse_strings(const cJSON *root, struct function *f, struct err **e)
{
	const cJSON *j;
	const char *why;

	j = cJSON_GetObjectItemCaseSensitive(root, "name");
	if (j != NULL) {
		if (want_string(j, "name", e) < 0)
			return -1;
		if (!function_name_valid(j->valuestring))
			return err_set(e, ERR_INVALID,
			               "name: must match [A-Za-z0-9_-]{1,64} (1 to 64 letters, "
			               "digits, '_' or '-')");
		f->name = xstrdup(j->valuestring);
		f->given |= FN_F_NAME;
	}
	j = cJSON_GetObjectItemCaseSensitive(root, "handler");
	if (j != NULL) {
		if (want_string(j, "handler", e) < 0)
			return -1;
		if (!handler_valid(j->valuestring, &why))
			return err_set(e, ERR_INVALID, "handler: %s", why);
		f->handler = xstrdup(j->valuestring);
		f->given |= FN_F_HANDLER;
	}
	j = cJSON_GetObjectItemCaseSensitive(root, "route");
	if (j != NULL && !cJSON_IsNull(j)) {
		size_t n;
		if (want_string(j, "route", e) < 0)
			return -1;
		n = strlen(j->valuestring);
		if (n < 1 || n > FN_ROUTE_MAX || j->valuestring[0] != '/')
			return err_set(e, ERR_INVALID,
			               "route: must start with '/' and have 1 to %d characters",
			               FN_ROUTE_MAX);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)j->valuestring[i] <= 0x20 ||
			    (unsigned char)j->valuestring[i] >= 0x7f)
				return err_set(e, ERR_INVALID,
				               "route: only printable ASCII without spaces");
		f->route = xstrdup(j->valuestring);
		f->given |= FN_F_ROUTE;
	}
	j = cJSON_GetObjectItemCaseSensitive(root, "isolation");
	if (j != NULL) {
		if (want_string(j, "isolation", e) < 0)
			return -1;
		if (strcmp(j->valuestring, "docker") != 0 && strcmp(j->valuestring, "gvisor") != 0)
			return err_set(e, ERR_INVALID, "isolation: must be 'docker' or 'gvisor'");
		f->isolation = xstrdup(j->valuestring);
		f->given |= FN_F_ISOLATION;
	}
	j = cJSON_GetObjectItemCaseSensitive(root, "url_auth");
	if (j != NULL) {
		if (want_string(j, "url_auth", e) < 0)
			return -1;
		if (strcmp(j->valuestring, "key") != 0 && strcmp(j->valuestring, "none") != 0)
			return err_set(e, ERR_INVALID,
			               "url_auth: must be 'key' (an API key is needed) or 'none' "
			               "(public)");
		f->url_auth = xstrdup(j->valuestring);
		f->given |= FN_F_URL_AUTH;
	}
	return 0;
}

static int parse_numbers(const cJSON *root, struct function *f, struct err **e)
{
	const cJSON *j;

	if (parse_timeout(root, f, e) < 0)
		return -1;
	j = cJSON_GetObjectItemCaseSensitive(root, "memory_mb");
	if (j == NULL)
		j = cJSON_GetObjectItemCaseSensitive(root, "memory");
	if (j != NULL) {
		if (want_int(j, "memory_mb", FN_MEMORY_MB_MIN, FN_MEMORY_MB_MAX, " MB",
		             &f->memory_mb, e) < 0)
			return -1;
		f->given |= FN_F_MEMORY;
	}
	j = cJSON_GetObjectItemCaseSensitive(root, "concurrency");
	if (j != NULL) {
		if (want_int(j, "concurrency", 0, FN_CONCURRENCY_MAX, "", &f->concurrency, e) < 0)
			return -1;
		f->given |= FN_F_CONCURRENCY;
	}
	return 0;
}

/* Defaults of a create: the seed shape (it says "language") gets a
 * seed-style handler named after the function and may omit code. */
static int apply_defaults(const cJSON *root, struct function *f, struct err **e)
{
	int seed = cJSON_GetObjectItemCaseSensitive(root, "language") != NULL;

	if (!(f->given & FN_F_NAME))
		return err_set(e, ERR_INVALID, "name: required");
	if (!(f->given & FN_F_RUNTIME))
		return err_set(e, ERR_INVALID, "runtime: required ('python' or 'javascript')");
	if (!(f->given & FN_F_CODE)) {
		if (!seed)
			return err_set(e, ERR_INVALID,
			               "code: required (source text in 'code' or "
			               "a base64 zip in 'code_zip')");
		f->code = xstrdup("");
		f->code_len = 0;
		f->code_format = xstrdup("text");
		function_hash_code(f);
	}
	if (f->handler == NULL)
		f->handler = seed ? xasprintf("%s%s", f->name, runtime_ext(f->runtime))
		                  : xstrdup(strcmp(f->runtime, "python") == 0 ? "main.handler"
		                                                              : "index.handler");
	if (!(f->given & FN_F_TIMEOUT))
		f->timeout_ms = 3000;
	if (!(f->given & FN_F_MEMORY))
		f->memory_mb = 128;
	if (f->isolation == NULL)
		f->isolation = xstrdup("docker");
	if (f->url_auth == NULL)
		f->url_auth = xstrdup("key");
	if (f->env == NULL)
		f->env = xstrdup("{}");
	f->version = 1;
	return 0;
}

/* Checks that handler, runtime and code fit together. */
static int check_combination(struct function *f, struct err **e)
{
	free(f->style);
	f->style = xstrdup(style_of(f->handler));
	if (strcmp(f->style, "seed") == 0) {
		const char *ext = runtime_ext(f->runtime);
		size_t n = strlen(f->handler);
		if (strcmp(f->handler + n - 3, ext) != 0)
			return err_set(e, ERR_INVALID,
			               "handler: a %s function's file must end in %s", f->runtime,
			               ext);
	}
	return 0;
}

/* cJSON cuts a string at an escaped NUL (\u0000) without telling: such
 * escapes become \u0001 in a copy, which the field checks then refuse
 * naming their field; *had_nul says that one was seen. */
static char *mask_nul_escapes(const char *body, size_t len, int *had_nul)
{
	char *copy = xmalloc(len + 1);
	int in_str = 0;

	memcpy(copy, body, len);
	copy[len] = '\0';
	*had_nul = 0;
	for (size_t i = 0; i < len; i++) {
		if (copy[i] == '"') {
			in_str = !in_str;
		} else if (in_str && copy[i] == '\\' && i + 1 < len) {
			if (copy[i + 1] == 'u' && i + 5 < len &&
			    memcmp(copy + i + 2, "0000", 4) == 0) {
				copy[i + 5] = '1';
				*had_nul = 1;
			}
			i++; /* the escaped character */
		}
	}
	return copy;
}

int function_parse(const char *body, size_t len, int for_update, const struct fn_limits *lim,
                   struct function *out, struct err **e)
{
	_cleanup_cjson_ cJSON *root = NULL;
	_cleanup_free_ char *masked = NULL;
	struct function f;
	int had_nul;

	memset(&f, 0, sizeof(f));
	masked = mask_nul_escapes(body, len, &had_nul);
	root = cJSON_ParseWithLength(masked, len);
	if (root == NULL)
		return err_set(e, ERR_INVALID, "malformed JSON in the request body");
	if (!cJSON_IsObject(root))
		return err_set(e, ERR_INVALID, "the request body must be a JSON object");
	if (parse_strings(root, &f, e) < 0 || parse_runtime(root, &f, e) < 0 ||
	    parse_numbers(root, &f, e) < 0 || parse_code(root, lim, &f, e) < 0)
		goto fail;
	{
		const cJSON *env = cJSON_GetObjectItemCaseSensitive(root, "env");
		if (env != NULL && parse_env(env, lim, &f, e) < 0)
			goto fail;
	}
	if (had_nul) {
		err_set(e, ERR_INVALID, "strings must not contain NUL characters (\\u0000)");
		goto fail;
	}
	if (!for_update) {
		if (apply_defaults(root, &f, e) < 0 || check_combination(&f, e) < 0)
			goto fail;
	} else if (f.given == 0) {
		err_set(e, ERR_INVALID, "nothing to update: give at least one field");
		goto fail;
	}
	*out = f;
	return 0;
fail:
	function_free(&f);
	return -1;
}

#define MOVE(field)                                                                                \
	do {                                                                                       \
		free(f->field);                                                                    \
		f->field = TAKE_PTR(upd->field);                                                   \
	} while (0)

int function_merge(struct function *f, struct function *upd, struct err **e)
{
	if (upd->given & FN_F_NAME)
		MOVE(name);
	if (upd->given & FN_F_RUNTIME)
		MOVE(runtime);
	if (upd->given & FN_F_HANDLER)
		MOVE(handler);
	if (upd->given & FN_F_ROUTE)
		MOVE(route);
	if (upd->given & FN_F_CODE) {
		MOVE(code);
		MOVE(code_format);
		f->code_len = upd->code_len;
		memcpy(f->code_sha256, upd->code_sha256, sizeof(f->code_sha256));
	}
	if (upd->given & FN_F_TIMEOUT)
		f->timeout_ms = upd->timeout_ms;
	if (upd->given & FN_F_MEMORY)
		f->memory_mb = upd->memory_mb;
	if (upd->given & FN_F_ISOLATION)
		MOVE(isolation);
	if (upd->given & FN_F_ENV)
		MOVE(env);
	if (upd->given & FN_F_CONCURRENCY)
		f->concurrency = upd->concurrency;
	if (upd->given & FN_F_URL_AUTH)
		MOVE(url_auth);
	f->given = upd->given;
	return check_combination(f, e);
}

/* ---------------------------------------------------------------- output */

cJSON *function_to_json(const struct function *f, int with_code)
{
	cJSON *j = cJSON_CreateObject();
	cJSON *env = cJSON_Parse(f->env != NULL ? f->env : "{}");

	cJSON_AddNumberToObject(j, "id", (double)f->id);
	cJSON_AddStringToObject(j, "name", f->name);
	cJSON_AddStringToObject(j, "runtime", f->runtime);
	cJSON_AddStringToObject(j, "language", f->runtime);
	cJSON_AddStringToObject(j, "handler", f->handler);
	cJSON_AddStringToObject(j, "style", f->style);
	if (f->route != NULL) {
		cJSON_AddStringToObject(j, "route", f->route);
	} else {
		_cleanup_free_ char *r = xasprintf("/fn/%s", f->name);
		cJSON_AddStringToObject(j, "route", r);
	}
	cJSON_AddNumberToObject(j, "timeout", (double)f->timeout_ms / 1000.0);
	cJSON_AddNumberToObject(j, "timeout_ms", (double)f->timeout_ms);
	cJSON_AddNumberToObject(j, "memory_mb", (double)f->memory_mb);
	cJSON_AddStringToObject(j, "isolation", f->isolation);
	cJSON_AddItemToObject(j, "env", env != NULL ? env : cJSON_CreateObject());
	cJSON_AddNumberToObject(j, "concurrency", (double)f->concurrency);
	cJSON_AddStringToObject(j, "url_auth", f->url_auth != NULL ? f->url_auth : "key");
	cJSON_AddStringToObject(j, "code_format", f->code_format);
	cJSON_AddStringToObject(j, "code_sha256", f->code_sha256);
	cJSON_AddNumberToObject(j, "code_size", (double)f->code_len);
	cJSON_AddNumberToObject(j, "version", (double)f->version);
	if (f->created_at != NULL)
		cJSON_AddStringToObject(j, "created_at", f->created_at);
	if (f->updated_at != NULL)
		cJSON_AddStringToObject(j, "updated_at", f->updated_at);
	if (with_code && f->code != NULL) {
		if (strcmp(f->code_format, "zip") == 0) {
			_cleanup_free_ char *b = crypt_base64(f->code, f->code_len);
			cJSON_AddStringToObject(j, "code_zip", b);
		} else {
			cJSON_AddStringToObject(j, "code", f->code);
		}
	}
	return j;
}

/* libFuzzer target: request parsing and routing over the real route tables,
 * query decoding, and the JSON validation of a function body.
 *
 * Input: "METHOD URI\n" then the body.  Nothing here touches a database:
 * only router_match (not the handlers) runs.  Build: tests/fuzz/build.sh. */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "function.h"
#include "reply.h"
#include "request.h"
#include "router.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_query(const struct request *req)
{
	static const char *const names[] = {"limit",     "cursor", "function", "status",
	                                    "isolation", "key",    ""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct err *e = NULL;
		char *v = NULL;

		if (request_query(req, names[i], &v, &e) == 0)
			free(v);
		else
			err_free(&e);
		(void)request_query_has(req, names[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t head = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	char *line = xstrndup((const char *)data, head);
	const char *body = nl != NULL ? nl + 1 : "";
	size_t body_len = nl != NULL ? size - head - 1 : 0;
	char *sp = strchr(line, ' ');
	const char *method = "GET", *uri = line;
	struct fn_limits lim = {1 << 16, 4096, 1 << 16};
	struct function f;
	struct request req;
	struct reply rep;
	struct err *e = NULL;

	if (sp != NULL) {
		*sp = '\0';
		method = line;
		uri = sp + 1;
	}
	request_init(&req, method, uri, NULL);
	reply_init(&rep);
	if (router_match(router_tables, router_ntables, &req, &rep) == NULL &&
	    (rep.status < 400 || rep.status > 405))
		abort(); /* a miss is always 400, 404 or 405 with an error body */
	fuzz_query(&req);
	reply_free(&rep);
	request_free(&req);

	for (int upd = 0; upd < 2; upd++) {
		if (function_parse(body, body_len, upd, &lim, &f, &e) == 0) {
			if (!upd) {
				cJSON *j = function_to_json(&f, 1);
				char *file = function_code_file(&f);
				if (!function_name_valid(f.name) || file == NULL)
					abort();
				free(file);
				cJSON_Delete(j);
			}
			function_free(&f);
		} else {
			if (e == NULL || e->msg == NULL)
				abort();
			err_free(&e);
		}
	}
	free(line);
	return 0;
}

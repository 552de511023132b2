/* lambda-api: the FastCGI program lighttpd spawns (bin-path, max-procs) on
 * the listen socket it passes as fd 0.  api.threads threads each accept and
 * serve requests with their own FCGX_Request, MariaDB connection and
 * executor connection; a writer thread moves invocation records from the
 * journal into MariaDB.  Main waits for SIGTERM/SIGINT (sigtimedwait, with a
 * 1 s tick for housekeeping), then stops accepting, lets requests finish and
 * flushes the journal. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "auth.h"
#include "buf.h"
#include "cleanup.h"
#include "code_store.h"
#include "conf.h"
#include "db.h"
#include "db_core.h"
#include "event_queue.h"
#include "exec_client.h"
#include "fncache.h"
#include "journal.h"
#include "keycache.h"
#include "log.h"
#include "reply.h"
#include "reqtime.h"
#include "request.h"
#include "router.h"
#include "xalloc.h"
#include "zip.h"

#define SHUTDOWN_FLUSH_MS 5000

static struct app the_app;

/* ------------------------------------------------------------ serving */

static void write_reply(FCGX_Request *rq, const struct reply *rep, int head_only)
{
	struct buf head;

	buf_init(&head, REPLY_MAX_HEADERS_BYTES * 2);
	reply_head(rep, &head);
	FCGX_PutStr(head.data, (int)head.len, rq->out);
	if (!head_only && rep->body.len > 0)
		FCGX_PutStr(rep->body.data, (int)rep->body.len, rq->out);
	buf_free(&head);
}

/* Reads the body up to the cap; 413 (filled into rep) when larger. */
static int read_body(FCGX_Request *rq, struct request *req, struct reply *rep, char **body)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", rq->envp);
	long long max = app->cfg.max_body_bytes;
	long long n = cl != NULL && *cl != '\0' ? strtoll(cl, NULL, 10) : 0;
	char *b;
	int got = 0;

	if (n < 0)
		n = 0;
	if (n > max) {
		reply_error(rep, 413, "too_large",
		            "request body of %lld bytes exceeds the limit of "
		            "%lld bytes",
		            n, max);
		return -1;
	}
	b = xmalloc((size_t)n + 1);
	while (got < n) {
		int r = FCGX_GetStr(b + got, (int)(n - got), rq->in);
		if (r <= 0)
			break;
		got += r;
	}
	b[got] = '\0';
	req->body = b;
	req->body_len = (size_t)got;
	*body = b;
	return 0;
}

static void add_cors(const struct request *req, struct reply *rep)
{
	const char *origin = request_header(req, "Origin");
	const char *list = app->cfg.cors_origins;
	size_t n;

	if (origin == NULL || list[0] == '\0')
		return;
	n = strlen(origin);
	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, ", ");
		if ((len == 1 && *p == '*') || (len == n && strncmp(p, origin, n) == 0)) {
			reply_header(rep, "Access-Control-Allow-Origin", "%s", origin);
			reply_header(rep, "Vary", "Origin");
			reply_header(rep, "Access-Control-Allow-Headers",
			             "Authorization, Content-Type");
			reply_header(rep, "Access-Control-Allow-Methods",
			             "GET, POST, PUT, DELETE, OPTIONS");
			return;
		}
		p += len;
		p += strspn(p, ", ");
	}
}

/* Returns 1 when the request's input was read to its end (the body, then
 * FastCGI's empty stdin record), 0 when some may still come. */
static int serve(FCGX_Request *rq, struct worker *w)
{
	const char *method = FCGX_GetParam("REQUEST_METHOD", rq->envp);
	const char *uri = FCGX_GetParam("REQUEST_URI", rq->envp);
	const char *addr = FCGX_GetParam("REMOTE_ADDR", rq->envp);
	_cleanup_free_ char *body = NULL;
	struct request req;
	struct reply rep;
	int drained = 0;

	if (method == NULL)
		method = "GET";
	if (uri == NULL || uri[0] != '/')
		uri = "/";
	request_init(&req, method, uri, rq->envp);
	req.remote_addr = addr != NULL ? addr : "";
	req.w = w;
	reply_init(&rep);
	if (read_body(rq, &req, &rep, &body) == 0) {
		/* lighttpd sent the body whole or a short one: its end record is
		 * next (for a body-less GET it came with the params) */
		drained = FCGX_GetChar(rq->in) == EOF && FCGX_GetError(rq->in) == 0;
		if (strcmp(method, "OPTIONS") == 0 && app->cfg.cors_origins[0] != '\0')
			reply_empty(&rep, 204);
		else
			router_dispatch(router_tables, router_ntables, &req, &rep);
	}
	add_cors(&req, &rep);
	write_reply(rq, &rep, strcmp(method, "HEAD") == 0);
	log_debug("%s %s %s %d", req.remote_addr, method, req.path, rep.status);
	reply_free(&rep);
	request_free(&req);
	return drained;
}

/* LAMBDA_API_LINGER=1: libfcgi's lingering close after every request, as
 * before; for side-by-side benchmarks (bench/apiget_tail.py). */
static int linger_always;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	FCGX_Request rq;

	db_thread_init();
	w->db = db_new(&app->cfg);
	w->ec = exec_client_new(&app->cfg);
	FCGX_InitRequest(&rq, 0, 0);
	for (;;) {
		uint64_t t0 = reqtime_now(), t1, t2;

		if (FCGX_Accept_r(&rq) != 0)
			break;
		t1 = reqtime_now();
		/* With the input read to its end, nothing more comes from lighttpd
		 * on this connection, so a plain close cannot reset data it still
		 * sends: skip libfcgi's lingering close (shutdown, then wait for
		 * lighttpd's own close), which holds this thread until lighttpd
		 * gets a core and so ties the API's threads to its scheduling. */
		if (serve(&rq, w) == 1 && !linger_always)
			FCGX_Detach(&rq);
		t2 = reqtime_now();
		FCGX_Finish_r(&rq);
		reqtime_add(w->id, REQTIME_WAIT, t0, t1);
		reqtime_add(w->id, REQTIME_SERVE, t1, t2);
		reqtime_add(w->id, REQTIME_FINISH, t2, reqtime_now());
	}
	FCGX_Free(&rq, 1);
	exec_client_free(w->ec);
	db_free(w->db);
	db_thread_end();
	return NULL;
}

/* ---------------------------------------------------------- start-up */

static int make_dirs(const struct config *c, struct err **e)
{
	_cleanup_free_ char *run = xasprintf("%s/run", c->var_dir);
	const char *dirs[] = {c->code_dir, c->journal_dir, run};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST)
			return err_setsys(e, ERR_IO, "mkdir %s", dirs[i]);
	return 0;
}

static void replay_at_start(void)
{
	struct db *db = db_new(&app->cfg);
	struct err *e = NULL;

	if (journal_replay_orphans(app->cfg.journal_dir, app->journal, db, &e) < 0) {
		log_warnx("journals of gone workers wait for the database: %s", err_msg(e));
		err_free(&e);
	}
	db_free(db);
}

/* How often the heap's free pages go back to the kernel (xalloc_trim). */
#define TRIM_INTERVAL_S 10

/* Main's loop: waits for TERM or INT (set, blocked in every thread) with a
 * 1 s tick for housekeeping; SIGHUP is ignored, SIGUSR2 appends the request
 * timing histograms (reqtime.h, when LAMBDA_API_HIST is set) and zeroes
 * them.  Returns the signal. */
static int wait_for_term(const sigset_t *set)
{
	const struct timespec tick = {1, 0};
	long ticks = 0;

	for (;;) {
		int sig = sigtimedwait(set, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			return sig;
		if (sig == SIGUSR2)
			reqtime_dump(); /* and zero: the bench reads a measured interval */
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return SIGTERM; /* cannot happen with a valid set: stop cleanly */
		if (sig < 0 && errno == EAGAIN && ++ticks % TRIM_INTERVAL_S == 0)
			xalloc_trim();
	}
}

static int serve_forever(void)
{
	struct worker *workers;
	pthread_t *tids;
	sigset_t set;
	const char *linger;
	struct err *e = NULL;
	int sig = 0, n = app->cfg.threads;

	if (FCGX_IsCGI())
		fatalx("fd 0 is not a FastCGI listen socket: lambda-api is spawned by lighttpd "
		       "(fastcgi.server bin-path); see --help");
	if (make_dirs(&app->cfg, &e) < 0 ||
	    auth_master_load(app->cfg.master_key, 1, app->master_key, &e) < 0)
		fatalx("%s", err_msg(e));
	app->journal = journal_open(app->cfg.journal_dir, &e);
	if (app->journal == NULL)
		fatalx("%s", err_msg(e));
	app->keys = keycache_open(app->cfg.key_cache_file, app->cfg.key_cache_ms, &e);
	if (app->keys == NULL)
		fatalx("%s", err_msg(e));
	app->fns = fncache_open(app->cfg.fn_cache_file, app->cfg.fn_cache_ms, &e);
	if (app->fns == NULL)
		fatalx("%s", err_msg(e));
	replay_at_start();
	if (FCGX_Init() != 0)
		fatalx("FCGX_Init failed");
	/* Threads inherit this mask: only main receives TERM/INT, by sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (journal_start_writer(app->journal, &app->cfg, &e) < 0)
		fatalx("%s", err_msg(e));
	/* Event invocations queued in MariaDB run from here (event_queue.h). */
	if (event_queue_start(&e) < 0)
		fatalx("%s", err_msg(e));
	reqtime_init(n);
	linger = getenv("LAMBDA_API_LINGER");
	linger_always = linger != NULL && strcmp(linger, "1") == 0;
	workers = xcalloc((size_t)n, sizeof(*workers));
	tids = xcalloc((size_t)n, sizeof(*tids));
	for (int i = 0; i < n; i++) {
		workers[i].id = i;
		if (pthread_create(&tids[i], NULL, worker_main, &workers[i]) != 0)
			fatal("pthread_create");
	}
	log_info("serving with %d threads", n);
	sig = wait_for_term(&set);
	log_info("signal %d: finishing requests in flight", sig);
	FCGX_ShutdownPending();
	shutdown(0, SHUT_RDWR);
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	reqtime_dump();
	event_queue_stop();
	journal_close(app->journal, SHUTDOWN_FLUSH_MS);
	app->journal = NULL;
	keycache_free(app->keys);
	app->keys = NULL;
	fncache_free(app->fns);
	app->fns = NULL;
	free(workers);
	free(tids);
	log_info("stopped");
	return 0;
}

/* ---------------------------------------------------------- CLI modes */

static int create_key(const char *name)
{
	char akid[AUTH_AKID_LEN + 1], key[AUTH_KEY_LEN + 1], hash[65];
	struct err *e = NULL;
	struct db *db;
	long long id = 0;

	if (!auth_name_valid(name)) {
		fprintf(stderr, "lambda-api: key name must be 1-64 printable ASCII characters\n");
		return 1;
	}
	db_thread_init();
	db = db_new(&app->cfg);
	if (auth_master_load(app->cfg.master_key, 1, app->master_key, &e) < 0 ||
	    auth_key_new(app->master_key, akid, key, hash, &e) < 0 ||
	    db_key_insert(db, name, akid, hash, &id, &e) < 0) {
		fprintf(stderr, "lambda-api: %s\n", err_msg(e));
		err_free(&e);
		db_free(db);
		return 1;
	}
	db_free(db);
	printf("%s\n", key);
	return 0;
}

/* --prune-records: what the record writer does every
 * api.records_prune_interval_s, to the end and once (a cron job, a first
 * cleanup of a big table, the tests). */
static int prune_records(const char *days_arg)
{
	struct err *e = NULL;
	struct db *db;
	long long n = 0;
	long days = app->cfg.records_retention_days;
	char *end = NULL;
	int rc;

	if (days_arg != NULL) {
		errno = 0;
		days = strtol(days_arg, &end, 10);
		if (errno != 0 || end == days_arg || *end != '\0' || days < 1 || days > 36500) {
			fprintf(stderr,
			        "lambda-api: --prune-records: DAYS must be 1-36500, got '%s'\n",
			        days_arg);
			return 2;
		}
	} else if (days == 0) {
		fprintf(stderr, "lambda-api: api.records_retention_days is 0 (records are kept "
		                "forever): give --prune-records=DAYS\n");
		return 2;
	}
	db_thread_init();
	db = db_new(&app->cfg);
	rc = db_inv_prune(db, (int)days, 24L * 3600 * 1000, &n, &e);
	db_free(db);
	db_thread_end();
	if (rc < 0) {
		fprintf(stderr, "lambda-api: %s\n", err_msg(e));
		err_free(&e);
		return 1;
	}
	if (rc == 1) {
		fprintf(stderr, "lambda-api: another process is removing old records now\n");
		return 1;
	}
	printf("removed %lld invocation records older than %ld days\n", n, days);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: lambda-api [-c CONF] [-t | --create-key NAME | --prune-records[=DAYS]]\n"
	           "  -c, --config CONF     configuration file (default: $LAMBDA_CONF)\n"
	           "  -t, --check           validate the configuration and exit\n"
	           "      --create-key NAME print a new API key (keep it: it is shown once)\n"
	           "      --prune-records[=DAYS]\n"
	           "                        remove the invocation records (and their logs) older\n"
	           "                        than DAYS (default: api.records_retention_days)\n"
	           "  -h, --help            this text\n"
	           "Without an action it serves FastCGI on fd 0 (spawned by lighttpd).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 't'},
	    {"create-key", required_argument, NULL, 'k'},
	    {"prune-records", optional_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf = NULL, *key_name = NULL, *prune_days = NULL;
	struct err *e = NULL;
	int check = 0, prune = 0, c, rc, arenas;

	/* first: it may execute the program again (docs/design.md, "Heap
	 * trim"): 16 threads' malloc caches, and as many arenas, made a
	 * worker's RSS swing and creep through the soak */
	xalloc_tcache_off(argv);
	arenas = xalloc_arenas(2);
	if (arenas < 0)
		fprintf(stderr, "lambda-api: cannot cap malloc arenas; glibc's default stays\n");
	while ((c = getopt_long(argc, argv, "c:th", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'k':
			key_name = optarg;
			break;
		case 'p':
			prune = 1;
			prune_days = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	app = &the_app;
	code_zip_unpack = zip_unpack_dir;
	if (config_load(&app->cfg, conf, &e) < 0) {
		fprintf(stderr, "lambda-api: %s\n", err_msg(e));
		err_free(&e);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		config_free(&app->cfg);
		return 0;
	}
	log_init("lambda-api", app->cfg.log_level);
	if (arenas == 1)
		log_debug("malloc arenas not capped: a sanitizer's allocator replaces glibc's");
	db_library_init();
	rc = key_name != NULL ? create_key(key_name)
	     : prune          ? prune_records(prune_days)
	                      : serve_forever();
	config_free(&app->cfg);
	return rc;
}

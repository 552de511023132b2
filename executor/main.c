/* lambda-executor: runs user functions in runc / runsc containers.
 * See docs/design.md ("Executor protocol", "Container protocol"). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "docker.h"
#include "err.h"
#include "log.h"
#include "pool.h"
#include "proto_server.h"
#include "seccomp.h"
#include "xalloc.h"

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: lambda-executor [-t] [-c lambda.conf]\n"
	        "  -c FILE  configuration (default: $LAMBDA_CONF)\n"
	        "  -t       check the configuration, print \"configuration OK\" and exit\n");
	exit(2);
}

static void write_pid(const struct xconfig *cfg)
{
	char *path = xasprintf("%s/run/executor.pid", cfg->var_dir);
	FILE *f = fopen(path, "we");

	if (f != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	} else {
		log_warn("%s", path);
	}
	free(path);
}

static void load_config(struct xconfig *cfg, const char *path)
{
	struct err *e = NULL;

	xconfig_defaults(cfg);
	if (path == NULL) {
		fprintf(stderr, "lambda-executor: no configuration (-c FILE or LAMBDA_CONF)\n");
		exit(1);
	}
	if (xconfig_load(cfg, path, &e) < 0 || xconfig_finish(cfg, &e) < 0) {
		fprintf(stderr, "lambda-executor: %s\n", err_msg(e));
		err_free(&e);
		exit(1);
	}
	/* Read here, once: -t checks it too, and every container gets the same
	 * profile without a file read per create. */
	if (seccomp_profile_load(cfg->seccomp_profile, &cfg->seccomp_json, &e) < 0) {
		fprintf(stderr, "lambda-executor: executor.seccomp_profile: %s\n", err_msg(e));
		err_free(&e);
		exit(1);
	}
}

/* Orphans of an earlier run of this instance (SIGKILL, crash): removed
 * before anything else, retried each tick while docker is down. */
static int cleanup_orphans(void)
{
	struct err *e = NULL;
	int n = pool_remove_orphans(&e);

	if (n < 0) {
		log_warnx("orphan cleanup postponed: %s", err_msg(e));
		err_free(&e);
		return -1;
	}
	if (n > 0)
		log_info("removed %d orphaned containers", n);
	return 0;
}

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* How often the heap's free pages go back to the kernel (xalloc_trim). */
#define TRIM_INTERVAL_S 10

/* The main loop: a 1 s tick for housekeeping; signals only set flags. */
static void run_loop(const struct xconfig *cfg, int orphans_done)
{
	struct err *e = NULL;
	long ticks = 0;

	while (!got_term) {
		struct timespec ts = {1, 0};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !got_term)
			;
		if (got_term)
			break;
		ticks++;
		if (!orphans_done)
			orphans_done = cleanup_orphans() == 0;
		pool_tick();
		if (ticks % TRIM_INTERVAL_S == 0)
			xalloc_trim();
		if (ticks % cfg->sweep_interval_s == 0 && orphans_done &&
		    pool_sweep_strays(&e) < 0) {
			log_debug("sweep: %s", err_msg(e));
			err_free(&e);
		}
	}
}

int main(int argc, char **argv)
{
	struct xconfig cfg;
	struct err *e = NULL;
	const char *conf = getenv("LAMBDA_CONF");
	int check = 0, opt, orphans_done, arenas;

	/* first: it may execute the program again.  With a thread per API
	 * connection, the per-thread caches held 2.3 of the 2.6 MB in use and
	 * grew through the soak (docs/design.md, "Heap trim") */
	xalloc_tcache_off(argv);

	while ((opt = getopt(argc, argv, "tc:h")) != -1) {
		switch (opt) {
		case 't':
			check = 1;
			break;
		case 'c':
			conf = optarg;
			break;
		default:
			usage();
		}
	}
	load_config(&cfg, conf);
	if (check) {
		printf("configuration OK\n");
		xconfig_free(&cfg);
		return 0;
	}
	log_init("lambda-executor", log_level_parse(cfg.log_level));
	/* glibc gives threads that contend for malloc their own arena, up to 8
	 * per core; with a thread per API connection the executor reached 15
	 * arenas, each keeping its freed memory, and its RSS crept up through
	 * the 10-minute soak with the pools flat (issue 6).  Two arenas: the
	 * executor's allocations are small and short (frames, JSON), and its
	 * threads mostly wait on sockets, so the lock is rarely contended. */
	arenas = xalloc_arenas(2);
	if (arenas < 0)
		log_warnx("cannot cap malloc arenas; they stay at the C library's default");
	else if (arenas == 1)
		log_debug("malloc arenas not capped: a sanitizer's allocator replaces glibc's");

	setup_signals();

	docker_global_init(cfg.docker_socket);
	if (pool_init(&cfg, &e) < 0)
		fatalx("%s", err_msg(e));
	orphans_done = cleanup_orphans() == 0;
	if (proto_server_start(&cfg, &e) < 0)
		fatalx("%s", err_msg(e));
	write_pid(&cfg);
	log_info("listening on %s (instance %s, docker %s)", cfg.executor_socket, cfg.instance,
	         cfg.docker_socket);

	run_loop(&cfg, orphans_done);
	log_info("shutting down");
	proto_server_stop();
	pool_shutdown(cfg.shutdown_grace_ms);
	{
		char *pid = xasprintf("%s/run/executor.pid", cfg.var_dir);
		unlink(pid);
		free(pid);
	}
	log_info("stopped");
	docker_global_cleanup();
	xconfig_free(&cfg);
	return 0;
}

/* executor/taskdir.c and executor/oomwatch.c without docker: copying a
 * function's code into a pre-warm directory (modes, subdirectories, links,
 * the entry limit as a pair), removal that never follows links, the sweep;
 * and the OOM verdict from a fake cgroup directory and its eventfds. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "oomwatch.h"
#include "taskdir.h"
#include "xalloc.h"

static char root[64];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_taskdir.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(taskdir_remove(root, NULL), 0);
	return 0;
}

static void put(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", root, rel);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static char *slurp(const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	char *buf = xcalloc(1, 256);
	FILE *f = fopen(p, "r");

	assert_non_null(f);
	assert_true(fread(buf, 1, 255, f) > 0);
	fclose(f);
	free(p);
	return buf;
}

static mode_t mode_of(const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	free(p);
	return st.st_mode;
}

static int is_missing(const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	int missing = access(p, F_OK) != 0;

	free(p);
	return missing;
}

static void mkdir_in(const char *rel, mode_t mode)
{
	char *p = xasprintf("%s/%s", root, rel);

	assert_int_equal(mkdir(p, mode), 0);
	free(p);
}

static void test_copy_tree(void **state)
{
	char *src = xasprintf("%s/src", root), *dst = xasprintf("%s/dst", root);
	char *fifo = xasprintf("%s/src/fifo", root), *lnk = xasprintf("%s/src/lib/link", root);
	char *text;
	struct err *e = NULL;

	(void)state;
	mkdir_in("src", 0700);
	mkdir_in("src/lib", 0700);
	mkdir_in("dst", 0755);
	put("src/main.py", "print(1)\n");
	put("src/lib/helper.py", "VALUE = 2\n");
	chmod(src, 0700);
	assert_int_equal(symlink("../main.py", lnk), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(taskdir_copy(src, dst, &e), 0);
	text = slurp("dst/lib/helper.py");
	assert_string_equal(text, "VALUE = 2\n");
	free(text);
	assert_int_equal(mode_of("dst/main.py") & 07777, 0644);
	assert_int_equal(mode_of("dst/lib") & 07777, 0755);
	assert_true(S_ISLNK(mode_of("dst/lib/link")));
	text = slurp("dst/lib/link");
	assert_string_equal(text, "print(1)\n");
	free(text);
	assert_int_equal(access(fifo, F_OK), 0);
	free(fifo);
	fifo = xasprintf("%s/dst/fifo", root);
	assert_int_not_equal(access(fifo, F_OK), 0); /* neither file, link nor directory */
	free(fifo);
	free(lnk);
	free(src);
	free(dst);
}

/* TASKDIR_MAX_ENTRIES entries copy; one more fails with a fixed message. */
static void test_copy_limit_pair(void **state)
{
	char *src = xasprintf("%s/src", root);
	struct err *e = NULL;

	(void)state;
	mkdir_in("src", 0755);
	mkdir_in("ok", 0755);
	mkdir_in("over", 0755);
	mkdir_in("src/d", 0755); /* a directory counts as an entry too */
	for (int i = 1; i < TASKDIR_MAX_ENTRIES; i++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "src/d/%d", i);
		put(rel, "x");
	}
	{
		char *dst = xasprintf("%s/ok", root);
		assert_int_equal(taskdir_copy(src, dst, &e), 0);
		free(dst);
	}
	put("src/one-more", "x");
	{
		char *dst = xasprintf("%s/over", root);
		assert_int_equal(taskdir_copy(src, dst, &e), -1);
		assert_int_equal(e->code, ERR_TOO_LARGE);
		/* the message names the directory where the count went over */
		assert_non_null(strstr(e->msg, "more than 1000 entries"));
		err_free(&e);
		free(dst);
	}
	free(src);
}

static void test_remove_and_sweep(void **state)
{
	char *var = xasprintf("%s/var", root), *victim = xasprintf("%s/outside", root);
	char *lnk = xasprintf("%s/var/prewarm/3/link", root), *p;
	struct err *e = NULL;

	(void)state;
	mkdir_in("var", 0755);
	assert_int_equal(taskdir_sweep(var, &e), 0); /* creates var/prewarm */
	p = taskdir_create(var, 3, &e);
	assert_non_null(p);
	assert_int_equal(mode_of("var/prewarm/3") & 07777, 0755);
	assert_null(taskdir_create(var, 3, &e)); /* exists: an error, never shared */
	assert_int_equal(e->code, ERR_IO);
	err_free(&e);
	put("outside", "keep me\n");
	mkdir_in("var/prewarm/3/sub", 0500); /* even read-only directories go */
	assert_int_equal(symlink(victim, lnk), 0);
	put("var/prewarm/4", "a stray file");
	assert_int_equal(taskdir_remove(p, &e), 0);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_equal(access(victim, F_OK), 0);  /* the link's target is kept */
	assert_int_equal(taskdir_remove(p, &e), 0); /* gone already: not an error */
	assert_int_equal(taskdir_sweep(var, &e), 0);
	free(p);
	p = xasprintf("%s/var/prewarm/4", root);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_equal(mode_of("var/prewarm") & 07777, 0755);
	free(p);
	free(lnk);
	free(victim);
	free(var);
}

/* ------------------------------------------------------------------ */
/* oomwatch on a fake cgroup: the files are plain files here            */
/* ------------------------------------------------------------------ */

static void signal_efd(int efd, uint64_t n)
{
	assert_int_equal(write(efd, &n, sizeof(n)), (ssize_t)sizeof(n));
}

static void fake_cgroup(int kills)
{
	char text[96];

	snprintf(text, sizeof(text), "oom_kill_disable 0\nunder_oom 0\noom_kill %d\n", kills);
	put("memory/docker/abc/memory.oom_control", text);
}

static void arm_fake(struct oomwatch *w)
{
	struct err *e = NULL;

	if (is_missing("memory/docker/abc")) {
		mkdir_in("memory", 0755);
		mkdir_in("memory/docker", 0755);
		mkdir_in("memory/docker/abc", 0755);
	}
	fake_cgroup(2);
	put("memory/docker/abc/memory.usage_in_bytes", "0\n");
	put("memory/docker/abc/cgroup.event_control", "");
	oomwatch_init(w);
	assert_int_equal(oomwatch_arm(w, root, "abc", &e), 0);
}

static void test_oom_unarmed(void **state)
{
	struct oomwatch w;
	struct err *e = NULL;

	(void)state;
	oomwatch_init(&w);
	assert_int_equal(oomwatch_arm(&w, root, "nosuch", &e), -1); /* no cgroup v1 */
	assert_int_equal(e->code, ERR_NOT_FOUND);
	err_free(&e);
	assert_int_equal(oomwatch_verdict(&w, 10), -1);
	oomwatch_mark(&w);
	oomwatch_close(&w);
}

static void test_oom_counter(void **state)
{
	struct oomwatch w;

	(void)state;
	arm_fake(&w);
	assert_int_equal(oomwatch_verdict(&w, 10), 0); /* 2 kills before the arming */
	fake_cgroup(3);
	assert_int_equal(oomwatch_verdict(&w, 10), 1);
	oomwatch_mark(&w); /* an earlier call's kill (a child) does not count */
	assert_int_equal(oomwatch_verdict(&w, 10), 0);
	oomwatch_close(&w);
}

static void remove_cgroup_files(void)
{
	char *p = xasprintf("%s/memory/docker/abc/memory.oom_control", root);

	assert_int_equal(unlink(p), 0);
	free(p);
}

/* The cgroup is gone: the eventfds decide. */
static void test_oom_eventfds(void **state)
{
	struct oomwatch w;

	(void)state;
	arm_fake(&w);
	remove_cgroup_files();
	/* removed, no OOM: the removal's own signal on both */
	signal_efd(w.oom_efd, 1);
	signal_efd(w.gone_efd, 1);
	assert_int_equal(oomwatch_verdict(&w, 10), 0);
	oomwatch_close(&w);

	arm_fake(&w);
	remove_cgroup_files();
	/* an OOM, then the removal */
	signal_efd(w.oom_efd, 1);
	signal_efd(w.gone_efd, 1);
	signal_efd(w.oom_efd, 1);
	assert_int_equal(oomwatch_verdict(&w, 10), 1);
	oomwatch_close(&w);

	arm_fake(&w);
	remove_cgroup_files();
	/* an OOM, the removal not signalled yet */
	signal_efd(w.oom_efd, 1);
	assert_int_equal(oomwatch_verdict(&w, 10), 1);
	oomwatch_close(&w);

	arm_fake(&w);
	/* an OOM before the mark (a child in an earlier call), then a removal */
	signal_efd(w.oom_efd, 1);
	oomwatch_mark(&w);
	remove_cgroup_files();
	signal_efd(w.oom_efd, 1);
	signal_efd(w.gone_efd, 1);
	assert_int_equal(oomwatch_verdict(&w, 10), 0);
	oomwatch_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_copy_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_limit_pair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_and_sweep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oom_unarmed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oom_counter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oom_eventfds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

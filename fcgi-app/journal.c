#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "clock.h"
#include "conf.h"
#include "db.h"
#include "db_core.h"
#include "journal.h"
#include "log.h"
#include "xalloc.h"

#define JOURNAL_MAX_FILE   ((size_t)1 << 30) /* a journal we read back at most */
#define JOURNAL_BATCH      1000              /* records per db_inv_insert call */
#define REPLAY_INTERVAL_MS 2000
#define JOURNAL_MEM_MAX    100000 /* records a file's copy in memory holds at most */

/* What a file holds, as the records themselves: the writer inserts these
 * instead of reading the file back and parsing every line again (that
 * parse was ~5% of lambda-api's CPU at 128 clients).  The file stays what
 * survives a crash; the copy only serves this process's own writer, and
 * only while it is known to match the file line for line: from empty, with
 * every append written whole.  Anything else (a failed or torn write, a
 * file found non-empty at start, more than JOURNAL_MEM_MAX records while
 * the database is away) drops the copy, and that file is read back as
 * before until it is next emptied. */
struct memrecs {
	cJSON **v;
	int n, cap;
	int valid;
};

struct journal {
	char *dir;
	char *path[2];
	int fd[2];
	int cur;               /* index of the file appended to */
	struct memrecs mem[2]; /* mem[i]: file i's records, when valid */
	pthread_mutex_t lock;  /* serialises appends against the swap */
	pthread_t writer;
	int writer_running;
	volatile int stop;
	const struct config *cfg;
};

/* Opens and locks path; retries when a replayer removed the file between
 * our open and our lock (it was a dead process's with our pid). */
static int open_locked(const char *path, struct err **e)
{
	for (int tries = 0; tries < 10; tries++) {
		struct stat st;
		int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (fd < 0)
			return err_setsys(e, ERR_IO, "%s", path);
		if (flock(fd, LOCK_EX) < 0) {
			close(fd);
			return err_setsys(e, ERR_IO, "flock %s", path);
		}
		if (fstat(fd, &st) == 0 && st.st_nlink > 0)
			return fd;
		close(fd);
	}
	return err_set(e, ERR_IO, "%s: could not lock", path);
}

static void mem_reset(struct memrecs *m, int valid)
{
	for (int i = 0; i < m->n; i++)
		cJSON_Delete(m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
	m->valid = valid;
}

/* Keeps rec (taking it) when m is valid; returns whether it did. */
static int mem_push(struct memrecs *m, cJSON *rec)
{
	if (!m->valid)
		return 0;
	if (m->n == JOURNAL_MEM_MAX) {
		mem_reset(m, 0);
		return 0;
	}
	if (m->n == m->cap) {
		m->cap = m->cap == 0 ? 256 : 2 * m->cap;
		m->v = xrealloc(m->v, (size_t)m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = rec;
	return 1;
}

static off_t fd_size(int fd);

struct journal *journal_open(const char *dir, struct err **e)
{
	struct journal *j;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err_setsys(e, ERR_IO, "mkdir %s", dir);
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	j->dir = xstrdup(dir);
	j->fd[0] = j->fd[1] = -1;
	pthread_mutex_init(&j->lock, NULL);
	for (int i = 0; i < 2; i++) {
		j->path[i] = xasprintf("%s/api-%d-%c.jnl", dir, (int)getpid(), 'a' + i);
		j->fd[i] = open_locked(j->path[i], e);
		if (j->fd[i] < 0) {
			journal_close(j, 0);
			return NULL;
		}
		j->mem[i].valid = fd_size(j->fd[i]) == 0;
	}
	return j;
}

int journal_append(struct journal *j, cJSON *rec, struct err **e)
{
	_cleanup_cjson_str_ char *txt = cJSON_PrintUnformatted(rec);
	size_t n;
	ssize_t w;
	off_t end;

	if (txt == NULL) {
		cJSON_Delete(rec);
		return err_set(e, ERR_INTERNAL, "could not serialise a record");
	}
	n = strlen(txt);
	txt[n] = '\n'; /* cJSON allocated n + 1 bytes: the NUL becomes the newline */
	pthread_mutex_lock(&j->lock);
	end = lseek(j->fd[j->cur], 0, SEEK_END);
	w = write(j->fd[j->cur], txt, n + 1);
	/* A torn line (disk full) would swallow the next record appended after
	 * it: cut it off again. */
	if (w >= 0 && (size_t)w != n + 1 && end >= 0 && ftruncate(j->fd[j->cur], end) < 0)
		log_warn("journal: cannot cut a torn record off %s", j->path[j->cur]);
	if (w >= 0 && (size_t)w == n + 1) {
		if (mem_push(&j->mem[j->cur], rec))
			rec = NULL;
	} else {
		mem_reset(&j->mem[j->cur], 0);
	}
	pthread_mutex_unlock(&j->lock);
	cJSON_Delete(rec);
	txt[n] = '\0';
	if (w < 0)
		return err_setsys(e, ERR_IO, "journal write");
	if ((size_t)w != n + 1)
		return err_set(e, ERR_IO, "journal write: short write (disk full?)");
	return 0;
}

/* ------------------------------------------------------------ reading */

void journal_parse(const char *data, size_t len, cJSON ***recs, int *n, int *bad)
{
	size_t cap = 16, off = 0;
	cJSON **out = xmalloc(cap * sizeof(*out));
	int cnt = 0, b = 0;

	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t ll;
		cJSON *o;

		if (nl == NULL) {
			b++; /* a torn last line */
			break;
		}
		ll = (size_t)(nl - (data + off));
		o = ll > 0 ? cJSON_ParseWithLength(data + off, ll) : NULL;
		if (o != NULL && cJSON_IsObject(o) &&
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "request_id"))) {
			if ((size_t)cnt == cap) {
				cap *= 2;
				out = xrealloc(out, cap * sizeof(*out));
			}
			out[cnt++] = o;
		} else {
			cJSON_Delete(o);
			if (ll > 0)
				b++;
		}
		off += ll + 1;
	}
	*recs = out;
	*n = cnt;
	*bad = b;
}

void journal_recs_free(cJSON **recs, int n)
{
	for (int i = 0; i < n; i++)
		cJSON_Delete(recs[i]);
	free(recs);
}

static int read_file(int fd, struct buf *b, struct err **e)
{
	char chunk[65536];
	off_t off = 0;

	buf_init(b, JOURNAL_MAX_FILE);
	for (;;) {
		ssize_t r = pread(fd, chunk, sizeof(chunk), off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			buf_free(b);
			return err_setsys(e, ERR_IO, "journal read");
		}
		if (r == 0)
			return 0;
		if (buf_append(b, chunk, (size_t)r, e) < 0) {
			buf_free(b);
			return -1;
		}
		off += r;
	}
}

/* Inserts records.  A batch whose values the database refuses (ERR_INVALID)
 * is retried row by row and the rows it still refuses are logged and
 * dropped: one bad record must not block all later ones.  Any other failure
 * keeps everything in the journal for the next round. */
static int insert_records(struct db *db, cJSON **recs, int n, struct err **e)
{
	for (int i = 0; i < n; i += JOURNAL_BATCH) {
		int k = n - i < JOURNAL_BATCH ? n - i : JOURNAL_BATCH;
		struct err *e1 = NULL;

		if (db_inv_insert(db, recs + i, k, &e1) == 0)
			continue;
		if (e1->code != ERR_INVALID) {
			*e = e1;
			return -1;
		}
		log_warnx("batch of %d records refused (%s); inserting one by one", k, err_msg(e1));
		err_free(&e1);
		for (int r = i; r < i + k; r++) {
			if (db_inv_insert(db, recs + r, 1, &e1) == 0)
				continue;
			if (e1->code != ERR_INVALID) {
				*e = e1;
				return -1;
			}
			log_errx(
			    "dropping invocation record %s: %s",
			    cJSON_GetObjectItemCaseSensitive(recs[r], "request_id")->valuestring,
			    err_msg(e1));
			err_free(&e1);
		}
	}
	return 0;
}

/* Inserts what fd holds; on success the file is truncated to 0. */
static int drain_fd(int fd, struct db *db, int *count, struct err **e)
{
	struct buf b;
	cJSON **recs = NULL;
	int n = 0, bad = 0, rc;

	if (read_file(fd, &b, e) < 0)
		return -1;
	if (b.len == 0) {
		buf_free(&b);
		*count = 0;
		return 0;
	}
	journal_parse(b.data, b.len, &recs, &n, &bad);
	buf_free(&b);
	if (bad > 0)
		log_warnx("skipped %d torn journal line(s)", bad);
	rc = insert_records(db, recs, n, e);
	journal_recs_free(recs, n);
	if (rc < 0)
		return -1;
	if (ftruncate(fd, 0) < 0)
		return err_setsys(e, ERR_IO, "journal truncate");
	*count = n;
	return 0;
}

static off_t fd_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : 0;
}

/* Drains file i of j: from its copy in memory when there is one, else
 * from the file.  Only the writer calls this, for the file appends do not
 * go to (or at shutdown, with no appender left), so mem[i] is its alone. */
static int drain_own(struct journal *j, int i, struct db *db, int *count, struct err **e)
{
	struct memrecs *m = &j->mem[i];

	if (!m->valid || m->n == 0) {
		if (drain_fd(j->fd[i], db, count, e) < 0)
			return -1;
	} else {
		if (insert_records(db, m->v, m->n, e) < 0)
			return -1;
		if (ftruncate(j->fd[i], 0) < 0)
			return err_setsys(e, ERR_IO, "journal truncate");
		*count = m->n;
	}
	mem_reset(m, 1); /* the file is empty: the copy matches it again */
	return 0;
}

int journal_flush(struct journal *j, struct db *db, struct err **e)
{
	int other, count = 0;

	pthread_mutex_lock(&j->lock);
	other = 1 - j->cur;
	if (fd_size(j->fd[other]) == 0 && fd_size(j->fd[j->cur]) > 0) {
		/* new appends go to the empty file; drain the full one */
		j->cur = other;
		other = 1 - j->cur;
	}
	pthread_mutex_unlock(&j->lock);
	if (fd_size(j->fd[other]) == 0)
		return 0;
	if (drain_own(j, other, db, &count, e) < 0)
		return -1;
	log_debug("moved %d record(s) into the database", count);
	return 0;
}

/* ------------------------------------------------------------ orphans */

static int is_journal_name(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, "api-", 4) == 0 && n > 8 && strcmp(name + n - 4, ".jnl") == 0;
}

static int is_own(const struct journal *self, const char *path)
{
	return self != NULL &&
	       (strcmp(self->path[0], path) == 0 || strcmp(self->path[1], path) == 0);
}

static int replay_one(const char *path, struct db *db, struct err **e)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat a, b;
	int count = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : err_setsys(e, ERR_IO, "%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return 0; /* its owner is alive */
	/* the path must still name what we locked (not a file re-created by a
	 * new process with the same pid) */
	if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_nlink == 0)
		return 0;
	if (drain_fd(fd, db, &count, e) < 0)
		return err_wrap(e, "replaying %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_setsys(e, ERR_IO, "unlink %s", path);
	if (count > 0)
		log_info("replayed %d record(s) from %s", count, path);
	return 0;
}

int journal_replay_orphans(const char *dir, const struct journal *self, struct db *db,
                           struct err **e)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : err_setsys(e, ERR_IO, "opendir %s", dir);
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *path = NULL;

		if (!is_journal_name(de->d_name))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (is_own(self, path))
			continue;
		if (replay_one(path, db, e) < 0) {
			rc = -1;
			break;
		}
	}
	return rc;
}

/* ------------------------------------------------------------- writer */

/* Retention (api.records_retention_days): a pass every
 * api.records_prune_interval_s deletes for at most PRUNE_BUDGET_MS, so that
 * the records waiting in the journal do not wait long behind it; a backlog
 * goes over several passes. */
#define PRUNE_BUDGET_MS 2000

static void prune_pass(const struct journal *j, struct db *db)
{
	struct err *e = NULL;
	long long n = 0;

	if (db_inv_prune(db, j->cfg->records_retention_days, PRUNE_BUDGET_MS, &n, &e) < 0) {
		log_warnx("removing invocation records older than %d days: %s",
		          j->cfg->records_retention_days, err_msg(e));
		err_free(&e);
	} else if (n > 0) {
		log_info("removed %lld invocation records older than %d days", n,
		         j->cfg->records_retention_days);
	}
}

static void *writer_main(void *arg)
{
	struct journal *j = arg;
	struct db *db;
	long long next_replay = 0, last_warn = 0, next_prune = 0;
	struct timespec tick = {0, (long)j->cfg->journal_flush_ms * 1000000L};

	db_thread_init();
	db = db_new(j->cfg);
	while (!j->stop) {
		struct err *e = NULL;
		long long now = mono_ms();

		if (journal_flush(j, db, &e) == 0 && now >= next_replay) {
			if (journal_replay_orphans(j->dir, j, db, &e) == 0)
				next_replay = now + REPLAY_INTERVAL_MS;
		}
		if (e == NULL && j->cfg->records_retention_days > 0 && now >= next_prune) {
			prune_pass(j, db);
			next_prune = now + 1000LL * j->cfg->records_prune_interval_s;
		}
		if (e != NULL) {
			if (now - last_warn > 5000) {
				log_warnx("invocation records wait in the journal: %s", err_msg(e));
				last_warn = now;
			}
			err_free(&e);
		}
		nanosleep(&tick, NULL);
	}
	db_free(db);
	db_thread_end();
	return NULL;
}

int journal_start_writer(struct journal *j, const struct config *cfg, struct err **e)
{
	int r;

	j->cfg = cfg;
	r = pthread_create(&j->writer, NULL, writer_main, j);
	if (r != 0) {
		errno = r;
		return err_setsys(e, ERR_INTERNAL, "pthread_create");
	}
	j->writer_running = 1;
	return 0;
}

/* Final flush at shutdown: both files, retrying while the database is away. */
static int final_flush(struct journal *j, int wait_ms)
{
	struct db *db;
	long long deadline = mono_ms() + wait_ms;
	int ok = 0;

	if (j->cfg == NULL)
		return fd_size(j->fd[0]) == 0 && fd_size(j->fd[1]) == 0;
	db_thread_init();
	db = db_new(j->cfg);
	for (;;) {
		struct err *e = NULL;
		int count = 0;

		if (drain_own(j, 1 - j->cur, db, &count, &e) == 0 &&
		    drain_own(j, j->cur, db, &count, &e) == 0) {
			ok = 1;
			break;
		}
		if (mono_ms() >= deadline) {
			log_warnx("records stay in the journal for the next worker: %s",
			          err_msg(e));
			err_free(&e);
			break;
		}
		err_free(&e);
		usleep(100000);
	}
	db_free(db);
	db_thread_end();
	return ok;
}

void journal_close(struct journal *j, int wait_ms)
{
	int empty;

	if (j == NULL)
		return;
	if (j->writer_running) {
		j->stop = 1;
		pthread_join(j->writer, NULL);
		j->writer_running = 0;
	}
	empty = j->fd[0] >= 0 && j->fd[1] >= 0 && final_flush(j, wait_ms);
	for (int i = 0; i < 2; i++) {
		if (j->fd[i] < 0) {
			free(j->path[i]);
			continue;
		}
		/* unlink while still holding the lock, so that no replayer
		 * can take a file that is about to vanish */
		if (empty)
			unlink(j->path[i]);
		close(j->fd[i]);
		free(j->path[i]);
	}
	mem_reset(&j->mem[0], 0);
	mem_reset(&j->mem[1], 0);
	pthread_mutex_destroy(&j->lock);
	free(j->dir);
	free(j);
}

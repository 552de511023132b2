/* Pure computations behind the metrics endpoints: see metrics.h. */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "xalloc.h"

/* ------------------------------------------------------------------ */
/* Histogram                                                            */
/* ------------------------------------------------------------------ */

/* Roughly x1.5 apart, so that an interpolated percentile is within about
 * 20% of the true value; fine at the low end where warm calls live. */
const double metrics_hist_bounds[METRICS_HIST_BUCKETS - 1] = {
    0.25, 0.5,  1,    1.5,  2,     3,     5,     7.5,   10,     15,   20,
    30,   50,   75,   100,  150,   200,   300,   500,   750,    1000, 1500,
    2000, 3000, 5000, 7500, 10000, 15000, 30000, 60000, 300000,
};

int metrics_hist_index(double ms)
{
	int lo = 0, hi = METRICS_HIST_BUCKETS - 1;

	if (!(ms == ms)) /* NaN counts as slowest */
		return METRICS_HIST_BUCKETS - 1;
	/* first bound >= ms; METRICS_HIST_BUCKETS-1 when none */
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (metrics_hist_bounds[mid] >= ms)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

double metrics_hist_quantile(const uint64_t *counts, double q, double min_ms, double max_ms)
{
	uint64_t total = 0, cum = 0;
	double rank;

	for (int i = 0; i < METRICS_HIST_BUCKETS; i++)
		total += counts[i];
	if (total == 0)
		return NAN;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * (double)total;
	for (int i = 0; i < METRICS_HIST_BUCKETS; i++) {
		double lo, hi, v;

		if (counts[i] == 0 || (double)(cum + counts[i]) < rank) {
			cum += counts[i];
			continue;
		}
		lo = i == 0 ? 0 : metrics_hist_bounds[i - 1];
		hi = i == METRICS_HIST_BUCKETS - 1 ? max_ms : metrics_hist_bounds[i];
		/* the observed extremes narrow the bucket */
		if (min_ms > lo && min_ms <= hi)
			lo = min_ms;
		if (max_ms < hi && max_ms >= lo)
			hi = max_ms;
		v = lo + (hi - lo) * ((rank - (double)cum) / (double)counts[i]);
		return v;
	}
	return max_ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double metrics_quantile_sorted(const double *v, size_t n, double q)
{
	double pos, frac;
	size_t i;

	if (n == 0)
		return NAN;
	if (q <= 0)
		return v[0];
	if (q >= 1)
		return v[n - 1];
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	frac = pos - (double)i;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (v[i + 1] - v[i]) * frac;
}

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

const char *const metrics_status_names[MS_N] = {
    "success", "error", "timeout", "oom", "killed", "internal",
};
const char *const metrics_isolation_names[MI_N] = {"docker", "gvisor"};

static int index_of(const char *const *names, int n, const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int metrics_status_index(const char *name)
{
	return index_of(metrics_status_names, MS_N, name);
}

int metrics_isolation_index(const char *name)
{
	return index_of(metrics_isolation_names, MI_N, name);
}

/* ------------------------------------------------------------------ */
/* Windows and steps                                                    */
/* ------------------------------------------------------------------ */

static const struct metrics_window windows[] = {
    {"5m", 300, 10, 1, false},
    {"1h", 3600, 60, 60, true},
    {"24h", 86400, 600, 60, true},
};

int metrics_window_parse(const char *s, struct metrics_window *out, struct err **e)
{
	if (s == NULL || *s == '\0')
		s = "5m";
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		if (strcmp(s, windows[i].name) == 0) {
			*out = windows[i];
			return 0;
		}
	}
	return err_set(e, ERR_INVALID, "window: must be one of 5m, 1h, 24h");
}

int metrics_step_parse(const char *s, const struct metrics_window *w, int *step, struct err **e)
{
	long long v = 0;
	const char *p;
	int mult = 1;

	if (s == NULL || *s == '\0') {
		*step = w->default_step;
		return 0;
	}
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 86400LL * 60)
			return err_set(e, ERR_INVALID, "step: too large (at most the window, %d s)",
			               w->seconds);
	}
	if (p == s)
		return err_set(e, ERR_INVALID,
		               "step: expected a number of seconds such as 10, 30s, 5m or 1h");
	if (strcmp(p, "m") == 0)
		mult = 60;
	else if (strcmp(p, "h") == 0)
		mult = 3600;
	else if (*p != '\0' && strcmp(p, "s") != 0)
		return err_set(e, ERR_INVALID,
		               "step: expected a number of seconds such as 10, 30s, 5m or 1h");
	v *= mult;
	if (v < w->min_step || v < 1)
		return err_set(e, ERR_INVALID, "step: at least %d s for window %s",
		               w->min_step < 1 ? 1 : w->min_step, w->name);
	if (v > w->seconds)
		return err_set(e, ERR_INVALID, "step: at most the window (%d s)", w->seconds);
	if (w->rollup && v % 60 != 0)
		return err_set(e, ERR_INVALID, "step: must be a multiple of 60 s for window %s",
		               w->name);
	if ((w->seconds + v - 1) / v > METRICS_MAX_BUCKETS)
		return err_set(e, ERR_INVALID, "step: window %s would have more than %d buckets",
		               w->name, METRICS_MAX_BUCKETS);
	*step = (int)v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Series                                                               */
/* ------------------------------------------------------------------ */

static void cell_init(struct metrics_cell *c)
{
	memset(c, 0, sizeof(*c));
	c->min_ms = INFINITY;
	c->max_ms = -INFINITY;
}

struct metrics_series *metrics_series_new(int64_t now, int window_s, int step, bool exact)
{
	struct metrics_series *s = xcalloc(1, sizeof(*s));
	int64_t end = (now / step + 1) * step; /* the current bucket is the last one */

	s->step = step;
	s->nbuckets = (size_t)((window_s + step - 1) / step);
	s->from = end - (int64_t)s->nbuckets * step;
	s->exact = exact;
	s->cells = xcalloc(s->nbuckets * MI_N, sizeof(*s->cells));
	for (size_t i = 0; i < s->nbuckets * MI_N; i++)
		cell_init(&s->cells[i]);
	return s;
}

void metrics_series_free(struct metrics_series *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nbuckets * MI_N; i++)
		free(s->cells[i].dur);
	free(s->cells);
	free(s);
}

static struct metrics_cell *cell_at(struct metrics_series *s, int64_t ts, int iso)
{
	int64_t i;

	if (iso < 0 || iso >= MI_N || ts < s->from)
		return NULL;
	i = (ts - s->from) / s->step;
	if (i >= (int64_t)s->nbuckets)
		return NULL;
	return &s->cells[(size_t)i * MI_N + (size_t)iso];
}

static void dur_push(struct metrics_cell *c, double v)
{
	if (c->ndur == c->capdur) {
		c->capdur = c->capdur ? c->capdur * 2 : 16;
		c->dur = xrealloc(c->dur, c->capdur * sizeof(*c->dur));
	}
	c->dur[c->ndur++] = v;
}

void metrics_series_add_raw(struct metrics_series *s, int64_t ts, int iso, int status, bool cold,
                            double duration_ms)
{
	struct metrics_cell *c = cell_at(s, ts, iso);

	if (c == NULL)
		return;
	c->calls++;
	if (cold)
		c->cold++;
	if (status >= 0 && status < MS_N)
		c->by_status[status]++;
	else
		c->by_status[MS_INTERNAL]++;
	c->hist[metrics_hist_index(duration_ms)]++;
	c->sum_ms += duration_ms;
	if (duration_ms < c->min_ms)
		c->min_ms = duration_ms;
	if (duration_ms > c->max_ms)
		c->max_ms = duration_ms;
	if (s->exact)
		dur_push(c, duration_ms);
}

void metrics_series_add_rollup(struct metrics_series *s, int64_t ts, int iso,
                               const struct metrics_rollup *r)
{
	struct metrics_cell *c = cell_at(s, ts, iso);

	if (c == NULL || r->calls == 0)
		return;
	c->calls += r->calls;
	c->cold += r->cold;
	for (int i = 0; i < MS_N; i++)
		c->by_status[i] += r->by_status[i];
	for (int i = 0; i < METRICS_HIST_BUCKETS; i++)
		c->hist[i] += r->hist[i];
	c->sum_ms += r->sum_ms;
	if (r->min_ms < c->min_ms)
		c->min_ms = r->min_ms;
	if (r->max_ms > c->max_ms)
		c->max_ms = r->max_ms;
}

void metrics_cell_merge(struct metrics_cell *dst, const struct metrics_cell *src)
{
	dst->calls += src->calls;
	dst->cold += src->cold;
	for (int i = 0; i < MS_N; i++)
		dst->by_status[i] += src->by_status[i];
	for (int i = 0; i < METRICS_HIST_BUCKETS; i++)
		dst->hist[i] += src->hist[i];
	dst->sum_ms += src->sum_ms;
	if (src->min_ms < dst->min_ms)
		dst->min_ms = src->min_ms;
	if (src->max_ms > dst->max_ms)
		dst->max_ms = src->max_ms;
	for (size_t i = 0; i < src->ndur; i++)
		dur_push(dst, src->dur[i]);
}

/* A number rounded to 3 decimals, or null when it is not finite. */
static void add_ms(cJSON *obj, const char *name, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(obj, name, round(v * 1000.0) / 1000.0);
	else
		cJSON_AddNullToObject(obj, name);
}

void metrics_cell_json_fields(cJSON *obj, struct metrics_cell *c, bool exact)
{
	static const double qs[] = {0.50, 0.95, 0.99};
	static const char *const qn[] = {"p50_ms", "p95_ms", "p99_ms"};
	uint64_t errors = c->calls - c->by_status[MS_SUCCESS];
	cJSON *bs = cJSON_AddObjectToObject(obj, "by_status");

	cJSON_AddNumberToObject(obj, "calls", (double)c->calls);
	cJSON_AddNumberToObject(obj, "errors", (double)errors);
	for (int i = 0; i < MS_N; i++)
		cJSON_AddNumberToObject(bs, metrics_status_names[i], (double)c->by_status[i]);
	cJSON_AddNumberToObject(obj, "cold", (double)c->cold);
	if (exact && c->ndur > 1)
		qsort(c->dur, c->ndur, sizeof(*c->dur), cmp_double);
	for (int i = 0; i < 3; i++) {
		double v = exact ? metrics_quantile_sorted(c->dur, c->ndur, qs[i])
		                 : metrics_hist_quantile(c->hist, qs[i], c->min_ms, c->max_ms);
		add_ms(obj, qn[i], c->calls ? v : NAN);
	}
	add_ms(obj, "avg_ms", c->calls ? c->sum_ms / (double)c->calls : NAN);
	add_ms(obj, "max_ms", c->calls ? c->max_ms : NAN);
	if (c->calls) {
		cJSON_AddNumberToObject(obj, "error_rate", (double)errors / (double)c->calls);
		cJSON_AddNumberToObject(obj, "cold_rate", (double)c->cold / (double)c->calls);
	} else {
		cJSON_AddNullToObject(obj, "error_rate");
		cJSON_AddNullToObject(obj, "cold_rate");
	}
}

/* The cells of one bucket (or of all buckets), merged and broken down by
 * isolation, as one JSON object. */
static cJSON *cells_json(struct metrics_cell *per_iso, bool exact)
{
	cJSON *obj = cJSON_CreateObject(), *bi;
	struct metrics_cell all;

	cell_init(&all);
	for (int i = 0; i < MI_N; i++)
		metrics_cell_merge(&all, &per_iso[i]);
	metrics_cell_json_fields(obj, &all, exact);
	free(all.dur);
	bi = cJSON_AddObjectToObject(obj, "by_isolation");
	for (int i = 0; i < MI_N; i++) {
		cJSON *o = cJSON_AddObjectToObject(bi, metrics_isolation_names[i]);
		metrics_cell_json_fields(o, &per_iso[i], exact);
	}
	return obj;
}

cJSON *metrics_series_json(struct metrics_series *s)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *buckets = cJSON_AddArrayToObject(root, "buckets");
	struct metrics_cell tot[MI_N];

	for (int i = 0; i < MI_N; i++)
		cell_init(&tot[i]);
	for (size_t b = 0; b < s->nbuckets; b++) {
		struct metrics_cell *row = &s->cells[b * MI_N];
		cJSON *o;

		for (int i = 0; i < MI_N; i++)
			metrics_cell_merge(&tot[i], &row[i]);
		o = cells_json(row, s->exact);
		cJSON_AddNumberToObject(o, "ts", (double)(s->from + (int64_t)b * s->step));
		cJSON_AddItemToArray(buckets, o);
	}
	cJSON_AddItemToObject(root, "totals", cells_json(tot, s->exact));
	for (int i = 0; i < MI_N; i++)
		free(tot[i].dur);
	return root;
}

/* ------------------------------------------------------------------ */
/* /proc                                                                */
/* ------------------------------------------------------------------ */

int metrics_parse_proc_stat(const char *text, struct metrics_cpu_sample *out, struct err **e)
{
	unsigned long long v[8] = {0};
	int n;

	if (text == NULL || strncmp(text, "cpu ", 4) != 0)
		return err_set(e, ERR_INTERNAL, "/proc/stat: no aggregate cpu line");
	n = sscanf(text + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	           &v[4], &v[5], &v[6], &v[7]);
	if (n < 4)
		return err_set(e, ERR_INTERNAL, "/proc/stat: short cpu line");
	/* user nice system idle iowait irq softirq steal: idle+iowait is not busy */
	out->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	out->busy = out->total - v[3] - v[4];
	return 0;
}

static int meminfo_field(const char *text, const char *name, uint64_t *out)
{
	const char *p = text;
	size_t len = strlen(name);

	while (p && *p) {
		if (strncmp(p, name, len) == 0 && p[len] == ':') {
			unsigned long long kb;
			if (sscanf(p + len + 1, "%llu", &kb) != 1)
				return -1;
			*out = (uint64_t)kb * 1024;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int metrics_parse_meminfo(const char *text, uint64_t *total, uint64_t *available, struct err **e)
{
	uint64_t t, a;

	if (text == NULL || meminfo_field(text, "MemTotal", &t) < 0 ||
	    meminfo_field(text, "MemAvailable", &a) < 0)
		return err_set(e, ERR_INTERNAL, "/proc/meminfo: MemTotal or MemAvailable missing");
	*total = t;
	*available = a;
	return 0;
}

double metrics_cpu_percent(const struct metrics_cpu_sample *a, const struct metrics_cpu_sample *b)
{
	if (b->total <= a->total)
		return NAN;
	return 100.0 * (double)(b->busy - a->busy) / (double)(b->total - a->total);
}

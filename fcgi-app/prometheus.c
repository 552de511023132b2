/* Prometheus text exposition: see prometheus.h.  Each family is written
 * whole (HELP, TYPE, then its samples), as the format requires. */
#include <config.h>

#include <inttypes.h>
#include <string.h>

#include "prometheus.h"

/* Appends a string literal. */
#define LIT(out, s, e) buf_append((out), (s), sizeof(s) - 1, (e))

int prometheus_label_value(struct buf *out, const char *v, struct err **e)
{
	for (const char *p = v; *p; p++) {
		const char *rep = NULL;
		if (*p == '\\')
			rep = "\\\\";
		else if (*p == '"')
			rep = "\\\"";
		else if (*p == '\n')
			rep = "\\n";
		if (rep ? buf_append(out, rep, strlen(rep), e) : buf_append(out, p, 1, e))
			return -1;
	}
	return 0;
}

static int family(struct buf *out, const char *name, const char *type, const char *help,
                  struct err **e)
{
	return buf_appendf(out, e, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{function="f",isolation="i"<extra>} */
static int series_head(struct buf *out, const char *name, const char *fn, const char *iso,
                       struct err **e)
{
	if (buf_appendf(out, e, "%s{function=\"", name) < 0 ||
	    prometheus_label_value(out, fn, e) < 0 ||
	    buf_appendf(out, e, "\",isolation=\"%s\"", iso) < 0)
		return -1;
	return 0;
}

static int render_counters(struct buf *out, const struct db_metrics_counter *c, size_t n,
                           struct err **e)
{
	if (family(out, "lambda_invocations_total", "counter",
	           "Invocations recorded, by function, isolation and final status.", e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (int s = 0; s < MS_N; s++)
			if (series_head(out, "lambda_invocations_total", c[i].function,
			                metrics_isolation_names[c[i].isolation], e) < 0 ||
			    buf_appendf(out, e, ",status=\"%s\"} %" PRIu64 "\n",
			                metrics_status_names[s], c[i].r.by_status[s]) < 0)
				return -1;
	if (family(out, "lambda_cold_starts_total", "counter",
	           "Invocations that started a container (or loaded code into a pre-warmed one).",
	           e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (series_head(out, "lambda_cold_starts_total", c[i].function,
		                metrics_isolation_names[c[i].isolation], e) < 0 ||
		    buf_appendf(out, e, "} %" PRIu64 "\n", c[i].r.cold) < 0)
			return -1;
	return 0;
}

static int render_histograms(struct buf *out, const struct db_metrics_counter *c, size_t n,
                             struct err **e)
{
	const char *h = "lambda_invocation_duration_seconds";

	if (family(out, h, "histogram",
	           "Latency of invocations as the API saw them (total_ms), in seconds.", e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *iso = metrics_isolation_names[c[i].isolation];
		uint64_t cum = 0;

		for (int b = 0; b < METRICS_HIST_BUCKETS; b++) {
			cum += c[i].r.hist[b];
			if (series_head(out, "lambda_invocation_duration_seconds_bucket",
			                c[i].function, iso, e) < 0)
				return -1;
			if (b == METRICS_HIST_BUCKETS - 1
			        ? buf_appendf(out, e, ",le=\"+Inf\"} %" PRIu64 "\n", cum) < 0
			        : buf_appendf(out, e, ",le=\"%g\"} %" PRIu64 "\n",
			                      metrics_hist_bounds[b] / 1000.0, cum) < 0)
				return -1;
		}
		if (series_head(out, "lambda_invocation_duration_seconds_sum", c[i].function, iso,
		                e) < 0 ||
		    buf_appendf(out, e, "} %.9g\n", c[i].r.sum_ms / 1000.0) < 0 ||
		    series_head(out, "lambda_invocation_duration_seconds_count", c[i].function, iso,
		                e) < 0 ||
		    buf_appendf(out, e, "} %" PRIu64 "\n", c[i].r.calls) < 0)
			return -1;
	}
	return 0;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : def;
}

/* Per-container gauges, one sample per container (labels: function,
 * isolation, state, container). */
static int render_containers(struct buf *out, const cJSON *cs, struct err **e)
{
	static const struct {
		const char *name, *field, *help;
	} g[] = {
	    {"lambda_pool_container_memory_bytes", "memory_bytes",
	     "Memory in use by a warm container (cgroup figure)."},
	    {"lambda_pool_container_cpu_seconds", "cpu_ms",
	     "CPU time used by a warm container since it started."},
	    {"lambda_pool_container_calls", "calls", "Invocations served by a warm container."},
	};
	const cJSON *ct;

	for (size_t k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
		if (family(out, g[k].name, "gauge", g[k].help, e) < 0)
			return -1;
		cJSON_ArrayForEach(ct, cs)
		{
			const cJSON *f = cJSON_GetObjectItemCaseSensitive(ct, g[k].field);
			double v;

			if (!cJSON_IsNumber(f))
				continue; /* not measured (yet): no sample rather than a 0 */
			v = f->valuedouble;
			if (strcmp(g[k].field, "cpu_ms") == 0)
				v /= 1000.0;
			if (series_head(out, g[k].name, str(ct, "function_name", ""),
			                str(ct, "isolation", ""), e) < 0 ||
			    LIT(out, ",state=\"", e) < 0 ||
			    prometheus_label_value(out, str(ct, "state", ""), e) < 0 ||
			    LIT(out, "\",container=\"", e) < 0 ||
			    prometheus_label_value(out, str(ct, "id", ""), e) < 0 ||
			    buf_appendf(out, e, "\"} %.9g\n", v) < 0)
				return -1;
		}
	}
	return 0;
}

/* One gauge family over the executor's "prewarmed" array: METRIC{runtime,isolation} = FIELD. */
static int render_prewarmed(struct buf *out, const cJSON *pw, const char *metric, const char *help,
                            const char *field, struct err **e)
{
	const cJSON *p;

	if (family(out, metric, "gauge", help, e) < 0)
		return -1;
	cJSON_ArrayForEach(p, pw)
	{
		if (buf_appendf(out, e, "%s{runtime=\"", metric) < 0 ||
		    prometheus_label_value(out, str(p, "runtime", ""), e) < 0 ||
		    LIT(out, "\",isolation=\"", e) < 0 ||
		    prometheus_label_value(out, str(p, "isolation", ""), e) < 0 ||
		    buf_appendf(out, e, "\"} %.9g\n", num(p, field)) < 0)
			return -1;
	}
	return 0;
}

static int render_pools(struct buf *out, const cJSON *pools, struct err **e)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(pools, "containers");
	const cJSON *pw = cJSON_GetObjectItemCaseSensitive(pools, "prewarmed");
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(pools, "limits");

	if (family(out, "lambda_pool_containers", "gauge",
	           "Containers the executor holds (warm, busy or pre-warmed).", e) < 0 ||
	    buf_appendf(out, e, "lambda_pool_containers %d\n", cJSON_GetArraySize(cs)) < 0)
		return -1;
	if (render_containers(out, cs, e) < 0)
		return -1;
	if (render_prewarmed(out, pw, "lambda_pool_prewarmed_idle",
	                     "Idle pre-warmed containers per runtime and isolation.", "idle",
	                     e) < 0 ||
	    render_prewarmed(out, pw, "lambda_pool_prewarmed_target",
	                     "Configured number of idle pre-warmed containers.", "target", e) < 0)
		return -1;
	if (family(out, "lambda_pool_queued", "gauge", "Requests waiting for a container.", e) <
	        0 ||
	    buf_appendf(out, e, "lambda_pool_queued %.9g\n", num(pools, "queued")) < 0)
		return -1;
	if (cJSON_IsObject(lim) &&
	    (family(out, "lambda_pool_max_containers", "gauge", "Cap on containers.", e) < 0 ||
	     buf_appendf(out, e, "lambda_pool_max_containers %.9g\n", num(lim, "max_containers")) <
	         0 ||
	     family(out, "lambda_pool_max_memory_bytes", "gauge", "Cap on container memory.", e) <
	         0 ||
	     buf_appendf(out, e, "lambda_pool_max_memory_bytes %.9g\n",
	                 num(lim, "max_memory_mb") * 1048576.0) < 0))
		return -1;
	return 0;
}

int prometheus_render(struct buf *out, const struct db_metrics_counter *c, size_t n,
                      const cJSON *pools, struct err **e)
{
	if (render_counters(out, c, n, e) < 0 || render_histograms(out, c, n, e) < 0)
		return -1;
	if (family(out, "lambda_executor_up", "gauge",
	           "1 when the executor answered the POOLS request of this scrape.", e) < 0 ||
	    buf_appendf(out, e, "lambda_executor_up %d\n", pools != NULL) < 0)
		return -1;
	if (pools != NULL && render_pools(out, pools, e) < 0)
		return -1;
	return 0;
}

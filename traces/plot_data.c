/*
 * plot_data.c -- the queries of `spikemesh plot`: which run and frame a
 * per-run plot shows, whether the database holds what a kind needs, and
 * each kind's data file (KIND.dat: whitespace columns, '#' comment lines
 * naming them).
 *
 * The data is reduced here (histograms binned, per-frame rows averaged) so
 * a data file stays small even for a run of 10,000 frames: the raster (one
 * frame's spikes) and the sweep scatter (one row per run) are the only
 * ones with a row per item.  Cost: one read-only pass over the rows a plot
 * needs; the packet latency histogram holds one double per packet in
 * memory to find percentiles.
 */
#include "traces/plot-int.h"

#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* ---- small SQL helpers ------------------------------------------------- */

/* Prepare sql and bind ?1 = a, ?2 = b.  NULL on error (a broken database
 * is reported by the caller as missing data). */
static sqlite3_stmt *prep(struct plot *p, const char *sql, int64_t a,
                          int64_t b) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(p->c, sql, -1, &st, NULL) != SQLITE_OK)
    return NULL;
  if (sqlite3_bind_parameter_count(st) >= 1)
    sqlite3_bind_int64(st, 1, a);
  if (sqlite3_bind_parameter_count(st) >= 2)
    sqlite3_bind_int64(st, 2, b);
  return st;
}

/* The first column of the first row as a number; dflt if none or NULL. */
static double q1(struct plot *p, const char *sql, int64_t a, int64_t b,
                 double dflt) {
  sqlite3_stmt *st = prep(p, sql, a, b);
  double v = dflt;
  if (st && sqlite3_step(st) == SQLITE_ROW &&
      sqlite3_column_type(st, 0) != SQLITE_NULL)
    v = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  return v;
}

static int64_t q1i(struct plot *p, const char *sql, int64_t a, int64_t b,
                   int64_t dflt) {
  sqlite3_stmt *st = prep(p, sql, a, b);
  int64_t v = dflt;
  if (st && sqlite3_step(st) == SQLITE_ROW &&
      sqlite3_column_type(st, 0) != SQLITE_NULL)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* A value of the run's configuration JSON, or dflt. */
static double run_conf(struct plot *p, const char *key, double dflt) {
  char sql[160];
  snprintf(sql, sizeof sql,
           "SELECT json_extract(config, '$.\"%s\"') FROM runs WHERE run_id=?1",
           key);
  return q1(p, sql, p->run, 0, dflt);
}

/* ---- what the database holds -------------------------------------------- */

static int why(struct plot *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int why(struct plot *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->why, sizeof p->why, fmt, ap);
  va_end(ap);
  return 0;
}

static int64_t count_kind_runs(struct plot *p, const char *kind) {
  sqlite3_stmt *st = NULL;
  int64_t n = 0;
  if (sqlite3_prepare_v2(p->c,
                         "SELECT count(DISTINCT run_id) FROM frames WHERE "
                         "run_id IN (SELECT run_id FROM runs WHERE kind=?1)",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return n;
}

/* The runs a Pareto scatter shows: sweep points, or plain runs when the
 * database holds no sweep (several `spikemesh run --db` into one file). */
static const char *pareto_kind(struct plot *p) {
  return count_kind_runs(p, "sweep") >= 2 ? "sweep" : "run";
}

/* The kinds of trace_plot_available that need neither the chosen run's
 * frames nor its table rows. */
static int available_global(struct plot *p, int k) {
  if (k == TRACE_PLOT_NOC) {
    int own = p->run && !strcmp(p->run_kind, "noc");
    if (q1i(p,
            own ? "SELECT count(*) FROM noc_points WHERE run_id=?1"
                : "SELECT count(*) FROM noc_points",
            p->run, 0, 0) > 0)
      return 1;
    return why(p, "noc needs %s%s", trace_plot_needs(k),
               own ? " (the chosen run has no noc_points rows)" : "");
  }
  if (count_kind_runs(p, pareto_kind(p)) >= 2)
    return 1;
  return why(p, "pareto needs %s", trace_plot_needs(k));
}

int trace__plot_available(struct plot *p, int k) {
  p->why[0] = 0;
  if (k == TRACE_PLOT_NOC || k == TRACE_PLOT_PARETO)
    return available_global(p, k);
  if (!p->run || !p->frames)
    return why(p, "%s needs %s (%s)", trace_plot_name(k), trace_plot_needs(k),
               p->run ? "the chosen run has no frames: see `spikemesh db info`"
                      : "the database has no run with frames");
  static const char *const table[] = {
      [TRACE_PLOT_RASTER] = "spikes",     [TRACE_PLOT_INACTIVE] = "layer_frames",
      [TRACE_PLOT_LINKS] = "links",       [TRACE_PLOT_BLOCKED] = "ports",
      [TRACE_PLOT_CORES] = "cores",       [TRACE_PLOT_ENERGY] = "frames",
      [TRACE_PLOT_ENERGY_DIST] = "frames", [TRACE_PLOT_LATENCY] = "packets"};
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE run_id=?1 LIMIT 1",
           table[k]);
  if (k == TRACE_PLOT_CORES && !strcmp(p->run_kind, "replay"))
    return why(p, "cores needs %s (run %lld is a replay: it has no cores)",
               trace_plot_needs(k), (long long)p->run);
  if (q1i(p, sql, p->run, 0, 0) != 1)
    return why(p, "%s needs %s (run %lld was recorded with --detail %s)",
               trace_plot_name(k), trace_plot_needs(k), (long long)p->run,
               p->run_detail);
  if (k == TRACE_PLOT_RASTER &&
      q1i(p, "SELECT 1 FROM spikes WHERE run_id=?1 AND frame=?2 LIMIT 1",
          p->run, p->frame, 0) != 1)
    return why(p,
               "raster: run %lld has no spikes in frame %lld (it has frames "
               "%lld..%lld)",
               (long long)p->run, (long long)p->frame,
               (long long)q1i(p, "SELECT min(frame) FROM frames WHERE run_id=?1",
                              p->run, 0, 0),
               (long long)q1i(p, "SELECT max(frame) FROM frames WHERE run_id=?1",
                              p->run, 0, 0));
  return 1;
}

int trace__plot_pick_run(struct plot *p, struct sm_err *err) {
  const struct trace_plot_opts *o = p->o;
  p->run = o->run;
  if (p->run > 0) {
    if (q1i(p, "SELECT count(*) FROM runs WHERE run_id=?1", p->run, 0, 0) != 1) {
      int64_t lo = q1i(p, "SELECT min(run_id) FROM runs", 0, 0, 0);
      int64_t hi = q1i(p, "SELECT max(run_id) FROM runs", 0, 0, 0);
      if (!hi)
        return sm_fail(err, SM_ENOENT, "%s: --run %lld: the database has no "
                       "runs", o->db, (long long)p->run);
      return sm_fail(err, SM_ENOENT, "%s: --run %lld: no such run (run ids "
                     "%lld..%lld; see `spikemesh db info %s`)", o->db,
                     (long long)p->run, (long long)lo, (long long)hi, o->db);
    }
  } else {
    p->run = q1i(p, "SELECT max(run_id) FROM frames", 0, 0, 0);
  }
  if (p->run) {
    sqlite3_stmt *st = prep(p, "SELECT kind, coalesce(detail, '?') FROM runs "
                               "WHERE run_id=?1", p->run, 0);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
      snprintf(p->run_kind, sizeof p->run_kind, "%s",
               sqlite3_column_text(st, 0));
      snprintf(p->run_detail, sizeof p->run_detail, "%s",
               sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    p->frames = q1i(p, "SELECT count(*) FROM frames WHERE run_id=?1", p->run,
                    0, 0);
  }
  p->frame = o->frame;
  if (p->frame < 0)
    p->frame = q1i(p, "SELECT min(frame) FROM spikes WHERE run_id=?1", p->run,
                   0, 0);
  return 0;
}

/* ---- the data files ------------------------------------------------------ */

static void data_raster(struct plot *p) {
  int64_t nl = q1i(p, "SELECT max(layer) + 1 FROM spikes WHERE run_id=?1 AND "
                      "frame=?2", p->run, p->frame, 1);
  int64_t nl2 = q1i(p, "SELECT max(layer) + 1 FROM layer_frames WHERE "
                       "run_id=?1 AND frame=?2", p->run, p->frame, 0);
  double t0 = q1(p, "SELECT t_start_ps FROM frames WHERE run_id=?1 AND "
                    "frame=?2", p->run, p->frame, 0);
  p->f.nlayers = nl2 > nl ? nl2 : nl;
  p->f.window_us = run_conf(p, "core.steps_per_window", 0) *
                   run_conf(p, "core.step_ps", 0) * 1e-6;
  fprintf(p->dat,
          "# spikes of frame %lld of run %lld, in send order\n"
          "# time_us: since the frame's first input spike; y: neuron / "
          "(outputs - 1), outputs: the layer's neurons after pooling (what "
          "its spikes index)\n# layer neuron time_us y\n",
          (long long)p->frame, (long long)p->run);
  sqlite3_stmt *st = prep(
      p,
      "SELECT s.layer, s.neuron, s.time_ps, coalesce(l.outputs, "
      "(SELECT max(neuron) + 1 FROM spikes WHERE run_id=?1 AND frame=?2 AND "
      "layer=s.layer)) FROM spikes s LEFT JOIN layers l ON "
      "l.run_id=s.run_id AND l.layer=s.layer WHERE "
      "s.run_id=?1 AND s.frame=?2 ORDER BY s.rowid",
      p->run, p->frame);
  double tmax = 0;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    int64_t n = sqlite3_column_int64(st, 3);
    double t = ((double)sqlite3_column_int64(st, 2) - t0) * 1e-6;
    tmax = t > tmax ? t : tmax;
    fprintf(p->dat, "%lld %lld %.6g %.6g\n",
            (long long)sqlite3_column_int64(st, 0),
            (long long)sqlite3_column_int64(st, 1), t,
            n > 1 ? (double)sqlite3_column_int64(st, 1) / (double)(n - 1) : 0.5);
  }
  sqlite3_finalize(st);
  p->f.t_max_us = tmax;
}

static void data_inactive(struct plot *p) {
  fprintf(p->dat, "# run %lld: neurons that never fired in a frame (before "
                  "pooling), mean over %lld frames; a replay, which has no "
                  "neurons, counts the outputs (after pooling) that sent no "
                  "spike\n# layer neurons mean_spikes inactive_percent\n",
          (long long)p->run, (long long)p->frames);
  sqlite3_stmt *st =
      prep(p, "SELECT f.layer, max(f.neurons), avg(f.spikes), 100.0 * "
              "avg(CASE WHEN f.fired IS NOT NULL THEN CAST(f.neurons - "
              "f.fired AS REAL) / max(f.neurons, 1) ELSE CAST(coalesce("
              "l.outputs, f.neurons) - f.spikes AS REAL) / max(coalesce("
              "l.outputs, f.neurons), 1) END) FROM layer_frames f LEFT JOIN "
              "layers l ON l.run_id=f.run_id AND l.layer=f.layer WHERE "
              "f.run_id=?1 GROUP BY f.layer ORDER BY f.layer",
           p->run, 0);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    fprintf(p->dat, "%lld %lld %.6g %.6g\n",
            (long long)sqlite3_column_int64(st, 0),
            (long long)sqlite3_column_int64(st, 1),
            sqlite3_column_double(st, 2), sqlite3_column_double(st, 3));
  sqlite3_finalize(st);
}

/* The mesh's size: the one the run row says it used, else the run's
 * --mesh, else the smallest square holding every node and core that has a
 * row (what --mesh auto picks). */
static void mesh_size(struct plot *p) {
  int w = (int)q1i(p, "SELECT mesh_width FROM runs WHERE run_id=?1", p->run,
                   0, 0);
  int h = (int)q1i(p, "SELECT mesh_height FROM runs WHERE run_id=?1", p->run,
                   0, 0);
  if (w <= 0 || h <= 0) {
    w = (int)run_conf(p, "run.mesh_width", 0);
    h = (int)run_conf(p, "run.mesh_height", 0);
  }
  if (w > 0 && h > 0) {
    p->mesh_w = w;
    p->mesh_h = h;
    return;
  }
  int64_t n = q1i(p,
                  "SELECT max(m) FROM (SELECT max(node) + 1 AS m FROM links "
                  "WHERE run_id=?1 UNION ALL SELECT max(node) + 1 FROM ports "
                  "WHERE run_id=?1 UNION ALL SELECT max(node) + 1 FROM cores "
                  "WHERE run_id=?1 UNION ALL SELECT count(DISTINCT core) FROM "
                  "cores WHERE run_id=?1)",
                  p->run, 0, 1);
  int side = 1;
  while ((int64_t)side * side < n)
    side++;
  p->mesh_w = p->mesh_h = side;
}

/* Block 1 of links.dat: an arrow per directed link inside the mesh, the
 * two directions of a link side by side, from u[node * 5 + dir]. */
static void link_arrows(struct plot *p, const double *u) {
  const double o = 0.1, a = 0.2, b = 0.6;
  int w = p->mesh_w, h = p->mesh_h;
  fprintf(p->dat, "\n\n# block 1, links (arrows): node dir x0 y0 dx dy "
                  "utilization (dir 0 N, 1 E, 2 S, 3 W)\n");
  for (int64_t n = 0; n < (int64_t)w * h; n++) {
    int x = (int)(n % w), y = (int)(n / w);
    for (int d = 0; d < 4; d++) {
      int nx = x + (d == 1) - (d == 3), ny = y + (d == 2) - (d == 0);
      if (nx < 0 || ny < 0 || nx >= w || ny >= h)
        continue;
      double x0 = x, y0 = y, dx = 0, dy = 0;
      if (d == 0) { x0 += o; y0 -= a; dy = -b; }
      if (d == 2) { x0 -= o; y0 += a; dy = b; }
      if (d == 1) { y0 -= o; x0 += a; dx = b; }
      if (d == 3) { y0 += o; x0 -= a; dx = -b; }
      fprintf(p->dat, "%lld %d %.3g %.3g %.3g %.3g %.6g\n", (long long)n, d,
              x0, y0, dx, dy, u[n * 5 + d]);
      p->f.nlinks++;
    }
  }
}

static void data_links(struct plot *p) {
  mesh_size(p);
  int w = p->mesh_w, h = p->mesh_h;
  int64_t nodes = (int64_t)w * h;
  double *u = sm_xcalloc((size_t)nodes * 5, sizeof *u);
  sqlite3_stmt *st = prep(p,
                          "SELECT node, dir, total(utilization) FROM links "
                          "WHERE run_id=?1 GROUP BY node, dir",
                          p->run, 0);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    int64_t node = sqlite3_column_int64(st, 0), dir = sqlite3_column_int64(st, 1);
    if (node >= 0 && node < nodes && dir >= 0 && dir < 5)
      u[node * 5 + dir] = sqlite3_column_double(st, 2) / (double)p->frames;
  }
  sqlite3_finalize(st);
  fprintf(p->dat,
          "# run %lld, %dx%d mesh: utilization (busy / frame time) of each "
          "router output, mean over %lld frames\n"
          "# block 0, routers: node x y ejection_utilization\n",
          (long long)p->run, w, h, (long long)p->frames);
  for (int64_t n = 0; n < nodes; n++)
    fprintf(p->dat, "%lld %d %d %.6g\n", (long long)n, (int)(n % w),
            (int)(n / w), u[n * 5 + 4]);
  for (int64_t i = 0; i < nodes * 5; i++)
    p->f.vmax = u[i] > p->f.vmax ? u[i] : p->f.vmax;
  link_arrows(p, u);
  free(u);
}

/* A node heatmap's data from rows (node, value, label) of `sql`: values
 * per frame of `what`, in `unit`. */
static void node_heatmap(struct plot *p, const char *sql, const char *what,
                         const char *unit) {
  mesh_size(p);
  int64_t nodes = (int64_t)p->mesh_w * p->mesh_h;
  double *v = sm_xcalloc((size_t)nodes, sizeof *v);
  char(*lab)[64] = sm_xcalloc((size_t)nodes, sizeof *lab);
  sqlite3_stmt *st = prep(p, sql, p->run, 0);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    int64_t n = sqlite3_column_int64(st, 0);
    if (n < 0 || n >= nodes)
      continue;
    v[n] = sqlite3_column_double(st, 1) / (double)p->frames;
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
      snprintf(lab[n], sizeof lab[n], "%s", sqlite3_column_text(st, 2));
  }
  sqlite3_finalize(st);
  fprintf(p->dat,
          "# run %lld, %dx%d mesh: %s per frame (%s), mean over %lld frames\n"
          "# node x y value label\n",
          (long long)p->run, p->mesh_w, p->mesh_h, what, unit,
          (long long)p->frames);
  for (int64_t n = 0; n < nodes; n++) {
    p->f.vmax = v[n] > p->f.vmax ? v[n] : p->f.vmax;
    fprintf(p->dat, "%lld %d %d %.6g \"%s\"\n", (long long)n,
            (int)(n % p->mesh_w), (int)(n / p->mesh_w), v[n], lab[n]);
  }
  free(v);
  free(lab);
  p->f.what = what;
  p->f.unit = unit;
}

static void data_blocked(struct plot *p) {
  node_heatmap(p,
               "SELECT node, total(blocked_ps) * 1e-3, NULL FROM ports WHERE "
               "run_id=?1 GROUP BY node",
               "blocked time", "ns, summed over the 5 inputs");
}

static void data_cores(struct plot *p) {
  node_heatmap(p,
               "SELECT node, total(spikes), (SELECT group_concat(l, ' ') FROM "
               "(SELECT DISTINCT 'L' || layer AS l FROM cores c2 WHERE "
               "c2.run_id=?1 AND c2.node=c.node ORDER BY layer)) FROM cores c "
               "WHERE run_id=?1 GROUP BY node",
               "spikes", "label: layers of the node's cores");
}

static void data_energy(struct plot *p) {
  fprintf(p->dat, "# run %lld: energy of each frame (uJ) by term\n"
                  "# frame static hop sop total\n",
          (long long)p->run);
  sqlite3_stmt *st = prep(p,
                          "SELECT frame, e_static_pj, e_hop_pj, e_sop_pj, "
                          "e_total_pj FROM frames WHERE run_id=?1 ORDER BY "
                          "frame",
                          p->run, 0);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    fprintf(p->dat, "%lld %.6g %.6g %.6g %.6g\n",
            (long long)sqlite3_column_int64(st, 0),
            sqlite3_column_double(st, 1) * 1e-6,
            sqlite3_column_double(st, 2) * 1e-6,
            sqlite3_column_double(st, 3) * 1e-6,
            sqlite3_column_double(st, 4) * 1e-6);
  sqlite3_finalize(st);
  p->f.frame_lo =
      q1(p, "SELECT min(frame) FROM frames WHERE run_id=?1", p->run, 0, 0);
  p->f.frame_hi =
      q1(p, "SELECT max(frame) FROM frames WHERE run_id=?1", p->run, 0, 0);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sort v[0..n) (n >= 1) and write its histogram, at most 60 bins, as
 * "center count fraction" lines; the mean and p99 go to p->f. */
static void histogram(struct plot *p, double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  double lo = v[0], hi = v[n - 1], sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  double mean = sum / (double)n, p50 = v[(n - 1) / 2];
  double p99 = v[(size_t)((double)(n - 1) * 0.99)];
  size_t nb = (size_t)sqrt((double)n) + 1;
  nb = nb > 60 ? 60 : nb < 5 ? 5 : nb;
  double wbin = (hi - lo) / (double)nb;
  if (wbin <= 0) { /* every value equal: one visible bin around it */
    wbin = hi != 0 ? fabs(hi) * 0.02 : 1;
    lo -= wbin * (double)nb / 2;
  }
  size_t *cnt = sm_xcalloc(nb, sizeof *cnt);
  for (size_t i = 0; i < n; i++) {
    size_t b = (size_t)((v[i] - lo) / wbin);
    cnt[b < nb ? b : nb - 1]++;
  }
  fprintf(p->dat, "# bin_center count fraction (bin width %.6g; mean %.6g, "
                  "median %.6g, p99 %.6g)\n", wbin, mean, p50, p99);
  for (size_t b = 0; b < nb; b++)
    fprintf(p->dat, "%.6g %zu %.6g\n", lo + ((double)b + 0.5) * wbin, cnt[b],
            (double)cnt[b] / (double)n);
  free(cnt);
  p->f.mean = mean;
  p->f.p99 = p99;
}

/* A histogram of the first column of `sql` (scaled by `scale`), of `what`. */
static void hist_data(struct plot *p, const char *sql, double scale,
                      const char *what) {
  size_t n = 0, cap = 1024;
  double *v = sm_xmallocarray(cap, sizeof *v);
  sqlite3_stmt *st = prep(p, sql, p->run, 0);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    if (n == cap)
      v = sm_xreallocarray(v, cap *= 2, sizeof *v);
    v[n++] = sqlite3_column_double(st, 0) * scale;
  }
  sqlite3_finalize(st);
  fprintf(p->dat, "# run %lld: %s, %zu values\n", (long long)p->run, what, n);
  if (n)
    histogram(p, v, n);
  free(v);
  p->f.n = n;
}

static void data_energy_dist(struct plot *p) {
  hist_data(p, "SELECT e_total_pj FROM frames WHERE run_id=?1", 1e-6,
            "energy per frame (uJ)");
}

static void data_latency(struct plot *p) {
  hist_data(p, "SELECT t_eject_ps - t_send_ps FROM packets WHERE run_id=?1",
            1e-3, "packet latency, send to ejection (ns)");
}

/* The legend of a noc curve: a sweep point's key, else the traffic and
 * mesh of the run. */
static char *curve_name(struct plot *p, int64_t run) {
  char name[600];
  const char *key = NULL;
  sqlite3_stmt *k = prep(
      p,
      "SELECT coalesce(point_key, json_extract(config, "
      "'$.\"traffic.pattern\"') || ' ' || json_extract(config, "
      "'$.\"noc.width\"') || 'x' || json_extract(config, "
      "'$.\"noc.height\"')) FROM runs WHERE run_id=?1",
      run, 0);
  if (k && sqlite3_step(k) == SQLITE_ROW &&
      sqlite3_column_type(k, 0) == SQLITE_TEXT)
    key = (const char *)sqlite3_column_text(k, 0);
  snprintf(name, sizeof name, "run %lld%s%s", (long long)run, key ? ": " : "",
           key ? key : "");
  sqlite3_finalize(k);
  return sm_xstrdup(name);
}

static void data_noc(struct plot *p) {
  int own = p->run && !strcmp(p->run_kind, "noc");
  fprintf(p->dat, "# latency-throughput of %s\n"
                  "# run offered accepted latency_mean latency_p50 latency_p99 "
                  "latency_max saturated (flits/node/cycle, cycles)\n",
          own ? "one noc sweep" : "every noc sweep of the database");
  sqlite3_stmt *st = prep(p,
                          own ? "SELECT run_id, offered, accepted, "
                                "latency_mean, latency_p50, latency_p99, "
                                "latency_max, saturated FROM noc_points WHERE "
                                "run_id=?1 ORDER BY offered"
                              : "SELECT run_id, offered, accepted, "
                                "latency_mean, latency_p50, latency_p99, "
                                "latency_max, saturated FROM noc_points ORDER "
                                "BY run_id, offered",
                          p->run, 0);
  struct plot_facts *f = &p->f;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    int64_t r = sqlite3_column_int64(st, 0);
    if (f->ncurves == 0 || f->curve_run[f->ncurves - 1] != r) {
      if (f->ncurves == TRACE__PLOT_MAX_CURVES)
        break;
      f->curve_run[f->ncurves++] = r;
    }
    fprintf(p->dat, "%lld", (long long)r);
    for (int i = 1; i < 7; i++)
      fprintf(p->dat, " %.6g", sqlite3_column_double(st, i));
    fprintf(p->dat, " %lld\n", (long long)sqlite3_column_int64(st, 7));
  }
  sqlite3_finalize(st);
  for (int i = 0; i < f->ncurves; i++)
    f->curve_name[i] = curve_name(p, f->curve_run[i]);
}

static void data_pareto(struct plot *p) {
  const char *kind = pareto_kind(p);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(
          p->c,
          "SELECT f.run_id, avg(f.e_total_pj) * 1e-6, avg(f.latency_ps) * "
          "1e-6, coalesce(100.0 * avg(CASE WHEN f.label >= 0 THEN f.label = "
          "f.prediction END), 0), coalesce(r.point_key, "
          "'') FROM frames f JOIN runs r ON r.run_id = f.run_id WHERE r.kind "
          "= ?1 GROUP BY f.run_id ORDER BY 2, 3",
          -1, &st, NULL) == SQLITE_OK)
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
  struct pt {
    int64_t run;
    double e, lat, acc;
  } *pt = NULL;
  size_t n = 0, cap = 0;
  fprintf(p->dat,
          "# runs of kind '%s': means over each run's frames (accuracy over "
          "its labelled frames; 0 for a run with none)\n"
          "# block 0: run energy_uJ latency_us accuracy_percent point_key\n",
          kind);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    if (n == cap)
      pt = sm_xreallocarray(pt, cap = cap ? 2 * cap : 64, sizeof *pt);
    pt[n] = (struct pt){sqlite3_column_int64(st, 0),
                        sqlite3_column_double(st, 1),
                        sqlite3_column_double(st, 2),
                        sqlite3_column_double(st, 3)};
    fprintf(p->dat, "%lld %.6g %.6g %.6g ", (long long)pt[n].run, pt[n].e,
            pt[n].lat, pt[n].acc);
    trace__plot_gp_str(p->dat, (const char *)sqlite3_column_text(st, 4));
    fputc('\n', p->dat);
    n++;
  }
  sqlite3_finalize(st);
  /* The front the sweep summary marks: lower energy, lower latency,
   * higher accuracy. */
  static const int maximize[3] = {0, 0, 1};
  double *obj = sm_xmallocarray(n, 3 * sizeof *obj);
  int *on = sm_xmallocarray(n, sizeof *on);
  double amin = INFINITY, amax = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    obj[3 * i] = pt[i].e;
    obj[3 * i + 1] = pt[i].lat;
    obj[3 * i + 2] = pt[i].acc;
    amin = pt[i].acc < amin ? pt[i].acc : amin;
    amax = pt[i].acc > amax ? pt[i].acc : amax;
  }
  if (amax - amin < 0.5) { /* equal accuracies: a readable colour range */
    amin -= 0.5;
    amax += 0.5;
  }
  sm_pareto_front(obj, n, 3, maximize, on);
  fprintf(p->dat, "\n\n# block 1: the Pareto front over energy, latency "
                  "(lower is better) and accuracy (higher is better), by "
                  "energy\n# run energy_uJ latency_us accuracy_percent\n");
  for (size_t i = 0; i < n; i++)
    if (on[i])
      fprintf(p->dat, "%lld %.6g %.6g %.6g\n", (long long)pt[i].run, pt[i].e,
              pt[i].lat, pt[i].acc);
  free(obj);
  free(on);
  free(pt);
  p->f.n = n;
  p->f.amin = amin;
  p->f.amax = amax;
  p->f.pareto_kind = kind;
}

void trace__plot_data(struct plot *p, int k) {
  typedef void (*data_fn)(struct plot *);
  static const data_fn fns[TRACE_PLOT_NKINDS] = {
      [TRACE_PLOT_RASTER] = data_raster,   [TRACE_PLOT_INACTIVE] = data_inactive,
      [TRACE_PLOT_LINKS] = data_links,     [TRACE_PLOT_BLOCKED] = data_blocked,
      [TRACE_PLOT_CORES] = data_cores,     [TRACE_PLOT_ENERGY] = data_energy,
      [TRACE_PLOT_ENERGY_DIST] = data_energy_dist,
      [TRACE_PLOT_LATENCY] = data_latency, [TRACE_PLOT_NOC] = data_noc,
      [TRACE_PLOT_PARETO] = data_pareto};
  fns[k](p);
}

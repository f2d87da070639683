/*
 * plot.c -- figures from a recorder database, drawn by gnuplot.
 *
 * Each plot is two files written side by side in the output directory: a
 * data file (KIND.dat: whitespace columns, '#' comment lines naming them)
 * and a gnuplot script (KIND.gp) that reads it by its bare name and
 * renders KIND.png and/or KIND.svg.  gnuplot runs in that directory, so
 * `gnuplot KIND.gp` there reproduces the image and a user restyles a plot
 * by editing the script.  The data is reduced here (histograms binned,
 * per-frame rows averaged) so a data file stays small even for a run of
 * 10,000 frames: the raster (one frame's spikes) and the sweep scatter (one
 * row per run) are the only ones with a row per item.
 *
 * Cost: one read-only pass over the rows a plot needs; the packet latency
 * histogram holds one int64 per packet in memory to find percentiles.
 *
 * Rejected: a plotting library linked into the program (gnuplot is the only
 * tool needed, and it is optional at run time: without it the scripts and
 * data are still written); images drawn by gnuplot from SQL it runs itself
 * (the scripts would then need the sqlite3 shell and the database beside
 * them).
 */
#include "traces/trace-int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
  const char *name, *needs, *summary;
} kinds[] = {
#define TRACE__PLOT_ROW(id, name, needs, summary) {name, needs, summary},
    TRACE_PLOT_KINDS(TRACE__PLOT_ROW)
#undef TRACE__PLOT_ROW
};

const char *trace_plot_name(int k) {
  return k >= 0 && k < TRACE_PLOT_NKINDS ? kinds[k].name : "?";
}
const char *trace_plot_needs(int k) {
  return k >= 0 && k < TRACE_PLOT_NKINDS ? kinds[k].needs : "?";
}
const char *trace_plot_summary(int k) {
  return k >= 0 && k < TRACE_PLOT_NKINDS ? kinds[k].summary : "?";
}
int trace_plot_parse(const char *s) {
  for (int k = 0; k < TRACE_PLOT_NKINDS; k++)
    if (!strcmp(s, kinds[k].name))
      return k;
  return -1;
}

/* Layer colours, shared by the raster's points and window shading. */
static const char *const layer_colour[] = {"#1f77b4", "#d62728", "#2ca02c",
                                           "#9467bd", "#ff7f0e", "#8c564b",
                                           "#e377c2", "#17becf"};

struct plot {
  sqlite3 *c;
  const struct trace_plot_opts *o;
  int64_t run;         /* per-run plots' run; 0: the database has none */
  char run_kind[16];   /* its kind */
  char run_detail[16]; /* its detail level */
  int64_t frames;      /* its frames rows */
  int64_t frame;       /* the raster's frame */
  int mesh_w, mesh_h;  /* nodes */
  FILE *dat, *gp;      /* the plot being written */
  const char *name;    /* its kind's name */
  char why[512];       /* why a kind cannot be drawn */
};

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

/* A string as a gnuplot single-quoted literal ('' stands for '). */
static void gp_str(FILE *f, const char *s) {
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'')
      fputc('\'', f);
    fputc(*s == '\n' ? ' ' : *s, f);
  }
  fputc('\'', f);
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

/* The runs a Pareto scatter shows: sweep points, or plain runs when the
 * database holds no sweep (several `spikemesh run --db` into one file). */
static const char *pareto_kind(struct plot *p) {
  const char *sql = "SELECT count(DISTINCT run_id) FROM frames WHERE run_id "
                    "IN (SELECT run_id FROM runs WHERE kind=?1)";
  sqlite3_stmt *st = NULL;
  int64_t n = 0;
  if (sqlite3_prepare_v2(p->c, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, "sweep", -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return n >= 2 ? "sweep" : "run";
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

/* 1 if kind k can be drawn; else 0 with p->why saying what is missing. */
static int available(struct plot *p, int k) {
  p->why[0] = 0;
  if (k == TRACE_PLOT_NOC) {
    int own = p->run && !strcmp(p->run_kind, "noc");
    if (q1i(p,
            own ? "SELECT count(*) FROM noc_points WHERE run_id=?1"
                : "SELECT count(*) FROM noc_points",
            p->run, 0, 0) > 0)
      return 1;
    return why(p, "noc needs %s%s", kinds[k].needs,
               own ? " (the chosen run has no noc_points rows)" : "");
  }
  if (k == TRACE_PLOT_PARETO) {
    if (count_kind_runs(p, pareto_kind(p)) >= 2)
      return 1;
    return why(p, "pareto needs %s", kinds[k].needs);
  }
  if (!p->run || !p->frames)
    return why(p, "%s needs %s (%s)", kinds[k].name, kinds[k].needs,
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
               kinds[k].needs, (long long)p->run);
  if (q1i(p, sql, p->run, 0, 0) != 1)
    return why(p, "%s needs %s (run %lld was recorded with --detail %s)",
               kinds[k].name, kinds[k].needs, (long long)p->run,
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

/* ---- script and data writing -------------------------------------------- */

static void script_begin(struct plot *p, const char *title, int w, int h) {
  fprintf(p->gp,
          "# %s.gp -- spikemesh plot: %s\n"
          "# Data: %s.dat (its '#' lines name the columns).  Restyle freely,\n"
          "# then run `gnuplot %s.gp` in this directory.\n"
          "formats = '%s%s%s'\n"
          "do for [fmt in formats] {\n"
          "if (fmt eq 'svg') {\n"
          "  set terminal svg size %d,%d dynamic noenhanced font 'sans,11' "
          "background 'white'\n"
          "} else {\n"
          "  set terminal pngcairo size %d,%d noenhanced font 'sans,10'\n"
          "}\n"
          "set output '%s.'.fmt\n"
          "set title ",
          p->name, kinds[trace_plot_parse(p->name)].summary, p->name, p->name,
          p->o->png ? "png" : "", p->o->png && p->o->svg ? " " : "",
          p->o->svg ? "svg" : "", w, h, w, h, p->name);
  gp_str(p->gp, title);
  fputc('\n', p->gp);
}

static void script_end(struct plot *p) {
  fprintf(p->gp, "}\nunset output\n");
}

/* Where the database and run came from, for titles. */
static void run_title(struct plot *p, char *buf, size_t len, const char *what) {
  const char *base = strrchr(p->o->db, '/');
  snprintf(buf, len, "%s -- %s run %lld", what, base ? base + 1 : p->o->db,
           (long long)p->run);
}

/* ---- the plots ------------------------------------------------------------ */

static void plot_raster(struct plot *p) {
  int64_t nl = q1i(p, "SELECT max(layer) + 1 FROM spikes WHERE run_id=?1 AND "
                      "frame=?2", p->run, p->frame, 1);
  int64_t nl2 = q1i(p, "SELECT max(layer) + 1 FROM layer_frames WHERE "
                       "run_id=?1 AND frame=?2", p->run, p->frame, 0);
  if (nl2 > nl)
    nl = nl2;
  double t0 = q1(p, "SELECT t_start_ps FROM frames WHERE run_id=?1 AND "
                    "frame=?2", p->run, p->frame, 0);
  double tw = run_conf(p, "core.steps_per_window", 0) *
              run_conf(p, "core.step_ps", 0) * 1e-6; /* us */
  fprintf(p->dat,
          "# spikes of frame %lld of run %lld, in send order\n"
          "# time_us: since the frame's first input spike; y: neuron / "
          "(neurons - 1)\n# layer neuron time_us y\n",
          (long long)p->frame, (long long)p->run);
  sqlite3_stmt *st = prep(
      p,
      "SELECT s.layer, s.neuron, s.time_ps, coalesce(l.neurons, "
      "(SELECT max(neuron) + 1 FROM spikes WHERE run_id=?1 AND frame=?2 AND "
      "layer=s.layer)) FROM spikes s LEFT JOIN layer_frames l ON "
      "l.run_id=s.run_id AND l.frame=s.frame AND l.layer=s.layer WHERE "
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
  char title[512];
  run_title(p, title, sizeof title, "");
  char t2[600];
  snprintf(t2, sizeof t2, "Spikes per layer, frame %lld%s", (long long)p->frame,
           title);
  script_begin(p, t2, 1000, 520);
  fprintf(p->gp, "set xlabel 'time since the first input spike (us)'\n"
                 "set ylabel 'neuron index / neurons'\n"
                 "set yrange [-0.02:1.02]\nset key outside right top\n"
                 "set grid xtics lc rgb '#dddddd'\n");
  int sh = tw > 0;
  if (sh) {
    double end = (double)nl * tw;
    fprintf(p->gp, "set xrange [0:%.6g]\nset xtics %.6g\n",
            end > tmax ? end : tmax, tw);
    for (int64_t l = 0; l < nl; l++) {
      const char *col = layer_colour[l % SM_ARRAY_LEN(layer_colour)];
      fprintf(p->gp,
              "set object %lld rect from %.6g, graph 0 to %.6g, graph 1 "
              "fc rgb '%s' fs solid 0.12 noborder behind\n"
              "set label %lld 'window %lld' at %.6g, graph 1.03 center "
              "tc rgb '%s'\n",
              (long long)l + 1, (double)l * tw, (double)(l + 1) * tw, col,
              (long long)l + 1, (long long)l, ((double)l + 0.5) * tw, col);
    }
  }
  fprintf(p->gp,
          "plot for [l=0:%lld] '%s.dat' using 3:($1 == l ? $4 : 1/0) "
          "with points pt 7 ps 0.35 lc rgb word('",
          (long long)nl - 1, p->name);
  for (int64_t l = 0; l < nl; l++)
    fprintf(p->gp, "%s%s", l ? " " : "",
            layer_colour[l % SM_ARRAY_LEN(layer_colour)]);
  fprintf(p->gp, "', l + 1) title sprintf('layer %%d%%s', l, l == 0 ? "
                 "' (input)' : '')\n");
  script_end(p);
}

static void plot_inactive(struct plot *p) {
  fprintf(p->dat, "# run %lld: neurons that sent no spike in a frame, mean "
                  "over %lld frames\n# layer neurons mean_spikes "
                  "inactive_percent\n",
          (long long)p->run, (long long)p->frames);
  sqlite3_stmt *st =
      prep(p, "SELECT layer, max(neurons), avg(spikes), "
              "100.0 * avg(CAST(neurons - spikes AS REAL) / max(neurons, 1)) "
              "FROM layer_frames WHERE run_id=?1 GROUP BY layer ORDER BY layer",
           p->run, 0);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    fprintf(p->dat, "%lld %lld %.6g %.6g\n",
            (long long)sqlite3_column_int64(st, 0),
            (long long)sqlite3_column_int64(st, 1),
            sqlite3_column_double(st, 2), sqlite3_column_double(st, 3));
  sqlite3_finalize(st);
  char title[512];
  run_title(p, title, sizeof title, "Inactive neurons per layer");
  script_begin(p, title, 800, 500);
  fprintf(p->gp,
          "set xlabel 'layer (0: input)'\nset ylabel 'inactive neurons (%%)'\n"
          "set yrange [0:105]\nset style fill solid 0.7 border -1\n"
          "set boxwidth 0.6\nset xtics 1\nset autoscale xfix\n"
          "set offsets 0.6, 0.6, 0, 0\nset grid ytics lc rgb '#dddddd'\n"
          "plot '%s.dat' using 1:4 with boxes lc rgb '#1f77b4' notitle, \\\n"
          "  '' using 1:4:(sprintf('%%.1f%%%% of %%d', $4, $2)) with labels "
          "offset 0,0.8 notitle\n",
          p->name);
  script_end(p);
}

/* The mesh's size: the run's --mesh, else the smallest square holding
 * every node and core that has a row (what --mesh auto picks). */
static void mesh_size(struct plot *p) {
  int w = (int)run_conf(p, "run.mesh_width", 0);
  int h = (int)run_conf(p, "run.mesh_height", 0);
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

/* Axes of a mesh picture: x right, y down, (0,0) top-left as in noc/. */
static void mesh_axes(struct plot *p) {
  fprintf(p->gp,
          "set xrange [-0.6:%d.6]\nset yrange [%d.6:-0.6]\n"
          "set xtics 1\nset ytics 1\nset xlabel 'x'\nset ylabel 'y'\n"
          "set size ratio -1\nset palette defined (0 '#f7fbff', 0.35 "
          "'#6baed6', 0.7 '#ef6548', 1 '#7f0000')\n",
          p->mesh_w - 1, p->mesh_h - 1);
}

static void plot_links(struct plot *p) {
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
  fprintf(p->dat, "\n\n# block 1, links (arrows): node dir x0 y0 dx dy "
                  "utilization (dir 0 N, 1 E, 2 S, 3 W)\n");
  /* The two directions of a link are drawn side by side, offset by o. */
  const double o = 0.1, a = 0.2, b = 0.6;
  int nlinks = 0;
  double umax = 0;
  for (int64_t i = 0; i < nodes * 5; i++)
    umax = u[i] > umax ? u[i] : umax;
  for (int64_t n = 0; n < nodes; n++) {
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
      nlinks++;
    }
  }
  free(u);
  char title[512];
  run_title(p, title, sizeof title, "Link utilization (arrows) and ejection "
                                    "(circles)");
  script_begin(p, title, 760, 680);
  mesh_axes(p);
  fprintf(p->gp,
          "set cblabel 'utilization, mean over frames'\nset cbrange [0:%.6g]\n"
          "ps = %.3g\n"
          "plot '%s.dat' index 0 using 2:3:4 with points pt 7 ps ps lc "
          "palette notitle, \\\n"
          "  '' index 0 using 2:3 with points pt 6 ps ps lc rgb '#666666' "
          "notitle%s\n",
          umax > 0 ? umax : 1, w > h ? 20.0 / w < 3.5 ? 20.0 / w : 3.5 : 20.0 / h < 3.5 ? 20.0 / h : 3.5,
          p->name,
          nlinks ? ", \\\n  '' index 1 using 3:4:5:6:7 with vectors head "
                   "filled size 0.08,25 lw 4 lc palette notitle"
                 : "");
  script_end(p);
}

/* Node heatmap from rows (node, value, label) of `sql`. */
static void node_heatmap(struct plot *p, const char *sql, const char *what,
                         const char *unit, const char *title) {
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
  double vmax = 0;
  for (int64_t n = 0; n < nodes; n++) {
    vmax = v[n] > vmax ? v[n] : vmax;
    fprintf(p->dat, "%lld %d %d %.6g \"%s\"\n", (long long)n,
            (int)(n % p->mesh_w), (int)(n / p->mesh_w), v[n], lab[n]);
  }
  free(v);
  free(lab);
  script_begin(p, title, 760, 680);
  mesh_axes(p);
  char cb[256];
  snprintf(cb, sizeof cb, "%s per frame (%s)", what, unit);
  fprintf(p->gp, "set cblabel ");
  gp_str(p->gp, cb);
  fprintf(p->gp,
          "\nset cbrange [0:%.6g]\n"
          "set style fill solid 1.0 border rgb '#999999'\n"
          "plot '%s.dat' using 2:3:(0.5):(0.5):4 with boxxyerror fc palette "
          "notitle%s",
          vmax > 0 ? vmax : 1, p->name, nodes <= 256 ? ", \\\n" : "\n");
  if (nodes <= 256)
    fprintf(p->gp, "  '' using 2:3:(sprintf('%%.4g%%s%%s', $4, "
                   "strlen(strcol(5)) ? \"\\n\" : '', strcol(5))) with labels "
                   "font ',9' notitle\n");
  script_end(p);
}

static void plot_blocked(struct plot *p) {
  char title[512];
  run_title(p, title, sizeof title,
            "Time flits wait at each router's input buffers");
  node_heatmap(p,
               "SELECT node, total(blocked_ps) * 1e-3, NULL FROM ports WHERE "
               "run_id=?1 GROUP BY node",
               "blocked time", "ns, summed over the 5 inputs", title);
}

static void plot_cores(struct plot *p) {
  char title[512];
  run_title(p, title, sizeof title, "Spikes sent by the cores of each node");
  node_heatmap(p,
               "SELECT node, total(spikes), (SELECT group_concat(l, ' ') FROM "
               "(SELECT DISTINCT 'L' || layer AS l FROM cores c2 WHERE "
               "c2.run_id=?1 AND c2.node=c.node ORDER BY layer)) FROM cores c "
               "WHERE run_id=?1 GROUP BY node",
               "spikes", "label: layers of the node's cores", title);
}

static void plot_energy(struct plot *p) {
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
  char title[512];
  run_title(p, title, sizeof title, "Energy per frame by term");
  script_begin(p, title, 1000, 500);
  fprintf(p->gp,
          "set xlabel 'frame'\nset ylabel 'energy (uJ)'\nset yrange [0:*]\n"
          "set key outside right top\nset boxwidth 1.0\n"
          "set xrange [%.1f:%.1f]\n"
          "set style fill solid 0.85 %s\nset grid ytics lc rgb '#dddddd'\n"
          "plot '%s.dat' using 1:($2 + $3 + $4) with boxes lc rgb '#1f77b4' "
          "title 'SOP', \\\n"
          "  '' using 1:($2 + $3) with boxes lc rgb '#ff7f0e' title 'hop', \\\n"
          "  '' using 1:2 with boxes lc rgb '#7f7f7f' title 'static'\n",
          q1(p, "SELECT min(frame) FROM frames WHERE run_id=?1", p->run, 0, 0) -
              0.5,
          q1(p, "SELECT max(frame) FROM frames WHERE run_id=?1", p->run, 0, 0) +
              0.5,
          p->frames <= 100 ? "border rgb 'white'" : "noborder", p->name);
  script_end(p);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sort v[0..n) (n >= 1) and write its histogram, at most 60 bins, as
 * "center count fraction" lines; the mean and percentiles come back. */
static void histogram(FILE *f, double *v, size_t n, double *mean, double *p50,
                      double *p99) {
  qsort(v, n, sizeof *v, cmp_double);
  double lo = v[0], hi = v[n - 1], sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  *mean = sum / (double)n;
  *p50 = v[(n - 1) / 2];
  *p99 = v[(size_t)((double)(n - 1) * 0.99)];
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
  fprintf(f, "# bin_center count fraction (bin width %.6g; mean %.6g, "
             "median %.6g, p99 %.6g)\n", wbin, *mean, *p50, *p99);
  for (size_t b = 0; b < nb; b++)
    fprintf(f, "%.6g %zu %.6g\n", lo + ((double)b + 0.5) * wbin, cnt[b],
            (double)cnt[b] / (double)n);
  free(cnt);
}

/* A histogram plot of the first column of `sql` (scaled by `scale`). */
static void hist_plot(struct plot *p, const char *sql, double scale,
                      const char *what, const char *xlabel, const char *title) {
  size_t n = 0, cap = 1024;
  double *v = sm_xmallocarray(cap, sizeof *v);
  sqlite3_stmt *st = prep(p, sql, p->run, 0);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    if (n == cap)
      v = sm_xreallocarray(v, cap *= 2, sizeof *v);
    v[n++] = sqlite3_column_double(st, 0) * scale;
  }
  sqlite3_finalize(st);
  double mean = 0, p50 = 0, p99 = 0;
  fprintf(p->dat, "# run %lld: %s, %zu values\n", (long long)p->run, what, n);
  if (n)
    histogram(p->dat, v, n, &mean, &p50, &p99);
  free(v);
  script_begin(p, title, 900, 500);
  fprintf(p->gp,
          "set xlabel '%s'\nset ylabel 'count'\nset yrange [0:*]\n"
          "set style fill solid 0.7 border rgb 'white'\n"
          "set grid ytics lc rgb '#dddddd'\nset key top right\n"
          "set arrow 1 from %.6g, graph 0 to %.6g, graph 1 nohead lw 2 "
          "dt 2 lc rgb '#d62728'\n"
          "set arrow 2 from %.6g, graph 0 to %.6g, graph 1 nohead lw 2 "
          "dt 3 lc rgb '#2ca02c'\n"
          "plot '%s.dat' using 1:2 with boxes lc rgb '#1f77b4' title "
          "'%zu values', \\\n"
          "  NaN with lines lw 2 dt 2 lc rgb '#d62728' title 'mean %.4g', "
          "\\\n"
          "  NaN with lines lw 2 dt 3 lc rgb '#2ca02c' title 'p99 %.4g'\n",
          xlabel, mean, mean, p99, p99, p->name, n, mean, p99);
  script_end(p);
}

static void plot_energy_dist(struct plot *p) {
  char title[512];
  run_title(p, title, sizeof title, "Distribution of the energy per frame");
  hist_plot(p, "SELECT e_total_pj FROM frames WHERE run_id=?1", 1e-6,
            "energy per frame (uJ)", "energy per frame (uJ)", title);
}

static void plot_latency(struct plot *p) {
  char title[512];
  run_title(p, title, sizeof title, "Packet latency");
  hist_plot(p, "SELECT t_eject_ps - t_send_ps FROM packets WHERE run_id=?1",
            1e-3, "packet latency, send to ejection (ns)",
            "latency, send to ejection (ns)", title);
}

static void plot_noc(struct plot *p) {
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
  int64_t ids[64];
  int nid = 0;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    int64_t r = sqlite3_column_int64(st, 0);
    if (nid == 0 || ids[nid - 1] != r) {
      if (nid == (int)SM_ARRAY_LEN(ids))
        break; /* a legend of 64 curves is already unreadable */
      ids[nid++] = r;
    }
    fprintf(p->dat, "%lld", (long long)r);
    for (int i = 1; i < 7; i++)
      fprintf(p->dat, " %.6g", sqlite3_column_double(st, i));
    fprintf(p->dat, " %lld\n", (long long)sqlite3_column_int64(st, 7));
  }
  sqlite3_finalize(st);
  script_begin(p, "Latency against offered load (noc sweeps)", 900, 560);
  fprintf(p->gp, "array runs[%d] = [", nid);
  for (int i = 0; i < nid; i++)
    fprintf(p->gp, "%s%lld", i ? ", " : "", (long long)ids[i]);
  fprintf(p->gp, "]\narray names[%d] = [", nid);
  for (int i = 0; i < nid; i++) {
    char name[600];
    const char *key = NULL;
    /* a sweep point's key, else the traffic and mesh of the run */
    sqlite3_stmt *k = prep(
        p,
        "SELECT coalesce(point_key, json_extract(config, "
        "'$.\"traffic.pattern\"') || ' ' || json_extract(config, "
        "'$.\"noc.width\"') || 'x' || json_extract(config, "
        "'$.\"noc.height\"')) FROM runs WHERE run_id=?1",
        ids[i], 0);
    if (k && sqlite3_step(k) == SQLITE_ROW &&
        sqlite3_column_type(k, 0) == SQLITE_TEXT)
      key = (const char *)sqlite3_column_text(k, 0);
    snprintf(name, sizeof name, "run %lld%s%s", (long long)ids[i],
             key ? ": " : "", key ? key : "");
    sqlite3_finalize(k);
    fprintf(p->gp, "%s", i ? ", " : "");
    gp_str(p->gp, name);
  }
  fprintf(p->gp,
          "]\n"
          "set xlabel 'offered load (flits/node/cycle)'\n"
          "set ylabel 'latency (cycles; solid: mean, dashed: p99)'\n"
          "set logscale y\nset key top left\nset grid lc rgb '#dddddd'\n"
          "plot for [i=1:|runs|] '%s.dat' using 2:($1 == runs[i] ? $4 : 1/0) "
          "with linespoints pt 7 lc i title names[i], \\\n"
          "  for [i=1:|runs|] '' using 2:($1 == runs[i] ? $6 : 1/0) with "
          "lines dt 2 lc i notitle, \\\n"
          "  '' using 2:($8 != 0 ? $4 : 1/0) with points pt 6 ps 2.5 lc rgb "
          "'black' title 'saturated'\n",
          p->name);
  script_end(p);
}

static void plot_pareto(struct plot *p) {
  const char *kind = pareto_kind(p);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(
          p->c,
          "SELECT f.run_id, avg(f.e_total_pj) * 1e-6, avg(f.latency_ps) * "
          "1e-6, 100.0 * avg(f.label = f.prediction), coalesce(r.point_key, "
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
          "# runs of kind '%s': means over each run's frames\n"
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
    gp_str(p->dat, (const char *)sqlite3_column_text(st, 4));
    fputc('\n', p->dat);
    n++;
  }
  sqlite3_finalize(st);
  /* Sorted by energy, then latency: a point is on the front when its
   * latency is below every point before it (none uses less energy and is
   * at least as fast). */
  fprintf(p->dat, "\n\n# block 1: the Pareto front (lower energy and lower "
                  "latency), by energy\n# run energy_uJ latency_us\n");
  double best = INFINITY, amin = INFINITY, amax = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    amin = pt[i].acc < amin ? pt[i].acc : amin;
    amax = pt[i].acc > amax ? pt[i].acc : amax;
  }
  if (amax - amin < 0.5) { /* equal accuracies: a readable colour range */
    amin -= 0.5;
    amax += 0.5;
  }
  for (size_t i = 0; i < n; i++)
    if (pt[i].lat < best) {
      best = pt[i].lat;
      fprintf(p->dat, "%lld %.6g %.6g\n", (long long)pt[i].run, pt[i].e,
              pt[i].lat);
    }
  free(pt);
  char title[600];
  snprintf(title, sizeof title, "Energy against latency of %zu runs (kind "
           "%s)", n, kind);
  script_begin(p, title, 900, 620);
  fprintf(p->gp,
          "set xlabel 'energy per frame (uJ)'\n"
          "set ylabel 'latency per frame (us, first input spike to "
          "decision)'\n"
          "set cblabel 'accuracy (%%)'\nset grid lc rgb '#dddddd'\n"
          "set key below\nset bmargin 6\nset offsets graph 0.08, graph 0.08, graph 0.08, "
          "graph 0.08\nset cbrange [%.6g:%.6g]\n"
          "set palette defined (0 '#b2182b', 0.5 '#fddbc7', 1 '#2166ac')\n"
          "plot '%s.dat' index 1 using 2:3 with steps lw 2 lc rgb '#555555' "
          "title 'Pareto front', \\\n"
          "  '' index 1 using 2:3 with points pt 6 ps 3 lw 2 lc rgb "
          "'#555555' notitle, \\\n"
          "  '' index 0 using 2:3:4 with points pt 7 ps 2 lc palette "
          "title 'run (colour: accuracy)', \\\n"
          "  '' index 0 using 2:3:(sprintf('%%d', $1)) with labels offset "
          "1.2,0.6 font ',9' notitle\n",
          amin, amax, p->name);
  script_end(p);
}

/* ---- driver --------------------------------------------------------------- */

typedef void (*plot_fn)(struct plot *);
static const plot_fn plot_fns[TRACE_PLOT_NKINDS] = {
    [TRACE_PLOT_RASTER] = plot_raster,   [TRACE_PLOT_INACTIVE] = plot_inactive,
    [TRACE_PLOT_LINKS] = plot_links,     [TRACE_PLOT_BLOCKED] = plot_blocked,
    [TRACE_PLOT_CORES] = plot_cores,     [TRACE_PLOT_ENERGY] = plot_energy,
    [TRACE_PLOT_ENERGY_DIST] = plot_energy_dist,
    [TRACE_PLOT_LATENCY] = plot_latency, [TRACE_PLOT_NOC] = plot_noc,
    [TRACE_PLOT_PARETO] = plot_pareto};

/* The gnuplot program, found: a path with '/' must be executable; a bare
 * name is looked up in PATH.  Fills full (for messages) and returns 1. */
static int find_program(const char *prog, char *full, size_t len) {
  if (strchr(prog, '/')) {
    snprintf(full, len, "%s", prog);
    return access(prog, X_OK) == 0;
  }
  const char *path = getenv("PATH");
  while (path && *path) {
    const char *end = strchr(path, ':');
    size_t n = end ? (size_t)(end - path) : strlen(path);
    snprintf(full, len, "%.*s/%s", (int)n, n ? path : ".", prog);
    if (access(full, X_OK) == 0)
      return 1;
    path = end ? end + 1 : NULL;
  }
  snprintf(full, len, "%s", prog);
  return 0;
}

/* Run `gnuplot NAME.gp` in dir; 0 or a message in err. */
static int run_gnuplot(const char *prog, const char *dir, const char *name,
                       struct sm_err *err) {
  char script[64];
  snprintf(script, sizeof script, "%s.gp", name);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return sm_fail(err, SM_EIO, "cannot start %s: %s", prog, strerror(errno));
  if (pid == 0) {
    if (chdir(dir) == 0)
      execl(prog, prog, script, (char *)NULL);
    fprintf(stderr, "spikemesh plot: cannot run %s in %s: %s\n", prog, dir,
            strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return sm_fail(err, SM_EIO, "waiting for %s: %s", prog, strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return sm_fail(err, SM_EIO,
                   "%s failed on %s/%s (%s %d); its messages are above",
                   prog, dir, script,
                   WIFEXITED(status) ? "exit status" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  return 0;
}

/* Choose the run of per-run plots and the raster frame. */
static int pick_run(struct plot *p, struct sm_err *err) {
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

static int nonempty(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && sb.st_size > 0;
}

int trace_plot(const struct trace_plot_opts *o, FILE *log, struct sm_err *err) {
  struct stat sb;
  if (stat(o->db, &sb) != 0)
    return sm_fail(err, SM_ENOENT, "%s: %s", o->db, strerror(errno));
  if (!o->png && !o->svg)
    return sm_fail(err, SM_EINVAL, "no output format chosen");
  struct plot p;
  memset(&p, 0, sizeof p);
  p.o = o;
  int e = trace__open_ro(o->db, &p.c, err);
  if (e)
    return e;
  e = pick_run(&p, err);
  unsigned todo = 0;
  int no_frames = 0;
  for (int k = 0; k < TRACE_PLOT_NKINDS && !e; k++) {
    int asked = o->kinds ? (o->kinds >> k) & 1 : 1;
    if (!asked)
      continue;
    int per_run = k != TRACE_PLOT_NOC && k != TRACE_PLOT_PARETO;
    if (available(&p, k))
      todo |= 1u << k;
    else if (o->kinds)
      e = sm_fail(err, SM_ENOENT, "%s: %s", o->db, p.why);
    else if (per_run && (!p.run || !p.frames))
      no_frames = 1;
    else if (log)
      fprintf(log, "skipped: %s\n", p.why);
  }
  if (!e && no_frames && log)
    fprintf(log, "skipped the per-run plots: %s\n",
            p.run ? "the chosen run has no frames" :
                    "the database has no run with frames");
  if (!e && !todo)
    e = sm_fail(err, SM_ENOENT,
                "%s: nothing to plot: the database has no frames, no noc "
                "sweep and fewer than two runs", o->db);
  if (!e && mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
    e = sm_fail(err, SM_EIO, "%s: cannot create the output directory: %s",
                o->out_dir, strerror(errno));
  char prog[4096];
  int have_gnuplot = find_program(o->gnuplot, prog, sizeof prog);
  for (int k = 0; k < TRACE_PLOT_NKINDS && !e; k++) {
    if (!((todo >> k) & 1))
      continue;
    p.name = kinds[k].name;
    char dat[4096], gp[4096];
    snprintf(dat, sizeof dat, "%s/%s.dat", o->out_dir, p.name);
    snprintf(gp, sizeof gp, "%s/%s.gp", o->out_dir, p.name);
    p.dat = fopen(dat, "w");
    p.gp = p.dat ? fopen(gp, "w") : NULL;
    if (!p.dat || !p.gp) {
      e = sm_fail(err, SM_EIO, "%s: cannot write: %s", p.dat ? gp : dat,
                  strerror(errno));
      if (p.dat)
        fclose(p.dat);
      break;
    }
    plot_fns[k](&p);
    int bad = ferror(p.dat) | ferror(p.gp);
    bad |= fclose(p.dat) | fclose(p.gp);
    if (bad) {
      e = sm_fail(err, SM_EIO, "%s: write error (disk full?)", o->out_dir);
      break;
    }
    if (!have_gnuplot) {
      if (log)
        fprintf(log, "wrote %s and %s\n", gp, dat);
      continue;
    }
    e = run_gnuplot(prog, o->out_dir, p.name, err);
    for (int f = 0; f < 2 && !e; f++) {
      if (!(f ? o->svg : o->png))
        continue;
      char img[4096];
      snprintf(img, sizeof img, "%s/%s.%s", o->out_dir, p.name,
               f ? "svg" : "png");
      if (!nonempty(img))
        e = sm_fail(err, SM_EIO, "%s: gnuplot left no image (script %s)", img,
                    gp);
      else if (log)
        fprintf(log, "wrote %s (script %s, data %s)\n", img, gp, dat);
    }
  }
  sqlite3_close(p.c);
  if (!e && !have_gnuplot)
    e = sm_fail(err, SM_EIO,
                "gnuplot not found (%s%s): the scripts and data are in %s; "
                "install gnuplot (Debian: apt-get install gnuplot-nox) and "
                "run `gnuplot KIND.gp` in that directory, or give the "
                "program with --gnuplot PATH",
                prog, strchr(o->gnuplot, '/') ? " is not executable"
                                              : " is not on PATH",
                o->out_dir);
  return e;
}

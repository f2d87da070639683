/*
 * plot_gp.c -- the gnuplot side of `spikemesh plot`: each kind's script
 * (KIND.gp), and running gnuplot on it.
 *
 * A script reads its data file by its bare name and renders KIND.png
 * and/or KIND.svg; gnuplot runs in the output directory, so `gnuplot
 * KIND.gp` there reproduces the image and a user restyles a plot by
 * editing the script.  The scripts are written from what the data writers
 * left in struct plot_facts; nothing here reads the database.
 */
#include "traces/plot-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Layer colours, shared by the raster's points and window shading. */
static const char *const layer_colour[] = {"#1f77b4", "#d62728", "#2ca02c",
                                           "#9467bd", "#ff7f0e", "#8c564b",
                                           "#e377c2", "#17becf"};

void trace__plot_gp_str(FILE *f, const char *s) {
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'')
      fputc('\'', f);
    fputc(*s == '\n' ? ' ' : *s, f);
  }
  fputc('\'', f);
}

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
          p->name, trace_plot_summary(trace_plot_parse(p->name)), p->name,
          p->name, p->o->png ? "png" : "", p->o->png && p->o->svg ? " " : "",
          p->o->svg ? "svg" : "", w, h, w, h, p->name);
  trace__plot_gp_str(p->gp, title);
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

/* ---- the scripts ----------------------------------------------------------- */

/* The raster's layer windows, shaded and labelled, every tw us. */
static void raster_windows(struct plot *p, int64_t nl, double tw) {
  double end = (double)nl * tw;
  fprintf(p->gp, "set xrange [0:%.6g]\nset xtics %.6g\n",
          end > p->f.t_max_us ? end : p->f.t_max_us, tw);
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

static void script_raster(struct plot *p) {
  int64_t nl = p->f.nlayers;
  double tw = p->f.window_us;
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
  if (tw > 0)
    raster_windows(p, nl, tw);
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

static void script_inactive(struct plot *p) {
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

/* Axes of a mesh picture: x right, y down, (0,0) top-left as in noc/. */
static void mesh_axes(struct plot *p) {
  fprintf(p->gp,
          "set xrange [-0.6:%d.6]\nset yrange [%d.6:-0.6]\n"
          "set xtics 1\nset ytics 1\nset xlabel 'x'\nset ylabel 'y'\n"
          "set size ratio -1\nset palette defined (0 '#f7fbff', 0.35 "
          "'#6baed6', 0.7 '#ef6548', 1 '#7f0000')\n",
          p->mesh_w - 1, p->mesh_h - 1);
}

static void script_links(struct plot *p) {
  int w = p->mesh_w, h = p->mesh_h;
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
          p->f.vmax > 0 ? p->f.vmax : 1,
          w > h ? 20.0 / w < 3.5 ? 20.0 / w : 3.5 : 20.0 / h < 3.5 ? 20.0 / h : 3.5,
          p->name,
          p->f.nlinks ? ", \\\n  '' index 1 using 3:4:5:6:7 with vectors head "
                        "filled size 0.08,25 lw 4 lc palette notitle"
                      : "");
  script_end(p);
}

/* A node heatmap of p->f.what per frame, in p->f.unit. */
static void node_heatmap(struct plot *p, const char *title) {
  int64_t nodes = (int64_t)p->mesh_w * p->mesh_h;
  script_begin(p, title, 760, 680);
  mesh_axes(p);
  char cb[256];
  snprintf(cb, sizeof cb, "%s per frame (%s)", p->f.what, p->f.unit);
  fprintf(p->gp, "set cblabel ");
  trace__plot_gp_str(p->gp, cb);
  fprintf(p->gp,
          "\nset cbrange [0:%.6g]\n"
          "set style fill solid 1.0 border rgb '#999999'\n"
          "plot '%s.dat' using 2:3:(0.5):(0.5):4 with boxxyerror fc palette "
          "notitle%s",
          p->f.vmax > 0 ? p->f.vmax : 1, p->name,
          nodes <= 256 ? ", \\\n" : "\n");
  if (nodes <= 256)
    fprintf(p->gp, "  '' using 2:3:(sprintf('%%.4g%%s%%s', $4, "
                   "strlen(strcol(5)) ? \"\\n\" : '', strcol(5))) with labels "
                   "font ',9' notitle\n");
  script_end(p);
}

static void script_blocked(struct plot *p) {
  char title[512];
  run_title(p, title, sizeof title,
            "Time flits wait at each router's input buffers");
  node_heatmap(p, title);
}

static void script_cores(struct plot *p) {
  char title[512];
  run_title(p, title, sizeof title, "Spikes sent by the cores of each node");
  node_heatmap(p, title);
}

static void script_energy(struct plot *p) {
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
          p->f.frame_lo - 0.5, p->f.frame_hi + 0.5,
          p->frames <= 100 ? "border rgb 'white'" : "noborder", p->name);
  script_end(p);
}

/* A histogram's script: p->f.n values, their mean and p99 marked. */
static void hist_script(struct plot *p, const char *xlabel, const char *title) {
  double mean = p->f.mean, p99 = p->f.p99;
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
          xlabel, mean, mean, p99, p99, p->name, p->f.n, mean, p99);
  script_end(p);
}

static void script_energy_dist(struct plot *p) {
  char title[512];
  run_title(p, title, sizeof title, "Distribution of the energy per frame");
  hist_script(p, "energy per frame (uJ)", title);
}

static void script_latency(struct plot *p) {
  char title[512];
  run_title(p, title, sizeof title, "Packet latency");
  hist_script(p, "latency, send to ejection (ns)", title);
}

static void script_noc(struct plot *p) {
  const struct plot_facts *f = &p->f;
  script_begin(p, "Latency against offered load (noc sweeps)", 900, 560);
  fprintf(p->gp, "array runs[%d] = [", f->ncurves);
  for (int i = 0; i < f->ncurves; i++)
    fprintf(p->gp, "%s%lld", i ? ", " : "", (long long)f->curve_run[i]);
  fprintf(p->gp, "]\narray names[%d] = [", f->ncurves);
  for (int i = 0; i < f->ncurves; i++) {
    fprintf(p->gp, "%s", i ? ", " : "");
    trace__plot_gp_str(p->gp, f->curve_name[i]);
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

static void script_pareto(struct plot *p) {
  char title[600];
  snprintf(title, sizeof title, "Energy against latency of %zu runs (kind "
           "%s)", p->f.n, p->f.pareto_kind);
  script_begin(p, title, 900, 620);
  fprintf(p->gp,
          "set xlabel 'energy per frame (uJ)'\n"
          "set ylabel 'latency per frame (us, first input spike to "
          "decision)'\n"
          "set cblabel 'accuracy (%%)'\nset grid lc rgb '#dddddd'\n"
          "set key below\nset bmargin 6\nset offsets graph 0.08, graph 0.08, graph 0.08, "
          "graph 0.08\nset cbrange [%.6g:%.6g]\n"
          "set palette defined (0 '#b2182b', 0.5 '#fddbc7', 1 '#2166ac')\n"
          "plot '%s.dat' index 1 using 2:3 with points pt 6 ps 3 lw 2 lc rgb "
          "'#555555' title 'Pareto front over energy, latency and accuracy "
          "(circled)', \\\n"
          "  '' index 0 using 2:3:4 with points pt 7 ps 2 lc palette "
          "title 'run (colour: accuracy)', \\\n"
          "  '' index 0 using 2:3:(sprintf('%%d', $1)) with labels offset "
          "1.2,0.6 font ',9' notitle\n",
          p->f.amin, p->f.amax, p->name);
  script_end(p);
}

void trace__plot_script(struct plot *p, int k) {
  typedef void (*script_fn)(struct plot *);
  static const script_fn fns[TRACE_PLOT_NKINDS] = {
      [TRACE_PLOT_RASTER] = script_raster,
      [TRACE_PLOT_INACTIVE] = script_inactive,
      [TRACE_PLOT_LINKS] = script_links,
      [TRACE_PLOT_BLOCKED] = script_blocked,
      [TRACE_PLOT_CORES] = script_cores,
      [TRACE_PLOT_ENERGY] = script_energy,
      [TRACE_PLOT_ENERGY_DIST] = script_energy_dist,
      [TRACE_PLOT_LATENCY] = script_latency,
      [TRACE_PLOT_NOC] = script_noc,
      [TRACE_PLOT_PARETO] = script_pareto};
  fns[k](p);
}

/* ---- running gnuplot -------------------------------------------------------- */

int trace__plot_find_program(const char *prog, char *full, size_t len) {
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

int trace__plot_run_gnuplot(const char *prog, const char *dir,
                            const char *name, struct sm_err *err) {
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

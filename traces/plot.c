/*
 * plot.c -- figures from a recorder database, drawn by gnuplot: the kinds
 * and trace_plot(), which writes each plot and runs gnuplot on it.
 *
 * Each plot is two files written side by side in the output directory: a
 * data file (KIND.dat, traces/plot_data.c) and a gnuplot script (KIND.gp,
 * traces/plot_gp.c) that reads it by its bare name and renders KIND.png
 * and/or KIND.svg.
 *
 * Rejected: a plotting library linked into the program (gnuplot is the only
 * tool needed, and it is optional at run time: without it the scripts and
 * data are still written); images drawn by gnuplot from SQL it runs itself
 * (the scripts would then need the sqlite3 shell and the database beside
 * them).
 */
#include "traces/plot-int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

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

/* The kinds to draw, as bits: those asked for (all must have data), or by
 * default every kind with data, the others noted on log. */
static int choose_kinds(struct plot *p, FILE *log, unsigned *todo,
                        struct sm_err *err) {
  const struct trace_plot_opts *o = p->o;
  int no_frames = 0, e = 0;
  *todo = 0;
  for (int k = 0; k < TRACE_PLOT_NKINDS && !e; k++) {
    int asked = o->kinds ? (o->kinds >> k) & 1 : 1;
    if (!asked)
      continue;
    int per_run = k != TRACE_PLOT_NOC && k != TRACE_PLOT_PARETO;
    if (trace__plot_available(p, k))
      *todo |= 1u << k;
    else if (o->kinds)
      e = sm_fail(err, SM_ENOENT, "%s: %s", o->db, p->why);
    else if (per_run && (!p->run || !p->frames))
      no_frames = 1;
    else if (log)
      fprintf(log, "skipped: %s\n", p->why);
  }
  if (!e && no_frames && log)
    fprintf(log, "skipped the per-run plots: %s\n",
            p->run ? "the chosen run has no frames" :
                     "the database has no run with frames");
  if (!e && !*todo)
    e = sm_fail(err, SM_ENOENT,
                "%s: nothing to plot: the database has no frames, no noc "
                "sweep and fewer than two runs", o->db);
  return e;
}

static int nonempty(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && sb.st_size > 0;
}

/* Write kind k's data and script; with prog, run it and check the images. */
static int write_kind(struct plot *p, int k, const char *prog, FILE *log,
                      struct sm_err *err) {
  const struct trace_plot_opts *o = p->o;
  p->name = kinds[k].name;
  char dat[4096], gp[4096];
  snprintf(dat, sizeof dat, "%s/%s.dat", o->out_dir, p->name);
  snprintf(gp, sizeof gp, "%s/%s.gp", o->out_dir, p->name);
  struct sm_write wd, wg;
  int e = sm_write_begin(&wd, dat, err);
  if (e)
    return e;
  if ((e = sm_write_begin(&wg, gp, err))) {
    sm_write_abort(&wd);
    return e;
  }
  p->dat = wd.fp;
  p->gp = wg.fp;
  memset(&p->f, 0, sizeof p->f);
  trace__plot_data(p, k);
  trace__plot_script(p, k);
  for (int i = 0; i < p->f.ncurves; i++)
    free(p->f.curve_name[i]);
  p->dat = p->gp = NULL;
  e = sm_write_commit(&wd, err);
  if (e)
    sm_write_abort(&wg);
  else
    e = sm_write_commit(&wg, err);
  if (e)
    return e;
  if (!prog) {
    if (log)
      fprintf(log, "wrote %s and %s\n", gp, dat);
    return 0;
  }
  e = trace__plot_run_gnuplot(prog, o->out_dir, p->name, err);
  for (int f = 0; f < 2 && !e; f++) {
    if (!(f ? o->svg : o->png))
      continue;
    char img[4096];
    snprintf(img, sizeof img, "%s/%s.%s", o->out_dir, p->name,
             f ? "svg" : "png");
    if (!nonempty(img))
      e = sm_fail(err, SM_EIO, "%s: gnuplot left no image (script %s)", img,
                  gp);
    else if (log)
      fprintf(log, "wrote %s (script %s, data %s)\n", img, gp, dat);
  }
  return e;
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
  e = trace__plot_pick_run(&p, err);
  unsigned todo = 0;
  if (!e)
    e = choose_kinds(&p, log, &todo, err);
  if (!e && mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
    e = sm_fail(err, SM_EIO, "%s: cannot create the output directory: %s",
                o->out_dir, strerror(errno));
  char prog[4096];
  int have_gnuplot = trace__plot_find_program(o->gnuplot, prog, sizeof prog);
  for (int k = 0; k < TRACE_PLOT_NKINDS && !e; k++)
    if ((todo >> k) & 1)
      e = write_kind(&p, k, have_gnuplot ? prog : NULL, log, err);
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

/*
 * plot-int.h -- private to the plot code of traces/: what its three files
 * share.
 *
 *   plot.c         the kinds' names and trace_plot(), the driver
 *   plot_data.c    the queries: what the database holds, and each kind's
 *                  data file (KIND.dat) from it
 *   plot_gp.c      each kind's gnuplot script (KIND.gp), and running gnuplot
 *
 * A kind's data writer runs first and leaves in struct plot_facts what its
 * script needs (ranges, counts, legend names), so the scripts run no SQL.
 */
#ifndef SPIKEMESH_PLOT_INT_H
#define SPIKEMESH_PLOT_INT_H

#include "traces/trace-int.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The noc plot draws at most this many curves (a legend of 64 is already
 * unreadable). */
#define TRACE__PLOT_MAX_CURVES 64

/* What a data writer found that its script needs. */
struct plot_facts {
  int64_t nlayers;          /* raster: layers drawn */
  double window_us;         /* raster: one layer window, us (0: unknown) */
  double t_max_us;          /* raster: the last spike, us */
  double frame_lo, frame_hi; /* energy: first and last frame */
  const char *what, *unit;  /* heatmaps: the quantity and its unit */
  double vmax;              /* links and heatmaps: colour range top */
  int nlinks;               /* links: arrows written */
  size_t n;                 /* histograms: values; pareto: runs */
  double mean, p99;         /* histograms */
  double amin, amax;        /* pareto: accuracy colour range (%) */
  const char *pareto_kind;  /* pareto: the runs' kind, "sweep" or "run" */
  int ncurves;              /* noc: curves */
  int64_t curve_run[TRACE__PLOT_MAX_CURVES];  /* noc: their runs */
  char *curve_name[TRACE__PLOT_MAX_CURVES];   /* noc: their legends (owned) */
};

struct plot {
  struct sqlite3 *c;
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
  struct plot_facts f; /* the kind being written: from its data writer */
};

/* ---- plot_data.c ---- */

/* Choose the run of per-run plots and the raster frame (o->run, o->frame,
 * else the newest run with frames and its first frame with spikes). */
int trace__plot_pick_run(struct plot *p, struct sm_err *err);
/* 1 if kind k can be drawn; else 0 with p->why saying what is missing. */
int trace__plot_available(struct plot *p, int k);
/* Write kind k's data file to p->dat and fill p->f. */
void trace__plot_data(struct plot *p, int k);

/* ---- plot_gp.c ---- */

/* A string as a gnuplot single-quoted literal ('' stands for '). */
void trace__plot_gp_str(FILE *f, const char *s);
/* Write kind k's script to p->gp from p->f. */
void trace__plot_script(struct plot *p, int k);
/* The gnuplot program, found: a path with '/' must be executable; a bare
 * name is looked up in PATH.  Fills full (for messages) and returns 1. */
int trace__plot_find_program(const char *prog, char *full, size_t len);
/* Run `gnuplot NAME.gp` in dir; 0 or a message in err. */
int trace__plot_run_gnuplot(const char *prog, const char *dir,
                            const char *name, struct sm_err *err);

#endif /* SPIKEMESH_PLOT_INT_H */

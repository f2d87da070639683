/*
 * sweep.h -- `spikemesh sweep`: a grid (or list) of configuration
 * overrides, every point an independent run of a model on its own
 * hardware, run in parallel on libuv's thread pool into one recorder
 * database with one run row (kind 'sweep') per point.
 *
 * Private to cli/ (the program and its tests).  The grid file format and
 * the run keys (run.model, run.data, run.arch, run.mesh, run.frames) are
 * described in doc/sweep.md.
 */
#ifndef SPIKEMESH_CLI_SWEEP_H
#define SPIKEMESH_CLI_SWEEP_H

#include <stdatomic.h>

#include "cli/options.h"
#include "traces/trace.h"

#define CLI_SWEEP_MAX_POINTS 10000

/* What happened to a point in this invocation. */
enum cli_sweep_state {
  CLI_SWEEP_PENDING,     /* not started (the sweep was interrupted first) */
  CLI_SWEEP_SKIPPED,     /* complete in the database already */
  CLI_SWEEP_DONE,        /* run (or resumed) to completion now */
  CLI_SWEEP_INTERRUPTED, /* stopped after a frame (Ctrl-C) */
  CLI_SWEEP_FAILED       /* the run failed (err says why) */
};

/* A point's figures, from the database (all its frames). */
struct cli_sweep_stat {
  int64_t frames;        /* frames recorded */
  double accuracy;       /* fraction correct */
  double e_total_uj, e_sop_uj, e_hop_uj, e_static_uj; /* uJ per frame */
  double latency_us;     /* us, mean first input spike to decision */
  double hops;           /* link traversals per frame */
  double late;           /* late spikes per frame */
  double peak_util;      /* busiest link's busy/frame time; < 0: not recorded */
  int pareto;            /* on the energy-latency-accuracy Pareto front */
};

struct cli_sweep_point {
  char *key;             /* point_key: canonical JSON of its overrides */
  char *label;           /* the values that make it this point, for tables */
  json_t *over;          /* its overrides (flat keys, run.* canonical) */
  char *model, *data, *arch; /* run keys (arch: preset name or file) */
  uint32_t mesh_w, mesh_h;   /* 0 x 0: the mapper's smallest square */
  uint64_t frames;       /* frames to run, 0: the whole test set */
  struct cli_options o;  /* effective options */
  struct sm_conf conf;   /* over o */
  /* filled by cli_sweep_run */
  enum cli_sweep_state state;
  int64_t run_id;        /* -1: none */
  int64_t first_frame;   /* resumed from this frame (0: from the start) */
  double secs;           /* s: wall time of its run in this invocation */
  struct cli_sweep_stat st;
  struct sm_err err;     /* why it failed */
};

struct cli_sweep {
  char *source;          /* the grid file, for messages */
  size_t npoints;
  struct cli_sweep_point *points;
  /* filled by cli_sweep_run */
  double wall_s;         /* s, first point started to last one ended */
  double sum_s;          /* s, sum of the points' times */
  unsigned peak_workers; /* most points simulating at the same moment */
};

/* Defaults of the run keys when the file does not set them. */
struct cli_sweep_defaults {
  const char *model;     /* model file */
  const char *data;      /* data set directory */
  const char *arch;      /* preset name or file */
  uint64_t frames;       /* 0: all */
};

/* Parse a grid (text of `source`), check every key, type and value against
 * the program's option tables and the run keys, and expand it into points
 * (each with its effective options: defaults, preset, base, point).  Errors
 * name the source, the key and what was expected. */
int cli_sweep_parse(const char *text, size_t len, const char *source,
                    const struct cli_sweep_defaults *d, struct cli_sweep **out,
                    struct sm_err *err);
int cli_sweep_load(const char *path, const struct cli_sweep_defaults *d,
                   struct cli_sweep **out, struct sm_err *err);
void cli_sweep_free(struct cli_sweep *s); /* NULL-safe */
/* Override run.frames of every point (the command's --frames). */
void cli_sweep_set_frames(struct cli_sweep *s, uint64_t frames);

struct cli_sweep_opts {
  const char *db;        /* database file (created if needed) */
  unsigned jobs;         /* points at a time (>= 1) */
  enum trace_detail detail;
  int progress;          /* progress bar on stderr (a terminal) */
  int catch_sigint;      /* Ctrl-C stops after the current frames */
  FILE *out;             /* a line per point, summary and times; NULL: none */
  atomic_int *stop;      /* set to stop after the current frames (or NULL) */
  /* Called on the worker thread after each frame of point `point` (or
   * NULL): for embedders' progress and for tests. */
  void (*frame_hook)(void *ctx, size_t point, int64_t frame);
  void *hook_ctx;
};

/* Run every point not complete in the database; then read every point's
 * figures back and mark the Pareto front.  Models and data sets are loaded
 * once and shared read-only by the workers.  Returns 0 when every point is
 * complete, SM_EINTR when stopped, the first point's error when a point
 * failed, or an error (bad model, data, mesh or database) found before
 * anything ran. */
int cli_sweep_run(struct cli_sweep *s, const struct cli_sweep_opts *opt,
                  struct sm_err *err);

/* Print the summary table (every point's figures, Pareto points marked)
 * and the Pareto-optimal points. */
void cli_sweep_print_summary(const struct cli_sweep *s, FILE *out);

#endif /* SPIKEMESH_CLI_SWEEP_H */

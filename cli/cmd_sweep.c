/*
 * cmd_sweep.c -- `spikemesh sweep GRID.json`: every point of a grid of
 * configuration overrides as an independent run, in parallel, into one
 * database; complete points are skipped on a re-run; a summary table with
 * the Pareto-optimal points, and the parallel speed-up (sum of the points'
 * times against the wall time).  The work is in run/grid.c and run/sweep.c;
 * this file parses the arguments and prints.
 */
#include "cli/cli.h"
#include "run/run.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>


static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh sweep GRID.json [OPTIONS]\n"
          "\n"
          "Runs every point of GRID.json -- a grid of values per key and/or a\n"
          "list of points, over the configuration keys a run takes (sim.*,\n"
          "core.*, energy.*, map.*, preset.*, noc.*: spikemesh config; others\n"
          "are refused) and the run keys run.model, run.data, run.arch,\n"
          "run.mesh (WxH|auto: the same as noc.width and noc.height, which must\n"
          "not say otherwise), run.frames -- as an independent simulation,\n"
          "several at a time,\n"
          "into one database with a run (kind 'sweep') per point.  Points\n"
          "already complete in the database are skipped; an unfinished one\n"
          "is resumed; a point another process is recording is reported as\n"
          "held (naming that process) and not run.  Prints a line per\n"
          "point, a summary table (accuracy,\n"
          "energy per frame by term, latency, hops, late spikes, peak link\n"
          "utilization), the Pareto-optimal points (energy, latency,\n"
          "accuracy), and the sum of the points' times against the wall\n"
          "time.  Format and examples: doc/sweep.md.\n"
          "\n"
          "Options:\n"
          "  --db FILE       database [GRID with .json replaced by .db]\n"
          "  --jobs N        points at a time [the number of cores: %u]\n"
          "  --detail LEVEL  what each run records: " TRACE_DETAIL_CHOICES
          "\n"
          "                  [link; peak link utilization needs link or more]\n"
          "  --frames N      run.frames of every point (overrides the file)\n"
          "  --model FILE    run.model where the file sets none ["
          MODEL_DEFAULT_MODEL " in the data directory]\n"
          "  --data DIR      run.data where the file sets none\n"
          "                  [" TRAIN_DEFAULT_DATA "],\n"
          "                  or synthetic:SEED (no labels)\n"
          "  --quiet         no per-point lines and no progress bar\n"
          "\n"
          "Ctrl-C stops every running point after its current frame (recorded\n"
          "as 'interrupted'; the same command resumes); a second Ctrl-C\n"
          "aborts.  Exit status: 0 all points complete, 1 a point failed,\n"
          "was held by another process or the sweep was interrupted, 2 a\n"
          "bad grid, model, data set, mesh or database (found before\n"
          "anything runs).\n",
          uv_available_parallelism());
}

static void print_summary(const struct run_sweep *s, FILE *out) {
  static const char *const state[] = {"pending", "skipped", "done",
                                      "interrupted", "failed", "held"};
  fprintf(out, "\nsummary, means per frame (* = Pareto-optimal: lower "
               "energy, lower latency, higher accuracy):\n");
  fprintf(out, "%4s %5s %-11s %6s %7s %9s %9s %9s %9s %9s %9s %7s %6s %7s  "
               "%s\n",
          "#", "run", "state", "frames", "acc %", "E uJ", "SOP uJ", "hop uJ",
          "stat uJ", "lat us", "hops", "late", "util", "time s", "point");
  size_t npar = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    const struct run_sweep_point *p = &s->points[i];
    const struct trace_run_stats *t = &p->st;
    char util[16] = "-", secs[16] = "-";
    if (t->peak_util >= 0)
      snprintf(util, sizeof util, "%.3f", t->peak_util);
    if (p->state == RUN_SWEEP_DONE || p->state == RUN_SWEEP_INTERRUPTED ||
        p->state == RUN_SWEEP_FAILED)
      snprintf(secs, sizeof secs, "%.2f", p->secs);
    npar += p->pareto;
    if (!t->frames) {
      fprintf(out, "%3zu%c %5lld %-11s %6d %7s %9s %9s %9s %9s %9s %9s %7s "
                   "%6s %7s  %s\n",
              i + 1, ' ', (long long)p->run_id, state[p->state], 0, "-", "-",
              "-", "-", "-", "-", "-", "-", "-", secs, p->label);
      continue;
    }
    char acc[16] = "n/a"; /* no labelled frames (synthetic:SEED data) */
    if (t->accuracy >= 0)
      snprintf(acc, sizeof acc, "%.2f", 100.0 * t->accuracy);
    fprintf(out, "%3zu%c %5lld %-11s %6lld %7s %9.4f %9.4f %9.4f %9.4f "
                 "%9.3f %9.1f %7.2f %6s %7s  %s\n",
            i + 1, p->pareto ? '*' : ' ', (long long)p->run_id, state[p->state],
            (long long)t->frames, acc, t->e_total_uj,
            t->e_sop_uj, t->e_hop_uj, t->e_static_uj, t->latency_us, t->hops,
            t->late, util, secs, p->label);
  }
  fprintf(out, "\nPareto-optimal points (energy, latency, accuracy): %zu of "
               "%zu\n", npar, s->npoints);
  for (size_t i = 0; i < s->npoints; i++) {
    const struct run_sweep_point *p = &s->points[i];
    char acc[16] = "accuracy n/a";
    if (p->st.accuracy >= 0)
      snprintf(acc, sizeof acc, "%.2f%%", 100.0 * p->st.accuracy);
    if (p->pareto)
      fprintf(out, "  #%zu (run %lld): %.4f uJ/frame, %.3f us, %s  %s\n",
              i + 1, (long long)p->run_id, p->st.e_total_uj,
              p->st.latency_us, acc, p->label);
  }
}

/* What the sweep's callbacks draw on. */
struct sweep_view {
  FILE *out;               /* point lines; NULL: quiet */
  struct cli_progress bar;
};

static void on_point(void *ctx, const struct run_sweep *s, size_t i) {
  struct sweep_view *v = ctx;
  if (!v->out)
    return;
  const struct run_sweep_point *p = &s->points[i];
  double n = (double)p->nframes;
  cli_progress_clear(&v->bar);
  char acc[16] = "n/a"; /* synthetic:SEED data has no labels */
  if (strncmp(p->data, "synthetic:", 10))
    snprintf(acc, sizeof acc, "%.2f%%",
             n ? 100.0 * (double)p->correct / n : 0.0);
  if (p->state == RUN_SWEEP_HELD)
    fprintf(v->out, "point %zu/%zu held, not run: %s  %s\n", i + 1,
            s->npoints, p->err.msg, p->label);
  else if (p->state == RUN_SWEEP_DONE)
    fprintf(v->out,
            "point %zu/%zu done in %.2f s (run %lld%s): accuracy %s, "
            "%.4f uJ/frame  %s\n",
            i + 1, s->npoints, p->secs, (long long)p->run_id,
            p->first_frame ? ", resumed" : "", acc,
            n ? p->e_total_uj / n : 0.0, p->label);
  else
    fprintf(v->out, "point %zu/%zu %s after %lld of %zu frames (run "
            "%lld)%s%s  %s\n",
            i + 1, s->npoints,
            p->state == RUN_SWEEP_FAILED ? "FAILED" : "interrupted",
            p->frames_run, p->nframes, (long long)p->run_id,
            p->state == RUN_SWEEP_FAILED ? ": " : "",
            p->state == RUN_SWEEP_FAILED ? p->err.msg : "", p->label);
  fflush(v->out);
}

static void on_tick(void *ctx, const struct run_sweep *s,
                    const struct run_sweep_progress *pr) {
  struct sweep_view *v = ctx;
  char extra[200], best[160] = "";
  if (pr->best >= 0) {
    const struct run_sweep_point *b = &s->points[pr->best];
    snprintf(best, sizeof best, ", best #%d %.2f%% %.3f uJ", pr->best + 1,
             100.0 * (double)b->correct / (double)b->nframes,
             b->e_total_uj / (double)b->nframes);
  }
  snprintf(extra, sizeof extra, "; %zu/%zu points, %zu running%s",
           pr->points_done, s->npoints, pr->running, best);
  v->bar.total = (size_t)pr->frames_total;
  cli_progress_draw(&v->bar, (size_t)pr->frames_done, extra, 1);
}

struct sweep_args {
  struct cli_common cm;
  const char *grid, *model, *data;
  uint64_t jobs;
  int quiet;
};

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_args(int argc, char **argv, struct sweep_args *a) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "sweep", CLI_F_DB | CLI_F_DETAIL | CLI_F_FRAMES);
  a->cm.detail = TRACE_LINK;
  a->data = TRAIN_DEFAULT_DATA;
  a->jobs = uv_available_parallelism();
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int t = cli_common_arg(&a->cm, argc, argv, &i);
    if (t < 0)
      return -1;
    if (t)
      continue;
    if (cli_is_help(s)) {
      usage(stdout);
      return 1;
    } else if (!strcmp(s, "--jobs") && i + 1 < argc) {
      if (sm_parse_u64(argv[++i], &a->jobs) || a->jobs < 1 || a->jobs > 1024) {
        cli_usage_error("sweep", "--jobs '%s': expected 1..1024", argv[i]);
        return -1;
      }
    } else if (!strcmp(s, "--model") && i + 1 < argc) {
      a->model = argv[++i];
    } else if (!strcmp(s, "--data") && i + 1 < argc) {
      a->data = argv[++i];
    } else if (!strcmp(s, "--quiet")) {
      a->quiet = 1;
    } else if (s[0] == '-' || a->grid) {
      cli_usage_error("sweep", "unknown or incomplete option '%s'", s);
      return -1;
    } else {
      a->grid = s;
    }
  }
  if (!a->grid) {
    cli_usage_error("sweep", "no grid file given (spikemesh sweep GRID.json; "
                    "--help)");
    return -1;
  }
  return 0;
}

static void print_times(const struct run_sweep *s, uint64_t jobs) {
  size_t ran = 0, skipped = 0, held = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    ran += s->points[i].state == RUN_SWEEP_DONE ||
           s->points[i].state == RUN_SWEEP_INTERRUPTED ||
           s->points[i].state == RUN_SWEEP_FAILED;
    skipped += s->points[i].state == RUN_SWEEP_SKIPPED;
    held += s->points[i].state == RUN_SWEEP_HELD;
  }
  printf("\n%zu points run, %zu skipped (complete already)", ran, skipped);
  if (held)
    printf(", %zu held by another process (not run)", held);
  printf("\n");
  if (s->sum_s > 0)
    printf("time: sum of point times %.2f s, wall %.2f s, wall/sum %.3f "
           "(--jobs %llu; at most %u points simulated at once)\n",
           s->sum_s, s->wall_s, s->wall_s / s->sum_s,
           (unsigned long long)jobs, s->peak_workers);
}

int cli_cmd_sweep(int argc, char **argv) {
  struct sweep_args a;
  int p = parse_args(argc, argv, &a);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  char mpath[1024], real[PATH_MAX], dbbuf[1024];
  struct sm_err err = {0};
  if (!a.model) {
    /* the path is part of every point key: the same file from any build
     * directory ("build/../models", "build-san/../models") is one path */
    if (cli_default_model(mpath, sizeof mpath, &err))
      snprintf(mpath, sizeof mpath, "%s", MODEL_DEFAULT_MODEL);
    a.model = realpath(mpath, real) ? real : mpath;
  }
  const char *db = a.cm.db;
  if (!db) {
    size_t n = strlen(a.grid);
    if (n > 5 && !strcmp(a.grid + n - 5, ".json"))
      n -= 5;
    snprintf(dbbuf, sizeof dbbuf, "%.*s.db", (int)n, a.grid);
    db = dbbuf;
  }
  struct run_sweep_defaults d = {.model = a.model,
                                 .data = a.data,
                                 .arch = MODEL_DEFAULT_PRESET,
                                 .frames = 0};
  struct run_sweep *s;
  if (run_sweep_load(a.grid, &d, &s, &err))
    return cli_report("sweep", &err);
  if (a.cm.frames)
    run_sweep_set_frames(s, a.cm.frames);
  printf("spikemesh sweep: %s, %zu points, %llu jobs, database %s (detail "
         "%s)\n",
         a.grid, s->npoints, (unsigned long long)a.jobs, db,
         trace_detail_name(a.cm.detail));
  fflush(stdout);
  struct sweep_view v = {.out = a.quiet ? NULL : stdout};
  cli_progress_init(&v.bar, 0, "frames", !a.quiet);
  struct run_sweep_opts opt = {
      .db = db,
      .jobs = (unsigned)a.jobs,
      .detail = a.cm.detail,
      .stop = cli_stop_install("\nspikemesh sweep: stopping after the "
                               "current frames (Ctrl-C again aborts)\n"),
      .on_tick = v.bar.on ? on_tick : NULL,
      .on_point = on_point,
      .hook_ctx = &v};
  int rc = run_sweep_run(s, &opt, &err);
  cli_stop_remove();
  if (v.bar.on) {
    fputc('\n', stderr);
    fflush(stderr);
  }
  if (rc && rc != SM_EINTR && rc != SM_EBUSY && !s->sum_s) {
    /* nothing ran: a bad input */
    run_sweep_free(s);
    return cli_report("sweep", &err);
  }
  print_summary(s, stdout);
  print_times(s, a.jobs);
  int exit_rc = CLI_EXIT_OK;
  if (rc)
    exit_rc = cli_report("sweep", &err) == CLI_EXIT_USAGE && rc != SM_EINTR
                  ? CLI_EXIT_USAGE
                  : CLI_EXIT_FAIL;
  run_sweep_free(s);
  return exit_rc;
}

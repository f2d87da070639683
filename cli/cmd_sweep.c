/*
 * cmd_sweep.c -- `spikemesh sweep GRID.json`: every point of a grid of
 * configuration overrides as an independent run, in parallel, into one
 * database; complete points are skipped on a re-run; a summary table with
 * the Pareto-optimal points, and the parallel speed-up (sum of the points'
 * times against the wall time).  The work is in cli/sweep.c.
 */
#include "cli/cli.h"
#include "run/run.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define DEFAULT_MODEL "fmnist-mlp.json"
#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh sweep GRID.json [OPTIONS]\n"
          "\n"
          "Runs every point of GRID.json -- a grid of values per key and/or a\n"
          "list of points, over any configuration key (spikemesh config) and\n"
          "the run keys run.model, run.data, run.arch, run.mesh (WxH|auto),\n"
          "run.frames -- as an independent simulation, several at a time,\n"
          "into one database with a run (kind 'sweep') per point.  Points\n"
          "already complete in the database are skipped; an unfinished one\n"
          "is resumed.  Prints a line per point, a summary table (accuracy,\n"
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
          "  --model FILE    run.model where the file sets none [models/"
          DEFAULT_MODEL "]\n"
          "  --data DIR      run.data where the file sets none\n"
          "                  [" DEFAULT_DATA "]\n"
          "  --quiet         no per-point lines and no progress bar\n"
          "\n"
          "Ctrl-C stops every running point after its current frame (recorded\n"
          "as 'interrupted'; the same command resumes); a second Ctrl-C\n"
          "aborts.  Exit status: 0 all points complete, 1 a point failed or\n"
          "the sweep was interrupted, 2 a bad grid, model, data set or mesh\n"
          "(found before anything runs).\n",
          uv_available_parallelism());
}

static int find_model(char *path, size_t len) {
  const char *dirs[] = {SM_SRCDIR "/models", SM_DATADIR};
  for (size_t i = 0; i < SM_ARRAY_LEN(dirs); i++) {
    snprintf(path, len, "%s/%s", dirs[i], DEFAULT_MODEL);
    if (access(path, R_OK) == 0)
      return 0;
  }
  return -1;
}

int cli_cmd_sweep(int argc, char **argv) {
  const char *grid = NULL, *db = NULL, *model = NULL, *data = DEFAULT_DATA;
  uint64_t jobs = uv_available_parallelism(), frames = 0;
  enum trace_detail detail = TRACE_LINK;
  int quiet = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--db") && i + 1 < argc) {
      db = argv[++i];
    } else if (!strcmp(a, "--jobs") && i + 1 < argc) {
      if (sm_parse_u64(argv[++i], &jobs) || jobs < 1 || jobs > 1024)
        return cli_usage_error("sweep", "--jobs '%s': expected 1..1024",
                               argv[i]);
    } else if (!strcmp(a, "--detail") && i + 1 < argc) {
      if (trace_detail_parse(argv[++i], &detail))
        return cli_usage_error("sweep", "--detail '%s': expected one of "
                               TRACE_DETAIL_CHOICES, argv[i]);
    } else if (!strcmp(a, "--frames") && i + 1 < argc) {
      if (sm_parse_u64(argv[++i], &frames) || frames == 0)
        return cli_usage_error("sweep", "--frames '%s': expected a count >= 1",
                               argv[i]);
    } else if (!strcmp(a, "--model") && i + 1 < argc) {
      model = argv[++i];
    } else if (!strcmp(a, "--data") && i + 1 < argc) {
      data = argv[++i];
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
    } else if (a[0] == '-' || grid) {
      return cli_usage_error("sweep", "unknown or incomplete option '%s'", a);
    } else {
      grid = a;
    }
  }
  if (!grid)
    return cli_usage_error("sweep", "no grid file given (spikemesh sweep "
                           "GRID.json; --help)");
  char mpath[1024], real[PATH_MAX], dbbuf[1024];
  if (!model) {
    if (find_model(mpath, sizeof mpath))
      snprintf(mpath, sizeof mpath, "models/%s", DEFAULT_MODEL);
    /* the path is part of every point key: the same file from any build
     * directory ("build/../models", "build-san/../models") is one path */
    model = realpath(mpath, real) ? real : mpath;
  }
  if (!db) {
    size_t n = strlen(grid);
    if (n > 5 && !strcmp(grid + n - 5, ".json"))
      n -= 5;
    snprintf(dbbuf, sizeof dbbuf, "%.*s.db", (int)n, grid);
    db = dbbuf;
  }
  struct sm_err err = {0};
  struct run_sweep_defaults d = {.model = model,
                                 .data = data,
                                 .arch = MODEL_DEFAULT_PRESET,
                                 .frames = 0};
  struct run_sweep *s;
  if (run_sweep_load(grid, &d, &s, &err))
    return cli_report("sweep", &err);
  if (frames)
    run_sweep_set_frames(s, frames);
  printf("spikemesh sweep: %s, %zu points, %llu jobs, database %s (detail "
         "%s)\n",
         grid, s->npoints, (unsigned long long)jobs, db,
         trace_detail_name(detail));
  fflush(stdout);
  struct run_sweep_opts opt = {.db = db,
                               .jobs = (unsigned)jobs,
                               .detail = detail,
                               .progress = !quiet && isatty(2),
                               .catch_sigint = 1,
                               .out = quiet ? NULL : stdout};
  int rc = run_sweep_run(s, &opt, &err);
  double wall = s->wall_s, sum = s->sum_s;
  int exit_rc = CLI_EXIT_OK;
  if (rc && rc != SM_EINTR && !sum) { /* nothing ran: a bad input */
    run_sweep_free(s);
    return cli_report("sweep", &err);
  }
  run_sweep_print_summary(s, stdout);
  size_t ran = 0, skipped = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    ran += s->points[i].state == RUN_SWEEP_DONE ||
           s->points[i].state == RUN_SWEEP_INTERRUPTED ||
           s->points[i].state == RUN_SWEEP_FAILED;
    skipped += s->points[i].state == RUN_SWEEP_SKIPPED;
  }
  printf("\n%zu points run, %zu skipped (complete already)\n", ran, skipped);
  if (sum > 0)
    printf("time: sum of point times %.2f s, wall %.2f s, wall/sum %.3f "
           "(--jobs %llu; at most %u points simulated at once)\n",
           sum, wall, wall / sum, (unsigned long long)jobs, s->peak_workers);
  if (rc)
    exit_rc = cli_report("sweep", &err) == CLI_EXIT_USAGE && rc != SM_EINTR
                  ? CLI_EXIT_USAGE
                  : CLI_EXIT_FAIL;
  run_sweep_free(s);
  return exit_rc;
}

/*
 * bench_recorder.c -- `spikemesh bench recorder`: what recording costs a
 * run, and how fast the writer inserts.
 *
 * The same frames of the same model run once per detail level in this
 * process, each into a fresh database: no database at all (the baseline),
 * then summary, layer, link, spike and packet; the ratio of each to
 * summary is printed (goals: link <= 1.10, packet <= 2.0).  Then the writer
 * alone: a stream puts spike rows (1000 per frame unit) as fast as it can
 * and the rows/s to committed rows is printed (goal: >= 500k rows/s).
 * The measurements are run_bench_recorder_level() and run_bench_writer()
 * (run/bench.c).
 */
#include "cli/cli.h"
#include "run/run.h"

#include <string.h>
#include <unistd.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh bench recorder --model FILE [--frames N] [--data "
          "DIR]\n"
          "                                [--rows N] [--dir DIR]\n"
          "\n"
          "Runs N frames (default 500) of the model on the default preset\n"
          "without a database and at each detail level, printing frames/s and\n"
          "the time ratio to summary; then N rows (default 2000000) through\n"
          "the writer alone, printing rows/s.  Databases go to DIR (default\n"
          "/tmp) and are removed.\n");
}

int cli_bench_recorder(int argc, char **argv) {
  const char *model_path = NULL, *data = TRAIN_DEFAULT_DATA, *dir = "/tmp";
  uint64_t nrows = 2000000;
  struct cli_common cm;
  cli_common_init(&cm, "bench", CLI_F_FRAMES);
  for (int i = 1; i < argc; i++) {
    int t = cli_common_arg(&cm, argc, argv, &i);
    if (t < 0)
      return CLI_EXIT_USAGE;
    if (t)
      continue;
    if (cli_is_help(argv[i])) {
      usage(stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
      model_path = argv[++i];
    } else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
      data = argv[++i];
    } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
      dir = argv[++i];
    } else if (!strcmp(argv[i], "--rows") && i + 1 < argc) {
      if (sm_parse_u64(argv[++i], &nrows) || nrows < 1000)
        return cli_usage_error("bench", "--rows '%s': expected >= 1000",
                               argv[i]);
    } else {
      return cli_usage_error("bench", "recorder: unknown option '%s'",
                             argv[i]);
    }
  }
  uint64_t frames = cm.frames ? cm.frames : 500;
  if (!model_path)
    return cli_usage_error("bench", "recorder needs --model FILE");
  struct sm_err err = {0};
  struct model *m = NULL;
  struct train_data dd;
  memset(&dd, 0, sizeof dd);
  if (model_load(model_path, &m, &err) ||
      train_data_load_dir(data, 1, &dd, &err)) {
    model_free(m);
    return cli_report("bench", &err);
  }
  char path[1024];
  snprintf(path, sizeof path, "%s/sm-bench-recorder-%d.db", dir, (int)getpid());
  printf("recorder cost: %llu frames of %s, default preset\n",
         (unsigned long long)frames, model_path);
  printf("  %-10s %10s %10s %12s %10s\n", "detail", "seconds", "frames/s",
         "rows", "/ summary");
  double base = 0;
  int rc = CLI_EXIT_OK;
  for (int d = -1; d <= TRACE_PACKET; d++) {
    double secs;
    uint64_t rows = 0;
    if (run_bench_recorder_level(m, &dd, (size_t)frames, d, path, &secs,
                                 &rows, &err)) {
      rc = cli_report("bench", &err);
      break;
    }
    if (d == TRACE_SUMMARY)
      base = secs;
    char ratio[32] = "-";
    if (d >= TRACE_SUMMARY)
      snprintf(ratio, sizeof ratio, "%.3f", secs / base);
    printf("  %-10s %10.3f %10.0f %12llu %10s\n",
           d < 0 ? "none" : trace_detail_name((enum trace_detail)d), secs,
           (double)frames / secs, (unsigned long long)rows, ratio);
    fflush(stdout);
  }
  /* the writer alone */
  uint64_t rows;
  double secs;
  if (rc == CLI_EXIT_OK && run_bench_writer(path, nrows, &rows, &secs, &err))
    rc = cli_report("bench", &err);
  else if (rc == CLI_EXIT_OK)
    printf("writer: %llu spike rows committed in %.3f s: %.0f rows/s "
           "(goal >= 500000)\n",
           (unsigned long long)rows, secs, (double)rows / secs);
  train_data_free(&dd);
  model_free(m);
  return rc;
}

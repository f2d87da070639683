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
 */
#include "cli/cli.h"
#include "run/run.h"
#include "trainer/train.h"

#include <stdlib.h>
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

static void rm_db(const char *p) {
  char b[1100];
  unlink(p);
  snprintf(b, sizeof b, "%s-wal", p);
  unlink(b);
  snprintf(b, sizeof b, "%s-shm", p);
  unlink(b);
}

/* Seconds to run n frames at detail d (d < 0: no database). */
static int run_level(const struct model *m, const struct train_data *dd,
                     size_t n, int d, const char *path, double *secs,
                     uint64_t *rows, struct sm_err *err) {
  struct run_options o;
  struct sm_conf c;
  run_options_init(&o, &c);
  char preset[1024];
  if (sm_conf_defaults(&c, err) ||
      model_preset_path(MODEL_DEFAULT_PRESET, preset, sizeof preset, err) ||
      sm_conf_load_file(&c, preset, err))
    return -1;
  struct run_sim *r;
  if (run_sim_new(m, &o, 0, 0, &r, err))
    return -1;
  struct trace_db *db = NULL;
  struct trace_stream *s = NULL;
  struct run_rec *rec = NULL;
  int64_t run = 0;
  rm_db(path);
  uint64_t t0 = sm_now_ns();
  if (d >= 0) {
    struct trace_run_info info = {.kind = "run", .detail = "bench"};
    if (trace_db_open(path, &db, err) ||
        trace_run_begin(db, &info, &run, err)) {
      run_sim_free(r);
      trace_db_close(db, NULL);
      return -1;
    }
    s = trace_stream_open(db, run);
    rec = run_rec_new(r, s, (enum trace_detail)d);
  }
  size_t img = (size_t)dd->c * dd->h * dd->w;
  int e = 0;
  for (size_t i = 0; i < n && !e; i++) {
    struct run_frame f;
    if (rec)
      run_rec_frame_begin(rec, (int64_t)i);
    e = run_sim_frame(r, dd->images + (i % dd->n) * img, &f, err);
    if (rec && !e)
      run_rec_frame_end(rec, &f, dd->labels[i % dd->n]);
  }
  run_rec_free(rec);
  trace_stream_close(s);
  if (db) {
    trace_run_end(db, run, "complete", NULL);
    *rows = trace_db_rows(db);
    trace_db_close(db, NULL);
  }
  *secs = (double)(sm_now_ns() - t0) * 1e-9;
  run_sim_free(r);
  rm_db(path);
  return e;
}

/* The writer alone: nrows spike rows (1000 per frame unit) as fast as a
 * stream takes them, timed to the last commit. */
static int writer_rate(const char *path, uint64_t nrows, struct sm_err *err) {
  struct trace_db *db = NULL;
  int64_t run;
  struct trace_run_info info = {.kind = "bench", .detail = "spike"};
  rm_db(path);
  if (trace_db_open(path, &db, err) || trace_run_begin(db, &info, &run, err)) {
    trace_db_close(db, NULL);
    rm_db(path);
    return -1;
  }
  struct trace_stream *s = trace_stream_open(db, run);
  uint64_t t0 = sm_now_ns();
  for (uint64_t i = 0; i < nrows; i++) {
    struct trace_spike_row row = {(int64_t)(i / 1000), (int64_t)(i % 3),
                                  (int64_t)i, (int64_t)(i % 16),
                                  (int64_t)i * 1000, (int64_t)(i % 10)};
    trace_put_spike(s, &row);
    if (i % 1000 == 999)
      trace_frame_end(s, (int64_t)(i / 1000));
  }
  trace_stream_close(s);
  trace_db_flush(db, err);
  double secs = (double)(sm_now_ns() - t0) * 1e-9;
  printf("writer: %llu spike rows committed in %.3f s: %.0f rows/s "
         "(goal >= 500000)\n",
         (unsigned long long)trace_db_rows(db), secs,
         (double)trace_db_rows(db) / secs);
  trace_db_close(db, NULL);
  rm_db(path);
  return 0;
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
    if (run_level(m, &dd, (size_t)frames, d, path, &secs, &rows, &err)) {
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
  if (rc == CLI_EXIT_OK && writer_rate(path, nrows, &err))
    rc = cli_report("bench", &err);
  train_data_free(&dd);
  model_free(m);
  return rc;
}

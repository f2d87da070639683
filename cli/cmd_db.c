/*
 * cmd_db.c -- `spikemesh db`: what a recorder database holds (info), two
 * runs side by side (compare), a run's digest (digest: same inputs and
 * seed, same digest, timestamps excluded), and the audit of recorded runs
 * (check: traces/check.c).  info and digest run SQLite's quick_check
 * first and warn when the file is damaged; digest --data hashes the results
 * only (trace_db_digest_data).
 */
#include "cli/cli.h"
#include "traces/trace.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh db info FILE\n"
          "       spikemesh db compare FILE_A[:RUN] FILE_B[:RUN] [--frames N]\n"
          "       spikemesh db digest [--data] FILE[:RUN]\n"
          "       spikemesh db check FILE[:RUN]\n"
          "\n"
          "info     schema version, every run (kind, status, frames done of\n"
          "         planned, accuracy, hops, late spikes, latency, energy per\n"
          "         frame) and the row count of each table\n"
          "compare  totals side by side with the difference, then the first\n"
          "         N frames (default 20) whose prediction, spikes, hops, late\n"
          "         spikes or latency differ\n"
          "digest   64-bit digest of a run's rows in every table (run id and\n"
          "         timestamps excluded); --data: of its results only (every\n"
          "         frame, layer, link, port, core, spike, packet and noc row,\n"
          "         the run's status, counts, seed, mesh, model digest and the\n"
          "         options that change results: not the model path, the data\n"
          "         path, sim.queue, traffic.schedule, preset names, the kind\n"
          "         or the program version)\n"
          "info and digest warn on stderr when SQLite's quick_check fails.\n"
          "check    audit: recompute every figure of the run's summary rows\n"
          "         from the rows beneath them (Eq. 12 terms from the counts\n"
          "         and the run's coefficients, frame totals from the layer,\n"
          "         core, link, spike and packet rows), check that a complete\n"
          "         run has every frame, the mesh and model digest are\n"
          "         recorded and the model file still hashes the same, and\n"
          "         SQLite's integrity check; prints each check and every\n"
          "         violation; exit 1 on any (default: every run)\n"
          "RUN is a run id; the default is the newest run of the file.\n");
}

/* SQLite's quick_check of the file: a warning on stderr when it fails (the
 * figures read from it may be wrong); < 0 when the file cannot be read. */
static int warn_damaged(const char *path, struct sm_err *err) {
  char msg[512];
  int ok = trace_db_quick_check(path, msg, sizeof msg, err);
  if (ok == 0)
    fprintf(stderr, "spikemesh db: warning: %s is damaged: SQLite's "
            "quick_check found: %s; what is read from it below may be "
            "wrong (spikemesh db check %s audits it)\n", path, msg, path);
  return ok;
}

/* "file.db:3" -> path and run (the newest run when no ":N" suffix). */
static int split_run(const char *arg, char *path, size_t len, int64_t *run,
                     struct sm_err *err) {
  snprintf(path, len, "%s", arg);
  char *colon = strrchr(path, ':');
  if (colon && colon[1] && !sm_parse_i64(colon + 1, run) && *run > 0) {
    *colon = 0;
    return 0;
  }
  return trace_db_last_run(path, run, err);
}

int cli_cmd_db(int argc, char **argv) {
  struct sm_err err = {0};
  if (argc < 2 || cli_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  const char *what = argv[1];
  char pa[1024], pb[1024];
  int64_t ra, rb;
  if (!strcmp(what, "info") && argc == 3) {
    if (warn_damaged(argv[2], &err) < 0 ||
        trace_db_info(argv[2], stdout, &err))
      return cli_report("db", &err);
    return CLI_EXIT_OK;
  }
  int data = argc == 4 && !strcmp(argv[2], "--data");
  if (!strcmp(what, "digest") && (argc == 3 || data)) {
    uint64_t h;
    const char *arg = argv[argc - 1];
    if (split_run(arg, pa, sizeof pa, &ra, &err) ||
        warn_damaged(pa, &err) < 0 ||
        (data ? trace_db_digest_data(pa, ra, &h, &err)
              : trace_db_digest(pa, ra, &h, &err)))
      return cli_report("db", &err);
    printf("%016llx  %s run %lld%s\n", (unsigned long long)h, pa,
           (long long)ra, data ? " (data)" : "");
    return CLI_EXIT_OK;
  }
  if (!strcmp(what, "check") && argc == 3) {
    int64_t run = 0, v = 0;
    snprintf(pa, sizeof pa, "%s", argv[2]);
    char *colon = strrchr(pa, ':');
    if (colon && colon[1] && !sm_parse_i64(colon + 1, &run) && run > 0)
      *colon = 0;
    else
      run = 0;
    if (trace_db_check(pa, run, stdout, &v, &err))
      return cli_report("db", &err);
    return v ? CLI_EXIT_FAIL : CLI_EXIT_OK;
  }
  if (!strcmp(what, "compare") && (argc == 4 || argc == 6)) {
    int64_t nf = 20;
    if (argc == 6 && (strcmp(argv[4], "--frames") ||
                      sm_parse_i64(argv[5], &nf) || nf < 0))
      return cli_usage_error("db", "compare: expected --frames N after the "
                                   "two databases");
    if (split_run(argv[2], pa, sizeof pa, &ra, &err) ||
        split_run(argv[3], pb, sizeof pb, &rb, &err) ||
        trace_db_compare(pa, ra, pb, rb, (int)nf, stdout, &err))
      return cli_report("db", &err);
    return CLI_EXIT_OK;
  }
  usage(stderr);
  return cli_usage_error("db", "expected info FILE, compare A B, digest "
                               "[--data] FILE or check FILE");
}

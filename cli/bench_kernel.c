/*
 * bench_kernel.c -- `spikemesh bench kernel`: the classic hold model.
 *
 * The queue is filled with N pending events; each dispatched event schedules
 * one new event at now + an exponential delay, so the pending count stays N.
 * After a warm-up of max(N, 10^5) events (the key distribution reaches its
 * steady state), the loop runs for at least --min-seconds and reports events
 * per second through the whole kernel: pool, queue, dispatch.  Every queue is
 * measured in the same run as the plain binary heap, and the ratio printed
 * is queue / binary at the same N.  The measurement is run_bench_hold()
 * (run/bench.c).
 */
#include "cli/cli.h"
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh bench kernel [OPTIONS]\n"
          "\n"
          "Hold model: N pending events; each event schedules one more at\n"
          "now + Exp(1 us).  Prints events/s per queue (the best and the\n"
          "median of batches of 10^6 events) and the ratio of the best to a\n"
          "plain binary heap's best, measured in the same run.\n"
          "\n"
          "Options:\n"
          "  --pending LIST     comma-separated pending counts "
          "[1000,10000,100000,1000000]\n"
          "  --queues LIST      queues to measure, from %s [heap4,wheel]\n"
          "  --min-seconds S    measuring time per point (at least 5 batches) [1]\n"
          "  --seed N           RNG seed [1]\n"
          "  --json             one JSON object per line instead of a table\n"
          "  --no-baseline      skip the binary-heap baseline (for profiling)\n",
          SIM_QUEUE_CHOICES);
}

/* The arguments of the benchmark. */
struct kernel_args {
  size_t pending[16], npending;
  enum sim_queue_kind queues[SIM_QUEUE_NKINDS];
  size_t nqueues;
  double min_seconds;
  uint64_t seed;
  int json, baseline;
};

/* One value of --pending or --queues: 0, or a usage error (reported). */
static int take_pending(const char *t, struct kernel_args *a) {
  uint64_t v;
  if (sm_parse_u64(t, &v) || v < 1 || v > 100000000 ||
      a->npending == SM_ARRAY_LEN(a->pending))
    return cli_usage_error("bench kernel",
                           "--pending: '%s' is not a count in 1..100000000 "
                           "(at most 16 values)",
                           t);
  a->pending[a->npending++] = (size_t)v;
  return 0;
}

static int take_queue(const char *t, struct kernel_args *a) {
  enum sim_queue_kind qk;
  if (sim_pq_parse(t, &qk) || a->nqueues == SIM_QUEUE_NKINDS)
    return cli_usage_error("bench kernel",
                           "--queues: unknown queue '%s', expected names "
                           "from %s",
                           t, SIM_QUEUE_CHOICES);
  a->queues[a->nqueues++] = qk;
  return 0;
}

/* The comma-separated LIST of option opt: *n values taken by take(), in
 * order (the list replaces the default).  0, or a usage error (reported). */
static int parse_list(const char *opt, const char *arg, struct kernel_args *a,
                      size_t *n,
                      int (*take)(const char *t, struct kernel_args *a)) {
  char *list = sm_xstrdup(arg), *save = NULL;
  int rc = 0;
  *n = 0;
  for (char *t = strtok_r(list, ",", &save); t && !rc;
       t = strtok_r(NULL, ",", &save))
    rc = take(t, a);
  free(list);
  if (!rc && !*n)
    rc = cli_usage_error("bench kernel", "%s: empty list", opt);
  return rc;
}

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_args(int argc, char **argv, struct kernel_args *a) {
  *a = (struct kernel_args){.pending = {1000, 10000, 100000, 1000000},
                            .npending = 4,
                            .queues = {SIM_QUEUE_HEAP4, SIM_QUEUE_WHEEL},
                            .nqueues = 2,
                            .min_seconds = 1.0,
                            .seed = 1,
                            .baseline = 1};
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int more = i + 1 < argc;
    if (cli_is_help(s)) {
      usage(stdout);
      return 1;
    } else if (!strcmp(s, "--json")) {
      a->json = 1;
    } else if (!strcmp(s, "--no-baseline")) {
      a->baseline = 0;
    } else if (more && !strcmp(s, "--pending")) {
      if (parse_list(s, argv[++i], a, &a->npending, take_pending))
        return -1;
    } else if (more && !strcmp(s, "--queues")) {
      if (parse_list(s, argv[++i], a, &a->nqueues, take_queue))
        return -1;
    } else if (more && !strcmp(s, "--min-seconds")) {
      if (sm_parse_double(argv[++i], &a->min_seconds) ||
          a->min_seconds <= 0 || a->min_seconds > 600) {
        cli_usage_error("bench kernel",
                        "--min-seconds: expected a number in (0, 600]");
        return -1;
      }
    } else if (more && !strcmp(s, "--seed")) {
      if (sm_parse_u64(argv[++i], &a->seed)) {
        cli_usage_error("bench kernel",
                        "--seed: expected a non-negative integer");
        return -1;
      }
    } else {
      cli_usage_error("bench kernel", "unknown or incomplete option '%s'", s);
      return -1;
    }
  }
  return 0;
}

int cli_bench_kernel(int argc, char **argv) {
  struct kernel_args ka;
  int p = parse_args(argc, argv, &ka);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  if (!ka.json)
    printf("%10s  %-7s %14s %10s %14s %11s\n", "pending", "queue",
           "best events/s", "ns/event", "median ev/s", "vs binary");
  for (size_t p = 0; p < ka.npending; p++) {
    size_t n = ka.pending[p];
    uint64_t dig_base = 0, dig;
    struct run_bench_rate base = {0, 0};
    if (ka.baseline)
      base = run_bench_hold(SIM_QUEUE_BINARY, n, ka.min_seconds, ka.seed,
                            &dig_base);
    if (ka.baseline && ka.json)
      printf("{\"bench\":\"kernel\",\"pending\":%zu,\"queue\":\"binary\","
             "\"events_per_s\":%.0f,\"median_events_per_s\":%.0f,"
             "\"ratio\":1.0}\n",
             n, base.best, base.median);
    else if (ka.baseline)
      printf("%10zu  %-7s %14.0f %10.1f %14.0f %10.2fx\n", n, "binary",
             base.best, 1e9 / base.best, base.median, 1.0);
    for (size_t q = 0; q < ka.nqueues; q++) {
      enum sim_queue_kind qk = ka.queues[q];
      if (qk == SIM_QUEUE_BINARY)
        continue;
      struct run_bench_rate r =
          run_bench_hold(qk, n, ka.min_seconds, ka.seed, &dig);
      /* Every queue must dispatch the same events in the same order. */
      if (ka.baseline && dig != dig_base) {
        fprintf(stderr,
                "spikemesh bench kernel: queue %s dispatched a different "
                "event order than the baseline (digest %016llx vs %016llx)\n",
                sim_pq_name(qk), (unsigned long long)dig,
                (unsigned long long)dig_base);
        return CLI_EXIT_FAIL;
      }
      double ratio = ka.baseline ? r.best / base.best : 0.0;
      if (ka.json)
        printf("{\"bench\":\"kernel\",\"pending\":%zu,\"queue\":\"%s\","
               "\"events_per_s\":%.0f,\"median_events_per_s\":%.0f,"
               "\"ratio\":%.3f}\n",
               n, sim_pq_name(qk), r.best, r.median, ratio);
      else
        printf("%10zu  %-7s %14.0f %10.1f %14.0f %10.2fx\n", n,
               sim_pq_name(qk), r.best, 1e9 / r.best, r.median, ratio);
    }
    fflush(stdout);
  }
  return CLI_EXIT_OK;
}

/*
 * bench_kernel.c -- `spikemesh bench kernel`: the classic hold model.
 *
 * The queue is filled with N pending events; each dispatched event schedules
 * one new event at now + an exponential delay, so the pending count stays N.
 * After a warm-up of max(N, 10^5) events (the key distribution reaches its
 * steady state), the loop runs for at least --min-seconds and reports events
 * per second through the whole kernel: pool, queue, dispatch.  Every queue is
 * measured in the same run as the plain binary heap, and the ratio printed
 * is queue / binary at the same N.
 */
#include "cli/cli.h"
#include "sim/sim.h"

#include <stdlib.h>
#include <string.h>

#define HOLD_KIND 0
#define HOLD_MEAN_PS 1000000.0 /* mean delay: 1 us */

struct hold {
  struct sim_rng rng;
};

static void hold_handler(struct sim_kernel *k, const struct sim_event *ev,
                         void *ctx) {
  struct hold *h = ctx;
  sim_time_t d = (sim_time_t)sim_rng_exp(&h->rng, HOLD_MEAN_PS);
  sim_schedule_in(k, d, HOLD_KIND, ev->target, 0, 0, NULL);
}

struct rate {
  double best, median; /* events/s over batches of 10^6 events */
};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Events per second of the hold model on one queue at n pending, measured
 * over batches of 10^6 events for at least min_seconds and 5 batches.
 * This machine's speed varies from moment to moment, so both the best
 * batch (least disturbed) and the median are reported. */
static struct rate hold_rate(enum sim_queue_kind qk, size_t n,
                             double min_seconds, uint64_t seed,
                             uint64_t *digest) {
  struct sim_kernel *k = sim_kernel_new(qk, seed);
  struct hold h;
  sim_rng_init(&h.rng, seed, 1);
  sim_register(k, HOLD_KIND, hold_handler, &h);
  for (size_t i = 0; i < n; i++)
    sim_schedule(k, (sim_time_t)sim_rng_exp(&h.rng, HOLD_MEAN_PS), HOLD_KIND,
                 (uint32_t)i, 0, 0, NULL);
  uint64_t warm = n > 100000 ? n : 100000;
  sim_run(k, SIM_TIME_MAX, warm);
  const uint64_t batch = 1000000;
  double rates[4096];
  size_t nr = 0;
  uint64_t start = sm_now_ns();
  do {
    uint64_t t0 = sm_now_ns();
    sim_run(k, SIM_TIME_MAX, batch);
    uint64_t t1 = sm_now_ns();
    if (!nr) /* a fixed event count, comparable across queues */
      *digest = sim_digest(k);
    rates[nr++] = (double)batch / ((double)(t1 - t0) * 1e-9);
  } while (nr < SM_ARRAY_LEN(rates) &&
           (nr < 5 || (double)(sm_now_ns() - start) < min_seconds * 1e9));
  sim_kernel_free(k);
  qsort(rates, nr, sizeof rates[0], cmp_double);
  return (struct rate){rates[nr - 1], rates[nr / 2]};
}

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

/* --pending LIST: 0, or a usage error (reported). */
static int parse_pending(const char *arg, struct kernel_args *a) {
  char *list = sm_xstrdup(arg), *save = NULL;
  int rc = 0;
  a->npending = 0;
  for (char *t = strtok_r(list, ",", &save); t && !rc;
       t = strtok_r(NULL, ",", &save)) {
    uint64_t v;
    if (sm_parse_u64(t, &v) || v < 1 || v > 100000000 ||
        a->npending == SM_ARRAY_LEN(a->pending))
      rc = cli_usage_error("bench kernel",
                           "--pending: '%s' is not a count in 1..100000000 "
                           "(at most 16 values)",
                           t);
    else
      a->pending[a->npending++] = (size_t)v;
  }
  free(list);
  if (!rc && !a->npending)
    rc = cli_usage_error("bench kernel", "--pending: empty list");
  return rc;
}

/* --queues LIST: 0, or a usage error (reported). */
static int parse_queues(const char *arg, struct kernel_args *a) {
  char *list = sm_xstrdup(arg), *save = NULL;
  int rc = 0;
  a->nqueues = 0;
  for (char *t = strtok_r(list, ",", &save); t && !rc;
       t = strtok_r(NULL, ",", &save)) {
    enum sim_queue_kind qk;
    if (sim_pq_parse(t, &qk) || a->nqueues == SIM_QUEUE_NKINDS)
      rc = cli_usage_error("bench kernel",
                           "--queues: unknown queue '%s', expected names "
                           "from %s",
                           t, SIM_QUEUE_CHOICES);
    else
      a->queues[a->nqueues++] = qk;
  }
  free(list);
  if (!rc && !a->nqueues)
    rc = cli_usage_error("bench kernel", "--queues: empty list");
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
      if (parse_pending(argv[++i], a))
        return -1;
    } else if (more && !strcmp(s, "--queues")) {
      if (parse_queues(argv[++i], a))
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
  const size_t *pending = ka.pending, npending = ka.npending;
  const enum sim_queue_kind *queues = ka.queues;
  size_t nqueues = ka.nqueues;
  double min_seconds = ka.min_seconds;
  uint64_t seed = ka.seed;
  int json = ka.json, baseline = ka.baseline;
  if (!json)
    printf("%10s  %-7s %14s %10s %14s %11s\n", "pending", "queue",
           "best events/s", "ns/event", "median ev/s", "vs binary");
  for (size_t p = 0; p < npending; p++) {
    uint64_t dig_base = 0, dig;
    struct rate base = {0, 0};
    if (baseline)
      base = hold_rate(SIM_QUEUE_BINARY, pending[p], min_seconds, seed,
                       &dig_base);
    if (!baseline)
      ;
    else if (json)
      printf("{\"bench\":\"kernel\",\"pending\":%zu,\"queue\":\"binary\","
             "\"events_per_s\":%.0f,\"median_events_per_s\":%.0f,"
             "\"ratio\":1.0}\n",
             pending[p], base.best, base.median);
    else
      printf("%10zu  %-7s %14.0f %10.1f %14.0f %10.2fx\n", pending[p],
             "binary", base.best, 1e9 / base.best, base.median, 1.0);
    for (size_t q = 0; q < nqueues; q++) {
      if (queues[q] == SIM_QUEUE_BINARY)
        continue;
      struct rate r = hold_rate(queues[q], pending[p], min_seconds, seed, &dig);
      /* Every queue must dispatch the same events in the same order. */
      if (baseline && dig != dig_base) {
        fprintf(stderr,
                "spikemesh bench kernel: queue %s dispatched a different "
                "event order than the baseline (digest %016llx vs %016llx)\n",
                sim_pq_name(queues[q]), (unsigned long long)dig,
                (unsigned long long)dig_base);
        return CLI_EXIT_FAIL;
      }
      double ratio = baseline ? r.best / base.best : 0.0;
      if (json)
        printf("{\"bench\":\"kernel\",\"pending\":%zu,\"queue\":\"%s\","
               "\"events_per_s\":%.0f,\"median_events_per_s\":%.0f,"
               "\"ratio\":%.3f}\n",
               pending[p], sim_pq_name(queues[q]), r.best, r.median, ratio);
      else
        printf("%10zu  %-7s %14.0f %10.1f %14.0f %10.2fx\n", pending[p],
               sim_pq_name(queues[q]), r.best, 1e9 / r.best, r.median, ratio);
    }
    fflush(stdout);
  }
  return CLI_EXIT_OK;
}

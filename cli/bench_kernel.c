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

/* Events per second of the hold model on one queue at n pending. */
static double hold_rate(enum sim_queue_kind qk, size_t n, double min_seconds,
                        uint64_t seed, uint64_t *digest) {
  struct sim_kernel *k = sim_kernel_new(qk, seed);
  struct hold h;
  sim_rng_init(&h.rng, seed, 1);
  sim_register(k, HOLD_KIND, hold_handler, &h);
  for (size_t i = 0; i < n; i++)
    sim_schedule(k, (sim_time_t)sim_rng_exp(&h.rng, HOLD_MEAN_PS), HOLD_KIND,
                 (uint32_t)i, 0, 0, NULL);
  uint64_t warm = n > 100000 ? n : 100000;
  sim_run(k, SIM_TIME_MAX, warm);
  uint64_t batch = 1000000, events = 0;
  uint64_t t0 = sm_now_ns(), t1;
  do {
    sim_run(k, SIM_TIME_MAX, batch);
    events += batch;
    t1 = sm_now_ns();
  } while ((double)(t1 - t0) < min_seconds * 1e9);
  *digest = sim_digest(k);
  sim_kernel_free(k);
  return (double)events / ((double)(t1 - t0) * 1e-9);
}

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh bench kernel [OPTIONS]\n"
          "\n"
          "Hold model: N pending events; each event schedules one more at\n"
          "now + Exp(1 us).  Prints events/s per queue and the ratio to a\n"
          "plain binary heap measured in the same run.\n"
          "\n"
          "Options:\n"
          "  --pending LIST     comma-separated pending counts "
          "[1000,10000,100000,1000000]\n"
          "  --queues LIST      queues to measure, from %s [heap4,radix]\n"
          "  --min-seconds S    measuring time per point, seconds [0.5]\n"
          "  --seed N           RNG seed [1]\n"
          "  --json             one JSON object per line instead of a table\n",
          SIM_QUEUE_CHOICES);
}

int cli_bench_kernel(int argc, char **argv) {
  size_t pending[16] = {1000, 10000, 100000, 1000000};
  size_t npending = 4;
  enum sim_queue_kind queues[SIM_QUEUE_NKINDS] = {SIM_QUEUE_HEAP4,
                                                  SIM_QUEUE_RADIX};
  size_t nqueues = 2;
  double min_seconds = 0.5;
  uint64_t seed = 1;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (i + 1 < argc && !strcmp(a, "--pending")) {
      char *list = sm_xstrdup(argv[++i]), *save = NULL;
      npending = 0;
      for (char *t = strtok_r(list, ",", &save); t;
           t = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (sm_parse_u64(t, &v) || v < 1 || v > 100000000 ||
            npending == SM_ARRAY_LEN(pending)) {
          free(list);
          return cli_usage_error("bench kernel",
                                 "--pending: '%s' is not a count in "
                                 "1..100000000 (at most 16 values)",
                                 t);
        }
        pending[npending++] = (size_t)v;
      }
      free(list);
      if (!npending)
        return cli_usage_error("bench kernel", "--pending: empty list");
    } else if (i + 1 < argc && !strcmp(a, "--queues")) {
      char *list = sm_xstrdup(argv[++i]), *save = NULL;
      nqueues = 0;
      for (char *t = strtok_r(list, ",", &save); t;
           t = strtok_r(NULL, ",", &save)) {
        enum sim_queue_kind qk;
        if (sim_pq_parse(t, &qk) || nqueues == SIM_QUEUE_NKINDS) {
          int rc = cli_usage_error("bench kernel",
                                   "--queues: unknown queue '%s', expected "
                                   "names from %s",
                                   t, SIM_QUEUE_CHOICES);
          free(list);
          return rc;
        }
        queues[nqueues++] = qk;
      }
      free(list);
      if (!nqueues)
        return cli_usage_error("bench kernel", "--queues: empty list");
    } else if (i + 1 < argc && !strcmp(a, "--min-seconds")) {
      if (sm_parse_double(argv[++i], &min_seconds) || min_seconds <= 0 ||
          min_seconds > 600)
        return cli_usage_error("bench kernel",
                               "--min-seconds: expected a number in (0, 600]");
    } else if (i + 1 < argc && !strcmp(a, "--seed")) {
      if (sm_parse_u64(argv[++i], &seed))
        return cli_usage_error("bench kernel",
                               "--seed: expected a non-negative integer");
    } else {
      return cli_usage_error("bench kernel", "unknown or incomplete option '%s'",
                             a);
    }
  }
  if (!json)
    printf("%10s  %-7s %14s %10s %11s\n", "pending", "queue", "events/s",
           "ns/event", "vs binary");
  for (size_t p = 0; p < npending; p++) {
    uint64_t dig_base, dig;
    double base = hold_rate(SIM_QUEUE_BINARY, pending[p], min_seconds, seed,
                            &dig_base);
    if (json)
      printf("{\"bench\":\"kernel\",\"pending\":%zu,\"queue\":\"binary\","
             "\"events_per_s\":%.0f,\"ratio\":1.0}\n",
             pending[p], base);
    else
      printf("%10zu  %-7s %14.0f %10.1f %10.2fx\n", pending[p], "binary", base,
             1e9 / base, 1.0);
    for (size_t q = 0; q < nqueues; q++) {
      if (queues[q] == SIM_QUEUE_BINARY)
        continue;
      double r = hold_rate(queues[q], pending[p], min_seconds, seed, &dig);
      if (json)
        printf("{\"bench\":\"kernel\",\"pending\":%zu,\"queue\":\"%s\","
               "\"events_per_s\":%.0f,\"ratio\":%.3f}\n",
               pending[p], sim_pq_name(queues[q]), r, r / base);
      else
        printf("%10zu  %-7s %14.0f %10.1f %10.2fx\n", pending[p],
               sim_pq_name(queues[q]), r, 1e9 / r, r / base);
    }
    fflush(stdout);
  }
  return CLI_EXIT_OK;
}

/*
 * bench_noc.c -- `spikemesh bench noc`: simulation speed of the mesh.
 *
 * The workload is the validation setting: an 8x8 mesh with the clocked
 * preset (models/arch/noc-clocked.json, applied here from the same
 * key=value list so the benchmark needs no file), single-flit uniform
 * traffic, at each offered load a full noc_traffic_run (warm-up, window,
 * drain, final emptying).  It reports simulated cycles per wall second and
 * kernel events per second for four variants of the same simulation:
 *   cycle   the naive cycle-driven model: every router allocates at every
 *           clock edge (NOC_SCHED_PER_CYCLE) -- the baseline;
 *   router  one kernel event per router allocation;
 *   merged  routers due at the same time share one event (the design),
 *           on the binary heap and on the configured queue.
 * The printed ratio is variant / baseline in cycles per wall second.
 * Every variant must produce the same delivery digest (neither the
 * schedule nor the queue may change the simulation).  The measurement is
 * run_bench_noc_load() (run/bench.c).
 */
#include "cli/cli.h"
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh bench noc [OPTIONS] [FILE.json] [key=value...]\n"
          "\n"
          "8x8 mesh, clocked preset, single-flit uniform traffic (keys after\n"
          "the preset override it: sim.*, noc.*, traffic.*, preset.*; others\n"
          "are refused; noc.width=0 noc.height=0, auto, is 8x8).  For each\n"
          "offered load, four full traffic\n"
          "runs of the same simulation: 'cycle', the naive model where every\n"
          "router allocates at every clock edge (the baseline); 'router', one\n"
          "kernel event per router allocation; 'merged', routers due at the\n"
          "same time sharing one event (the design), on the binary heap and on\n"
          "sim.queue (default wheel).  All must give the same deliveries.\n"
          "Needs noc.timing=clocked (the baseline ticks the clock).  Prints simulated\n"
          "cycles per wall second (and per CPU second of this process: the\n"
          "cores are shared), events/s, events per cycle and the ratio of\n"
          "cycles/s to the baseline.  Goals: >= 100k cycles/s at 0.1, >= 30k\n"
          "at 0.3.\n"
          "\n"
          "Options:\n"
          "  --rates LIST   offered loads, flits/node/cycle [0.1,0.3]\n"
          "  --json         one JSON object per line instead of a table\n");
}

int cli_bench_noc(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("bench noc", &err);
  if (run_bench_noc_preset(&c, &err))
    return cli_report("bench noc", &err);
  double rates[64] = {0.1, 0.3};
  size_t nr = 2;
  int json = 0;
  struct cli_common cm;
  cli_common_init(&cm, "bench noc", CLI_F_KV);
  cm.keys = run_keys_noc;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int t = cli_common_arg(&cm, argc, argv, &i);
    if (t < 0)
      return CLI_EXIT_USAGE;
    if (t)
      continue;
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (i + 1 < argc && !strcmp(a, "--rates")) {
      if (noc_traffic_parse_rates(argv[++i], rates, SM_ARRAY_LEN(rates), &nr,
                                  &err))
        return cli_report("bench noc", &err);
    } else if (a[0] == '-') {
      return cli_usage_error("bench noc", "unknown or incomplete option '%s'",
                             a);
    } else if (sm_conf_load_file(&c, a, &err)) {
      return cli_report("bench noc", &err);
    }
  }
  if (cli_common_conf(&cm, &c, argc, argv, &err) ||
      run_options_fixed_mesh(&o, &err))
    return cli_report("bench noc", &err);
  struct run_bench_noc_variant var[RUN_BENCH_NOC_VARIANTS];
  run_bench_noc_variants((enum sim_queue_kind)o.sim.queue, var);
  if (!json)
    printf("%5s  %-7s %-7s %11s %12s %11s %9s %9s %9s %10s\n", "rate",
           "sched", "queue", "cycles/s", "cycles/cpu-s", "events/s",
           "ev/cycle", "accepted", "lat_mean", "vs base");
  for (size_t i = 0; i < nr; i++) {
    struct noc_traffic_result r[RUN_BENCH_NOC_VARIANTS];
    if (run_bench_noc_load(&o, rates[i], r, &err))
      return cli_report("bench noc", &err);
    double base = (double)r[0].cycles / r[0].wall_s;
    for (int j = 0; j < RUN_BENCH_NOC_VARIANTS; j++) {
      const struct noc_traffic_result *x = &r[j];
      double cps = (double)x->cycles / x->wall_s;
      double eps = (double)x->events / x->wall_s;
      double cpus = x->cpu_s > 0 ? (double)x->cycles / x->cpu_s : 0;
      if (json)
        printf("{\"bench\":\"noc\",\"rate\":%.4g,\"events\":\"%s\","
               "\"queue\":\"%s\",\"cycles\":%llu,\"wall_s\":%.4f,"
               "\"cpu_s\":%.4f,\"cycles_per_s\":%.0f,"
               "\"cycles_per_cpu_s\":%.0f,\"events_per_s\":%.0f,"
               "\"events_per_cycle\":%.3f,\"accepted\":%.4f,"
               "\"lat_mean\":%.3f,\"ratio\":%.3f}\n",
               rates[i], var[j].events, sim_pq_name(var[j].q),
               (unsigned long long)x->cycles, x->wall_s, x->cpu_s, cps, cpus,
               eps, (double)x->events / (double)x->cycles, x->accepted,
               x->lat_mean, cps / base);
      else
        printf("%5.3g  %-7s %-7s %11.0f %12.0f %11.0f %9.2f %9.4f %9.2f "
               "%9.2fx\n",
               rates[i], var[j].events, sim_pq_name(var[j].q), cps, cpus, eps,
               (double)x->events / (double)x->cycles, x->accepted,
               x->lat_mean, cps / base);
    }
    fflush(stdout);
  }
  return CLI_EXIT_OK;
}

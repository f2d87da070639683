/*
 * bench_lookahead.c -- `spikemesh bench lookahead`: what a partition of one
 * frame by mesh region would see.  One frame of the synthetic VGG16 (or a
 * given model) runs once unobserved (its time per event) and once with
 * every dispatched event binned into windows of the lookahead (noc.t_link
 * plus the router pipeline) and by the region of the node it happens at,
 * for 2 and 4 regions (run_bench_lookahead, run/bench.c).  The baseline is
 * the cost of one synchronisation, a barrier of 2 threads, measured in the
 * same run: a window whose events per region take less time than the
 * barrier does not pay (doc/scaleout.md).
 */
#include "cli/cli.h"
#include "run/run.h"

#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh bench lookahead [OPTIONS] [key=value...]\n"
          "\n"
          "Simulates one frame of the synthetic VGG16 (synth.* keys, 2\n"
          "calibration images) on the paper-22nm preset and bins its events\n"
          "into windows of the lookahead (noc.t_link + t_buffer + t_route +\n"
          "t_alloc + t_xbar) and by mesh region (halves, quadrants): events\n"
          "per window and region, against the time of a 2-thread barrier\n"
          "measured in the same run.\n"
          "\n"
          "Options:\n"
          "  --model FILE     model to run [synthesize VGG16]\n"
          "  --arch PRESET    architecture preset [paper-22nm]\n"
          "  --mesh WxH|auto  the mesh [auto]\n"
          "  --rounds N       barrier rounds (1..10000000) [20000]\n"
          "\n"
          "key=value: sim.*, core.*, energy.*, map.*, preset.*, noc.*, synth.*\n");
}

static void split_line(const char *name, const struct run_bench_la_split *s) {
  printf("%-10s %7u %10.2f %8.1f %8llu %7.1f%%\n", name, s->regions, s->mean,
         s->median, (unsigned long long)s->max, 100.0 * s->empty);
}

int cli_bench_lookahead(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("bench lookahead", &err);
  struct cli_common cm;
  cli_common_init(&cm, "bench lookahead", CLI_F_ARCH | CLI_F_MESH | CLI_F_KV);
  cm.keys = run_keys_bench_vgg;
  const char *path = NULL;
  uint64_t rounds = 20000;
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
      path = argv[++i];
    } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
      if (sm_parse_u64(argv[++i], &rounds) || rounds < 1 || rounds > 10000000)
        return cli_usage_error("bench lookahead",
                               "--rounds '%s': expected 1..10000000", argv[i]);
    } else {
      return cli_usage_error("bench lookahead",
                             "unknown or incomplete option '%s'", argv[i]);
    }
  }
  if (sm_conf_set_kv(&c, "synth.calib_images", "2", "bench default", &err) ||
      cli_common_conf(&cm, &c, argc, argv, &err))
    return cli_report("bench lookahead", &err);
  struct model *m = NULL;
  if (path) {
    if (model_load(path, &m, &err))
      return cli_report("bench lookahead", &err);
    printf("model %s (%s)\n", path, m->arch);
  } else {
    struct model_synth_report rep;
    if (model_synth_model(&o.synth, (uint32_t)o.core.steps_per_window,
                          o.core.fire_round, &m, &rep, &err))
      return cli_report("bench lookahead", &err);
    printf("model: synthetic %s, width_div %llu, %.4f spikes/neuron\n",
           m->arch, (unsigned long long)o.synth.width_div, rep.sparsity);
  }
  uint64_t la = run_bench_lookahead_ps(&o);
  struct run_bench_lookahead r;
  if (run_bench_lookahead(m, &o, la, &r, &err)) {
    model_free(m);
    return cli_report("bench lookahead", &err);
  }
  model_free(m);
  double ns_ev = r.events ? r.secs * 1e9 / (double)r.events : 0;
  printf("mapping: %u cores on a %ux%u mesh\n", r.cores, r.mesh_w, r.mesh_h);
  printf("lookahead: %llu ps (noc.t_link + t_buffer + t_route + t_alloc + "
         "t_xbar%s)\n", (unsigned long long)la,
         o.noc.timing == NOC_CLOCKED ? ", cycles x clock_ps" : "");
  printf("frame: %llu events over %llu ps: %llu windows, %llu with events; "
         "%llu events (%.1f%%) at a node\n",
         (unsigned long long)r.events, (unsigned long long)r.frame_ps,
         (unsigned long long)r.windows, (unsigned long long)r.busy,
         (unsigned long long)r.attributed,
         r.events ? 100.0 * (double)r.attributed / (double)r.events : 0.0);
  printf("unobserved frame: %.3f s wall, %.1f ns per event\n\n", r.secs,
         ns_ev);
  printf("%-10s %7s %10s %8s %8s %8s\n", "split", "regions", "mean", "median",
         "max", "empty");
  printf("%-10s %7u %10.2f %8.1f %8llu %8s\n", "none", 1u, r.mean, r.median,
         (unsigned long long)r.max, "");
  split_line("halves", &r.split[0]);
  split_line("quadrants", &r.split[1]);
  for (int s = 0; s < 2; s++)
    printf("%u regions: busiest %llu events, idlest %llu (node-attributed "
           "events of the frame)\n", r.split[s].regions,
           (unsigned long long)r.split[s].region_max,
           (unsigned long long)r.split[s].region_min);
  double bar = run_bench_barrier_ns(2, rounds);
  if (bar <= 0) {
    fprintf(stderr, "spikemesh bench lookahead: the barrier threads could "
                    "not start\n");
    return CLI_EXIT_FAIL;
  }
  printf("\nbarrier: %.0f ns per synchronisation of 2 threads (%llu rounds)\n",
         bar, (unsigned long long)rounds);
  for (int s = 0; s < 2; s++) {
    double work = r.split[s].mean * ns_ev;
    printf("%u regions: %.2f events x %.1f ns = %.0f ns of work per region "
           "and window vs %.0f ns barrier: %s\n", r.split[s].regions,
           r.split[s].mean, ns_ev, work, bar,
           work > bar ? "pays" : "does not pay");
  }
  /* a window with no event anywhere can be skipped (the next window starts
   * at the least next event time): the busy windows are what remain */
  for (int s = 0; s < 2; s++) {
    double per = r.busy ? (double)r.attributed / (double)r.busy /
                              (double)r.split[s].regions : 0;
    printf("%u regions, empty windows skipped: %.2f events per region and "
           "busy window = %.0f ns vs %.0f ns barrier: %s\n",
           r.split[s].regions, per, per * ns_ev, bar,
           per * ns_ev > bar ? "pays" : "does not pay");
  }
  return CLI_EXIT_OK;
}

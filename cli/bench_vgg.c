/*
 * bench_vgg.c -- `spikemesh bench vgg`: simulation time of one frame of
 * the paper's CIFAR-10-scale VGG16 (a synthetic model calibrated to the
 * paper's sparsity, models/synth.c, or a given model file) on the paper-22nm
 * preset, frames of synthetic:1 images.
 *
 * Each configuration runs the same frames on a fresh assembly (map, mesh,
 * cores); the baseline is the same configuration on the plain binary-heap
 * event queue, measured in the same run, and the counts of both must be
 * identical (the queue changes nothing but speed).  A second pair measures
 * unicast, whose packet copies make every hop an event of its own.  The
 * measurement is run_bench_vgg_frames() (run/bench.c).
 */
#include "cli/cli.h"
#include "run/run.h"

#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh bench vgg [OPTIONS] [key=value...]\n"
          "\n"
          "Simulates frames of the paper's CIFAR-10 VGG16 (synthetic 4-bit\n"
          "weights calibrated to 0.2561 spikes per neuron, synthetic inputs)\n"
          "on the paper-22nm preset: seconds per frame on the configured event\n"
          "queue (sim.queue, default wheel) against the plain binary heap, for\n"
          "tree multicast and for unicast.\n"
          "\n"
          "Options:\n"
          "  --model FILE     model to run [synthesize VGG16: synth.* keys,\n"
          "                   2 calibration images]\n"
          "  --arch PRESET    architecture preset [paper-22nm]\n"
          "  --mesh WxH|auto  the mesh, as noc.width=W noc.height=H [auto]\n"
          "  --frames N       frames per configuration [2]\n"
          "  --no-unicast     skip the unicast pair\n"
          "\n"
          "key=value: sim.*, core.*, energy.*, map.*, preset.*, noc.*, synth.*\n"
          "(spikemesh config lists them); other keys are refused.\n");
}

/* The arguments of the benchmark. */
struct vgg_args {
  struct cli_common cm;    /* --arch, --frames, key=value */
  const char *model;
  int unicast;
};

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_args(int argc, char **argv, struct vgg_args *a) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "bench vgg",
                  CLI_F_ARCH | CLI_F_MESH | CLI_F_FRAMES | CLI_F_KV);
  a->cm.keys = run_keys_bench_vgg;
  a->unicast = 1;
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
    } else if (!strcmp(s, "--model") && i + 1 < argc) {
      a->model = argv[++i];
    } else if (!strcmp(s, "--no-unicast")) {
      a->unicast = 0;
    } else {
      cli_usage_error("bench vgg", "unknown or incomplete option '%s'", s);
      return -1;
    }
  }
  if (a->cm.frames > 1000) {
    cli_usage_error("bench vgg", "--frames '%llu': expected 1..1000",
                    (unsigned long long)a->cm.frames);
    return -1;
  }
  if (!a->cm.frames)
    a->cm.frames = 2;
  return 0;
}

/* The model file, or VGG16 synthesized from the synth.* options. */
static int load_model(const char *path, const struct run_options *o,
                      struct model **m, struct sm_err *err) {
  if (path) {
    if (model_load(path, m, err))
      return -1;
    printf("model %s (%s)\n", path, (*m)->arch);
    return 0;
  }
  struct model_synth_report rep;
  if (model_synth_model(&o->synth, (uint32_t)o->core.steps_per_window,
                        o->core.fire_round, m, &rep, err))
    return -1;
  printf("model: synthetic %s, %.4f spikes/neuron on %llu calibration "
         "images (target %.4f), calibrated in %.1f s\n",
         (*m)->arch, rep.sparsity, (unsigned long long)o->synth.calib_images,
         o->synth.sparsity, rep.seconds);
  return 0;
}

/* One cast (tree or unicast) on the configured queue and on the binary
 * heap: a line each.  CLI_EXIT_FAIL when their counts differ. */
static int run_pair(const struct model *m, const struct run_options *o,
                    int unicast, uint64_t frames) {
  struct sm_err err = {0};
  struct run_options oo = *o;
  oo.noc.multicast = unicast ? NOC_UNICAST : NOC_TREE;
  struct run_bench_vgg r[2];
  for (int b = 0; b < 2; b++) {
    oo.sim.queue = b ? SIM_QUEUE_BINARY : o->sim.queue;
    if (run_bench_vgg_frames(m, &oo, frames, &r[b], &err))
      return cli_report("bench vgg", &err);
    if (!unicast && !b)
      printf("(mapping: %llu neurons on %u cores, %ux%u mesh)\n",
             (unsigned long long)r[b].neurons, r[b].cores, r[b].mesh_w,
             r[b].mesh_h);
    double fr = (double)frames;
    printf("%-8s %-7s %8.3f %8.3f %8.2f %8.0f %12.0f %11.0f %7.0f %8.2f "
           "%9.2f",
           unicast ? "unicast" : "tree",
           sim_pq_name((enum sim_queue_kind)oo.sim.queue), r[b].secs / fr,
           r[b].cpu / fr, fr / r[b].secs, r[b].spikes / fr, r[b].sops / fr,
           r[b].hops / fr, r[b].late / fr, r[b].latency_us, r[b].energy_uj);
    if (b)
      printf(" %7.2fx\n", r[1].cpu / r[0].cpu);
    else
      printf(" %8s\n", "");
    fflush(stdout);
  }
  if (!run_bench_vgg_agree(&r[0], &r[1])) {
    fprintf(stderr, "spikemesh bench vgg: the queues disagree on the "
                    "counts (a determinism bug)\n");
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}

int cli_bench_vgg(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("bench vgg", &err);
  struct vgg_args a;
  int p = parse_args(argc, argv, &a);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  uint64_t frames = a.cm.frames;
  struct model *m = NULL;
  if (sm_conf_set_kv(&c, "synth.calib_images", "2", "bench default", &err) ||
      cli_common_conf(&a.cm, &c, argc, argv, &err) ||
      load_model(a.model, &o, &m, &err))
    return cli_report("bench vgg", &err);
  printf("preset %s, %llu frames of synthetic:1 per configuration\n\n",
         o.preset.name[0] ? o.preset.name : a.cm.arch,
         (unsigned long long)frames);
  printf("%-8s %-7s %8s %8s %8s %8s %12s %11s %7s %8s %9s %8s\n", "cast",
         "queue", "s/frame", "cpu s", "frames/s", "spikes", "SOPs", "hops",
         "late", "lat. us", "E uJ", "vs heap");
  int rc = CLI_EXIT_OK;
  for (int mc = 0; mc < (a.unicast ? 2 : 1) && rc == CLI_EXIT_OK; mc++)
    rc = run_pair(m, &o, mc, frames);
  model_free(m);
  return rc;
}

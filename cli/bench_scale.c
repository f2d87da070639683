/*
 * bench_scale.c -- `spikemesh bench scale`: frames/s of the shipped CNN
 * and of a synthetic VGG11 on 1 and 2 threads (run --jobs), the baseline
 * being 1 thread measured in the same run.
 *
 * Each point runs the same frames of synthetic:1 images through
 * run_loop_jobs on fresh assemblies, one per thread (run/bench.c,
 * run_bench_scale_frames); repeats alternate 1 and 2 threads so that a
 * change in the machine's load falls on both.  The medians over the
 * repeats are printed, and the speed-up is the 1-thread median wall time
 * over the 2-thread one.  Every repeat at 2 threads must give the
 * predictions and totals of 1 thread: otherwise "same results: no" and
 * exit 1.  Ranks (MPI) are not built, so no rank points are measured.
 */
#include "cli/cli.h"
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

#define SCALE_REPEAT_MAX 99
#define SCALE_THREADS 2   /* the points: 1 and this many threads */
#define SCALE_VGG_DIV "1" /* VGG11 widths divided by this: a frame < 1 s */

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh bench scale [OPTIONS] [key=value...]\n"
          "\n"
          "Frames/s of the shipped CNN (models/fmnist-cnn.json) and of a\n"
          "synthetic VGG11 (synth.arch=vgg11, synth.width_div=" SCALE_VGG_DIV
          ", 2\n"
          "calibration images) on synthetic:1 inputs, at 1 and 2 threads\n"
          "(run --jobs): wall and CPU time, speed-up over 1 thread measured\n"
          "in the same run, efficiency (speed-up / threads); medians over the\n"
          "repeats.  The frames at 2 threads must give the predictions and\n"
          "totals of 1 thread (\"same results: yes\"; exit 1 on no).\n"
          "Ranks (MPI) are not built: threads only.\n"
          "\n"
          "Options:\n"
          "  --frames N       CNN frames per point (1..100000) [200]\n"
          "  --vgg-frames N   VGG11 frames per point (1..1000) [4]\n"
          "  --repeat N       repeats of each point (1..%d) [3]\n"
          "  --no-vgg         skip the VGG11\n"
          "\n"
          "key=value: sim.*, core.*, energy.*, map.*, preset.*, noc.*, synth.*\n"
          "(spikemesh config lists them); they apply to both models.\n",
          SCALE_REPEAT_MAX);
}

struct scale_args {
  struct cli_common cm; /* --frames, key=value */
  uint64_t vgg_frames, repeat;
  int vgg;
};

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_args(int argc, char **argv, struct scale_args *a) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "bench scale", CLI_F_FRAMES | CLI_F_KV);
  a->cm.keys = run_keys_bench_vgg;
  a->vgg = 1;
  a->vgg_frames = 4;
  a->repeat = 3;
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
    } else if (!strcmp(s, "--vgg-frames") && i + 1 < argc) {
      if (sm_parse_u64(argv[++i], &a->vgg_frames) || a->vgg_frames < 1 ||
          a->vgg_frames > 1000) {
        cli_usage_error("bench scale", "--vgg-frames '%s': expected 1..1000",
                        argv[i]);
        return -1;
      }
    } else if (!strcmp(s, "--repeat") && i + 1 < argc) {
      if (sm_parse_u64(argv[++i], &a->repeat) || a->repeat < 1 ||
          a->repeat > SCALE_REPEAT_MAX) {
        cli_usage_error("bench scale", "--repeat '%s': expected 1..%d",
                        argv[i], SCALE_REPEAT_MAX);
        return -1;
      }
    } else if (!strcmp(s, "--no-vgg")) {
      a->vgg = 0;
    } else {
      cli_usage_error("bench scale", "unknown or incomplete option '%s'", s);
      return -1;
    }
  }
  if (a->cm.frames > 100000) {
    cli_usage_error("bench scale", "--frames '%llu': expected 1..100000",
                    (unsigned long long)a->cm.frames);
    return -1;
  }
  if (!a->cm.frames)
    a->cm.frames = 200;
  return 0;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One model: repeats of 1 and 2 threads, a line per thread count.
 * CLI_EXIT_FAIL (after printing "same results: no") when a 2-thread repeat
 * differs from the 1-thread ones. */
static int scale_model(const char *name, const struct model *m,
                       const struct run_options *o, uint64_t frames,
                       uint64_t repeat) {
  static double wall[2][SCALE_REPEAT_MAX], cpu[2][SCALE_REPEAT_MAX];
  struct run_bench_scale r[2], first = {0};
  struct sm_err err = {0};
  int same = 1;
  for (uint64_t k = 0; k < repeat; k++)
    for (int p = 0; p < 2; p++) {
      size_t jobs = p ? SCALE_THREADS : 1;
      if (run_bench_scale_frames(m, o, frames, jobs, &r[p], &err))
        return cli_report("bench scale", &err);
      wall[p][k] = r[p].secs;
      cpu[p][k] = r[p].cpu;
      if (!k && !p)
        first = r[0];
      if (!run_bench_scale_agree(&first, &r[p]))
        same = 0;
    }
  double w[2], c[2];
  for (int p = 0; p < 2; p++) {
    w[p] = median(wall[p], (size_t)repeat);
    c[p] = median(cpu[p], (size_t)repeat);
  }
  for (int p = 0; p < 2; p++) {
    int th = p ? SCALE_THREADS : 1;
    double su = w[0] / w[p];
    printf("%-6s %7d %7llu %10.6f %10.6f %10.1f %8.3fx %10.3f\n", name, th,
           (unsigned long long)frames, w[p], c[p], (double)frames / w[p], su,
           su / th);
  }
  printf("%-6s totals: %llu spikes, %llu SOPs, %llu hops, %llu decided of "
         "%llu frames\n", name, (unsigned long long)first.spikes,
         (unsigned long long)first.sops, (unsigned long long)first.hops,
         (unsigned long long)first.decided, (unsigned long long)frames);
  printf("%-6s same results: %s\n", name, same ? "yes" : "no");
  fflush(stdout);
  if (!same) {
    fprintf(stderr, "spikemesh bench scale: %s: %d threads gave other "
                    "predictions or totals than 1 (a determinism bug)\n",
            name, SCALE_THREADS);
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}

int cli_bench_scale(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("bench scale", &err);
  struct scale_args a;
  int p = parse_args(argc, argv, &a);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  if (sm_conf_set_kv(&c, "synth.calib_images", "2", "bench default", &err) ||
      sm_conf_set_kv(&c, "synth.arch", "vgg11", "bench default", &err) ||
      sm_conf_set_kv(&c, "synth.width_div", SCALE_VGG_DIV, "bench default",
                     &err) ||
      cli_common_conf(&a.cm, &c, argc, argv, &err))
    return cli_report("bench scale", &err);
  /* one image at a time: BLAS threads would only add synchronisation */
  train_set_threads(1);
  char mpath[1024];
  struct model *m = NULL;
  if (model_data_file("", "fmnist-cnn.json", "the shipped CNN", mpath,
                      sizeof mpath, &err) ||
      model_load(mpath, &m, &err))
    return cli_report("bench scale", &err);
  printf("bench scale: frames of synthetic:1 on 1 and %d threads (run "
         "--jobs), %llu repeat%s, medians\n", SCALE_THREADS,
         (unsigned long long)a.repeat, a.repeat == 1 ? "" : "s");
  printf("ranks (MPI): not built; no rank points measured\n");
  printf("cnn: %s (%s)\n", mpath, m->arch);
  int rc = CLI_EXIT_OK;
  struct model *v = NULL;
  if (a.vgg) {
    struct model_synth_report rep;
    if (model_synth_model(&o.synth, (uint32_t)o.core.steps_per_window,
                          o.core.fire_round, &v, &rep, &err)) {
      model_free(m);
      return cli_report("bench scale", &err);
    }
    printf("vgg11: synthetic %s, width_div %llu, %.4f spikes/neuron "
           "(calibrated in %.1f s)\n", v->arch,
           (unsigned long long)o.synth.width_div, rep.sparsity, rep.seconds);
  }
  printf("\n%-6s %7s %7s %10s %10s %10s %9s %10s\n", "model", "threads",
         "frames", "wall s", "cpu s", "frames/s", "speed-up", "efficiency");
  rc = scale_model("cnn", m, &o, a.cm.frames, a.repeat);
  if (rc == CLI_EXIT_OK && v)
    rc = scale_model("vgg11", v, &o, a.vgg_frames, a.repeat);
  model_free(v);
  model_free(m);
  return rc;
}

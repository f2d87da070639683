/*
 * cmd_synth.c -- `spikemesh synth`: write a synthetic VGG16 or VGG11 model
 * file at the paper's CIFAR-10 scale, with 4-bit weights calibrated layer
 * by layer to a target sparsity on synthetic images (cli/synth.c has the
 * method), for `spikemesh run --data synthetic:SEED`.
 *
 * The shortcuts (--arch, --sparsity, ...) set the synth.* keys; any
 * key=value works too, and core.steps_per_window / core.fire_round must be
 * those the model will run with (the calibration uses the core's exact
 * arithmetic; defaults are the paper-22nm preset's).
 */
#include "cli/cli.h"
#include "run/run.h"
#include "models/synth.h"

#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh synth --out FILE [OPTIONS] [key=value...]\n"
          "\n"
          "Writes a synthetic CIFAR-10-shaped VGG model (3x32x32 input, 3x3\n"
          "same convolutions, 2x2 pooling after each block, dense 512-512-10,\n"
          "no batch norm) with 4-bit weights calibrated so that every spiking\n"
          "layer fires at the target fraction of its neurons on synthetic\n"
          "images (`spikemesh run --data synthetic:SEED`).  The weights are\n"
          "not trained: accuracy means nothing; spikes, SOPs, hops, latency\n"
          "and energy per frame are what the model is for.\n"
          "\n"
          "Options:\n"
          "  --out FILE         model file to write (required)\n"
          "  --arch vgg16|vgg11 network [vgg16]                 (synth.arch)\n"
          "  --sparsity X       target spikes per neuron [0.2561] "
          "(synth.sparsity)\n"
          "  --seed N           weights and calibration images [1] "
          "(synth.seed)\n"
          "  --calib N          calibration images [4]    "
          "(synth.calib_images)\n"
          "  --width-div N      divide the widths by N [1]   (synth.width_div)\n"
          "  --quiet            no per-layer table\n"
          "\n"
          "key=value: synth.* (spikemesh config lists them), and\n"
          "core.steps_per_window / core.fire_round, which must match the run\n"
          "[10, ceil as in the paper-22nm preset].\n");
}

static int set(struct sm_conf *c, const char *key, const char *v,
               struct sm_err *err) {
  return sm_conf_set_kv(c, key, v, "command line", err);
}

int cli_cmd_synth(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("synth", &err);
  const char *out = NULL;
  int quiet = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *key = NULL;
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
      continue;
    } else if (!strcmp(a, "--out")) {
      if (i + 1 >= argc || !argv[i + 1][0])
        return cli_usage_error("synth", "--out needs a file name");
      out = argv[++i];
      continue;
    } else if (!strcmp(a, "--arch")) {
      key = "synth.arch";
    } else if (!strcmp(a, "--sparsity")) {
      key = "synth.sparsity";
    } else if (!strcmp(a, "--seed")) {
      key = "synth.seed";
    } else if (!strcmp(a, "--calib")) {
      key = "synth.calib_images";
    } else if (!strcmp(a, "--width-div")) {
      key = "synth.width_div";
    } else if (strchr(a, '=') && a[0] != '-') {
      if (sm_conf_set(&c, a, "command line", &err))
        return cli_report("synth", &err);
      continue;
    } else {
      return cli_usage_error("synth", "unknown option '%s'", a);
    }
    if (i + 1 >= argc)
      return cli_usage_error("synth", "%s needs a value", a);
    if (set(&c, key, argv[++i], &err))
      return cli_report("synth", &err);
  }
  if (!out)
    return cli_usage_error("synth", "no --out FILE given");
  struct model *m = NULL;
  struct model_synth_report rep;
  if (model_synth_model(&o.synth, (uint32_t)o.core.steps_per_window,
                      o.core.fire_round, &m, &rep, &err))
    return cli_report("synth", &err);
  char cmd[1024];
  size_t o2 = (size_t)snprintf(cmd, sizeof cmd, "spikemesh synth");
  for (int i = 1; i < argc && o2 < sizeof cmd; i++)
    o2 += (size_t)snprintf(cmd + o2, sizeof cmd - o2, " %s", argv[i]);
  json_object_set_new(m->metadata, "command", json_string(cmd));
  if (model_save(m, out, &err)) {
    model_free(m);
    return cli_report("synth", &err);
  }
  uint64_t neurons = 0;
  for (uint32_t s = 0; s < rep.nlayers; s++)
    neurons += rep.layer[s].neurons;
  printf("spikemesh synth: %s (%s), %llu neurons in %u spiking layers, "
         "target %.4f spikes/neuron\n",
         out, m->arch, (unsigned long long)neurons, rep.nlayers,
         o.synth.sparsity);
  if (!quiet) {
    printf("  %-5s %-6s %8s %8s %9s %11s %9s %6s\n", "layer", "type",
           "neurons", "fired", "mean step", "scale", "shift", "passes");
    for (uint32_t s = 0; s < rep.nlayers; s++) {
      const struct model_synth_layer *L = &rep.layer[s];
      printf("  %-5d %-6s %8llu %8.4f %9.2f %11.5g %9.4f %6d\n",
             L->model_layer,
             model_layer_type_name(m->layers[L->model_layer].type),
             (unsigned long long)L->neurons, L->fired, L->mean_step, L->scale,
             L->shift, L->iterations);
    }
  }
  printf("calibrated on %llu synthetic images (synthetic:%llu): %.4f spikes "
         "per neuron over all spiking layers (%.2f%% from the target), "
         "%.1f s\n",
         (unsigned long long)o.synth.calib_images,
         (unsigned long long)o.synth.seed, rep.sparsity,
         100.0 * (rep.sparsity - o.synth.sparsity) / o.synth.sparsity,
         rep.seconds);
  model_free(m);
  return CLI_EXIT_OK;
}

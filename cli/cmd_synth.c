/*
 * cmd_synth.c -- `spikemesh synth`: write a synthetic VGG16 or VGG11 model
 * file at the paper's CIFAR-10 scale, with 4-bit weights calibrated layer
 * by layer to a target sparsity on synthetic images (models/synth.c has
 * the method), for `spikemesh run --data synthetic:SEED`.
 *
 * The shortcuts (--arch, --sparsity, ...) set the synth.* keys after every
 * key=value, so a shortcut wins over the same key given as key=value.  Any
 * key=value works; core.steps_per_window / core.fire_round must be those
 * the model will run with (the calibration uses the core's exact
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
          "[10, ceil as in the paper-22nm preset]; other keys are refused.\n");
}

/* The shortcuts and the synth.* key each sets. */
static const struct {
  const char *opt, *key;
} shortcuts[] = {{"--arch", "synth.arch"},
                 {"--sparsity", "synth.sparsity"},
                 {"--seed", "synth.seed"},
                 {"--calib", "synth.calib_images"},
                 {"--width-div", "synth.width_div"}};
#define NSHORT SM_ARRAY_LEN(shortcuts)

/* The arguments of `synth`. */
struct synth_args {
  struct cli_common cm;
  const char *out;
  const char *value[NSHORT]; /* each shortcut's last value, NULL: none */
  int quiet;
};

/* 0 parsed, 1 help printed, -1 a usage error (reported). */
static int parse_args(int argc, char **argv, struct synth_args *a) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "synth", CLI_F_KV);
  a->cm.keys = run_keys_synth;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int t = cli_common_arg(&a->cm, argc, argv, &i);
    if (t < 0)
      return -1;
    if (t)
      continue;
    size_t k = 0;
    while (k < NSHORT && strcmp(s, shortcuts[k].opt))
      k++;
    if (cli_is_help(s)) {
      usage(stdout);
      return 1;
    } else if (!strcmp(s, "--quiet")) {
      a->quiet = 1;
    } else if (!strcmp(s, "--out")) {
      if (i + 1 >= argc || !argv[i + 1][0]) {
        cli_usage_error("synth", "--out needs a file name");
        return -1;
      }
      a->out = argv[++i];
    } else if (k < NSHORT) {
      if (i + 1 >= argc) {
        cli_usage_error("synth", "%s needs a value", s);
        return -1;
      }
      a->value[k] = argv[++i];
    } else {
      cli_usage_error("synth", "unknown option '%s'", s);
      return -1;
    }
  }
  return 0;
}

/* key=value in order, then the shortcuts. */
static int configure(const struct synth_args *a, struct sm_conf *c, int argc,
                     char **argv, struct sm_err *err) {
  int e = cli_common_conf(&a->cm, c, argc, argv, err);
  for (size_t k = 0; k < NSHORT && !e; k++)
    if (a->value[k])
      e = sm_conf_set_kv(c, shortcuts[k].key, a->value[k], "command line",
                         err);
  return e;
}

static void print_report(const struct synth_args *a, const struct model *m,
                         const struct model_synth_conf *sc,
                         const struct model_synth_report *rep) {
  uint64_t neurons = 0;
  for (uint32_t s = 0; s < rep->nlayers; s++)
    neurons += rep->layer[s].neurons;
  printf("spikemesh synth: %s (%s), %llu neurons in %u spiking layers, "
         "target %.4f spikes/neuron\n",
         a->out, m->arch, (unsigned long long)neurons, rep->nlayers,
         sc->sparsity);
  if (!a->quiet) {
    printf("  %-5s %-6s %8s %8s %9s %11s %9s %6s\n", "layer", "type",
           "neurons", "fired", "mean step", "scale", "shift", "passes");
    for (uint32_t s = 0; s < rep->nlayers; s++) {
      const struct model_synth_layer *L = &rep->layer[s];
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
         (unsigned long long)sc->calib_images, (unsigned long long)sc->seed,
         rep->sparsity, 100.0 * (rep->sparsity - sc->sparsity) / sc->sparsity,
         rep->seconds);
}

int cli_cmd_synth(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("synth", &err);
  struct synth_args a;
  int p = parse_args(argc, argv, &a);
  if (p)
    return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
  if (configure(&a, &c, argc, argv, &err))
    return cli_report("synth", &err);
  const char *out = a.out;
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
  print_report(&a, m, &o.synth, &rep);
  model_free(m);
  return CLI_EXIT_OK;
}

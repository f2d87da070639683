/*
 * cmd_train.c -- `spikemesh train`: train a DTA-TTFS network and export it,
 * or (--eval MODEL) report a model file's first-spike accuracy, sparsity
 * and inactive neurons per layer.  Options come from the trainer's table
 * (train.*), set by a JSON file and key=value arguments.
 */
#include "cli/cli.h"
#include "run/run.h"
#include "trainer/train.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, const struct cli_common *cm, struct sm_conf *c) {
  fprintf(out,
          "Usage: spikemesh train [FILE.json] [train.KEY=VALUE...]\n"
          "       spikemesh train --eval MODEL.json [train.data=DIR] "
          "[train.bits=B]\n"
          "\n"
          "Trains a DTA-TTFS spiking network (ANN pretraining, SNN training,\n"
          "b-bit quantization-aware fine-tuning) on an IDX data set and "
          "writes\nthe quantized model to train.out.  Prints per epoch the "
          "loss, train and\ntest accuracy, samples/s, ETA, and the silent / "
          "window-start fractions\nof each spiking layer.\n"
          "\n"
          "With --eval, loads MODEL.json and prints its first-spike accuracy\n"
          "on the test set of train.data, the sparsity (spikes per neuron)\n"
          "and the inactive fraction per layer; for a float model also the\n"
          "accuracy after quantizing to train.bits without fine-tuning.\n"
          "\nOptions (key=default  meaning  [valid values unit]; other keys\n"
          "are refused as key=value: they are the simulator's):\n");
  cli_common_help(cm, c, out);
}

static int do_eval(const char *path, const struct train_conf *tc) {
  struct sm_err err = {0};
  struct train_eval_file f;
  if (train_eval_file(path, tc, &f, &err))
    return cli_report("train", &err);
  const struct model *m = f.m;
  printf("model %s (%s), readout %s, %s weights, test set of %s (%zu images)\n",
         path, m->arch, m->readout, f.bits ? "quantized" : "float", tc->data,
         f.ntest);
  json_t *af = json_object_get(m->metadata, "accuracy_float");
  char what[80];
  if (f.bits && json_is_number(af))
    printf("float (from the metadata, weights not in the file): first-spike "
           "accuracy %.2f%%\n",
           100 * json_number_value(af));
  if (f.bits)
    snprintf(what, sizeof what, "quantized %d-bit (measured)", f.bits);
  train_print_eval(stdout, f.bits ? what : "float (measured)", &f.ev);
  snprintf(what, sizeof what, "quantized %d-bit without fine-tuning (measured)",
           (int)tc->bits);
  if (f.have_quant)
    train_print_eval(stdout, what, &f.quant);
  train_eval_file_free(&f);
  return CLI_EXIT_OK;
}

/* The shared progress bar inside each epoch (a terminal only). */
static void on_progress(void *ctx, const char *stage, size_t epoch,
                        size_t epochs, size_t done, size_t total) {
  struct cli_progress *bar = ctx;
  if (done == total) { /* the epoch's line follows on stdout */
    cli_progress_clear(bar);
    bar->t_start = 0;
    return;
  }
  if (!bar->t_start || bar->total != total)
    cli_progress_init(bar, total, "samples", 1);
  char extra[64];
  snprintf(extra, sizeof extra, "; %s epoch %zu/%zu", stage, epoch + 1,
           epochs);
  cli_progress_draw(bar, done, extra, 0);
}

/* "spikemesh train ARGS...", for the model's metadata. */
static char *command_line(int argc, char **argv) {
  size_t len = 32;
  for (int i = 0; i < argc; i++)
    len += strlen(argv[i]) + 1;
  char *command = sm_xmalloc(len);
  strcpy(command, "spikemesh train");
  for (int i = 1; i < argc; i++) {
    strcat(command, " ");
    strcat(command, argv[i]);
  }
  return command;
}

/* FILE.json (loaded here, in order), --eval, key=value (left to
 * cli_common_conf).  0 parsed, 1 help printed, -1 a usage error or a bad
 * file (reported; *rc is the exit status). */
static int parse_args(int argc, char **argv, struct cli_common *cm,
                      struct sm_conf *c, const char **eval, int *rc) {
  cli_common_init(cm, "train", CLI_F_KV);
  cm->keys = run_keys_train;
  *eval = NULL;
  *rc = CLI_EXIT_USAGE;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int t = cli_common_arg(cm, argc, argv, &i);
    if (t < 0)
      return -1;
    if (t)
      continue;
    struct sm_err err = {0};
    if (cli_is_help(a)) {
      usage(stdout, cm, c);
      return 1;
    } else if (!strcmp(a, "--eval")) {
      if (i + 1 >= argc) {
        cli_usage_error("train", "--eval needs a model file");
        return -1;
      }
      *eval = argv[++i];
    } else if (a[0] == '-') {
      cli_usage_error("train", "unknown option '%s'", a);
      return -1;
    } else if (sm_conf_load_file(c, a, &err)) {
      *rc = cli_report("train", &err);
      return -1;
    }
  }
  return 0;
}

int cli_cmd_train(int argc, char **argv) {
  struct run_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  run_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("train", &err);
  struct cli_common cm;
  const char *eval;
  int rc, p = parse_args(argc, argv, &cm, &c, &eval, &rc);
  if (p)
    return p > 0 ? CLI_EXIT_OK : rc;
  if (cli_common_conf(&cm, &c, argc, argv, &err))
    return cli_report("train", &err);
  if (eval)
    return do_eval(eval, &o.train);
  char *command = command_line(argc, argv);
  struct train_result res;
  struct cli_progress bar = {0};
  if (!o.train.quiet)
    train_set_progress(on_progress, &bar);
  rc = CLI_EXIT_OK;
  if (train_run(&o.train, command, stdout, &res, &err))
    rc = cli_report("train", &err);
  train_set_progress(NULL, NULL);
  free(command);
  return rc;
}

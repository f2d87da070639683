/*
 * bench_train.c -- `spikemesh bench train`: SNN training throughput
 * (forward, backward, Adam on a batch) of the paper's MLP and CNN on
 * Fashion-MNIST, with OpenBLAS and, in the same run, with the same step
 * using plain triple loops instead of BLAS (the baseline); prints
 * samples/s and the ratio.  The measurement is run_bench_train_arch()
 * (run/bench.c).
 */
#include "cli/cli.h"
#include "run/run.h"

#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh bench train [OPTIONS]\n"
          "\n"
          "SNN training steps (forward, backward, Adam) on Fashion-MNIST for\n"
          "784-800-10 and 28x28-16C5-P2-32C5-P2-800-128-10; prints samples/s\n"
          "with OpenBLAS and with naive loops (same code, GEMMs as loops) and\n"
          "the ratio.\n"
          "\nOptions:\n"
          "  --data DIR         IDX directory [" TRAIN_DEFAULT_DATA "]\n"
          "  --batch N          samples per step [128]\n"
          "  --threads N        BLAS threads [2]\n"
          "  --min-seconds S    measuring time per point [3]\n"
          "  --no-baseline      skip the naive-loop baseline\n");
}

int cli_bench_train(int argc, char **argv) {
  const char *data = TRAIN_DEFAULT_DATA;
  uint64_t batch = 128, threads = 2;
  double min_s = 3;
  int baseline = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_EXIT_OK;
    } else if (i + 1 < argc && !strcmp(a, "--data")) {
      data = argv[++i];
    } else if (i + 1 < argc && !strcmp(a, "--batch")) {
      if (sm_parse_u64(argv[++i], &batch) || batch < 1 || batch > 4096)
        return cli_usage_error("bench train", "--batch: expected 1..4096");
    } else if (i + 1 < argc && !strcmp(a, "--threads")) {
      if (sm_parse_u64(argv[++i], &threads) || threads < 1 || threads > 256)
        return cli_usage_error("bench train", "--threads: expected 1..256");
    } else if (i + 1 < argc && !strcmp(a, "--min-seconds")) {
      if (sm_parse_double(argv[++i], &min_s) || min_s <= 0 || min_s > 600)
        return cli_usage_error("bench train",
                               "--min-seconds: expected a number in (0, 600]");
    } else if (!strcmp(a, "--no-baseline")) {
      baseline = 0;
    } else {
      return cli_usage_error("bench train", "unknown or incomplete option '%s'",
                             a);
    }
  }
  struct sm_err err = {0};
  struct train_data d;
  if (train_data_load_dir(data, 0, &d, &err))
    return cli_report("bench train", &err);
  train_set_threads((int)threads);
  static const char *const archs[] = {"784-800-10",
                                      "28x28-16C5-P2-32C5-P2-800-128-10"};
  printf("%-34s %-8s %12s %8s %10s\n", "network", "gemm", "samples/s", "steps",
         "vs naive");
  int rc = CLI_EXIT_OK;
  for (size_t k = 0; k < SM_ARRAY_LEN(archs); k++) {
    struct run_bench_train r;
    if (run_bench_train_arch(archs[k], &d, batch, baseline, min_s, &r,
                             &err)) {
      rc = cli_report("bench train", &err);
      break;
    }
    printf("%-34s %-8s %12.0f %8zu %9s\n", archs[k], "openblas", r.rate,
           r.steps, baseline ? "" : "-");
    if (baseline)
      printf("%-34s %-8s %12.0f %8zu %9.2fx\n", archs[k], "naive", r.base,
             r.bsteps, r.rate / r.base);
    fflush(stdout);
  }
  train_data_free(&d);
  return rc;
}

/*
 * cmd_bench.c -- `spikemesh bench WHAT`: benchmarks that print figures and
 * compare against the simplest baseline measured in the same run.
 */
#include "cli/cli.h"

#include <string.h>

struct bench {
  const char *name;
  const char *summary;
  int (*fn)(int argc, char **argv);
};

static const struct bench benches[] = {
    {"kernel", "hold model on every queue vs a plain binary heap",
     cli_bench_kernel},
    {"lookahead", "one VGG16 frame's events per lookahead window and mesh "
                  "region vs a barrier", cli_bench_lookahead},
    {"noc", "8x8 mesh, clocked preset: cycles/s vs the binary-heap queue",
     cli_bench_noc},
    {"recorder", "run at each recording detail vs summary; writer rows/s",
     cli_bench_recorder},
    {"scale", "frames/s of the CNN and a VGG11 on 1 and 2 threads (ranks not "
              "built)", cli_bench_scale},
    {"train", "training samples/s of the MLP and the CNN, BLAS vs naive loops",
     cli_bench_train},
    {"vgg", "one frame of the paper's CIFAR-10 VGG16 (synthetic): s/frame vs "
            "the binary heap", cli_bench_vgg},
};

static void bench_usage(FILE *out) {
  fprintf(out, "Usage: spikemesh bench WHAT [OPTIONS]\n\nBenchmarks:\n");
  for (size_t i = 0; i < SM_ARRAY_LEN(benches); i++)
    fprintf(out, "  %-10s %s\n", benches[i].name, benches[i].summary);
  fprintf(out, "\nRun 'spikemesh bench WHAT --help' for its options.\n");
}

int cli_cmd_bench(int argc, char **argv) {
  if (argc < 2) {
    bench_usage(stderr);
    return CLI_EXIT_USAGE;
  }
  if (cli_is_help(argv[1])) {
    bench_usage(stdout);
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < SM_ARRAY_LEN(benches); i++)
    if (!strcmp(benches[i].name, argv[1]))
      return benches[i].fn(argc - 1, argv + 1);
  return cli_usage_error("bench", "unknown benchmark '%s'", argv[1]);
}

/*
 * cli.h -- the spikemesh program's subcommands.
 *
 * The list is written once (CLI_COMMANDS); main.c builds the dispatch table
 * and the top-level --help from it.  Each command parses its own arguments,
 * answers --help with the truth about them, and returns the process exit
 * status: 0 success, 1 a failure while running, 2 bad usage or bad input.
 */
#ifndef SPIKEMESH_CLI_H
#define SPIKEMESH_CLI_H

#include <stdio.h>

#include "util/conf.h"
#include "util/util.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* X(name, summary) */
#define CLI_COMMANDS(X)                                                        \
  X(bench, "benchmarks vs a baseline: kernel, noc, train, recorder, vgg")      \
  X(config, "print the configuration reference or an effective configuration") \
  X(db, "summarize a recorder database, compare two runs, digest a run")   \
  X(energy, "energy claims: Eq. 11 theory (Table 2) and Eq. 12 per frame")  \
  X(noc, "synthetic traffic on the mesh NoC: latency-throughput sweep")     \
  X(plot, "draw figures from a recorder database with gnuplot (PNG, SVG)") \
  X(replay, "inject a spike or packet trace into a chosen architecture")     \
  X(run, "map a model onto cores and run inference spike by spike, with energy") \
  X(synth, "write a synthetic VGG16/VGG11 model calibrated to a target sparsity") \
  X(sweep, "run a grid of configurations in parallel: summary and Pareto front") \
  X(trace, "export spike/packet traces of a run; convert binary <-> CSV")   \
  X(train, "train a DTA-TTFS network and export it, or --eval a model file")

#define CLI__DECL(name, summary) int cli_cmd_##name(int argc, char **argv);
CLI_COMMANDS(CLI__DECL)
#undef CLI__DECL

/* Print "spikemesh CMD: message" to stderr and return CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Report an sm_err from a command and return CLI_EXIT_USAGE for bad input
 * (EINVAL, ERANGE, ENOKEY, ETYPE, EFORMAT, EVERSION, ENOFIT, ENOENT, ELIMIT)
 * or CLI_EXIT_FAIL otherwise. */
int cli_report(const char *cmd, const struct sm_err *err);
/* 1 if argv[i] is -h or --help. */
int cli_is_help(const char *arg);

/* Benchmarks (cmd_bench.c dispatches to these). */
int cli_bench_kernel(int argc, char **argv);
int cli_bench_noc(int argc, char **argv);
int cli_bench_train(int argc, char **argv);
int cli_bench_recorder(int argc, char **argv);
int cli_bench_vgg(int argc, char **argv);

#endif /* SPIKEMESH_CLI_H */

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

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "traces/trace.h"
#include "util/conf.h"
#include "util/util.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* X(name, summary) */
#define CLI_COMMANDS(X)                                                        \
  X(bench, "benchmarks: kernel, lookahead, noc, recorder, scale, train, vgg") \
  X(config, "print the configuration reference or an effective configuration") \
  X(db, "summarize a recorder database, compare two runs, digest a run")   \
  X(energy, "energy claims: Eq. 11 theory (Table 2) and Eq. 12 per frame")  \
  X(map, "map a model onto cores: table, mesh picture, and the mapping file") \
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

/* ---- what every command shares (cli/common.c) --------------------------- */

/* The flags a command takes of the shared ones. */
enum {
  CLI_F_ARCH = 1u << 0,   /* --arch PRESET|FILE: loaded before key=value */
  CLI_F_MESH = 1u << 1,   /* --mesh WxH|auto */
  CLI_F_DB = 1u << 2,     /* --db FILE */
  CLI_F_DETAIL = 1u << 3, /* --detail LEVEL */
  CLI_F_FRAMES = 1u << 4, /* --frames N (>= 1) */
  CLI_F_KV = 1u << 5      /* key=value overrides */
};

struct cli_common {
  const char *cmd;          /* the command, for messages */
  unsigned flags;           /* CLI_F_* it takes */
  const char *arch;         /* [MODEL_DEFAULT_PRESET] */
  uint32_t mesh_w, mesh_h;  /* 0 x 0: auto */
  int mesh_given;
  const char *db;           /* NULL: none */
  enum trace_detail detail; /* [summary] */
  int detail_given;
  uint64_t frames;          /* 0: all */
  int first_kv;             /* argv index of the first key=value, 0: none */
  const char *const *keys;  /* the keys key=value may set (run_key_taken;
                               NULL: every key) */
};
void cli_common_init(struct cli_common *cm, const char *cmd, unsigned flags);
/* argv[*i] as one of the shared flags: 1 taken (*i moved past its value),
 * 0 not one of them, -1 a bad value (reported; exit CLI_EXIT_USAGE). */
int cli_common_arg(struct cli_common *cm, int argc, char **argv, int *i);
/* After sm_conf_defaults(c): the preset (CLI_F_ARCH), then every
 * key=value in the order given (a known key outside cm->keys is refused,
 * naming it and the command), then --mesh WxH|auto as noc.width and
 * noc.height (a noc.width or noc.height given as key=value that says
 * otherwise is refused). */
int cli_common_conf(const struct cli_common *cm, struct sm_conf *c, int argc,
                    char **argv, struct sm_err *err);
/* The option list of --help: the options of c that cm->keys takes. */
void cli_common_help(const struct cli_common *cm, const struct sm_conf *c,
                     FILE *out);
/* The default model file (MODEL_DEFAULT_MODEL on the search path). */
int cli_default_model(char *path, size_t len, struct sm_err *err);

/* The stop flag: INT, TERM and HUP set it (and print `line`, or a default
 * line when NULL); a second signal takes its default action.  The frame
 * loops read it between frames.  Remove restores the previous actions. */
atomic_int *cli_stop_install(const char *line);
void cli_stop_remove(void);

/* The progress bar on stderr (a terminal only): done/total UNIT, rate,
 * elapsed, ETA, and an extra text. */
struct cli_progress {
  size_t total;
  const char *unit;
  int on;
  uint64_t t_start, t_last; /* ns */
};
void cli_progress_init(struct cli_progress *p, size_t total, const char *unit,
                       int enabled);
/* Redraw (at most every 200 ms unless force, and at done == total). */
void cli_progress_draw(struct cli_progress *p, size_t done, const char *extra,
                       int force);
/* Erase the bar's line (before printing a line of output under it). */
void cli_progress_clear(struct cli_progress *p);
/* The final state and a newline. */
void cli_progress_end(struct cli_progress *p, size_t done);

/* Benchmarks (cmd_bench.c dispatches to these). */
int cli_bench_kernel(int argc, char **argv);
int cli_bench_noc(int argc, char **argv);
int cli_bench_train(int argc, char **argv);
int cli_bench_recorder(int argc, char **argv);
int cli_bench_vgg(int argc, char **argv);
int cli_bench_scale(int argc, char **argv);
int cli_bench_lookahead(int argc, char **argv);

#endif /* SPIKEMESH_CLI_H */

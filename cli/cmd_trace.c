/*
 * cmd_trace.c -- `spikemesh trace`: spike and packet traces out of a
 * recorded run, and conversion between the binary format and CSV (which
 * is how traces from other tools come in).
 */
#include "cli/cli.h"
#include "run/run.h"

#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh trace export --db FILE [--run N] [--kind "
          "spike|packet]\n"
          "                              [--model FILE] [--csv] -o OUT\n"
          "       spikemesh trace convert IN OUT [--csv]\n"
          "       spikemesh trace info FILE\n"
          "\n"
          "export   the spikes of a run recorded at spike or packet detail, as\n"
          "         a spike trace, or (--kind packet) as packets through the\n"
          "         run's mapping (needs its model: --model or the run's)\n"
          "convert  read a binary or CSV trace and write it as binary, or as\n"
          "         CSV with --csv (import and export of foreign traces)\n"
          "info     kind, record count and meta of a trace file\n"
          "Formats: doc/recorder.md.\n");
}

/* The arguments of `trace export`. */
struct export_args {
  struct cli_common cm;    /* --db */
  const char *out, *model;
  int64_t run;             /* -1: the newest */
  int csv, packet;
};

/* 0 parsed, -1 a usage error (reported). */
static int parse_export_args(int argc, char **argv, struct export_args *a) {
  memset(a, 0, sizeof *a);
  cli_common_init(&a->cm, "trace", CLI_F_DB);
  a->run = -1;
  for (int i = 2; i < argc; i++) {
    const char *s = argv[i];
    int t = cli_common_arg(&a->cm, argc, argv, &i);
    if (t < 0)
      return -1;
    if (t)
      continue;
    if (!strcmp(s, "-o") && i + 1 < argc) {
      a->out = argv[++i];
    } else if (!strcmp(s, "--model") && i + 1 < argc) {
      a->model = argv[++i];
    } else if (!strcmp(s, "--csv")) {
      a->csv = 1;
    } else if (!strcmp(s, "--run") && i + 1 < argc) {
      if (sm_parse_i64(argv[++i], &a->run) || a->run < 1) {
        cli_usage_error("trace", "--run '%s': expected a run id", argv[i]);
        return -1;
      }
    } else if (!strcmp(s, "--kind") && i + 1 < argc) {
      const char *k = argv[++i];
      if (strcmp(k, "spike") && strcmp(k, "packet")) {
        cli_usage_error("trace", "--kind '%s': expected spike or packet", k);
        return -1;
      }
      a->packet = !strcmp(k, "packet");
    } else {
      cli_usage_error("trace", "export: unknown or incomplete option '%s'", s);
      return -1;
    }
  }
  if (!a->cm.db || !a->out) {
    cli_usage_error("trace", "export needs --db FILE and -o OUT");
    return -1;
  }
  return 0;
}

/* The packets of a run's spikes t into a file. */
static int export_packets(const struct export_args *a,
                          const struct trace_file *t, int64_t run) {
  struct sm_err err = {0};
  char model[4096];
  run_trace_model_path(t, a->model, model, sizeof model);
  struct trace_file tp = {0};
  int rc = CLI_EXIT_OK;
  if (!*model)
    rc = cli_usage_error("trace", "export --kind packet needs --model FILE");
  else if (run_recorded_packets(t, model, a->cm.db, &tp, &err) ||
           trace_file_write(a->out, &tp, a->csv, &err))
    rc = cli_report("trace", &err);
  else
    printf("wrote %zu packets of run %lld to %s\n", tp.n, (long long)run,
           a->out);
  trace_file_free(&tp);
  return rc;
}

static int export(int argc, char **argv) {
  struct export_args a;
  struct sm_err err = {0};
  if (parse_export_args(argc, argv, &a))
    return CLI_EXIT_USAGE;
  int64_t run = a.run;
  if (run < 0 && trace_db_last_run(a.cm.db, &run, &err))
    return cli_report("trace", &err);
  struct trace_file t;
  if (trace_db_spikes(a.cm.db, run, &t, &err))
    return cli_report("trace", &err);
  int rc = CLI_EXIT_OK;
  if (a.packet)
    rc = export_packets(&a, &t, run);
  else if (trace_file_write(a.out, &t, a.csv, &err))
    rc = cli_report("trace", &err);
  else
    printf("wrote %zu spikes of run %lld to %s\n", t.n, (long long)run, a.out);
  trace_file_free(&t);
  return rc;
}

int cli_cmd_trace(int argc, char **argv) {
  struct sm_err err = {0};
  if (argc < 2 || cli_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  if (!strcmp(argv[1], "export"))
    return export(argc, argv);
  struct trace_file t;
  if (!strcmp(argv[1], "info") && argc == 3) {
    if (trace_file_read(argv[2], &t, &err))
      return cli_report("trace", &err);
    printf("%s: %s trace, format %d, %zu records%s\nmeta: %s\n", argv[2],
           t.kind == TRACE_KIND_SPIKE ? "spike" : "packet", TRACE_FILE_VERSION,
           t.n, "", t.meta);
    trace_file_free(&t);
    return CLI_EXIT_OK;
  }
  if (!strcmp(argv[1], "convert") && (argc == 4 || argc == 5)) {
    int csv = argc == 5 && !strcmp(argv[4], "--csv");
    if (argc == 5 && !csv)
      return cli_usage_error("trace", "convert: unknown option '%s'", argv[4]);
    if (trace_file_read(argv[2], &t, &err))
      return cli_report("trace", &err);
    int rc = CLI_EXIT_OK;
    if (trace_file_write(argv[3], &t, csv, &err))
      rc = cli_report("trace", &err);
    else
      printf("wrote %zu records to %s (%s)\n", t.n, argv[3],
             csv ? "CSV" : "binary");
    trace_file_free(&t);
    return rc;
  }
  usage(stderr);
  return cli_usage_error("trace", "expected export, convert or info");
}

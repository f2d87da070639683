/*
 * cmd_plot.c -- `spikemesh plot`: figures from a recorder database.
 *
 * The work is in traces/plot.c; this parses the command line and lists the
 * plot kinds with what each needs from the database (the same table the
 * error messages come from).
 */
#include "cli/cli.h"
#include "traces/trace.h"

#include <string.h>

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh plot DB [--run N] [--frame N] [--kind LIST]\n"
          "                         [--format png|svg|both] [--out DIR]\n"
          "                         [--gnuplot PROG]\n"
          "\n"
          "Draws figures from a recorder database with gnuplot.  Each plot\n"
          "leaves KIND.png and/or KIND.svg, its gnuplot script KIND.gp and its\n"
          "data KIND.dat in DIR; `gnuplot KIND.gp` run in DIR draws it again\n"
          "(edit the script to restyle).  Without gnuplot the scripts and\n"
          "data are still written and the command fails saying so.\n"
          "\n"
          "Options:\n"
          "  --run N        the run of per-run plots [the newest run with "
          "frames]\n"
          "  --frame N      the raster's frame [the run's first]\n"
          "  --kind LIST    comma-separated plot kinds [every kind the "
          "database\n"
          "                 has data for]; a kind asked for whose data is\n"
          "                 missing is an error naming the detail it needs\n"
          "  --format F     png, svg or both [png]\n"
          "  --out DIR      output directory, created if missing [plots]\n"
          "  --gnuplot PROG the gnuplot program [" SM_GNUPLOT "]\n"
          "\n"
          "Kinds (and what each needs):\n");
  for (int k = 0; k < TRACE_PLOT_NKINDS; k++)
    fprintf(out, "  %-12s %s\n  %-12s needs %s\n", trace_plot_name(k),
            trace_plot_summary(k), "", trace_plot_needs(k));
  fprintf(out, "\nDatabases: `spikemesh run|noc|replay --db FILE --detail "
               "LEVEL`; schema in doc/recorder.md.\n");
}

static int parse_kinds(const char *list, unsigned *out) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", list);
  *out = 0;
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
       t = strtok_r(NULL, ",", &save)) {
    int k = trace_plot_parse(t);
    if (k < 0) {
      char names[256] = "";
      for (int i = 0; i < TRACE_PLOT_NKINDS; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 i ? ", " : "", trace_plot_name(i));
      return cli_usage_error("plot", "--kind: unknown plot kind '%s' "
                                     "(expected: %s)", t, names);
    }
    *out |= 1u << k;
  }
  if (!*out)
    return cli_usage_error("plot", "--kind: expected a comma-separated list "
                                   "of plot kinds");
  return 0;
}

int cli_cmd_plot(int argc, char **argv) {
  struct trace_plot_opts o = {.out_dir = "plots",
                              .gnuplot = SM_GNUPLOT,
                              .run = 0,
                              .frame = -1,
                              .png = 1};
  struct sm_err err = {0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--run") && more) {
      if (sm_parse_i64(argv[++i], &o.run) || o.run < 1)
        return cli_usage_error("plot", "--run '%s': expected a run id >= 1",
                               argv[i]);
    } else if (!strcmp(a, "--frame") && more) {
      if (sm_parse_i64(argv[++i], &o.frame) || o.frame < 0)
        return cli_usage_error("plot", "--frame '%s': expected a frame "
                                       "number >= 0", argv[i]);
    } else if (!strcmp(a, "--kind") && more) {
      if (parse_kinds(argv[++i], &o.kinds))
        return CLI_EXIT_USAGE;
    } else if (!strcmp(a, "--format") && more) {
      const char *f = argv[++i];
      o.png = !strcmp(f, "png") || !strcmp(f, "both");
      o.svg = !strcmp(f, "svg") || !strcmp(f, "both");
      if (!o.png && !o.svg)
        return cli_usage_error("plot", "--format '%s': expected png, svg or "
                                       "both", f);
    } else if (!strcmp(a, "--out") && more) {
      o.out_dir = argv[++i];
    } else if (!strcmp(a, "--gnuplot") && more) {
      o.gnuplot = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      return cli_usage_error("plot", "unknown or incomplete option '%s'", a);
    } else if (!o.db) {
      o.db = a;
    } else {
      return cli_usage_error("plot", "one database expected, got '%s' and "
                                     "'%s'", o.db, a);
    }
  }
  if (!o.db)
    return cli_usage_error("plot", "expected a database: spikemesh plot DB");
  if (trace_plot(&o, stdout, &err))
    return cli_report("plot", &err);
  return CLI_EXIT_OK;
}

/*
 * cmd_config.c -- `spikemesh config`: the configuration reference (from the
 * option tables, the same ones the loader uses) and the effective
 * configuration after a file and key=value overrides.
 */
#include "cli/cli.h"
#include "cli/options.h"

#include <string.h>

static void usage(FILE *out, struct sm_conf *c) {
  fprintf(out,
          "Usage: spikemesh config [--markdown] [FILE.json] [key=value...]\n"
          "\n"
          "Without --markdown, prints the effective configuration as JSON:\n"
          "the defaults, then FILE.json, then each key=value in order.\n"
          "With --markdown, prints the option reference as a Markdown table\n"
          "(doc/config.md is generated this way).\n"
          "\nOptions (key=default  meaning  [valid values unit]):\n");
  sm_conf_print_help(c, out);
}

int cli_cmd_config(int argc, char **argv) {
  struct cli_options o;
  struct sm_conf c;
  struct sm_err err = {0};
  cli_options_init(&o, &c);
  if (sm_conf_defaults(&c, &err))
    return cli_report("config", &err);
  int markdown = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout, &c);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--markdown")) {
      markdown = 1;
    } else if (strchr(a, '=')) {
      if (sm_conf_set(&c, a, "command line", &err))
        return cli_report("config", &err);
    } else if (a[0] == '-') {
      return cli_usage_error("config", "unknown option '%s'", a);
    } else {
      if (sm_conf_load_file(&c, a, &err))
        return cli_report("config", &err);
    }
  }
  if (markdown) {
    sm_conf_print_markdown(&c, stdout);
    return CLI_EXIT_OK;
  }
  json_t *j = sm_conf_to_json(&c);
  json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
  fputc('\n', stdout);
  json_decref(j);
  return CLI_EXIT_OK;
}

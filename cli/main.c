/*
 * main.c -- the spikemesh program: git-style subcommands.
 */
#include "cli/cli.h"
#include "models/map.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct cli_command {
  const char *name;
  const char *summary;
  int (*fn)(int argc, char **argv);
};

static const struct cli_command commands[] = {
#define CLI__ROW(name, summary) {#name, summary, cli_cmd_##name},
    CLI_COMMANDS(CLI__ROW)
#undef CLI__ROW
};

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "spikemesh %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'spikemesh %s --help'.\n", cmd);
  return CLI_EXIT_USAGE;
}

int cli_report(const char *cmd, const struct sm_err *err) {
  fprintf(stderr, "spikemesh %s: error: %s\n", cmd,
          err->msg[0] ? err->msg : sm_strerror(err->code));
  switch (err->code) {
  case SM_EINVAL:
  case SM_ERANGE:
  case SM_ENOKEY:
  case SM_ETYPE:
  case SM_EFORMAT:
  case SM_EVERSION:
  case SM_ENOFIT:
  case SM_ENOENT:
  case SM_ELIMIT:
    return CLI_EXIT_USAGE;
  default:
    return CLI_EXIT_FAIL;
  }
}

int cli_is_help(const char *arg) {
  return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

static void usage(FILE *out) {
  fprintf(out,
          "Usage: spikemesh [--version] [--help] COMMAND [ARGS...]\n"
          "\n"
          "An event-driven simulator of neuromorphic hardware: time-to-first-"
          "spike\nnetworks on a mesh of cores and routers.\n"
          "\nCommands:\n");
  for (size_t i = 0; i < SM_ARRAY_LEN(commands); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun 'spikemesh COMMAND --help' for a command's options.\n");
  char dir[4096];
  enum model_data_from from = model_data_dir(dir, sizeof dir);
  fprintf(out,
          "\nData directory: the default model, presets (arch/) and the "
          "paper's\ntables (paper/) are found by name in one directory:\n"
          "  $SPIKEMESH_DATA if set; else\n"
          "  %s for the program installed in %s\n"
          "    (DESTDIR%s for one staged in DESTDIR%s);\n"
          "  else the source tree's models/ for the program in its build "
          "tree.\n"
          "This program's: %s\n  (%s)\n",
          SM_DATADIR, SM_BINDIR, SM_DATADIR, SM_BINDIR, dir,
          model_data_from_name(from));
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (cli_is_help(cmd) || !strcmp(cmd, "help")) {
    if (argc > 2 && strcmp(cmd, "help") == 0) {
      for (size_t i = 0; i < SM_ARRAY_LEN(commands); i++)
        if (!strcmp(commands[i].name, argv[2])) {
          char *hv[] = {argv[2], "--help", NULL};
          return commands[i].fn(2, hv);
        }
      fprintf(stderr, "spikemesh: unknown command '%s'\n", argv[2]);
      return CLI_EXIT_USAGE;
    }
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("%s\n", sm_version());
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < SM_ARRAY_LEN(commands); i++)
    if (!strcmp(commands[i].name, cmd))
      return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "spikemesh: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return CLI_EXIT_USAGE;
}

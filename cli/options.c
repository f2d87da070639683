/*
 * options.c -- the program's configuration: every module's table.
 */
#include "cli/options.h"

#include <string.h>

void cli_options_init(struct cli_options *o, struct sm_conf *c) {
  memset(o, 0, sizeof *o);
  sm_conf_init(c);
  sm_conf_add(c, sim_conf_opts, sim_conf_nopts, &o->sim);
  sm_conf_add(c, train_conf_opts, train_conf_nopts, &o->train);
}

/*
 * options.h -- every module's option table, gathered for the program.
 *
 * struct cli_options holds the value structs of all modules; one
 * struct sm_conf over them is what `spikemesh config`, configuration files
 * and key=value overrides of every command work on, so an option has one
 * name everywhere.
 */
#ifndef SPIKEMESH_CLI_OPTIONS_H
#define SPIKEMESH_CLI_OPTIONS_H

#include "sim/sim.h"
#include "trainer/train.h"
#include "util/conf.h"

struct cli_options {
  struct sim_conf sim;
  struct train_conf train;
};

/* Register every table of o into c (c is initialised here). */
void cli_options_init(struct cli_options *o, struct sm_conf *c);

#endif /* SPIKEMESH_CLI_OPTIONS_H */

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

#include "cli/synth.h"
#include "core/core.h"
#include "models/map.h"
#include "noc/noc.h"
#include "sim/sim.h"
#include "trainer/train.h"
#include "util/conf.h"

struct cli_options {
  struct sim_conf sim;
  struct core_conf core;
  struct core_energy_conf energy;
  struct model_map_conf map;
  struct model_preset_conf preset;
  struct noc_conf noc;
  struct noc_traffic_conf traffic;
  struct train_conf train;
  struct cli_synth_conf synth;
};

/* Register every table of o into c (c is initialised here). */
void cli_options_init(struct cli_options *o, struct sm_conf *c);

#endif /* SPIKEMESH_CLI_OPTIONS_H */

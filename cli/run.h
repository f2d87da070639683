/*
 * run.h -- the assembly of an inference run: a model mapped onto cores,
 * the cores' network interfaces wired to the mesh, frames run one after
 * another on one event kernel, and per-frame counts and energy.
 *
 * Private to cli/ (the program and its tests); it is the one place that
 * knows the model, the mapper, the cores and the network together.
 */
#ifndef SPIKEMESH_CLI_RUN_H
#define SPIKEMESH_CLI_RUN_H

#include "cli/options.h"
#include "core/core.h"
#include "models/map.h"
#include "models/model.h"
#include "noc/noc.h"
#include "sim/sim.h"

#define CLI_RUN_KIND_NOC 0                   /* noc kinds [0, NOC_NKINDS) */
#define CLI_RUN_KIND_CORE NOC_NKINDS         /* core kinds after them */

/* One frame's results. */
struct cli_frame {
  int pred;                /* first output spike's class, -1: no decision */
  int32_t out_step;        /* its step in the output window */
  sim_time_t t_first_in;   /* ps, first input spike (0 if none) */
  sim_time_t t_decision;   /* ps, output decision */
  sim_time_t latency_ps;   /* ps, first input spike to decision (or to the
                              output window's end without a decision) */
  uint64_t sops;           /* synaptic operations */
  uint64_t hops;           /* link traversals */
  uint64_t packets;        /* packets handed to the network */
  uint64_t spikes;         /* spikes sent (all layers, after pooling) */
  uint64_t late_spikes;    /* deliveries that were late */
  uint64_t late_synapses;  /* synapses those could not update */
  uint64_t dropped;        /* deliveries after their window closed */
  uint64_t perturbed;      /* neurons whose spike time arrival timing changed
                              (core_array_settle) */
  uint32_t tied;           /* output neurons firing at the decision's step
                              (> 1: the tie rule decided) */
  uint32_t tied_exact;     /* of those, crossing exactly when the winner did
                              (> 1: the lowest index decided) */
  struct core_energy energy; /* uJ by term */
};

struct cli_run;

/* Map m with the options in o (core.*, energy.*, map.*, noc.*); the mesh is
 * mesh_w x mesh_h, or chosen by the mapper when both are 0 (noc.width and
 * noc.height are overwritten with the mesh used). */
int cli_run_new(const struct model *m, const struct cli_options *o,
                uint32_t mesh_w, uint32_t mesh_h, struct cli_run **out,
                struct sm_err *err);
void cli_run_free(struct cli_run *r); /* NULL-safe */

/* Run one frame (image: in_c*in_h*in_w bytes, full scale m->a_max) to the
 * end: every spike delivered, the network drained. */
int cli_run_frame(struct cli_run *r, const uint8_t *image, struct cli_frame *f,
                  struct sm_err *err);

const struct model_map *cli_run_map(const struct cli_run *r);
const struct core_array *cli_run_cores(const struct cli_run *r);
/* Input spike step of a pixel: nearest step to x = a/a_max windows, a = 0
 * silent. */
int32_t cli_run_encode(uint8_t a, double a_max, uint32_t steps);

/* ---- recording hooks (cli/record.c) ------------------------------------ */
/* Called for every spike a core sends (output layer included), before it
 * becomes a packet; NULL (the default) costs one branch per spike. */
typedef void (*cli_run_spike_fn)(void *ctx, uint32_t core, uint32_t layer,
                                 uint32_t neuron, uint32_t step, sim_time_t t);
void cli_run_set_spike_hook(struct cli_run *r, cli_run_spike_fn fn, void *ctx);
struct noc_mesh *cli_run_noc(struct cli_run *r);

#endif /* SPIKEMESH_CLI_RUN_H */

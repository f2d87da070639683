/*
 * core.h -- neuromorphic cores: ReL-PSP neurons with the dynamic firing
 * threshold (paper Eqs. 2-7) in hardware time, an SRAM of quantized
 * weights, SOP accounting, fused max pooling, and a network interface that
 * is a callback (the core never knows the network).
 *
 * A core holds the neurons of one tile of one layer: a range of output
 * channels [c0, c1) times a rectangle of the channel map before pooling
 * (dense layers: a range of neurons, which are channels of a 1x1 map).  A
 * core computes exactly its tile's neurons: a spike's synapses into other
 * tiles are neither read nor counted, so SOP totals do not depend on how a
 * layer is cut, as long as every core whose tile a spike reaches gets it.  All cores of a run live in one struct core_array on one sim
 * kernel and use the event kinds [kind_base, kind_base + CORE_NKINDS).
 *
 * Time.  Layer l (input = layer 0) owns window l = [t0 + l*Tw, t0 + (l+1)*Tw]
 * of the frame that starts at t0, Tw = steps_per_window * step_ps.  Spike
 * times are whole steps inside a window: step u in [0, S], S =
 * steps_per_window; a spike of layer l at step u happens at
 * t0 + l*Tw + u*step_ps.  Its window-frame activation is x = S - u steps.
 *
 * Neuron arithmetic (doc/core.md derives it).  A layer's weights are
 * w = q * scale with integer q.  The core keeps per neuron the slope
 * A = sum q and offset B = sum q*x over the inputs it has received, and the
 * per-layer scale as a fixed-point number m * 2^-F (m has 21 significant
 * bits).  With the window-relative step u, the membrane and threshold of
 * Eqs. 2 and 5 in units of the window give the firing condition
 *     scale * (A*u + B) >= S - u   <=>   u * D >= N,
 *     D = m*A + 2^F  (2^F * (1 + sum w)),  N = 2^F*S - m*B  (2^F*(S - sum w*x)),
 * all integers.  The closed form (core_fire_step) is evaluated when the
 * window opens and again, for the touched neurons only, when a spike
 * arrives inside the window.
 *
 * Payload of a spike packet (64 bits): bits 0-31 the source neuron's index
 * in its layer's output (after fused pooling), bits 32-47 its step in its
 * window, bits 48-55 its layer.
 */
#ifndef SPIKEMESH_CORE_H
#define SPIKEMESH_CORE_H

#include <stdint.h>

#include "sim/sim.h"
#include "util/conf.h"
#include "util/util.h"

#define CORE_NKINDS 3 /* event kinds a core array reserves from kind_base */
#define CORE_SCALE_BITS 21 /* significant bits of the fixed-point scale m */
#define CORE_SCALE_BYTES 4 /* SRAM bytes for a core's scale (m and F) */
#define CORE_SILENT (-1)   /* fire step of a neuron that does not fire */
#define CORE_MAX_STEPS 65535 /* steps_per_window limit (16-bit step field) */
#define CORE_MAX_LAYERS 255  /* layers, input included (8-bit layer field) */

/* How a continuous crossing time maps to a step. */
enum core_round {
  CORE_ROUND_CEIL,   /* first step boundary at which V >= threshold */
  CORE_ROUND_NEAREST /* the step nearest the crossing (never in the past) */
};
#define CORE_ROUND_CHOICES "ceil|nearest"

/* How the output unit decides between output spikes at the same step. */
enum core_tie {
  CORE_TIE_EXACT, /* earliest exact (rational) crossing time; then lowest index */
  CORE_TIE_INDEX  /* lowest index */
};
#define CORE_TIE_CHOICES "exact|index"

/* Options (table: core_conf_opts; keys "core.*"). */
struct core_conf {
  uint64_t neurons_per_core; /* neurons */
  uint64_t sram_bytes;       /* bytes of synapse SRAM per core */
  uint64_t weight_bits;      /* bits per stored weight */
  uint64_t steps_per_window; /* steps */
  uint64_t step_ps;          /* ps per step */
  uint64_t sop_ps;           /* ps per SRAM access round */
  uint64_t sop_lanes;        /* SOPs served by one access round */
  int fire_round;            /* enum core_round */
  int tie_rule;              /* enum core_tie */
};
extern const struct sm_opt core_conf_opts[];
extern const size_t core_conf_nopts;

/* Window length Tw in ps. */
static inline uint64_t core_window_ps(const struct core_conf *c) {
  return c->steps_per_window * c->step_ps;
}

/* ---- the neuron, as pure functions (also used by tests and references) - */

/* Fixed-point form of a positive scale: scale ~= m * 2^-f with
 * 2^(CORE_SCALE_BITS-1) <= m < 2^CORE_SCALE_BITS.  Returns 0, or SM_ERANGE
 * when the scale is not a positive finite number or f would exceed 62. */
int core_scale_fixed(double scale, int64_t *m, int *f);
/* The scale that (m, f) stands for exactly. */
double core_scale_value(int64_t m, int f);

/* Fire step, window-relative, of a neuron with slope a = sum q and offset
 * b = sum q*x (x in steps) when the inputs are known from step k on
 * (k = 0 when the window opens): the first step u in [k, s] at which the
 * neuron is above threshold, rounded as `round` says, or CORE_SILENT.
 * A neuron whose continuous crossing is at or after the window end is
 * silent (x_out > 0 is required, as in the window-frame formula). */
int32_t core_fire_step(int64_t a, int64_t b, int64_t m, int f, int64_t s,
                       int64_t k, int round);

/* Exact continuous crossing time, in steps after the window opening, of a
 * neuron with slope a and offset b: the fraction *num / *den = N / D
 * (*den > 0), clamped at 0 (a neuron above threshold when its window opens,
 * N <= 0, crosses at 0, as the reference's saturated x = Tw).  Meaningful
 * for a neuron that fires (D > 0 or N <= 0); 0 <= *num < 2^63. */
void core_crossing(int64_t a, int64_t b, int64_t m, int f, int64_t s,
                   int64_t *num, int64_t *den);
/* Compares two crossing fractions n1/d1 and n2/d2 (n >= 0, d > 0) exactly,
 * by cross-multiplication in 128-bit integers: -1, 0 or 1. */
int core_crossing_cmp(int64_t n1, int64_t d1, int64_t n2, int64_t d2);

/* ---- layers and cores --------------------------------------------------- */

enum core_layer_kind { CORE_LAYER_INPUT, CORE_LAYER_DENSE, CORE_LAYER_CONV };

/* One layer as the cores see it.  Layer 0 is the input (pixels; no
 * synapses).  The input of layer l is the output of layer l-1 after its
 * fused pooling, indexed c*h*w + y*w + x (flatten is the identity on these
 * indices). */
struct core_layer {
  enum core_layer_kind kind;
  int in_c, in_h, in_w;    /* input shape (previous layer's pooled output) */
  int out_c, out_h, out_w; /* neurons (before pooling) */
  int kernel, stride, pad; /* conv only */
  int pool;                /* fused max pooling window side; 1 = none */
  int bits;                /* weight bits (1..8) */
  double scale;            /* w = q * scale */
  const int8_t *q;         /* dense [out][in], conv [oc][ic][ky][kx]; copied */
};

/* Output shape of a layer after pooling. */
static inline uint32_t core_layer_outputs(const struct core_layer *l) {
  int p = l->pool > 1 ? l->pool : 1;
  return (uint32_t)l->out_c * (uint32_t)(l->out_h / p) *
         (uint32_t)(l->out_w / p);
}
/* Weights stored for a slice of nch output channels (conv: the kernels,
 * shared by all positions; dense: a full row per neuron). */
uint64_t core_slice_weights(const struct core_layer *l, uint32_t nch);
/* SRAM bytes a slice needs: ceil(weights * weight_bits / 8) + the scale. */
uint64_t core_slice_sram(const struct core_layer *l, uint32_t nch,
                         uint64_t weight_bits);

/* The network interface: a core asks for the spike of output `neuron`
 * (layer's output index after pooling) of `layer`, fired at `step` of its
 * window, to be sent from core `core` now (time t).  The output layer's
 * spikes come through here too: they are the decision, not packets. */
typedef void (*core_send_fn)(void *ctx, uint32_t core, uint32_t layer,
                             uint32_t neuron, uint32_t step, sim_time_t t);

struct core_array;

/* Validates the configuration and the layers (shapes chain, weights
 * representable: bits <= core.weight_bits, scale positive, sums that
 * cannot overflow 64-bit arithmetic).  Errors name the key or the layer;
 * kinds past the kernel's (kind_base + CORE_NKINDS > SIM_MAX_KINDS) are
 * SM_ERANGE naming the kinds and the limit. */
int core_array_new(struct sim_kernel *k, const struct core_conf *c,
                   const struct core_layer *layers, uint32_t nlayers,
                   uint16_t kind_base, core_send_fn send, void *ctx,
                   struct core_array **out, struct sm_err *err);
void core_array_free(struct core_array *a); /* NULL-safe */

/* The neurons of a layer one core holds: output channels [c0, c1) x rows
 * [y0, y1) x columns [x0, x1) of the map before pooling (dense: rows and
 * columns [0, 1)). */
struct core_tile {
  uint32_t c0, c1;
  uint32_t y0, y1;
  uint32_t x0, x1;
};

/* Add a core holding a tile of a layer; returns its id (0, 1, ... in order
 * of addition) in *id.  Refused (SM_ENOFIT) when the tile has more neurons
 * than core.neurons_per_core or its synapses do not fit core.sram_bytes;
 * the message names the layer and the shortfall.  SM_EINVAL for a layer
 * that does not exist, an empty tile or one outside the map, a tile edge
 * inside a fused pooling window (pooling stays inside a core), and a
 * neuron another core holds already.  Every neuron of every layer must be
 * held before a frame starts; tiles may come in any order. */
int core_array_add(struct core_array *a, uint32_t layer,
                   const struct core_tile *t, uint32_t *id, struct sm_err *err);
uint32_t core_array_ncores(const struct core_array *a);
uint32_t core_array_core_layer(const struct core_array *a, uint32_t core);

/* Start a frame at t0 (>= now): reset every neuron, take the input
 * layer's spike steps (input_steps[i] in [0, S] or CORE_SILENT, one per
 * input neuron) and schedule every core's window opening.  Returns
 * SM_ESTATE if a layer is not fully covered by cores or the previous
 * frame still has events pending in the cores, SM_EINVAL for a bad step. */
int core_array_frame(struct core_array *a, sim_time_t t0,
                     const int32_t *input_steps);

/* A spike packet arrived at `core` now. */
void core_array_receive(struct core_array *a, uint32_t core,
                        uint64_t payload);

/* Payload packing (see the header comment). */
static inline uint64_t core_payload(uint32_t layer, uint32_t neuron,
                                    uint32_t step) {
  return (uint64_t)neuron | ((uint64_t)(step & 0xffffu) << 32) |
         ((uint64_t)(layer & 0xffu) << 48);
}
static inline uint32_t core_payload_neuron(uint64_t p) {
  return (uint32_t)p;
}
static inline uint32_t core_payload_step(uint64_t p) {
  return (uint32_t)(p >> 32) & 0xffffu;
}
static inline uint32_t core_payload_layer(uint64_t p) {
  return (uint32_t)(p >> 48) & 0xffu;
}

/* Counts per layer since creation (the caller takes differences for a
 * frame).  For layer l, received/sops/late concern spikes arriving at
 * layer l's cores (from layer l-1). */
struct core_layer_stats {
  uint64_t fired;         /* neurons that fired (before pooling) */
  uint64_t sent;          /* spikes sent (after pooling; output layer: decisions offered) */
  uint64_t received;      /* spike deliveries to this layer's cores */
  uint64_t sops;          /* synaptic operations (SRAM weight reads) */
  uint64_t late_spikes;   /* deliveries that reached a fired neuron or a closed window */
  uint64_t late_synapses; /* synapses of late deliveries that could not count */
  uint64_t dropped;       /* deliveries after the window closed (part of late_spikes) */
  uint64_t misrouted;     /* deliveries from a layer other than l-1 (dropped) */
  uint64_t perturbed;     /* neurons whose fire step differs from the closed
                             form on every input that reached them: arrival
                             timing (late or in-window spikes) changed them */
};
const struct core_layer_stats *core_array_stats(const struct core_array *a,
                                                uint32_t layer);
/* SOPs of one core since creation (synapses of the neurons it holds). */
uint64_t core_array_core_sops(const struct core_array *a, uint32_t core);

/* Fire step (window-relative) of every neuron of a layer (before pooling)
 * in the current or last frame, CORE_SILENT for silent ones. */
const int32_t *core_array_fire_steps(const struct core_array *a,
                                     uint32_t layer);
/* Close the frame once it has drained: count, per layer, the neurons whose
 * fire step differs from the closed form over all the synapses that
 * reached them (late ones included), as if every input had been known when
 * the window opened.  Returns the frame's total (0: arrival timing changed
 * nothing; the spike times are those of an ideal network).  O(neurons). */
uint64_t core_array_settle(struct core_array *a);
/* The output unit's tie rule (core.tie_rule) for two outputs of `layer`
 * (indices after pooling) sent at the same time this frame: 1 when o1
 * decides before o2.  exact: the earlier exact crossing, recorded when
 * each spike was sent (core_crossing on the slope and offset that made
 * it fire; a neuron whose step was pushed later by an input that arrived
 * inside the window crosses at that step boundary), then the lower index;
 * index: the lower index. */
int core_array_output_before(const struct core_array *a, uint32_t layer,
                             uint32_t o1, uint32_t o2);
/* Exact comparison of the recorded crossings of two outputs sent this
 * frame (-1, 0, 1); an output not sent compares after every sent one. */
int core_array_output_cmp(const struct core_array *a, uint32_t layer,
                          uint32_t o1, uint32_t o2);
/* 1 when no core has work pending (spikes being processed). */
int core_array_idle(const struct core_array *a);

/* ---- energy (core/energy.c) ------------------------------------------- */

/* Per frame (paper Eq. 12):
 *   E_total = E_SOP x SOPs + E_Hop x Hops + E_static,
 * E_static by static_mode:
 *   per_frame  a constant per frame (e_static_uj: the paper's reading);
 *   power      the chip's static power x the frame latency (p_static_mw);
 *   chip       leakage that scales with the chip:
 *              (cores x p_core_mw + routers x p_router_mw) x frame latency,
 *              cores = the cores the mapping uses (the mesh's other cores
 *              are taken as power-gated), routers = every router of the
 *              mesh (a route crosses nodes whose cores are idle).
 * Units: pJ per event, uJ per frame, mW, ps (mW x ps = 1e-9 uJ). */
enum core_static_mode { CORE_STATIC_PER_FRAME, CORE_STATIC_POWER,
                        CORE_STATIC_CHIP };
#define CORE_STATIC_CHOICES "per_frame|power|chip"

/* Options (table: core_energy_conf_opts; keys "energy.*"). */
struct core_energy_conf {
  double e_sop_pj;    /* pJ per synaptic operation */
  double e_hop_pj;    /* pJ per packet hop (one link traversal) */
  int static_mode;    /* enum core_static_mode */
  double e_static_uj; /* uJ per frame (per_frame mode) */
  double p_static_mw; /* mW of static power (power mode) */
  double p_core_mw;   /* mW of leakage per core in use (chip mode) */
  double p_router_mw; /* mW of leakage per mesh router (chip mode) */
};
extern const struct sm_opt core_energy_conf_opts[];
extern const size_t core_energy_conf_nopts;

/* The chip a frame ran on, as chip mode charges it. */
struct core_chip {
  uint32_t cores;   /* cores the mapping uses (0: none, e.g. a replay of
                       a packet trace) */
  uint32_t routers; /* routers of the mesh: width x height */
};

/* One frame's energy, by term. */
struct core_energy {
  double sop_uj;    /* uJ, E_SOP x SOPs */
  double hop_uj;    /* uJ, E_Hop x Hops */
  double static_uj; /* uJ, E_static */
  double total_uj;  /* uJ, the sum */
};
/* Eq. 12 for one frame on chip (read in chip mode only; may be NULL in the
 * other modes). */
void core_energy_frame(const struct core_energy_conf *c, uint64_t sops,
                       uint64_t hops, sim_time_t latency_ps,
                       const struct core_chip *chip, struct core_energy *out);
/* The static power chip mode charges, in mW: cores x p_core_mw + routers x
 * p_router_mw. */
double core_chip_static_mw(const struct core_energy_conf *c,
                           const struct core_chip *chip);

/* ---- Eq. 11, normalized (core/energy.c) -------------------------------- */

/* The paper's Eq. 11, E = E_static x Latency + E_dynamic x Spikes, over a
 * table of (time steps, spikes) rows, normalized to a baseline row per
 * term (the normalization that reproduces the paper's Table 2; the plain
 * ratio of Eq. 11 does not, doc/energy.md):
 *   E_norm = E_static x L / L_base + E_dynamic x S / S_base
 * for each architecture's (E_static, E_dynamic).  The table is a JSON file
 * (models/paper/table2.json):
 *   {"baseline": CODING,
 *    "architectures": [{"name": .., "e_static": .., "e_dynamic": ..}, ..],
 *    "rows": [{"coding": .., "time_steps": .., "spikes_1e6": ..,
 *              "spikes_1e6_unrounded": .. (optional),
 *              "printed": {ARCH: E_norm, ..} (optional)}, ..]} */
#define CORE_THEORY_MAX_ARCH 16 /* architectures, the table's and extra ones */

struct core_theory_arch {
  char name[64];
  double es, ed; /* E_static, E_dynamic (no unit: Eq. 11's weights) */
};

struct core_theory_row {
  char coding[64];
  double steps;       /* time steps (L) */
  double spikes;      /* 10^6 spikes (S), as used */
  double printed[CORE_THEORY_MAX_ARCH];  /* the table's E_norm per arch[] */
  int has_printed[CORE_THEORY_MAX_ARCH]; /* printed[a] is given */
};

struct core_theory {
  struct core_theory_arch arch[CORE_THEORY_MAX_ARCH]; /* table's, then extra */
  size_t narch;
  struct core_theory_row *rows; /* [nrows], nrows >= 1 */
  size_t nrows;
  size_t base; /* the baseline row (time_steps > 0, spikes_1e6 > 0) */
};

/* Load and validate a table file.  `extra` architectures (nextra of them,
 * coefficients >= 0) follow the table's; `baseline` names the row to
 * normalize to (NULL: the table's "baseline"); printed_spikes uses
 * "spikes_1e6" even where "spikes_1e6_unrounded" is given.  Errors name
 * the file, the entry (rows[i], architectures[i]) and the field; on error
 * *t holds nothing to free. */
int core_theory_load(const char *path, const struct core_theory_arch *extra,
                     size_t nextra, const char *baseline, int printed_spikes,
                     struct core_theory *t, struct sm_err *err);
void core_theory_free(struct core_theory *t);
/* E_norm of row `row` for architecture `arch`. */
double core_theory_eval(const struct core_theory *t, size_t row, size_t arch);

#endif /* SPIKEMESH_CORE_H */

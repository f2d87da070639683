/*
 * map.h -- mapping a model onto a mesh of cores, and architecture presets.
 *
 * Part of the models/ module (prefix model_); it needs only model.h and
 * plain numbers from the core configuration, so it includes neither core/
 * nor noc/.
 *
 * Mapping layers.  Layer 0 is the input (the pixels); layers 1.. are the
 * model's dense and conv layers, each with the pool layer that follows it
 * fused in (flatten layers vanish: they only rename indices).
 *
 * Groups.  A group is what one core holds: channels [c0, c1) x rows
 * [y0, y1) x columns [x0, x1) of its layer's map before pooling (dense:
 * neurons [c0, c1) of a 1x1 map).
 *
 * Partition.  Groups are numbered layer by layer, input first:
 *   dense: g = ceil(neurons / neurons_per_core) groups whose sizes differ
 *     by at most one (the first ones take the extra neuron);
 *   conv (and input) whose channel map fits a core (rows x cols <=
 *     neurons_per_core): the paper's rule, the fewest groups g that divide
 *     the channel count with (channels/g) * rows * cols <= neurons_per_core,
 *     each of whole maps;
 *   conv (and input) with a larger map: one channel per group, the map cut
 *     into R x Q tiles of whole fused-pooling windows (a window never spans
 *     two cores), the windows of each side dealt as evenly as possible (the
 *     first tiles one window more), the rows and columns the pooling crops
 *     in the last tiles; the fewest tiles that fit, then the most nearly
 *     square (the least |rows - columns|), then the fewest tile rows.
 *     Groups go tile by tile (row-major), the channel groups of a tile
 *     together.
 * With map.sram_fit=split, g grows further (conv: to the next divisor)
 * until each group's synapses fit the SRAM; the default refuses instead.
 * The input layer is cut the same way; its groups are input cores: mesh
 * nodes whose interface injects the frame's pixel spikes (no synapses, no
 * SOPs), so input spikes pay hops like every other spike.  A refusal (a
 * pooling window larger than a core, a mesh too small, a group's SRAM)
 * says the smallest legal core.neurons_per_core for the model and mesh,
 * and the largest when the SRAM bounds it.
 *
 * SRAM per core = ceil(weights * weight_bits / 8) + 4 bytes of scale, with
 * weights = neurons * fan-in for dense groups and channels * in_c * k * k
 * for conv groups: a conv core stores its channels' kernels once (weight
 * sharing), whatever its tile.  Not counted: the neurons' state (a register
 * file bounded by core.neurons_per_core), the routing table, and the halo
 * (input spikes are applied as they arrive, not stored).
 *
 * Placement puts group g on a node (models/place.h): "rowmajor" fills
 * rows left to right; "snake" reverses every other row, so consecutive
 * groups, hence consecutive layers, are always mesh neighbours; "hilbert"
 * follows a Hilbert curve; "greedy" minimizes the traffic-weighted hop
 * distance over model_map_edges (annealed, seeded by map.seed).
 *
 * Routing tables follow connectivity.  Group S of layer l sends to the
 * groups of layer l+1 that hold a neuron one of its outputs has a synapse
 * to: for a conv layer, those whose tile's receptive field meets S's
 * pooled output region (channel ranges always connect: every output
 * channel reads every input channel); for a dense layer, all.  Each spike
 * goes only to the groups it reaches: S's pooled rows (and columns) fall
 * into classes by the destinations they reach, and a (row class, column
 * class) cell holds one destination list.  The output layer sends
 * nothing.
 */
#ifndef SPIKEMESH_MODELS_MAP_H
#define SPIKEMESH_MODELS_MAP_H

#include <stdint.h>
#include <stdio.h>

#include "models/model.h"
#include "models/place.h"
#include "util/conf.h"
#include "util/util.h"

#define MODEL_MAP_MAX_SIDE 64 /* = the mesh's largest side */

/* map.placement: the placements of models/place.h, by name. */
enum model_placement {
  MODEL_PLACE_ROWMAJOR = MODEL_PLACE_K_ROWMAJOR,
  MODEL_PLACE_SNAKE = MODEL_PLACE_K_SNAKE,
  MODEL_PLACE_HILBERT = MODEL_PLACE_K_HILBERT,
  MODEL_PLACE_GREEDY = MODEL_PLACE_K_GREEDY
};
#define MODEL_PLACEMENT_CHOICES MODEL_PLACE_CHOICES

/* What to do when a group's synapses do not fit a core's SRAM. */
enum model_sram_fit { MODEL_SRAM_REFUSE, MODEL_SRAM_SPLIT };
#define MODEL_SRAM_FIT_CHOICES "refuse|split"

/* Options (table: model_map_conf_opts; keys "map.*"). */
struct model_map_conf {
  int placement; /* enum model_placement */
  int sram_fit;  /* enum model_sram_fit */
  uint64_t seed; /* greedy placement's annealing seed */
};
extern const struct sm_opt model_map_conf_opts[];
extern const size_t model_map_conf_nopts;

/* What the mapper needs to know of the hardware. */
struct model_map_params {
  uint64_t neurons_per_core; /* neurons */
  uint64_t sram_bytes;       /* bytes per core */
  uint64_t weight_bits;      /* bits per stored weight */
  uint32_t width, height;    /* mesh routers; 0 x 0 = auto (smallest square) */
  int placement;             /* enum model_placement */
  int sram_fit;              /* enum model_sram_fit */
  uint64_t seed;             /* greedy placement's seed */
};

struct model_map_layer {
  int model_layer;         /* index in model->layers; -1 for the input */
  int pool_layer;          /* index of the fused pool layer, -1 if none */
  int pool;                /* pool window side, 1 if none */
  uint32_t channels;       /* output channels (dense: neurons) */
  uint32_t h, w;           /* rows, columns of a channel's map before
                              pooling (dense: 1, 1) */
  uint32_t plane;          /* neurons per channel (h x w) */
  uint32_t first_group;    /* index of its first group */
  uint32_t ngroups;
};

/* A group: the neurons one core holds, channels [c0, c1) x rows [y0, y1) x
 * columns [x0, x1) of its layer's map before pooling.  The halo is the
 * part of the previous layer's pooled output whose spikes reach the group:
 * rows [iy0, iy1) x columns [ix0, ix1), every input channel (conv: the
 * kernel's receptive field of the tile, clipped to the map; dense: the
 * whole map; input layer: empty, 0). */
struct model_map_group {
  uint32_t layer;          /* mapping layer (0 = input) */
  uint32_t c0, c1;         /* channels [c0, c1) */
  uint32_t y0, y1;         /* rows [y0, y1) of the channel map (before
                              pooling; dense: 0, 1) */
  uint32_t x0, x1;         /* columns [x0, x1) (dense: 0, 1) */
  uint32_t node;           /* mesh node (row-major id) */
  uint64_t neurons;        /* neurons held: (c1-c0) (y1-y0) (x1-x0) */
  uint64_t sram_bytes;     /* bytes of SRAM its synapses need */
  uint32_t iy0, iy1;       /* halo rows of the previous layer's pooled map */
  uint32_t ix0, ix1;       /* halo columns */
  uint32_t dst0, ndst;     /* its destination nodes: dst[dst0, dst0+ndst) */
};

/* Per-spike routing of one group (model_map_spike_cell): its pooled output
 * rows [r0, r0+nr) and columns [q0, q0+nq) fall into classes by the
 * destination groups they reach; a (row class, column class) pair is a
 * cell with one destination list. */
struct model_map_route {
  uint32_t r0, nr;         /* pooled rows of the group's outputs */
  uint32_t q0, nq;         /* pooled columns */
  uint32_t rcls, qcls;     /* cls[rcls + r - r0], cls[qcls + q - q0]: the
                              classes of row r and column q */
  uint32_t nqc;            /* column classes */
  uint32_t cell0, ncells;  /* its cells: cell0 + row class * nqc + column
                              class */
};

struct model_map {
  uint32_t width, height;  /* mesh routers */
  uint32_t nlayers;        /* input + spiking layers */
  struct model_map_layer *layers;
  uint32_t ngroups;
  struct model_map_group *groups;
  uint32_t *node_group;    /* [width*height] group on each node, or UINT32_MAX */
  uint32_t *dst;           /* destination nodes: each group's list, then
                              each cell's */
  uint32_t ndst;           /* entries of dst */
  struct model_map_route *route; /* [ngroups] */
  uint32_t *cls;           /* row and column classes of every group */
  uint32_t *cell;          /* [2 ncells]: dst0, ndst of each cell */
  uint32_t ncells;
};

/* Map a model: partition, place (model_map_place), then
 * model_map_assemble.  Refusals (SM_ENOFIT) name the layer and the
 * shortfall: a pooling window larger than a core, a group's SRAM, a mesh
 * with fewer nodes than groups; they say which core.neurons_per_core
 * values would fit.  Bad models (float weights, a pool not after
 * dense/conv) are SM_EINVAL. */
int model_map_build(const struct model *m, const struct model_map_params *p,
                    struct model_map **out, struct sm_err *err);

/* A mapping from groups the caller chose (a mapping file): groups[i] gives
 * layer, c0, c1, y0, y1, x0, x1 and node; the rest (neurons, sram_bytes,
 * the halo, the routing tables, node_group, the layers) is filled here.
 * p->width and p->height give the mesh and must not be 0.  Groups are
 * listed layer by layer (group i is core i).  Each refusal names the group
 * (or the layer and neuron) and the rule:
 *   SM_ENOFIT  a group over core.neurons_per_core; over core.sram_bytes;
 *   SM_EINVAL  a layer that does not exist; groups out of layer order; an
 *              empty range or one outside the layer's map; a tile edge
 *              inside a fused pooling window; a node outside the mesh; two
 *              groups on one node (one core per router); a neuron covered
 *              by no group or by two; a mesh of 0 or more than
 *              MODEL_MAP_MAX_SIDE per side; a bad model (as build).
 * On error *out is NULL. */
int model_map_assemble(const struct model *m, const struct model_map_params *p,
                       const struct model_map_group *groups, uint32_t ngroups,
                       struct model_map **out, struct sm_err *err);
void model_map_free(struct model_map *mp); /* NULL-safe */

/* The group's routing table: the nodes of every group of the next layer
 * that holds a neuron one of its outputs has a synapse to (n = 0 for the
 * output layer).  In group order. */
const uint32_t *model_map_dests(const struct model_map *mp, uint32_t group,
                                uint32_t *n);
/* The cell of a spike of output `out` (its layer's index after pooling,
 * c*ph*pw + y*pw + x) of `group`, which must hold it: an index < ncells. */
uint32_t model_map_spike_cell(const struct model_map *mp, uint32_t group,
                              uint32_t out);
/* A cell's destination nodes: the groups of the next layer that hold a
 * neuron the spike has a synapse to, no other (a subset of the group's
 * routing table; n = 0 for the output layer). */
const uint32_t *model_map_cell_dests(const struct model_map *mp, uint32_t cell,
                                     uint32_t *n);
/* The destination nodes of a spike: model_map_cell_dests of its cell. */
const uint32_t *model_map_spike_dests(const struct model_map *mp,
                                      uint32_t group, uint32_t out,
                                      uint32_t *n);
/* Outputs of a mapping layer after its pooling: channels x (h/pool) x
 * (w/pool). */
static inline uint64_t model_map_layer_outputs(const struct model_map_layer *L) {
  uint32_t p = L->pool > 1 ? (uint32_t)L->pool : 1;
  return (uint64_t)L->channels * (L->h / p) * (L->w / p);
}
/* The group holding each output of `layer` (after pooling), into
 * owner[model_map_layer_outputs()].  O(outputs). */
void model_map_output_owners(const struct model_map *mp, uint32_t layer,
                             uint32_t *owner);
/* Node of the group in position g of the placement order. */
uint32_t model_map_place(int placement, uint32_t width, uint32_t g);

/* Traffic between groups: weight = how many of src's output neurons (after
 * pooling) have at least one synapse into dst's neurons; dst is in the
 * layer after src's.  Only edges of weight > 0, by src then dst.  Does not
 * depend on the placement. */
#define model_map_edge model_place_edge /* {src, dst, weight}: place.h */
/* The edges of a mapping into *out (malloc'd, the caller frees it; NULL
 * when there are none); returns their number. */
size_t model_map_edges(const struct model_map *mp, const struct model *m,
                       struct model_map_edge **out);
/* The traffic-weighted hops of mp's placement (model_place_hops over its
 * edges: every output of a group spiking once, each destination group
 * paid its Manhattan distance, as unicast would). */
uint64_t model_map_expected_hops(const struct model_map *mp,
                                 const struct model *m);

/* A table of the mapping: one line per layer, then the mesh as a grid. */
void model_map_print(const struct model_map *mp, const struct model *m,
                     FILE *out);

/* ---- architecture presets ------------------------------------------------ */

/* The preset's own keys ("preset.*"): where its figures come from.  A
 * preset file is a configuration file: core.*, energy.*, noc.*, preset.* */
struct model_preset_conf {
  char name[SM_CONF_STRLEN];
  char description[SM_CONF_STRLEN];
  char sources[SM_CONF_STRLEN];
  char energy_note[SM_CONF_STRLEN];
};
extern const struct sm_opt model_preset_conf_opts[];
extern const size_t model_preset_conf_nopts;

#define MODEL_DEFAULT_PRESET "paper-22nm"
#define MODEL_DEFAULT_MODEL "fmnist-mlp.json" /* what `run` maps by default */

/* The data directory: where shipped models, presets (arch/) and the
 * paper's tables (paper/) are looked up by name.  Exactly one directory,
 * chosen in this order:
 *   1. $SPIKEMESH_DATA when set and not empty (e.g. a source tree's
 *      models/ for an installed program);
 *   2. $(pkgdatadir) when the program runs from $(bindir) (compared after
 *      realpath), or DESTDIR$(pkgdatadir) when it runs from a staged
 *      DESTDIR$(bindir) (a `make install DESTDIR=...` not yet moved);
 *   3. the source tree's models/ (SM_SRCDIR/models, after realpath) when
 *      the program runs from inside its build tree (SM_BUILDDIR):
 *      build/spikemesh, the top-level link ./spikemesh, the test programs;
 *   4. $(pkgdatadir) otherwise.
 * So an installed program never reads the source or build tree unless
 * SPIKEMESH_DATA says so.  The program's directory is that of
 * /proc/self/exe; where it cannot be read, rule 4 applies. */
enum model_data_from {
  MODEL_DATA_ENV,       /* 1 */
  MODEL_DATA_INSTALLED, /* 2 and 4 */
  MODEL_DATA_STAGED,    /* 2, under DESTDIR */
  MODEL_DATA_SOURCE,    /* 3 */
};

/* The rule above for a given SPIKEMESH_DATA value (NULL: unset) and
 * program directory (NULL: unknown): writes the directory into dir. */
enum model_data_from model_data_dir_for(const char *env, const char *exe_dir,
                                        char *dir, size_t len);

/* The rule for this process (getenv, /proc/self/exe). */
enum model_data_from model_data_dir(char *dir, size_t len);

/* Why that directory, in words ("the installed data directory", ...). */
const char *model_data_from_name(enum model_data_from from);

/* NAME in the data directory's SUB (SUB "" or e.g. "arch").  Errors
 * (SM_ENOENT) name what was looked for (`what`), the directory searched
 * and why it was chosen. */
int model_data_file(const char *sub, const char *name, const char *what,
                    char *path, size_t len, struct sm_err *err);

/* Resolve a preset name ("paper-22nm") or a file path to a file: a value
 * containing '/' or ending in ".json" is a path; a name is NAME.json in the
 * data directory's arch/.  Returns 0 or SM_ENOENT naming the directory
 * searched. */
int model_preset_path(const char *name, char *path, size_t len,
                      struct sm_err *err);

/* Resolve a table of the paper's figures ("table2": Table 2, read by
 * core_theory_load) the same way: a path as it is, a name in the data
 * directory's paper/. */
int model_paper_path(const char *name, char *path, size_t len,
                     struct sm_err *err);

#endif /* SPIKEMESH_MODELS_MAP_H */

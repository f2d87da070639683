/*
 * map.c -- partition, placement and routing tables (see map.h for the
 * rules), and architecture preset lookup.
 *
 * Cost: the partition tries each tile-row count of a cut layer, O(rows x
 * log columns); the smallest legal core size is a bisection over that.
 * model_map_assemble checks coverage with one bit per neuron of the
 * largest layer, and builds the routing tables over every pair of groups
 * in consecutive layers (O(pairs)), the cells of a group over its pooled
 * rows and columns times its destinations.
 *
 * Rejected: splitting a layer into more groups than the neuron count needs
 * silently to make its SRAM fit (the paper's rule is neuron-driven; by
 * default a mapping that does not fit is refused with the shortfall, and
 * map.sram_fit=split asks for the extra split explicitly); several
 * channels per tile when a channel's map exceeds a core (the tiles shrink
 * by the channel count, so the group count hardly changes, while each
 * group's kernels grow with it); per-neuron destination lists (a cell
 * groups the outputs that reach the same cores: one list for a whole map,
 * a few per tile).
 */
#include "models/map.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct sm_opt model_map_conf_opts[] = {
    SM_OPT_E(struct model_map_conf, placement, "map.placement", "snake",
             MODEL_PLACEMENT_CHOICES,
             "where groups go on the mesh: rows left to right; a snake "
             "that keeps consecutive groups adjacent; a Hilbert curve "
             "(neighbours near in both directions); greedy: fewest "
             "traffic-weighted hops from the connectivity (annealed, "
             "map.seed)"),
    SM_OPT_E(struct model_map_conf, sram_fit, "map.sram_fit", "refuse",
             MODEL_SRAM_FIT_CHOICES,
             "a group whose synapses exceed core.sram_bytes: refuse the "
             "mapping (the paper's neuron-driven rule) or split the layer "
             "into more, smaller groups"),
    SM_OPT_U(struct model_map_conf, seed, "map.seed", "1", "", 0,
             1.8446744073709552e19,
             "seed of the greedy placement's annealing (the other "
             "placements ignore it)"),
};
const size_t model_map_conf_nopts = SM_ARRAY_LEN(model_map_conf_opts);

const struct sm_opt model_preset_conf_opts[] = {
    SM_OPT_S(struct model_preset_conf, name, "preset.name", "",
             "name of the architecture preset"),
    SM_OPT_S(struct model_preset_conf, description, "preset.description", "",
             "what the preset models"),
    SM_OPT_S(struct model_preset_conf, sources, "preset.sources", "",
             "where its figures come from"),
    SM_OPT_S(struct model_preset_conf, energy_note, "preset.energy_note", "",
             "what its SOP, hop and static energies include"),
};
const size_t model_preset_conf_nopts = SM_ARRAY_LEN(model_preset_conf_opts);

static const char *type_name(enum model_layer_type t) {
  switch (t) {
  case MODEL_DENSE:
    return "dense";
  case MODEL_CONV:
    return "conv";
  case MODEL_POOL:
    return "pool";
  default:
    return "flatten";
  }
}

uint32_t model_map_place(int placement, uint32_t width, uint32_t g) {
  uint32_t y = g / width, x = g % width;
  if (placement == MODEL_PLACE_SNAKE && (y & 1))
    x = width - 1 - x;
  return y * width + x;
}

void model_map_free(struct model_map *mp) {
  if (!mp)
    return;
  free(mp->layers);
  free(mp->groups);
  free(mp->node_group);
  free(mp->dst);
  free(mp->route);
  free(mp->cls);
  free(mp->cell);
  free(mp);
}

static uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* Weights one group of nch channels of spiking layer ml stores. */
static uint64_t group_weights(const struct model_layer *ml, uint32_t nch) {
  uint64_t fan = (uint64_t)ml->in_c * (uint64_t)ml->in_h * (uint64_t)ml->in_w;
  if (ml->type == MODEL_CONV)
    return (uint64_t)nch * (uint64_t)ml->in_c * (uint64_t)ml->kernel *
           (uint64_t)ml->kernel;
  return (uint64_t)nch * (uint64_t)ml->out_h * (uint64_t)ml->out_w * fan;
}

static uint64_t sram_of(const struct model_layer *ml, uint32_t nch,
                        const struct model_map_params *p) {
  return (group_weights(ml, nch) * p->weight_bits + 7) / 8 + 4;
}

/* The model layer of mapping layer l, NULL for the input. */
static const struct model_layer *mlayer(const struct model *m,
                                        const struct model_map *mp,
                                        uint32_t l) {
  int i = mp->layers[l].model_layer;
  return i >= 0 ? &m->layers[i] : NULL;
}

static const char *layer_name(const struct model *m, const struct model_map *mp,
                              uint32_t l) {
  const struct model_layer *ml = mlayer(m, mp, l);
  return ml ? type_name(ml->type) : "input";
}

/* Find the spiking layers and their fused pools; check what the cores
 * need of the weights. */
static int find_layers(const struct model *m, const struct model_map_params *p,
                       struct model_map *mp, struct sm_err *err) {
  mp->layers = sm_xcalloc(m->nlayers + 1, sizeof *mp->layers);
  struct model_map_layer *in = &mp->layers[0];
  in->model_layer = -1;
  in->pool_layer = -1;
  in->pool = 1;
  if (m->in_c < 1 || m->in_h < 1 || m->in_w < 1)
    return sm_fail(err, SM_EINVAL, "model: empty input shape %dx%dx%d",
                   m->in_c, m->in_h, m->in_w);
  in->channels = (uint32_t)m->in_c;
  in->h = (uint32_t)m->in_h;
  in->w = (uint32_t)m->in_w;
  in->plane = in->h * in->w;
  uint32_t n = 1;
  for (size_t i = 0; i < m->nlayers; i++) {
    const struct model_layer *ml = &m->layers[i];
    if (ml->type == MODEL_DENSE || ml->type == MODEL_CONV) {
      if (ml->bits <= 0 || !ml->q)
        return sm_fail(err, SM_EINVAL,
                       "model layer %zu (%s): weights are not quantized "
                       "(bits = %d); cores hold integer weights",
                       i, type_name(ml->type), ml->bits);
      if (ml->out_c < 1 || ml->out_h < 1 || ml->out_w < 1)
        return sm_fail(err, SM_EINVAL, "model layer %zu (%s): empty output",
                       i, type_name(ml->type));
      if ((uint64_t)ml->bits > p->weight_bits)
        return sm_fail(err, SM_ENOFIT,
                       "layer %u (%s): %d-bit weights do not fit the cores' "
                       "%llu-bit SRAM words (core.weight_bits)",
                       n, type_name(ml->type), ml->bits,
                       (unsigned long long)p->weight_bits);
      struct model_map_layer *L = &mp->layers[n++];
      L->model_layer = (int)i;
      L->pool_layer = -1;
      L->pool = 1;
      L->channels = (uint32_t)ml->out_c;
      L->h = (uint32_t)ml->out_h;
      L->w = (uint32_t)ml->out_w;
      L->plane = L->h * L->w;
    } else if (ml->type == MODEL_POOL) {
      struct model_map_layer *L = &mp->layers[n - 1];
      if (n == 1 || L->pool_layer >= 0)
        return sm_fail(err, SM_EINVAL,
                       "model layer %zu (pool): pooling must follow a dense "
                       "or conv layer directly (it is fused into it)",
                       i);
      L->pool_layer = (int)i;
      L->pool = ml->kernel > 1 ? ml->kernel : 1;
      if ((uint32_t)L->pool > L->h || (uint32_t)L->pool > L->w)
        return sm_fail(err, SM_EINVAL,
                       "model layer %zu (pool): a %dx%d window does not fit "
                       "the %ux%u map",
                       i, L->pool, L->pool, L->h, L->w);
    }
  }
  if (n < 2)
    return sm_fail(err, SM_EINVAL, "model: no dense or conv layer");
  mp->nlayers = n;
  return 0;
}

/* ---- partition ------------------------------------------------------------ */

/* How one layer is cut: g channel groups (sizes differing by at most one),
 * each cut into r x q tiles (1 x 1: the whole map). */
struct cut {
  uint32_t g, r, q;
  int bound;       /* g r q is only a lower bound: far more than any mesh */
};

/* Groups past which a layer's count needs no precision: four times the
 * nodes of the largest mesh. */
#define MANY_GROUPS (4 * MODEL_MAP_MAX_SIDE * MODEL_MAP_MAX_SIDE)

/* Why a layer cannot be cut at a core size. */
enum cut_fail { CUT_OK, CUT_POOL, CUT_SRAM };

/* The largest rows (or columns) of a tile when n pooling units of side p
 * are dealt to k tiles as evenly as possible (deal(): the first n % k
 * tiles hold one unit more) and the last tile also holds the `crop` rows
 * that the pooling drops. */
static uint64_t tile_side(uint32_t n, uint32_t k, int p, uint32_t crop) {
  uint64_t big = div_up(n, k) * (uint64_t)p, last = n / k * (uint64_t)p + crop;
  return big > last ? big : last;
}

/* Cut layer l for npc neurons per core (see map.h). */
static enum cut_fail cut_layer(const struct model *m,
                               const struct model_map *mp, uint32_t l,
                               const struct model_map_params *p, uint64_t npc,
                               struct cut *c) {
  const struct model_map_layer *L = &mp->layers[l];
  const struct model_layer *ml = mlayer(m, mp, l);
  c->g = c->r = c->q = 1;
  c->bound = 0;
  if (ml && ml->type == MODEL_DENSE) {
    uint32_t g = (uint32_t)div_up(L->channels, npc);
    if (p->sram_fit == MODEL_SRAM_SPLIT) {
      /* the fewest groups, from g on, whose largest fits (monotone) */
      uint32_t top = L->channels;
      while (g < top) {
        uint32_t mid = g + (top - g) / 2;
        if (sram_of(ml, (uint32_t)div_up(L->channels, mid), p) > p->sram_bytes)
          g = mid + 1;
        else
          top = mid;
      }
    }
    c->g = g;
    return sram_of(ml, (uint32_t)div_up(L->channels, g), p) > p->sram_bytes
               ? CUT_SRAM
               : CUT_OK;
  }
  if (L->plane <= npc) {
    /* whole channels: the fewest groups that divide the channel count */
    uint32_t g = 1;
    while (g < L->channels &&
           (L->channels % g || (uint64_t)(L->channels / g) * L->plane > npc ||
            (p->sram_fit == MODEL_SRAM_SPLIT && ml &&
             sram_of(ml, L->channels / g, p) > p->sram_bytes)))
      g++;
    c->g = g;
    return ml && sram_of(ml, L->channels / g, p) > p->sram_bytes ? CUT_SRAM
                                                                 : CUT_OK;
  }
  /* one channel per group, cut into tiles of whole pooling windows */
  int pw = L->pool;
  uint32_t nh = L->h / (uint32_t)pw, nw = L->w / (uint32_t)pw;
  uint32_t ch = L->h - nh * (uint32_t)pw, cw = L->w - nw * (uint32_t)pw;
  c->g = L->channels;
  if (tile_side(1, 1, pw, ch) * tile_side(1, 1, pw, cw) > npc)
    return CUT_POOL;
  uint64_t least = div_up(L->plane, npc); /* tiles per channel, at least */
  if (least * L->channels > MANY_GROUPS) {
    c->r = (uint32_t)least;
    c->bound = 1;
    return ml && sram_of(ml, 1, p) > p->sram_bytes ? CUT_SRAM : CUT_OK;
  }
  /* the fewest tile rows whose rows leave room for one window column */
  uint64_t room = npc / tile_side(nw, nw, pw, cw);
  uint32_t r = 1, top = nh;
  while (r < top) {
    uint32_t mid = r + (top - r) / 2;
    if (tile_side(nh, mid, pw, ch) <= room)
      top = mid;
    else
      r = mid + 1;
  }
  uint64_t best = UINT64_MAX, best_skew = 0;
  for (; r <= nh && r <= best; r++) { /* r x q >= r tiles */
    uint64_t rows = tile_side(nh, r, pw, ch);
    uint64_t fit = npc / rows; /* columns a tile of these rows may have */
    if (tile_side(nw, nw, pw, cw) > fit)
      continue;
    uint32_t q = 1, qtop = nw; /* the fewest columns of tiles that fit */
    while (q < qtop) {
      uint32_t mid = q + (qtop - q) / 2;
      if (tile_side(nw, mid, pw, cw) <= fit)
        qtop = mid;
      else
        q = mid + 1;
    }
    uint64_t cols = tile_side(nw, q, pw, cw);
    uint64_t n = (uint64_t)r * q;
    uint64_t skew = rows > cols ? rows - cols : cols - rows;
    if (n < best || (n == best && skew < best_skew)) {
      best = n;
      best_skew = skew;
      c->r = r;
      c->q = q;
    }
  }
  assert(best != UINT64_MAX);
  return ml && sram_of(ml, 1, p) > p->sram_bytes ? CUT_SRAM : CUT_OK;
}

/* Groups of every layer at npc neurons per core, and whether a pooling
 * window (first) or a group's SRAM does not fit. */
static enum cut_fail count_groups(const struct model *m,
                                  const struct model_map *mp,
                                  const struct model_map_params *p,
                                  uint64_t npc, uint64_t *total) {
  *total = 0;
  enum cut_fail worst = CUT_OK;
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    struct cut c;
    enum cut_fail f = cut_layer(m, mp, l, p, npc, &c);
    if (f == CUT_POOL || (f == CUT_SRAM && worst == CUT_OK))
      worst = f;
    *total += (uint64_t)c.g * c.r * c.q;
  }
  return worst;
}

/* The core sizes that fit: from *lo (pooling windows fit and the groups fit
 * `nodes`) to *hi (every group's SRAM fits).  Both conditions are monotone
 * in the core size (groups shrink, SRAM grows with it), so each is a
 * bisection; past the largest layer nothing changes.  Returns 0 when no
 * size fits. */
static int legal_sizes(const struct model *m, const struct model_map *mp,
                       const struct model_map_params *p, uint64_t nodes,
                       uint64_t *lo, uint64_t *hi) {
  uint64_t top = 1;
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    uint64_t n = (uint64_t)mp->layers[l].channels * mp->layers[l].plane;
    top = n > top ? n : top;
  }
  uint64_t total;
  enum cut_fail f = count_groups(m, mp, p, top, &total);
  if (f == CUT_POOL || total > nodes)
    return 0;
  uint64_t a = 1, b = top; /* smallest size with pools and groups fitting */
  while (a < b) {
    uint64_t mid = a + (b - a) / 2;
    f = count_groups(m, mp, p, mid, &total);
    if (f != CUT_POOL && total <= nodes)
      b = mid;
    else
      a = mid + 1;
  }
  *lo = a;
  f = count_groups(m, mp, p, a, &total);
  if (f == CUT_SRAM)
    return 0;
  a = *lo;
  b = top; /* largest size with every SRAM fitting */
  while (a < b) {
    uint64_t mid = a + (b - a + 1) / 2;
    if (count_groups(m, mp, p, mid, &total) == CUT_SRAM)
      b = mid - 1;
    else
      a = mid;
  }
  *hi = a == top ? UINT64_MAX : a;
  return 1;
}

/* ", the core sizes that fit: ..." for a refusal at npc. */
static void legal_note(const struct model *m, const struct model_map *mp,
                       const struct model_map_params *p, uint64_t nodes,
                       const char *where, char *buf, size_t len) {
  uint64_t lo, hi;
  if (!legal_sizes(m, mp, p, nodes, &lo, &hi))
    snprintf(buf, len, "; no core.neurons_per_core fits this model %s", where);
  else if (hi == UINT64_MAX)
    snprintf(buf, len,
             "; the smallest legal core.neurons_per_core for this model %s "
             "is %llu",
             where, (unsigned long long)lo);
  else
    snprintf(buf, len,
             "; the smallest legal core.neurons_per_core for this model %s "
             "is %llu (legal: %llu to %llu)",
             where, (unsigned long long)lo, (unsigned long long)lo,
             (unsigned long long)hi);
}

/* Deal n units to k parts as evenly as possible, the first n % k parts
 * one unit larger: part i starts at unit deal(n, k, i). */
static uint32_t deal(uint32_t n, uint32_t k, uint32_t i) {
  return i * (n / k) + (i < n % k ? i : n % k);
}

int model_map_build(const struct model *m, const struct model_map_params *p,
                    struct model_map **out, struct sm_err *err) {
  *out = NULL;
  struct model_map *mp = sm_xcalloc(1, sizeof *mp);
  int rc = find_layers(m, p, mp, err);
  if (rc) {
    model_map_free(mp);
    return rc;
  }
  uint64_t npc = p->neurons_per_core;
  int auto_mesh = p->width == 0 || p->height == 0;
  uint64_t nodes = auto_mesh ? (uint64_t)MODEL_MAP_MAX_SIDE * MODEL_MAP_MAX_SIDE
                             : (uint64_t)p->width * p->height;
  char where[64];
  if (auto_mesh)
    snprintf(where, sizeof where, "(mesh at most %dx%d)", MODEL_MAP_MAX_SIDE,
             MODEL_MAP_MAX_SIDE);
  else
    snprintf(where, sizeof where, "on a %ux%u mesh", p->width, p->height);
  struct cut *cuts = sm_xcalloc(mp->nlayers, sizeof *cuts);
  uint64_t total = 0;
  char note[256];
  for (uint32_t l = 0; l < mp->nlayers && !rc; l++) {
    struct model_map_layer *L = &mp->layers[l];
    const struct model_layer *ml = mlayer(m, mp, l);
    enum cut_fail f = cut_layer(m, mp, l, p, npc, &cuts[l]);
    struct cut *c = &cuts[l];
    if (f == CUT_POOL) {
      legal_note(m, mp, p, nodes, where, note, sizeof note);
      uint32_t ch = L->h % (uint32_t)L->pool, cw = L->w % (uint32_t)L->pool;
      rc = sm_fail(err, SM_ENOFIT,
                   "layer %u (%s+pool%d): a %dx%d pooling window%s cannot be "
                   "split across cores and needs %llu neurons; "
                   "core.neurons_per_core = %llu%s",
                   l, layer_name(m, mp, l), L->pool, L->pool, L->pool,
                   ch || cw ? " with the rows and columns it crops" : "",
                   (unsigned long long)((L->pool + ch) * (L->pool + cw)),
                   (unsigned long long)npc, note);
    } else if (f == CUT_SRAM) {
      uint32_t nch = c->r * c->q > 1 ? 1 : (uint32_t)div_up(L->channels, c->g);
      uint64_t need = sram_of(ml, nch, p);
      uint64_t neurons = (uint64_t)nch * L->plane;
      if (c->r * c->q > 1)
        neurons = tile_side(L->h / (uint32_t)L->pool, c->r, L->pool,
                            L->h % (uint32_t)L->pool) *
                  tile_side(L->w / (uint32_t)L->pool, c->q, L->pool,
                            L->w % (uint32_t)L->pool);
      char hint[320];
      legal_note(m, mp, p, nodes, where, note, sizeof note);
      snprintf(hint, sizeof hint, "%s%s",
               p->sram_fit == MODEL_SRAM_REFUSE && nch > 1
                   ? "; map.sram_fit=split splits the layer further"
               : ml->type == MODEL_CONV
                   ? "; one channel's kernels are the least a core stores"
                   : "",
               note);
      rc = sm_fail(
          err, SM_ENOFIT,
          "layer %u (%s): a core of %llu neurons (channels [0, %u)) needs "
          "%llu bytes of SRAM for %llu %llu-bit weights and the scale; "
          "core.sram_bytes = %llu (short by %llu)%s",
          l, type_name(ml->type), (unsigned long long)neurons, nch,
          (unsigned long long)need,
          (unsigned long long)group_weights(ml, nch),
          (unsigned long long)p->weight_bits,
          (unsigned long long)p->sram_bytes,
          (unsigned long long)(need - p->sram_bytes), hint);
    }
    L->first_group = (uint32_t)total;
    L->ngroups = c->g * c->r * c->q;
    total += L->ngroups;
  }
  /* Mesh. */
  uint32_t w = p->width, h = p->height;
  if (!rc && auto_mesh && total <= nodes) {
    uint32_t s = (uint32_t)ceil(sqrt((double)total));
    while ((uint64_t)s * s < total)
      s++;
    w = h = s;
  }
  if (!rc && (w > MODEL_MAP_MAX_SIDE || h > MODEL_MAP_MAX_SIDE ||
              total > (uint64_t)w * h)) {
    char per[512];
    size_t o = 0;
    int bound = 0;
    for (uint32_t l = 0; l < mp->nlayers && o < sizeof per - 48; l++) {
      o += (size_t)snprintf(per + o, sizeof per - o, "%slayer %u: %s%u",
                            l ? ", " : "", l, cuts[l].bound ? "at least " : "",
                            mp->layers[l].ngroups);
      bound |= cuts[l].bound;
    }
    if (w > MODEL_MAP_MAX_SIDE || h > MODEL_MAP_MAX_SIDE)
      rc = sm_fail(err, SM_ENOFIT, "mesh %ux%u: at most %dx%d routers", w, h,
                   MODEL_MAP_MAX_SIDE, MODEL_MAP_MAX_SIDE);
    else {
      legal_note(m, mp, p, nodes, where, note, sizeof note);
      if (!auto_mesh)
        rc = sm_fail(err, SM_ENOFIT,
                     "mesh %ux%u has %u nodes; the mapping needs %s%llu "
                     "cores (%s); short by %s%llu%s",
                     w, h, w * h, bound ? "at least " : "",
                     (unsigned long long)total, per, bound ? "at least " : "",
                     (unsigned long long)(total - (uint64_t)w * h), note);
      else
        rc = sm_fail(err, SM_ENOFIT,
                     "the mapping needs %s%llu cores (%s): more than a %dx%d "
                     "mesh%s",
                     bound ? "at least " : "", (unsigned long long)total, per,
                     MODEL_MAP_MAX_SIDE, MODEL_MAP_MAX_SIDE, note);
    }
  }
  if (rc) {
    free(cuts);
    model_map_free(mp);
    return rc;
  }
  /* Groups, layer by layer: tiles in row-major order, the channel groups
   * of a tile together; then placement. */
  struct model_map_group *gs = sm_xcalloc(total, sizeof *gs);
  uint32_t g = 0;
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    const struct model_map_layer *L = &mp->layers[l];
    const struct cut *c = &cuts[l];
    uint32_t pw = (uint32_t)L->pool;
    uint32_t nh = L->h / pw, nw = L->w / pw;
    for (uint32_t r = 0; r < c->r; r++)
      for (uint32_t q = 0; q < c->q; q++)
        for (uint32_t k = 0; k < c->g; k++, g++) {
          struct model_map_group *G = &gs[g];
          G->layer = l;
          G->c0 = deal(L->channels, c->g, k);
          G->c1 = deal(L->channels, c->g, k + 1);
          if (c->r * c->q == 1) {
            G->y1 = L->h;
            G->x1 = L->w;
          } else {
            G->y0 = deal(nh, c->r, r) * pw;
            G->y1 = r + 1 < c->r ? deal(nh, c->r, r + 1) * pw : L->h;
            G->x0 = deal(nw, c->q, q) * pw;
            G->x1 = q + 1 < c->q ? deal(nw, c->q, q + 1) * pw : L->w;
          }
        }
  }
  free(cuts);
  model_map_free(mp);
  struct model_map_params ap = *p;
  ap.width = w;
  ap.height = h;
  /* greedy reads the traffic, which does not depend on the nodes: assemble
   * once on the Hilbert curve for the edges, then on greedy's nodes */
  int kind = p->placement == MODEL_PLACE_GREEDY ? MODEL_PLACE_HILBERT
                                                : p->placement;
  uint32_t *pn = sm_xmallocarray(total, sizeof *pn);
  struct model_map *res = NULL;
  rc = model_place_nodes(kind, p->seed, w, h, (uint32_t)total, NULL, 0, pn,
                         err);
  for (uint32_t i = 0; !rc && i < total; i++)
    gs[i].node = pn[i];
  if (!rc)
    rc = model_map_assemble(m, &ap, gs, (uint32_t)total, &res, err);
  if (!rc && p->placement == MODEL_PLACE_GREEDY) {
    struct model_map_edge *e;
    size_t ne = model_map_edges(res, m, &e);
    rc = model_place_nodes(MODEL_PLACE_GREEDY, p->seed, w, h, (uint32_t)total,
                           e, ne, pn, err);
    free(e);
    model_map_free(res);
    res = NULL;
    for (uint32_t i = 0; !rc && i < total; i++)
      gs[i].node = pn[i];
    if (!rc)
      rc = model_map_assemble(m, &ap, gs, (uint32_t)total, &res, err);
  }
  free(pn);
  free(gs);
  if (rc)
    return rc;
  *out = res;
  return 0;
}

uint64_t model_map_expected_hops(const struct model_map *mp,
                                 const struct model *m) {
  struct model_map_edge *e;
  size_t ne = model_map_edges(mp, m, &e);
  uint32_t *node = sm_xmallocarray(mp->ngroups + 1, sizeof *node);
  for (uint32_t g = 0; g < mp->ngroups; g++)
    node[g] = mp->groups[g].node;
  uint64_t hops = model_place_hops(mp->width, node, e, ne);
  free(node);
  free(e);
  return hops;
}

/* ---- assembly: the rules, the halo, the routing tables -------------------- */

/* Floor division for a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* How many input coordinates v in [a, b) reach an output coordinate in
 * [o0, o1) of a kernel of side k, stride s and padding pad: some o with
 * 0 <= v + pad - o s < k. */
static uint64_t reach(int64_t a, int64_t b, int64_t o0, int64_t o1, int64_t k,
                      int64_t s, int64_t pad) {
  if (a >= b || o0 >= o1)
    return 0;
  if (k >= s) { /* the receptive fields of [o0, o1) leave no gap */
    int64_t lo = o0 * s - pad, hi = (o1 - 1) * s - pad + k;
    lo = lo > a ? lo : a;
    hi = hi < b ? hi : b;
    return hi > lo ? (uint64_t)(hi - lo) : 0;
  }
  /* disjoint fields: only the outputs whose field meets [a, b) */
  int64_t first = floor_div(a + pad - k, s) + 1, last = floor_div(b - 1 + pad, s);
  first = first > o0 ? first : o0;
  last = last < o1 - 1 ? last : o1 - 1;
  uint64_t n = 0;
  for (int64_t o = first; o <= last; o++) {
    int64_t lo = o * s - pad, hi = lo + k;
    lo = lo > a ? lo : a;
    hi = hi < b ? hi : b;
    n += hi > lo ? (uint64_t)(hi - lo) : 0;
  }
  return n;
}

/* A group's outputs after its layer's pooling: pooled rows [*r0, *r1) and
 * columns [*q0, *q1) (empty when the tile holds only cropped rows). */
static void pooled_region(const struct model_map *mp,
                          const struct model_map_group *G, uint32_t *r0,
                          uint32_t *r1, uint32_t *q0, uint32_t *q1) {
  const struct model_map_layer *L = &mp->layers[G->layer];
  uint32_t p = (uint32_t)L->pool;
  uint32_t hy = L->h / p * p, hx = L->w / p * p;
  *r0 = G->y0 / p;
  *r1 = (G->y1 < hy ? G->y1 : hy) / p;
  *q0 = G->x0 / p;
  *q1 = (G->x1 < hx ? G->x1 : hx) / p;
  if (*r1 < *r0)
    *r1 = *r0;
  if (*q1 < *q0)
    *q1 = *q0;
}

/* The edge weight from group s to group d of the next layer (see
 * model_map_edge). */
static uint64_t edge_weight(const struct model *m, const struct model_map *mp,
                            const struct model_map_group *S,
                            const struct model_map_group *D) {
  uint32_t r0, r1, q0, q1;
  pooled_region(mp, S, &r0, &r1, &q0, &q1);
  uint64_t nch = S->c1 - S->c0;
  const struct model_layer *ml = mlayer(m, mp, D->layer);
  if (ml->type == MODEL_DENSE)
    return nch * (r1 - r0) * (q1 - q0);
  int64_t k = ml->kernel, s = ml->stride > 0 ? ml->stride : 1, pad = ml->pad;
  return nch * reach(r0, r1, D->y0, D->y1, k, s, pad) *
         reach(q0, q1, D->x0, D->x1, k, s, pad);
}

size_t model_map_edges(const struct model_map *mp, const struct model *m,
                       struct model_map_edge **out) {
  size_t n = 0, cap = 0;
  struct model_map_edge *e = NULL;
  for (uint32_t l = 0; l + 1 < mp->nlayers; l++) {
    const struct model_map_layer *A = &mp->layers[l], *B = &mp->layers[l + 1];
    for (uint32_t s = A->first_group; s < A->first_group + A->ngroups; s++)
      for (uint32_t d = B->first_group; d < B->first_group + B->ngroups; d++) {
        uint64_t wgt = edge_weight(m, mp, &mp->groups[s], &mp->groups[d]);
        if (!wgt)
          continue;
        if (n == cap) {
          cap = cap ? 2 * cap : 64;
          e = sm_xreallocarray(e, cap, sizeof *e);
        }
        e[n++] = (struct model_map_edge){s, d, wgt};
      }
  }
  *out = e;
  return n;
}

/* A tile edge v of a map of side n splits a pooling window of side p when
 * it falls strictly inside one of the n / p windows. */
static int splits_pool(uint32_t v, uint32_t n, int p) {
  return p > 1 && v % (uint32_t)p && v < n / (uint32_t)p * (uint32_t)p;
}

static int check_group(const struct model *m, const struct model_map *mp,
                       const struct model_map_params *p,
                       const struct model_map_group *G, uint32_t i,
                       uint32_t prev_layer, struct sm_err *err) {
  if (G->layer >= mp->nlayers)
    return sm_fail(err, SM_EINVAL,
                   "group %u: layer %u does not exist (the model has layers "
                   "0..%u, input included)",
                   i, G->layer, mp->nlayers - 1);
  if (i && G->layer < prev_layer)
    return sm_fail(err, SM_EINVAL,
                   "group %u (layer %u) comes after a group of layer %u: "
                   "groups are listed layer by layer",
                   i, G->layer, prev_layer);
  const struct model_map_layer *L = &mp->layers[G->layer];
  const char *tn = layer_name(m, mp, G->layer);
  struct {
    const char *what;
    uint32_t a, b, n;
  } r[3] = {{"channels", G->c0, G->c1, L->channels},
            {"rows", G->y0, G->y1, L->h},
            {"columns", G->x0, G->x1, L->w}};
  for (int k = 0; k < 3; k++) {
    if (r[k].a >= r[k].b)
      return sm_fail(err, SM_EINVAL,
                     "group %u (layer %u, %s): empty range: %s [%u, %u)", i,
                     G->layer, tn, r[k].what, r[k].a, r[k].b);
    if (r[k].b > r[k].n)
      return sm_fail(err, SM_EINVAL,
                     "group %u (layer %u, %s): %s [%u, %u) outside the "
                     "layer's %u %s",
                     i, G->layer, tn, r[k].what, r[k].a, r[k].b, r[k].n,
                     r[k].what);
    if (k && (splits_pool(r[k].a, r[k].n, L->pool) ||
              splits_pool(r[k].b, r[k].n, L->pool)))
      return sm_fail(err, SM_EINVAL,
                     "group %u (layer %u, %s): %s [%u, %u) split a %dx%d "
                     "pooling window (fused pooling stays inside a core: "
                     "tile edges fall on multiples of %d)",
                     i, G->layer, tn, r[k].what, r[k].a, r[k].b, L->pool,
                     L->pool, L->pool);
  }
  uint64_t n = (uint64_t)(G->c1 - G->c0) * (G->y1 - G->y0) * (G->x1 - G->x0);
  if (n > p->neurons_per_core)
    return sm_fail(err, SM_ENOFIT,
                   "group %u (layer %u, %s): over capacity: %llu neurons; "
                   "core.neurons_per_core = %llu (short by %llu)",
                   i, G->layer, tn, (unsigned long long)n,
                   (unsigned long long)p->neurons_per_core,
                   (unsigned long long)(n - p->neurons_per_core));
  const struct model_layer *ml = mlayer(m, mp, G->layer);
  uint64_t need = ml ? sram_of(ml, G->c1 - G->c0, p) : 0;
  if (need > p->sram_bytes)
    return sm_fail(err, SM_ENOFIT,
                   "group %u (layer %u, %s): over SRAM: %llu bytes for %llu "
                   "%llu-bit weights and the scale; core.sram_bytes = %llu "
                   "(short by %llu)",
                   i, G->layer, tn, (unsigned long long)need,
                   (unsigned long long)group_weights(ml, G->c1 - G->c0),
                   (unsigned long long)p->weight_bits,
                   (unsigned long long)p->sram_bytes,
                   (unsigned long long)(need - p->sram_bytes));
  if (G->node >= p->width * p->height)
    return sm_fail(err, SM_EINVAL,
                   "group %u: node %u is outside the %ux%u mesh (nodes 0..%u)",
                   i, G->node, p->width, p->height,
                   p->width * p->height - 1);
  return 0;
}

/* Every neuron of every layer in exactly one group. */
static int check_cover(const struct model *m, const struct model_map *mp,
                       const struct model_map_group *gs, uint32_t ngroups,
                       struct sm_err *err) {
  uint64_t most = 0;
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    uint64_t n = (uint64_t)mp->layers[l].channels * mp->layers[l].plane;
    most = n > most ? n : most;
  }
  uint8_t *bits = sm_xmalloc((size_t)(most + 7) / 8);
  int rc = 0;
  uint32_t g = 0;
  for (uint32_t l = 0; l < mp->nlayers && !rc; l++) {
    const struct model_map_layer *L = &mp->layers[l];
    uint64_t n = (uint64_t)L->channels * L->plane;
    memset(bits, 0, (size_t)(n + 7) / 8);
    for (; g < ngroups && gs[g].layer == l && !rc; g++) {
      const struct model_map_group *G = &gs[g];
      for (uint32_t c = G->c0; c < G->c1 && !rc; c++)
        for (uint32_t y = G->y0; y < G->y1 && !rc; y++)
          for (uint32_t x = G->x0; x < G->x1; x++) {
            uint64_t j = (uint64_t)c * L->plane + (uint64_t)y * L->w + x;
            if (!(bits[j / 8] & (1u << (j % 8)))) {
              bits[j / 8] |= (uint8_t)(1u << (j % 8));
              continue;
            }
            uint32_t o = L->first_group;
            while (!(gs[o].c0 <= c && c < gs[o].c1 && gs[o].y0 <= y &&
                     y < gs[o].y1 && gs[o].x0 <= x && x < gs[o].x1))
              o++;
            rc = sm_fail(err, SM_EINVAL,
                         "groups %u and %u both hold layer %u (%s) neuron "
                         "(channel %u, y %u, x %u): a neuron is in one group",
                         o, g, l, layer_name(m, mp, l), c, y, x);
            break;
          }
    }
    for (uint64_t j = 0; j < n && !rc; j++)
      if (!(bits[j / 8] & (1u << (j % 8))))
        rc = sm_fail(err, SM_EINVAL,
                     "layer %u (%s): neuron (channel %u, y %u, x %u) is not "
                     "in any group",
                     l, layer_name(m, mp, l), (uint32_t)(j / L->plane),
                     (uint32_t)(j % L->plane / L->w),
                     (uint32_t)(j % L->w));
  }
  free(bits);
  return rc;
}

/* A growing array of uint32_t. */
struct u32v {
  uint32_t *v;
  size_t n, cap;
};

static void push(struct u32v *a, uint32_t x) {
  if (a->n == a->cap) {
    a->cap = a->cap ? 2 * a->cap : 64;
    a->v = sm_xreallocarray(a->v, a->cap, sizeof *a->v);
  }
  a->v[a->n++] = x;
}

/* Classes of the rows (or columns) [a, b) of a source group by the set of
 * candidate destinations (lo[i], hi[i]: their rows) each one reaches:
 * consecutive rows with the same set share a class.  cls[r - a] gets the
 * class; sets[c * nd + i] whether class c reaches candidate i.  Returns the
 * number of classes. */
static uint32_t classes(int64_t a, int64_t b, const uint32_t *lo,
                        const uint32_t *hi, uint32_t nd, int64_t k, int64_t s,
                        int64_t pad, uint32_t *cls, uint8_t *sets) {
  uint32_t n = 0;
  for (int64_t r = a; r < b; r++) {
    uint8_t *cur = sets + (size_t)n * nd;
    for (uint32_t i = 0; i < nd; i++)
      cur[i] = reach(r, r + 1, lo[i], hi[i], k, s, pad) > 0;
    if (n && !memcmp(cur - nd, cur, nd)) {
      cls[r - a] = n - 1;
      continue;
    }
    cls[r - a] = n++;
  }
  return n;
}

/* Routing tables: each group's list of the next layer's groups it reaches
 * (its edges), then the cells of its outputs (model_map_route). */
static void build_routes(const struct model *m, struct model_map *mp) {
  struct u32v dst = {0}, cls = {0}, cell = {0};
  mp->route = sm_xcalloc(mp->ngroups, sizeof *mp->route);
  uint32_t *cand = sm_xmallocarray(mp->ngroups + 1, sizeof *cand);
  uint32_t *ylo = sm_xmallocarray(mp->ngroups + 1, sizeof *ylo);
  uint32_t *yhi = sm_xmallocarray(mp->ngroups + 1, sizeof *yhi);
  uint32_t *xlo = sm_xmallocarray(mp->ngroups + 1, sizeof *xlo);
  uint32_t *xhi = sm_xmallocarray(mp->ngroups + 1, sizeof *xhi);
  for (uint32_t g = 0; g < mp->ngroups; g++) {
    struct model_map_group *G = &mp->groups[g];
    struct model_map_route *R = &mp->route[g];
    uint32_t r0, r1, q0, q1;
    pooled_region(mp, G, &r0, &r1, &q0, &q1);
    R->r0 = r0;
    R->nr = r1 - r0;
    R->q0 = q0;
    R->nq = q1 - q0;
    uint32_t nd = 0;
    G->dst0 = (uint32_t)dst.n;
    if (G->layer + 1 < mp->nlayers) {
      const struct model_map_layer *N = &mp->layers[G->layer + 1];
      for (uint32_t d = N->first_group; d < N->first_group + N->ngroups; d++)
        if (edge_weight(m, mp, G, &mp->groups[d])) {
          cand[nd] = d;
          ylo[nd] = mp->groups[d].y0;
          yhi[nd] = mp->groups[d].y1;
          xlo[nd] = mp->groups[d].x0;
          xhi[nd] = mp->groups[d].x1;
          push(&dst, mp->groups[d].node);
          nd++;
        }
    }
    G->ndst = (uint32_t)dst.n - G->dst0;
    const struct model_layer *nl =
        G->layer + 1 < mp->nlayers ? mlayer(m, mp, G->layer + 1) : NULL;
    R->rcls = (uint32_t)cls.n;
    R->qcls = (uint32_t)cls.n + R->nr;
    R->cell0 = (uint32_t)cell.n / 2;
    for (uint32_t i = 0; i < R->nr + R->nq; i++)
      push(&cls, 0);
    if (!nl || nl->type == MODEL_DENSE || !nd || !R->nr || !R->nq) {
      /* one cell: every output reaches every destination */
      R->nqc = 1;
      R->ncells = 1;
      push(&cell, G->dst0);
      push(&cell, G->ndst);
      continue;
    }
    int64_t k = nl->kernel, st = nl->stride > 0 ? nl->stride : 1, pad = nl->pad;
    uint8_t *rs = sm_xmallocarray((size_t)R->nr * nd, 1);
    uint8_t *qs = sm_xmallocarray((size_t)R->nq * nd, 1);
    uint32_t nrc = classes(r0, r1, ylo, yhi, nd, k, st, pad, cls.v + R->rcls, rs);
    uint32_t nqc = classes(q0, q1, xlo, xhi, nd, k, st, pad, cls.v + R->qcls, qs);
    R->nqc = nqc;
    R->ncells = nrc * nqc;
    for (uint32_t a = 0; a < nrc; a++)
      for (uint32_t b = 0; b < nqc; b++) {
        uint32_t d0 = (uint32_t)dst.n;
        for (uint32_t i = 0; i < nd; i++)
          if (rs[(size_t)a * nd + i] && qs[(size_t)b * nd + i])
            push(&dst, mp->groups[cand[i]].node);
        push(&cell, d0);
        push(&cell, (uint32_t)dst.n - d0);
      }
    free(rs);
    free(qs);
  }
  free(cand);
  free(ylo);
  free(yhi);
  free(xlo);
  free(xhi);
  push(&dst, 0); /* never empty */
  push(&cls, 0);
  mp->dst = dst.v;
  mp->ndst = (uint32_t)dst.n - 1;
  mp->cls = cls.v;
  mp->cell = cell.v;
  mp->ncells = (uint32_t)cell.n / 2;
}

int model_map_assemble(const struct model *m, const struct model_map_params *p,
                       const struct model_map_group *groups, uint32_t ngroups,
                       struct model_map **out, struct sm_err *err) {
  *out = NULL;
  struct model_map *mp = sm_xcalloc(1, sizeof *mp);
  int rc = find_layers(m, p, mp, err);
  if (!rc && (p->width < 1 || p->height < 1 ||
              p->width > MODEL_MAP_MAX_SIDE || p->height > MODEL_MAP_MAX_SIDE))
    rc = sm_fail(err, SM_EINVAL, "mesh %ux%u: expected 1..%d routers a side",
                 p->width, p->height, MODEL_MAP_MAX_SIDE);
  uint32_t nodes = p->width * p->height;
  if (!rc) {
    mp->width = p->width;
    mp->height = p->height;
    mp->node_group = sm_xmallocarray(nodes, sizeof *mp->node_group);
    for (uint32_t i = 0; i < nodes; i++)
      mp->node_group[i] = UINT32_MAX;
  }
  for (uint32_t i = 0; i < ngroups && !rc; i++) {
    const struct model_map_group *G = &groups[i];
    rc = check_group(m, mp, p, G, i, i ? groups[i - 1].layer : 0, err);
    if (!rc && mp->node_group[G->node] != UINT32_MAX)
      rc = sm_fail(err, SM_EINVAL,
                   "groups %u and %u are both on node %u: one core per "
                   "router",
                   mp->node_group[G->node], i, G->node);
    if (!rc)
      mp->node_group[G->node] = i;
  }
  if (!rc) {
    for (uint32_t l = 0; l < mp->nlayers; l++)
      mp->layers[l].first_group = ngroups;
    for (uint32_t i = ngroups; i-- > 0;) {
      mp->layers[groups[i].layer].first_group = i;
      mp->layers[groups[i].layer].ngroups++;
    }
    rc = check_cover(m, mp, groups, ngroups, err);
  }
  if (rc) {
    model_map_free(mp);
    return rc;
  }
  mp->ngroups = ngroups;
  mp->groups = sm_xmallocarray(ngroups, sizeof *mp->groups);
  for (uint32_t i = 0; i < ngroups; i++) {
    struct model_map_group *G = &mp->groups[i];
    *G = groups[i];
    const struct model_layer *ml = mlayer(m, mp, G->layer);
    G->neurons = (uint64_t)(G->c1 - G->c0) * (G->y1 - G->y0) * (G->x1 - G->x0);
    G->sram_bytes = ml ? sram_of(ml, G->c1 - G->c0, p) : 0;
    G->iy0 = G->iy1 = G->ix0 = G->ix1 = 0;
    if (ml) {
      const struct model_map_layer *P = &mp->layers[G->layer - 1];
      uint32_t ph = P->h / (uint32_t)P->pool, pw = P->w / (uint32_t)P->pool;
      G->iy1 = ph;
      G->ix1 = pw;
      if (ml->type == MODEL_CONV) {
        int64_t k = ml->kernel, s = ml->stride > 0 ? ml->stride : 1,
                pad = ml->pad;
        int64_t a = (int64_t)G->y0 * s - pad, b = ((int64_t)G->y1 - 1) * s - pad + k;
        G->iy0 = a > 0 ? (uint32_t)a : 0;
        G->iy1 = b < ph ? (uint32_t)b : ph;
        a = (int64_t)G->x0 * s - pad;
        b = ((int64_t)G->x1 - 1) * s - pad + k;
        G->ix0 = a > 0 ? (uint32_t)a : 0;
        G->ix1 = b < pw ? (uint32_t)b : pw;
      }
    }
  }
  build_routes(m, mp);
  *out = mp;
  return 0;
}

const uint32_t *model_map_dests(const struct model_map *mp, uint32_t group,
                                uint32_t *n) {
  const struct model_map_group *G = &mp->groups[group];
  *n = G->ndst;
  return mp->dst + G->dst0;
}

uint32_t model_map_spike_cell(const struct model_map *mp, uint32_t group,
                              uint32_t out) {
  assert(group < mp->ngroups);
  const struct model_map_route *R = &mp->route[group];
  const struct model_map_layer *L = &mp->layers[mp->groups[group].layer];
  uint32_t p = (uint32_t)L->pool, pw = L->w / p, plane = (L->h / p) * pw;
  uint32_t r = out % plane / pw, q = out % pw;
  assert(r - R->r0 < R->nr && q - R->q0 < R->nq);
  return R->cell0 + mp->cls[R->rcls + r - R->r0] * R->nqc +
         mp->cls[R->qcls + q - R->q0];
}

const uint32_t *model_map_cell_dests(const struct model_map *mp, uint32_t cell,
                                     uint32_t *n) {
  assert(cell < mp->ncells);
  *n = mp->cell[2 * cell + 1];
  return mp->dst + mp->cell[2 * cell];
}

const uint32_t *model_map_spike_dests(const struct model_map *mp,
                                      uint32_t group, uint32_t out,
                                      uint32_t *n) {
  return model_map_cell_dests(mp, model_map_spike_cell(mp, group, out), n);
}

void model_map_output_owners(const struct model_map *mp, uint32_t layer,
                             uint32_t *owner) {
  const struct model_map_layer *L = &mp->layers[layer];
  uint32_t p = (uint32_t)L->pool, pw = L->w / p, plane = (L->h / p) * pw;
  for (uint32_t g = L->first_group; g < L->first_group + L->ngroups; g++) {
    const struct model_map_group *G = &mp->groups[g];
    uint32_t r0, r1, q0, q1;
    pooled_region(mp, G, &r0, &r1, &q0, &q1);
    for (uint32_t c = G->c0; c < G->c1; c++)
      for (uint32_t r = r0; r < r1; r++)
        for (uint32_t q = q0; q < q1; q++)
          owner[c * plane + r * pw + q] = g;
  }
}

void model_map_print(const struct model_map *mp, const struct model *m,
                     FILE *out) {
  fprintf(out, "mapping: %u cores on a %ux%u mesh\n", mp->ngroups, mp->width,
          mp->height);
  fprintf(out, "  %-5s %-8s %8s %6s %9s %11s  %s\n", "layer", "type",
          "neurons", "cores", "per core", "SRAM/core", "nodes");
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    const struct model_map_layer *L = &mp->layers[l];
    const struct model_map_group *G = &mp->groups[L->first_group];
    uint64_t most = 0, sram = 0;
    for (uint32_t g = 0; g < L->ngroups; g++) {
      most = G[g].neurons > most ? G[g].neurons : most;
      sram = G[g].sram_bytes > sram ? G[g].sram_bytes : sram;
    }
    char pool[16] = "";
    if (L->pool > 1)
      snprintf(pool, sizeof pool, "+pool%d", L->pool);
    char nodes[64];
    if (L->ngroups == 1)
      snprintf(nodes, sizeof nodes, "%u", G->node);
    else
      snprintf(nodes, sizeof nodes, "%u..%u", G->node,
               mp->groups[L->first_group + L->ngroups - 1].node);
    char type[32];
    snprintf(type, sizeof type, "%s%s", layer_name(m, mp, l), pool);
    fprintf(out, "  %-5u %-8s %8llu %6u %9llu %11llu  %s\n", l, type,
            (unsigned long long)L->channels * L->plane, L->ngroups,
            (unsigned long long)most, (unsigned long long)sram, nodes);
  }
}

/* ---- presets and the paper's tables ------------------------------------ */

static int is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Copy A then B into dst; 0 when it fits. */
static int join(char *dst, size_t len, const char *a, const char *b) {
  int w = snprintf(dst, len, "%s%s", a, b);
  return w < 0 || (size_t)w >= len;
}

/* realpath(p), or p itself when it does not resolve (a directory not yet
 * created); "" when neither fits. */
static void resolved(const char *p, char *out, size_t len) {
  char *r = realpath(p, NULL);
  if (join(out, len, r ? r : p, ""))
    out[0] = '\0';
  free(r);
}

const char *model_data_from_name(enum model_data_from from) {
  switch (from) {
  case MODEL_DATA_ENV:
    return "from SPIKEMESH_DATA";
  case MODEL_DATA_SOURCE:
    return "the source tree: the program runs from its build tree";
  case MODEL_DATA_STAGED:
    return "the data directory staged beside the program (DESTDIR)";
  case MODEL_DATA_INSTALLED:
    break;
  }
  return "the installed data directory";
}

/* 1 when DIR is TOP or inside it. */
static int under(const char *dir, const char *top) {
  size_t n = strlen(top);
  return n && !strncmp(dir, top, n) && (dir[n] == '\0' || dir[n] == '/');
}

enum model_data_from model_data_dir_for(const char *env, const char *exe_dir,
                                        char *dir, size_t len) {
  if (env && *env && !join(dir, len, env, ""))
    return MODEL_DATA_ENV;
  char bin[4096], build[4096], src[4096];
  size_t ne = exe_dir ? strlen(exe_dir) : 0, nb = strlen(SM_BINDIR);
  if (ne)
    resolved(SM_BINDIR, bin, sizeof bin);
  /* installed, or from nowhere known: the data directory as configured */
  int installed = !ne || !strcmp(exe_dir, bin) || !strcmp(exe_dir, SM_BINDIR);
  /* DESTDIR$(bindir): the data installed with it, DESTDIR$(pkgdatadir) */
  int staged = !installed && SM_BINDIR[0] == '/' && ne > nb &&
               !strcmp(exe_dir + ne - nb, SM_BINDIR);
  if (staged) {
    int w = snprintf(dir, len, "%.*s%s", (int)(ne - nb), exe_dir, SM_DATADIR);
    if (w > 0 && (size_t)w < len)
      return MODEL_DATA_STAGED;
  } else if (!installed) {
    /* the build tree is looked at only for a program outside $(bindir) */
    resolved(SM_BUILDDIR, build, sizeof build);
    resolved(SM_SRCDIR "/models", src, sizeof src);
    if (under(exe_dir, build) && *src && !join(dir, len, src, ""))
      return MODEL_DATA_SOURCE;
  }
  join(dir, len, SM_DATADIR, "");
  return MODEL_DATA_INSTALLED;
}

enum model_data_from model_data_dir(char *dir, size_t len) {
  char exe[4096]; /* the kernel's link names the program's resolved path */
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  char *slash = n > 0 ? memchr(exe, '/', (size_t)n) : NULL;
  if (slash) {
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    *(slash == exe ? slash + 1 : slash) = '\0';
  }
  return model_data_dir_for(getenv("SPIKEMESH_DATA"), slash ? exe : NULL, dir,
                            len);
}

/* NAME+EXT in the data directory's SUB; a refusal names NAME, the
 * directory and why that one was chosen. */
static int data_file(const char *sub, const char *name, const char *ext,
                     const char *what, char *path, size_t len,
                     struct sm_err *err) {
  char root[4096];
  enum model_data_from from = model_data_dir(root, sizeof root);
  const char *sep = *sub ? "/" : "";
  int w = snprintf(path, len, "%s%s%s/%s%s", root, sep, sub, name, ext);
  if (w > 0 && (size_t)w < len && is_file(path))
    return 0;
  return sm_fail(err, SM_ENOENT, "%s '%s' not found in %s%s%s (%s)", what,
                 name, root, sep, sub, model_data_from_name(from));
}

int model_data_file(const char *sub, const char *name, const char *what,
                    char *path, size_t len, struct sm_err *err) {
  return data_file(sub, name, "", what, path, len, err);
}

/* A data file by name (NAME.json on the search path) or by path (a value
 * containing '/' or ending in ".json"); `what` and `file_what` name the
 * kind of file in messages for a name and for a path. */
static int data_path(const char *what, const char *file_what, const char *sub,
                     const char *name, char *path, size_t len,
                     struct sm_err *err) {
  size_t n = strlen(name);
  if (strchr(name, '/') || (n > 5 && !strcmp(name + n - 5, ".json"))) {
    if (!is_file(name))
      return sm_fail(err, SM_ENOENT, "%s '%s' not found", file_what, name);
    snprintf(path, len, "%s", name);
    return 0;
  }
  return data_file(sub, name, ".json", what, path, len, err);
}

int model_preset_path(const char *name, char *path, size_t len,
                      struct sm_err *err) {
  return data_path("architecture preset", "architecture file", "arch", name,
                   path, len, err);
}

int model_paper_path(const char *name, char *path, size_t len,
                     struct sm_err *err) {
  return data_path("paper table", "paper table file", "paper", name, path,
                   len, err);
}

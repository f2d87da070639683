/*
 * map.c -- partition, placement and routing tables (see map.h for the
 * rules), and architecture preset lookup.
 *
 * Cost: O(layers + groups + mesh nodes); the routing tables are one list of
 * destination nodes per layer, since every group of a layer has the same
 * destinations.
 *
 * Rejected: splitting a layer into more groups than the neuron count needs
 * silently to make its SRAM fit (the paper's rule is neuron-driven; by
 * default a mapping that does not fit is refused with the shortfall, and
 * map.sram_fit=split asks for the extra split explicitly), and per-neuron destination sets (with channel groups every source reaches
 * every group of the next layer, so a per-neuron table would repeat the
 * per-layer one).
 */
#include "models/map.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct sm_opt model_map_conf_opts[] = {
    SM_OPT_E(struct model_map_conf, placement, "map.placement", "snake",
             MODEL_PLACEMENT_CHOICES,
             "where groups go on the mesh: rows left to right, or a snake "
             "that keeps consecutive groups adjacent"),
    SM_OPT_E(struct model_map_conf, sram_fit, "map.sram_fit", "refuse",
             MODEL_SRAM_FIT_CHOICES,
             "a group whose synapses exceed core.sram_bytes: refuse the "
             "mapping (the paper's neuron-driven rule) or split the layer "
             "into more, smaller groups"),
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
  free(mp);
}

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

/* Find the spiking layers and their fused pools. */
static int find_layers(const struct model *m, struct model_map *mp,
                       struct sm_err *err) {
  mp->layers = sm_xcalloc(m->nlayers + 1, sizeof *mp->layers);
  struct model_map_layer *in = &mp->layers[0];
  in->model_layer = -1;
  in->pool_layer = -1;
  in->pool = 1;
  if (m->in_c < 1 || m->in_h < 1 || m->in_w < 1)
    return sm_fail(err, SM_EINVAL, "model: empty input shape %dx%dx%d",
                   m->in_c, m->in_h, m->in_w);
  in->channels = (uint32_t)m->in_c;
  in->plane = (uint32_t)(m->in_h * m->in_w);
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
      struct model_map_layer *L = &mp->layers[n++];
      L->model_layer = (int)i;
      L->pool_layer = -1;
      L->pool = 1;
      L->channels = (uint32_t)ml->out_c;
      L->plane = (uint32_t)(ml->out_h * ml->out_w);
    } else if (ml->type == MODEL_POOL) {
      struct model_map_layer *L = &mp->layers[n - 1];
      if (n == 1 || L->pool_layer >= 0)
        return sm_fail(err, SM_EINVAL,
                       "model layer %zu (pool): pooling must follow a dense "
                       "or conv layer directly (it is fused into it)",
                       i);
      L->pool_layer = (int)i;
      L->pool = ml->kernel > 1 ? ml->kernel : 1;
    }
  }
  if (n < 2)
    return sm_fail(err, SM_EINVAL, "model: no dense or conv layer");
  mp->nlayers = n;
  return 0;
}

int model_map_build(const struct model *m, const struct model_map_params *p,
                    struct model_map **out, struct sm_err *err) {
  *out = NULL;
  struct model_map *mp = sm_xcalloc(1, sizeof *mp);
  int rc = find_layers(m, mp, err);
  if (rc) {
    model_map_free(mp);
    return rc;
  }
  uint64_t npc = p->neurons_per_core;
  /* Partition. */
  uint32_t total = 0;
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    struct model_map_layer *L = &mp->layers[l];
    const struct model_layer *ml =
        L->model_layer >= 0 ? &m->layers[L->model_layer] : NULL;
    const char *tn = ml ? type_name(ml->type) : "input";
    if (ml && ml->bits > 0 && (uint64_t)ml->bits > p->weight_bits) {
      rc = sm_fail(err, SM_ENOFIT,
                   "layer %u (%s): %d-bit weights do not fit the cores' "
                   "%llu-bit SRAM words (core.weight_bits)",
                   l, tn, ml->bits, (unsigned long long)p->weight_bits);
      model_map_free(mp);
      return rc;
    }
    if (ml && ml->type == MODEL_DENSE) {
      uint32_t g = (uint32_t)((L->channels + npc - 1) / npc);
      if (p->sram_fit == MODEL_SRAM_SPLIT)
        while (g < L->channels &&
               sram_of(ml, (L->channels + g - 1) / g, p) > p->sram_bytes)
          g++;
      L->ngroups = g;
    } else {
      if (L->plane > npc) {
        rc = sm_fail(err, SM_ENOFIT,
                     "layer %u (%s): one channel has %u neurons; "
                     "core.neurons_per_core = %llu (short by %llu)",
                     l, tn, L->plane, (unsigned long long)npc,
                     (unsigned long long)(L->plane - npc));
        model_map_free(mp);
        return rc;
      }
      uint32_t g = 1;
      while (g < L->channels &&
             (L->channels % g || (uint64_t)(L->channels / g) * L->plane > npc ||
              (p->sram_fit == MODEL_SRAM_SPLIT && ml &&
               sram_of(ml, L->channels / g, p) > p->sram_bytes)))
        g++;
      L->ngroups = g;
    }
    L->first_group = total;
    total += L->ngroups;
  }
  mp->ngroups = total;
  mp->groups = sm_xcalloc(total, sizeof *mp->groups);
  for (uint32_t l = 0; l < mp->nlayers; l++) {
    struct model_map_layer *L = &mp->layers[l];
    const struct model_layer *ml =
        L->model_layer >= 0 ? &m->layers[L->model_layer] : NULL;
    uint32_t base = L->channels / L->ngroups, extra = L->channels % L->ngroups;
    uint32_t c = 0;
    for (uint32_t g = 0; g < L->ngroups; g++) {
      struct model_map_group *G = &mp->groups[L->first_group + g];
      uint32_t nch = base + (g < extra ? 1 : 0);
      G->layer = l;
      G->c0 = c;
      G->c1 = c + nch;
      G->y0 = 0;
      G->y1 = ml ? (uint32_t)ml->out_h : (uint32_t)m->in_h;
      G->x0 = 0;
      G->x1 = ml ? (uint32_t)ml->out_w : (uint32_t)m->in_w;
      c += nch;
      G->neurons = (uint64_t)nch * L->plane;
      G->sram_bytes = ml ? sram_of(ml, nch, p) : 0;
      if (G->sram_bytes > p->sram_bytes) {
        int rcf = sm_fail(
            err, SM_ENOFIT,
            "layer %u (%s): a core of %llu neurons (channels [%u, %u)) needs "
            "%llu bytes of SRAM for %llu %llu-bit weights and the scale; "
            "core.sram_bytes = %llu (short by %llu)",
            l, type_name(ml->type), (unsigned long long)G->neurons, G->c0,
            G->c1, (unsigned long long)G->sram_bytes,
            (unsigned long long)group_weights(ml, nch),
            (unsigned long long)p->weight_bits,
            (unsigned long long)p->sram_bytes,
            (unsigned long long)(G->sram_bytes - p->sram_bytes));
        model_map_free(mp);
        return rcf;
      }
    }
  }
  /* Mesh. */
  uint32_t w = p->width, h = p->height;
  if (w == 0 || h == 0) {
    uint32_t s = (uint32_t)ceil(sqrt((double)total));
    while ((uint64_t)s * s < total)
      s++;
    w = h = s;
  }
  if (w > MODEL_MAP_MAX_SIDE || h > MODEL_MAP_MAX_SIDE ||
      (uint64_t)w * h < total) {
    char per[512];
    size_t o = 0;
    for (uint32_t l = 0; l < mp->nlayers && o < sizeof per - 48; l++)
      o += (size_t)snprintf(per + o, sizeof per - o, "%slayer %u: %u",
                            l ? ", " : "", l, mp->layers[l].ngroups);
    int rcf;
    if ((uint64_t)w * h < total)
      rcf = sm_fail(err, SM_ENOFIT,
                    "mesh %ux%u has %u nodes; the mapping needs %u cores (%s); "
                    "short by %u",
                    w, h, w * h, total, per, total - w * h);
    else
      rcf = sm_fail(err, SM_ENOFIT,
                    "the mapping needs %u cores (%s): more than a %dx%d mesh",
                    total, per, MODEL_MAP_MAX_SIDE, MODEL_MAP_MAX_SIDE);
    model_map_free(mp);
    return rcf;
  }
  mp->width = w;
  mp->height = h;
  mp->node_group = sm_xmallocarray((size_t)w * h, sizeof *mp->node_group);
  for (uint32_t i = 0; i < w * h; i++)
    mp->node_group[i] = UINT32_MAX;
  for (uint32_t g = 0; g < total; g++) {
    mp->groups[g].node = model_map_place(p->placement, w, g);
    mp->node_group[mp->groups[g].node] = g;
  }
  /* Routing tables: every group of layer l sends to layer l+1's nodes. */
  uint64_t nd = 0;
  for (uint32_t g = 0; g < total; g++) {
    uint32_t l = mp->groups[g].layer;
    nd += l + 1 < mp->nlayers ? mp->layers[l + 1].ngroups : 0;
  }
  mp->dst = sm_xmallocarray(nd + 1, sizeof *mp->dst);
  uint32_t o = 0;
  for (uint32_t g = 0; g < total; g++) {
    struct model_map_group *G = &mp->groups[g];
    G->dst0 = o;
    if (G->layer + 1 < mp->nlayers) {
      const struct model_map_layer *N = &mp->layers[G->layer + 1];
      for (uint32_t d = 0; d < N->ngroups; d++)
        mp->dst[o++] = mp->groups[N->first_group + d].node;
    }
    G->ndst = o - G->dst0;
  }
  mp->ndst = o;
  *out = mp;
  return 0;
}

const uint32_t *model_map_dests(const struct model_map *mp, uint32_t group,
                                uint32_t *n) {
  const struct model_map_group *G = &mp->groups[group];
  *n = G->ndst;
  return mp->dst + G->dst0;
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
    const char *tn =
        L->model_layer >= 0 ? type_name(m->layers[L->model_layer].type)
                            : "input";
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
    snprintf(type, sizeof type, "%s%s", tn, pool);
    fprintf(out, "  %-5u %-8s %8llu %6u %9llu %11llu  %s\n", l, type,
            (unsigned long long)L->channels * L->plane, L->ngroups,
            (unsigned long long)G->neurons,
            (unsigned long long)G->sram_bytes, nodes);
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

/*
 * mapfile.c -- the mapping file, version 1 (see mapfile.h; the format
 * field by field: doc/mapping.md).
 *
 * Layout.  The writer prints the header one key per line and every layer
 * and every group as one line of JSON, so a hand edit is a change to one
 * line and a diff of two files shows which groups moved.  Keys keep their
 * order, numbers are integers only, so writing the mapping read from a
 * file gives the same bytes (the round trip tests/mapfile.sh checks).
 *
 * Reading is strict in four steps, each refusal naming the file and, for
 * a group, its index: (1) the JSON and every field's presence, type and
 * range, unknown keys listing the valid ones; (2) the file against the
 * model (its layers' types, shapes and pooling) and the hardware (core
 * section, mesh); each group's layer and type, its ranges inside the
 * layer's shape, index = core = its position, node = y * width + x;
 * (3) model_map_assemble() checks the mapping rules and fills the rest;
 * (4) the derived fields (neurons, SRAM bytes, halo, the totals) must
 * equal what the assembled mapping says.  Cost: one parse, O(groups).
 *
 * Rejected: deriving fields the reader could recompute (neurons, SRAM
 * bytes, x and y) instead of storing them -- the file is also what an
 * architect reads, and a stored figure that is checked cannot drift;
 * a model file digest in the header -- a model retrained with the same
 * shapes maps the same way, so the shapes are what must match.
 */
#include "models/mapfile.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *model_mapfile_placement_name(int p) {
  /* the option's own choices (a thread-local copy) */
  for (size_t i = 0; i < model_map_conf_nopts; i++)
    if (!strcmp(model_map_conf_opts[i].name, "map.placement")) {
      const char *n = sm_opt_choice(&model_map_conf_opts[i], p);
      return n ? n : "?";
    }
  return "?";
}

/* ---- the model's mapping layers ----------------------------------------- */

/* A mapping layer as the file describes it: the input, then each dense or
 * conv layer with the pool after it fused in (model/map.h). */
struct shape {
  const char *type; /* "input", "conv", "dense" */
  uint32_t channels, height, width; /* the output before pooling */
  uint32_t pool;    /* fused pooling window side, 1: none */
};

/* The model's mapping layers into s[m->nlayers + 1]; their count. */
static uint32_t model_shapes(const struct model *m, struct shape *s) {
  uint32_t n = 0;
  s[n++] = (struct shape){"input", (uint32_t)m->in_c, (uint32_t)m->in_h,
                          (uint32_t)m->in_w, 1};
  for (size_t i = 0; i < m->nlayers; i++) {
    const struct model_layer *L = &m->layers[i];
    if (L->type == MODEL_DENSE || L->type == MODEL_CONV)
      s[n++] = (struct shape){L->type == MODEL_CONV ? "conv" : "dense",
                              (uint32_t)L->out_c, (uint32_t)L->out_h,
                              (uint32_t)L->out_w, 1};
    else if (L->type == MODEL_POOL && n > 1 && L->kernel > 1)
      s[n - 1].pool = (uint32_t)L->kernel;
  }
  return n;
}

/* ---- writing -------------------------------------------------------------- */

static json_t *range(uint32_t a, uint32_t b) {
  json_t *r = json_array();
  json_array_append_new(r, json_integer(a));
  json_array_append_new(r, json_integer(b));
  return r;
}

/* A string value; text that is not UTF-8 (a model name from an old file)
 * as "?" rather than nothing. */
static json_t *text_value(const char *t) {
  json_t *j = json_string(t);
  return j ? j : json_string("?");
}

/* One value on the rest of a line (takes j). */
static void put(FILE *f, json_t *j) {
  char *s = json_dumps(j, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
  fputs(s, f);
  free(s);
  json_decref(j);
}

static void put_key(FILE *f, const char *key, json_t *j) {
  fprintf(f, "  \"%s\": ", key);
  put(f, j);
  fputs(",\n", f);
}

/* The type of mapping layer l: "input", "conv" or "dense". */
static const char *layer_type(const struct model_map *mp,
                              const struct model *m, uint32_t l) {
  int ml = mp->layers[l].model_layer;
  return ml < 0 ? "input" : m->layers[ml].type == MODEL_CONV ? "conv" : "dense";
}

char *model_mapfile_text(const struct model_map *mp, const struct model *m,
                         const struct model_map_params *p,
                         const char *placement) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    sm_oom(0);
  fputs("{\n", f);
  put_key(f, "format", json_string(MODEL_MAPFILE_FORMAT));
  put_key(f, "version", json_integer(MODEL_MAPFILE_VERSION));
  json_t *mo = json_object();
  json_object_set_new(mo, "name", text_value(m->name));
  json_object_set_new(mo, "arch", text_value(m->arch));
  put_key(f, "model", mo);
  fputs("  \"layers\": [\n", f);
  struct shape *s = sm_xcalloc(m->nlayers + 1, sizeof *s);
  uint32_t ns = model_shapes(m, s);
  for (uint32_t l = 0; l < ns; l++) {
    fputs("    ", f);
    put(f, json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,s:I}", "layer", (int)l,
                     "type", s[l].type, "channels", (json_int_t)s[l].channels,
                     "height", (json_int_t)s[l].height, "width",
                     (json_int_t)s[l].width, "pool", (json_int_t)s[l].pool,
                     "neurons",
                     (json_int_t)s[l].channels * s[l].height * s[l].width));
    fputs(l + 1 < ns ? ",\n" : "\n", f);
  }
  free(s);
  fputs("  ],\n", f);
  put_key(f, "mesh", json_pack("{s:i,s:i}", "width", (int)mp->width, "height",
                               (int)mp->height));
  put_key(f, "core",
          json_pack("{s:I,s:I,s:I}", "neurons_per_core",
                    (json_int_t)p->neurons_per_core, "sram_bytes",
                    (json_int_t)p->sram_bytes, "weight_bits",
                    (json_int_t)p->weight_bits));
  put_key(f, "placement",
          text_value(placement ? placement
                               : model_mapfile_placement_name(p->placement)));
  uint64_t sram = 0;
  for (uint32_t g = 0; g < mp->ngroups; g++)
    sram += mp->groups[g].sram_bytes;
  put_key(f, "cores", json_integer(mp->ngroups));
  put_key(f, "sram_bytes", json_integer((json_int_t)sram));
  fputs("  \"groups\": [\n", f);
  for (uint32_t g = 0; g < mp->ngroups; g++) {
    const struct model_map_group *G = &mp->groups[g];
    json_t *j = json_object();
    json_object_set_new(j, "index", json_integer(g));
    json_object_set_new(j, "layer", json_integer(G->layer));
    json_object_set_new(j, "type", json_string(layer_type(mp, m, G->layer)));
    json_object_set_new(j, "channels", range(G->c0, G->c1));
    json_object_set_new(j, "rows", range(G->y0, G->y1));
    json_object_set_new(j, "cols", range(G->x0, G->x1));
    if (G->layer > 0) /* the input's groups read nothing */
      json_object_set_new(j, "halo", json_pack("{s:o,s:o}", "rows",
                                               range(G->iy0, G->iy1), "cols",
                                               range(G->ix0, G->ix1)));
    json_object_set_new(j, "core", json_integer(g));
    json_object_set_new(j, "node", json_integer(G->node));
    json_object_set_new(j, "x", json_integer(G->node % mp->width));
    json_object_set_new(j, "y", json_integer(G->node / mp->width));
    json_object_set_new(j, "neurons", json_integer((json_int_t)G->neurons));
    json_object_set_new(j, "sram_bytes",
                        json_integer((json_int_t)G->sram_bytes));
    fputs("    ", f);
    put(f, j);
    fputs(g + 1 < mp->ngroups ? ",\n" : "\n", f);
  }
  fputs("  ]\n}\n", f);
  fclose(f);
  return buf;
}

int model_mapfile_write(const char *path, const struct model_map *mp,
                        const struct model *m,
                        const struct model_map_params *p,
                        const char *placement, struct sm_err *err) {
  char *text = model_mapfile_text(mp, m, p, placement);
  struct sm_write w;
  int rc = sm_write_begin(&w, path, err);
  if (!rc && fputs(text, w.fp) < 0) {
    rc = sm_fail(err, SM_EIO, "%s: cannot write%s", path,
                 w.tmp ? "; the file is unchanged" : "");
    sm_write_abort(&w);
  } else if (!rc) {
    rc = sm_write_commit(&w, err);
  }
  free(text);
  return rc;
}

/* ---- reading: fields ------------------------------------------------------ */

/* Where a message points: the file and, inside it, e.g. "group 3: ". */
struct at {
  const char *src;
  char where[64];
  struct sm_err *err;
};

static int check_keys(const struct at *a, json_t *obj,
                      const char *const *valid) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    int ok = 0;
    for (const char *const *k = valid; *k && !ok; k++)
      ok = !strcmp(*k, key);
    if (!ok) {
      char list[400] = "";
      size_t o = 0;
      for (const char *const *k = valid; *k && o < sizeof list - 40; k++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
                              k == valid ? "" : ", ", *k);
      return sm_fail(a->err, SM_ENOKEY, "%s: %sunknown key '%s' (valid keys: "
                     "%s)", a->src, a->where, key, list);
    }
  }
  return 0;
}

static json_t *need(const struct at *a, json_t *obj, const char *key,
                    int *rc) {
  json_t *v = json_object_get(obj, key);
  if (!v)
    *rc = sm_fail(a->err, SM_EFORMAT, "%s: %smissing key '%s'", a->src,
                  a->where, key);
  return v;
}

/* A required integer in [lo, hi]. */
static int get_u64(const struct at *a, json_t *obj, const char *key,
                   uint64_t lo, uint64_t hi, uint64_t *out) {
  int rc = 0;
  json_t *v = need(a, obj, key, &rc);
  if (!v)
    return rc;
  if (!json_is_integer(v))
    return sm_fail(a->err, SM_ETYPE, "%s: %s'%s': expected an integer",
                   a->src, a->where, key);
  json_int_t x = json_integer_value(v);
  if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
    return sm_fail(a->err, SM_ERANGE, "%s: %s'%s' = %lld: expected %llu..%llu",
                   a->src, a->where, key, (long long)x,
                   (unsigned long long)lo, (unsigned long long)hi);
  *out = (uint64_t)x;
  return 0;
}

static int get_u32(const struct at *a, json_t *obj, const char *key,
                   uint32_t lo, uint32_t hi, uint32_t *out) {
  uint64_t v;
  int rc = get_u64(a, obj, key, lo, hi, &v);
  if (!rc)
    *out = (uint32_t)v;
  return rc;
}

static int get_str(const struct at *a, json_t *obj, const char *key,
                   const char **out) {
  int rc = 0;
  json_t *v = need(a, obj, key, &rc);
  if (!v)
    return rc;
  if (!json_is_string(v))
    return sm_fail(a->err, SM_ETYPE, "%s: %s'%s': expected a string", a->src,
                   a->where, key);
  *out = json_string_value(v);
  return 0;
}

static int get_obj(const struct at *a, json_t *obj, const char *key,
                   json_t **out) {
  int rc = 0;
  json_t *v = need(a, obj, key, &rc);
  if (!v)
    return rc;
  if (!json_is_object(v))
    return sm_fail(a->err, SM_ETYPE, "%s: %s'%s': expected an object", a->src,
                   a->where, key);
  *out = v;
  return 0;
}

/* A range [first, end): two integers, first < end <= hi; `what` names
 * the extent in messages ("layer 2 has 16 channels"). */
static int get_range(const struct at *a, json_t *obj, const char *key,
                     uint32_t hi, const char *what, uint32_t *first,
                     uint32_t *end) {
  int rc = 0;
  json_t *v = need(a, obj, key, &rc);
  if (!v)
    return rc;
  json_t *x = json_array_get(v, 0), *y = json_array_get(v, 1);
  if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(x) ||
      !json_is_integer(y))
    return sm_fail(a->err, SM_ETYPE, "%s: %s'%s': expected [first, end), an "
                   "array of two integers", a->src, a->where, key);
  json_int_t f = json_integer_value(x), e = json_integer_value(y);
  if (f < 0 || f >= e || e > (json_int_t)hi)
    return sm_fail(a->err, SM_ERANGE, "%s: %s'%s' = [%lld, %lld): expected "
                   "0 <= first < end <= %u (%s)", a->src, a->where, key,
                   (long long)f, (long long)e, hi, what);
  *first = (uint32_t)f;
  *end = (uint32_t)e;
  return 0;
}

/* ---- reading: the file ------------------------------------------------------ */

/* What the groups say of themselves beyond what assemble takes. */
struct said {
  uint64_t neurons, sram_bytes;
  uint32_t iy0, iy1, ix0, ix1; /* halo (layers after the input) */
};

static int parse_header(const struct at *a, json_t *root,
                        const struct model *m, const struct shape *s,
                        uint32_t ns, const struct model_map_params *p,
                        uint32_t *w, uint32_t *h,
                        struct model_mapfile_info *info) {
  int rc;
  const char *fmt;
  if ((rc = get_str(a, root, "format", &fmt)))
    return rc;
  if (strcmp(fmt, MODEL_MAPFILE_FORMAT))
    return sm_fail(a->err, SM_EFORMAT, "%s: 'format' = '%s': expected '%s' "
                   "(a mapping file, as spikemesh map --out writes it)",
                   a->src, fmt, MODEL_MAPFILE_FORMAT);
  json_t *ver = json_object_get(root, "version");
  if (!json_is_integer(ver) ||
      json_integer_value(ver) != MODEL_MAPFILE_VERSION)
    return sm_fail(a->err, SM_EVERSION, "%s: 'version': expected %d (this "
                   "build reads mapping files of version %d)", a->src,
                   MODEL_MAPFILE_VERSION, MODEL_MAPFILE_VERSION);
  static const char *const top[] = {"format", "version",   "model",
                                    "layers", "mesh",      "core",
                                    "placement", "cores",  "sram_bytes",
                                    "groups", NULL};
  if ((rc = check_keys(a, root, top)))
    return rc;
  /* the model: names as written, shapes checked */
  json_t *mo, *me, *co;
  const char *name, *arch, *place;
  struct at am = {a->src, "model: ", a->err};
  static const char *const mk[] = {"name", "arch", NULL};
  if ((rc = get_obj(a, root, "model", &mo)) || (rc = check_keys(&am, mo, mk)) ||
      (rc = get_str(&am, mo, "name", &name)) ||
      (rc = get_str(&am, mo, "arch", &arch)))
    return rc;
  json_t *ls = json_object_get(root, "layers");
  if (!ls)
    return sm_fail(a->err, SM_EFORMAT, "%s: missing key 'layers'", a->src);
  if (!json_is_array(ls))
    return sm_fail(a->err, SM_ETYPE, "%s: 'layers': expected an array",
                   a->src);
  if (json_array_size(ls) != ns)
    return sm_fail(a->err, SM_EINVAL, "%s: the file maps %zu layers; model "
                   "%s has %u (input and each dense or conv layer): the "
                   "mapping is of another model", a->src,
                   json_array_size(ls), m->name[0] ? m->name : "(unnamed)",
                   ns);
  for (uint32_t l = 0; l < ns; l++) {
    json_t *lj = json_array_get(ls, l);
    struct at al = {a->src, "", a->err};
    snprintf(al.where, sizeof al.where, "layers[%u]: ", l);
    static const char *const lk[] = {"layer",  "type", "channels", "height",
                                     "width",  "pool", "neurons",  NULL};
    if (!json_is_object(lj))
      return sm_fail(a->err, SM_ETYPE, "%s: %sexpected an object", a->src,
                     al.where);
    const char *type;
    uint32_t idx, c, hh, ww, pool;
    uint64_t nn;
    if ((rc = check_keys(&al, lj, lk)) ||
        (rc = get_u32(&al, lj, "layer", 0, UINT32_MAX, &idx)) ||
        (rc = get_str(&al, lj, "type", &type)) ||
        (rc = get_u32(&al, lj, "channels", 1, UINT32_MAX, &c)) ||
        (rc = get_u32(&al, lj, "height", 1, UINT32_MAX, &hh)) ||
        (rc = get_u32(&al, lj, "width", 1, UINT32_MAX, &ww)) ||
        (rc = get_u32(&al, lj, "pool", 1, UINT32_MAX, &pool)) ||
        (rc = get_u64(&al, lj, "neurons", 1, UINT64_MAX >> 1, &nn)))
      return rc;
    if (idx != l)
      return sm_fail(a->err, SM_EINVAL, "%s: %s'layer' = %u: layers are "
                     "listed in order (expected %u)", a->src, al.where, idx,
                     l);
    if (strcmp(type, s[l].type) || c != s[l].channels ||
        hh != s[l].height || ww != s[l].width || pool != s[l].pool)
      return sm_fail(a->err, SM_EINVAL, "%s: %sthe file maps %s %ux%ux%u "
                     "(pool %u); model %s's layer %u is %s %ux%ux%u (pool "
                     "%u): the mapping is of another model", a->src,
                     al.where, type, c, hh, ww, pool,
                     m->name[0] ? m->name : "(unnamed)", l, s[l].type,
                     s[l].channels, s[l].height, s[l].width, s[l].pool);
    if (nn != (uint64_t)c * hh * ww)
      return sm_fail(a->err, SM_EINVAL, "%s: %s'neurons' = %llu: expected "
                     "channels x height x width = %llu", a->src, al.where,
                     (unsigned long long)nn,
                     (unsigned long long)((uint64_t)c * hh * ww));
  }
  /* the hardware */
  struct at ah = {a->src, "mesh: ", a->err};
  static const char *const mek[] = {"width", "height", NULL};
  if ((rc = get_obj(a, root, "mesh", &me)) ||
      (rc = check_keys(&ah, me, mek)) ||
      (rc = get_u32(&ah, me, "width", 1, MODEL_MAP_MAX_SIDE, w)) ||
      (rc = get_u32(&ah, me, "height", 1, MODEL_MAP_MAX_SIDE, h)))
    return rc;
  if ((p->width || p->height) && (p->width != *w || p->height != *h))
    return sm_fail(a->err, SM_EINVAL, "%s: the file maps onto a %ux%u mesh; "
                   "the mesh asked for is %ux%u (ask for auto, or map again)",
                   a->src, *w, *h, p->width, p->height);
  struct at ac = {a->src, "core: ", a->err};
  static const char *const ck[] = {"neurons_per_core", "sram_bytes",
                                   "weight_bits", NULL};
  uint64_t npc, sram, bits;
  if ((rc = get_obj(a, root, "core", &co)) || (rc = check_keys(&ac, co, ck)) ||
      (rc = get_u64(&ac, co, "neurons_per_core", 1, UINT64_MAX >> 1, &npc)) ||
      (rc = get_u64(&ac, co, "sram_bytes", 0, UINT64_MAX >> 1, &sram)) ||
      (rc = get_u64(&ac, co, "weight_bits", 1, 64, &bits)))
    return rc;
  const struct {
    const char *key;
    uint64_t file, run;
  } hw[] = {{"neurons_per_core", npc, p->neurons_per_core},
            {"sram_bytes", sram, p->sram_bytes},
            {"weight_bits", bits, p->weight_bits}};
  for (size_t i = 0; i < SM_ARRAY_LEN(hw); i++)
    if (hw[i].file != hw[i].run)
      return sm_fail(a->err, SM_EINVAL, "%s: 'core.%s' = %llu: the mapping "
                     "was made for other cores; these have core.%s = %llu "
                     "(set core.%s=%llu, or map again)", a->src, hw[i].key,
                     (unsigned long long)hw[i].file, hw[i].key,
                     (unsigned long long)hw[i].run, hw[i].key,
                     (unsigned long long)hw[i].file);
  if ((rc = get_str(a, root, "placement", &place)))
    return rc;
  if (info) {
    snprintf(info->placement, sizeof info->placement, "%s", place);
    snprintf(info->model_name, sizeof info->model_name, "%s", name);
    snprintf(info->model_arch, sizeof info->model_arch, "%s", arch);
  }
  return 0;
}

static int parse_group(const struct at *a, json_t *gj, uint32_t g,
                       const struct shape *s, uint32_t ns, uint32_t w,
                       uint32_t h, struct model_map_group *G,
                       struct said *said) {
  if (!json_is_object(gj))
    return sm_fail(a->err, SM_ETYPE, "%s: %sexpected an object", a->src,
                   a->where);
  static const char *const gk[] = {
      "index", "layer", "type", "channels", "rows",    "cols", "halo",
      "core",  "node",  "x",    "y",        "neurons", "sram_bytes", NULL};
  int rc;
  uint32_t idx, core, x, y;
  const char *type;
  if ((rc = check_keys(a, gj, gk)) ||
      (rc = get_u32(a, gj, "index", 0, UINT32_MAX, &idx)))
    return rc;
  if (idx != g)
    return sm_fail(a->err, SM_EINVAL, "%s: %s'index' = %u: groups are listed "
                   "in index order (expected %u)", a->src, a->where, idx, g);
  if ((rc = get_u32(a, gj, "layer", 0, ns - 1, &G->layer)) ||
      (rc = get_str(a, gj, "type", &type)))
    return rc;
  const struct shape *L = &s[G->layer];
  if (strcmp(type, L->type))
    return sm_fail(a->err, SM_EINVAL, "%s: %s'type' = '%s': layer %u is "
                   "%s", a->src, a->where, type, G->layer, L->type);
  char cw[48], rw[48], xw[48];
  snprintf(cw, sizeof cw, "layer %u has %u channels", G->layer, L->channels);
  snprintf(rw, sizeof rw, "layer %u has %u rows", G->layer, L->height);
  snprintf(xw, sizeof xw, "layer %u has %u columns", G->layer, L->width);
  if ((rc = get_range(a, gj, "channels", L->channels, cw, &G->c0, &G->c1)) ||
      (rc = get_range(a, gj, "rows", L->height, rw, &G->y0, &G->y1)) ||
      (rc = get_range(a, gj, "cols", L->width, xw, &G->x0, &G->x1)) ||
      (rc = get_u32(a, gj, "core", 0, UINT32_MAX, &core)) ||
      (rc = get_u32(a, gj, "node", 0, UINT32_MAX, &G->node)) ||
      (rc = get_u32(a, gj, "x", 0, w - 1, &x)) ||
      (rc = get_u32(a, gj, "y", 0, h - 1, &y)) ||
      (rc = get_u64(a, gj, "neurons", 1, UINT64_MAX >> 1, &said->neurons)) ||
      (rc = get_u64(a, gj, "sram_bytes", 0, UINT64_MAX >> 1,
                    &said->sram_bytes)))
    return rc;
  if (core != g)
    return sm_fail(a->err, SM_EINVAL, "%s: %s'core' = %u: core g holds group "
                   "g (expected %u)", a->src, a->where, core, g);
  /* the halo: a part of the previous layer's pooled map (checked against
   * the kernel's receptive field after assembly) */
  json_t *hj = json_object_get(gj, "halo");
  if (G->layer == 0 && hj)
    return sm_fail(a->err, SM_EINVAL, "%s: %s'halo': the input layer's "
                   "groups read no layer, so they have no halo", a->src,
                   a->where);
  if (G->layer > 0) {
    if (!hj)
      return sm_fail(a->err, SM_EFORMAT, "%s: %smissing key 'halo'", a->src,
                     a->where);
    if (!json_is_object(hj))
      return sm_fail(a->err, SM_ETYPE, "%s: %s'halo': expected an object "
                     "{\"rows\": [first, end), \"cols\": [first, end)}",
                     a->src, a->where);
    const struct shape *P = &s[G->layer - 1];
    uint32_t ph = P->height / P->pool, pw = P->width / P->pool;
    struct at ah = {a->src, "", a->err};
    snprintf(ah.where, sizeof ah.where, "%shalo: ", a->where);
    static const char *const hk[] = {"rows", "cols", NULL};
    snprintf(rw, sizeof rw, "layer %u's output has %u rows", G->layer - 1, ph);
    snprintf(xw, sizeof xw, "layer %u's output has %u columns", G->layer - 1,
             pw);
    if ((rc = check_keys(&ah, hj, hk)) ||
        (rc = get_range(&ah, hj, "rows", ph, rw, &said->iy0, &said->iy1)) ||
        (rc = get_range(&ah, hj, "cols", pw, xw, &said->ix0, &said->ix1)))
      return rc;
  }
  if (G->node != y * w + x)
    return sm_fail(a->err, SM_EINVAL, "%s: %s'node' = %u, but (x, y) = (%u, "
                   "%u) is node %u of the %ux%u mesh (node = y * %u + x)",
                   a->src, a->where, G->node, x, y, y * w + x, w, h, w);
  return 0;
}

/* Step 4: what the file says against what the mapping is. */
static int check_derived(const struct at *a, json_t *root,
                         const struct model_map *mp, const struct said *said) {
  uint64_t total = 0;
  for (uint32_t g = 0; g < mp->ngroups; g++) {
    const struct model_map_group *G = &mp->groups[g];
    total += G->sram_bytes;
    if (said[g].neurons != G->neurons)
      return sm_fail(a->err, SM_EINVAL, "%s: group %u: 'neurons' = %llu: its "
                     "ranges hold %llu", a->src, g,
                     (unsigned long long)said[g].neurons,
                     (unsigned long long)G->neurons);
    if (said[g].sram_bytes != G->sram_bytes)
      return sm_fail(a->err, SM_EINVAL, "%s: group %u: 'sram_bytes' = %llu: "
                     "its synapses need %llu bytes", a->src, g,
                     (unsigned long long)said[g].sram_bytes,
                     (unsigned long long)G->sram_bytes);
    const struct said *h = &said[g];
    if (G->layer > 0 && (h->iy0 != G->iy0 || h->iy1 != G->iy1 ||
                         h->ix0 != G->ix0 || h->ix1 != G->ix1))
      return sm_fail(a->err, SM_EINVAL, "%s: group %u: 'halo' = rows [%u, "
                     "%u) x cols [%u, %u): its receptive fields read rows "
                     "[%u, %u) x cols [%u, %u) of layer %u's output", a->src,
                     g, h->iy0, h->iy1, h->ix0, h->ix1, G->iy0, G->iy1,
                     G->ix0, G->ix1, G->layer - 1);
  }
  int rc;
  uint64_t cores, sram;
  if ((rc = get_u64(a, root, "cores", 0, UINT64_MAX >> 1, &cores)) ||
      (rc = get_u64(a, root, "sram_bytes", 0, UINT64_MAX >> 1, &sram)))
    return rc;
  if (cores != mp->ngroups)
    return sm_fail(a->err, SM_EINVAL, "%s: 'cores' = %llu: the file lists "
                   "%u groups, one per core", a->src,
                   (unsigned long long)cores, mp->ngroups);
  if (sram != total)
    return sm_fail(a->err, SM_EINVAL, "%s: 'sram_bytes' = %llu: its groups' "
                   "SRAM bytes add up to %llu", a->src,
                   (unsigned long long)sram, (unsigned long long)total);
  return 0;
}

int model_mapfile_parse(const char *text, size_t len, const char *source,
                        const struct model *m,
                        const struct model_map_params *p,
                        struct model_map **out,
                        struct model_mapfile_info *info, struct sm_err *err) {
  *out = NULL;
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return sm_fail(err, SM_EFORMAT, "%s: line %d column %d: %s", source,
                   je.line, je.column, je.text);
  struct at a = {source, "", err};
  struct shape *s = sm_xcalloc(m->nlayers + 1, sizeof *s);
  uint32_t ns = model_shapes(m, s);
  struct model_map_group *groups = NULL;
  struct said *said = NULL;
  uint32_t w = 0, h = 0, n = 0;
  int rc = 0;
  if (!json_is_object(root)) {
    rc = sm_fail(err, SM_ETYPE, "%s: expected a JSON object at the top",
                 source);
    goto out;
  }
  if ((rc = parse_header(&a, root, m, s, ns, p, &w, &h, info)))
    goto out;
  json_t *gs = need(&a, root, "groups", &rc);
  if (!gs)
    goto out;
  if (!json_is_array(gs)) {
    rc = sm_fail(err, SM_ETYPE, "%s: 'groups': expected an array", source);
    goto out;
  }
  size_t ng = json_array_size(gs);
  if (ng > (size_t)MODEL_MAP_MAX_SIDE * MODEL_MAP_MAX_SIDE) {
    rc = sm_fail(err, SM_ELIMIT, "%s: %zu groups: the largest mesh (%dx%d) "
                 "has %d nodes", source, ng, MODEL_MAP_MAX_SIDE,
                 MODEL_MAP_MAX_SIDE, MODEL_MAP_MAX_SIDE * MODEL_MAP_MAX_SIDE);
    goto out;
  }
  n = (uint32_t)ng;
  groups = sm_xcalloc(n ? n : 1, sizeof *groups);
  said = sm_xcalloc(n ? n : 1, sizeof *said);
  for (uint32_t g = 0; g < n && !rc; g++) {
    snprintf(a.where, sizeof a.where, "group %u: ", g);
    rc = parse_group(&a, json_array_get(gs, g), g, s, ns, w, h, &groups[g],
                     &said[g]);
  }
  a.where[0] = '\0';
  if (rc)
    goto out;
  struct model_map_params q = *p;
  q.width = w;
  q.height = h;
  rc = model_map_assemble(m, &q, groups, n, out, err);
  if (rc) {
    sm_err_prefix(err, "%s", source);
    goto out;
  }
  rc = check_derived(&a, root, *out, said);
  if (rc) {
    model_map_free(*out);
    *out = NULL;
  }
out:
  free(s);
  free(groups);
  free(said);
  json_decref(root);
  return rc;
}

int model_mapfile_load(const char *path, const struct model *m,
                       const struct model_map_params *p,
                       struct model_map **out, struct model_mapfile_info *info,
                       struct sm_err *err) {
  *out = NULL;
  size_t len;
  char *text = sm_read_file_max(path, MODEL_MAPFILE_MAX_BYTES, 1, &len, err);
  if (!text)
    return err ? err->code : SM_EIO;
  int rc = model_mapfile_parse(text, len, path, m, p, out, info, err);
  free(text);
  return rc;
}

/*
 * grid.c -- a sweep's grid file: parsed, checked and expanded into points
 * (see run.h; the format is in doc/sweep.md).
 *
 * Parsing checks every key of the file against the same option tables the
 * program uses (a scratch struct run_options takes each value, so the type
 * and range messages are the loader's own) plus the run keys, then expands
 * the grid (last axis fastest) and the explicit points, and builds each
 * point's options: defaults, its preset, the base, the point.  A point's
 * identity (runs.point_key) is the canonical JSON (sorted keys) of its
 * overrides with every run key filled in.
 */
#include "run/run.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing ------------------------------------------------------------ */

static const char *const run_keys[] = {"run.model", "run.data", "run.arch",
                                       "run.mesh", "run.frames"};
#define RUN_KEYS_TEXT "run.model, run.data, run.arch, run.mesh, run.frames"

/* The canonical run key of k (itself or its short name "mesh"), or NULL. */
static const char *run_key(const char *k) {
  for (size_t i = 0; i < SM_ARRAY_LEN(run_keys); i++)
    if (!strcmp(k, run_keys[i]) || !strcmp(k, run_keys[i] + 4))
      return run_keys[i];
  return NULL;
}

/* Check one override: key k (as written) with value v, found at `where`.
 * *canon gets the key's canonical name (the run key, or k itself). */
static int check_override(struct sm_conf *scratch, const char *k,
                          const json_t *v, const char *where,
                          const char **canon, struct sm_err *err) {
  const char *rk = run_key(k);
  if (rk) {
    *canon = rk;
    if (!strcmp(rk, "run.frames")) {
      if (!json_is_integer(v) || json_integer_value(v) < 1)
        return sm_fail(err, SM_ETYPE,
                       "%s: key '%s': expected an integer >= 1 (frames)",
                       where, k);
      return 0;
    }
    if (!json_is_string(v) || !json_string_value(v)[0])
      return sm_fail(err, SM_ETYPE, "%s: key '%s': expected a non-empty string "
                     "(%s)", where, k,
                     !strcmp(rk, "run.model")  ? "a model file"
                     : !strcmp(rk, "run.data") ? "a data set directory"
                     : !strcmp(rk, "run.arch") ? "a preset name or file"
                                               : "\"WxH\" or \"auto\"");
    uint32_t w, h;
    if (!strcmp(rk, "run.mesh") && run_mesh_parse(json_string_value(v), &w, &h))
      return sm_fail(err, SM_EINVAL,
                     "%s: key '%s': '%s': expected \"WxH\" (1..%d) or \"auto\"",
                     where, k, json_string_value(v), MODEL_MAP_MAX_SIDE);
    return 0;
  }
  *canon = k;
  if (json_is_object(v))
    return sm_fail(err, SM_ETYPE,
                   "%s: key '%s': expected a flat dotted key with one value "
                   "(e.g. \"noc.buffer_depth\": 4), not an object",
                   where, k);
  void *base;
  if (sm_conf_find(scratch, k, &base) &&
      run_key_refuse("a sweep point (a run)", run_keys_run, k, where, err))
    return err ? err->code : SM_ENOKEY;
  json_t *one = json_object();
  json_object_set(one, k, (json_t *)v);
  int rc = sm_conf_load_json(scratch, one, where, err);
  json_decref(one);
  if (rc == SM_ENOKEY && err) {
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, "; run keys: " RUN_KEYS_TEXT);
  }
  return rc;
}

/* Add the overrides of object `obj` (checked) to `dst` under canonical
 * names; a key given twice (a run key and its short name) is an error. */
static int add_overrides(struct sm_conf *scratch, json_t *dst, json_t *obj,
                         const char *where, struct sm_err *err) {
  const char *k;
  json_t *v;
  json_t *seen = json_object(); /* canonical key -> spelling */
  int rc = 0;
  json_object_foreach(obj, k, v) {
    const char *canon;
    rc = check_override(scratch, k, v, where, &canon, err);
    if (rc)
      break;
    json_t *first = json_object_get(seen, canon);
    if (first) {
      rc = sm_fail(err, SM_EINVAL, "%s: key '%s' given twice ('%s' and '%s')",
                   where, canon, json_string_value(first), k);
      break;
    }
    json_object_set_new(seen, canon, json_string(k));
    json_object_set(dst, canon, v);
  }
  json_decref(seen);
  return rc;
}

/* A value as label text: strings without quotes. */
static void value_text(const json_t *v, char *buf, size_t len) {
  if (json_is_string(v)) {
    snprintf(buf, len, "%s", json_string_value(v));
    return;
  }
  char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  snprintf(buf, len, "%s", s ? s : "?");
  free(s);
}

static void label_add(char **label, const char *k, const json_t *v) {
  char val[256];
  value_text(v, val, sizeof val);
  size_t old = *label ? strlen(*label) : 0;
  size_t need = old + strlen(k) + strlen(val) + 3;
  *label = sm_xrealloc(*label, need);
  snprintf(*label + old, need - old, "%s%s=%s", old ? " " : "", k, val);
}

static const char *over_str(const json_t *over, const char *k,
                            const char *def) {
  json_t *v = json_object_get(over, k);
  return v ? json_string_value(v) : def;
}

/* The point key: its overrides with every run key filled in.  The mesh is
 * spelled one way whatever the file said (run.mesh, or noc.width and
 * noc.height): run.mesh, "WxH" or "auto". */
static void point_make_key(struct run_sweep_point *p) {
  json_t *k = json_deep_copy(p->over);
  json_object_del(k, "noc.width");
  json_object_del(k, "noc.height");
  json_object_set_new(k, "run.model", json_string(p->model));
  json_object_set_new(k, "run.data", json_string(p->data));
  json_object_set_new(k, "run.arch", json_string(p->arch));
  char mesh[32];
  if (p->mesh_w)
    snprintf(mesh, sizeof mesh, "%ux%u", p->mesh_w, p->mesh_h);
  else
    snprintf(mesh, sizeof mesh, "auto");
  json_object_set_new(k, "run.mesh", json_string(mesh));
  if (p->frames)
    json_object_set_new(k, "run.frames", json_integer((json_int_t)p->frames));
  else
    json_object_set_new(k, "run.frames", json_string("all"));
  free(p->key);
  p->key = json_dumps(k, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(k);
}

/* Resolve the run keys and build the effective options of point i. */
static int point_build(struct run_sweep_point *p, size_t i, const char *source,
                       const struct run_sweep_defaults *d, struct sm_err *err) {
  p->run_id = -1;
  p->st.peak_util = -1;
  p->model = sm_xstrdup(over_str(p->over, "run.model", d->model));
  p->data = sm_xstrdup(over_str(p->over, "run.data", d->data));
  p->arch = sm_xstrdup(over_str(p->over, "run.arch", d->arch));
  const char *mesh = over_str(p->over, "run.mesh", NULL);
  uint32_t mw = 0, mh = 0;
  if (mesh && run_mesh_parse(mesh, &mw, &mh))
    return sm_fail(err, SM_EINVAL, "%s: point %zu: run.mesh '%s': expected "
                   "\"WxH\" or \"auto\"", source, i + 1, mesh);
  json_t *fr = json_object_get(p->over, "run.frames");
  p->frames = fr ? (uint64_t)json_integer_value(fr) : d->frames;
  run_options_init(&p->o, &p->conf);
  char preset[1024];
  int rc = sm_conf_defaults(&p->conf, err);
  if (!rc)
    rc = model_preset_path(p->arch, preset, sizeof preset, err);
  if (!rc)
    rc = sm_conf_load_file(&p->conf, preset, err);
  const char *k;
  json_t *v;
  json_object_foreach(p->over, k, v) {
    if (rc)
      break;
    if (strncmp(k, "run.", 4)) {
      json_t *one = json_object();
      json_object_set(one, k, v);
      rc = sm_conf_load_json(&p->conf, one, source, err);
      json_decref(one);
    }
  }
  /* run.mesh is noc.width and noc.height: both spellings must agree */
  static const char *const sides[2] = {"noc.width", "noc.height"};
  uint64_t *side[2] = {&p->o.noc.width, &p->o.noc.height};
  const uint32_t want[2] = {mw, mh};
  for (int s = 0; s < 2 && mesh && !rc; s++) {
    json_t *v = json_object_get(p->over, sides[s]);
    if (v && (uint64_t)json_integer_value(v) != want[s])
      rc = sm_fail(err, SM_EINVAL, "run.mesh '%s' means %s=%u, but %s=%lld "
                   "is given too: give the mesh once (run.mesh \"WxH\" is "
                   "noc.width=W noc.height=H, \"auto\" both 0)", mesh,
                   sides[s], want[s], sides[s],
                   (long long)json_integer_value(v));
    else
      *side[s] = want[s];
  }
  if (!rc)
    rc = run_options_mesh(&p->o, &p->mesh_w, &p->mesh_h, err);
  if (rc)
    sm_err_prefix(err, "%s: point %zu (%s)", source, i + 1,
                  p->label ? p->label : "base");
  point_make_key(p);
  return rc;
}

static int cmp_key(const void *a, const void *b) {
  const struct run_sweep_point *const *x = a, *const *y = b;
  int c = strcmp((*x)->key, (*y)->key);
  return c ? c : ((*x) < (*y) ? -1 : 1);
}

struct axis {
  const char *key; /* canonical */
  const char *as;  /* as written */
  json_t *vals;
};

/* What parsing a grid file builds. */
struct parse {
  const char *source;
  struct run_options so;
  struct sm_conf scratch; /* takes each value: the loader's own messages */
  json_t *base;           /* the base's overrides, canonical keys */
  json_t *grid, *points;  /* the file's, borrowed */
  struct axis *axes;
  size_t naxes, ngrid, nlist;
  char where[600];
};

/* The top level: base, grid, points, and run keys (part of the base). */
static int parse_top(struct parse *ps, json_t *root, struct sm_err *err) {
  const char *k;
  json_t *v;
  if (!json_is_object(root))
    return sm_fail(err, SM_ETYPE, "%s: expected a JSON object with \"grid\" "
                   "and/or \"points\"", ps->source);
  json_object_foreach(root, k, v) {
    if (!strcmp(k, "grid")) {
      ps->grid = v;
    } else if (!strcmp(k, "points")) {
      ps->points = v;
    } else if (!strcmp(k, "base")) {
      if (!json_is_object(v))
        return sm_fail(err, SM_ETYPE, "%s: \"base\": expected an object of "
                       "key: value overrides", ps->source);
    } else if (!run_key(k)) {
      return sm_fail(err, SM_ENOKEY, "%s: unknown top-level key '%s'; "
                     "expected base, grid, points or a run key (model, data, "
                     "arch, mesh, frames)", ps->source, k);
    }
  }
  json_t *top = json_object();
  json_object_foreach(root, k, v) if (run_key(k)) json_object_set(top, k, v);
  snprintf(ps->where, sizeof ps->where, "%s", ps->source);
  int rc = add_overrides(&ps->scratch, ps->base, top, ps->where, err);
  json_decref(top);
  json_t *b = json_object_get(root, "base");
  if (rc || !b)
    return rc;
  snprintf(ps->where, sizeof ps->where, "%s: base", ps->source);
  json_t *tmp = json_object();
  rc = add_overrides(&ps->scratch, tmp, b, ps->where, err);
  json_object_foreach(tmp, k, v) {
    if (!rc && json_object_get(ps->base, k))
      rc = sm_fail(err, SM_EINVAL, "%s: key '%s' given twice (at the top "
                   "level and in base)", ps->where, k);
  }
  if (!rc)
    json_object_update(ps->base, tmp);
  json_decref(tmp);
  return rc;
}

/* One axis of the grid: key k, values v (each checked). */
static int parse_axis(struct parse *ps, const char *k, json_t *v,
                      struct sm_err *err) {
  if (!json_is_array(v))
    return sm_fail(err, SM_ETYPE, "%s: grid: key '%s': expected a list of "
                   "values, e.g. [2, 4]", ps->source, k);
  if (!json_array_size(v))
    return sm_fail(err, SM_EINVAL, "%s: grid: key '%s': empty list; "
                   "expected at least one value", ps->source, k);
  const char *canon = NULL;
  for (size_t i = 0; i < json_array_size(v); i++) {
    snprintf(ps->where, sizeof ps->where, "%s: grid: value %zu of %zu",
             ps->source, i + 1, json_array_size(v));
    int rc = check_override(&ps->scratch, k, json_array_get(v, i), ps->where,
                            &canon, err);
    if (rc)
      return rc;
  }
  for (size_t a = 0; a < ps->naxes; a++)
    if (!strcmp(ps->axes[a].key, canon))
      return sm_fail(err, SM_EINVAL, "%s: grid: key '%s' given twice "
                     "('%s' and '%s')", ps->source, canon, ps->axes[a].as, k);
  ps->axes[ps->naxes++] = (struct axis){canon, k, v};
  ps->ngrid *= json_array_size(v);
  if (ps->ngrid > RUN_SWEEP_MAX_POINTS)
    return sm_fail(err, SM_ELIMIT, "%s: grid: more than %d points",
                   ps->source, RUN_SWEEP_MAX_POINTS);
  return 0;
}

/* The grid's axes and the list of points: shapes and counts. */
static int parse_shape(struct parse *ps, struct sm_err *err) {
  if (!ps->grid && !ps->points)
    return sm_fail(err, SM_EINVAL, "%s: no \"grid\" and no \"points\": "
                   "expected a grid of values per key, e.g. \"grid\": "
                   "{\"noc.buffer_depth\": [2, 4]}, and/or a list of points",
                   ps->source);
  if (ps->grid) {
    if (!json_is_object(ps->grid) || !json_object_size(ps->grid))
      return sm_fail(err, SM_ETYPE, "%s: \"grid\": expected a non-empty "
                     "object of key: [values], e.g. {\"noc.buffer_depth\": "
                     "[2, 4]}", ps->source);
    ps->axes = sm_xcalloc(json_object_size(ps->grid), sizeof *ps->axes);
    ps->ngrid = 1;
    const char *k;
    json_t *v;
    json_object_foreach(ps->grid, k, v) {
      int rc = parse_axis(ps, k, v, err);
      if (rc)
        return rc;
    }
  }
  if (ps->points) {
    if (!json_is_array(ps->points) || !json_array_size(ps->points))
      return sm_fail(err, SM_ETYPE, "%s: \"points\": expected a non-empty "
                     "list of objects of key: value overrides", ps->source);
    ps->nlist = json_array_size(ps->points);
    for (size_t i = 0; i < ps->nlist; i++)
      if (!json_is_object(json_array_get(ps->points, i)))
        return sm_fail(err, SM_ETYPE, "%s: points[%zu]: expected an object "
                       "of key: value overrides", ps->source, i);
  }
  if (ps->ngrid + ps->nlist > RUN_SWEEP_MAX_POINTS)
    return sm_fail(err, SM_ELIMIT, "%s: more than %d points", ps->source,
                   RUN_SWEEP_MAX_POINTS);
  return 0;
}

/* Point i's overrides and label: a grid point (last axis fastest), or an
 * entry of the list. */
static int expand_point(struct parse *ps, size_t i, struct run_sweep_point *p,
                        struct sm_err *err) {
  p->over = json_deep_copy(ps->base);
  if (i < ps->ngrid) {
    size_t rest = i;
    size_t *idx = sm_xcalloc(ps->naxes ? ps->naxes : 1, sizeof *idx);
    for (size_t a = ps->naxes; a-- > 0;) {
      idx[a] = rest % json_array_size(ps->axes[a].vals);
      rest /= json_array_size(ps->axes[a].vals);
    }
    for (size_t a = 0; a < ps->naxes; a++) {
      json_t *val = json_array_get(ps->axes[a].vals, idx[a]);
      json_object_set(p->over, ps->axes[a].key, val);
      label_add(&p->label, ps->axes[a].key, val);
    }
    free(idx);
    return 0;
  }
  size_t j = i - ps->ngrid;
  json_t *pt = json_array_get(ps->points, j), *tmp = json_object();
  snprintf(ps->where, sizeof ps->where, "%s: points[%zu]", ps->source, j);
  int rc = add_overrides(&ps->scratch, tmp, pt, ps->where, err);
  const char *k;
  json_t *v;
  json_object_foreach(tmp, k, v) {
    json_object_set(p->over, k, v);
    label_add(&p->label, k, v);
  }
  json_decref(tmp);
  return rc;
}

/* The same point twice would be one run written by two workers. */
static int check_unique(const struct run_sweep *s, struct sm_err *err) {
  struct run_sweep_point **order = sm_xmallocarray(s->npoints, sizeof *order);
  for (size_t i = 0; i < s->npoints; i++)
    order[i] = &s->points[i];
  qsort(order, s->npoints, sizeof *order, cmp_key);
  int rc = 0;
  for (size_t i = 1; i < s->npoints && !rc; i++)
    if (!strcmp(order[i - 1]->key, order[i]->key))
      rc = sm_fail(err, SM_EINVAL, "%s: points %zu and %zu are the same point "
                   "(%s)", s->source, (size_t)(order[i - 1] - s->points) + 1,
                   (size_t)(order[i] - s->points) + 1, order[i]->label);
  free(order);
  return rc;
}

int run_sweep_parse(const char *text, size_t len, const char *source,
                    const struct run_sweep_defaults *d, struct run_sweep **out,
                    struct sm_err *err) {
  *out = NULL;
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return sm_fail(err, SM_EFORMAT, "%s:%d:%d: invalid JSON: %s", source,
                   je.line, je.column, je.text);
  struct parse ps = {.source = source, .base = json_object()};
  run_options_init(&ps.so, &ps.scratch);
  struct run_sweep *s = NULL;
  int rc = parse_top(&ps, root, err);
  if (!rc)
    rc = parse_shape(&ps, err);
  if (!rc) {
    s = sm_xcalloc(1, sizeof *s);
    s->source = sm_xstrdup(source);
    s->npoints = ps.ngrid + ps.nlist;
    s->points = sm_xcalloc(s->npoints, sizeof *s->points);
  }
  for (size_t i = 0; !rc && s && i < s->npoints; i++) {
    struct run_sweep_point *p = &s->points[i];
    rc = expand_point(&ps, i, p, err);
    if (!p->label)
      p->label = sm_xstrdup("(base)");
    if (!rc)
      rc = point_build(p, i, source, d, err);
  }
  if (!rc)
    rc = check_unique(s, err);
  free(ps.axes);
  json_decref(ps.base);
  json_decref(root);
  if (rc) {
    run_sweep_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

int run_sweep_load(const char *path, const struct run_sweep_defaults *d,
                   struct run_sweep **out, struct sm_err *err) {
  size_t len;
  char *text = sm_read_file_max(path, SM_READ_FILE_MAX, 1, &len, err);
  if (!text)
    return err && err->code ? err->code : SM_EIO;
  int rc = run_sweep_parse(text, len, path, d, out, err);
  free(text);
  return rc;
}

void run_sweep_free(struct run_sweep *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->npoints; i++) {
    struct run_sweep_point *p = &s->points[i];
    free(p->key);
    free(p->label);
    json_decref(p->over);
    free(p->model);
    free(p->data);
    free(p->arch);
  }
  free(s->points);
  free(s->source);
  free(s);
}

void run_sweep_set_frames(struct run_sweep *s, uint64_t frames) {
  for (size_t i = 0; i < s->npoints; i++) {
    struct run_sweep_point *p = &s->points[i];
    p->frames = frames;
    json_object_del(p->over, "run.frames");
    point_make_key(p);
  }
}


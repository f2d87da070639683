/*
 * sweep.c -- `spikemesh sweep`: grid files, points, parallel runs (see
 * sweep.h; the format is in doc/sweep.md).
 *
 * Parsing checks every key of the file against the same option tables the
 * program uses (a scratch struct run_options takes each value, so the type
 * and range messages are the loader's own) plus the run keys, then expands
 * the grid (last axis fastest) and the explicit points, and builds each
 * point's options: defaults, its preset, the base, the point.  A point's
 * identity (runs.point_key) is the canonical JSON (sorted keys) of its
 * overrides with every run key filled in.
 *
 * Running: the loop thread (a private uv loop) plans every point against
 * the database before anything runs -- complete points are skipped, an
 * unfinished one is resumed (its recorded frames are simulated again
 * without recording, as `spikemesh run --resume` does) -- then keeps at
 * most `jobs` points queued on libuv's thread pool.  A worker builds its
 * own kernel, mesh and cores (run_sim_new) and writes through its own
 * trace_stream into the shared database; the model and data set are loaded
 * once and only read by the workers.  Run rows are created and closed on
 * the loop thread, which owns the database.  A uv timer draws the progress
 * bar; a uv signal handler turns Ctrl-C into a stop flag every worker
 * checks between frames.
 *
 * Cost: the points themselves; the loop thread sleeps between events.
 * Rejected: queueing every point at once (a run row would be opened long
 * before its point starts, and the pool size would decide the parallelism
 * even when it was set before this call); one process per point (the
 * database has one writer per process, and the data set would be loaded
 * once per point).
 */
#include "run/run.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "trainer/train.h"

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

/* The point key: its overrides with every run key filled in. */
static void point_make_key(struct run_sweep_point *p) {
  json_t *k = json_deep_copy(p->over);
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
  const char *mesh = over_str(p->over, "run.mesh", "auto");
  if (run_mesh_parse(mesh, &p->mesh_w, &p->mesh_h))
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

int run_sweep_parse(const char *text, size_t len, const char *source,
                    const struct run_sweep_defaults *d, struct run_sweep **out,
                    struct sm_err *err) {
  *out = NULL;
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return sm_fail(err, SM_EFORMAT, "%s:%d:%d: invalid JSON: %s", source,
                   je.line, je.column, je.text);
  struct run_options so;
  struct sm_conf scratch;
  run_options_init(&so, &scratch);
  json_t *base = json_object(), *grid = NULL, *points = NULL;
  struct axis {
    const char *key; /* canonical */
    const char *as;  /* as written */
    json_t *vals;
  } *axes = NULL;
  size_t naxes = 0, ngrid = 0, nlist = 0;
  struct run_sweep *s = NULL;
  char where[600];
  int rc = 0;
  if (!json_is_object(root)) {
    rc = sm_fail(err, SM_ETYPE, "%s: expected a JSON object with \"grid\" "
                 "and/or \"points\"", source);
    goto out;
  }
  const char *k;
  json_t *v;
  /* top level: base, grid, points, and run keys (part of the base) */
  json_object_foreach(root, k, v) {
    if (!strcmp(k, "grid")) {
      grid = v;
    } else if (!strcmp(k, "points")) {
      points = v;
    } else if (!strcmp(k, "base")) {
      if (!json_is_object(v)) {
        rc = sm_fail(err, SM_ETYPE, "%s: \"base\": expected an object of "
                     "key: value overrides", source);
        goto out;
      }
    } else if (!run_key(k)) {
      rc = sm_fail(err, SM_ENOKEY, "%s: unknown top-level key '%s'; expected "
                   "base, grid, points or a run key (model, data, arch, mesh, "
                   "frames)", source, k);
      goto out;
    }
  }
  json_t *top = json_object();
  json_object_foreach(root, k, v) if (run_key(k)) json_object_set(top, k, v);
  snprintf(where, sizeof where, "%s", source);
  rc = add_overrides(&scratch, base, top, where, err);
  json_decref(top);
  if (rc)
    goto out;
  json_t *b = json_object_get(root, "base");
  if (b) {
    snprintf(where, sizeof where, "%s: base", source);
    json_t *tmp = json_object();
    rc = add_overrides(&scratch, tmp, b, where, err);
    json_object_foreach(tmp, k, v) {
      if (!rc && json_object_get(base, k))
        rc = sm_fail(err, SM_EINVAL, "%s: key '%s' given twice (at the top "
                     "level and in base)", where, k);
    }
    if (!rc)
      json_object_update(base, tmp);
    json_decref(tmp);
    if (rc)
      goto out;
  }
  if (!grid && !points) {
    rc = sm_fail(err, SM_EINVAL, "%s: no \"grid\" and no \"points\": expected "
                 "a grid of values per key, e.g. \"grid\": "
                 "{\"noc.buffer_depth\": [2, 4]}, and/or a list of points",
                 source);
    goto out;
  }
  if (grid) {
    if (!json_is_object(grid) || !json_object_size(grid)) {
      rc = sm_fail(err, SM_ETYPE, "%s: \"grid\": expected a non-empty object "
                   "of key: [values], e.g. {\"noc.buffer_depth\": [2, 4]}",
                   source);
      goto out;
    }
    axes = sm_xcalloc(json_object_size(grid), sizeof *axes);
    ngrid = 1;
    json_object_foreach(grid, k, v) {
      if (!json_is_array(v)) {
        rc = sm_fail(err, SM_ETYPE, "%s: grid: key '%s': expected a list of "
                     "values, e.g. [2, 4]", source, k);
        goto out;
      }
      if (!json_array_size(v)) {
        rc = sm_fail(err, SM_EINVAL, "%s: grid: key '%s': empty list; "
                     "expected at least one value", source, k);
        goto out;
      }
      const char *canon = NULL;
      for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(where, sizeof where, "%s: grid: value %zu of %zu", source,
                 i + 1, json_array_size(v));
        rc = check_override(&scratch, k, json_array_get(v, i), where, &canon,
                            err);
        if (rc)
          goto out;
      }
      for (size_t a = 0; a < naxes; a++)
        if (!strcmp(axes[a].key, canon)) {
          rc = sm_fail(err, SM_EINVAL, "%s: grid: key '%s' given twice "
                       "('%s' and '%s')", source, canon, axes[a].as, k);
          goto out;
        }
      axes[naxes].key = canon;
      axes[naxes].as = k;
      axes[naxes].vals = v;
      naxes++;
      ngrid *= json_array_size(v);
      if (ngrid > RUN_SWEEP_MAX_POINTS) {
        rc = sm_fail(err, SM_ELIMIT, "%s: grid: more than %d points", source,
                     RUN_SWEEP_MAX_POINTS);
        goto out;
      }
    }
  }
  if (points) {
    if (!json_is_array(points) || !json_array_size(points)) {
      rc = sm_fail(err, SM_ETYPE, "%s: \"points\": expected a non-empty list "
                   "of objects of key: value overrides", source);
      goto out;
    }
    nlist = json_array_size(points);
    for (size_t i = 0; i < nlist; i++)
      if (!json_is_object(json_array_get(points, i))) {
        rc = sm_fail(err, SM_ETYPE, "%s: points[%zu]: expected an object of "
                     "key: value overrides", source, i);
        goto out;
      }
  }
  if (ngrid + nlist > RUN_SWEEP_MAX_POINTS) {
    rc = sm_fail(err, SM_ELIMIT, "%s: more than %d points", source,
                 RUN_SWEEP_MAX_POINTS);
    goto out;
  }
  s = sm_xcalloc(1, sizeof *s);
  s->source = sm_xstrdup(source);
  s->npoints = ngrid + nlist;
  s->points = sm_xcalloc(s->npoints, sizeof *s->points);
  for (size_t i = 0; i < s->npoints; i++) {
    struct run_sweep_point *p = &s->points[i];
    p->over = json_deep_copy(base);
    if (i < ngrid) { /* the grid, last axis fastest */
      size_t rest = i;
      size_t *idx = sm_xcalloc(naxes ? naxes : 1, sizeof *idx);
      for (size_t a = naxes; a-- > 0;) {
        idx[a] = rest % json_array_size(axes[a].vals);
        rest /= json_array_size(axes[a].vals);
      }
      for (size_t a = 0; a < naxes; a++) {
        json_t *val = json_array_get(axes[a].vals, idx[a]);
        json_object_set(p->over, axes[a].key, val);
        label_add(&p->label, axes[a].key, val);
      }
      free(idx);
    } else {
      size_t j = i - ngrid;
      json_t *pt = json_array_get(points, j), *tmp = json_object();
      snprintf(where, sizeof where, "%s: points[%zu]", source, j);
      rc = add_overrides(&scratch, tmp, pt, where, err);
      json_object_foreach(tmp, k, v) {
        json_object_set(p->over, k, v);
        label_add(&p->label, k, v);
      }
      json_decref(tmp);
      if (rc)
        goto out;
    }
    if (!p->label)
      p->label = sm_xstrdup("(base)");
    rc = point_build(p, i, source, d, err);
    if (rc)
      goto out;
  }
  /* the same point twice would be one run written by two workers */
  struct run_sweep_point **order = sm_xmallocarray(s->npoints, sizeof *order);
  for (size_t i = 0; i < s->npoints; i++)
    order[i] = &s->points[i];
  qsort(order, s->npoints, sizeof *order, cmp_key);
  for (size_t i = 1; i < s->npoints && !rc; i++)
    if (!strcmp(order[i - 1]->key, order[i]->key))
      rc = sm_fail(err, SM_EINVAL, "%s: points %zu and %zu are the same point "
                   "(%s)", source, (size_t)(order[i - 1] - s->points) + 1,
                   (size_t)(order[i] - s->points) + 1, order[i]->label);
  free(order);
out:
  free(axes);
  json_decref(base);
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
  char *text = sm_read_file(path, &len, err);
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

/* ---- running ------------------------------------------------------------ */

struct shared_model {
  const char *path;
  struct model *m;
  char hash[17];
};
struct shared_data {
  const char *dir;
  struct train_data d;
};

struct sweep_ctx;

struct job {
  uv_work_t req;
  struct sweep_ctx *x;
  struct run_sweep_point *p;
  const struct model *m;
  const char *hash;
  const struct train_data *d;
  size_t n;                /* frames to simulate */
  char *config;            /* the run row's configuration */
  atomic_llong done;       /* frames simulated so far */
  uint64_t t0, t1;         /* ns */
  int rc, interrupted;
  size_t correct;          /* over all n frames (resumed ones included) */
  double e_total;          /* uJ, sum */
};

struct sweep_ctx {
  struct run_sweep *s;
  const struct run_sweep_opts *opt;
  struct trace_db *db;
  struct job *jobs;        /* [npoints] */
  uv_loop_t loop;
  uv_timer_t timer;
  uv_signal_t sig;
  int have_timer, have_sig, finished;
  atomic_int stop_local;
  atomic_int *stop;
  atomic_int active, peak; /* workers simulating now, and the most at once */
  size_t next, running, ndone, nskipped, nwork;
  long long frames_total;  /* frames the points to run simulate */
  long long frames_prior;  /* of those, by points that have finished */
  uint64_t t_start, t_end; /* ns */
  double sum;              /* s, point times */
  int best;                /* point index, -1: none yet */
  int rc;
  struct sm_err err;
};

static void work_cb(uv_work_t *req) {
  struct job *j = req->data;
  struct sweep_ctx *x = j->x;
  struct run_sweep_point *p = j->p;
  j->t0 = sm_now_ns();
  int now = atomic_fetch_add(&x->active, 1) + 1, peak = atomic_load(&x->peak);
  while (now > peak && !atomic_compare_exchange_weak(&x->peak, &peak, now))
    ;
  struct run_sim *r = NULL;
  struct trace_stream *ts = NULL;
  struct run_rec *rec = NULL;
  j->rc = run_sim_new(j->m, &p->o, p->mesh_w, p->mesh_h, &r, &p->err);
  if (!j->rc)
    ts = trace_stream_open(x->db, p->run_id);
  size_t img = (size_t)j->d->c * (size_t)j->d->h * (size_t)j->d->w;
  for (size_t i = 0; !j->rc && i < j->n; i++) {
    if (atomic_load(x->stop)) {
      j->interrupted = 1;
      break;
    }
    /* frames before first_frame were recorded by an earlier invocation */
    if ((int64_t)i == p->first_frame)
      rec = run_rec_new(r, ts, x->opt->detail);
    if (rec)
      run_rec_frame_begin(rec, (int64_t)i);
    struct run_frame f;
    j->rc = run_sim_frame(r, j->d->images + i * img, &f, &p->err);
    if (j->rc)
      break;
    if (rec)
      run_rec_frame_end(rec, &f, j->d->labels[i]);
    j->correct += f.pred == j->d->labels[i];
    j->e_total += f.energy.total_uj;
    atomic_fetch_add(&j->done, 1);
    if (x->opt->frame_hook)
      x->opt->frame_hook(x->opt->hook_ctx, (size_t)(p - x->s->points),
                         (int64_t)i);
  }
  run_rec_free(rec);
  trace_stream_close(ts);
  run_sim_free(r);
  atomic_fetch_sub(&x->active, 1);
  j->t1 = sm_now_ns();
}

static void fmt_secs(double s, char *buf, size_t len) {
  if (s < 0 || !isfinite(s))
    snprintf(buf, len, "?");
  else if (s < 60)
    snprintf(buf, len, "%.0fs", s);
  else if (s < 3600)
    snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
  else
    snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void draw_progress(struct sweep_ctx *x, int final) {
  long long done = x->frames_prior;
  for (size_t i = 0; i < x->s->npoints; i++)
    if (x->s->points[i].state == RUN_SWEEP_PENDING)
      done += atomic_load(&x->jobs[i].done);
  size_t pts = x->ndone + x->nskipped;
  double el = (double)(sm_now_ns() - x->t_start) * 1e-9;
  double eta = done > 0 ? el * (double)(x->frames_total - done) / (double)done
                        : -1;
  int width = 30;
  int fill = x->frames_total > 0
                 ? (int)((double)done / (double)x->frames_total * width)
                 : width;
  if (fill > width)
    fill = width;
  char eb[32], best[160] = "";
  fmt_secs(eta, eb, sizeof eb);
  if (x->best >= 0) {
    struct job *b = &x->jobs[x->best];
    snprintf(best, sizeof best, ", best #%d %.2f%% %.3f uJ", x->best + 1,
             100.0 * (double)b->correct / (double)b->n,
             b->e_total / (double)b->n);
  }
  fprintf(stderr, "\r  [%.*s%*s] %zu/%zu points, %zu running, ETA %s%s\033[K",
          fill, "##############################", width - fill, "", pts,
          x->s->npoints, x->running, eb, best);
  if (final)
    fputc('\n', stderr);
  fflush(stderr);
}

static void on_timer(uv_timer_t *t) { draw_progress(t->data, 0); }

static void on_sigint(uv_signal_t *h, int sig) {
  (void)sig;
  struct sweep_ctx *x = h->data;
  atomic_store(x->stop, 1);
  /* the default action again: a second Ctrl-C aborts */
  uv_signal_stop(h);
  fprintf(stderr, "\nspikemesh sweep: stopping after the current frames "
                  "(Ctrl-C again aborts)\n");
}

static void finish(struct sweep_ctx *x) {
  if (x->finished)
    return;
  x->finished = 1;
  x->t_end = sm_now_ns();
  if (x->have_timer) {
    uv_timer_stop(&x->timer);
    draw_progress(x, 1);
    uv_close((uv_handle_t *)&x->timer, NULL);
  }
  if (x->have_sig)
    uv_close((uv_handle_t *)&x->sig, NULL);
}

static void fail_point(struct sweep_ctx *x, struct run_sweep_point *p) {
  p->state = RUN_SWEEP_FAILED;
  if (!x->rc) {
    x->rc = p->err.code ? p->err.code : SM_EIO;
    x->err = p->err;
  }
}

static void after_cb(uv_work_t *req, int status);

static void dispatch(struct sweep_ctx *x) {
  struct run_sweep *s = x->s;
  while (x->running < x->opt->jobs && x->next < s->npoints &&
         !atomic_load(x->stop)) {
    size_t i = x->next++;
    struct run_sweep_point *p = &s->points[i];
    struct job *j = &x->jobs[i];
    if (p->state != RUN_SWEEP_PENDING)
      continue;
    if (p->run_id < 0) {
      struct trace_run_info info = {.kind = "sweep",
                                    .config_json = j->config,
                                    .model_path = p->model,
                                    .model_hash = j->hash,
                                    .point_key = p->key,
                                    .detail = trace_detail_name(x->opt->detail),
                                    .seed = p->o.sim.seed,
                                    .frames_planned = (int64_t)j->n};
      if (trace_run_begin(x->db, &info, &p->run_id, &p->err)) {
        fail_point(x, p);
        continue;
      }
    }
    if (!x->t_start)
      x->t_start = sm_now_ns();
    j->req.data = j;
    uv_queue_work(&x->loop, &j->req, work_cb, after_cb);
    x->running++;
  }
  if (!x->running)
    finish(x);
}

static void after_cb(uv_work_t *req, int status) {
  (void)status; /* work is never cancelled */
  struct job *j = req->data;
  struct sweep_ctx *x = j->x;
  struct run_sweep_point *p = j->p;
  x->running--;
  p->secs = (double)(j->t1 - j->t0) * 1e-9;
  x->sum += p->secs;
  x->frames_prior += atomic_load(&j->done);
  const char *end = "complete";
  if (j->rc)
    end = "failed";
  else if (j->interrupted)
    end = "interrupted";
  struct sm_err e = {0};
  int rc = trace_run_end(x->db, p->run_id, end, &e);
  if (j->rc) {
    fail_point(x, p);
  } else if (rc) {
    p->err = e;
    fail_point(x, p);
  } else if (j->interrupted) {
    p->state = RUN_SWEEP_INTERRUPTED;
  } else {
    p->state = RUN_SWEEP_DONE;
    x->ndone++;
    /* best so far: accuracy, then energy */
    size_t i = (size_t)(p - x->s->points);
    if (j->n) {
      struct job *b = x->best >= 0 ? &x->jobs[x->best] : NULL;
      double a = (double)j->correct / (double)j->n,
             ab = b ? (double)b->correct / (double)b->n : -1;
      if (!b || a > ab ||
          (a == ab && j->e_total / (double)j->n < b->e_total / (double)b->n))
        x->best = (int)i;
    }
  }
  if (x->opt->out) {
    if (x->have_timer)
      fprintf(stderr, "\r\033[K");
    size_t i = (size_t)(p - x->s->points);
    if (p->state == RUN_SWEEP_DONE)
      fprintf(x->opt->out,
              "point %zu/%zu done in %.2f s (run %lld%s): accuracy %.2f%%, "
              "%.4f uJ/frame  %s\n",
              i + 1, x->s->npoints, p->secs, (long long)p->run_id,
              p->first_frame ? ", resumed" : "",
              j->n ? 100.0 * (double)j->correct / (double)j->n : 0.0,
              j->n ? j->e_total / (double)j->n : 0.0, p->label);
    else
      fprintf(x->opt->out, "point %zu/%zu %s after %lld of %zu frames (run "
              "%lld)%s%s  %s\n",
              i + 1, x->s->npoints, p->state == RUN_SWEEP_FAILED ? "FAILED"
                                                                 : "interrupted",
              (long long)atomic_load(&j->done), j->n, (long long)p->run_id,
              p->state == RUN_SWEEP_FAILED ? ": " : "",
              p->state == RUN_SWEEP_FAILED ? p->err.msg : "", p->label);
    fflush(x->opt->out);
  }
  dispatch(x);
}

/* The run row's configuration: every option plus the run's own inputs,
 * as `spikemesh run` records it. */
static char *point_config(const struct run_sweep_point *p, size_t n) {
  json_t *j = sm_conf_to_json(&p->conf);
  json_object_set_new(j, "run.model", json_string(p->model));
  json_object_set_new(j, "run.data", json_string(p->data));
  json_object_set_new(j, "run.mesh_width", json_integer(p->mesh_w));
  json_object_set_new(j, "run.mesh_height", json_integer(p->mesh_h));
  json_object_set_new(j, "run.frames", json_integer((json_int_t)n));
  char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(j);
  return s;
}

/* Load every model and data set once, check every point's mapping and
 * input shape, and decide what each point needs (skip, resume, new). */
static int plan(struct sweep_ctx *x, struct shared_model *ms, size_t *nm,
                struct shared_data *ds, size_t *nd, struct sm_err *err) {
  struct run_sweep *s = x->s;
  for (size_t i = 0; i < s->npoints; i++) {
    struct run_sweep_point *p = &s->points[i];
    struct job *j = &x->jobs[i];
    j->x = x;
    j->p = p;
    p->state = RUN_SWEEP_PENDING;
    p->run_id = -1;
    p->first_frame = 0;
    size_t a, b;
    for (a = 0; a < *nm && strcmp(ms[a].path, p->model); a++)
      ;
    if (a == *nm) {
      ms[a].path = p->model;
      int rc = model_load(p->model, &ms[a].m, err);
      if (!rc)
        rc = run_file_digest(p->model, ms[a].hash, err);
      if (rc)
        return rc;
      (*nm)++;
    }
    for (b = 0; b < *nd && strcmp(ds[b].dir, p->data); b++)
      ;
    if (b == *nd) {
      ds[b].dir = p->data;
      int rc = train_data_load_dir(p->data, 1, &ds[b].d, err);
      if (rc)
        return rc;
      (*nd)++;
    }
    const struct model *m = ms[a].m;
    const struct train_data *d = &ds[b].d;
    j->m = m;
    j->hash = ms[a].hash;
    j->d = d;
    if ((size_t)d->c * d->h * d->w != (size_t)m->in_c * m->in_h * m->in_w)
      return sm_fail(err, SM_EINVAL, "%s: point %zu (%s): %s takes %dx%dx%d "
                     "inputs, but %s has %dx%dx%d images", s->source, i + 1,
                     p->label, p->model, m->in_c, m->in_h, m->in_w, p->data,
                     d->c, d->h, d->w);
    struct model_map_params mp = {.neurons_per_core = p->o.core.neurons_per_core,
                                  .sram_bytes = p->o.core.sram_bytes,
                                  .weight_bits = p->o.core.weight_bits,
                                  .width = p->mesh_w,
                                  .height = p->mesh_h,
                                  .placement = p->o.map.placement,
                                  .sram_fit = p->o.map.sram_fit};
    struct model_map *map;
    int rc = model_map_build(m, &mp, &map, err);
    if (rc) {
      sm_err_prefix(err, "%s: point %zu (%s)", s->source, i + 1, p->label);
      return rc;
    }
    model_map_free(map);
    j->n = p->frames && p->frames < d->n ? (size_t)p->frames : d->n;
    j->config = point_config(p, j->n);
    struct trace_run_found f;
    int found = trace_run_find(x->db, "sweep", p->key, &f, err);
    if (found < 0)
      return found;
    if (found && strcmp(f.status, "failed")) {
      int same = !strcmp(f.config, j->config) && !strcmp(f.model_hash, j->hash);
      trace_run_found_free(&f);
      if (!same)
        return sm_fail(err, SM_EINVAL, "%s: run %lld holds point %zu (%s) "
                       "with another configuration or model file (defaults, "
                       "preset or model changed?); use another database",
                       trace_db_path(x->db), (long long)f.run_id, i + 1,
                       p->label);
      p->run_id = f.run_id;
      if (!strcmp(f.status, "complete")) {
        p->state = RUN_SWEEP_SKIPPED;
        x->nskipped++;
        continue;
      }
      p->first_frame = f.frames_done;
    } else if (found) {
      trace_run_found_free(&f);
    }
    x->nwork++;
    x->frames_total += (long long)j->n;
  }
  return 0;
}

/* Pareto front over complete points: lower energy, lower latency, higher
 * accuracy; a point is on it when no other is at least as good in all
 * three and better in one. */
static void mark_pareto(struct run_sweep *s) {
  static const int maximize[3] = {0, 0, 1};
  double *pts = sm_xmallocarray(s->npoints, 3 * sizeof *pts);
  size_t *at = sm_xmallocarray(s->npoints, sizeof *at);
  int *on = sm_xmallocarray(s->npoints, sizeof *on);
  size_t n = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    struct run_sweep_point *p = &s->points[i];
    p->pareto = 0;
    if ((p->state != RUN_SWEEP_DONE && p->state != RUN_SWEEP_SKIPPED) ||
        !p->st.frames)
      continue;
    pts[3 * n] = p->st.e_total_uj;
    pts[3 * n + 1] = p->st.latency_us;
    pts[3 * n + 2] = p->st.accuracy;
    at[n++] = i;
  }
  sm_pareto_front(pts, n, 3, maximize, on);
  for (size_t k = 0; k < n; k++)
    s->points[at[k]].pareto = on[k];
  free(pts);
  free(at);
  free(on);
}

int run_sweep_run(struct run_sweep *s, const struct run_sweep_opts *opt,
                  struct sm_err *err) {
  s->wall_s = s->sum_s = 0;
  s->peak_workers = 0;
  if (opt->jobs < 1)
    return sm_fail(err, SM_EINVAL, "sweep: jobs must be >= 1");
  struct sweep_ctx *x = sm_xcalloc(1, sizeof *x);
  x->s = s;
  x->opt = opt;
  x->best = -1;
  atomic_init(&x->stop_local, 0);
  atomic_init(&x->active, 0);
  atomic_init(&x->peak, 0);
  x->stop = opt->stop ? opt->stop : &x->stop_local;
  x->jobs = sm_xcalloc(s->npoints, sizeof *x->jobs);
  for (size_t i = 0; i < s->npoints; i++)
    atomic_init(&x->jobs[i].done, 0);
  struct shared_model *ms = sm_xcalloc(s->npoints, sizeof *ms);
  struct shared_data *ds = sm_xcalloc(s->npoints, sizeof *ds);
  size_t nm = 0, nd = 0;
  int rc = trace_db_open(opt->db, &x->db, err);
  if (!rc)
    rc = plan(x, ms, &nm, ds, &nd, err);
  if (!rc) {
    /* the pool's size is read when it first starts (the first queued work
     * of the process); dispatch() keeps at most jobs points queued anyway */
    char n[16];
    snprintf(n, sizeof n, "%u", opt->jobs);
    setenv("UV_THREADPOOL_SIZE", n, 1);
    uv_loop_init(&x->loop);
    if (opt->progress && x->nwork) {
      uv_timer_init(&x->loop, &x->timer);
      x->timer.data = x;
      uv_timer_start(&x->timer, on_timer, 250, 250);
      x->have_timer = 1;
    }
    if (opt->catch_sigint && x->nwork) {
      uv_signal_init(&x->loop, &x->sig);
      x->sig.data = x;
      uv_signal_start(&x->sig, on_sigint, SIGINT);
      x->have_sig = 1;
    }
    x->t_start = 0;
    dispatch(x);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    uv_loop_close(&x->loop);
    if (x->t_start)
      s->wall_s = (double)(x->t_end - x->t_start) * 1e-9;
    s->sum_s = x->sum;
    s->peak_workers = (unsigned)atomic_load(&x->peak);
    /* every point's figures, from the database */
    struct sm_err e = {0};
    for (size_t i = 0; i < s->npoints; i++)
      if (s->points[i].run_id >= 0 &&
          trace_run_stats(x->db, s->points[i].run_id, &s->points[i].st, &e))
        break;
    mark_pareto(s);
    if (x->rc) {
      rc = x->rc;
      if (err)
        *err = x->err;
    } else if (atomic_load(x->stop)) {
      rc = sm_fail(err, SM_EINTR, "%s: interrupted (run the same command "
                   "again to resume)", opt->db);
    }
  }
  struct sm_err cerr = {0};
  if (x->db && trace_db_close(x->db, &cerr) && !rc) {
    rc = cerr.code;
    if (err)
      *err = cerr;
  }
  for (size_t i = 0; i < nm; i++)
    model_free(ms[i].m);
  for (size_t i = 0; i < nd; i++)
    train_data_free(&ds[i].d);
  for (size_t i = 0; i < s->npoints; i++)
    free(x->jobs[i].config);
  free(ms);
  free(ds);
  free(x->jobs);
  free(x);
  return rc;
}

void run_sweep_print_summary(const struct run_sweep *s, FILE *out) {
  static const char *const state[] = {"pending", "skipped", "done",
                                      "interrupted", "failed"};
  fprintf(out, "\nsummary, means per frame (* = Pareto-optimal: lower "
               "energy, lower latency, higher accuracy):\n");
  fprintf(out, "%4s %5s %-11s %6s %7s %9s %9s %9s %9s %9s %9s %7s %6s %7s  "
               "%s\n",
          "#", "run", "state", "frames", "acc %", "E uJ", "SOP uJ", "hop uJ",
          "stat uJ", "lat us", "hops", "late", "util", "time s", "point");
  size_t npar = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    const struct run_sweep_point *p = &s->points[i];
    const struct trace_run_stats *t = &p->st;
    char util[16] = "-", secs[16] = "-";
    if (t->peak_util >= 0)
      snprintf(util, sizeof util, "%.3f", t->peak_util);
    if (p->state == RUN_SWEEP_DONE || p->state == RUN_SWEEP_INTERRUPTED ||
        p->state == RUN_SWEEP_FAILED)
      snprintf(secs, sizeof secs, "%.2f", p->secs);
    npar += p->pareto;
    if (!t->frames) {
      fprintf(out, "%3zu%c %5lld %-11s %6d %7s %9s %9s %9s %9s %9s %9s %7s "
                   "%6s %7s  %s\n",
              i + 1, ' ', (long long)p->run_id, state[p->state], 0, "-", "-",
              "-", "-", "-", "-", "-", "-", "-", secs, p->label);
      continue;
    }
    fprintf(out, "%3zu%c %5lld %-11s %6lld %7.2f %9.4f %9.4f %9.4f %9.4f "
                 "%9.3f %9.1f %7.2f %6s %7s  %s\n",
            i + 1, p->pareto ? '*' : ' ', (long long)p->run_id, state[p->state],
            (long long)t->frames, 100.0 * t->accuracy, t->e_total_uj,
            t->e_sop_uj, t->e_hop_uj, t->e_static_uj, t->latency_us, t->hops,
            t->late, util, secs, p->label);
  }
  fprintf(out, "\nPareto-optimal points (energy, latency, accuracy): %zu of "
               "%zu\n", npar, s->npoints);
  for (size_t i = 0; i < s->npoints; i++) {
    const struct run_sweep_point *p = &s->points[i];
    if (p->pareto)
      fprintf(out, "  #%zu (run %lld): %.4f uJ/frame, %.3f us, %.2f%%  %s\n",
              i + 1, (long long)p->run_id, p->st.e_total_uj,
              p->st.latency_us, 100.0 * p->st.accuracy, p->label);
  }
}

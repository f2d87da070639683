/*
 * energy.c -- Eq. 12 over the frames of a recorded run (see run.h), for
 * `spikemesh energy frame --db`: every frame's terms recomputed with
 * core_energy_frame() from its recorded counts and latency, with the
 * coefficients the run was recorded with (the energy.* keys of its
 * configuration) or with given ones (a what-if), against the energy the
 * run recorded.  Chip mode charges the cores and the mesh the run used,
 * from its configuration (run.cores, run.mesh_width, run.mesh_height).
 */
#include "run/run.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The coefficients a run was recorded with: the energy.* keys of its
 * configuration (the run row's JSON text, or NULL) into ec. */
static int run_coefficients(const char *config, const char *path, int64_t run,
                            struct core_energy_conf *ec, struct sm_err *err) {
  json_error_t je;
  json_t *cj = config ? json_loads(config, 0, &je) : NULL;
  struct sm_conf c;
  sm_conf_init(&c);
  sm_conf_add(&c, core_energy_conf_opts, core_energy_conf_nopts, ec);
  const char *k;
  json_t *v;
  int bad = !json_is_object(cj);
  json_object_foreach(cj, k, v) {
    if (!strncmp(k, "energy.", 7) && !bad) {
      json_t *one = json_object();
      json_object_set(one, k, v);
      bad = sm_conf_load_json(&c, one, path, err) != 0;
      json_decref(one);
    }
  }
  json_decref(cj);
  if (!bad)
    return 0;
  if (!err->msg[0])
    sm_fail(err, SM_EFORMAT, "%s: run %lld: no readable configuration", path,
            (long long)run);
  return err->code ? err->code : SM_EFORMAT;
}

/* The chip of the run's configuration (run.cores, run.mesh_width,
 * run.mesh_height: recorded with every run since chip mode exists): 1
 * when it names one, else 0. */
static int run_chip(const char *config, struct core_chip *chip) {
  json_error_t je;
  json_t *cj = config ? json_loads(config, 0, &je) : NULL;
  json_t *c = json_object_get(cj, "run.cores"),
         *w = json_object_get(cj, "run.mesh_width"),
         *h = json_object_get(cj, "run.mesh_height");
  int ok = json_is_integer(c) && json_is_integer(w) && json_is_integer(h) &&
           json_integer_value(c) >= 0 && json_integer_value(w) > 0 &&
           json_integer_value(h) > 0 && json_integer_value(c) <= UINT32_MAX &&
           json_integer_value(w) <= NOC_MAX_SIDE &&
           json_integer_value(h) <= NOC_MAX_SIDE;
  if (ok)
    *chip = (struct core_chip){(uint32_t)json_integer_value(c),
                               (uint32_t)(json_integer_value(w) *
                                          json_integer_value(h))};
  json_decref(cj);
  return ok;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void sum_frames(struct run_energy_db *d) {
  size_t n = d->n;
  double *tot = sm_xmallocarray(n, sizeof *tot);
  d->e = sm_xmallocarray(n, sizeof *d->e);
  for (size_t i = 0; i < n; i++) {
    const struct trace_frame_row *f = &d->f[i];
    struct core_energy *e = &d->e[i];
    core_energy_frame(&d->ec, (uint64_t)f->sops, (uint64_t)f->hops,
                      (sim_time_t)f->latency, &d->chip, e);
    tot[i] = e->total_uj;
    d->s_sop += e->sop_uj;
    d->s_hop += e->hop_uj;
    d->s_static += e->static_uj;
    d->s_total += e->total_uj;
    d->rec_total += f->e_total * 1e-6;
    double diff = fabs(e->total_uj - f->e_total * 1e-6);
    if (diff > d->maxdiff)
      d->maxdiff = diff;
  }
  qsort(tot, n, sizeof *tot, cmp_d);
  d->min = tot[0];
  d->p50 = tot[n / 2];
  d->p99 = tot[(size_t)((double)(n - 1) * 0.99)];
  d->max = tot[n - 1];
  free(tot);
  /* Agreement to a part in 10^9 of the total: the recorded terms are the
   * same arithmetic stored as doubles in pJ. */
  d->agree =
      d->maxdiff <= 1e-9 * (fabs(d->s_total) / (double)n + 1e-12) + 1e-12;
}

int run_energy_db(const char *path, int64_t run, int own,
                  const struct core_energy_conf *ec, struct run_energy_db *out,
                  struct sm_err *err) {
  memset(out, 0, sizeof *out);
  out->own = own;
  out->ec = *ec;
  int e = run < 0 ? trace_db_last_run(path, &run, err) : 0;
  if (e)
    return e;
  out->run = run;
  char *config;
  e = trace_db_frames(path, run, &out->f, &out->n, &config, err);
  if (e)
    return e;
  e = trace_db_run_kind(path, run, out->kind, sizeof out->kind, err);
  out->no_sops = !strcmp(out->kind, "replay");
  if (own && !e)
    e = run_coefficients(config, path, run, &out->ec, err);
  out->has_chip = run_chip(config, &out->chip);
  if (!e && out->ec.static_mode == CORE_STATIC_CHIP && !out->has_chip)
    e = sm_fail(err, SM_EFORMAT,
                "%s: run %lld: energy.static_mode=chip needs the cores and "
                "the mesh the run used (run.cores, run.mesh_width, "
                "run.mesh_height in its configuration); this run's "
                "configuration does not hold them (recorded by an older "
                "spikemesh)",
                path, (long long)run);
  free(config);
  if (e) {
    run_energy_db_free(out);
    return e;
  }
  sum_frames(out);
  return 0;
}

void run_energy_db_free(struct run_energy_db *d) {
  if (!d)
    return;
  free(d->f);
  free(d->e);
  d->f = NULL;
  d->e = NULL;
}

/*
 * energy.c -- energy arithmetic.  Per frame, paper Eq. 12:
 *   E_total = E_SOP x SOPs + E_Hop x Hops + E_static.
 *
 * Counts come from the cores (SOPs) and the network (hops); this file only
 * does the arithmetic, with the units spelled out: energies per event are
 * pJ, per-frame energies uJ (1 uJ = 10^6 pJ), static power mW and latency
 * ps, so P x latency = mW x ps = 10^-15 J = 10^-9 uJ.  In chip mode the
 * power is the leakage of the cores in use and of every router of the mesh
 * (core.h), so a bigger mesh or more cores cost energy.
 *
 * Rejected: folding the latency-based static term into the cores (a frame's
 * latency is known only to the assembly that sees the output decision).
 *
 * Also the paper's theoretical comparison, Eq. 11, E = E_static x Latency +
 * E_dynamic x Spikes, over a table of (time steps, spikes) rows (Table 2:
 * models/paper/table2.json, which the caller locates).  The normalization
 * of Eq. 11 that reproduces the paper's Table 2 is per term:
 * E_norm = E_static x L / L_base + E_dynamic x S / S_base (equal to the
 * ratio of Eq. 11 when spikes are counted in units of S_base / L_base, and
 * E_static + E_dynamic = 1 for both architectures).  The plain ratio of
 * Eq. 11 with spikes in millions gives 0.3115 for DTA-TTFS on TrueNorth, not
 * the printed 0.1987.  doc/energy.md has the derivation.
 */
#include "core/core.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct sm_opt core_energy_conf_opts[] = {
    SM_OPT_D(struct core_energy_conf, e_sop_pj, "energy.e_sop_pj", "20", "pJ",
             0, 1.0e9, "energy of one synaptic operation (SRAM read + accumulate)"),
    SM_OPT_D(struct core_energy_conf, e_hop_pj, "energy.e_hop_pj", "100", "pJ",
             0, 1.0e9, "energy of one packet hop between mesh routers"),
    SM_OPT_E(struct core_energy_conf, static_mode, "energy.static_mode",
             "per_frame", CORE_STATIC_CHOICES,
             "static term: a constant per frame, static power x frame "
             "latency, or (chip) per-core and per-router leakage x frame "
             "latency"),
    SM_OPT_D(struct core_energy_conf, e_static_uj, "energy.e_static_uj", "3.52",
             "uJ", 0, 1.0e12, "static energy per frame (static_mode per_frame)"),
    SM_OPT_D(struct core_energy_conf, p_static_mw, "energy.p_static_mw", "0",
             "mW", 0, 1.0e9, "static power of the chip (static_mode power)"),
    SM_OPT_D(struct core_energy_conf, p_core_mw, "energy.p_core_mw", "0", "mW",
             0, 1.0e6,
             "leakage of one core the mapping uses (static_mode chip)"),
    SM_OPT_D(struct core_energy_conf, p_router_mw, "energy.p_router_mw", "0",
             "mW", 0, 1.0e6,
             "leakage of one mesh router, every router of the mesh "
             "(static_mode chip)"),
};
const size_t core_energy_conf_nopts = SM_ARRAY_LEN(core_energy_conf_opts);

double core_chip_static_mw(const struct core_energy_conf *c,
                           const struct core_chip *chip) {
  return (double)chip->cores * c->p_core_mw +
         (double)chip->routers * c->p_router_mw;
}

void core_energy_frame(const struct core_energy_conf *c, uint64_t sops,
                       uint64_t hops, sim_time_t latency_ps,
                       const struct core_chip *chip, struct core_energy *out) {
  out->sop_uj = c->e_sop_pj * (double)sops * 1e-6;
  out->hop_uj = c->e_hop_pj * (double)hops * 1e-6;
  switch (c->static_mode) {
  case CORE_STATIC_POWER:
    out->static_uj = c->p_static_mw * (double)latency_ps * 1e-9;
    break;
  case CORE_STATIC_CHIP:
    assert(chip);
    out->static_uj = core_chip_static_mw(c, chip) * (double)latency_ps * 1e-9;
    break;
  default:
    out->static_uj = c->e_static_uj;
  }
  out->total_uj = out->sop_uj + out->hop_uj + out->static_uj;
}

/* ---- Eq. 11, normalized ------------------------------------------------ */

static int json_num(const json_t *o, const char *key, double *v,
                    const char *path, const char *where, struct sm_err *err) {
  const json_t *x = json_object_get(o, key);
  if (!json_is_number(x))
    return sm_fail(err, SM_EFORMAT, "%s: %s: '%s' must be a number", path,
                   where, key);
  *v = json_number_value(x);
  if (!isfinite(*v) || *v < 0)
    return sm_fail(err, SM_ERANGE, "%s: %s: '%s' must be >= 0", path, where,
                   key);
  return 0;
}

/* The table's architectures, then the extra ones. */
static int theory_archs(const json_t *ja, const char *path,
                        const struct core_theory_arch *extra, size_t nextra,
                        struct core_theory *t, struct sm_err *err) {
  for (size_t i = 0; i < json_array_size(ja); i++) {
    const json_t *a = json_array_get(ja, i);
    const char *name = json_string_value(json_object_get(a, "name"));
    char where[64];
    snprintf(where, sizeof where, "architectures[%zu]", i);
    if (!name || strlen(name) >= sizeof t->arch[0].name)
      return sm_fail(err, SM_EFORMAT, "%s: %s: 'name' must be a short string",
                     path, where);
    struct core_theory_arch *ta = &t->arch[t->narch];
    snprintf(ta->name, sizeof ta->name, "%s", name);
    int rc = json_num(a, "e_static", &ta->es, path, where, err);
    if (!rc)
      rc = json_num(a, "e_dynamic", &ta->ed, path, where, err);
    if (rc)
      return rc;
    t->narch++;
  }
  for (size_t i = 0; i < nextra; i++)
    t->arch[t->narch++] = extra[i];
  return 0;
}

/* One row: its name, (time steps, spikes) and the printed values of the
 * architectures known. */
static int theory_row(const json_t *r, size_t i, const char *path,
                      int printed_spikes, struct core_theory *t,
                      struct sm_err *err) {
  struct core_theory_row *row = &t->rows[i];
  char where[64];
  snprintf(where, sizeof where, "rows[%zu]", i);
  const char *coding = json_string_value(json_object_get(r, "coding"));
  if (!coding || strlen(coding) >= sizeof row->coding)
    return sm_fail(err, SM_EFORMAT, "%s: %s: 'coding' must be a short string",
                   path, where);
  snprintf(row->coding, sizeof row->coding, "%s", coding);
  int rc = json_num(r, "time_steps", &row->steps, path, where, err);
  if (!rc)
    rc = json_num(r, "spikes_1e6", &row->spikes, path, where, err);
  if (!rc && !printed_spikes && json_object_get(r, "spikes_1e6_unrounded"))
    rc = json_num(r, "spikes_1e6_unrounded", &row->spikes, path, where, err);
  if (rc)
    return rc;
  const json_t *pr = json_object_get(r, "printed");
  for (size_t a = 0; a < t->narch; a++) {
    const json_t *v = json_object_get(pr, t->arch[a].name);
    if (json_is_number(v)) {
      row->printed[a] = json_number_value(v);
      row->has_printed[a] = 1;
    }
  }
  return 0;
}

static int theory_parse(const json_t *root, const char *path,
                        const struct core_theory_arch *extra, size_t nextra,
                        const char *baseline, int printed_spikes,
                        struct core_theory *t, struct sm_err *err) {
  const json_t *ja = json_object_get(root, "architectures");
  const json_t *jr = json_object_get(root, "rows");
  if (!json_is_array(ja) || !json_is_array(jr) || json_array_size(jr) == 0 ||
      json_array_size(ja) + nextra > CORE_THEORY_MAX_ARCH)
    return sm_fail(err, SM_EFORMAT,
                   "%s: expected \"architectures\" (an array of at most %zu) "
                   "and \"rows\" (a non-empty array)",
                   path, (size_t)CORE_THEORY_MAX_ARCH - nextra);
  int rc = theory_archs(ja, path, extra, nextra, t, err);
  if (rc)
    return rc;
  if (!baseline)
    baseline = json_string_value(json_object_get(root, "baseline"));
  t->nrows = json_array_size(jr);
  t->rows = sm_xcalloc(t->nrows, sizeof *t->rows);
  t->base = t->nrows;
  for (size_t i = 0; i < t->nrows; i++) {
    rc = theory_row(json_array_get(jr, i), i, path, printed_spikes, t, err);
    if (rc)
      return rc;
    if (baseline && !strcmp(t->rows[i].coding, baseline))
      t->base = i;
  }
  if (t->base == t->nrows)
    return sm_fail(err, SM_EINVAL, "%s: baseline row '%s' not found", path,
                   baseline ? baseline : "(none given)");
  const struct core_theory_row *b = &t->rows[t->base];
  if (b->steps <= 0 || b->spikes <= 0)
    return sm_fail(err, SM_ERANGE,
                   "%s: baseline row '%s' needs time_steps > 0 and "
                   "spikes_1e6 > 0",
                   path, b->coding);
  return 0;
}

int core_theory_load(const char *path, const struct core_theory_arch *extra,
                     size_t nextra, const char *baseline, int printed_spikes,
                     struct core_theory *t, struct sm_err *err) {
  struct sm_err local;
  if (!err)
    err = &local;
  memset(t, 0, sizeof *t);
  if (nextra > CORE_THEORY_MAX_ARCH)
    return sm_fail(err, SM_ELIMIT, "%s: %zu extra architectures: at most %d",
                   path, nextra, CORE_THEORY_MAX_ARCH);
  for (size_t i = 0; i < nextra; i++)
    if (!(extra[i].es >= 0 && extra[i].ed >= 0 && isfinite(extra[i].es) &&
          isfinite(extra[i].ed)))
      return sm_fail(err, SM_ERANGE,
                     "extra architecture '%s': coefficients must be >= 0",
                     extra[i].name);
  size_t len;
  char *text = sm_read_file_max(path, SM_READ_FILE_MAX, 1, &len, err);
  if (!text)
    return err->code;
  json_error_t je;
  json_t *root = json_loadb(text, len, 0, &je);
  free(text);
  if (!root)
    return sm_fail(err, SM_EFORMAT, "%s:%d:%d: invalid JSON: %s", path,
                   je.line, je.column, je.text);
  int rc = theory_parse(root, path, extra, nextra, baseline, printed_spikes, t,
                        err);
  json_decref(root);
  if (rc)
    core_theory_free(t);
  return rc;
}

void core_theory_free(struct core_theory *t) {
  if (!t)
    return;
  free(t->rows);
  memset(t, 0, sizeof *t);
}

double core_theory_eval(const struct core_theory *t, size_t row, size_t arch) {
  const struct core_theory_arch *a = &t->arch[arch];
  const struct core_theory_row *r = &t->rows[row], *b = &t->rows[t->base];
  return a->es * r->steps / b->steps + a->ed * r->spikes / b->spikes;
}

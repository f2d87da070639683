/*
 * options.c -- the program's configuration: every module's table, and the
 * mesh the options ask for.
 *
 * The mesh.  The noc module knows only meshes of a given size: its table
 * holds noc.width and noc.height as 1..NOC_MAX_SIDE routers.  "Auto" -- the
 * smallest square that holds the mapping -- is the assembly's idea, so the
 * two keys are declared here instead, as 0..NOC_MAX_SIDE with 0 x 0
 * meaning auto (the default), in the place the noc table gave them; the
 * rest of the noc table is registered as it is.  Whoever builds a mesh
 * resolves auto first (run_options_mesh): the mapper for a model, a packet
 * trace's own mesh, RUN_MESH_FALLBACK for synthetic traffic; a mesh built
 * from an unresolved 0 is refused by noc_conf_check.
 */
#include "run/run.h"

#include <assert.h>
#include <ctype.h>
#include <string.h>

static const struct sm_opt mesh_opts[] = {
    SM_OPT_U(struct noc_conf, width, "noc.width", "0", "routers", 0,
             NOC_MAX_SIDE,
             "mesh width (x); 0 with noc.height=0: auto, the smallest square "
             "that holds the mapping"),
    SM_OPT_U(struct noc_conf, height, "noc.height", "0", "routers", 0,
             NOC_MAX_SIDE,
             "mesh height (y); 0 with noc.width=0: auto"),
};
#define NOC_MESH_KEYS SM_ARRAY_LEN(mesh_opts)

void run_options_init(struct run_options *o, struct sm_conf *c) {
  memset(o, 0, sizeof *o);
  sm_conf_init(c);
  sm_conf_add(c, sim_conf_opts, sim_conf_nopts, &o->sim);
  sm_conf_add(c, core_conf_opts, core_conf_nopts, &o->core);
  sm_conf_add(c, core_energy_conf_opts, core_energy_conf_nopts, &o->energy);
  sm_conf_add(c, model_map_conf_opts, model_map_conf_nopts, &o->map);
  sm_conf_add(c, model_preset_conf_opts, model_preset_conf_nopts, &o->preset);
  /* the noc table's own mesh keys are its first two (replaced here) */
  assert(noc_conf_nopts > NOC_MESH_KEYS &&
         !strcmp(noc_conf_opts[0].name, mesh_opts[0].name) &&
         !strcmp(noc_conf_opts[1].name, mesh_opts[1].name));
  sm_conf_add(c, mesh_opts, NOC_MESH_KEYS, &o->noc);
  sm_conf_add(c, noc_conf_opts + NOC_MESH_KEYS, noc_conf_nopts - NOC_MESH_KEYS,
              &o->noc);
  sm_conf_add(c, noc_traffic_conf_opts, noc_traffic_conf_nopts, &o->traffic);
  sm_conf_add(c, train_conf_opts, train_conf_nopts, &o->train);
  sm_conf_add(c, model_synth_conf_opts, model_synth_conf_nopts, &o->synth);
}

int run_options_mesh(const struct run_options *o, uint32_t *w, uint32_t *h,
                     struct sm_err *err) {
  *w = *h = 0;
  if (!o->noc.width != !o->noc.height)
    return sm_fail(err, SM_EINVAL,
                   "noc.width=%llu, noc.height=%llu: give both sides (1..%d "
                   "routers), or 0 for both (auto: the smallest square that "
                   "holds the mapping)",
                   (unsigned long long)o->noc.width,
                   (unsigned long long)o->noc.height, NOC_MAX_SIDE);
  *w = (uint32_t)o->noc.width;
  *h = (uint32_t)o->noc.height;
  return 0;
}

int run_options_fixed_mesh(struct run_options *o, struct sm_err *err) {
  uint32_t w, h;
  int e = run_options_mesh(o, &w, &h, err);
  if (!e && !w)
    o->noc.width = o->noc.height = RUN_MESH_FALLBACK;
  return e;
}

/* Digits only, at most 9 of them: *v, and the first character after. */
static const char *side(const char *s, unsigned long *v) {
  *v = 0;
  const char *p = s;
  while (isdigit((unsigned char)*p) && p - s < 9)
    *v = *v * 10 + (unsigned long)(*p++ - '0');
  return p == s || isdigit((unsigned char)*p) ? NULL : p;
}

int run_mesh_parse(const char *s, uint32_t *w, uint32_t *h) {
  if (!strcmp(s, "auto")) {
    *w = *h = 0;
    return 0;
  }
  unsigned long a, b;
  const char *p = side(s, &a);
  if (!p || (*p != 'x' && *p != 'X'))
    return -1;
  p = side(p + 1, &b);
  if (!p || *p || a < 1 || b < 1 || a > MODEL_MAP_MAX_SIDE ||
      b > MODEL_MAP_MAX_SIDE)
    return -1;
  *w = (uint32_t)a;
  *h = (uint32_t)b;
  return 0;
}

/* ---- the keys each command takes ----------------------------------------- */

const char *const run_keys_run[] = {"sim.", "core.", "energy.", "map.",
                                    "preset.", "noc.", NULL};
const char *const run_keys_replay_packets[] = {"sim.", "energy.", "preset.",
                                               "noc.", NULL};
const char *const run_keys_noc[] = {"sim.", "noc.", "traffic.", "preset.",
                                    NULL};
const char *const run_keys_energy[] = {"energy.", "preset.", NULL};
const char *const run_keys_bench_vgg[] = {"sim.", "core.", "energy.", "map.",
                                          "preset.", "noc.", "synth.", NULL};
const char *const run_keys_synth[] = {"synth.", "core.steps_per_window",
                                      "core.fire_round", NULL};
const char *const run_keys_train[] = {"train.", NULL};
const char *const run_keys_map[] = {"core.neurons_per_core", "core.sram_bytes",
                                    "core.weight_bits", "map.", "noc.width",
                                    "noc.height", "preset.", NULL};

int run_key_taken(const char *const *keys, const char *key) {
  if (!keys)
    return 1;
  for (size_t i = 0; keys[i]; i++) {
    size_t n = strlen(keys[i]);
    if (keys[i][n - 1] == '.' ? !strncmp(key, keys[i], n)
                              : !strcmp(key, keys[i]))
      return 1;
  }
  return 0;
}

void run_keys_text(const char *const *keys, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; keys && keys[i] && at + 1 < len; i++) {
    size_t n = strlen(keys[i]);
    int prefix = keys[i][n - 1] == '.';
    int w = snprintf(buf + at, len - at, "%s%s%s", i ? ", " : "", keys[i],
                     prefix ? "*" : "");
    if (w < 0)
      break;
    at += (size_t)w;
  }
}

/* The commands that take the keys of a prefix. */
static const struct {
  const char *prefix, *owner;
} key_owner[] = {{"train.", "train"},
                 {"synth.", "synth and bench vgg"},
                 {"traffic.", "noc and bench noc"},
                 {"map.", "run, replay, sweep, map and bench vgg"},
                 {"core.", "run, replay, sweep and bench vgg (map: the core size, SRAM and weight bits)"},
                 {"noc.", "run, replay, sweep, noc and bench (map: noc.width, noc.height)"},
                 {"energy.", "run, replay, sweep, energy frame and bench vgg"},
                 {"sim.", "run, replay, sweep, noc and bench"}};

int run_key_refuse(const char *cmd, const char *const *keys, const char *key,
                   const char *source, struct sm_err *err) {
  if (run_key_taken(keys, key))
    return 0;
  char taken[256];
  run_keys_text(keys, taken, sizeof taken);
  char owner[160] = "";
  for (size_t i = 0; i < SM_ARRAY_LEN(key_owner) && !owner[0]; i++)
    if (!strncmp(key, key_owner[i].prefix, strlen(key_owner[i].prefix)))
      snprintf(owner, sizeof owner, " (%s* keys are for %s)",
               key_owner[i].prefix, key_owner[i].owner);
  return sm_fail(err, SM_ENOKEY, "%s: key '%s' is not used by %s, which takes "
                 "%s%s", source, key, cmd, taken, owner);
}

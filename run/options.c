/*
 * options.c -- the program's configuration: every module's table.
 */
#include "run/run.h"

#include <ctype.h>
#include <string.h>

void run_options_init(struct run_options *o, struct sm_conf *c) {
  memset(o, 0, sizeof *o);
  sm_conf_init(c);
  sm_conf_add(c, sim_conf_opts, sim_conf_nopts, &o->sim);
  sm_conf_add(c, core_conf_opts, core_conf_nopts, &o->core);
  sm_conf_add(c, core_energy_conf_opts, core_energy_conf_nopts, &o->energy);
  sm_conf_add(c, model_map_conf_opts, model_map_conf_nopts, &o->map);
  sm_conf_add(c, model_preset_conf_opts, model_preset_conf_nopts, &o->preset);
  sm_conf_add(c, noc_conf_opts, noc_conf_nopts, &o->noc);
  sm_conf_add(c, noc_traffic_conf_opts, noc_traffic_conf_nopts, &o->traffic);
  sm_conf_add(c, train_conf_opts, train_conf_nopts, &o->train);
  sm_conf_add(c, model_synth_conf_opts, model_synth_conf_nopts, &o->synth);
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

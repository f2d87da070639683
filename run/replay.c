/*
 * replay.c -- traces for replay: a run's recorded spikes as a spike trace,
 * and spikes turned into packets through a mapping (see run.h).
 */
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

/* Spikes to packets through a mapping (records of the output layer, which
 * sends nothing, are left out). */
int run_trace_to_packets(const struct trace_file *in, const struct model *m,
                         const struct model_map *map,
                         const struct core_conf *cc, struct trace_file *out,
                         struct sm_err *err) {
  trace_file_init(out, TRACE_KIND_PACKET, in->meta);
  for (size_t i = 0; i < in->n; i++) {
    const struct trace_spike *s = &in->spikes[i];
    if (s->layer >= map->nlayers) {
      trace_file_free(out);
      return sm_fail(err, SM_EINVAL,
                     "trace record %zu: layer %u, but the model has %u "
                     "(input included)",
                     i, s->layer, map->nlayers);
    }
    const struct model_map_layer *L = &map->layers[s->layer];
    /* neurons per channel after the fused pooling */
    uint32_t per_ch = L->plane;
    if (L->pool > 1 && L->model_layer >= 0) {
      const struct model_layer *ml = &m->layers[L->model_layer];
      per_ch = (uint32_t)(ml->out_h / L->pool) * (uint32_t)(ml->out_w / L->pool);
    }
    uint32_t ch = per_ch ? s->neuron / per_ch : 0;
    if (ch >= L->channels || s->step > cc->steps_per_window) {
      trace_file_free(out);
      return sm_fail(err, SM_EINVAL,
                     "trace record %zu: layer %u neuron %u step %u is not in "
                     "this model and window",
                     i, s->layer, s->neuron, s->step);
    }
    uint32_t g = L->first_group;
    while (g + 1 < L->first_group + L->ngroups && map->groups[g].c1 <= ch)
      g++;
    uint32_t nd;
    const uint32_t *dst = model_map_dests(map, g, &nd);
    if (!nd)
      continue;
    int64_t slack = (int64_t)(2 * cc->steps_per_window - s->step) *
                    (int64_t)cc->step_ps;
    struct trace_packet q = {.time_ps = s->time_ps,
                             .deadline_ps = s->time_ps + slack,
                             .payload = core_payload(s->layer, s->neuron,
                                                     s->step),
                             .frame = s->frame,
                             .src = map->groups[g].node,
                             .ndst = nd};
    trace_file_add_packet(out, &q, dst);
  }
  return 0;
}


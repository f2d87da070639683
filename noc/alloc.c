/*
 * alloc.c -- the switch allocator registry: the output arbiters of the
 * separable allocator, registered by name (noc.allocator).
 *
 * With one virtual channel per port the input stage of the allocator is
 * trivial (each input's front flit requests its outputs, mesh.c), so an
 * allocator is its output stage: a function that picks one winner among
 * the inputs requesting a free output.  The list of entries is
 * NOC_ALLOCATORS in noc.h; the table below is expanded from it, so an
 * allocator cannot be named without its function nor the option's choices
 * drift from the table.
 */
#include "noc/noc-int.h"

#include <string.h>

/* Round-robin: the first requester at or after the output's pointer wins;
 * the pointer moves past it. */
static uint32_t alloc_rr(struct noc_mesh *m, uint32_t r, struct noc_out *out,
                         uint32_t cand) {
  (void)m;
  (void)r;
  uint32_t i = out->rr;
  while (!(cand & (1u << i)))
    i = i + 1 == NOC_NDIRS ? 0 : i + 1;
  out->rr = (uint8_t)(i + 1 == NOC_NDIRS ? 0 : i + 1);
  return i;
}

/* Oldest first: the front flit of the packet sent earliest (noc_send
 * time) wins; ties go to the lowest input index. */
static uint32_t alloc_oldest(struct noc_mesh *m, uint32_t r,
                             struct noc_out *out, uint32_t cand) {
  (void)out;
  uint32_t best = NOC_NONE;
  sim_time_t bt = SIM_TIME_MAX;
  for (uint32_t i = 0; i < NOC_NDIRS; i++) {
    if (!(cand & (1u << i)))
      continue;
    uint32_t ii = r * NOC_NDIRS + i;
    const struct noc_slot *s =
        &m->slots[(size_t)ii * m->depth + m->in[ii].head];
    sim_time_t ts = m->pk[s->pkt].t_send;
    if (ts < bt) {
      bt = ts;
      best = i;
    }
  }
  return best;
}

/* Fixed priority: the lowest input index (N < E < S < W < L) wins; it can
 * starve the others, kept as a contrast. */
static uint32_t alloc_fixed(struct noc_mesh *m, uint32_t r,
                            struct noc_out *out, uint32_t cand) {
  (void)m;
  (void)r;
  (void)out;
  return (uint32_t)__builtin_ctz(cand);
}

static const struct noc_allocator allocators[] = {
#define ENTRY(id, name, fn, summary) [NOC_ALLOC_##id] = {name, fn, summary},
    NOC_ALLOCATORS(ENTRY, )
#undef ENTRY
};

size_t noc_allocator_count(void) { return SM_ARRAY_LEN(allocators); }

const struct noc_allocator *noc_allocator_get(int index) {
  if (index < 0 || (size_t)index >= SM_ARRAY_LEN(allocators))
    return NULL;
  return &allocators[index];
}

const struct noc_allocator *noc_allocator_find(const char *name) {
  for (size_t i = 0; i < SM_ARRAY_LEN(allocators); i++)
    if (!strcmp(allocators[i].name, name))
      return &allocators[i];
  return NULL;
}

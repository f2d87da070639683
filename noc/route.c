/*
 * route.c -- the routing registry: pure dimension-order routing functions,
 * registered by name, and the destination order that makes tree multicast
 * cheap.
 *
 * A routing function maps (mesh size, current node, destination) to an
 * output direction and keeps no state, so a router computes a route with
 * one indirect call and tests can check it against hand-written paths.
 * Only deterministic minimal routes are registered: dimension order (XY,
 * YX) is deadlock-free on a mesh without virtual channels, which this
 * router does not model.  Adaptive routing was rejected for that reason.
 */
#include "noc/noc-int.h"

#include <stdlib.h>
#include <string.h>

static enum noc_dir route_xy(uint32_t w, uint32_t h, uint32_t cur,
                             uint32_t dst) {
  (void)h;
  uint32_t cx = cur % w, cy = cur / w, dx = dst % w, dy = dst / w;
  if (dx > cx)
    return NOC_E;
  if (dx < cx)
    return NOC_W;
  if (dy > cy)
    return NOC_S;
  if (dy < cy)
    return NOC_N;
  return NOC_LOCAL;
}

static enum noc_dir route_yx(uint32_t w, uint32_t h, uint32_t cur,
                             uint32_t dst) {
  (void)h;
  uint32_t cx = cur % w, cy = cur / w, dx = dst % w, dy = dst / w;
  if (dy > cy)
    return NOC_S;
  if (dy < cy)
    return NOC_N;
  if (dx > cx)
    return NOC_E;
  if (dx < cx)
    return NOC_W;
  return NOC_LOCAL;
}

/* Order = NOC_ROUTING_CHOICES. */
static const struct noc_routing routings[] = {
    {"xy", route_xy, 1, "dimension order: X first, then Y"},
    {"yx", route_yx, 0, "dimension order: Y first, then X"},
};

size_t noc_routing_count(void) { return SM_ARRAY_LEN(routings); }

const struct noc_routing *noc_routing_get(int index) {
  if (index < 0 || (size_t)index >= SM_ARRAY_LEN(routings))
    return NULL;
  return &routings[index];
}

const struct noc_routing *noc_routing_find(const char *name) {
  for (size_t i = 0; i < SM_ARRAY_LEN(routings); i++)
    if (!strcmp(routings[i].name, name))
      return &routings[i];
  return NULL;
}

const char *noc_dir_name(enum noc_dir d) {
  static const char *names[] = {"N", "E", "S", "W", "L"};
  return (unsigned)d < NOC_NDIRS ? names[d] : "?";
}

uint32_t noc_distance(const struct noc_mesh *m, uint32_t a, uint32_t b) {
  uint32_t ax = a % m->w, ay = a / m->w, bx = b % m->w, by = b / m->w;
  return (ax > bx ? ax - bx : bx - ax) + (ay > by ? ay - by : by - ay);
}

uint64_t noc_route_links(const struct noc_mesh *m, uint32_t src,
                         const uint32_t *dst, uint32_t n) {
  /* marks on the stack for small meshes, else on the heap: directed links
   * (tree) or destination nodes (unicast: a destination given twice gets
   * one copy) */
  uint8_t small[1024];
  size_t nb = ((size_t)m->n * 4 + 7) / 8;
  uint8_t *seen = nb <= sizeof small ? small : sm_xcalloc(nb, 1);
  if (seen == small)
    memset(small, 0, nb);
  uint64_t links = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (m->c.multicast != NOC_TREE) {
      size_t bit = dst[i];
      if (!(seen[bit / 8] & (1u << (bit % 8)))) {
        seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
        links += noc_distance(m, src, dst[i]);
      }
      continue;
    }
    /* the tree: the union of the routes, each directed link once */
    for (uint32_t cur = src; cur != dst[i];) {
      enum noc_dir d = m->route(m->w, m->h, cur, dst[i]);
      size_t bit = (size_t)cur * 4 + (size_t)d;
      if (!(seen[bit / 8] & (1u << (bit % 8)))) {
        seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
        links++;
      }
      cur = d == NOC_N ? cur - m->w : d == NOC_S ? cur + m->w
          : d == NOC_E ? cur + 1 : cur - 1;
    }
  }
  if (seen != small)
    free(seen);
  return links;
}

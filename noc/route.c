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

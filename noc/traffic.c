/*
 * traffic.c -- synthetic traffic: patterns, Bernoulli injection, and the
 * warm-up / measurement / drain methodology of NoC studies.
 *
 * Each injecting node generates a packet in a cycle with probability
 * rate / packet_flits (a Bernoulli process, so the offered load is `rate`
 * flits/node/cycle).  Instead of one coin flip per node per cycle, the gap
 * to the next success is drawn from the geometric distribution: one RNG draw
 * and one event per packet, the same process.  Packets generated inside the
 * measurement window are tagged (payload bit 63); their latency (send to
 * delivery, source queueing included) is the reported latency, and the
 * drain phase keeps injecting until they have all arrived, so they see the
 * same load as the window.  Accepted throughput counts flits ejected inside
 * the window.  Saturation shows as accepted < offered, as source queues
 * that grow through the window (the backlog of a few throttled sources
 * hardly moves the average accepted rate, e.g. under transpose), or as
 * measured packets that do not arrive within the drain.  Finally injection
 * stops and the network must empty: every
 * generated flit delivered once (conservation), or the run reports it.
 *
 * The mesh is created without a deliver callback: deliveries are observed
 * through the packet observer, stamped with their ejection time, which
 * saves the DELIVER event per packet.
 */
#include "noc/noc-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct sm_opt noc_traffic_conf_opts[] = {
    SM_OPT_E(struct noc_traffic_conf, pattern, "traffic.pattern", "uniform",
             NOC_PATTERN_CHOICES, "destination pattern of synthetic traffic"),
    SM_OPT_S(struct noc_traffic_conf, rates, "traffic.rates", "0.1",
             "offered loads in flits/node/cycle: a value, a list a,b,c or "
             "lo:hi:step"),
    SM_OPT_U(struct noc_traffic_conf, packet_flits, "traffic.packet_flits",
             "1", "flits", 1, 1024, "flits per packet (wormhole if > 1)"),
    SM_OPT_U(struct noc_traffic_conf, warmup, "traffic.warmup", "1000",
             "cycles", 0, 1e9, "warm-up phase, not measured"),
    SM_OPT_U(struct noc_traffic_conf, measure, "traffic.measure", "10000",
             "cycles", 1, 1e9, "measurement window"),
    SM_OPT_U(struct noc_traffic_conf, drain, "traffic.drain", "10000",
             "cycles", 0, 1e9,
             "longest wait for the measured packets after the window"),
    SM_OPT_U(struct noc_traffic_conf, hotspot_node, "traffic.hotspot_node",
             "0", "node", 0, NOC_MAX_SIDE * NOC_MAX_SIDE - 1,
             "destination of the hotspot fraction"),
    SM_OPT_D(struct noc_traffic_conf, hotspot_fraction,
             "traffic.hotspot_fraction", "0.2", "", 0, 1,
             "fraction of hotspot packets sent to the hotspot node"),
    SM_OPT_E(struct noc_traffic_conf, schedule, "traffic.schedule", "merged",
             NOC_SCHED_CHOICES,
             "allocation schedule, same results: merged events (sparse "
             "traffic), one event per router, or every router every cycle "
             "(dense clocked traffic)"),
};
const size_t noc_traffic_conf_nopts = SM_ARRAY_LEN(noc_traffic_conf_opts);

#define RATE_MAX 1.0 /* flits/node/cycle: one injection link */

int noc_traffic_parse_rates(const char *text, double *rates, size_t max,
                            size_t *n, struct sm_err *err) {
  *n = 0;
  char *s = sm_xstrdup(text), *save = NULL;
  int rc = 0;
  if (strchr(s, ':')) {
    double v[3];
    int k = 0;
    for (char *t = strtok_r(s, ":", &save); t; t = strtok_r(NULL, ":", &save))
      if (k == 3 || sm_parse_double(t, &v[k++])) {
        k = -1;
        break;
      }
    if (k != 3 || v[0] <= 0 || v[1] < v[0] || v[2] <= 0) {
      rc = sm_fail(err, SM_EINVAL,
                   "traffic.rates: '%s': expected lo:hi:step with "
                   "0 < lo <= hi and step > 0",
                   text);
      goto out;
    }
    for (int i = 0;; i++) {
      double r = v[0] + i * v[2];
      if (r > v[1] + 1e-9)
        break;
      if (*n == max) {
        rc = sm_fail(err, SM_ELIMIT, "traffic.rates: '%s': more than %zu "
                     "values", text, max);
        goto out;
      }
      rates[(*n)++] = r;
    }
  } else {
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      double r;
      if (sm_parse_double(t, &r)) {
        rc = sm_fail(err, SM_EINVAL, "traffic.rates: '%s' is not a number",
                     t);
        goto out;
      }
      if (*n == max) {
        rc = sm_fail(err, SM_ELIMIT, "traffic.rates: more than %zu values",
                     max);
        goto out;
      }
      rates[(*n)++] = r;
    }
  }
  if (!*n) {
    rc = sm_fail(err, SM_EINVAL, "traffic.rates: empty list");
    goto out;
  }
  for (size_t i = 0; i < *n; i++)
    if (!(rates[i] > 0 && rates[i] <= RATE_MAX)) {
      rc = sm_fail(err, SM_ERANGE,
                   "traffic.rates: %g is outside (0, %g] flits/node/cycle",
                   rates[i], RATE_MAX);
      goto out;
    }
out:
  free(s);
  return rc;
}

int noc_traffic_check(const struct noc_conf *nc,
                      const struct noc_traffic_conf *tc, struct sm_err *err) {
  int rc = noc_conf_check(nc, err);
  if (rc)
    return rc;
  if (tc->packet_flits < 1 || tc->packet_flits > 1024)
    return sm_fail(err, SM_ERANGE,
                   "traffic.packet_flits: expected 1..1024 flits");
  if (tc->pattern < 0 || tc->pattern > NOC_NEIGHBOR)
    return sm_fail(err, SM_EINVAL, "traffic.pattern: expected one of %s",
                   NOC_PATTERN_CHOICES);
  if (tc->pattern == NOC_TRANSPOSE && nc->width != nc->height)
    return sm_fail(err, SM_EINVAL,
                   "traffic.pattern: transpose needs a square mesh "
                   "(noc.width = noc.height), got %llux%llu",
                   (unsigned long long)nc->width,
                   (unsigned long long)nc->height);
  if (tc->pattern == NOC_HOTSPOT &&
      tc->hotspot_node >= nc->width * nc->height)
    return sm_fail(err, SM_ERANGE,
                   "traffic.hotspot_node: expected 0..%llu, got %llu",
                   (unsigned long long)(nc->width * nc->height - 1),
                   (unsigned long long)tc->hotspot_node);
  if (!(tc->hotspot_fraction >= 0 && tc->hotspot_fraction <= 1))
    return sm_fail(err, SM_ERANGE, "traffic.hotspot_fraction: expected 0..1");
  if (tc->measure < 1)
    return sm_fail(err, SM_ERANGE, "traffic.measure: expected >= 1 cycle");
  if (tc->schedule < 0 || tc->schedule > NOC_SCHED_PER_CYCLE)
    return sm_fail(err, SM_EINVAL, "traffic.schedule: expected one of %s",
                   NOC_SCHED_CHOICES);
  if (tc->schedule == NOC_SCHED_PER_CYCLE && nc->timing != NOC_CLOCKED)
    return sm_fail(err, SM_EINVAL,
                   "traffic.schedule: 'cycle' needs noc.timing=clocked");
  return 0;
}

#define MEASURED (1ull << 63)

struct gen {
  struct noc_mesh *m;
  struct sim_kernel *k;
  const struct noc_conf *nc;
  const struct noc_traffic_conf *tc;
  uint32_t w, h, n, flits;
  uint16_t kind;
  double p;   /* packet probability per node per cycle */
  double lq;  /* log(1 - p) */
  struct sim_rng *rng;
  uint8_t *active;
  sim_time_t cyc, w0, w1; /* ps: cycle, measurement window [w0, w1) */
  sim_time_t t_stop;      /* ps: injection ends by then at the latest */
  int injecting;
  uint64_t gen_flits, win_flits, measured, meas_deliv, ej_win_flits,
      deliv_flits;
  struct noc_hist *hist;
  uint64_t lat_sum, lat_max, zl_sum, hops_sum; /* ps, ps, ps, links */
  uint64_t digest;
};

/* Cycles to the next success of a Bernoulli(p) process, >= 1. */
static uint64_t geometric(struct gen *g, struct sim_rng *r) {
  if (g->p >= 1.0)
    return 1;
  double u = 1.0 - sim_rng_uniform(r); /* (0, 1] */
  double k = floor(log(u) / g->lq);
  return k > 1e15 ? (uint64_t)1e15 : (uint64_t)k + 1;
}

/* The next packet of node src, gap cycles after now (none past t_stop, which
 * also keeps a tiny rate's huge gaps from overflowing time). */
static void schedule_gen(struct gen *g, uint32_t src, sim_time_t now,
                         uint64_t gap) {
  if (now > g->t_stop || gap > (g->t_stop - now) / g->cyc)
    return;
  sim_schedule(g->k, now + gap * g->cyc, g->kind, src, 0, 0, NULL);
}

static uint32_t uniform_other(struct gen *g, struct sim_rng *r, uint32_t src) {
  uint32_t d = (uint32_t)sim_rng_below(r, g->n - 1);
  return d >= src ? d + 1 : d;
}

static uint32_t partner(const struct gen *g, uint32_t src) {
  uint32_t x = src % g->w, y = src / g->w;
  switch (g->tc->pattern) {
  case NOC_TRANSPOSE:
    return x * g->w + y;
  case NOC_BITCOMP:
    return (g->h - 1 - y) * g->w + (g->w - 1 - x);
  default:
    return src;
  }
}

static uint32_t pick(struct gen *g, struct sim_rng *r, uint32_t src) {
  switch (g->tc->pattern) {
  case NOC_TRANSPOSE:
  case NOC_BITCOMP:
    return partner(g, src);
  case NOC_HOTSPOT:
    if (src != g->tc->hotspot_node &&
        sim_rng_uniform(r) < g->tc->hotspot_fraction)
      return (uint32_t)g->tc->hotspot_node;
    return uniform_other(g, r, src);
  case NOC_NEIGHBOR: {
    uint32_t x = src % g->w, y = src / g->w, nb[4], k = 0;
    if (y > 0)
      nb[k++] = src - g->w;
    if (x + 1 < g->w)
      nb[k++] = src + 1;
    if (y + 1 < g->h)
      nb[k++] = src + g->w;
    if (x > 0)
      nb[k++] = src - 1;
    return nb[sim_rng_below(r, k)];
  }
  default:
    return uniform_other(g, r, src);
  }
}

static void on_gen(struct sim_kernel *k, const struct sim_event *ev,
                   void *ctx) {
  struct gen *g = ctx;
  if (!g->injecting)
    return;
  uint32_t src = ev->target;
  struct sim_rng *r = &g->rng[src];
  uint32_t dst = pick(g, r, src);
  sim_time_t now = sim_now(k);
  uint64_t payload = 0;
  g->gen_flits += g->flits;
  if (now >= g->w0 && now < g->w1) {
    payload = MEASURED;
    g->measured++;
    g->win_flits += g->flits;
  }
  int rc = noc_send(g->m, src, &dst, 1, g->flits, payload);
  (void)rc;
  schedule_gen(g, src, now, geometric(g, r));
}

static void on_packet(void *ctx, const struct noc_packet_record *r) {
  struct gen *g = ctx;
  g->deliv_flits += r->flits;
  if (r->t_eject >= g->w0 && r->t_eject < g->w1)
    g->ej_win_flits += r->flits;
  if (r->payload & MEASURED) {
    uint64_t lat = r->t_eject - r->t_send;
    g->meas_deliv++;
    noc__hist_add(g->hist, lat);
    g->lat_sum += lat;
    if (lat > g->lat_max)
      g->lat_max = lat;
    g->zl_sum += noc_zero_load_ps(g->nc, r->hops, r->flits);
    g->hops_sum += r->hops;
  }
  /* A sum of mixed per-delivery words: the digest names the multiset of
   * deliveries, independent of the order in which routers due at the same
   * time happen to run. */
  uint64_t x = ((uint64_t)r->src << 40) ^ ((uint64_t)r->dst << 20) ^ r->hops ^
               (r->t_eject * 0x9e3779b97f4a7c15ull);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  g->digest += x ^ (x >> 31);
}

int noc_traffic_run(const struct noc_conf *nc,
                    const struct noc_traffic_conf *tc, double rate,
                    enum sim_queue_kind queue, uint64_t seed,
                    enum noc_sched sched, struct noc_traffic_result *out,
                    struct sm_err *err) {
  memset(out, 0, sizeof *out);
  int rc = noc_conf_check(nc, err);
  if (rc)
    return rc;
  if (!(rate > 0 && rate <= RATE_MAX))
    return sm_fail(err, SM_ERANGE,
                   "traffic.rates: %g is outside (0, %g] flits/node/cycle",
                   rate, RATE_MAX);
  rc = noc_traffic_check(nc, tc, err);
  if (rc)
    return rc;

  struct gen g;
  memset(&g, 0, sizeof g);
  g.k = sim_kernel_new(queue, seed);
  rc = noc_mesh_new(g.k, nc, 0, NULL, NULL, &g.m, err);
  if (rc) {
    sim_kernel_free(g.k);
    return rc;
  }
  rc = noc_set_sched(g.m, sched);
  if (rc) {
    noc_mesh_free(g.m);
    sim_kernel_free(g.k);
    return sm_fail(err, rc, "noc: per-cycle scheduling needs "
                            "noc.timing=clocked");
  }
  g.nc = nc;
  g.tc = tc;
  g.w = (uint32_t)nc->width;
  g.h = (uint32_t)nc->height;
  g.n = g.w * g.h;
  g.flits = (uint32_t)tc->packet_flits;
  g.kind = NOC_NKINDS;
  g.p = rate / (double)tc->packet_flits;
  g.lq = g.p < 1.0 ? log1p(-g.p) : 0;
  g.cyc = nc->clock_ps;
  g.w0 = tc->warmup * g.cyc;
  g.w1 = g.w0 + tc->measure * g.cyc;
  g.t_stop = g.w1 + tc->drain * g.cyc;
  g.injecting = 1;
  g.hist = sm_xcalloc(1, sizeof *g.hist);
  g.rng = sm_xmallocarray(g.n, sizeof *g.rng);
  g.active = sm_xcalloc(g.n, 1);
  g.digest = 0xcbf29ce484222325ull;
  noc_set_observer(g.m, on_packet, &g);
  sim_register(g.k, g.kind, on_gen, &g);
  for (uint32_t i = 0; i < g.n; i++) {
    sim_rng_init(&g.rng[i], seed, 0x6e6f6300ull + i);
    int act = g.n > 1;
    if (tc->pattern == NOC_TRANSPOSE || tc->pattern == NOC_BITCOMP)
      act = partner(&g, i) != i;
    g.active[i] = (uint8_t)act;
    if (act) {
      out->active++;
      schedule_gen(&g, i, 0, geometric(&g, &g.rng[i]) - 1);
    }
  }
  uint64_t t_start = sm_now_ns();
  clock_t c_start = clock();
  if (g.w0 > 0)
    sim_run(g.k, g.w0 - 1, 0);
  noc_reset_stats(g.m);
  int64_t q0 = (int64_t)noc_queued(g.m);
  sim_run(g.k, g.w1 - 1, 0);
  out->backlog_growth = (int64_t)noc_queued(g.m) - q0;
  for (int d = 0; d < NOC_NDIRS; d++) {
    struct noc_dir_stats ds;
    noc_dir_stats(g.m, (enum noc_dir)d, &ds);
    out->dir_flits[d] = ds.flits_out;
    out->dir_max_util[d] = ds.max_utilization;
    out->dir_blocked[d] = ds.flits_in ? (double)ds.blocked_ps /
                                            (double)ds.flits_in /
                                            (double)g.cyc
                                      : 0.0;
    if (ds.max_utilization > out->max_link_util)
      out->max_link_util = ds.max_utilization;
  }
  sim_time_t t_end = g.w1 + tc->drain * g.cyc;
  while (g.meas_deliv < g.measured && sim_now(g.k) < t_end)
    sim_run(g.k, SM_MIN(t_end, sim_now(g.k) + 100 * g.cyc), 0);
  out->drained = g.meas_deliv == g.measured;
  g.injecting = 0;
  sim_run(g.k, SIM_TIME_MAX, 0);
  out->wall_s = (double)(sm_now_ns() - t_start) * 1e-9;
  out->cpu_s = (double)(clock() - c_start) / CLOCKS_PER_SEC;
  out->idle = noc_idle(g.m);

  double win = (double)tc->measure * (out->active ? out->active : 1);
  out->rate = rate;
  out->offered = (double)g.win_flits / win;
  out->accepted = (double)g.ej_win_flits / win;
  out->measured = g.measured;
  out->measured_delivered = g.meas_deliv;
  double cyc = (double)g.cyc;
  if (g.meas_deliv) {
    double n = (double)g.meas_deliv;
    out->lat_mean = (double)g.lat_sum / n / cyc;
    out->lat_p50 = (double)noc__hist_pct(g.hist, 0.5) / cyc;
    out->lat_p99 = (double)noc__hist_pct(g.hist, 0.99) / cyc;
    out->lat_max = (double)g.lat_max / cyc;
    out->zero_load_mean = (double)g.zl_sum / n / cyc;
    out->hops_mean = (double)g.hops_sum / n;
  }
  out->gen_flits = g.gen_flits;
  out->deliv_flits = g.deliv_flits;
  double grow_max = SM_MAX(0.005 * (double)g.measured, 2.0 * out->active);
  out->saturated = !out->drained || out->accepted < 0.95 * out->offered ||
                   (double)out->backlog_growth > grow_max;
  out->cycles = sim_now(g.k) / g.cyc;
  out->events = sim_stats(g.k)->events;
  out->digest = g.digest;
  noc_mesh_free(g.m);
  sim_kernel_free(g.k);
  free(g.hist);
  free(g.rng);
  free(g.active);
  return 0;
}

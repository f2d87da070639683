/*
 * bench.c -- the measurements of `spikemesh bench` (see run.h): each
 * workload timed here, with the baseline it is compared with measured in
 * the same process; cli/bench_*.c parse the arguments and print.
 *
 *   kernel    the classic hold model on one event queue
 *   noc       a full synthetic-traffic run of the mesh per variant
 *   train     training steps per second, BLAS or naive loops
 *   recorder  a run at one detail level; the writer alone
 *   vgg       frames of a model through the frame loop
 *
 * The simulations run through the same code as the commands (the frame
 * loop, noc_traffic_run), so a benchmark measures what a run costs.
 */
#include "run/run.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ---- kernel: the hold model --------------------------------------------- */

#define HOLD_KIND 0
#define HOLD_MEAN_PS 1000000.0 /* mean delay: 1 us */

struct hold {
  struct sim_rng rng;
};

static void hold_handler(struct sim_kernel *k, const struct sim_event *ev,
                         void *ctx) {
  struct hold *h = ctx;
  sim_time_t d = (sim_time_t)sim_rng_exp(&h->rng, HOLD_MEAN_PS);
  sim_schedule_in(k, d, HOLD_KIND, ev->target, 0, 0, NULL);
}

struct run_bench_rate run_bench_hold(enum sim_queue_kind qk, size_t n,
                                     double min_seconds, uint64_t seed,
                                     uint64_t *digest) {
  struct sim_kernel *k = sim_kernel_new(qk, seed);
  struct hold h;
  sim_rng_init(&h.rng, seed, 1);
  sim_register(k, HOLD_KIND, hold_handler, &h);
  for (size_t i = 0; i < n; i++)
    sim_schedule(k, (sim_time_t)sim_rng_exp(&h.rng, HOLD_MEAN_PS), HOLD_KIND,
                 (uint32_t)i, 0, 0, NULL);
  uint64_t warm = n > 100000 ? n : 100000;
  sim_run(k, SIM_TIME_MAX, warm);
  const uint64_t batch = 1000000;
  double rates[4096];
  size_t nr = 0;
  uint64_t start = sm_now_ns();
  do {
    uint64_t t0 = sm_now_ns();
    sim_run(k, SIM_TIME_MAX, batch);
    uint64_t t1 = sm_now_ns();
    if (!nr) /* a fixed event count, comparable across queues */
      *digest = sim_digest(k);
    rates[nr++] = (double)batch / ((double)(t1 - t0) * 1e-9);
  } while (nr < SM_ARRAY_LEN(rates) &&
           (nr < 5 || (double)(sm_now_ns() - start) < min_seconds * 1e9));
  sim_kernel_free(k);
  qsort(rates, nr, sizeof rates[0], cmp_double);
  return (struct run_bench_rate){rates[nr - 1], rates[nr / 2]};
}

/* ---- noc: the variants of one simulation -------------------------------- */

/* The validation setting (models/arch/noc-clocked.json), applied from the
 * same key=value list so the benchmark needs no file. */
static const char *const noc_preset[] = {
    "noc.width=8",      "noc.height=8",     "noc.timing=clocked",
    "noc.clock_ps=1000", "noc.buffer_depth=8", "noc.routing=xy",
    "noc.allocator=rr", "noc.t_buffer=0",   "noc.t_route=1",
    "noc.t_alloc=2",    "noc.t_xbar=1",     "noc.t_link=1",
    "noc.t_inject=1",   "noc.t_eject=2",    "traffic.pattern=uniform",
    "traffic.packet_flits=1", "traffic.warmup=1000", "traffic.measure=20000",
    "traffic.drain=10000",
};

int run_bench_noc_preset(struct sm_conf *c, struct sm_err *err) {
  for (size_t i = 0; i < SM_ARRAY_LEN(noc_preset); i++)
    if (sm_conf_set(c, noc_preset[i], "bench preset", err))
      return err->code ? err->code : SM_EINVAL;
  return 0;
}

void run_bench_noc_variants(enum sim_queue_kind q,
                            struct run_bench_noc_variant *v) {
  v[0] = (struct run_bench_noc_variant){"cycle", NOC_SCHED_PER_CYCLE, q};
  v[1] = (struct run_bench_noc_variant){"router", NOC_SCHED_PER_ROUTER, q};
  v[2] = (struct run_bench_noc_variant){"merged", NOC_SCHED_MERGED,
                                        SIM_QUEUE_BINARY};
  v[3] = (struct run_bench_noc_variant){"merged", NOC_SCHED_MERGED, q};
}

int run_bench_noc_load(const struct run_options *o, double rate,
                       struct noc_traffic_result *r, struct sm_err *err) {
  struct run_bench_noc_variant v[RUN_BENCH_NOC_VARIANTS];
  run_bench_noc_variants((enum sim_queue_kind)o->sim.queue, v);
  for (int j = 0; j < RUN_BENCH_NOC_VARIANTS; j++) {
    int e = noc_traffic_run(&o->noc, &o->traffic, rate, v[j].q, o->sim.seed,
                            v[j].sched, &r[j], err);
    if (e)
      return e;
    if (r[j].digest != r[0].digest)
      return sm_fail(err, SM_ESTATE,
                     "variant %s/%s changed the simulation (delivery digest "
                     "differs)",
                     v[j].events, sim_pq_name(v[j].q));
  }
  return 0;
}

/* ---- train: steps per second -------------------------------------------- */

static double train_rate(struct train_net *n, const struct train_data *d,
                         size_t bs, int naive, double min_s, size_t *steps) {
  train_bench_step(n, d, 0, bs, naive); /* warm-up: buffers, BLAS threads */
  uint64_t t0 = sm_now_ns(), t1;
  size_t s = 0;
  do {
    train_bench_step(n, d, (s + 1) * bs, bs, naive);
    s++;
    t1 = sm_now_ns();
  } while ((double)(t1 - t0) < min_s * 1e9);
  *steps = s;
  return (double)(s * bs) / ((double)(t1 - t0) * 1e-9);
}

int run_bench_train_arch(const char *arch, const struct train_data *d,
                         size_t bs, int baseline, double min_s,
                         struct run_bench_train *r, struct sm_err *err) {
  memset(r, 0, sizeof *r);
  struct train_arch a;
  int e = train_arch_parse(arch, d->c, d->h, d->w, &a, err);
  if (e)
    return e;
  struct train_net *n = train_net_new(&a, 1.0, 1);
  r->rate = train_rate(n, d, bs, 0, min_s, &r->steps);
  if (baseline)
    r->base = train_rate(n, d, bs, 1, min_s, &r->bsteps);
  train_net_free(n);
  return 0;
}

/* ---- recorder: a run at one detail level; the writer alone -------------- */

void run_bench_rm_db(const char *path) {
  char b[1100];
  unlink(path);
  snprintf(b, sizeof b, "%s-wal", path);
  unlink(b);
  snprintf(b, sizeof b, "%s-shm", path);
  unlink(b);
}

/* The benchmarks record into databases of their own, removed afterwards:
 * a file already at path (another program's, or anyone's) is refused, never
 * written or removed. */
static int fresh_path(const char *path, struct sm_err *err) {
  static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
  char b[1100];
  struct stat st;
  for (size_t i = 0; i < SM_ARRAY_LEN(sfx); i++) {
    snprintf(b, sizeof b, "%s%s", path, sfx[i]);
    if (lstat(b, &st) == 0)
      return sm_fail(err, SM_EINVAL, "%s: exists; the benchmark records "
                     "into a new database of its own and removes it "
                     "afterwards: remove the file or choose another --dir",
                     b);
  }
  return 0;
}

int run_bench_recorder_level(const struct model *m,
                             const struct train_data *d, size_t n, int detail,
                             const char *path, double *secs, uint64_t *rows,
                             struct sm_err *err) {
  struct run_options o;
  struct sm_conf c;
  run_options_init(&o, &c);
  char preset[1024];
  if (sm_conf_defaults(&c, err) ||
      model_preset_path(MODEL_DEFAULT_PRESET, preset, sizeof preset, err) ||
      sm_conf_load_file(&c, preset, err))
    return -1;
  struct run_sim *r;
  if (run_sim_new(m, &o, 0, 0, &r, err))
    return -1;
  struct trace_db *db = NULL;
  struct trace_stream *s = NULL;
  int64_t run = 0;
  if (detail >= 0 && fresh_path(path, err)) {
    run_sim_free(r);
    return -1;
  }
  uint64_t t0 = sm_now_ns();
  if (detail >= 0) {
    struct trace_run_info info = {.kind = "run", .detail = "bench"};
    if (trace_db_open(path, &db, err) ||
        trace_run_begin(db, &info, &run, err)) {
      run_sim_free(r);
      trace_db_close(db, NULL);
      run_bench_rm_db(path); /* created by this call */
      return -1;
    }
    s = trace_stream_open(db, run);
  }
  struct run_engine e;
  run_sim_engine(r, d, &e);
  struct run_loop l = {.e = &e, .n = n, .ts = s,
                       .detail = (enum trace_detail)(detail < 0 ? 0 : detail)};
  size_t done;
  int rc = run_loop_frames(&l, &done, err);
  trace_stream_close(s);
  if (db) {
    trace_run_end(db, run, "complete", NULL);
    *rows = trace_db_rows(db);
    trace_db_close(db, NULL);
  }
  *secs = (double)(sm_now_ns() - t0) * 1e-9;
  run_sim_free(r);
  if (db)
    run_bench_rm_db(path);
  return rc;
}

int run_bench_writer(const char *path, uint64_t nrows, uint64_t *rows,
                     double *secs, struct sm_err *err) {
  struct trace_db *db = NULL;
  int64_t run;
  struct trace_run_info info = {.kind = "bench", .detail = "spike"};
  if (fresh_path(path, err))
    return -1;
  if (trace_db_open(path, &db, err) || trace_run_begin(db, &info, &run, err)) {
    trace_db_close(db, NULL);
    run_bench_rm_db(path);
    return -1;
  }
  struct trace_stream *s = trace_stream_open(db, run);
  uint64_t t0 = sm_now_ns();
  for (uint64_t i = 0; i < nrows; i++) {
    struct trace_spike_row row = {(int64_t)(i / 1000), (int64_t)(i % 3),
                                  (int64_t)i, (int64_t)(i % 16),
                                  (int64_t)i * 1000, (int64_t)(i % 10)};
    trace_put_spike(s, &row);
    if (i % 1000 == 999)
      trace_frame_end(s, (int64_t)(i / 1000));
  }
  trace_stream_close(s);
  trace_db_flush(db, err);
  *secs = (double)(sm_now_ns() - t0) * 1e-9;
  *rows = trace_db_rows(db);
  trace_db_close(db, NULL);
  run_bench_rm_db(path);
  return 0;
}

/* ---- vgg: frames of a model through the frame loop ---------------------- */

/* Process CPU time, s: the machine is shared, so wall time alone says more
 * about the neighbours than about the simulator. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct vgg_ctx {
  struct run_bench_vgg *res;
  double frames;           /* the count, for the means */
  uint64_t t_last;         /* ns, wall time at the previous frame's end */
  double c_last;           /* s, CPU time then */
};

static void vgg_on_frame(void *ctx, size_t i, const struct run_frame *f) {
  (void)i;
  struct vgg_ctx *v = ctx;
  struct run_bench_vgg *res = v->res;
  double c1 = cpu_now();
  uint64_t t1 = sm_now_ns();
  res->cpu += c1 - v->c_last;
  res->secs += (double)(t1 - v->t_last) * 1e-9;
  res->spikes += f->spikes;
  res->sops += f->sops;
  res->hops += f->hops;
  res->late += f->late_spikes;
  res->latency_us += (double)f->latency_ps * 1e-6 / v->frames;
  res->energy_uj += f->energy.total_uj / v->frames;
  v->c_last = cpu_now();
  v->t_last = sm_now_ns();
}

int run_bench_vgg_frames(const struct model *m, const struct run_options *o,
                         uint64_t frames, struct run_bench_vgg *res,
                         struct sm_err *err) {
  memset(res, 0, sizeof *res);
  res->neurons = (uint64_t)m->in_c * (uint64_t)m->in_h * (uint64_t)m->in_w;
  for (size_t i = 0; i < m->nlayers; i++)
    if (m->layers[i].type == MODEL_CONV || m->layers[i].type == MODEL_DENSE)
      res->neurons += model_layer_neurons(&m->layers[i]);
  struct run_sim *r;
  uint32_t mesh_w, mesh_h;
  int rc = run_options_mesh(o, &mesh_w, &mesh_h, err);
  if (!rc)
    rc = run_sim_new(m, o, mesh_w, mesh_h, &r, err);
  if (rc)
    return rc;
  struct train_data d;
  rc = run_data_load("synthetic:1", m, "the model", frames, &d, err);
  if (rc >= 0)
    rc = run_clock_check(&o->core, run_sim_map(r)->nlayers, frames, err);
  if (rc < 0) { /* d is empty or set: run_data_load clears it first */
    train_data_free(&d);
    run_sim_free(r);
    return rc;
  }
  const struct model_map *mp = run_sim_map(r);
  res->cores = mp->ngroups;
  res->mesh_w = mp->width;
  res->mesh_h = mp->height;
  struct run_engine e;
  run_sim_engine(r, &d, &e);
  struct vgg_ctx v = {res, (double)frames, 0, 0};
  struct run_loop l = {.e = &e, .n = (size_t)frames, .on_frame = vgg_on_frame,
                       .ctx = &v};
  size_t done;
  v.c_last = cpu_now();
  v.t_last = sm_now_ns();
  rc = run_loop_frames(&l, &done, err);
  run_sim_free(r);
  train_data_free(&d);
  return rc;
}

int run_bench_vgg_agree(const struct run_bench_vgg *a,
                        const struct run_bench_vgg *b) {
  return a->spikes == b->spikes && a->sops == b->sops && a->hops == b->hops &&
         a->late == b->late;
}

/* ---- scale: the same frames on 1..N threads (run_loop_jobs) ------------- */

struct scale_ctx {
  struct run_bench_scale *res;
};

static void scale_mix(uint64_t *h, uint64_t v) {
  for (int b = 0; b < 8; b++) {
    *h ^= (v >> (8 * b)) & 0xffu;
    *h *= 1099511628211ull;
  }
}

/* Called in frame order (run_loop_jobs), one call at a time. */
static void scale_on_frame(void *ctx, size_t i, const struct run_frame *f) {
  struct run_bench_scale *res = ((struct scale_ctx *)ctx)->res;
  res->spikes += f->spikes;
  res->sops += f->sops;
  res->hops += f->hops;
  res->late += f->late_spikes;
  res->packets += f->packets;
  if (f->pred >= 0)
    res->decided++;
  scale_mix(&res->pred_digest, (uint64_t)i);
  scale_mix(&res->pred_digest, (uint64_t)(int64_t)f->pred);
}

int run_bench_scale_frames(const struct model *m, const struct run_options *o,
                           uint64_t frames, size_t jobs,
                           struct run_bench_scale *res, struct sm_err *err) {
  memset(res, 0, sizeof *res);
  res->pred_digest = 14695981039346656037ull;
  if (jobs < 1 || jobs > RUN_JOBS_MAX)
    return sm_fail(err, SM_ERANGE, "threads %zu: expected 1..%d", jobs,
                   RUN_JOBS_MAX);
  struct run_sim *rs[RUN_JOBS_MAX] = {0};
  struct run_engine es[RUN_JOBS_MAX];
  struct train_data d;
  memset(&d, 0, sizeof d);
  uint32_t mesh_w, mesh_h;
  int rc = run_options_mesh(o, &mesh_w, &mesh_h, err);
  for (size_t j = 0; !rc && j < jobs; j++)
    rc = run_sim_new(m, o, mesh_w, mesh_h, &rs[j], err);
  if (!rc) {
    rc = run_data_load("synthetic:1", m, "the model", frames, &d, err);
    if (rc >= 0)
      rc = run_clock_check(&o->core, run_sim_map(rs[0])->nlayers, frames,
                           err);
  }
  if (rc >= 0) {
    for (size_t j = 0; j < jobs; j++)
      run_sim_engine(rs[j], &d, &es[j]);
    struct trace_stream *streams[RUN_JOBS_MAX] = {0};
    struct scale_ctx x = {res};
    struct run_loop l = {.e = &es[0], .n = (size_t)frames,
                         .on_frame = scale_on_frame, .ctx = &x};
    size_t done;
    double c0 = cpu_now();
    uint64_t t0 = sm_now_ns();
    rc = run_loop_jobs(&l, es, streams, jobs, &done, err);
    res->secs = (double)(sm_now_ns() - t0) * 1e-9;
    res->cpu = cpu_now() - c0;
  }
  for (size_t j = 0; j < jobs; j++)
    run_sim_free(rs[j]);
  train_data_free(&d);
  return rc < 0 ? rc : 0;
}

int run_bench_scale_agree(const struct run_bench_scale *a,
                          const struct run_bench_scale *b) {
  return a->spikes == b->spikes && a->sops == b->sops && a->hops == b->hops &&
         a->late == b->late && a->packets == b->packets &&
         a->decided == b->decided && a->pred_digest == b->pred_digest;
}

/* ---- lookahead: events per window of a partition by mesh region -------- */

struct la_ctx {
  const struct model_map *map;
  uint64_t la;             /* ps */
  size_t nwin, cap;        /* windows seen, allocated */
  uint64_t *all, *r2, *r4; /* [cap], [cap * 2], [cap * 4] */
  uint64_t events, attributed, last;
  uint64_t tot2[2], tot4[4];
};

static void la_grow(struct la_ctx *x, size_t need) {
  size_t cap = x->cap ? x->cap : 1024;
  while (cap < need)
    cap *= 2;
  x->all = sm_xreallocarray(x->all, cap, sizeof *x->all);
  x->r2 = sm_xreallocarray(x->r2, cap * 2, sizeof *x->r2);
  x->r4 = sm_xreallocarray(x->r4, cap * 4, sizeof *x->r4);
  memset(x->all + x->cap, 0, (cap - x->cap) * sizeof *x->all);
  memset(x->r2 + x->cap * 2, 0, (cap - x->cap) * 2 * sizeof *x->r2);
  memset(x->r4 + x->cap * 4, 0, (cap - x->cap) * 4 * sizeof *x->r4);
  x->cap = cap;
}

static void la_observe(void *ctx, const struct sim_event *ev) {
  struct la_ctx *x = ctx;
  size_t w = (size_t)(ev->time / x->la);
  if (w >= x->cap)
    la_grow(x, w + 1);
  if (w + 1 > x->nwin)
    x->nwin = w + 1;
  x->events++;
  x->all[w]++;
  if (ev->time > x->last)
    x->last = ev->time;
  uint32_t node = UINT32_MAX;
  if (ev->kind >= RUN_KIND_CORE && ev->kind < RUN_KIND_CORE + CORE_NKINDS) {
    if (ev->target < x->map->ngroups)
      node = x->map->groups[ev->target].node;
  } else {
    node = noc_event_node(ev, RUN_KIND_NOC);
  }
  uint32_t wd = x->map->width, ht = x->map->height;
  if (node == UINT32_MAX || node >= wd * ht)
    return;
  x->attributed++;
  uint32_t nx = node % wd, ny = node / wd;
  /* halves across the longer side; quadrants */
  uint32_t h2 = wd >= ht ? nx >= (wd + 1) / 2 : ny >= (ht + 1) / 2;
  uint32_t h4 = (nx >= (wd + 1) / 2) + 2u * (ny >= (ht + 1) / 2);
  x->r2[w * 2 + h2]++;
  x->r4[w * 4 + h4]++;
  x->tot2[h2]++;
  x->tot4[h4]++;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* mean, median, max of v[0..n) (sorted in place). */
static void la_stats(uint64_t *v, size_t n, double *mean, double *median,
                     uint64_t *max, double *empty) {
  double s = 0;
  size_t z = 0;
  for (size_t i = 0; i < n; i++) {
    s += (double)v[i];
    z += !v[i];
  }
  qsort(v, n, sizeof *v, cmp_u64);
  *mean = n ? s / (double)n : 0;
  *median = !n ? 0 : n % 2 ? (double)v[n / 2]
                           : 0.5 * ((double)v[n / 2 - 1] + (double)v[n / 2]);
  *max = n ? v[n - 1] : 0;
  if (empty)
    *empty = n ? (double)z / (double)n : 0;
}

uint64_t run_bench_lookahead_ps(const struct run_options *o) {
  const struct noc_conf *c = &o->noc;
  uint64_t la = c->t_link + c->t_buffer + c->t_route + c->t_alloc + c->t_xbar;
  if (c->timing == NOC_CLOCKED)
    la *= c->clock_ps;
  return la;
}

int run_bench_lookahead(const struct model *m, const struct run_options *o,
                        uint64_t lookahead_ps, struct run_bench_lookahead *res,
                        struct sm_err *err) {
  memset(res, 0, sizeof *res);
  if (!lookahead_ps)
    return sm_fail(err, SM_ERANGE, "lookahead 0 ps: expected a positive "
                                   "window (noc.t_link and the router "
                                   "pipeline are all 0)");
  res->lookahead_ps = lookahead_ps;
  struct run_sim *r;
  uint32_t mesh_w, mesh_h;
  int rc = run_options_mesh(o, &mesh_w, &mesh_h, err);
  if (!rc)
    rc = run_sim_new(m, o, mesh_w, mesh_h, &r, err);
  if (rc)
    return rc;
  struct train_data d;
  rc = run_data_load("synthetic:1", m, "the model", 1, &d, err);
  if (rc >= 0)
    rc = run_clock_check(&o->core, run_sim_map(r)->nlayers, 1, err);
  if (rc < 0) {
    train_data_free(&d);
    run_sim_free(r);
    return rc;
  }
  const struct model_map *mp = run_sim_map(r);
  res->cores = mp->ngroups;
  res->mesh_w = mp->width;
  res->mesh_h = mp->height;
  struct run_engine e;
  run_sim_engine(r, &d, &e);
  struct run_loop l = {.e = &e, .n = 1};
  size_t done;
  uint64_t t0 = sm_now_ns();
  rc = run_loop_frames(&l, &done, err);
  res->secs = (double)(sm_now_ns() - t0) * 1e-9;
  struct la_ctx x = {.map = mp, .la = lookahead_ps};
  if (!rc) { /* the same frame again (frames are independent), observed */
    la_grow(&x, 1);
    sim_set_observer(run_sim_kernel(r), la_observe, &x);
    rc = run_loop_frames(&l, &done, err);
    sim_set_observer(run_sim_kernel(r), NULL, NULL);
  }
  if (!rc) {
    res->events = x.events;
    res->attributed = x.attributed;
    res->windows = x.nwin;
    res->frame_ps = x.last;
    for (size_t i = 0; i < x.nwin; i++)
      res->busy += x.all[i] > 0;
    la_stats(x.all, x.nwin, &res->mean, &res->median, &res->max, NULL);
    for (int s = 0; s < 2; s++) {
      struct run_bench_la_split *sp = &res->split[s];
      uint32_t nr = s ? 4 : 2;
      const uint64_t *tot = s ? x.tot4 : x.tot2;
      sp->regions = nr;
      sp->region_min = UINT64_MAX;
      for (uint32_t k = 0; k < nr; k++) {
        if (tot[k] > sp->region_max)
          sp->region_max = tot[k];
        if (tot[k] < sp->region_min)
          sp->region_min = tot[k];
      }
      la_stats(s ? x.r4 : x.r2, x.nwin * nr, &sp->mean, &sp->median,
               &sp->max, &sp->empty);
    }
  }
  free(x.all);
  free(x.r2);
  free(x.r4);
  run_sim_free(r);
  train_data_free(&d);
  return rc;
}

/* ---- barrier: the cost of one synchronisation of threads ---------------- */

struct barrier_arg {
  pthread_barrier_t *b;
  uint64_t rounds;
  atomic_int go;           /* 0 wait, 1 run the rounds, 2 leave */
};

static void *barrier_thread(void *p) {
  struct barrier_arg *a = p;
  int g;
  while (!(g = atomic_load(&a->go)))
    sched_yield();
  if (g == 1)
    for (uint64_t i = 0; i < a->rounds; i++)
      pthread_barrier_wait(a->b);
  return NULL;
}

double run_bench_barrier_ns(unsigned threads, uint64_t rounds) {
  if (threads < 2 || threads > 64 || !rounds)
    return 0;
  pthread_barrier_t b;
  if (pthread_barrier_init(&b, NULL, threads))
    return 0;
  struct barrier_arg a = {&b, rounds, 0};
  pthread_t t[64];
  unsigned started = 1;
  for (; started < threads; started++)
    if (pthread_create(&t[started], NULL, barrier_thread, &a))
      break;
  double ns = 0;
  if (started == threads) {
    uint64_t t0 = sm_now_ns();
    atomic_store(&a.go, 1);
    barrier_thread(&a);
    ns = (double)(sm_now_ns() - t0) / (double)rounds;
  } else {
    atomic_store(&a.go, 2); /* a thread could not start: no rounds */
  }
  for (unsigned j = 1; j < started; j++)
    pthread_join(t[j], NULL);
  pthread_barrier_destroy(&b);
  return ns;
}

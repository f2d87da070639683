/*
 * sweep.c -- `spikemesh sweep`'s executor: every point of a parsed grid
 * (run/grid.c) run in parallel into one database (see run.h).
 *
 * The loop thread (a private uv loop) plans every point against the
 * database before anything runs -- complete points are skipped, an
 * unfinished one is resumed (its recorded frames are simulated again
 * without recording, as `spikemesh run --resume` does) -- then keeps at
 * most `jobs` points queued on libuv's thread pool.  Each point's run is
 * claimed when the point is dispatched (trace_run_claim): a point another
 * process records is reported as held and not run, one it finished
 * meanwhile is skipped.  A worker builds its
 * own kernel, mesh and cores (run_sim_new) and runs its frames through the
 * frame loop (run_loop_frames), writing through its own trace_stream into
 * the shared database; the model and data set are loaded once and only
 * read by the workers.  Run rows are created and closed on the loop
 * thread, which owns the database.  A uv timer reports progress to the
 * caller; the caller's stop flag (set by a signal) is read by every worker
 * between frames.
 *
 * Cost: the points themselves; the loop thread sleeps between events.
 * Rejected: queueing every point at once (a run row would be opened long
 * before its point starts, and the pool size would decide the parallelism
 * even when it was set before this call); one process per point (the
 * database has one writer per process, and the data set would be loaded
 * once per point).
 */
#include "run/run.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "trainer/train.h"

/* ---- running ------------------------------------------------------------ */

struct shared_model {
  const char *path;
  struct model *m;
  char hash[17];
};
struct shared_data {
  const char *dir;
  const struct model *m;   /* synthetic:SEED: the model it was made for */
  uint64_t frames;         /* and its frames (run_data_load's) */
  struct train_data d;
};

struct sweep_ctx;

struct job {
  uv_work_t req;
  struct sweep_ctx *x;
  struct run_sweep_point *p;
  const struct model *m;
  const char *hash;
  const struct train_data *d;
  size_t n;                /* frames to simulate */
  char *config;            /* the run row's configuration */
  atomic_llong done;       /* frames simulated so far */
  uint64_t t0, t1;         /* ns */
  int rc, interrupted;
};

struct sweep_ctx {
  struct run_sweep *s;
  const struct run_sweep_opts *opt;
  struct trace_db *db;
  struct job *jobs;        /* [npoints] */
  uv_loop_t loop;
  uv_timer_t timer;
  int have_timer, finished;
  atomic_int stop_local;
  atomic_int *stop;
  atomic_int active, peak; /* workers simulating now, and the most at once */
  size_t next, running, ndone, nskipped, nwork;
  size_t nheld;            /* points another process records */
  long long frames_total;  /* frames the points to run simulate */
  long long frames_prior;  /* of those, by points that have finished */
  uint64_t t_start, t_end; /* ns */
  double sum;              /* s, point times */
  int best;                /* point index, -1: none yet */
  int rc;
  struct sm_err err;
};

static void job_frame(void *ctx, size_t i, const struct run_frame *f) {
  struct job *j = ctx;
  struct run_sweep_point *p = j->p;
  p->correct += f->label >= 0 && f->pred == f->label; /* synthetic: -1 */
  p->e_total_uj += f->energy.total_uj;
  atomic_fetch_add(&j->done, 1);
  if (j->x->opt->frame_hook)
    j->x->opt->frame_hook(j->x->opt->hook_ctx,
                          (size_t)(p - j->x->s->points), (int64_t)i);
}

static void work_cb(uv_work_t *req) {
  struct job *j = req->data;
  struct sweep_ctx *x = j->x;
  struct run_sweep_point *p = j->p;
  j->t0 = sm_now_ns();
  int now = atomic_fetch_add(&x->active, 1) + 1, peak = atomic_load(&x->peak);
  while (now > peak && !atomic_compare_exchange_weak(&x->peak, &peak, now))
    ;
  struct run_sim *r = NULL;
  j->rc = run_sim_new(j->m, &p->o, p->mesh_w, p->mesh_h, &r, &p->err);
  if (!j->rc) {
    struct run_engine e;
    run_sim_engine(r, j->d, &e);
    struct run_loop loop = {.e = &e,
                            .n = p->nframes,
                            .first_rec = (size_t)p->first_frame,
                            .ts = trace_stream_open(x->db, p->run_id),
                            .db = x->db,
                            .detail = x->opt->detail,
                            .stop = x->stop,
                            .on_frame = job_frame,
                            .ctx = j};
    size_t done;
    int lr = run_loop_frames(&loop, &done, &p->err);
    if (lr == SM_EINTR)
      j->interrupted = 1;
    else
      j->rc = lr;
    trace_stream_close(loop.ts);
  }
  run_sim_free(r);
  atomic_fetch_sub(&x->active, 1);
  j->t1 = sm_now_ns();
}

static void on_timer(uv_timer_t *t) {
  struct sweep_ctx *x = t->data;
  struct run_sweep_progress pr = {.frames_total = x->frames_total,
                                  .frames_done = x->frames_prior,
                                  .points_done = x->ndone + x->nskipped,
                                  .running = x->running,
                                  .best = x->best};
  for (size_t i = 0; i < x->s->npoints; i++)
    if (x->s->points[i].state == RUN_SWEEP_PENDING)
      pr.frames_done += atomic_load(&x->jobs[i].done);
  x->opt->on_tick(x->opt->hook_ctx, x->s, &pr);
}

static void finish(struct sweep_ctx *x) {
  if (x->finished)
    return;
  x->finished = 1;
  x->t_end = sm_now_ns();
  if (x->have_timer) {
    uv_timer_stop(&x->timer);
    on_timer(&x->timer);
    uv_close((uv_handle_t *)&x->timer, NULL);
  }
}

static void fail_point(struct sweep_ctx *x, struct run_sweep_point *p) {
  p->state = RUN_SWEEP_FAILED;
  if (!x->rc) {
    x->rc = p->err.code ? p->err.code : SM_EIO;
    x->err = p->err;
  }
}

static void after_cb(uv_work_t *req, int status);

static void dispatch(struct sweep_ctx *x) {
  struct run_sweep *s = x->s;
  while (x->running < x->opt->jobs && x->next < s->npoints &&
         !atomic_load(x->stop)) {
    size_t i = x->next++;
    struct run_sweep_point *p = &s->points[i];
    struct job *j = &x->jobs[i];
    if (p->state != RUN_SWEEP_PENDING)
      continue;
    /* the point's run, claimed now: another process may have taken,
     * finished or started it since plan() looked */
    struct trace_run_info info = {.kind = "sweep",
                                  .config_json = j->config,
                                  .model_path = p->model,
                                  .model_hash = j->hash,
                                  .point_key = p->key,
                                  .detail = trace_detail_name(x->opt->detail),
                                  .seed = p->o.sim.seed,
                                  .frames_planned = (int64_t)p->nframes,
                                  .mesh_width = p->used_w,
                                  .mesh_height = p->used_h};
    struct trace_claim c;
    if (trace_run_claim(x->db, &info, TRACE_CLAIM_POINT, &c, &p->err)) {
      fail_point(x, p);
      continue;
    }
    p->run_id = c.run_id;
    if (c.outcome == TRACE_CLAIM_COMPLETE) {
      p->state = RUN_SWEEP_SKIPPED;
      x->nskipped++;
      continue;
    }
    if (c.outcome == TRACE_CLAIM_HELD) {
      char who[400];
      trace_holder_text(&c.holder, who, sizeof who);
      p->state = RUN_SWEEP_HELD;
      sm_fail(&p->err, SM_EBUSY, "run %lld is being recorded by %s",
              (long long)c.run_id, who);
      x->nheld++;
      if (x->opt->on_point)
        x->opt->on_point(x->opt->hook_ctx, s, i);
      continue;
    }
    p->first_frame = c.frames_done;
    if (!x->t_start)
      x->t_start = sm_now_ns();
    j->req.data = j;
    uv_queue_work(&x->loop, &j->req, work_cb, after_cb);
    x->running++;
  }
  if (!x->running)
    finish(x);
}

static void after_cb(uv_work_t *req, int status) {
  (void)status; /* work is never cancelled */
  struct job *j = req->data;
  struct sweep_ctx *x = j->x;
  struct run_sweep_point *p = j->p;
  x->running--;
  p->secs = (double)(j->t1 - j->t0) * 1e-9;
  x->sum += p->secs;
  x->frames_prior += atomic_load(&j->done);
  const char *end = "complete";
  if (j->rc)
    end = "failed";
  else if (j->interrupted)
    end = "interrupted";
  struct sm_err e = {0};
  int rc = trace_run_end(x->db, p->run_id, end, &e);
  if (j->rc) {
    fail_point(x, p);
  } else if (rc) {
    p->err = e;
    fail_point(x, p);
  } else if (j->interrupted) {
    p->state = RUN_SWEEP_INTERRUPTED;
  } else {
    p->state = RUN_SWEEP_DONE;
    x->ndone++;
    /* best so far: accuracy, then energy */
    size_t i = (size_t)(p - x->s->points);
    if (p->nframes) {
      const struct run_sweep_point *b =
          x->best >= 0 ? &x->s->points[x->best] : NULL;
      double n = (double)p->nframes, a = (double)p->correct / n,
             ab = b ? (double)b->correct / (double)b->nframes : -1;
      if (!b || a > ab ||
          (a == ab && p->e_total_uj / n < b->e_total_uj / (double)b->nframes))
        x->best = (int)i;
    }
  }
  p->frames_run = atomic_load(&j->done);
  if (x->opt->on_point)
    x->opt->on_point(x->opt->hook_ctx, x->s, (size_t)(p - x->s->points));
  dispatch(x);
}

/* Load every model and data set once, check every point's mapping and
 * input shape, and decide what each point needs (skip, resume, new). */
static int plan(struct sweep_ctx *x, struct shared_model *ms, size_t *nm,
                struct shared_data *ds, size_t *nd, struct sm_err *err) {
  struct run_sweep *s = x->s;
  for (size_t i = 0; i < s->npoints; i++) {
    struct run_sweep_point *p = &s->points[i];
    struct job *j = &x->jobs[i];
    j->x = x;
    j->p = p;
    p->state = RUN_SWEEP_PENDING;
    p->run_id = -1;
    p->first_frame = 0;
    size_t a, b;
    for (a = 0; a < *nm && strcmp(ms[a].path, p->model); a++)
      ;
    if (a == *nm) {
      ms[a].path = p->model;
      int rc = model_load(p->model, &ms[a].m, err);
      if (!rc)
        rc = sm_file_digest(p->model, ms[a].hash, err);
      if (rc)
        return rc;
      (*nm)++;
    }
    const struct model *m = ms[a].m;
    struct model_map_params mp = run_map_params(&p->o, p->mesh_w, p->mesh_h);
    struct model_map *map;
    int rc = model_map_build(m, &mp, &map, err);
    if (rc) {
      sm_err_prefix(err, "%s: point %zu (%s)", s->source, i + 1, p->label);
      return rc;
    }
    p->used_w = map->width;
    p->used_h = map->height;
    uint32_t layers = map->nlayers, cores = map->ngroups;
    model_map_free(map);
    /* the data once mapped (run_data_load: an IDX test set, shared by
     * directory, or synthetic:SEED images, shared by model and frames) */
    int synth = !strncmp(p->data, "synthetic:", 10);
    for (b = 0; b < *nd && (strcmp(ds[b].dir, p->data) ||
                            (synth && (ds[b].m != m ||
                                       ds[b].frames != p->frames)));
         b++)
      ;
    if (b == *nd) {
      ds[b].dir = p->data;
      ds[b].m = m;
      ds[b].frames = p->frames;
      rc = run_data_load(p->data, m, p->model, p->frames, &ds[b].d, err);
      if (rc < 0) {
        sm_err_prefix(err, "%s: point %zu (%s)", s->source, i + 1, p->label);
        return rc;
      }
      (*nd)++;
    } else if ((rc = run_data_check(&ds[b].d, m, p->data, p->model, err))) {
      sm_err_prefix(err, "%s: point %zu (%s)", s->source, i + 1, p->label);
      return rc;
    }
    const struct train_data *d = &ds[b].d;
    j->m = m;
    j->hash = ms[a].hash;
    j->d = d;
    p->nframes = p->frames && p->frames < d->n ? (size_t)p->frames : d->n;
    if ((rc = run_clock_check(&p->o.core, layers, p->nframes, err))) {
      sm_err_prefix(err, "%s: point %zu (%s)", s->source, i + 1, p->label);
      return rc;
    }
    j->config = run_config_json(&p->conf, p->model, p->data, p->used_w,
                                p->used_h, cores, (uint64_t)p->nframes);
    struct trace_run_found f;
    int found = trace_run_find(x->db, "sweep", p->key, &f, err);
    if (found < 0)
      return found;
    if (found && strcmp(f.status, "failed")) {
      const char *why =
          strcmp(f.config, j->config) ? "another configuration (defaults or "
                                        "preset changed?)"
          : strcmp(f.model_hash, j->hash)
              ? "a model file of other contents (the file changed since)"
          : strcmp(f.detail, trace_detail_name(x->opt->detail))
              ? "another --detail (the frames before and after would hold "
                "different rows)"
              : NULL;
      char recorded[16];
      snprintf(recorded, sizeof recorded, "%s", f.detail);
      trace_run_found_free(&f);
      if (why)
        return sm_fail(err, SM_EINVAL, "%s: run %lld holds point %zu (%s) "
                       "recorded with %s (detail %s); use another database "
                       "or the same inputs",
                       trace_db_path(x->db), (long long)f.run_id, i + 1,
                       p->label, why, recorded);
      p->run_id = f.run_id;
      if (!strcmp(f.status, "complete")) {
        p->state = RUN_SWEEP_SKIPPED;
        x->nskipped++;
        continue;
      }
      p->first_frame = f.frames_done;
    } else if (found) {
      trace_run_found_free(&f);
    }
    x->nwork++;
    x->frames_total += (long long)p->nframes;
  }
  return 0;
}

/* Pareto front over complete points: lower energy, lower latency, higher
 * accuracy; a point is on it when no other is at least as good in all
 * three and better in one. */
static void mark_pareto(struct run_sweep *s) {
  static const int maximize[3] = {0, 0, 1};
  double *pts = sm_xmallocarray(s->npoints, 3 * sizeof *pts);
  size_t *at = sm_xmallocarray(s->npoints, sizeof *at);
  int *on = sm_xmallocarray(s->npoints, sizeof *on);
  size_t n = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    struct run_sweep_point *p = &s->points[i];
    p->pareto = 0;
    if ((p->state != RUN_SWEEP_DONE && p->state != RUN_SWEEP_SKIPPED) ||
        !p->st.frames)
      continue;
    pts[3 * n] = p->st.e_total_uj;
    pts[3 * n + 1] = p->st.latency_us;
    pts[3 * n + 2] = p->st.accuracy;
    at[n++] = i;
  }
  sm_pareto_front(pts, n, 3, maximize, on);
  for (size_t k = 0; k < n; k++)
    s->points[at[k]].pareto = on[k];
  free(pts);
  free(at);
  free(on);
}

int run_sweep_run(struct run_sweep *s, const struct run_sweep_opts *opt,
                  struct sm_err *err) {
  s->wall_s = s->sum_s = 0;
  s->peak_workers = 0;
  if (opt->jobs < 1)
    return sm_fail(err, SM_EINVAL, "sweep: jobs must be >= 1");
  struct sweep_ctx *x = sm_xcalloc(1, sizeof *x);
  x->s = s;
  x->opt = opt;
  x->best = -1;
  atomic_init(&x->stop_local, 0);
  atomic_init(&x->active, 0);
  atomic_init(&x->peak, 0);
  x->stop = opt->stop ? opt->stop : &x->stop_local;
  x->jobs = sm_xcalloc(s->npoints, sizeof *x->jobs);
  for (size_t i = 0; i < s->npoints; i++)
    atomic_init(&x->jobs[i].done, 0);
  struct shared_model *ms = sm_xcalloc(s->npoints, sizeof *ms);
  struct shared_data *ds = sm_xcalloc(s->npoints, sizeof *ds);
  size_t nm = 0, nd = 0;
  int rc = trace_db_open(opt->db, &x->db, err);
  if (!rc)
    rc = plan(x, ms, &nm, ds, &nd, err);
  if (!rc) {
    /* the pool's size is read when it first starts (the first queued work
     * of the process); dispatch() keeps at most jobs points queued anyway */
    char n[16];
    snprintf(n, sizeof n, "%u", opt->jobs);
    setenv("UV_THREADPOOL_SIZE", n, 1);
    uv_loop_init(&x->loop);
    if (opt->on_tick && x->nwork) {
      uv_timer_init(&x->loop, &x->timer);
      x->timer.data = x;
      uv_timer_start(&x->timer, on_timer, 250, 250);
      x->have_timer = 1;
    }
    x->t_start = 0;
    dispatch(x);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    uv_loop_close(&x->loop);
    if (x->t_start)
      s->wall_s = (double)(x->t_end - x->t_start) * 1e-9;
    s->sum_s = x->sum;
    s->peak_workers = (unsigned)atomic_load(&x->peak);
    /* every point's figures, from the database */
    struct sm_err e = {0};
    for (size_t i = 0; i < s->npoints; i++)
      if (s->points[i].run_id >= 0 &&
          trace_run_stats(x->db, s->points[i].run_id, &s->points[i].st, &e))
        break;
    mark_pareto(s);
    if (x->rc) {
      rc = x->rc;
      if (err)
        *err = x->err;
    } else if (atomic_load(x->stop)) {
      rc = sm_fail(err, SM_EINTR, "%s: interrupted (run the same command "
                   "again to resume)", opt->db);
    } else if (x->nheld) {
      size_t i = 0;
      while (s->points[i].state != RUN_SWEEP_HELD)
        i++;
      rc = sm_fail(err, SM_EBUSY, "%s: %zu point%s not run: another process "
                   "records %s (point %zu, %s: %s); run the same command "
                   "again once it has finished", opt->db, x->nheld,
                   x->nheld > 1 ? "s" : "", x->nheld > 1 ? "them" : "it",
                   i + 1, s->points[i].label, s->points[i].err.msg);
    }
  }
  struct sm_err cerr = {0};
  if (x->db && trace_db_close(x->db, &cerr) && !rc) {
    rc = cerr.code;
    if (err)
      *err = cerr;
  }
  for (size_t i = 0; i < nm; i++)
    model_free(ms[i].m);
  for (size_t i = 0; i < nd; i++)
    train_data_free(&ds[i].d);
  for (size_t i = 0; i < s->npoints; i++)
    free(x->jobs[i].config);
  free(ms);
  free(ds);
  free(x->jobs);
  free(x);
  return rc;
}

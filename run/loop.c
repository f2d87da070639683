/*
 * loop.c -- the one frame loop (see run.h): every command that runs
 * frames -- run, sweep points, replay -- goes through run_loop_frames().
 *
 * A loop runs frames [0, n) of an engine, in order, on the calling thread.
 * Frames before first_rec are simulated again but not recorded (a resumed
 * run: the hardware must pass through the same states to reach frame
 * first_rec as it did the first time); from first_rec on, the engine's
 * recorder writes each frame's rows between the engine's frame calls.
 * The stop flag is read before each frame, so a stop always falls between
 * two frames and the database holds whole frames only; so is the
 * recorder's writer, whose error (disk full, a lock held too long) ends
 * the loop.
 *
 * Also here: the run row's configuration text (the one that --resume and a
 * sweep's skip compare), the totals `run` prints, and the recording of a
 * run into a database (a new run row, or the one to resume).
 *
 * run_loop_jobs() runs the same frames on several threads, one engine
 * each, handing frames to the writer and to on_frame in frame order.
 *
 * Cost: one indirect call per frame and recorder hook; nothing per event.
 * On threads, a mutex and a hand-over to the writer per frame.
 */
#include "run/run.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

int run_loop_frames(const struct run_loop *l, size_t *done,
                    struct sm_err *err) {
  const struct run_engine *e = l->e;
  void *rec = NULL;
  int rc = 0;
  *done = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (l->stop && atomic_load(l->stop)) {
      rc = SM_EINTR;
      break;
    }
    /* the database writer gave up (disk full, locked for too long): the
     * frames after it would be simulated for nothing */
    if (rec && l->db && (rc = trace_db_failed(l->db, err)))
      break;
    if (l->ts && i == l->first_rec)
      rec = e->rec_new(e->hw, l->ts, l->detail);
    if (rec)
      e->rec_begin(rec, i);
    struct run_frame f;
    rc = e->frame(e->hw, i, &f, err);
    if (rc)
      break;
    if (rec)
      e->rec_end(rec, i, &f);
    *done = i + 1;
    if (l->on_frame)
      l->on_frame(l->ctx, i, &f);
  }
  if (rec)
    e->rec_free(rec);
  return rc;
}

/* ---- the same loop on several threads ------------------------------------ */

/* What the threads share; everything but the engines under mu. */
struct jobs {
  const struct run_loop *l;
  uv_mutex_t mu;
  uv_cond_t turn;          /* next_commit moved, or a frame failed */
  size_t next_take;        /* the next frame a thread takes */
  size_t next_commit;      /* the next frame to hand over (frame order) */
  size_t err_frame;        /* the first frame that failed, SIZE_MAX: none */
  int rc;                  /* its error */
  struct sm_err err;
  int stopped;             /* a thread saw the stop flag */
};

struct jobs_worker {
  struct jobs *sh;
  const struct run_engine *e;
  struct trace_stream *s;
  void *rec;
  uv_thread_t t;
};

/* Record frame i's error (the first frame's wins) and wake the waiters. */
static void jobs_fail(struct jobs *sh, size_t i, int rc,
                      const struct sm_err *err) {
  if (i < sh->err_frame) {
    sh->err_frame = i;
    sh->rc = rc;
    sh->err = *err;
  }
  uv_cond_broadcast(&sh->turn);
}

static void jobs_thread(void *arg) {
  struct jobs_worker *w = arg;
  struct jobs *sh = w->sh;
  const struct run_loop *l = sh->l;
  const struct run_engine *e = w->e;
  for (;;) {
    struct sm_err ferr = {0};
    uv_mutex_lock(&sh->mu);
    if (sh->err_frame != SIZE_MAX || sh->next_take >= l->n) {
      uv_mutex_unlock(&sh->mu);
      break;
    }
    if (l->stop && atomic_load(l->stop)) {
      sh->stopped = 1;
      uv_mutex_unlock(&sh->mu);
      break;
    }
    size_t i = sh->next_take;
    /* the database writer gave up: as run_loop_frames, once recording */
    int rc = l->db && l->ts && i > l->first_rec
                 ? trace_db_failed(l->db, &ferr)
                 : 0;
    if (rc) {
      jobs_fail(sh, i, rc, &ferr);
      uv_mutex_unlock(&sh->mu);
      break;
    }
    sh->next_take++;
    uv_mutex_unlock(&sh->mu);
    /* frames are taken in increasing order, so the thread that takes
     * first_rec has no recorder yet: it writes the run's rows once */
    if (l->ts && i >= l->first_rec && !w->rec)
      w->rec = i == l->first_rec ? e->rec_new(e->hw, w->s, l->detail)
                                 : e->rec_new_frames(e->hw, w->s, l->detail);
    if (w->rec)
      e->rec_begin(w->rec, i);
    struct run_frame f;
    rc = e->frame(e->hw, i, &f, &ferr);
    uv_mutex_lock(&sh->mu);
    if (rc) {
      jobs_fail(sh, i, rc, &ferr);
      uv_mutex_unlock(&sh->mu);
      break;
    }
    while (sh->next_commit != i && i < sh->err_frame)
      uv_cond_wait(&sh->turn, &sh->mu);
    int dropped = i > sh->err_frame; /* a frame before it failed */
    uv_mutex_unlock(&sh->mu);
    if (dropped)
      break;
    /* this thread's turn: the frames before i are handed over and their
     * callbacks done; nobody else hands over until next_commit moves */
    if (w->rec) {
      e->rec_end(w->rec, i, &f);
      trace_stream_unit_end(w->s);
    }
    if (l->on_frame)
      l->on_frame(l->ctx, i, &f);
    uv_mutex_lock(&sh->mu);
    sh->next_commit = i + 1;
    uv_cond_broadcast(&sh->turn);
    uv_mutex_unlock(&sh->mu);
  }
}

int run_loop_jobs(const struct run_loop *l, const struct run_engine *es,
                  struct trace_stream *const *streams, size_t nj,
                  size_t *done, struct sm_err *err) {
  if (nj <= 1) {
    struct run_loop one = *l;
    one.e = &es[0];
    return run_loop_frames(&one, done, err);
  }
  *done = 0;
  if (nj > RUN_JOBS_MAX)
    return sm_fail(err, SM_ERANGE, "run: %zu threads, at most %d", nj,
                   RUN_JOBS_MAX);
  for (size_t j = 0; j < nj; j++)
    if (!es[j].rec_new_frames && l->ts)
      return sm_fail(err, SM_EINVAL,
                     "run: this engine records on one thread only");
  struct jobs sh = {.l = l, .err_frame = SIZE_MAX};
  uv_mutex_init(&sh.mu);
  uv_cond_init(&sh.turn);
  struct jobs_worker *w = sm_xcalloc(nj, sizeof *w);
  size_t started = 0;
  int rc = 0;
  for (size_t j = 0; j < nj; j++) {
    w[j] = (struct jobs_worker){.sh = &sh, .e = &es[j],
                                .s = l->ts ? streams[j] : NULL};
    if (uv_thread_create(&w[j].t, jobs_thread, &w[j])) {
      rc = sm_fail(err, SM_EIO, "run: cannot start thread %zu of %zu", j + 1,
                   nj);
      /* the threads started take every frame between them */
      break;
    }
    started++;
  }
  for (size_t j = 0; j < started; j++)
    uv_thread_join(&w[j].t);
  for (size_t j = 0; j < nj; j++)
    if (w[j].rec)
      es[j].rec_free(w[j].rec);
  free(w);
  *done = sh.next_commit;
  if (sh.err_frame != SIZE_MAX) {
    rc = sh.rc;
    if (err)
      *err = sh.err;
  } else if (!rc && sh.stopped && sh.next_commit < l->n) {
    rc = SM_EINTR;
  }
  uv_cond_destroy(&sh.turn);
  uv_mutex_destroy(&sh.mu);
  return rc;
}

/* ---- the engine of a mapped model over a data set ----------------------- */

static int sim_frame(void *hw, size_t i, struct run_frame *f,
                     struct sm_err *err) {
  struct run_sim *r = hw;
  const struct train_data *d = run_sim_data(r);
  size_t img = (size_t)d->c * (size_t)d->h * (size_t)d->w;
  size_t k = i % d->n;
  int rc = run_sim_frame(r, d->images + k * img, f, err);
  f->index = (int64_t)i;
  f->label = d->nclasses ? d->labels[k] : -1;
  return rc;
}

static void *sim_rec_new(void *hw, struct trace_stream *s,
                         enum trace_detail d) {
  return run_rec_new(hw, s, d);
}

static void *sim_rec_new_frames(void *hw, struct trace_stream *s,
                                enum trace_detail d) {
  return run_rec_new_frames(hw, s, d);
}

static void sim_rec_begin(void *rec, size_t i) {
  run_rec_frame_begin(rec, (int64_t)i);
}

static void sim_rec_end(void *rec, size_t i, const struct run_frame *f) {
  (void)i;
  run_rec_frame_end(rec, f, f->label);
}

static void sim_rec_free(void *rec) { run_rec_free(rec); }

void run_sim_engine(struct run_sim *r, const struct train_data *d,
                    struct run_engine *e) {
  run_sim_set_data(r, d);
  *e = (struct run_engine){.hw = r,
                           .frame = sim_frame,
                           .rec_new = sim_rec_new,
                           .rec_new_frames = sim_rec_new_frames,
                           .rec_begin = sim_rec_begin,
                           .rec_end = sim_rec_end,
                           .rec_free = sim_rec_free};
}

/* ---- the run row's configuration ---------------------------------------- */

void run_config_set_chip(json_t *j, uint32_t mesh_w, uint32_t mesh_h,
                         uint32_t cores) {
  json_object_set_new(j, "noc.width", json_integer((json_int_t)mesh_w));
  json_object_set_new(j, "noc.height", json_integer((json_int_t)mesh_h));
  json_object_set_new(j, "run.mesh_width", json_integer((json_int_t)mesh_w));
  json_object_set_new(j, "run.mesh_height", json_integer((json_int_t)mesh_h));
  json_object_set_new(j, "run.cores", json_integer((json_int_t)cores));
}

char *run_config_json(const struct sm_conf *c, const char *model,
                      const char *data, uint32_t mesh_w, uint32_t mesh_h,
                      uint32_t cores, uint64_t frames) {
  json_t *j = sm_conf_to_json(c);
  json_object_set_new(j, "run.model", json_string(model));
  json_object_set_new(j, "run.data", json_string(data));
  run_config_set_chip(j, mesh_w, mesh_h, cores);
  json_object_set_new(j, "run.frames", json_integer((json_int_t)frames));
  char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(j);
  return s;
}

/* cfg with the mapping file's path and digest added (frees cfg). */
static char *with_mapping(char *cfg, const char *path, const char *digest) {
  json_t *j = json_loads(cfg, 0, NULL);
  free(cfg);
  json_object_set_new(j, "run.mapping", json_string(path));
  json_object_set_new(j, "run.mapping_digest", json_string(digest));
  char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(j);
  return s;
}

int run_sim_record_open(struct run_record *rr, const struct run_sim_row *row,
                        const struct sm_conf *c, const struct run_options *o,
                        const struct run_sim *r, struct sm_err *err) {
  memset(rr, 0, sizeof *rr);
  rr->run_id = -1;
  char hash[17], mhash[17];
  int e = sm_file_digest(row->model, hash, err);
  if (!e && o->mapping)
    e = sm_file_digest(o->mapping, mhash, err);
  if (e)
    return e;
  const struct model_map *map = run_sim_map(r);
  char *cfg = run_config_json(c, row->model, row->data, map->width,
                              map->height, map->ngroups, (uint64_t)row->frames);
  /* a mapping file: resume compares its digest too */
  if (o->mapping)
    cfg = with_mapping(cfg, o->mapping, mhash);
  struct trace_run_info info = {.kind = "run",
                                .config_json = cfg,
                                .model_path = row->model,
                                .model_hash = hash,
                                .detail = trace_detail_name(row->detail),
                                .seed = o->sim.seed,
                                .frames_planned = (int64_t)row->frames,
                                .mesh_width = run_sim_map(r)->width,
                                .mesh_height = run_sim_map(r)->height};
  e = run_record_open(rr, row->db, row->resume, &info, err);
  free(cfg);
  return e;
}

/* ---- totals ------------------------------------------------------------- */

int run_frame_by_index(const struct run_frame *f, int tie_rule) {
  /* ties the lowest index decided: all of them under the index rule,
   * exact ties of the crossing time under the exact rule */
  return tie_rule == CORE_TIE_INDEX ? f->tied > 1 : f->tied_exact > 1;
}

void run_totals_add(struct run_totals *t, const struct run_frame *f,
                    int tie_rule) {
  t->frames++;
  t->labelled += f->label >= 0;
  t->correct += f->label >= 0 && f->pred == f->label;
  t->nodecision += f->pred < 0;
  t->frames_late += f->late_spikes > 0;
  t->frames_perturbed += f->perturbed > 0 || f->dropped > 0;
  t->frames_tied += f->tied > 1;
  t->frames_index += run_frame_by_index(f, tie_rule);
  t->e_sop += f->energy.sop_uj;
  t->e_hop += f->energy.hop_uj;
  t->e_static += f->energy.static_uj;
  t->e_total += f->energy.total_uj;
  t->lat_sum += (double)f->latency_ps;
  t->sops += f->sops;
  t->hops += f->hops;
  t->packets += f->packets;
  t->late += f->late_spikes;
  t->deliveries += f->deliveries;
  t->blocked_ps += f->blocked_ps;
}

/* ---- recording into a database ------------------------------------------ */

int run_record_open(struct run_record *rr, const char *path, int resume,
                    const struct trace_run_info *info, struct sm_err *err) {
  memset(rr, 0, sizeof *rr);
  rr->run_id = -1;
  int e = trace_db_open(path, &rr->db, err);
  if (!e && resume) {
    struct trace_claim c;
    e = trace_run_claim(rr->db, info, TRACE_CLAIM_RESUME, &c, err);
    if (!e && c.outcome != TRACE_CLAIM_RESUMED)
      e = sm_fail(err, SM_EINVAL, "%s: no unfinished run to resume", path);
    if (!e) {
      rr->run_id = c.run_id;
      rr->first_frame = (size_t)c.frames_done;
      rr->took_over = c.took_over;
      rr->was = c.holder;
    }
  } else if (!e) {
    e = trace_run_begin(rr->db, info, &rr->run_id, err);
  }
  if (e) {
    /* a run this call did not open (a refused resume) keeps its status */
    rr->run_id = -1;
    run_record_close(rr, "failed", NULL);
    return e;
  }
  rr->ts = trace_stream_open(rr->db, rr->run_id);
  return 0;
}

int run_record_close(struct run_record *rr, const char *status,
                     struct sm_err *err) {
  trace_stream_close(rr->ts);
  rr->ts = NULL;
  int e = 0;
  if (rr->db && rr->run_id >= 0)
    e = trace_run_end(rr->db, rr->run_id, status, err);
  struct sm_err cerr = {0};
  int e2 = trace_db_close(rr->db, &cerr);
  if (e2 && !e) {
    e = e2;
    if (err)
      *err = cerr;
  }
  rr->db = NULL;
  rr->run_id = -1;
  return e;
}

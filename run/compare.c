/*
 * compare.c -- each frame's prediction against the trainer's reference
 * forward of the same model (its quantized evaluation), computed on a
 * second thread while the simulation runs, and each disagreement's cause
 * (see run.h).
 *
 * Attribution: a frame where arrival timing changed some neuron's spike
 * time (a late or in-window spike, or a dropped one: core_array_settle)
 * disagrees "from arrival timing"; a frame that ran as an ideal network
 * would disagrees "from step quantization", and of those the output ties
 * the lowest index decided are counted apart.
 *
 * Rejected: the comparison by default (the reference rebuilds the network
 * for every image and costs about 4 ms per frame, several times the
 * simulation itself).
 */
#include "run/run.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct run_compare {
  const struct model *m;
  const struct train_data *d;
  size_t n;
  int *ref;        /* [n] the reference's predictions */
  int *pred;       /* [n] the simulation's */
  uint8_t *timing; /* [n] bit 0: arrival timing changed a spike time; bit
                      1: an output tie decided by the lowest index */
  uv_thread_t thread;
  int running, failed;
  struct sm_err err;
};

static void ref_worker(void *arg) {
  struct run_compare *c = arg;
  size_t img = (size_t)c->d->c * (size_t)c->d->h * (size_t)c->d->w;
  for (size_t i = 0; i < c->n; i++)
    if (train_model_forward(c->m, c->d->images + i * img, NULL, &c->ref[i],
                            &c->err)) {
      c->failed = 1;
      return;
    }
}

struct run_compare *run_compare_start(const struct model *m,
                                      const struct train_data *d, size_t n) {
  /* the reference allocates and frees its network per image: keep those
   * blocks on the heap instead of mapping and unmapping them each time */
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  struct run_compare *c = sm_xcalloc(1, sizeof *c);
  c->m = m;
  c->d = d;
  c->n = n;
  c->ref = sm_xmallocarray(n, sizeof *c->ref);
  c->pred = sm_xmallocarray(n, sizeof *c->pred);
  c->timing = sm_xcalloc(n, 1);
  if (uv_thread_create(&c->thread, ref_worker, c) == 0)
    c->running = 1;
  else
    ref_worker(c);
  return c;
}

void run_compare_note(struct run_compare *c, size_t i,
                      const struct run_frame *f, int tie_rule) {
  c->timing[i] = (uint8_t)((f->perturbed > 0 || f->dropped > 0) |
                           (run_frame_by_index(f, tie_rule) ? 2 : 0));
  c->pred[i] = f->pred;
}

static void join(struct run_compare *c) {
  if (c->running)
    uv_thread_join(&c->thread);
  c->running = 0;
}

int run_compare_finish(struct run_compare *c, size_t n,
                       struct run_compare_result *out, struct sm_err *err) {
  join(c);
  memset(out, 0, sizeof *out);
  if (c->failed) {
    if (err)
      *err = c->err;
    return c->err.code ? c->err.code : SM_EIO;
  }
  out->frames = n;
  for (size_t i = 0; i < n; i++) {
    out->ref_correct += c->ref[i] == c->d->labels[i];
    if (c->ref[i] == c->pred[i])
      out->agree++;
    else if (c->timing[i] & 1)
      out->dis_late++;
    else {
      out->dis_quant++;
      out->dis_ties += (c->timing[i] & 2) != 0;
    }
  }
  return 0;
}

void run_compare_free(struct run_compare *c) {
  if (!c)
    return;
  join(c);
  free(c->ref);
  free(c->pred);
  free(c->timing);
  free(c);
}

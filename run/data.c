/*
 * data.c -- a run's input frames: a data set directory of IDX files, or
 * synthetic:SEED images of a model's input shape (models/synth.h), no
 * labels.
 */
#include "run/run.h"

#include <stdlib.h>
#include <string.h>

int run_synth_data(const char *spec, const struct model *m, size_t n,
                   struct train_data *d, struct sm_err *err) {
  const char *pfx = "synthetic:";
  if (strncmp(spec, pfx, strlen(pfx)))
    return 1;
  uint64_t seed;
  if (sm_parse_u64(spec + strlen(pfx), &seed))
    return sm_fail(err, SM_EINVAL,
                   "--data '%s': expected synthetic:SEED with an integer seed",
                   spec);
  if (n < 1 || n > MODEL_SYNTH_MAX_FRAMES)
    return sm_fail(err, SM_ELIMIT,
                   "--data %s: %zu frames; synthetic inputs are generated in "
                   "memory, at most %d (use --frames)",
                   spec, n, MODEL_SYNTH_MAX_FRAMES);
  memset(d, 0, sizeof *d);
  size_t img = (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w;
  d->n = n;
  d->c = m->in_c;
  d->h = m->in_h;
  d->w = m->in_w;
  d->a_max = m->a_max;
  d->nclasses = 0; /* no labels: frames record label -1 */
  d->images = sm_xmallocarray(n, img);
  d->labels = sm_xcalloc(n, 1);
  for (size_t i = 0; i < n; i++)
    model_synth_image(seed, i, m->in_c, m->in_h, m->in_w, d->images + i * img);
  return 0;
}

int run_data_load(const char *spec, const struct model *m,
                  const char *model_path, uint64_t frames,
                  struct train_data *d, struct sm_err *err) {
  memset(d, 0, sizeof *d);
  int labelled = run_synth_data(spec, m, frames ? (size_t)frames : 10, d, err);
  if (labelled < 0)
    return labelled;
  if (labelled) {
    int e = train_data_load_dir(spec, 1, d, err);
    if (e)
      return e;
  }
  size_t img = (size_t)d->c * (size_t)d->h * (size_t)d->w;
  if (img != (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w) {
    int e = sm_fail(err, SM_EINVAL,
                    "%s: input %dx%dx%d, but %s has %dx%dx%d images",
                    model_path, m->in_c, m->in_h, m->in_w, spec, d->c, d->h,
                    d->w);
    train_data_free(d);
    return e;
  }
  return labelled;
}

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
  /* the model's input is at most MODEL_MAX_NEURONS values: no overflow */
  uint64_t img64 = (uint64_t)m->in_c * (uint64_t)m->in_h * (uint64_t)m->in_w;
  if (img64 * n > RUN_SYNTH_MAX_BYTES)
    return sm_fail(err, SM_ELIMIT,
                   "--data %s: %zu frames of %dx%dx%d images are %llu bytes; "
                   "synthetic inputs are generated in memory, at most %llu "
                   "bytes (%llu frames of this model: use --frames)",
                   spec, n, m->in_c, m->in_h, m->in_w,
                   (unsigned long long)(img64 * n),
                   (unsigned long long)RUN_SYNTH_MAX_BYTES,
                   (unsigned long long)(RUN_SYNTH_MAX_BYTES / img64));
  memset(d, 0, sizeof *d);
  size_t img = (size_t)img64;
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

int run_data_check(const struct train_data *d, const struct model *m,
                   const char *spec, const char *model_path,
                   struct sm_err *err) {
  /* the shape, not only the pixel count: 14x56 images are not 28x28 ones */
  if (d->c != m->in_c || d->h != m->in_h || d->w != m->in_w)
    return sm_fail(err, SM_EINVAL,
                   "%s: input %dx%dx%d, but %s has %dx%dx%d images",
                   model_path, m->in_c, m->in_h, m->in_w, spec, d->c, d->h,
                   d->w);
  size_t outputs = model_layer_neurons(&m->layers[m->nlayers - 1]);
  if ((size_t)d->nclasses > outputs)
    return sm_fail(err, SM_EINVAL,
                   "%s: labels go up to %d, but %s has %zu outputs (classes "
                   "0..%zu)",
                   spec, d->nclasses - 1, model_path, outputs, outputs - 1);
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
  int e = run_data_check(d, m, spec, model_path, err);
  if (e) {
    train_data_free(d);
    return e;
  }
  return labelled;
}

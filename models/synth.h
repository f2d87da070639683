/*
 * synth.h -- synthetic models and inputs at the paper's CIFAR-10 scale
 * (`spikemesh synth`, `spikemesh run --data synthetic:SEED`,
 * `spikemesh bench vgg`).
 *
 * The hardware figures of a frame (spikes, SOPs, hops, late spikes,
 * latency, energy) depend on the network's shape, its sparsity and its
 * spike times, not on what the images show.  So without the data set, a
 * VGG with synthetic 4-bit weights, calibrated layer by layer to fire at a
 * target fraction of neurons on synthetic 3x32x32 images, stands in for
 * the trained one.  doc/energy.md describes the calibration and what it
 * cannot stand in for (accuracy).
 *
 * It needs the model and the core's neuron arithmetic (core/core.h); the
 * synthetic data set of a run (run_synth_data) is in run/.
 */
#ifndef SPIKEMESH_MODELS_SYNTH_H
#define SPIKEMESH_MODELS_SYNTH_H

#include <stdint.h>

#include "models/model.h"
#include "util/conf.h"
#include "util/util.h"

enum model_synth_arch { MODEL_SYNTH_VGG16, MODEL_SYNTH_VGG11 };
#define MODEL_SYNTH_ARCH_CHOICES "vgg16|vgg11"
#define MODEL_SYNTH_MAX_LAYERS 32 /* spiking layers */
#define MODEL_SYNTH_MAX_FRAMES 100000 /* synthetic:SEED images per run */

/* Options (table: model_synth_conf_opts; keys "synth.*"). */
struct model_synth_conf {
  int arch;              /* enum model_synth_arch */
  double sparsity;       /* target fraction of neurons that fire, per layer */
  uint64_t seed;         /* weights and calibration images */
  uint64_t calib_images; /* images the calibration runs on */
  uint64_t width_div;    /* channel and dense widths divided by this */
  double mean_step;      /* target mean fire step, fraction of the window */
  double weight_sd;      /* spread of the weights before rounding (q units) */
};
extern const struct sm_opt model_synth_conf_opts[];
extern const size_t model_synth_conf_nopts;

/* One spiking layer's calibration result. */
struct model_synth_layer {
  int model_layer;       /* index in model->layers */
  uint64_t neurons;      /* neurons (before pooling) */
  double fired;          /* fraction that fired on the calibration images */
  double mean_step;      /* mean fire step of those, in steps */
  double scale;          /* chosen weight scale */
  double shift;          /* chosen weight shift (q units, before rounding) */
  int iterations;        /* shift updates used */
};

struct model_synth_report {
  uint32_t nlayers;      /* spiking layers */
  struct model_synth_layer layer[MODEL_SYNTH_MAX_LAYERS];
  double sparsity;       /* spikes per neuron over all spiking layers */
  double seconds;        /* calibration time, s */
};

/* Build and calibrate a synthetic model for steps per window `steps` and
 * the core's rounding `round` (enum core_round).  Bad options are SM_EINVAL
 * or SM_ERANGE naming the key. */
int model_synth_model(const struct model_synth_conf *c, uint32_t steps, int round,
                    struct model **out, struct model_synth_report *rep,
                    struct sm_err *err);

/* The network's shape alone: every weight 0 and scale 1, uncalibrated
 * (for the mapper and tests).  The options are not checked. */
struct model *model_synth_shape(const struct model_synth_conf *c);

/* Synthetic image `index` of stream `seed` (chw bytes, 1..255: smooth
 * random gradients and waves with a little noise; every pixel spikes, as
 * almost every pixel of a natural image does).  The same (seed, index)
 * always gives the same image. */
void model_synth_image(uint64_t seed, uint64_t index, int c, int h, int w,
                     uint8_t *out);

/* The ideal network (every input known when a window opens: the core's
 * closed form, no late spikes) on one image: per spiking layer the number
 * of neurons that fire, into fired[MODEL_SYNTH_MAX_LAYERS].  Returns the
 * number of spiking layers, or a negative SM_E* code. */
int model_synth_forward(const struct model *m, const uint8_t *image,
                      uint32_t steps, int round, uint64_t *fired,
                      struct sm_err *err);

#endif /* SPIKEMESH_MODELS_SYNTH_H */

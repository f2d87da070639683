/*
 * train.h -- the DTA-TTFS trainer: IDX data, architecture strings, the
 * network (dense, conv, pool, flatten), ANN pretraining, SNN training with
 * the dynamic firing threshold, 4-bit quantization-aware fine-tuning,
 * evaluation and export to the model file (models/model.h).
 *
 * Window frame.  A spiking layer l may fire only inside its window
 * [l*Tw, (l+1)*Tw].  Everything here works with the activation
 *     x = (l+1)*Tw - t   in [0, Tw],   x = 0 meaning silent,
 * so the input encoding of Eq. 1 is x = a / a_max, and a neuron of a
 * spiking layer, with Swx = sum_C w*x and Sw = sum_C w over the inputs C
 * that fired (x > 0), has (Eq. 7 rewritten in the window frame):
 *     x = Tw                           if Swx >= Tw       (window start)
 *     x = (Swx + Tw*Sw) / (1 + Sw)     if 1 + Sw > 0 and 0 < x < Tw
 *     x = 0                            otherwise           (silent)
 * Max pooling is max on x (min on t: the earliest spike wins).  The class
 * is the output neuron with the largest x (fires first); ties go to the
 * lowest index; no output spike means no decision (pred = -1).
 * doc/trainer.md has the derivation and the measured figures.
 */
#ifndef SPIKEMESH_TRAIN_H
#define SPIKEMESH_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "models/model.h"
#include "util/conf.h"
#include "util/util.h"

/* ---- options ------------------------------------------------------------ */

enum train_readout {
  TRAIN_READOUT_TIME,     /* Eq. 8: cross-entropy on x = -t + const */
  TRAIN_READOUT_POTENTIAL /* cross-entropy on the output Swx at window start */
};
#define TRAIN_READOUT_CHOICES "time|potential"

/* How QAT picks each layer's quantization scale (train.qat_scale). */
enum train_qat_scale {
  TRAIN_QSCALE_REFRESH, /* least squared error, refreshed every 32 steps */
  TRAIN_QSCALE_FIXED,   /* least squared error once, at the stage start */
  TRAIN_QSCALE_SEARCH   /* least calibration loss once, at the stage start */
};
#define TRAIN_QSCALE_CHOICES "refresh|fixed|search"

struct train_conf {
  char arch[SM_CONF_STRLEN];    /* e.g. "784-800-10" */
  char data[SM_CONF_STRLEN];    /* directory with the four IDX files */
  char out[SM_CONF_STRLEN];     /* exported model file */
  char checkpoint[SM_CONF_STRLEN]; /* float checkpoint per epoch ("" = none) */
  char init[SM_CONF_STRLEN];    /* start from this model file ("" = ANN) */
  char name[SM_CONF_STRLEN];    /* model name in the file */
  char milestones[SM_CONF_STRLEN]; /* fractions of a stage, "0.5,0.75" */
  uint64_t ann_epochs;          /* ANN pretraining epochs (epochs) */
  uint64_t epochs;              /* SNN epochs (epochs) */
  uint64_t qat_epochs;          /* quantization-aware epochs (epochs) */
  uint64_t batch;               /* samples per step (samples) */
  double ann_lr;                /* Adam step, ANN stage */
  double lr;                    /* Adam step, SNN stage */
  double qat_lr;                /* Adam step, QAT stage */
  double gamma;                 /* lr factor at each milestone */
  double weight_decay;          /* decoupled (AdamW) decay per step */
  uint64_t bits;                /* weight bits of the export (bits); 0 = float */
  int readout;                  /* enum train_readout */
  double tw;                    /* window length (window units) */
  double logit_scale;           /* SNN loss on k * logits; 1 = Eq. 8 as is */
  double ramp_epochs;           /* SNN stage: Sw weight ramps 0 -> 1 (epochs) */
  double sw_penalty;            /* SNN stages: weight of the mean Sw^2 term */
  double silent_push;           /* SNN stages: weight of the silent-neuron push */
  int qat_scale;                /* enum train_qat_scale */
  uint64_t qat_freeze;          /* QAT: leading weight layers kept fixed (layers) */
  uint64_t calib;               /* training images for qat_scale=search */
  uint64_t shift;               /* training images shifted by up to +-this (pixels) */
  int flip;                     /* training images mirrored left-right at random */
  uint64_t seed;                /* RNG seed */
  uint64_t threads;             /* BLAS threads (threads) */
  uint64_t limit;               /* use the first N training samples; 0 = all (samples) */
  int quiet;                    /* no per-epoch progress */
};

extern const struct sm_opt train_conf_opts[];
extern const size_t train_conf_nopts;

/* ---- data --------------------------------------------------------------- */

/* An IDX file: unsigned-byte data only (type 0x08), 1..4 dimensions. */
struct train_idx {
  int ndims;
  uint32_t dims[4];
  size_t size;   /* product of dims (bytes) */
  uint8_t *data; /* [size] */
};

/* Read an IDX file, plain or gzip-compressed (zlib detects which).  Checks
 * the magic (0x00 0x00 0x08 ndims), the dimensions (non-zero, product below
 * a safety limit) and that the file holds exactly that many bytes.  Errors
 * name the file and the fault. */
int train_idx_load(const char *path, struct train_idx *out, struct sm_err *err);
void train_idx_free(struct train_idx *idx);

/* A labelled image set. */
struct train_data {
  size_t n;          /* samples */
  int c, h, w;       /* image shape (channels, rows, columns) */
  double a_max;      /* pixel full scale (255) */
  int nclasses;      /* max label + 1 */
  uint8_t *images;   /* [n][c*h*w] */
  uint8_t *labels;   /* [n] */
};

/* Load an images file (3-D: n x h x w, or 4-D: n x c x h x w) and a labels
 * file (1-D: n), checking that the counts agree and that the image's
 * channels, rows and columns are each at most TRAIN_MAX_IMAGE_DIM (the
 * model format's largest side). */
#define TRAIN_MAX_IMAGE_DIM 65536
int train_data_load(const char *images, const char *labels,
                    struct train_data *out, struct sm_err *err);
/* Where the data set is unless told otherwise (Debian's
 * dataset-fashion-mnist): train.data's default, and run's and sweep's. */
#define TRAIN_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

/* Load "<dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]". */
int train_data_load_dir(const char *dir, int test, struct train_data *out,
                        struct sm_err *err);
void train_data_free(struct train_data *d);

/* ---- architecture ------------------------------------------------------- */

/* One layer of an architecture string.
 *   input:   "784" (flat), "28x28" (1 channel), "3x32x32" (C x H x W)
 *   dense:   "800"
 *   conv:    "16C5" (valid padding), "16C5s" (same padding, odd kernel)
 *   pool:    "P2" (max pooling, window = stride = 2, must divide; directly
 *            after a conv layer, as the mapper fuses it into that layer)
 *   flatten: "F" (implied before a dense layer after conv/pool)
 */
struct train_arch {
  int in_c, in_h, in_w; /* input shape; flat input: in_c = size, h = w = 1 */
  int flat_input;       /* input given as one number */
  size_t nlayers;
  struct model_layer layers[64]; /* shapes filled; weights NULL */
};

/* Parse an architecture.  img_* is the data's image shape (0 to take the
 * string's own); a flat input must have c*h*w values.  Errors quote the
 * token and say what was expected. */
int train_arch_parse(const char *s, int img_c, int img_h, int img_w,
                     struct train_arch *out, struct sm_err *err);

/* ---- network ------------------------------------------------------------ */

struct train_net;

/* Build a network for an architecture (Kaiming-normal weights from seed). */
struct train_net *train_net_new(const struct train_arch *a, double tw,
                                uint64_t seed);
/* Build a network holding a model's weights exactly (w = q*scale). */
struct train_net *train_net_from_model(const struct model *m);
void train_net_free(struct train_net *n); /* NULL-safe */

/* Export: bits = 0 keeps float32 weights; 2..8 quantizes each layer with
 * its own scale (the one QAT used).  Caller fills name/metadata after. */
struct model *train_net_to_model(struct train_net *n, const char *arch,
                                 int bits, double a_max, int readout);

/* Per-layer evaluation figures. */
struct train_layer_stats {
  int layer;          /* index in the model's layer list */
  size_t neurons;     /* neurons of the layer */
  double silent;      /* fraction of (neuron, sample) pairs silent */
  double saturated;   /* fraction firing at the window start */
};

struct train_eval {
  double accuracy;    /* first-spike decision, 0..1 */
  double loss;        /* mean cross-entropy of the net's readout */
  double sparsity;    /* spikes per neuron of the spiking layers */
  size_t nlayers;     /* spiking layers */
  struct train_layer_stats layer[64];
};

/* Evaluate a network on a data set (SNN forward with the current weights;
 * quantized when the net carries quantized weights). */
void train_net_eval(struct train_net *n, const struct train_data *d,
                    double a_max, int readout, struct train_eval *ev);

/* The reference inference on a loaded model, for one image: the SNN
 * forward exactly as trained, with w = q*scale (float32) as stored.
 * layer_x[s] (may be NULL entries, or layer_x itself NULL) receives the
 * window-frame activations x of spiking layer s (s = 0 is the first dense
 * or conv layer), model_layer_neurons() values in (c,h,w) order; the spike
 * time of neuron j of spiking layer s is (s+2)*tw - x for x > 0, i.e. the
 * input (window 0) spikes at tw - a/a_max and window s+1 is
 * [(s+1)*tw, (s+2)*tw].  Pool layers are applied between spiking layers
 * and are not reported.  *pred receives the first-spike class or -1.
 * Returns 0, or an error if the model cannot be built. */
int train_model_forward(const struct model *m, const uint8_t *image,
                        float *const *layer_x, int *pred, struct sm_err *err);

/* ---- training ----------------------------------------------------------- */

struct train_result {
  double float_acc;        /* float SNN, test set, first spike */
  double quant_acc;        /* exported model, test set, first spike */
  struct train_eval float_eval, quant_eval;
  double seconds;          /* wall time of the whole run (s) */
  double samples_per_s;    /* mean training throughput (samples/s) */
};

/* The whole pipeline: data, ANN pretraining, SNN training, QAT, export.
 * `command` is recorded in the model's metadata.  Progress goes to log. */
int train_run(const struct train_conf *c, const char *command, FILE *log,
              struct train_result *res, struct sm_err *err);

/* Progress inside an epoch: after each batch of stage `stage` (ann, snn,
 * qat), epoch `epoch` (0-based) of `epochs`, `done` of the epoch's `total`
 * samples, on the training thread.  The last call of an epoch has done ==
 * total and comes before its line on the log.  NULL (the default): none. */
typedef void (*train_progress_fn)(void *ctx, const char *stage, size_t epoch,
                                  size_t epochs, size_t done, size_t total);
void train_set_progress(train_progress_fn fn, void *ctx);

/* Evaluate a model file on a data set and print the report. */
int train_eval_model(const struct model *m, const struct train_data *test,
                     struct train_eval *ev, struct sm_err *err);
void train_print_eval(FILE *out, const char *what, const struct train_eval *ev);

/* A model file evaluated on the test set of c->data with c->threads BLAS
 * threads (`train --eval`); a float model with c->bits > 0 is also
 * evaluated quantized to c->bits bits without fine-tuning (each layer its
 * own scale).  Free with train_eval_file_free(). */
struct train_eval_file {
  struct model *m;         /* the model file, loaded */
  size_t ntest;            /* images in the test set */
  int bits;                /* the model's weight bits (last layer), 0: float */
  struct train_eval ev;    /* the model as stored */
  int have_quant;          /* quant is set (its evaluation ran) */
  struct train_eval quant; /* the float model quantized to c->bits */
};
int train_eval_file(const char *path, const struct train_conf *c,
                    struct train_eval_file *out, struct sm_err *err);
void train_eval_file_free(struct train_eval_file *f); /* NULL-safe */

/* ---- benchmark hooks ---------------------------------------------------- */

/* One SNN training step (forward, backward, Adam) on a batch, BLAS or the
 * naive-loop baseline; returns the loss. */
double train_bench_step(struct train_net *n, const struct train_data *d,
                        size_t first, size_t bs, int naive);
void train_set_threads(int threads);

#endif /* SPIKEMESH_TRAIN_H */

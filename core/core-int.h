/*
 * core-int.h -- private to core/: the layout of a core array.
 *
 * Each layer keeps its own copy of the weights and one fire-step array for
 * all its neurons (indexed c*h*w + y*w + x); a core's neuron state is in
 * per-core arrays indexed locally (channel, then row, then column of its
 * tile), with each neuron's layer and output index kept beside it.
 * Dense cores keep their weights transposed (one SRAM row per input: the
 * synapses one incoming spike touches are contiguous), conv cores point at
 * their channels' kernels in the layer copy (weight sharing).
 */
#ifndef SPIKEMESH_CORE_INT_H
#define SPIKEMESH_CORE_INT_H

#include "core/core.h"

enum core_kind_off { CORE_EV_OPEN, CORE_EV_TICK, CORE_EV_APPLY };

struct core_lay {
  struct core_layer spec;   /* q points at the copy below */
  int8_t *q;                /* owned copy of the weights */
  int64_t m;                /* fixed-point scale mantissa */
  int f;                    /* fixed-point scale exponent: scale = m * 2^-f */
  uint32_t nneurons;        /* neurons before pooling */
  uint32_t ninputs;         /* size of the input index space */
  uint32_t nout;            /* outputs after pooling */
  uint32_t plane;           /* out_h * out_w: neurons per channel */
  uint32_t pooled_plane;    /* (out_h/pool) * (out_w/pool) */
  int32_t *fire;            /* [nneurons] fire step this frame */
  int64_t *key_n, *key_d;   /* [nout] exact crossing of each sent output,
                               steps (num/den); not sent: INT64_MAX/1.
                               Recorded for the last layer only. */
  uint8_t *held;            /* [nneurons] the neuron is in a core */
  uint32_t covered;         /* neurons assigned to cores so far */
  sim_time_t open;          /* ps, this frame's window opening */
  struct core_layer_stats st;
};

struct core {
  uint32_t layer;
  struct core_tile t;       /* neurons held (map before pooling) */
  uint32_t tw;              /* x1 - x0: tile columns */
  uint32_t tplane;          /* (y1-y0) * (x1-x0): tile neurons per channel */
  uint32_t n;               /* neurons held: (c1-c0) * tplane */
  int64_t *a;               /* [n] slope: sum of q over received inputs */
  int64_t *b;               /* [n] offset: sum of q*x, x in steps */
  int32_t *fire;            /* [n] fire step this frame (written through to
                               the layer's array at gidx) */
  uint32_t *gidx;           /* [n] layer index c*h*w + y*w + x of neuron j */
  uint32_t *oidx;           /* [n] its output index after pooling;
                               UINT32_MAX: cropped by the pooling */
  uint32_t *pslot;          /* [n] its pooling window among the core's
                               (pool > 1 only, else NULL) */
  uint8_t *fired;           /* [n] spike emitted this frame */
  uint8_t *pool_sent;       /* [npool] pooled output sent */
  uint32_t npool;           /* pooling windows in the tile */
  uint8_t *tick_pending;    /* [S+1] a tick event is queued for the step */
  const int8_t *w;          /* dense: [ninputs][n] transposed; conv: kernels */
  int8_t *wt;               /* owned transposed dense weights */
  int opened;               /* the window has opened this frame */
  sim_time_t busy_until;    /* ps, SRAM pipeline busy until */
  uint64_t sops;
};

struct core_array {
  struct sim_kernel *k;
  struct core_conf conf;
  uint16_t kind_base;
  core_send_fn send;
  void *ctx;
  uint32_t nlayers;
  struct core_lay *lay;
  uint32_t ncores, capcores;
  struct core *cores;
  uint64_t outstanding;     /* core events queued and not yet handled */
};

#endif /* SPIKEMESH_CORE_INT_H */

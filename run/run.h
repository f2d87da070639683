/*
 * run.h -- the assembly of a simulation: the options of a run, cores and
 * mesh and recorder wired on one kernel, the one frame loop that `run`,
 * `sweep` and `replay` use, the rows a run records, and the sweep engine.
 *
 * run/ sits between the program (cli/, which parses arguments and prints)
 * and the modules it wires together (models, core, noc, traces, trainer).
 * Sections below, one per file of run/:
 *   options.c   every module's option table, gathered; the WxH parser
 *   data.c      a run's input frames (IDX test set or synthetic)
 *   sim.c       a model mapped onto cores and a mesh, frame by frame
 *   loop.c      the one frame loop, the run row's configuration, totals,
 *               recording into a database
 *   compare.c   predictions against the trainer's reference forward
 *   record.c    what a run writes into the recorder at each detail level
 *   replay.c    a trace injected frame by frame; spikes to packets
 *   grid.c      a sweep's grid file: parsed, checked, expanded
 *   sweep.c     a sweep's points run in parallel into one database
 *   noc.c       latency-throughput sweeps of synthetic traffic on the mesh
 *   energy.c    Eq. 12 recomputed over a recorded run's frames
 *   bench.c     the measurements of `spikemesh bench`
 */
#ifndef SPIKEMESH_RUN_H
#define SPIKEMESH_RUN_H

#include <stdatomic.h>

#include "core/core.h"
#include "models/map.h"
#include "models/mapfile.h"
#include "models/model.h"
#include "models/synth.h"
#include "noc/noc.h"
#include "sim/sim.h"
#include "traces/trace.h"
#include "trainer/train.h"
#include "util/conf.h"

/* ==== options.c ========================================================= */
/*
 * Every module's option table, gathered for the program.
 *
 * struct run_options holds the value structs of all modules; one
 * struct sm_conf over them is what `spikemesh config`, configuration files
 * and key=value overrides of every command work on, so an option has one
 * name everywhere.
 */
struct run_options {
  struct sim_conf sim;
  struct core_conf core;
  struct core_energy_conf energy;
  struct model_map_conf map;
  struct model_preset_conf preset;
  struct noc_conf noc;
  struct noc_traffic_conf traffic;
  struct train_conf train;
  struct model_synth_conf synth;
  /* Not an option of any table: a mapping file to read instead of mapping
   * with map.* (run --mapping; NULL: none).  The run row's configuration
   * records it and its digest (run.mapping, run.mapping_digest). */
  const char *mapping;
};

/* Register every table of o into c (c is initialised here).  noc.width
 * and noc.height are this module's: 0..NOC_MAX_SIDE routers, 0 x 0 (the
 * default) meaning auto. */
void run_options_init(struct run_options *o, struct sm_conf *c);

/* The mesh o asks for: noc.width x noc.height, or 0 x 0 for auto (the
 * mapper's smallest square).  SM_EINVAL naming both keys when one side is
 * 0 and the other is not. */
int run_options_mesh(const struct run_options *o, uint32_t *w, uint32_t *h,
                     struct sm_err *err);
/* The side of the mesh where nothing sizes it: synthetic traffic (`noc`,
 * `bench noc`) and a packet trace whose meta names no mesh. */
#define RUN_MESH_FALLBACK 8
/* For a command with no mapping: auto becomes RUN_MESH_FALLBACK x
 * RUN_MESH_FALLBACK in o (errors as run_options_mesh). */
int run_options_fixed_mesh(struct run_options *o, struct sm_err *err);

/* A mesh size: "WxH" (or "WXH"), digits only, each side 1..
 * MODEL_MAP_MAX_SIDE, or "auto" (0 x 0: the mapper's smallest square).
 * Returns 0, or -1 for anything else. */
int run_mesh_parse(const char *s, uint32_t *w, uint32_t *h);

/* The keys a command takes as key=value (NULL-terminated: an entry ending
 * in '.' is a prefix, any other a whole key).  A known key outside its
 * command's list is refused there (run_key_refuse), never ignored. */
extern const char *const run_keys_run[];      /* run, replay, sweep points */
extern const char *const run_keys_replay_packets[]; /* replay, packets */
extern const char *const run_keys_noc[];      /* noc, bench noc */
extern const char *const run_keys_energy[];   /* energy frame */
extern const char *const run_keys_bench_vgg[];
extern const char *const run_keys_synth[];
extern const char *const run_keys_train[];
extern const char *const run_keys_map[];      /* map: what shapes a mapping */
/* 1 when key is in keys (NULL: every key). */
int run_key_taken(const char *const *keys, const char *key);
/* keys as text ("sim.*, core.*, ..."). */
void run_keys_text(const char *const *keys, char *buf, size_t len);
/* 0 when cmd takes key, else SM_ENOKEY: "SOURCE: key 'K' is not used by
 * CMD, which takes ... (the commands that take it)". */
int run_key_refuse(const char *cmd, const char *const *keys, const char *key,
                   const char *source, struct sm_err *err);

/* ==== data.c ============================================================ */
/* Bytes of synthetic images one run generates in memory, at most. */
#define RUN_SYNTH_MAX_BYTES ((uint64_t)1 << 30)
/* "synthetic:SEED" data for a model: n images of its input shape, labels
 * 0.  Returns 1 if spec is not synthetic (nothing done), 0 when filled,
 * or a negative SM_E* code for a bad seed, n outside
 * 1..MODEL_SYNTH_MAX_FRAMES or n images above RUN_SYNTH_MAX_BYTES (checked
 * before anything is allocated or generated). */
int run_synth_data(const char *spec, const struct model *m, size_t n,
                   struct train_data *d, struct sm_err *err);

/* A run's frames: synthetic:SEED (frames of them, 10 when 0) or the IDX
 * test set in directory spec, checked against m's input shape (channels,
 * rows and columns) and, labelled, its labels against m's outputs.  The one
 * place that loads a run's frames (run, sweep points, bench vgg).  Returns
 * 1 (labelled), 0 (synthetic: no labels, d->nclasses 0; its frames record
 * label -1) or a negative SM_E* code. */
int run_data_load(const char *spec, const struct model *m,
                  const char *model_path, uint64_t frames,
                  struct train_data *d, struct sm_err *err);
/* The checks run_data_load makes of a data set against a model (a set
 * loaded once for several models is checked against each). */
int run_data_check(const struct train_data *d, const struct model *m,
                   const char *spec, const char *model_path,
                   struct sm_err *err);

/* ==== sim.c ============================================================= */
/*
 * The assembly of an inference run: a model mapped onto cores,
 * the cores' network interfaces wired to the mesh, frames run one after
 * another on one event kernel, and per-frame counts and energy.
 *
 * It is the one place that knows the model, the mapper, the cores and the
 * network together.
 */
#define RUN_KIND_NOC 0                   /* noc kinds [0, NOC_NKINDS) */
#define RUN_KIND_CORE NOC_NKINDS         /* core kinds after them */

/* One frame's results. */
struct run_frame {
  int64_t index;           /* the frame's number (recorded as frames.frame) */
  int label;               /* its class in the data set; -1: none */
  int pred;                /* first output spike's class, -1: no decision */
  int32_t out_step;        /* its step in the output window */
  sim_time_t t_first_in;   /* ps, first input spike (0 if none) */
  sim_time_t t_decision;   /* ps, output decision */
  sim_time_t latency_ps;   /* ps, first input spike to decision (or to the
                              output window's end without a decision) */
  uint64_t sops;           /* synaptic operations */
  uint64_t hops;           /* link traversals */
  uint64_t packets;        /* packets handed to the network */
  uint64_t spikes;         /* spikes sent (all layers, after pooling) */
  uint64_t late_spikes;    /* deliveries that were late */
  uint64_t late_synapses;  /* synapses those could not update */
  uint64_t dropped;        /* deliveries after their window closed */
  uint64_t perturbed;      /* neurons whose spike time arrival timing changed
                              (core_array_settle) */
  uint32_t tied;           /* output neurons firing at the decision's step
                              (> 1: the tie rule decided) */
  uint32_t tied_exact;     /* of those, crossing exactly when the winner did
                              (> 1: the lowest index decided) */
  uint64_t deliveries;     /* packet copies delivered (replay) */
  uint64_t blocked_ps;     /* ps flits waited at router inputs (replay) */
  struct core_energy energy; /* uJ by term */
};

struct run_sim;

/* The mapper's parameters for options o (core.neurons_per_core,
 * core.sram_bytes, core.weight_bits, map.*) on a mesh_w x mesh_h mesh
 * (0 x 0: the mapper's smallest square).  Every mapping of a model onto
 * the hardware (a run, a sweep point, a replay, a trace export) takes
 * them from here. */
struct model_map_params run_map_params(const struct run_options *o,
                                       uint32_t mesh_w, uint32_t mesh_h);

/* Map m with the options in o (core.*, energy.*, map.*, noc.*); the mesh is
 * mesh_w x mesh_h, or chosen by the mapper when both are 0 (run_sim_map()
 * says which; o is not changed).  With o->mapping, the mapping is the
 * file's (model_mapfile_load: map.* play no part; its mesh must be
 * mesh_w x mesh_h unless both are 0). */
int run_sim_new(const struct model *m, const struct run_options *o,
                uint32_t mesh_w, uint32_t mesh_h, struct run_sim **out,
                struct sm_err *err);
void run_sim_free(struct run_sim *r); /* NULL-safe */

/* Put the kernel and the mesh back as new (clock and schedule order at 0,
 * round-robin pointers, credit rings): run_sim_frame does it first, so a
 * frame's result depends only on its image and the configuration, not on
 * the frames before it.  SM_ESTATE if the last frame did not drain. */
int run_sim_reset(struct run_sim *r, struct sm_err *err);
/* Run one frame (image: in_c*in_h*in_w bytes, full scale m->a_max) to the
 * end: every spike delivered, the network drained.  Its clock starts at 0
 * (run_sim_reset): recorded times are from the frame's start. */
int run_sim_frame(struct run_sim *r, const uint8_t *image, struct run_frame *f,
                  struct sm_err *err);

/* The simulated clock's horizon: times are recorded as signed 64-bit
 * picoseconds (about 106 days). */
#define RUN_CLOCK_MAX_PS ((uint64_t)INT64_MAX)
/* A frame of a mapping with `layers` layers (input included) lasts at
 * least its windows, layers x core.steps_per_window x core.step_ps, plus
 * one window here for the network to drain; SM_ELIMIT naming those keys
 * when one frame would take the clock past RUN_CLOCK_MAX_PS (every frame
 * starts the clock at 0, so the number of frames does not matter; checked
 * before a run starts; run_sim_frame refuses a frame that would end past
 * it as well). */
int run_clock_check(const struct core_conf *c, uint32_t layers,
                    uint64_t frames, struct sm_err *err);

const struct model_map *run_sim_map(const struct run_sim *r);
/* Its kernel (for an observer: bench lookahead). */
struct sim_kernel *run_sim_kernel(struct run_sim *r);
const struct model *run_sim_model(const struct run_sim *r);
/* The data set run_sim_engine() runs frames of (or NULL). */
void run_sim_set_data(struct run_sim *r, const struct train_data *d);
const struct train_data *run_sim_data(const struct run_sim *r);
const struct core_array *run_sim_cores(const struct run_sim *r);
/* Input spike step of a pixel: nearest step to x = a/a_max windows, a = 0
 * silent. */
int32_t run_encode(uint8_t a, double a_max, uint32_t steps);

/* ---- recording hooks (cli/record.c) ------------------------------------ */
/* Called for every spike a core sends (output layer included), before it
 * becomes a packet; NULL (the default) costs one branch per spike. */
typedef void (*run_spike_fn)(void *ctx, uint32_t core, uint32_t layer,
                                 uint32_t neuron, uint32_t step, sim_time_t t);
void run_sim_set_spike_hook(struct run_sim *r, run_spike_fn fn, void *ctx);
struct noc_mesh *run_sim_noc(struct run_sim *r);

/* ==== loop.c ============================================================ */
/*
 * The one frame loop: run, sweep points and replay all run their frames
 * through run_loop_frames(), over an engine that simulates a frame and
 * records it.
 */
struct run_engine {
  void *hw;              /* the hardware: a struct run_sim, a run_replay */
  /* Simulate frame i (0-based in the loop) into *f. */
  int (*frame)(void *hw, size_t i, struct run_frame *f, struct sm_err *err);
  /* A recorder writing the engine's rows into s at detail d, told before
   * and after each frame; freed when the loop ends. */
  void *(*rec_new)(void *hw, struct trace_stream *s, enum trace_detail d);
  /* A further recorder of the same run on another engine (run_loop_jobs):
   * frame rows only; NULL if the engine cannot run on several threads. */
  void *(*rec_new_frames)(void *hw, struct trace_stream *s,
                          enum trace_detail d);
  void (*rec_begin)(void *rec, size_t i);
  void (*rec_end)(void *rec, size_t i, const struct run_frame *f);
  void (*rec_free)(void *rec);
};

struct run_loop {
  const struct run_engine *e;
  size_t n;              /* frames [0, n) */
  size_t first_rec;      /* frames before it run again unrecorded (resume) */
  struct trace_stream *ts; /* NULL: nothing recorded */
  struct trace_db *db;   /* ts's database: the loop stops once its writer
                            failed (disk full, locked too long); NULL: not
                            checked */
  enum trace_detail detail;
  atomic_int *stop;      /* read before each frame; NULL: never stops */
  /* After each frame (or NULL). */
  void (*on_frame)(void *ctx, size_t i, const struct run_frame *f);
  void *ctx;
};

/* Run the loop's frames in order.  Returns 0 when all ran, SM_EINTR when
 * *stop was set, the failing frame's error, or the database writer's
 * (recorded loops stop once it failed); *done counts the frames
 * simulated. */
int run_loop_frames(const struct run_loop *l, size_t *done,
                    struct sm_err *err);

/* Most threads of run_loop_jobs (run --jobs). */
#define RUN_JOBS_MAX 64

/* The same frames on nj threads (1..RUN_JOBS_MAX), engine es[j] on thread
 * j (l->e is ignored; each engine its own hardware, all over the same data
 * read-only; frames must be independent, run_sim_reset).  Threads take the
 * next frame in turn; a frame's rows go to the writer, and on_frame is
 * called, in frame order: each thread records into its own stream
 * (streams[j], opened on l->ts's run) and hands a frame over only when
 * every frame before it has been, so the database, the totals and the
 * callbacks are those of run_loop_frames.  The stop flag is read before a
 * thread takes a frame: the frames taken finish and are recorded, so a
 * stop leaves whole frames [first_rec, done).  An error at frame i ends
 * the loop with the frames before i recorded.  nj = 1 is run_loop_frames
 * on es[0]. */
int run_loop_jobs(const struct run_loop *l, const struct run_engine *es,
                  struct trace_stream *const *streams, size_t nj,
                  size_t *done, struct sm_err *err);
/* The engine of a mapped model over data set d (frame i: image i, past
 * the set's end image i mod d->n: a benchmark runs more frames than a
 * set holds). */
void run_sim_engine(struct run_sim *r, const struct train_data *d,
                    struct run_engine *e);

/* The run row's configuration: every option plus the run's own inputs, so
 * that --resume and a sweep's skip can tell the same run from another
 * one, and what Eq. 12's static term needs to be recomputed.  mesh_w x
 * mesh_h is the mesh the run used (written as noc.width and noc.height,
 * whatever the options asked, and as run.mesh_width and run.mesh_height);
 * cores the cores its mapping uses (run.cores).  The caller frees it. */
char *run_config_json(const struct sm_conf *c, const char *model,
                      const char *data, uint32_t mesh_w, uint32_t mesh_h,
                      uint32_t cores, uint64_t frames);
/* The same keys (noc.width, noc.height, run.mesh_width, run.mesh_height,
 * run.cores) set in a configuration object j. */
void run_config_set_chip(json_t *j, uint32_t mesh_w, uint32_t mesh_h,
                         uint32_t cores);

/* Totals over frames, as the commands print them. */
struct run_totals {
  size_t frames, nodecision;
  size_t labelled;         /* frames with a label (accuracy is over these) */
  size_t correct;          /* of those, predicted right */
  size_t frames_late;      /* frames with late spikes */
  size_t frames_perturbed; /* frames where arrival timing changed a spike */
  size_t frames_tied;      /* several outputs at the decision step */
  size_t frames_index;     /* of those, decided by the lowest index */
  double e_sop, e_hop, e_static, e_total; /* uJ, sums */
  double lat_sum;          /* ps, sum */
  double sim_secs;         /* s, simulating them (the caller measures) */
  uint64_t sops, hops, packets, late, deliveries, blocked_ps;
};
void run_totals_add(struct run_totals *t, const struct run_frame *f,
                    int tie_rule);
/* 1 when the lowest index decided the frame's output tie under tie_rule
 * (enum core_tie_rule). */
int run_frame_by_index(const struct run_frame *f, int tie_rule);

/* A run recorded into a database: a new run row, or (resume) the newest
 * unfinished one of info->kind with the same configuration. */
struct run_record {
  struct trace_db *db;
  struct trace_stream *ts;
  int64_t run_id;        /* -1: none */
  size_t first_frame;    /* resumed at this frame (0: a new run) */
  int took_over;         /* resumed a run whose process is gone */
  struct trace_holder was; /* took_over: the claim it left */
};
int run_record_open(struct run_record *rr, const char *path, int resume,
                    const struct trace_run_info *info, struct sm_err *err);
/* End the run with status (complete, interrupted, failed) and close the
 * database; NULL-safe on a record never opened. */
int run_record_close(struct run_record *rr, const char *status,
                     struct sm_err *err);

/* The run row of a `spikemesh run`: where it goes and the run's inputs
 * as given. */
struct run_sim_row {
  const char *db;          /* database file */
  int resume;              /* the newest unfinished run with the same
                              configuration, instead of a new one */
  enum trace_detail detail;
  const char *model;       /* the model file (the row holds its digest) */
  const char *data;        /* the data spec */
  size_t frames;           /* frames planned */
};
/* Open it (run_record_open) for frames of r: kind 'run', the
 * configuration of run_config_json() over c with the mesh and cores of
 * r's mapping, o's seed, the mesh r maps onto. */
int run_sim_record_open(struct run_record *rr, const struct run_sim_row *row,
                        const struct sm_conf *c, const struct run_options *o,
                        const struct run_sim *r, struct sm_err *err);

/* ==== compare.c ========================================================= */
/*
 * Each frame's prediction against the trainer's reference forward of the
 * same model, on a second thread, and the cause of each disagreement.
 */
struct run_compare;
struct run_compare_result {
  size_t frames, ref_correct, agree;
  size_t dis_late;       /* disagreements from arrival timing */
  size_t dis_quant;      /* from step quantization only */
  size_t dis_ties;       /* of those, output ties decided by lowest index */
};
/* Start the reference over the first n frames of d. */
struct run_compare *run_compare_start(const struct model *m,
                                      const struct train_data *d, size_t n);
/* The simulation's frame i. */
void run_compare_note(struct run_compare *c, size_t i,
                      const struct run_frame *f, int tie_rule);
/* Wait for the reference; the result over frames [0, n). */
int run_compare_finish(struct run_compare *c, size_t n,
                       struct run_compare_result *out, struct sm_err *err);
void run_compare_free(struct run_compare *c); /* NULL-safe */

/* ==== record.c ========================================================== */
/*
 * What a run (run/sim.c) writes into the recorder
 * (traces/trace.h) at each detail level, and the run row's identity.
 *
 * A struct run_rec watches one struct run_sim: it
 * installs the run's spike hook (layer detail and above: per-layer hops,
 * each spike charged the links its packet occupies, noc_route_links; link
 * detail: per-core spike counts; spike detail: spike rows) and the mesh's
 * packet observer (packet detail: packet rows).  At summary detail it
 * installs nothing, so an unrecorded or summary run pays no per-event cost.
 */
struct run_rec;

/* Start recording r into stream s at detail d (takes a snapshot of the
 * cumulative counters, so frames already run are not counted again). */
struct run_rec *run_rec_new(struct run_sim *r, struct trace_stream *s,
                            enum trace_detail d);
/* The same, for a further recorder of the same run (another thread's
 * hardware, run --jobs): frame rows only, not the run's layers and mapping
 * rows, which run_rec_new writes once. */
struct run_rec *run_rec_new_frames(struct run_sim *r, struct trace_stream *s,
                                   enum trace_detail d);
/* Detach the hooks and free (NULL-safe); the stream stays the caller's. */
void run_rec_free(struct run_rec *rec);
/* Before run_sim_frame(): the frame's index; per-frame network counters
 * restart (link detail and above). */
void run_rec_frame_begin(struct run_rec *rec, int64_t frame);
/* After run_sim_frame(): the frame's rows, then the frame is handed to the
 * writer as one unit. */
void run_rec_frame_end(struct run_rec *rec, const struct run_frame *f,
                       int label);

/* The layers rows of a run: each mapping layer's type, shape, pooling,
 * neurons and outputs after pooling (written once per run). */
void run_put_layerdefs(struct trace_stream *s, const struct model *m,
                       const struct model_map *map);

/* The mapping rows of a run: each group's layer, channel and spatial
 * ranges, core, node and (x, y), neurons and SRAM bytes (written once per
 * run, at every detail level). */
void run_put_mapping(struct trace_stream *s, const struct model_map *map);

/* The mesh's link rows (outputs that carried flits) and port rows (inputs
 * that passed or blocked flits) since its last noc_reset_stats(). */
void run_rec_put_network(struct trace_stream *s, const struct noc_mesh *noc,
                         int64_t frame);


/* ==== replay.c ========================================================== */
/*
 * A recorded spike or packet trace injected into a chosen architecture,
 * frame by frame through the frame loop (run_replay_engine).
 */
struct run_replay;
struct run_replay_spec {
  struct trace_file *trace; /* spike or packet trace (a packet trace is
                               taken over: *trace is left empty) */
  const char *source;    /* its name, for messages */
  const struct model *m; /* spike traces: the model whose mapping carries
                            the spikes; NULL for packet traces */
  uint32_t mesh_w, mesh_h; /* 0 x 0: auto (a spike trace: the mapper's
                              smallest square; a packet trace: the mesh
                              its meta names, else RUN_MESH_FALLBACK) */
  int mesh_given;          /* mesh_w x mesh_h is not auto */
  double scale;          /* every time multiplied by this (> 0) */
  const char *model_path; /* the model's file, for the run row (NULL or
                             "": none) */
};
/* Map (spike traces) or check (packet traces) and build the mesh; o->noc
 * gets the mesh used.  Errors name the record that does not fit. */
int run_replay_new(const struct run_replay_spec *sp, struct run_options *o,
                   struct run_replay **out, struct sm_err *err);
void run_replay_free(struct run_replay *r); /* NULL-safe */
size_t run_replay_nframes(const struct run_replay *r);
/* The cores of a spike trace's mapping (0 for a packet trace: no cores). */
uint32_t run_replay_cores(const struct run_replay *r);
size_t run_replay_npackets(const struct run_replay *r);
/* Records that were out of time order within their frame (replayed in
 * time order, ties in trace order). */
size_t run_replay_unsorted(const struct run_replay *r);
int64_t run_replay_frames_planned(const struct run_replay *r);
/* The engine: frame i is the trace's i-th frame; its rows carry the
 * trace's frame number. */
void run_replay_engine(struct run_replay *r, struct run_engine *e);
/* The replay's run row (kind 'replay', a new run in database db): its
 * configuration every option of c, sp's source and time scale, the cores
 * of the mapping (run.cores: 0 for a packet trace, which brings none) and
 * the mesh (run.mesh_width, run.mesh_height); its model file, o's seed and
 * the mesh o->noc holds after run_replay_new(). */
int run_replay_record_open(struct run_record *rr, const char *db,
                           enum trace_detail detail, const struct sm_conf *c,
                           const struct run_options *o,
                           const struct run_replay_spec *sp,
                           const struct run_replay *rp, struct sm_err *err);

/* Traces; a run's own spikes: trace_db_spikes(). */
/* Spikes to packets through a mapping of model m: each spike of a layer
 * that sends becomes a packet from its core's node to the core's
 * destinations, deadline the end of the receiving layer's window. */
int run_trace_to_packets(const struct trace_file *in, const struct model *m,
                         const struct model_map *map,
                         const struct core_conf *cc, struct trace_file *out,
                         struct sm_err *err);
/* A spike trace's model file into path: given, else the one its meta
 * names ("model"), else "". */
void run_trace_model_path(const struct trace_file *t, const char *given,
                          char *path, size_t len);
/* A recorded run's spikes (trace_db_spikes of database db) as packets
 * through the run's own mapping: the model file at model_path mapped with
 * the options the run was recorded with (the run row's configuration in
 * the meta, its run.* keys left out, over the defaults) on the run's mesh.
 * out's meta is the spikes' with the mesh the mapping used. */
int run_recorded_packets(const struct trace_file *spikes,
                         const char *model_path, const char *db,
                         struct trace_file *out, struct sm_err *err);

/* ==== grid.c, sweep.c =================================================== */
/*
 * `spikemesh sweep`: a grid (or list) of configuration
 * overrides, every point an independent run of a model on its own
 * hardware, run in parallel on libuv's thread pool into one recorder
 * database with one run row (kind 'sweep') per point.
 *
 * The grid file format and
 * the run keys (run.model, run.data, run.arch, run.mesh, run.frames) are
 * described in doc/sweep.md.
 */
#define RUN_SWEEP_MAX_POINTS 10000

/* What happened to a point in this invocation. */
enum run_sweep_state {
  RUN_SWEEP_PENDING,     /* not started (the sweep was interrupted first) */
  RUN_SWEEP_SKIPPED,     /* complete in the database already */
  RUN_SWEEP_DONE,        /* run (or resumed) to completion now */
  RUN_SWEEP_INTERRUPTED, /* stopped after a frame (Ctrl-C) */
  RUN_SWEEP_FAILED,      /* the run failed (err says why) */
  RUN_SWEEP_HELD         /* another process records its run (err: who) */
};

struct run_sweep_point {
  char *key;             /* point_key: canonical JSON of its overrides */
  char *label;           /* the values that make it this point, for tables */
  json_t *over;          /* its overrides (flat keys, run.* canonical) */
  char *model, *data, *arch; /* run keys (arch: preset name or file) */
  uint32_t mesh_w, mesh_h;   /* 0 x 0: the mapper's smallest square */
  uint32_t used_w, used_h;   /* the mesh it maps onto (after planning) */
  uint64_t frames;       /* frames to run, 0: the whole test set */
  struct run_options o;  /* effective options */
  struct sm_conf conf;   /* over o */
  /* filled by run_sweep_run */
  enum run_sweep_state state;
  int64_t run_id;        /* -1: none */
  int64_t first_frame;   /* resumed from this frame (0: from the start) */
  double secs;           /* s: wall time of its run in this invocation */
  size_t nframes;        /* frames it runs (run.frames, at most the set's) */
  size_t correct;        /* of those simulated in this invocation */
  double e_total_uj;     /* uJ, their energy summed */
  long long frames_run;  /* frames simulated in this invocation */
  struct trace_run_stats st; /* its figures, from the database */
  int pareto;            /* on the energy-latency-accuracy Pareto front */
  struct sm_err err;     /* why it failed */
};

struct run_sweep {
  char *source;          /* the grid file, for messages */
  size_t npoints;
  struct run_sweep_point *points;
  /* filled by run_sweep_run */
  double wall_s;         /* s, first point started to last one ended */
  double sum_s;          /* s, sum of the points' times */
  unsigned peak_workers; /* most points simulating at the same moment */
};

/* Defaults of the run keys when the file does not set them. */
struct run_sweep_defaults {
  const char *model;     /* model file */
  const char *data;      /* data set directory */
  const char *arch;      /* preset name or file */
  uint64_t frames;       /* 0: all */
};

/* Parse a grid (text of `source`), check every key, type and value against
 * the program's option tables and the run keys, and expand it into points
 * (each with its effective options: defaults, preset, base, point).  Errors
 * name the source, the key and what was expected. */
int run_sweep_parse(const char *text, size_t len, const char *source,
                    const struct run_sweep_defaults *d, struct run_sweep **out,
                    struct sm_err *err);
int run_sweep_load(const char *path, const struct run_sweep_defaults *d,
                   struct run_sweep **out, struct sm_err *err);
void run_sweep_free(struct run_sweep *s); /* NULL-safe */
/* Override run.frames of every point (the command's --frames). */
void run_sweep_set_frames(struct run_sweep *s, uint64_t frames);

/* Progress of a running sweep. */
struct run_sweep_progress {
  long long frames_done, frames_total; /* of the points to run */
  size_t points_done;    /* complete now or skipped */
  size_t running;        /* points queued or simulating */
  int best;              /* point index with the best accuracy (then
                            energy) so far, -1: none */
};

struct run_sweep_opts {
  const char *db;        /* database file (created if needed) */
  unsigned jobs;         /* points at a time (>= 1) */
  enum trace_detail detail;
  atomic_int *stop;      /* set to stop after the current frames (or NULL) */
  /* On the calling thread (or NULL): every 250 ms while points run, and
   * once at the end; after each point that ran ended. */
  void (*on_tick)(void *ctx, const struct run_sweep *s,
                  const struct run_sweep_progress *pr);
  void (*on_point)(void *ctx, const struct run_sweep *s, size_t point);
  /* Called on the worker thread after each frame of point `point` (or
   * NULL): for embedders' progress and for tests. */
  void (*frame_hook)(void *ctx, size_t point, int64_t frame);
  void *hook_ctx;
};

/* Run every point not complete in the database; then read every point's
 * figures back and mark the Pareto front.  Models and data sets are loaded
 * once and shared read-only by the workers.  Returns 0 when every point is
 * complete, SM_EINTR when stopped, the first point's error when a point
 * failed, SM_EBUSY when points were left to another process recording
 * them, or an error (bad model, data, mesh or database) found before
 * anything ran. */
int run_sweep_run(struct run_sweep *s, const struct run_sweep_opts *opt,
                  struct sm_err *err);

/* ==== noc.c ============================================================= */
/*
 * `spikemesh noc`: a latency-throughput sweep of synthetic traffic.  Each
 * offered load of traffic.rates is an independent noc_traffic_run() (a
 * fresh kernel and mesh, the same seed); recorded, the sweep is one run of
 * kind 'noc' with one noc_points row per load (one unit per load, so
 * --resume skips the loads done).
 */
#define RUN_NOC_MAX_RATES 256

struct run_noc {
  const struct run_options *o;
  double rates[RUN_NOC_MAX_RATES]; /* flits/node/cycle */
  size_t nrates;
  size_t first;            /* first load to run (resumed: the loads before
                              it are in the database) */
  struct run_record rec;   /* rec.db NULL: not recorded */
  /* filled by run_noc_run */
  int failed;              /* a load did not deliver every flit once */
  double first_sat;        /* flits/node/cycle: nominal rate of the first
                              saturated load run, 0: none */
  double peak;             /* flits/node/cycle: highest accepted */
};

/* Parse traffic.rates and check the noc.* and traffic.* options of o;
 * with db, open the sweep's run (configuration: every option of c) or,
 * with resume, the newest unfinished 'noc' run with the same one. */
int run_noc_open(struct run_noc *s, const struct run_options *o,
                 const struct sm_conf *c, const char *db, int resume,
                 enum trace_detail detail, struct sm_err *err);

/* Called after each load i (its row already recorded). */
typedef void (*run_noc_point_fn)(void *ctx, size_t i,
                                 const struct noc_traffic_result *r);
/* Run loads [first, nrates) in order.  A load that cannot run ends the
 * recorded run as 'failed' and returns its error. */
int run_noc_run(struct run_noc *s, run_noc_point_fn on_point, void *ctx,
                struct sm_err *err);
/* 1 when the load's network emptied with every injected flit delivered
 * exactly once. */
int run_noc_conserved(const struct noc_traffic_result *r);
/* End the recorded run ('failed' if a load was not conserved, else
 * 'complete') and close its database; 0 when nothing is recorded. */
int run_noc_close(struct run_noc *s, struct sm_err *err);

/* ==== energy.c ========================================================== */
/*
 * Eq. 12 over the frames of a recorded run (`energy frame --db`): each
 * frame's terms recomputed from its recorded counts and latency, against
 * the energy the run recorded.
 */
struct run_energy_db {
  int64_t run;             /* the run read */
  char kind[16];           /* its kind ("run", "replay", "sweep") */
  int no_sops;             /* a replay: no cores, so no SOPs and no SOP
                              term (its e[].sop_uj and s_sop are 0, not a
                              figure of the hardware) */
  int own;                 /* the run's own coefficients (else a what-if) */
  struct core_energy_conf ec; /* the coefficients used */
  struct core_chip chip;   /* the run's cores and routers (has_chip) */
  int has_chip;            /* its configuration names them (run.cores,
                              run.mesh_width, run.mesh_height) */
  size_t n;                /* frames (>= 1) */
  struct trace_frame_row *f; /* [n] the recorded frames, in frame order */
  struct core_energy *e;   /* [n] uJ, Eq. 12 recomputed per frame */
  double s_sop, s_hop, s_static, s_total, rec_total; /* uJ, sums */
  double maxdiff;          /* uJ, largest frame |recomputed - recorded| */
  double min, p50, p99, max; /* uJ, E_total over the frames (p50: the
                                n/2-th smallest, p99 the (n-1)*0.99-th) */
  int agree;               /* every frame's recomputed total equals the
                              recorded one to 1e-9 of the mean */
};
/* Run `run` of the database at path (-1: the newest).  Coefficients: ec,
 * with own the energy.* keys of the run's configuration over it.  A run
 * without frames is SM_ENOENT; chip mode for a run whose configuration
 * names no cores and mesh SM_EFORMAT.  Free with run_energy_db_free(). */
int run_energy_db(const char *path, int64_t run, int own,
                  const struct core_energy_conf *ec, struct run_energy_db *out,
                  struct sm_err *err);
void run_energy_db_free(struct run_energy_db *d); /* NULL-safe */

/* ==== bench.c =========================================================== */
/*
 * The measurements of `spikemesh bench` (the program parses and prints):
 * each workload timed, with the baseline it is compared with measured in
 * the same process.  Simulations go through the same code as the commands
 * (the frame loop over run_sim_engine, noc_traffic_run).
 */

/* kernel: the hold model.  n events pending; each dispatched event
 * schedules one more at now + Exp(1 us), so n stays pending.  After a
 * warm-up of max(n, 10^5) events, batches of 10^6 events for at least
 * min_seconds and 5 batches; *digest is the kernel's after the first batch
 * (a fixed event count: every queue must give the same). */
struct run_bench_rate {
  double best, median;   /* events/s over the batches (the machine's speed
                            varies: the best is the least disturbed) */
};
struct run_bench_rate run_bench_hold(enum sim_queue_kind qk, size_t n,
                                     double min_seconds, uint64_t seed,
                                     uint64_t *digest);

/* noc: one offered load of synthetic traffic, a full noc_traffic_run per
 * variant of the same simulation: cycle (every router allocates at every
 * clock edge: the baseline), router (an event per router allocation),
 * merged (routers due together share an event) on the binary heap and on
 * sim.queue. */
#define RUN_BENCH_NOC_VARIANTS 4
struct run_bench_noc_variant {
  const char *events;    /* "cycle", "router", "merged" */
  enum noc_sched sched;
  enum sim_queue_kind q;
};
/* The workload: 8x8 mesh, clocked preset (models/arch/noc-clocked.json),
 * single-flit uniform traffic; set into c before the user's keys. */
int run_bench_noc_preset(struct sm_conf *c, struct sm_err *err);
/* The variants, in the order of the results (q: sim.queue). */
void run_bench_noc_variants(enum sim_queue_kind q,
                            struct run_bench_noc_variant *v);
/* r[RUN_BENCH_NOC_VARIANTS]; SM_ESTATE (naming the variant) when a
 * variant's delivery digest differs from the baseline's. */
int run_bench_noc_load(const struct run_options *o, double rate,
                       struct noc_traffic_result *r, struct sm_err *err);

/* train: samples/s of SNN training steps of batch bs on a network of
 * architecture arch over d's image shape (window 1, weights of seed 1),
 * with BLAS and (baseline) with the GEMMs as plain loops, each after one
 * warm-up step for at least min_s. */
struct run_bench_train {
  double rate, base;     /* samples/s: BLAS, naive loops (0: not run) */
  size_t steps, bsteps;  /* steps timed for each */
};
int run_bench_train_arch(const char *arch, const struct train_data *d,
                         size_t bs, int baseline, double min_s,
                         struct run_bench_train *r, struct sm_err *err);

/* recorder: n frames of m over d (frame i: image i mod d->n) on the
 * default preset through the frame loop, recorded at `detail` into a fresh
 * database at path (removed afterwards; a file already there, or its -wal,
 * -shm or -journal, is refused and left alone), or into none (detail < 0).
 * *secs: wall time from opening the database to closing it; *rows: rows
 * inserted (0 without a database). */
int run_bench_recorder_level(const struct model *m,
                             const struct train_data *d, size_t n, int detail,
                             const char *path, double *secs, uint64_t *rows,
                             struct sm_err *err);
/* The writer alone: nrows spike rows (1000 per frame unit) through a
 * stream as fast as it takes them, timed to the last commit; *rows
 * committed.  The database at path is new (as above) and removed. */
int run_bench_writer(const char *path, uint64_t nrows, uint64_t *rows,
                     double *secs, struct sm_err *err);
/* Remove a database file and its -wal and -shm files. */
void run_bench_rm_db(const char *path);

/* vgg: frames of synthetic:1 images (run_data_load) of m on a fresh
 * assembly with options o, through the frame loop; time per frame taken
 * between frames (the loop's on_frame). */
struct run_bench_vgg {
  double secs;             /* s of simulation for all frames (wall) */
  double cpu;              /* s of process CPU time for them */
  uint64_t spikes, sops, hops, late; /* totals */
  double latency_us, energy_uj; /* per frame */
  uint64_t neurons;        /* the model's: input and every conv/dense */
  uint32_t cores, mesh_w, mesh_h; /* the mapping */
};
int run_bench_vgg_frames(const struct model *m, const struct run_options *o,
                         uint64_t frames, struct run_bench_vgg *res,
                         struct sm_err *err);
/* 1 when two runs of the same frames gave the same counts. */
int run_bench_vgg_agree(const struct run_bench_vgg *a,
                        const struct run_bench_vgg *b);

/* scale: frames of synthetic:1 images of m through run_loop_jobs on
 * `jobs` threads (1..RUN_JOBS_MAX), each thread its own assembly (built
 * before the clock starts); wall and process CPU time from the loop's
 * start to its end.  The totals and a digest of the predictions in frame
 * order say whether two thread counts simulated the same frames. */
struct run_bench_scale {
  double secs, cpu;        /* s: wall, process CPU */
  uint64_t spikes, sops, hops, late, packets; /* totals */
  uint64_t decided;        /* frames with a prediction */
  uint64_t pred_digest;    /* FNV-1a over (frame, prediction) in order */
};
int run_bench_scale_frames(const struct model *m, const struct run_options *o,
                           uint64_t frames, size_t jobs,
                           struct run_bench_scale *res, struct sm_err *err);
/* 1 when two runs gave the same predictions and totals. */
int run_bench_scale_agree(const struct run_bench_scale *a,
                          const struct run_bench_scale *b);

/* lookahead: one frame (synthetic:1, image 0) of m, every dispatched
 * event binned by time into windows of lookahead_ps (the lookahead of a
 * partition by mesh region: noc.t_link plus the router pipeline) and by
 * the mesh region of the node it happens at (a core event: its core's
 * node; a delivery: its node; router ticks have none and count only in
 * the totals), for a split of the mesh in 2 (left and right halves) and
 * in 4 (quadrants).  The frame is run first unobserved for its time per
 * event.  Windows span [0, the last event's time]. */
struct run_bench_la_split {
  uint32_t regions;
  double mean, median;     /* events per window and region (all pairs) */
  uint64_t max;
  double empty;            /* fraction of (window, region) pairs with none */
  uint64_t region_max;     /* the busiest region's events over the frame */
  uint64_t region_min;     /* the idlest region's */
};
struct run_bench_lookahead {
  uint64_t lookahead_ps;
  uint64_t events;         /* dispatched in the frame */
  uint64_t attributed;     /* of those, with a node */
  uint64_t windows, busy;  /* windows; with at least one event */
  double mean, median;     /* events per window, all regions together */
  uint64_t max;
  struct run_bench_la_split split[2]; /* 2 and 4 regions */
  double secs;             /* s wall of the unobserved frame */
  uint64_t frame_ps;       /* the last event's time */
  uint32_t cores, mesh_w, mesh_h;
};
int run_bench_lookahead(const struct model *m, const struct run_options *o,
                        uint64_t lookahead_ps, struct run_bench_lookahead *res,
                        struct sm_err *err);
/* The lookahead of options o: t_link + t_buffer + t_route + t_alloc +
 * t_xbar, ps (cycles times clock_ps in clocked timing). */
uint64_t run_bench_lookahead_ps(const struct run_options *o);
/* ns per pthread barrier of `threads` threads over `rounds` rounds. */
double run_bench_barrier_ns(unsigned threads, uint64_t rounds);

#endif /* SPIKEMESH_RUN_H */

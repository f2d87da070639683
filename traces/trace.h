/*
 * trace.h -- the recorder: SQLite is the system of record.
 *
 * One database per run or sweep (schema: doc/recorder.md).  A run row holds
 * the full effective configuration; rows per frame, per layer and frame,
 * per link and router port, and at higher detail every spike and every
 * packet delivery.
 *
 * Writing never stalls the simulation on the disk.  A simulation thread
 * owns a struct trace_stream and appends fixed-size rows to it (a copy into
 * a batch buffer, no I/O, no allocation in steady state).  Whole frames
 * (trace_frame_end) are handed to the database's writer thread as units:
 * once the stream's batch is half full, spans several batches, or 20 ms
 * after the last hand-over, and at trace_stream_close(); the writer inserts
 * units with prepared statements and commits in batched transactions,
 * always between units, so a frame's rows commit together and
 * `runs.frames_done` always counts whole frames.  The
 * queue of units is bounded (trace_db_open's memory budget): a producer
 * that outruns the disk waits, it never drops rows.
 *
 * A killed process leaves a database that opens (WAL mode) and holds only
 * whole frames; its run row still says 'running' with frames_done as far as
 * it got, which is what --resume continues from.
 *
 * Threads: any number of streams (one per simulation thread) feed one
 * writer.  trace_db_* calls other than the stream ones are for the thread
 * that opened the database.
 */
#ifndef SPIKEMESH_TRACE_H
#define SPIKEMESH_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

#define TRACE_SCHEMA_VERSION 5
/* The oldest version read and, when opened for writing, upgraded in place
 * (version 4 adds the claims table to version 3, version 5 the mapping
 * table and the tables of the direction codes' names, link_dirs and
 * port_dirs; readers of an older file find no mapping rows). */
#define TRACE_SCHEMA_OLDEST 3
/* How long the recorder waits for another process's lock on the database
 * before it gives up (s); SPIKEMESH_DB_TIMEOUT=SECONDS overrides it. */
#define TRACE_BUSY_DEFAULT_S 600

/* An integer row field that is not known (stored as SQL NULL). */
#define TRACE_NULL INT64_MIN

/* Detail levels, each including the ones before it. */
enum trace_detail {
  TRACE_SUMMARY, /* runs, frames */
  TRACE_LAYER,   /* + per-layer per-frame rows */
  TRACE_LINK,    /* + per-link, per-port and per-core rows (run totals) */
  TRACE_SPIKE,   /* + every spike */
  TRACE_PACKET   /* + every packet delivery */
};
#define TRACE_DETAIL_CHOICES "summary|layer|link|spike|packet"
int trace_detail_parse(const char *s, enum trace_detail *out);
const char *trace_detail_name(enum trace_detail d);

struct trace_db;
struct trace_stream;
struct trace_file; /* a spike or packet trace (below) */

/* Open (creating if needed) a database.  An existing file must carry this
 * schema version; errors name the file and what is wrong (not a database,
 * locked by another process, newer schema, read-only). */
int trace_db_open(const char *path, struct trace_db **out, struct sm_err *err);
/* Flush every stream's queued units, stop the writer, close.  Returns the
 * first write error seen (and fills err), or 0.  NULL-safe. */
int trace_db_close(struct trace_db *db, struct sm_err *err);
/* Wait until every unit handed over so far is committed. */
int trace_db_flush(struct trace_db *db, struct sm_err *err);
/* The first error the writer met (disk full, I/O), or 0. */
int trace_db_failed(struct trace_db *db, struct sm_err *err);
const char *trace_db_path(const struct trace_db *db);

/* ---- runs ----------------------------------------------------------------- */

struct trace_run_info {
  const char *kind;        /* "run", "noc", "replay", "sweep" */
  const char *config_json; /* the full effective configuration */
  const char *model_path;  /* or NULL */
  const char *model_hash;  /* hex digest of the model file, or NULL */
  const char *point_key;   /* sweep point identity (canonical JSON), or NULL */
  const char *detail;      /* detail level name */
  uint64_t seed;
  int64_t frames_planned;
  uint32_t mesh_width, mesh_height; /* the mesh used; 0: none (NULL) */
};

/* Insert a run row (status 'running'), claimed by this process (below);
 * returns its id. */
int trace_run_begin(struct trace_db *db, const struct trace_run_info *info,
                    int64_t *run_id, struct sm_err *err);
/* Set the final status ("complete", "interrupted", "failed") and end time,
 * and release the run's claim, in one transaction.  Flushes first so
 * frames_done is final; after a writer error the status is 'failed'.  A
 * run whose claim another process took over is left to it (SM_EBUSY). */
int trace_run_end(struct trace_db *db, int64_t run_id, const char *status,
                  struct sm_err *err);
/* The newest run of this kind and point key (NULL: none), if any. */
struct trace_run_found {
  int64_t run_id;
  char status[16];       /* running, interrupted, complete, failed */
  int64_t frames_done;
  char detail[16];       /* its --detail */
  char *config;          /* the run's configuration JSON (owned) */
  char *model_hash;      /* "" if none (owned) */
};
/* Returns 1 if found (free *out with trace_run_found_free), 0 if not, < 0
 * on error.  Flushes first. */
int trace_run_find(struct trace_db *db, const char *kind, const char *point_key,
                   struct trace_run_found *out, struct sm_err *err);
void trace_run_found_free(struct trace_run_found *f);

/* A run's figures over its recorded frames (means per frame). */
struct trace_run_stats {
  int64_t frames;        /* frames recorded */
  double accuracy;       /* of the labelled frames (label >= 0), the
                            fraction with prediction = label; -1: none */
  double e_total_uj, e_sop_uj, e_hop_uj, e_static_uj; /* uJ per frame */
  double latency_us;     /* us, mean first input spike to decision */
  double hops;           /* link traversals per frame */
  double late;           /* late spikes per frame */
  double peak_util;      /* busiest link's busy/frame time; < 0: no links */
};
/* Flushes first, so every frame handed over so far counts. */
int trace_run_stats(struct trace_db *db, int64_t run_id,
                    struct trace_run_stats *out, struct sm_err *err);

/* The newest run of info->kind that did not complete ('running' after a
 * kill, 'interrupted' after Ctrl-C): its id and frames done; its status
 * becomes 'running' again and this process claims it (one held by another
 * live process: SM_EBUSY naming it).  It must have been recorded with the same
 * configuration (info->config_json: options, model path, data set, mesh,
 * frames), the same model file contents (info->model_hash, when given)
 * and the same detail (when given); else SM_EINVAL naming the database,
 * the run and what differs.  Returns 1 if found, 0 if there is none, < 0
 * on error. */
int trace_run_resume(struct trace_db *db, const struct trace_run_info *info,
                     int64_t *run_id, int64_t *frames_done,
                     struct sm_err *err);

/* Who records a run.  A run belongs to one process at a time: the one that
 * inserted it or picked it to resume holds a claim on it (the claims table:
 * its pid, host name and start time, written in the same transaction) until
 * trace_run_end().  A claim is stale when its process is gone: the same
 * host, and kill(pid, 0) fails with ESRCH (or the process is a zombie); a
 * stale claim is taken over.  A claim from another host is never taken:
 * this host cannot tell whether it runs. */
struct trace_holder {
  int64_t pid;
  char host[256];
  char since[32]; /* UTC ISO 8601 */
};
/* "pid P on host H since T" */
void trace_holder_text(const struct trace_holder *h, char *buf, size_t len);

enum trace_claim_how {
  TRACE_CLAIM_NEW,    /* insert a run row (trace_run_begin) */
  TRACE_CLAIM_RESUME, /* the newest run of info->kind not complete
                         (trace_run_resume) */
  TRACE_CLAIM_POINT   /* the newest run of info->kind and info->point_key:
                         complete, held, resumed, or a new one (none yet, or
                         it failed) */
};
enum trace_claim_outcome {
  TRACE_CLAIM_NONE,     /* nothing to resume */
  TRACE_CLAIM_NEWRUN,   /* a new run row, claimed */
  TRACE_CLAIM_RESUMED,  /* an unfinished run, claimed; its status 'running' */
  TRACE_CLAIM_COMPLETE, /* the point's run is complete: nothing to do */
  TRACE_CLAIM_HELD      /* another process records it */
};
struct trace_claim {
  enum trace_claim_outcome outcome;
  int64_t run_id;         /* the run (-1: none) */
  int64_t frames_done;    /* resumed: its whole frames so far */
  int took_over;          /* resumed from a stale claim (holder: whose) */
  struct trace_holder holder; /* held: who; took_over: whose claim */
};
/* Pick and claim a run in one transaction.  A resume whose run another
 * live process holds is SM_EBUSY naming the holder; a resume or point whose
 * run was recorded with another configuration, model or detail is
 * SM_EINVAL (as trace_run_resume). */
int trace_run_claim(struct trace_db *db, const struct trace_run_info *info,
                    enum trace_claim_how how, struct trace_claim *out,
                    struct sm_err *err);

/* ---- rows ----------------------------------------------------------------- */

struct trace_frame_row {
  int64_t frame;
  int64_t label, prediction;   /* prediction -1: no output spike */
  int64_t input_spikes, spikes, sops, hops, late;
  int64_t t_start;             /* ps: first input spike */
  int64_t latency;             /* ps: first input spike to decision */
  double e_sop, e_hop, e_static, e_total; /* pJ */
};

struct trace_layer_row {
  int64_t frame, layer;
  int64_t neurons;      /* before pooling */
  int64_t spikes;       /* sent: after the fused pooling */
  int64_t sops, hops, late;
  int64_t window_start; /* neurons firing at the window start (saturated) */
  int64_t fired;        /* neurons that fired, before pooling (TRACE_NULL:
                           not known, a replay) */
};

/* A mapping layer of the run (the layers table; once per run). */
enum trace_layer_type { TRACE_LAYER_INPUT, TRACE_LAYER_CONV, TRACE_LAYER_DENSE };
struct trace_layerdef_row {
  int64_t layer, type;  /* enum trace_layer_type */
  int64_t channels, height, width; /* the layer's output before pooling */
  int64_t pool;         /* fused pooling window side, 1: none */
  int64_t neurons;      /* channels x height x width */
  int64_t outputs;      /* after pooling: what its spikes index */
};

/* A group of the run's mapping: where it went (the mapping table; once per
 * run).  Ranges are [first, end). */
struct trace_mapping_row {
  int64_t grp, layer;   /* group index, mapping layer (0 = input) */
  int64_t c0, c1;       /* channels (dense: neurons) */
  int64_t y0, y1, x0, x1; /* rows and columns of the channel map it holds
                             (before pooling; dense: 0, 1) */
  int64_t iy0, iy1, ix0, ix1; /* the input rows and columns its receptive
                                 fields read (conv); TRACE_NULL: none */
  int64_t core, node;   /* core id; mesh node (row-major) */
  int64_t x, y;         /* the node's column and row */
  int64_t neurons;      /* neurons held */
  int64_t sram_bytes;   /* bytes of SRAM its synapses need */
};

/* Per link (router output towards dir) and per router input port; run
 * totals (frame = -1) or per frame. */
struct trace_link_row {
  int64_t frame, node, dir;
  int64_t flits, busy_ps;
  double utilization; /* busy / elapsed */
};

struct trace_port_row {
  int64_t frame, node, port;
  int64_t flits, blocked_ps, peak_occupancy;
  double mean_occupancy; /* flits */
};

struct trace_core_row {
  int64_t frame, core, node, layer;
  int64_t neurons, spikes, sops, late;
};

struct trace_spike_row {
  int64_t frame, layer, neuron, core, time_ps;
  int64_t step; /* steps into its layer's window */
};

struct trace_packet_row {
  int64_t frame, src, dst;
  int64_t t_send, t_inject, t_eject; /* ps */
  int64_t hops, blocked_ps;
};

/* One point of a synthetic-traffic sweep (spikemesh noc). */
struct trace_noc_row {
  double offered, accepted;   /* flits/node/cycle */
  double lat_mean, lat_p50, lat_p99, lat_max; /* cycles */
  int64_t packets, saturated;
};

/* A stream for one producing thread.  Rows are copied; nothing is written
 * until trace_frame_end() (or trace_stream_unit_end()). */
struct trace_stream *trace_stream_open(struct trace_db *db, int64_t run_id);
/* Hands over what is pending as a unit, then frees the stream. */
void trace_stream_close(struct trace_stream *s);

void trace_put_frame(struct trace_stream *s, const struct trace_frame_row *r);
void trace_put_layer(struct trace_stream *s, const struct trace_layer_row *r);
void trace_put_layerdef(struct trace_stream *s,
                        const struct trace_layerdef_row *r);
void trace_put_mapping(struct trace_stream *s,
                       const struct trace_mapping_row *r);
void trace_put_link(struct trace_stream *s, const struct trace_link_row *r);
void trace_put_port(struct trace_stream *s, const struct trace_port_row *r);
void trace_put_core(struct trace_stream *s, const struct trace_core_row *r);
void trace_put_spike(struct trace_stream *s, const struct trace_spike_row *r);
void trace_put_packet(struct trace_stream *s, const struct trace_packet_row *r);
void trace_put_noc(struct trace_stream *s, const struct trace_noc_row *r);

/* Close frame `frame`: the run's frames_done becomes frame + 1 in the same
 * transaction as the frame's rows.  The frame goes to the writer with the
 * stream's next hand-over (at most 20 ms later, or at close). */
void trace_frame_end(struct trace_stream *s, int64_t frame);
/* Hand over pending rows as a unit without marking a frame (run totals). */
void trace_stream_unit_end(struct trace_stream *s);

/* Rows inserted so far (all tables), for benchmarks. */
uint64_t trace_db_rows(struct trace_db *db);

/* ---- queries (traces/query.c); the database is opened read-only -------- */

/* 64-bit digest of a run's rows in every table, timestamps (started_at,
 * ended_at) and the run id excluded: same inputs and seed, same digest.
 * The claims table (who records a run) is not included. */
int trace_db_digest(const char *path, int64_t run_id, uint64_t *out,
                    struct sm_err *err);
/* The digest of the run's results only (db digest --data, doc/recorder.md):
 * every row of frames, layer_frames, layers, links, ports, cores, spikes,
 * packets and noc_points, and of the run row its status, detail, seed,
 * frames planned and done, model_hash, mesh used and its configuration
 * without the keys that do not change results (paths, sim.queue,
 * traffic.schedule, preset.*, train.*, synth.*, the mesh asked for); the
 * model path, kind, point key, program version and timestamps are left
 * out.  A run that is not there is SM_ENOENT. */
int trace_db_digest_data(const char *path, int64_t run_id, uint64_t *out,
                         struct sm_err *err);
/* SQLite's PRAGMA quick_check: 1 when it passes; 0 with its first
 * findings in msg[len] when the file is damaged; < 0 when the file cannot
 * be opened as a spikemesh database (err). */
int trace_db_quick_check(const char *path, char *msg, size_t len,
                         struct sm_err *err);
/* Schema version, runs, per-run totals and row counts. */
int trace_db_info(const char *path, FILE *out, struct sm_err *err);
/* Two runs side by side: totals, then the first max_frames frames that
 * differ (prediction, spikes, hops, late spikes, latency). */
int trace_db_compare(const char *path_a, int64_t run_a, const char *path_b,
                     int64_t run_b, int max_frames, FILE *out,
                     struct sm_err *err);
/* The audit (traces/check.c): recompute every figure of run run_id (<= 0:
 * every run) from the rows beneath it and check the invariants of a
 * complete, untampered run; print each check (ok, FAIL with the first
 * violating rows, or skipped for the detail level) on out.  Returns 0 when
 * the audit ran (*violations counts what broke), or an error opening the
 * database or finding the run. */
int trace_db_check(const char *path, int64_t run_id, FILE *out,
                   int64_t *violations, struct sm_err *err);
/* The newest run id of a database (any kind), or SM_ENOENT. */
int trace_db_last_run(const char *path, int64_t *run_id, struct sm_err *err);
/* The kind of a run ("run", "replay", "sweep", "noc") into kind[len], or
 * SM_ENOENT. */
int trace_db_run_kind(const char *path, int64_t run_id, char *kind,
                      size_t len, struct sm_err *err);
/* The spikes of a run recorded at spike or packet detail, in send order,
 * as a spike trace whose meta names the model, its digest, the run's mesh
 * and configuration, the run and the database. */
int trace_db_spikes(const char *path, int64_t run_id, struct trace_file *t,
                    struct sm_err *err);
/* The frames of a run, in frame order ([*n], caller frees), and the run's
 * configuration JSON (caller frees; may be NULL).  A run with no frames is
 * SM_ENOENT. */
int trace_db_frames(const char *path, int64_t run_id,
                    struct trace_frame_row **rows, size_t *n, char **config,
                    struct sm_err *err);

/* ---- plots (traces/plot.c, plot_data.c, plot_gp.c) ---------------------- */

/* X(id, name, needs, summary): the figures `spikemesh plot` draws.  `needs`
 * completes "NAME needs ..." when the database lacks the data. */
#define TRACE_PLOT_KINDS(X)                                                    \
  X(RASTER, "raster", "a run recorded with --detail spike or higher",         \
    "spikes of one frame: time against neuron index / neurons, per layer, "    \
    "layer windows shaded")                                                    \
  X(INACTIVE, "inactive", "a run recorded with --detail layer or higher",     \
    "inactive neurons per layer, % averaged over frames")                      \
  X(LINKS, "links", "a run recorded with --detail link or higher",            \
    "mesh: utilization of every directed link and ejection port")             \
  X(BLOCKED, "blocked", "a run recorded with --detail link or higher",        \
    "mesh: time flits wait at each router's inputs, per frame")              \
  X(CORES, "cores",                                                            \
    "a run with cores (not a replay) recorded with --detail link or higher",  \
    "mesh: spikes sent by the cores of each node, per frame")                 \
  X(ENERGY, "energy", "a run with recorded frames",                            \
    "energy of every frame, stacked by term (SOP, hop, static)")              \
  X(ENERGY_DIST, "energy-dist", "a run with recorded frames",                  \
    "distribution of the energy per frame over the frames")                   \
  X(LATENCY, "latency", "a run recorded with --detail packet",                 \
    "histogram of packet latency (send to ejection)")                         \
  X(NOC, "noc", "a `spikemesh noc --db` sweep (noc_points rows)",              \
    "latency against offered load of each noc sweep, saturation marked")      \
  X(PARETO, "pareto",                                                          \
    "two or more runs with frames (a sweep, or several runs in one database)",\
    "energy against latency of every sweep point, coloured by accuracy, "      \
    "the Pareto front over energy, latency and accuracy circled")

enum trace_plot_kind {
#define TRACE__PLOT_ENUM(id, name, needs, summary) TRACE_PLOT_##id,
  TRACE_PLOT_KINDS(TRACE__PLOT_ENUM)
#undef TRACE__PLOT_ENUM
  TRACE_PLOT_NKINDS
};
/* Name, requirement and summary of a kind. */
const char *trace_plot_name(int kind);
const char *trace_plot_needs(int kind);
const char *trace_plot_summary(int kind);
/* The kind named s, or -1. */
int trace_plot_parse(const char *s);

struct trace_plot_opts {
  const char *db;      /* the database */
  const char *out_dir; /* created if missing (its parent must exist) */
  const char *gnuplot; /* the program: a path, or a name looked up in PATH */
  int64_t run;         /* the run of per-run plots; 0: newest with frames */
  int64_t frame;       /* the raster's frame; -1: first with spikes */
  unsigned kinds;      /* bit (1u << kind); 0: every kind with data */
  int png, svg;        /* formats to render */
};

/* Write KIND.dat and KIND.gp for each plot into out_dir and run gnuplot on
 * each script there (it renders KIND.png and/or KIND.svg).  Kinds asked
 * for explicitly whose data the database lacks are an error (SM_ENOENT,
 * naming the detail needed); by default they are skipped with a note on
 * `log`.  Without gnuplot, the scripts and data are still written and the
 * call fails with SM_EIO saying so. */
int trace_plot(const struct trace_plot_opts *o, FILE *log, struct sm_err *err);

/* ---- spike and packet trace files (traces/tracefile.c) ------------------ */

/* Binary format (little endian; doc/recorder.md):
 *   header  magic "SMTRACE\0", u16 version, u16 kind, u32 meta_len,
 *           u64 records, u64 destinations (packet: total dst entries)
 *   meta    meta_len bytes of JSON naming the model and mapping
 *   records spike: i64 time_ps, u32 frame, u16 layer, u16 step, u32 neuron,
 *                  u32 core (24 bytes)
 *           packet: i64 time_ps, i64 deadline_ps (0: none), u64 payload,
 *                  u32 frame, u32 src, u32 ndst, ndst x u32 dst
 * CSV: a header line naming the columns (which says the kind), '#' lines
 * (the first "# meta: JSON"), one record per line; packet destinations
 * are separated by ';'. */
#define TRACE_FILE_VERSION 1
#define TRACE_FILE_MAX_RECORDS (1ull << 32)
#define TRACE_FILE_MAX_DST 4096 /* = nodes of the largest mesh */
/* Largest trace file trace_file_read() reads (it is read whole; a larger
 * one is SM_ELIMIT): about 89 million spike records. */
#define TRACE_FILE_MAX_BYTES ((size_t)2 << 30)
enum trace_kind { TRACE_KIND_SPIKE = 1, TRACE_KIND_PACKET = 2 };

struct trace_spike {
  int64_t time_ps;
  uint32_t frame, layer, step, neuron, core;
};
struct trace_packet {
  int64_t time_ps;
  int64_t deadline_ps; /* ps; 0: none */
  uint64_t payload;
  uint32_t frame, src, ndst;
  size_t dst_off;      /* into trace_file.dst */
};
struct trace_file {
  int kind;            /* enum trace_kind */
  char *meta;          /* JSON text (owned), "{}" if none */
  size_t n;            /* records */
  struct trace_spike *spikes;   /* [n] (spike kind) */
  struct trace_packet *packets; /* [n] (packet kind) */
  uint32_t *dst;       /* packet destinations, [ndst_total] */
  size_t ndst_total;
  size_t cap, dcap;    /* allocated */
};
void trace_file_init(struct trace_file *t, int kind, const char *meta);
void trace_file_free(struct trace_file *t);
void trace_file_add_spike(struct trace_file *t, const struct trace_spike *s);
void trace_file_add_packet(struct trace_file *t, const struct trace_packet *p,
                           const uint32_t *dst);
/* Read a binary or CSV trace (the magic decides).  Errors name the file and
 * the byte offset (binary) or line (CSV); nothing is allocated for a
 * header that claims more records than the file can hold. */
int trace_file_read(const char *path, struct trace_file *t, struct sm_err *err);
/* Write binary, or CSV when csv != 0, through sm_write_begin (util.h): a
 * regular file is replaced atomically (a failed write never clobbers it),
 * a symbolic link is followed, a FIFO or character device is written in
 * place. */
int trace_file_write(const char *path, const struct trace_file *t, int csv,
                     struct sm_err *err);

#endif /* SPIKEMESH_TRACE_H */

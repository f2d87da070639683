/*
 * record.h -- what a run (cli/run.c) writes into the recorder
 * (traces/trace.h) at each detail level, and the run row's identity.
 *
 * Private to cli/.  A struct cli_rec watches one struct cli_run: it
 * installs the run's spike hook (spike detail, and link detail for per-core
 * spike counts) and the mesh's packet observer (layer detail and above, for
 * per-layer hops; packet rows at packet detail).  At summary detail it
 * installs nothing, so an unrecorded or summary run pays no per-event cost.
 */
#ifndef SPIKEMESH_CLI_RECORD_H
#define SPIKEMESH_CLI_RECORD_H

#include "cli/run.h"
#include "traces/trace.h"

struct cli_rec;

/* Start recording r into stream s at detail d (takes a snapshot of the
 * cumulative counters, so frames already run are not counted again). */
struct cli_rec *cli_rec_new(struct cli_run *r, struct trace_stream *s,
                            enum trace_detail d);
/* Detach the hooks and free (NULL-safe); the stream stays the caller's. */
void cli_rec_free(struct cli_rec *rec);
/* Before cli_run_frame(): the frame's index; per-frame network counters
 * restart (link detail and above). */
void cli_rec_frame_begin(struct cli_rec *rec, int64_t frame);
/* After cli_run_frame(): the frame's rows, then the frame is handed to the
 * writer as one unit. */
void cli_rec_frame_end(struct cli_rec *rec, const struct cli_frame *f,
                       int label);

/* The mesh's link rows (outputs that carried flits) and port rows (inputs
 * that passed or blocked flits) since its last noc_reset_stats(). */
void cli_rec_put_network(struct trace_stream *s, const struct noc_mesh *noc,
                         int64_t frame);

/* 64-bit FNV-1a digest of a file's bytes (16 hex digits),
 * for the run row's model_hash.  Returns 0 or SM_EIO. */
int cli_file_digest(const char *path, char out[17], struct sm_err *err);

/* Traces (cli/cmd_replay.c).  The spikes of a run recorded at spike or
 * packet detail, in send order, as a spike trace whose meta names the
 * model, its digest and the mapping options. */
int cli_trace_from_db(const char *path, int64_t run, struct trace_file *t,
                      struct sm_err *err);
/* Spikes to packets through a mapping of model m: each spike of a layer
 * that sends becomes a packet from its core's node to the core's
 * destinations, deadline the end of the receiving layer's window. */
int cli_trace_to_packets(const struct trace_file *in, const struct model *m,
                         const struct model_map *map,
                         const struct core_conf *cc, struct trace_file *out,
                         struct sm_err *err);

#endif /* SPIKEMESH_CLI_RECORD_H */

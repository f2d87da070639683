/*
 * fuzz_replay.c -- a trace file replayed through a small mesh: the bytes
 * are read as a trace file (binary or CSV: trace_file_read), and a trace
 * that reads is replayed frame by frame through the frame loop
 * (run_replay_new, run_replay_engine, run_loop_frames) with the default
 * options, unrecorded.  A packet trace is injected as it is, on the mesh
 * its meta names (run.mesh_width/height) or the default 8x8; a spike trace
 * goes through the in-memory test model (tests/testmodel.c, 1x8x8 ->
 * 4C3-P2-12-5) mapped anew.
 *
 * Each input stays cheap (the fuzzer needs thousands a second): a trace of
 * more than REPLAY_MAX_RECORDS records or REPLAY_MAX_DST destinations in
 * all is only read, and a meta mesh wider or taller than REPLAY_MAX_SIDE
 * is replaced by the default 8x8 (as --mesh would).  Rejecting a trace
 * (nodes outside the mesh, frames out of order) is the replay working; a
 * crash, a sanitizer report, a leak or a hang is the bug, and so is a
 * loop that ran but did not inject every record (that aborts).
 * SM_FUZZ_VERBOSE=1 in the environment prints what became of each input
 * (to check that a seed reaches the replay).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"
#include "tests/fuzz/fuzz.h"
#include "tests/testmodel.h"
#include "traces/trace.h"

#define REPLAY_MAX_RECORDS 256
#define REPLAY_MAX_DST 1024
#define REPLAY_MAX_SIDE 8

static int write_tmp(char *path, const uint8_t *data, size_t size) {
  FILE *f = NULL;
  int fd = mkstemp(path);
  if (fd < 0 || !(f = fdopen(fd, "wb"))) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  size_t w = fwrite(data, 1, size, f);
  return fclose(f) || w != size ? -1 : 0;
}

struct count {
  size_t frames, packets;
};

static void on_frame(void *ctx, size_t i, const struct run_frame *f) {
  (void)i;
  struct count *c = ctx;
  c->frames++;
  c->packets += f->packets;
}

/* 1 when the meta names a mesh larger than the harness allows. */
static int meta_mesh_too_big(const char *meta) {
  json_t *j = json_loads(meta, 0, NULL);
  json_int_t w = json_integer_value(json_object_get(j, "run.mesh_width")),
             h = json_integer_value(json_object_get(j, "run.mesh_height"));
  json_decref(j);
  return w > REPLAY_MAX_SIDE || h > REPLAY_MAX_SIDE;
}

static void say(const char *what, const struct sm_err *err) {
  if (getenv("SM_FUZZ_VERBOSE"))
    fprintf(stderr, "fuzz_replay: %s%s%s\n", what, err ? ": " : "",
            err ? err->msg : "");
}

static void replay(struct trace_file *t) {
  static struct run_options o0;
  static struct model *m;
  if (!m) {
    struct sm_conf c;
    struct sm_err e;
    run_options_init(&o0, &c);
    if (sm_conf_defaults(&c, &e))
      abort();
    m = test_small_model(1);
  }
  struct run_options o = o0;
  struct run_replay_spec sp = {.trace = t, .source = "fuzz", .scale = 1.0};
  if (t->kind == TRACE_KIND_SPIKE) {
    sp.m = m;
  } else if (meta_mesh_too_big(t->meta)) {
    sp.mesh_w = sp.mesh_h = REPLAY_MAX_SIDE;
    sp.mesh_given = 1;
  }
  size_t nrec = t->n;
  int packets = t->kind == TRACE_KIND_PACKET;
  struct run_replay *r = NULL;
  struct sm_err err;
  if (run_replay_new(&sp, &o, &r, &err)) {
    say("refused", &err);
    return;
  }
  if (packets && run_replay_npackets(r) != nrec)
    abort();
  struct run_engine e;
  run_replay_engine(r, &e);
  struct count n = {0};
  struct run_loop loop = {.e = &e, .n = run_replay_nframes(r),
                          .on_frame = on_frame, .ctx = &n};
  size_t done = 0;
  if (run_loop_frames(&loop, &done, &err) == 0) {
    if (done != loop.n || n.frames != loop.n ||
        n.packets != run_replay_npackets(r))
      abort();
    say("replayed", NULL);
  } else {
    say("failed", &err);
  }
  run_replay_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char in[] = "/tmp/sm_fuzz_replay_XXXXXX";
  if (write_tmp(in, data, size)) {
    unlink(in);
    return 0;
  }
  struct trace_file t;
  struct sm_err err;
  if (trace_file_read(in, &t, &err) != 0) {
    say("unread", &err);
  } else {
    if (t.n <= REPLAY_MAX_RECORDS && t.ndst_total <= REPLAY_MAX_DST)
      replay(&t);
    else
      say("read only (over the harness's caps)", NULL);
    trace_file_free(&t);
  }
  unlink(in);
  return 0;
}

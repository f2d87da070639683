/*
 * fuzz_trace.c -- the spike/packet trace reader (binary and CSV).  An input
 * that reads also goes through a write and a read in the other format, and
 * the record counts must agree (a mismatch aborts: the fuzzer reports it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "traces/trace.h"

static int write_tmp(char *path, const uint8_t *data, size_t size) {
  int fd = mkstemp(path);
  if (fd < 0)
    return -1;
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0)
      break;
    off += (size_t)w;
  }
  close(fd);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char in[] = "/tmp/sm_fuzz_trace_XXXXXX";
  if (write_tmp(in, data, size))
    return 0;
  struct trace_file t;
  struct sm_err err;
  if (trace_file_read(in, &t, &err) == 0) {
    char out[] = "/tmp/sm_fuzz_trace_out_XXXXXX";
    int fd = mkstemp(out);
    if (fd >= 0) {
      close(fd);
      int csv = !(size >= 7 && data[0] == 'S' && data[1] == 'M');
      csv = !csv; /* binary input -> CSV output, CSV input -> binary */
      if (trace_file_write(out, &t, csv, &err) == 0) {
        struct trace_file back;
        if (trace_file_read(out, &back, &err) != 0 || back.n != t.n ||
            back.kind != t.kind)
          abort();
        trace_file_free(&back);
      }
      unlink(out);
    }
    trace_file_free(&t);
  }
  unlink(in);
  return 0;
}

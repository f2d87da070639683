/*
 * fuzz_idx.c -- the IDX reader (plain or gzipped).  The reader takes a
 * path, so each input goes through a temporary file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "trainer/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/sm_fuzz_idx_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return 0;
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0)
      break;
    off += (size_t)w;
  }
  close(fd);
  struct train_idx idx;
  struct sm_err err;
  if (train_idx_load(path, &idx, &err) == 0)
    train_idx_free(&idx);
  unlink(path);
  return 0;
}

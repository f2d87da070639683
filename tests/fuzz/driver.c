/*
 * driver.c -- replays saved inputs through a harness without libFuzzer:
 *   fuzz_<name> FILE...
 * Used by tests/fuzz_regress.sh so every input that once crashed, and the
 * seed corpus, stays a regression test in the normal and sanitizer builds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "tests/fuzz/fuzz.h"
#include "util/util.h"

int main(int argc, char **argv) {
#if !defined(__SANITIZE_ADDRESS__)
  /* Inputs that announce huge sizes must be refused before allocating:
   * cap the address space so that trusting such a header fails here too
   * (AddressSanitizer reserves far more than this, so not under it). */
  struct rlimit rl = {(rlim_t)2 << 30, (rlim_t)2 << 30};
  setrlimit(RLIMIT_AS, &rl);
#endif
  int n = 0;
  for (int i = 1; i < argc; i++) {
    size_t len;
    struct sm_err err;
    char *buf = sm_read_file(argv[i], &len, &err);
    if (!buf) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    n++;
  }
  printf("%d inputs replayed\n", n);
  return 0;
}

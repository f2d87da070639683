/*
 * fuzz.h -- one entry point per parser, shared by the libFuzzer build
 * (scripts/fuzz.sh links libFuzzer's main) and the regression driver
 * (driver.c, built by `make check`, which replays every saved input in
 * tests/data/fuzz/<harness>/).  A harness must return 0 for any input: a
 * parser that rejects bad input with an error is working; a crash, a
 * sanitizer report, a leak or a hang is the bug.
 */
#ifndef SPIKEMESH_FUZZ_H
#define SPIKEMESH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

/* What the libFuzzer targets of tests/fuzz/ (built by run-fuzz.sh) share:
 * an invariant check that names the broken promise and aborts, which
 * libFuzzer reports as a crash and saves the input for. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                        \
        }                                                                   \
    } while (0)

#define PAGE 4096ull

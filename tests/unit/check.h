/* Minimal host unit-test harness: each test binary runs its cases, prints one
 * line per case ("PASS suite/case" or "FAIL suite/case: where: what") and
 * exits non-zero if any case failed. tests/run-unit.sh counts the lines. */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *check_suite = "unit";
static int check_case_failed;
static int check_passed, check_failed;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            check_case_failed = 1;                                          \
        }                                                                   \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                  \
    do {                                                                    \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);        \
        if (check_a_ != check_b_) {                                         \
            printf("  %s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64 "\n", \
                   __FILE__, __LINE__, #a, #b, check_a_, check_b_);         \
            check_case_failed = 1;                                          \
        }                                                                   \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                  \
    do {                                                                    \
        const char *check_a_ = (a), *check_b_ = (b);                        \
        if (strcmp(check_a_, check_b_) != 0) {                              \
            printf("  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, \
                   __LINE__, #a, #b, check_a_, check_b_);                   \
            check_case_failed = 1;                                          \
        }                                                                   \
    } while (0)

#define RUN_TEST(fn)                                                        \
    do {                                                                    \
        check_case_failed = 0;                                              \
        fn();                                                               \
        if (check_case_failed) {                                            \
            printf("FAIL %s/%s\n", check_suite, #fn);                       \
            check_failed++;                                                 \
        } else {                                                            \
            printf("PASS %s/%s\n", check_suite, #fn);                       \
            check_passed++;                                                 \
        }                                                                   \
    } while (0)

static inline int check_finish(void)
{
    fflush(stdout);
    return check_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

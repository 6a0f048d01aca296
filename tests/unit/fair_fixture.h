/* What the fair-share tests share (tests/unit/test_fair*.c, one binary
 * each): their units. Each test file includes it once. */
#pragma once

#include <stddef.h>

#include "check.h"
#include "hv/sched/fair.h"

#define MS 1000000ull
#define US 1000ull
/* A run length as fair_run_ns gives it: whole grains. */
#define GRAINS(ns) ((ns) & ~(FAIR_RUN_GRAIN_NS - 1))

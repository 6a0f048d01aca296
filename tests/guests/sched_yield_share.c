/* sched-share (tests/guests/sched_share.c) that yields (HV_CALL_YIELD)
 * every 500 us of its spinning: a CPU-bound guest whose CPU's decisions
 * all come from its yields, before any slice ends (balance_cases.py). */
#define YIELD_EVERY_US 500
#include "sched_share.c"

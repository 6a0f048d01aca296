/* What hv does when a guest ends (docs/design.md, "Restarts and the health
 * monitor"): the guest's policy from hv.cfg (and the image's restart-policy
 * note, within what an image may ask), and the restart limit, as pure
 * functions so they are tested on the host (tests/unit/test_restart_policy.c).
 *
 *   on_exit  = stop | restart | halt   the guest exited (HV_CALL_EXIT, or its
 *                                      last vCPU stopped); default stop
 *   on_fault = stop | restart | halt   hv ended it for a fault; default stop
 *   max_restarts = N [within T]        at most N restarts in any window of T
 *                                      (T: a number with ms, s, m or h; no
 *                                      `within`: N in the whole run); default
 *                                      5 within 60s. The restart past the
 *                                      limit is not made: the guest stops
 *                                      (the fallback action, always stop).
 *   monitor = yes | no                 may read every guest's health log
 *                                      (HV_CALL_HEALTH_READ); default no
 *
 * `halt` stops every guest and ends the run (the summary, then the end
 * rule of hv/power/end_rule.h). A guest stopped by hv itself (hv.cfg's
 * time limit, another guest's halt) is never restarted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum guest_action { GUEST_ACTION_STOP = 0, GUEST_ACTION_RESTART = 1, GUEST_ACTION_HALT = 2 };

/* The most max_restarts may be: the restart times of a window are kept. */
#define GUEST_MAX_RESTARTS 64
#define GUEST_DEFAULT_MAX_RESTARTS 5
#define GUEST_DEFAULT_RESTART_WINDOW_MS 60000ULL

struct guest_policy {
    uint8_t on_exit, on_fault;   /* enum guest_action */
    uint32_t max_restarts;       /* 0..GUEST_MAX_RESTARTS */
    uint64_t window_ms;          /* 0: the whole run */
    bool monitor;
};

/* The restarts made so far: their times (ns), the last GUEST_MAX_RESTARTS. */
struct restart_history {
    uint32_t count;                          /* all restarts made */
    uint64_t at_ns[GUEST_MAX_RESTARTS];      /* restart i at at_ns[i % GUEST_MAX_RESTARTS] */
};

void guest_policy_default(struct guest_policy *p);

/* Which policy keys hv.cfg set for the guest (they win over the note). */
#define GUEST_POLICY_CFG_ON_EXIT 1u
#define GUEST_POLICY_CFG_ON_FAULT 2u
#define GUEST_POLICY_CFG_MAX_RESTARTS 4u

struct hv_image_policy;
/* Applies the image's restart-policy note (include/hv/abi.h, struct
 * hv_image_policy) to p, which holds the defaults and hv.cfg's keys:
 * each field whose key hv.cfg did not set (cfg_keys) and that is not 0
 * replaces the default. A field asking what a note may not have (halt or
 * any action but stop and restart; more than HV_NOTE_MAX_RESTARTS; a
 * window under HV_NOTE_MIN_WINDOW_S) is refused unless hv.cfg decides that
 * key: false, p unchanged, and why says which field and what it may be. */
bool guest_policy_apply_note(struct guest_policy *p, unsigned cfg_keys,
                             const struct hv_image_policy *note, char *why, size_t why_len);
/* "stop", "restart", "halt" -> *out; false for anything else. */
bool guest_action_parse(const char *text, uint8_t *out);
const char *guest_action_name(unsigned action);
/* "N" or "N within T" (T = digits then ms, s, m or h, no space between);
 * false when malformed or N > GUEST_MAX_RESTARTS or T is 0 or above a year. */
bool guest_restart_limit_parse(const char *text, uint32_t *n, uint64_t *window_ms);

/* Whether one more restart at now_ns stays within the limit: fewer than
 * max_restarts restarts at or after now_ns - window (or in all, window 0). */
bool guest_restart_allowed(const struct guest_policy *p, const struct restart_history *h,
                           uint64_t now_ns);
void guest_restart_record(struct restart_history *h, uint64_t now_ns);

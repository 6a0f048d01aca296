/* Restarts (docs/design.md, "Restarts and the health monitor"): what a
 * guest's end leads to under its policy, and the bounded steps that bring
 * a restarted guest back from the image hv kept. Called by hv/guest/guest.c
 * only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/guest/guest.h"

/* At the guest's end (guest.c, before its vCPUs are marked dead): decides
 * the action (HV_HEALTH_*), logs it in the health log, and for a restart
 * records it and starts the stages. `policy` false: hv stopped the guest,
 * no restart. */
uint32_t restart_decide(struct guest *g, enum guest_end how, bool policy);
/* After the end's own log line: says what follows; a halt stops every
 * other guest here. */
void restart_announce(struct guest *g, uint32_t action);
/* Its memory is back but for the reservation: checks the reservation is
 * whole (an error line otherwise) and starts hashing the image again. */
void restart_reaped(struct guest *g);
/* The hash of what a restart reads of its kept file (loader_kept_range's
 * ranges, then zeros up to a whole 64-byte block), one SHA-256 block a
 * call (~4,500 instructions: a step of VERIFYING, docs/benchmarks.md
 * hv_irq_off_max), from k->check (sha256_init'ed, range and checked 0):
 * the file bytes it hashed, or RESTART_HASH_DONE once digest is made (a
 * call of its own: the padding's block). The load takes the same hash. */
#define RESTART_HASH_DONE UINT64_MAX
uint64_t restart_hash_step(struct guest_kept_image *k, uint8_t digest[SHA256_BYTES]);
/* One bounded step of the verify and build stages; true once the guest
 * runs again. */
bool restart_step(struct guest *g);
/* The summary's line: the restarts' steps after reaping, and the bytes of
 * kept images hashed again (a count a test can hold: the hash covers only
 * what a restart reads). */
void restart_report(void);
/* Gives a pending restart up (hv stops the guest, or the restart cannot be
 * made): the guest ends for good and is reaped as any other. */
void restart_abandon(struct guest *g, const char *why);
/* hv.cfg debug_corrupt_kept_image = yes: each restart decided flips one
 * byte of the kept image before VERIFYING hashes it again, so the restart
 * is refused (the test of that refusal; docs/design.md). */
extern bool restart_debug_corrupt_kept_image;
/* hv.cfg debug_restart_add_gap = yes: a restart pauses after each vCPU it
 * adds until the guest's end is claimed (or that vCPU ran 10 ms without
 * it), then 1 ms after each further one, so an end on another CPU
 * overlaps the last additions (the test of finding 1's fix,
 * hv/guest/guest_end.c). */
extern bool restart_debug_add_gap;

/* Frames that belong to guests, counted by reference: a guest may map one
 * of its pages at several addresses and in several of its address spaces
 * (HV_CALL_MEM_MAP with a source), and a frame goes back to the allocator
 * only when its last mapping goes. Frames are shared between guests only
 * in the regions hv.cfg declares ([shm]), which hv keeps a reference to.
 * A guest's frames come out of its reservation (its memory allowance) and
 * go back to it.
 *
 * W^X holds per frame, not only per mapping: a frame mapped writable
 * anywhere is mapped executable nowhere, and the other way round, so an
 * alias cannot turn a guest's code writable. Mappings say they are
 * executable with PTE_SW_EXEC (a bit the CPU ignores), which also works on
 * CPUs without NX.
 *
 * Maximum protections: every leaf hv makes for a guest also records the
 * most it may ever become, in two more software bits, positive sense (a
 * leaf made without them may never be raised above read-only). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/mm/frame_alloc.h"
#include "hv/mm/pagetable.h"

#define PTE_SW_EXEC (1ULL << 9)
#define PTE_SW_MAY_WRITE (1ULL << 10) /* may ever be made writable */
#define PTE_SW_MAY_EXEC (1ULL << 11)  /* may ever be made executable */
#define PTE_SW_MAX (PTE_SW_MAY_WRITE | PTE_SW_MAY_EXEC)

/* Limits of the per-frame counters (checked before every increment). */
#define GUEST_FRAME_MAX_REFS UINT32_MAX
#define GUEST_FRAME_MAX_MAPS UINT16_MAX /* writable ones, and executable ones */

bool guest_frames_init(void);
/* A zeroed frame with one reference out of reservation r, or 0 when r is
 * used up. */
uint64_t guest_frame_new(struct frame_reservation *r);
/* One more reference; false if the frame is not a guest frame or the count
 * is at its limit. */
bool guest_frame_share(uint64_t pa);
/* One reference less; true when that freed the frame, which goes back to
 * reservation r (NULL: to hv, for frames hv adopted). */
bool guest_frame_release(uint64_t pa, struct frame_reservation *r);

/* A frame from elsewhere (shared memory hv allocated) becomes a guest
 * frame with one reference, hv's own. */
void guest_frame_adopt(uint64_t pa);

/* W^X bookkeeping of a frame's mappings, by their leaf flags: adds one
 * mapping with `flags` if W^X and the counters allow it: 0, -HV_EPERM
 * (the frame is writable/executable elsewhere, or flags ask for both) or
 * -HV_ENOMEM (a counter is at its limit); nothing changes on an error. */
int guest_frame_add_mapping(uint64_t pa, uint64_t flags);
void guest_frame_drop_mapping(uint64_t pa, uint64_t flags);

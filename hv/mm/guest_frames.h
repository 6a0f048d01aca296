/* Frames that belong to guests, counted by reference: a guest may map one
 * of its pages at several addresses and in several of its address spaces
 * (HV_CALL_MEM_MAP with a source), and a frame goes back to the allocator
 * only when its last mapping goes. Frames are shared between guests only
 * in the regions hv.cfg declares ([shm]), which hv keeps a reference to.
 *
 * W^X holds per frame, not only per mapping: a frame mapped writable
 * anywhere is mapped executable nowhere, and the other way round, so an
 * alias cannot turn a guest's code writable. Mappings say they are
 * executable with PTE_SW_EXEC (a bit the CPU ignores), which also works on
 * CPUs without NX. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/mm/pagetable.h"

#define PTE_SW_EXEC (1ULL << 9)

bool guest_frames_init(void);
/* A zeroed frame with one reference, or 0. */
uint64_t guest_frame_new(void);
/* One more reference; false if the frame is not a guest frame or the count
 * would overflow. */
bool guest_frame_share(uint64_t pa);
/* One reference less; returns true when that freed the frame. */
bool guest_frame_release(uint64_t pa);

/* A frame from elsewhere (shared memory hv allocated) becomes a guest
 * frame with one reference, hv's own. */
void guest_frame_adopt(uint64_t pa);

/* W^X bookkeeping of a frame's mappings, by their leaf flags. */
bool guest_frame_may_map(uint64_t pa, uint64_t flags);
void guest_frame_count_mapping(uint64_t pa, uint64_t flags, int delta);

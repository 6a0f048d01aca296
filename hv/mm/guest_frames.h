/* Frames that belong to guests, counted by reference: a guest may map one
 * of its pages at several addresses and in several of its address spaces
 * (HV_CALL_MEM_MAP with a source), and a frame goes back to the allocator
 * only when its last mapping goes. Frames are never shared between guests. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

bool guest_frames_init(void);
/* A zeroed frame with one reference, or 0. */
uint64_t guest_frame_new(void);
/* One more reference; false if the frame is not a guest frame or the count
 * would overflow. */
bool guest_frame_share(uint64_t pa);
/* One reference less; returns true when that freed the frame. */
bool guest_frame_release(uint64_t pa);

/* Boot-time patching of the entry paths' mitigation switches (see
 * skip_unless_patched in hv/cpu/frame_asm.h). */
#pragma once

#include <stdint.h>

/* Turns the branch that skips each mitigation in `flags` (entry_flags
 * bits) into a NOP, so nothing can skip it, even speculatively. Once, at
 * boot, before any guest runs. Returns the number of sites patched. */
unsigned entry_patch_apply(uint8_t flags);

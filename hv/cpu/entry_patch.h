/* Boot-time patching of the entry paths' mitigation switches (see
 * skip_unless_patched in hv/cpu/frame_asm.h). */
#pragma once

#include <stdint.h>

/* Turns the branch that skips each mitigation in `flags` (entry_flags
 * bits) into a NOP, so nothing can skip it, even speculatively, and, when
 * the CPU has SMAP (cpu_entry_clac), the NOPs that the guest-memory copies
 * hold in place of stac/clac into those instructions. Once, at boot,
 * after cpu_protections_enable and before any guest runs. Returns the
 * number of branches patched out (the SMAP sites are not counted). */
unsigned entry_patch_apply(uint8_t flags);

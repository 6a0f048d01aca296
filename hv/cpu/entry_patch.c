#include "hv/cpu/entry_patch.h"

#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/mm/mm.h"

#include "hv/cpu/entry_flags.h"

/* What skip_unless_patched records in .entry_patch (hv/hv.ld). */
struct entry_patch_site {
    uint64_t address; /* a short jz (0x74 rel8) */
    uint64_t flag;
};

extern const struct entry_patch_site __entry_patch_start[], __entry_patch_end[];

#define JZ_SHORT 0x74
static const uint8_t nop2[2] = {0x66, 0x90};

/* What SMAP_STAC and SMAP_CLAC (hv/cpu/smap_asm.h) record in
 * .smap_patch: a 3-byte NOP to become stac or clac (same length). */
struct smap_patch_site {
    uint64_t address;
    uint64_t last_byte; /* 0xcb stac, 0xca clac (both 0f 01 xx) */
};

extern const struct smap_patch_site __smap_patch_start[], __smap_patch_end[];

static const uint8_t nop3[3] = {0x0f, 0x1f, 0x00};

static void smap_sites_patch(void)
{
    for (const struct smap_patch_site *s = __smap_patch_start; s < __smap_patch_end; s++) {
        uint8_t *code = phys_to_virt(mm_core_phys(s->address));
        if (code[0] != nop3[0] || code[1] != nop3[1] || code[2] != nop3[2])
            panic("smap patch: no 3-byte NOP at 0x%lx", (unsigned long)s->address);
        code[0] = 0x0f;
        code[1] = 0x01;
        code[2] = (uint8_t)s->last_byte;
    }
}

unsigned entry_patch_apply(uint8_t flags)
{
    unsigned patched = 0;
    for (const struct entry_patch_site *s = __entry_patch_start; s < __entry_patch_end; s++) {
        if (!(flags & s->flag))
            continue;
        /* hv's text is read-only where it runs; its direct-map alias is
         * not. Nothing runs these paths yet (no guest exists). */
        uint8_t *code = phys_to_virt(mm_core_phys(s->address));
        if (code[0] != JZ_SHORT)
            panic("entry patch: no short jz at 0x%lx", (unsigned long)s->address);
        code[0] = nop2[0];
        code[1] = nop2[1];
        patched++;
    }
    if (cpu_entry_clac)
        smap_sites_patch();
    /* Cross-modified code: a serialising instruction before it runs. */
    cpuid(0, 0);
    return patched;
}

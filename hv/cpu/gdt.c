#include "hv/cpu/gdt.h"

#define SEG_PRESENT (1ULL << 47)
#define SEG_CODE_DATA (1ULL << 44) /* S bit: code or data, not system */
#define SEG_EXEC (1ULL << 43)
#define SEG_RW (1ULL << 41)        /* readable code / writable data */
#define SEG_LONG (1ULL << 53)
#define SEG_DPL3 (3ULL << 45)

static uint64_t tss_low(uint64_t base, uint32_t limit)
{
    return (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) | (0x9ULL << 40) /* available 64-bit TSS */
           | SEG_PRESENT | ((uint64_t)(limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
}

/* The TSS descriptor (two slots from SEL_TSS) for this copy's own TSS,
 * the TSS's stacks, then everything loaded on the calling CPU. */
static void load(struct cpu_tables *t, const uint64_t ist_tops[IST_STACKS], uint64_t ring0_stack_top)
{
    uint64_t base = (uint64_t)&t->tss;
    t->gdt[SEL_TSS / 8] = tss_low(base, sizeof(t->tss) - 1);
    t->gdt[SEL_TSS / 8 + 1] = base >> 32;

    t->tss.rsp[0] = ring0_stack_top;
    for (unsigned i = 0; i < IST_STACKS; i++)
        t->tss.ist[i] = ist_tops[i]; /* slot IST_x is ist_tops[IST_x - 1] */
    /* An I/O bitmap offset past the TSS limit means no port is allowed at
     * ring 3: every in/out from a guest faults. */
    t->tss.iomap_base = sizeof(t->tss);

    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = {sizeof(t->gdt) - 1, (uint64_t)t->gdt};

    __asm__ volatile(
        "lgdt %0\n\t"
        "mov %1, %%ds\n\t"
        "mov %1, %%es\n\t"
        "mov %1, %%ss\n\t"
        /* FS and GS keep null selectors: their bases live in MSRs. */
        "xor %%eax, %%eax\n\t"
        "mov %%eax, %%fs\n\t"
        "pushq %2\n\t"
        "lea 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "ltr %w3\n\t"
        :
        : "m"(gdtr), "r"((uint64_t)SEL_KERNEL_DATA), "i"(SEL_KERNEL_CODE), "r"((uint64_t)SEL_TSS)
        : "rax", "memory");
}

void gdt_load(struct cpu_tables *t, const uint64_t ist_tops[IST_STACKS], uint64_t ring0_stack_top)
{
    t->gdt[0] = 0;
    t->gdt[1] = SEG_PRESENT | SEG_CODE_DATA | SEG_EXEC | SEG_RW | SEG_LONG;
    t->gdt[2] = SEG_PRESENT | SEG_CODE_DATA | SEG_RW;
    t->gdt[3] = SEG_PRESENT | SEG_CODE_DATA | SEG_RW | SEG_DPL3;
    t->gdt[4] = SEG_PRESENT | SEG_CODE_DATA | SEG_EXEC | SEG_RW | SEG_LONG | SEG_DPL3;
    /* Same as slot 4: only the selector differs, so a guest kernel can tell
     * from a frame's CS which of its modes was interrupted. */
    t->gdt[7] = t->gdt[4];
    load(t, ist_tops, ring0_stack_top);
}

void gdt_load_copy(struct cpu_tables *t, const struct cpu_tables *boot,
                   const uint64_t ist_tops[IST_STACKS], uint64_t ring0_stack_top)
{
    /* Every segment as the boot CPU's; only the TSS is this CPU's own
     * (and ltr marks the boot CPU's descriptor busy: rewritten anyway). */
    for (unsigned i = 0; i < GDT_ENTRIES; i++)
        t->gdt[i] = boot->gdt[i];
    load(t, ist_tops, ring0_stack_top);
}

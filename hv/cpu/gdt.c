#include "hv/cpu/gdt.h"

#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/debug/panic.h"
#include "hv/mm/mm.h"
#include "hv/mm/pagetable.h"

#define PAGE 4096ULL

struct gdtr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

void gdt_load(struct cpu_tables *t, uint64_t *gdt_page, const uint64_t ist_tops[IST_STACKS],
              uint64_t ring0_stack_top)
{
    t->gdt = gdt_page;
    gdt_fill_hv(gdt_page, (uint64_t)&t->tss, sizeof(t->tss) - 1);

    t->tss.rsp[0] = ring0_stack_top;
    for (unsigned i = 0; i < IST_STACKS; i++)
        t->tss.ist[i] = ist_tops[i]; /* slot IST_x is ist_tops[IST_x - 1] */
    /* An I/O bitmap offset past the TSS limit means no port is allowed at
     * ring 3: every in/out from a guest faults. */
    t->tss.iomap_base = sizeof(t->tss);

    struct gdtr gdtr = {GDT_ENTRIES * 8 - 1, (uint64_t)gdt_page};

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
        /* A null LDT: an LDT selector then faults #GP(selector). Left as
         * the firmware had it, LDTR may still hold reset's base 0 and limit
         * 0xffff, so the CPU would read a guest's LDT selectors (call gates
         * to ring 0 among them) from the guest's own memory at linear 0
         * (XTF's xsa-298 found it; only SMAP stopped the read). */
        "xor %%eax, %%eax\n\t"
        "lldt %%ax\n\t"
        :
        : "m"(gdtr), "r"((uint64_t)SEL_KERNEL_DATA), "i"(SEL_KERNEL_CODE), "r"((uint64_t)SEL_TSS)
        : "rax", "memory");
}

/* The frames every window shares, and the page 0 of each CPU's window. */
static uint64_t zero_frame, xen_frame;
static uint64_t own_page_phys[GDT_WINDOW_MAX_CPUS];
static unsigned windows;
static struct pt_space *shown_space; /* isolation's template, once it exists */

static uint64_t window_va(unsigned cpu_index)
{
    return GDT_WINDOW_BASE + cpu_index * GDT_WINDOW_STRIDE;
}

static bool map_window(struct pt_space *s, unsigned cpu_index)
{
    uint64_t va = window_va(cpu_index), nx = cpu_nx_mask();
    if (pt_map(s, va, own_page_phys[cpu_index], PAGE, PTE_W | nx, 0) != PT_OK)
        return false;
    for (unsigned p = 1; p < GDT_WINDOW_PAGES; p++)
        if (pt_map(s, va + p * PAGE, p == GDT_XEN_PAGE ? xen_frame : zero_frame, PAGE, nx, 0) != PT_OK)
            return false;
    return true;
}

void gdt_window_init(struct cpu_tables *t, unsigned cpu_index)
{
    if (cpu_index >= GDT_WINDOW_MAX_CPUS)
        panic("gdt: no window for CPU %u", cpu_index);
    if (!zero_frame) {
        zero_frame = frame_get_zeroed();
        xen_frame = frame_get_zeroed();
        if (!zero_frame || !xen_frame)
            panic("gdt: no memory for the shared GDT pages");
        gdt_fill_xen_page(phys_to_virt(xen_frame));
    }
    uint64_t own = (uint64_t)t->gdt; /* in hv's image (the boot CPU) or the direct map */
    own_page_phys[cpu_index] = own >= HV_CORE_BASE ? mm_core_phys(own) : virt_to_phys(t->gdt);
    if (!map_window(kernel_space(), cpu_index) || (shown_space && !map_window(shown_space, cpu_index)))
        panic("gdt: cannot map CPU %u's GDT window", cpu_index);
    if (cpu_index >= windows)
        windows = cpu_index + 1;
    struct gdtr gdtr = {GDT_LIMIT, window_va(cpu_index)};
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
    t->gdt = (uint64_t *)window_va(cpu_index);
    if (cpu_index == 0)
        log_debug("gdt: window at 0x%lx, limit 0x%x: 1 own page per CPU, 2 shared frames (flat: "
                 "%u KiB per CPU)",
                 (unsigned long)window_va(0), GDT_LIMIT, (unsigned)((GDT_LIMIT + 1 + 1023) / 1024));
}

void gdt_window_show(struct pt_space *s)
{
    shown_space = s; /* a CPU brought up later is shown there too */
    for (unsigned i = 0; i < windows; i++)
        if (own_page_phys[i] && !map_window(s, i))
            panic("gdt: cannot show CPU %u's GDT window", i);
}

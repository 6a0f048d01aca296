/* Bringing up the hypervisor's own memory management from the firmware's
 * map: normalise it, build the frame allocator (hv/mm/mm_alloc.c keeps it
 * and the heap, behind their locks), then page tables where the lower half
 * is empty (guests will own it) and the upper half holds the core (W^X,
 * guard pages under stacks), the direct map and a device window. */
#include "hv/mm/mm.h"

#include "hv/cpu/smp_rules.h"

#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/cpu/mitigations.h"
#include "hv/cpu/spinlock.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/mm/frame_alloc.h"
#include "hv/mm/kmalloc.h"
#include "hv/mm/mm_internal.h"
#include "hv/cpu/lock_order.h"

extern const char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[], __data_end[];
extern const char __guard_boot_stack[], __guard_ist1[], __guard_ist2[], __guard_ist3[],
    __guard_ist4[], __guard_kstack[];

#define PAGE 4096ULL
/* PAT entry 1 (selected by PWT alone) is reprogrammed to write-combining,
 * which suits a framebuffer; the other entries keep their reset values. */
#define PAT_VALUE 0x0007040600070106ULL
#define PTE_CACHE_WC PTE_PWT
#define PTE_CACHE_UC (PTE_PCD | PTE_PWT)

/* Splitting overlapping firmware entries can make more ranges than came in. */
static struct mem_range ranges[HANDOFF_MAX_MEM_RANGES * 2];
static size_t range_count;
static struct pt_space kspace;
static uint64_t mmio_next = HV_MMIO_BASE;
static uint64_t map_limit;
static uint64_t boot_tables;
static uint64_t core_phys;

/* hv's own tables after boot and the device window's next address
 * (mmio_map, mm_stack_alloc); the frame and heap locks are
 * hv/mm/mm_alloc.c's. Order when nested: kspace_lock, then those. */
static struct spinlock kspace_lock;

static uint64_t alloc_table(void *arg)
{
    (void)arg;
    return frame_get_zeroed();
}

struct pt_space *kernel_space(void)
{
    return &kspace;
}

uint64_t direct_map_limit(void)
{
    return map_limit;
}

uint64_t mm_total_usable_bytes(void)
{
    return memmap_usable_bytes(ranges, range_count);
}

uint64_t mm_boot_tables(void)
{
    return boot_tables;
}

/* Global pages stay in the TLB across CR3 writes: with page-table
 * isolation a guest would reach hv's mappings through them, so then none of
 * hv's is global. */
static uint64_t global(void)
{
    return mitigation_on(MIT_XPTI) ? 0 : PTE_G;
}

uint64_t mm_core_phys(uint64_t va)
{
    return va - HV_CORE_BASE + core_phys;
}

static void must_map(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags, unsigned opts,
                     const char *what)
{
    int rc = pt_map(&kspace, va, pa, size, flags, opts);
    if (rc != PT_OK)
        panic("mm: cannot map %s (0x%lx bytes at 0x%lx): error %d", what, (unsigned long)size,
              (unsigned long)pa, rc);
}

static void map_core_section(const char *start, const char *end, uint64_t flags, const char *what)
{
    uint64_t va = (uint64_t)start;
    must_map(va, mm_core_phys(va), (uint64_t)(end - start), flags | global(), 0, what);
}

/* The direct map's flags for memory of `kind`; false for kinds it leaves
 * out. */
static bool direct_flags(uint32_t kind, uint64_t *flags)
{
    switch (kind) {
    case MEM_USABLE:
    case MEM_BOOTLOADER:
    case MEM_RUNTIME:
    case MEM_ACPI_RECLAIM:
    case MEM_ACPI_NVS:
        *flags = PTE_W | global() | cpu_nx_mask();
        return true;
    case MEM_MMIO:
    case MEM_RESERVED:
        /* Firmware tables sometimes sit in reserved memory, next to
         * device registers: uncached and read-only is safe for both. */
        *flags = PTE_CACHE_UC | global() | cpu_nx_mask();
        return true;
    default:
        return false;
    }
}

/* Below 1 MiB the fixed-range MTRRs give the legacy areas types of their
 * own: no run reaches across it, so no large page spans two such types. */
#define DIRECT_RUN_BREAK (1ULL << 20)

/* Touching ranges with the same flags are mapped as one run: firmware maps
 * cut RAM into many small ranges (boot-loader data, runtime code, ACPI
 * tables) whose edges are not 2 MiB aligned, and mapping each on its own
 * left most of memory in 4 KiB pages (~0.9 M instructions at boot on
 * QEMU's 248 MiB, docs/benchmarks.md, boot_first_guest). One run of RAM
 * kinds is one memory type either way: the flags are the same. */
static void map_direct(void)
{
    uint64_t run_base = 0, run_end = 0, run_flags = 0;
    for (size_t i = 0; i <= range_count; i++) {
        uint64_t flags = 0;
        const struct mem_range *r = i < range_count ? &ranges[i] : NULL;
        if (r && !direct_flags(r->kind, &flags))
            continue;
        if (r && run_end > run_base && run_end == r->base && run_flags == flags &&
            (run_end <= DIRECT_RUN_BREAK) == (r->base + r->size <= DIRECT_RUN_BREAK)) {
            run_end = r->base + r->size;
            continue;
        }
        if (run_end > run_base) {
            must_map(HV_DIRECT_MAP_BASE + run_base, run_base, run_end - run_base, run_flags,
                     PT_ALLOW_2M, "direct map");
            if (run_end > map_limit)
                map_limit = run_end;
        }
        if (r) {
            run_base = r->base;
            run_end = r->base + r->size;
            run_flags = flags;
        }
    }
}

void mm_protect_core_alias(void)
{
    /* The direct map covers hv's own frames too, writable: an alias of its
     * code and read-only data that would undo W^X. From here on both are
     * read-only and not executable there (the entry paths were patched
     * through it just before: hv/cpu/entry_patch.c). */
    uint64_t start = (uint64_t)__text_start, end = (uint64_t)__rodata_end;
    uint64_t alias = HV_DIRECT_MAP_BASE + mm_core_phys(start);
    if (pt_protect(&kspace, alias, end - start, global() | cpu_nx_mask()) != PT_OK)
        panic("mm: cannot make the direct map's alias of hv's code read-only");
    write_cr3(read_cr3()); /* no writable translation of it stays cached */
    log_info("mm: hv's code and read-only data are read-only in the direct map (%lu KiB)",
             (unsigned long)((end - start) >> 10));
}

void *mmio_map(uint64_t phys, uint64_t size, enum mmio_cache cache)
{
    uint64_t offset = phys & (PAGE - 1);
    uint64_t base = phys - offset;
    if (size > HV_MMIO_SIZE || offset + size < size)
        return NULL;
    uint64_t len = (offset + size + PAGE - 1) & ~(PAGE - 1);
    uint64_t flags = PTE_W | global() | cpu_nx_mask() |
                     (cache == MMIO_WRITE_COMBINING && cpu_has_pat() ? PTE_CACHE_WC : PTE_CACHE_UC);
    uint64_t irq = mm_lock_take(&kspace_lock, LOCK_KSPACE);
    uint64_t va = mmio_next;
    bool room = len <= HV_MMIO_BASE + HV_MMIO_SIZE - mmio_next;
    bool mapped = room && pt_map(&kspace, va, base, len, flags, 0) == PT_OK;
    if (mapped)
        mmio_next += len + PAGE; /* an unmapped page between mappings */
    mm_lock_give(&kspace_lock, LOCK_KSPACE, irq);
    if (!room) {
        log_error("mm: device window full, cannot map 0x%lx", (unsigned long)phys);
        return NULL;
    }
    if (!mapped) {
        log_error("mm: cannot map device memory at 0x%lx", (unsigned long)phys);
        return NULL;
    }
    return (void *)(va + offset);
}

static void *stack_alloc_locked(uint64_t len, void (*each_page)(uint64_t va, uint64_t phys))
{
    if (len == 0 || len > HV_MMIO_BASE + HV_MMIO_SIZE - mmio_next - PAGE)
        return NULL;
    uint64_t va = mmio_next;
    /* The window's addresses are taken whatever happens: a page mapped
     * before memory ran out stays (boot only, a few pages). */
    mmio_next += len + PAGE; /* the unmapped page above; the one below came before */
    /* Page by page: one page is a next-fit pick, a contiguous run a scan
     * of the bitmap from the bottom (~5,000 instructions a stack). */
    for (uint64_t off = 0; off < len; off += PAGE) {
        uint64_t phys = frame_get_zeroed();
        if (!phys)
            return NULL;
        if (pt_map(&kspace, va + off, phys, PAGE, PTE_W | global() | cpu_nx_mask(), 0) != PT_OK) {
            frame_put(phys);
            return NULL;
        }
        if (each_page)
            each_page(va + off, phys);
    }
    return (void *)(va + len);
}

/* Boot only (the boot CPU, an AP at a time): kspace_lock held for the
 * whole stack, frames_lock taken inside for each page (the lock order). */
void *mm_stack_alloc(uint64_t bytes, void (*each_page)(uint64_t va, uint64_t phys))
{
    uint64_t irq = mm_lock_take(&kspace_lock, LOCK_KSPACE);
    void *top = stack_alloc_locked((bytes + PAGE - 1) & ~(PAGE - 1), each_page);
    mm_lock_give(&kspace_lock, LOCK_KSPACE, irq);
    return top;
}

uint64_t mm_low_pages(unsigned pages)
{
    return smp_find_low_pages(ranges, range_count, pages);
}

_Static_assert(HV_DIRECT_MAP_BASE >= HV_XEN_RESERVED_END, "the direct map must stay out of Xen's slots");
_Static_assert(HV_MMIO_BASE >= HV_XEN_RESERVED_END, "the device window must stay out of Xen's slots");
_Static_assert(HV_DIRECT_MAP_BASE < HV_MMIO_BASE, "the direct map lies below the device window");

bool mm_xen_slots_empty(uint64_t root_phys)
{
    const uint64_t *root = phys_to_virt(root_phys);
    for (uint64_t i = PML4_INDEX(HV_XEN_RESERVED_START); i < PML4_INDEX(HV_XEN_RESERVED_END); i++)
        if (root[i])
            return false;
    return true;
}

void mm_init(const struct handoff *h)
{
    core_phys = h->core_phys;
    boot_tables = h->boot_pml4_phys;

    for (uint32_t i = 0; i < h->mem_count; i++)
        ranges[i] = h->mem[i];
    range_count = memmap_normalize(ranges, h->mem_count, sizeof(ranges) / sizeof(ranges[0]));
    if (h->mem_truncated)
        log_warn("mm: the firmware memory map had more than %u entries; some memory is not used",
                 HANDOFF_MAX_MEM_RANGES);

    /* Low memory stays free of hypervisor data, for a real-mode SMP
     * trampoline later and for firmware that assumes it is untouched. */
    if (!mm_alloc_init(ranges, range_count))
        panic("mm: no usable memory for the frame allocator");

    if (cpu_has_pat())
        wrmsr(MSR_PAT, PAT_VALUE);

    if (pt_init(&kspace, HV_DIRECT_MAP_BASE, alloc_table, NULL) != PT_OK)
        panic("mm: no memory for the root page table");
    map_core_section(__text_start, __text_end, 0, "core text");
    map_core_section(__rodata_start, __rodata_end, cpu_nx_mask(), "core rodata");
    map_core_section(__data_start, __data_end, PTE_W | cpu_nx_mask(), "core data");
    const char *guards[] = {__guard_boot_stack, __guard_ist1, __guard_ist2, __guard_ist3,
                            __guard_ist4, __guard_kstack};
    for (unsigned i = 0; i < sizeof(guards) / sizeof(guards[0]); i++)
        if (pt_unmap(&kspace, (uint64_t)guards[i], PAGE) != PT_OK)
            panic("mm: cannot unmap a stack guard page");
    map_direct();

    /* Reserve the device window's top-level slot now, so every guest
     * address space made later from a copy of the upper half sees it. */
    if (pt_map(&kspace, HV_MMIO_BASE, 0, PAGE, cpu_nx_mask(), 0) != PT_OK ||
        pt_unmap(&kspace, HV_MMIO_BASE, PAGE) != PT_OK)
        panic("mm: cannot set up the device window");
    mmio_next = HV_MMIO_BASE + PAGE;

    /* Every guest root copies this upper half: what is empty here is empty
     * in all of them, free for a Xen guest's M2P (hv/handoff.h). */
    if (!mm_xen_slots_empty(kspace.root_phys))
        panic("mm: hv maps something in PML4 slots %lu-%lu, which Xen guests need",
              (unsigned long)PML4_INDEX(HV_XEN_RESERVED_START),
              (unsigned long)PML4_INDEX(HV_XEN_RESERVED_END) - 1);
    log_debug("mm: direct map at 0x%lx (PML4 slot %lu); slots %lu-%lu empty", (unsigned long)HV_DIRECT_MAP_BASE,
             (unsigned long)PML4_INDEX(HV_DIRECT_MAP_BASE), (unsigned long)PML4_INDEX(HV_XEN_RESERVED_START),
             (unsigned long)PML4_INDEX(HV_XEN_RESERVED_END) - 1);

    write_cr3(kspace.root_phys);
}

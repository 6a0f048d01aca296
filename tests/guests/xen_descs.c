/* Xen-ABI test guest: its own GDT entries, written from Xen's public
 * interface (set_gdt, update_descriptor) and run against hv's checks
 * (hv/xen/xen_desc.h, hv/xen/xen_gdt.c). What it shows, each a check:
 *  - set_gdt of a table with a ring-0 code segment, a data segment and a
 *    64-bit call gate is taken; Xen's refusals leave it unchanged (7169
 *    entries, a frame past its RAM, a list pointer in hv's half, an LDT,
 *    a TSS, an interrupt gate, a gate to hv's ring-0 code 0x08, a bad
 *    descriptor past the entries hv installs);
 *  - the installed entries are live on the CPU: its data selector loads,
 *    a far jump reaches its code selector at ring 3 (the ring-0 segment
 *    was made ring 3: a DPL-0 one would #GP), and the call gate always
 *    faults with #GP(selector) (stored DPL 0: it never reaches its
 *    target, whatever DPL the guest gave it);
 *  - no LDT: MMUEXT_SET_LDT of 0 entries is taken, of some -EOPNOTSUPP
 *    (bad arguments -EINVAL); an LDT selector (a far call's, a data load's) is
 *    #GP(selector);
 *  - update_descriptor: misaligned, past its RAM, into its own page
 *    tables, into its own code (W^X) and a TSS: -EINVAL; a ring-0 data
 *    segment is written back as ring 3 and loads;
 *  - a selector loaded from an entry it then makes not present is nulled
 *    when hv loads the vCPU again (beside the companion, a yield switches):
 *    hv's own reload never faults on it; set_gdt with 0 entries removes
 *    them (a load then faults, and a switch nulls the selector).
 * Prints "xen-descs: all N checks, M failed". */
#include "tests/guests/xen/xen_guest.h"

#define HV_ADDR 0xffff800000000000ULL
#define FLAT_CODE64(dpl) (0x00af9a000000ffffULL | ((uint64_t)(dpl) << 45))
#define FLAT_DATA(dpl) (0x00cf92000000ffffULL | ((uint64_t)(dpl) << 45))
#define SEL_CODE 0x4b  /* entry 9, RPL 3 */
#define SEL_DATA 0x53  /* entry 10 */
#define SEL_DATA2 0x5b /* entry 11 */
#define SEL_GATE 0x63  /* entry 12 (and 13: its upper half) */
#define ENTRIES 16

static uint64_t gdt[512] __attribute__((aligned(4096)));
static uint64_t other[512] __attribute__((aligned(4096)));

static uint64_t gate(uint16_t target, unsigned dpl, uint64_t offset)
{
    return (offset & 0xffff) | ((uint64_t)target << 16) | (1ULL << 47) | (0xcULL << 40) |
           ((uint64_t)dpl << 45) | ((offset >> 16 & 0xffff) << 48);
}

static long set_gdt(uint64_t *frames, uint64_t entries)
{
    return hcall(XEN_HC_set_gdt, (uint64_t)frames, entries, 0);
}

static long update_descriptor(uint64_t maddr, uint64_t desc)
{
    return hcall(XEN_HC_update_descriptor, maddr, desc, 0);
}


static uint16_t ds(void)
{
    return SEG_SELECTOR(ds);
}

static uint16_t es(void)
{
    return SEG_SELECTOR(es);
}

static long load_ds(uint16_t sel)
{
    return TRY("mov %w0, %%ds", : : "r"(sel) : "r8", "memory");
}

static long load_es(uint16_t sel)
{
    return TRY("mov %w0, %%es", : : "r"(sel) : "r8", "memory");
}

struct __attribute__((packed)) far_ptr {
    uint32_t offset;
    uint16_t sel;
};
/* Not static: the asm names them. */
struct far_ptr there, back, call_ptr;
extern const char far_there[], far_back[], lret_back[], stay_back[];
volatile uint64_t seen_cs;

/* A far jump to SEL_CODE (m16:32: the code is below 4 GiB), `mov %cs`
 * there, and back to Xen's 0xe033 the same way. */
static __attribute__((noinline)) long far_jump_to_own_code(void)
{
    there.offset = (uint32_t)(uintptr_t)far_there;
    there.sel = SEL_CODE;
    back.offset = (uint32_t)(uintptr_t)far_back;
    back.sel = 0xe033;
    seen_cs = 0;
    return TRY("ljmpl *there(%%rip)\n"
               "far_there:\n\t"
               "mov %%cs, %%eax\n\t"
               "mov %%rax, seen_cs(%%rip)\n\t"
               "ljmpl *back(%%rip)\n"
               "far_back:",
               : : : "rax", "r8", "memory");
}

/* lretq to SEL_CODE (XTF's xsa-296 way; QEMU's TCG pops it with
 * supervisor accesses, which hv completes), back by a far jump. */
static __attribute__((noinline)) long far_return_to_own_code(void)
{
    back.offset = (uint32_t)(uintptr_t)lret_back;
    back.sel = 0xe033;
    seen_cs = 0;
    return TRY("pushq $0x4b\n\t"
               "lea lret_there(%%rip), %%rax\n\t"
               "pushq %%rax\n\t"
               "lretq\n"
               "lret_there:\n\t"
               "mov %%cs, %%eax\n\t"
               "mov %%rax, seen_cs(%%rip)\n\t"
               "ljmpl *back(%%rip)\n"
               "lret_back:",
               : : : "rax", "r8", "memory");
}

/* Stays ~30 ms (TSC at QEMU's ~1 GHz) on SEL_CODE beside the running
 * companion, reading CS each round: preempted there (a TSC gap over
 * 1 ms: another vCPU ran), it must come back on SEL_CODE, not on its
 * mode's flat selector. */
volatile uint64_t own_cs_wrong, own_cs_gaps;
static __attribute__((noinline)) long stay_on_own_code(void)
{
    back.offset = (uint32_t)(uintptr_t)stay_back;
    back.sel = 0xe033;
    own_cs_wrong = own_cs_gaps = 0;
    return TRY("pushq $0x4b\n\t"
               "lea stay_there(%%rip), %%rax\n\t"
               "pushq %%rax\n\t"
               "lretq\n"
               "stay_there:\n\t"
               "rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax\n\t"
               "mov %%rax, %%rdi\n\tmov %%rax, %%rsi\n"
               "stay_loop:\n\t"
               "rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax\n\t"
               "mov %%rax, %%rcx\n\tsub %%rsi, %%rcx\n\tmov %%rax, %%rsi\n\t"
               "cmp $1000000, %%rcx\n\tjb 2f\n\t"
               "incq own_cs_gaps(%%rip)\n"
               "2:\n\t"
               "mov %%cs, %%ecx\n\tcmp $0x4b, %%ecx\n\tje 3f\n\t"
               "incq own_cs_wrong(%%rip)\n"
               "3:\n\t"
               "mov %%rax, %%rcx\n\tsub %%rdi, %%rcx\n\t"
               "cmp $30000000, %%rcx\n\tjb stay_loop\n\t"
               "ljmpl *back(%%rip)\n"
               "stay_back:",
               : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "memory");
}

volatile uint64_t gate_reached;
extern const char gate_target[];
__asm__(".text\ngate_target:\n\tmovq $1, gate_reached(%rip)\n\tlretq\n");

static __attribute__((noinline)) long call_through(uint16_t sel)
{
    call_ptr.offset = 0;
    call_ptr.sel = sel;
    return TRY("lcalll *call_ptr(%%rip)", : : : "r8", "memory");
}

static void yield_until(int (*done)(void))
{
    for (int i = 0; i < 200 && !done(); i++)
        hcall(XEN_HC_sched_op, XEN_SCHEDOP_yield, 0, 0);
}

static int ds_null(void)
{
    return ds() == 0;
}

static int es_null(void)
{
    return es() == 0;
}

static void install(const struct xen_start_info *si)
{
    uint64_t frame = (uint64_t)gdt >> 12;
    for (unsigned i = 0; i < 512; i++)
        gdt[i] = 0; /* written: its page is writable data, not code */
    gdt[9] = FLAT_CODE64(0);
    gdt[10] = FLAT_DATA(3);
    gdt[12] = gate(0xe033, 3, (uint64_t)gate_target);
    gdt[13] = (uint64_t)gate_target >> 32;
    check(set_gdt(&frame, ENTRIES) == 0, "set_gdt of its table", "refused");

    uint64_t bad_frames[1] = {si->nr_pages};
    check(set_gdt(bad_frames, ENTRIES) == -XEN_EINVAL, "set_gdt: a frame past its RAM: -EINVAL",
          "other");
    check(set_gdt(&frame, 7169) == -XEN_EINVAL, "set_gdt: 7169 entries: -EINVAL", "other");
    check(set_gdt((uint64_t *)HV_ADDR, ENTRIES) == -XEN_EFAULT, "set_gdt: list in hv's half: -EFAULT",
          "other");
    check(set_gdt((uint64_t *)0x7ffffffffffcULL, ENTRIES) == -XEN_EFAULT,
          "set_gdt: list across the lower half's end: -EFAULT", "other");
    struct { unsigned index; uint64_t desc; const char *name; } refused[] = {
        {11, (1ULL << 47) | (2ULL << 40) | (3ULL << 45) | 0xffff, "an LDT descriptor"},
        {11, (1ULL << 47) | (9ULL << 40) | (3ULL << 45) | 0x67, "a TSS descriptor"},
        {11, (1ULL << 47) | (0xeULL << 40) | (3ULL << 45) | (0xe033ULL << 16), "an interrupt gate"},
        {11, gate(0x08, 3, 0x1000), "a call gate to hv's ring-0 code"},
        {11, 0x00cf9a000000ffffULL, "a 32-bit code segment (no compatibility mode)"},
        {300, (1ULL << 47) | (2ULL << 40) | 0xffff, "an LDT descriptor at entry 300"},
    };
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        gdt[refused[i].index] = refused[i].desc;
        long rc = set_gdt(&frame, refused[i].index < ENTRIES ? ENTRIES : 512);
        gdt[refused[i].index] = 0;
        check(rc == -XEN_EINVAL, refused[i].name, "%ld", rc);
    }
    /* Still the first table: its entries load. */
    check(load_ds(SEL_DATA) == -1 && ds() == SEL_DATA, "its data selector loads", "ds 0x%x", ds());
    load_ds(0);
    long vec = far_jump_to_own_code();
    check(vec == -1 && seen_cs == SEL_CODE, "far jump to its code selector (DPL 0 made 3)",
          "vec %ld cs 0x%lx", vec, (unsigned long)seen_cs);
    vec = far_return_to_own_code();
    check(vec == -1 && seen_cs == SEL_CODE, "lretq to its code selector", "vec %ld cs 0x%lx", vec,
          (unsigned long)seen_cs);
    vec = stay_on_own_code();
    check(vec == -1 && own_cs_gaps > 0 && own_cs_wrong == 0,
          "preempted on its code selector, it resumes on it",
          "vec %ld, %lu gaps, %lu rounds on another cs", vec, (unsigned long)own_cs_gaps,
          (unsigned long)own_cs_wrong);
    gate_reached = 0;
    vec = call_through(SEL_GATE);
    check(vec == 13 && trap_seen[2] == (SEL_GATE & ~3ULL) && !gate_reached,
          "far call through its call gate: #GP(selector)", "vec %ld error 0x%lx reached %lu", vec,
          (unsigned long)trap_seen[2], (unsigned long)gate_reached);
}

static void updates(const struct xen_start_info *si)
{
    uint64_t base = (uint64_t)gdt;
    check(update_descriptor(base + 11 * 8 + 4, FLAT_DATA(3)) == -XEN_EINVAL,
          "update_descriptor misaligned: -EINVAL", "other");
    check(update_descriptor(si->nr_pages << 12, FLAT_DATA(3)) == -XEN_EINVAL,
          "update_descriptor past its RAM: -EINVAL", "other");
    check(update_descriptor(~7ULL, FLAT_DATA(3)) == -XEN_EINVAL,
          "update_descriptor at 2^64-8: -EINVAL", "other");
    check(update_descriptor(si->pt_base, FLAT_DATA(3)) == -XEN_EINVAL,
          "update_descriptor into its root page table: -EINVAL", "other");
    check(update_descriptor((uint64_t)install & ~7ULL, FLAT_DATA(3)) == -XEN_EINVAL,
          "update_descriptor into its own code (W^X): -EINVAL", "other");
    check(update_descriptor(base + 11 * 8, (1ULL << 47) | (9ULL << 40) | 0x67) == -XEN_EINVAL &&
              gdt[11] == 0,
          "update_descriptor of a TSS: -EINVAL, unchanged", "0x%lx", (unsigned long)gdt[11]);
    check(load_es(SEL_DATA2) == 13, "an empty entry: #GP", "other");
    check(update_descriptor(base + 11 * 8, FLAT_DATA(0)) == 0 && gdt[11] == FLAT_DATA(3),
          "update_descriptor: ring-0 data written as ring 3", "0x%lx", (unsigned long)gdt[11]);
    check(load_es(SEL_DATA2) == -1 && es() == SEL_DATA2, "the updated entry loads", "es 0x%x",
          es());
    /* A frame that is not its table: written, nothing installed. */
    other[3] = 0;
    check(update_descriptor((uint64_t)&other[3], FLAT_DATA(1)) == 0 && other[3] == FLAT_DATA(3),
          "update_descriptor of another frame", "0x%lx", (unsigned long)other[3]);
}

/* No LDT: an LDT selector faults #GP(selector), whatever its guest's
 * memory at linear 0x1000 holds (hv loads a null LDTR; the firmware's
 * may describe the guest's own memory at 0 as an LDT). */
static long set_ldt(uint64_t linear_addr, uint64_t nr_ents)
{
    struct xen_mmuext_op op = {.cmd = 13, .arg1 = linear_addr, .arg2 = nr_ents}; /* MMUEXT_SET_LDT */
    return hcall4(XEN_HC_mmuext_op, (uint64_t)&op, 1, 0, XEN_DOMID_SELF);
}

static void no_ldt(void)
{
    /* MMUEXT_SET_LDT: Xen's argument checks, no LDT taken, an LDT of
     * entries refused clearly (-EOPNOTSUPP, not -ENOSYS: the call exists). */
    check(set_ldt(0, 0) == 0, "MMUEXT_SET_LDT of no LDT (0 entries): 0", "other");
    check(set_ldt((uint64_t)gdt + 8, 16) == -XEN_EINVAL, "MMUEXT_SET_LDT misaligned: -EINVAL", "other");
    check(set_ldt((uint64_t)gdt, 8193) == -XEN_EINVAL, "MMUEXT_SET_LDT of 8193 entries: -EINVAL", "other");
    check(set_ldt((uint64_t)gdt, 16) == -XEN_EOPNOTSUPP, "MMUEXT_SET_LDT of 16 entries: -EOPNOTSUPP",
          "other");
    long vec = call_through(0x1007); /* LDT entry 0x200, RPL 3: XTF xsa-298's */
    check(vec == 13 && trap_seen[2] == 0x1004, "far call through an LDT selector: #GP(selector)",
          "vec %ld error 0x%lx", vec, (unsigned long)trap_seen[2]);
    vec = load_ds(0x0007);
    check(vec == 13 && trap_seen[2] == 0x0004 && ds() == 0, "LDT selector 7 into DS: #GP(selector)",
          "vec %ld error 0x%lx", vec, (unsigned long)trap_seen[2]);
}

static volatile uint64_t based_word = 0x0b5eba5eULL;

/* FS on its own data entry with a base (a descriptor's base is 32 bits:
 * its image is below 4 GiB) and no FS base set: the descriptor's base
 * stays across switches (hv's load writes an FS base only when one was
 * set or FS is null, as Xen's); set_segment_base(FS) then wins. */
static void descriptor_base_in_fs(void)
{
    uint64_t b = (uint64_t)&based_word, desc = FLAT_DATA(3);
    desc = (desc & 0x00ffff000000ffffULL) | ((b & 0xffffff) << 16) | ((b >> 24 & 0xff) << 56);
    check(update_descriptor((uint64_t)gdt + 11 * 8, desc) == 0, "a data entry based at a word of its own",
          "refused");
    __asm__ volatile("mov %w0, %%fs" : : "r"((uint16_t)SEL_DATA2));
    check(fs_word() == based_word, "FS on it reads the word", "0x%lx", (unsigned long)fs_word());
    /* Two switches only: the companion's life (100 ms of CPU) is needed by
     * the checks after this one. */
    for (int i = 0; i < 2; i++)
        hcall(XEN_HC_sched_op, XEN_SCHEDOP_yield, 0, 0); /* the companion runs between */
    check(fs_word() == based_word, "the descriptor's base kept across 2 switches", "0x%lx",
          (unsigned long)fs_word());
    static const uint64_t other_word = 0x07e5b45eULL;
    check(hcall(XEN_HC_set_segment_base, 0, (uint64_t)&other_word, 0) == 0 && fs_word() == other_word,
          "set_segment_base(FS) over it", "0x%lx", (unsigned long)fs_word());
    hcall(XEN_HC_set_segment_base, 0, 0, 0);
    __asm__ volatile("mov %w0, %%fs" : : "r"((uint16_t)0));
    update_descriptor((uint64_t)gdt + 11 * 8, FLAT_DATA(3)); /* as updates() left it: ES is on it */
}

static void stale_selectors(void)
{
    check(load_ds(SEL_DATA) == -1 && ds() == SEL_DATA, "DS on its data entry", "ds 0x%x", ds());
    uint64_t base = (uint64_t)gdt;
    check(update_descriptor(base + 10 * 8, FLAT_DATA(3) & ~(1ULL << 47)) == 0,
          "its data entry made not present", "refused");
    /* DS still holds it (the CPU's copy); hv reloads DS when it loads the
     * vCPU after the companion ran: that must not fault in hv. */
    yield_until(ds_null);
    check(ds() == 0 && es() == SEL_DATA2, "a switch nulls DS, keeps ES on a live entry",
          "ds 0x%x es 0x%x", ds(), es());
    check(load_ds(SEL_DATA) == 11, "its not-present entry: #NP", "other");
    check(set_gdt(NULL, 0) == 0, "set_gdt with 0 entries", "refused");
    check(load_ds(SEL_DATA2) == 13, "no entries: #GP", "other");
    yield_until(es_null);
    check(es() == 0, "a switch nulls ES too", "es 0x%x", es());
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    static struct xen_trap_info table[] = {
        TRAP_ENTRY(6, 0, trap_ud), TRAP_ENTRY(11, 0, trap_np), TRAP_ENTRY(13, 0, trap_gp), TRAP_END,
    };
    check(hcall(XEN_HC_set_trap_table, (uint64_t)table, 0, 0) == 0, "set_trap_table", "refused");
    install(si);
    updates(si);
    no_ldt();
    descriptor_base_in_fs();
    stale_selectors();
    xprint("xen-descs: all %u checks, %u failed\n", checks_run, checks_failed);
    shutdown(XEN_SHUTDOWN_poweroff);
}

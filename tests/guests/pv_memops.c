/* Memory operations (include/hv/abi_cpu.h; error codes as docs/abi.md lists
 * them). What works: fresh zeroed pages, aliases of the kernel's own pages
 * (the same memory: a write through one shows through the other, and the
 * alias keeps the page after the original is unmapped), protection
 * changes (a write to a page made read-only faults, to the guest's #PF
 * handler), user spaces. What is refused, changing nothing:
 *   - a bad space handle, va unaligned, in the upper half (hv memory),
 *     non-canonical, at or above HV_GUEST_MAP_LIMIT or running past it,
 *     0 pages: -HV_EINVAL;
 *   - prot writable+executable, without read, with unknown bits: -HV_EINVAL;
 *   - src_va unaligned or in the upper half: -HV_EINVAL; src_va not mapped
 *     in the kernel space (wholly or partly): -HV_EFAULT;
 *   - a page already mapped (wholly or partly): -HV_EEXIST;
 *   - protecting pages that are not mapped: -HV_ENOENT;
 *   - more fresh pages than the memory allowance: -HV_ENOMEM (and after
 *     unmapping, the allowance is back);
 *   - destroying the user space a vCPU runs in (is set to): -HV_EBUSY;
 *     destroying or selecting space 0 or one that does not exist:
 *     -HV_EINVAL; more than HV_MAX_USER_SPACES spaces: -HV_ENOMEM.
 * W^X holds per frame: a writable alias of code, an executable alias of
 * writable data, or making such an alias writable: -HV_EPERM. One thing hv
 * allows that a reader might not expect is printed, not judged: a writable
 * alias of the start info (the guest's own page, which hv never reads
 * back).
 * Prints one line per check; "pv-memops: all N checks passed", exit 0. */
#include "pv_common.h"

HV_GUEST_NOTE("pv-memops", HVG_KIB(1024), 1, 0);

#define SCRATCH 0x0000500000000000ull
#define UPPER_HALF 0xffff800000000000ull
#define HV_CORE 0xffffffff80000000ull
#define NONCANONICAL 0x0000800000000000ull
#define RW (HV_PROT_READ | HV_PROT_WRITE)
#define RX (HV_PROT_READ | HV_PROT_EXEC)

static volatile unsigned pf_count;
static volatile uint64_t pf_address, pf_error;

static void on_pf(struct hvg_trap_frame *f)
{
    pf_count++;
    pf_address = hvg_fault_address(0);
    pf_error = f->error_code;
    f->rip = pv_resume_rip;
}

static bool readable(uint64_t va)
{
    unsigned before = pf_count;
    uint64_t v;
    __asm__ volatile(PV_ARM "8: mov (%[p]), %[v]\n9:"
                     : PV_ARM_OUT, [v] "=r"(v) : [p] "r"(va) : "rax", "memory");
    (void)v;
    return pf_count == before;
}

static bool writable(uint64_t va)
{
    unsigned before = pf_count;
    __asm__ volatile(PV_ARM "8: orb $0, (%[p])\n9:" : PV_ARM_OUT : [p] "r"(va) : "rax", "memory");
    return pf_count == before;
}

static void check_map_refusals(void)
{
    uint64_t text = (uint64_t)(uintptr_t)hvg_user_text_start & ~(PAGE - 1);

    expect_eq("map: space 17", hvg_mem_map(17, SCRATCH, 1, 0, RW), -HV_EINVAL);
    expect_eq("map: space 5 (never created)", hvg_mem_map(5, SCRATCH, 1, 0, RW), -HV_EINVAL);
    expect_eq("map: space 2^63", hvg_mem_map(1ull << 63, SCRATCH, 1, 0, RW), -HV_EINVAL);
    expect_eq("map: va unaligned", hvg_mem_map(0, SCRATCH + 8, 1, 0, RW), -HV_EINVAL);
    expect_eq("map: va in hv's direct map", hvg_mem_map(0, UPPER_HALF, 1, 0, RW), -HV_EINVAL);
    expect_eq("map: va in hv's core", hvg_mem_map(0, HV_CORE, 1, 0, RW), -HV_EINVAL);
    expect_eq("map: va non-canonical", hvg_mem_map(0, NONCANONICAL, 1, 0, RW), -HV_EINVAL);
    expect_eq("map: va at HV_GUEST_MAP_LIMIT", hvg_mem_map(0, HV_GUEST_MAP_LIMIT, 1, 0, RW),
              -HV_EINVAL);
    expect_eq("map: over the start info (above the limit)",
              hvg_mem_map(0, (uint64_t)(uintptr_t)hvg_start_info(), 1, 0, RW), -HV_EINVAL);
    expect_eq("map: 2 pages from the last page below the limit",
              hvg_mem_map(0, HV_GUEST_MAP_LIMIT - PAGE, 2, 0, RW), -HV_EINVAL);
    expect_eq("map: 2^52 pages (wraps)", hvg_mem_map(0, SCRATCH, 1ull << 52, 0, RW), -HV_EINVAL);
    expect_eq("map: 0 pages", hvg_mem_map(0, SCRATCH, 0, 0, RW), -HV_EINVAL);
    expect_eq("map: prot W|X", hvg_mem_map(0, SCRATCH, 1, 0, HV_PROT_WRITE | HV_PROT_EXEC),
              -HV_EINVAL);
    expect_eq("map: prot R|W|X", hvg_mem_map(0, SCRATCH, 1, 0, RW | HV_PROT_EXEC), -HV_EINVAL);
    expect_eq("map: prot W without R", hvg_mem_map(0, SCRATCH, 1, 0, HV_PROT_WRITE), -HV_EINVAL);
    expect_eq("map: prot 0", hvg_mem_map(0, SCRATCH, 1, 0, 0), -HV_EINVAL);
    expect_eq("map: prot with bit 3", hvg_mem_map(0, SCRATCH, 1, 0, HV_PROT_READ | 8), -HV_EINVAL);
    expect_eq("map: W|X alias of its own code", hvg_mem_map(0, SCRATCH, 1, text, RW | HV_PROT_EXEC),
              -HV_EINVAL);
    expect_eq("map: src_va unaligned", hvg_mem_map(0, SCRATCH, 1, text + 1, HV_PROT_READ),
              -HV_EINVAL);
    expect_eq("map: src_va in hv's core", hvg_mem_map(0, SCRATCH, 1, HV_CORE, HV_PROT_READ),
              -HV_EINVAL);
    expect_eq("map: src_va in hv's direct map", hvg_mem_map(0, SCRATCH, 1, UPPER_HALF, HV_PROT_READ),
              -HV_EINVAL);
    expect_eq("map: src_va not mapped", hvg_mem_map(0, SCRATCH, 1, 0x10000000, HV_PROT_READ),
              -HV_EFAULT);
    /* The image's last page is mapped, the guard page after it is not. */
    uint64_t last = hvg_start_info()->image_end - PAGE;
    expect_eq("map: src_va partly mapped", hvg_mem_map(0, SCRATCH, 2, last, HV_PROT_READ),
              -HV_EFAULT);
    expect_true("... and nothing was mapped", readable(SCRATCH) == false);
    expect_eq("map: over its own code", hvg_mem_map(0, text, 1, 0, RW), -HV_EEXIST);
    expect_eq("map: fresh page for the overlap test", hvg_mem_map(0, SCRATCH + PAGE, 1, 0, RW), 0);
    expect_eq("map: 2 pages whose second is mapped", hvg_mem_map(0, SCRATCH, 2, 0, RW), -HV_EEXIST);
    expect_true("... and the first was not mapped", !readable(SCRATCH));
    expect_eq("unmap it", hvg_mem_unmap(0, SCRATCH + PAGE, 1), 0);
    expect_eq("unmap: pages not mapped is no error", hvg_mem_unmap(0, SCRATCH, 4), 0);
    expect_eq("unmap: va in hv's core", hvg_mem_unmap(0, HV_CORE, 1), -HV_EINVAL);
    expect_eq("unmap: space 17", hvg_mem_unmap(17, SCRATCH, 1), -HV_EINVAL);
    expect_eq("protect: W|X on its own code", hvg_mem_protect(0, text, 1, RW | HV_PROT_EXEC),
              -HV_EINVAL);
    expect_eq("protect: pages not mapped", hvg_mem_protect(0, SCRATCH, 1, HV_PROT_READ),
              -HV_ENOENT);
    expect_eq("protect: the start info (above the limit)",
              hvg_mem_protect(0, (uint64_t)(uintptr_t)hvg_start_info(), 1, RW), -HV_EINVAL);
    expect_eq("protect: va in hv's core", hvg_mem_protect(0, HV_CORE, 1, HV_PROT_READ), -HV_EINVAL);
}

static void check_aliases(void)
{
    const uint64_t a = SCRATCH + 0x100000, b = SCRATCH + 0x200000;

    expect_eq("map a fresh page", hvg_mem_map(0, a, 1, 0, RW), 0);
    expect_true("... zeroed", *(volatile uint64_t *)(uintptr_t)(a + 64) == 0);
    *(volatile uint64_t *)(uintptr_t)(a + 64) = 0xa11a5;
    expect_eq("alias it read-only elsewhere", hvg_mem_map(0, b, 1, a, HV_PROT_READ), 0);
    expect_eq("... the alias shows the same memory", (int64_t)*(volatile uint64_t *)(uintptr_t)(b + 64),
              0xa11a5);
    expect_true("... and is read-only: a write faults to the #PF handler",
                !writable(b) && pf_address == b &&
                    pf_error == (HVG_PF_PRESENT | HVG_PF_WRITE | HVG_PF_USER));
    expect_eq("unmap the original", hvg_mem_unmap(0, a, 1), 0);
    expect_true("... the original is gone", !readable(a));
    expect_eq("... the alias keeps the page", (int64_t)*(volatile uint64_t *)(uintptr_t)(b + 64),
              0xa11a5);
    expect_eq("protect the alias read-write", hvg_mem_protect(0, b, 1, RW), 0);
    expect_true("... now writable", writable(b));
    expect_eq("protect it read-only again", hvg_mem_protect(0, b, 1, HV_PROT_READ), 0);
    expect_true("... a write faults again", !writable(b));
    expect_eq("unmap the alias", hvg_mem_unmap(0, b, 1), 0);

    /* W^X holds per frame: code never gets a writable alias, data never an
     * executable one, and protection changes obey the same rule. */
    uint64_t text = (uint64_t)(uintptr_t)hvg_user_text_start & ~(PAGE - 1);
    expect_eq("a writable alias of its own executable code", hvg_mem_map(0, a, 1, text, RW),
              -HV_EPERM);
    uint64_t data = (uint64_t)(uintptr_t)&pf_address & ~(PAGE - 1);
    expect_eq("an executable alias of its own writable data",
              hvg_mem_map(0, a, 1, data, HV_PROT_READ | HV_PROT_EXEC), -HV_EPERM);
    expect_eq("a read-only alias of its code", hvg_mem_map(0, a, 1, text, HV_PROT_READ), 0);
    expect_eq("... which cannot be made writable", hvg_mem_protect(0, a, 1, RW), -HV_EPERM);
    expect_eq("... and goes", hvg_mem_unmap(0, a, 1), 0);
    /* The start-info page may never be writable (its maximum protection). */
    expect_eq("a writable alias of the read-only start info",
              hvg_mem_map(0, a, 1, (uint64_t)(uintptr_t)hvg_start_info(), RW), -HV_EPERM);
}

static void check_allowance(void)
{
    const struct hv_start_info *si = hvg_start_info();
    uint64_t limit = si->memory_bytes / PAGE;
    uint64_t mapped = 0;
    int64_t r = 0;

    expect_eq("a fresh mapping bigger than the whole allowance", hvg_mem_map(0, SCRATCH, limit + 1, 0, RW),
              -HV_ENOMEM);
    while (mapped <= limit) {
        r = hvg_mem_map(0, SCRATCH + mapped * PAGE, 1, 0, RW);
        if (r < 0)
            break;
        mapped++;
    }
    hvg_printf("pv-memops: %llu fresh pages mapped before the allowance (%llu pages) ran out\n",
               (unsigned long long)mapped, (unsigned long long)limit);
    expect_eq("fresh pages beyond the allowance", r, -HV_ENOMEM);
    expect_true("... after at least one page and fewer than the allowance", mapped >= 1 && mapped < limit);
    expect_eq("unmapping them all", hvg_mem_unmap(0, SCRATCH, mapped), 0);
    r = hvg_mem_map(0, SCRATCH, mapped, 0, RW);
    expect_eq("the same number fits again (the allowance came back)", r, 0);
    if (r == 0)
        hvg_mem_unmap(0, SCRATCH, mapped);
}

static void check_spaces(void)
{
    int64_t s1 = hvg_user_space_create(), s2 = hvg_user_space_create();

    expect_true("two user spaces", s1 >= 1 && s2 >= 1 && s1 != s2 && s1 <= HV_MAX_USER_SPACES &&
                                       s2 <= HV_MAX_USER_SPACES);
    expect_eq("a fresh page in user space 1", hvg_mem_map((uint64_t)s1, SCRATCH, 1, 0, RW), 0);
    expect_eq("... its address is still free in the kernel space", readable(SCRATCH), false);
    expect_eq("map into it over that page", hvg_mem_map((uint64_t)s1, SCRATCH, 1, 0, RW), -HV_EEXIST);
    expect_eq("select user space 1", hvg_set_user_space((uint64_t)s1), 0);
    expect_eq("destroy the selected space", hvg_user_space_destroy((uint64_t)s1), -HV_EBUSY);
    expect_eq("destroy space 0", hvg_user_space_destroy(0), -HV_EINVAL);
    expect_eq("destroy space 17", hvg_user_space_destroy(17), -HV_EINVAL);
    expect_eq("select space 0", hvg_set_user_space(0), -HV_EINVAL);
    expect_eq("select space 99", hvg_set_user_space(99), -HV_EINVAL);
    expect_eq("select user space 2", hvg_set_user_space((uint64_t)s2), 0);
    expect_eq("destroy space 1, no longer selected", hvg_user_space_destroy((uint64_t)s1), 0);
    expect_eq("destroy it again", hvg_user_space_destroy((uint64_t)s1), -HV_EINVAL);
    expect_eq("map into the destroyed space", hvg_mem_map((uint64_t)s1, SCRATCH, 1, 0, RW), -HV_EINVAL);

    int64_t made = 1, r = 0; /* s2 exists */
    while (made < HV_MAX_USER_SPACES + 1) {
        r = hvg_user_space_create();
        if (r < 0)
            break;
        made++;
    }
    expect_eq("user spaces beyond HV_MAX_USER_SPACES", r, -HV_ENOMEM);
    expect_eq("... after exactly HV_MAX_USER_SPACES", made, HV_MAX_USER_SPACES);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    pv_name = "pv-memops";
    struct hvg_trap_spec pf = { HVG_PF, 0, on_pf };
    expect_eq("registering #PF", hvg_traps_install(&pf, 1), 0);
    check_map_refusals();
    check_aliases();
    check_allowance();
    check_spaces();
    return pv_finish();
}

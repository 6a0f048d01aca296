/* Hypercalls handed guest memory they cannot use, where hv reaches guest
 * memory directly and the MMU's fault is fixed up (hv/cpu/extable.h): each
 * must return -HV_EFAULT, a write must leave the memory as it was (all or
 * nothing, docs/abi.md "Errors"), and the guest carries on. Two scratch
 * pages, A and B, at SCRATCH_VA:
 *   - B unmapped: a pointer at B; a buffer spanning the end of A into B,
 *     read (console write) and written (guest info);
 *   - B read-only: a write into B; a write spanning the end of A into B;
 *     a write into the image's read-only data.
 * At the end it prints "uaccess-faults: K faulting calls", the number of
 * calls above that reach guest memory (the system test compares hv's
 * count of fixed-up faults), and exits 0 if every check passed. */
#include "pv_common.h"
#include "hvg_event.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, 0);

#define SCRATCH_VA 0x0000610000000000ull
#define PAGE_A SCRATCH_VA
#define PAGE_B (SCRATCH_VA + PAGE)
#define FILL 0x5a

static int faulting_calls;
static const uint8_t read_only_data[PAGE] __attribute__((aligned(PAGE))) = {FILL};

static bool all_bytes(uint64_t va, size_t n, uint8_t want)
{
    const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)va;
    for (size_t i = 0; i < n; i++)
        if (p[i] != want)
            return false;
    return true;
}

static void fill(uint64_t va, size_t n)
{
    volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)va;
    for (size_t i = 0; i < n; i++)
        p[i] = FILL;
}

static int64_t guest_info_at(uint64_t va)
{
    faulting_calls++;
    return hvg_guest_info((struct hv_guest_info *)(uintptr_t)va);
}

static void with_b_unmapped(void)
{
    hvg_printf("%s: page B unmapped\n", pv_name);
    faulting_calls++;
    expect_eq("console write from a pointer to an unmapped page",
              hvg_console_write((const char *)(uintptr_t)PAGE_B, 16), -HV_EFAULT);
    expect_eq("guest info into an unmapped page", guest_info_at(PAGE_B), -HV_EFAULT);
    faulting_calls++;
    expect_eq("vcpu info into an unmapped page",
              hvg_vcpu_info(0, (struct hv_vcpu_info *)(uintptr_t)(PAGE_B + 64)), -HV_EFAULT);
    faulting_calls++;
    uint32_t *ports = (uint32_t *)(uintptr_t)(PAGE_B + 8);
    expect_eq("poll reading its ports from an unmapped page", hvg_poll(ports, 1, 0),
              -HV_EFAULT);

    /* A mapped page followed by an unmapped one, both in one call. */
    fill(PAGE_A, PAGE);
    faulting_calls++;
    expect_eq("console write of 64 bytes, 24 of them past the end of the mapping",
              hvg_console_write((const char *)(uintptr_t)(PAGE_B - 40), 64), -HV_EFAULT);
    uint64_t out = PAGE_B - 24; /* 24 bytes in A, the rest in B */
    expect_eq("guest info spanning a mapped and an unmapped page", guest_info_at(out),
              -HV_EFAULT);
    expect_true("its part in the mapped page is unchanged", all_bytes(out, 24, FILL));
    expect_eq("guest info at the end of the mapped page still works",
              hvg_guest_info((struct hv_guest_info *)(uintptr_t)(PAGE_B - sizeof(struct hv_guest_info))), 0);
}

static void with_b_read_only(void)
{
    hvg_printf("%s: page B read-only\n", pv_name);
    expect_eq("map B", hvg_mem_map(HV_SPACE_KERNEL, PAGE_B, 1, 0, HV_PROT_READ | HV_PROT_WRITE),
              0);
    fill(PAGE_A, PAGE);
    fill(PAGE_B, PAGE);
    expect_eq("protect B read-only", hvg_mem_protect(HV_SPACE_KERNEL, PAGE_B, 1, HV_PROT_READ), 0);
    expect_eq("guest info into a read-only page", guest_info_at(PAGE_B + 128), -HV_EFAULT);
    expect_true("the read-only page is unchanged", all_bytes(PAGE_B, PAGE, FILL));
    uint64_t out = PAGE_B - 16;
    expect_eq("guest info spanning a writable and a read-only page", guest_info_at(out),
              -HV_EFAULT);
    expect_true("its part in the writable page is unchanged", all_bytes(out, 16, FILL));
    expect_true("the read-only page is still unchanged", all_bytes(PAGE_B, PAGE, FILL));
    faulting_calls++;
    expect_eq("vcpu info into the image's read-only data",
              hvg_vcpu_info(0, (struct hv_vcpu_info *)(uintptr_t)read_only_data), -HV_EFAULT);
    expect_true("the read-only data is unchanged", read_only_data[0] == FILL);
    expect_eq("a console write from the read-only page works",
              hvg_console_write((const char *)(uintptr_t)PAGE_B, 8), 8);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = si->name;
    expect_eq("map A", hvg_mem_map(HV_SPACE_KERNEL, PAGE_A, 1, 0, HV_PROT_READ | HV_PROT_WRITE),
              0);
    with_b_unmapped();
    with_b_read_only();
    /* Still a working guest: a good buffer in each direction. */
    struct hv_guest_info info;
    expect_eq("guest info into good memory", hvg_guest_info(&info), 0);
    expect_true("and it says who we are", info.vcpu_count == 1);
    hvg_printf("%s: %d faulting calls\n", pv_name, faulting_calls);
    return pv_finish();
}

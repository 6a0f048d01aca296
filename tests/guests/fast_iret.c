/* HV_CALL_IRET frames for its fast path (vcpu/syscall_entry.S) and its C
 * path (vcpu_iret): tests/system/fast_cases.py boots this guest both ways
 * (hv.cfg debug_slow_iret) and requires the same lines from both. Good
 * frames (rax, rcx, r11 and rflags as the frame says, the event mask from
 * its IF, one hv entry per call) and hostile ones: non-canonical and
 * upper-half rip and rsp, a non-zero flags word, hv's selectors, IOPL, NT,
 * VM, RF and AC asked for, a frame on an unmapped page, frames running
 * from a mapped page into an unmapped one (the CS word mapped or not), a
 * frame reaching past the lower half, user mode with no user space.
 * Each line is a check; then "fast-iret: T returns taken, R refused" (the
 * test compares hv's count of returns left to the C path) and
 * "fast-iret: all N checks passed", exit 0. */
#include "pv_common.h"
#include "hvg_event.h"
#include "iret_probe.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, 0);

#define SCRATCH_VA 0x0000620000000000ull
#define PAGE_A SCRATCH_VA
#define PAGE_B (SCRATCH_VA + PAGE) /* never mapped */
#define LOWER_HALF_END 0x0000800000000000ull
#define TAKEN 0x600d

#define FL_IF (1ull << 9)
#define FL_IOPL (3ull << 12)
#define FL_NT (1ull << 14)
#define FL_RF (1ull << 16)
#define FL_VM (1ull << 17)
#define FL_AC (1ull << 18)

static int taken, refused_calls;

static int64_t counted(int64_t r)
{
    if (r < 0)
        refused_calls++;
    else
        taken++;
    return r;
}

static uint8_t scratch_stack[4096] __attribute__((aligned(16)));
#define SCRATCH_SP ((uint64_t)(uintptr_t)(scratch_stack + sizeof(scratch_stack)))

static struct hv_iret_frame good(void)
{
    return (struct hv_iret_frame){
        .rax = TAKEN, .rcx = 0x1111222233334444ull, .r11 = 0x5555666677778888ull, .flags = 0,
        .rip = (uint64_t)(uintptr_t)iret_back, .cs = HV_KERNEL_CS, .rflags = 0x202 | 0x1 /* CF */,
        .rsp = SCRATCH_SP, .ss = HV_DATA_SS};
}

/* The frame written at va (mapped, or partly: only its mapped bytes are
 * written), then HV_CALL_IRET from there. */
static int64_t iret_with(const struct hv_iret_frame *fr, uint64_t va, uint64_t out[3])
{
    uint64_t end = va + sizeof(*fr);
    if (end > PAGE_B && va < PAGE_B)
        end = PAGE_B;
    if (va < PAGE_B)
        memcpy((void *)(uintptr_t)va, fr, end - va);
    return counted(iret_from(va, out));
}

static void refused(const char *what, const struct hv_iret_frame *fr, int64_t want)
{
    uint64_t out[3] = {0};
    expect_eq(what, iret_with(fr, PAGE_A + 256, out), want);
}

static void good_frames(void)
{
    uint64_t out[3] = {0};
    volatile struct hv_vcpu_shared *self = hvg_vcpu_shared(0);
    struct hv_iret_frame fr = good();

    expect_eq("iret: a good frame, IF set", iret_with(&fr, PAGE_A + 256, out), TAKEN);
    expect_true("... rcx and r11 are the frame's", out[0] == fr.rcx && out[1] == fr.r11);
    expect_eq("... rflags: CF and IF as asked", (int64_t)(out[2] & (FL_IF | 1)), FL_IF | 1);
    expect_eq("... events unmasked", self->upcall_mask, 0);

    fr.rflags = 0x2; /* IF clear: the return masks events */
    fr.rax = TAKEN + 1;
    expect_eq("iret: IF clear", iret_with(&fr, PAGE_A + 256, out), TAKEN + 1);
    expect_eq("... events masked", self->upcall_mask, 1);
    expect_true("... IF still set in the real flags", out[2] & FL_IF);
    fr.rflags = 0x202;
    expect_eq("iret: IF set again", iret_with(&fr, PAGE_A + 256, out), TAKEN + 1);
    expect_eq("... events unmasked", self->upcall_mask, 0);

    fr = good();
    fr.rflags = 0x202 | FL_IOPL | FL_NT | FL_RF | FL_VM | FL_AC;
    expect_eq("iret: IOPL 3, NT, RF, VM and AC asked", iret_with(&fr, PAGE_A + 256, out), TAKEN);
    expect_eq("... only AC kept of them", (int64_t)(out[2] & (FL_IOPL | FL_NT | FL_RF | FL_VM | FL_AC)),
              FL_AC);

    fr = good();
    expect_eq("iret: a frame ending exactly at the end of page A",
              iret_with(&fr, PAGE_B - sizeof(fr), out), TAKEN);

    /* One hv entry per call: 8 returns between two readings, and the
     * first reading's own call. */
    uint64_t before = pv_hv_entries(0);
    for (int i = 0; i < 8; i++)
        iret_with(&fr, PAGE_A + 256, out);
    expect_eq("hv entries for 8 returns", (int64_t)(pv_hv_entries(0) - before), 9);
}

static void hostile_frames(void)
{
    struct hv_iret_frame fr;
#define HOSTILE(what, field, value, want) \
    (fr = good(), fr.field = (value), refused(what, &fr, want))
    HOSTILE("iret: rip at the lower half's end", rip, LOWER_HALF_END, -HV_EINVAL);
    HOSTILE("iret: rip non-canonical", rip, 0x0000900000000000ull, -HV_EINVAL);
    HOSTILE("iret: rip in hv's half", rip, 0xffffffff80000000ull, -HV_EINVAL);
    HOSTILE("iret: rip 2^63", rip, 1ull << 63, -HV_EINVAL);
    HOSTILE("iret: rsp at the lower half's end", rsp, LOWER_HALF_END, -HV_EINVAL);
    HOSTILE("iret: rsp in the upper half", rsp, 0xffff800000001000ull, -HV_EINVAL);
    HOSTILE("iret: rsp non-canonical", rsp, 0x00f0000000000000ull, -HV_EINVAL);
    HOSTILE("iret: flags word 1", flags, 1, -HV_EINVAL);
    HOSTILE("iret: flags word 2^63", flags, 1ull << 63, -HV_EINVAL);
    HOSTILE("iret: cs 0x08 (hv's code)", cs, 0x08, -HV_EINVAL);
    HOSTILE("iret: cs 0x20 (RPL 0)", cs, HV_KERNEL_CS & ~3ull, -HV_EINVAL);
    HOSTILE("iret: cs with garbage above the selector", cs, 0x100000000ull | HV_KERNEL_CS,
            -HV_EINVAL);
    HOSTILE("iret: ss 0x10 (hv's data)", ss, 0x10, -HV_EINVAL);
    HOSTILE("iret: ss 0", ss, 0, -HV_EINVAL);
    HOSTILE("iret: to user mode with no user space chosen", cs, HV_USER_CS, -HV_EINVAL);
#undef HOSTILE

    uint64_t out[3] = {0};
    fr = good();
    expect_eq("iret: the frame on an unmapped page", iret_with(&fr, PAGE_B + 64, out),
              -HV_EFAULT);
    expect_eq("iret: the frame from page A into B, its cs in B",
              iret_with(&fr, PAGE_B - 40, out), -HV_EFAULT);
    expect_eq("iret: the frame from page A into B, its cs in A, rflags on in B",
              iret_with(&fr, PAGE_B - 48, out), -HV_EFAULT);
    expect_eq("iret: the frame from page A into B, only its ss in B",
              iret_with(&fr, PAGE_B - 64, out), -HV_EFAULT);
    fr.cs = HV_USER_CS;
    expect_eq("iret: to user mode (none chosen), the frame from A into B, cs in A",
              iret_with(&fr, PAGE_B - 48, out), -HV_EFAULT);
    expect_eq("iret: the frame reaching past the lower half's end",
              counted(iret_from(LOWER_HALF_END - 64, out)), -HV_EFAULT);
    expect_eq("iret: the frame in the upper half", counted(iret_from(0xffff800000000000ull, out)),
              -HV_EFAULT);
    expect_eq("iret: the frame's last byte at the lower half's end (unmapped)",
              counted(iret_from(LOWER_HALF_END - sizeof(fr), out)), -HV_EFAULT);

    /* After all that, a good return still works. */
    fr = good();
    expect_eq("iret: a good frame after the hostile ones", iret_with(&fr, PAGE_A + 8, out), TAKEN);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = si->name;
    expect_eq("map page A", hvg_mem_map(HV_SPACE_KERNEL, PAGE_A, 1, 0, HV_PROT_READ | HV_PROT_WRITE),
              0);
    good_frames();
    hostile_frames();
    hvg_printf("%s: %d returns taken, %d refused\n", pv_name, taken, refused_calls);
    return pv_finish();
}

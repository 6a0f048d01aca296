/* HV_CALL_IRET frames drawn at random (a fixed seed) for the attack
 * review of its fast path (vcpu/syscall_entry.S `iret_fast`): each field
 * from a palette of good and hostile values (CS and SS of every privilege
 * and with bits above the selector, the flags word, rip and rsp at and past
 * the lower half's end, non-canonical and in hv's half, rflags with random
 * bits: IOPL, NT, RF, VM, AC, ID, IF and the upper 32 bits), at a random
 * place on page A, astride its end into the unmapped page B, or on B.
 * tests/system/review_cases.py boots it with the fast path and with hv.cfg
 * `debug_slow_iret = yes` (every return in vcpu_iret) and requires the
 * same lines: each 64 returns, a digest of every answer (rax; after a
 * taken return rcx, r11, rflags and the event mask), so a single frame the
 * two paths treat differently changes a line. A taken frame's rip is
 * always iret_back (a good rip elsewhere would leave the test), TF never
 * set (a single step would need a #DB handler). Then
 * "review-iret-fuzz: T taken, E einval, F efault" and "all N checks
 * passed", exit 0. */
#include "pv_common.h"
#include "hvg_event.h"
#include "iret_probe.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, 0);

#define PAGE_A 0x0000630000000000ull
#define PAGE_B (PAGE_A + PAGE) /* never mapped */
#define LOWER_HALF_END 0x0000800000000000ull
#define ROUNDS 1024
#define FL_TF (1ull << 8)


static uint64_t seed = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* good 7 times in 8, else one of the hostile values. */
#define HOSTILE_OR(good, ...)                                                 \
    ({                                                                        \
        const uint64_t hostile_[] = {__VA_ARGS__};                            \
        uint64_t good_ = (good);                                              \
        rnd() % 8 ? good_ : hostile_[rnd() % (sizeof(hostile_) / sizeof(hostile_[0]))]; \
    })

static uint8_t scratch_stack[4096] __attribute__((aligned(16)));

static uint64_t digest = 0xcbf29ce484222325ull;

static void fold(uint64_t x)
{
    for (int i = 0; i < 8; i++) {
        digest ^= (x >> (8 * i)) & 0xff;
        digest *= 0x100000001b3ull;
    }
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = si->name;
    volatile struct hv_vcpu_shared *self = hvg_vcpu_shared(0);
    expect_eq("map page A", hvg_mem_map(HV_SPACE_KERNEL, PAGE_A, 1, 0, HV_PROT_READ | HV_PROT_WRITE),
              0);
    const uint64_t good_rip = (uint64_t)(uintptr_t)iret_back;
    const uint64_t good_sp = (uint64_t)(uintptr_t)(scratch_stack + sizeof(scratch_stack));
    int taken = 0, einval = 0, efault = 0, other = 0;
    for (int round = 1; round <= ROUNDS; round++) {
        /* Each field good 7 times in 8 (a third of the frames are taken),
         * else one of its hostile values. */
        struct hv_iret_frame fr = {
            .rax = rnd(),
            .rcx = rnd(),
            .r11 = rnd(),
            .flags = HOSTILE_OR(0, 1, 1ull << 63, rnd()),
            .rip = HOSTILE_OR(good_rip, LOWER_HALF_END, 0x0000900000000000ull,
                              0xffff800000000000ull, 0xffffffff80000000ull, 1ull << 63,
                              good_rip | (1ull << 47)),
            .cs = HOSTILE_OR(HV_KERNEL_CS, HV_USER_CS, HV_DATA_SS, 0x08, 0x10, 0x20, 0x2b, 0x33,
                             0x100000000ull | HV_KERNEL_CS, (1ull << 63) | HV_KERNEL_CS, 0),
            .rflags = rnd() & ~FL_TF,
            .rsp = HOSTILE_OR(rnd() % 2 ? good_sp : rnd() % LOWER_HALF_END, LOWER_HALF_END,
                              0xffff800000001000ull, 0x00f0000000000000ull, LOWER_HALF_END - 8),
            .ss = HOSTILE_OR(HV_DATA_SS, HV_KERNEL_CS, 0x18, 0x10, 0, 0x100000000ull | HV_DATA_SS,
                             HV_USER_CS),
        };
        uint64_t va;
        switch (rnd() % 8) {
        case 0: /* astride A's end: from 8 to 64 bytes of it in B */
            va = PAGE_B - sizeof(fr) + 8 * (1 + rnd() % 8);
            break;
        case 1: /* on B */
            va = PAGE_B + 8 * (rnd() % 64);
            break;
        default: /* wholly on A, at any 8-byte place */
            va = PAGE_A + 8 * (rnd() % ((PAGE - sizeof(fr)) / 8 + 1));
            break;
        }
        uint64_t end = va + sizeof(fr) < PAGE_B ? va + sizeof(fr) : PAGE_B;
        if (va < PAGE_B)
            memcpy((void *)(uintptr_t)va, &fr, end - va);
        uint64_t out[3] = {0, 0, 0};
        int64_t r = iret_from(va, out);
        fold((uint64_t)r);
        if (r == -HV_EINVAL) {
            einval++;
        } else if (r == -HV_EFAULT) {
            efault++;
        } else if (r == (int64_t)fr.rax && fr.rip == good_rip) {
            taken++;
            fold(out[0]);
            fold(out[1]);
            fold(out[2]);
            fold(self->upcall_mask);
        } else {
            other++;
            hvg_printf("%s: round %d: unexpected answer %lld\n", pv_name, round, (long long)r);
        }
        if (round % 64 == 0)
            hvg_printf("%s: after %d returns: digest %016llx\n", pv_name, round,
                       (unsigned long long)digest);
    }
    hvg_printf("%s: %d taken, %d einval, %d efault\n", pv_name, taken, einval, efault);
    expect_eq("returns with an answer neither taken nor refused", other, 0);
    expect_true("every kind of answer seen", taken > 0 && einval > 0 && efault > 0);
    return pv_finish();
}

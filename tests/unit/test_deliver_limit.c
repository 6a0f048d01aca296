/* The delivery's frame limit (vcpu/deliver_fast.h deliver_frame_fits), the
 * one rule of the C delivery (vcpu/deliver.c) and the assembly one
 * (vcpu/deliver_fast.S frame_body: the frame's address against
 * DELIVER_FRAME_LIMIT, 8 less for a 48-byte frame), against what the rule
 * means: the frame lies in the lower half whole, as the C path's copy
 * checks it. Session 12's assembly checked both sizes against the 48-byte
 * limit and ended a guest whose 40-byte frame fitted just below the lower
 * half's end (stack top 0x800000000000). */
#include "vcpu/deliver_fast.h"

#include "include/hv/abi.h"
#include "tests/unit/check.h"

static bool whole_in_lower_half(uint64_t frame, uint64_t bytes)
{
    return frame < HV_GUEST_LOWER_HALF_END && bytes <= HV_GUEST_LOWER_HALF_END - frame;
}

/* frame_body's arithmetic, step by step: the top aligned, the frame below
 * it, the limit for its size, the unsigned compare (jae: the failure). */
static bool asm_takes(uint64_t rsp, bool error_code)
{
    uint64_t frame = (rsp & ~15ull) - 40, limit = DELIVER_FRAME_LIMIT;
    if (error_code) {
        frame -= 8;
        limit -= 48 - 40;
    }
    return frame < limit;
}

static void both_sizes_at_the_lower_half_end(void)
{
    const uint64_t end = HV_GUEST_LOWER_HALF_END;
    CHECK(deliver_frame_fits(end - 40, 40));
    CHECK(!deliver_frame_fits(end - 39, 40));
    CHECK(deliver_frame_fits(end - 48, 48));
    CHECK(!deliver_frame_fits(end - 40, 48));
    CHECK(!deliver_frame_fits(end, 40));
    CHECK(asm_takes(end, false));   /* rsp 0x800000000000: 40 bytes just below the end */
    CHECK(asm_takes(end + 15, false));
    CHECK(asm_takes(end, true));
    CHECK(!asm_takes(end + 16, false));
    CHECK(!asm_takes(end + 16, true));
}

static void every_stack_top_near_both_ends(void)
{
    const uint64_t end = HV_GUEST_LOWER_HALF_END;
    const uint64_t bases[] = {0, end - 256, UINT64_MAX - 255, 0xffff800000000000ull - 128};
    for (unsigned b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
        for (uint64_t rsp = bases[b]; rsp != bases[b] + 384; rsp++)
            for (uint64_t bytes = 40; bytes <= 48; bytes += 8) {
                uint64_t frame = (rsp & ~15ull) - bytes;
                bool truth = whole_in_lower_half(frame, bytes);
                CHECK_EQ_U64(deliver_frame_fits(frame, bytes), truth);
                CHECK_EQ_U64(asm_takes(rsp, bytes == 48), truth);
            }
}

int main(void)
{
    check_suite = "deliver_limit";
    RUN_TEST(both_sizes_at_the_lower_half_end);
    RUN_TEST(every_stack_top_near_both_ends);
    return check_finish();
}

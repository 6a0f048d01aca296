/* Calls every hypercall with bad arguments and checks each answer against
 * docs/abi.md ("Errors"): a pointer that is not guest memory the call may
 * use -> -HV_EFAULT; a length or vCPU id out of range -> -HV_EINVAL; an
 * unknown number -> -HV_ENOSYS. Read-only guest memory is not a valid
 * output buffer, and hv must not have written it. Prints one line per
 * check, then "abuse: all N checks passed" and exits 0, or
 * "abuse: N of M checks FAILED" and exits 1. */
#include "hvg.h"

#include "lib/string.h"

#define LOWER_HALF_END 0x0000800000000000ull /* first non-canonical address */
#define UNMAPPED_LOW 0x1000ull               /* below HV_GUEST_IMAGE_MIN */
#define HV_DIRECT_MAP 0xffff888000000000ull
#define HV_CORE 0xffffffff80000000ull

static int checks, failures;

static void expect(const char *what, int64_t got, int64_t want)
{
    checks++;
    if (got == want) {
        hvg_printf("abuse: check %d: %s -> %lld: ok\n", checks, what, (long long)got);
    } else {
        failures++;
        hvg_printf("abuse: check %d: %s -> %lld, expected %lld: FAILED\n", checks, what,
                   (long long)got, (long long)want);
    }
}

static void expect_true(const char *what, int ok)
{
    checks++;
    if (!ok)
        failures++;
    hvg_printf("abuse: check %d: %s: %s\n", checks, what, ok ? "ok" : "FAILED");
}

static int64_t write_at(uint64_t address, uint64_t len)
{
    return hvg_console_write((const char *)(uintptr_t)address, len);
}

static int64_t guest_info_at(uint64_t address)
{
    return hvg_guest_info((struct hv_guest_info *)(uintptr_t)address);
}

static int64_t vcpu_info_at(uint64_t id, uint64_t address)
{
    return hvg_vcpu_info(id, (struct hv_vcpu_info *)(uintptr_t)address);
}

static const char message[] = "abuse: (this line is a console write from rodata)\n";

static void check_unknown_hypercalls(void)
{
    expect("hypercall HV_CALL_COUNT", hvg_hypercall0(HV_CALL_COUNT), -HV_ENOSYS);
    expect("hypercall 0x100", hvg_hypercall0(0x100), -HV_ENOSYS);
    expect("hypercall 2^63", hvg_hypercall0(1ull << 63), -HV_ENOSYS);
    expect("hypercall 2^64-1", hvg_hypercall0(UINT64_MAX), -HV_ENOSYS);
    /* Cut to 32 bits these would be yield and guest_info(NULL). */
    expect("hypercall 2^32+yield", hvg_hypercall0((1ull << 32) | HV_CALL_YIELD), -HV_ENOSYS);
    expect("hypercall 2^32+guest_info", hvg_hypercall0((1ull << 32) | HV_CALL_GUEST_INFO),
           -HV_ENOSYS);
    expect("yield with junk in every argument",
           hvg_hypercall6(HV_CALL_YIELD, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull), 0);
}

static void check_console_write(const struct hv_start_info *si)
{
    uint64_t msg = (uint64_t)(uintptr_t)message;

    expect("console_write(NULL, 5)", write_at(0, 5), -HV_EFAULT);
    expect("console_write(NULL, 0)", write_at(0, 0), 0);
    expect("console_write(0x1000 unmapped, 5)", write_at(UNMAPPED_LOW, 5), -HV_EFAULT);
    expect("console_write(hv direct map, 5)", write_at(HV_DIRECT_MAP, 5), -HV_EFAULT);
    expect("console_write(hv core, 5)", write_at(HV_CORE, 5), -HV_EFAULT);
    expect("console_write(non-canonical, 5)", write_at(LOWER_HALF_END, 5), -HV_EFAULT);
    expect("console_write(2^64-16, 5)", write_at(UINT64_MAX - 15, 5), -HV_EFAULT);
    expect("console_write(msg, 2^63)", write_at(msg, 1ull << 63), -HV_EINVAL);
    expect("console_write(msg, 2^64-1)", write_at(msg, UINT64_MAX), -HV_EINVAL);
    expect("console_write(msg, length wrapping to msg+16)", write_at(msg, 0 - msg + 16),
           -HV_EINVAL);
    expect("console_write(msg, one past the lower half)", write_at(msg, LOWER_HALF_END - msg + 1),
           -HV_EINVAL);
    expect("console_write(top of lower half - 4, 8)", write_at(LOWER_HALF_END - 4, 8),
           -HV_EINVAL);

    /* The 8 bytes just below the image: the first 4 unmapped, unless hv
     * put something there (the start info tells where heap and image are). */
    uint64_t below = si->image_start - 4;
    int heap_there = below + 8 > si->heap_start && below < si->heap_start + si->heap_bytes;
    if (si->image_start >= HV_GUEST_IMAGE_MIN + 4096 && !heap_there)
        expect("console_write(4 bytes below the image, 8)", write_at(below, 8), -HV_EFAULT);

    /* A valid write longer than one call takes: each call takes 1..MAX. */
    char line[HV_CONSOLE_WRITE_MAX + 44];
    memset(line, '=', sizeof(line));
    memcpy(line, "abuse: long line ", 17);
    line[sizeof(line) - 1] = '\n';
    int64_t first;
    while ((first = write_at((uint64_t)(uintptr_t)line, sizeof(line))) == -HV_EAGAIN)
        hvg_yield();
    int first_ok = first > 0 && first <= HV_CONSOLE_WRITE_MAX;
    if (first_ok)
        hvg_write(line + first, sizeof(line) - (size_t)first);
    expect_true("console_write(300 bytes) takes 1..HV_CONSOLE_WRITE_MAX", first_ok);
    int64_t r;
    const int64_t len = (int64_t)sizeof(message) - 1;
    while ((r = write_at(msg, (uint64_t)len)) == -HV_EAGAIN)
        hvg_yield();
    if (r > 0 && r < len)
        hvg_write(message + r, (size_t)(len - r));
    expect_true("console_write(a line from rodata) takes 1..its length", r > 0 && r <= len);
}

static const struct hv_guest_info read_only_info = { .guest_id = 0x5a5a5a5a };

/* Read from memory: the compiler would otherwise assume a const object
 * still holds its initialiser. */
static int read_only_info_intact(void)
{
    const volatile struct hv_guest_info *p = &read_only_info;
    return p->guest_id == 0x5a5a5a5a && p->vcpu_count == 0 && p->memory_bytes == 0;
}

static void check_guest_info(const struct hv_start_info *si)
{
    const uint8_t *code = (const uint8_t *)(uintptr_t)main;
    uint8_t code_before[sizeof(struct hv_guest_info)];
    memcpy(code_before, code, sizeof(code_before));
    struct hv_start_info info_before;
    memcpy(&info_before, si, sizeof(info_before));

    expect("guest_info(NULL)", guest_info_at(0), -HV_EFAULT);
    expect("guest_info(0x1000 unmapped)", guest_info_at(UNMAPPED_LOW), -HV_EFAULT);
    expect("guest_info(hv direct map)", guest_info_at(HV_DIRECT_MAP), -HV_EFAULT);
    expect("guest_info(hv core)", guest_info_at(HV_CORE), -HV_EFAULT);
    expect("guest_info(non-canonical)", guest_info_at(LOWER_HALF_END), -HV_EFAULT);
    expect("guest_info(crossing the top of the lower half)", guest_info_at(LOWER_HALF_END - 16),
           -HV_EFAULT);
    expect("guest_info(own rodata)", guest_info_at((uint64_t)(uintptr_t)&read_only_info),
           -HV_EFAULT);
    expect_true("rodata unchanged", read_only_info_intact());
    expect("guest_info(own text)", guest_info_at((uint64_t)(uintptr_t)code), -HV_EFAULT);
    expect_true("text unchanged", memcmp(code_before, code, sizeof(code_before)) == 0);
    expect("guest_info(start info, read-only)", guest_info_at((uint64_t)(uintptr_t)si),
           -HV_EFAULT);
    expect_true("start info unchanged", memcmp(&info_before, si, sizeof(info_before)) == 0);

    struct hv_guest_info info;
    memset(&info, 0xee, sizeof(info));
    expect("guest_info(valid)", hvg_guest_info(&info), 0);
    expect_true("guest_info agrees with the start info",
                info.abi_version == HV_ABI_VERSION && info.vcpu_count == si->vcpu_count &&
                    info.guest_id == si->guest_id && info.memory_bytes == si->memory_bytes &&
                    info.guests_running >= 1 &&
                    strncmp(info.name, si->name, sizeof(info.name)) == 0);

    /* No alignment is required of the buffer. */
    char unaligned[sizeof(struct hv_guest_info) + 1];
    expect("guest_info(misaligned)", guest_info_at((uint64_t)(uintptr_t)(unaligned + 1)), 0);
    memcpy(&info, unaligned + 1, sizeof(info));
    expect_true("misaligned result right", info.guest_id == si->guest_id &&
                                               info.abi_version == HV_ABI_VERSION);
}

static void check_vcpu_info(const struct hv_start_info *si)
{
    struct hv_vcpu_info info;
    uint64_t out = (uint64_t)(uintptr_t)&info;

    expect("vcpu_info(vcpu_count)", vcpu_info_at(si->vcpu_count, out), -HV_EINVAL);
    expect("vcpu_info(2^32)", vcpu_info_at(1ull << 32, out), -HV_EINVAL);
    expect("vcpu_info(2^64-1)", vcpu_info_at(UINT64_MAX, out), -HV_EINVAL);
    expect("vcpu_info(0, NULL)", vcpu_info_at(0, 0), -HV_EFAULT);
    expect("vcpu_info(0, hv core)", vcpu_info_at(0, HV_CORE), -HV_EFAULT);
    expect("vcpu_info(0, own rodata)", vcpu_info_at(0, (uint64_t)(uintptr_t)&read_only_info),
           -HV_EFAULT);
    expect_true("rodata unchanged", read_only_info_intact());

    memset(&info, 0xee, sizeof(info));
    expect("vcpu_info(0, valid)", vcpu_info_at(0, out), 0);
    expect_true("vcpu_info(0) is vCPU 0, running",
                info.vcpu_id == 0 && info.state == HV_VCPU_RUNNING);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;

    hvg_puts("abuse: calling hypercalls with bad arguments");
    check_unknown_hypercalls();
    check_console_write(si);
    check_guest_info(si);
    check_vcpu_info(si);

    if (failures == 0) {
        hvg_printf("abuse: all %d checks passed\n", checks);
        return 0;
    }
    hvg_printf("abuse: %d of %d checks FAILED\n", failures, checks);
    return 1;
}

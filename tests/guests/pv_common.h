/* Shared by the pv-* test guests (tests/guests/pv_*.c): checks that count
 * and print, resuming after a deliberate fault, and a user address space
 * made of the image's .user.* sections. Each test guest includes it once. */
#pragma once

#include "hvg.h"

#include "lib/fmt.h"
#include "lib/string.h"

#define PAGE 4096ull

/* The end of a test guest's asm exception or upcall handler: HV_CALL_IRET
 * (docs/abi.md) with its frame's four words (flags 0, r11, rcx, rax)
 * pushed onto the native frame the handler was entered with; ud2 if the
 * call ever returns. */
#define PV_IRET_TAIL_ASM                                                                  \
    "    pushq $0\n"                                                                      \
    "    push %r11\n"                                                                     \
    "    push %rcx\n"                                                                     \
    "    push %rax\n"                                                                     \
    "    mov $10, %eax\n"                                                                 \
    "    syscall\n"                                                                       \
    "    ud2\n"

/* Not every guest uses every helper. */
#define PV_HELPER static __attribute__((unused))

static const char *pv_name = "pv";
static int pv_checks, pv_failures;

PV_HELPER void expect_eq(const char *what, int64_t got, int64_t want)
{
    pv_checks++;
    if (got == want) {
        hvg_printf("%s: check %d: %s -> %lld: ok\n", pv_name, pv_checks, what, (long long)got);
    } else {
        pv_failures++;
        hvg_printf("%s: check %d: %s -> %lld (0x%llx), expected %lld (0x%llx): FAILED\n", pv_name,
                   pv_checks, what, (long long)got, (unsigned long long)got, (long long)want,
                   (unsigned long long)want);
    }
}

PV_HELPER void expect_true(const char *what, bool ok)
{
    pv_checks++;
    if (!ok)
        pv_failures++;
    hvg_printf("%s: check %d: %s: %s\n", pv_name, pv_checks, what, ok ? "ok" : "FAILED");
}

/* An error (< 0), whichever: where the ABI names no code, the test says
 * what hv answered. */
PV_HELPER void expect_error(const char *what, int64_t got)
{
    pv_checks++;
    if (got < 0) {
        hvg_printf("%s: check %d: %s -> %lld: ok (refused)\n", pv_name, pv_checks, what,
                   (long long)got);
    } else {
        pv_failures++;
        hvg_printf("%s: check %d: %s -> %lld, expected an error: FAILED\n", pv_name, pv_checks,
                   what, (long long)got);
    }
}

PV_HELPER int pv_finish(void)
{
    if (pv_failures == 0) {
        hvg_printf("%s: all %d checks passed\n", pv_name, pv_checks);
        return 0;
    }
    hvg_printf("%s: %d of %d checks FAILED\n", pv_name, pv_failures, pv_checks);
    return 1;
}

/* --- resuming after a deliberate fault ------------------------------------------
 * PV_ARM, at the start of an asm statement, stores the addresses of its
 * local labels 8 (the instruction that faults) and 9 (where to resume) in
 * pv_fault_rip and pv_resume_rip; it uses rax and needs the operands
 *     [fault] "=m"(pv_fault_rip), [resume] "=m"(pv_resume_rip)
 * which PV_ARM_OUT supplies. */
static volatile uint64_t pv_fault_rip __attribute__((unused)), pv_resume_rip __attribute__((unused));

#define PV_ARM                                   \
    "lea 8f(%%rip), %%rax\n\t"                   \
    "mov %%rax, %[fault]\n\t"                    \
    "lea 9f(%%rip), %%rax\n\t"                   \
    "mov %%rax, %[resume]\n\t"
#define PV_ARM_OUT [fault] "=m"(pv_fault_rip), [resume] "=m"(pv_resume_rip)

/* --- a user address space from the image's .user.* sections -------------------
 * The kernel's own image pages are aliased at the same addresses (code
 * read+exec, rodata read-only, user data read+write and shared with the
 * kernel, so the kernel sees what user code stored), plus a fresh stack
 * below stack_top. Returns the space's handle or a negative error. */
PV_HELPER int64_t pv_make_user_space(uint64_t stack_top, uint64_t stack_pages)
{
    struct {
        const char *start, *end;
        uint64_t prot;
    } parts[] = {
        { hvg_user_text_start, hvg_user_text_end, HV_PROT_READ | HV_PROT_EXEC },
        { hvg_user_rodata_start, hvg_user_rodata_end, HV_PROT_READ },
        { hvg_user_data_start, hvg_user_data_end, HV_PROT_READ | HV_PROT_WRITE },
    };
    int64_t space = hvg_user_space_create();

    if (space < 0)
        return space;
    for (size_t i = 0; i < 3; i++) {
        uint64_t va = (uint64_t)(uintptr_t)parts[i].start;
        uint64_t pages = (uint64_t)(parts[i].end - parts[i].start) / PAGE;
        if (pages == 0)
            continue;
        int64_t r = hvg_mem_map((uint64_t)space, va, pages, va, parts[i].prot);
        if (r < 0) {
            hvg_printf("%s: aliasing %llu page(s) at 0x%llx into user space %lld: %lld\n", pv_name,
                       (unsigned long long)pages, (unsigned long long)va, (long long)space,
                       (long long)r);
            return r;
        }
    }
    int64_t r = hvg_mem_map((uint64_t)space, stack_top - stack_pages * PAGE, stack_pages, 0,
                            HV_PROT_READ | HV_PROT_WRITE);
    if (r < 0) {
        hvg_printf("%s: mapping a user stack: %lld\n", pv_name, (long long)r);
        return r;
    }
    return space;
}

static uint8_t pv_kernel_stack[32768] __attribute__((aligned(16), unused));

PV_HELPER uint64_t pv_kernel_stack_top(void)
{
    return (uint64_t)(uintptr_t)(pv_kernel_stack + sizeof(pv_kernel_stack));
}

/* Reads hv_entries of vCPU vcpu (one hypercall, which itself counts). */
PV_HELPER uint64_t pv_hv_entries(unsigned vcpu)
{
    struct hv_vcpu_info info;

    memset(&info, 0, sizeof(info));
    if (hvg_vcpu_info(vcpu, &info) < 0)
        return 0;
    return info.hv_entries;
}

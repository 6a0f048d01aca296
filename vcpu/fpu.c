#include "vcpu/fpu.h"

#include <stdbool.h>
#include <stdint.h>

#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/cpu/x86.h"

#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_OSXSAVE (1ul << 18)
#define XSTATE_X87 1ull
#define XSTATE_SSE 2ull
#define XSTATE_AVX 4ull
#define FXSAVE_SIZE 512
#define MXCSR_OFFSET 24
#define MXCSR_DEFAULT 0x1f80u
#define FCW_DEFAULT 0x37fu

static bool use_xsave;
static uint64_t xcr0;
static size_t area_size = FXSAVE_SIZE;

static void xsetbv(uint32_t index, uint64_t value)
{
    __asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

void fpu_init(void)
{
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    if (cpu_features()->xsave && cpu_features()->max_leaf >= 0xd) {
        struct cpuid_regs r = cpuid(0xd, 0);
        uint64_t supported = ((uint64_t)r.edx << 32) | r.eax;
        write_cr4(read_cr4() | CR4_OSXSAVE);
        /* Only what the save area layout below is sized for; AVX-512 and
         * other components can be added with their sizes. */
        xcr0 = supported & (XSTATE_X87 | XSTATE_SSE | XSTATE_AVX);
        xsetbv(0, xcr0);
        area_size = cpuid(0xd, 0).ebx; /* size for the components now enabled */
        use_xsave = true;
    }
    log_info("fpu: %s, %lu bytes per vCPU%s", use_xsave ? "XSAVE" : "FXSAVE",
             (unsigned long)area_size, (xcr0 & XSTATE_AVX) ? ", AVX enabled" : "");
}

size_t fpu_area_size(void)
{
    return area_size;
}

void fpu_area_reset(void *area)
{
    uint8_t *a = area; /* zeroed: fresh from kmalloc (fpu.h) */
    /* For XSAVE, an all-zero header means every component in its initial
     * state, except MXCSR, which XRSTOR loads whenever SSE is requested. */
    *(uint16_t *)a = FCW_DEFAULT;
    *(uint32_t *)(a + MXCSR_OFFSET) = MXCSR_DEFAULT;
}

void fpu_save(void *area)
{
    if (use_xsave)
        __asm__ volatile("xsave64 (%0)" : : "r"(area), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32))
                         : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const void *area)
{
    if (use_xsave)
        __asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32))
                         : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

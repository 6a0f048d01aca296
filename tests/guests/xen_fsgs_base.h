/* xen-fsgs-storm's FS/GS base helpers (tests/guests/xen_fsgs_storm.c
 * and xen_fsgs_step.h include it once; every .c in tests/guests is an
 * image of its own, so what its parts share lives in a header): the MSRs,
 * two tagged stacks whose tops a base under test points at, %fs:0 and
 * %gs:0 reads. */
#pragma once

#include "tests/guests/xen/xen_guest.h"

#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u

/* Two stacks (a trap's bounce frame goes below rsp), each with a tag at
 * its top, where a base under test points: %fs:0 / %gs:0 read the tag. */
static uint64_t area[2][512] __attribute__((aligned(16)));
#define TOP(i) ((uint64_t)&area[i][500])
#define TAG(i) (0x7a67000000000000ULL | (uint64_t)(i) << 32 | 0x5a5a)

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static uint64_t fs_word(void)
{
    uint64_t v;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    return v;
}

static uint64_t gs_word(void)
{
    uint64_t v;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(v));
    return v;
}

static void set_bases(uint64_t fs, uint64_t gs)
{
    wrmsr(MSR_FS_BASE, fs);
    wrmsr(MSR_GS_BASE, gs);
}

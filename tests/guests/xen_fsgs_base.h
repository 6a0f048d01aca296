/* xen-fsgs-storm's FS/GS base helpers (tests/guests/xen_fsgs_storm.c
 * and xen_fsgs_step.h include it once; every .c in tests/guests is an
 * image of its own, so what its parts share lives in a header): two
 * tagged stacks whose tops a base under test points at, and both bases
 * set at once (the MSR and %fs:0 / %gs:0 helpers are xen_guest.h's). */
#pragma once

#include "tests/guests/xen/xen_guest.h"

/* Two stacks (a trap's bounce frame goes below rsp), each with a tag at
 * its top, where a base under test points: %fs:0 / %gs:0 read the tag. */
static uint64_t area[2][512] __attribute__((aligned(16)));
#define TOP(i) ((uint64_t)&area[i][500])
#define TAG(i) (0x7a67000000000000ULL | (uint64_t)(i) << 32 | 0x5a5a)

static void set_bases(uint64_t fs, uint64_t gs)
{
    wrmsr(MSR_FS_BASE, fs);
    wrmsr(MSR_GS_BASE, gs);
}

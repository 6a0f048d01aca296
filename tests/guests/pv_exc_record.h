/* pv-exceptions' recording handler and the judgement of one delivery
 * (tests/guests/pv_exceptions.c includes it once; every .c in tests/guests
 * is an image of its own, so what it shares lives in a header). on_trap
 * records every delivery into `last` and resumes at pv_resume_rip, unless a
 * test has set a hook; expect_delivery judges the one delivery a test
 * raised. */
#pragma once

#include "pv_common.h"

struct seen {
    uint64_t vector, error_code, rip, cs, ss, rsp, rflags, cr2, frame;
    uint8_t mask, in_user;
};

static struct seen last;
static volatile unsigned deliveries;

/* A test that needs more than "record and resume" sets a hook. */
static void (*volatile hook)(struct hvg_trap_frame *f);

static void record(const struct hvg_trap_frame *f)
{
    volatile struct hv_vcpu_shared *sh = &hvg_shared()->vcpu[0];

    last = (struct seen){
        .vector = f->vector, .error_code = f->error_code, .rip = f->rip, .cs = f->cs,
        .ss = f->ss, .rsp = f->rsp, .rflags = f->rflags,
        .cr2 = f->vector == HVG_PF ? hvg_fault_address(0) : 0,
        .frame = (uint64_t)(uintptr_t)f, .mask = sh->upcall_mask, .in_user = sh->in_user_mode,
    };
    deliveries++;
}

static void on_trap(struct hvg_trap_frame *f)
{
    void (*h)(struct hvg_trap_frame *) = hook;

    if (h) {
        h(f);
        return;
    }
    record(f);
    if (f->rip == pv_fault_rip || f->rip == pv_resume_rip) {
        f->rip = pv_resume_rip;
        return;
    }
    hvg_trap_dump("pv-exceptions: unexpected trap", f);
    hvg_exit(3);
}

/* The common judgement of one delivery in kernel mode. */
static void expect_delivery(const char *what, uint64_t vector, uint64_t error, uint64_t rip,
                            uint64_t rsp)
{
    char label[96];

    expect_eq(what, deliveries, 1);
    if (deliveries != 1)
        return;
    fmt_format(label, sizeof(label), "%s: vector", what);
    expect_eq(label, (int64_t)last.vector, (int64_t)vector);
    fmt_format(label, sizeof(label), "%s: error code", what);
    expect_eq(label, (int64_t)last.error_code, (int64_t)error);
    fmt_format(label, sizeof(label), "%s: rip", what);
    expect_eq(label, (int64_t)last.rip, (int64_t)rip);
    fmt_format(label, sizeof(label), "%s: cs, ss, rsp, aligned frame, IF, kernel mode", what);
    expect_true(label, last.cs == HV_KERNEL_CS && last.ss == HV_DATA_SS && last.rsp == rsp &&
                           last.frame % 16 == 0 && (last.rflags & HVG_RFLAGS_IF) &&
                           last.in_user == 0);
}

static void arm(void)
{
    deliveries = 0;
    hook = NULL;
    memset(&last, 0, sizeof(last));
}

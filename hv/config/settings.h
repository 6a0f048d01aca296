/* The [hv] section of hv.cfg: how the hypervisor itself behaves. Sections
 * for guests are read by the guest loader. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/console/log.h"
#include "hv/cpu/mitigations.h"
#include "hv/handoff.h"

struct hv_settings {
    enum log_level log_level;
    uint16_t qemu_exit_port;   /* only the QEMU runner sets this */
    bool halt_on_failure;      /* with power_off_at_end: a failure still halts */
    uint32_t timer_hz;         /* rate of the timer self-check */
    uint32_t timer_check_ticks;/* 0: no timer self-check at boot */
    uint64_t time_limit_ms;    /* 0: none; else guests still running then are stopped */
    bool debug_fault;          /* fault on purpose to show the panic report */
    bool debug_stray_interrupt; /* raise two vectors nothing registers (hv/cpu/isr.S) */
    bool debug_write_code_alias; /* write hv's code through the direct map: must fault */
    bool debug_leak_on_end;    /* yes: lose 64 kmalloc bytes at a guest end: the leak check fires */
    bool debug_leak_frame_on_end; /* debug_leak_on_end = frame: lose one frame instead */
    bool debug_leak_mid_step;  /* debug_leak_on_end = mid_step: a block unlinked during one look */
    bool debug_corrupt_kept_image; /* flip a byte of every kept image at its first end */
    uint32_t stats_every_s;    /* 0: no statistics line; else one every N s (hv/debug/stats.h) */
    bool debug_syscall_breakpoint; /* #DB in hv on every hypercall (entry tests) */
    bool debug_calibration_gap; /* a pause cut into the calibration's readings (time tests) */
    bool debug_slow_iret;      /* HV_CALL_IRET without its fast path (fast tests) */
    bool debug_ap_never_starts; /* the last AP gets its INIT but no SIPI: the timeout report */
    bool debug_ap_fault;       /* the last AP faults once ready: an AP's panic is reported */
    bool debug_ap_late;        /* the first AP given up at once, then a late SIPI: it parks */
    uint32_t debug_ap_refuse;  /* N: the Nth AP started fails its checks (0: none) */
    uint32_t debug_ap_stall_ms; /* the last AP, once it claimed its start, waits this long first */
    uint32_t debug_ap_claim_wait_ms; /* the boot CPU's wait for a claimed AP (0: 10 s) */
    uint8_t debug_ap_park;     /* the last AP parks late (1) or never (2) at the end: park tests */
    bool debug_restart_add_gap; /* a restart pauses between its vCPUs' additions (restart.h) */
    bool debug_last_end_race;  /* the idle boot CPU holds interrupts off, an end pauses (sched.h) */
    uint32_t cpus;             /* `cpus = N`: CPUs hv uses, the boot CPU included; 0: all */
    bool halt_at_end;          /* halt even under the QEMU runner (screen tests) */
    bool power_off_at_end;     /* power off at the end (default: halt, safe to power off) */
    bool reboot_at_end;        /* on_all_ended = restart: reset the machine at the end */
    uint32_t bench_native_rounds; /* >0: run lib/bench_work natively at boot (make bench) */
    bool measure_irq_off;      /* time hv's interrupts-off stretches (make bench) */
    bool trace;                /* hv's event trace (hv/debug/trace.h, docs/trace.md) */
    int8_t log_image_hashes;   /* -1 auto (when Secure Boot is on), 0 no, 1 yes */
    bool measure_cr3_writes;   /* show guests hv's CR3 writes (make bench; hv/mm/xpti.h) */
    struct mitigation_config mitigations; /* `mitigations`, `xpti`, `ibpb`, ...: auto|on|off */
};

/* Reads hv.cfg from the handoff; problems are logged and defaults kept. */
void settings_load(const struct handoff *h, struct hv_settings *out);

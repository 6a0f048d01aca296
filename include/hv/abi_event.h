/* Events and time, ABI version 1 (part of include/hv/abi.h; see
 * docs/abi.md). No hardware interrupt ever reaches a guest: hv turns its
 * timer, other vCPUs' and other guests' notifications and its own notices
 * into events, bits in the shared page plus an upcall.
 *
 * An event channel is a port number of the guest (0..HV_EVTCHN_PORTS-1).
 * Sending on a port sets its bit in `evtchn_pending`; if the port's bit in
 * `evtchn_mask` is clear, hv also sets the port's word in the bound vCPU's
 * `pending_sel` and its `upcall_pending`. On the way back to the guest, a
 * vCPU with upcall_pending set and upcall_mask clear is entered at its
 * upcall entry (HV_CALL_SET_UPCALL) like an interrupt: the native frame on
 * its kernel stack (or current stack in kernel mode), events masked
 * (upcall_mask = 1). The handler clears upcall_pending, then for each word
 * in pending_sel (atomically exchanged with 0) handles and clears the
 * pending bits, and returns with HV_CALL_IRET, which unmasks (rflags.IF=1
 * in the frame) and delivers anything that arrived meanwhile. */
#pragma once

#include <stdint.h>

#define HV_EVTCHN_PORTS 256
#define HV_EVTCHN_WORDS (HV_EVTCHN_PORTS / 64)

/* Virtual interrupt sources, bound with HV_CALL_EVTCHN_BIND_VIRQ. */
enum hv_virq {
    HV_VIRQ_TIMER = 0,   /* this vCPU's one-shot timer (HV_CALL_SET_TIMER) passed */
    HV_VIRQ_CONSOLE = 1, /* console input is waiting (HV_CALL_CONSOLE_READ); only the
                          * guest with the console focus gets input (serial line or
                          * PS/2 keyboard): Ctrl-A n moves the focus to the next
                          * guest, Ctrl-A Ctrl-A sends a Ctrl-A */
    HV_VIRQ_NOTICE = 2,  /* hv notice: a peer guest ended (HV_CALL_EVTCHN_STATUS tells which port) */
    HV_VIRQ_PEER_RESTARTED = 3, /* a guest this one had a port with (unbound for it, or
                          * connected and closed when it ended) was restarted and runs
                          * again: bind afresh (the old port stays HV_EVTCHN_CLOSED_PEER,
                          * HV_CALL_EVTCHN_STATUS names the peer). On the vCPU that owns
                          * the first such port, once per restart. */
    HV_VIRQ_COUNT
};

enum hv_evtchn_state {
    HV_EVTCHN_FREE = 0,
    HV_EVTCHN_UNBOUND = 1,     /* allocated for a named peer, waiting for it to bind */
    HV_EVTCHN_INTERGUEST = 2,  /* connected to a port of another guest */
    HV_EVTCHN_VIRQ = 3,
    HV_EVTCHN_IPI = 4,         /* notifies a vCPU of the same guest */
    HV_EVTCHN_CLOSED_PEER = 5, /* was connected; the peer closed it or ended */
};

struct hv_evtchn_status {
    uint32_t state;  /* enum hv_evtchn_state */
    uint32_t vcpu;   /* the vCPU it notifies */
    uint32_t virq;   /* for HV_EVTCHN_VIRQ */
    uint32_t remote_port;
    char remote_name[32]; /* the peer guest, for UNBOUND / INTERGUEST / CLOSED_PEER */
};

/* --- time ----------------------------------------------------------------------
 * Read consistently: v = version (even), read the fields, read version
 * again; retry if it changed or was odd. Then
 *     now_ns = system_time_ns + scale(rdtsc() - tsc_timestamp)
 * where scale(d) = ((tsc_shift >= 0 ? d << tsc_shift : d >> -tsc_shift)
 *                   * tsc_to_ns_mul) >> 32  (a 128-bit product).
 * System time counts nanoseconds since hv started; the wall clock is UTC at
 * system time 0, from the firmware's clock. */
struct hv_time_info {
    uint32_t version;
    uint32_t tsc_to_ns_mul;
    int8_t tsc_shift;
    uint8_t wall_valid; /* 0: the firmware gave no clock */
    uint8_t pad[6];
    uint64_t tsc_timestamp;
    uint64_t system_time_ns;
    uint64_t wall_sec;  /* seconds since 1970-01-01T00:00:00Z at system time 0 */
    uint32_t wall_nsec;
    uint32_t pad2;
};

/* Per-vCPU run-state times, in system-time ns: the vCPU's virtual time. */
enum hv_runstate_kind { HV_RUNSTATE_RUNNING = 0, HV_RUNSTATE_RUNNABLE = 1, HV_RUNSTATE_BLOCKED = 2, HV_RUNSTATE_OFFLINE = 3 };

struct hv_runstate {
    uint32_t state;          /* enum hv_runstate_kind */
    uint32_t version;        /* odd while hv updates it */
    uint64_t state_entry_ns; /* when it entered `state` */
    uint64_t time_ns[4];     /* accumulated per state, up to state_entry_ns */
};

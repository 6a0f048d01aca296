/* The local APIC of the current CPU, in whichever mode the firmware left it:
 * xAPIC (registers in memory) or x2APIC (registers as MSRs; the memory
 * window is dead in that mode, so both must be supported on real PCs). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_REG_ID 0x20
#define LAPIC_REG_TPR 0x80
#define LAPIC_REG_EOI 0xb0
#define LAPIC_REG_SVR 0xf0
#define LAPIC_REG_ICR_LOW 0x300
#define LAPIC_REG_ICR_HIGH 0x310
#define LAPIC_REG_LVT_TIMER 0x320
#define LAPIC_REG_TIMER_INIT 0x380
#define LAPIC_REG_TIMER_CURRENT 0x390
#define LAPIC_REG_TIMER_DIVIDE 0x3e0

#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_TIMER_ONESHOT (0u << 17)
#define LAPIC_TIMER_TSC_DEADLINE (2u << 17)

/* Interrupt command register, low word: delivery modes and the level of an
 * INIT (SDM vol. 3, 11.6.1). */
#define ICR_FIXED 0x000u
#define ICR_NMI 0x400u
#define ICR_INIT 0x500u
#define ICR_STARTUP 0x600u
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_ALL_BUT_SELF (3u << 18)

/* Enables the local APIC; madt_phys is the MADT's address (0: use the MSR). */
bool lapic_init(uint64_t madt_phys);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
void lapic_eoi(void);
uint32_t lapic_id(void);
bool lapic_is_x2apic(void);
/* Whether one of hv's interrupts (its timer, an IPI) waits in this CPU's
 * IRR: hv runs with interrupts off, so one that arrived since the entry
 * waits there (Xen's hypercall_preempt_check, for the long hypercalls). */
bool lapic_interrupt_waiting(void);
/* Sends an IPI (icr_low: mode, vector, shorthand) to the CPU with apic_id
 * and waits, boundedly, until the xAPIC has sent it. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
/* On an AP: its local APIC in the boot CPU's mode (xAPIC or x2APIC),
 * enabled, timer masked; false when the mode cannot be matched. */
bool lapic_init_ap(void);

/* hvg: the guest SDK. Hypercall wrappers, console output, the start info,
 * the image note and a few helpers for guests of hv (include/hv/abi.h is the
 * ABI underneath; docs/abi.md and docs/writing-guests.md explain both).
 *
 * A guest defines
 *     int main(const struct hv_start_info *si, unsigned vcpu);
 * which every vCPU enters (guest/lib/start.S). vCPU 0 returning ends the
 * whole guest with main's value as its status; any other vCPU returning ends
 * only that vCPU.
 *
 * The paravirtual CPU (trap handlers, user mode, memory operations) is in
 * hvg_cpu.h, included at the end. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/abi.h"

/* Every guest defines it; _start (guest/lib/start.S) calls it. */
int main(const struct hv_start_info *si, unsigned vcpu);

#define HVG_NORETURN __attribute__((noreturn))
#define HVG_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

/* --- raw hypercalls -----------------------------------------------------
 * `syscall` takes rax = number and rdi, rsi, rdx, r10, r8, r9; it returns
 * in rax and clobbers rcx and r11. "memory": hv reads and writes guest
 * memory behind the compiler's back. */

static inline int64_t hvg_hypercall6(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
                                     uint64_t a3, uint64_t a4, uint64_t a5)
{
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    register uint64_t r9 __asm__("r9") = a5;
    int64_t ret;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline int64_t hvg_hypercall2(uint64_t nr, uint64_t a0, uint64_t a1)
{
    int64_t ret;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline int64_t hvg_hypercall1(uint64_t nr, uint64_t a0)
{
    return hvg_hypercall2(nr, a0, 0);
}

static inline int64_t hvg_hypercall0(uint64_t nr)
{
    return hvg_hypercall2(nr, 0, 0);
}

/* --- the hypercalls of include/hv/abi.h ---------------------------------- */

/* Writes up to HV_CONSOLE_WRITE_MAX bytes of buf; returns how many were taken
 * (the rest is for the next call), -HV_EAGAIN when the console is busy, or
 * -HV_EFAULT / -HV_EINVAL for a bad buffer or length. hvg_write() loops. */
static inline int64_t hvg_console_write(const char *buf, uint64_t len)
{
    return hvg_hypercall2(HV_CALL_CONSOLE_WRITE, (uint64_t)(uintptr_t)buf, len);
}

/* Ends the whole guest, every vCPU, with this status. */
static inline HVG_NORETURN void hvg_exit(int64_t status)
{
    /* hv never returns from it; should it ever, asking again is the only
     * thing that cannot make matters worse. */
    for (;;)
        hvg_hypercall1(HV_CALL_EXIT, (uint64_t)status);
}

/* Gives the CPU to the next vCPU; returns 0. */
static inline int64_t hvg_yield(void)
{
    return hvg_hypercall0(HV_CALL_YIELD);
}

/* Fills *out; returns 0 or -HV_EFAULT. */
static inline int64_t hvg_guest_info(struct hv_guest_info *out)
{
    return hvg_hypercall1(HV_CALL_GUEST_INFO, (uint64_t)(uintptr_t)out);
}

/* Fills *out for vCPU vcpu_id of this guest; returns 0, -HV_EINVAL (no such
 * vCPU) or -HV_EFAULT. */
static inline int64_t hvg_vcpu_info(uint64_t vcpu_id, struct hv_vcpu_info *out)
{
    return hvg_hypercall2(HV_CALL_VCPU_INFO, vcpu_id, (uint64_t)(uintptr_t)out);
}

/* Ends the calling vCPU only; the guest ends when its last vCPU does. */
static inline HVG_NORETURN void hvg_vcpu_exit(void)
{
    for (;;)
        hvg_hypercall0(HV_CALL_VCPU_EXIT);
}

/* The health monitor's log of guest guest_id, entries first.. (at most n,
 * at most HV_HEALTH_LOG_ENTRIES): how many were copied into buf. Needs
 * hv.cfg `monitor = yes` for the calling guest (else -HV_EPERM). */
static inline int64_t hvg_health_read(uint64_t guest_id, uint64_t first,
                                      struct hv_health_entry *buf, uint64_t n)
{
    return hvg_hypercall6(HV_CALL_HEALTH_READ, guest_id, first, (uint64_t)(uintptr_t)buf, n, 0,
                          0);
}

/* --- console output (guest/lib/console.c) --------------------------------
 * Output is formatted into a line buffer on the stack and handed to hv a
 * line (at most HV_CONSOLE_WRITE_MAX bytes) at a time, so lines of
 * different vCPUs and guests do not mix mid-line as long as each line is
 * printed by one call. -HV_EAGAIN is retried after a yield; other errors drop
 * the rest of the output. */

/* Writes all n bytes; returns n, or the negative error that stopped it. */
int64_t hvg_write(const char *s, size_t n);
/* s followed by a newline, like puts(). Returns as hvg_write(). */
int64_t hvg_puts(const char *s);
/* printf (lib/fmt.h lists the conversions; no floating point). Returns the
 * length of the formatted output, or the negative error that stopped it. */
int64_t hvg_printf(const char *fmt, ...) HVG_PRINTF(1, 2);
int64_t hvg_vprintf(const char *fmt, va_list ap);

/* --- console input (guest/lib/console_input.c) ---------------------------
 * What is typed on hv's console -- the serial line, or the PC's keyboard --
 * goes to the one guest with the console focus (the first guest at boot;
 * Ctrl-A n moves it to the next). hv keeps up to 256 unread bytes per guest
 * and does not echo: print what you read if the user should see it. Enter
 * arrives as '\r' from most terminals and from the keyboard.
 *
 * The first call of a function below binds HV_VIRQ_CONSOLE to the vCPU that
 * makes it (hv polls its inputs only while some guest has it bound): call
 * them from that vCPU only. The SDK keeps the port masked and sleeps with
 * HV_CALL_POLL, so they work with or without hvg_events_init() and leave
 * the guest's upcalls alone. */

/* HV_CALL_CONSOLE_READ: takes up to len (at most 256) waiting bytes; returns
 * how many (0: none waiting), or -HV_EFAULT. Does not wait, binds nothing. */
static inline int64_t hvg_console_read(char *buf, uint64_t len)
{
    return hvg_hypercall2(HV_CALL_CONSOLE_READ, (uint64_t)(uintptr_t)buf, len);
}
/* Binds the input (once; later calls return the same port): the port, or
 * the error of HV_CALL_EVTCHN_BIND_VIRQ (-HV_EEXIST if the guest bound
 * HV_VIRQ_CONSOLE on this vCPU itself). Calling it early starts input. */
int64_t hvg_console_input_open(void);
/* Waits until input is there and takes up to n bytes: returns how many
 * (>= 1), -HV_ETIMEDOUT once system time (hvg_now()) reaches deadline_ns
 * (0: wait for ever), or another hypercall's error. */
int64_t hvg_console_read_wait(char *buf, size_t n, uint64_t deadline_ns);
/* One byte (0..255), waiting for it; or a negative error. */
int hvg_getchar(void);
/* A line: waits for '\r' or '\n' (a '\n' right after a '\r' ends no
 * second line), keeps at most size - 1 characters (the rest of a longer line
 * is dropped), handles backspace (0x08, 0x7f), NUL-terminates. Returns the
 * line's length without the newline, or a negative error (size 0:
 * -HV_EINVAL). */
int64_t hvg_getline(char *buf, size_t size);

/* --- the start info -------------------------------------------------------
 * The same read-only struct for every vCPU, also passed to main(). Valid
 * from the first instruction of main() on. */
const struct hv_start_info *hvg_start_info(void);

/* --- small helpers ------------------------------------------------------- */

static inline uint64_t hvg_rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Spin-wait hint for busy loops. */
static inline void hvg_cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* Prints "assertion failed: <expr> at <file>:<line> (<function>)" and ends
 * the guest with status HVG_ASSERT_STATUS. */
#define HVG_ASSERT_STATUS 99
#define hvg_assert(expr) \
    ((expr) ? (void)0 : hvg_assert_fail(#expr, __FILE__, __LINE__, __func__))
HVG_NORETURN void hvg_assert_fail(const char *expr, const char *file, int line,
                                  const char *function);

/* --- the image note --------------------------------------------------------
 * HV_GUEST_NOTE(name, memory, vcpus, stack) at file scope, once per guest,
 * asks hv for resources: name (a string literal of at most 31 characters,
 * "" for the file name), memory in bytes, the number of vCPUs and the stack
 * size per vCPU in bytes. 0 means hv's default for each; see docs/abi.md.
 *
 * The record is an ELF note: a 12-byte header (namesz, descsz, type), the
 * owner "hv" NUL-padded to 4 bytes, then struct hv_image_note. Packed with
 * 4-byte alignment so the section and its PT_NOTE segment have the classic
 * 4-byte note layout with no padding anywhere. */
struct hvg_note {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char owner[4];
    struct hv_image_note desc;
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(HV_NOTE_OWNER) <= 4, "note owner must fit its 4-byte slot");
_Static_assert(sizeof(struct hv_image_note) % 4 == 0, "note descriptor must need no padding");
_Static_assert(sizeof(struct hvg_note) == 16 + sizeof(struct hv_image_note), "note layout");

#define HV_GUEST_NOTE(name_, memory_, vcpus_, stack_)                                  \
    _Static_assert(sizeof(name_) <= sizeof(((struct hv_image_note *)0)->name),        \
                   "HV_GUEST_NOTE: name longer than 31 characters");                  \
    __attribute__((section(".note.hv"), used, aligned(4)))                             \
    static const struct hvg_note hvg_image_note = {                                   \
        .namesz = sizeof(HV_NOTE_OWNER),                                              \
        .descsz = sizeof(struct hv_image_note),                                       \
        .type = HV_NOTE_GUEST,                                                        \
        .owner = HV_NOTE_OWNER,                                                       \
        .desc = {                                                                     \
            .abi_version = HV_ABI_VERSION,                                            \
            .vcpus = (vcpus_),                                                        \
            .memory_bytes = (memory_),                                                \
            .stack_bytes = (stack_),                                                  \
            .name = name_,                                                            \
        },                                                                            \
    }

/* HV_GUEST_POLICY(on_exit, on_fault, max_restarts, window_s) at file scope,
 * at most once: the image's restart-policy note (struct hv_image_policy;
 * docs/abi.md, "The restart-policy note"). on_exit and on_fault are
 * HV_NOTE_ACTION_DEFAULT, _STOP or _RESTART; max_restarts at most
 * HV_NOTE_MAX_RESTARTS within window_s >= HV_NOTE_MIN_WINDOW_S (0, 0: the
 * defaults). hv.cfg's on_exit, on_fault and max_restarts win over it. */
struct hvg_policy_note {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char owner[4];
    struct hv_image_policy desc;
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct hvg_policy_note) == 16 + sizeof(struct hv_image_policy),
               "policy note layout");

#define HV_GUEST_POLICY(on_exit_, on_fault_, max_restarts_, window_s_)                  \
    __attribute__((section(".note.hv"), used, aligned(4)))                             \
    static const struct hvg_policy_note hvg_policy_note = {                           \
        .namesz = sizeof(HV_NOTE_OWNER),                                              \
        .descsz = sizeof(struct hv_image_policy),                                     \
        .type = HV_NOTE_POLICY,                                                       \
        .owner = HV_NOTE_OWNER,                                                       \
        .desc = {                                                                     \
            .on_exit = (on_exit_),                                                    \
            .on_fault = (on_fault_),                                                  \
            .max_restarts = (max_restarts_),                                          \
            .window_s = (window_s_),                                                  \
        },                                                                            \
    }

#define HVG_KIB(n) ((uint64_t)(n) << 10)
#define HVG_MIB(n) ((uint64_t)(n) << 20)
#define HVG_GIB(n) ((uint64_t)(n) << 30)

/* --- the paravirtual CPU: traps, system calls, user mode, memory ------------ */
#include "hvg_cpu.h"

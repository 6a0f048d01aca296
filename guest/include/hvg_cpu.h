/* hvg: the paravirtual CPU for guest kernels (include/hv/abi_cpu.h is the
 * ABI; docs/writing-guests.md, "Writing a guest OS", is the guide).
 * Included by hvg.h.
 *
 * Three parts:
 *   - one wrapper per hypercall of abi_cpu.h;
 *   - entry stubs (guest/lib/trap_entry.S, guest/lib/trap_fast.S) so trap,
 *     system-call and fast-gate handlers are plain C functions taking a
 *     struct hvg_trap_frame that they may change before it is restored;
 *   - entering guest user mode and coming back from it
 *     (hvg_user_run / hvg_user_return).
 *
 * Guest kernel code must not use a red zone: hv writes exception frames
 * right below the interrupted rsp. The SDK builds every guest with
 * -mno-red-zone (guest/guest.mk). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/abi.h"

/* --- the hypercalls of abi_cpu.h ------------------------------------------------ */

/* Registers n entries for the calling vCPU. */
static inline int64_t hvg_set_trap_table(const struct hv_trap_info *table, uint64_t n)
{
    return hvg_hypercall2(HV_CALL_SET_TRAP_TABLE, (uint64_t)(uintptr_t)table, n);
}

/* Where `syscall` from guest user mode enters guest kernel mode (0: none). */
static inline int64_t hvg_set_syscall(uint64_t handler, uint64_t flags)
{
    return hvg_hypercall2(HV_CALL_SET_SYSCALL, handler, flags);
}

/* The stack hv switches to on an entry from guest user mode. */
static inline int64_t hvg_set_kernel_stack(uint64_t rsp)
{
    return hvg_hypercall1(HV_CALL_SET_KERNEL_STACK, rsp);
}

/* A new, empty user address space: its handle (1..) or a negative error. */
static inline int64_t hvg_user_space_create(void)
{
    return hvg_hypercall0(HV_CALL_USER_SPACE_CREATE);
}

/* Destroys a user space: hv tears it down in bounded steps, each call
 * returning HV_CONTINUE until the last; this loops. 0 or the error. */
static inline int64_t hvg_user_space_destroy(uint64_t space)
{
    int64_t r;
    while ((r = hvg_hypercall1(HV_CALL_USER_SPACE_DESTROY, space)) == HV_CONTINUE)
        ;
    return r;
}

/* The user space guest user mode runs in from the next return to it. */
static inline int64_t hvg_set_user_space(uint64_t space)
{
    return hvg_hypercall1(HV_CALL_SET_USER_SPACE, space);
}

/* The memory operations do a bounded amount of work per hypercall and
 * return how many pages they dealt with (docs/abi.md); these wrappers call
 * again until the whole range is done and return 0, or the first error.
 * Steps done before an error stay done (a range mapped in part stays
 * mapped in part: unmap it if you need all or nothing). */

/* One memory operation over a whole range: calls hv until every page is
 * dealt with. a3 and a4 are the call's fourth and fifth arguments (r10,
 * r8); when src_advances, a3 is a source address that moves with va. */
static inline int64_t hvg_mem_range(uint64_t nr, uint64_t space, uint64_t va, uint64_t pages,
                                    uint64_t a3, uint64_t a4, bool src_advances)
{
    do { /* at least once: 0 pages is hv's to refuse */
        int64_t r = hvg_hypercall6(nr, space, va, pages, a3, a4, 0);
        if (r <= 0)
            return r ? r : -HV_EINVAL; /* 0 never comes: no endless loop if it did */
        if ((uint64_t)r > pages)
            return -HV_EINVAL;
        pages -= (uint64_t)r;
        va += (uint64_t)r * 4096;
        if (src_advances)
            a3 += (uint64_t)r * 4096;
    } while (pages);
    return 0;
}

/* Maps pages at va in space (HV_SPACE_KERNEL or a handle): fresh zeroed
 * pages when src_va is 0, else the pages mapped at src_va in the kernel
 * space, shared. prot: HV_PROT_READ/WRITE/EXEC, never WRITE with EXEC, and
 * never above the source mapping's maximum protections. */
static inline int64_t hvg_mem_map(uint64_t space, uint64_t va, uint64_t pages, uint64_t src_va,
                                  uint64_t prot)
{
    return hvg_mem_range(HV_CALL_MEM_MAP, space, va, pages, src_va, prot, src_va != 0);
}

static inline int64_t hvg_mem_unmap(uint64_t space, uint64_t va, uint64_t pages)
{
    return hvg_mem_range(HV_CALL_MEM_UNMAP, space, va, pages, 0, 0, false);
}

static inline int64_t hvg_mem_protect(uint64_t space, uint64_t va, uint64_t pages,
                                      uint64_t prot)
{
    return hvg_mem_range(HV_CALL_MEM_PROTECT, space, va, pages, prot, 0, false);
}

/* The guest's shared page (hv_start_info.shared_va). */
static inline volatile struct hv_shared_info *hvg_shared(void)
{
    return (volatile struct hv_shared_info *)(uintptr_t)hvg_start_info()->shared_va;
}

/* The faulting address of the last #PF delivered to vCPU vcpu (what CR2
 * held; hv copies it to the shared page before the handler runs). */
static inline uint64_t hvg_fault_address(unsigned vcpu)
{
    return vcpu < HV_MAX_VCPUS ? hvg_shared()->vcpu[vcpu].cr2 : 0;
}

/* --- trap frames ---------------------------------------------------------------
 * What the SDK's entry stubs build on the stack they are entered on: every
 * general register, the vector and error code, and above them the native
 * frame as the CPU or hv pushed it. A handler may change any field; the stub
 * restores them all, so e.g. `f->rip += 2` skips a 2-byte instruction and
 * f->rax is a system call's result. */
struct hvg_trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;     /* 0..255, or HVG_VECTOR_SYSCALL */
    uint64_t error_code; /* 0 for vectors without one */
    uint64_t rip, cs, rflags, rsp, ss; /* the native frame */
};

/* The vector a system call from guest user mode shows in the frame. */
#define HVG_VECTOR_SYSCALL 0x100

#define HVG_RFLAGS_CF (1ull << 0)
#define HVG_RFLAGS_TF (1ull << 8)
#define HVG_RFLAGS_IF (1ull << 9) /* in a frame: events were unmasked */
#define HVG_RFLAGS_DF (1ull << 10)
#define HVG_RFLAGS_NT (1ull << 14)
#define HVG_RFLAGS_AC (1ull << 18)

/* Exception vectors, as the CPU numbers them. */
enum hvg_vector {
    HVG_DE = 0, HVG_DB = 1, HVG_NMI = 2, HVG_BP = 3, HVG_OF = 4, HVG_BR = 5, HVG_UD = 6,
    HVG_NM = 7, HVG_DF = 8, HVG_TS = 10, HVG_NP = 11, HVG_SS = 12, HVG_GP = 13, HVG_PF = 14,
    HVG_MF = 16, HVG_AC = 17, HVG_MC = 18, HVG_XM = 19, HVG_VE = 20, HVG_CP = 21,
};

/* #PF error code bits. */
#define HVG_PF_PRESENT 0x01
#define HVG_PF_WRITE 0x02
#define HVG_PF_USER 0x04
#define HVG_PF_FETCH 0x10

/* Whether the CPU (and so hv) pushes an error code for this exception. */
static inline bool hvg_vector_has_error_code(unsigned vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
           vector == 29 || vector == 30;
}

/* True when the frame was entered from guest user mode. */
static inline bool hvg_frame_from_user(const struct hvg_trap_frame *f)
{
    return f->cs == HV_USER_CS;
}

typedef void hvg_trap_fn(struct hvg_trap_frame *f);

/* --- trap handlers in C (guest/lib/trap_entry.S, guest/lib/cpu.c) -------------
 * The SDK has one entry stub per vector. A stub saves every register, calls
 * the C handler installed for its vector, restores the (possibly changed)
 * frame and returns with HV_CALL_IRET, which restores the event mask and
 * may change mode (cs = HV_USER_CS returns to user mode). The C handlers
 * are shared by all vCPUs; hv's trap table is per vCPU, so each vCPU calls
 * hvg_traps_install (or hvg_set_trap_table with hvg_trap_stub addresses). */
struct hvg_trap_spec {
    unsigned vector;  /* 0..255 */
    uint8_t flags;    /* HV_TRAP_MASK_EVENTS, HV_TRAP_USER_INT */
    hvg_trap_fn *fn;  /* NULL removes the entry */
};

/* Installs the C handlers and registers the SDK stubs for exactly these
 * vectors, in one HV_CALL_SET_TRAP_TABLE for the calling vCPU. Returns its
 * result; on an error no C handler changed. At most 256 specs. */
int64_t hvg_traps_install(const struct hvg_trap_spec *specs, size_t n);

/* The SDK stub of a vector (for building an hv_trap_info by hand). */
uint64_t hvg_trap_stub(unsigned vector);

/* Installs fn as the handler of `syscall` from guest user mode (frame
 * vector HVG_VECTOR_SYSCALL, error code 0; the system-call number and
 * arguments are in the frame's rax, rdi, rsi, rdx, r10, r8, r9 as the
 * application left them) and registers the SDK stub with hv. */
int64_t hvg_syscall_install(hvg_trap_fn *fn, uint64_t flags);

/* Prints the frame (one line per group of registers) with a title. */
void hvg_trap_dump(const char *title, const struct hvg_trap_frame *f);

/* What a vector without a C handler gets: the frame is printed and the
 * guest ends with status HVG_TRAP_UNHANDLED_STATUS. */
#define HVG_TRAP_UNHANDLED_STATUS 98
HVG_NORETURN void hvg_trap_unhandled(struct hvg_trap_frame *f);

/* --- the fast gate (guest/lib/trap_fast.S) ---------------------------------------
 * HV_TRAP_FAST makes vector 0x80 a trap gate the CPU enters directly, in
 * whatever mode and address space is active, on the current stack: hv is
 * not on the path. The handler must therefore be mapped at the same
 * address in every space that raises it: the SDK keeps its fast stub in the
 * section .user.text, and HVG_FAST_ENTRY(entry, handler) defines one more
 * stub `entry` there that saves the registers, calls
 *     void handler(struct hvg_trap_frame *f)   (declared HVG_USER_TEXT)
 * and returns with plain iretq. Register `entry` (the symbol) for vector
 * HV_FAST_TRAP_VECTOR with HV_TRAP_FAST. Whatever the handler touches must
 * be mapped in the user spaces as well (HVG_USER_DATA / HVG_USER_RODATA). */
#define HVG_STRINGIFY_(x) #x
#define HVG_STRINGIFY(x) HVG_STRINGIFY_(x)
#define HVG_FAST_ENTRY(entry_, handler_)                                                  \
    extern char entry_[];                                                                 \
    __asm__(".pushsection .user.text,\"ax\",@progbits\n"                                  \
            ".globl " #entry_ "\n"                                                        \
            ".type " #entry_ ", @function\n" #entry_ ":\n"                                \
            "\tpushq $0\n"                                                                \
            "\tpushq $" HVG_STRINGIFY(HV_FAST_TRAP_VECTOR) "\n"                           \
            "\tpushq %rax\n"                                                              \
            "\tleaq " #handler_ "(%rip), %rax\n"                                          \
            "\tjmp hvg_fast_common\n"                                                     \
            ".size " #entry_ ", . - " #entry_ "\n"                                        \
            ".popsection\n")

/* --- code and data for user spaces -------------------------------------------------
 * guest/guest.ld gathers these sections on pages of their own, bounded by
 * hvg_user_{text,rodata,data}_{start,end} (page-aligned), so a guest kernel
 * can map (or copy and map) them into user address spaces at the same
 * addresses. Code in .user.text must not call anything outside it (the SDK's
 * printing functions are kernel code). ET_EXEC guests only: a -pie guest is
 * linked by ld's default script, which neither aligns nor bounds them. */
#define HVG_USER_TEXT __attribute__((section(".user.text"), used, noinline))
#define HVG_USER_RODATA __attribute__((section(".user.rodata")))
#define HVG_USER_DATA __attribute__((section(".user.data")))

extern char hvg_user_text_start[], hvg_user_text_end[];
extern char hvg_user_rodata_start[], hvg_user_rodata_end[];
extern char hvg_user_data_start[], hvg_user_data_end[];

/* --- guest user mode (guest/lib/trap_entry.S) ------------------------------------
 * hvg_user_run enters guest user mode (cs = HV_USER_CS, in the user space
 * chosen with hvg_set_user_space) at rip with rsp, rdi = arg, the other
 * general registers 0, events unmasked, through HV_CALL_IRET. It returns
 * when a trap or system-call handler, running for that user code, calls
 * hvg_user_return(f, ctx, value): that rewrites the handler's frame so that
 * its return lands back in hvg_user_run's caller, in guest kernel mode, on
 * the caller's stack, and hvg_user_run returns value. One context per
 * hvg_user_run in progress. */
struct hvg_user_context {
    uint64_t rbx, rbp, r12, r13, r14, r15; /* the caller's callee-saved registers */
    uint64_t rsp, rflags;
};

int64_t hvg_user_run(struct hvg_user_context *ctx, uint64_t rip, uint64_t rsp, uint64_t arg);
void hvg_user_return(struct hvg_trap_frame *f, const struct hvg_user_context *ctx,
                     int64_t value);

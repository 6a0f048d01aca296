/* The C side of the SDK's trap entry stubs (guest/lib/trap_entry.S):
 * dispatch to installed handlers, registration with hv, returning from
 * user mode. */
#include "hvg.h"
#include "hvg_event.h"

/* trap_entry.S and trap_fast.S hard-code these. */
_Static_assert(HV_CALL_IRET == 10, "trap_entry.S: HVG_CALL_IRET");
_Static_assert(HV_KERNEL_CS == 0x23 && HV_USER_CS == 0x3b && HV_DATA_SS == 0x1b,
               "trap_entry.S: selectors");
_Static_assert(HVG_VECTOR_SYSCALL == 0x100, "trap_entry.S: HVG_VECTOR_SYSCALL");
_Static_assert(sizeof(struct hvg_trap_frame) == 22 * 8, "trap_entry.S: frame layout");
_Static_assert(__builtin_offsetof(struct hvg_trap_frame, rax) == 14 * 8, "frame layout");
_Static_assert(__builtin_offsetof(struct hvg_trap_frame, vector) == 15 * 8, "frame layout");
_Static_assert(__builtin_offsetof(struct hvg_trap_frame, rip) == 17 * 8, "frame layout");
_Static_assert(__builtin_offsetof(struct hvg_user_context, rsp) == 48 &&
                   __builtin_offsetof(struct hvg_user_context, rflags) == 56,
               "trap_entry.S: hvg_user_context layout");
_Static_assert(sizeof(struct hv_iret_frame) == 9 * 8, "trap_entry.S: iret frame layout");

#define STUB_SIZE 16
#define VECTORS 256

extern char hvg_trap_stubs[];
extern char hvg_syscall_entry[];
extern char hvg_user_resume[];

static hvg_trap_fn *handlers[VECTORS];
static hvg_trap_fn *syscall_handler;

void hvg_trap_dispatch(struct hvg_trap_frame *f);

void hvg_trap_dispatch(struct hvg_trap_frame *f)
{
    hvg_trap_fn *fn = NULL;

    if (f->vector < VECTORS)
        fn = __atomic_load_n(&handlers[f->vector], __ATOMIC_ACQUIRE);
    else if (f->vector == HVG_VECTOR_SYSCALL)
        fn = __atomic_load_n(&syscall_handler, __ATOMIC_ACQUIRE);
    else if (f->vector == HVG_VECTOR_UPCALL)
        fn = hvg_event_upcall; /* guest/lib/event.c */
    if (fn == NULL)
        hvg_trap_unhandled(f);
    fn(f);
}

uint64_t hvg_trap_stub(unsigned vector)
{
    if (vector >= VECTORS)
        return 0;
    return (uint64_t)(uintptr_t)hvg_trap_stubs + (uint64_t)vector * STUB_SIZE;
}

int64_t hvg_traps_install(const struct hvg_trap_spec *specs, size_t n)
{
    struct hv_trap_info table[VECTORS];
    hvg_trap_fn *previous[VECTORS];

    if (n > VECTORS)
        return -HV_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (specs[i].vector >= VECTORS)
            return -HV_EINVAL;
        table[i] = (struct hv_trap_info){
            .vector = (uint8_t)specs[i].vector,
            .flags = specs[i].flags,
            .handler = specs[i].fn ? hvg_trap_stub(specs[i].vector) : 0,
        };
    }
    /* C handlers first: hv may deliver the moment it has the table. */
    for (size_t i = 0; i < n; i++) {
        previous[i] = handlers[specs[i].vector];
        if (specs[i].fn)
            __atomic_store_n(&handlers[specs[i].vector], specs[i].fn, __ATOMIC_RELEASE);
    }
    int64_t r = hvg_set_trap_table(table, n);
    if (r < 0) {
        for (size_t i = n; i-- > 0;)
            __atomic_store_n(&handlers[specs[i].vector], previous[i], __ATOMIC_RELEASE);
    }
    return r;
}

int64_t hvg_syscall_install(hvg_trap_fn *fn, uint64_t flags)
{
    hvg_trap_fn *previous = syscall_handler;

    __atomic_store_n(&syscall_handler, fn, __ATOMIC_RELEASE);
    int64_t r = hvg_set_syscall(fn ? (uint64_t)(uintptr_t)hvg_syscall_entry : 0, flags);
    if (r < 0)
        __atomic_store_n(&syscall_handler, previous, __ATOMIC_RELEASE);
    return r;
}

void hvg_trap_dump(const char *title, const struct hvg_trap_frame *f)
{
    hvg_printf("%s: vector %llu error 0x%llx rip 0x%llx cs 0x%llx rflags 0x%llx rsp 0x%llx "
               "ss 0x%llx\n",
               title, (unsigned long long)f->vector, (unsigned long long)f->error_code,
               (unsigned long long)f->rip, (unsigned long long)f->cs,
               (unsigned long long)f->rflags, (unsigned long long)f->rsp,
               (unsigned long long)f->ss);
    hvg_printf("%s: rax %llx rbx %llx rcx %llx rdx %llx rsi %llx rdi %llx rbp %llx\n", title,
               (unsigned long long)f->rax, (unsigned long long)f->rbx,
               (unsigned long long)f->rcx, (unsigned long long)f->rdx,
               (unsigned long long)f->rsi, (unsigned long long)f->rdi,
               (unsigned long long)f->rbp);
    hvg_printf("%s: r8 %llx r9 %llx r10 %llx r11 %llx r12 %llx r13 %llx r14 %llx r15 %llx\n",
               title, (unsigned long long)f->r8, (unsigned long long)f->r9,
               (unsigned long long)f->r10, (unsigned long long)f->r11,
               (unsigned long long)f->r12, (unsigned long long)f->r13,
               (unsigned long long)f->r14, (unsigned long long)f->r15);
}

void hvg_trap_unhandled(struct hvg_trap_frame *f)
{
    hvg_trap_dump("unhandled trap", f);
    hvg_exit(HVG_TRAP_UNHANDLED_STATUS);
}

void hvg_user_return(struct hvg_trap_frame *f, const struct hvg_user_context *ctx,
                     int64_t value)
{
    /* The handler's return becomes hvg_user_run's: kernel mode, the
     * caller's stack and callee-saved registers; the scratch registers
     * are cleared so nothing of the user program's leaks into the kernel
     * by accident. */
    *f = (struct hvg_trap_frame){
        .rbx = ctx->rbx, .rbp = ctx->rbp,
        .r12 = ctx->r12, .r13 = ctx->r13, .r14 = ctx->r14, .r15 = ctx->r15,
        .rax = (uint64_t)value,
        .vector = f->vector, .error_code = f->error_code,
        .rip = (uint64_t)(uintptr_t)hvg_user_resume,
        .cs = HV_KERNEL_CS,
        .rflags = ctx->rflags,
        .rsp = ctx->rsp,
        .ss = HV_DATA_SS,
    };
}

HVG_NORETURN void hvg_iret_failed(int64_t error);

void hvg_iret_failed(int64_t error)
{
    hvg_printf("HV_CALL_IRET failed: %lld\n", (long long)error);
    hvg_exit(HVG_TRAP_UNHANDLED_STATUS);
}

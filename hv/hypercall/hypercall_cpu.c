/* Hypercalls of the paravirtual CPU: trap table, system-call entry, kernel
 * stack, iret, user address spaces (include/hv/abi_cpu.h). */
#include "hv/hypercall/hypercall_table.h"

#include "hv/cpu/idt.h"
#include "hv/cpu/spinlock.h"
#include "hv/cpu/lock_order.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/mm.h"
#include "lib/nospec.h"
#include "vcpu/deliver.h"
#include "vcpu/trap_table.h"
#include "vcpu/vcpu.h"

int64_t hc_set_trap_table(struct vcpu *v, struct trap_frame *f)
{
    uint64_t n = f->rsi;
    struct hv_trap_info entries[256];
    if (n > 256)
        return -HV_EINVAL;
    n = array_index_nospec(n, 256 + 1); /* sizes the copy into entries[] */
    if (n && copy_from_guest(v->guest, entries, f->rdi, n * sizeof(entries[0])) != 0)
        return -HV_EFAULT;
    if (!v->arch.traps) {
        if (n == 0)
            return 0;
        v->arch.traps = kmalloc(sizeof(struct trap_table));
        if (!v->arch.traps)
            return -HV_ENOMEM;
    }
    if (n == 0 && f->rdi == 0) { /* (NULL, 0): forget every entry */
        kfree(v->arch.traps, sizeof(struct trap_table));
        v->arch.traps = NULL;
        idt_set_fast_gate(0);
        return 0;
    }
    int rc = trap_table_update(v->arch.traps, entries, n);
    if (rc == 0)
        idt_set_fast_gate(v->arch.traps->fast_handler); /* v is the running vCPU */
    return rc;
}

int64_t hc_set_syscall(struct vcpu *v, struct trap_frame *f)
{
    if (f->rdi >= HV_GUEST_LOWER_HALF_END || (f->rsi & ~(uint64_t)HV_SYSCALL_MASK_EVENTS))
        return -HV_EINVAL;
    v->arch.syscall_handler = f->rdi;
    v->arch.syscall_flags = (uint8_t)f->rsi;
    return 0;
}

int64_t hc_set_kernel_stack(struct vcpu *v, struct trap_frame *f)
{
    if (f->rdi >= HV_GUEST_LOWER_HALF_END)
        return -HV_EINVAL;
    v->arch.kernel_sp = f->rdi;
    return 0;
}

static int64_t user_space_create(struct guest *g)
{
    for (uint64_t h = 1; h <= HV_MAX_USER_SPACES; h++) {
        if (g->user_spaces[h])
            continue;
        if (guest_memory_left(g) == 0)
            return -HV_ENOMEM; /* its root table comes out of the allowance */
        struct pt_space *s = kmalloc(sizeof(*s));
        if (!s)
            return -HV_ENOMEM;
        if (!guest_space_init(g, s)) {
            kfree(s, sizeof(*s));
            return -HV_ENOMEM;
        }
        g->user_spaces[h] = s;
        return (int64_t)h;
    }
    return -HV_ENOMEM;
}

/* Under the guest's mm_lock: two of its vCPUs may create, destroy or
 * enter spaces at once (docs/design.md, "Locking"). */
int64_t hc_user_space_create(struct vcpu *v, struct trap_frame *f)
{
    (void)f;
    struct guest *g = v->guest;
    uint64_t irq = spin_lock_irqsave_at(&g->mm_lock, LOCK_MM);
    int64_t rc = user_space_create(g);
    spin_unlock_irqrestore_at(&g->mm_lock, LOCK_MM, irq);
    return rc;
}

/* Bounded: one step of the teardown per call. Once started, the handle can
 * only be destroyed (guest_space() no longer finds it), so the steps can
 * resume where the last one stopped. The checks run under the guest's
 * lock, the step takes it again (guest_space_teardown_step): a vCPU that
 * enters the space in between finds it dying. */
static int64_t user_space_destroy_check(struct guest *g, uint64_t h)
{
    if (!g->user_spaces[h])
        return -HV_EINVAL;
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (g->vcpus[i]->arch.user_space == h)
            return -HV_EBUSY;
    g->space_dying[h] = true;
    return 0;
}

int64_t hc_user_space_destroy(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    uint64_t h = f->rdi;
    if (h == HV_SPACE_KERNEL || h > HV_MAX_USER_SPACES)
        return -HV_EINVAL;
    h = array_index_nospec(h, HV_MAX_USER_SPACES + 1); /* Spectre v1 */
    uint64_t irq = spin_lock_irqsave_at(&g->mm_lock, LOCK_MM);
    int64_t rc = user_space_destroy_check(g, h);
    spin_unlock_irqrestore_at(&g->mm_lock, LOCK_MM, irq);
    if (rc != 0)
        return rc;
    return guest_space_teardown_step(g, h) ? 0 : HV_CONTINUE;
}

int64_t hc_set_user_space(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    uint64_t irq = spin_lock_irqsave_at(&g->mm_lock, LOCK_MM);
    bool ok = f->rdi != HV_SPACE_KERNEL && guest_space(g, f->rdi);
    if (ok)
        v->arch.user_space = (uint32_t)f->rdi;
    spin_unlock_irqrestore_at(&g->mm_lock, LOCK_MM, irq);
    return ok ? 0 : -HV_EINVAL;
}

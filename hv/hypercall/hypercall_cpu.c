/* Hypercalls of the paravirtual CPU: trap table, system-call entry, kernel
 * stack, iret, user address spaces (include/hv/abi_cpu.h). */
#include "hv/hypercall/hypercall_table.h"

#include "hv/cpu/idt.h"
#include "hv/cpu/spinlock.h"
#include "hv/cpu/lock_order.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/kmalloc.h"
#include "hv/mm/mm.h"
#include "lib/nospec.h"
#include "vcpu/deliver.h"
#include "vcpu/trap_table.h"
#include "vcpu/vcpu.h"

/* HV_CALL_SET_TRAP_TABLE goes in pieces of TRAP_STEP_ENTRIES entries, all
 * or nothing as its ABI says: the entries are checked and applied to a
 * copy of the table, which replaces it once every entry has passed. A
 * call of more than one piece builds that copy in the table's stage and
 * does one piece per entry into hv: after each piece but the last it is
 * continued the way Xen's hypercall_create_continuation does it (as
 * hv/xen's set_trap_table every 64 entries): the guest goes back to its
 * `syscall` (rip - 2, rax the call's number again), interrupts are taken
 * there and, once it runs again, it makes the same call, which resumes
 * from the stage. A call with other arguments or from another place drops
 * the stage and starts over. A 256-entry call was ~10,600 instructions
 * with interrupts off in one piece (hv_irq_off_max's longest, boot e); a
 * piece is shorter than a memory call's ~4,800 (tests/system/bench_cases.py,
 * docs/benchmarks.md hv_irq_off_max). */
#define TRAP_STEP_ENTRIES 32

struct trap_stage {
    struct trap_table next;
    uint64_t table, rip; /* the call's pointer and its `syscall` */
    uint32_t n, done;
    bool nomem;
};

static void stage_drop(struct trap_table *t)
{
    if (t->stage) {
        kfree(t->stage, sizeof(struct trap_stage));
        t->stage = NULL;
    }
}

uint64_t trap_table_stage_bytes(void)
{
    return kmalloc_block_bytes(sizeof(struct trap_stage));
}

void trap_table_free(struct trap_table *t)
{
    stage_drop(t);
    kfree(t, sizeof(*t));
}

/* The stage of a call of more than one piece, made at its first entry
 * into hv (after its range was checked); NULL: no memory for one, the
 * call goes on in one piece (bounded all the same), or a `syscall` that
 * cannot be returned to (rip < 2). */
static struct trap_stage *stage_begin(struct trap_table *t, struct trap_frame *f, uint64_t n)
{
    if (n <= TRAP_STEP_ENTRIES || f->rip < 2)
        return NULL;
    struct trap_stage *st = kmalloc(sizeof(*st));
    if (!st)
        return NULL;
    st->next = *t;
    st->next.stage = NULL;
    st->table = f->rdi;
    st->rip = f->rip - 2;
    st->n = (uint32_t)n;
    st->done = 0;
    st->nomem = false;
    t->stage = st;
    return st;
}

int64_t hc_set_trap_table(struct vcpu *v, struct trap_frame *f)
{
    uint64_t n = f->rsi, table = f->rdi;
    if (n > 256)
        return -HV_EINVAL;
    struct trap_table *t = v->arch.traps;
    if (!t) {
        if (n == 0)
            return 0;
        t = v->arch.traps = kmalloc(sizeof(*t));
        if (!t)
            return -HV_ENOMEM;
    }
    struct trap_stage *st = t->stage;
    if (st && (st->table != table || st->n != n || st->rip != f->rip - 2)) {
        stage_drop(t); /* another call: this one starts over */
        st = NULL;
    }
    if (n == 0) {
        if (table == 0) { /* (NULL, 0): forget every entry */
            /* Unlinked before it is freed: the leak check reads the
             * pointer from another CPU (hv/guest/leak_check.c). */
            __atomic_store_n(&v->arch.traps, NULL, __ATOMIC_RELEASE);
            trap_table_free(t);
            idt_set_fast_gate(0);
        }
        return 0;
    }
    struct hv_trap_info entries[TRAP_STEP_ENTRIES];
    struct trap_table copy, *next = &copy;
    uint32_t done = 0;
    bool nomem = false;
    if (!st) {
        /* The whole range readable first (its first and last entries: it
         * spans at most two pages), as the ABI orders the errors. */
        if (copy_from_guest(v->guest, entries, table + (n - 1) * sizeof(entries[0]),
                            sizeof(entries[0])) != 0)
            return -HV_EFAULT;
        st = stage_begin(t, f, n);
        if (!st)
            copy = *t;
    }
    if (st) {
        next = &st->next;
        done = st->done;
        nomem = st->nomem;
    }
    int64_t rc;
    for (;;) {
        uint32_t k = n - done < TRAP_STEP_ENTRIES ? (uint32_t)(n - done) : TRAP_STEP_ENTRIES;
        k = (uint32_t)array_index_nospec(k, TRAP_STEP_ENTRIES + 1); /* sizes the copy */
        if (copy_from_guest(v->guest, entries, table + done * sizeof(entries[0]),
                            k * sizeof(entries[0])) != 0) {
            rc = -HV_EFAULT;
            break;
        }
        rc = trap_table_step(next, entries, k, &nomem);
        if (rc)
            break;
        done += k;
        if (done == n) {
            rc = nomem ? -HV_ENOMEM : 0;
            break;
        }
        if (st) { /* the rest at the next entries, one piece each */
            st->done = done;
            st->nomem = nomem;
            f->rip = st->rip;
            return HV_CALL_SET_TRAP_TABLE; /* rax: the call again, at its `syscall` */
        }
    }
    if (rc == 0) {
        *t = *next;
        t->stage = st;
        idt_set_fast_gate(t->fast_handler); /* v is the running vCPU */
    }
    stage_drop(t);
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

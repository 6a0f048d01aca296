#include "hv/hypercall/hypercall.h"

#include "hv/hypercall/hypercall_table.h"
#include "hv/guest/console.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/sched/sched.h"
#include "hv/mm/xpti.h"
#include "hv/time/time.h"
#include "lib/nospec.h"
#include "lib/string.h"
#include "vcpu/deliver.h"
#include "vcpu/vcpu.h"

static int64_t hc_console_write(struct vcpu *v, struct trap_frame *f)
{
    uint64_t len = f->rsi;
    char buf[HV_CONSOLE_WRITE_MAX];
    if (len == 0)
        return 0;
    /* The whole range must be plausible even though one call takes only
     * its first bytes: a length no buffer can have is an error. */
    if (f->rdi >= HV_GUEST_LOWER_HALF_END)
        return -HV_EFAULT;
    if (len > HV_GUEST_LOWER_HALF_END - f->rdi)
        return -HV_EINVAL;
    if (len > HV_CONSOLE_WRITE_MAX)
        len = HV_CONSOLE_WRITE_MAX; /* the rest is the next call's */
    if (copy_from_guest(v->guest, buf, f->rdi, len) != 0)
        return -HV_EFAULT;
    return guest_console_write(v->guest, buf, len);
}

static int64_t hc_exit(struct vcpu *v, struct trap_frame *f)
{
    guest_exit(v->guest, (int64_t)f->rdi);
    return 0;
}

static int64_t hc_vcpu_exit(struct vcpu *v, struct trap_frame *f)
{
    (void)f;
    sched_vcpu_stop(v);
    return 0;
}

static int64_t hc_yield(struct vcpu *v, struct trap_frame *f)
{
    (void)v;
    (void)f;
    sched_yield();
    return 0;
}

static int64_t hc_guest_info(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    struct hv_guest_info info;
    memset(&info, 0, sizeof(info));
    info.guest_id = g->id;
    info.vcpu_count = g->vcpu_count;
    memcpy(info.name, g->name, sizeof(info.name));
    info.memory_bytes = g->memory_bytes;
    info.memory_used_bytes = g->mem.used * 4096;
    info.abi_version = HV_ABI_VERSION;
    info.guests_running = guests_alive();
    return copy_to_guest(g, f->rdi, &info, sizeof(info));
}

static int64_t hc_vcpu_info(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    if (f->rdi >= g->vcpu_count)
        return -HV_EINVAL;
    struct vcpu *target = g->vcpus[array_index_nospec(f->rdi, g->vcpu_count)];
    struct hv_vcpu_info info;
    memset(&info, 0, sizeof(info));
    info.vcpu_id = target->id;
    static const uint32_t states[] = {
        [VCPU_RUNNING] = HV_VCPU_RUNNING, [VCPU_RUNNABLE] = HV_VCPU_RUNNABLE,
        [VCPU_BLOCKED] = HV_VCPU_BLOCKED, [VCPU_DEAD] = HV_VCPU_DEAD};
    info.state = states[target->state];
    info.cpu_time_ns = sched_vcpu_time(target);
    info.hv_entries = target->arch.hv_entries;
    g->shared->vcpu[v->id].cr3_writes = xpti_cr3_writes_shown(); /* 0 unless measuring */
    return copy_to_guest(g, f->rsi, &info, sizeof(info));
}

static int64_t hc_nop(struct vcpu *v, struct trap_frame *f)
{
    (void)v;
    (void)f;
    return 0;
}

const hypercall_fn hypercall_table[HV_CALL_COUNT] = {
    [HV_CALL_NOP] = hc_nop,
    [HV_CALL_CONSOLE_WRITE] = hc_console_write,
    [HV_CALL_EXIT] = hc_exit,
    [HV_CALL_YIELD] = hc_yield,
    [HV_CALL_GUEST_INFO] = hc_guest_info,
    [HV_CALL_VCPU_INFO] = hc_vcpu_info,
    [HV_CALL_VCPU_EXIT] = hc_vcpu_exit,
    [HV_CALL_SET_TRAP_TABLE] = hc_set_trap_table,
    [HV_CALL_SET_SYSCALL] = hc_set_syscall,
    [HV_CALL_SET_KERNEL_STACK] = hc_set_kernel_stack,
    [HV_CALL_IRET] = vcpu_iret,
    [HV_CALL_USER_SPACE_CREATE] = hc_user_space_create,
    [HV_CALL_USER_SPACE_DESTROY] = hc_user_space_destroy,
    [HV_CALL_SET_USER_SPACE] = hc_set_user_space,
    [HV_CALL_MEM_MAP] = hc_mem_map,
    [HV_CALL_MEM_UNMAP] = hc_mem_unmap,
    [HV_CALL_MEM_PROTECT] = hc_mem_protect,
    [HV_CALL_SET_UPCALL] = hc_set_upcall,
    [HV_CALL_EVTCHN_BIND_VIRQ] = hc_evtchn_bind_virq,
    [HV_CALL_EVTCHN_ALLOC_UNBOUND] = hc_evtchn_alloc_unbound,
    [HV_CALL_EVTCHN_BIND_PEER] = hc_evtchn_bind_peer,
    [HV_CALL_EVTCHN_BIND_IPI] = hc_evtchn_bind_ipi,
    [HV_CALL_EVTCHN_SEND] = hc_evtchn_send,
    [HV_CALL_EVTCHN_CLOSE] = hc_evtchn_close,
    [HV_CALL_EVTCHN_UNMASK] = hc_evtchn_unmask,
    [HV_CALL_EVTCHN_STATUS] = hc_evtchn_status,
    [HV_CALL_BLOCK] = hc_block,
    [HV_CALL_POLL] = hc_poll,
    [HV_CALL_SET_TIMER] = hc_set_timer,
    [HV_CALL_CONSOLE_READ] = hc_console_read,
    [HV_CALL_HEALTH_READ] = hc_health_read,
};

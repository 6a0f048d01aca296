/* Hypercalls of a Xen PV guest (hv/xen/xen.h): Xen's numbering and
 * register convention (number in rax; arguments rdi, rsi, rdx, r10, r8;
 * result in rax, Xen's negative errno values). Every argument is the
 * guest's: pointers are checked against the lower half and read or
 * written only through hv's uaccess (a fault is -EFAULT), counts are taken
 * a bounded piece per entry, and a call with more to do is continued as
 * Xen continues one: its argument registers rewritten to what is left,
 * rax set back to its number and rip moved back onto the `syscall`, so the
 * guest's stub enters again (interrupts and other guests run between). */
#include "hv/xen/xen.h"

#include "hv/guest/console.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/guest_frames.h"
#include "hv/sched/sched.h"
#include "hv/xen/xen_abi.h"
#include "hv/xen/xen_console.h"
#include "hv/xen/xen_mem.h"
#include "hv/xen/xen_mmu.h"
#include "lib/nospec.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

#define CONSOLE_PIECE 256 /* bytes of a console_io write per entry */
#define SYSCALL_INSN_BYTES 2

static int64_t xerr(int e)
{
    return -(int64_t)e;
}

/* Enter this call again with the registers as they are now. */
static void continue_call(struct trap_frame *f, uint64_t nr)
{
    f->rax = nr;
    f->rip -= SYSCALL_INSN_BYTES;
}

static bool range_ok(uint64_t va, uint64_t n)
{
    return va < HV_GUEST_LOWER_HALF_END && n <= HV_GUEST_LOWER_HALF_END - va;
}

/* CONSOLEIO_write: all `count` bytes, 0 when done (Xen's answer); a
 * rate-limited guest waits (yields and enters again), it is never told. */
static int64_t console_io(struct vcpu *v, struct trap_frame *f, bool *again)
{
    uint64_t cmd = f->rdi, count = f->rsi, buf = f->rdx;
    if (cmd == XEN_CONSOLEIO_read)
        return 0; /* no console input for Xen guests: nothing read */
    if (cmd != XEN_CONSOLEIO_write)
        return xerr(XEN_ENOSYS);
    if (count == 0)
        return 0;
    if (!range_ok(buf, count))
        return xerr(XEN_EFAULT);
    char piece[CONSOLE_PIECE];
    uint64_t n = count < CONSOLE_PIECE ? count : CONSOLE_PIECE;
    if (copy_from_guest(v->guest, piece, buf, n) != 0)
        return xerr(XEN_EFAULT);
    int64_t taken = xen_console_write(v->guest, piece, n);
    if (taken <= 0) {
        sched_yield(); /* over its rate: the same bytes again later */
        *again = true;
        return 0;
    }
    if ((uint64_t)taken < count) {
        f->rsi = count - (uint64_t)taken;
        f->rdx = buf + (uint64_t)taken;
        *again = true;
    }
    return 0;
}

static int64_t shutdown(struct vcpu *v, uint32_t reason)
{
    struct guest *g = v->guest;
    switch (reason) {
    case XEN_SHUTDOWN_poweroff:
        guest_end(g, GUEST_EXITED, 0, "shutdown: poweroff");
        return 0;
    case XEN_SHUTDOWN_crash:
        guest_end(g, GUEST_FAULTED, -1, "shutdown: crash");
        return 0;
    case XEN_SHUTDOWN_reboot:
        guest_end(g, GUEST_EXITED, 1, "shutdown: reboot (not supported: ended)");
        return 0;
    case XEN_SHUTDOWN_suspend:
        guest_end(g, GUEST_EXITED, 2, "shutdown: suspend (not supported: ended)");
        return 0;
    case XEN_SHUTDOWN_watchdog:
        guest_end(g, GUEST_FAULTED, 4, "shutdown: watchdog");
        return 0;
    case XEN_SHUTDOWN_soft_reset:
        guest_end(g, GUEST_EXITED, 5, "shutdown: soft_reset (not supported: ended)");
        return 0;
    default:
        return xerr(XEN_EINVAL);
    }
}

static int64_t sched_op(struct vcpu *v, struct trap_frame *f)
{
    uint32_t value;
    switch (f->rdi) {
    case XEN_SCHEDOP_yield:
        xen_console_drain(v->guest); /* a guest waiting for its ring to empty yields */
        sched_yield();
        return 0;
    case XEN_SCHEDOP_shutdown:
    case XEN_SCHEDOP_shutdown_code:
        if (!range_ok(f->rsi, sizeof(value)) ||
            copy_from_guest(v->guest, &value, f->rsi, sizeof(value)) != 0)
            return xerr(XEN_EFAULT);
        if (f->rdi == XEN_SCHEDOP_shutdown)
            return shutdown(v, value);
        v->guest->xen->shutdown_code = value;
        return 0;
    case XEN_SCHEDOP_block:
        return xen_block(v);
    case XEN_SCHEDOP_poll:
        return xen_poll(v, f->rsi);
    case XEN_SCHEDOP_remote_shutdown:
        return xerr(XEN_EPERM);
    default:
        return xerr(XEN_ENOSYS);
    }
}

/* Writes n bytes of src (zero-padded to `size`) to the guest's buffer. */
static int64_t put_padded(struct vcpu *v, uint64_t va, const char *src, size_t size)
{
    char chunk[64];
    size_t len = strlen(src);
    if (!range_ok(va, size) || !xen_mem_writable(v->guest, va, size))
        return xerr(XEN_EFAULT);
    for (size_t off = 0; off < size; off += sizeof(chunk)) {
        size_t n = size - off < sizeof(chunk) ? size - off : sizeof(chunk);
        memset(chunk, 0, sizeof(chunk));
        if (off < len)
            memcpy(chunk, src + off, len - off < n ? len - off : n);
        if (copy_to_guest(v->guest, va + off, chunk, n) != 0)
            return xerr(XEN_EFAULT);
    }
    return 0;
}

static int64_t xen_version(struct vcpu *v, struct trap_frame *f)
{
    uint64_t arg = f->rsi;
    switch (f->rdi) {
    case XEN_XENVER_version:
        return (XEN_CLAIMED_MAJOR << 16) | XEN_CLAIMED_MINOR;
    case XEN_XENVER_extraversion:
        return put_padded(v, arg, ".0-hv", 16);
    case XEN_XENVER_compile_info: { /* compiler[64], by[16], domain[32], date[32] */
        int64_t rc = put_padded(v, arg, "gcc", 64);
        if (rc == 0)
            rc = put_padded(v, arg + 64, "hv", 16);
        if (rc == 0)
            rc = put_padded(v, arg + 80, "", 32);
        if (rc == 0)
            rc = put_padded(v, arg + 112, "", 32);
        return rc;
    }
    case XEN_XENVER_capabilities:
        return put_padded(v, arg, XEN_START_INFO_MAGIC, 1024);
    case XEN_XENVER_changeset:
        return put_padded(v, arg, "hv", 64);
    case XEN_XENVER_platform_parameters: {
        uint64_t virt_start = XEN_HYPERVISOR_VIRT_START;
        if (!range_ok(arg, 8) || !xen_mem_writable(v->guest, arg, 8) ||
            copy_to_guest(v->guest, arg, &virt_start, 8) != 0)
            return xerr(XEN_EFAULT);
        return 0;
    }
    case XEN_XENVER_get_features: { /* {submap_idx u32, submap u32}: no features promised */
        uint32_t idx, submap = 0;
        if (!range_ok(arg, 8) || copy_from_guest(v->guest, &idx, arg, 4) != 0 ||
            !xen_mem_writable(v->guest, arg + 4, 4) ||
            copy_to_guest(v->guest, arg + 4, &submap, 4) != 0)
            return xerr(XEN_EFAULT);
        return idx == 0 ? 0 : xerr(XEN_EINVAL);
    }
    case XEN_XENVER_pagesize:
        return 4096;
    case XEN_XENVER_guest_handle:
        return put_padded(v, arg, "", 16);
    case XEN_XENVER_commandline:
        return put_padded(v, arg, "", 1024);
    default:
        return xerr(XEN_ENOSYS);
    }
}

/* set_trap_table: entries of struct trap_info until one with address 0;
 * NULL clears the table. Applied entry by entry as Xen does; at most
 * TRAP_PIECE per entry into hv, then continued. */
#define TRAP_PIECE 64
static int64_t set_trap_table(struct vcpu *v, struct trap_frame *f, bool *again)
{
    struct xen_guest *x = v->guest->xen;
    uint64_t p = f->rdi;
    if (p == 0) {
        for (unsigned i = 0; i < XEN_TRAP_VECTORS; i++)
            xen_trap_set(x, (uint8_t)i, 0);
        return 0;
    }
    for (unsigned i = 0; i < TRAP_PIECE; i++, p += sizeof(struct xen_trap_info)) {
        struct xen_trap_info t;
        if (!range_ok(p, sizeof(t)) || copy_from_guest(v->guest, &t, p, sizeof(t)) != 0)
            return xerr(XEN_EFAULT);
        if (t.address == 0)
            return 0;
        if (t.address >= HV_GUEST_LOWER_HALF_END)
            return xerr(XEN_EINVAL);
        /* A u8 vector: always in the table; the address below 2^47. */
        xen_trap_set(x, t.vector, t.address | (uint64_t)(t.flags & 7) << XEN_TRAP_FLAGS_SHIFT);
    }
    f->rdi = p;
    *again = true;
    return 0;
}

static int64_t callback_op(struct vcpu *v, struct trap_frame *f)
{
    struct xen_guest *x = v->guest->xen;
    struct xen_callback_register cb;
    if (f->rdi != XEN_CALLBACKOP_register && f->rdi != XEN_CALLBACKOP_unregister)
        return xerr(XEN_ENOSYS);
    uint64_t size = f->rdi == XEN_CALLBACKOP_register ? sizeof(cb) : 2;
    memset(&cb, 0, sizeof(cb));
    if (!range_ok(f->rsi, size) || copy_from_guest(v->guest, &cb, f->rsi, size) != 0)
        return xerr(XEN_EFAULT);
    switch (cb.type) {
    case XEN_CALLBACKTYPE_event: case XEN_CALLBACKTYPE_failsafe: case XEN_CALLBACKTYPE_syscall:
    case XEN_CALLBACKTYPE_sysenter: case XEN_CALLBACKTYPE_syscall32:
        break;
    default:
        return xerr(XEN_EINVAL); /* nmi and unknown types */
    }
    if (f->rdi == XEN_CALLBACKOP_register && cb.address >= HV_GUEST_LOWER_HALF_END)
        return xerr(XEN_EINVAL);
    unsigned t = array_index_nospec(cb.type, 8u);
    x->callback[t] = f->rdi == XEN_CALLBACKOP_register ? cb.address : 0;
    x->callback_flags[t] = cb.flags;
    return 0;
}

/* set_callbacks(event, failsafe, syscall): callback_op's register of the
 * three, no flags (0 unregisters); all checked before any is set. */
static int64_t set_callbacks(struct vcpu *v, struct trap_frame *f)
{
    struct xen_guest *x = v->guest->xen;
    if (f->rdi >= HV_GUEST_LOWER_HALF_END || f->rsi >= HV_GUEST_LOWER_HALF_END ||
        f->rdx >= HV_GUEST_LOWER_HALF_END)
        return xerr(XEN_EINVAL);
    x->callback[XEN_CALLBACKTYPE_event] = f->rdi;
    x->callback[XEN_CALLBACKTYPE_failsafe] = f->rsi;
    x->callback[XEN_CALLBACKTYPE_syscall] = f->rdx;
    x->callback_flags[XEN_CALLBACKTYPE_event] = x->callback_flags[XEN_CALLBACKTYPE_failsafe] =
        x->callback_flags[XEN_CALLBACKTYPE_syscall] = 0;
    return 0;
}

static int64_t stack_switch(struct vcpu *v, struct trap_frame *f)
{
    if (f->rsi >= HV_GUEST_LOWER_HALF_END)
        return xerr(XEN_EINVAL);
    v->arch.kernel_sp = f->rsi; /* ss: Xen ignores it for 64-bit guests */
    return 0;
}

/* grant_table_op, v1, for the guest itself: setup_table of one frame
 * (hv's, zeroed, charged to the guest, named by a special mfn the guest
 * maps with update_va_mapping) and query_size. Nothing else: with no
 * other domain there is no one to grant to (-ENOSYS, set_version too). */
#define GNTST_general_error (-1)
#define GNTST_permission_denied (-8)
struct gnttab_setup_table { uint16_t dom; uint32_t nr_frames; int16_t status; uint64_t frame_list; };
struct gnttab_query_size { uint16_t dom; uint32_t nr_frames, max_nr_frames; int16_t status; };
_Static_assert(sizeof(struct gnttab_setup_table) == 24 && sizeof(struct gnttab_query_size) == 16,
               "grant_table.h's layouts");

static int16_t grant_setup(struct vcpu *v, struct gnttab_setup_table *s)
{
    struct xen_guest *x = v->guest->xen;
    if (s->dom != XEN_DOMID_SELF)
        return GNTST_permission_denied;
    if (s->nr_frames > XEN_GRANT_FRAMES)
        return GNTST_general_error;
    uint64_t list[XEN_GRANT_FRAMES], n = s->nr_frames;
    for (unsigned i = 0; i < n; i++) {
        uint64_t *slot = xen_grant_slot(x, i);
        if (!*slot && !(*slot = guest_frame_new(&v->guest->mem)))
            return GNTST_general_error; /* its allowance is used up */
        list[i] = XEN_MFN_GRANT + i;
    }
    if (n && (!range_ok(s->frame_list, n * 8) || !xen_mem_writable(v->guest, s->frame_list, n * 8) ||
              copy_to_guest(v->guest, s->frame_list, list, n * 8) != 0))
        return GNTST_general_error;
    return 0;
}

static int64_t grant_table_op(struct vcpu *v, struct trap_frame *f)
{
    union { struct gnttab_setup_table setup; struct gnttab_query_size query; } u;
    bool setup = f->rdi == XEN_GNTTABOP_setup_table;
    if (!setup && f->rdi != XEN_GNTTABOP_query_size)
        return xerr(XEN_ENOSYS);
    if (f->rdx != 1)
        return xerr(XEN_EINVAL);
    uint64_t size = setup ? sizeof(u.setup) : sizeof(u.query);
    if (!range_ok(f->rsi, size) || copy_from_guest(v->guest, &u, f->rsi, size) != 0 ||
        !xen_mem_writable(v->guest, f->rsi, size))
        return xerr(XEN_EFAULT);
    if (setup) {
        u.setup.status = grant_setup(v, &u.setup);
    } else {
        u.query.status = u.query.dom == XEN_DOMID_SELF ? 0 : GNTST_permission_denied;
        u.query.nr_frames = 0;
        while (u.query.nr_frames < XEN_GRANT_FRAMES &&
               *xen_grant_slot(v->guest->xen, u.query.nr_frames))
            u.query.nr_frames++;
        u.query.max_nr_frames = XEN_GRANT_FRAMES;
    }
    return copy_to_guest(v->guest, f->rsi, &u, size) ? xerr(XEN_EFAULT) : 0;
}

int64_t xen_dispatch(struct vcpu *v, struct trap_frame *f, bool *again)
{
    switch (f->rax) {
    case XEN_HC_console_io:
        return console_io(v, f, again);
    case XEN_HC_sched_op:
        return sched_op(v, f);
    case XEN_HC_xen_version:
        return xen_version(v, f);
    case XEN_HC_set_trap_table:
        return set_trap_table(v, f, again);
    case XEN_HC_callback_op:
        return callback_op(v, f);
    case XEN_HC_set_callbacks:
        return set_callbacks(v, f);
    case XEN_HC_set_timer_op:
        return xen_set_timer_op(v, f->rdi);
    case XEN_HC_set_gdt:
        return xen_set_gdt(v, f->rdi, f->rsi);
    case XEN_HC_update_descriptor:
        return xen_update_descriptor(v, f->rdi, f->rsi);
    case XEN_HC_stack_switch:
        return stack_switch(v, f);
    case XEN_HC_update_va_mapping:
        return xen_update_va_mapping(v->guest, f->rdi, f->rsi);
    case XEN_HC_mmu_update:
        return xen_mmu_update(v, f, again);
    case XEN_HC_mmuext_op:
        return xen_mmuext_op(v, f, again);
    case XEN_HC_event_channel_op:
        return xen_event_channel_op(v, f, again);
    case XEN_HC_grant_table_op:
        return grant_table_op(v, f);
    case XEN_HC_multicall:
        return xen_multicall(v, f, again);
    case XEN_HC_vcpu_op:
        return xen_vcpu_op(v, f);
    case XEN_HC_set_segment_base:
        return xen_set_segment_base(v, f->rdi, f->rsi);
    case XEN_HC_set_debugreg:
        return xen_set_debugreg(v, f->rdi, f->rsi);
    case XEN_HC_get_debugreg: {
        uint64_t value;
        int64_t rc = xen_get_debugreg(v, f->rdi, &value);
        return rc ? rc : (int64_t)value;
    }
    default:
        return xerr(XEN_ENOSYS);
    }
}

void xen_hypercall(struct vcpu *v, struct trap_frame *f)
{
    uint64_t nr = f->rax;
    bool again = false;
    if (v->guest->xen->poll_deadline)
        xen_poll_end(v); /* the last hypercall was a poll, and it ended */
    if (nr == XEN_HC_iret) {
        xen_iret(v, f); /* the frame's rax, not a result */
        xen_events_deliver(v, f); /* an iret that unmasks with one pending */
        return;
    }
    int64_t rc = xen_dispatch(v, f, &again);
    if (f->vector == VEC_GUEST_BOUNCE)
        return; /* a multicall's iret changed the context: no result */
    if (again)
        continue_call(f, nr);
    else
        f->rax = (uint64_t)rc;
    /* Back on Xen's selectors by iretq: sysret would load hv's 0x23/0x1b
     * (STAR is hv's; switching it per personality would cost every
     * switch). Xen's stubs keep rcx and r11 themselves. */
    f->cs = XEN_FLAT_RING3_CS64;
    f->ss = XEN_FLAT_RING3_SS64;
    f->vector = VEC_GUEST_BOUNCE;
    /* Xen's return to a guest enters the event callback when an upcall
     * is pending and unmasked (after an unmask, a block that found one). */
    if (!again)
        xen_events_deliver(v, f);
}

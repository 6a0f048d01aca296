/* Loads selectors of hv's GDT window from ring 3, for tests/system/
 * xen_cases.py: Xen's flat selectors (hv/cpu/gdt.h) must load where Xen PV
 * guests expect them (0xe02b data into DS/ES/FS/GS; a far jump to 0xe033,
 * 64-bit code), and the 32-bit code selector 0xe023 must not: a far jump
 * to it faults, so no guest reaches compatibility mode. One line per
 * attempt:
 *
 *     xen-gdt-probe: <what>: ok
 *     xen-gdt-probe: <what>: #<GP|NP> error 0x<e>
 *
 * then `xen-gdt-probe: done`. The judge decides which outcome is right. */
#include "hvg.h"
#include "hvg_cpu.h"

HV_GUEST_NOTE("xen-gdt-probe", HVG_MIB(1), 1, HVG_KIB(64));
extern const char try_start[];
static volatile int fault_vector = -1;
static volatile uint64_t fault_error;
uint64_t probe_saved_rsp; /* where the stack was when the attempt began */
/* Far pointers (m16:32: the code is below 4 GiB) for the jumps there and
 * back. A far jump rather than lretq: QEMU's TCG (7.2) pops lretq's words
 * with supervisor accesses, which SMAP refuses on a guest's stack. */
struct __attribute__((packed)) far_ptr {
    uint32_t offset;
    uint16_t sel;
};
extern const char probe_there[], try_resume[];
struct far_ptr there, back;

static void on_fault(struct hvg_trap_frame *f)
{
    fault_vector = (int)f->vector;
    fault_error = f->error_code;
    f->rip = (uint64_t)(uintptr_t)try_resume;
}

/* kind 0: mov sel to ds/es/fs/gs and read one back;
 * kind 1: far jump to sel:probe_there (a code selector), then back to
 *         the original CS the same way. */
static __attribute__((noinline)) uint64_t attempt(int kind, uint64_t sel)
{
    there.offset = (uint32_t)(uintptr_t)probe_there;
    back.offset = (uint32_t)(uintptr_t)try_resume;
    uint64_t out = 0;
    __asm__ volatile(".globl try_start, try_resume\n"
                     "try_start:\n"
                     "    mov %%rsp, probe_saved_rsp(%%rip)\n"
                     "    test %k2, %k2\n"
                     "    jnz 1f\n"
                     "    mov %w1, %%ds\n"
                     "    mov %w1, %%es\n"
                     "    mov %w1, %%fs\n"
                     "    mov %w1, %%gs\n"
                     "    mov %%ds, %0\n"
                     "    xor %%eax, %%eax\n"
                     "    mov %%eax, %%ds\n"
                     "    mov %%eax, %%es\n"
                     "    mov %%eax, %%fs\n"
                     "    mov %%eax, %%gs\n"
                     "    jmp try_resume\n"
                     "1:  mov %%cs, %%edx\n"
                     "    mov %%dx, back+4(%%rip)\n"
                     "    mov %w1, there+4(%%rip)\n"
                     "    ljmpl *there(%%rip)\n"
                     ".globl probe_there\n"
                     "probe_there:\n"
                     "2:  mov %%cs, %0\n"
                     "    ljmpl *back(%%rip)\n"
                     "try_resume:\n"
                     "    mov probe_saved_rsp(%%rip), %%rsp\n"
                     : "+r"(out)
                     : "r"(sel), "r"(kind)
                     : "rax", "rdx", "memory");
    return out;
}

/* docs/abi.md: hv gives 0xe033 no meaning for its own guests, so a switch
 * away between the far jump and `mov %cs` resumes the vCPU on its mode's
 * selector (HV_KERNEL_CS, 0x23), which the read then sees (once under load
 * in session 12). Such an attempt is made again; a loaded selector that
 * never reads back stays a failure. */
static void report(const char *what, int kind, uint64_t sel)
{
    uint64_t seen;
    int tries = 0;
    do {
        fault_vector = -1;
        seen = attempt(kind, sel);
    } while (kind == 1 && fault_vector < 0 && (seen & 0xffff) == HV_KERNEL_CS && sel != HV_KERNEL_CS &&
             ++tries < 8);
    if (fault_vector < 0)
        hvg_printf("xen-gdt-probe: %s: ok (read back 0x%lx)\n", what, (unsigned long)(seen & 0xffff));
    else
        hvg_printf("xen-gdt-probe: %s: #%s error 0x%lx\n", what,
                   fault_vector == HVG_GP ? "GP" : fault_vector == HVG_NP ? "NP" : "other",
                   (unsigned long)fault_error);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    const struct hvg_trap_spec spec[] = {{HVG_GP, 0, on_fault}, {HVG_NP, 0, on_fault}};
    if (hvg_traps_install(spec, 2) != 0) {
        hvg_printf("xen-gdt-probe: cannot install the handlers\n");
        return 1;
    }
    report("data 0xe02b", 0, 0xe02b);
    report("code64 0xe033", 1, 0xe033);
    report("code32 0xe023", 1, 0xe023);
    report("beyond 0xe03b", 0, 0xe03b);
    report("hv data 0x1b", 0, 0x1b);
    hvg_printf("xen-gdt-probe: done\n");
    return 0;
}

/* Xen-ABI test guest: what Xen emulates for a PV kernel at ring 3, written
 * from Xen's public interface: the debug registers by `mov` and by the
 * set_debugreg/get_debugreg hypercalls (start values, Xen's reserved bits,
 * refusals: a breakpoint on hv's half, GD, upper bits, I/O breakpoints
 * without CR4.DE, DR4/5 with CR4.DE #UD, REX.R #UD), `mov` to CR4 (DE and
 * FSGSBASE kept, Xen's other bits discarded, never a #GP) and to CR0 (only
 * what it reads; TS or any other change #GP), `rdmsr`/`wrmsr` of the FS/GS
 * bases, EFER and DEBUGCTL (other MSRs and other values #GP), the FS base
 * and the kernel's and user's GS bases (wrmsr, set_segment_base, and with
 * CR4.FSGSBASE the rd/wr{fs,gs}base instructions, #UD without it; kept
 * across switches), and a ring-3 `iretq` on Xen's selectors (the SMAP
 * quirk under QEMU), and single steps (TF) over the CPU's own instructions
 * and emulated ones alike. Prints "xen-emul: all N checks, M failed". */
#include "tests/guests/xen/xen_guest.h"

#define HV_ADDR 0xffff800000000000ULL
#define DR7_DEFAULT 0x400ULL



static long write_dr(int n, uint64_t v)
{
    switch (n) {
    case 0: return TRY("mov %%rax, %%dr0", : : "a"(v) : "r8", "memory");
    case 4: return TRY("mov %%rax, %%dr4", : : "a"(v) : "r8", "memory");
    case 6: return TRY("mov %%rax, %%dr6", : : "a"(v) : "r8", "memory");
    default: return TRY("mov %%rax, %%dr7", : : "a"(v) : "r8", "memory");
    }
}

static uint64_t read_dr(int n, long *vec)
{
    uint64_t v = 0xbad;
    switch (n) {
    case 0: *vec = TRY("mov %%dr0, %%rax", : "+a"(v) : : "r8", "memory"); break;
    case 3: *vec = TRY("mov %%dr3, %%rax", : "+a"(v) : : "r8", "memory"); break;
    case 5: *vec = TRY("mov %%dr5, %%rax", : "+a"(v) : : "r8", "memory"); break;
    case 6: *vec = TRY("mov %%dr6, %%rax", : "+a"(v) : : "r8", "memory"); break;
    default: *vec = TRY("mov %%dr7, %%rax", : "+a"(v) : : "r8", "memory"); break;
    }
    return v;
}

static uint64_t cr4(void)
{
    uint64_t v = 0;
    TRY("mov %%cr4, %%rax", : "+a"(v) : : "r8", "memory");
    return v;
}

static long write_cr4(uint64_t v)
{
    return TRY("mov %%rax, %%cr4", : : "a"(v) : "r8", "memory");
}

static volatile uint64_t target;

static void debug_registers(void)
{
    long vec;
    uint64_t v = read_dr(0, &vec);
    check(vec == -1 && v == 0, "dr0 starts 0", "vec %ld 0x%lx", vec, (unsigned long)v);
    v = read_dr(6, &vec);
    check(vec == -1 && v == 0xffff0ff0, "dr6 starts 0xffff0ff0", "vec %ld 0x%lx", vec,
          (unsigned long)v);
    v = read_dr(7, &vec);
    check(vec == -1 && v == DR7_DEFAULT, "dr7 starts 0x400", "vec %ld 0x%lx", vec, (unsigned long)v);
    check(write_dr(0, (uint64_t)&target) == -1 && read_dr(0, &vec) == (uint64_t)&target,
          "mov to dr0 and back", "other");
    check(write_dr(0, HV_ADDR) == 13 && read_dr(0, &vec) == (uint64_t)&target,
          "dr0 on hv's half: #GP, unchanged", "other");
    uint64_t dr7 = DR7_DEFAULT | 0x3 | (0x3ULL << 16) | (0x3ULL << 18); /* L0 G0, RW, 4 bytes */
    check(write_dr(7, dr7) == -1 && read_dr(7, &vec) == dr7, "dr7 with dr0 enabled",
          "0x%lx", (unsigned long)read_dr(7, &vec));
    check(write_dr(7, 0) == -1 && read_dr(7, &vec) == DR7_DEFAULT, "dr7 0 reads 0x400", "other");
    check(write_dr(7, 1ULL << 13) == 13, "dr7 GD: #GP", "other");
    check(write_dr(7, 1ULL << 32) == 13, "dr7 upper bits: #GP", "other");
    check(write_dr(6, 1ULL << 40) == 13, "dr6 upper bits: #GP", "other");
    check(write_dr(6, 0) == -1 && read_dr(6, &vec) == 0xffff0ff0, "dr6 keeps its reserved bits",
          "0x%lx", (unsigned long)read_dr(6, &vec));
    uint64_t io0 = DR7_DEFAULT | 0x2 | (0x2ULL << 16) | (0x3ULL << 18); /* G0, I/O */
    check(write_dr(7, io0) == 13, "I/O breakpoint without CR4.DE: #GP", "other");
    check(write_dr(4, 0) == -1 && read_dr(5, &vec) == DR7_DEFAULT && vec == -1,
          "dr4/dr5 alias dr6/dr7 without CR4.DE", "vec %ld", vec);

    uint64_t c4 = cr4();
    check(c4 == 0x6a0, "CR4 as Xen shows it", "0x%lx", (unsigned long)c4);
    check(write_cr4((c4 & ~0x80ULL) | 0x4 | 0x40000) == -1 && cr4() == c4,
          "mov to CR4 clearing PGE, setting TSD and OSXSAVE: discarded (Xen's rule)", "0x%lx",
          (unsigned long)cr4());
    check(write_cr4(c4 | 8) == -1 && cr4() == (c4 | 8), "mov to CR4: DE set", "0x%lx",
          (unsigned long)cr4());
    check(write_dr(7, io0) == -1 && read_dr(7, &vec) == io0, "I/O breakpoint with CR4.DE",
          "0x%lx", (unsigned long)read_dr(7, &vec));
    read_dr(5, &vec);
    check(vec == 6, "dr5 with CR4.DE: #UD", "vec %ld", vec);
    check(write_dr(4, 0) == 6, "dr4 with CR4.DE: #UD", "other");
    check(write_cr4(c4) == -1 && write_dr(7, io0) == 13 && read_dr(7, &vec) == io0,
          "CR4.DE cleared: the I/O breakpoint refused, the old one kept", "0x%lx",
          (unsigned long)read_dr(7, &vec));
    long rex_r = TRY(".byte 0x44, 0x0f, 0x21, 0xc0", : : : "rax", "r8", "memory"); /* dr8 */
    check(rex_r == 6, "mov from dr8 (REX.R): #UD", "vec %ld", rex_r);
    write_dr(7, 0);

    /* The hypercalls see the same registers. */
    check(hcall(XEN_HC_set_debugreg, 3, (uint64_t)&target, 0) == 0 &&
              read_dr(3, &vec) == (uint64_t)&target,
          "set_debugreg(3), read by mov", "other");
    check(hcall(XEN_HC_get_debugreg, 3, 0, 0) == (long)(uint64_t)&target, "get_debugreg(3)",
          "other");
    check(hcall(XEN_HC_set_debugreg, 0, HV_ADDR, 0) == -XEN_EPERM,
          "set_debugreg: hv's half -EPERM", "other");
    check(hcall(XEN_HC_set_debugreg, 8, 0, 0) == -XEN_ENODEV, "set_debugreg(8) -ENODEV", "other");
    check(hcall(XEN_HC_get_debugreg, ~0ULL, 0, 0) == -XEN_ENODEV, "get_debugreg(2^64-1) -ENODEV",
          "other");
    check(hcall(XEN_HC_set_debugreg, 7, 1ULL << 13, 0) == -XEN_EPERM,
          "set_debugreg: dr7 GD -EPERM", "other");
}

static const uint64_t pda_a = 0x1111111111111111ULL, pda_b = 0x2222222222222222ULL;

/* The kernel's GS base by wrmsr and set_segment_base (Mini-OS keeps its
 * per-CPU data there), kept across switches to the companion; user mode's
 * by SHADOW_GS_BASE; hostile bases refused. */
static void gs_bases(void)
{
    uint64_t v = 0;
    check(try_wrmsr(MSR_GS_BASE, (uint64_t)&pda_a) == -1 && try_rdmsr(MSR_GS_BASE, &v) == -1 &&
              v == (uint64_t)&pda_a && gs_word() == pda_a,
          "wrmsr GS_BASE: %gs:0 reads there", "0x%lx", (unsigned long)v);
    check(try_wrmsr(MSR_SHADOW_GS_BASE, (uint64_t)&pda_b) == -1 &&
              try_rdmsr(MSR_SHADOW_GS_BASE, &v) == -1 && v == (uint64_t)&pda_b &&
              gs_word() == pda_a,
          "wrmsr SHADOW_GS_BASE: user mode's, kernel's unchanged", "0x%lx", (unsigned long)v);
    for (int i = 0; i < 30; i++)
        hcall(XEN_HC_sched_op, XEN_SCHEDOP_yield, 0, 0); /* the companion runs between */
    check(gs_word() == pda_a, "the GS base kept across 30 switches", "0x%lx",
          (unsigned long)gs_word());
    check(hcall(XEN_HC_set_segment_base, 2, (uint64_t)&pda_b, 0) == 0 && gs_word() == pda_b,
          "set_segment_base(GS_KERNEL)", "0x%lx", (unsigned long)gs_word());
    check(hcall(XEN_HC_set_segment_base, 1, (uint64_t)&pda_a, 0) == 0 &&
              try_rdmsr(MSR_SHADOW_GS_BASE, &v) == -1 && v == (uint64_t)&pda_a,
          "set_segment_base(GS_USER)", "0x%lx", (unsigned long)v);
    check(hcall(XEN_HC_set_segment_base, 2, HV_ADDR, 0) == -XEN_EINVAL && gs_word() == pda_b,
          "set_segment_base: a GS base on hv's half -EINVAL", "other");
    check(hcall(XEN_HC_set_segment_base, 2, 0x8000000000000000ULL, 0) == -XEN_EINVAL,
          "set_segment_base: non-canonical -EINVAL", "other");
    check(hcall(XEN_HC_set_segment_base, 3, 0, 0) == -XEN_ENOSYS,
          "set_segment_base(GS_USER_SEL) -ENOSYS", "other");
    check(hcall(XEN_HC_set_segment_base, 7, 0, 0) == -XEN_EINVAL, "set_segment_base(7) -EINVAL",
          "other");
    check(try_wrmsr(MSR_SHADOW_GS_BASE, HV_ADDR) == 13, "wrmsr SHADOW_GS_BASE on hv's half: #GP",
          "other");
    check(try_wrmsr(MSR_GS_BASE, 0) == -1 && try_wrmsr(MSR_SHADOW_GS_BASE, 0) == -1 &&
              try_rdmsr(MSR_GS_BASE, &v) == -1 && v == 0,
          "both GS bases back to 0", "0x%lx", (unsigned long)v);
}

static void msrs(void)
{
    uint64_t v = 0;
    check(try_rdmsr(MSR_FS_BASE, &v) == -1 && v == 0, "rdmsr FS_BASE 0", "0x%lx", (unsigned long)v);
    check(try_rdmsr(MSR_GS_BASE, &v) == -1 && v == 0, "rdmsr GS_BASE 0", "0x%lx", (unsigned long)v);
    check(try_rdmsr(MSR_SHADOW_GS_BASE, &v) == -1 && v == 0, "rdmsr SHADOW_GS_BASE 0", "0x%lx",
          (unsigned long)v);
    check(try_rdmsr(0xc0000080, &v) == -1 && v == 0xd01, "rdmsr EFER: SCE LME LMA NXE", "0x%lx",
          (unsigned long)v);
    check(try_rdmsr(0x1d9, &v) == -1 && v == 0, "rdmsr DEBUGCTL 0", "0x%lx", (unsigned long)v);
    check(try_wrmsr(0x1d9, 0) == -1, "wrmsr DEBUGCTL 0", "refused");
    check(try_wrmsr(MSR_FS_BASE, 0) == -1, "wrmsr FS_BASE 0 (what it holds)", "refused");
    check(try_wrmsr(MSR_GS_BASE, 0x8000000000000000ULL) == 13, "wrmsr GS_BASE non-canonical: #GP",
          "other");
    check(try_wrmsr(MSR_GS_BASE, HV_ADDR) == 13, "wrmsr GS_BASE on hv's half: #GP", "other");
    check(try_wrmsr(0xc0000080, 0) == 13, "wrmsr EFER (a change): #GP", "other");
    check(try_rdmsr(0x10, &v) == 13, "rdmsr TSC: #GP", "other");
    check(try_rdmsr(0x1a0, &v) == 13, "rdmsr MISC_ENABLE: #GP", "other");
    check(try_rdmsr(0xffffffff, &v) == 13, "rdmsr 0xffffffff: #GP", "other");
}

/* CR0 as Xen's write_cr takes it (Unikraft's start writes it): only TS
 * may change, and hv offers no lazy TS, so only what it reads. */
static void cr0(void)
{
    uint64_t v = 0;
    TRY("mov %%cr0, %%rax", : "+a"(v) : : "r8", "memory");
    check(v == 0x80050033, "CR0 as Xen shows it", "0x%lx", (unsigned long)v);
    check(TRY("mov %%rax, %%cr0", : : "a"((v & ~0xcULL) | 0x22) : "r8", "memory") == -1,
          "mov to CR0 of what it reads (EM, TS clear; MP, NE set)", "other");
    check(TRY("mov %%rax, %%cr0", : : "a"(v | 8) : "r8", "memory") == 13,
          "mov to CR0 setting TS: #GP (no lazy FPU switch)", "other");
    check(TRY("mov %%rax, %%cr0", : : "a"(v & ~0x10000ULL) : "r8", "memory") == 13,
          "mov to CR0 clearing WP: #GP", "other");
    check(TRY("mov %%rax, %%cr0", : : "a"(v | 4) : "r8", "memory") == 13,
          "mov to CR0 setting EM: #GP", "other");
}

static long wrfsbase(uint64_t v) { return TRY("wrfsbase %%rax", : : "a"(v) : "r8", "memory"); }

/* Its FS base (Unikraft's TLS): wrmsr, set_segment_base, and with
 * CR4.FSGSBASE the instructions (#UD without it), kept across switches
 * to the companion (which checks it never sees this base). */
static void fs_bases(void)
{
    uint64_t v = 0, c4 = cr4();
    check(try_wrmsr(MSR_FS_BASE, (uint64_t)&pda_a) == -1 && try_rdmsr(MSR_FS_BASE, &v) == -1 &&
              v == (uint64_t)&pda_a && fs_word() == pda_a,
          "wrmsr FS_BASE: %fs:0 reads there", "0x%lx", (unsigned long)v);
    for (int i = 0; i < 30; i++)
        hcall(XEN_HC_sched_op, XEN_SCHEDOP_yield, 0, 0); /* the companion runs between */
    check(fs_word() == pda_a, "the FS base kept across 30 switches", "0x%lx",
          (unsigned long)fs_word());
    check(hcall(XEN_HC_set_segment_base, 0, (uint64_t)&pda_b, 0) == 0 && fs_word() == pda_b,
          "set_segment_base(FS)", "0x%lx", (unsigned long)fs_word());
    check(hcall(XEN_HC_set_segment_base, 0, 0x8000000000000000ULL, 0) == -XEN_EINVAL &&
              fs_word() == pda_b,
          "set_segment_base: a non-canonical FS base -EINVAL", "other");
    check(try_wrmsr(MSR_FS_BASE, 0x8000000000000000ULL) == 13 && fs_word() == pda_b,
          "wrmsr FS_BASE non-canonical: #GP", "other");
    /* hv never uses FS: an FS base in hv's half only aims the guest's own
     * ring-3 accesses (Xen takes any canonical base). */
    const uint64_t direct_map = 0xffff888000000000ULL; /* hv's own pages (the M2P is at HV_ADDR) */
    long rc = hcall(XEN_HC_set_segment_base, 0, direct_map, 0), rd = try_rdmsr(MSR_FS_BASE, &v);
    long pf = TRY("mov %%fs:0, %%rax", : : : "rax", "r8", "memory");
    check(rc == 0 && rd == -1 && v == direct_map && pf == 14,
          "an FS base on hv's direct map: taken, %fs:0 a #PF", "%ld %ld 0x%lx %ld", rc, rd,
          (unsigned long)v, pf);
    check(hcall(XEN_HC_set_segment_base, 0, (uint64_t)&pda_b, 0) == 0 && fs_word() == pda_b,
          "set_segment_base(FS) back", "other");
    check(wrfsbase((uint64_t)&pda_a) == 6 && fs_word() == pda_b,
          "wrfsbase without CR4.FSGSBASE: #UD", "other");
    check(write_cr4(c4 | 0x10000) == -1 && cr4() == (c4 | 0x10000), "mov to CR4: FSGSBASE set",
          "0x%lx", (unsigned long)cr4());
    check(wrfsbase((uint64_t)&pda_a) == -1 && fs_word() == pda_a, "wrfsbase", "0x%lx",
          (unsigned long)fs_word());
    v = 0;
    check(TRY("rdfsbase %%rax", : "+a"(v) : : "r8", "memory") == -1 && v == (uint64_t)&pda_a,
          "rdfsbase", "0x%lx", (unsigned long)v);
    v = 0xffffffff00000000ULL | (uint32_t)(uint64_t)&pda_b; /* 32 bits: the upper half ignored */
    check(TRY("wrfsbase %%eax", : : "a"(v) : "r8", "memory") == -1 && fs_word() == pda_b,
          "wrfsbase of 32 bits", "0x%lx", (unsigned long)fs_word());
    v = ~0ULL;
    check(TRY("rdfsbase %%eax", : "+a"(v) : : "r8", "memory") == -1 &&
              v == (uint32_t)(uint64_t)&pda_b,
          "rdfsbase of 32 bits zero-extends", "0x%lx", (unsigned long)v);
    check(TRY("wrgsbase %%rax", : : "a"((uint64_t)&pda_a) : "r8", "memory") == -1 &&
              gs_word() == pda_a && try_rdmsr(MSR_GS_BASE, &v) == -1 && v == (uint64_t)&pda_a,
          "wrgsbase: the kernel's GS base", "0x%lx", (unsigned long)v);
    v = 0;
    check(TRY("rdgsbase %%rax", : "+a"(v) : : "r8", "memory") == -1 && v == (uint64_t)&pda_a,
          "rdgsbase", "0x%lx", (unsigned long)v);
    check(wrfsbase(0x8000000000000000ULL) == 13 && fs_word() == pda_b,
          "wrfsbase non-canonical: #GP", "other");
    check(TRY("wrgsbase %%rax", : : "a"(HV_ADDR) : "r8", "memory") == 13 && gs_word() == pda_a,
          "wrgsbase on hv's half: #GP (the GS-base invariant)", "other");
    check(write_cr4(c4) == -1 && wrfsbase(0) == 6, "CR4.FSGSBASE cleared: wrfsbase #UD again",
          "other");
    check(try_wrmsr(MSR_FS_BASE, 0) == -1 && try_wrmsr(MSR_GS_BASE, 0) == -1 && try_rdmsr(MSR_FS_BASE, &v) == -1 &&
              v == 0,
          "FS and GS bases back to 0", "0x%lx", (unsigned long)v);
}

/* Mini-OS's return from its upcalls: a real `iretq` at ring 3 to Xen's
 * flat selectors (0xe033, 0xe02b). QEMU's TCG pops the frame as
 * supervisor accesses, which SMAP refuses; hv completes the iretq (its
 * SMAP quirk) for Xen's selectors as for its own. */
static void ring3_iretq(void)
{
    uint64_t landed = 0, cs = 0, ss = 0, rsp_before, rsp_after;
    __asm__ volatile("mov %%rsp, %%rax\n\t"
                     "mov %%rax, %[before]\n\t"
                     "pushq $0xe02b\n\t"
                     "pushq %%rax\n\t"
                     "pushfq\n\t"
                     "pushq $0xe033\n\t"
                     "lea 1f(%%rip), %%rcx\n\t"
                     "pushq %%rcx\n\t"
                     "iretq\n"
                     "1:\tmov $1, %[landed]\n\t"
                     "mov %%cs, %[cs]\n\t"
                     "mov %%ss, %[ss]\n\t"
                     "mov %%rsp, %[after]"
                     : [landed] "=r"(landed), [cs] "=r"(cs), [ss] "=r"(ss),
                       [before] "=m"(rsp_before), [after] "=m"(rsp_after)
                     :
                     : "rax", "rcx", "memory");
    check(landed == 1 && (cs & 0xffff) == 0xe033 && (ss & 0xffff) == 0xe02b &&
              rsp_after == rsp_before,
          "a ring-3 iretq on Xen's selectors (Mini-OS's return)", "cs 0x%lx ss 0x%lx",
          (unsigned long)cs, (unsigned long)ss);
}

/* Single steps: TF set by popfq; the #DB comes right after the next
 * instruction (rip at label 2), BS set in DR6 as get_debugreg(6) reads it.
 * `nop` is the CPU's own step; `rdmsr` (EFER) and `mov %cr0` reach hv as
 * a #GP and are emulated: their step must look the same, with their
 * result (a step reported after the following nop is one too late). */
#define STEP(insn) "lea 2f(%%rip), %%rbx\n\tpushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t" \
                   insn "\n2:\tnop\n\tnop"
static void single_step_one(const char *what, long vec, uint64_t at, int result_ok)
{
    uint64_t dr6 = (uint64_t)hcall(XEN_HC_get_debugreg, 6, 0, 0);
    check(vec == 1 && trap_seen[2] == at && (dr6 & 0x4000) && result_ok, what,
          "vec %ld rip 0x%lx (label 0x%lx) dr6 0x%lx result %d", vec, (unsigned long)trap_seen[2],
          (unsigned long)at, (unsigned long)dr6, result_ok);
    hcall(XEN_HC_set_debugreg, 6, 0, 0);
}

static void single_step(void)
{
    uint64_t at = 0, lo = 0, hi = 0, c0 = 0;
    long vec = TRY(STEP("nop"), : "=&b"(at) : : "r8", "memory", "cc");
    single_step_one("single step of a nop: #DB after it, DR6.BS", vec, at, 1);
    vec = TRY(STEP("rdmsr"), : "=&b"(at), "+a"(lo), "+d"(hi) : "c"(0xc0000080) : "r8", "memory", "cc");
    single_step_one("single step of an emulated rdmsr: #DB right after it, DR6.BS", vec, at,
                    lo == 0xd01 && hi == 0);
    vec = TRY(STEP("mov %%cr0, %%rax"), : "=&b"(at), "+a"(c0) : : "r8", "memory", "cc");
    single_step_one("single step of an emulated mov from CR0: #DB right after it, DR6.BS", vec,
                    at, c0 == 0x80050033ul);
    check(hcall(XEN_HC_get_debugreg, 6, 0, 0) == 0xffff0ff0, "dr6 cleared after the steps",
          "other");
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    (void)si;
    static struct xen_trap_info table[] = {TRAP_ENTRY(1, 0, trap_db), TRAP_ENTRY(6, 0, trap_ud),
                                           TRAP_ENTRY(13, 0, trap_gp), TRAP_ENTRY(14, 0, trap_pf),
                                           TRAP_END};
    check(hcall(XEN_HC_set_trap_table, (uint64_t)table, 0, 0) == 0, "set_trap_table", "refused");
    debug_registers();
    msrs();
    gs_bases();
    cr0();
    fs_bases();
    ring3_iretq();
    single_step();
    xprint("xen-emul: all %u checks, %u failed\n", checks_run, checks_failed);
    shutdown(XEN_SHUTDOWN_poweroff);
}

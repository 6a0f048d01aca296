/* One guest per way of faulting at ring 3. guest/guest.mk builds image
 * fault-<kind> for each kind below from this file, with -DFAULT=<kind>
 * spelt with '_' for '-' (fault-pf-read: -DFAULT=pf_read). The guest says
 * what it is about to do and which exception hv must see, then does it. hv
 * must end the guest there; if the instruction returns, the guest prints
 * "FAULT-TEST FAILED: survived" and exits 1.
 *
 *   kind                 does                                    expect
 *   ud                   ud2                                     #UD
 *   gp                   cli                                     #GP
 *   sti                  sti                                     #GP
 *   hlt                  hlt                                     #GP
 *   io                   outb to port 0x80                       #GP
 *   io-in                inb from port 0x80                      #GP
 *   msr                  rdmsr (IA32_APIC_BASE)                  #GP
 *   msr-write            wrmsr (IA32_LSTAR <- 0)                 #GP
 *   cr                   mov %cr3, %rax                          #GP
 *   cr-write             mov %rax, %cr0                          #GP
 *   dr-write             mov %rax, %dr7                          #GP
 *   lgdt                 lgdt                                    #GP
 *   lidt                 lidt                                    #GP
 *   sgdt                 sgdt: #GP only when hv enables UMIP     #GP (UMIP)
 *   invlpg               invlpg                                  #GP
 *   wbinvd               wbinvd                                  #GP
 *   swapgs               swapgs                                  #GP
 *   sysret               sysretq                                 #GP
 *   rdpmc                rdpmc (CR4.PCE clear)                   #GP
 *   int80                int $0x80 (gate not open to ring 3)     #GP
 *   int-nmi              int $2 (NMI vector from software)       #GP
 *   int1                 int1 / icebp (0xf1)                     #DB
 *   bp                   int3                                    #BP
 *   de                   divide by zero                          #DE
 *   de-overflow          INT64_MIN / -1                          #DE
 *   pf-null              read from address 0                     #PF
 *   pf-read              read from 0x1000 (never mapped)         #PF
 *   pf-write-text        write into its own text                 #PF
 *   pf-write-rodata      write into its own rodata               #PF
 *   pf-write-start-info  write into the start info               #PF
 *   pf-exec-data         call into a data page (NX)              #PF
 *   pf-exec-stack        call into its stack (NX)                #PF
 *   pf-exec-heap         call into the heap (NX)                 #PF
 *   hv-memory            read 0xffffffff80000000 (hv's core)     #PF
 *   hv-direct-map        read 0xffff888000000000                 #PF
 *   hv-jump              jump to 0xffffffff80000000              #PF
 *   noncanonical         read 0x0000800000000000                 #GP
 *   xm                   SSE divide by zero, unmasked in MXCSR   #XM
 *   popf-iopl            popf with IOPL 3 (ignored), then outb   #GP
 *   sysenter             sysenter (IA32_SYSENTER_CS = 0)         #GP (Intel) or #UD (AMD)
 *   mf                   x87 1/0 unmasked, then fwait (CR0.NE)   #MF
 */
#include "hvg.h"

#ifndef FAULT
#error "build with -DFAULT=<kind>: see the table above"
#endif

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)

/* Only the selected one is called; the others must still compile. */
#define FAULT_KIND static __attribute__((unused, noinline)) void

/* The image name: fault-<kind> with '-' where the kind has '_'. */
static char image_name[48];

static void set_image_name(void)
{
    const char *kind = STRINGIFY(FAULT);
    size_t n = 0;

    for (const char *p = "fault-"; *p != '\0'; p++)
        image_name[n++] = *p;
    for (; *kind != '\0' && n + 1 < sizeof(image_name); kind++)
        image_name[n++] = *kind == '_' ? '-' : *kind;
    image_name[n] = '\0';
}

static void announce(const char *what, const char *expect)
{
    hvg_printf("%s: %s, expect %s\n", image_name, what, expect);
}

/* The empty asm hides the value from the optimiser, which would otherwise
 * see e.g. a null dereference and plant its own ud2 instead. */
static uint64_t opaque(uint64_t value)
{
    __asm__ volatile("" : "+r"(value));
    return value;
}

static uint64_t read_at(uint64_t address)
{
    return *(volatile uint64_t *)(uintptr_t)opaque(address);
}

/* A single `ret`: calling it returns at once unless the page is NX. */
static uint8_t data_ret[16] = { 0xc3 };

FAULT_KIND fault_ud(void) { announce("executing ud2", "#UD"); __asm__ volatile("ud2"); }
FAULT_KIND fault_gp(void) { announce("executing cli", "#GP"); __asm__ volatile("cli"); }
FAULT_KIND fault_sti(void) { announce("executing sti", "#GP"); __asm__ volatile("sti"); }
FAULT_KIND fault_hlt(void) { announce("executing hlt", "#GP"); __asm__ volatile("hlt"); }

FAULT_KIND fault_io(void)
{
    announce("writing port 0x80 with outb", "#GP");
    __asm__ volatile("outb %%al, $0x80" : : "a"(0));
}

FAULT_KIND fault_io_in(void)
{
    uint8_t v;
    announce("reading port 0x80 with inb", "#GP");
    __asm__ volatile("inb $0x80, %%al" : "=a"(v));
    (void)v;
}

FAULT_KIND fault_msr(void)
{
    uint32_t lo, hi;
    announce("reading MSR 0x1b (APIC base) with rdmsr", "#GP");
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1b));
    (void)lo;
    (void)hi;
}

FAULT_KIND fault_msr_write(void)
{
    announce("writing MSR 0xc0000082 (LSTAR) with wrmsr", "#GP");
    __asm__ volatile("wrmsr" : : "a"(0), "d"(0), "c"(0xc0000082u));
}

FAULT_KIND fault_cr(void)
{
    uint64_t v;
    announce("reading cr3", "#GP");
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    (void)v;
}

FAULT_KIND fault_cr_write(void)
{
    announce("writing cr0", "#GP");
    __asm__ volatile("mov %0, %%cr0" : : "r"((uint64_t)0x80000011));
}

FAULT_KIND fault_dr_write(void)
{
    announce("writing dr7", "#GP");
    __asm__ volatile("mov %0, %%dr7" : : "r"((uint64_t)0x400));
}

/* 10-byte pseudo-descriptor: limit, then base. */
static struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
} table_pointer;

FAULT_KIND fault_lgdt(void)
{
    announce("loading the GDT with lgdt", "#GP");
    __asm__ volatile("lgdt %0" : : "m"(table_pointer));
}

FAULT_KIND fault_lidt(void)
{
    announce("loading the IDT with lidt", "#GP");
    __asm__ volatile("lidt %0" : : "m"(table_pointer));
}

FAULT_KIND fault_sgdt(void)
{
    announce("storing the GDT register with sgdt", "#GP when hv enables UMIP");
    __asm__ volatile("sgdt %0" : "=m"(table_pointer));
    hvg_printf("%s: sgdt allowed: GDT at %#llx (no UMIP)\n", image_name,
               (unsigned long long)table_pointer.base);
}

FAULT_KIND fault_invlpg(void)
{
    announce("executing invlpg", "#GP");
    __asm__ volatile("invlpg (%0)" : : "r"(data_ret) : "memory");
}

FAULT_KIND fault_wbinvd(void) { announce("executing wbinvd", "#GP"); __asm__ volatile("wbinvd"); }
FAULT_KIND fault_swapgs(void) { announce("executing swapgs", "#GP"); __asm__ volatile("swapgs"); }

FAULT_KIND fault_sysret(void)
{
    announce("executing sysretq", "#GP");
    /* Were it to work, it would "return" to the next instruction. */
    __asm__ volatile("lea 1f(%%rip), %%rcx\n\tpushfq\n\tpopq %%r11\n\tsysretq\n1:"
                     : : : "rcx", "r11", "memory");
}

FAULT_KIND fault_rdpmc(void)
{
    uint32_t lo, hi;
    announce("reading performance counter 0 with rdpmc", "#GP");
    __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)lo;
    (void)hi;
}

FAULT_KIND fault_int80(void) { announce("executing int $0x80", "#GP"); __asm__ volatile("int $0x80"); }
FAULT_KIND fault_int_nmi(void) { announce("executing int $2", "#GP"); __asm__ volatile("int $2"); }
FAULT_KIND fault_int1(void) { announce("executing int1 (icebp)", "#DB"); __asm__ volatile(".byte 0xf1"); }
FAULT_KIND fault_bp(void) { announce("executing int3", "#BP"); __asm__ volatile("int3"); }

FAULT_KIND fault_de(void)
{
    volatile uint64_t divisor = 0;
    announce("dividing by zero", "#DE");
    uint64_t q = 1000 / divisor;
    hvg_printf("%s: quotient %llu\n", image_name, (unsigned long long)q);
}

FAULT_KIND fault_de_overflow(void)
{
    volatile int64_t dividend = INT64_MIN, divisor = -1;
    int64_t q;
    announce("dividing INT64_MIN by -1 with idiv", "#DE");
    /* In C this is undefined; in asm it is a well-defined #DE. */
    __asm__ volatile("cqo\n\tidivq %2" : "=a"(q) : "a"(dividend), "r"(divisor) : "rdx");
    hvg_printf("%s: quotient %lld\n", image_name, (long long)q);
}

FAULT_KIND fault_pf_null(void) { announce("reading address 0", "#PF"); read_at(0); }
FAULT_KIND fault_pf_read(void) { announce("reading address 0x1000", "#PF"); read_at(0x1000); }

FAULT_KIND fault_pf_write_text(void)
{
    announce("writing into its own text", "#PF");
    *(volatile uint8_t *)(uintptr_t)&main = 0xc3;
}

static const uint32_t constant_word = 0x12345678;

FAULT_KIND fault_pf_write_rodata(void)
{
    announce("writing into its own rodata", "#PF");
    *(volatile uint32_t *)(uintptr_t)&constant_word = 0;
}

FAULT_KIND fault_pf_write_start_info(void)
{
    announce("writing into the start info", "#PF");
    *(volatile uint64_t *)(uintptr_t)&hvg_start_info()->magic = 0;
}

static void call_code_at(void *p)
{
    void (*fn)(void) = (void (*)(void))(uintptr_t)opaque((uint64_t)(uintptr_t)p);
    fn();
}

FAULT_KIND fault_pf_exec_data(void)
{
    announce("calling a ret in its data (NX)", "#PF");
    call_code_at(data_ret);
}

FAULT_KIND fault_pf_exec_stack(void)
{
    volatile uint8_t code[16] = { 0xc3 };
    announce("calling a ret on its stack (NX)", "#PF");
    call_code_at((void *)(uintptr_t)code);
}

FAULT_KIND fault_pf_exec_heap(void)
{
    const struct hv_start_info *si = hvg_start_info();
    if (si->heap_bytes == 0) {
        hvg_printf("%s: no heap to try: FAULT-TEST FAILED\n", image_name);
        hvg_exit(2);
    }
    uint8_t *code = (uint8_t *)(uintptr_t)si->heap_start;
    code[0] = 0xc3;
    announce("calling a ret in the heap (NX)", "#PF");
    call_code_at(code);
}

FAULT_KIND fault_hv_memory(void) { announce("reading 0xffffffff80000000", "#PF"); read_at(0xffffffff80000000ull); }
FAULT_KIND fault_hv_direct_map(void) { announce("reading 0xffff888000000000", "#PF"); read_at(0xffff888000000000ull); }

FAULT_KIND fault_hv_jump(void)
{
    announce("jumping to 0xffffffff80000000", "#PF");
    call_code_at((void *)(uintptr_t)0xffffffff80000000ull);
}

FAULT_KIND fault_noncanonical(void) { announce("reading 0x0000800000000000", "#GP"); read_at(0x0000800000000000ull); }

FAULT_KIND fault_xm(void)
{
    /* Default MXCSR 0x1f80 with the divide-by-zero mask (bit 9) cleared. */
    uint32_t mxcsr = 0x1f80 & ~(1u << 9);
    float x = 1.0f, zero = 0.0f;
    announce("SSE 1/0 with the divide-by-zero exception unmasked", "#XM");
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    __asm__ volatile("divss %1, %0" : "+x"(x) : "x"(zero));
    hvg_printf("%s: 1/0 went through (%d)\n", image_name, (int)(x > 0));
}

FAULT_KIND fault_popf_iopl(void)
{
    uint64_t flags;
    announce("setting IOPL 3 with popf (ignored at ring 3), then outb", "#GP");
    __asm__ volatile("pushfq\n\torq $0x3000, (%%rsp)\n\tpopfq\n\tpushfq\n\tpopq %0"
                     : "=r"(flags) : : "memory", "cc");
    hvg_printf("%s: IOPL now %llu\n", image_name, (unsigned long long)((flags >> 12) & 3));
    __asm__ volatile("outb %%al, $0x80" : : "a"(0));
}

FAULT_KIND fault_sysenter(void)
{
    announce("executing sysenter", "#GP (Intel) or #UD (AMD)");
    /* Were it to enter ring 0, it would be at the firmware's SYSENTER_EIP
     * with SYSENTER_ESP: hv programs SYSENTER_CS = 0 so it faults. */
    __asm__ volatile("sysenter" : : : "rcx", "r11", "memory");
}

FAULT_KIND fault_mf(void)
{
    static const double zero = 0.0;
    uint16_t unmasked = 0x37f & ~0x4; /* the divide-by-zero exception unmasked */
    announce("x87 1/0 with the divide-by-zero exception unmasked, then fwait", "#MF");
    /* With CR0.NE clear the error would go out as FERR# (an interrupt
     * for hv) instead of #MF in the guest. */
    __asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfdivl %1\n\tfwait"
                     : : "m"(unmasked), "m"(zero) : "memory", "st");
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    set_image_name();
    CONCAT(fault_, FAULT)();
    hvg_printf("%s: FAULT-TEST FAILED: survived\n", image_name);
    return 1;
}

/* hv_main: the hypervisor proper, entered once from the UEFI stub. The boot
 * runs one way: CPU tables, consoles, memory, devices, time; then (later
 * issues) guests; then power off. */
#include "guest-loader/loader.h"
#include "guest-loader/shm.h"
#include "hv/cpu/tlb_shootdown.h"
#include "hv/acpi/acpi.h"
#include "hv/config/settings.h"
#include "hv/console/fbcon.h"
#include "hv/console/ps2.h"
#include "hv/console/log.h"
#include "hv/console/serial.h"
#include "hv/console/status_line.h"
#include "hv/cpu/features.h"
#include "hv/cpu/mitigations.h"
#include "hv/cpu/gdt.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/debug/irqoff.h"
#include "hv/debug/panic.h"
#include "hv/debug/stats.h"
#include "hv/debug/symbols.h"
#include "hv/debug/trace.h"
#include "hv/firmware_dma.h"
#include "hv/guest/guest.h"
#include "hv/guest/leak_check.h"
#include "hv/guest/restart.h"
#include "hv/handoff.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/mm/xpti.h"
#include "hv/power/power.h"
#include "hv/sched/partition.h"
#include "hv/sched/cross_cpu.h"
#include "hv/sched/sched.h"
#include "hv/time/time.h"
#include "hv/version.h"
#include "lib/bench_work.h"
#include "vcpu/fpu.h"
#include "vcpu/iret_fast.h"
#include "vcpu/syscall.h"

static struct acpi_info acpi;
/* Files of \images the stub found but could not list: a failed run. */
static uint32_t files_not_read;

static void acpi_warning(void *arg, const char *msg)
{
    (void)arg;
    log_warn("%s", msg);
}

static void log_images(const struct handoff *h)
{
    if (!h->images_dir_found) {
        log_info("esp: no \\images folder: no guests to run");
        return;
    }
    log_info("esp: %u file(s) in \\images", h->file_count);
    const struct handoff_file *files = h->file_count ? phys_to_virt(h->files_phys) : NULL;
    for (uint32_t i = 0; i < h->file_count; i++) {
        const struct handoff_file *f = &files[i];
        static const char *const problems[] = {
            [HANDOFF_FILE_TOO_LARGE] = "larger than 256 MiB, not read",
            [HANDOFF_FILE_READ_ERROR] = "could not be read",
            [HANDOFF_FILE_NO_MEMORY] = "no memory to read it",
            [HANDOFF_FILE_BAD_NAME] = "name is not plain ASCII or too long",
        };
        if (f->status == HANDOFF_FILE_OK)
            log_info("esp:   %s (%lu bytes)", f->name, (unsigned long)f->size);
        else
            log_error("esp:   %s: %s", f->name,
                      f->status < sizeof(problems) / sizeof(problems[0]) && problems[f->status]
                          ? problems[f->status] : "unknown problem");
    }
    files_not_read = h->files_skipped;
    if (h->files_skipped)
        log_error("esp: %u more file(s) in \\images not read: the UEFI stub had no memory "
                  "to list them", h->files_skipped);
}

/* The UEFI stub's report lines (efi/notes.c), logged here rather than
 * printed through the firmware's slow consoles. */
static void log_stub_notes(const struct handoff *h)
{
    uint32_t len = h->stub_notes_len < sizeof(h->stub_notes) ? h->stub_notes_len
                                                             : sizeof(h->stub_notes);
    uint32_t start = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (h->stub_notes[i] != '\n')
            continue;
        log_info("%.*s", (int)(i - start), h->stub_notes + start);
        start = i + 1;
    }
    if (h->stub_notes_lost)
        log_warn("%u more line(s) of the UEFI stub did not fit its notes", h->stub_notes_lost);
}

static void log_memory(const struct handoff *h)
{
    log_info("memory: %lu MiB usable of %u firmware ranges, %lu MiB free after hv set-up",
             (unsigned long)(mm_total_usable_bytes() >> 20), h->mem_count,
             (unsigned long)(mm_free_bytes() >> 20));
}

static void setup_acpi(const struct handoff *h)
{
    if (!h->rsdp_phys) {
        log_warn("acpi: no RSDP from the firmware; assuming one CPU and no HPET or PM timer");
        return;
    }
    if (acpi_parse(h->rsdp_phys, HV_DIRECT_MAP_BASE, direct_map_limit(), &acpi, acpi_warning,
                   NULL) != 0) {
        log_warn("acpi: the RSDP at 0x%lx is invalid; ACPI ignored", (unsigned long)h->rsdp_phys);
        return;
    }
    log_info("acpi: revision %u, %u CPU(s), local APIC at 0x%lx, "
             "HPET %s, PM timer %s",
             acpi.revision, acpi.cpu_count, (unsigned long)acpi.lapic_phys,
             acpi.have_hpet ? "yes" : "no", acpi.have_pm_timer ? "yes" : "no");
    status_line_set_cpus(1, acpi.cpu_count);
}

/* The deliberate fault of the debug_fault option: a write through a null
 * pointer, which the empty lower half turns into a page fault. */
static volatile uintptr_t debug_fault_address = 0x10;

/* debug_write_code_alias: a write of hv's own first code byte, unchanged,
 * through the direct map, which must fault (mm_protect_core_alias). */
extern const char __text_start[];

static void __attribute__((noinline)) debug_write_code_alias(void)
{
    volatile uint8_t *alias = phys_to_virt(mm_core_phys((uint64_t)__text_start));
    log_info("debug: writing hv's code through the direct map (debug_write_code_alias = yes)");
    *alias = *alias;
    log_error("debug: hv's code was writable through the direct map");
}

static void __attribute__((noinline)) debug_fault(void)
{
    log_info("debug: faulting on purpose (debug_fault = yes)");
    *(volatile uint64_t *)debug_fault_address = 0xdead;
}

/* The reference half of cpu_overhead_pct (docs/benchmarks.md): the
 * workload at ring 0 before any guest exists, timed in TSC cycles, which
 * under QEMU -icount are a fixed multiple of instructions. */
static void bench_native(uint32_t rounds)
{
    bench_workload(1); /* warm-up */
    uint64_t t0 = rdtsc();
    uint32_t crc = bench_workload(rounds);
    uint64_t t1 = rdtsc();
    log_info("bench: native workload of %u rounds: %lu TSC cycles (crc 0x%08x)", rounds,
             (unsigned long)(t1 - t0), crc);
}

static void start_partition_schedule(const struct handoff *h)
{
    struct partition_plan plan;
    char why[160];
    const char *cfg = h->config_phys ? phys_to_virt(h->config_phys) : NULL;
    if (partition_load(cfg, cfg ? h->config_size : 0, &plan, why, sizeof(why)) != 0)
        log_error("%s; round-robin scheduling instead", why);
    else if (plan.enabled)
        sched_set_partitions(&plan);
}

/* The boot header scrolls off the screen within a second of a busy boot;
 * the end of the run shows it again, just above the closing line. */
static void repeat_boot_header(void)
{
    static const char *const header[] = {"hv ", "cpu: ", "console: serial ", "memory: ",
                                          "acpi: "};
    log_info("boot header, repeated:");
    log_repeat_kept(header, sizeof(header) / sizeof(header[0]));
}

/* Pages of [shm] regions given back per interrupts-off stretch at the end
 * of the run (each ~215 instructions under -icount: 64 a stretch were
 * 13,900 with a 4 MiB region, restart_steps_keep_interrupts_off_under_target). */
#define SHM_FREE_STEP_PAGES 16

static void all_guests_ended(void)
{
    /* Every guest's memory is back (the scheduler reaped them in bounded
     * steps); the shared regions follow the same way. Both are counted in
     * hv_irq_off_max, the summary and the power-off after the report are
     * not (docs/benchmarks.md). */
    do /* a stretch apart from the last reaping step's */
        irqoff_interrupt_window();
    while (!shm_free_some(SHM_FREE_STEP_PAGES));
    irqoff_report();
    int status = guest_summary();
    fbcon_status_now(); /* the guests' final states, before they are released */
    entry_report();
    trace_dump_all(); /* with the guests still listed: the trace names them */
    mitigations_report();
    smp_report();
    sched_report();
    tlb_shootdown_report();
    repeat_boot_header();
    /* Everything guests caused comes back: checked, one line either way.
     * Their console lines go out first: an ended guest's output buffer is
     * freed only once its last line has been sent, and the guest
     * structures that hold the queues go with guest_release_all. */
    log_flush();
    guest_release_all();
    mm_balance_check();
    unsigned rejected = loader_rejected_images();
    if (rejected) {
        log_error("%u image(s) of \\images were rejected (see above)", rejected);
        status = HV_EXIT_GUEST_FAILED;
    }
    if (files_not_read) {
        log_error("%u file(s) of \\images were not read (see above)", files_not_read);
        status = HV_EXIT_GUEST_FAILED;
    }
    power_off(status);
}

void hv_main(struct handoff *h)
{
    percpu_init_boot_cpu();
    bool serial = serial_init();
    log_info("hv %s: a minimal paravirtualizing hypervisor", HV_VERSION);
    log_info("boot: efi_main entered at TSC %lu", (unsigned long)h->boot_tsc);
    if (h->magic != HANDOFF_MAGIC || h->version != HANDOFF_VERSION ||
        h->struct_size != sizeof(*h)) {
        log_error("the UEFI stub and the core come from different builds; rebuild hv");
        halt_forever();
    }
    log_stub_notes(h);
    log_info("boot: boot services exited at TSC %lu", (unsigned long)h->exit_boot_tsc);

    struct hv_settings settings;
    settings_load(h, &settings);
    log_set_level(settings.log_level);
    struct power_config power = {settings.qemu_exit_port, settings.halt_on_failure,
                                 settings.halt_at_end, settings.power_off_at_end,
                                 settings.reboot_at_end};
    power_init(h, &power);
    leak_check_debug_leak(settings.debug_leak_on_end, settings.debug_leak_frame_on_end,
                          settings.debug_leak_mid_step);
    stats_debug_mid_step(settings.debug_leak_mid_step);
    restart_debug_corrupt_kept_image = settings.debug_corrupt_kept_image;
    restart_debug_add_gap = settings.debug_restart_add_gap;
    sched_debug_last_end_race = settings.debug_last_end_race;

    cpu_features_detect();
    /* Decided before mm_init: XPTI shapes the page tables mm builds. */
    mitigations_init(&settings.mitigations);
    mm_init(h);
    gdt_window_init(&this_cpu()->tables, this_cpu()->index); /* before xpti shows it */
    cpu_protections_enable();
    xpti_init(settings.measure_cr3_writes);
    tlb_shootdown_init();
    trace_init(settings.trace); /* patches hv's text: before the alias is made read-only */
    if (settings.measure_irq_off)
        irqoff_patch_entries(); /* likewise */
    mm_protect_core_alias();
    setup_acpi(h);
    /* The calibration's 5 ms pass while the screen is cleared and drawn
     * (~10 ms of boot under QEMU): waiting for them apart cost 0.63 M
     * instructions of boot_first_guest (docs/benchmarks.md). */
    /* hv.cfg debug_calibration_gap: 10 M TSC cycles, 10 ms at 1 GHz. */
    time_calibration_begin(&acpi, settings.debug_calibration_gap ? 10000000ULL : 0);
    /* The symbol table's check (216,000 instructions) inside the window
     * too: a panic before it (ACPI, the local APIC) prints addresses only. */
    symbols_init(phys_to_virt(h->core_elf_phys), h->core_elf_size);
    /* Zeroing the counters (500 KiB, 67,000 instructions) inside the window
     * too: nothing before it counts a guest frame. */
    if (!guest_frames_init())
        panic("mm: no memory to count guest frames");
    bool screen = fbcon_init(&h->fb);
    log_info("console: serial %s, screen %s", serial ? "COM1" : "absent",
             screen ? "framebuffer" : "absent");
    log_memory(h);
    log_images(h);
    firmware_dma_report(h);
    time_init(&acpi, h);
    ps2_init(&acpi); /* after the clock: its waits are timed */
    mitigations_log(); /* decided before mm_init; logged once the clock runs (see there) */
    xpti_log();

    if (settings.debug_fault)
        debug_fault();
    if (settings.debug_write_code_alias)
        debug_write_code_alias();
    if (settings.debug_stray_interrupt) {
        /* The first and last of the vectors that share hv/cpu/isr.S's
         * numbered stub: each is logged and ignored by its number. */
        __asm__ volatile("int $0x31");
        __asm__ volatile("int $0xfe");
    }
    if (settings.timer_check_ticks)
        timer_selfcheck(settings.timer_hz, settings.timer_check_ticks);
    if (settings.bench_native_rounds)
        bench_native(settings.bench_native_rounds);

    fpu_init();
    syscall_init();
    if (settings.debug_syscall_breakpoint)
        debug_syscall_breakpoint();
    if (settings.debug_slow_iret) {
        iret_fast_off = 1;
        log_info("debug: every HV_CALL_IRET takes the C path (debug_slow_iret)");
    }
    /* The boot CPU is all set up; no guest space exists yet (each copies
     * the isolated tables' template, which gains the APs' entry areas). */
    smp_start(&acpi, &(struct smp_config){settings.cpus, settings.debug_ap_never_starts,
                                        settings.debug_ap_fault, settings.debug_ap_late,
                                        settings.debug_ap_refuse, settings.debug_ap_stall_ms,
                                        settings.debug_ap_claim_wait_ms});
    sched_init(settings.time_limit_ms ? time_now_ns() + settings.time_limit_ms * 1000000ULL : 0);
    sched_debug_park = settings.debug_ap_park;
    bool all_hashes = settings.log_image_hashes < 0 ? h->secure_boot : settings.log_image_hashes;
    loader_log_image_hashes(all_hashes);
    if (all_hashes)
        log_info("images: the SHA-256 of every image is logged (%s)",
                 settings.log_image_hashes < 0 ? "Secure Boot is on" : "log_image_hashes = yes");
    unsigned guests = loader_start_guests(h);
    log_info("%u guest(s) started", guests);
    start_partition_schedule(h);
    if (settings.measure_irq_off)
        irqoff_arm(); /* from the first guest on: the boot is not a guest's problem */
    stats_start(settings.stats_every_s);
    log_defer_draining(); /* guests run: lines move from the scheduler and the idle loop */
    sched_start(all_guests_ended);
}

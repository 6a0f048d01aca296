#include "hv/config/settings.h"

#include "hv/config/config.h"
#include "hv/mm/mm.h"
#include "hv/sched/sched.h"
#include "lib/string.h"

static const char *apply(void *arg, const char *section, const char *section_arg, const char *key,
                         const char *value)
{
    struct hv_settings *s = arg;
    uint64_t n;
    if (strcmp(section, "hv") != 0 || section_arg[0] != '\0')
        return NULL; /* other sections belong to other readers */

    enum mitigation_id mit = mitigation_by_name(key);
    if (mit != MIT_COUNT || strcmp(key, "mitigations") == 0) {
        enum mitigation_setting m;
        if (!mitigation_setting_parse(value, &m))
            return "must be auto, on or off";
        if (mit == MIT_COUNT) {
            s->mitigations.all = m;
        } else {
            s->mitigations.each[mit] = m;
            s->mitigations.given[mit] = true;
        }
        return NULL;
    }
    if (strcmp(key, "log_level") == 0) {
        static const char *const levels[] = {"debug", "info", "warn", "error"};
        for (unsigned i = 0; i < 4; i++)
            if (strcmp(value, levels[i]) == 0) {
                s->log_level = (enum log_level)i;
                return NULL;
            }
        return "must be debug, info, warn or error";
    }
    if (strcmp(key, "qemu_exit_port") == 0) {
        if (!cfg_parse_u64(value, &n) || n == 0 || n > 0xfffc)
            return "must be an I/O port number";
        s->qemu_exit_port = (uint16_t)n;
        return NULL;
    }
    if (strcmp(key, "halt_on_failure") == 0)
        return cfg_parse_bool(value, &s->halt_on_failure) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_write_code_alias") == 0)
        return cfg_parse_bool(value, &s->debug_write_code_alias) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_leak_on_end") == 0) {
        s->debug_leak_frame_on_end = strcmp(value, "frame") == 0;
        s->debug_leak_mid_step = strcmp(value, "mid_step") == 0;
        return s->debug_leak_frame_on_end || s->debug_leak_mid_step ||
                       cfg_parse_bool(value, &s->debug_leak_on_end)
                   ? NULL : "must be yes, frame, mid_step or no";
    }
    if (strcmp(key, "debug_corrupt_kept_image") == 0)
        return cfg_parse_bool(value, &s->debug_corrupt_kept_image) ? NULL : "must be yes or no";
    if (strcmp(key, "stats_every_s") == 0) {
        if (!cfg_parse_u64(value, &n) || n > 3600)
            return "must be 0 to 3600";
        s->stats_every_s = (uint32_t)n;
        return NULL;
    }
    if (strcmp(key, "debug_fault") == 0)
        return cfg_parse_bool(value, &s->debug_fault) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_stray_interrupt") == 0)
        return cfg_parse_bool(value, &s->debug_stray_interrupt) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_syscall_breakpoint") == 0)
        return cfg_parse_bool(value, &s->debug_syscall_breakpoint) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_calibration_gap") == 0)
        return cfg_parse_bool(value, &s->debug_calibration_gap) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_slow_iret") == 0)
        return cfg_parse_bool(value, &s->debug_slow_iret) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_ap_never_starts") == 0)
        return cfg_parse_bool(value, &s->debug_ap_never_starts) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_ap_fault") == 0)
        return cfg_parse_bool(value, &s->debug_ap_fault) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_ap_late") == 0)
        return cfg_parse_bool(value, &s->debug_ap_late) ? NULL : "must be yes or no";
    if (strcmp(key, "debug_ap_refuse") == 0) {
        if (!cfg_parse_u64(value, &n) || n > 4096)
            return "must be an AP number from 1 (0: none)";
        s->debug_ap_refuse = (uint32_t)n;
        return NULL;
    }
    if (strcmp(key, "debug_ap_stall_ms") == 0) {
        if (!cfg_parse_u64(value, &n) || n > 60000)
            return "must be 0 to 60000";
        s->debug_ap_stall_ms = (uint32_t)n;
        return NULL;
    }
    if (strcmp(key, "debug_timer_advance_ns") == 0) {
        if (!cfg_parse_u64(value, &n) || n > 50000)
            return "must be 0 to 50000";
        idle_timer_advance_fixed = (uint32_t)n;
        return NULL;
    }
    if (strcmp(key, "debug_ap_claim_wait_ms") == 0) {
        if (!cfg_parse_u64(value, &n) || n > 60000)
            return "must be 0 to 60000";
        s->debug_ap_claim_wait_ms = (uint32_t)n;
        return NULL;
    }
    if (strcmp(key, "debug_ap_park") == 0) {
        s->debug_ap_park = strcmp(value, "late") == 0 ? 1 : strcmp(value, "never") == 0 ? 2 : 0;
        return s->debug_ap_park || strcmp(value, "no") == 0 ? NULL : "must be no, late or never";
    }
    if (strcmp(key, "debug_restart_add_gap") == 0)
        return cfg_parse_bool(value, &s->debug_restart_add_gap) ? NULL : "must be yes or no";
    if (strcmp(key, "cpus") == 0) {
        if (!cfg_parse_u64(value, &n) || n < 1 || n > 4096)
            return "must be a number of CPUs from 1 (the boot CPU alone)";
        s->cpus = (uint32_t)n;
        return NULL;
    }
    if (strcmp(key, "log_image_hashes") == 0) {
        bool yes;
        if (strcmp(value, "auto") == 0)
            s->log_image_hashes = -1;
        else if (cfg_parse_bool(value, &yes))
            s->log_image_hashes = yes;
        else
            return "must be auto, yes or no";
        return NULL;
    }
    if (strcmp(key, "measure_cr3_writes") == 0)
        return cfg_parse_bool(value, &s->measure_cr3_writes) ? NULL : "must be yes or no";
    if (strcmp(key, "trace") == 0)
        return cfg_parse_bool(value, &s->trace) ? NULL : "must be yes or no";
    if (strcmp(key, "measure_irq_off") == 0)
        return cfg_parse_bool(value, &s->measure_irq_off) ? NULL : "must be yes or no";
    if (strcmp(key, "halt_at_end") == 0)
        return cfg_parse_bool(value, &s->halt_at_end) ? NULL : "must be yes or no";
    if (strcmp(key, "stop_firmware_dma") == 0) {
        /* Acted on by the UEFI stub before hv ran (efi/pci_quiesce.c). */
        bool stop;
        return cfg_parse_bool(value, &stop) ? NULL : "must be yes or no";
    }
    if (strcmp(key, "power_off_at_end") == 0) {
        s->reboot_at_end = false; /* the last of it and on_all_ended wins */
        return cfg_parse_bool(value, &s->power_off_at_end) ? NULL : "must be yes or no";
    }
    if (strcmp(key, "on_all_ended") == 0) {
        /* What the machine does once every guest has ended for good
         * (hv/power/power.h); power_off_at_end = yes is poweroff. */
        bool halt = strcmp(value, "halt") == 0, off = strcmp(value, "poweroff") == 0,
             reboot = strcmp(value, "restart") == 0;
        if (!halt && !off && !reboot)
            return "must be halt, poweroff or restart";
        s->power_off_at_end = off;
        s->reboot_at_end = reboot;
        return NULL;
    }
    if (strcmp(key, "timer_hz") == 0) {
        if (!cfg_parse_u64(value, &n) || n < 1 || n > 100000)
            return "must be between 1 and 100000";
        s->timer_hz = (uint32_t)n;
        return NULL;
    }
    if (strcmp(key, "bench_native_rounds") == 0) {
        if (!cfg_parse_u64(value, &n) || n > 100000)
            return "must be between 0 and 100000";
        s->bench_native_rounds = (uint32_t)n;
        return NULL;
    }
    if (strcmp(key, "time_limit_ms") == 0) {
        if (!cfg_parse_u64(value, &n) || n > 365ULL * 24 * 3600 * 1000)
            return "must be milliseconds (0: no limit)";
        s->time_limit_ms = n;
        return NULL;
    }
    if (strcmp(key, "timer_check_ticks") == 0) {
        if (!cfg_parse_u64(value, &n) || n > 1000000)
            return "must be between 0 and 1000000";
        s->timer_check_ticks = (uint32_t)n;
        return NULL;
    }
    /* Last: no boot's setting pays a look at it (boot_first_guest). */
    if (strcmp(key, "debug_last_end_race") == 0)
        return cfg_parse_bool(value, &s->debug_last_end_race) ? NULL : "must be yes or no";
    return "not a setting of [hv]";
}

void settings_load(const struct handoff *h, struct hv_settings *out)
{
    *out = (struct hv_settings){
        .log_level = LOG_INFO,
        .halt_on_failure = true,
        .timer_hz = 100,
        .log_image_hashes = -1,
    };
    if (h->config_too_large) {
        log_error("hv.cfg: larger than 64 KiB, ignored");
        return;
    }
    if (!h->config_phys)
        return;
    /* Settings before a bad line stay in force: the QEMU runner puts its
     * own lines first, so a user's typo cannot hang a test run. */
    struct cfg_error err;
    if (cfg_parse(phys_to_virt(h->config_phys), h->config_size, apply, out, &err) != 0)
        log_error("hv.cfg line %u: %s; the rest of the file is ignored", err.line, err.reason);
}

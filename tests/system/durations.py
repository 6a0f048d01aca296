"""How long each system test took in a make test on the 2-core host, for
run.py's order only (the longest start first, so that no core idles at the
end while the other finishes a long one). Seconds as measured beside other
work (several times the idle machine's; only their order matters). A test
not named counts as TYPICAL; mitigated/NAME and smp4/NAME as NAME unless
named themselves.

    python3 tests/system/durations.py build/system-tests.log

prints the table again from a run's log (PASS/FAIL lines with seconds)."""

import re
import sys

TYPICAL = 30

SECONDS = {
    "xen_fsgsbase_storm_beside_companion": 60,
    "soak_one_minute": 70,
    "run_all_keeps_redirected_log": 134,
    "console_flood_beside_companion": 115,
    "ev_ipi_between_vcpus": 86,
    "sched_companion_beside_spinner": 86,
    "sched_companion_beside_16_vcpu_spinner": 84,
    "sched_companion_beside_spin_and_poll": 84,
    "timer_rate_under_icount": 84,
    "ps2_absent_keyboard_left_alone": 80,
    "boot_hv_part_within_budget_under_icount": 79,
    "console_lines_sanitised_labelled_split": 79,
    "ev_bad_arguments_refused": 78,
    "ev_blocked_guest_accrues_no_cpu_time": 77,
    "ev_virtual_time_of_two_guests_sharing_the_cpu": 75,
    "weights_share_the_cpu": 72,
    "irqoff_big_guest_reaped_in_bounded_steps": 70,
    "sched_companion_beside_four_spinners_one_of_16_vcpus": 70,
    "secboot_hashes_only_where_needed_without_secure_boot": 69,
    "bench_irq_off_finds_the_longest_call": 67,
    "boot_calibration_on_the_pm_timer": 67,
    "make_run_says_hv_status": 67,
    "boot_calibration_survives_a_pause_mid_reading": 66,
    "ev_masked_spinner_does_not_starve_timer_guest": 66,
    "mem_allowances_are_reservations": 66,
    "sched_companion_beside_16_vcpu_spin_and_poll": 65,
    "sched_companion_beside_16_vcpu_yield_storm": 65,
    "bench_irq_off_silent_without_the_setting": 64,
    "boot_calibration_on_the_hpet": 64,
    "ev_masked_events_delivered_when_unmasked": 64,
    "sched_shares_follow_weights_1_2_4_beside_spin_and_poll": 64,
    "timer_edges_never_early_never_lost": 64,
    "sched_companion_beside_timer_storm": 63,
    "sched_companion_beside_event_pingpong_handoffs": 60,
    "mem_huge_ranges_bounded_per_call": 60,
    "partition_windows_respected": 60,
    "ev_timer_fires_on_time": 56,
    "entry_nmis_while_guests_run_and_hv_logs": 55,
    "registers_preserved_and_private": 54,
    "screen_console_without_serial": 50,
    "secboot_plain_firmware_says_secure_boot_off": 50,
    "secboot_hv_signed_by_unknown_key_refused": 48,
    "examples_run_labelled": 47,
    "output_interleaves_by_line": 45,
    "console_charges_label_bytes": 44,
    "every_guest_fault_ends_only_that_guest": 44,
    "more_than_128_images_all_run": 42,
    "pv_fast_gate_does_not_enter_hv": 42,
    "entry_sysenter_faults_on_intel_and_amd": 41,
    "guest_asking_too_much_memory": 41,
    "32_guests_in_one_boot": 40,
    "multi_vcpu_guest": 40,
    "secboot_image_hashes_logged_and_pins_match": 40,
    "secboot_policy_build_refuses_unlisted_images": 40,
    "lean_handler_unusable_after_registration": 39,
    "secboot_pin_mismatch_refused_others_run": 39,
    "usb_stick_boots_and_stops_firmware_xhci": 39,
    "hypercall_fuzzer_sacrificial_run_is_ended": 38,
    "pv_memory_operations_refuse_and_work": 38,
    "bad_config_line_reported": 37,
    "code_not_writable_through_the_direct_map": 37,
    "hypercall_fuzzer_short_run": 37,
    "real_pc_powers_off_when_asked": 37,
    "xpti_every_path_with_every_mitigation_on": 37,
    "ps2_keyboard_types_into_the_focused_guest": 36,
    "real_pc_halts_with_summary_on_screen": 36,
    "status_line_at_the_top_live": 36,
    "xpti_on_guest_tables_hold_no_hv_memory": 36,
    "matrix_q35_skylake_client_1024_plain_screen": 35,
    "memory_zeroed_and_private": 35,
    "pv_fast_and_bounced_syscalls_agree": 34,
    "xen_gdt_window_under_xpti": 34,
    "boot_header_on_screen_at_the_end": 33,
    "ev_pingpong_through_channel_and_shared_memory": 33,
    "panic_report": 33,
    "spinning_guest_does_not_stop_others": 33,
    "bad_images_rejected_beside_good_ones": 32,
    "hv_qemu_passes_extra_qemu_args": 32,
    "hypercall_bad_arguments": 32,
    "ps2_keys_scroll_the_screen_back": 32,
    "real_pc_failure_says_one_end": 32,
    "secboot_signed_hv_runs": 32,
    "time_limit_stops_a_guest_that_only_sleeps": 32,
    "console_flood_does_not_stop_others": 31,
    "firmware_dma_bad_setting_still_stops": 31,
    "nonzero_exit_status_reported": 31,
    "serial_on_terminal_without_screen_clearing": 31,
    "uaccess_bad_buffers_are_efault_beside_companion": 31,
    "uaccess_fault_outside_the_table_still_panics": 31,
    "event_ports_not_its_own": 30,
    "matrix_q35_epyc_8192_secboot_serial": 30,
    "mem_wx_counters_cannot_wrap": 30,
    "pv_hostile_rsp_and_flags_on_syscall": 30,
    "sdk_guest_built_out_of_tree": 30,
    "spec_refused_force_is_logged_and_hv_runs_on": 30,
    "spec_rsb_fill_only_when_the_guest_changes": 30,
    "xen_gdt_window_flat_selectors": 30,
    "console_input_follows_the_focus": 29,
    "impostor_gets_no_name_and_no_region": 29,
    "ev_wallclock_matches_the_host": 28,
    "firmware_dma_left_running_when_hv_cfg_asks": 28,
    "pv_undeliverable_ends_only_that_guest": 28,
    "stack_overflow_hits_guard_page": 28,
    "iret_frames_and_registration_cannot_gain_privilege": 27,
    "spec_bad_value_is_reported_naming_the_key": 27,
    "spec_gds_model_without_its_microcode_is_reported": 27,
    "xen_images_recognised_built_and_run": 27,
    "entry_db_at_syscall_entry_and_ac_beside_companion": 26,
    "matrix_pc_qemu64_128_plain_serial": 26,
    "xpti_auto_isolates_on_a_meltdown_affected_cpu": 26,
    "xpti_off_guest_tables_hold_hv_supervisor_only": 26,
    "pv_exceptions_reach_guest_handlers": 25,
    "pv_tinyos_runs_its_applications": 25,
    "spec_amd_cpu_needs_neither_xpti_nor_verw": 25,
    "uaccess_bad_buffers_are_efault_without_smap": 25,
    "entry_attacker_without_breakpoint": 24,
    "machine_pc": 24,
    "spec_forced_on_and_off": 24,
    "spec_master_off_with_one_key_back_to_auto": 24,
    "old_cpu_without_protections": 23,
    "pv_bad_registrations_rejected": 23,
    "boot_banner_and_memory": 22,
    "boot_stub_notes_logged_by_hv_after_its_banner": 22,
    "pv_user_mode_syscalls_and_exceptions": 22,
    "secboot_unsigned_hv_refused_and_run_ends": 22,
    "ev_producer_consumer_example": 21,
    "memory_4g": 20,
    "spec_intel_cpu_is_meltdown_and_mds_affected": 20,
    "uaccess_kernel_stack_running_off_its_mapping_ends_the_guest": 20,
    "mem_read_only_shm_never_writable": 19,
    "memory_128m": 19,
    "xen_boot_start_of_day": 19,
    "make_debug_stops_qemu_with_gdb": 5,
    "hv_qemu_help_names_every_option": 0,
    "mkesp_refuses_the_runners_setting": 0,
    "readme_names_every_package_deps_installs": 0,
}


def expected(name):
    if name in SECONDS:
        return SECONDS[name]
    return SECONDS.get(name.split("/", 1)[-1], TYPICAL)


def from_log(path):
    seconds = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"(?:PASS|FAIL) system/(\S+) \(([0-9.]+) s\)$", line.strip())
            if m:
                seconds[m.group(1)] = round(float(m.group(2)))
    return seconds


if __name__ == "__main__":
    table = from_log(sys.argv[1])
    print("SECONDS = {")
    for name, secs in sorted(table.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f'    "{name}": {secs},')
    print("}")

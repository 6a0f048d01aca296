"""bench/run.py's figures: the issue's table of figures and targets, the
guests and hv.cfg of each boot, and what bench/guests/bench.h and hv's
headers say that the boots must agree on."""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ICOUNT_SHIFT = 3  # scripts/hv-qemu --icount: -icount shift=3, TSC += 8 per instruction

# Every figure of the issue, in table order: (name, unit under -icount, target).
# A target is an upper bound ("<= target"). The hot paths' targets are issue
# 12's ("hot paths at half of Xen's cost"); the others are the first
# benchmark issue's.
FIGURES = [
    ("hypercall_null", "instructions", 80),
    ("hypercall_console_64b", "instructions", 600),
    ("trap_ud_roundtrip", "instructions", 300),
    ("trap_ud_roundtrip_iretq", "instructions", 300),
    ("trap_pf_roundtrip", "instructions", 350),
    ("syscall_fast", "instructions", 10),
    ("syscall_fast_hv_entries", "hv entries per call", 0),
    ("syscall_bounce", "instructions", 300),
    ("event_self", "instructions", 400),
    ("event_cross_guest", "instructions", 500),
    ("vcpu_switch", "instructions", 300),
    ("timer_deadline_late", "ns", 3000),
    ("boot_first_guest", "instructions", 5_000_000),
    ("boot_32_guests", "instructions", 20_000_000),
    ("cpu_overhead_pct", "percent", 0.5),
    ("hv_image_bytes", "bytes", 131072),
    ("guest_overhead_bytes", "bytes", 32768),
    # 20,000 until session 12 (10,612 then); 5,507 after its irqoff stream.
    ("hv_irq_off_max", "instructions", 8000),
    ("timer_late_under_attack", "ns", 50000),
    ("fairness_error_pct", "percent", 2),
    # Issue 13 names the figure but gives no target: 50,000 instructions
    # per AP at SMP 8 is this stream's (docs/benchmarks.md, ap_bringup).
    ("ap_bringup", "instructions", 350_000),
    # Issue 13's: an event to a guest blocked on another CPU within 1.5 x
    # event_cross_guest (1,118 at session 5's end: 1,677), and an unmap with
    # the guest's vCPUs on 4 CPUs within 3,000 (boot i, bench-smp).
    ("ipi_event_cross_cpu", "instructions", 1677),
    ("tlb_shootdown", "instructions", 3000),
    # Issue 13's: 4 CPUs within 95 % of 4 times one CPU's useful work (boots
    # s and r; docs/benchmarks.md says why it is defined as it is). A
    # lower bound, unlike every other target (AT_LEAST).
    ("smp_scaling_pct", "percent", 95),
]
# Figures whose target is a floor: ok when the median is at least it.
AT_LEAST = ("smp_scaling_pct",)

# Fixed reference figures for the same path in Xen 4.17 PV and Linux 6.1:
# executed instructions under the same QEMU 7.2 TCG with -icount, Xen and
# Linux booted on this kind of machine with guests (or processes) written
# to take exactly the path named; medians. They are issue 12's table, not
# measured by make bench (docs/benchmarks.md, "Reference figures", says
# what each one ran). (xen, linux): a number, or None where there is no
# like path; the text beside it says which call was measured.
REFERENCES = {
    "hypercall_null": ((278, "xen_version"), (209, "ENOSYS; getppid 323")),
    "trap_ud_roundtrip": ((717, "#UD bounce + iret"), (3815, "SIGILL")),
    "trap_pf_roundtrip": ((963, "#PF bounce + iret"), (4175, "SIGSEGV")),
    "syscall_bounce": ((698, "user syscall bounce"), (362, "int 0x80")),
    "syscall_bounce_xpti": ((1850, "with XPTI"), None),
    "event_self": ((957, "evtchn send + upcall"), (8451, "eventfd, 2 processes")),
    "vcpu_switch": ((2016, "sched_op yield"), (806, "sched_yield")),
    "boot_first_guest": ((31_800_000, "work before dom0"), None),
    "hv_image_bytes": ((1_270_000, "xen.gz 1.27 MB"), None),
}


# Judged on the worst sample, not the median (the table says so in the note).
JUDGED_ON_MAX = {"timer_late_under_attack"}
EXTRA_TARGET_NOTE = {"syscall_fast": " and 0 hv entries", "timer_late_under_attack": " worst"}
# Figures that come from time: judged only under -icount.
TIME_UNITS = {"instructions", "ns", "percent"}

# bench-main lines that are not figures as they stand: the baseline, the
# guest half of cpu_overhead_pct, the hv-entries count parse_boot_d reads.
DERIVED = {"rdtsc_pair", "cpu_workload", "cpu_workload_check", "syscall_fast_hv_entries", "done"}
# What bench-main must report today, per boot; a missing one is a broken benchmark.
GUEST_FIGURES = {"a": ("vcpu_switch", "hypercall_null", "hypercall_console_64b", "cpu_workload",
                       "trap_ud_roundtrip", "trap_ud_roundtrip_iretq", "trap_pf_roundtrip",
                       "syscall_bounce", "event_self", "event_cross_guest",
                       "timer_deadline_late"),
                 "d": ("syscall_fast",)}
# Boot x: boot a's guests with page-table isolation forced on; its figures
# are reported as NAME_xpti, beside boot a's (docs/benchmarks.md).
GUEST_FIGURES["x"] = GUEST_FIGURES["a"]
XPTI_SUFFIX = "_xpti"
XPTI_CFG = "xpti = on\n"
# Boot t: boot a's guests with hv's event trace on (hv.cfg trace = yes,
# docs/trace.md): what tracing costs the hot paths, as NAME_traced.
GUEST_FIGURES["t"] = GUEST_FIGURES["a"]
TRACED_SUFFIX = "_traced"
TRACED_CFG = "trace = yes\n"
TRACED_FIGURES = ("hypercall_null", "vcpu_switch", "trap_ud_roundtrip", "event_cross_guest")
# Boots a and x let bench-main see hv's CR3 writes (include/hv/abi_cpu.h):
# each figure's note says how many a sample cost.
CR3_CFG = "measure_cr3_writes = yes\n"
# Figures whose samples also wait (for console credit, a timer): their CR3
# writes are mostly the waiting's, not the path's.
CR3_NOT_PER_PATH = {"hypercall_console_64b", "timer_deadline_late", "cpu_workload"}
# Boot d's CPU model: the fast gate skips hv only without SMAP under QEMU TCG.
NO_SMAP_CPU = "max,smap=off"
# Said beside the figure in the table (the JSON has no notes).
FIGURE_NOTES = {
    "trap_ud_roundtrip_iretq": "boot a (SMAP on): hv's SMAP quirk completes the iretq",
    "syscall_fast": f"boot d, -cpu {NO_SMAP_CPU}",
}

BOOT_GUESTS = 32
PEER_NAME = "bench-peer"  # the "typical small guest" of guest_overhead_bytes
# event_cross_guest's receiver. Its ESP name sorts first, so it starts (sets
# up and blocks) before bench-main and bench-peer first run.
EVENT_NAME = "bench-event"
EVENT_ESP_NAME = "bench-0-event"

# Boots with hv's interrupts-off measurement (hv.cfg, [hv] measure_irq_off).
IRQ_OFF_BOOTS = ("b", "c", "d", "e", "f")
IRQ_OFF_CFG = "[hv]\nmeasure_irq_off = yes\n"
# Boot d restarts bench-main once after its figures (its second life exits
# at once), so that hv_irq_off_max covers a restart's steps too.
RESTART_CFG = IRQ_OFF_CFG + "[guest bench-main]\non_exit = restart\nmax_restarts = 1\n"
RESTARTED_LINE = r"^hv: guest bench-main: restarted from its image"
# CPUs per boot where not 1 (bench/run.py): ap_bringup is measured at SMP 8.
BOOT_SMP = {"g": 8, "i": 5, "s": 4}
# smp_scaling_pct: bench-scale as scale-0 .. scale-3 at SMP 4 (boot s, one
# per CPU) and scale-0 alone at SMP 1 (boot r).
SCALE_NAME = "bench-scale"
SCALE_CPUS = BOOT_SMP["s"]
# Boot i: bench-smp (named bench-main, so bench-event binds to it) with its
# 4 vCPUs on CPUs 0-3, bench-event alone on CPU 4 (bench/guests/bench_smp.c).
SMP_NAME = "bench-smp"
SMP_FIGURES = ("ipi_event_cross_cpu", "tlb_shootdown")
AP_BRINGUP_CPUS = BOOT_SMP["g"]
# fairness_error_pct: ESP name (= guest name) -> hv.cfg weight; None: the
# default (GUEST_DEFAULT_WEIGHT, guest-loader/guest_params.h).
FAIR_GUESTS = {"fair-1": 256, "fair-2": 512, "fair-4": 1024, "fair-poll": None}
FAIR_ATTACKER = "fair-poll"
# timer_late_under_attack's two guests (ESP name = guest name).
ATTACK_NAME = "bench-attack"
TIMER_NAME = "bench-timer"


def bench_h(name, value):
    """A #define of bench/guests/bench.h that the guests and hv.cfg must agree on."""
    with open(os.path.join(ROOT, "bench", "guests", "bench.h")) as f:
        m = re.search(rf"^#define {name} ({value})\s*$", f.read(), re.M)
    if not m:
        sys.exit(f"bench: {name} not found in bench/guests/bench.h")
    return m.group(1)


def work_rounds():
    """BENCH_WORK_ROUNDS: hv must run the same work as bench-main."""
    return int(bench_h("BENCH_WORK_ROUNDS", r"\d+"))


def names_cfg(names):
    """hv.cfg sections naming guests whose ESP file name is not their name
    (a guest's name comes from hv.cfg or its file name, never its note)."""
    return "".join(f"[guest {f}]\nname = {n}\n" for f, n in names.items())


def event_shm_cfg():
    """hv.cfg's region shared by bench-main and bench-event (event_cross_guest)."""
    name = bench_h("BENCH_EVENT_SHM", r'"[A-Za-z0-9_-]+"').strip('"')
    return f"[shm {name}]\nsize = 4K\nmap = bench-main:rw {EVENT_NAME}:rw\n"


def default_weight():
    with open(os.path.join(ROOT, "guest-loader", "guest_params.h")) as f:
        m = re.search(r"^#define GUEST_DEFAULT_WEIGHT (\d+)", f.read(), re.M)
    if not m:
        sys.exit("bench: GUEST_DEFAULT_WEIGHT not found in guest-loader/guest_params.h")
    return int(m.group(1))


def hypercall_names():
    """{number: name} from include/hv/abi.h, for the causes hv reports."""
    with open(os.path.join(ROOT, "include", "hv", "abi.h")) as f:
        return {int(n): name for name, n in re.findall(r"^\s*HV_CALL_(\w+) = (\d+),", f.read(),
                                                       re.M)}


def fair_cfg():
    """Boot f's hv.cfg: the weights and the region the four share."""
    cfg = IRQ_OFF_CFG
    for name, weight in FAIR_GUESTS.items():
        if weight is not None:
            cfg += f"[guest {name}]\nweight = {weight}\n"
    return cfg + (f"[shm {fair_shm_name()}]\nsize = 4K\nmap = "
                  + " ".join(f"{n}:rw" for n in FAIR_GUESTS) + "\n")


def fair_shm_name():
    with open(os.path.join(ROOT, "bench", "guests", "bench_fair.h")) as f:
        m = re.search(r'^#define BENCH_FAIR_SHM "([A-Za-z0-9_-]+)"\s*$', f.read(), re.M)
    if not m:
        sys.exit("bench: BENCH_FAIR_SHM not found in bench/guests/bench_fair.h")
    return m.group(1)

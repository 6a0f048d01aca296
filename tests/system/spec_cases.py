"""Speculative-execution mitigations (issue 11, the decisions): what hv
decides on CPUs QEMU presents as affected and as not affected, what hv.cfg
forces, what it refuses, and the summary's counts (hv/cpu/mitigations.h).

QEMU's TCG offers none of the controls (no IBPB, MD_CLEAR, PCID,
ARCH_CAPABILITIES, ...), so only the decisions that follow from the vendor,
the family/model and their absence can be seen here; docs/design.md
("Speculative execution") says what a real CPU adds."""

import re

from harness import Boot, run, run_shared
from judge import exited, expect, guest_lines, test_guest
from registry import system_test

INTEL = "max,vendor=GenuineIntel"  # TCG: family 0xf, no ARCH_CAPABILITIES
SKYLAKE = "Skylake-Client"         # family 6 model 0x5e: a GDS model
MITIGATIONS = ["xpti", "pcid", "verw", "ibpb", "rsb_fill", "swapgs_fence", "clear_regs",
               "zenbleed", "gds"]


def decisions(log):
    """{name: (state, reason, warned)} from the boot log's 'spec: NAME on|off (REASON)'."""
    out = {}
    for m in re.finditer(r"^hv: (warning: )?spec: (\w+) (on|off) \((.*)\)$", log, re.M):
        if m.group(2) in MITIGATIONS:
            out[m.group(2)] = (m.group(3), m.group(4), bool(m.group(1)))
    return out


def summary(log):
    """(used, not used) from 'spec: used: A, B (N fills); not used: C, D', as
    {name: count or None}."""
    m = re.search(r"^hv: spec: used: (.*); not used: (.*)$", log, re.M)
    if not m:
        return None, None

    def names(text):
        if text == "none":
            return {}
        out = {}
        for part in text.split(", "):
            p = re.fullmatch(r"(\w+)(?: \((\d+) \w+\))?", part)
            out[p.group(1) if p else part] = int(p.group(2)) if p and p.group(2) else None
        return out
    return names(m.group(1)), names(m.group(2))


def expect_decisions(problems, log, want, what):
    """want: {name: (state, part of the reason)}; every mitigation has a line."""
    got = decisions(log)
    expect(problems, sorted(got) == sorted(MITIGATIONS),
           f"{what}: lines for {sorted(got)}, expected one for each of {MITIGATIONS}")
    for name, (state, reason) in want.items():
        s, r, _ = got.get(name, (None, "", False))
        expect(problems, s == state and reason in r,
               f"{what}: {name} {s} ({r}), expected {state} with '{reason}'")
    return got


def expect_summary(problems, log, what):
    """The summary names every mitigation once, on the side the boot log put it."""
    used, unused = summary(log)
    if used is None:
        problems.append(f"{what}: no 'spec: used: ...; not used: ...' summary line")
        return {}, {}
    got = decisions(log)
    for name in MITIGATIONS:
        side = "used" if name in used else "not used" if name in unused else None
        want = "used" if got.get(name, ("",))[0] == "on" else "not used"
        expect(problems, side == want, f"{what}: the summary has {name} {side}, the boot log {want}")
    return used, unused


def two_guests(build):
    return [test_guest(build, "lines-a"), test_guest(build, "lines-b")]


def ran_clean(problems, r, guests, what):
    expect(problems, r.status == 0, f"{what}: exit status {r.status}, expected 0")
    expect(problems, "PANIC" not in r.log, f"{what}: the hypervisor panicked")
    for g in guests:
        expect(problems, exited(r.log, g), f"{what}: {g} did not exit 0: {guest_lines(r.log, g)[-2:]}")


@system_test
def test_spec_intel_cpu_is_meltdown_and_mds_affected(build):
    """An Intel CPU without IA32_ARCH_CAPABILITIES (TCG's max as Intel): nothing
    says it is not affected, so XPTI and VERW go on; it has no IBPB, so the RSB
    fill clears return predictions on each switch to the other guest, and the
    summary counts them."""
    # Taking turns on one CPU: at SMP 4 each guest has its own and no switch
    # goes to the other guest.
    r = run(build, Boot(images=two_guests(build), cpu=INTEL, smp=1), "spec-intel")
    problems = []
    ran_clean(problems, r, ["lines-a", "lines-b"], "intel")
    expect_decisions(problems, r.log, {
        "xpti": ("on", "Meltdown: Intel, no RDCL_NO"),
        "pcid": ("off", "no PCID"),
        "verw": ("on", "MDS: Intel, no MDS_NO; no MD_CLEAR microcode"),
        "ibpb": ("off", "no IBPB"),
        "rsb_fill": ("on", "no IBPB to clear the RSB"),
        "swapgs_fence": ("on", "SWAPGS variant: Intel"),
        "clear_regs": ("on", "defence in depth"),
        "zenbleed": ("off", "not AMD Zen 2"),
        "gds": ("off", "not Intel family 6"),
    }, "intel")
    expect(problems, re.search(r"^hv: spec: cpu Intel family 0x\w+ model 0x\w+ stepping \d+, "
                               r"hypervisor; has", r.log, re.M), "intel: no facts line")
    used, _ = expect_summary(problems, r.log, "intel")
    # lines-a and lines-b yield to each other every 5 of their 200 lines.
    fills = used.get("rsb_fill")
    expect(problems, fills is not None and fills >= 20,
           f"intel: {fills} RSB fills for two guests that take turns 40 times each")
    expect(problems, "warning:" not in r.log, "intel: warnings in a boot that forces nothing")
    return problems, r


def test_spec_amd_cpu_needs_neither_xpti_nor_verw(build):  # shared_cases.py
    """QEMU's default CPU (max, AuthenticAMD): not affected by Meltdown or MDS;
    SMAP is there, so no swapgs fence; no warning."""
    r = run_shared(build, Boot(images=two_guests(build)), "lines-pair")
    problems = []
    ran_clean(problems, r, ["lines-a", "lines-b"], "amd")
    expect_decisions(problems, r.log, {
        "xpti": ("off", "AMD/Hygon: no Meltdown"),
        "pcid": ("off", "XPTI is off"),
        "verw": ("off", "AMD/Hygon: no MDS/TAA/RFDS"),
        "ibpb": ("off", "no IBPB"),
        "rsb_fill": ("on", "no IBPB to clear the RSB"),
        "swapgs_fence": ("off", "AMD/Hygon with SMAP"),
        "clear_regs": ("on", ""),
        "zenbleed": ("off", ""),
        "gds": ("off", ""),
    }, "amd")
    expect_summary(problems, r.log, "amd")
    expect(problems, "warning:" not in r.log and "error:" not in r.log,
           "amd: warnings or errors in a clean boot")
    return problems, r


def test_spec_rsb_fill_only_when_the_guest_changes(build):  # shared_cases.py
    """One guest with 4 vCPUs: its vCPUs switch among themselves and through
    idle, never to another guest, so the only fill is each CPU's first entry
    (from hv's boot into a guest): one per CPU that ran a vCPU."""
    r = run_shared(build, Boot(images=[test_guest(build, "multi-vcpu")]), "multi-vcpu")
    problems = []
    ran_clean(problems, r, ["multi-vcpu"], "one guest")
    expect(problems, "4 vCPU(s)" in r.log, "one guest: multi-vcpu did not get 4 vCPUs")
    used, _ = expect_summary(problems, r.log, "one guest")
    cpus = len([n for n in re.findall(r"^hv: sched:   CPU \d+ .* (\d+) switch\(es\) to a vCPU$",
                                      r.log, re.M) if int(n) > 0]) or 1
    expect(problems, used.get("rsb_fill") == cpus,
           f"one guest: {used.get('rsb_fill')} RSB fills, expected {cpus} (each CPU's first entry)")
    return problems, r


@system_test
def test_spec_gds_model_without_its_microcode_is_reported(build):
    """Skylake-Client is a GDS model (family 6 model 0x5e, AVX); under TCG it
    has no GDS_CTRL, so hv cannot apply the mitigation and warns. The other
    decisions follow from the same facts as on a real Skylake without
    microcode updates."""
    r = run(build, Boot(images=two_guests(build), cpu=SKYLAKE), "spec-skylake")
    problems = []
    ran_clean(problems, r, ["lines-a", "lines-b"], "skylake")
    got = expect_decisions(problems, r.log, {
        "xpti": ("on", "Meltdown"),
        "verw": ("on", "MDS"),
        "gds": ("off", "VULNERABLE: GDS: no GDS_CTRL microcode"),
    }, "skylake")
    expect(problems, got.get("gds", (0, 0, False))[2], "skylake: the GDS line is not a warning")
    expect(problems, re.search(r"^hv: spec: cpu Intel family 0x6 model 0x5e", r.log, re.M),
           "skylake: the facts line does not show family 6 model 0x5e")
    return problems, r


@system_test
def test_spec_forced_on_and_off(build):
    """hv.cfg forces against the facts both ways: XPTI and VERW on for an AMD
    CPU, the RSB fill and register clearing off. Forcing off a mitigation
    the CPU needs is a warning; the summary follows hv.cfg, and no fill is
    made."""
    cfg = "[hv]\nxpti = on\nverw = on\nrsb_fill = off\nclear_regs = off\n"
    r = run(build, Boot(images=two_guests(build), cfg=cfg), "spec-forced")
    problems = []
    ran_clean(problems, r, ["lines-a", "lines-b"], "forced")
    got = expect_decisions(problems, r.log, {
        "xpti": ("on", "hv.cfg; auto: off, AMD/Hygon: no Meltdown"),
        "verw": ("on", "hv.cfg; auto: off"),
        "rsb_fill": ("off", "hv.cfg; auto: on, no IBPB to clear the RSB"),
        "clear_regs": ("off", "hv.cfg; auto: on"),
        "ibpb": ("off", "no IBPB"),
    }, "forced")
    expect(problems, got.get("rsb_fill", (0, 0, False))[2],
           "forced: rsb_fill forced off where the CPU needs it is not a warning")
    expect(problems, not got.get("clear_regs", (0, 0, True))[2],
           "forced: clear_regs off (defence in depth) should not be a warning")
    used, unused = expect_summary(problems, r.log, "forced")
    expect(problems, "rsb_fill" in unused and "xpti" in used and "verw" in used,
           f"forced: summary used {sorted(used)}, not used {sorted(unused)}")
    return problems, r


@system_test
def test_spec_master_off_with_one_key_back_to_auto(build):
    """`mitigations = off` turns every mitigation off, whatever the line order;
    a mitigation's own key (`xpti = auto`, written before it) overrides it."""
    cfg = "[hv]\nxpti = auto\nmitigations = off\n"
    r = run(build, Boot(images=two_guests(build), cpu=INTEL, cfg=cfg), "spec-master-off")
    problems = []
    ran_clean(problems, r, ["lines-a", "lines-b"], "master off")
    expect_decisions(problems, r.log, {
        "xpti": ("on", "Meltdown: Intel, no RDCL_NO"),
        "verw": ("off", "hv.cfg; auto: on, MDS"),
        "ibpb": ("off", "hv.cfg, as auto"),
        "swapgs_fence": ("off", "hv.cfg; auto: on"),
        "clear_regs": ("off", "hv.cfg; auto: on"),
    }, "master off")
    used, unused = expect_summary(problems, r.log, "master off")
    expect(problems, list(used) == ["xpti"], f"master off: used {sorted(used)}, expected xpti")
    return problems, r


@system_test
def test_spec_refused_force_is_logged_and_hv_runs_on(build):
    """Forcing on what TCG's CPU cannot do: an IBPB, a PCID, Zenbleed's DE_CFG
    bit, GDS's control (each an MSR or CR4 write that would #GP). Each is
    refused with a warning naming why, and the guests run as usual."""
    cfg = "[hv]\nibpb = on\npcid = on\nzenbleed = on\ngds = on\n"
    r = run(build, Boot(images=two_guests(build), cfg=cfg, smp=1),  # turns on one CPU
            "spec-refused")
    problems = []
    ran_clean(problems, r, ["lines-a", "lines-b"], "refused")
    for name, why in [("ibpb", "no IBPB, the MSR write would #GP"),
                      ("pcid", "no PCID, CR4.PCIDE would #GP"),
                      ("zenbleed", "AMD family 17h only"),
                      ("gds", "no GDS_CTRL")]:
        expect(problems, re.search(rf"^hv: warning: spec: {name} off \(hv.cfg's on refused: "
                                   rf"[^)]*{re.escape(why)}", r.log, re.M),
               f"refused: no warning refusing {name} ({why})")
    used, _ = expect_summary(problems, r.log, "refused")
    expect(problems, "ibpb" not in used and (used.get("rsb_fill") or 0) >= 20,
           f"refused: used {used}: without IBPB the RSB fill should do the switches")
    return problems, r


@system_test
def test_spec_bad_value_is_reported_naming_the_key(build):
    """`xpti = maybe`: hv.cfg's error names the line and the key; the line and
    the rest of the file are ignored, so xpti stays as auto decides."""
    cfg = "[hv]\nverw = on\nxpti = maybe\nibpb = on\n"
    r = run(build, Boot(images=[test_guest(build, "exit-status")], cfg=cfg, cpu=INTEL),
            "spec-bad-value")
    problems = []
    expect(problems, re.search(r"^hv: error: hv.cfg line \d+: key 'xpti': must be auto, on or off; "
                               r"the rest of the file is ignored$", r.log, re.M),
           "bad value: the error does not name the key and the allowed values")
    expect_decisions(problems, r.log, {
        "verw": ("on", "hv.cfg, as auto"),         # before the bad line: kept
        "xpti": ("on", "Meltdown"),                # the bad line: auto
        "ibpb": ("off", "no IBPB"),                # after it: ignored, no refusal
    }, "bad value")
    expect(problems, "refused" not in r.log, "bad value: a line after the error was applied")
    expect(problems, "hv: guest exit-status exited with status 7" in r.log,
           "bad value: the guest did not run")
    return problems, r

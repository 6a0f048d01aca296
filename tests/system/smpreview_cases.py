"""The attack review of the cross-CPU code (issue 13, stream smpreview):
hostile guests aimed at what round one's APs-run-guests and per-guest
locks made possible, beside the well-behaved companion.

  - smpreview-restart (tests/guests/smpreview_restart.c): 16 vCPUs over
    every CPU, `on_exit = restart`; in each new life vCPU 1 (on CPU 1)
    exits at once, racing the restart's additions of the vCPUs still to
    be added (hv/guest/restart.c, running_again). Without the end waiting
    for them (hv/guest/guest_end.c, wait_for_additions) a stop reached a
    vCPU before its addition: on its CPU the stop read the vCPU's entity,
    not bound yet (NULL: an hv page fault, a panic), or the addition came
    after the stop and made a vCPU of an ended guest runnable again (its
    memory then freed by the reaper while still queued).

The judge: hv never panics and ends on its own, the guest restarted
exactly max_restarts times with one health entry per end (restart each
time, then the stop at max_restarts), the companion finishes, hv's leak
checks and end-of-run balance find nothing kept, and the guests ran on
every CPU."""

import re

from harness import Boot, run
from judge import companion, exited, expect, test_guest
from registry import system_test
from restart_cases import health_lines, no_leaks, summary_line

RESTARTS = 60
CFG = f"[guest smpreview-restart]\non_exit = restart\nmax_restarts = {RESTARTS}\n"
# Ends hv's leak check sees: the companion and smpreview-restart's lives.
ENDS = 1 + RESTARTS + 1


def restart_race_run(build, smp, name):
    boot = Boot(smp=smp, images=[test_guest(build, g) for g in ["smpreview-restart", "companion"]],
                cfg=CFG, runner_cfg=["time_limit_ms = 100000"], timeout=300)
    r = run(build, boot, name)
    problems = []
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, r.status == 0, f"hv ended with status {r.status}")
    expect(problems, "time limit of hv.cfg reached" not in r.log,
           "the run only ended at hv.cfg's time limit (a vCPU of an ended guest kept running?)")
    s = summary_line(r.log, "smpreview-restart")
    expect(problems, s is not None and f"restarts {RESTARTS}" in s, f"summary line: {s}")
    # The log keeps the last HV_HEALTH_LOG_ENTRIES (12) ends.
    h = health_lines(r.log, "smpreview-restart")
    expect(problems, [l.split(" -> ")[1].split(",")[0] for l in h if " -> " in l] ==
           ["restart"] * 11 + ["stop: max_restarts reached"], f"health lines: {h[-3:]}")
    expect(problems, f"health: {RESTARTS + 1 - 12} older entries not kept" in "\n".join(h),
           f"health lines: {h[:2]}")
    expect(problems, companion(r.log) is not None and exited(r.log, "companion"),
           "the companion did not finish its work and exit 0")
    no_leaks(problems, r.log, ENDS)
    expect(problems, re.search(rf"^hv: sched: guests ran on {smp} of {smp} CPU\(s\)", r.log, re.M),
           f"the guests did not run on all {smp} CPUs")
    return problems, r


@system_test
def test_smpreview_restart_race_two_cpus(build):
    """SMP 2: each life of smpreview-restart ends on CPU 1 while the
    restart still adds its vCPUs: 60 restarts decided and done, no panic,
    no vCPU of an ended guest left running, nothing leaked."""
    return restart_race_run(build, 2, "smpreview-restart-smp2")


@system_test
def test_smpreview_restart_race_four_cpus(build):
    """SMP 4: the same with the vCPUs over four CPUs (the stop pushed to
    CPUs 2 and 3 can also come before their additions)."""
    return restart_race_run(build, 4, "smpreview-restart-smp4")


STORM = 3000
# The run's other reschedule IPIs: the APs' start, the reaper's grace
# periods, vCPU 1's wake-ups before and after its poll: 8 on the fixed
# build. Before the fix an unmask sent one whenever vCPU 1's CPU had
# answered the last (1,024 of the 3,000 at SMP 2, mttcg).
STORM_IPIS_MAX = 300
IPIS = re.compile(r"^hv: sched: (\d+) reschedule IPI\(s\) sent$", re.M)


@system_test
def test_smpreview_unmask_storm_sends_no_ipi_per_unmask(build):
    """SMP 2, one vCPU per CPU: vCPU 0 unmasks a pending port of vCPU 1
    3,000 times while vCPU 1 sleeps in a poll of another port (finding 4:
    each unmask sent vCPU 1's CPU a wake request and an IPI, none of which
    could wake it). hv sends at most 300 reschedule IPIs in the whole run,
    the poll still ends by its own port's send, and the unmasked port's
    event reaches vCPU 1 after it."""
    name = "sched-unmask-storm"
    r = run(build, Boot(smp=2, images=[test_guest(build, name)],
                        cfg=f"[guest {name}]\ncpus = 0-1\n", runner_cfg=["time_limit_ms = 60000"],
                        timeout=300), "unmask-storm")
    problems = []
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, exited(r.log, name), f"{name} did not exit 0 (its checks: the log)")
    expect(problems, f"{name}: {STORM} unmasks of port B" in r.log, "the storm did not run")
    expect(problems, re.search(r"^hv: sched: guests ran on 2 of 2 CPU\(s\)", r.log, re.M),
           "the vCPUs did not run on two CPUs")
    m = IPIS.search(r.log)
    expect(problems, m and int(m.group(1)) <= STORM_IPIS_MAX,
           f"reschedule IPIs: {m and m.group(1)} (at most {STORM_IPIS_MAX}; about a third of the "
           f"{STORM} unmasks sent one before finding 4's fix)")
    print(f"  unmask-storm: {m and m.group(1)} reschedule IPIs for {STORM} unmasks")
    return problems, r

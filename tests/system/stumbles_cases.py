"""Issue 15's stumbles: how a run ends on a real PC and under the QEMU
runner, and the user-facing scripts (make run, make debug, hv-qemu,
tests/run-all.sh)."""

import os
import subprocess
import tempfile
import time

from harness import ROOT, Boot, Qmp, Result, build_esp, qemu_command
from registry import system_test

SAFE_LINE = "safe to power off now"


def expect(problems, cond, what):
    if not cond:
        problems.append(what)


def example(name):
    return os.path.join(ROOT, "images", name)


def test_guest(build, name):
    return os.path.join(build, "test-guests", name)


def serial_text(workdir):
    path = os.path.join(workdir, "serial.log")
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace").replace("\r\n", "\n")


def boot_real_pc(build, boot, name, until, screen=False, settle=2.0):
    """Boots the ESP as a real PC would (scripts/hv-qemu --real-pc: no
    qemu_exit_port, no debug-exit device) and watches the serial log (or,
    with screen=True, the screen) until `until(text)` holds, then `settle`
    seconds more. Returns (Result, whether QEMU was still running then);
    QEMU is quit if it was."""
    workdir = tempfile.mkdtemp(prefix=f"hv-{name}-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    qmp_path = os.path.join(workdir, "qmp.sock")
    cmd = qemu_command(boot, esp, workdir, qmp_path) + ["--real-pc"]
    start = time.monotonic()
    deadline = start + boot.timeout
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    text = ""
    running = False
    try:
        qmp = Qmp(qmp_path, deadline)
        ppm = os.path.join(workdir, "screen.ppm")
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(1)
            if screen:
                if qmp.call("screendump", filename=ppm).get("error"):
                    continue
                out = subprocess.run([os.path.join(build, "screentext"), ppm],
                                     capture_output=True, text=True)
                if out.returncode == 0:
                    text = out.stdout
            else:
                text = serial_text(workdir)
            if until(text):
                time.sleep(settle)
                break
        running = proc.poll() is None
        if running:
            qmp.call("quit")
    except OSError:
        pass
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    log = text if screen else serial_text(workdir)
    return Result(proc.returncode, log + err, screen=text if screen else "",
                  seconds=time.monotonic() - start, workdir=workdir), running


# --- how a run ends (hv/power/power.c) -----------------------------------------

@system_test
def test_real_pc_halts_with_summary_on_screen(build):
    """No serial port, an ESP made for a real PC: the run ends halted with the
    summary and the safe-to-power-off line on screen, and stays so."""
    boot = Boot(images=[example("hello")], serial=False, timeout=120)
    r, running = boot_real_pc(build, boot, "realpc-screen", lambda t: SAFE_LINE in t, screen=True)
    problems = []
    expect(problems, "hv: halted with status 0: everything ended well; safe to power off now"
           in r.screen, "no 'halted with status 0 ... safe to power off now' line on screen")
    expect(problems, "hv: summary: 1 guest(s)" in r.screen, "the summary is not on screen at the end")
    expect(problems, running, "QEMU did not keep running: the machine powered off")
    expect(problems, "powering off" not in r.screen, "a 'powering off' line on a real PC's screen")
    return problems, r


@system_test
def test_real_pc_failure_says_one_end(build):
    """A failing run on a real PC asked to power off: halt_on_failure keeps
    the report, and one end line says so (not 'powering off' and then
    'stopped')."""
    boot = Boot(images=[test_guest(build, "exit-status")], cfg="[hv]\npower_off_at_end = yes\n",
                timeout=120)
    r, running = boot_real_pc(build, boot, "realpc-fail", lambda t: SAFE_LINE in t)
    problems = []
    expect(problems, "hv: error: halted with status 1 (halt_on_failure = yes): a guest failed, "
           "the report above says why; safe to power off now" in r.log,
           "no 'halted with status 1 (halt_on_failure = yes)' line")
    expect(problems, "powering off" not in r.log, "'powering off' logged before halting")
    expect(problems, running, "QEMU did not keep running: the machine powered off")
    return problems, r


@system_test
def test_real_pc_powers_off_when_asked(build):
    """power_off_at_end = yes and a good run: the firmware powers off (QEMU
    ends by itself; without the debug-exit device the runner says 125)."""
    boot = Boot(images=[example("hello")], cfg="[hv]\npower_off_at_end = yes\n", timeout=120)
    r, running = boot_real_pc(build, boot, "realpc-off", lambda t: False)
    problems = []
    expect(problems, not running and r.status == 125,
           f"status {r.status} (running: {running}), expected QEMU to power off (125)")
    expect(problems, "hv: powering off (status 0)" in r.log, "no 'powering off (status 0)' line")
    expect(problems, SAFE_LINE not in r.log, "halted although hv.cfg asked to power off")
    return problems, r

"""Issue 15's stumbles: how a run ends on a real PC and under the QEMU
runner, and the user-facing scripts (make run, make debug, hv-qemu,
tests/run-all.sh)."""

import os
import re
import subprocess
import tempfile
import time

from harness import ROOT, Boot, Qmp, Result, build_esp, qemu_command, run, collect
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
    err = collect(proc)
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


# --- make run, make debug, tests/run-all.sh (the Makefile, scripts/) ------------

def make(build, workdir, target, images, extra=(), env_extra=None, timeout=300, stdin=None):
    """`make TARGET` on an ESP of its own (ESP_IMG, ESP_TREE in workdir), as a
    desktop user runs it: X11's DISPLAY is set."""
    env = dict(os.environ, DISPLAY=":0", **(env_extra or {}))
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    cmd = ["make", "--no-print-directory", "-C", ROOT, target, f"BUILD={build}",
           f"ESP_IMG={workdir}/esp.img", f"ESP_TREE={workdir}/esp", f"IMAGES={images}",
           "HV_CFG="] + list(extra)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=stdin if stdin is not None else subprocess.DEVNULL)


def images_folder(workdir, paths):
    folder = os.path.join(workdir, "images")
    os.makedirs(folder, exist_ok=True)
    for p in paths:
        with open(p, "rb") as src, open(os.path.join(folder, os.path.basename(p)), "wb") as out:
            out.write(src.read())
    return folder


@system_test
def test_make_run_says_hv_status(build):
    """make run on a desktop (DISPLAY=:0 in the environment) boots, exits 0
    after a good run and non-zero (make's 2) after a failed one, and its last
    line names hv's status as the README says."""
    problems = []
    workdir = tempfile.mkdtemp(prefix="hv-makerun-", dir=os.path.join(build, "systest"))
    log = ""
    for name, guest, rc_ok, line in [
            ("good", example("hello"), lambda rc: rc == 0,
             "hv-qemu: hv ended with status 0 (everything ended well)"),
            ("bad", test_guest(build, "exit-status"), lambda rc: rc == 2,
             "hv-qemu: hv ended with status 1 (a guest failed)")]:
        w = os.path.join(workdir, name)
        os.makedirs(w)
        p = make(build, w, "run", images_folder(w, [guest]),
                 [f"RUN_DIR={w}/run", "TIMEOUT=120"])
        log += f"--- make run ({name}): exit {p.returncode}\n{p.stdout}{p.stderr}"
        expect(problems, "Parameter 'type' does not accept value" not in p.stderr,
               f"make run ({name}) passed X11's DISPLAY to QEMU")
        expect(problems, rc_ok(p.returncode), f"make run ({name}) exited {p.returncode}")
        expect(problems, line in p.stderr, f"make run ({name}) lacks '{line}'")
    return problems, Result(0, log, workdir=workdir)


def processes_naming(text):
    """PIDs of live processes whose command line contains `text`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@system_test
def test_make_debug_stops_qemu_with_gdb(build):
    """make debug with gdb quitting at once (its input is empty): make ends
    by itself and no QEMU of it is left running."""
    problems = []
    workdir = tempfile.mkdtemp(prefix="hv-makedebug-", dir=os.path.join(build, "systest"))
    debug_dir = os.path.join(workdir, "debug")
    # A port of its own: tests run in parallel and a user may be debugging.
    port = 20000 + os.getpid() % 20000
    try:
        p = make(build, workdir, "debug", images_folder(workdir, [example("hello")]),
                 [f"DEBUG_DIR={debug_dir}", f"GDB_PORT={port}"], timeout=120)
        log = f"make debug: exit {p.returncode}\n{p.stdout}{p.stderr}"
    except subprocess.TimeoutExpired as e:
        log = f"make debug did not end in 120 s\n{e.stdout or ''}{e.stderr or ''}"
        problems.append("make debug did not end by itself after gdb quit")
    expect(problems, "Remote debugging using" in log, "gdb did not connect to QEMU")
    time.sleep(1)
    left = processes_naming(debug_dir + "/esp.img")
    for pid in left:
        os.kill(pid, 15)
    expect(problems, not left, f"QEMU left running after gdb quit (pids {left})")
    return problems, Result(0, log, workdir=workdir)


@system_test
def test_run_all_keeps_redirected_log(build):
    """tests/run-all.sh (make test) with its output redirected to a file: the
    unit-test and fuzz lines above the system tests stay in the file."""
    problems = []
    workdir = tempfile.mkdtemp(prefix="hv-runall-", dir=os.path.join(build, "systest"))
    out_path = os.path.join(workdir, "make-test.log")
    # The image checker's test (tests/tools/test_check_image.py) reads the
    # test guests from the build folder run-all.sh is given.
    os.symlink(os.path.abspath(os.path.join(build, "test-guests")), os.path.join(workdir, "test-guests"))
    env = dict(os.environ, HV_FUZZ_SECONDS="1", HV_SYSTEM_ARGS="-k no-test-has-this-name")
    with open(out_path, "w") as out:
        p = subprocess.run([os.path.join(ROOT, "tests/run-all.sh"), workdir,
                            os.path.join(build, "unit", "config")],
                           cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=180)
    with open(out_path) as f:
        log = f.read()
    expect(problems, p.returncode == 0, f"run-all.sh exited {p.returncode}")
    expect(problems, "\nunit: " in "\n" + log and "PASS config/" in log,
           "the unit-test lines are missing from the redirected log")
    expect(problems, "PASS fuzz/elf_image" in log, "the fuzz line is missing from the redirected log")
    expect(problems, "system: 0 passed, 0 failed" in log, "the system tests' line is missing")
    expect(problems, log.rstrip().endswith("passed, 0 failed"), "no closing 'N passed, 0 failed' line")
    return problems, Result(0, log, workdir=workdir)


# --- scripts/hv-qemu's options ----------------------------------------------------

@system_test
def test_hv_qemu_help_names_every_option(build):
    """--help exits 0 and documents every option the runner parses (read from
    its own case labels); the README names the ones make run does not set."""
    runner = os.path.join(ROOT, "scripts/hv-qemu")
    p = subprocess.run([runner, "--help"], capture_output=True, text=True, timeout=30)
    with open(runner) as f:
        source = f.read()
    parsed = sorted(set(re.findall(r"^\s+(?:-h\|)?(--[a-z][a-z-]+)\)", source, re.M)))
    problems = []
    expect(problems, p.returncode == 0, f"--help exited {p.returncode}")
    expect(problems, len(parsed) >= 15, f"found only {len(parsed)} options in the runner: {parsed}")
    for opt in parsed:
        expect(problems, re.search(rf"^\s+(?:-\w, )?{re.escape(opt)}\b", p.stdout, re.M),
               f"--help does not document {opt}")
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    for opt in ["--help", "--serial", "--qmp", "--cfg", "--qemu-arg", "--real-pc"]:
        expect(problems, re.search(rf"`[^`]*{re.escape(opt)}\b", readme),
               f"the README does not name {opt}")
    bad = subprocess.run([runner, "--no-such-option"], capture_output=True, text=True, timeout=30)
    expect(problems, bad.returncode == 126 and "--help" in bad.stderr,
           "an unknown option is not refused with a pointer to --help")
    return problems, Result(0, p.stdout + bad.stderr)


@system_test
def test_hv_qemu_passes_extra_qemu_args(build):
    """--qemu-arg goes to QEMU after the runner's own arguments: -m 512 after
    the runner's -m 256 gives hv about 512 MiB."""
    boot = Boot(images=[example("hello")], mem=256, timeout=120)
    workdir = tempfile.mkdtemp(prefix="hv-qemuarg-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    cmd = qemu_command(boot, esp, workdir) + ["--qemu-arg", "-m", "--qemu-arg", "512"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    r = Result(p.returncode, serial_text(workdir) + p.stderr, workdir=workdir)
    m = re.search(r"^hv: memory: (\d+) MiB usable", r.log, re.M)
    problems = []
    expect(problems, r.status == 0, f"status {r.status}")
    expect(problems, m and int(m.group(1)) > 400,
           f"hv saw {m.group(1) if m else 'no'} MiB: the extra -m 512 did not reach QEMU")
    return problems, r


@system_test
def test_serial_on_terminal_without_screen_clearing(build):
    """--serial stdio (make run): the firmware's clear-screen and cursor
    sequences do not reach the terminal; hv's lines do."""
    boot = Boot(images=[example("hello")], timeout=120)
    workdir = tempfile.mkdtemp(prefix="hv-stdio-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    cmd = qemu_command(boot, esp, workdir)
    cmd[cmd.index("--serial") + 1] = "stdio"
    p = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
    out = p.stdout.decode("utf-8", "replace")
    r = Result(p.returncode, out.replace("\r\n", "\n") + p.stderr.decode(), workdir=workdir)
    problems = []
    expect(problems, r.status == 0, f"status {r.status}")
    expect(problems, "hv: powering off (status 0)" in r.log, "hv's lines did not reach stdout")
    controls = sorted(set(re.findall(r"\x1b(?:\[[0-9;?]*[A-Za-ln-z]|c)", out)))
    expect(problems, not controls, f"screen control sequences reached the terminal: {controls}")
    return problems, r


# --- \images of any size (efi/esp_files.c) ----------------------------------------

@system_test
def test_more_than_128_images_all_run(build):
    """140 images (the stub's table once held 128): every one is read and
    started, each guest ends well, and the run's status is 0."""
    count = 140
    images = [(example("hello"), f"g{i:03d}") for i in range(count)]
    r = run(build, Boot(images=images, mem=1024, timeout=300), "many-images")
    problems = []
    expect(problems, f"hv: esp: {count} file(s) in \\images" in r.log, f"not {count} files listed")
    expect(problems, f"hv: {count} guest(s) started" in r.log, f"not {count} guests started")
    expect(problems, f"hv: summary: {count} guest(s)" in r.log, f"not {count} guests in the summary")
    expect(problems, "not read" not in r.log and "more file(s)" not in r.log, "files were left out")
    expect(problems, r.status == 0, f"status {r.status}, expected 0")
    return problems, r


# --- what the screen keeps (hv/main.c, hv/console/log.c) --------------------------

@system_test
def test_boot_header_on_screen_at_the_end(build):
    """60 guests push the boot header far off the 50-row screen; at the end
    the screen shows it again above the closing line: CPU protections,
    console, memory, and how many CPUs hv uses of those ACPI lists."""
    images = [(example("hello"), f"g{i:02d}") for i in range(60)]
    boot = Boot(images=images, serial=False, smp=2, mem=512, timeout=180)
    r, running = boot_real_pc(build, boot, "header", lambda t: SAFE_LINE in t, screen=True,
                              settle=0)
    problems = []
    screen = r.screen
    expect(problems, SAFE_LINE in screen, "the run did not reach its end on screen")
    expect(problems, "hv: boot header, repeated:" in screen, "no repeated boot header on screen")
    for needle in ["hv:   hv ", "hv:   cpu: ", "protections: WP on", "hv:   console: serial absent",
                   "hv:   memory: ", "hv:   acpi: revision", "2 CPU(s), local APIC",
                   "hv: smp: hv used 2 of 2 CPU(s)"]:
        expect(problems, needle in screen, f"'{needle}' not on the screen at the end")
    lines = screen.splitlines()
    header_at = next((i for i, l in enumerate(lines) if "boot header, repeated" in l), None)
    expect(problems, header_at is None or not any("hv: console: serial absent" in l
                                                  for l in lines[:header_at]),
           "the original boot header is still on screen: the test does not show the repeat")
    return problems, r


@system_test
def test_mkesp_refuses_the_runners_setting(build):
    """An ESP for a real PC never carries qemu_exit_port: mkesp refuses an
    hv.cfg that sets it, and takes one that does not."""
    workdir = tempfile.mkdtemp(prefix="hv-mkesp-", dir=os.path.join(build, "systest"))
    problems = []
    log = ""
    for name, text, ok in [("qemu", "[hv]\n  qemu_exit_port = 0xf4\n", False),
                           ("pc", "[hv]\npower_off_at_end = yes\n", True)]:
        cfg = os.path.join(workdir, name + ".cfg")
        with open(cfg, "w") as f:
            f.write(text)
        p = subprocess.run([os.path.join(ROOT, "scripts/mkesp.sh"), "--efi",
                            os.path.join(build, "hv.efi"), "--cfg", cfg,
                            "--out", os.path.join(workdir, name + ".img")],
                           capture_output=True, text=True, timeout=60)
        log += f"{name}: exit {p.returncode}\n{p.stderr}"
        expect(problems, (p.returncode == 0) == ok,
               f"mkesp {'refused' if ok else 'took'} an hv.cfg {'without' if ok else 'with'} qemu_exit_port")
    expect(problems, "qemu_exit_port" in log, "the refusal does not name qemu_exit_port")
    return problems, Result(0, log, workdir=workdir)


@system_test
def test_status_line_at_the_top_live(build):
    """The screen's top row is a status line, refreshed while guests run:
    hv's version, CPUs used of those there are, uptime (growing), each
    guest's state and share; at the end it shows how each guest ended."""
    seen = []

    def watch(text):
        top = text.splitlines()[0] if text else ""
        seen.append(top)
        return SAFE_LINE in text

    boot = Boot(images=[test_guest(build, "sleeper"), example("hello")],
                cfg="[hv]\ntime_limit_ms = 6000\n", serial=False, smp=2, timeout=120)
    r, running = boot_real_pc(build, boot, "status", watch, screen=True, settle=0)
    problems = []
    live = [t for t in seen if " sleeper wait " in t]
    head = re.compile(r"^hv \d+\.\d+\.\d+ \| 2 of 2 CPU\(s\) used \| up (\d+)\.(\d) s \|")
    ups = sorted({int(m.group(1)) * 10 + int(m.group(2)) for t in live for m in [head.match(t)] if m})
    expect(problems, len(ups) >= 2, f"no live status line with a growing uptime; top rows seen: {seen[:6]}")
    final = r.screen.splitlines()[0] if r.screen else ""
    expect(problems, head.match(final) and " sleeper ended " in final and " hello exit 0 " in final,
           f"the final status line does not say how the guests ended: '{final}'")
    return problems, r


@system_test
def test_readme_names_every_package_deps_installs(build):
    """The README's quick start lists every Debian package scripts/deps.sh
    installs (a new user reads it to know what will be installed)."""
    with open(os.path.join(ROOT, "scripts/deps.sh")) as f:
        deps = f.read()
    block = re.search(r"^packages=\((.*?)^\)", deps, re.M | re.S)
    packages = re.findall(r"^\s*([^#\n]+)", block.group(1), re.M) if block else []
    packages = [p for line in packages for p in line.split()]
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    quick = readme[readme.find("## Quick start"):readme.find("## Building")]
    problems = []
    expect(problems, len(packages) >= 8, f"read only {packages} from scripts/deps.sh")
    for p in packages:
        expect(problems, re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", quick),
               f"the README's quick start does not name {p}")
    return problems, Result(0, " ".join(packages))

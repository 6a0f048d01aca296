"""System tests of the guest SDK as a folder of its own (make install-sdk)
and of console input through the SDK: a guest built out of tree against an
installed SDK boots and runs; the SDK's input functions deliver typed lines.
Each returns (problems, result)."""

import os
import shutil
import subprocess
import tempfile

from harness import ROOT, Boot, run, collect
from judge import exited, expect, guest_lines
from registry import system_test

TIME_LIMIT = ["time_limit_ms = 60000"]


def clean_env():
    """The environment without make's own variables: a `make test` calling
    this must not hand its jobserver or flags to the makes run here."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "CFLAGS", "LDFLAGS")}
    env["LC_ALL"] = "C"
    return env


def text_files(folder):
    for dirpath, _, names in os.walk(folder):
        for n in names:
            path = os.path.join(dirpath, n)
            if not n.endswith(".a"):
                yield path


@system_test
def test_sdk_guest_built_out_of_tree(build):
    """make install-sdk into a temporary folder, move the folder elsewhere
    (nothing in it may name where it was made or hv's tree), build
    guest/sdk-example there with its three-line Makefile, check the image and
    boot it."""
    problems = []
    tmp = tempfile.mkdtemp(prefix="hv-sdk-test-")
    try:
        env = clean_env()
        made = os.path.join(tmp, "made")
        out = subprocess.run(["make", "--no-print-directory", "-C", ROOT, f"BUILD={build}",
                              "install-sdk", f"PREFIX={made}"],
                             capture_output=True, text=True, env=env)
        if out.returncode != 0:
            return [f"make install-sdk failed: {(out.stdout + out.stderr)[-800:]}"], None
        for part in ("hvg.mk", "include/hvg.h", "include/hvg_event.h", "include/hv/abi.h",
                     "include/lib/fmt.h", "include/lib/string.h", "lib/libhvg.a",
                     "lib/libhvg-pie.a", "lib/hvg.ld", "bin/hvg-check-image"):
            expect(problems, os.path.exists(os.path.join(made, part)), f"the SDK has no {part}")
        sdk = os.path.join(tmp, "elsewhere", "hv-sdk")
        os.makedirs(os.path.dirname(sdk))
        shutil.move(made, sdk)
        for path in text_files(sdk):
            with open(path, "rb") as f:
                data = f.read()
            expect(problems, ROOT.encode() not in data and made.encode() not in data,
                   f"{os.path.relpath(path, sdk)} names the tree or the install folder")

        proj = os.path.join(tmp, "project")
        shutil.copytree(os.path.join(ROOT, "guest", "sdk-example"), proj)
        with open(os.path.join(proj, "Makefile")) as f:
            makefile = [l for l in f.read().splitlines() if l.strip()]
        expect(problems, len(makefile) == 3, f"the example Makefile has {len(makefile)} lines, not 3")
        # HVG_SDK on the command line overrides the Makefile's `:=`.
        out = subprocess.run(["make", "--no-print-directory", "-C", proj, f"HVG_SDK={sdk}",
                              "V=1", "all", "check"], capture_output=True, text=True, env=env)
        log = out.stdout + out.stderr
        if out.returncode != 0:
            return problems + [f"building the example against the SDK failed: {log[-1500:]}"], None
        expect(problems, ROOT not in log, "the out-of-tree build used hv's source tree: " +
               next((l for l in log.splitlines() if ROOT in l), "")[:300])
        expect(problems, "1 passed, 0 failed" in log, "hvg-check-image did not pass the image")
        for dirpath, _, names in os.walk(os.path.join(proj, "hvg-obj")):
            for n in names:
                if n.endswith(".d"):
                    with open(os.path.join(dirpath, n)) as f:
                        deps = f.read()
                    expect(problems, ROOT not in deps, f"{n} lists headers of hv's tree")
                    expect(problems, f"{sdk}/include/hvg.h" in deps,
                           f"{n} does not list the SDK's hvg.h: {deps[:300]}")
        image = os.path.join(proj, "greeter")
        if not os.path.exists(image):
            return problems + ["make built no image 'greeter'"], None
        r = run(build, Boot(images=[image], runner_cfg=TIME_LIMIT, timeout=90), "sdk-out-of-tree")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = guest_lines(r.log, "greeter")
    expect(problems, any(l.startswith("greeter: built out of tree against the hv SDK (ABI 2), "
                                      "1024 KiB of memory") for l in lines),
           f"the guest's first line is missing or wrong: {lines[:2]}")
    expect(problems, any(l.startswith("greeter: slept ") and l.endswith(" ms on the timer, goodbye")
                         for l in lines), f"the guest's second line is missing: {lines[:3]}")
    expect(problems, exited(r.log, "greeter"), "greeter did not exit with status 0")
    expect(problems, r.status == 0, f"hv's exit status {r.status}, expected 0")
    return problems, r


# --- the PS/2 keyboard (hv/console/ps2.c): keys pressed through QMP --------------

QCODES = {" ": "spc", "\n": "ret", "\b": "backspace", "!": ("shift", "1"), "-": "minus"}


def key_presses(text):
    """QMP send-key key lists that type `text` on a US keyboard."""
    for ch in text:
        if ch.isalpha() and ch.isupper():
            yield ["shift", ch.lower()]
        elif ch.isalnum():
            yield [ch]
        else:
            q = QCODES[ch]
            yield list(q) if isinstance(q, tuple) else [q]


def run_typing(build, boot, name, script):
    """Boots with QMP; `script` is a list of (text to wait for in the serial
    log, key lists to press then). Returns the Result when QEMU ends."""
    import tempfile as _tempfile
    import time
    from harness import Qmp, Result, build_esp, qemu_command
    workdir = _tempfile.mkdtemp(prefix=f"hv-{name}-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    qmp_path = os.path.join(workdir, "qmp.sock")
    serial = os.path.join(workdir, "serial.log")
    start = time.monotonic()
    deadline = start + boot.timeout
    proc = subprocess.Popen(qemu_command(boot, esp, workdir, qmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def log_has(text):
        if not os.path.exists(serial):
            return False
        with open(serial, "rb") as f:
            return text.encode() in f.read()

    try:
        qmp = Qmp(qmp_path, deadline)
        for wait_for, presses in script:
            while time.monotonic() < deadline and proc.poll() is None and not log_has(wait_for):
                time.sleep(0.1)
            for keys in presses:
                if proc.poll() is not None:
                    break
                qmp.call("send-key", keys=[{"type": "qcode", "data": k} for k in keys],
                         **{"hold-time": 30})
                # QEMU's keyboard queue holds 16 bytes and hv reads it every
                # 20 ms: a key at a time leaves room for a loaded host.
                time.sleep(0.15)
    except (OSError, ValueError):
        pass  # QEMU ended
    try:
        _, err = proc.communicate(timeout=max(5, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    log = ""
    if os.path.exists(serial):
        with open(serial, "rb") as f:
            log = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
    return Result(proc.returncode, log + err, seconds=time.monotonic() - start, workdir=workdir)


@system_test
def test_ps2_keyboard_types_into_the_focused_guest(build):
    """Keys pressed on QEMU's PS/2 keyboard reach the guest with the focus as
    the serial line's bytes would: Shift, Backspace, Enter, and Ctrl-A n
    moving the focus."""
    from judge import test_guest
    probe = test_guest(build, "console-input")
    cfg = "[guest in-a]\nname = in-a\n[guest in-b]\nname = in-b\n"
    script = [("in-b: ready for input", list(key_presses("Hello 42\n"))),
              ("in-a got: ", [["ctrl", "a"], ["n"]]),
              ("console: input goes to guest in-b", list(key_presses("Worx\bks!\n")))]
    r = run_typing(build, Boot(images=[(probe, "in-a"), (probe, "in-b")], cfg=cfg,
                               runner_cfg=TIME_LIMIT, timeout=90), "ps2", script)
    problems = []
    expect(problems, "hv: keyboard: PS/2 (i8042)" in r.log, "hv did not find QEMU's PS/2 keyboard")
    expect(problems, "[in-a] in-a got: Hello 42" in r.log,
           "the first guest did not get 'Hello 42' typed on the keyboard: " +
           "; ".join(l for l in r.log.splitlines() if " got: " in l))
    expect(problems, "hv: console: input goes to guest in-b" in r.log,
           "Ctrl-A n on the keyboard did not move the focus")
    expect(problems, "[in-b] in-b got: Works!" in r.log,
           "the second guest did not get 'Works!' (with a backspace) typed on the keyboard")
    expect(problems, exited(r.log, "in-a") and exited(r.log, "in-b"), "the guests did not exit 0")
    return problems, r


@system_test
def test_ps2_absent_keyboard_left_alone(build):
    """No i8042 (QEMU's i8042=off): on q35, whose FADT has the IA-PC boot
    flags, hv believes ACPI's "no 8042" and touches no port; on pc, whose
    FADT is too old for them, the floating bus (0xff at port 0x64) says it.
    Either way the run is clean."""
    from judge import test_guest
    problems = []
    r = None
    for machine, why in (("q35,i8042=off", "ACPI says there is no i8042"),
                         ("pc,i8042=off", "no i8042 at port 0x64")):
        r = run(build, Boot(images=[test_guest(build, "exit-status")], machine=machine,
                            runner_cfg=TIME_LIMIT, timeout=90), "ps2-absent")
        expect(problems, f"hv: keyboard: no PS/2 keyboard ({why})" in r.log,
               f"{machine}: no 'keyboard: no PS/2 keyboard ({why})' line: " +
               "; ".join(l for l in r.log.splitlines() if "keyboard" in l))
        expect(problems, exited(r.log, "exit-status", 7), f"{machine}: the guest did not run")
        expect(problems, "PANIC" not in r.log and "warning:" not in r.log,
               f"{machine}: a panic or warning")
    return problems, r


def run_screen_keys(build, boot, name, steps, screentext):
    """Boots with QMP and no serial line; for each step (key lists to
    press, predicate on the screen's text) presses the keys, then reads the
    screen every 0.5 s until the predicate holds (at most 30 s after a key,
    until the boot's deadline for a step without keys). Returns
    (Result, the screen text each step ended with, or None where it never
    held)."""
    import tempfile as _tempfile
    import time
    from harness import Qmp, Result, build_esp, qemu_command
    workdir = _tempfile.mkdtemp(prefix=f"hv-{name}-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    qmp_path = os.path.join(workdir, "qmp.sock")
    start = time.monotonic()
    deadline = start + boot.timeout
    proc = subprocess.Popen(qemu_command(boot, esp, workdir, qmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    text = ""
    try:
        qmp = Qmp(qmp_path, deadline)
        ppm = os.path.join(workdir, "screen.ppm")
        for presses, until in steps:
            for keys in presses:
                qmp.call("send-key", keys=[{"type": "qcode", "data": k} for k in keys],
                         **{"hold-time": 30})
                time.sleep(0.1)
            # A key's answer has 30 s; a step that presses nothing waits
            # for the run itself (firmware, boot, guests: ~40 s at SMP 8
            # on a loaded 2-core host), up to the boot's own deadline.
            step_end = min(deadline, time.monotonic() + 30) if presses else deadline
            got = None
            while time.monotonic() < step_end and proc.poll() is None:
                time.sleep(0.5)
                if qmp.call("screendump", filename=ppm).get("error"):
                    continue
                out = subprocess.run([screentext, ppm], capture_output=True, text=True)
                if out.returncode == 0:
                    text = out.stdout
                    if until(text):
                        got = text
                        break
            seen.append(got)
            if got is None:
                break
        if proc.poll() is None:
            qmp.call("quit")
    except (OSError, ValueError):
        pass
    err = collect(proc)
    return Result(proc.returncode, err, screen=text, seconds=time.monotonic() - start,
                  workdir=workdir), seen


@system_test
def test_ps2_keys_scroll_the_screen_back(build):
    """A run that halts at its end (halt_at_end) on a PC without a serial
    line: the boot banner has scrolled off the screen; Shift+Page Up scrolls
    back (the bottom row then says so), Shift+Home shows the banner again,
    Shift+End returns to the halt line."""
    import re
    from judge import test_guest
    screentext = os.path.join(build, "screentext")
    banner = re.compile(r"hv: hv \d+\.\d+\.\d+: a minimal paravirtualizing hypervisor")
    halted = "hv: halted with status 0 (halt_at_end = yes)"
    note = "-- scrolled back: Shift+Page Down returns --"
    steps = [
        ([], lambda t: "scroll the screen through its history" in t),
        ([["shift", "pgup"]], lambda t: note in t),
        ([["shift", "home"]], lambda t: banner.search(t) is not None),
        ([["shift", "end"]], lambda t: halted in t and note not in t),
    ]
    boot = Boot(images=[test_guest(build, "lines-a")], serial=False,
                runner_cfg=["halt_at_end = yes"], timeout=150)
    r, seen = run_screen_keys(build, boot, "ps2-scroll", steps, screentext)
    problems = []
    names = ["the end of the run with the scrolling hint", "the scrolled-back note after Shift+Page Up",
             "the boot banner after Shift+Home", "the halt line (and no note) after Shift+End"]
    for i, what in enumerate(names):
        expect(problems, i < len(seen) and seen[i] is not None, f"the screen never showed {what}")
    if seen and seen[0] is not None:
        expect(problems, banner.search(seen[0]) is None,
               "the banner was still on screen at the end: nothing to scroll back to")
    if len(seen) > 1 and seen[1] is not None:
        expect(problems, halted not in seen[1], "Shift+Page Up left the halt line on screen")
    r.log = r.screen
    return problems, r

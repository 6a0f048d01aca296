"""Boots hv ESPs in QEMU + OVMF and collects what a test judges: the serial
log, the exit status (as scripts/hv-qemu reports it) and, for tests without a
serial port, the text on the screen read back from QMP screendumps."""

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

class _PerThread(threading.local):
    """A setting read and written as x[0], one value per thread: run.py's
    workers run tests of its passes (plain, mitigated, SMP 4) side by side,
    each thread setting its test's."""

    def __init__(self, value):
        self.value = value

    def __getitem__(self, i):
        assert i == 0
        return self.value

    def __setitem__(self, i, value):
        assert i == 0
        self.value = value


# The CPUs of every boot that does not choose its own: HV_TEST_SMP=N (the
# whole suite at SMP N: make test-smp), or run.py's --smp4 pass, which sets
# it for the tests it runs again (issue 13).
DEFAULT_SMP = _PerThread(int(os.environ.get("HV_TEST_SMP", "1")))


@dataclass
class Boot:
    """One QEMU boot: what goes on the ESP and how QEMU runs."""
    images: list = field(default_factory=list)   # paths copied into \\images
    cfg: str = ""                                # the ESP's hv.cfg (user part)
    runner_cfg: list = field(default_factory=list)  # extra [hv] lines from the runner
    machine: str = "q35"
    cpu: str = "max"
    # DEFAULT_SMP unless the test chooses (smp=1: a test about one CPU).
    smp: int = field(default_factory=lambda: DEFAULT_SMP[0])
    mem: int = 256
    icount: bool = False
    serial: bool = True
    timeout: int = 120
    efi: str = ""                # the hv.efi to boot; "" is BUILD/hv.efi
    firmware: str = "plain"      # hv-qemu --firmware (plain, secboot[,vars=FILE]; code= added)

    def __post_init__(self):
        # Under -icount QEMU runs every CPU in one host thread, round robin,
        # and OVMF's APs spin in it through the firmware: a boot takes about
        # smp/2 times as long from SMP 2 on (8 minutes for one with no guest
        # at SMP 8 on a 2-core host loaded ~15). The time limit grows alike;
        # no -icount verdict depends on wall time.
        if self.icount and self.smp > 2:
            self.timeout *= self.smp // 2
        self.timeout = int(self.timeout * load_factor())


def load_factor():
    """How many times longer a boot may take than on a host that runs only
    make test: the 1-minute load average over twice the cores (make test's
    two QEMUs keep a 2-core host at ~2), at least 1 and at most 5. A boot's
    time limit is a hang's bound, not a verdict; on a 2-core host shared by
    several sessions (load 12-17) -icount boots of ~15 s idle overran the
    fixed 120 s. In CI (load ~2 on 2 cores) the factor is 1: a hung test
    fails as soon as before."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return 1.0
    return min(5.0, max(1.0, load / (2 * (os.cpu_count() or 1))))


@dataclass
class Result:
    status: int
    log: str
    screen: str = ""
    seconds: float = 0.0
    workdir: str = ""


def build_esp(build, boot, workdir):
    images_dir = os.path.join(workdir, "images")
    os.makedirs(images_dir, exist_ok=True)
    for img in boot.images:
        # A path, or (path, name on the ESP), or (None, name, bytes).
        if isinstance(img, tuple) and len(img) == 3:
            with open(os.path.join(images_dir, img[1]), "wb") as out:
                out.write(img[2])
            continue
        src_path, name = img if isinstance(img, tuple) else (img, os.path.basename(img))
        with open(src_path, "rb") as src, open(os.path.join(images_dir, name), "wb") as out:
            out.write(src.read())
    cmd = [os.path.join(ROOT, "scripts/mkesp.sh"), "--efi", boot.efi or os.path.join(build, "hv.efi"),
           "--images", images_dir, "--out", os.path.join(workdir, "base.img")]
    if boot.cfg:
        cfg = os.path.join(workdir, "user.cfg")
        with open(cfg, "w") as f:
            f.write(boot.cfg)
        cmd += ["--cfg", cfg]
    subprocess.run(cmd, check=True, capture_output=True)
    return os.path.join(workdir, "base.img")


# [hv] lines every boot gets (tests/system/run.py's pass with every
# mitigation forced on), EXTRA_RUNNER_CFG[0]; a test's own hv.cfg comes
# after and wins.
EXTRA_RUNNER_CFG = _PerThread([])


# OVMF's variable store after one boot on q35 (scripts/booted-vars.sh, made
# by make test): boots with the plain firmware on q35 start from a copy of it
# instead of the blank template and skip the firmware's first-boot flash
# writes (~0.7 s a boot under TCG). "" (the store not made): the template.
# Another machine type keeps the template (its boot options differ).
BOOTED_VARS = [""]


# OVMF's code without the TPM probe's wait (tests/tools/ovmf_no_tpm_wait.py,
# made by make test): {"plain": FILE, "secboot": FILE} for the builds that
# were made; a boot on the other keeps Debian's image. ~1.5 s a boot.
FIRMWARE_CODE = {}


def firmware_for(boot):
    kind, _, vars_part = boot.firmware.partition(",")
    code = FIRMWARE_CODE.get(kind)
    if kind == "plain" and not vars_part and boot.machine == "q35" and BOOTED_VARS[0]:
        vars_part = "vars=" + BOOTED_VARS[0]
    return ",".join([kind] + ([f"code={code}"] if code else []) + ([vars_part] if vars_part else []))


def qemu_command(boot, esp, workdir, qmp=None):
    cmd = [os.path.join(ROOT, "scripts/hv-qemu"), "--esp", esp, "--workdir", workdir,
           "--machine", boot.machine, "--cpu", boot.cpu, "--smp", str(boot.smp),
           "--mem", str(boot.mem), "--timeout", str(boot.timeout),
           "--firmware", firmware_for(boot)]
    if boot.icount:
        cmd.append("--icount")
    cmd += ["--serial", "file:" + os.path.join(workdir, "serial.log") if boot.serial else "none"]
    for line in list(EXTRA_RUNNER_CFG[0]) + boot.runner_cfg:
        cmd += ["--cfg", line]
    if qmp:
        cmd += ["--qmp", qmp]
    # HV_TEST_QEMU_ARGS: more QEMU arguments for every boot, split at spaces,
    # {workdir} replaced (to debug a rare failure: "-d cpu_reset -D {workdir}/qemu.log").
    for arg in os.environ.get("HV_TEST_QEMU_ARGS", "").split():
        cmd += ["--qemu-arg", arg.replace("{workdir}", workdir)]
    return cmd


def run(build, boot, name):
    workdir = tempfile.mkdtemp(prefix=f"hv-{name}-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    start = time.monotonic()
    proc = subprocess.run(qemu_command(boot, esp, workdir), capture_output=True, text=True)
    log = ""
    path = os.path.join(workdir, "serial.log")
    if os.path.exists(path):
        with open(path, "rb") as f:
            log = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
    return Result(proc.returncode, log + proc.stderr, seconds=time.monotonic() - start,
                  workdir=workdir)


# One boot judged by several test functions (shared_cases.py): each calls
# run_shared with the same Boot; the first boots, the others read its result.
# The group's registered test forgets it before and after (its functions run
# one after the other in its thread, so nothing waits on another worker).
_SHARED = threading.local()


def run_shared(build, boot, name):
    if getattr(_SHARED, "result", None) is None:
        _SHARED.result = run(build, boot, name)
    return _SHARED.result


def shared_forget():
    _SHARED.result = None


class Qmp:
    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.file = self.sock.makefile("rw")
        self.file.readline()  # greeting
        self.call("qmp_capabilities")

    def call(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.file.write(json.dumps(msg) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "return" in reply or "error" in reply:
                return reply


def collect(proc):
    """Waits for a QEMU started with Popen to end (30 s, then kills it);
    its stderr."""
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def run_watching_screen(build, boot, name, until, screentext):
    """Boots and reads the screen every second until `until(text)` holds or
    the timeout passes; then quits QEMU. Result.screen is the last text."""
    workdir = tempfile.mkdtemp(prefix=f"hv-{name}-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    qmp_path = os.path.join(workdir, "qmp.sock")
    start = time.monotonic()
    deadline = start + boot.timeout
    proc = subprocess.Popen(qemu_command(boot, esp, workdir, qmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    text = ""
    try:
        qmp = Qmp(qmp_path, deadline)
        ppm = os.path.join(workdir, "screen.ppm")
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(1)
            if qmp.call("screendump", filename=ppm).get("error"):
                continue
            out = subprocess.run([screentext, ppm], capture_output=True, text=True)
            if out.returncode == 0:
                text = out.stdout
                if until(text):
                    break
        if proc.poll() is None:
            qmp.call("quit")
    except OSError:
        pass
    err = collect(proc)
    return Result(proc.returncode, err, screen=text, seconds=time.monotonic() - start,
                  workdir=workdir)


def run_with_input(build, boot, name, script):
    """Boots with the serial line on FIFOs; `script` is a list of
    (text to wait for in the output, bytes to type then). Returns the
    Result when QEMU ends (or the timeout passes)."""
    import threading
    workdir = tempfile.mkdtemp(prefix=f"hv-{name}-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    base = os.path.join(workdir, "serial")
    os.mkfifo(base + ".in")
    os.mkfifo(base + ".out")
    cmd = qemu_command(boot, esp, workdir)
    i = cmd.index("--serial")
    cmd[i + 1] = "pipe:" + base
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = []
    reader_done = threading.Event()

    def reader():
        with open(base + ".out", "rb") as f:
            while True:
                chunk = f.read1(4096) if hasattr(f, "read1") else f.read(1)
                if not chunk:
                    break
                out.append(chunk)
        reader_done.set()

    threading.Thread(target=reader, daemon=True).start()
    writer = open(base + ".in", "wb", buffering=0)
    deadline = start + boot.timeout
    for wait_for, data in script:
        while time.monotonic() < deadline and proc.poll() is None:
            if wait_for in b"".join(out).decode("utf-8", "replace"):
                break
            time.sleep(0.1)
        time.sleep(0.3)
        try:
            writer.write(data)
        except OSError:
            break
    try:
        _, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    writer.close()
    reader_done.wait(5)
    log = b"".join(out).decode("utf-8", "replace").replace("\r\n", "\n")
    return Result(proc.returncode, log + err, seconds=time.monotonic() - start, workdir=workdir)

"""The USB stick, booted the way a PC boots one: build/hv-usb.img (what
`make disk-image` wrote, and `make usb` puts on a stick) as a USB
mass-storage device on an xHCI controller, OVMF finding the EFI system
partition on it by itself. The firmware's xHCI driver is live in this boot
(it is reading the stick), so the boot also shows hv stopping it before
ExitBootServices (efi/pci_quiesce.c) and still running.

How the test ends on its own: the image is the real-PC one, without the
QEMU runner's `qemu_exit_port` line, so hv cannot report its status through
QEMU's exit code. The test boots the exact image unchanged (QEMU writes to a
throw-away overlay, `snapshot=on`), reads the serial log until hv's last line
(`powering off (status N)`, or the halt line of a real-PC ESP that halts at
the end), takes the status from that line, and then quits QEMU through QMP
if it has not powered off by itself."""

import os
import re
import subprocess
import tempfile
import time

from harness import Boot, Qmp, Result, run, collect
from registry import system_test

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OVMF = "/usr/share/OVMF"
ESP_OFFSET = 1 << 20  # scripts/mkdisk.sh puts the ESP at 1 MiB
END = re.compile(r"^hv: .*(powering off|halted|safe to power off).*$", re.M)
STATUS = re.compile(r"status (\d+)")
HV_STATUS = re.compile(r"^hv: (?!guest |  ).*\bstatus (\d+)", re.M)
XHCI_STOPPED = re.compile(
    r"^hv: dma: stopped \d+ of \d+ PCI function\(s\): .*\bUSB xHCI at [0-9a-f:.]+ \(disconnected\)",
    re.M)
DMA_SUMMARY = re.compile(r"^hv: dma: stopped (\d+) of (\d+) PCI function\(s\)", re.M)


def images_on(disk):
    """The guest files in \\images of the disk image's ESP, read with mtools."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    out = subprocess.run(["mdir", "-i", f"{disk}@@{ESP_OFFSET}", "-b", "::/images"],
                         capture_output=True, text=True, env=env, check=True).stdout
    return sorted(os.path.basename(line.strip()) for line in out.splitlines() if line.strip())


def boot_usb_stick(build, disk, name, timeout=240):
    workdir = tempfile.mkdtemp(prefix=f"hv-{name}-", dir=os.path.join(build, "systest"))
    vars_fd = os.path.join(workdir, "vars.fd")
    with open(os.path.join(OVMF, "OVMF_VARS_4M.fd"), "rb") as src, open(vars_fd, "wb") as dst:
        dst.write(src.read())
    serial = os.path.join(workdir, "serial.log")
    qmp_path = os.path.join(workdir, "qmp.sock")
    cmd = [
        "qemu-system-x86_64", "-machine", "q35", "-cpu", "max", "-m", "256",
        "-nodefaults", "-vga", "std", "-nic", "none", "-no-reboot", "-display", "none",
        "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF}/OVMF_CODE_4M.fd",
        "-drive", f"if=pflash,format=raw,unit=1,file={vars_fd}",
        # The stick: the only disk, on the USB bus of an xHCI controller.
        "-device", "qemu-xhci,id=xhci",
        "-drive", f"if=none,id=stick,format=raw,snapshot=on,file={disk}",
        "-device", "usb-storage,bus=xhci.0,drive=stick,removable=on",
        "-serial", f"file:{serial}",
        "-qmp", f"unix:{qmp_path},server=on,wait=off",
    ]
    start = time.monotonic()
    deadline = start + timeout
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log, ended = "", None
    try:
        qmp = Qmp(qmp_path, deadline)
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if os.path.exists(serial):
                with open(serial, "rb") as f:
                    log = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
            ended = END.search(log)
            if ended:
                time.sleep(0.5)  # the power-off, if it comes, comes now
                break
        if proc.poll() is None:
            qmp.call("quit")
    except OSError:
        pass
    err = collect(proc)
    with open(serial, "rb") as f:
        log = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
    ended = END.search(log)
    status = 124 if time.monotonic() >= deadline else 125
    if ended:
        # The status on the end line, or on hv's last line that gives one
        # (not a guest's: "hv: guest X exited with status N", "hv:   X ...").
        m = STATUS.search(ended.group(0)) or \
            ([None] + list(HV_STATUS.finditer(log[:ended.end()])))[-1]
        status = int(m.group(1)) if m else 125
    return Result(status, log + err, seconds=time.monotonic() - start, workdir=workdir)


@system_test
def test_usb_stick_boots_and_stops_firmware_xhci(build):
    """build/hv-usb.img booted from a USB stick: every guest on it ran and
    ended well, and hv reports the firmware's xHCI driver (which had just read
    the stick) disconnected and the controller's bus mastering off."""
    problems = []
    disk = os.path.join(build, "hv-usb.img")
    efi = os.path.join(build, "hv.efi")
    if not os.path.exists(disk) or os.path.getmtime(disk) < os.path.getmtime(efi):
        return [f"{disk} missing or older than hv.efi: run make disk-image"], None
    guests = images_on(disk)
    r = boot_usb_stick(build, disk, "usb-stick")
    if r.status != 0:
        problems.append(f"status {r.status}, expected 0 (124: no end line in time)")
    if not re.search(r"^hv: hv \d+\.\d+\.\d+: a minimal", r.log, re.M):
        problems.append("the firmware did not start hv from the stick")
    if not guests:
        problems.append("no guests in \\images of the image")
    for g in guests:
        if f"hv: guest {g} exited with status 0" not in r.log:
            problems.append(f"guest {g} from the stick did not run to status 0")
    if f"hv: summary: {len(guests)} guest(s)" not in r.log:
        problems.append(f"no summary of {len(guests)} guest(s)")
    if not XHCI_STOPPED.search(r.log):
        problems.append("hv does not report the firmware's xHCI driver disconnected "
                        "and bus mastering off: " +
                        "; ".join(l for l in r.log.splitlines() if "dma:" in l)[:400])
    m = DMA_SUMMARY.search(r.log)
    if not m or int(m.group(1)) < 1:
        problems.append("no 'dma: stopped M of N PCI function(s)' summary with M >= 1")
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    cfg = subprocess.run(["mtype", "-i", f"{disk}@@{ESP_OFFSET}", "::/hv.cfg"],
                         capture_output=True, text=True, env=env).stdout
    if re.search(r"^\s*qemu_exit_port\s*=", cfg, re.M):  # a setting, not a comment naming it
        problems.append("the real-PC image's hv.cfg carries the QEMU runner's qemu_exit_port")
    bad = [l for l in r.log.splitlines() if "warning:" in l or "error:" in l or "PANIC" in l]
    if bad:
        problems.append("warnings or errors: " + "; ".join(bad)[:300])
    return problems, r


@system_test
def test_firmware_dma_left_running_when_hv_cfg_asks(build):
    """`stop_firmware_dma = no` in hv.cfg: the stub leaves the firmware's
    drivers connected (nothing listed as stopped), says so, and hv warns."""
    r = run(build, Boot(runner_cfg=["stop_firmware_dma = no"]), "dma-left-running")
    problems = []
    if r.status != 0:
        problems.append(f"status {r.status}, expected 0")
    if "hv: firmware devices left running (hv.cfg: stop_firmware_dma = no)" not in r.log:
        problems.append("the stub does not say it left the devices running")
    if "hv: warning: dma: firmware devices left running (stop_firmware_dma = no)" not in r.log:
        problems.append("hv does not warn that firmware DMA was left running")
    if DMA_SUMMARY.search(r.log):
        problems.append("functions reported stopped although hv.cfg said no")
    return problems, r


@system_test
def test_firmware_dma_bad_setting_still_stops(build):
    """A bad `stop_firmware_dma` value is an hv.cfg error like any other (hv
    names the line and the key), and the stub keeps its default: bus
    mastering cleared on q35's AHCI controller (the boot disk's), whose
    driver stays connected (storage: lib/pci_class.h); at debug level hv
    lists each function's details."""
    r = run(build, Boot(runner_cfg=["log_level = debug", "stop_firmware_dma = maybe"]),
            "dma-bad-setting")
    problems = []
    if "key 'stop_firmware_dma': must be yes or no" not in r.log:
        problems.append("the bad value is not reported")
    if not re.search(r"^hv: dma: stopped .*\bSATA \(AHCI\) at [0-9a-f:.]+ \(bus master cleared\)",
                     r.log, re.M):
        problems.append("the AHCI controller is not reported stopped: " +
                        "; ".join(l for l in r.log.splitlines() if "dma" in l)[:300])
    # The details, at debug level: ids, class, what the driver and the
    # command register did.
    if "hv: dma:   0000:00:1f.2 8086:2922 SATA (AHCI) (class 010601): action 1, firmware " \
            "driver connected, bus master on -> off" not in r.log:
        problems.append("no debug line with the AHCI controller's details")
    if r.status != 0 or "hv: summary: 0 guest(s)" not in r.log:
        problems.append(f"hv did not run on to its end with status 0 (status {r.status})")
    return problems, r

"""Secure Boot (issue 15): hv signed with `scripts/sign-efi.sh` (what `make
sign` runs) boots on OVMF's Secure Boot build with Debian's snakeoil key
enrolled; an unsigned hv, or one signed with a key the firmware does not
know, is refused, and the run ends on its own (hv-qemu's exit 123) instead of
QEMU sitting in the firmware's boot manager for ever."""

import os
import shutil
import subprocess
import tempfile

from harness import ROOT, Boot, run
from judge import exited, expect, test_guest
from registry import system_test

# Debian's ovmf ships the snakeoil key that OVMF_VARS_4M.snakeoil.fd has in
# PK, KEK and db, for testing; its passphrase is in README.Debian.
SNAKEOIL_DIRS = ["/usr/share/ovmf", "/usr/share/OVMF"]
SNAKEOIL_PASS = "snakeoil"
REFUSED = 123  # scripts/hv-qemu: the firmware booted nothing


def key_dir(build, name):
    return tempfile.mkdtemp(prefix=f"hv-{name}-keys-", dir=os.path.join(build, "systest"))


def snakeoil(build, name):
    """(key, cert): the snakeoil key without its passphrase (sbsign would ask
    on the terminal) and its certificate."""
    for d in SNAKEOIL_DIRS:
        key, cert = os.path.join(d, "PkKek-1-snakeoil.key"), os.path.join(d, "PkKek-1-snakeoil.pem")
        if os.path.exists(key) and os.path.exists(cert):
            plain = os.path.join(key_dir(build, name), "snakeoil.key")
            subprocess.run(["openssl", "pkey", "-in", key, "-passin", "pass:" + SNAKEOIL_PASS,
                            "-out", plain], check=True, capture_output=True)
            return plain, cert
    raise FileNotFoundError("PkKek-1-snakeoil.key/.pem not found: run make deps (ovmf)")


def stranger_key(build, name):
    """(key, cert): a fresh self-signed key that no firmware db holds."""
    d = key_dir(build, name)
    key, cert = os.path.join(d, "stranger.key"), os.path.join(d, "stranger.pem")
    subprocess.run(["openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=not in db/", "-days", "1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return key, cert


def sign(build, key, cert, out):
    subprocess.run([os.path.join(ROOT, "scripts/sign-efi.sh"), "--key", key, "--cert", cert,
                    "--in", os.path.join(build, "hv.efi"), "--out", out],
                   check=True, capture_output=True)
    return out


def two_guests(build):
    return [test_guest(build, "lines-a"), test_guest(build, "lines-b")]


def refused(problems, r, what):
    expect(problems, r.status == REFUSED,
           f"{what}: exit status {r.status}, expected {REFUSED} (firmware booted nothing)")
    expect(problems, "Access Denied" in r.log,
           f"{what}: the firmware did not say 'Access Denied': {r.log[-400:]!r}")
    expect(problems, "hv: UEFI stub starting" not in r.log, f"{what}: hv ran")


@system_test
def test_secboot_signed_hv_runs(build):
    """Signed with the snakeoil key (in db): the Secure Boot firmware starts
    hv, hv reports Secure Boot on, and both guests run to the end."""
    key, cert = snakeoil(build, "secboot-signed")
    efi = sign(build, key, cert, os.path.join(os.path.dirname(key), "hv-signed.efi"))
    r = run(build, Boot(images=two_guests(build), efi=efi, firmware="secboot"), "secboot-signed")
    shutil.rmtree(os.path.dirname(key), ignore_errors=True)
    problems = []
    expect(problems, r.status == 0, f"exit status {r.status}, expected 0")
    expect(problems, "hv: Secure Boot: on (the firmware checked hv.efi's signature)" in r.log,
           "hv did not report Secure Boot on")
    for g in ["lines-a", "lines-b"]:
        expect(problems, exited(r.log, g), f"{g} did not exit 0")
    return problems, r


@system_test
def test_secboot_unsigned_hv_refused_and_run_ends(build):
    """build/hv.efi as built (no signature): OVMF refuses it ('Access Denied'),
    falls back to its boot manager, and hv-qemu stops QEMU there and exits
    123 long before the timeout."""
    r = run(build, Boot(images=two_guests(build), firmware="secboot", timeout=240),
            "secboot-unsigned")
    problems = []
    refused(problems, r, "unsigned")
    expect(problems, r.seconds < 120, f"took {r.seconds:.0f} s: the refusal was not noticed")
    return problems, r


@system_test
def test_secboot_hv_signed_by_unknown_key_refused(build):
    """Signed, but by a key that is not in db: refused like an unsigned hv
    (a signature alone is not enough, it must chain to db)."""
    key, cert = stranger_key(build, "secboot-stranger")
    efi = sign(build, key, cert, os.path.join(os.path.dirname(key), "hv-stranger.efi"))
    r = run(build, Boot(images=two_guests(build), efi=efi, firmware="secboot", timeout=240),
            "secboot-stranger")
    shutil.rmtree(os.path.dirname(key), ignore_errors=True)
    problems = []
    refused(problems, r, "unknown key")
    return problems, r


@system_test
def test_secboot_plain_firmware_says_secure_boot_off(build):
    """The same unsigned hv on the plain firmware: it runs, and the log does
    not claim a signature check that never happened."""
    r = run(build, Boot(images=two_guests(build)), "secboot-plain")
    problems = []
    expect(problems, r.status == 0, f"exit status {r.status}, expected 0")
    expect(problems, "hv: Secure Boot: off" in r.log, "hv did not report Secure Boot off")
    return problems, r

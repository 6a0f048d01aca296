"""System tests of the guest SDK as a folder of its own (make install-sdk)
and of console input through the SDK: a guest built out of tree against an
installed SDK boots and runs; the SDK's input functions deliver typed lines.
Each returns (problems, result)."""

import os
import shutil
import subprocess
import tempfile

from harness import ROOT, Boot, run
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

#!/usr/bin/env bash
# Installs the Debian packages hv needs that are missing, and says which.
# Quiet and quick when everything is there (`make run` and `make test` call it).
set -euo pipefail

packages=(
    gcc make binutils        # toolchain
    gnu-efi                  # UEFI headers, crt0 and linker script
    ovmf                     # UEFI firmware for QEMU
    qemu-system-x86          # the emulator that runs the system tests
    mtools                   # building FAT ESP images without root or mounts
    gdisk dosfstools         # make disk-image: GPT (sgdisk) and FAT32 (mkfs.fat, fsck.fat)
    python3                  # the system-test harness
    clang libclang-rt-14-dev # libFuzzer for the ELF validator's fuzz target
    gdb                      # make debug
    sbsigntool               # make sign (Secure Boot), the Secure Boot test
    chromium-headless-shell  # the trace timeline's render test (tests/system/trace_cases.py)
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "make deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "make deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

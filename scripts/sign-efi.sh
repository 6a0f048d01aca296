#!/usr/bin/env bash
# Signs hv.efi for UEFI Secure Boot with sbsigntool (an Authenticode
# signature that the firmware checks against its db), then checks the
# signature with sbverify so a wrong key/certificate pair fails here, not
# at boot. The input is left unsigned: a rebuild never leaves a stale
# signature behind, and the unsigned file stays there to compare with.
#   scripts/sign-efi.sh --key KEY.key --cert CERT.pem --in hv.efi --out hv-signed.efi
set -euo pipefail

key= cert= in= out=
while [ $# -gt 0 ]; do
    case "$1" in
        --key) key=$2; shift 2 ;;
        --cert) cert=$2; shift 2 ;;
        --in) in=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "sign-efi: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$key" ] && [ -n "$cert" ] || {
    echo "sign-efi: KEY=private-key.key and CERT=certificate.pem are required (PEM files)" >&2; exit 2; }
[ -n "$in" ] && [ -n "$out" ] || { echo "sign-efi: --in and --out are required" >&2; exit 2; }
for f in "$key" "$cert" "$in"; do
    [ -r "$f" ] || { echo "sign-efi: cannot read $f" >&2; exit 2; }
done
command -v sbsign >/dev/null || { echo "sign-efi: sbsign missing: run make deps (sbsigntool)" >&2; exit 2; }

sbsign --key "$key" --cert "$cert" --output "$out.tmp" "$in"
sbverify --cert "$cert" "$out.tmp" >/dev/null || {
    rm -f "$out.tmp"; echo "sign-efi: $out does not verify against $cert" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "sign-efi: $out signed with $(openssl x509 -noout -subject -in "$cert" 2>/dev/null || echo "$cert")"

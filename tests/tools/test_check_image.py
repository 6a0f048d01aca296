#!/usr/bin/env python3
"""guest/check_image.py judges an image's restart-policy note as hv does
(docs/abi.md, "The restart-policy note"): it describes a well-formed one and
refuses each field an image may not ask, naming the field and the hv.cfg key
that would decide it instead. The images are the test guests rs-note (a
policy note asking on_fault = restart, 2 restarts) and rs-note-halt (asking
halt), and copies of rs-note with one field of its note changed.

    tests/tools/test_check_image.py BUILD

Prints one PASS/FAIL line per case (prefix check_image/)."""

import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "guest"))
import check_image  # noqa: E402


def policy_offset(data):
    """File offset of the policy note's descriptor (the first one)."""
    _, _, headers = check_image.phdrs(data)
    for ph in headers:
        if ph[0] != check_image.PT_NOTE:
            continue
        align = 8 if ph[7] == 8 else 4
        pos, end = ph[2], ph[2] + ph[5]
        while pos + 12 <= end:
            namesz, descsz, kind = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + (-(12 + namesz) % align) + namesz
            if data[pos + 12:pos + 12 + namesz] == b"hv\0" and kind == check_image.HV_NOTE_POLICY:
                return pos, desc
            pos = desc + descsz + (-descsz % align)
    raise SystemExit("rs-note has no policy note: the test image changed")


def verdict(path):
    try:
        return "ok", check_image.check(path)
    except check_image.Bad as e:
        return "bad", str(e)


def main(build):
    guests = os.path.join(build, "test-guests")
    good = os.path.join(guests, "rs-note")
    data = bytearray(open(good, "rb").read())
    header, desc = policy_offset(data)
    cases = [("describes_the_policy_note", good, "ok",
              "policy on_exit=default (stop) on_fault=restart restarts=2 within 60 s"),
             ("refuses_halt", os.path.join(guests, "rs-note-halt"), "bad",
              "on_fault = halt: an image may ask only stop (1) or restart (2); hv refuses it "
              "unless hv.cfg's section sets on_fault")]
    doctored = [("refuses_an_unknown_exit_action", 0, 7, "on_exit = 7"),
                ("refuses_more_restarts_than_5", 8, 6, "max_restarts = 6, above 5"),
                ("refuses_a_window_under_60_s", 12, 59, "a 59 s window, under 60 s"),
                ("accepts_5_restarts_in_an_hour", None, None, "restarts=5 within 3600 s")]
    with tempfile.TemporaryDirectory() as tmp:
        for name, field, value, want in doctored:
            copy = bytearray(data)
            if field is None:
                struct.pack_into("<II", copy, desc + 8, 5, 3600)
            else:
                struct.pack_into("<I", copy, desc + field, value)
            path = os.path.join(tmp, name)
            open(path, "wb").write(copy)
            cases.append((name, path, "ok" if field is None else "bad", want))
        copy = bytearray(data)
        struct.pack_into("<I", copy, header + 4, 12)  # descsz 12: the size hv refuses
        path = os.path.join(tmp, "size")
        open(path, "wb").write(copy)
        cases.append(("refuses_a_policy_note_of_another_size", path, "bad",
                      "restart-policy note descriptor is 12 bytes, not 16"))
        failed = 0
        for name, path, want_kind, want_text in cases:
            kind, text = verdict(path)
            ok = kind == want_kind and want_text in text
            failed += not ok
            print(f"{'PASS' if ok else 'FAIL'} check_image/{name}" + ("" if ok else f": {kind}: {text}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

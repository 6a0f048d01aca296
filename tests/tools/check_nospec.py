#!/usr/bin/env python3
"""Spectre v1 check: a bounds-checked index is clamped before it indexes.

In the code that handles guest-chosen numbers (hypercalls, events, the
paravirtual CPU, guest address spaces), every value that is compared
against a bound and later used as an array subscript in the same function
must go through array_index_nospec (lib/nospec.h) between the two: either
the subscript contains the call, or the value is reassigned from it

    if (port >= HV_EVTCHN_PORTS) return -HV_EINVAL;
    port = array_index_nospec(port, HV_EVTCHN_PORTS);
    ... g->evtchn[port] ...

A second rule: a subscript that names a trap-frame register (f->rdi, ...)
or a field of the guest-shared page (shared->...) directly must contain
the clamp, checked or not.

What it cannot see (docs/design.md, "Spectre v1: guest-chosen indices"):
an index checked in one function and used in another (each helper that
takes an index checks and clamps it itself, which this rule does see), and
loop counters (comparisons in for(...) headers are not bounds checks of a
chosen value). Comparisons with a literal 0 (sign checks of hv's own
results, `p < 0`) are not bounds checks either.

  tests/tools/check_nospec.py [FILE...]   # default: the files in SCOPE
  tests/tools/check_nospec.py --self-test # the rules catch the fixture's gadgets

Prints one line per finding and exits 1 if there is any."""

import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCOPE = ["hv/hypercall/*.c", "hv/event/*.c", "hv/guest/*.c", "vcpu/*.c", "hv/sched/*.c",
         "hv/console/input.c", "hv/xen/xen_hypercall.c", "hv/xen/xen_mem.c", "hv/xen/xen_trap.c",
         "hv/xen/xen_console.c", "hv/xen/xen_echo.h", "hv/xen/xen_event.c", "hv/xen/xen_build.c",
         "hv/xen/xen_multicall.c", "hv/xen/xen_upcall.c", "hv/xen/xen_mmu.c",
         "hv/xen/xen_mmu_ops.c", "hv/xen/xen_timer.c", "hv/xen/xen_emul.c"]
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nospec_fixture.c")

# (file, function, index): bounds-checked values that are not guest-chosen,
# each with the reason. Keep it short; prefer a clamp.
ALLOWED = {
    ("hv/sched/partition.c", "parse_number", "n"):
        "hv.cfg's text, parsed at boot before any guest runs",
    ("hv/xen/xen_console.c", "xen_console_drain", "done"):
        "bounded by hv's own ring size; the subscript is taken modulo the power-of-two size",
    ("hv/xen/xen_echo.h", "xen_echo_match", "at"):
        "bounded by avail; the subscript is masked by the caller's power-of-two ring size",
    ("hv/xen/xen_echo.h", "xen_echo_match", "k"):
        "below want, at most the window's length, hv's own count of its bytes; steps by one",
    ("hv/xen/xen_console.c", "xen_console_drain", "n"):
        "a loop counter below the size of hv's own buffer",
    ("hv/xen/xen_mmu.c", "xen_update_va_mapping", "va"):
        "the subscript is va's 9-bit field, masked with & 511 (a data bound, no branch)",
}

CHAIN = r"\*?[A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*|\[\w+\])*"
COMPARE = re.compile(r"(?<![<>=!-])(<=|>=|<|>)(?![<>=])")
FRAME_REG = re.compile(r"\bf->r(?:ax|bx|cx|dx|si|di|bp|8|9|1[0-5])\b|\bshared->")
CLAMP = "array_index_nospec("


def strip(text):
    """Comments, string and character literals to spaces (lines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        elif c == "#" and (i == 0 or text[i - 1] == "\n"):
            j = text.find("\n", i)  # preprocessor lines (no continuations here)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(code):
    """(name, start, end) of each function body at file scope."""
    depth, start, name = 0, None, None
    for m in re.finditer(r"[{}]", code):
        if m.group() == "{":
            if depth == 0:
                head = code[:m.start()].rstrip()
                fn = re.search(r"(\w+)\s*\([^;{}]*\)\s*$", head)
                if head.endswith(")") and fn:
                    start, name = m.start(), fn.group(1)
            depth += 1
        else:
            depth -= 1
            if depth == 0 and start is not None:
                yield name, start, m.end()
                start = None


def for_headers(body):
    """Spans of the parenthesised headers of for loops."""
    spans = []
    for m in re.finditer(r"\bfor\s*\(", body):
        depth, i = 1, m.end()
        while i < len(body) and depth:
            depth += {"(": 1, ")": -1}.get(body[i], 0)
            i += 1
        spans.append((m.start(), i))
    return spans


def subscripts(body):
    """(position, inner text) of every [...] in the body."""
    for m in re.finditer(r"\[", body):
        depth, i = 1, m.end()
        while i < len(body) and depth:
            depth += {"[": 1, "]": -1}.get(body[i], 0)
            i += 1
        yield m.start(), body[m.end():i - 1]


def operand_before(body, pos):
    m = re.search(r"(" + CHAIN + r")\s*$", body[:pos])
    return m.group(1) if m else None


def operand_after(body, pos):
    m = re.match(r"\s*(" + CHAIN + r")", body[pos:])
    return m.group(1) if m else None


def checked_values(body):
    """(position, value) of each value compared against a bound."""
    loops = for_headers(body)
    for m in COMPARE.finditer(body):
        if any(a <= m.start() < b for a, b in loops):
            continue
        left, right = operand_before(body, m.start()), operand_after(body, m.end())
        rhs_literal = re.match(r"\s*(\d+[uUlL]*)\b", body[m.end():])
        for value, other in ((left, right), (right, left)):
            if not value or value.isupper() or re.fullmatch(r"\d+\w*", value):
                continue
            if value is left and rhs_literal and rhs_literal.group(1).rstrip("uUlL") == "0":
                continue  # a sign check, not a bound
            yield m.start(), value


def uses(value, inner):
    bare = value.lstrip("*")
    return re.search(r"(?<![\w.>])\*?" + re.escape(bare) + r"(?![\w\[]|->|\.)", inner)


def clamped_between(body, value, a, b):
    bare = re.escape(value.lstrip("*"))
    assign = re.compile(r"\*?" + bare + r"\s*=\s*(?:\([\w\s]+\)\s*)?array_index_nospec\(")
    return assign.search(body, a, b) is not None


def check_file(path, rel):
    code = strip(open(path).read())
    found = []
    for name, start, end in functions(code):
        body = code[start:end]
        line = lambda pos: code.count("\n", 0, start + pos) + 1  # noqa: E731
        checks = list(checked_values(body))
        for pos, inner in subscripts(body):
            if CLAMP in inner:
                continue
            if FRAME_REG.search(inner):
                found.append(f"{rel}:{line(pos)}: {name}: [{inner.strip()}] is a guest register "
                             "or shared field used as an index without array_index_nospec")
                continue
            for cpos, value in checks:
                if cpos > pos or not uses(value, inner):
                    continue
                if (rel, name, value) in ALLOWED or clamped_between(body, value, cpos, pos):
                    continue
                found.append(f"{rel}:{line(pos)}: {name}: {value} (compared at line "
                             f"{line(cpos)}) indexes [{inner.strip()}] without array_index_nospec")
                break
    return list(dict.fromkeys(found))  # one line per finding, in order


def self_test():
    """The fixture marks each line the rules must report with `BAD` and
    each they must accept with `GOOD`."""
    text = open(FIXTURE).read()
    want = {i + 1 for i, l in enumerate(text.splitlines()) if "/* BAD" in l}
    good = {i + 1 for i, l in enumerate(text.splitlines()) if "/* GOOD" in l}
    got = {int(f.split(":")[1]) for f in check_file(FIXTURE, "fixture")}
    problems = [f"fixture line {n}: a gadget the check missed" for n in sorted(want - got)]
    problems += [f"fixture line {n}: reported, but it is clamped" for n in sorted(good & got)]
    problems += [f"fixture line {n}: reported, not marked" for n in sorted(got - want - good)]
    for p in problems:
        print(p)
    print(f"check_nospec self-test: {len(want)} gadgets, {len(good)} clamped uses, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    files = argv[1:] or sorted(f for p in SCOPE for f in glob.glob(os.path.join(ROOT, p)))
    found = []
    for f in files:
        found += check_file(f, os.path.relpath(f, ROOT))
    for f in found:
        print(f)
    print(f"check_nospec: {len(files)} file(s), {len(found)} unclamped index(es)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

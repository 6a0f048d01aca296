"""The list of system tests; each registers itself with @system_test."""

TESTS = []


def system_test(fn):
    TESTS.append(fn)
    return fn

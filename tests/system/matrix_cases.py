"""The short form of `make matrix` (tests/system/matrix.py): its SHORT_CELLS,
one system test each, judged as the full grid judges a cell."""

from matrix import SHORT_CELLS, Signed, run_cell
from registry import system_test

_signed = {}


def _cell_test(cell):
    def test(build):
        signed = _signed.setdefault(build, Signed(build))
        return run_cell(build, cell, signed)
    test.__name__ = "test_matrix_" + "_".join(str(v).replace("-", "_").lower() for v in cell)
    test.__doc__ = f"make matrix's cell {'/'.join(map(str, cell))}"
    return test


for _cell in SHORT_CELLS:
    system_test(_cell_test(_cell))

"""BB_MALLOC_THRESHOLD: a worker keeps its C heap for reuse instead of giving it back to
the OS after every large message (glibc ``mallopt``; see ``blackbull/server/heap.py``)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from blackbull.config import Settings
from blackbull.server.heap import is_glibc, keep_heap

# Eight 1 MiB buffers made and freed 50 times, like a burst of large messages; the
# minor page faults of those 50 rounds are printed.
_ROUNDS = textwrap.dedent("""
    import resource, sys
    from blackbull.server.heap import keep_heap
    if sys.argv[1] != "0":
        assert keep_heap(int(sys.argv[1]))
    def rounds(n):
        for _ in range(n):
            blocks = [bytes(1 << 20) for _ in range(8)]
            del blocks
    rounds(2)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    rounds(50)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _faults(threshold: int) -> int:
    out = subprocess.run([sys.executable, "-c", _ROUNDS, str(threshold)], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return int(out)


@pytest.mark.skipif(not is_glibc(), reason="mallopt thresholds are glibc's")
def test_large_buffers_reuse_the_heap_instead_of_faulting_it_back() -> None:
    """With the default threshold (16 MiB) the freed buffers stay in the heap: the next
    burst takes no new pages. With the C library's defaults, each burst maps its pages
    again (thousands of faults): the cost the setting removes."""
    default = Settings().malloc_threshold
    assert default == 16 * 1024 * 1024
    kept = _faults(default)
    returned = _faults(0)
    assert returned > 1000, returned  # the churn exists without the setting...
    assert kept < returned / 20, (kept, returned)  # ...and is gone with it


def test_zero_leaves_the_c_library_alone() -> None:
    """BB_MALLOC_THRESHOLD=0: no mallopt call at all."""
    assert keep_heap(0) is False
    assert Settings.from_env({"BB_MALLOC_THRESHOLD": "0"}).malloc_threshold == 0

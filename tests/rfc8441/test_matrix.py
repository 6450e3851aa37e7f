"""RFC 8441 interop matrix: clients (ours, raw h2+wsproto, Node.js http2, headless Chromium) × servers
(ours, hypercorn, the published blackbull 0.81), every cell real traffic on loopback.

The matrix runs once per module (``conformance.interop.runner``) and writes
``reports/raw/rfc8441-matrix-<server>.json``; each test below is one scenario of one cell.
A scenario one end cannot perform is skipped with its reason (``not-supported`` in the
file). A failure is a peer server's defect only where the independent h2+wsproto client
sees the same failure against that server (xfail with the reason); nothing about our
server is excused, and any other failure fails the test.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from conformance.interop.runner import CLIENTS, main_async
from conformance.interop.scenarios import SCENARIOS, Outcome
from conformance.interop.servers import SERVERS
from conformance.report.schema import SuiteResult

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("RFC8441_MATRIX_OUT", ROOT / "reports" / "raw" / "rfc8441-matrix.json"))
OURS = "blackbull"
#: Defects of peer servers, seen on this machine by the raw h2 client too.
PEER_DEFECTS = {
    ("blackbull", "hypercorn", "close-client-code"): "see h2-raw×hypercorn",
    ("blackbull", "blackbull081", "50-streams"): "see h2-raw×blackbull081",
    ("h2-raw", "hypercorn", "close-client-code"):
        "hypercorn 0.18 never ends its side after the closing handshake and drops the "
        "connection (KeyError in hypercorn/protocol/h2.py) when the client's END_STREAM "
        "arrives",
    ("h2-raw", "blackbull081", "50-streams"):
        "blackbull 0.81 refuses the 6th WebSocket stream (REFUSED_STREAM; its default "
        "BB_H2_WS_MAX_STREAMS_PER_CONNECTION=5)",
    ("chromium", "hypercorn", "close-client-code"): "see h2-raw×hypercorn",
    ("node", "hypercorn", "close-client-code"): "see h2-raw×hypercorn",
    ("node", "blackbull081", "50-streams"): "see h2-raw×blackbull081",
    ("chromium", "blackbull081", "50-streams"): "see h2-raw×blackbull081",
    ("h2-raw", "node", "close-server-code"):
        "Node.js 20 http2 + ws: after a server-initiated closing handshake Node destroys the "
        "stream with RST_STREAM(NO_ERROR), which nghttp2 sends ahead of the queued "
        "END_STREAM about one close in four here (RFC 8441 §5: not an orderly close)",
    ("blackbull", "node", "close-server-code"): "see h2-raw×node",
    ("chromium", "node", "close-server-code"): "see h2-raw×node",
}


@pytest.fixture(scope="module")
def matrix() -> dict[str, tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="rfc8441-") as workdir:
        results: list[SuiteResult] = main_async(CLIENTS, SERVERS, Path(workdir), OUT)
    assert all(r.status == "ok" for r in results), [r.message for r in results]
    return {case.id: (case.status, case.message) for r in results for case in r.cases}


CELLS = [(c, s, sc.id) for c in CLIENTS for s in SERVERS for sc in SCENARIOS]


@pytest.mark.parametrize(("client", "server", "scenario"), CELLS,
                         ids=[f"{c}×{s}/{sc}" for c, s, sc in CELLS])
def test_cell(matrix: dict[str, tuple[str, str]], client: str, server: str,
              scenario: str) -> None:
    """RFC 8441 §3–§5: one scenario of one client × server cell (see
    conformance/interop/scenarios.py for what each proves and its section)."""
    status, message = matrix[f"{client}×{server}/{scenario}"]
    if status == Outcome.NOT_APPLICABLE:
        pytest.skip(f"not applicable: {message}")
    if status != Outcome.PASS and server != OURS:
        reason = PEER_DEFECTS.get((client, server, scenario))
        if reason:
            pytest.xfail(f"{reason} — observed: {message}")
    assert status == Outcome.PASS, f"{status}: {message}"


def test_matrix_files_follow_the_schema(matrix: dict[str, tuple[str, str]]) -> None:
    """RFC 8441 §5: one file per server names every cell of its column (client and server
    in each case) and gives every not-supported case its reason."""
    for server in SERVERS:
        path = OUT.parent / f"{OUT.stem}-{server}.json"
        result = SuiteResult.from_dict(json.loads(path.read_text()))
        assert result.suite == "rfc8441-matrix" and result.target == server
        assert len(result.cases) == len(CLIENTS) * len(SCENARIOS)
        assert all(c.extra["server"] == server and c.extra["client"] in CLIENTS
                   for c in result.cases)
        assert all(c.message for c in result.cases if c.status == "not-supported")

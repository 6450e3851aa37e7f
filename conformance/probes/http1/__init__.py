"""HTTP/1.1 probes: RFC 9112 (message syntax, framing, connections) and the parts of
RFC 9110 a server shows on the wire (Host, Date, HEAD, Expect, field limits, versions).

Transports ``h1`` and ``h1-tls``; every probe sends raw bytes through
:mod:`conformance.probes.http1._wire` and needs only a route answering ``GET`` and
``POST`` with 200 and a body.
"""

from __future__ import annotations

#: Requirements of these RFCs that a client cannot check from the wire.
UNTESTABLE: tuple[tuple[str, str, str, str], ...] = (
    ("rfc9110/6.6.1", "MUST NOT",
     "An origin server without a clock MUST NOT generate a Date header field.",
     "whether the server has a clock is not visible; the probes assume it has one"),
    ("rfc9112/9.6", "(no keyword)",
     "To avoid the TCP reset problem, servers typically close a connection in stages: a "
     "half-close first, then reading until the client closes.",
     "whether a reset or an orderly close follows the last response depends on socket "
     "timing the probe cannot control; that the server closes is probed (rfc9112/9.6/1)"),
    ("rfc9112/9.3.2", "MAY",
     "A server MAY process a sequence of pipelined requests in parallel if they all have "
     "safe methods.",
     "parallel processing is invisible when the responses come in order (which is tested)"),
    ("rfc9112/11.2", "SHOULD",
     "Request smuggling defences between several recipients (a proxy and an origin).",
     "needs the chain of intermediaries; the single-server framing rules it relies on are "
     "probed in rfc9112/6.x and 7.x"),
    ("rfc9110/9.1", "SHOULD",
     "An origin server that receives a request method that is unrecognized or not "
     "implemented SHOULD respond with the 501 (Not Implemented) status code.",
     "which methods the application behind the route implements is its choice; the echo "
     "routes the probes need answer every method"),
    ("rfc9112/8", "MAY",
     "A server that receives an incomplete request message ... MAY send an error "
     "response prior to closing the connection.",
     "optional either way; the closing part is probed in rfc9112/6.3/11"),
)

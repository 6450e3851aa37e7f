"""Judging a server's answer to permessage-deflate offers (RFC 7692 §5, §7)."""

from __future__ import annotations

import re

from conformance.probes.http1._wire import Response, describe
from conformance.probes.model import Verdict
from conformance.probes.websocket._ws import Handshake, Params, parse_extensions

NAME = "permessage-deflate"
KNOWN = ("server_no_context_takeover", "client_no_context_takeover",
         "server_max_window_bits", "client_max_window_bits")
_BITS = re.compile(r"^(8|9|1[0-5])$")  # 8..15, no leading zero (RFC 7692 §7.1.2)


def offer_params(offer: str) -> Params | None:
    """The parameters of one offer element, or ``None`` when the offer is invalid (an
    unknown or duplicated parameter, an invalid value: RFC 7692 §7)."""
    parsed = parse_extensions([offer])
    if isinstance(parsed, str) or len(parsed) != 1 or parsed[0][0] != NAME:
        return None
    params = parsed[0][1]
    names = [n for n, _ in params]
    if len(set(names)) != len(names):
        return None
    for name, value in params:
        if name not in KNOWN:
            return None
        if name.endswith("context_takeover") and value is not None:
            return None
        if name == "server_max_window_bits" and (value is None or not _BITS.match(value)):
            return None
        if name == "client_max_window_bits" and value is not None and not _BITS.match(value):
            return None
    return params


def response_problem(params: Params, offer: Params) -> str | None:
    """Why *params* (the server's permessage-deflate element) is not a valid acceptance of
    *offer* (RFC 7692 §7.1.1.1, §7.1.1.2, §7.1.2.1, §7.1.2.2), or ``None``."""
    names = [n for n, _ in params]
    if len(set(names)) != len(names):
        return f"a parameter appears twice: {names}"
    offered = dict(offer)
    for name, value in params:
        if name not in KNOWN:
            return f"unknown parameter {name!r}"
        if name.endswith("context_takeover") and value is not None:
            return f"{name} has a value ({value!r})"
        if name.endswith("max_window_bits") and (value is None or not _BITS.match(value)):
            return f"{name}={value!r} is not 8..15"
        if name == "client_max_window_bits" and name not in offered:
            return "client_max_window_bits in the answer, but not in the offer (§7.1.2.2)"
    answered = dict(params)
    if "server_no_context_takeover" in offered and "server_no_context_takeover" not in answered:
        return "the offer's server_no_context_takeover is missing from the acceptance (§7.1.1.1)"
    if "server_max_window_bits" in offered:
        limit = int(offered["server_max_window_bits"] or 15)
        value = answered.get("server_max_window_bits")
        if value is None:
            return "the offer's server_max_window_bits is missing from the acceptance (§7.1.2.1)"
        if int(value) > limit:
            return f"server_max_window_bits={value} exceeds the offered {limit} (§7.1.2.1)"
    return None


def accepted(hs: Handshake) -> tuple[Params | None, str | None]:
    """(the accepted permessage-deflate parameters or None when declined, a problem)."""
    values = hs.got.get_all("sec-websocket-extensions") if isinstance(hs.got, Response) else []
    parsed = parse_extensions(values)
    if isinstance(parsed, str):
        return None, f"Sec-WebSocket-Extensions does not parse: {parsed}"
    others = [n for n, _ in parsed if n != NAME]
    if others:
        return None, f"extensions not offered: {others}"
    mine = [p for n, p in parsed if n == NAME]
    if len(mine) > 1:
        return None, f"{len(mine)} permessage-deflate elements accepted (RSV1 conflict, §5)"
    return (mine[0] if mine else None), None


def judge_invalid_offer(hs: Handshake) -> Verdict:
    """RFC 7692 §7: the server MUST decline an invalid offer (or fail the handshake)."""
    if not hs.switched:
        if isinstance(hs.got, Response) and 400 <= hs.got.status < 500:
            return Verdict.passed(f"handshake failed: {describe(hs.got)}")
        return Verdict.failed(f"neither declined nor failed cleanly: {describe(hs.got)}")
    params, problem = accepted(hs)
    if problem:
        return Verdict.failed(problem)
    if params is not None:
        return Verdict.failed(f"accepted the invalid offer: permessage-deflate {params}")
    return Verdict.passed("declined (101 without permessage-deflate)")


def judge_valid_offer(hs: Handshake, offers: list[str]) -> tuple[Verdict, Params | None]:
    """A valid acceptance of one of the valid *offers*, or a decline."""
    if not hs.switched:
        return Verdict.undecided(f"no 101: {describe(hs.got)}"), None
    params, problem = accepted(hs)
    if problem:
        return Verdict.failed(problem), None
    if params is None:
        return Verdict.passed("declined"), None
    problems = []
    for offer in offers:
        valid = offer_params(offer)
        if valid is None:
            continue
        why = response_problem(params, valid)
        if why is None:
            return Verdict.passed(f"accepted: {params or 'no parameters'}"), params
        problems.append(why)
    return Verdict.failed(f"permessage-deflate {params}: {'; '.join(problems)}"), None

"""What a probe is, what it concludes, and the registry probes add themselves to.

A probe's id is ``rfc<N>/<section>/<n>`` (``rfc9113/8.2.1/3``); the RFC and section are
read from it.  Its :class:`Level` is the requirement's keyword (RFC 2119 / RFC 8174):
only a failed MUST or MUST NOT makes a target non-conforming; SHOULD-level results are
reported apart and never make a conforming server look broken.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.probes.target import ProbeContext


class Level(enum.StrEnum):
    """The requirement keyword of the sentence a probe checks."""

    MUST = "MUST"
    MUST_NOT = "MUST NOT"
    SHOULD = "SHOULD"
    SHOULD_NOT = "SHOULD NOT"
    MAY = "MAY"

    @property
    def mandatory(self) -> bool:
        return self in (Level.MUST, Level.MUST_NOT)


class Outcome(enum.StrEnum):
    """What a probe concluded.

    ``UNDECIDED`` is a probe that saw something it cannot judge (a timeout where the RFC
    allows waiting, an answer it does not recognise): it says so rather than guessing.
    ``NOT_APPLICABLE`` is a target that does not offer what the probe needs (no WebSocket
    route, no TLS) — reported, never counted as a pass.  ``ERROR`` is the probe itself
    failing (connection refused, a bug): never a pass either.
    """

    PASS = "pass"
    FAIL = "fail"
    UNDECIDED = "undecided"
    NOT_APPLICABLE = "not-applicable"
    ERROR = "error"


@dataclass(frozen=True)
class Verdict:
    """A probe's conclusion, with what it saw on the wire (shown when it fails)."""

    outcome: Outcome
    detail: str = ""
    seen: tuple[str, ...] = ()

    @classmethod
    def passed(cls, detail: str = "", seen: tuple[str, ...] | list[str] = ()) -> Verdict:
        return cls(Outcome.PASS, detail, tuple(seen))

    @classmethod
    def failed(cls, detail: str, seen: tuple[str, ...] | list[str] = ()) -> Verdict:
        return cls(Outcome.FAIL, detail, tuple(seen))

    @classmethod
    def undecided(cls, detail: str, seen: tuple[str, ...] | list[str] = ()) -> Verdict:
        return cls(Outcome.UNDECIDED, detail, tuple(seen))

    @classmethod
    def not_applicable(cls, detail: str) -> Verdict:
        return cls(Outcome.NOT_APPLICABLE, detail)


#: The transports a probe can run over; a target URL offers some of them (target.py).
TRANSPORTS = frozenset({"h1", "h1-tls", "h2c", "h2", "ws", "wss"})

_ID = re.compile(r"^rfc(?P<rfc>\d+)/(?P<section>[0-9A-Za-z.]+)/(?P<n>\d+)$")

ProbeFunc = Callable[["ProbeContext"], Verdict]


@dataclass(frozen=True)
class Probe:
    """One checked requirement: its sentence, its level, what conforms, and how to test it."""

    id: str
    level: Level
    requirement: str
    conforming: str
    transports: frozenset[str]
    func: ProbeFunc
    #: h2spec 2.6.0 case ids that check the same requirement (the mapping table).
    h2spec: tuple[str, ...] = ()
    #: Extra anchor when the section's URL fragment is not ``section-<section>``.
    anchor: str = ""
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"probe id {self.id!r} is not rfc<N>/<section>/<n>")
        unknown = self.transports - TRANSPORTS
        if unknown or not self.transports:
            raise ValueError(f"probe {self.id}: bad transports {sorted(unknown) or 'none'}")

    @property
    def rfc(self) -> str:
        match = _ID.match(self.id)
        assert match is not None
        return match["rfc"]

    @property
    def section(self) -> str:
        match = _ID.match(self.id)
        assert match is not None
        return match["section"]

    @property
    def url(self) -> str:
        anchor = self.anchor or f"section-{self.section}"
        return f"https://www.rfc-editor.org/rfc/rfc{self.rfc}#{anchor}"


REGISTRY: dict[str, Probe] = {}


def probe(
    id: str,
    *,
    level: Level,
    requirement: str,
    conforming: str,
    transports: frozenset[str] | set[str] | tuple[str, ...],
    h2spec: tuple[str, ...] = (),
    anchor: str = "",
    tags: tuple[str, ...] = (),
) -> Callable[[ProbeFunc], ProbeFunc]:
    """Register the decorated function as the probe *id* (ids are unique)."""

    def register(func: ProbeFunc) -> ProbeFunc:
        if id in REGISTRY:
            raise ValueError(f"probe id {id!r} registered twice")
        REGISTRY[id] = Probe(id=id, level=level, requirement=requirement,
                             conforming=conforming, transports=frozenset(transports),
                             func=func, h2spec=tuple(h2spec), anchor=anchor, tags=tags)
        return func

    return register

"""Flow-control windows (RFC 9113 §5.2, §6.9), one object per direction and scope.

A connection and each of its streams hold two windows: the send window (credit the
peer gave us; WINDOW_UPDATE and SETTINGS_INITIAL_WINDOW_SIZE move it, §6.9.1-§6.9.2)
and the receive window (credit we gave the peer). The receive side also counts the
octets the application consumed but we have not yet given back, so credit goes back
in batches: one WINDOW_UPDATE per half window, never one per DATA frame.
"""
from __future__ import annotations

from .frames import MAX_WINDOW

__all__ = ["Window"]


class Window:
    """One flow-control window: ``size`` octets of credit, at most 2^31-1 (§6.9.1).

    Senders and receivers spend credit by lowering ``size`` directly after checking
    it (the DATA path is hot); growing it goes through :meth:`grow`, :meth:`credit`
    or :meth:`raise_to`, which enforce the 2^31-1 ceiling.

    ``size`` may go negative: a smaller SETTINGS_INITIAL_WINDOW_SIZE can leave a send
    window below zero (§6.9.2), and nothing may be sent until WINDOW_UPDATEs lift it.
    """

    __slots__ = ("size", "unacked", "target")

    def __init__(self, size: int, target: int = 0) -> None:
        self.size = size
        #: Received octets the application consumed that the peer has not got back.
        self.unacked = 0
        #: The size a connection's receive window is kept at (0 for streams, whose
        #: target is the initial window size in force).
        self.target = target

    def __repr__(self) -> str:
        return f"<Window {self.size} unacked={self.unacked}>"

    def grow(self, increment: int) -> bool:
        """Add credit (WINDOW_UPDATE, §6.9.1, or a settings change, §6.9.2); False when
        the window now exceeds 2^31-1, which is a FLOW_CONTROL_ERROR of its scope."""
        self.size += increment
        return self.size <= MAX_WINDOW

    def credit(self, n: int, threshold: int) -> int:
        """The application consumed ``n`` octets: once ``threshold`` octets are owed,
        return the increment to send in a WINDOW_UPDATE (and count it as given back);
        otherwise 0. The window never grows past 2^31-1 (§6.9.1)."""
        pending = self.unacked + n
        if pending < threshold:
            self.unacked = pending
            return 0
        self.unacked = 0
        increment = min(pending, MAX_WINDOW - self.size)
        if increment <= 0:
            return 0
        self.size += increment
        return increment

    def raise_to(self, target: int) -> int:
        """Grow the window to ``target`` octets at once (a larger connection window
        than the initial 65 535); returns the increment to announce, or 0."""
        delta = target - self.size
        if delta <= 0:
            return 0
        self.size = target
        self.target = max(self.target, target)
        return delta

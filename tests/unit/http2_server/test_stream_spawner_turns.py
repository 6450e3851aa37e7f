"""RFC 9113 §10.5 (fairness) and the HTTP/2 handler's output: new streams' app tasks
start at most ``BB_H2_STREAMS_PER_TURN`` per loop turn, and the spawner's turn end —
where the handler writes what those tasks answered at once — runs after their first
steps, in the same turn (server/http2_spawn.py)."""
from __future__ import annotations

import asyncio
from typing import Any

from blackbull.config import Settings
from blackbull.server.http2_spawn import StreamSpawner
from blackbull.server.state import ServerState


async def _app(scope: Any, receive: Any, send: Any) -> None:
    pass


class _Conn:
    closed = False

    def __init__(self, per_turn: int) -> None:
        self.state = ServerState(_app, Settings(h2_streams_per_turn=per_turn))


class _Stream:
    """Records its app task's first step in ``log``, as H2Stream.spawn starts one."""

    disconnected = False

    def __init__(self, sid: int, log: list[str]) -> None:
        self.stream_id = sid
        self.log = log

    def spawn(self, app: Any, tasks: set[Any]) -> None:
        async def first_step() -> None:
            self.log.append(f"step {self.stream_id}")
        tasks.add(asyncio.get_running_loop().create_task(first_step()))


async def test_turn_end_follows_the_first_steps_of_the_tasks_it_started() -> None:
    """The turn end comes after the first steps of the tasks started with it (so their
    responses leave in that turn, in one write), and streams over the per-turn budget
    start only in the next turn, before that turn's end."""
    log: list[str] = []
    loop = asyncio.get_running_loop()
    streams: dict[int, Any] = {}
    spawner = StreamSpawner(loop, _Conn(per_turn=2), streams,  # type: ignore[arg-type]
                            lambda: log.append("turn end"))
    for sid in (1, 3, 5):
        streams[sid] = stream = _Stream(sid, log)
        spawner.waiting.append(stream)  # type: ignore[arg-type]
    spawner.spawn()
    assert log == []  # nothing runs inside the read's callback
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == ["step 1", "step 3", "turn end", "step 5", "turn end"]
    assert not spawner.turn_pending


async def test_a_released_spawner_calls_no_turn_end() -> None:
    """Once the connection is gone the spawner holds nothing of the handler."""
    log: list[str] = []
    loop = asyncio.get_running_loop()
    spawner = StreamSpawner(loop, _Conn(per_turn=2), {},  # type: ignore[arg-type]
                            lambda: log.append("turn end"))
    spawner.waiting.append(_Stream(1, log))  # type: ignore[arg-type]
    spawner.spawn()
    spawner.release()
    for _ in range(3):
        await asyncio.sleep(0)
    assert log == ["step 1"]

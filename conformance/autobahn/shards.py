"""Split one fuzzingclient run over several ``wstest`` processes and merge their reports.

``wstest`` is single-threaded, and a case is a strict ping-pong between it and the server
(the next message goes out only after the echo came back), so one run keeps about one
core busy however many the machine has.  With ``--shards N`` the harness starts N
workers, each with its own server under test, and hands them *chunks* of the requested
case ids from one queue (largest first); every chunk is one ``wstest`` process in its
own directory.  Every case still runs exactly once, on a fresh connection as before, and
the per-chunk ``index.json`` files are merged case by case into one ``index.json`` next
to every case's own report file, so :func:`conformance.autobahn.results.convert` sees the
same directory a single ``wstest`` would have written.

The chunk sizes come from measured case times when there are some: every sharded run
records each case's ``duration`` from its merged index under
``.cache/autobahn/case-times/<target>.json`` (:func:`record_case_times`); a fresh machine
reads ``case_times.json`` beside this module (every case against our server, measured in a
default run on 2 cores; its ``measured`` field says when and how).
A case neither knows is estimated by a rough cost model (:func:`case_weight`; the
permessage-deflate groups 12.* and 13.* are ~97% of the time, growing with the message
size).  Times only order and size the chunks: the queue balances whatever they get wrong,
and every case runs whatever they say.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from conformance.targets.base import CACHE_DIR

#: Seconds per case measured on this machine by earlier runs, one file per target
#: (BB_AUTOBAHN_CASE_TIMES_DIR elsewhere: the harness tests plan without this machine's).
CASE_TIMES_DIR = Path(os.environ.get("BB_AUTOBAHN_CASE_TIMES_DIR")
                      or CACHE_DIR / "autobahn" / "case-times")
#: A committed table (every case against our server): a fresh machine's first guess
#: (BB_AUTOBAHN_COMMITTED_CASE_TIMES names another file, or a missing one for none).
COMMITTED_CASE_TIMES = Path(os.environ.get("BB_AUTOBAHN_COMMITTED_CASE_TIMES")
                            or Path(__file__).with_name("case_times.json"))
CaseTimes = dict[str, float]

#: Autobahn 12.x.y / 13.x.y: y indexes MSG_SIZES of ``case12_x_x.py`` — (payload octets,
#: auto-fragment size; 0 = none); every such case echoes 1000 messages.
DEFLATE_SIZES: tuple[tuple[int, int], ...] = (
    (16, 0), (64, 0), (256, 0), (1024, 0), (4096, 0), (8192, 0), (16384, 0), (32768, 0),
    (65536, 0), (131072, 0), (8192, 256), (16384, 256), (32768, 256), (65536, 256),
    (131072, 256), (131072, 1024), (131072, 4096), (131072, 32768))
#: Seconds per 1000 messages of 128 KiB, per sub-group (its test data compresses
#: differently: 12.2 a bitmap, 12.3 German text ...), from a run on 2 idle-ish cores.
DEFLATE_SCALE: dict[str, float] = {"12.1": 10.0, "12.2": 20.0, "12.3": 30.0, "12.4": 5.5,
                                   "12.5": 10.0}
DEFLATE_SCALE_DEFAULT = 6.0  # 13.1 - 13.7 (the JSON test data, different parameters)
#: Fixed cost of a case (connect, handshake, close) and of one wstest process (start-up).
CASE_OVERHEAD_S = 0.05
CHUNK_OVERHEAD_S = 1.5
#: The smallest chunk worth a wstest process (estimated seconds of cases).
MIN_CHUNK_S = 10 * CHUNK_OVERHEAD_S


def case_weight(case_id: str) -> float:
    """Estimated seconds *case_id* takes (only its order of magnitude matters)."""
    parts = case_id.split(".")
    if parts[0] in ("12", "13") and len(parts) == 3 and parts[2].isdigit():
        index = int(parts[2]) - 1
        if 0 <= index < len(DEFLATE_SIZES):
            size, fragment = DEFLATE_SIZES[index]
            scale = DEFLATE_SCALE.get(".".join(parts[:2]), DEFLATE_SCALE_DEFAULT)
            fragmented = 1.3 if fragment == 256 else 1.0  # many small frames cost more
            return 0.3 + scale * fragmented * size / 131072
        return 1.0
    if parts[0] == "9":
        return 0.5  # 9.*: up to 16 MiB messages, 1 s at most
    return CASE_OVERHEAD_S


def load_case_times(target: str) -> CaseTimes:
    """Measured seconds per case: this machine's last runs of *target*, else the committed
    table; an unreadable file counts as none (the cost model fills in)."""
    for path in (CASE_TIMES_DIR / f"{target}.json", COMMITTED_CASE_TIMES):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            times = {str(k): float(v) for k, v in data["seconds"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if times:
            return times
    return {}


def case_times_from_index(index: Path) -> CaseTimes:
    """Each case's ``duration`` (milliseconds in wstest's ``index.json``) in seconds."""
    data = json.loads(index.read_text(encoding="utf-8"))
    times: CaseTimes = {}
    for cases in data.values():
        for case_id, entry in cases.items():
            duration = entry.get("duration") if isinstance(entry, dict) else None
            if isinstance(duration, (int, float)) and duration >= 0:
                times[case_id] = round(duration / 1000.0, 3)
    return times


def record_case_times(index: Path, target: str, directory: Path = CASE_TIMES_DIR) -> Path:
    """Merge the case times of *index* into *target*'s table (newest measurement wins)."""
    path = directory / f"{target}.json"
    try:
        known = json.loads(path.read_text(encoding="utf-8"))["seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        known = {}
    known.update(case_times_from_index(index))
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"target": target, "seconds": dict(sorted(known.items()))},
                              indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def plan_chunks(case_ids: Sequence[str], workers: int, min_chunk_s: float = MIN_CHUNK_S,
                times: CaseTimes | None = None) -> list[list[str]]:
    """Partition *case_ids* into chunks for *workers* pulling from one queue.

    Guided self-scheduling: the cases go heaviest first (by *times* where it has them,
    else :func:`case_weight`), and each chunk takes about
    ``remaining / (2 * workers)`` of the estimated time that is left (never less than
    *min_chunk_s*, which amortises a wstest start), so the chunks shrink towards the end of the queue
    and the workers finish close together.  Every id lands in exactly one chunk; each
    chunk lists its ids in suite order.
    """
    if len(set(case_ids)) != len(case_ids):
        raise ValueError("duplicate case ids")
    if workers <= 1 or len(case_ids) <= 1:
        return [list(case_ids)] if case_ids else []
    position = {cid: i for i, cid in enumerate(case_ids)}
    known = times or {}
    cost = {c: known[c] if c in known else case_weight(c) for c in case_ids}
    ordered = sorted(case_ids, key=lambda c: (-cost[c], position[c]))
    remaining = sum(cost.values())
    chunks: list[list[str]] = []
    current: list[str] = []
    budget = 0.0
    for cid in ordered:
        if not current:
            budget = max(remaining / (2 * workers), min_chunk_s)
        current.append(cid)
        weight = cost[cid]
        budget -= weight
        remaining -= weight
        if budget <= 0:
            chunks.append(sorted(current, key=position.__getitem__))
            current = []
    if current:
        chunks.append(sorted(current, key=position.__getitem__))
    return chunks


class MergeError(RuntimeError):
    """The chunk reports cannot be merged faithfully (a case reported twice, ...)."""


def merge_indexes(chunk_indexes: Iterable[Path], dest: Path) -> Path:
    """Merge the chunks' ``index.json`` into ``dest/index.json``, case by case.

    Each case's own report files (``<reportfile>`` and its ``.html`` twin) are moved
    next to the merged index, so the result is laid out as one ``wstest`` run's
    ``reports/servers``.  A case reported by two chunks is an error, never overwritten.
    """
    dest.mkdir(parents=True, exist_ok=True)
    merged: dict[str, dict[str, Any]] = {}
    for index_path in chunk_indexes:
        data = json.loads(index_path.read_text(encoding="utf-8"))
        for agent, cases in data.items():
            into = merged.setdefault(agent, {})
            for case_id, entry in cases.items():
                if case_id in into:
                    raise MergeError(f"case {case_id} of agent {agent!r} reported twice "
                                     f"(again in {index_path})")
                into[case_id] = entry
                _move_case_files(index_path.parent, dest, entry.get("reportfile"))
    out = dest / "index.json"
    out.write_text(json.dumps(merged, indent=3, sort_keys=True), encoding="utf-8")
    return out


def _move_case_files(src: Path, dest: Path, reportfile: object) -> None:
    if not isinstance(reportfile, str) or os.sep in reportfile or reportfile.startswith("."):
        return
    stem = reportfile[:-5] if reportfile.endswith(".json") else reportfile
    for name in {reportfile, stem + ".html"}:
        if (src / name).exists():
            shutil.move(str(src / name), str(dest / name))

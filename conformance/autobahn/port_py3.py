"""Convert the unmodified PyPI Autobahn|Testsuite to Python 3 at install time.

Used only where no CPython 2.7 exists.  The converted code lives under
``.cache/autobahn/`` and is never committed.  Steps:

1. copy ``autobahntestsuite`` from the sdist and run ``lib2to3`` on it;
2. take ``autobahn==0.10.9`` (the suite's pinned protocol engine, which already
   supports Python 3) from its own sdist;
3. apply the small set of fixes below, each of which must match exactly where
   expected, so a different sdist fails loudly instead of running half-ported;
4. install both into a Python 3 venv with current Twisted/txaio (+ wsaccel).

The data model stays the suite's own: payloads are Python-2 byte strings, which
after ``lib2to3`` are ``str`` whose characters are the byte values (latin-1).
They become ``bytes`` where they enter autobahn's send methods and where the
suite compares what it sent with what came back (``Case.compare``); whatever
goes into a report is turned back into text.  :data:`COMPAT_MODULE` holds those
conversions; it is written into the converted package as ``_py3compat.py``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from conformance.autobahn.install import run
from conformance.autobahn.runners import AUTOBAHN_DIR, RunnerUnavailable

AUTOBAHN_PIN = "autobahn==0.10.9"
# The suite's runtime needs on Python 3; versions float (current releases work).
PY3_REQUIREMENTS = ("twisted[tls]", "txaio", "six", "zope.interface", "jinja2", "klein",
                    "werkzeug", "pyopenssl", "service_identity", "wsaccel", "ujson")

COMPAT_MODULE = '''\
"""Python 3 shims added by conformance/autobahn/port_py3.py (not part of the suite)."""
import binascii


def to_bytes(value):
    """A suite payload (latin-1 str standing for bytes) as bytes; other values unchanged."""
    if isinstance(value, str):
        return value.encode("latin-1")
    if isinstance(value, bytes) and type(value) is not bytes:
        return bytes(value)
    return value


def to_bytes_deep(value):
    if isinstance(value, (str, bytes)):
        return to_bytes(value)
    if isinstance(value, list):
        return [to_bytes_deep(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_bytes_deep(v) for v in value)
    if isinstance(value, dict):
        return {k: to_bytes_deep(v) for k, v in value.items()}
    return value


def to_text_deep(value):
    """bytes anywhere inside *value* as latin-1 text, so json can write it."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, list):
        return [to_text_deep(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_text_deep(v) for v in value)
    if isinstance(value, dict):
        return {to_text_deep(k): to_text_deep(v) for k, v in value.items()}
    return value


def b2a_hex(value):
    return binascii.b2a_hex(to_bytes(value)).decode("ascii")


def join_payload(parts):
    return b"".join(to_bytes(p) for p in parts)


class Utf8Payload(bytes):
    """A Python-2 UTF-8 byte-string literal: bytes on the wire, text in descriptions."""

    def __str__(self):
        return self.decode("utf-8")


class ReportFile:
    """A report file that takes both text and already-encoded bytes, as the suite writes both."""

    def __init__(self, path):
        self._f = open(path, "wb")

    def write(self, data):
        self._f.write(data.encode("utf-8") if isinstance(data, str) else data)

    def close(self):
        self._f.close()


class BytesAtTheEdge:
    """Turns suite payloads into bytes where they enter autobahn's send methods."""

    def sendData(self, data, *args, **kw):
        return super().sendData(to_bytes(data), *args, **kw)

    def sendFrame(self, opcode, payload=b"", *args, **kw):
        if "mask" in kw:
            kw["mask"] = to_bytes(kw["mask"])
        return super().sendFrame(opcode, to_bytes(payload), *args, **kw)

    def sendMessage(self, payload, *args, **kw):
        return super().sendMessage(to_bytes(payload), *args, **kw)

    def sendMessageFrame(self, payload, *args, **kw):
        return super().sendMessageFrame(to_bytes(payload), *args, **kw)

    def sendMessageFrameData(self, payload, *args, **kw):
        return super().sendMessageFrameData(to_bytes(payload), *args, **kw)

    def sendPing(self, payload=None):
        return super().sendPing(to_bytes(payload))

    def sendPong(self, payload=None):
        return super().sendPong(to_bytes(payload))

    def sendCloseFrame(self, code=None, reasonUtf8=None, isReply=False):
        return super().sendCloseFrame(code, to_bytes(reasonUtf8), isReply)
'''


@dataclass(frozen=True)
class Fix:
    """One textual fix: in files matching *glob*, replace *old* by *new* (regex if *regex*)."""

    glob: str
    old: str
    new: str
    regex: bool = False
    why: str = ""

    def apply(self, root: Path) -> int:
        hits = 0
        for path in sorted(root.glob(self.glob)):
            text = path.read_text(encoding="utf-8")
            if self.regex:
                new_text, n = re.subn(self.old, self.new, text, flags=re.MULTILINE)
            else:
                n = text.count(self.old)
                new_text = text.replace(self.old, self.new)
            if n:
                path.write_text(new_text, encoding="utf-8")
                hits += n
        if hits == 0:
            raise RunnerUnavailable(f"port_py3: fix did not apply ({self.glob}: {self.why or self.old!r})")
        return hits


IMPORT_COMPAT = "from autobahntestsuite import _py3compat\n"

AUTOBAHN_FIXES = (
    Fix("autobahn/websocket/protocol.py", "range(payload_len / len(payload))",
        "range(payload_len // len(payload))", why="true division inside range() in sendFrame"),
    Fix("autobahn/twisted/websocket.py", "from base64 import b64encode, b64decode\n",
        "from base64 import b64encode, b64decode\n\nimport txaio\ntxaio.use_twisted()\n",
        why="current txaio no longer guesses the framework"),
)

SUITE_FIXES = (
    # Every module that hexes payloads gets the text-producing b2a_hex.
    Fix("**/*.py", r"^(import (?:[\w.]+, )*binascii(?:, [\w.]+)*\n)", r"\1" + IMPORT_COMPAT, regex=True,
        why="import the shims next to binascii"),
    Fix("**/*.py", "binascii.b2a_hex(", "_py3compat.b2a_hex(", why="b2a_hex accepts str, gives text"),
    Fix("case/case6_2_[123].py", r'^(\s+PAYLOAD\d? = )("[^"\n]*[^\x00-\x7f][^"\n]*")$',
        r'\1_py3compat.Utf8Payload(\2.encode("utf-8"))', regex=True,
        why="literal UTF-8 payloads were byte strings in Python 2"),
    Fix("case/case6_2_4.py", r"""^(\s+PAYLOAD = )(["'](?:\\x[0-9a-fA-F]{2})+["'])$""",
        r'\1_py3compat.Utf8Payload(_py3compat.to_bytes(\2))', regex=True,
        why="escaped UTF-8 payload: bytes on the wire, readable description"),
    Fix("case/case6_2_[123].py", "from .case import Case\n", "from .case import Case\n" + IMPORT_COMPAT,
        why="6.2.x need the shims even without binascii"),
    Fix("case/case6_x_x.py", "res = v.validate(vss[:i])",
        "res = v.validate(_py3compat.to_bytes(vss[:i]))", why="the validator takes bytes"),
    Fix("case/*.py", "(object, Case, )", "(Case, )", why="Case is a new-style class now: MRO"),
    Fix("case/case6_x_x.py", ".tostring()", ".tobytes()", why="array.tostring was removed"),
    Fix("case/case10_1_1.py", "len(self.payload) / self.p.autoFragmentSize",
        "len(self.payload) // self.p.autoFragmentSize", why="frame count is an integer"),
    Fix("case/case9_9_1.py", "from zope.interface import implements",
        "from zope.interface import implementer", why="class advice is gone in Python 3"),
    Fix("case/case9_9_1.py", "class FrameProducer:\n\n   implements(interfaces.IPushProducer)\n",
        "@implementer(interfaces.IPushProducer)\nclass FrameProducer:\n", why="@implementer"),
    Fix("case/case.py", "import pickle\n", "import pickle\n" + IMPORT_COMPAT),
    Fix("case/case.py", "return pickle.dumps(obj1) == pickle.dumps(obj2)",
        "return pickle.dumps(_py3compat.to_bytes_deep(obj1), 2) == "
        "pickle.dumps(_py3compat.to_bytes_deep(obj2), 2)",
        why="sent (str) and received (bytes) payloads compare as bytes"),
    Fix("fuzzing.py", "class FuzzingProtocol:", "class FuzzingProtocol(_py3compat.BytesAtTheEdge):",
        why="payloads become bytes where they enter autobahn"),
    Fix("fuzzing.py", "         p = ''.join(payload)\n", "         p = _py3compat.join_payload(payload)\n",
        why="frame payload parts are bytes"),
    Fix("fuzzing.py", "         dd = data[:maxlen] + ellipses\n      else:\n         dd = data\n"
        "      return dd.decode(",
        "         dd = _py3compat.to_bytes(data[:maxlen]) + ellipses.encode()\n      else:\n"
        "         dd = _py3compat.to_bytes(data)\n      return dd.decode(",
        why="asciiLogData decodes bytes"),
    Fix("fuzzing.py", "self.factory.logCase(caseResult)",
        "self.factory.logCase(_py3compat.to_text_deep(caseResult))",
        why="reports are JSON text: no bytes inside"),
    Fix("fuzzing.py", "f = open(os.path.join(outdir, report_filename), 'w')",
        "f = _py3compat.ReportFile(os.path.join(outdir, report_filename))",
        why="the HTML writer mixes text and encoded bytes"),
    Fix("wstest.py", r"^from \. import serializer$",
        "try:\n   from . import serializer\nexcept ImportError:  # needs autobahn.wamp test data\n"
        "   serializer = None", regex=True, why="serializer mode is optional"),
)


def fetch_autobahn_sdist(workdir: Path) -> Path:
    dest = workdir / "autobahn-sdist"
    src = dest / "autobahn-0.10.9"
    if (src / "autobahn").is_dir():
        return src
    dest.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         "--disable-pip-version-check", AUTOBAHN_PIN, "-d", str(dest)])
    with tarfile.open(dest / "autobahn-0.10.9.tar.gz") as tar:
        tar.extractall(dest, filter="data")
    return src


def convert(suite_src: Path, workdir: Path) -> Path:
    """Produce ``workdir/port/{autobahn,autobahntestsuite}`` converted and fixed."""
    port = workdir / "port"
    shutil.rmtree(port, ignore_errors=True)
    port.mkdir(parents=True)
    shutil.copytree(suite_src / "autobahntestsuite", port / "autobahntestsuite",
                    ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copytree(fetch_autobahn_sdist(workdir) / "autobahn", port / "autobahn",
                    ignore=shutil.ignore_patterns("*.pyc"))
    run([sys.executable, "-W", "ignore", "-m", "lib2to3", "-w", "-n", "--no-diffs",
         str(port / "autobahntestsuite")])
    for fix in AUTOBAHN_FIXES:
        fix.apply(port)
    suite = port / "autobahntestsuite"
    for fix in SUITE_FIXES:
        fix.apply(suite)
    (suite / "_py3compat.py").write_text(COMPAT_MODULE)  # after the fixes: they must not touch it
    return port


def build(venv: Path, suite_src: Path) -> None:
    """Create *venv*, install the runtime, and drop the converted packages into it."""
    workdir = AUTOBAHN_DIR / "py3-build"
    port = convert(suite_src, workdir)
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *PY3_REQUIREMENTS])
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    for pkg in ("autobahn", "autobahntestsuite"):
        shutil.copytree(port / pkg, site / pkg)
    wstest = venv / "bin" / "wstest"
    wstest.write_text(f"#!{python}\nimport sys\nfrom autobahntestsuite.wstest import run\n"
                      "sys.exit(run())\n")
    wstest.chmod(0o755)
    check = subprocess.run([str(wstest), "--autobahnversion"], capture_output=True, text=True)
    if check.returncode != 0:
        raise RunnerUnavailable(f"port_py3: converted wstest does not start:\n{check.stderr[-3000:]}")


if __name__ == "__main__":
    from conformance.autobahn.install import ensure_py3_port

    print(ensure_py3_port())

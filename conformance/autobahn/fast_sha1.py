"""OpenSSL's SHA-1 for the Python 2.7 runner's ``hashlib.sha1`` (a speed-up, same digests).

The pyenv CPython 2.7 here is built without OpenSSL (Debian 12 ships OpenSSL 3, which 2.7
cannot build against), so its ``hashlib.sha1`` is the slow built-in ``_sha`` (~270 MB/s).
Autobahn's 12.*/13.* cases hash every message they send and every echo they get (1000
messages of up to 128 KiB per case): profiled, SHA-1 was ~20% of wstest's CPU in those
cases. The venv already holds ``cryptography`` (a pin of the suite), whose OpenSSL SHA-1
runs at ~1.8 GB/s; a ``.pth`` file makes ``hashlib.sha1`` use it, as a CPython 2.7 built
with OpenSSL would. The suite's code is untouched, and SHA-1 is SHA-1: the digests, so the
verdicts, cannot change. :func:`install` checks that against ``_sha`` before enabling it,
and leaves the built-in in place when the check fails or ``cryptography`` is missing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

MODULE = "_bb_fast_sha1"

#: Python 2 and 3 compatible; imported at interpreter start through the .pth file.
SOURCE = '''"""hashlib.sha1 on OpenSSL through cryptography (see conformance/autobahn/fast_sha1.py)."""
import binascii
import hashlib
import warnings

builtin_sha1 = hashlib.sha1
try:
    text_type = unicode  # noqa: F821 - Python 2
except NameError:
    text_type = str


def _bytes(data):
    if isinstance(data, bytes):
        return data
    if isinstance(data, text_type):
        return data.encode("ascii")  # what _sha does with text
    return memoryview(data).tobytes()


def _enable():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from cryptography.hazmat.backends import default_backend
            from cryptography.hazmat.primitives import hashes
            backend = default_backend()
            hashes.Hash(hashes.SHA1(), backend)
    except Exception:
        return False

    class sha1(object):
        name = "sha1"
        digest_size = 20
        digestsize = 20
        block_size = 64

        def __init__(self, string=b"", _ctx=None):
            self._ctx = _ctx if _ctx is not None else hashes.Hash(hashes.SHA1(), backend)
            if string:
                self.update(string)

        def update(self, data):
            data = _bytes(data)
            if data:
                self._ctx.update(data)

        def digest(self):
            return self._ctx.copy().finalize()

        def hexdigest(self):
            return binascii.hexlify(self.digest()).decode("ascii")

        def copy(self):
            return sha1(_ctx=self._ctx.copy())

    hashlib.sha1 = sha1
    return True


enabled = _enable()
'''

#: Run by the venv's interpreter: the shim must agree with the built-in on every input kind.
SELF_CHECK = '''
import hashlib, os, sys, _bb_fast_sha1 as f
assert f.enabled and hashlib.sha1 is not f.builtin_sha1, "not enabled"
samples = [b"", b"abc", os.urandom(1), os.urandom(131072 + 7), u"dGhlIHNhbXBsZSBub25jZQ==",
           bytearray(os.urandom(100))]
for s in samples:
    assert hashlib.sha1(s).digest() == f.builtin_sha1(s).digest(), repr(s)[:40]
    a, b = hashlib.sha1(), f.builtin_sha1()
    for part in (s, s[:5], memoryview(bytes(s[:9]) if not isinstance(s, type(u"")) else b"x")):
        a.update(part); b.update(part)
    c, d = a.copy(), b.copy()
    c.update(b"more"); d.update(b"more")
    assert (a.digest(), a.hexdigest(), c.digest()) == (b.digest(), b.hexdigest(), d.digest())
    assert a.digest() == a.digest() and a.digest_size == 20 and a.name == "sha1"
sys.stdout.write("ok")
'''


def site_packages(venv: Path) -> Path | None:
    found = sorted(venv.glob("lib/python*/site-packages"))
    return found[0] if found else None


def install(venv: Path) -> str:
    """Enable the shim in *venv* if it computes exactly what ``_sha`` does; says what it did."""
    site = site_packages(venv)
    if site is None:
        return "no site-packages"
    module, pth = site / f"{MODULE}.py", site / f"{MODULE}.pth"
    if module.exists() and module.read_text() == SOURCE and pth.exists():
        return "enabled"
    module.write_text(SOURCE)
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", SELF_CHECK],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or proc.stdout != "ok":
        module.unlink()
        pth.unlink(missing_ok=True)
        return f"left the built-in sha1: {(proc.stderr or proc.stdout)[-300:]}"
    pth.write_text(f"import {MODULE}\n")
    return "enabled"

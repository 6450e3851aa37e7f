"""A throw-away CA and a server certificate for 127.0.0.1/localhost (via ``trustme``),
kept under ``.cache/bench/tls/`` so every TLS server under test uses the same key type."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .envs import CACHE_DIR

TLS_DIR = CACHE_DIR / "tls"


@dataclass(frozen=True, slots=True)
class CertFiles:
    certfile: Path  # server certificate chain (PEM)
    keyfile: Path  # its private key (PEM)
    cafile: Path  # the CA that signed it, for clients that verify


def ensure_certs(directory: Path = TLS_DIR) -> CertFiles:
    """Create the files once; later runs reuse them."""
    files = CertFiles(directory / "cert.pem", directory / "key.pem", directory / "ca.pem")
    if all(p.exists() for p in (files.certfile, files.keyfile, files.cafile)):
        return files
    import trustme  # only needed the first time

    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(files.keyfile))
    with open(files.certfile, "wb") as out:
        for blob in cert.cert_chain_pems:
            out.write(blob.bytes())
    ca.cert_pem.write_to_path(str(files.cafile))
    return files

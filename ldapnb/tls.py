"""Throw-away TLS certificates for a private test server.

:func:`make_certificates` writes a fresh certificate authority and a server certificate it
signed, valid for the names ``localhost`` and ``127.0.0.1``, into a folder.  They are made with
`trustme <https://trustme.readthedocs.io>`_ (itself built on ``cryptography``): nothing here is
hand-written cryptography, and nothing should ever be trusted outside a test or a lesson.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Certificates", "make_certificates", "SERVER_NAMES"]

#: The names the server certificate is valid for (its subjectAltName: DNS and IP entries).
SERVER_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class Certificates:
    """Where :func:`make_certificates` wrote its PEM files.

    ``ca_file`` is the authority to trust (give it to a client as its CA file), ``cert_file``
    the server certificate followed by its chain, ``key_file`` the server's private key
    (readable by its owner only).
    """

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_certificates(
    folder: str | os.PathLike[str], names: tuple[str, ...] = SERVER_NAMES
) -> Certificates:
    """Make a CA and a server certificate it signed, as PEM files in ``folder``.

    Parameters
    ----------
    folder
        An existing folder; ``ca.pem``, ``server.pem`` and ``server.key`` are written in it
        (replacing files of those names).
    names
        Host names and IP addresses the server certificate is valid for; by default
        ``localhost`` and ``127.0.0.1``.  IP addresses become ``IP:`` subjectAltName entries.

    Returns
    -------
    Certificates
        The three file paths.

    Raises
    ------
    FileNotFoundError
        When ``folder`` does not exist.

    Examples
    --------
    >>> import tempfile, ssl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     certs = make_certificates(tmp)
    ...     context = ssl.create_default_context(cafile=str(certs.ca_file))
    ...     certs.key_file.stat().st_mode & 0o077
    0
    """
    import trustme  # imported here: only servers started by ldapnb need it

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {str(folder)!r} to write certificates into")
    ca = trustme.CA(organization_name="ldapnb throw-away test CA")
    server = ca.issue_cert(*names, organization_name="ldapnb test server")
    certificates = Certificates(
        ca_file=folder / "ca.pem", cert_file=folder / "server.pem", key_file=folder / "server.key"
    )
    ca.cert_pem.write_to_path(str(certificates.ca_file))
    # The server sends its certificate and the chain up to (not including) the CA.
    with open(certificates.cert_file, "wb") as out:
        for blob in server.cert_chain_pems:
            out.write(blob.bytes())
    # Create the key file private before any secret is written to it.
    fd = os.open(certificates.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(server.private_key_pem.bytes())
    os.chmod(certificates.key_file, 0o600)
    return certificates

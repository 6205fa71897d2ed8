"""Throwaway certificates for the Temporal-over-TLS tests: a CA, a server certificate for this machine, a client.

Made fresh by `trustme` in each session, so no key is ever checked in and none outlives the tests. A second CA,
which signed nothing the server holds, stands for "the wrong CA file"; its own client stands for a certificate the
server does not trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    """The CA that signed the server's and the client's certificates."""
    server_file: Path
    """The server's certificate chain and key in one PEM file, valid for 127.0.0.1 and localhost."""
    client_cert_file: Path
    client_key_file: Path
    other_ca_file: Path
    """A CA that signed nothing the server holds."""
    other_client_cert_file: Path
    """A client certificate from the other CA, which the server does not trust."""
    other_client_key_file: Path


def make_pki(directory: Path) -> Pki:
    ca, other = trustme.CA(organization_name="Leda test CA"), trustme.CA(organization_name="Leda other CA")
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("leda-worker@leda.test")
    stranger = other.issue_cert("stranger@leda.test")
    pki = Pki(
        ca_file=directory / "ca.pem",
        server_file=directory / "server.pem",
        client_cert_file=directory / "client.crt",
        client_key_file=directory / "client.key",
        other_ca_file=directory / "other-ca.pem",
        other_client_cert_file=directory / "stranger.crt",
        other_client_key_file=directory / "stranger.key",
    )
    ca.cert_pem.write_to_path(str(pki.ca_file))
    other.cert_pem.write_to_path(str(pki.other_ca_file))
    server.private_key_and_cert_chain_pem.write_to_path(str(pki.server_file))
    for cert, cert_file, key_file in (
        (client, pki.client_cert_file, pki.client_key_file),
        (stranger, pki.other_client_cert_file, pki.other_client_key_file),
    ):
        cert.cert_chain_pems[0].write_to_path(str(cert_file))
        cert.private_key_pem.write_to_path(str(key_file))
    return pki

"""The fake API server over HTTPS, as a GKE cluster's endpoint is: kubectl sends credentials only over TLS.

client-go reads a kubeconfig user's credentials (token, exec plugin) only when the server URL is https, so the
gke-gcloud-auth-plugin's token, and with it the caller's Google identity, reaches the API server only this way.
The same handlers serve the same world as the plain-http listener (which stays, for tests and tools that talk
to the cluster directly); the cluster's CA is a fresh self-signed certificate, reported by the fake GKE.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import shutil
import ssl
import tempfile
from pathlib import Path

from aiohttp import web

from kftui.sandbox.base import Served
from kftui.sandbox.faults import FaultPlan
from kftui.sandbox.kube.server import KubeApi


def self_signed(host: str) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for the API server at `host`, its own CA as GKE's cluster CA is for clients."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = dt.datetime.now(dt.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName("kubernetes"), x509.DNSName("kubernetes.default"),
                                   x509.DNSName("localhost")]
    with contextlib.suppress(ValueError):
        alt.append(x509.IPAddress(ipaddress.ip_address(host)))
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _context(cert: bytes, key: bytes) -> ssl.SSLContext:
    """A server TLS context from PEM bytes (the files live only while they are read)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    folder = Path(tempfile.mkdtemp(prefix="kftui-kube-tls-"))
    try:
        (folder / "cert.pem").write_bytes(cert)
        (folder / "key.pem").write_bytes(key)
        (folder / "key.pem").chmod(0o600)
        ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ctx.set_alpn_protocols(["http/1.1"])  # kubectl offers h2 first; aiohttp speaks HTTP/1.1 only
    return ctx


async def serve_tls(plain: Served, host: str = "127.0.0.1", port: int = 0) -> Served:
    """An HTTPS listener over the world of a running kube sandbox; `extra` has its bare `endpoint` and `ca`."""
    cert, key = self_signed(host)
    plan: FaultPlan = plain.extra["faults"]
    runner = web.AppRunner(KubeApi(plain.state, plan).app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=_context(cert, key))
    await site.start()
    bound = runner.addresses[0][1]

    async def close() -> None:
        await runner.cleanup()

    endpoint = f"{host}:{bound}"
    return Served(name="kube-tls", url=f"https://{endpoint}", close=close, state=plain.state,
                  extra={"endpoint": endpoint, "ca": base64.b64encode(cert).decode(), "faults": plan})

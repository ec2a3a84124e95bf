"""WireUpstream over https against a local TLS server with a self-signed certificate."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from aiohttp import web

from seawall._errors import UpstreamConnectError
from seawall.engine import Request
from seawall.security import EgressPolicy
from seawall.transports import WireUpstream
from tests.transports._wire_support import LOOPS, run, target

pytestmark = [pytest.mark.realserver, pytest.mark.parametrize("loop", LOOPS)]

LOOPBACK = EgressPolicy(
    allow=(ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))
)
BIG = b"0123456789abcdef" * (2 * 1024 * 64)  # 2 MiB


def _with_cryptography(cert: Path, key: Path) -> bool:
    try:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return False
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return True


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for DNS:localhost only (not for 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    if _with_cryptography(cert, key):
        return cert, key
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the cryptography package or the openssl command to make a certificate")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def _tls_server(
    cert: Path, key: Path, names: list[str | None], peers: list[int]
) -> tuple[web.AppRunner, int]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    def record_sni(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        names.append(name)

    server_context.sni_callback = record_sni  # type: ignore[assignment]

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername")[1])
        if request.path == "/big":
            return web.Response(body=BIG)
        return web.Response(text=f"secure {request.secure}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    return runner, runner.addresses[0][1]


def test_https_verifies_sends_sni_and_keeps_the_connection(
    loop: str, certificate: tuple[Path, Path]
) -> None:
    """With the test CA trusted: SNI names the host, calls share one TLS connection, big bodies stream."""
    cert, key = certificate

    async def main() -> None:
        names: list[str | None] = []
        peers: list[int] = []
        runner, port = await _tls_server(cert, key, names, peers)
        client_context = ssl.create_default_context(cafile=str(cert))
        upstream = WireUpstream(egress=LOOPBACK, ssl_context=client_context)
        vendor = target(f"https://localhost:{port}")
        try:
            bodies = [
                (await upstream.send(vendor, Request("GET", "/"), timeout=5)).body for _ in range(3)
            ]
            big = await upstream.send(vendor, Request("GET", "/big"), timeout=5)
            assert big.stream is not None
            received = await big.read_all()
            after = await upstream.send(vendor, Request("GET", "/"), timeout=5)
        finally:
            await upstream.aclose()
            await runner.cleanup()
        assert bodies == [b"secure True"] * 3
        assert received == BIG
        assert after.body == b"secure True"
        assert names == ["localhost"]
        assert len(set(peers)) == 1

    run(loop, main())


def test_an_untrusted_certificate_is_refused_before_sending(
    loop: str, certificate: tuple[Path, Path]
) -> None:
    """The default context refuses a self-signed certificate: UpstreamConnectError(sent=False)."""
    cert, key = certificate

    async def main() -> None:
        peers: list[int] = []
        runner, port = await _tls_server(cert, key, [], peers)
        upstream = WireUpstream(egress=LOOPBACK)
        try:
            with pytest.raises(UpstreamConnectError) as caught:
                await upstream.send(
                    target(f"https://localhost:{port}"), Request("GET", "/"), timeout=5
                )
        finally:
            await upstream.aclose()
            await runner.cleanup()
        assert caught.value.sent is False
        assert "certificate verify failed" in caught.value.message
        assert peers == []

    run(loop, main())


def test_a_certificate_for_another_name_is_refused(
    loop: str, certificate: tuple[Path, Path]
) -> None:
    """A trusted certificate that does not name the host dialled (127.0.0.1) is refused."""
    cert, key = certificate

    async def main() -> None:
        runner, port = await _tls_server(cert, key, [], [])
        context = ssl.create_default_context(cafile=str(cert))
        upstream = WireUpstream(egress=LOOPBACK, ssl_context=context)
        try:
            with pytest.raises(UpstreamConnectError) as caught:
                await upstream.send(
                    target(f"https://127.0.0.1:{port}"), Request("GET", "/"), timeout=5
                )
        finally:
            await upstream.aclose()
            await runner.cleanup()
        assert caught.value.sent is False
        assert "mismatch" in caught.value.message.lower()

    run(loop, main())

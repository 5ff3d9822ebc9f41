"""The seed examples' hosts (`https://api.example.com`, `https://api.github.com`...) on loopback.

The examples are loaded exactly as the docs print them, real host names and `https://`
included, so the base URL cannot be swapped. Instead, as on a network with a TLS-inspecting
proxy, the tests set two standard variables that `requests` honours for every client:

- `HTTPS_PROXY` names `HostsProxy`, a proxy on 127.0.0.1 that accepts `CONNECT` only for
  the host names a test registered (anything else gets 403: nothing leaves the machine),
  terminates TLS with a certificate for that name, and passes the decrypted HTTP to that
  host's `LocalAPI` (rest_assets.demo.server) on loopback, which records every request;
- `REQUESTS_CA_BUNDLE` names a CA made for the test session, which signed that certificate,
  so TLS verification stays on and succeeds.

No file is edited, nothing is patched, and /etc/hosts is left alone.
"""

from __future__ import annotations

import datetime
import select
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rest_assets.demo.server import LocalAPI

# Every host name an example of the seeds calls.
HOSTS = (
    "api.example.com",
    "crm.example.com",
    "auth.example.com",
    "jsonplaceholder.typicode.com",
    "api.github.com",
    "mystore.myshopify.com",
    "api.hubapi.com",
)


@dataclass(frozen=True)
class TestCA:
    """A certificate authority of one test session and a server certificate for HOSTS."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, folder: Path) -> TestCA:
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rest-assets test CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTS[0])]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(h) for h in HOSTS]), critical=False
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        ca_file, cert_file, key_file = (folder / n for n in ("ca.pem", "cert.pem", "key.pem"))
        ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cls(ca_file, cert_file, key_file)


class HostsProxy:
    """An HTTPS (CONNECT) proxy on 127.0.0.1 serving registered host names from LocalAPIs."""

    def __init__(self, ca: TestCA) -> None:
        self.ca = ca
        self.hosts: dict[str, LocalAPI] = {}
        self.tunnels: list[str] = []  # host:port of every accepted CONNECT
        self.refused: list[str] = []  # request lines refused (unknown host, not CONNECT)
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(str(ca.cert_file), str(ca.key_file))
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve(self, host: str, api: LocalAPI) -> LocalAPI:
        """Answer `https://<host>` with `api` (started if it is not yet)."""
        if host not in HOSTS:
            raise ValueError(f"{host} has no certificate; add it to HOSTS")
        self.hosts[host] = api
        return api

    def environment(self) -> dict[str, str]:
        """The variables that send `requests` through this proxy and trust its CA."""
        return {"HTTPS_PROXY": self.url, "REQUESTS_CA_BUNDLE": str(self.ca.ca_file)}

    def start(self) -> HostsProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[socketserver.BaseRequestHandler]:
        proxy = self

        class _Tunnel(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                client: socket.socket = self.request
                head = _read_head(client)
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                method, _, rest = line.partition(" ")
                target = rest.split(" ", 1)[0]
                host = target.rsplit(":", 1)[0]
                api = proxy.hosts.get(host)
                if method != "CONNECT" or api is None:
                    with proxy._lock:
                        proxy.refused.append(line)
                    client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                with proxy._lock:
                    proxy.tunnels.append(target)
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                try:
                    tls = proxy._tls.wrap_socket(client, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                with tls, socket.create_connection(("127.0.0.1", api.port)) as upstream:
                    _pump(tls, upstream)

        return _Tunnel

    def __enter__(self) -> HostsProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _pump(tls: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Copy bytes both ways in one thread (an SSL socket must not be used by two at once)."""
    ready: list[socket.socket]
    while True:
        if tls.pending():
            ready = [tls]
        else:
            ready, _, _ = select.select([tls, upstream], [], [], 30)
            if not ready:
                return
        for sock in ready:
            try:
                data = sock.recv(65536)
            except (ssl.SSLError, OSError):
                return
            if not data:
                return
            (upstream if sock is tls else tls).sendall(data)

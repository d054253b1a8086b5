"""The console proxy (manage.py console_proxy, websockify) on the test
database, where tests/settings.py told the test daphne to relay /websockify;
and Debian's nginx running docs/nginx-portal.conf in front of both."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.support.processes import BIN, REPO, child_environment, die_with_parent, free_port, log_size, wait_for_log

ARTIFACTS = REPO / "test-artifacts"


class ConsoleProxy:
    """``manage.py console_proxy`` on a free port, on the test database."""

    def __init__(self, log: Path, port: int):
        self.log, self.port, self.process = log, port, None

    def start(self, **environment: str) -> ConsoleProxy:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        offset = log_size(self.log)
        self.process = subprocess.Popen(
            [str(BIN / "python"), "manage.py", "console_proxy", f"127.0.0.1:{self.port}"],
            cwd=REPO, env=child_environment(**environment), stdout=self.log.open("a"), stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        wait_for_log(self.log, "proxying from", self.process, timeout=30, offset=offset)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


@pytest.fixture(scope="session")
def console_proxy(django_db_setup):
    # Where tests/settings.py told the test daphne to relay /websockify.
    port = urlsplit(settings.CONSOLE_PROXY_URL).port
    proxy = ConsoleProxy(ARTIFACTS / "logs" / f"console-proxy-{os.getpid()}.log", port).start()
    yield proxy
    proxy.stop()


class Nginx:
    """Debian's nginx running docs/nginx-portal.conf as shipped, but for the
    test's ports and a self-signed certificate for 127.0.0.1."""

    def __init__(self, prefix: Path, *, portal_port: int, proxy_port: int):
        self.prefix, self.http_port, self.https_port = prefix, free_port(), free_port()
        self.portal_port, self.proxy_port = portal_port, proxy_port
        self.process = None

    def start(self) -> Nginx:
        for name in ("logs", "tmp"):
            (self.prefix / name).mkdir(parents=True, exist_ok=True)
        cert, key = self.prefix / "cert.pem", self.prefix / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                        "-out", str(cert)], check=True, capture_output=True)
        self.cert = cert
        shipped = (REPO / "docs" / "nginx-portal.conf").read_text()
        replacements = {
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{self.portal_port};",
            "server 127.0.0.1:6080;": f"server 127.0.0.1:{self.proxy_port};",
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{self.https_port} ssl;",
            "/etc/ssl/certs/portal.example.com.pem": str(cert),
            "/etc/ssl/private/portal.example.com.key": str(key),
            "/var/log/nginx/access.log": str(self.prefix / "logs" / "access.log"),
        }
        for shipped_text, ours in replacements.items():
            assert shipped_text in shipped, f"docs/nginx-portal.conf no longer says {shipped_text!r}"
            shipped = shipped.replace(shipped_text, ours)
        (self.prefix / "portal.conf").write_text(shipped)
        tmp = self.prefix / "tmp"
        (self.prefix / "nginx.conf").write_text(f"""
daemon off;
master_process off;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {self.prefix}/logs/access.log;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {self.prefix}/portal.conf;
}}
""")
        self.process = subprocess.Popen(["nginx", "-c", str(self.prefix / "nginx.conf"), "-p", str(self.prefix)],
                                        stdout=subprocess.DEVNULL, stderr=(self.prefix / "logs" / "stderr.log").open("w"),
                                        preexec_fn=die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise AssertionError(f"nginx did not start: {(self.prefix / 'logs' / 'stderr.log').read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture(scope="session")
def nginx(tmp_path_factory, portal_server, console_proxy):
    server = Nginx(tmp_path_factory.mktemp("nginx"), portal_port=portal_server.port,
                   proxy_port=console_proxy.port).start()
    yield server
    server.stop()

"""A few lines of RFB (VNC) client for tests: read the server's banner and
try VNC authentication (DES challenge-response, RFC 6143 7.2.2) with a
password, as a native viewer would."""

from __future__ import annotations

import socket
import struct
import warnings

from cryptography.hazmat.primitives.ciphers import Cipher, modes

with warnings.catch_warnings():  # single DES is what RFB specifies; the warning says it is weak
    warnings.simplefilter("ignore")
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES

VNC_AUTH = 2


def _mirrored(byte: int) -> int:
    # RFB's quirk: each key byte is used with its bits in reverse order.
    return int(f"{byte:08b}"[::-1], 2)


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    key = bytes(_mirrored(b) for b in password.encode("latin-1")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # K1=K2=K3: plain DES
    return encryptor.update(challenge) + encryptor.finalize()


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {len(data)} of {size} bytes")
        data += chunk
    return data


def vnc_password_works(host: str, port: int, password: str, timeout: float = 10) -> bool:
    """Whether the VNC server at host:port admits ``password``. AssertionError
    when it does not even ask for one (no authentication: nothing to test)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        banner = _receive(sock, 12)
        assert banner.startswith(b"RFB "), banner
        sock.sendall(b"RFB 003.008\n")
        count = _receive(sock, 1)[0]
        security_types = _receive(sock, count)
        assert VNC_AUTH in security_types, f"the server offers {list(security_types)}, not VNC authentication"
        sock.sendall(bytes([VNC_AUTH]))
        sock.sendall(vnc_auth_response(password, _receive(sock, 16)))
        return struct.unpack(">I", _receive(sock, 4))[0] == 0

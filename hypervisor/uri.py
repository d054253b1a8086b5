"""Which libvirt connection URIs the portal accepts.

A host's URI is typed by an administrator but opened by the portal's own
processes, so a URI must not be able to make those processes run programs, read
arbitrary key files or weaken the checks that protect the connection. Rather than
chase every dangerous form, we accept a small allow-list (the tables below) and
refuse the rest with a message that says why.

Query parameters:

- ``socket`` (a path on this machine) only for local and ``+unix`` URIs, where it
  selects a libvirtd socket (the multi-host tests use namespaced daemons).
- ``no_tty``, ``mode``, ``sshauth``, ``proxy``: harmless connection tuning.
- Refused: ``command`` and the ``+ext`` transport (run a local program),
  ``netcat`` (names the program run on the remote side), ``keyfile`` and
  ``pkipath`` (make the portal use other key material found on its machine:
  configure SSH keys/agent and TLS certificates for the service user instead),
  ``known_hosts``, ``known_hosts_verify`` and ``no_verify`` (change or disable
  host verification), ``name`` (makes the remote daemon open another driver),
  ``tls_priority`` (weakens TLS), and anything unknown.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from hypervisor.errors import InvalidURI

DRIVER_PATHS: dict[str, frozenset[str]] = {
    "qemu": frozenset({"/system", "/session"}),
    # The test driver also takes an absolute path to a node XML file (see below).
    "test": frozenset({"/default"}),
}
LOCAL_TRANSPORTS = frozenset({"", "unix"})
REMOTE_TRANSPORTS = frozenset({"tls", "tcp", "ssh", "libssh", "libssh2"})
SSH_TRANSPORTS = frozenset({"ssh", "libssh", "libssh2"})

# parameter -> (transports it is allowed with, allowed values or None for "a path")
ALLOWED_PARAMS: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {
    "socket": (LOCAL_TRANSPORTS, None),
    "no_tty": (REMOTE_TRANSPORTS, frozenset({"0", "1"})),
    "mode": (LOCAL_TRANSPORTS | REMOTE_TRANSPORTS, frozenset({"auto", "legacy", "direct"})),
    "proxy": (SSH_TRANSPORTS, frozenset({"auto", "netcat", "native"})),
    "sshauth": (SSH_TRANSPORTS, frozenset({"agent", "privkey", "password", "keyboard-interactive"})),
}
REFUSED_PARAMS: dict[str, str] = {
    "command": "it runs a local program to reach the host",
    "netcat": "it names a program to run on the remote host",
    "keyfile": "it points at a private key file on the portal's machine; "
    "give the service user an SSH key or agent instead",
    "pkipath": "it points TLS at other certificates on the portal's machine",
    "known_hosts": "it changes which SSH host keys are trusted",
    "known_hosts_verify": "it can disable SSH host key verification",
    "no_verify": "it disables TLS certificate verification",
    "name": "it makes the remote daemon open another driver than the URI says",
    "tls_priority": "it changes the TLS cipher settings",
}

_TEST_NODE_FILE = re.compile(r"^/[\w.+/-]+\.xml$")
_SOCKET_PATH = re.compile(r"^/[\w.+/-]+$")
_HOSTNAME = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
_USERNAME = re.compile(r"^[\w.-]+$")


def validate_uri(uri: str) -> str:
    """Return ``uri`` normalized, or raise InvalidURI saying what is wrong."""
    if not isinstance(uri, str) or not uri:
        raise InvalidURI("The URI is empty.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in uri):
        raise InvalidURI(f"The URI {uri!r} contains whitespace or control characters.")
    if "://" not in uri:
        raise InvalidURI(f"The URI {uri!r} is not of the form driver[+transport]://[host]/path.")

    parts = urlsplit(uri)
    driver, _, transport = parts.scheme.lower().partition("+")
    _check_scheme(uri, driver, transport)
    host = _check_authority(uri, parts, transport)
    path = _check_path(uri, driver, parts.path)
    query = _check_query(uri, parts.query, transport)
    if parts.fragment:
        raise InvalidURI(f"The URI {uri!r} has a '#' fragment, which libvirt does not use.")
    # Not urlunsplit: it drops the "//" of an empty host for unknown schemes.
    return f"{parts.scheme.lower()}://{host}{path}" + (f"?{query}" if query else "")


def _check_scheme(uri: str, driver: str, transport: str) -> None:
    if driver not in DRIVER_PATHS:
        allowed = ", ".join(sorted(DRIVER_PATHS))
        raise InvalidURI(f"The URI {uri!r} uses the driver {driver!r}; only {allowed} are supported.")
    if transport == "ext":
        raise InvalidURI(f"The URI {uri!r} uses the +ext transport, which runs a local program to reach the host.")
    if transport not in LOCAL_TRANSPORTS | REMOTE_TRANSPORTS:
        allowed = ", ".join(sorted(REMOTE_TRANSPORTS | {"unix"}))
        raise InvalidURI(f"The URI {uri!r} uses the transport {transport!r}; allowed: {allowed}.")


def _check_authority(uri: str, parts: SplitResult, transport: str) -> str:
    """Validate user/host/port and return the normalized network location."""
    try:
        port = parts.port
    except ValueError:
        raise InvalidURI(f"The URI {uri!r} has an invalid port.") from None
    host = parts.hostname or ""
    if transport == "unix" and parts.netloc:
        raise InvalidURI(f"The URI {uri!r} names a host, but +unix connects to a local socket.")
    if transport in REMOTE_TRANSPORTS and not host:
        raise InvalidURI(f"The URI {uri!r} uses +{transport} but names no host.")
    if parts.username is not None and not host:
        raise InvalidURI(f"The URI {uri!r} names a user but no host.")
    if parts.password is not None:
        raise InvalidURI(f"The URI {uri!r} contains a password; passwords never belong in a URI.")
    if host and not (_HOSTNAME.match(host) or _is_ipv6(host)):
        raise InvalidURI(f"The URI {uri!r} has an invalid host name {host!r}.")
    if parts.username is not None and not _USERNAME.match(parts.username):
        raise InvalidURI(f"The URI {uri!r} has an invalid user name.")

    netloc = f"[{host}]" if _is_ipv6(host) else host
    if parts.username is not None:
        netloc = f"{parts.username}@{netloc}"
    if port is not None:
        netloc = f"{netloc}:{port}"
    return netloc


def _is_ipv6(host: str) -> bool:
    return ":" in host and re.fullmatch(r"[0-9a-f:.]+", host) is not None


def _check_path(uri: str, driver: str, path: str) -> str:
    if path in DRIVER_PATHS[driver]:
        return path
    if driver == "test" and _TEST_NODE_FILE.match(path) and "/../" not in path and "/./" not in path:
        return path
    if driver == "test":
        raise InvalidURI(
            f"The URI {uri!r} has the path {path!r}; the test driver takes /default "
            "or an absolute path to a node .xml file."
        )
    allowed = " or ".join(sorted(DRIVER_PATHS[driver]))
    raise InvalidURI(f"The URI {uri!r} has the path {path!r}; the {driver} driver takes {allowed}.")


def _check_query(uri: str, query: str, transport: str) -> str:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise InvalidURI(f"The URI {uri!r} has a malformed query string.") from None
    seen: set[str] = set()
    for key, value in pairs:
        name = key.lower()
        if name in seen:
            raise InvalidURI(f"The URI {uri!r} gives the parameter {key!r} twice.")
        seen.add(name)
        if name in REFUSED_PARAMS:
            raise InvalidURI(f"The URI {uri!r} uses {key}=, which is refused: {REFUSED_PARAMS[name]}.")
        if name not in ALLOWED_PARAMS:
            raise InvalidURI(f"The URI {uri!r} uses the unknown parameter {key!r}.")
        transports, values = ALLOWED_PARAMS[name]
        if transport not in transports:
            label = f"+{transport}" if transport else "local"
            raise InvalidURI(f"The URI {uri!r} uses {key}=, which is not allowed for {label} connections.")
        _check_param_value(uri, name, value, values)
    return urlencode(pairs, safe="/,")


def _check_param_value(uri: str, name: str, value: str, values: frozenset[str] | None) -> None:
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidURI(f"The URI {uri!r} has whitespace or control characters in {name}=.")
    if values is None:
        if not _SOCKET_PATH.match(value) or "/../" in value or value.endswith("/.."):
            raise InvalidURI(f"The URI {uri!r} has {name}={value!r}; it must be an absolute path.")
        return
    given = value.split(",") if name == "sshauth" else [value]
    unknown = [v for v in given if v not in values]
    if unknown:
        allowed = ", ".join(sorted(values))
        raise InvalidURI(f"The URI {uri!r} has {name}={value!r}; allowed values: {allowed}.")

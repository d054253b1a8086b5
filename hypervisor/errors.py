"""The one place that turns libvirt errors into our exceptions.

Every call into libvirt runs inside ``libvirt_errors(uri)``, so callers of this
package only ever see ``HypervisorError`` subclasses. They decide what to do from
the class (not found, conflict, unreachable...) and from ``transient`` (worth a
retry later), and show ``message`` to a human: it always carries libvirt's own text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import libvirt


class HypervisorError(Exception):
    """Base of everything this package raises."""

    transient = False

    def __init__(self, message: str, *, uri: str | None = None, transient: bool | None = None):
        super().__init__(message)
        self.message = message
        self.uri = uri
        if transient is not None:
            self.transient = transient


class InvalidURI(HypervisorError):
    """The connection URI is malformed or not allowed (see ``hypervisor.uri``)."""


class HostUnreachable(HypervisorError):
    """The host does not answer (refused, closed, timed out): usually passes."""

    transient = True


class NotFound(HypervisorError):
    """The object (domain, network, pool, volume, snapshot...) does not exist."""


class DomainNotFound(NotFound):
    """No domain with that name or UUID on the host."""


class Conflict(HypervisorError):
    """The object's state forbids the operation (already running, name taken...)."""


class NotSupported(HypervisorError):
    """The host's driver cannot do this (e.g. migration on the test driver)."""


class InvalidSpec(HypervisorError):
    """What we asked for is wrong (bad argument, unsupported configuration)."""


class InvalidXML(InvalidSpec):
    """libvirt refused the XML itself (syntax or content)."""


# Errors that mean "the link to the host is broken". SYSTEM_ERROR is only one of
# them when it comes from the RPC/remote layers: from a driver it is a local
# failure (a missing file, a failed fork) that a retry will not fix.
_UNREACHABLE_CODES = frozenset(
    {
        libvirt.VIR_ERR_NO_CONNECT,
        libvirt.VIR_ERR_INVALID_CONN,
        libvirt.VIR_ERR_RPC,
    }
)
_RPC_DOMAINS = frozenset({libvirt.VIR_FROM_RPC, libvirt.VIR_FROM_REMOTE})
# Authentication failures also mean we cannot talk to the host, but retrying with
# the same credentials will not help.
_AUTH_CODES = frozenset(
    {
        libvirt.VIR_ERR_AUTH_FAILED,
        libvirt.VIR_ERR_AUTH_CANCELLED,
        libvirt.VIR_ERR_AUTH_UNAVAILABLE,
    }
)

_NOT_FOUND_CODES = frozenset(
    {
        libvirt.VIR_ERR_NO_NETWORK,
        libvirt.VIR_ERR_NO_STORAGE_POOL,
        libvirt.VIR_ERR_NO_STORAGE_VOL,
        libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT,
        libvirt.VIR_ERR_NO_DOMAIN_CHECKPOINT,
        libvirt.VIR_ERR_NO_DOMAIN_METADATA,
        libvirt.VIR_ERR_NO_SECRET,
        libvirt.VIR_ERR_NO_NODE_DEVICE,
        libvirt.VIR_ERR_NO_INTERFACE,
        libvirt.VIR_ERR_NO_NWFILTER,
    }
)
_CONFLICT_CODES = frozenset(
    {
        libvirt.VIR_ERR_OPERATION_INVALID,
        libvirt.VIR_ERR_DOM_EXIST,
        libvirt.VIR_ERR_RESOURCE_BUSY,
    }
)
_NOT_SUPPORTED_CODES = frozenset(
    {
        libvirt.VIR_ERR_NO_SUPPORT,
        libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
        libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
    }
)
_XML_CODES = frozenset(
    {
        libvirt.VIR_ERR_XML_ERROR,
        libvirt.VIR_ERR_XML_DETAIL,
        libvirt.VIR_ERR_XML_INVALID_SCHEMA,
    }
)
# CONFIG_UNSUPPORTED ("unsupported configuration: ...") is about what we asked
# for, e.g. a device this host's QEMU lacks: the spec must change, not the code.
_INVALID_SPEC_CODES = frozenset({libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_CONFIG_UNSUPPORTED})
# Timeouts on a lock or an unresponsive guest agent usually pass by themselves.
_TRANSIENT_CODES = frozenset({libvirt.VIR_ERR_OPERATION_TIMEOUT, libvirt.VIR_ERR_AGENT_UNRESPONSIVE})


def translate(exc: libvirt.libvirtError, uri: str | None = None) -> HypervisorError:
    """Map a libvirt error to our exception class, keeping libvirt's message."""
    code = exc.get_error_code()
    domain = exc.get_error_domain()
    detail = exc.get_error_message() or str(exc)
    where = f" on {uri}" if uri else ""

    if code in _UNREACHABLE_CODES or (code == libvirt.VIR_ERR_SYSTEM_ERROR and domain in _RPC_DOMAINS):
        return HostUnreachable(f"Cannot reach the hypervisor{where}: {detail}", uri=uri)
    if code in _AUTH_CODES:
        message = f"Authentication to the hypervisor{where} failed: {detail}"
        return HostUnreachable(message, uri=uri, transient=False)
    if code == libvirt.VIR_ERR_NO_DOMAIN:
        return DomainNotFound(f"Virtual machine not found{where}: {detail}", uri=uri)
    if code in _NOT_FOUND_CODES:
        return NotFound(f"Object not found{where}: {detail}", uri=uri)
    if code in _CONFLICT_CODES:
        return Conflict(f"Not possible in the current state{where}: {detail}", uri=uri)
    if code in _NOT_SUPPORTED_CODES:
        return NotSupported(f"Not supported by the hypervisor{where}: {detail}", uri=uri)
    if code in _XML_CODES:
        return InvalidXML(f"The hypervisor{where} refused the XML: {detail}", uri=uri)
    if code in _INVALID_SPEC_CODES:
        return InvalidSpec(f"The hypervisor{where} refused the request: {detail}", uri=uri)
    return HypervisorError(
        f"Hypervisor error{where}: {detail}", uri=uri, transient=code in _TRANSIENT_CODES
    )


@contextmanager
def libvirt_errors(uri: str | None = None) -> Iterator[None]:
    """Run a block of libvirt calls; re-raise any libvirt error as ours."""
    try:
        yield
    except libvirt.libvirtError as exc:
        raise translate(exc, uri) from exc


"""Error translation, with errors provoked from real libvirt drivers."""

import libvirt
import pytest

from hypervisor import (
    Conflict,
    DomainNotFound,
    HostUnreachable,
    HypervisorError,
    InvalidSpec,
    InvalidXML,
    NotFound,
    NotSupported,
    get_connection,
    libvirt_errors,
    open_connection,
    translate,
)

DEFAULT = "test:///default"
# The test driver's built-in domain, running from the start.
BUILTIN_DOMAIN = "test"


def provoke(action):
    """Run a raw libvirt call expected to fail; return the libvirtError."""
    with pytest.raises(libvirt.libvirtError) as caught:
        action(get_connection(DEFAULT))
    return caught.value


def test_it_translates_a_missing_domain_to_domain_not_found():
    error = translate(provoke(lambda conn: conn.lookupByName("no-such-vm")), DEFAULT)

    assert isinstance(error, DomainNotFound)
    assert isinstance(error, NotFound)
    assert error.transient is False
    assert error.uri == DEFAULT
    assert "Domain not found" in error.message
    assert DEFAULT in error.message


def test_it_translates_other_missing_objects_to_not_found():
    error = translate(provoke(lambda conn: conn.networkLookupByName("no-such-net")), DEFAULT)

    assert type(error) is NotFound
    assert "no network with matching name 'no-such-net'" in error.message


def test_it_translates_an_operation_invalid_for_the_state_to_conflict():
    def destroy_twice(conn):
        domain = conn.lookupByName(BUILTIN_DOMAIN)
        domain.destroy()
        domain.destroy()

    error = translate(provoke(destroy_twice), DEFAULT)

    assert isinstance(error, Conflict)
    assert "not running" in error.message


def test_it_translates_malformed_xml_to_invalid_xml():
    error = translate(provoke(lambda conn: conn.defineXML("<domain type='test'><name>x</name")), DEFAULT)

    assert isinstance(error, InvalidXML)
    assert isinstance(error, InvalidSpec)
    assert "refused the XML" in error.message


def test_it_translates_an_invalid_definition_to_invalid_xml():
    error = translate(provoke(lambda conn: conn.defineXML("<domain type='test'><name>x</name></domain>")), DEFAULT)

    assert isinstance(error, InvalidXML)
    assert "os <type>" in error.message


def test_it_translates_an_unsupported_operation_to_not_supported():
    error = translate(provoke(lambda conn: conn.lookupByName(BUILTIN_DOMAIN).blockResize("vda", 1)), DEFAULT)

    assert isinstance(error, NotSupported)
    assert "virDomainBlockResize" in error.message


def test_it_translates_invalid_arguments_to_invalid_spec():
    error = translate(provoke(lambda conn: conn.lookupByUUIDString("not-a-uuid")), DEFAULT)

    assert type(error) is InvalidSpec
    assert "Invalid UUID" in error.message


def test_it_reports_a_refused_connection_as_a_transient_host_unreachable():
    uri = "qemu+tcp://127.0.0.1:1/system"
    with pytest.raises(HostUnreachable) as caught:
        open_connection(uri)

    assert caught.value.transient is True
    assert caught.value.uri == uri
    assert "Connection refused" in caught.value.message
    assert isinstance(caught.value.__cause__, libvirt.libvirtError)


def test_it_lets_no_raw_libvirt_error_escape_the_context_manager():
    with pytest.raises(HypervisorError) as caught:
        with libvirt_errors(DEFAULT):
            get_connection(DEFAULT).lookupByName("no-such-vm")

    assert not isinstance(caught.value, libvirt.libvirtError)
    assert isinstance(caught.value, DomainNotFound)

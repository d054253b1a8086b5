"""Our errors become API.md's status codes and shapes, never a 500."""

import pytest

import hypervisor
from core.api.exceptions import handle_exception
from core.errors import Conflict, HypervisorUnavailable, InvalidInput, NotFound


@pytest.mark.parametrize(
    "error, status, code",
    [
        (Conflict("VM is up"), 409, "conflict"),
        (HypervisorUnavailable("host gone"), 503, "hypervisor_unavailable"),
        (InvalidInput("bad"), 400, "invalid"),
        (NotFound("no such thing"), 404, "not_found"),
    ],
)
def test_it_maps_portal_errors_to_their_status_and_code(error, status, code):
    response = handle_exception(error, {})
    assert response.status_code == status
    assert response.data == {"detail": error.detail, "code": code}


def test_it_maps_an_unreachable_host_to_503_hypervisor_unavailable():
    error = hypervisor.HostUnreachable("cannot connect to qemu+tcp://10.0.0.9/system", uri="qemu+tcp://10.0.0.9/system")
    response = handle_exception(error, {})
    assert response.status_code == 503
    assert response.data["code"] == "hypervisor_unavailable"
    assert "cannot connect" in response.data["detail"]

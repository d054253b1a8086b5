"""Errors the services raise. Each carries the HTTP status and machine code of
API.md, so interfaces (API, views, tasks) report them the same way."""

from __future__ import annotations


class PortalError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, detail: str, **extra):
        """``extra``: more fields of the API's error body besides detail and
        code (e.g. the objects a 409 is about), JSON-ready."""
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(PortalError):
    status_code = 400
    code = "invalid"


class PermissionDenied(PortalError):
    status_code = 403
    code = "permission_denied"


class NotFound(PortalError):
    status_code = 404
    code = "not_found"


class Conflict(PortalError):
    """The object's current state forbids the action (API.md: 409)."""

    status_code = 409
    code = "conflict"


class HypervisorUnavailable(PortalError):
    """A host could not be reached (API.md: 503)."""

    status_code = 503
    code = "hypervisor_unavailable"

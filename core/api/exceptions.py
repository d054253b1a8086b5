"""One mapping from our errors to API.md's status codes and shapes. A client
must never see a 500 for anything it sent."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

import hypervisor
from core.errors import PortalError


def handle_exception(exc, context):
    if isinstance(exc, PortalError):
        return Response({"detail": exc.detail, "code": exc.code, **exc.extra}, status=exc.status_code)
    if isinstance(exc, hypervisor.HostUnreachable):
        return Response(
            {"detail": exc.message, "code": "hypervisor_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, hypervisor.Conflict):
        return Response({"detail": exc.message, "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, hypervisor.HypervisorError):
        return Response(
            {"detail": exc.message, "code": "hypervisor_error"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return exception_handler(exc, context)

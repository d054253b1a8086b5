"""The API's limit/offset pagination (API.md: `?limit=&offset=`, 50 by default, 1000 at most)."""

from rest_framework.pagination import LimitOffsetPagination as BaseLimitOffsetPagination


class LimitOffsetPagination(BaseLimitOffsetPagination):
    default_limit = 50
    max_limit = 1000

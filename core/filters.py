"""One FilterSet per list, shared by the list's page and its API viewset.

Each app declares its lists' FilterSets (inventory/filters.py, vms/filters.py,
and the jobs and events ones below) on ListFilterSet: filters named after
fields (``?cluster=<id>&status=up``), ``?q=`` free text over the FilterSet's
``search_fields``, and ``?ordering=key`` (``-key`` descending) over its
declared keys. The API reads them through django-filter's DRF backend, which
answers 400 with the field's message for an invalid value; a page calls
``filter_list``, which leaves an invalid filter out and says so."""

from __future__ import annotations

import copy
from functools import reduce
from operator import or_

from django import forms
from django.contrib import messages
from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from core.models import Event, Job

# The query parameter that orders every list, page and API alike.
ORDERING_PARAM = "ordering"
# Ids are 64-bit: a larger number would overflow the database's integer.
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class IdFilter(filters.NumberFilter):
    """A reference written as its id (API.md). Checked as a number, not looked
    up: an id nobody has simply matches nothing, and a page filtered by it
    costs no query more than the unfiltered page."""

    field_class = IdField


class ListOrderingFilter(filters.OrderingFilter):
    """``?ordering=key``, ``-key`` for descending, over the keys given as
    ``fields`` ({model field or annotation: key}). The primary key breaks ties,
    so that pages of a list sorted by a repeated value never skip or repeat rows."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.order_by(*(self.get_ordering_value(param) for param in value if param), "pk")

    @property
    def keys(self) -> list[str]:
        return list(self.param_map)


class ListFilterSet(filters.FilterSet):
    """A list's filters, search and ordering. Subclasses set Meta (model and
    the field-named filters), ``search_fields`` and an ``ordering`` filter."""

    search_fields: tuple[str, ...] = ("name",)
    q = filters.CharFilter(method="search", label="Search")

    @classmethod
    def get_filters(cls):
        # Each list's ?q= documents its own fields (the OpenAPI schema shows it).
        declared = super().get_filters()
        declared["q"] = copy.deepcopy(declared["q"])
        declared["q"].extra["help_text"] = f"Free text, matched anywhere in: {', '.join(cls.search_fields)}."
        return declared

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(reduce(or_, (Q(**{f"{field}__icontains": value}) for field in self.search_fields)))

    @classmethod
    def sort_keys(cls) -> list[str]:
        ordering = cls.base_filters.get(ORDERING_PARAM)
        return ordering.keys if isinstance(ordering, ListOrderingFilter) else []


def filter_list(request, filterset_class: type[ListFilterSet], queryset: QuerySet) -> tuple[QuerySet, dict]:
    """A page's list through its FilterSet, as the API filters it. An invalid
    value is left out (the list shows as if it was not given) and named in a
    message, never a server error. Returns the queryset and the template
    context the list's search box and sort headers read."""
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    if not filterset.is_valid():
        for field, errors in filterset.errors.items():
            messages.warning(request, f"The list is shown without the filter {field}: {' '.join(errors)}")
    # Fields that did not validate are absent from cleaned_data, so .qs skips them.
    return filterset.qs, {"filterset": filterset, "sort_fields": filterset_class.sort_keys()}


class JobFilterSet(ListFilterSet):
    search_fields = ("title", "target_name")
    ordering = ListOrderingFilter(fields={"created_at": "created_at", "status": "status", "kind": "kind"})

    class Meta:
        model = Job
        fields = ["status", "kind", "target_id"]


class EventFilterSet(ListFilterSet):
    search_fields = ("message", "target_name")
    job = IdFilter()
    ordering = ListOrderingFilter(fields={"time": "time", "severity": "severity"})

    class Meta:
        model = Event
        fields = ["severity", "code", "job", "target_id"]

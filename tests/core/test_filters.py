"""The lists' shared FilterSet (core/filters.py) and the jobs' and events'
own: the jobs and events pages and their API lists answer the same filters,
search and ordering with the same rows; a bad value is a 400 in the API and
a filter left out, with a message, on the page. The other lists' parity
tests mirror their apps (tests/inventory/test_filters.py, tests/vms/test_filters.py)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from core.filters import JobFilterSet, filter_list
from core.models import Event, Job, JobStatus, Severity
from tests.support.lists import ListFaces, listed_by_both, refused_by_both

pytestmark = pytest.mark.django_db

LISTS = {"jobs": ListFaces("core:job-list", "jobs", "/api/v1/jobs/", Job, label="title"),
         "events": ListFaces("core:event-list", "events", "/api/v1/events/", Event, label="message")}

# (list, query ({name} is that object's id), the titles or messages both faces list, in order)
CASES = [
    ("jobs", "", ["Start web", "Copy disk", "Add host"]),
    ("jobs", "q=WEB", ["Start web"]),  # the title
    ("jobs", "q=node1", ["Add host"]),  # the target's name
    ("jobs", "status=failed", ["Copy disk"]),
    ("jobs", "kind=vms.start&status=running", ["Start web"]),
    ("jobs", "target_id=7", ["Copy disk"]),
    ("jobs", "ordering=kind", ["Add host", "Copy disk", "Start web"]),
    ("jobs", "ordering=-status", ["Add host", "Start web", "Copy disk"]),  # by the word, not the flow
    ("events", "", ["disk copied", "host lost", "host added"]),
    ("events", "q=host", ["host lost", "host added"]),  # the message
    ("events", "q=node1", ["host lost", "host added"]),  # the target's name
    ("events", "severity=error", ["host lost"]),
    ("events", "code=host.added", ["host added"]),
    ("events", "job={copy}", ["disk copied"]),
    ("events", "ordering=severity", ["host lost", "host added", "disk copied"]),  # ties: oldest first
    ("events", "ordering=time&q=host", ["host added", "host lost"]),
]

INVALID = [
    ("jobs", "status=sideways", "status"),
    ("jobs", "ordering=title", "ordering"),
    ("events", "severity=dire", "severity"),
    ("events", "job=first", "job"),
]


@pytest.fixture
def log(admin):
    add = Job.objects.create(kind="inventory.host_add", title="Add host", status=JobStatus.SUCCEEDED, user=admin,
                             target_id="3", target_name="node1")
    copy = Job.objects.create(kind="vms.copy", title="Copy disk", status=JobStatus.FAILED, user=admin,
                              target_id="7", target_name="disk-7")
    Job.objects.create(kind="vms.start", title="Start web", status=JobStatus.RUNNING, user=admin, target_id="9",
                       target_name="web")
    Event.objects.create(code="host.added", message="host added", user=admin, job=add, target_name="node1")
    Event.objects.create(code="host.lost", message="host lost", severity=Severity.ERROR, user=admin,
                         target_name="node1")
    Event.objects.create(code="disk.copied", message="disk copied", severity=Severity.NORMAL, user=admin, job=copy)
    return {"copy": copy.pk}


@pytest.mark.parametrize(("kind", "query", "expected"), CASES, ids=[f"{k}?{q}" for k, q, _ in CASES])
def test_the_page_and_the_api_list_the_same_rows(logged_in, api, log, kind, query, expected):
    assert listed_by_both(logged_in, api, LISTS[kind], query.format(**log)) == expected


@pytest.mark.parametrize(("kind", "query", "param"), INVALID, ids=[f"{k}?{q}" for k, q, _ in INVALID])
def test_a_bad_value_is_a_400_in_the_api_and_left_out_on_the_page(logged_in, api, log, kind, query, param):
    assert refused_by_both(logged_in, api, LISTS[kind], query) == [param]
    page = logged_in.get(f"{reverse(LISTS[kind].page)}?{query}").content.decode()
    assert f"The list is shown without the filter {param}:" in page


def test_ordering_breaks_ties_by_id_so_pages_never_skip_or_repeat_rows(admin):
    jobs = [Job.objects.create(kind="same", title=f"job {n}", user=admin) for n in range(3)]
    request = RequestFactory().get("/", {"ordering": "-kind"})
    request.user = AnonymousUser()
    ordered, context = filter_list(request, JobFilterSet, Job.objects.all())
    assert list(ordered) == jobs
    assert context["sort_fields"] == ["created_at", "status", "kind"]


def test_a_sort_header_orders_by_its_key_then_reverses_and_keeps_the_search(logged_in, log):
    page = logged_in.get(reverse("core:job-list"), {"q": "o", "ordering": "status"}).content.decode()
    assert 'href="?q=o&amp;ordering=-status"' in page
    assert 'aria-sort="ascending"' in page
    assert 'href="?q=o&amp;ordering=created_at"' in page

"""Both faces of a list, for the tests of its FilterSet: the objects its page
shows and those its API lists, in order, for the same query string."""

from dataclasses import dataclass

from django.db.models import Model
from django.urls import reverse


@dataclass(frozen=True)
class ListFaces:
    page: str  # the page's URL name
    context: str  # the name under which the page's template gets the list
    api: str  # the API list's path
    model: type[Model]
    label: str = "name"  # the field that names a row in the tests' expectations


def page_ids(client, faces: ListFaces, query: str) -> list:
    response = client.get(f"{reverse(faces.page)}?{query}")
    assert response.status_code == 200
    return [obj.pk for obj in response.context[faces.context]]


def api_ids(api, faces: ListFaces, query: str) -> list:
    response = api.get(f"{faces.api}?{query}&limit=1000")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def listed_by_both(client, api, faces: ListFaces, query: str) -> list[str]:
    """What the page lists for ``query``, by label, once the API listed the
    same objects in the same order."""
    on_page = page_ids(client, faces, query)
    assert on_page == api_ids(api, faces, query)
    labels = dict(faces.model.objects.values_list("pk", faces.label))
    return [labels[pk] for pk in on_page]


def refused_by_both(client, api, faces: ListFaces, query: str) -> list[str]:
    """The parameters the API's 400 names for ``query``, once the page showed
    its list as without them (the whole list: each query refuses one filter)."""
    response = api.get(f"{faces.api}?{query}")
    assert response.status_code == 400, response.content
    assert page_ids(client, faces, query) == page_ids(client, faces, "")
    return list(response.json())

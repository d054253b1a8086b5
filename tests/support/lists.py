"""Both faces of a list, for the tests of its FilterSet: the objects its page
shows and those its API lists, in order, for the same query string."""

from django.urls import reverse


def page_ids(client, url_name: str, context_name: str, query: str) -> list:
    response = client.get(f"{reverse(url_name)}?{query}")
    assert response.status_code == 200
    return [obj.pk for obj in response.context[context_name]]


def api_ids(api, path: str, query: str) -> list:
    response = api.get(f"{path}?{query}&limit=1000")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def api_errors(api, path: str, query: str) -> dict:
    response = api.get(f"{path}?{query}")
    assert response.status_code == 400, response.content
    return response.json()

from rest_framework.filters import SearchFilter


class NameSearchFilter(SearchFilter):
    """`?q=` searches names (API.md), or the view's own `search_fields`."""

    search_param = "q"

    def get_search_fields(self, view, request):
        return getattr(view, "search_fields", None) or ["name"]

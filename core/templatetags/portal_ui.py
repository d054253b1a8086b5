"""Template tags of the UI shell: status labels and filters from ChoiceSets, the live labels map, sizes, sort headers."""

from django import template
from django.utils.html import format_html, json_script

from core.choices import ChoiceSet
from core.filters import ORDERING_PARAM

register = template.Library()

# PatternFly label colours for our ChoiceSet colour names.
LABEL_CLASSES = {
    "green": "pf-m-green", "red": "pf-m-red", "orange": "pf-m-orange", "blue": "pf-m-blue",
    "cyan": "pf-m-teal", "purple": "pf-m-purple", "grey": "",
}


# The ChoiceSets of the labels live.js redraws from a job's update, by the name
# live.js gives them. Objects' updates carry their own label and colour (core/status.py).
LIVE_CHOICE_SETS = {"job": "JobStatus", "step": "StepStatus"}


def label_class(choices: type[ChoiceSet], value: str) -> str:
    return LABEL_CLASSES.get(choices.colour(value), "")


@register.simple_tag
def status_label(value: str, choice_set: str):
    """A coloured label with the status word: colour alone is never the signal."""
    choices = ChoiceSet.registry[choice_set]
    css = label_class(choices, value)
    return format_html(
        '<span class="pf-v6-c-label {} pf-m-compact" data-status="{}"><span class="pf-v6-c-label__content">'
        '<span class="pf-v6-c-label__text">{}</span></span></span>',
        css, value, choices.label(value),
    )


def _query_with(request, **changes) -> str:
    """The page's query string with some parameters set (None: removed), back
    on the first page (the list it pages through changes)."""
    query = request.GET.copy()
    query.pop("page", None)
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    return f"?{query.urlencode()}"


@register.inclusion_tag("includes/status_filter.html", takes_context=True)
def status_filter(context, param: str, choice_set: str, label: str):
    """Toggle links filtering a list by one ChoiceSet field (?param=value),
    keeping the list's search and ordering."""
    request = context["request"]
    return {
        "label": label,
        "choice_set": choice_set,
        "all_href": _query_with(request, **{param: None}),
        "links": [(value, _query_with(request, **{param: value})) for value in ChoiceSet.registry[choice_set].values()],
        "current": request.GET.get(param, ""),
    }


@register.simple_tag
def live_labels_json():
    """For live.js, one truth: the label class of each colour, and the words
    and colours of the jobs' and steps' statuses."""
    choices = {
        kind: {value: {"label": label, "colour": colour} for value, label, colour in ChoiceSet.registry[name].CHOICES}
        for kind, name in LIVE_CHOICE_SETS.items()
    }
    return json_script({"classes": LABEL_CLASSES, "choices": choices}, "live-labels")


@register.filter
def mib(value):
    """Memory in MiB shown as GiB when large enough."""
    if value in (None, ""):
        return "—"
    value = int(value)
    return f"{value / 1024:.1f} GiB" if value >= 1024 else f"{value} MiB"


@register.filter
def gib_bytes(value):
    if value in (None, ""):
        return "—"
    return f"{int(value) / 1024**3:.1f} GiB"


@register.inclusion_tag("includes/sort_header.html", takes_context=True)
def sort_header(context, key: str, label: str, css: str = ""):
    """A column header that sorts the list by `key` (?ordering=key, again for
    descending: the list's FilterSet reads it, as the API does) when the view
    allows it (context "sort_fields"), keeping the other query parameters; a
    plain header elsewhere (tables reused on detail pages)."""
    request = context["request"]
    current = request.GET.get(ORDERING_PARAM, "")
    sortable = key in (context.get("sort_fields") or ())
    direction = "ascending" if current == key else "descending" if current == f"-{key}" else ""
    return {"label": label, "css": css, "sortable": sortable, "direction": direction,
            "href": _query_with(request, **{ORDERING_PARAM: f"-{key}" if current == key else key})}


@register.simple_block_tag
def term(content, label: str):
    """One term and its value in a PatternFly description list:
    {% term "Bridge" %}<code>br0</code>{% endterm %}."""
    return format_html(
        '<div class="pf-v6-c-description-list__group">'
        '<dt class="pf-v6-c-description-list__term"><span class="pf-v6-c-description-list__text">{}</span></dt>'
        '<dd class="pf-v6-c-description-list__description"><div class="pf-v6-c-description-list__text">{}</div></dd>'
        "</div>",
        label, content,
    )

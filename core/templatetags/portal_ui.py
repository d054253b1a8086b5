from django import template
from django.utils.html import format_html

from core.choices import ChoiceSet

register = template.Library()

# PatternFly label colours for our ChoiceSet colour names.
LABEL_CLASSES = {
    "green": "pf-m-green", "red": "pf-m-red", "orange": "pf-m-orange", "blue": "pf-m-blue",
    "cyan": "pf-m-teal", "purple": "pf-m-purple", "grey": "",
}


@register.simple_tag
def status_label(value: str, choice_set: str):
    """A coloured label with the status word: colour alone is never the signal."""
    choices = ChoiceSet.registry[choice_set]
    css = LABEL_CLASSES.get(choices.colour(value), "")
    return format_html(
        '<span class="pf-v6-c-label {} pf-m-compact" data-status="{}"><span class="pf-v6-c-label__content">'
        '<span class="pf-v6-c-label__text">{}</span></span></span>',
        css, value, choices.label(value),
    )


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

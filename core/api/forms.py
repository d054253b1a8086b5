"""Forms as the API's input declaration: a serializer generated from a Django
form, so that an action's page and its API accept exactly the same inputs
(choices, lengths, required-ness) and cannot drift apart."""

from django import forms
from rest_framework import serializers


def _serializer_field(field: forms.Field) -> serializers.Field:
    """The API twin of one form field: the same choices, lengths and required-ness."""
    kwargs = {"help_text": field.help_text or None}
    if isinstance(field, forms.ModelChoiceField):  # an id in, the object out, as the form gives it
        return serializers.PrimaryKeyRelatedField(queryset=field.queryset.model._default_manager.all(),
                                                  required=field.required, allow_null=not field.required, **kwargs)
    if isinstance(field, forms.BooleanField):  # an unticked box
        return serializers.BooleanField(default=bool(field.initial), **kwargs)
    # What the form fills in itself (its initial value, or an empty answer) is the API's default.
    if field.initial is not None:
        kwargs["default"] = field.initial
    elif not field.required:
        kwargs["default"] = ""
    if isinstance(field, forms.ChoiceField):
        choices = [(value, label) for value, label in field.choices if value != ""]
        return serializers.ChoiceField(choices, allow_blank=not field.required, **kwargs)
    if isinstance(field, forms.CharField):
        return serializers.CharField(max_length=field.max_length, allow_blank=not field.required, **kwargs)
    raise TypeError(f"No API twin for a {type(field).__name__}.")


def serializer_from_form(form_class: type[forms.Form], name: str) -> type[serializers.Serializer]:
    """A serializer declaring exactly ``form_class``'s inputs, so the page and
    the API cannot drift apart (one declaration per action)."""
    fields = {field_name: _serializer_field(field) for field_name, field in form_class.base_fields.items()}
    return type(name, (serializers.Serializer,), {**fields, "__doc__": form_class.__doc__.split("\n\n")[0]})

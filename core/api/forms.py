"""Forms as the API's input declaration: serializer fields generated from
Django forms, so that an action's page and its API accept exactly the same
inputs (choices, lengths, bounds, required-ness) and cannot drift apart.
Where the API legitimately differs from the page, the difference is written
once, in the ``api_overrides`` given here."""

from django import forms
from rest_framework import serializers


def _presence(field: forms.Field) -> dict:
    """What the form fills in itself (its initial value, an unticked box, an
    empty text) is the API's default; other optional inputs may be left out."""
    if isinstance(field, forms.BooleanField):
        return {"default": bool(field.initial)}
    if field.initial is not None:
        return {"default": field.initial}
    if field.required:
        return {}
    if isinstance(field, forms.ModelChoiceField):
        return {"required": False, "allow_null": True}
    if isinstance(field, (forms.CharField, forms.ChoiceField)):
        return {"default": ""}
    return {"required": False}


def _serializer_field(field: forms.Field, override: dict) -> serializers.Field:
    """The API twin of one form field, with ``override``'s keywords where the API differs.

    An override that sets ``required`` replaces what the form fills in: the API
    then leaves the input out when it is not given (a service fills it in)."""
    kwargs = {"help_text": field.help_text or None,
              **({} if "required" in override else _presence(field)), **override}
    if isinstance(field, forms.ModelChoiceField):  # an id in, the object out, as the form gives it
        return serializers.PrimaryKeyRelatedField(queryset=field.queryset.model._default_manager.all(), **kwargs)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(**kwargs)
    if isinstance(field, forms.ChoiceField):
        choices = [(value, label) for value, label in field.choices if value != ""]
        return serializers.ChoiceField(choices, allow_blank=not field.required, **kwargs)
    if isinstance(field, forms.CharField):
        return serializers.CharField(max_length=field.max_length, allow_blank=not field.required, **kwargs)
    if isinstance(field, forms.IntegerField):
        # Out of bounds, both faces say "Ensure this value is greater than or equal to 1.";
        # not a number, the API takes the form's words.
        return serializers.IntegerField(min_value=field.min_value, max_value=field.max_value,
                                        error_messages={"invalid": field.error_messages["invalid"]}, **kwargs)
    raise TypeError(f"No API twin for a {type(field).__name__}.")


def serializer_from_form(*form_classes: type[forms.Form], name: str,
                         api_overrides: dict[str, dict | None] | None = None) -> type[serializers.Serializer]:
    """A serializer declaring exactly the forms' inputs, so the page and the
    API cannot drift apart (one declaration per action); a model serializer
    takes them by inheriting from it.

    ``api_overrides`` maps a form field's name to the serializer keywords that
    differ from the form's (``name`` renames the input), or to None when the
    API declares that input its own way."""
    overrides = api_overrides or {}
    fields = {}
    for form_class in form_classes:
        for field_name, field in form_class.base_fields.items():
            if field_name in overrides and overrides[field_name] is None:
                continue
            override = dict(overrides.get(field_name, {}))
            api_name = override.pop("name", field_name)
            fields[api_name] = _serializer_field(field, override)
    doc = " ".join(form_class.__doc__.split("\n\n")[0] for form_class in form_classes)
    return type(name, (serializers.Serializer,), {**fields, "__doc__": doc})

"""VM create's inputs are declared once: the wizard's step forms. The API's
serializer is generated from them (core.api.forms.serializer_from_form), so
both faces take the same choices, lengths and bounds, and refuse a bad value
with the same words; they differ only where VM_API_OVERRIDES says."""

from __future__ import annotations

import pytest
from django import forms
from rest_framework import serializers

from tests.vms.test_views import catalogue, cluster, domain, host, network  # noqa: F401 (fixtures)
from tests.vms.test_wizard import PREFIX_STEPS, answers, field_errors, post, step_shown, walk, world  # noqa: F401
from vms.api.serializers import INITIALIZATION_API_OVERRIDES, VM_API_OVERRIDES, VmSerializer
from vms.forms import (
    BasicsForm,
    DiskForm,
    DiskFormSet,
    FinishForm,
    InitializationForm,
    NicForm,
    NicFormSet,
    ProfileForm,
    SizingForm,
)
from vms.models import Vm
from vms.services.requests import DEVICES_MAX

# disks, nics: the rows of step 4; initialization: step 5's First boot section (below).
API_ONLY = {"vm": {"template", "template_latest", "provisioning", "disks", "nics", "initialization"},
            "disks": {"format", "interface", "bootable"}, "nics": set(), "initialization": set()}
WIZARD_FORMS = {"vm": (BasicsForm, SizingForm, ProfileForm, FinishForm), "disks": (DiskForm,), "nics": (NicForm,),
                "initialization": (InitializationForm,)}
KINDS = ["vm", "disks", "nics", "initialization"]


def api_inputs(kind: str) -> dict[str, serializers.Field]:
    """The fields a POST to vms/ writes: the VM's, or one disk's or NIC's."""
    fields = VmSerializer().fields
    if kind in ("disks", "nics"):
        fields = fields[kind].child.fields
    elif kind != "vm":
        fields = fields[kind].fields
    return {name: field for name, field in fields.items() if not field.read_only}


def wizard_inputs(kind: str) -> dict[str, tuple[str, forms.Field]]:
    """The wizard's fields by their API name (VM_API_OVERRIDES renames some, leaves some to the API)."""
    inputs = {}
    for form_class in WIZARD_FORMS[kind]:
        for name, field in form_class.base_fields.items():
            override = overrides(kind, name)
            if override is not None:
                inputs[override.get("name", name)] = (name, field)
    return inputs


def overrides(kind: str, name: str) -> dict | None:
    return {"vm": VM_API_OVERRIDES, "initialization": INITIALIZATION_API_OVERRIDES}.get(kind, {}).get(name, {})


def takes(field) -> dict:
    """What a form field or a serializer field accepts, in terms both have."""
    if isinstance(field, (forms.ModelChoiceField, serializers.RelatedField)):
        return {"model": field.queryset.model}
    choices = getattr(field, "choices", None)
    return {
        "choices": None if choices is None else sorted(value for value in dict(choices) if value != ""),
        "max_length": getattr(field, "max_length", None),
        "min_value": getattr(field, "min_value", None),
        "max_value": getattr(field, "max_value", None),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_api_input_is_the_wizards_or_the_apis_own(kind):
    assert set(api_inputs(kind)) == set(wizard_inputs(kind)) | API_ONLY[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_each_shared_input_takes_the_same_values_on_both_faces(kind):
    api = api_inputs(kind)
    for api_name, (name, field) in wizard_inputs(kind).items():
        assert takes(api[api_name]) == takes(field), api_name


@pytest.mark.parametrize("kind", KINDS)
def test_what_the_wizard_fills_in_the_api_defaults_to_except_where_the_overrides_say(kind):
    api = api_inputs(kind)
    for api_name, (name, field) in wizard_inputs(kind).items():
        override = overrides(kind, name)
        required = override.get("required", field.required and field.initial is None)
        assert api[api_name].required == required, api_name
        default = override.get("default", None if "required" in override else field.initial)
        if default is not None:
            assert api[api_name].default == default, api_name
        elif not required:
            assert api[api_name].default in (serializers.empty, ""), api_name


def test_the_overrides_are_what_the_api_does_differently():
    api = api_inputs("vm")
    assert not any(api[name].required for name in ("memory_mb", "cpu_sockets", "cpu_cores", "cpu_threads",
                                                   "console"))  # the instance type, the OS, the profile fill them in
    assert api["pin_host"].write_only and api["pin_host"].source == "host"
    assert api["start"].default is False and FinishForm.base_fields["start"].initial is True
    assert DiskFormSet.max_num == NicFormSet.max_num == DEVICES_MAX
    assert api_inputs("initialization")["password"].write_only


def api_body(world) -> dict:
    """What the wizard's answers (tests.vms.test_wizard.answers) are in the API."""
    return {"name": "web1", "cluster": world["cluster"].pk, "os_type": "linux-generic", "memory_mb": 2048,
            "disks": [{"size_gb": 20, "storage_domain": world["domain"].pk}],
            "nics": [{"network": world["network"].pk}]}


@pytest.mark.django_db
@pytest.mark.parametrize("wizard_answer, api_answer, words", [
    ({"sizing-memory_mb": 0}, {"memory_mb": 0}, "Ensure this value is greater than or equal to 1."),
    ({"sizing-memory_guaranteed_mb": -1}, {"memory_guaranteed_mb": -1},
     "Ensure this value is greater than or equal to 0."),
    ({"sizing-cpu_cores": "two"}, {"cpu_cores": "two"}, "Enter a whole number."),
    ({"basics-name": "a/b"}, {"name": "a/b"}, "The name must not contain '/' or control characters."),
    ({"disks-0-size_gb": 0}, {"disks": {"size_gb": 0}}, "Ensure this value is greater than or equal to 1."),
])
def test_a_bad_value_gets_the_same_words_from_the_wizards_step_and_the_api(logged_in, api, world, wizard_answer,
                                                                          api_answer, words):
    (key, _), = wizard_answer.items()
    step = PREFIX_STEPS[key.split("-")[0]]
    response = post(logged_in, walk(logged_in, answers(world, **wizard_answer), upto=step))
    assert step_shown(response) == step
    assert field_errors(response, key.rsplit("-", 1)[1]) == [words]

    (name, answer), = api_answer.items()
    body = api_body(world)
    body[name] = [{**body[name][0], **answer}] if name == "disks" else answer  # the one disk, changed
    refusal = api.post("/api/v1/vms/", body, format="json")
    assert refusal.status_code == 400, refusal.content
    refused = refusal.json()[name]
    assert (refused["0"]["size_gb"] if name == "disks" else refused) == [words]
    assert not Vm.objects.exists()

"""Generic create, edit and remove pages for any kind of object.

An app describes a kind once (a `Kind`: its labels, form, permission-scoped
selector, URL names and the services that change it) and mounts the pages with
`kind_urls`; core knows nothing of the apps. Every change goes through the
kind's services, the same ones the API calls; a refusal (`PortalError`)
becomes a form error or a page message, never a half-done change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.forms import ModelForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import re_path, reverse
from django.views import View

from core.errors import PortalError
from core.objects import object_create, object_remove, object_update
from core.permissions import require_permission


def create_plain(form: ModelForm, user):
    """The default create: one row from the form's fields. Returns (object, job or None)."""
    return object_create(model=form._meta.model, fields=form.cleaned_data, user=user), None


def update_plain(obj, form: ModelForm, user):
    return object_update(obj=obj, fields=form.cleaned_data, user=user)


def remove_plain(obj, user):
    object_remove(obj=obj, user=user)


@dataclass(frozen=True)
class Kind:
    """What the generic pages need to know about one kind of object."""

    segment: str  # the list page's URL segment: "datacenters" (/datacenters/new/)
    label: str  # "data center", in titles and messages
    plural: str  # "Data centers", the breadcrumb back to the list
    url_prefix: str  # "inventory:datacenter": "<prefix>-list" and "<prefix>-detail" exist
    form: type[ModelForm]
    selector: Callable  # selector(user) -> the queryset of objects the user may see
    create: Callable = create_plain  # create(form, user) -> (object, job or None)
    update: Callable = update_plain  # update(object, form, user)
    remove: Callable = remove_plain  # remove(object, user)
    # False when the object has no page of its own (its edit page stands in):
    # the pages then lead back to the list.
    has_detail: bool = True
    saved_note: str = ""  # appended to "... was saved." (what the change does not do)
    removed_note: str = ""

    def list_url(self) -> str:
        return reverse(f"{self.url_prefix}-list")

    def page_url(self, obj) -> str:
        """Where to go after a change and where Cancel leads: the object's page, or the list."""
        return reverse(f"{self.url_prefix}-detail", args=[obj.pk]) if self.has_detail else self.list_url()

    def title(self) -> str:
        return self.label[:1].upper() + self.label[1:]


class _KindView(LoginRequiredMixin, View):
    kind: Kind = None  # set by as_view(kind=...)

    def _object(self, request, pk: int):
        return get_object_or_404(self.kind.selector(request.user), pk=pk)

    def _render_form(self, request, form: ModelForm, obj=None):
        kind = self.kind
        if obj is None:
            back = {"title": f"New {kind.label}", "parent_label": kind.plural, "parent_url": kind.list_url()}
        else:
            back = {"title": f"Edit {kind.label}", "parent_label": str(obj), "parent_url": kind.page_url(obj)}
        return render(request, "core/object_form.html", {"kind": kind, "form": form, "object": obj, **back})


class ObjectCreateView(_KindView):
    def get(self, request, **_):
        return self._render_form(request, self.kind.form())

    def post(self, request, **_):
        kind = self.kind
        form = kind.form(request.POST)
        if form.is_valid():
            try:
                require_permission(request.user, "create")
                obj, job = kind.create(form, request.user)
            except PortalError as error:
                form.add_error(None, error.detail)
            else:
                if job is not None:
                    messages.info(request, f"{kind.title()} {obj} is being added: follow the job.")
                    return redirect("core:job-detail", job.pk)
                messages.success(request, f"{kind.title()} {obj} was created.")
                return redirect(kind.page_url(obj))
        return self._render_form(request, form)


class ObjectEditView(_KindView):
    def _form(self, request, pk: int, data=None):
        # The visible object decides 404; the form edits a fresh, unannotated row.
        obj = self._object(request, pk)
        return obj, self.kind.form(data, instance=self.kind.form._meta.model.objects.get(pk=pk))

    def get(self, request, pk: int, **_):
        obj, form = self._form(request, pk)
        return self._render_form(request, form, obj)

    def post(self, request, pk: int, **_):
        kind = self.kind
        obj, form = self._form(request, pk, request.POST)
        if form.is_valid():
            try:
                require_permission(request.user, "change", obj)
                kind.update(obj, form, request.user)
            except PortalError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, f"{kind.title()} {obj} was saved{kind.saved_note}.")
                return redirect(kind.page_url(obj))
        return self._render_form(request, form, obj)


class ObjectRemoveView(_KindView):
    def get(self, request, pk: int, **_):
        obj = self._object(request, pk)
        return object_remove_page(request, label=self.kind.label, obj=obj, cancel_url=self.kind.page_url(obj))

    def post(self, request, pk: int, **_):
        kind = self.kind
        obj = self._object(request, pk)
        try:
            require_permission(request.user, "delete", obj)
            kind.remove(obj, request.user)
        except PortalError as error:
            messages.error(request, error.detail)
            return redirect(kind.page_url(obj))
        messages.success(request, f"{kind.title()} {obj} was removed{kind.removed_note}.")
        return redirect(kind.list_url())


def object_remove_page(request, *, label: str, obj, cancel_url: str):
    """The "Remove X? This cannot be undone." confirmation, also for removals with their own view."""
    return render(request, "core/object_remove.html", {"label": label, "object": obj, "cancel_url": cancel_url})


def kind_urls(kind: Kind) -> list:
    """/<segment>/new/, /<segment>/<pk>/edit/ and /<segment>/<pk>/remove/ for one kind.

    Each pattern matches its own segment only, so no order among the app's URLs
    matters. The segment is still captured (and ignored by the views) so that one
    URL name serves every kind: {% url "<app>:object-edit" "hosts" host.pk %}.
    """
    segment = kind.segment
    return [
        re_path(rf"^(?P<kind_segment>{segment})/new/$", ObjectCreateView.as_view(kind=kind), name="object-create"),
        re_path(rf"^(?P<kind_segment>{segment})/(?P<pk>[0-9]+)/edit/$", ObjectEditView.as_view(kind=kind),
                name="object-edit"),
        re_path(rf"^(?P<kind_segment>{segment})/(?P<pk>[0-9]+)/remove/$", ObjectRemoveView.as_view(kind=kind),
                name="object-remove"),
    ]

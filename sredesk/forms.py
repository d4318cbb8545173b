"""Form pieces every app's web forms and the admin share."""

from django import forms
from django.db import models

from .inputs import parse_int
from .versions import BasedOn, EditConflict, value_digest, value_key


class LinkInput(forms.TextInput):
    """A text box for a web link: a phone shows its URL keyboard, and the browser does not judge the value.

    ``type=url`` (Django's ``URLInput``) makes the browser refuse ``wiki.example.com/runbook``
    before sending it, although the server takes it (``LinkField`` adds ``https://``):
    the server decides, and says why on the field.
    """

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "url", "autocomplete": "url", "spellcheck": "false", **(attrs or {})})


class LinkField(forms.URLField):
    """A link a person types: without a scheme it is taken as ``https://``; shown in a ``LinkInput``.

    What may be stored is decided again where it enters the domain (``sredesk.inputs.check_url``:
    http and https only).
    """

    widget = LinkInput

    def __init__(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)


def link_formfield(db_field: models.Field, **kwargs) -> forms.Field | None:
    """A ModelForm's ``formfield_callback``: a model ``URLField`` becomes a ``LinkField`` (``https://`` assumed,
    never Django's ``http://`` default, which Django 6 changes); every other field as Django makes it."""
    if isinstance(db_field, models.URLField):
        kwargs = {"form_class": LinkField, **kwargs}
    return db_field.formfield(**kwargs)


class WholeNumberField(forms.IntegerField):
    """A whole number a person types, in ASCII digits (``sredesk.inputs.parse_int``).

    Django's ``IntegerField`` takes ``"300.0"``, ``"1_000"`` and ``"٣٠٠"`` (Arabic-Indic digits) as numbers;
    this one refuses them with a message on the field. Bounds: ``min_value`` / ``max_value`` as usual.
    """

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_int(str(value), field=self.label or "value", min_value=None)  # an InputError lands on the field


class VersionedFormMixin:
    """A web form over a shared document (``sredesk.versions.Versioned``, a ModelForm with an existing instance).

    It carries, in hidden fields, the version it was opened at and a digest of
    each field's value then, so a save based on an old version merges with
    what others saved meanwhile (``BasedOn``). After an ``EditConflict``,
    ``after_conflict`` gives the form to show again: every field merged, the
    conflicting ones with the other writer's value beside this one and a choice
    (``take_<field>``: ``mine``, the default, or ``theirs``, whose value rides in
    ``theirs_<field>``). Without the hidden version (a page older than them) it
    saves as before.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.document_fields = [name for name in self.fields]
        self.conflicts: dict[str, dict] = {}
        if self.instance.pk is None:
            return
        self.fields["version"] = forms.IntegerField(
            widget=forms.HiddenInput, required=False, min_value=1, initial=self.instance.version
        )
        for name in self.document_fields:
            self.fields[f"base_{name}"] = forms.CharField(
                widget=forms.HiddenInput,
                required=False,
                max_length=64,
                initial=value_digest(getattr(self.instance, name)),
            )
        if self.is_bound:
            self.data = self.data.copy()
            for name in self.document_fields:  # the person chose the other writer's value
                if self.data.get(f"take_{name}") == "theirs" and f"theirs_{name}" in self.data:
                    self.data[name] = self.data[f"theirs_{name}"]

    def document_data(self) -> dict[str, object]:
        """The document's fields from ``cleaned_data`` (not the version and digests)."""
        return {name: self.cleaned_data[name] for name in self.document_fields}

    def based_on(self) -> BasedOn | None:
        version = self.cleaned_data.get("version")
        if not version:
            return None
        digests = {n: self.cleaned_data.get(f"base_{n}") or "" for n in self.document_fields}
        return BasedOn(version=version, digests={n: d for n, d in digests.items() if d})  # none: merge nothing blind

    def kept_theirs(self, saved) -> list[str]:
        """After a save, the fields whose stored value is not this form's: another writer's change, kept."""
        data = self.document_data()
        return [
            self.fields[n].label or n
            for n in self.document_fields
            if value_key(getattr(saved, n)) != value_key(data[n])
        ]

    def after_conflict(self, conflict: EditConflict, stored) -> "VersionedFormMixin":
        """The form to show again after ``conflict``: based on ``stored`` (read after it), the merge in its
        fields, and each conflict in ``conflicts`` (label, mine and theirs as shown and as posted)."""
        data = {name: value_key(value) for name, value in conflict.merged.items()}
        data["version"] = str(conflict.version)
        data.update({f"base_{n}": value_digest(getattr(stored, n)) for n in self.document_fields})
        form = type(self)(data=data, instance=stored)
        for item in conflict.conflicts:
            field = self.fields[item.field]
            form.conflicts[item.field] = {
                "label": field.label or item.field,
                "mine": _shown(field, item.mine),
                "theirs": _shown(field, item.theirs),
                "theirs_posted": value_key(item.theirs),
                "long": isinstance(field.widget, forms.Textarea),
            }
        return form

    def rows(self):
        """(bound field, conflict or None) for each visible field, for templates."""
        return [(bound, self.conflicts.get(bound.name)) for bound in self.visible_fields()]


def _shown(field: forms.Field, value: object) -> str:
    """A value as the form shows it: a choice by its label, nothing as "nobody"/"none"."""
    if value is None or value == "":
        return "nobody" if isinstance(field, forms.ModelChoiceField) else "(empty)"
    if isinstance(field, forms.ModelChoiceField):
        return str(value)
    choices = getattr(field, "choices", None)
    if choices:
        return str(dict((str(k), v) for k, v in choices).get(str(value), value))
    return value_key(value) if not isinstance(value, str) else value


def edited_since(instance, version: int, *, before: int | None = None, viewer=None) -> list[str]:
    """Who saved ``instance`` after ``version`` (and before version ``before``), from its change history, oldest
    first, as texts such as "Alice Doe at 2024-05-02 10:05 CEST" (the viewer's zone; "you, in another tab")."""
    from .templatetags.sredesk_ui import when_text  # the template tags build on forms' neighbours

    rows = instance.history.filter(version__gt=version)
    if before is not None:
        rows = rows.filter(version__lt=before)
    out = []
    for row in rows.select_related("history_user").order_by("history_date", "history_id"):
        mine = viewer is not None and row.history_user_id == viewer.pk
        who = "you, in another tab," if mine else str(row.history_user or "someone")
        text = f"{who} at {when_text(row.history_date)}"
        if text not in out:
            out.append(text)
    return out

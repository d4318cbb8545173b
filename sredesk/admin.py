"""Admin pieces shared by the apps' admin modules."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms import ModelChoiceField, ModelMultipleChoiceField, Select
from simple_history.admin import SimpleHistoryAdmin

from .forms import LinkField, LinkInput, edited_since
from .versions import Versioned, value_key


class SeenVersionMixin:
    """An admin change form over a ``Versioned`` object that carries the version it was opened at (``seen_version``).

    Saved over someone else's change, it merges as the web forms do, with the change history's row of that
    version as the base: a field only they changed keeps their value, a field only this form changed is saved,
    a field both changed is an error on the field naming their value (save again to keep yours). Without a
    history row for that version: one error asking to look first (save again to overwrite).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_version"] = forms.IntegerField(
            required=False, widget=forms.HiddenInput, initial=self.instance.version
        )

    def clean(self):
        cleaned = super().clean()
        seen, instance = cleaned.get("seen_version"), self.instance
        if not seen or seen == instance.version:
            return cleaned
        self.data = self.data.copy()
        self.data["seen_version"] = str(instance.version)  # saving again decides
        who = " and ".join(edited_since(instance, seen)) or "someone else"
        base = instance.history.filter(version=seen).order_by("-history_date").first()
        if base is None:
            raise forms.ValidationError(
                f"Changed by {who} while you were editing. Look at it again, or save again to overwrite it."
            )
        plain = {f.name for f in instance._meta.concrete_fields}
        for name in [n for n in self.changed_data if n in plain and n in cleaned]:
            mine, theirs, was = cleaned[name], getattr(instance, name), getattr(base, name)
            if value_key(mine) == value_key(theirs) or value_key(theirs) == value_key(was):
                continue  # the same, or only this form changed it
            if value_key(mine) == value_key(was):
                cleaned[name] = theirs  # only they changed it: keep theirs
            else:
                self.add_error(name, f"{who} changed this meanwhile to “{theirs}”. Save again to keep yours.")
        return cleaned


class LinkFieldsMixin:
    """For a ``ModelAdmin`` or an inline: its model's ``URLField``s are ``LinkField``s (``https://`` assumed where a
    person leaves the scheme out; Django's own URL form field would assume ``http://``, a default Django 6 changes),
    in a ``LinkInput``, so the browser does not refuse ``wiki.example.com/x`` either."""

    formfield_overrides = {
        models.URLField: {"form_class": LinkField, "widget": LinkInput(attrs={"class": "vURLField"})},
    }


class HistoryAdmin(LinkFieldsMixin, SimpleHistoryAdmin):
    """django-simple-history's admin as a read-only audit trail.

    ``SIMPLE_HISTORY_REVERT_DISABLED`` only hides the "Revert" button; this
    also refuses the POST, because a revert would write status and times past
    the services and the incident timeline.

    Its links (runbook, dashboard, tracker, change URLs) are ``LinkField``s (``LinkFieldsMixin``), so the
    browser does not refuse ``wiki.example.com/x``, which the server takes as https.

    The change form of a ``Versioned`` object (incident, post-mortem, action item,
    service) carries the version it was opened at (``SeenVersionMixin``), so two
    people editing it at once merge instead of overwriting each other.
    """

    change_form_template = "admin/versioned_change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or not isinstance(obj, Versioned):
            return form
        return type(form.__name__, (SeenVersionMixin, form), {})

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("The change history is read-only: edit the object itself.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class KnownChoiceAutocomplete(AutocompleteSelect):
    """Django's autocomplete select, taking its selected option's label from ``known`` when it is there.

    Django's widget looks its selected object up with one query per widget,
    so an inline of n rows ran n queries; ``SharedChoicesInline`` fills
    ``known`` for every row from one query.
    """

    known: dict[str, str] | None = None

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if self.known is None or not all(v in self.known for v in selected):
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for v in selected[:1]:
            options.append(self.create_option(name, v, self.known[v], True, len(options)))
        return [(None, options, 0)]


class SharedChoicesInline(LinkFieldsMixin, admin.TabularInline):
    """An editable inline whose rows' foreign-key widgets cost one query per field, not one per row.

    A select box's choices are read once and given to every row; an
    autocomplete's selected labels are read at once for all rows
    (``KnownChoiceAutocomplete``). Validation on save still checks each value
    against the field's queryset, as Django does.
    """

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request) and "widget" not in kwargs:
            kwargs["widget"] = KnownChoiceAutocomplete(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class SharedChoicesFormSet(formset):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                share_choices(self.forms)

        return SharedChoicesFormSet


def share_choices(forms: list) -> None:
    """Give every form's foreign-key fields the choices (or autocomplete labels) read once for all of them."""
    if not forms:
        return
    for name, field in forms[0].fields.items():
        if not isinstance(field, ModelChoiceField) or isinstance(field, ModelMultipleChoiceField):
            continue
        widget = getattr(field.widget, "widget", field.widget)
        if isinstance(widget, KnownChoiceAutocomplete):
            values = {str(v) for form in forms if (v := form[name].value()) not in field.empty_values}
            try:
                known = {str(obj.pk): field.label_from_instance(obj) for obj in field.queryset.filter(pk__in=values)}
            except (ValueError, TypeError):  # a re-shown form with a value that is no id: Django's own lookup
                continue
            for form in forms:
                getattr(form.fields[name].widget, "widget", form.fields[name].widget).known = known
        elif isinstance(widget, Select):
            choices = list(field.choices)
            for form in forms:
                form.fields[name].choices = choices
                getattr(form.fields[name].widget, "widget", form.fields[name].widget).choices = choices

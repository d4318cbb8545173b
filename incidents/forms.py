from django import forms
from django.core.exceptions import ValidationError

from ownership.models import Service, Team, User
from sredesk.versions import BasedOn, value_digest

from .models import Severity

LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def people():
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class DeclareIncidentForm(forms.Form):
    """Input for declaring an incident by hand; the rules live in ``services.incident_declare``.

    Times typed here are wall-clock times in the viewer's time zone (the
    active zone), made aware by the form.
    """

    title = forms.CharField(max_length=300, help_text="What is broken, as the people affected would say it.")
    severity = forms.TypedChoiceField(
        choices=Severity.choices,
        coerce=int,
        initial=Severity.SEV3,
        help_text="SEV1: critical customer-facing outage … SEV4: minor. SEV1 and SEV2 get a post-mortem.",
    )
    primary_service = forms.ModelChoiceField(
        queryset=Service.objects.all(), required=False, help_text="Its team owns the incident."
    )
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.all(),
        required=False,
        label="Other affected services",
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    owning_team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, help_text="Leave empty to use the primary service's team."
    )
    commander = forms.ModelChoiceField(
        queryset=people(),
        required=False,
        label="Incident commander",
        empty_label="nobody yet",
        help_text="You, unless you choose someone else: an incident needs someone in charge.",
    )
    started_at = forms.DateTimeField(
        required=False,
        label="Impact began",
        widget=LOCAL_DATETIME,
        help_text="In your time zone. Leave empty when it began now.",
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=100_000)


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What happened, what you tried…"}),
        max_length=10000,
    )


class SeenForm(forms.Form):
    """A one-field change that says what the page showed: the incident's ``version`` and the value it ``was``
    (hidden inputs), so a change someone else made meanwhile is not overwritten unseen (``sredesk.versions``)."""

    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    was = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def based_on(self, field: str) -> BasedOn | None:
        if not self.cleaned_data.get("version"):
            return None
        return BasedOn(self.cleaned_data["version"], {field: value_digest(self.cleaned_data["was"])})


class SeverityForm(SeenForm):
    severity = forms.TypedChoiceField(choices=Severity.choices, coerce=int)


class RoleForm(SeenForm):
    role = forms.ChoiceField(
        choices=[("commander", "Incident commander"), ("communications_lead", "Communications lead")]
    )
    user = forms.ModelChoiceField(queryset=people(), required=False, empty_label="nobody")


class ResponderForm(forms.Form):
    user = forms.ModelChoiceField(queryset=people())
    responding = forms.TypedChoiceField(choices=[("1", "add"), ("0", "remove")], coerce=lambda v: v == "1")


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has it, else on the whole form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                if field in form.fields:
                    form.add_error(field, error)
                else:
                    form.add_error(None, f"{field.replace('_', ' ')}: {error}")
    else:
        form.add_error(None, exc)

from django import forms

from ownership.models import Service, User

from .models import Severity


class DeclareIncidentForm(forms.Form):
    """Input for declaring an incident by hand; the rules live in ``services.incident_declare``."""

    title = forms.CharField(max_length=300)
    severity = forms.TypedChoiceField(choices=Severity.choices, coerce=int, initial=Severity.SEV3)
    primary_service = forms.ModelChoiceField(queryset=Service.objects.all(), required=False)
    commander = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=10000)

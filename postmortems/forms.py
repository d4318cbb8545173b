from django import forms

from ownership.models import Repository

from .models import ActionItem, PostMortem


class LinkRegressionTestForm(forms.Form):
    """Input for linking a regression test; the rules live in ``services.regression_test_link``."""

    repository = forms.ModelChoiceField(queryset=Repository.objects.all())
    test_id = forms.CharField(
        label="Test id",
        max_length=1000,
        help_text=(
            "e.g. tests/payments/test_retry.py::test_timeout_is_retried[eu] or com.acme.CheckoutTest::retriesOnTimeout"
        ),
    )
    change_url = forms.URLField(label="Change URL", required=False, max_length=500, assume_scheme="https")
    action_item = forms.ModelChoiceField(queryset=ActionItem.objects.none(), required=False)

    def __init__(self, *args, postmortem: PostMortem, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action_item"].queryset = postmortem.action_items.all()
        services = postmortem.incident.services.all()
        repos = Repository.objects.filter(services__in=services).distinct()
        if repos.exists():
            self.fields["repository"].queryset = repos


class PostMortemSectionsForm(forms.ModelForm):
    """The blameless sections, in Markdown."""

    class Meta:
        model = PostMortem
        fields = [
            "summary", "impact", "trigger", "root_cause", "detection", "resolution",
            "went_well", "went_wrong", "got_lucky", "timeline",
        ]  # fmt: skip
        widgets = {f: forms.Textarea(attrs={"rows": 4}) for f in fields}


class ActionItemForm(forms.ModelForm):
    tracker_url = forms.URLField(label="Tracker URL", required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = ActionItem
        fields = ["title", "kind", "priority", "owner", "due_date", "tracker_url"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}


class SnoozeForm(forms.Form):
    until = forms.DateTimeField(
        label="Snooze until (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), required=False
    )
    reason = forms.CharField(max_length=300, required=False)

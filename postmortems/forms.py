from django import forms
from django.core.validators import MaxLengthValidator

from ownership.models import Repository, User
from sredesk.forms import LinkField, VersionedFormMixin

from .export import SECTIONS
from .models import ActionItem, PostMortem
from .selectors import postmortem_repositories
from .testids import MAX_TEST_ID_CHARS


class LinkRegressionTestForm(forms.Form):
    """Input for linking a regression test; the rules live in ``postmortems.regression_tests.regression_test_link``."""

    repository = forms.ModelChoiceField(queryset=Repository.objects.all())
    test_id = forms.CharField(
        label="Test id",
        max_length=MAX_TEST_ID_CHARS,
        help_text=(
            "e.g. tests/payments/test_retry.py::test_timeout_is_retried[eu] or com.acme.CheckoutTest::retriesOnTimeout"
        ),
    )
    change_url = LinkField(label="Change URL", required=False, max_length=500)
    action_item = forms.ModelChoiceField(queryset=ActionItem.objects.none(), required=False)

    def __init__(self, *args, postmortem: PostMortem, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action_item"].queryset = postmortem.action_items.all()
        repos = postmortem_repositories(postmortem)
        if repos.exists():
            self.fields["repository"].queryset = repos


# Longest Markdown a section may hold, in characters (the API's PostMortemUpdateInput uses it too).
SECTION_MAX_LENGTH = 200_000

SECTION_HELP = {
    "summary": "Two or three sentences: what happened, to whom, for how long.",
    "impact": "Who was affected and how much (users, requests, revenue, data).",
    "trigger": "The change or event that set it off.",
    "root_cause": "Why the system allowed it: conditions and decisions, not people.",
    "detection": "How we found out, and how long it took.",
    "resolution": "What stopped the impact.",
    "went_well": "",
    "went_wrong": "",
    "got_lucky": "",
    "timeline": "Copied from the incident's timeline; add what happened outside sredesk.",
}


class PostMortemSectionsForm(VersionedFormMixin, forms.ModelForm):
    """The blameless sections, in Markdown; saved over others' changes by a merge (``VersionedFormMixin``)."""

    class Meta:
        model = PostMortem
        fields = [
            "summary", "impact", "trigger", "root_cause", "detection", "resolution",
            "went_well", "went_wrong", "got_lucky", "timeline",
        ]  # fmt: skip
        widgets = {f: forms.Textarea(attrs={"rows": 6}) for f in fields}
        labels = dict(SECTIONS)
        help_texts = SECTION_HELP

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.document_fields:  # the API's limit (PostMortemUpdateInput): a 400 on the field
            field = self.fields[name]
            field.max_length = SECTION_MAX_LENGTH
            field.validators.append(MaxLengthValidator(SECTION_MAX_LENGTH))


class ActionItemForm(VersionedFormMixin, forms.ModelForm):
    """An action item's fields (not its status); an edit merges with others' changes (``VersionedFormMixin``).
    The rules (owner by default, a past due date) are in ``postmortems.action_items``."""

    tracker_url = LinkField(label="Tracker URL", required=False, max_length=500)
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("first_name", "last_name", "username"), required=False
    )

    class Meta:
        model = ActionItem
        fields = ["title", "kind", "priority", "owner", "due_date", "tracker_url"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        labels = {"due_date": "Due date (UTC)"}

    def __init__(self, *args, postmortem=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Added after the mixin has listed the document's fields: a confirmation, not a field of the item.
        self.fields["confirm_past_due"] = forms.BooleanField(
            label="The due date is in the past: it is already overdue", required=False
        )
        if postmortem is not None:  # an empty owner is the post-mortem's owner: say who that is
            self.fields["owner"].empty_label = f"The post-mortem's owner ({postmortem.owner or 'nobody yet'})"


class ActionItemStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)
    wont_do_reason = forms.CharField(label="Reason (for won't do)", required=False, max_length=2000)


class DeclineForm(forms.Form):
    """Why nobody needs this post-mortem; the rule lives in ``postmortems.decline.postmortem_decline``."""

    reason = forms.CharField(
        label="Why is no post-mortem needed?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. a flapping alert that resolved itself; shown on the incident's timeline.",
    )


class SnoozeForm(forms.Form):
    until = forms.DateTimeField(
        label="Snooze until (your time zone)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        required=False,
        help_text="Leave empty to resume reminders.",
    )
    reason = forms.CharField(max_length=300, required=False)

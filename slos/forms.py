"""The web form of a team's error-budget policy (the API's ``BudgetPolicyInput`` twin)."""

from django import forms

from .models import BudgetPolicy
from .services import POLICY_WRITABLE


class BudgetPolicyForm(forms.ModelForm):
    """The policy's fields, checked by the model's validators; saved by ``slos.services.budget_policy_set``."""

    class Meta:
        model = BudgetPolicy
        fields = POLICY_WRITABLE
        labels = {
            "enabled": "Policy on",
            "threshold": "Bites at budget left (fraction, 0 = exhausted)",
            "reminder_steps_sooner": "Reminder steps sooner",
            "due_factor": "New post-mortems due after (fraction of the usual time)",
        }

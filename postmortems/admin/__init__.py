"""Admin for post-mortems and their follow-ups. Workflow moves go through the services, never a bulk UPDATE.

One module per subject; importing them registers their ``ModelAdmin`` classes.
"""

from .regression import RegressionTestAdmin, RegressionTestWaiverAdmin, TestResultAdmin, TestRunAdmin
from .reminders import HeartbeatAdmin, ReminderAdmin, ReminderDeliveryAdmin
from .workflow import ActionItemAdmin, PostMortemAdmin

__all__ = [
    "ActionItemAdmin",
    "HeartbeatAdmin",
    "PostMortemAdmin",
    "RegressionTestAdmin",
    "RegressionTestWaiverAdmin",
    "ReminderAdmin",
    "ReminderDeliveryAdmin",
    "TestResultAdmin",
    "TestRunAdmin",
]

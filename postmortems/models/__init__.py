"""Post-mortems, their action items and regression tests, and the reminder ledger.

``writeups``: post-mortems and action items.
``regression``: regression tests and "not testable" waivers.
``ledger``: reminders, their deliveries, and the periodic jobs' heartbeats.
CI runs and their results live in ``postmortems.ci_models`` (imported here, so
``postmortems.models`` names every model of the app).
"""

from ..ci_models import TestResult, TestRun, TestRunFile
from .ledger import Heartbeat, Reminder, ReminderDelivery
from .regression import RegressionTest, RegressionTestWaiver
from .writeups import ActionItem, PostMortem

__all__ = [
    "ActionItem",
    "Heartbeat",
    "PostMortem",
    "RegressionTest",
    "RegressionTestWaiver",
    "Reminder",
    "ReminderDelivery",
    "TestResult",
    "TestRun",
    "TestRunFile",
]

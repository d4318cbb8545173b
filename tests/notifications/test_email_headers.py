"""The kind of BR-14 for email: a subject made from outside text (alert summaries, titles) fits a mail header."""

from django.core import mail

from notifications.base import Message
from notifications.email import EmailBackend


def test_a_subject_with_line_breaks_is_sent_on_one_line(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    subject = "INC-7 (SEV2) Disk full\non node-1\r\nsecond line of the alert's summary"
    EmailBackend().send(Message(address="owner@example.test", subject=subject, text="Body\nkept as it is"))
    [sent] = mail.outbox
    assert sent.subject == "INC-7 (SEV2) Disk full on node-1 second line of the alert's summary"
    assert sent.body.startswith("Body\nkept as it is")

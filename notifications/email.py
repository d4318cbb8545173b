"""Email backend over Django's email framework (``EMAIL_URL`` -> SMTP settings).

SMTP replies map onto our error types (RFC 5321): a refused recipient or a
5xx reply -> NotifyPermanentError; a 4xx reply, a dropped connection, a
timeout or a refused connection -> NotifyTransientError.
"""

import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage

from .base import Message, NotifyPermanentError, NotifyTransientError


class EmailBackend:
    def send(self, message: Message) -> str:
        """Mail ``message`` to ``message.address``; returns the Message-ID header.

        The subject is made of outside text (an alert's summary becomes the
        incident's title, often over several lines) and a mail header cannot
        hold a line break (Django refuses it with BadHeaderError): its
        whitespace runs become single spaces. The body keeps its lines.
        """
        body = f"{message.text}\n\n{message.url}\n" if message.url else f"{message.text}\n"
        message_id = make_msgid(domain="sredesk")
        mail = EmailMessage(
            subject=" ".join(message.subject.split()),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={"Message-ID": message_id},
        )
        try:
            mail.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifyPermanentError(f"mail server refused {message.address}") from exc
        except smtplib.SMTPResponseException as exc:
            error = NotifyPermanentError if 500 <= exc.smtp_code < 600 else NotifyTransientError
            raise error(f"mail server said {exc.smtp_code}: {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyTransientError(f"mail server unreachable: {exc}") from exc
        return message_id

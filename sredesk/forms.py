"""Form pieces every app's web forms and the admin share."""

from django import forms


class LinkInput(forms.TextInput):
    """A text box for a web link: a phone shows its URL keyboard, and the browser does not judge the value.

    ``type=url`` (Django's ``URLInput``) makes the browser refuse ``wiki.example.com/runbook``
    before sending it, although the server takes it (``LinkField`` adds ``https://``):
    the server decides, and says why on the field.
    """

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "url", "autocomplete": "url", "spellcheck": "false", **(attrs or {})})


class LinkField(forms.URLField):
    """A link a person types: without a scheme it is taken as ``https://``; shown in a ``LinkInput``.

    What may be stored is decided again where it enters the domain (``sredesk.inputs.check_url``:
    http and https only).
    """

    widget = LinkInput

    def __init__(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)

"""The API's request body parser: JSON within a size and a nesting depth, checked by ``sredesk.inputs``."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser

from sredesk.inputs import MAX_JSON_DEPTH, InputError, load_json


class BoundedJSONParser(JSONParser):
    """``application/json`` bodies of at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes nested at most 64 deep.

    DRF's own parser reads the whole stream (no size limit) and lets Python's
    recursive decoder raise ``RecursionError`` on a body nested 100,000 deep
    (a 500). Here a larger body is a 413 and a deeper, non-UTF-8 or non-JSON
    one (``NaN`` included) a 400 with code ``parse_error`` (as DRF's parser
    answered) naming ``body`` (``sredesk.inputs.InputError``).
    """

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise RequestDataTooBig(f"The JSON body is larger than {limit} bytes.")
        try:
            return load_json(body, field="body", max_depth=self.max_depth)
        except InputError as exc:
            raise InputError("body", exc.message, code="parse_error") from None

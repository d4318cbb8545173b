"""Serializer fields and the strict input serializer the apps' API serializers build on."""

import functools
from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sredesk.inputs import BIGINT_MAX, InputError, is_ascii_int, parse_int, text_problem

from .filters import ref_lookup


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant with its offset (``Z`` or ``+02:00``); naive times are refused (BR-22)."""

    default_error_messages = {
        "naive": "Give a time zone offset (e.g. 2024-05-01T10:05:00Z); times without one are refused.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            if text_problem(value) is not None:
                self.fail("invalid", format="ISO 8601 (e.g. 2024-05-01T10:05:00Z)")
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        elif isinstance(value, datetime) and timezone.is_naive(value):
            self.fail("naive")
        return super().to_internal_value(value)


def _label_choice_schema(choices) -> dict:
    return {
        "oneOf": [
            {"type": "string", "enum": list(choices.labels)},
            {"type": "integer", "enum": list(choices.values)},
        ],
        "description": f"{', '.join(choices.labels)} (or the number {choices.values[0]}..{choices.values[-1]})",
    }


class LabelChoiceInputField(serializers.Field):
    """An IntegerChoices value given as its label (``SEV2``, ``P1``) or its number."""

    default_error_messages = {"invalid": "Give one of {labels} (or the number)."}

    def __init__(self, choices, **kwargs):
        self.choices_class = choices
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        by_label = {label.upper(): value for value, label in self.choices_class.choices}
        if isinstance(data, str) and data.strip().upper() in by_label:
            return by_label[data.strip().upper()]
        if isinstance(data, bool):
            self.fail("invalid", labels=", ".join(self.choices_class.labels))
        text = data.strip() if isinstance(data, str) else None
        number = data if isinstance(data, int) else int(text) if text and is_ascii_int(text) and len(text) < 3 else None
        if number in self.choices_class.values:
            return number
        self.fail("invalid", labels=", ".join(self.choices_class.labels))

    def to_representation(self, value):
        return self.choices_class(value).label


@functools.cache
def _label_choice_input_class(choices) -> type[LabelChoiceInputField]:
    cls = type(f"{choices.__name__}InputField", (LabelChoiceInputField,), {})
    return extend_schema_field(_label_choice_schema(choices))(cls)


def label_choice_input(choices, **kwargs) -> LabelChoiceInputField:
    """A field taking ``choices`` by label or number, documented as such."""
    return _label_choice_input_class(choices)(choices, **kwargs)


class LabelChoiceField(serializers.ChoiceField):
    """Output of an IntegerChoices value as its label (``SEV2``)."""

    def __init__(self, choices, **kwargs):
        self.choices_class = choices
        super().__init__(choices=list(choices.labels), **kwargs)

    def to_representation(self, value):
        return self.choices_class(value).label if value is not None else None


class MoveChangedField(serializers.BooleanField):
    """``changed`` of a move's answer: whether this request made it (the ``outcome`` in the serializer's context,
    an ``incidents.moves.MoveOutcome``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "False when it was already there: nothing changed.")
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value) -> bool:
        return self.context["outcome"].changed


class MoveHintField(serializers.CharField):
    """``hint`` of a move's answer: when nothing changed, who got there first and when; "" otherwise."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value) -> str:
        return self.context["outcome"].hint


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know (a typo must not be silently ignored)."""

    unknown_field_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        key: [self.unknown_field_hints.get(key, f"Unknown field; known: {', '.join(self.fields)}.")]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


REF_MAX_CHARS = 300  # longer than any slug, username or repository name sredesk stores


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "The id, or the slug / username / name."}
)
class RefField(serializers.RelatedField):
    """An object given as the API names it: its id or its ``slug_field`` (a service's or team's slug, a person's
    username, a repository's name), by the same rule as the filters (``sredesk.api.filters.ref_lookup``)."""

    default_error_messages = {"incorrect_type": "Give an id (a number) or a {slug_field} (text)."}

    def __init__(self, slug_field: str, **kwargs):
        self.slug_field = slug_field
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", slug_field=self.slug_field)
        problem = text_problem(data, max_length=REF_MAX_CHARS) if isinstance(data, str) else None
        if problem is not None:
            raise serializers.ValidationError(problem)
        try:
            return ref_lookup(self.get_queryset(), self.slug_field, str(data))
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def to_representation(self, value):
        return value.pk


class StrictIntegerField(serializers.IntegerField):
    """A whole number as JSON sends it, or in ASCII digits (``sredesk.inputs.parse_int``): ``1.0``, ``true``,
    ``"٣"`` and ``"1_000"`` are refused (DRF's IntegerField takes the first and the last two)."""

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("invalid")
        try:
            number = parse_int(data, field=self.field_name or "value", min_value=None, max_value=BIGINT_MAX)
        except InputError as exc:
            raise serializers.ValidationError(exc.message) from None
        return super().to_internal_value(number)


class StrictDecimalField(serializers.DecimalField):
    """A decimal given as a JSON number or as text in ASCII (``"0.999"``); ``"٠.٩"`` is refused (``Decimal`` takes
    any Unicode digits)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not data.isascii()):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: DRF's BooleanField also takes ``"yes"``, ``"on"``, ``1`` and ``"0"``."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data

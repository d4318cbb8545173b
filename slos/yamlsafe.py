"""YAML from outside (OpenSLO files), parsed safely: PyYAML's SafeLoader with limits of size, depth and form.

``yaml.safe_load`` builds only plain data (no Python objects), which is the
first half. The other half is what a safe loader still lets through:

- **size**: at most ``MAX_YAML_BYTES`` per file or body (checked before parsing);
- **aliases** (``*name``): refused. A few lines of nested aliases expand into
  billions of references ("billion laughs"); PyYAML shares them rather than
  copying, but anything that walks the result (a depth check, JSON, our
  mapping) walks every one;
- **depth**: at most ``MAX_YAML_DEPTH`` nested collections (the composer
  recurses per level: 100,000 ``[`` would be a ``RecursionError``);
- **duplicate keys**: refused (PyYAML keeps the last silently; in a file kept
  in git a duplicated ``target:`` is a mistake to show, not to guess);
- text that is not UTF-8, NUL characters (also escaped), lone surrogates, non-string keys,
  and values YAML's own types cannot hold (a timestamp 2024-13-40).

Every refusal is a ``YAMLRefused`` with a sentence and, when known, the line.
"""

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from sredesk.inputs import text_problem

MAX_YAML_BYTES = 256 * 1024  # hundreds of SLO documents; a file past this is not an SLO file
MAX_YAML_DEPTH = 20  # an OpenSLO SLO nests 8 deep (spec.indicator.spec.ratioMetric.good.metricSource.spec)
MAX_DOCUMENTS = 500


class YAMLRefused(ValueError):
    """YAML sredesk will not read: ``str(exc)`` says why (and where)."""


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader without aliases, deeper nesting than ``MAX_YAML_DEPTH`` or duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise ComposerError(None, None, "aliases (*name) are not accepted", mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise ComposerError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise ConstructorError(None, None, f"keys must be text, not {key!r}", key_node.start_mark)
            if key in seen:
                raise ConstructorError(None, None, f"the key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_documents(data: bytes | str) -> list[Any]:
    """Every document of a YAML stream (``---``-separated), as plain data. Raises ``YAMLRefused``."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_YAML_BYTES:
        raise YAMLRefused(f"Larger than {MAX_YAML_BYTES // 1024} KiB ({len(raw):,} bytes).")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLRefused(f"Not UTF-8 text (byte {exc.start}).") from None
    if "\x00" in text:
        raise YAMLRefused("Contains a NUL character.")
    documents = []
    try:
        for document in yaml.load_all(text, Loader=_StrictSafeLoader):  # a SafeLoader: plain data only
            if document is None:
                continue  # an empty document (a trailing ---)
            documents.append(document)
            if len(documents) > MAX_DOCUMENTS:
                raise YAMLRefused(f"More than {MAX_DOCUMENTS} documents.")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YAMLRefused(f"Not readable YAML: {where}{exc.problem}.") from None
    except yaml.YAMLError as exc:
        raise YAMLRefused(f"Not readable YAML: {exc}.") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp like 2024-13-40, which YAML types
        raise YAMLRefused(f"Not readable YAML: {exc}.") from None
    for document in documents:
        _check_text(document)
    return documents


def _check_text(value: Any) -> None:
    """Refuse text nothing can store: a lone surrogate or NUL from a double-quoted escape (``"\\ud800"``)."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise YAMLRefused(f"A value {problem[0].lower()}{problem[1:]}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def dump_documents(documents: list[dict]) -> str:
    """Documents as one YAML stream, keys in the order given (``---`` between them)."""
    return yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True, default_flow_style=False)

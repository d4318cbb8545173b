"""Importing OpenSLO files: every door (``manage.py slo_import``, ``POST /api/v1/slos/import/``) calls
``slo_import``; exporting: ``slo_export``.

An import is all or nothing: every document of every source is read and
mapped first (``slos.openslo``), then written in one transaction through
``slos.services`` (the write rule applies per SLO; a value the SLO refuses is
reported against its document), and any refusal rolls everything back. It is
idempotent by service + ``metadata.name``: an SLO that exists is updated (or
left alone when nothing differs), one that does not is created. The same
SLO twice in one import is refused (which one would win?).
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ownership.models import User

from . import openslo, services
from .models import SLO
from .yamlsafe import YAMLRefused, dump_documents, load_documents


@dataclass(frozen=True)
class Problem:
    """Why one document (``index`` within ``source``; None: the whole source) was refused, and where in it."""

    source: str
    index: int | None
    path: str
    message: str

    @property
    def key(self) -> str:
        """``yaml.2.spec.timeWindow``: the API's field name for it."""
        return ".".join(str(p) for p in (self.source, self.index, self.path) if p not in (None, ""))

    def __str__(self) -> str:
        where = self.source if self.index is None else f"{self.source} (document {self.index + 1})"
        return f"{where}{' ' + self.path if self.path else ''}: {self.message}"


class ImportRefused(ValidationError):
    """Some documents were refused; nothing was written. ``problems`` lists each; as a ValidationError its
    message dict is keyed by ``Problem.key``."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(problem.key, []).append(problem.message)
        super().__init__(errors)


@dataclass(frozen=True)
class Imported:
    """One SLO an import wrote or found as written: ``action`` is created, updated or unchanged."""

    slo: SLO
    action: str


def _differs(slo: SLO, service_id: int, fields: dict[str, Any]) -> bool:
    return slo.service_id != service_id or any(getattr(slo, name) != value for name, value in fields.items())


def slo_import(*, sources: list[tuple[str, bytes | str]], actor: User | None, dry_run: bool = False) -> list[Imported]:
    """Import the OpenSLO documents of ``sources`` (name, YAML). Raises ``ImportRefused`` (nothing written),
    ``PermissionDenied`` when ``actor`` may not write one of the SLOs. ``dry_run``: check and report, write
    nothing."""
    problems: list[Problem] = []
    documents: list[tuple[str, int, Any]] = []
    for name, data in sources:
        try:
            documents += [(name, index, doc) for index, doc in enumerate(load_documents(data))]
        except YAMLRefused as exc:
            problems.append(Problem(name, None, "", str(exc)))
    side = openslo.side_documents([doc for _, _, doc in documents])
    planned, seen = [], {}
    for name, index, doc in documents:
        try:
            mapped = openslo.fields_of(doc, side)
        except openslo.Refused as exc:
            problems.append(Problem(name, index, exc.path, exc.message))
            continue
        if mapped is None:
            continue
        service, fields = mapped
        key = (service.pk, fields["slug"])
        if key in seen:
            problems.append(Problem(name, index, "metadata.name", f"The same SLO as {seen[key]}."))
            continue
        seen[key] = f"{name} (document {index + 1})"
        planned.append((name, index, service, fields))
    if problems:
        raise ImportRefused(problems)
    if not planned:
        raise ImportRefused([Problem(name, None, "", "No SLO document.") for name, _ in sources[:1]])
    done = []
    with transaction.atomic():
        for name, index, service, fields in planned:
            existing = SLO.objects.filter(service=service, slug=fields["slug"]).first()
            try:
                if existing is None:
                    done.append(Imported(services.slo_create(actor=actor, service=service, **fields), "created"))
                elif _differs(existing, service.pk, fields):
                    slo = services.slo_update(slo_id=existing.pk, actor=actor, **fields)
                    done.append(Imported(slo, "updated"))
                else:
                    done.append(Imported(existing, "unchanged"))
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    problems += [Problem(name, index, field, message) for message in messages]
        if problems:
            raise ImportRefused(problems)
        if dry_run:
            transaction.set_rollback(True)
    return done


def slo_export(slos) -> tuple[list[dict], str]:
    """The OpenSLO v1 documents of ``slos`` (with their services), and the same as one YAML stream."""
    documents = [openslo.document_of(slo) for slo in slos]
    return documents, dump_documents(documents)

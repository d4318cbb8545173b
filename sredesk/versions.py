"""Optimistic concurrency for shared documents: a version per row, a three-way merge of an edit, ETags.

Post-mortems, action items, incidents and services are written by several
people at once (issue 15 item 1). Each has a ``version`` (``Versioned``): an
integer that goes up by one with every saved change, by one ``UPDATE ... SET
version = version + 1 ... RETURNING version`` that is guarded by ``AND version
= %s`` when the writer states the version it read (``save(expect_version=N)``,
which raises ``StaleVersion`` when another writer got there first).

An edit says what it was based on (``BasedOn``: the version the form or the
client read, and, from a web form, a key of each field's value then).
``three_way_merge`` decides, field by field, against the values now stored:

- a field I did not change keeps what is stored (the other writer's change stays);
- a field only I changed takes my value;
- a field we both changed, to different values, is a conflict: nothing is
  written until the person chooses (``EditConflict`` carries both values).

The API has no base values, only the version (``If-Match``): a stale version
there is ``StaleVersion`` (412 with the current representation); the client merges.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connections, models, router

from .exceptions import StateConflict


class StaleVersion(StateConflict):
    """The object changed since the version the writer read. ``current``: the stored version (int)."""

    def __init__(self, message: str, *, current: int, code: str = "stale_version") -> None:
        super().__init__(message, code=code)
        self.current = current


@dataclass(frozen=True)
class Conflict:
    """One field both writers changed: ``mine`` (this edit's value) and ``theirs`` (the stored one)."""

    field: str
    mine: object
    theirs: object


class EditConflict(StateConflict):
    """An edit based on an old version changed fields that were changed meanwhile; nothing was written.

    ``conflicts`` lists them; ``merged`` is the edit with every other field
    merged (what to offer the person again); ``version``: the stored version
    now, to base the next attempt on.
    """

    def __init__(self, *, conflicts: list[Conflict], merged: dict[str, object], version: int) -> None:
        names = ", ".join(c.field for c in conflicts)
        super().__init__(f"Changed by someone else while you were editing: {names}.", code="edit_conflict")
        self.conflicts, self.merged, self.version = conflicts, merged, version


def value_key(value: object) -> str:
    """A comparable text form of a field value: text with its line ends as ``\\n`` and no outer blanks (a
    browser sends ``\\r\\n`` and forms strip), a related object by its id, a date in ISO 8601, None as ""."""
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return str(value)


def value_digest(value: object) -> str:
    """SHA-256 (hex) of ``value_key``: what a web form carries for each field instead of the value itself."""
    return hashlib.sha256(value_key(value).encode()).hexdigest()


@dataclass(frozen=True)
class BasedOn:
    """What an edit was based on: ``version`` read, and (web forms) ``digests`` of each field's value then
    (None: the writer knows only the version, as an API client does)."""

    version: int
    digests: dict[str, str] | None = None


@dataclass
class Merge:
    """The outcome of ``three_way_merge``: ``changes`` to write, ``conflicts``, and the fields ``theirs`` (the other
    writer changed, this edit did not) that were kept."""

    changes: dict[str, object]
    conflicts: list[Conflict]
    theirs: list[str]


def three_way_merge(*, mine: dict[str, object], stored: dict[str, object], base: dict[str, str]) -> Merge:
    """Merge an edit (``mine``) into the ``stored`` values, knowing each field's ``base`` digest (``value_digest``).

    A field missing from ``base`` counts as changed by both when its values differ (it cannot be merged
    blindly). Equal values (by ``value_key``) are never a conflict.
    """
    changes: dict[str, object] = {}
    conflicts: list[Conflict] = []
    theirs: list[str] = []
    for name, value in mine.items():
        current = stored[name]
        if value_key(value) == value_key(current):
            continue
        was = base.get(name)
        i_changed = was is None or value_digest(value) != was
        they_changed = was is None or value_digest(current) != was
        if not i_changed:
            theirs.append(name)
        elif not they_changed:
            changes[name] = value
        else:
            conflicts.append(Conflict(name, value, current))
    return Merge(changes, conflicts, theirs)


def merge_edit(instance: "Versioned", changes: dict[str, object], based_on: BasedOn | None) -> dict[str, object]:
    """The changes to write to ``instance`` (read under a row lock) for an edit ``based_on`` a version.

    No ``based_on``, or the version it names is the stored one: ``changes`` as
    given. A web edit (with digests) of an older version: merged with
    ``three_way_merge``, raising ``EditConflict`` when a field both changed. An
    API edit (version only) of an older version: ``StaleVersion``.
    """
    if based_on is None or based_on.version == instance.version:
        return changes
    if based_on.digests is None:
        raise StaleVersion(
            f"Changed since version {based_on.version}: it is now version {instance.version}. "
            "Read it again, apply your change, and send it with the new ETag.",
            current=instance.version,
        )
    merge = three_way_merge(mine=changes, stored={f: getattr(instance, f) for f in changes}, base=based_on.digests)
    if merge.conflicts:
        merged = {f: merge.changes.get(f, getattr(instance, f)) for f in changes}
        merged.update({c.field: c.mine for c in merge.conflicts})
        raise EditConflict(conflicts=merge.conflicts, merged=merged, version=instance.version)
    return merge.changes


class Versioned(models.Model):
    """A shared document with a ``version`` (see the module): every save of an existing row adds one.

    ``save(expect_version=N)`` writes only if the stored version is still N
    (else ``StaleVersion``, nothing written); a plain ``save()`` always counts
    one up. ``version_bump()`` counts one up for a change outside the row
    (its many-to-many relations).
    """

    # db_default: rows inserted by hand-written SQL (bench/, sredesk.sql) start at 1 too.
    version = models.PositiveIntegerField(
        default=1, db_default=1, editable=False, help_text="Goes up by one with every saved change (the API's ETag)."
    )

    class Meta:
        abstract = True

    def save(self, *args, expect_version: int | None = None, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
            new = _next_version(type(self), self.pk, expect_version, using)
            if new is not None:
                self.version = new
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)

    def version_bump(self) -> None:
        """Count one up for a change the row does not hold (e.g. its many-to-many relations)."""
        using = router.db_for_write(type(self), instance=self)
        new = _next_version(type(self), self.pk, None, using)
        if new is not None:
            self.version = new


def _next_version(model: type[models.Model], pk: object, expect: int | None, using: str) -> int | None:
    """One guarded ``UPDATE ... RETURNING``: the new version, None when the row does not exist (yet).

    Raises StaleVersion when ``expect`` is given and the stored version is another.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    table, pk_column = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"UPDATE {table} SET version = version + 1 WHERE {pk_column} = %s"  # noqa: S608 (quoted model names)
    params: list[object] = [pk]
    if expect is not None:
        sql += " AND version = %s"
        params.append(expect)
    with connection.cursor() as cursor:
        cursor.execute(sql + " RETURNING version", params)
        row = cursor.fetchone()
        if row is not None:
            return row[0]
        if expect is None:
            return None
        cursor.execute(f"SELECT version FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        stored = cursor.fetchone()
    if stored is None:
        return None
    raise StaleVersion(f"Changed by someone else meanwhile: version {stored[0]}, not {expect}.", current=stored[0])


def etag(version: int) -> str:
    """The strong entity tag of a version, e.g. ``"7"``."""
    return f'"{version}"'


def if_match_versions(header: str | None) -> set[int] | None:
    """The versions an ``If-Match`` header accepts: None when absent or ``*`` (any), else a set (empty when no
    tag in it is one of ours: a weak tag, ``W/"7"``, never matches, RFC 9110 section 13.1.1)."""
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        tag = tag.strip()
        if len(tag) >= 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isascii() and tag[1:-1].isdigit():
            versions.add(int(tag[1:-1]))
    return versions

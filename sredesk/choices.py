"""Say what the valid choices are when a name given from outside matches nothing.

Every "no such X" answer (a management command's error, a form's or the API's
field error) lists the names that would have worked, closest first, so a
person who typed ``payments`` learns that the slug is ``payments-api``
without opening the admin.
"""

import difflib
from collections.abc import Iterable

SHOWN = 30  # more than that is a list to look up elsewhere, not to read in one error line


def unknown_choice(what: str, given: str, choices: Iterable[str], *, hint: str = "") -> str:
    """``No service with slug 'payments'. Did you mean 'payments-api'? Valid: auth, billing-jobs, ...``

    ``what`` names the kind and key (``"service with slug"``), ``given`` is
    what was asked for, ``choices`` the valid names (any order; sorted here).
    At most ``SHOWN`` are listed, then how many more there are; with none, the
    sentence says there are none yet. ``hint`` is added at the end (how to
    create one, say).
    """
    names = sorted(set(choices))
    close = difflib.get_close_matches(given, names, n=3, cutoff=0.6)
    close += [n for n in names if given and given.lower() in n.lower() and n not in close][: 3 - len(close)]
    parts = [f"No {what} {given!r}."]
    if close:
        parts.append("Did you mean " + " or ".join(repr(n) for n in close) + "?")
    if not names:
        parts.append("There are none yet.")
    else:
        listed = ", ".join(names[:SHOWN])
        more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        parts.append(f"Valid: {listed}{more}.")
    if hint:
        parts.append(hint)
    return " ".join(parts)

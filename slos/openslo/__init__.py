"""OpenSLO v1 ``SLO`` documents to and from sredesk SLOs (https://github.com/OpenSLO/OpenSLO, README spec).

So a team keeps its SLOs in git next to the code. The mapping:

=======================================  ===============================================================
OpenSLO                                  sredesk
=======================================  ===============================================================
``metadata.name`` (RFC 1123 label)       ``slug`` (unique within the service: an import is idempotent
                                         by service + name, it creates or updates)
``metadata.displayName``                 ``name`` (default: metadata.name)
``spec.description`` (≤ 1050 chars)      ``description``
``spec.service``                         the catalog service with that slug (it must exist)
``timeWindow: [{duration: 28d,           rolling ``window_days`` (``Nd``, ``Nw`` or whole days of
isRolling: true}]``                      ``Nh``; 1 to 90 days). Omitted: rolling 30 days
``timeWindow: [{duration: 1M, calendar:  calendar month in ``timeZone`` (``startTime``, if given, must
{timeZone: …}}]``                        be a 1st of a month at midnight)
``budgetingMethod: Occurrences`` with    Prometheus SLI (``type: Prometheus``, ``spec.query``): a query
``ratioMetric`` good/total               with ``$window`` as is; a plain counter selector with
                                         ``counter: true`` becomes ``sum(increase(sel[$window]))``.
                                         ``type: sredesk`` (``spec.pushed: good|total``): pushed events
``budgetingMethod: Timeslices`` with     the time SLI from incidents (``spec.incidentImpact.minSeverity``)
``thresholdMetric`` of ``type: sredesk``
``objectives: [{target | targetPercent}]``  ``target`` (exactly one objective)
``indicatorRef``                         an ``SLI`` document of the same import
``metricSourceRef``                      a ``DataSource`` document of the same import gives the type
annotations ``sredesk/<field>``          bucket-seconds, min-coverage, alert-min-bad-events,
                                         absent-after-seconds, measured-since, paused
=======================================  ===============================================================

Refused, each with a sentence: other apiVersions and kinds (``AlertPolicy``,
``AlertCondition``, …: sredesk derives burn alerts from the SLO's window),
``alertPolicies``, ``ratioMetric.bad`` and ``raw``, a ``thresholdMetric`` over a
metric, Timeslices over a metric, several objectives, ``op``/``value``/
``timeSlice*`` on an events objective, windows that are not whole days or
calendar months. ``Service`` documents are accepted and change nothing (the
catalog owns services).

``reading`` maps documents to SLO fields (``fields_of``, ``side_documents``,
``Refused``), ``writing`` an SLO to its document (``document_of``), and
``vocabulary`` holds the names both share.
"""

from .reading import Refused, fields_of, side_documents
from .writing import document_of

__all__ = ["Refused", "document_of", "fields_of", "side_documents"]

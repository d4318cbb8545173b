"""The OpenSLO names both directions share (``reading`` and ``writing``)."""

API_VERSION = "openslo/v1"
SREDESK_SOURCE = "sredesk"  # metricSource type of sredesk's own SLIs (pushed events, incident impact)
ANNOTATION = "sredesk/"  # prefix of the annotations that carry sredesk's own settings
ANNOTATED = {  # annotation (after "sredesk/") -> field
    "bucket-seconds": "bucket_seconds",
    "min-coverage": "min_coverage",
    "alert-min-bad-events": "alert_min_bad_events",
    "absent-after-seconds": "absent_after_seconds",
    "measured-since": "measured_since",
    "paused": "paused",
}

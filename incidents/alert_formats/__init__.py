"""Inbound alert payloads, one parser module per sender.

``common`` (the parsed shapes, errors, times, label sets), ``alertmanager``,
``grafana``, ``generic``, ``pagerduty``, and ``signatures`` (HMAC checks and
the webhook's authentication policy).
"""

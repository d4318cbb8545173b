"""Alert ingestion: parsed webhook deliveries applied to alerts and incidents, with their receipts.

``alerts`` (Alertmanager, Grafana, generic), ``pagerduty``, and what they
share: ``matching``, ``grouping``, ``receipts``.
"""

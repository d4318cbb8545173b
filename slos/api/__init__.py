"""The REST API of SLOs: /api/v1/slos/ with their state, pushed samples, OpenSLO import and export."""

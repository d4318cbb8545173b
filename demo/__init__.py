"""The demo company sredesk loads on ``make run``: its data (``demo.data``) and its loader (``demo.loader``)."""

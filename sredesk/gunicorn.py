"""gunicorn's settings for the web process (``Procfile``: ``gunicorn sredesk.wsgi --config python:sredesk.gunicorn``).

gthread workers: each worker process serves ``SREDESK_WEB_THREADS`` requests at
once, so while some threads wait on the database (at most
``SREDESK_DB_LOCK_TIMEOUT_SECONDS`` / ``SREDESK_DB_STATEMENT_TIMEOUT_SECONDS``,
then they answer 503) the others still answer, ``/healthz`` included. With the
sync workers used before, two requests blocked on one locked table held both
workers and ``/healthz`` queued behind them (issue 12 item 8).
https://docs.gunicorn.org/en/stable/settings.html
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))  # processes; gunicorn's own variable name
worker_class = "gthread"
threads = int(os.environ.get("SREDESK_WEB_THREADS", "8"))  # requests in flight per process
# gthread's timeout watches the worker's main loop, not one request: a long upload does not get its worker killed.
timeout = 30
graceful_timeout = 30  # sredesk.procfile.SHUTDOWN_WAIT
keepalive = 5
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), shared by every gunicorn
# that user runs on the host (tests and benchmarks start several); sredesk uses no control commands.
control_socket_disable = True

"""gunicorn settings for the agenda (used by the Dockerfile; override with GUNICORN_CMD_ARGS)."""

import os

bind = os.environ.get("AGENDA_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("AGENDA_WEB_WORKERS", "2"))
threads = int(os.environ.get("AGENDA_WEB_THREADS", "4"))
timeout = 120  # a cold build of the merged feed takes tens of seconds at 50k events
graceful_timeout = 30
accesslog = "-"
# One line per request, key=value, like the refresh logs.
access_log_format = 'request method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s ms=%(M)s'
errorlog = "-"
forwarded_allow_ips = os.environ.get("AGENDA_FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "webapp:create_app()"

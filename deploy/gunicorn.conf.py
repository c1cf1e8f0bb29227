"""gunicorn settings for the agenda (used by the Dockerfile; override with GUNICORN_CMD_ARGS).

The values live in webapp.serving, shared with `aggregator serve`."""

from webapp.serving import options

globals().update(options())
wsgi_app = "webapp:create_app()"

"""The production server for the website: gunicorn, with the settings the container uses.

`aggregator serve` (and so `make run`) and the container's gunicorn read the same options
(deploy/gunicorn.conf.py imports `options`), so what a newcomer runs is what is deployed:
no development server, one Date header, several worker processes.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

# One line per request, key=value, like the refresh logs.
ACCESS_LOG_FORMAT = 'request method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s ms=%(M)s'


def options(bind: str | None = None) -> dict[str, Any]:
    return {
        "bind": bind or os.environ.get("AGENDA_BIND", "0.0.0.0:8000"),
        "workers": int(os.environ.get("AGENDA_WEB_WORKERS", "2")),
        "threads": int(os.environ.get("AGENDA_WEB_THREADS", "4")),
        "timeout": 120,  # a cold build of the merged feed takes tens of seconds at 50k events
        "graceful_timeout": 30,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "forwarded_allow_ips": os.environ.get("AGENDA_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }


class Server(BaseApplication):
    """gunicorn run from Python: each worker builds its own app (create_app)."""

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from webapp import create_app

        return create_app()

"""/healthz: is the database reachable, when was the last refresh, how many sources fail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from aggregator.store.read import last_refresh, ping, source_health
from webapp import get_engine

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    engine = get_engine()
    if not ping(engine):
        return jsonify({"database": False}), 503
    sources = [s for s in source_health(engine) if s.enabled]
    last = last_refresh(engine)
    return jsonify(
        {
            "database": True,
            "last_refresh": last.isoformat() if last else None,
            "sources": len(sources),
            "failing_sources": sum(1 for s in sources if s.last_outcome == "failed"),
        }
    )

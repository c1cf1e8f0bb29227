"""Admin pages of deduplication: the doubtful pairs to decide ("Doublons possibles") and,
for a merged event, why its records were merged."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from aggregator.store import pairs
from aggregator.store.read import event_records
from webapp import get_engine
from webapp.admin import login_required

bp = Blueprint("dedup", __name__, url_prefix="/admin")
SHOWN = 100  # pairs on the page, likeliest first: each decision makes room for the next


@bp.get("/doublons")
@login_required
def doubtful() -> Any:
    found, total = pairs.doubtful_pairs(get_engine(), limit=SHOWN)
    return render_template("admin/doubtful.html", pairs=found, total=total)


@bp.get("/evenement/<event_id>")
@login_required
def why(event_id: str) -> Any:
    """One event, its records, the evidence that joined them and admins' decisions."""
    engine = get_engine()
    found = event_records(engine, event_id)
    if found is None:
        abort(404)
    event, members = found
    return render_template(
        "admin/merged.html",
        event=event,
        members=sorted(members, key=lambda m: m.id),
        reasons=pairs.merge_reasons(engine, event.members),
        decisions=pairs.decisions(engine, event.members),
    )

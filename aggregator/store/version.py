"""The data version: readers cache what they build from the store (the merged ICS feed of
50k occurrences) and rebuild only when this changes."""

from __future__ import annotations

import sqlalchemy as sa

from aggregator.store.schema import meta

KEY = "data_version"


def bump(conn: sa.Connection) -> None:
    """Inside the writing transaction, so readers never see new data with an old version."""
    conn.execute(
        meta.update()
        .where(meta.c.key == KEY)
        .values(value=sa.cast(sa.cast(meta.c.value, sa.Integer) + 1, sa.Text))
    )


def current(engine: sa.Engine) -> str:
    """'<database instance>-<counter>': unique across databases sharing a cache folder."""
    with engine.connect() as conn:
        values = dict(conn.execute(sa.select(meta.c.key, meta.c.value)).all())
    return f"{values.get('instance', 'db')}-{values.get(KEY, '0')}"

"""Column types: UTC timestamps and JSON documents behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlmodel
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import StatementError
from sqlmodel import Session

from nautilus_core.db import AuditLog, Cluster, session_scope

PARIS_SUMMER = timezone(timedelta(hours=2))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def test_aware_datetimes_round_trip_as_utc(engine: Engine, session: Session) -> None:
    written = datetime(2024, 7, 1, 14, 30, 15, 123456, tzinfo=PARIS_SUMMER)
    with session_scope(engine) as writer:
        writer.add(AuditLog(actor="t", action="a", at=written))

    read = session.exec(sqlmodel.select(AuditLog)).one().at

    assert read == written  # the same instant
    assert read.tzinfo == UTC
    assert (read.hour, read.microsecond) == (12, 123456)


def test_comparisons_use_the_instant_not_the_wall_clock(engine: Engine) -> None:
    # 12:00 UTC and 08:00 UTC written with different offsets; SQLite stores text, so this only
    # works because every value is normalized to UTC before it is stored or compared.
    noon_utc = datetime(2024, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    eight_utc = datetime(2024, 1, 1, 3, 0, tzinfo=NEW_YORK_WINTER)
    with session_scope(engine) as session:
        session.add(AuditLog(actor="t", action="noon", at=noon_utc))
        session.add(AuditLog(actor="t", action="eight", at=eight_utc))

    cutoff = datetime(2024, 1, 1, 11, 0, tzinfo=PARIS_SUMMER)  # 09:00 UTC
    with engine.connect() as conn:
        later = conn.execute(select(AuditLog.action).where(AuditLog.at > cutoff)).scalars().all()
        ordered = conn.execute(select(AuditLog.action).order_by(AuditLog.at)).scalars().all()
    assert later == ["noon"]
    assert ordered == ["eight", "noon"]


def test_naive_datetimes_are_rejected(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime") as info, session_scope(engine) as session:
        session.add(AuditLog(actor="t", action="a", at=datetime(2024, 1, 1, 12, 0)))
    assert isinstance(info.value.orig, ValueError)


def test_json_documents_round_trip_and_none_is_sql_null(engine: Engine) -> None:
    labels = {"app": "web", "tier": "front"}
    problems = [{"enricher": "nodes", "message": "2 nodes NotReady"}]
    with session_scope(engine) as session:
        session.add(Cluster(key="a", provider="p", name="a", labels=labels, problems=problems, tags=None))

    with engine.connect() as conn:
        row = conn.execute(select(Cluster.labels, Cluster.problems, Cluster.tags)).one()
        tags_is_null = conn.execute(text("SELECT tags IS NULL FROM cluster")).scalar()
        if engine.dialect.name == "postgresql":
            labels_type = conn.execute(text("SELECT pg_typeof(labels)::text FROM cluster")).scalar()
            assert labels_type == "jsonb"
    assert (row.labels, row.problems, row.tags) == (labels, problems, None)
    assert tags_is_null in (True, 1)


@pytest.mark.parametrize("written", ["2026-12-01 18:48:53", "2026-12-01 18:48:53.000", "2026-12-01T18:48:53Z"])
def test_instant_equality_holds_for_every_text_form_users_write(engine: Engine, written: str) -> None:
    from sqlalchemy import literal

    from nautilus_core.db import UTCDateTime, instant

    with engine.begin() as conn:  # a timestamp typed in plain SQL, not bound by SQLAlchemy
        conn.execute(text("INSERT INTO audit_log (at, actor, resource_kind, action, result) "
                          f"VALUES ('{written}', 't', 'k', 'a', 'succeeded')"))
    with engine.connect() as conn:
        read = conn.execute(select(AuditLog.at)).scalar_one()
        same = conn.execute(select(AuditLog.action).where(
            instant(AuditLog.at) == instant(literal(read, UTCDateTime())))).scalars().all()
        later = conn.execute(select(AuditLog.action).where(
            instant(AuditLog.at) == instant(literal(read + timedelta(milliseconds=5), UTCDateTime())))).all()
    assert read == datetime(2026, 12, 1, 18, 48, 53, tzinfo=UTC)
    assert same == ["a"] and later == []

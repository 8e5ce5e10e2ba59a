"""Review decisions in a SQL database (SQLite ``results.db`` in the results folder by default).

Concurrency model: the table is an append-only log. Every decision is a new row and nothing is
ever updated or deleted, so two reviewers can never lose each other's work; per digit the latest
row (highest id) wins for the queue and for export. A client sends the id of the decision it had
seen; when a newer one exists the answer names it (``superseded``) so the UI can tell the reviewer.

Identity: the key (file, page, string_id, index) is only a position in one run's output, so each
row also records the digit's box (x, y, w, h) and the model's reading; review.identity matches
rows to the current digits by box. Those columns were added later: they are nullable, and
:func:`migrate` adds them to an older database (create_all never alters an existing table).
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (DateTime, Index, Integer, String, create_engine, event, func, inspect,
                        select, text)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from review.data import DigitKey

DB_NAME = "results.db"
ID_FILE = ".review-id"
MAX_FILE_LEN = 512
MAX_REVIEWER_LEN = 64
DECISIONS = tuple("0123456789") + ("?",)  # '?' = not a digit
BOX_COLUMNS = ("x", "y", "w", "h")

Box = tuple[int, int, int, int]  # x, y, w, h in page pixels


class Base(DeclarativeBase):
    pass


class Decision(Base):
    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(64))  # the results folder's id (.review-id)
    file: Mapped[str] = mapped_column(String(MAX_FILE_LEN))
    page: Mapped[int] = mapped_column(Integer)
    string_id: Mapped[int] = mapped_column(Integer)
    glyph_index: Mapped[int] = mapped_column(Integer)  # digits.csv `index`
    decision: Mapped[str] = mapped_column(String(1))
    model_digit: Mapped[str] = mapped_column(String(1), default="")
    reviewer: Mapped[str] = mapped_column(String(MAX_REVIEWER_LEN))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    crop: Mapped[str] = mapped_column(String(1024), default="")  # under flagged/
    source: Mapped[str] = mapped_column(String(4096), default="")  # results folder at the time
    # The digit's box when decided (added later: NULL in rows of older databases).
    x: Mapped[int | None] = mapped_column(Integer, nullable=True)
    y: Mapped[int | None] = mapped_column(Integer, nullable=True)
    w: Mapped[int | None] = mapped_column(Integer, nullable=True)
    h: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (Index("ix_review_key", "dataset", "file", "page", "string_id", "glyph_index"),)

    @property
    def key(self) -> DigitKey:
        return (self.file, self.page, self.string_id, self.glyph_index)

    @property
    def box(self) -> Box | None:
        values = (self.x, self.y, self.w, self.h)
        return None if any(v is None for v in values) else values  # type: ignore[return-value]


@dataclass(frozen=True)
class Latest:
    """The decision currently in force for one digit."""

    id: int
    decision: str
    reviewer: str
    time: str  # ISO 8601, UTC
    crop: str = ""
    source: str = ""
    key: DigitKey | None = None  # as recorded: may name another digit after a re-run
    box: Box | None = None  # None: recorded by an older version
    model_digit: str = ""  # the model's reading when decided ('' if unknown)

    def as_json(self) -> dict:
        return {"id": self.id, "decision": self.decision, "reviewer": self.reviewer, "time": self.time}

    def stale_json(self) -> dict:
        """For the export summary: what was decided about which digit."""
        file, page, string_id, index = self.key or ("", 0, 0, 0)
        return {**self.as_json(), "file": file, "page": page, "string_id": string_id, "index": index,
                "box": list(self.box) if self.box else None, "model_digit": self.model_digit}


def default_db_url(results_dir: Path) -> str:
    return f"sqlite:///{(results_dir / DB_NAME).resolve()}"


def dataset_id(results_dir: Path) -> str:
    """A stable id for a results folder, kept in ``.review-id`` so it survives moving the folder
    and keeps folders apart when they share a server database."""
    path = results_dir / ID_FILE
    try:
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value[:64]
    except OSError:
        pass
    value = uuid.uuid4().hex
    try:
        with open(path, "x", encoding="ascii") as handle:  # first writer wins
            handle.write(value + "\n")
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()[:64]
    except OSError:  # read-only folder: an id from its location instead
        return "path-" + hashlib.sha256(str(results_dir.resolve()).encode()).hexdigest()[:32]
    return value


def make_engine(db_url: str) -> Engine:
    if db_url.startswith("sqlite"):
        engine = create_engine(db_url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # concurrent readers while one writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(db_url, pool_pre_ping=True)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite gives naive datetimes back
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat(timespec="seconds")


def _latest(row: Decision) -> Latest:
    return Latest(row.id, row.decision, row.reviewer, _iso(row.created_at), row.crop, row.source,
                  row.key, row.box, row.model_digit or "")


def migrate(engine: Engine) -> list[str]:
    """Add the columns newer versions need to an existing ``review_decisions`` table; returns
    those added. Idempotent, and safe when two processes open the same old database at once."""
    added = []
    for name in BOX_COLUMNS:
        if name in {c["name"] for c in inspect(engine).get_columns(Decision.__tablename__)}:
            continue
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {Decision.__tablename__} ADD COLUMN {name} INTEGER"))
            added.append(name)
        except DBAPIError:  # another process added it meanwhile: fine if it is there now
            if name not in {c["name"] for c in inspect(engine).get_columns(Decision.__tablename__)}:
                raise
    return added


class DecisionStore:
    def __init__(self, db_url: str):
        self.engine = make_engine(db_url)
        Base.metadata.create_all(self.engine)
        migrate(self.engine)

    def add(self, dataset: str, key: DigitKey, decision: str, reviewer: str, *,
            model_digit: str = "", crop: str = "", source: str = "", box: Box | None = None,
            seen: int | None = None) -> tuple[Latest, Latest | None]:
        """Append a decision about the digit at ``key`` whose box is ``box`` (record it: it is
        what identifies the digit after a re-run). Returns it and, if the key had a newer decision
        than ``seen`` (made by someone else meanwhile), that superseded one."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {''.join(DECISIONS)}")
        x, y, w, h = box if box is not None else (None, None, None, None)
        with Session(self.engine) as session, session.begin():
            previous = session.scalars(
                self._key_query(dataset, key).order_by(Decision.id.desc()).limit(1)).first()
            superseded = _latest(previous) if previous and previous.id != seen else None
            row = Decision(dataset=dataset, file=key[0], page=key[1], string_id=key[2],
                           glyph_index=key[3], decision=decision, model_digit=model_digit,
                           reviewer=reviewer, created_at=datetime.now(timezone.utc),
                           crop=crop, source=source, x=x, y=y, w=w, h=h)
            session.add(row)
            session.flush()
            return _latest(row), superseded

    @staticmethod
    def _key_query(dataset: str, key: DigitKey):
        return select(Decision).where(
            Decision.dataset == dataset, Decision.file == key[0], Decision.page == key[1],
            Decision.string_id == key[2], Decision.glyph_index == key[3])

    def history(self, dataset: str, key: DigitKey) -> list[Latest]:
        with Session(self.engine) as session:
            rows = session.scalars(self._key_query(dataset, key).order_by(Decision.id))
            return [_latest(r) for r in rows]

    def latest(self, dataset: str | None) -> dict[tuple[str, DigitKey], Latest]:
        """Latest decision per (dataset, digit); all datasets when ``dataset`` is None."""
        query = select(Decision).order_by(Decision.id)
        if dataset is not None:
            query = query.where(Decision.dataset == dataset)
        out: dict[tuple[str, DigitKey], Latest] = {}
        with Session(self.engine) as session:
            for row in session.scalars(query).yield_per(2000):
                out[(row.dataset, row.key)] = _latest(row)
        return out

    def latest_for(self, dataset: str) -> dict[DigitKey, Latest]:
        """Latest decision per *recorded* key. After a re-run a key may name another digit: to
        apply decisions, resolve :meth:`all_for` with review.identity instead."""
        return {key: value for (_, key), value in self.latest(dataset).items()}

    def all_for(self, dataset: str) -> list[Latest]:
        """Every decision of a results folder, oldest first (the log review.identity resolves)."""
        query = select(Decision).where(Decision.dataset == dataset).order_by(Decision.id)
        with Session(self.engine) as session:
            return [_latest(row) for row in session.scalars(query).yield_per(2000)]

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count(Decision.id))) or 0)

    def close(self) -> None:
        self.engine.dispose()

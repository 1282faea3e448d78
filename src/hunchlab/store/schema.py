"""The store's tables (SQLAlchemy Core), the only place the schema is spelled out.

JSON-shaped fields (params, summary, the run's meta) are TEXT holding JSON so the
same schema works on SQLite and PostgreSQL. Metric points and example records get
tables of their own because they are what gets large.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

migrations = Table(
    "hunch_migrations",
    metadata,
    Column("name", String, primary_key=True),
    Column("applied_at", Float, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String, primary_key=True),
    Column("seq", Integer, nullable=False, index=True),  # creation order, from the id
    Column("name", String),
    Column("status", String, nullable=False, index=True),  # running|finished|failed|interrupted|crashed
    Column("spec_name", String, index=True),
    Column("question", String, index=True),
    Column("group_key", String, index=True),  # hash of the config minus the seed: seed groups
    Column("seed", Integer),
    Column("params", Text, nullable=False),  # JSON
    Column("summary", Text, nullable=False),  # JSON: summary metrics
    Column("meta", Text, nullable=False),  # JSON: spec, code, env, argv, rerun_of
    Column("host", String),
    Column("pid", Integer),
    Column("pid_start", String),
    Column("created_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("exit_code", Integer),
    Column("error", Text),
    Column("folded_bytes", Integer, nullable=False, default=0),  # how far events.jsonl is folded in
    Column("last_event_at", Float),
)

metrics = Table(
    "metrics",
    metadata,
    Column("run_id", String, nullable=False),
    Column("key", String, nullable=False),
    Column("step", Integer, nullable=False),
    Column("value", Float),
    Column("time", Float),
    Index("ix_metrics_run_key_step", "run_id", "key", "step"),
)

examples = Table(
    "examples",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("example_id", String, primary_key=True),
    Column("input", Text),  # JSON
    Column("output", Text),  # JSON
    Column("target", Text),  # JSON
    Column("correct", Boolean),
    Column("score", Float),
    Column("fields", Text),  # JSON
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("sha256", String, nullable=False),
    Column("size", Integer, nullable=False),
)

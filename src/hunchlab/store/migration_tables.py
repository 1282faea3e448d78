"""The tables each shipped migration created, frozen as they were when it shipped.

``schema.py`` says what the store looks like now; a migration must keep doing what it did when
it shipped, or a store it built then and one it builds today differ. So each migration that
creates tables creates them from here, never from ``schema.py``: 0001 makes the four tables of
the first release (no ``metric_stats``, ``quarantine`` or ``agent`` column on ``runs``: 0005,
0006 and 0008 add those), and a later migration adds its columns without asking whether they
exist. Nothing here is ever edited (tests/unit/store/test_migrations.py pins every migration's
result); a change to the schema is a new migration with its own DDL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, LargeBinary, MetaData, String, Table, Text

# What migrate() keeps: the names of the migrations a store has had (made before any of them).
BOOKKEEPING = Table(
    "hunch_migrations",
    MetaData(),
    Column("name", String, primary_key=True),
    Column("applied_at", Float, nullable=False),
)

INITIAL = MetaData()  # 0001_initial
Table(
    "runs", INITIAL,
    Column("id", String, primary_key=True),
    Column("seq", Integer, nullable=False, index=True),
    Column("name", String),
    Column("status", String, nullable=False, index=True),
    Column("spec_name", String, index=True),
    Column("question", String, index=True),
    Column("group_key", String, index=True),
    Column("seed", Integer),
    Column("params", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("meta", Text, nullable=False),
    Column("host", String),
    Column("pid", Integer),
    Column("pid_start", String),
    Column("created_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("exit_code", Integer),
    Column("error", Text),
    Column("folded_bytes", Integer, nullable=False),
    Column("last_event_at", Float),
)
Table(
    "metrics", INITIAL,
    Column("run_id", String, nullable=False),
    Column("key", String, nullable=False),
    Column("step", Integer, nullable=False),
    Column("value", Float),
    Column("time", Float),
    Index("ix_metrics_run_key_step", "run_id", "key", "step"),
)
Table(
    "examples", INITIAL,
    Column("run_id", String, primary_key=True),
    Column("example_id", String, primary_key=True),
    Column("input", Text),
    Column("output", Text),
    Column("target", Text),
    Column("correct", Boolean),
    Column("score", Float),
    Column("fields", Text),
)
Table(
    "artifacts", INITIAL,
    Column("run_id", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("sha256", String, nullable=False),
    Column("size", Integer, nullable=False),
)

PREDICTIONS_JOURNAL = MetaData()  # 0002_predictions_journal
Table(
    "predictions", PREDICTIONS_JOURNAL,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False, index=True),
    Column("run_id", String, index=True),
    Column("group_size", Integer),
    Column("reading_id", Integer, index=True),
    Column("claim", Text),
    Column("text", Text, nullable=False),
    Column("probability", Float, nullable=False),
    Column("tags", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("resolve_by", String),
    Column("status", String, nullable=False, index=True),
    Column("outcome", Boolean),
    Column("actual", Float),
    Column("ref_value", Float),
    Column("resolved_at", Float),
    Column("note", Text),
)
Table(
    "readings", PREDICTIONS_JOURNAL,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("url", Text),
    Column("area", String),
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float),
)
Table(
    "nodes", PREDICTIONS_JOURNAL,
    Column("id", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("why", Text),
    Column("parent_id", String, index=True),
    Column("status", String, nullable=False),
    Column("answer", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Table(
    "journal", PREDICTIONS_JOURNAL,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("run_id", String, index=True),
    Column("question_id", String, index=True),
    Column("prediction_id", Integer),
    Column("written_up", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

SWEEPS = MetaData()  # 0003_sweeps
Table(
    "sweeps", SWEEPS,
    Column("id", String, primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("kind", String, nullable=False),
    Column("name", String),
    Column("status", String, nullable=False, index=True),
    Column("spec", Text, nullable=False),
    Column("space", Text, nullable=False),
    Column("metric", String),
    Column("goal", String),
    Column("seeds", Integer, nullable=False),
    Column("budget", Integer, nullable=False),
    Column("role", String),
    Column("pair_id", String),
    Column("prune", Text),
    Column("executor", String, nullable=False),
    Column("code", Text, nullable=False),
    Column("host", String),
    Column("pid", Integer),
    Column("pid_start", String),
    Column("created_at", Float, nullable=False),
    Column("ended_at", Float),
)
Table(
    "sweep_trials", SWEEPS,
    Column("sweep_id", String, primary_key=True),
    Column("trial", Integer, primary_key=True),
    Column("config", Integer, nullable=False),
    Column("label", String, nullable=False),
    Column("overrides", Text, nullable=False),
    Column("seed", Integer, nullable=False),
)
Table(
    "sweep_runs", SWEEPS,
    Column("run_id", String, primary_key=True),
    Column("sweep_id", String, nullable=False),
    Column("trial", Integer, nullable=False),
    Index("ix_sweep_runs_sweep_trial", "sweep_id", "trial"),
)

TRIAGE = MetaData()  # 0004_triage (and the sampling index on examples, TRIAGE_INDEX)
Table(
    "tags", TRIAGE,
    Column("run_id", String, primary_key=True),
    Column("example_id", String, primary_key=True),
    Column("category", String, index=True),
    Column("note", Text),
    Column("tagged_at", Float, nullable=False),
    Index("ix_tags_example", "example_id"),
)
Table(
    "triage_samples", TRIAGE,
    Column("run_id", String, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("by_field", String),
    Column("filters", Text, nullable=False),
    Column("population", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)
Table(
    "triage_items", TRIAGE,
    Column("run_id", String, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("example_id", String, nullable=False),
    Column("stratum", String),
    Column("seen", Boolean, nullable=False),
)
# By dialect (why each holds what it holds: schema.py, above examples_failures_sqlite).
TRIAGE_INDEX = {
    "sqlite": "CREATE INDEX ix_examples_triage ON examples (run_id, correct, example_id, score, fields)",
    "postgresql": "CREATE INDEX ix_examples_run_correct ON examples (run_id, correct, example_id)",
}

METRIC_LOD = MetaData()  # 0007_metric_lod
Table(
    "metric_lod", METRIC_LOD,
    Column("run_id", String, primary_key=True),
    Column("key", String, primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("first_step", Integer, nullable=False),
    Column("first_value", Float),
    Column("last_step", Integer, nullable=False),
    Column("last_value", Float),
    Column("min_step", Integer),
    Column("min_value", Float),
    Column("max_step", Integer),
    Column("max_value", Float),
    sqlite_with_rowid=False,
)

SHARED_STORE = MetaData()  # 0009_shared_store
Table(
    "code_files", SHARED_STORE,
    Column("sha256", String, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

METRIC_BLOCKS = MetaData()  # 0011_metric_blocks (it also drops 0001's metrics table)
Table(
    "metric_blocks", METRIC_BLOCKS,
    Column("run_id", String, primary_key=True),
    Column("key", String, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("n", Integer, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("vals", LargeBinary, nullable=False),
    Column("times", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

# 0012_metric_blocks_rowid: 0011's table as a rowid table on SQLite, built under this name and renamed.
METRIC_BLOCKS_ROWID = MetaData()
_ROWID_BLOCKS = METRIC_BLOCKS.tables["metric_blocks"].to_metadata(METRIC_BLOCKS_ROWID, name="metric_blocks_rowid")
_ROWID_BLOCKS.dialect_options["sqlite"]["with_rowid"] = True

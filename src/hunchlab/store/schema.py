"""The store's tables (SQLAlchemy Core), the only place the schema is spelled out.

JSON-shaped fields (params, summary, the run's meta) are TEXT holding JSON so the
same schema works on SQLite and PostgreSQL. Metric points and example records get
tables of their own because they are what gets large.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()
# PostgreSQL: the sequence every project folder sharing the store takes its run numbers from
# (store/numbering.py); a SQLite store belongs to one folder, which counts in .hunch/seq.
RUN_SEQUENCE = "hunch_run_seq"

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
    Column("metric_stats", Text),  # JSON {metric: {n, step, value}}: points and last value, kept by the fold
    Column("last_event_at", Float),
    # JSON {lines, bytes, byte, why}: event lines the fold could not read, kept in the run's
    # events.quarantined (bytes: that file's length at the last fold), and the first one's place and reason
    Column("quarantine", Text),
    Column("agent", String, index=True),  # the agent that started it (from run.json); NULL: the person
)

# Logged points, packed (hunchlab/packed.py): per run, metric and block of up to 4,096 points in the
# order logged, their steps (int64), values and times (doubles) as little-endian arrays, and the block's
# step range, so a range read opens only the blocks that overlap it. A rowid table on SQLite (0012): the
# rows are too large to be the key b-tree's cells.
metric_blocks = Table(
    "metric_blocks",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("key", String, primary_key=True),
    Column("seq", Integer, primary_key=True),  # 0, 1, ...: the order the blocks were logged in
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("n", Integer, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("vals", LargeBinary, nullable=False),
    Column("times", LargeBinary, nullable=False),
)

# The metric pyramid (store/lod.py): per long metric and level, per bucket of 32 * 8**level steps,
# the points it holds and the four M4 keeps (first, last, smallest, largest; min/max NULL when all NaN).
metric_lod = Table(
    "metric_lod",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("key", String, primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("bucket", Integer, primary_key=True),  # floor(step / width)
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

# -- predictions, forecasts, paper readings (issue: predict before every run) -------------
predictions = Table(
    "predictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False, index=True),  # run | forecast | read
    Column("run_id", String, index=True),  # kind=run: the run it is about (for a seed group: its first run)
    Column("group_size", Integer),  # kind=run over a seed group: resolve on the mean of this many runs
    Column("reading_id", Integer, index=True),  # kind=read: the paper reading it belongs to
    Column("claim", Text),  # JSON of claims.Claim (run and read guesses); NULL for yes/no forecasts
    Column("text", Text, nullable=False),  # the claim or statement as written
    Column("probability", Float, nullable=False),
    Column("tags", Text, nullable=False, default="[]"),  # JSON list
    Column("created_at", Float, nullable=False),  # locked: a prediction is never edited afterwards
    Column("resolve_by", String),  # ISO date, forecasts
    Column("status", String, nullable=False, index=True),  # open | resolved | void | unresolvable
    Column("outcome", Boolean),  # did the claim hold / did the forecast come true
    Column("actual", Float),
    Column("ref_value", Float),
    Column("resolved_at", Float),
    Column("note", Text),  # resolution note, or why it could not be resolved
    Column("agent", String),  # who predicted: an agent's name; NULL: the person
)

readings = Table(
    "readings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("url", Text),
    Column("area", String),
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float),
)

# -- the theory-of-change tree and the journal (issue: write everything down) ------------
nodes = Table(
    "nodes",
    metadata,
    Column("id", String, primary_key=True),  # short readable id, e.g. q3
    Column("kind", String, nullable=False),  # goal | project | question
    Column("title", Text, nullable=False),
    Column("why", Text),
    Column("parent_id", String, index=True),
    Column("status", String, nullable=False, default="open"),  # open | answered | dropped
    Column("answer", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("agent", String),  # who added it: an agent's name; NULL: the person
)

journal = Table(
    "journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False, index=True),  # note | plan | result | surprise | decision | hamming
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("run_id", String, index=True),
    Column("question_id", String, index=True),
    Column("prediction_id", Integer),
    Column("written_up", Boolean, nullable=False, default=True),  # False: a surprise waiting for "what I now believe"
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("agent", String),  # who wrote it: an agent's name; NULL: the person
)

# -- sweeps and ablations (issue 7): the plan is stored before any trial starts ----------
sweeps = Table(
    "sweeps",
    metadata,
    Column("id", String, primary_key=True),  # sweep-3, ablation-4: the kind and the project's sweep number
    Column("seq", Integer, nullable=False, unique=True),
    Column("kind", String, nullable=False),  # sweep | ablation
    Column("name", String),  # the spec's name
    Column("status", String, nullable=False, index=True),  # running | finished | interrupted | crashed
    Column("spec", Text, nullable=False),  # JSON: the resolved spec every trial starts from
    Column("space", Text, nullable=False),  # JSON: what was searched (method, axes, ablations)
    Column("metric", String),  # what the table ranks by; NULL: chosen when shown
    Column("goal", String),  # max | min
    Column("seeds", Integer, nullable=False),
    Column("budget", Integer, nullable=False),  # trials (runs) the sweep was given: what compare reports
    Column("role", String),  # method | baseline, for a pair tuned with the same --budget
    Column("pair_id", String),  # the other sweep of such a pair
    Column("prune", Text),  # JSON: the pruning rule, or NULL
    Column("executor", String, nullable=False),  # local | ray
    Column("code", Text, nullable=False),  # JSON: the code state captured at submission, run by every trial
    Column("host", String),  # the driver running it now, so a reader can tell a dead one
    Column("pid", Integer),
    Column("pid_start", String),
    Column("created_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("agent", String),  # who started it (its trials' runs carry the same); NULL: the person
    # The driver's lease (its clock, epoch seconds): renewed while it runs, so a clone on another
    # machine can tell a dead driver from a live one (store/sweeps.py). NULL: from before leases.
    Column("lease_until", Float),
    Column("address", String),  # the Ray cluster it ran on (resume joins it again); NULL: local, or a Ray of its own
)

sweep_trials = Table(
    "sweep_trials",
    metadata,
    Column("sweep_id", String, primary_key=True),
    Column("trial", Integer, primary_key=True),
    Column("config", Integer, nullable=False),  # trials of one config differ only in their seed
    Column("label", String, nullable=False),  # "lr=0.001 model.width=64", or the ablation variant
    Column("overrides", Text, nullable=False),  # JSON {dotted key: value} on top of the sweep's spec
    Column("seed", Integer, nullable=False),
)

# The files of a sweep's code state (the diff, the untracked files), by content, so that a clone on
# any machine can rebuild the code a sweep runs (execute/sweep_code.py). Not in the ledger: binary,
# and the sweep's folder in .hunch/sweeps/ keeps a copy.
code_files = Table(
    "code_files",
    metadata,
    Column("sha256", String, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

sweep_runs = Table(
    "sweep_runs",
    metadata,
    Column("run_id", String, primary_key=True),  # filled when the run is folded, from its run.json
    Column("sweep_id", String, nullable=False),
    Column("trial", Integer, nullable=False),
    Index("ix_sweep_runs_sweep_trial", "sweep_id", "trial"),
)

# -- failure triage (issue 6): samples of a run's failures, tags, categories -----------------
# Sampling reads only this index, never the examples' text: SQLite stores a row's columns in
# order, so reaching `correct` in the table walks past input/output/target (overflow pages
# for long transcripts). On PostgreSQL long text is stored apart (TOAST) and a B-tree entry
# is limited to ~2.7 kB, so there the index leaves out the free-form `fields`.
examples_failures_sqlite = Index(
    "ix_examples_triage", examples.c.run_id, examples.c.correct, examples.c.example_id, examples.c.score,
    examples.c.fields,
).ddl_if(dialect="sqlite")
examples_failures_postgresql = Index(
    "ix_examples_run_correct", examples.c.run_id, examples.c.correct, examples.c.example_id,
).ddl_if(dialect="postgresql")

tags = Table(
    "tags",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("example_id", String, primary_key=True),
    Column("category", String, index=True),  # NULL: a note without a category yet
    Column("note", Text),
    Column("tagged_at", Float, nullable=False),
    Column("agent", String),  # who tagged it: an agent's name; NULL: the person
    Index("ix_tags_example", "example_id"),  # how the same example was tagged in other runs
)

triage_samples = Table(
    "triage_samples",
    metadata,
    Column("run_id", String, primary_key=True),  # one sample per run; drawing another replaces it
    Column("size", Integer, nullable=False),  # as asked for (the sample may hold fewer)
    Column("seed", Integer, nullable=False),
    Column("by_field", String),  # stratified by this field, or NULL
    Column("filters", Text, nullable=False),  # JSON list of the --where texts
    Column("population", Text, nullable=False),  # JSON [[stratum, failures in it]] when drawn
    Column("created_at", Float, nullable=False),
)

triage_items = Table(
    "triage_items",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("position", Integer, primary_key=True),  # walking order, itself random
    Column("example_id", String, nullable=False),
    Column("stratum", String),  # the --by field's value (as text); NULL when not stratified
    Column("seen", Boolean, nullable=False),  # tagged or skipped: "37/100 read"
)

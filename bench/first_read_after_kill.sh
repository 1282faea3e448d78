#!/bin/bash
# The first read of a run that logged N points (10 metrics a step) and died without an end line, with
# no background folder having folded any of it: the reader folds everything (issue 23's worst case).
#   bench/first_read_after_kill.sh SRC_TREE N [parts]
# SRC_TREE: a hunchlab checkout (its src/ goes first on PYTHONPATH), so two trees can be timed
# side by side in the same minutes. Prints the load average, the first and second `hunch show`'s
# wall and CPU (user+sys) from /usr/bin/time, then the CPU of the first chart request of each metric
# (a reader's fold leaves the metric pyramid for it to build); with `parts`, the fold's CPU by part
# instead (bench/fold_parts.py). PY: the interpreter (default python3).
set -euo pipefail
SRC=$(cd "$1" && pwd); N=$2; MODE=${3:-}
PY=${PY:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
cd "$D"
export PYTHONPATH=$SRC/src
$PY -c "from hunchlab.cli import main; main()" init >/dev/null
RID=$($PY -c "
import os, sys, hunchlab, hunchlab.run, hunchlab.run_start
hunchlab.run.fold_soon = hunchlab.run_start.fold_soon = lambda d: None  # no folder: the reader folds all
n = int(sys.argv[1])
run = hunchlab.start(config={'kind': 'points', 'n': n})
for i in range(n // 10):
    run.log({f'm{k}': i * 1e-4 + k for k in range(10)}, step=i)
print(run.id, flush=True)
os._exit(0)  # as kill -9 after the last call returned
" "$N" | tail -1)
echo "N=$N tree=$SRC load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$MODE" = parts ]; then
  $PY "$HERE/fold_parts.py"
else
  /usr/bin/time -f "first read: wall %e s user %U s sys %S s maxrss %M KiB" $PY -c "from hunchlab.cli import main; main()" show "$RID" >/dev/null
  /usr/bin/time -f "second read: wall %e s user %U s sys %S s" $PY -c "from hunchlab.cli import main; main()" show "$RID" >/dev/null
  $PY -c "
import resource, sys, time
from hunchlab.metric_series import metric_series
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
for label in ('first', 'second'):
    c, w = cpu(), time.perf_counter()
    for k in range(10):
        metric_series(sys.argv[1], f'm{k}', buckets=1000)
    print(f'{label} chart of each of 10 metrics: wall {time.perf_counter() - w:.2f} s cpu {cpu() - c:.2f} s')
" "$RID"
fi

"""The files a run writes beside its events: run.json whole or not at all, artifacts stored once."""

from __future__ import annotations

import hashlib
import json

from hunchlab.run_files import sha256_of, store_file, write_json_atomic


def test_run_json_holds_what_orjson_cannot_write_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "run.json"
    write_json_atomic(path, {"seed": 2**70, "params": {"lr": 0.1}})  # orjson refuses integers over 64 bits
    assert json.loads(path.read_text()) == {"seed": 2**70, "params": {"lr": 0.1}}
    write_json_atomic(path, {"seed": 1})
    assert json.loads(path.read_text()) == {"seed": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_file_inside_the_run_folder_is_linked_and_one_outside_is_copied(tmp_path):
    run_dir, outside = tmp_path / "run", tmp_path / "elsewhere.bin"
    (run_dir / "artifacts").mkdir(parents=True)
    inside = run_dir / "model.pt"
    inside.write_bytes(b"w" * 100)
    outside.write_bytes(b"x" * 100)
    store_file(inside, run_dir / "artifacts" / "model.pt", inside=run_dir)
    store_file(outside, run_dir / "artifacts" / "elsewhere.bin", inside=run_dir)
    assert (run_dir / "artifacts" / "model.pt").stat().st_ino == inside.stat().st_ino
    assert (run_dir / "artifacts" / "elsewhere.bin").stat().st_ino != outside.stat().st_ino
    assert sha256_of(outside) == hashlib.sha256(b"x" * 100).hexdigest()

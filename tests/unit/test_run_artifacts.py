"""run.artifact: what is stored, and how often."""

from __future__ import annotations

import hunchlab


def test_an_artifact_already_in_the_run_folder_is_stored_once(project):
    with hunchlab.start() as run:
        checkpoint = run.dir / "model.pt"
        checkpoint.write_bytes(b"w" * 4096)
        stored = run.artifact(checkpoint)
        run.artifact(checkpoint)  # again: still one file on disk
    assert stored.stat().st_ino == checkpoint.stat().st_ino and stored.stat().st_nlink == 2
    assert [a["size"] for a in hunchlab.get_run(run.id)["artifacts"]] == [4096]

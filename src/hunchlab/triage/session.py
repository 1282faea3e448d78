"""An open failure sample being read: one example at a time, tagged, noted or skipped, saved at once.

``hunch failures`` on a terminal and the dashboard's triage page both walk a sample this way, so
the session is one object both drive: it holds the store open, keeps the keys of the categories
stable for the whole walk (earlier runs' categories by use, new ones appended, none moves), and
writes every tag the moment it is given, so a crash or Ctrl-C loses nothing and ``--resume``
starts at the first example neither tagged nor skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hunchlab.errors import NotFound
from hunchlab.triage.examples import open_run
from hunchlab.triage.samples import Sample, stored_or_drawn
from hunchlab.triage.tags import category_name

if TYPE_CHECKING:
    from hunchlab.project import Project
    from hunchlab.store import Store


def open_failures(ref: str, *, sample: int | None = None, seed: int | None = None, where: Sequence[str] = (),
                  by: str | None = None, resume: bool = False, project: Project | None = None) -> Triage:
    """A ``Triage`` session on the run's failure sample: what ``hunch failures`` walks on a terminal."""
    store, run_id = open_run(ref, project)
    try:
        with store.read() as conn:
            drawn = stored_or_drawn(conn, store, run_id, size=sample, seed=seed, where=where, by=by, resume=resume)
        return Triage(store, drawn)
    except BaseException:
        store.close()
        raise


class Triage:
    """An open failure sample: read an example, tag it, note it, skip it; every change is saved at once.

    Use as a context manager (it holds the store open). Positions are 0-based indexes
    into ``items``, the sample's walking order.
    """

    def __init__(self, store: Store, sample: Sample) -> None:
        from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

        self.store = store
        self.sample = sample
        self.run_id = sample.run_id
        self.items = [dict(i) for i in sample.items]
        with store.read() as conn:
            mine = [t["category"] for t in q.run_tags(conn, self.run_id) if t["category"]]
            earlier = q.earlier_tags(conn, self.run_id, [i["example_id"] for i in self.items])
        # Earlier runs' categories by use, ties in the order they were made (earlier_tags is newest first).
        # Keys stay put for the whole session: new categories are appended, none moves.
        earlier_by_use = Counter(t["category"] for t in reversed(earlier)).most_common()
        self.categories: list[str] = list(dict.fromkeys([*mine, *(c for c, _ in earlier_by_use)]))

    def __enter__(self) -> Triage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    def __len__(self) -> int:
        return len(self.items)

    def example(self, position: int) -> dict[str, Any]:
        """The whole record at ``position`` with its tag, note, stratum and earlier runs' tags."""
        from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

        item = self.items[position]
        with self.store.read() as conn:
            record = q.get_example(conn, self.run_id, item["example_id"])
            earlier = q.earlier_tags(conn, self.run_id, [item["example_id"]])
        if record is None:
            raise NotFound(f"example '{item['example_id']}' of the sample is gone from run {self.run_id}",
                           fix=f"draw a new sample: hunch failures {self.run_id} --seed {self.sample.seed + 1}")
        return {**record, "position": position, "stratum": item["stratum"], "category": item["category"],
                "note": item["note"], "earlier": earlier[:3]}

    def tag(self, position: int, category: str) -> None:
        """File the example under ``category`` (made if new); replaces its earlier category."""
        category = category_name(category)
        self._save(position, category=category, note=self.items[position]["note"])
        if category not in self.categories:
            self.categories.append(category)

    def untag(self, position: int) -> None:
        self._save(position, category=None, note=self.items[position]["note"])

    def note(self, position: int, text: str) -> None:
        """Attach a free-text note (empty text removes it)."""
        self._save(position, category=self.items[position]["category"], note=text.strip() or None)

    def skip(self, position: int) -> None:
        """Count the example as read without a category."""
        from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

        if not self.items[position]["seen"]:
            with self.store.write() as conn:
                q.mark_seen(conn, self.run_id, position)
            self.items[position]["seen"] = True

    def _save(self, position: int, *, category: str | None, note: str | None) -> None:
        from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

        item = self.items[position]
        with self.store.write() as conn:
            q.set_tag(conn, self.run_id, item["example_id"], category=category, note=note)
            q.mark_seen(conn, self.run_id, position)
        item.update(category=category, note=note, seen=True)

    def progress(self) -> dict[str, int]:
        """``{"read", "total", "categories"}``: "37/100 read, 5 categories"."""
        used = {i["category"] for i in self.items if i["category"]}
        return {"read": sum(1 for i in self.items if i["seen"] or i["category"]), "total": len(self.items),
                "categories": len(used)}

    def first_unread(self) -> int:
        """Where ``--resume`` starts: the first example neither tagged nor skipped (0 when all are read)."""
        return next((p for p, i in enumerate(self.items) if not (i["seen"] or i["category"])), 0)

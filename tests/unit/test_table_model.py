"""The watch-mode table model: batches fold by key, sort and filter are views, cells are inert."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from kftui.core.kube import PodRow
from kftui.core.table import Column, Filter, Inbox, TableModel
from kftui.views.pods import pods_model

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def pod(ns: str, name: str, status: str = "Running", restarts: int = 0, node: str = "n1", age: int = 60) -> PodRow:
    return PodRow(namespace=ns, name=name, ready="1/1", status=status, restarts=restarts,
                  created=NOW - timedelta(seconds=age), node=node, gpus=0)


def test_rows_sort_by_namespace_then_name_and_stay_sorted_through_batches() -> None:
    model = pods_model()
    model.replace([pod("b", "x"), pod("a", "z"), pod("a", "y")])
    assert model.visible() == ["a/y", "a/z", "b/x"]
    model.apply({"a/a": pod("a", "a"), "b/x": None})
    assert model.visible() == ["a/a", "a/y", "a/z"]
    model.apply({"a/y": pod("a", "y", status="Failed")})  # an update in place keeps its position
    assert model.visible() == ["a/a", "a/y", "a/z"]
    assert model.cell("a/y", "status") == "Failed"


def test_a_large_batch_resorts_the_same_as_small_ones() -> None:
    model, other = pods_model(), pods_model()
    rows = [pod(f"ns{i % 7}", f"p{i:04d}", restarts=i % 5) for i in range(300)]
    model.replace(rows[:10])
    other.replace(rows[:10])
    model.apply({f"{r.namespace}/{r.name}": r for r in rows[10:]})  # one big batch: full re-sort
    for r in rows[10:]:
        other.apply({f"{r.namespace}/{r.name}": r})  # one at a time: inserts
    assert model.visible() == other.visible() == sorted(model.visible(), key=lambda k: tuple(k.split("/")))


def test_sort_by_another_column_and_reverse_on_the_same_key() -> None:
    model = pods_model()
    model.replace([pod("a", "p1", restarts=3), pod("a", "p2", restarts=1), pod("b", "p3", restarts=2)])
    model.set_sort("restarts")
    assert model.visible() == ["a/p2", "b/p3", "a/p1"]
    model.set_sort("restarts")
    assert model.reverse and model.visible() == ["a/p1", "b/p3", "a/p2"]
    model.set_sort("age")
    assert not model.reverse


def test_filter_is_a_regex_or_text_and_follows_updates() -> None:
    model = pods_model()
    model.replace([pod("a", f"load-{i:05d}") for i in range(30)])
    model.set_filter("load-0001[0-9]")
    assert model.visible() == [f"a/load-{i:05d}" for i in range(10, 20)]
    model.apply({"a/load-00010": None, "a/load-00019x": pod("a", "load-00019x"), "a/load-00011": pod("a", "other")})
    assert model.visible() == [*(f"a/load-{i:05d}" for i in range(12, 20)), "a/load-00019x"]
    model.set_filter("[/")  # not a regex: matched as text, never an error
    assert model.shown == 0 and model.filter_text == "[/"
    model.set_filter("!load-000[0-2]")
    assert model.visible() == ["a/load-00011"]
    model.set_filter("")
    assert model.shown == len(model) == 30


def test_inverse_filter_keeps_what_does_not_match() -> None:
    flt = Filter("!Running")
    assert flt.invert and not flt.matches("a/b running n1") and flt.matches("a/b pending n1")
    regex = Filter("!run+ing")
    assert regex.literal is None and not regex.matches("a/b running n1") and regex.matches("a/b pending n1")


def test_cells_are_inert_and_clock_columns_are_drawn_from_now() -> None:
    model = pods_model()
    model.replace([pod("a", "evil\x1b]0;owned\x07\x1b[5mblink\u202e", age=3600)])
    key = model.visible()[0]
    name = model.cell(key, "name")
    assert "\x1b" not in name and "\u202e" not in name and "\x07" not in name
    assert "owned" in name and "<U+202E>" in name
    assert model.cell(key, "age", NOW) == "60m"
    assert model.cell(key, "age", NOW + timedelta(hours=2)) == "3h"


def test_widths_follow_the_widest_cell_within_bounds() -> None:
    cols: tuple[Column[str], ...] = (Column("v", "V", lambda r, _: r, min_width=2, max_width=10),)
    model: TableModel[str] = TableModel(cols, key=lambda r: r, haystack=lambda r: r)
    model.replace(["abc"])
    assert model.widths() == [3]
    model.apply({"x" * 40: "x" * 40})
    assert model.widths() == [10]
    model.apply({"x" * 40: None})
    assert model.widths() == [3]


def test_inbox_keeps_the_latest_state_per_key_and_wakes_once() -> None:
    model = pods_model()
    inbox: Inbox[PodRow] = Inbox(model.prepare)
    wakes = [inbox.put("a/p", pod("a", "p", restarts=i)) for i in range(5)]
    assert wakes == [True, False, False, False, False]
    assert inbox.drain_into(model)
    assert model.rows["a/p"].restarts == 4
    assert not inbox.drain_into(model)
    assert inbox.reset([pod("b", "q")])
    inbox.put("b/r", pod("b", "r"))
    inbox.drain_into(model)
    assert model.visible() == ["b/q", "b/r"]


def test_inbox_is_safe_across_threads() -> None:
    model = pods_model()
    inbox: Inbox[PodRow] = Inbox(model.prepare)

    def producer(n: int) -> None:
        for i in range(500):
            inbox.put(f"ns/p{n}-{i % 50}", pod("ns", f"p{n}-{i % 50}", restarts=i))

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    inbox.drain_into(model)
    assert len(model) == 200 and inbox.received == 2000
    assert {r.restarts for r in model.rows.values()} == set(range(450, 500))


def test_typing_more_of_a_filter_narrows_and_a_shorter_one_widens_again() -> None:
    model = pods_model()
    model.replace([pod("a", f"load-{i:03d}", status="Pending" if i % 2 else "Running") for i in range(100)])
    seen = []
    for text in ("l", "lo", "load-0", "load-01", "load-0", "LOAD-09", "pend", ""):
        model.set_filter(text)
        seen.append(model.shown)
        assert model.visible() == [k for k in sorted(model.rows) if text.lower() in model._hay[k]]
    assert seen == [100, 100, 100, 10, 100, 10, 50, 100]
    model.set_sort("name")
    model.set_sort("name")
    assert model.index_of("a/load-099") == 0 and model.index_of("a/load-000") == 99


def test_layout_gives_the_name_room_first_and_takes_it_back_first() -> None:
    from kftui.widgets.table import fit, layout

    natural, grow, mins = [10, 40, 6], [False, True, False], [3, 16, 3]
    assert layout(natural, grow, mins, 200) == [10, 40, 6]  # wide: every column at its widest cell
    assert layout(natural, grow, mins, 50) == [10, 32, 6]  # narrower: the name gives room back
    assert layout(natural, grow, mins, 20) == [10, 16, 6]  # never below its minimum: the table scrolls instead
    assert fit("abcdef", 4) == "abc…" and fit("ab", 4, right=True) == "  ab" and fit("日本語", 4) == "日 …"  # wide characters: cut on a cell boundary


def test_a_pod_name_too_long_for_its_column_keeps_its_suffix() -> None:
    """Replicas of one Deployment differ only in their last five characters: a middle cut keeps them."""
    from rich.cells import cell_len

    from kftui.core.podtable import COLUMNS
    from kftui.widgets.table import fit

    name = next(c for c in COLUMNS if c.key == "name")
    assert name.cut_middle
    replicas = ["notebook-controller-deployment-6b7f6c8d9-4tqwe", "notebook-controller-deployment-6b7f6c8d9-x9zr2"]
    shown = [fit(r, 28, middle=name.cut_middle) for r in replicas]
    assert shown == ["notebook-controller-d…-4tqwe", "notebook-controller-d…-x9zr2"]
    assert fit("gpu-notebook-0", 28, middle=True) == "gpu-notebook-0".ljust(28)  # fits: no cut
    assert fit("abcdefghijklmnopq", 14, middle=True) == "abcdefg…lmnopq"
    assert fit("abcdefghijkl", 10, middle=True) == "abcdefghi…"  # too narrow to keep both ends: the head
    assert fit("abcdefghijkl", 8) == "abcdefg…"  # other columns keep their head
    wide = fit("日本語のポッド名前の長いもの-abcde", 14, middle=True)
    assert cell_len(wide) == 14 and wide.endswith("…-abcde")  # wide characters: cut on cell boundaries

"""LineRing, batch preparation (terminal safety), and LogView filters, search, wrap and timestamps in a bare app."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult

from kftui.widgets.logview import CHUNK_LINES, SMALL_BATCH, LineRing, LogView, inert, prepare


def numbered(a: int, b: int) -> list[str]:
    """Lines 'line a' .. 'line b-1'."""
    return [f"line {i}" for i in range(a, b)]


# ---- LineRing -----------------------------------------------------------------------------------------


def test_ring_keeps_the_newest_lines_across_small_and_large_batches() -> None:
    ring = LineRing(5000)
    ring.extend(numbered(0, 3))  # small: open tail
    ring.extend(numbered(3, 3 + CHUNK_LINES * 2 + 7))  # large: sealed chunks
    ring.extend(numbered(3 + CHUNK_LINES * 2 + 7, 6000))
    assert len(ring) == 5000
    assert ring.dropped == 1000
    assert ring[0] == "line 1000"
    assert ring[-1] == "line 5999"
    assert list(ring) == numbered(1000, 6000)
    assert [ring.line(n) for n in (1000, 2047, 2048, 4103, 5999)] == ["line 1000", "line 2047", "line 2048",
                                                                      "line 4103", "line 5999"]


def test_ring_many_small_batches_seal_into_chunks_in_order() -> None:
    ring = LineRing(100_000)
    for i in range(0, 5000, 7):
        ring.extend(numbered(i, min(i + 7, 5000)))
    assert list(ring) == numbered(0, 5000)
    assert ring.tail(3) == ["line 4997", "line 4998", "line 4999"]
    assert list(ring.iter_range(2040, 2060)) == numbered(2040, 2060)


def test_ring_batch_bigger_than_the_limit_keeps_only_its_end() -> None:
    ring = LineRing(1000)
    ring.extend(numbered(0, 10))
    ring.extend(numbered(10, 50_010))
    assert list(ring) == numbered(49_010, 50_010)
    assert ring.dropped == 49_010
    assert ring.end == 50_010


def test_ring_memory_stays_near_the_raw_bytes() -> None:
    ring = LineRing(100_000)
    lines = [f"flood line {i:08d} " + "x" * 60 for i in range(120_000)]
    for i in range(0, len(lines), 9000):
        ring.extend(lines[i : i + 9000])
    raw = sum(len(line) for line in ring)
    assert len(ring) == 100_000
    assert ring.nbytes() < 1.5 * raw  # a list of str would be ~57 bytes more per line (1.7x here)


def test_ring_wide_characters_do_not_widen_their_neighbours() -> None:
    ring = LineRing(10_000)
    batch = [f"ascii {i}" for i in range(CHUNK_LINES)]
    batch[5] = "emoji 🚀"
    ring.extend(batch)
    assert ring[5] == "emoji 🚀"
    assert ring[6] == "ascii 6"


def test_ring_clear_and_bad_limit() -> None:
    ring = LineRing(10)
    ring.extend(numbered(0, 20))
    ring.clear()
    assert (len(ring), ring.dropped, list(ring)) == (0, 0, [])
    with pytest.raises(ValueError):
        LineRing(0)
    with pytest.raises(IndexError):
        ring[0]


# ---- terminal safety --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b]0;pwned\x07title", "␛]0;pwned^Gtitle"),
    ("\x1b[31mred\x1b[0m", "␛[31mred␛[0m"),
    ("bar \x1b[2K\r 42%", "bar ␛[2K^M 42%"),
    ("c1 \x9b31m", "c1 <9B>31m"),
    ("bidi \u202eevil", "bidi <U+202E>evil"),
    ("a\tb", "a       b"),
    ("one\ntwo", "one^Jtwo"),
])
def test_inert_escapes_every_control(raw: str, shown: str) -> None:
    assert inert(raw) == shown


def test_prepare_escapes_only_what_needs_it_in_large_and_small_batches() -> None:
    for size in (3, SMALL_BATCH + 10, CHUNK_LINES + 10):
        lines = [f"ok {i}" for i in range(size)]
        lines[1] = "\x1b]0;x\x07bad"
        ring = LineRing(100_000)
        for piece in prepare(lines):
            ring.extend_chunks([piece])
        stored = list(ring)
        assert stored[1] == "␛]0;x^Gbad"
        assert stored[0] == "ok 0" and stored[-1] == f"ok {size - 1}"
        assert not any("\x1b" in line or "\x07" in line for line in stored)


# ---- LogView in an app ----------------------------------------------------------------------------


class ViewApp(App[None]):
    """A bare app holding one LogView."""

    def compose(self) -> ComposeResult:
        yield LogView(1000, id="log")


def screen_rows(view: LogView) -> list[str]:
    """The text of every row the view would draw now."""
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


async def test_view_follows_and_draws_only_the_newest_rows() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.write_lines(numbered(0, 500))
        await pilot.pause()
        rows = screen_rows(view)
        assert rows[-1] == "line 499"
        assert view.follow and view.row_count == 500


async def test_view_filters_include_and_exclude_new_and_old_lines() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.write_lines([f"{'ERROR' if i % 10 == 0 else 'info'} {i}" for i in range(100)])
        view.set_filters(re.compile("error", re.I), re.compile(r" 5\d$"))
        view.write_lines(["ERROR 100", "info 101", "ERROR 150"])
        await pilot.pause()
        shown = list(view.shown_lines())
        assert shown == [f"ERROR {i}" for i in range(0, 101, 10) if i != 50] + ["ERROR 150"]
        assert view.row_count == len(shown)
        view.set_filters(None, None)
        assert view.row_count == 103


async def test_view_filters_survive_the_limit_dropping_old_lines() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)):
        view = app.query_one(LogView)
        view.set_filters(re.compile("keep"), None)
        for i in range(0, 5000, 100):
            view.write_lines([f"{'keep' if j % 3 == 0 else 'skip'} {j}" for j in range(i, i + 100)])
        shown = list(view.shown_lines())
        assert shown == [f"keep {j}" for j in range(4000, 5000) if j % 3 == 0]


async def test_search_finds_next_and_previous_and_highlights() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.write_lines(["match a" if i in (10, 200, 400) else f"plain {i}" for i in range(500)])
        pattern = re.compile("match")
        view.set_highlight(pattern)
        view.scroll_to(y=0, animate=False, immediate=True)
        first = view.find(pattern)
        assert first == 10
        view.jump_to_row(first)
        second = view.find(pattern)
        assert second == 200
        view.jump_to_row(second)
        assert view.find(pattern, backwards=True) == 10
        assert not view.follow  # a jump pauses autoscroll so the match stays on screen
        await pilot.pause()
        strip = view.render_line(200 - int(view.scroll_y))
        assert strip.text.startswith("match a")
        assert any(seg.style is not None and seg.style.reverse and seg.text == "match" for seg in strip)


async def test_timestamps_prefix_and_wrap_are_decided_when_drawing() -> None:
    app = ViewApp()
    async with app.run_test(size=(30, 6)) as pilot:
        view = app.query_one(LogView)
        view.stamped = view.prefixed = True
        view.write_lines(["2026-04-12T09:00:00.1Z [main] short",
                          "2026-04-12T09:00:00.2Z [side] " + "y" * 70])
        await pilot.pause()
        assert next(iter(view.shown_lines())) == "[main] short"
        view.set_timestamps(True)
        assert next(iter(view.shown_lines())) == "2026-04-12T09:00:00.1Z [main] short"
        view.set_timestamps(False)
        view.set_wrap(True)
        await pilot.pause()
        rows = screen_rows(view)
        width = view.scrollable_content_region.width
        assert rows[0] == "[main] short"
        assert rows[1] == ("[side] " + "y" * 70)[:width]
        assert "".join(rows[1:]).replace(" ", "") == ("[side]" + "y" * 70)

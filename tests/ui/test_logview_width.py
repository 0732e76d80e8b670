"""The log pane's scroll width is the width of what it shows: the API timestamp it hides is not counted."""

from __future__ import annotations

from textual.app import App, ComposeResult

from kftui.widgets.logview import LogView, prepare

BODY = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(id="log")


async def test_hidden_timestamps_do_not_widen_the_pane_and_their_length_does_not_matter() -> None:
    app = LogApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(LogView)
        view.stamped = True
        # Go's RFC 3339 nanoseconds drop trailing zeros: the same line, a column shorter or longer
        view.write_lines([f"2026-12-01T10:00:00.123456789Z {BODY}", "2026-12-01T10:00:01.12345678Z short"])
        await pilot.pause()
        assert view.virtual_size.width == len(BODY)
        view.write_lines([f"2026-12-01T10:00:02.1Z {BODY}"])
        await pilot.pause()
        assert view.virtual_size.width == len(BODY)
        view.show_timestamps = True
        view.write_chunks(prepare([f"2026-12-01T10:00:03.5Z {BODY}x"]))  # one wider: the timestamp column added
        await pilot.pause()
        assert view.virtual_size.width == len(BODY) + 1 + 34


async def test_unstamped_lines_count_whole() -> None:
    app = LogApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(LogView)
        view.write_lines([f"plain {BODY}"])
        await pilot.pause()
        assert view.virtual_size.width == len(f"plain {BODY}")

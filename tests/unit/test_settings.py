"""Settings and state files: defaults when absent, every bad value named with its rule, atomic round trips."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kftui.errors import ConfigError
from kftui.settings import Settings, State, load_settings, load_state, save_state, settings_path


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_missing_files_mean_defaults() -> None:
    assert load_settings() == Settings()
    assert load_state() == State()


def test_values_are_read_and_unknown_keys_ignored() -> None:
    write(settings_path(), {"log_max_lines": 5000, "log_timestamps": True, "theme": "nord", "from_the_future": 1})
    assert load_settings() == Settings(log_max_lines=5000, log_timestamps=True, theme="nord")


@pytest.mark.parametrize(("data", "message"), [
    ({"log_max_lines": 10}, "log_max_lines must be a whole number from 1000 to 5000000 (got 10)"),
    ({"log_max_lines": "lots"}, 'log_max_lines must be a whole number from 1000 to 5000000 (got "lots")'),
    ({"log_max_lines": True}, "log_max_lines must be a whole number"),
    ({"log_wrap": "yes"}, 'log_wrap must be true or false (got "yes")'),
    ({"theme": ""}, "theme must be the name of a Textual theme"),
    ([1, 2], "expected a JSON object, got list"),
    ("{not json", "is not valid JSON (line 1)"),
])
def test_a_bad_settings_file_names_the_field_and_rule(data: object, message: str) -> None:
    path = write(settings_path(), data)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert message in str(err.value) and str(path) in str(err.value)


def test_state_round_trips_and_rejects_wrong_shapes(tmp_path: Path) -> None:
    state = State(setup_passed=True, answers={"project": "p", "gpu_count": "2"}, quota_requests=[{"name": "q"}])
    save_state(state)
    assert load_state() == state
    bad = write(tmp_path / "state.json", {"answers": ["project"]})
    with pytest.raises(ConfigError, match="answers must be an object"):
        load_state(bad)


def test_kftui_refuses_a_bad_settings_file_in_one_line(tmp_path: Path) -> None:
    write(settings_path(), {"log_max_lines": 5})
    done = subprocess.run([sys.executable, "-m", "kftui", "watch"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "log_max_lines must be a whole number from 1000 to 5000000 (got 5)" in done.stderr


async def test_an_unreadable_state_file_is_kept_aside_and_said() -> None:
    """The app still opens; the old file is renamed, not overwritten by the next save, and the user is told."""
    from kftui.app import KftuiApp
    from kftui.settings import state_path

    write(state_path(), '{"answers": {"project": "my-proj"')  # cut short by a full disk, say
    app = KftuiApp(mode="setup", persist=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        app.remember(project="new-proj")
    kept = list(state_path().parent.glob("state.json.bad-*"))
    assert len(kept) == 1 and '"my-proj"' in kept[0].read_text()
    assert any("Kept it as" in m and "state.json.bad-" in m for m in messages), messages
    assert load_state().answers == {"project": "new-proj"}

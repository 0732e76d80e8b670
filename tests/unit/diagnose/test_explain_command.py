"""`kftui explain`: input from argument or stdin, text or JSON out, and the documented exit codes."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from kftui.cli import cli
from kftui.commands.explain import MAX_BYTES, run_explain
from kftui.errors import UsageError

QUOTA = "Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.\n\tlimit name = GPUS-ALL-REGIONS-per-project"


def test_json_is_one_object_and_exit_zero() -> None:
    out = io.StringIO()
    code = run_explain(text=QUOTA, as_json=True, out=out)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["cause"] == "quota-exceeded"
    assert set(doc) == {"cause", "title", "explanation", "facts", "fixes"}
    assert all(set(f) == {"title", "command", "url"} for f in doc["fixes"])


def test_stdin_when_dash_or_absent() -> None:
    for text in ("-", None):
        out = io.StringIO()
        code = run_explain(text=text, as_json=True, stdin=io.BytesIO(QUOTA.encode()), out=out)
        assert code == 0
        assert json.loads(out.getvalue())["cause"] == "quota-exceeded"


def test_unknown_exits_one() -> None:
    out = io.StringIO()
    assert run_explain(text="the printer is on fire", as_json=False, out=out) == 1
    assert "the printer is on fire" in out.getvalue()


@pytest.mark.parametrize("empty", [b"", b"   \n\t  \n"])
def test_empty_input_is_a_usage_error(empty: bytes) -> None:
    with pytest.raises(UsageError, match="nothing to explain"):
        run_explain(text=None, as_json=False, stdin=io.BytesIO(empty), out=io.StringIO())


def test_bad_bytes_around_a_utf16_paste_still_find_the_cause() -> None:
    blob = b"\xff\xfe\x00\x80" * 10 + QUOTA.encode("utf-16")
    out = io.StringIO()
    code = run_explain(text=None, as_json=True, stdin=io.BytesIO(blob), out=out)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["cause"] == "quota-exceeded"
    assert doc["facts"]["metric"] == "GPUS_ALL_REGIONS"
    assert doc["facts"]["quota_id"] == "GPUS-ALL-REGIONS-per-project"


def test_huge_undecodable_input_is_unknown_in_one_bounded_line() -> None:
    blob = b"\xff\xfe\x00\x80" * 10 + b"z" * (MAX_BYTES * 2)
    out = io.StringIO()
    code = run_explain(text=None, as_json=True, stdin=io.BytesIO(blob), out=out)
    assert code == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["cause"] == "unknown"
    assert len(lines[0]) < 4000  # the first line is quoted cut short, never echoed whole (1 MB here)


def test_text_output_names_title_and_commands() -> None:
    out = io.StringIO()
    run_explain(text=QUOTA, as_json=False, out=out)
    text = out.getvalue()
    assert "GPUS_ALL_REGIONS" in text
    assert "$ gcloud beta quotas preferences create" in text
    assert "https://console.cloud.google.com/iam-admin/quotas?project=PROJECT_ID" in text
    command_line = next(line for line in text.splitlines() if "gcloud beta quotas" in line)
    assert "--justification=" in command_line, "commands are never wrapped"


def test_markup_in_input_is_printed_literally() -> None:
    out = io.StringIO()
    run_explain(text="[bold red]boom[/] \x1b]0;evil\x07", as_json=False, out=out)
    assert "[bold red]boom[/]" in out.getvalue()
    assert "\x1b]" not in out.getvalue()


def test_cli_exit_codes() -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["explain", "--json", QUOTA])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["cause"] == "quota-exceeded"
    unknown = runner.invoke(cli, ["explain", "mystery"])
    assert unknown.exit_code == 1
    empty = runner.invoke(cli, ["explain", "-"], input="  \n")
    assert empty.exit_code == 2
    assert "nothing to explain" in empty.stderr


HOSTILE = "pod \x1b]0;pwned\x07evil\u202edcba \x1b[5mblink\x1b[0m \x9b31m quota 'GPUS_ALL_REGIONS' \x1b]52;c;cm0gLXJm\x07"


def test_text_output_shows_escapes_and_bidi_inert() -> None:
    for text in (HOSTILE, "the printer \x1b]0;title\x07 is on fire \u202e"):  # recognised and unknown
        out = io.StringIO()
        run_explain(text=text, as_json=False, out=out)
        shown = out.getvalue()
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown and "\x9b" not in shown
        assert "<U+202E>" in shown  # the override is visible, as text, where it was


def test_json_output_keeps_the_text_exact() -> None:
    out = io.StringIO()
    run_explain(text="the printer \x1b]0;title\x07 is on fire \u202e", as_json=True, out=out)
    doc = json.loads(out.getvalue())
    assert "\u202e" in doc["explanation"] and "<U+202E>" not in doc["explanation"]  # JSON stays exact


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_long_log_piped_in_is_explained_by_its_head_or_its_tail(where: str) -> None:
    """`kubectl logs POD | kftui explain`: the error a log starts or ends with is found, however long the log."""
    noise = b"".join(b"step %07d loss 0.1234 lr 0.001 an ordinary line of training output\n" % i for i in range(80_000))
    blob = QUOTA.encode() + b"\n" + noise if where == "first" else noise + QUOTA.encode() + b"\n"
    assert len(blob) > 5 * MAX_BYTES
    out = io.StringIO()
    assert run_explain(text=None, as_json=True, stdin=io.BytesIO(blob), out=out) == 0
    assert json.loads(out.getvalue())["cause"] == "quota-exceeded"

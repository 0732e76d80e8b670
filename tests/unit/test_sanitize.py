"""The one sanitizer: every terminal control from outside text is shown inert and visible."""

from kftui.core.sanitize import inert, inert_lines, sanitize


def test_osc_title_and_clipboard_writes_are_inert() -> None:
    hostile = "run\x1b]0;pwned\x07-\x1b]52;c;ZXZpbA==\x07"
    assert inert(hostile) == "run␛]0;pwned^G-␛]52;c;ZXZpbA==^G"


def test_csi_c1_and_bidi_overrides_are_shown() -> None:
    assert inert("a\x1b[5mb\x9bc\u202ed") == "a␛[5mb<9B>c<U+202E>d"


def test_inert_flattens_newlines_and_tabs_but_inert_lines_keeps_breaks() -> None:
    assert inert("a\tb\nc") == "a       b^Jc"
    assert inert_lines("one\x1b[2J\r\ntwo") == "one␛[2J\ntwo"


def test_plain_text_is_unchanged_and_non_strings_are_stringified() -> None:
    assert sanitize("plain ünïcode text") == "plain ünïcode text"
    assert inert(42) == "42"

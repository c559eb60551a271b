"""Hostile and pathological input is bad input: a typed error naming the line and the field.

Deep nesting, numbers no float can hold, lone surrogates, megabyte-long values,
over-precise timestamps and Unicode whitespace are each refused by ``parse_event``,
by ``read_transcript`` (at the right line) and by ``deescalate review`` (exit 2, one
short line on standard error, never a traceback). Files written on Windows (a byte
order mark, CR LF or CR line endings) review exactly as their LF twins. Rules are
checked when built, a rule that crashes is named, a policy module that cannot be
imported is one line, and Ctrl-C is ``deescalate: interrupted`` with status 130.

The last part fuzzes the command with transcripts mutated from ``examples/``.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deescalate.cli.review
from build import DEFAULTS, ev, run
from deescalate import (
    BUILTIN_RULES,
    EVENT_CLASSES,
    FACTS_FIRST,
    INVALID_TRANSITION,
    ArgumentTypeError,
    DeescalateError,
    EventError,
    Params,
    PolicyError,
    Rule,
    RuleError,
    apply,
    event_from_dict,
    load_policy,
    parse_event,
    read_transcript,
    review,
    rule,
)
from deescalate.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.jsonl"))
AT = "2026-03-02T09:01:00Z"
OPEN = json.dumps({"type": "interaction_opened", "at": "2026-03-02T09:00:00Z", "interaction_id": "T-1"})
DEEP = 100_000
MEGABYTE = 1_000_000
#: The longest standard error line any bad input may give.
SHORT = 300
REPORT_KEYS = {"interaction_id", "policy", "mode", "stage", "violations", "warnings", "findings", "params"}


# -- helpers ---------------------------------------------------------------------------------


def cli(*args: str | Path) -> tuple[int, str, str]:
    """Run the command in this process: (exit status, standard output, standard error)."""
    out, err = io.StringIO(), io.StringIO()
    status = main([str(arg) for arg in args], out, err)
    return status, out.getvalue(), err.getvalue()


def assert_one_line(
    result: tuple[int, str, str],
    line: int | None = None,
    field: str | None = None,
    status: int = 2,
    limit: int = SHORT,
) -> str:
    """Exit ``status``, nothing on standard output, one short ``deescalate:`` line on standard error."""
    code, out, err = result
    assert code == status, result
    assert out == ""
    assert err.startswith("deescalate: "), err
    assert err.endswith("\n") and err.count("\n") == 1 and "\r" not in err, err
    assert "Traceback" not in err
    assert len(err) < limit, err[:1000]
    err.encode("utf-8")  # no lone surrogate ever reaches an output
    if line is not None:
        mention = re.search(r"\bline (\d+)\b", err)
        assert mention is not None and mention.group(1) == str(line), err
    if field is not None:
        assert f"field '{field}'" in err, err
    return err


def defaults(kind: str) -> dict[str, Any]:
    """Valid fields of an event of ``kind`` at ``AT`` (a callback promised for then)."""
    return {**DEFAULTS[kind], "by": AT} if kind == "callback_promised" else dict(DEFAULTS[kind])


def line_of(kind: str, **fields: Any) -> str:
    """One JSON line of an event of ``kind`` at ``AT``: valid defaults, overridden by ``fields``."""
    values = {**defaults(kind), **fields}
    return json.dumps({"type": kind, "at": AT, **values})


def raw_line(prefix: str, fragment: str) -> str:
    """A ``customer_vented`` line whose ``intensity`` is the JSON text ``fragment``."""
    return f'{{"type": "customer_vented", "at": "{AT}", {prefix}"intensity": {fragment}}}'


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- every pathological value, at the line and field it belongs to -----------------------------

# (text of line 2, the field named, the words of the reason)
PATHOLOGICAL = [
    pytest.param(nested(DEEP), "line", "nested too deeply", id="array-nested-100000-deep"),
    pytest.param('{"a":' * DEEP + "1" + "}" * DEEP, "line", "nested too deeply", id="object-nested-100000-deep"),
    pytest.param(raw_line("", nested(DEEP)), "line", "nested too deeply", id="field-nested-100000-deep"),
    pytest.param(raw_line('"extra": ' + nested(DEEP) + ", ", "5"), "line", "nested too deeply", id="extra-deep"),
    pytest.param(raw_line("", nested(300)), "intensity", "integer", id="field-nested-300-deep"),
    pytest.param(line_of("remedy_proposed", value=10**400), "value", "too large for a float", id="int-10e400"),
    pytest.param(line_of("remedy_proposed", value=-(10**400)), "value", "too large for a float", id="int-minus"),
    pytest.param(raw_line("", "9" * 5000), "line", "too many digits", id="int-of-5000-digits"),
    pytest.param(raw_line("", "1e400"), "intensity", "integer", id="float-overflow-intensity"),
    pytest.param(line_of("remedy_proposed").replace('"value": 20', '"value": 1e400'), "value", "finite", id="1e400"),
    pytest.param(line_of("customer_vented", intensity=10**400), "intensity", "from 0 to 10", id="intensity-huge"),
    pytest.param(
        line_of("escalated", authority_limit=10**400), "authority_limit", "too large", id="escalated-limit-huge"
    ),
    pytest.param(json.dumps({"type": "x" * MEGABYTE, "at": AT}), "type", "unknown event type", id="type-1mb"),
    pytest.param(json.dumps({"type": ["x"] * MEGABYTE, "at": AT}), "type", "unknown event type", id="type-list"),
    pytest.param(line_of("facts_established", fault="x" * MEGABYTE), "fault", "one of", id="fault-1mb"),
    pytest.param(line_of("remedy_proposed", value="9" * MEGABYTE), "value", "number", id="value-1mb-string"),
    pytest.param(json.dumps({"type": "empathy_expressed", "at": "2" * MEGABYTE}), "at", "ISO-8601", id="at-1mb"),
    pytest.param(line_of("empathy_expressed", event_id=list(range(MEGABYTE // 8))), "event_id", "string", id="id-list"),
    pytest.param(
        line_of("empathy_expressed").replace(AT, "2026-03-02T09:01:00.1234567Z"), "at", "6", id="at-7-digits"
    ),
    pytest.param(
        line_of("empathy_expressed").replace(AT, "2026-03-02T09:01:00,123456789+00:00"), "at", "6", id="at-9-digits"
    ),
    pytest.param(
        line_of("empathy_expressed").replace(AT, "2026-03-02T09:01:00+00:00:00.1234567"), "at", "6", id="offset-7"
    ),
    pytest.param(line_of("fact_recorded", detail="ok \ud800 ok"), "detail", "lone surrogate", id="surrogate-high"),
    pytest.param(line_of("fact_recorded", source="\udfff"), "source", "lone surrogate", id="surrogate-low"),
    pytest.param(line_of("fact_recorded", source="\udc00\ud800"), "source", "lone surrogate", id="surrogates-swapped"),
]


@pytest.mark.parametrize(("text", "field", "words"), PATHOLOGICAL)
def test_parse_event_refuses_it_naming_the_field(text: str, field: str, words: str) -> None:
    with pytest.raises(EventError) as error:
        parse_event(text)
    assert (error.value.field, error.value.line) == (field, None)
    assert words in error.value.reason
    assert len(str(error.value)) < SHORT


@pytest.mark.parametrize(("text", "field", "words"), PATHOLOGICAL)
def test_read_transcript_refuses_it_at_its_line(text: str, field: str, words: str) -> None:
    with pytest.raises(EventError) as error:
        list(read_transcript([OPEN, "", text]))
    assert (error.value.field, error.value.line) == (field, 3)


@pytest.mark.parametrize(("text", "field", "words"), PATHOLOGICAL)
def test_review_refuses_it_in_one_short_line(tmp_path: Path, text: str, field: str, words: str) -> None:
    path = tmp_path / "hostile.jsonl"
    path.write_text(f"{OPEN}\n\n{text}\n", encoding="utf-8")

    err = assert_one_line(cli("review", path), line=3, field=field)

    assert words in err


def test_event_from_dict_survives_deep_nesting_in_any_field() -> None:
    deep: list[Any] = []
    for _ in range(DEEP):  # deeper than repr (or hash, for a tuple) can go
        deep = [deep]
    for data, field in [
        ({"type": "customer_vented", "at": AT, "intensity": deep}, "intensity"),
        ({"type": deep, "at": AT}, "type"),
        ({"type": tuple(deep), "at": AT}, "type"),
        ({"type": "empathy_expressed", "at": deep}, "at"),
        ({"type": "concerns_acknowledged", "at": AT, "summary": [deep], "used_name": True}, "summary[0]"),
    ]:
        with pytest.raises(EventError) as error:
            event_from_dict(data)
        assert error.value.field == field
        assert len(str(error.value)) < SHORT


def test_the_largest_float_is_still_an_amount() -> None:
    assert parse_event(line_of("remedy_proposed", value=int(sys.float_info.max))).value == sys.float_info.max
    assert parse_event(line_of("remedy_proposed", value=10**300)).value == 10**300
    assert parse_event(line_of("remedy_proposed", value=1.5e308)).value == 1.5e308


def test_six_fractional_digits_are_kept() -> None:
    event = parse_event(line_of("empathy_expressed").replace(AT, "2026-03-02T09:01:00.123456+00:00"))
    assert event.at.microsecond == 123456
    assert parse_event(line_of("empathy_expressed").replace(AT, "2026-03-02T09:01:00.5Z")).at.microsecond == 500000


# -- lone surrogates, in every text field of every event -------------------------------------


def _text_fields() -> Iterator[Any]:
    for kind, cls in EVENT_CLASSES.items():
        for field in attrs.fields(cls):
            if field.type in ("str", "str | None", "tuple[str, ...]"):
                yield pytest.param(kind, field.name, field.type == "tuple[str, ...]", id=f"{kind}.{field.name}")


TEXT_FIELDS = list(_text_fields())


def test_the_text_fields_are_all_there() -> None:
    ids = {param.id for param in TEXT_FIELDS}
    assert len(ids) > len(EVENT_CLASSES) + 10  # every event_id, and the others
    assert {"interaction_opened.customer_name", "concerns_acknowledged.summary", "escalated.to"} <= ids


@pytest.mark.parametrize(("kind", "name", "is_list"), TEXT_FIELDS)
@pytest.mark.parametrize("bad", ["\ud800", "caf\u00e9 \udbff", "\udc00 end", "\U0001f600\udfff"])
def test_a_lone_surrogate_is_refused_in_every_text_field(kind: str, name: str, is_list: bool, bad: str) -> None:
    value: Any = ["fine", bad] if is_list else bad
    field = f"{name}[1]" if is_list else name
    data = {"type": kind, "at": AT, **defaults(kind), name: value}
    text = json.dumps(data)  # ASCII JSON: the surrogate written as \ud800

    with pytest.raises(EventError) as error:
        parse_event(text)
    assert error.value.field == field and "lone surrogate" in error.value.reason
    str(error.value).encode("utf-8")  # the message escapes it
    with pytest.raises(EventError) as built:
        ev(kind, **{name: tuple(value) if is_list else value})
    assert built.value.field == field
    lines = [text] if kind == "interaction_opened" else [OPEN, text]
    with pytest.raises(EventError) as read:
        list(read_transcript(lines))
    assert (read.value.field, read.value.line) == (field, len(lines))


def test_a_surrogate_pair_is_a_character_and_accepted() -> None:
    event = parse_event(line_of("fact_recorded", detail="\U0001f600 caf\u00e9"))
    assert event.detail == "\U0001f600 caf\u00e9"  # type: ignore[attr-defined]
    assert "\\ud83d\\ude00" in json.dumps({"d": event.detail})  # type: ignore[attr-defined]


def test_raw_surrogates_in_given_text_lines_and_in_utf8_bytes_are_refused() -> None:
    raw = '{"type": "fact_recorded", "at": "' + AT + '", "source": "a", "detail": "x\ud800"}'
    with pytest.raises(EventError) as error:
        list(read_transcript([OPEN, raw]))
    assert (error.value.field, error.value.line) == ("detail", 2)
    encoded = raw.encode("utf-8", "surrogatepass")  # CESU-style bytes: not UTF-8
    with pytest.raises(EventError) as error:
        list(read_transcript([OPEN.encode(), encoded]))
    assert (error.value.field, error.value.line) == ("line", 2)


def test_a_surrogate_in_the_command_line_path_is_written_escaped(tmp_path: Path) -> None:
    err = assert_one_line(cli("review", tmp_path / "caf\udce9.jsonl"))
    assert "cannot read" in err and "\\udce9" in err


# -- what is blank, and files from Windows ------------------------------------------------------

UNICODE_SPACES = ["\u00a0", "\u2028", "\u2029", "\u3000", "\u1680", "\x0b", "\x0c", "\x1c", "\x85", " \u00a0\t"]


@pytest.mark.parametrize("space", UNICODE_SPACES, ids=[f"U+{ord(s.strip()[:1] or s[0]):04X}" for s in UNICODE_SPACES])
def test_a_line_of_unicode_whitespace_is_not_blank(tmp_path: Path, space: str) -> None:
    with pytest.raises(EventError) as error:
        list(read_transcript([OPEN, " \t", space + "\n", line_of("empathy_expressed")]))
    assert (error.value.field, error.value.line) == ("line", 3)
    assert "not valid JSON" in error.value.reason
    path = tmp_path / "spaces.jsonl"
    path.write_bytes(f"{OPEN}\n \t\n{space}\n".encode())
    assert_one_line(cli("review", path), line=3, field="line")


@pytest.mark.parametrize("blank", ["", "\n", " ", "\t\t\n", " \r\n", "\r\n", "\r"])
def test_json_whitespace_lines_are_blank(blank: str) -> None:
    lines = list(read_transcript([OPEN, blank, line_of("empathy_expressed")]))
    assert [(line.index, line.number) for line in lines] == [(0, 1), (1, 3)]


def _variants(data: bytes) -> dict[str, bytes]:
    crlf, cr = data.replace(b"\n", b"\r\n"), data.replace(b"\n", b"\r")
    bom = b"\xef\xbb\xbf"
    lines = data.split(b"\n")[:-1]
    # Each ending in turn; but CR then an empty line ending in LF reads as CR LF (as
    # universal newlines read it too): there, CR LF.
    endings = [(b"\r\n", b"\r", b"\n")[n % 3] for n in range(len(lines))]
    for n in range(len(lines) - 1):
        if endings[n] == b"\r" and not lines[n + 1] and endings[n + 1] == b"\n":
            endings[n] = b"\r\n"
    mixed = b"".join(line + ending for line, ending in zip(lines, endings, strict=True))
    return {"bom": bom + data, "crlf": crlf, "cr": cr, "bom-crlf": bom + crlf, "bom-cr": bom + cr, "mixed": mixed}


def _with_blank_lines(data: bytes) -> bytes:
    lines = data.split(b"\n")
    return b"\n".join([lines[0], b"", b" \t", *lines[1:3], b"", *lines[3:]])


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
@pytest.mark.parametrize("variant", ["bom", "crlf", "cr", "bom-crlf", "bom-cr", "mixed"])
def test_windows_files_review_as_their_lf_twin(tmp_path: Path, example: Path, variant: str) -> None:
    data = _with_blank_lines(example.read_bytes())
    lf = tmp_path / "lf.jsonl"
    lf.write_bytes(data)
    other = tmp_path / f"{variant}.jsonl"
    other.write_bytes(_variants(data)[variant])

    for options in ([], ["--strict"], ["--format", "json"]):
        expected = cli("review", lf, *options)
        assert expected[0] in (0, 1)
        assert cli("review", other, *options) == expected
    with open(lf, "rb") as plain, open(other, "rb") as windows:
        assert [attrs.astuple(line) for line in read_transcript(windows)] == [
            attrs.astuple(line) for line in read_transcript(plain)
        ]


@pytest.mark.parametrize("variant", ["bom", "crlf", "cr", "bom-crlf", "bom-cr", "mixed"])
def test_windows_files_name_the_bad_line_an_editor_shows(tmp_path: Path, variant: str) -> None:
    data = _with_blank_lines(EXAMPLES[0].read_bytes()).replace(b'"intensity": 8', b'"intensity": 80', 1)
    number = data[: data.index(b'"intensity": 80')].count(b"\n") + 1
    assert number > 3
    path = tmp_path / "bad.jsonl"
    path.write_bytes(_variants(data)[variant])

    assert_one_line(cli("review", path), line=number, field="intensity")


def test_a_byte_order_mark_is_skipped_only_at_the_start() -> None:
    assert [line.number for line in read_transcript(["\ufeff" + OPEN, line_of("empathy_expressed")])] == [1, 2]
    assert [line.number for line in read_transcript([b"\xef\xbb\xbf" + OPEN.encode()])] == [1]
    with pytest.raises(EventError) as error:
        list(read_transcript([OPEN, "\ufeff" + line_of("empathy_expressed")]))
    assert (error.value.field, error.value.line) == ("line", 2)
    with pytest.raises(EventError, match="empty") as error:
        list(read_transcript([b"\xef\xbb\xbf\r\n", b"\r\n"]))


def test_a_cr_only_file_is_split_into_its_lines() -> None:
    text = f"{OPEN}\r\r{line_of('customer_vented')}\r{line_of('venting_subsided')}\r"
    lines = list(read_transcript([text.encode()]))
    assert [(line.index, line.number, line.event.type) for line in lines] == [
        (0, 1, "interaction_opened"),
        (1, 3, "customer_vented"),
        (2, 4, "venting_subsided"),
    ]
    with pytest.raises(EventError) as error:  # a bad line after the split lines keeps counting
        list(read_transcript([text, "\n", "[1]\n"]))
    assert error.value.line == 6


def test_a_single_string_is_not_taken_for_lines() -> None:
    for whole in (f"{OPEN}\n", f"{OPEN}\n".encode()):
        with pytest.raises(ArgumentTypeError):
            read_transcript(whole)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError):
        list(read_transcript([OPEN, 42]))  # type: ignore[list-item]


# -- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"authority_limit": 10**400}, "too large for a float"),
        ({"authority_limit": -(10**400)}, "too large for a float"),
        ({"authority_limit": float("inf")}, "finite"),
        ({"authority_limit": float("nan")}, "finite"),
        ({"authority_limit": "100"}, "number"),
        ({"authority_limit": True}, "number"),
        ({"max_rejections": 10**400}, "integer from 0"),
        ({"min_fact_sources": 2**63}, "integer from 0"),
        ({"warnings_before_ending": 10**5000}, "more than 60 digits"),
        ({"max_rejections": -1}, "integer from 0"),
        ({"max_rejections": 2.0}, "integer from 0"),
    ],
)
def test_params_no_float_or_snapshot_can_hold_are_refused(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(PolicyError) as error:
        Params(**changes)
    assert words in str(error.value) and len(str(error.value)) < SHORT
    with pytest.raises(PolicyError):
        FACTS_FIRST.with_params(**changes)


def test_the_largest_params_are_accepted() -> None:
    params = Params(authority_limit=sys.float_info.max, max_rejections=2**63 - 1)
    assert params.authority_limit == sys.float_info.max


# -- rules: checked when built, named when they crash ---------------------------------------------


def _build(on: Any = "remedy_proposed", **fields: Any) -> Rule:
    check = fields.pop("check", lambda i, e, p: True)
    values: dict[str, Any] = {"message": "m", **fields}
    return rule("my-rule", severity="warning", on=on, **values)(check)


@pytest.mark.parametrize(
    ("on", "message", "words"),
    [
        ("remedy_proposed", "worth {event.valeu}", ["valeu", "remedy_proposed"]),
        (["remedy_proposed", "escalated"], "worth {event.value}", ["value", "escalated"]),
        (["escalated", "remedy_proposed"], "to {event.to}", ["'to'", "remedy_proposed"]),
        ("remedy_proposed", "{interaction.authority}", ["authority", "interaction"]),
        ("remedy_proposed", "{params.max_rejection}", ["max_rejection", "parameter"]),
        ("remedy_proposed", "{rule.id}", ["{rule.id}", "event, interaction or params"]),
        ("remedy_proposed", "{}", ["{}"]),
        ("remedy_proposed", "{0}", ["{0}"]),
        ("remedy_proposed", "{event[0]}", ["{event[0]}"]),
        ("remedy_proposed", "{event.__class__}", ["__class__"]),
        ("remedy_proposed", "{event!z}", ["!z"]),
        ("remedy_proposed", "{event.value:>{params.widht}}", ["widht"]),
        ("remedy_proposed", "a { b", ["template"]),
        ("remedy_proposed", "a } b", ["template"]),
        ("remedy_proposed", "{event.}", ["{event.}"]),
        ("remedy_proposed", "{event..value}", ["{event..value}"]),
    ],
)
def test_a_message_template_that_cannot_be_filled_in_is_refused_when_built(
    on: str | list[str], message: str, words: list[str]
) -> None:
    with pytest.raises(PolicyError) as error:
        _build(on, message=message)
    text = str(error.value)
    assert "rule 'my-rule'" in text
    for word in words:
        assert word in text, text
    with pytest.raises(PolicyError):
        Rule("my-rule", "warning", on, lambda i, e, p: True, message)


@pytest.mark.parametrize(
    "message",
    [
        "{event.type} {event} {event!r} {event.value!s:>10} {event.at:%H:%M}",
        "{interaction.authority_limit:.2f} {interaction.findings} {interaction.active} {interaction.fact_sources}",
        "{interaction.facts.fault} {interaction.summary[0]} {params.max_rejections} {params}",
        "{{literal braces}} and {event.value:{params.max_rejections}}",
        "no fields at all",
    ],
)
def test_a_message_template_that_can_be_filled_in_is_accepted(message: str) -> None:
    assert _build(message=message).message == message


def test_every_built_in_rule_still_builds() -> None:
    for item in (*BUILTIN_RULES, INVALID_TRANSITION):
        fields = attrs.asdict(item, recurse=False)
        assert Rule(**fields) == item


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"message": "bad \ud800"}, "message holds a lone surrogate"),
        ({"principle": "\udfff"}, "principle holds a lone surrogate"),
        ({"advice": "x\udc80"}, "advice holds a lone surrogate"),
        ({"message": None}, "message must be a string"),
        ({"advice": 3}, "advice must be a string"),
        ({"on": 3}, "'on'"),
    ],
)
def test_rule_texts_must_be_writable_text(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(PolicyError, match=re.escape(words)) as error:
        _build(**fields)
    str(error.value).encode("utf-8")


def test_a_check_must_be_callable_and_a_docstring_writable() -> None:
    with pytest.raises(PolicyError, match="check must be a function"):
        rule("my-rule", severity="warning", on="remedy_proposed", message="m")(42)  # type: ignore[arg-type]

    def check(interaction: Any, event: Any, params: Any) -> bool:
        return True

    check.__doc__ = "bad \ud800 principle"
    with pytest.raises(PolicyError, match="principle holds a lone surrogate"):
        rule("my-rule", severity="warning", on="remedy_proposed", message="m")(check)


def _crashing(check: Callable[..., Any], message: str = "m", on: str = "remedy_proposed") -> Rule:
    return rule("crashy", severity="warning", on=on, message=message)(check)


@pytest.mark.parametrize(
    ("made", "cause"),
    [
        (lambda: _crashing(lambda i, e, p: 1 / 0), ZeroDivisionError),
        (lambda: _crashing(lambda i, e, p: True, message="{interaction.facts.fault}"), AttributeError),
        (lambda: _crashing(lambda i, e, p: True, message="{event.value:d}"), ValueError),
        (lambda: _crashing(lambda i, e, p: True, message="{interaction.summary[5]}"), TypeError),
        (lambda: _crashing(lambda i, e, p: "bad \ud800 verdict"), PolicyError),
    ],
    ids=["check-raises", "deeper-attribute", "format-spec", "index", "surrogate-verdict"],
)
def test_a_rule_whose_code_fails_is_named_never_silently_shipped(made: Callable[[], Rule], cause: type) -> None:
    crashy = made()
    interaction = run(["customer_vented"])
    event = ev("remedy_proposed", value=10.5)

    with pytest.raises(RuleError) as error:
        crashy.judge(interaction, event, Params())
    assert (error.value.rule, error.value.event_type, error.value.index) == ("crashy", "remedy_proposed", None)
    assert isinstance(error.value.__cause__, cause)
    str(error.value).encode("utf-8")

    policy = FACTS_FIRST.with_rules(crashy)
    with pytest.raises(RuleError) as error:
        apply(interaction, event, policy)
    assert error.value.rule == "crashy" and error.value.index == len(interaction.history)


def test_a_rule_that_fires_normally_still_formats_its_message() -> None:
    fine = _crashing(lambda i, e, p: True, message="worth {event.value} over {params.authority_limit}")
    finding = fine.judge(run(["customer_vented"]), ev("remedy_proposed", value=150), Params())
    assert finding is not None and finding.message == "worth 150 over 100"


# -- policy modules that cannot be imported, through load_policy and the command -----------------

BROKEN_MODULES = {
    "syntax-error": ("def broken(:\n    pass\n", "SyntaxError"),
    "runtime-error": ("raise RuntimeError('the policy\\nis broken\\r\\nhere')\n", "RuntimeError: the policy is broken"),
    "system-exit": ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
    "system-exit-text": ("raise SystemExit('bye\\nnow')\n", "SystemExit: bye now"),
    "import-error": ("import no_such_module_for_deescalate\n", "No module named 'no_such_module_for_deescalate'"),
    "unreadable-error": (
        "class E(Exception):\n    def __str__(self):\n        raise ValueError\nraise E\n",
        "(its message could not be read)",
    ),
    "bad-rule": (
        "from deescalate import rule\n"
        "@rule('x', severity='warning', on='remedy_proposed', message='{event.valeu}')\n"
        "def x(i, e, p):\n    return True\n",
        "PolicyError: rule 'x': its message field '{event.valeu}'",
    ),
    "long-error": ("raise ValueError('x' * 1_000_000)\n", "ValueError: xxx"),
}


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Write policy modules (unique names) in a directory the command runs from."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])

    def write(source: str) -> str:
        name = f"hostile_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        importlib.invalidate_caches()
        return name

    return write


@pytest.mark.parametrize(("source", "words"), BROKEN_MODULES.values(), ids=BROKEN_MODULES.keys())
def test_a_policy_module_that_cannot_be_imported_is_one_line(
    module_dir: Callable[[str], str], source: str, words: str
) -> None:
    name = module_dir(source)
    with pytest.raises(PolicyError) as error:
        load_policy(f"{name}:POLICY")
    assert "\n" not in str(error.value) and "cannot import" in str(error.value)
    assert error.value.__cause__ is not None

    err = assert_one_line(cli("review", EXAMPLES[0], "--policy", f"{name}:POLICY"), limit=600)
    assert f"cannot import module '{name}'" in err and words in err, err
    assert_one_line(cli("diagram", "--policy", f"{name}:POLICY"), limit=600)


def test_a_module_attribute_that_raises_is_one_line(module_dir: Callable[[str], str]) -> None:
    name = module_dir("def __getattr__(name):\n    raise LookupError('no\\nway')\n")
    err = assert_one_line(cli("review", EXAMPLES[0], "--policy", f"{name}:POLICY"))
    assert "LookupError: no way" in err


def test_ctrl_c_while_importing_a_policy_module_is_not_swallowed(module_dir: Callable[[str], str]) -> None:
    name = module_dir("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load_policy(f"{name}:POLICY")
    name = module_dir("raise KeyboardInterrupt\n")
    assert cli("review", EXAMPLES[0], "--policy", f"{name}:POLICY") == (130, "", "deescalate: interrupted\n")


# -- crashing rules, Ctrl-C and errors of several lines, at the command line ---------------------

RULES_MODULE = """
import os
import signal

from deescalate import FACTS_FIRST, rule


def policy(check):
    made = rule("custom", severity="warning", on="empathy_expressed", message="m")(check)
    return FACTS_FIRST.named("custom").with_rules(made)


def interrupt(interaction, event, params):
    raise KeyboardInterrupt


def signal_myself(interaction, event, params):
    os.kill(os.getpid(), signal.SIGINT)
    return False


def surrogate(interaction, event, params):
    return "the verdict \\ud800"


def long_error(interaction, event, params):
    raise ValueError("a\\nb " * 100_000)


INTERRUPT = policy(interrupt)
SIGNAL = policy(signal_myself)
SURROGATE = policy(surrogate)
LONG_ERROR = policy(long_error)
"""


@pytest.fixture
def rules_module(module_dir: Callable[[str], str], tmp_path: Path) -> tuple[str, Path]:
    name = module_dir(RULES_MODULE)
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(f"{OPEN}\n\n{line_of('empathy_expressed')}\n", encoding="utf-8")
    return name, transcript


def test_ctrl_c_in_a_rule_ends_the_command_with_130(rules_module: tuple[str, Path]) -> None:
    name, transcript = rules_module
    for options in ([], ["--format", "json"], ["--strict"]):
        result = cli("review", transcript, "--policy", f"{name}:INTERRUPT", *options)
        assert result == (130, "", "deescalate: interrupted\n")


@pytest.mark.parametrize("attribute", ["SURROGATE", "LONG_ERROR"])
def test_a_rule_whose_verdict_or_error_cannot_be_shown_is_one_line(
    rules_module: tuple[str, Path], attribute: str
) -> None:
    name, transcript = rules_module
    for options in ([], ["--format", "json"]):
        result = cli("review", transcript, "--policy", f"{name}:{attribute}", *options)
        err = assert_one_line(result, line=3, limit=600)
        assert "rule 'custom' failed on empathy_expressed #1" in err


def test_every_error_is_printed_as_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise DeescalateError("first\nsecond\r\nthird\x1b[31m " + "x" * MEGABYTE)

    err = assert_one_line(cli("review", "no\nsuch\rfile.jsonl"))
    assert "cannot read no such file.jsonl" in err

    monkeypatch.setattr(deescalate.cli.review, "review", fail)
    err = assert_one_line(cli("review", EXAMPLES[0]), limit=600)
    assert err.startswith("deescalate: first second third\\x1b[31m xxx")


def _subprocess(*args: str | Path, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    environment["PYTHONPATH"] = os.pathsep.join([str(cwd), environment.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "deescalate", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="strict",
        cwd=cwd,
        env={**environment, **env},
        timeout=120,
        check=False,
    )


def as_result(done: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return done.returncode, done.stdout, done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_real_sigint_ends_the_command_with_130(rules_module: tuple[str, Path], tmp_path: Path) -> None:
    name, transcript = rules_module

    done = _subprocess("review", transcript, "--policy", f"{name}:SIGNAL", cwd=tmp_path)

    assert as_result(done) == (130, "", "deescalate: interrupted\n")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_reading_standard_input_ends_with_130(module_dir: Callable[[str], str], tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    name = module_dir(f"import pathlib\nfrom deescalate import FACTS_FIRST as P\npathlib.Path({str(marker)!r}).touch()\n")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "deescalate", "review", "-", "--policy", f"{name}:P"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=environment,
    )
    try:
        assert process.stdin is not None
        process.stdin.write(OPEN.encode() + b"\n")  # a first line, then nothing: it waits for more
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # past the import, into the read
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert (process.returncode, out, err) == (130, b"", b"deescalate: interrupted\n")


def test_output_in_a_narrow_encoding_never_crashes(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    opening = {"type": "interaction_opened", "at": AT, "interaction_id": "Ticket-Zo\u00eb-\u21167"}
    vented = {"type": "customer_vented", "at": AT, "intensity": 5}
    acknowledged = {"type": "concerns_acknowledged", "at": AT, "summary": ["\u00e7a"], "used_name": False}
    path.write_text("".join(json.dumps(e) + "\n" for e in (opening, vented, acknowledged)), encoding="utf-8")

    text = _subprocess("review", path, PYTHONIOENCODING="ascii")
    report = _subprocess("review", path, "--format", "json", PYTHONIOENCODING="ascii")

    assert (text.returncode, text.stderr) == (1, ""), text.stderr
    assert "Review of Ticket-Zo\\xeb-\\u21167" in text.stdout
    assert (report.returncode, report.stderr) == (1, "")
    assert json.loads(report.stdout)["interaction_id"] == "Ticket-Zo\u00eb-\u21167"


HOSTILE_FILES = {
    "deep": f"{OPEN}\n{nested(DEEP)}\n".encode(),
    "surrogate": f"{OPEN}\n{line_of('fact_recorded', detail=chr(0xD800))}\n".encode(),
    "megabyte-type": f"{OPEN}\n{json.dumps({'type': 'x' * MEGABYTE, 'at': AT})}\n".encode(),
    "huge-number": f"{OPEN}\n{line_of('remedy_proposed', value=10**400)}\n".encode(),
    "cr-only": f"{OPEN}\r\r{line_of('customer_vented', intensity=11)}\r".encode(),
    "nbsp-line": b"\xef\xbb\xbf" + f"{OPEN}\r\n\u00a0\r\n".encode(),
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_files_in_a_real_process(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(HOSTILE_FILES[name])

    done = _subprocess("review", path, "--format", "json")

    assert_one_line(as_result(done), line=3 if name == "cr-only" else 2)


# -- fuzzing the command with mutated example transcripts -----------------------------------------

EXAMPLE_LINES = [path.read_bytes().split(b"\n")[:-1] for path in EXAMPLES]
EVENT_TYPES = sorted(EVENT_CLASSES)
KEYS = ["type", "at", "event_id", "interaction_id", "intensity", "value", "summary", "fault", "remedy", "detail"]

hostile_json = st.one_of(
    st.sampled_from(
        [
            str(10**400),
            "-" + str(10**400),
            "9" * 5000,
            "1e400",
            "-1e400",
            "NaN",
            "Infinity",
            "-0.0",
            "1.5",
            "true",
            "null",
            "{}",
            "[]",
            '"\\ud800"',
            '"a\\udfffb"',
            '["ok", "\\udc00"]',
            '"\\ud83d\\ude00"',
            '"' + "x" * 100_000 + '"',
            nested(DEEP),
            nested(500),
            '{"a":' * 2000 + "1" + "}" * 2000,
            '"2026-03-02T09:01:00.1234567Z"',
            '"2026-03-02T09:01:00"',
            '"9999-12-31T23:59:59-23:59"',
            '"0001-01-01T00:00:00+23:59"',
            '"\u00a0"',
        ]
    ),
    st.sampled_from(EVENT_TYPES).map(json.dumps),
    st.integers().map(str),
    st.floats().map(lambda x: json.dumps(x)),
    st.text(max_size=20).map(json.dumps),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=8,
    ).map(json.dumps),
)

garbage = st.one_of(
    hostile_json,
    st.binary(max_size=40),
    st.sampled_from(["\u00a0", "\u2028", "\ufeff", "\x00", " \t", "", "\x85", "{", "}", "[1,", '{"type":']),
)


def _set_field(line: bytes, key: str, fragment: str) -> bytes:
    """``line`` with ``key`` set to the JSON text ``fragment`` (or the line itself if it is no object)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return line
    if not isinstance(data, dict):
        return line
    data.pop(key, None)
    head = json.dumps(data)[:-1]
    return f"{head}{', ' if data else ''}{json.dumps(key)}: {fragment}}}".encode(errors="surrogatepass")


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode(errors="surrogatepass")


@st.composite
def transcripts(draw: st.DrawFn) -> bytes:
    lines = list(draw(st.sampled_from(EXAMPLE_LINES)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(
            st.sampled_from(["delete", "duplicate", "swap", "flip", "insert", "truncate", "set", "replace"])
        )
        if not lines:
            lines.append(b"")
        i = draw(st.integers(0, len(lines) - 1))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "flip" and lines[i]:
            at = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:at] + bytes([draw(st.integers(0, 255))]) + lines[i][at + 1 :]
        elif action == "insert":
            lines.insert(i, _as_bytes(draw(garbage)))
        elif action == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        elif action == "set":
            lines[i] = _set_field(lines[i], draw(st.sampled_from(KEYS) | st.text(max_size=5)), draw(hostile_json))
        elif action == "replace":
            lines[i] = _as_bytes(draw(garbage))
    ending = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return bom + b"".join(line + ending for line in lines)


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "mutated.jsonl"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    data=transcripts(),
    options=st.sampled_from(
        [[], ["--strict"], ["--format", "json"], ["--strict", "--format", "json"], ["--policy", "apologize-first"]]
    ),
)
def test_fuzzed_transcripts_exit_0_1_or_2_and_never_crash(fuzz_file: Path, data: bytes, options: list[str]) -> None:
    fuzz_file.write_bytes(data)

    status, out, err = cli("review", fuzz_file, *options)

    assert status in (0, 1, 2), (status, err)
    out.encode("utf-8")  # strictly: no lone surrogate reached the report
    if status == 2:
        assert_one_line((status, out, err))
    else:
        assert err == ""
        if "json" in options:
            report = json.loads(out)
            assert set(report) == REPORT_KEYS
            assert (report["violations"] > 0) == (status == 1)
        else:
            assert out.startswith("Review of ")


def test_review_and_read_transcript_agree_with_the_command_on_a_fuzzed_example() -> None:
    # The in-process fuzzing above goes through main(); this is the same path as the library.
    data = EXAMPLES[0].read_bytes().replace(b"\n", b"\r")
    result = review(read_transcript([data]))
    assert result.events == len(EXAMPLE_LINES[0])

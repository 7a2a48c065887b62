"""Turning what a person typed into typed values, or one clear error. The same rules serve the CLI
and any web form: a field name the action does not take, a malformed or implausible date, control
characters, oversized text or files, an unreadable attachment are refused before anything is written."""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from decisions.errors import UnknownName, UsageError, shown
from decisions.store.documents import MAX_DOCUMENT_BYTES
from decisions.workflow.definition import FieldDef, FieldType, TransitionDef, WorkflowDef

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "choice",
    "close_names",
    "parse_assignments",
    "parse_date",
    "parse_fields",
    "read_attachment",
    "trigger_named",
]

EARLIEST_DATE = date(1949, 10, 1)
LATEST_DATE = date(2100, 12, 31)
MAX_STRING = 512
MAX_TEXT = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]")
_TRUE = {"true", "yes", "y", "1", "是"}
_FALSE = {"false", "no", "n", "0", "否"}


def parse_date(text: str, what: str = "date") -> date:
    """A YYYY-MM-DD date between 1949-10-01 and 2100-12-31."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"日期格式错误 / malformed date for {what}: {shown(text)} (expected YYYY-MM-DD)") from None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise UsageError(
            f"日期超出范围 / implausible date for {what}: {value} (allowed {EARLIEST_DATE} .. {LATEST_DATE})"
        )
    return value


def close_names(given: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``given`` ("did you mean"), best first."""
    return difflib.get_close_matches(given, list(known), n=n, cutoff=0.6)


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def choice(fdef: FieldDef, text: str) -> str | None:
    """The value of an enum or views field that ``text`` names: the value itself, or its Chinese or
    English label (``公共政策`` → ``public_policy``); None when it names none."""
    value = text.strip()
    if value in fdef.values:
        return value
    wanted = _key(value)
    for v in fdef.values:
        label = fdef.value_labels.get(v)
        if label is not None and wanted in (_key(label.zh), _key(label.en)):
            return v
    return None


def trigger_named(wf: WorkflowDef, text: str, offered: Iterable[TransitionDef] = ()) -> str:
    """The trigger ``text`` names in ``wf``: the trigger itself, or the Chinese or English label of a
    transition (those ``offered`` first: the same label may name actions of different states).
    Unknown: `UnknownName` with the closest triggers and labels."""
    name = text.strip()
    if name in wf.triggers:
        return name
    wanted = _key(name)
    for t in (*offered, *wf.transitions):
        if wanted in (_key(t.label.zh), _key(t.label.en)):
            return t.trigger
    labels = {t.label.zh: t.trigger for t in wf.transitions}
    meant = close_names(name, sorted(wf.triggers)) + [labels[x] for x in close_names(name, sorted(labels)) if labels[x]]
    meant = list(dict.fromkeys(meant))[:3]
    known = sorted(wf.triggers)
    raise UnknownName(
        f"未知操作 / unknown action {shown(name)} (actions of {wf.name}: {', '.join(known)})",
        what="action",
        name=name,
        suggestions=meant,
        known=known,
    )


def _clean(text: str, name: str, limit: int, multiline: bool) -> str:
    if len(text) > limit:
        raise UsageError(f"内容过长 / {name} is longer than {limit} characters")
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\r" in text or "\t" in text)):
        raise UsageError(f"含有控制字符 / {name} contains control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise UsageError(f"含有无效字符 / {name} contains invalid (surrogate) characters")
    return text.strip()


def _list(text: str, name: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            raise UsageError(f"{name}: 不是有效的 JSON 列表 / not a valid JSON list") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise UsageError(f"{name}: 列表只能包含文字 / a list of text is expected")
    else:
        items = [p for p in re.split(r"[,，、]", text)]
    out = [_clean(i, name, MAX_STRING, False) for i in items]
    return [i for i in out if i]


def _views(text: str, fdef: FieldDef) -> list[dict[str, Any]]:
    """``member:position[:head],...`` in speaking order, or a JSON list of objects."""
    text = text.strip()
    if text.startswith("["):
        try:
            views = json.loads(text)
        except ValueError:
            raise UsageError(f"{fdef.name}: 不是有效的 JSON / not valid JSON") from None
        if not isinstance(views, list):
            raise UsageError(f"{fdef.name}: 应为列表 / a list is expected")
        return views
    out: list[dict[str, Any]] = []
    for part in re.split(r"[,，]", text):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) not in (2, 3) or (len(bits) == 3 and bits[2] != "head") or not bits[0]:
            raise UsageError(
                f"{fdef.name}: 每项应为 成员:意见[:head] / each view is member:position[:head], got {shown(part)}"
            )
        position = choice(fdef, bits[1])
        if position is None:
            allowed = ", ".join(fdef.value_label(v) for v in fdef.values)
            raise UnknownName(
                f"{fdef.name}: 意见应为 {allowed} / position must be one of them: {shown(bits[1])}",
                what="value",
                name=bits[1],
                suggestions=close_names(bits[1], fdef.values),
                known=fdef.values,
            )
        view: dict[str, Any] = {"member": _clean(bits[0], fdef.name, MAX_STRING, False), "position": position}
        if len(bits) == 3:
            view["head"] = True
        out.append(view)
    return out


def parse_value(fdef: FieldDef, text: str) -> Any:
    """One typed value for ``fdef`` from text."""
    name = fdef.name
    t = fdef.type
    if t is FieldType.DATE:
        return parse_date(text, name)
    if t is FieldType.BOOLEAN:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise UsageError(f"{name}: 应为 true 或 false / expected true or false, got {shown(text)}")
    if t is FieldType.INTEGER:
        if not re.fullmatch(r"-?\d{1,12}", text.strip()):
            raise UsageError(f"{name}: 应为整数 / expected an integer, got {shown(text)}")
        return int(text)
    if t is FieldType.ENUM:
        value = choice(fdef, text)
        if value is None:
            allowed = ", ".join(fdef.value_label(v) for v in fdef.values)
            raise UnknownName(
                f"{name}: 应为 {allowed} 之一 / expected one of them, got {shown(text.strip())}",
                what="value",
                name=text.strip(),
                suggestions=close_names(text.strip(), fdef.values),
                known=fdef.values,
            )
        return value
    if t is FieldType.LIST:
        return _list(text, name)
    if t is FieldType.VIEWS:
        return _views(text, fdef)
    return _clean(text, name, MAX_TEXT if t is FieldType.TEXT else MAX_STRING, t is FieldType.TEXT)


def parse_assignments(pairs: Iterable[str], what: str = "--set") -> dict[str, str]:
    """``name=value`` pairs; a repeated name or a missing ``=`` is refused."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"{what} 应为 名称=值 / {what} expects name=value, got {shown(pair)}")
        if name in out:
            raise UsageError(f"{what} {name} 重复 / {what} {name} given twice")
        out[name] = value
    return out


def parse_fields(wf: WorkflowDef, t: TransitionDef, raw: Mapping[str, str]) -> dict[str, Any]:
    """Typed fields for transition ``t``; names it does not take are refused, listing those it does."""
    accepted = t.all_fields
    fields: dict[str, Any] = {}
    for name, text in raw.items():
        if name not in accepted:
            hint = ", ".join(accepted) or "—"
            raise UnknownName(
                f"操作 {t.trigger} 不接受字段 {shown(name)} / {t.trigger} does not take field {shown(name)} (takes: {hint})",
                what="field",
                name=name,
                suggestions=close_names(name, accepted),
                known=accepted,
            )
        fields[name] = parse_value(wf.fields[name], text)
    return fields


def read_attachment(spec: str) -> tuple[str, bytes, str]:
    """``kind=path`` → (kind, bytes, file name). The file must be a readable, non-empty regular file."""
    kind, sep, path_text = spec.partition("=")
    kind = kind.strip()
    if not sep or not kind or not path_text:
        raise UsageError(f"--attach 应为 类型=文件路径 / --attach expects KIND=PATH, got {shown(spec)}")
    path = Path(path_text)
    try:
        if not path.is_file():
            raise UsageError(f"附件不存在或不是普通文件 / attachment is not a regular file: {shown(path_text, 160)}")
        size = path.stat().st_size
        if size == 0:
            raise UsageError(f"附件为空 / attachment is empty: {shown(path_text, 160)}")
        if size > MAX_DOCUMENT_BYTES:
            raise UsageError(f"附件过大 / attachment exceeds {MAX_DOCUMENT_BYTES} bytes: {shown(path_text, 160)}")
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"附件无法读取 / cannot read attachment {shown(path_text, 160)}: {exc.strerror}") from exc
    except ValueError as exc:  # e.g. an embedded NUL in the path
        raise UsageError(f"附件路径无效 / invalid attachment path: {shown(path_text, 160)} ({exc})") from exc
    name = _clean(path.name, "file name", MAX_STRING, False) or "attachment"
    return kind, data, name

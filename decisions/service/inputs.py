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


ACCEPTED_DATE_FORMS = "2025-10-20、2025-10-5、2025/10/20、2025.10.20、2025年10月20日"
_DATE_FORMS = (
    re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})", re.ASCII),
    re.compile(r"([0-9]{4})(年)([0-9]{1,2})月([0-9]{1,2})日", re.ASCII),
)


def parse_date(text: str, what: str = "date") -> date:
    """A date between 1949-10-01 and 2100-12-31, written in any common form: ``2025-10-20`` (the one
    every output uses), ``2025-10-5``, ``2025/10/20``, ``2025.10.20`` or ``2025年10月20日`` (full-width
    digits too); anything else is refused naming the accepted forms."""
    written = unicodedata.normalize("NFKC", text).strip() if len(text) <= 40 else ""
    match = next((m for form in _DATE_FORMS if (m := form.fullmatch(written))), None)
    try:
        if match is None:
            raise ValueError
        value = date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError:
        raise UsageError(
            zh=f"日期格式错误：{what} 的值 {shown(text)} 不是有效日期，应写作 YYYY-MM-DD（可写 {ACCEPTED_DATE_FORMS}）",
            en=f"malformed date for {what}: {shown(text)} (expected YYYY-MM-DD; also accepted: "
            f"2025-10-5, 2025/10/20, 2025.10.20, 2025年10月20日)",
        ) from None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise UsageError(
            zh=f"日期超出范围：{what} 的值 {value} 应在 {EARLIEST_DATE} 至 {LATEST_DATE} 之间",
            en=f"implausible date for {what}: {value} (allowed {EARLIEST_DATE} .. {LATEST_DATE})",
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
        raise UsageError(zh=f"{name}：内容过长（不超过 {limit} 字）", en=f"{name} is longer than {limit} characters")
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\r" in text or "\t" in text)):
        raise UsageError(zh=f"{name}：含有控制字符", en=f"{name} contains control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise UsageError(zh=f"{name}：含有无效字符", en=f"{name} contains invalid (surrogate) characters")
    return text.strip()


MAX_NESTING = 2  # a list of text, a list of views (objects of text): nothing deeper is ever meant


def _json(text: str, name: str) -> Any:
    """JSON a person typed: a list, nested no deeper than a list of objects; anything else (malformed,
    deeper, so deep that the parser gives up) is one usage error."""
    depth, quoted, escaped = 0, False, False
    for c in text:  # before parsing: 2 000 nested ``[`` must not reach the parser's recursion limit
        if quoted:
            quoted, escaped = (escaped or c != '"'), (not escaped and c == "\\")
            continue
        quoted = c == '"'
        depth += c in "[{"
        if depth > MAX_NESTING:
            raise UsageError(
                zh=f"{name}：嵌套过深，应为文字列表或意见列表",
                en=f"{name}: nested too deeply (a flat list is expected)",
            )
        depth -= c in "]}"
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise UsageError(zh=f"{name}：不是有效的 JSON 列表", en=f"{name}: not a valid JSON list") from None


def _list(text: str, name: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        items = _json(text, name)
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise UsageError(zh=f"{name}：列表只能包含文字", en=f"{name}: a list of text is expected")
    else:
        items = [p for p in re.split(r"[,，、]", text)]
    out = [_clean(i, name, MAX_STRING, False) for i in items]
    return [i for i in out if i]


_VIEW_KEYS = {"member", "position", "head", "note"}


def _view(v: Any, fdef: FieldDef) -> dict[str, Any]:
    """One member's view given as a JSON object: text where text goes, a known position, ``head`` a boolean."""
    name = fdef.name
    if not isinstance(v, dict) or not isinstance(v.get("member"), str) or not isinstance(v.get("position"), str):
        raise UsageError(
            zh=f"{name}：每项意见应为含 member（成员，文字）和 position（意见）的对象",
            en=f"{name}: each view is an object with a member (text) and a position",
        )
    unknown = sorted(set(v) - _VIEW_KEYS)
    if unknown:
        raise UsageError(
            zh=f"{name}：意见含未知的键 {shown(', '.join(unknown))}（可用 member、position、head、note）",
            en=f"{name}: unknown keys in a view: {shown(', '.join(unknown))} (member, position, head, note)",
        )
    if v["position"] not in fdef.values:
        raise UsageError(
            zh=f"{name}：意见应为 {'、'.join(fdef.values)} 之一，而非 {shown(v['position'])}",
            en=f"{name}: a position is one of {', '.join(fdef.values)}, got {shown(v['position'])}",
        )
    if "head" in v and not isinstance(v["head"], bool):
        raise UsageError(zh=f"{name}：head 应为 true 或 false", en=f"{name}: head is true or false")
    if "note" in v and not isinstance(v["note"], str):
        raise UsageError(zh=f"{name}：note（说明）应为文字", en=f"{name}: a view's note is text")
    out = {**v, "member": unicodedata.normalize("NFC", _clean(v["member"], name, MAX_STRING, False))}
    if "note" in v:
        out["note"] = _clean(v["note"], name, MAX_TEXT, True)
    return out


def _views(text: str, fdef: FieldDef) -> list[dict[str, Any]]:
    """``member:position[:head],...`` in speaking order, or a JSON list of objects."""
    text = text.strip()
    if text.startswith("["):
        views = _json(text, fdef.name)
        if not isinstance(views, list):
            raise UsageError(zh=f"{fdef.name}：应为列表", en=f"{fdef.name}: a list is expected")
        return _once_each([_view(v, fdef) for v in views], fdef.name)
    out: list[dict[str, Any]] = []
    for part in re.split(r"[,，]", text):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) not in (2, 3) or (len(bits) == 3 and bits[2] != "head") or not bits[0]:
            raise UsageError(
                zh=f"{fdef.name}：每项应写作 成员:意见[:head]，而非 {shown(part)}",
                en=f"{fdef.name}: each view is member:position[:head], got {shown(part)}",
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
        member = unicodedata.normalize("NFC", _clean(bits[0], fdef.name, MAX_STRING, False))
        view: dict[str, Any] = {"member": member, "position": position}
        if len(bits) == 3:
            view["head"] = True
        out.append(view)
    return _once_each(out, fdef.name)


def _once_each(views: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Each member speaks once: two entries for one member (the same name, or two spellings equal
    after Unicode NFC normalisation) would be counted twice."""
    seen: set[str] = set()
    for v in views:
        if v["member"] in seen:
            raise UsageError(
                zh=f"{name}：成员 {shown(v['member'])} 出现两次（名称按 Unicode NFC 规范化后比较）",
                en=f"{name}: member {shown(v['member'])} appears twice (names are compared after Unicode NFC normalisation)",
            )
        seen.add(v["member"])
    return views


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
    """``name=value`` pairs; a repeated name or a missing ``=`` is refused. Names are compared in
    Unicode NFC: two spellings of one name (composed and decomposed) are one name, given twice."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = unicodedata.normalize("NFC", name.strip()) if len(name) <= MAX_STRING else name
        if not sep or not name:
            raise UsageError(
                zh=f"{what} 应写作 名称=值，而非 {shown(pair)}", en=f"{what} expects name=value, got {shown(pair)}"
            )
        if name in out:
            named = name if name.isidentifier() and name.isascii() else shown(name)
            raise UsageError(
                zh=f"{what} {named} 给了两次（名称按 Unicode NFC 规范化后比较）",
                en=f"{what} {named} given twice (names are compared after Unicode NFC normalisation)",
            )
        out[name] = value
    return out


def parse_fields(wf: WorkflowDef, t: TransitionDef, raw: Mapping[str, str]) -> dict[str, Any]:
    """Typed fields for transition ``t``, each named by its name or by its Chinese label (what
    ``show --lang zh`` prints); names it does not take are refused, listing those it does."""
    accepted = t.all_fields
    by_label = {wf.fields[n].label.zh: n for n in accepted if n in wf.fields}
    fields: dict[str, Any] = {}
    for given, text in raw.items():
        name = given if given in accepted else by_label.get(given, given)
        if name not in accepted:
            takes = "、".join(f"{wf.fields[n].label.zh}（{n}）" for n in accepted if n in wf.fields) or "—"
            raise UnknownName(
                what="field",
                name=given,
                suggestions=close_names(given, accepted),
                known=accepted,
                zh=f"操作 {t.trigger} 不接受字段 {shown(given)}（可填：{takes}）",
                en=f"{t.trigger} does not take field {shown(given)} (takes: {', '.join(accepted) or '—'})",
            )
        if name in fields:
            raise UsageError(
                zh=f"字段 {shown(name)} 给了两次（名称与标签）",
                en=f"field {shown(name)} given twice (by name and by label)",
            )
        fields[name] = parse_value(wf.fields[name], text)
    return fields


def read_attachment(spec: str) -> tuple[str, bytes, str]:
    """``kind=path`` → (kind, bytes, file name). The file must be a readable, non-empty regular file."""
    kind, sep, path_text = spec.partition("=")
    kind = kind.strip()
    if not sep or not kind or not path_text:
        raise UsageError(
            zh=f"--attach 应写作 类型=文件路径，而非 {shown(spec)}", en=f"--attach expects KIND=PATH, got {shown(spec)}"
        )
    path = Path(path_text)
    try:
        if not path.is_file():
            raise UsageError(
                zh=f"附件不存在或不是普通文件：{shown(path_text, 160)}",
                en=f"attachment is not a regular file: {shown(path_text, 160)}",
            )
        size = path.stat().st_size
        if size == 0:
            raise UsageError(
                zh=f"附件为空：{shown(path_text, 160)}", en=f"attachment is empty: {shown(path_text, 160)}"
            )
        if size > MAX_DOCUMENT_BYTES:
            raise UsageError(
                zh=f"附件过大（不超过 {MAX_DOCUMENT_BYTES} 字节）：{shown(path_text, 160)}",
                en=f"attachment exceeds {MAX_DOCUMENT_BYTES} bytes: {shown(path_text, 160)}",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            zh=f"附件无法读取：{shown(path_text, 160)}（{exc.strerror}）",
            en=f"cannot read attachment {shown(path_text, 160)}: {exc.strerror}",
        ) from exc
    except ValueError as exc:  # e.g. an embedded NUL in the path
        raise UsageError(
            zh=f"附件路径无效：{shown(path_text, 160)}（{exc}）",
            en=f"invalid attachment path: {shown(path_text, 160)} ({exc})",
        ) from exc
    name = _clean(path.name, "file name", MAX_STRING, False) or "attachment"
    return kind, data, name

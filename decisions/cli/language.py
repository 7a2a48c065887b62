"""One language on screen: the help, the metavars and Typer's own usage errors in the language of
``--lang`` (or ``DECISIONS_LANG``), chosen before the command line is parsed.

Typer prints its help and its usage errors itself, in English, with Python types as metavars
(``<str>``, ``<int>``). Here, once per run, the click command tree Typer built gets one-language help
(a help text is ``中文 / English``), a metavar for every parameter (``编号`` / ``ID``, never a type),
Chinese panel titles; and a usage error is told in Chinese from its kind and its parts (the option,
the argument, the command it names), not by translating English sentences after the fact.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

LANGUAGES = ("zh", "en", "both")

# parameter name → (zh, en) metavar; anything else by its type
METAVARS: dict[str, tuple[str, str]] = {
    "as_": ("姓名", "NAME"),
    "name": ("姓名", "NAME"),
    "on": ("日期", "YYYY-MM-DD"),
    "set_": ("字段=值", "NAME=VALUE"),
    "attach": ("类型=文件", "KIND=PATH"),
    "db": ("数据库地址", "URL"),
    "config": ("文件", "FILE"),
    "case_id": ("编号", "ID"),
    "action": ("操作", "ACTION"),
    "role": ("角色", "ROLE"),
    "unit": ("单位", "UNIT"),
    "workflow": ("流程", "WORKFLOW"),
    "lang": ("语言", "zh|en|both"),
    "out": ("文件", "FILE"),
    "hash_algorithm": ("算法", "sha256|sm3"),
    "files": ("文件", "FILE"),
}
BY_TYPE = {"<int": ("整数", "N"), "<path": ("路径", "PATH"), "<float": ("数值", "NUMBER")}
TEXT = ("文字", "VALUE")
RICH_ZH = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "帮助：[blue]{command_path} {help_option}[/]",
    "DEPRECATED_STRING": "（已弃用）",
}
_CJK = re.compile(r"[\u3400-\u9fff]")


def language(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language of this run: the last ``--lang`` before ``--``, else ``DECISIONS_LANG``, else both."""
    lang = environ.get("DECISIONS_LANG", "both")
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.removeprefix("--lang=")
    return lang if lang in LANGUAGES else "both"


def pick(text: str | None, lang: str) -> str | None:
    """``中文 / English`` in one language; a text not in that form is returned as it is."""
    if not text or lang == "both":
        return text
    for sep in re.finditer(r" ?/ ", text):  # the first "/" with Chinese before it and none after
        zh, en = text[: sep.start()], text[sep.end() :]
        if _CJK.search(zh) and not _CJK.search(en):
            return zh.strip() if lang == "zh" else en.strip()
    return text


def _metavar(param: Any, ctx: Any, lang: str) -> str:
    if getattr(param, "is_flag", False):
        return ""
    typed = str(param.display_type(ctx))  # <int>, <int range>, <path>, <str>, <mermaid|dot> ...
    choices = typed.strip("<>") if "|" in typed else ""
    by_type = next(
        (names for prefix, names in BY_TYPE.items() if typed.startswith(prefix)),
        (choices, choices) if choices else TEXT,
    )
    zh, en = METAVARS.get(param.name or "") or by_type
    return zh if lang == "zh" else en


def localise(command: Any, lang: str) -> None:
    """Give ``command`` (the click command Typer built) and every subcommand help in ``lang`` and a
    metavar for every parameter (no Python type on screen); in Chinese, Typer's own words too."""
    from typer import _click, rich_utils

    stack = [command]
    while stack:
        cmd = stack.pop()
        ctx = _click.Context(cmd)
        help_option = cmd.get_help_option(ctx)
        if help_option is not None:
            help_option.help = HELP_OPTION[lang]
        cmd.help = pick(cmd.help, lang)
        cmd.short_help = pick(cmd.short_help, lang)
        if lang == "zh":
            cmd.options_metavar = "[选项]"
            if hasattr(cmd, "subcommand_metavar"):
                cmd.subcommand_metavar = "命令 [参数]..."
        for param in [*cmd.params, *([help_option] if help_option is not None else [])]:
            if hasattr(param, "help") and param is not help_option:
                param.help = pick(param.help, lang)
            if param.metavar is None:
                param.metavar = _metavar(param, ctx, lang)
            shown = "" if param.param_type_name == "argument" else param.metavar  # its name is its metavar
            setattr(param, "display_type_rich", lambda ctx=None, shown=shown: shown)  # noqa: B010
        stack.extend(getattr(cmd, "commands", {}).values())
    if lang == "zh":
        for name, text in RICH_ZH.items():
            setattr(rich_utils, name, text)
        original = _click.formatting.HelpFormatter.write_usage

        def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
            original(self, prog, args, "用法：" if prefix is None else prefix)

        _click.formatting.HelpFormatter.write_usage = write_usage  # type: ignore[method-assign]


HELP_OPTION = {
    "zh": "显示本帮助并退出",
    "en": "Show this message and exit.",
    "both": "显示本帮助并退出 / show this help",
}


def _hint(param: Any) -> str:
    if param is None:
        return ""
    opts = [o for o in getattr(param, "opts", ()) if o.startswith("-")]
    return " / ".join(opts) if opts else str(param.display_name_raw)


def usage_error_zh(exc: Any) -> str:
    """A click usage error in Chinese, from its kind and its parts."""
    from typer._click import exceptions as e

    message = str(getattr(exc, "message", "") or "")
    if isinstance(exc, e.NoSuchOption):
        text = f"没有选项 {exc.option_name}"
        if exc.possibilities:
            text += f"（是否要输入：{', '.join(sorted(exc.possibilities))}）"
        return text
    if isinstance(exc, e.MissingParameter):
        kind = "选项" if getattr(exc.param, "param_type_name", "") == "option" else "参数"
        return f"缺少{kind} {_hint(exc.param)}"
    if isinstance(exc, e.BadParameter):
        return f"{_hint(exc.param) or '参数'} 的值无效：{_value_problem(message)}"
    if isinstance(exc, e.BadOptionUsage):
        if message.endswith("requires an argument."):
            return f"选项 {exc.option_name} 需要一个值"
        if message.endswith("does not take a value."):
            return f"选项 {exc.option_name} 不带值"
        return f"选项 {exc.option_name} 用法错误"
    if m := re.fullmatch(r"No such command (.+?)\.(?: Did you mean (.+)\?)?", message):
        return f"没有命令 {m[1]}" + (f"；是否要输入 {m[2]}？" if m[2] else "")
    if message == "Missing command.":
        return "缺少命令"
    if m := re.fullmatch(r"Got unexpected extra arguments? ?\(?s?\)? ?\((.*)\)", message):
        return f"多余的参数：{m[1]}"
    return f"命令行有误（{message}）" if message else "命令行有误"


def _value_problem(message: str) -> str:
    if "valid integer" in message:
        return "应为整数"
    if m := re.search(r"greater than or equal to (\S+)", message):
        return f"应不小于 {m[1]}"
    if m := re.search(r"less than or equal to (\S+)", message):
        return f"应不大于 {m[1]}"
    if "valid boolean" in message:
        return "应为 是/否（true/false）"
    return message


def show_usage_error(exc: Any, lang: str) -> int:
    """Print a click usage error as Typer would, in ``lang``; return its exit code (2)."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed as the error was made
        return int(exc.exit_code)
    ctx = getattr(exc, "ctx", None)
    if lang == "zh" and ctx is not None and getattr(exc, "message", "") == "Missing command.":
        text = ctx.get_help()  # Typer's rich help prints itself and returns nothing
        if text:
            print(text)
        return int(exc.exit_code)
    if lang != "zh":
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
        return int(exc.exit_code)
    if ctx is not None:
        print(ctx.get_usage(), file=sys.stderr)
        print(f"帮助：{ctx.command_path} --help", file=sys.stderr)
    print(f"错误：{usage_error_zh(exc)}", file=sys.stderr)
    return int(getattr(exc, "exit_code", 2))

"""Coverage-guided fuzzing of the definition loader with atheris (libFuzzer).

Each input replaces one shipped definition file and is loaded with the others, as `decisions` would
load a deployment. The first byte chooses the file: even, the major-decision workflow
(``workflows/major_decision.yaml``); odd, the national rule pack (``rules/national.yaml``). The rest
of the input, decoded as UTF-8 with ``errors="replace"``, is its text. The only outcomes allowed are
the loaded `Definitions` or a `DefinitionError`; anything else is re-raised, and libFuzzer reports
the crash and writes the input to ``crash-<sha1>`` in the working directory.

Usage (from the repository root)::

    .venv/bin/pip install -e '.[fuzz]'                               # atheris
    .venv/bin/python fuzz/fuzz_definitions.py --make-corpus            # seed fuzz/corpus/ (not committed)
    .venv/bin/python fuzz/fuzz_definitions.py fuzz/corpus -max_total_time=60 -timeout=20
    .venv/bin/python fuzz/fuzz_definitions.py --replay crash-<sha1>    # one input, without libFuzzer

``--make-corpus [DIR]`` copies the shipped workflow and rule-pack files into DIR (default
``fuzz/corpus``), each prefixed with the byte that makes the harness load it as what it is. Other
arguments go to libFuzzer (``-max_total_time``, ``-timeout``, ``-jobs``, ``-dict`` ...); with
``-timeout`` a hang (e.g. quadratic time on a long list) is reported as a crash too.

The loader bugs this harness used to find within seconds (a RecursionError from deep nesting, the
ValueError of integers longer than 4300 digits) are fixed; ``tests/test_fuzz_definitions.py`` keeps
regression tests for them. ``--ignore-known`` still skips those two kinds of exception, should they
come back, to let a long run look past them.

Without atheris installed, the harness prints how to install it and exits 0 (``--replay`` still works).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

try:
    import atheris  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # the harness must not fail where atheris is not installed
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["decisions"]):
        from decisions.definitions import Source
        from decisions.errors import DefinitionError
        from decisions.loading import load_sources
else:
    from decisions.definitions import Source
    from decisions.errors import DefinitionError
    from decisions.loading import load_sources

MAJOR = "workflows/major_decision.yaml"
NATIONAL = "rules/national.yaml"
SHIPPED: tuple[tuple[str, str], ...] = (
    ("workflow", MAJOR),
    ("workflow", "workflows/catalogue.yaml"),
    ("rule_pack", NATIONAL),
    ("rule_pack", "rules/hunan.yaml"),
    ("rule_pack", "rules/youxian.yaml"),
    ("calendar", "rules/calendar.yaml"),
)
TEXTS = {name: (ROOT / name).read_text(encoding="utf-8") for _, name in SHIPPED}
IGNORE_KNOWN = False


def _known_bug(exc: Exception) -> bool:
    if isinstance(exc, RecursionError):
        return True
    return isinstance(exc, ValueError) and "integer string conversion" in str(exc)


def TestOneInput(data: bytes) -> None:  # the name atheris expects
    if not data:
        return
    target = MAJOR if data[0] % 2 == 0 else NATIONAL
    text = data[1:].decode("utf-8", errors="replace")
    sources = [Source(kind, name, text if name == target else TEXTS[name]) for kind, name in SHIPPED]
    try:
        load_sources(sources)
    except DefinitionError as exc:
        for p in exc.problems:  # located: a file and a message
            if p.file not in TEXTS or not p.message.strip():
                raise AssertionError(f"unlocated problem: {p!r}") from exc
    except Exception as exc:
        if IGNORE_KNOWN and _known_bug(exc):
            return
        raise


def make_corpus(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for kind, name in SHIPPED:
        if kind == "calendar":
            continue
        prefix = b"\x00" if kind == "workflow" else b"\x01"
        (directory / Path(name).name).write_bytes(prefix + TEXTS[name].encode("utf-8"))
    print(f"seeded {directory} with {len(SHIPPED) - 1} files")


def main(argv: list[str]) -> int:
    global IGNORE_KNOWN
    args = list(argv)
    if "--ignore-known" in args:
        args.remove("--ignore-known")
        IGNORE_KNOWN = True
    if "--make-corpus" in args:
        i = args.index("--make-corpus")
        target = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("-") else "fuzz/corpus"
        make_corpus(Path(target))
        return 0
    if "--replay" in args:
        for name in args[args.index("--replay") + 1 :]:
            TestOneInput(Path(name).read_bytes())
            print(f"{name}: loaded or refused with located problems")
        return 0
    if atheris is None:
        print("atheris is not installed: .venv/bin/pip install -e '.[fuzz]' (skipping)", file=sys.stderr)
        return 0
    atheris.Setup(args, TestOneInput)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

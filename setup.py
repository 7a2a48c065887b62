"""Build step: ship the top-level definitions inside the wheel.

`workflows/`, `rules/`, `demo/` and `decisions.yaml` stay at the top of the repository (they are reviewed like
code, beside it); a built wheel carries copies under ``decisions/_shipped/`` so that an installed
package finds them (`decisions.config.shipped_root`). Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED_FILES = ("decisions.yaml",)
SHIPPED_DIRS = ("workflows", "rules", "demo")


class BuildWithDefinitions(build_py):
    """`build_py` plus a copy of the shipped definition files into the package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout itself
            return
        target = Path(self.build_lib) / "decisions" / "_shipped"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in SHIPPED_FILES:
            shutil.copy2(ROOT / name, target / name)
        for name in SHIPPED_DIRS:
            (target / name).mkdir()
            for path in sorted((ROOT / name).glob("*.yaml")):
                shutil.copy2(path, target / name / path.name)


setup(cmdclass={"build_py": BuildWithDefinitions})

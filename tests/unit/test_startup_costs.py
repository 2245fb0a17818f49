"""What a CLI command does not pay for: modules it never uses (issue item 8, CLI ≤ 0.3 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, tmp_path: Path) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(ROOT)})
    return done.stdout.strip()


def test_compiling_an_expression_skips_the_cel_shell(tmp_path: Path) -> None:
    """The CEL extension is loaded without ``cel.cli`` (prompt_toolkit, rich, pygments)."""
    code = ("import sys; from engine.expressions import compile_expression; "
            "e = compile_expression('fields.x > 1', fields=['x']); "
            "print(e.evaluate({'fields': {'x': 2}}), 'cel.cli' in sys.modules, 'prompt_toolkit' in sys.modules)")
    assert _run(code, tmp_path) == "True False False"


def test_the_cel_package_still_imports_after_the_extension(tmp_path: Path) -> None:
    """Whoever imports ``cel`` after kntc gets the whole package, sharing the loaded extension."""
    code = ("import sys; from engine.expressions import compile_expression; "
            "compile_expression('1 == 1', fields=[]); "
            "import cel, cel.cli; "
            "print(cel.compile('2 > 1').execute({}), sys.modules['cel.cel'].compile is cel.compile)")
    assert _run(code, tmp_path) == "True True"

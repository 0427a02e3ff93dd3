"""The documentation site builds with `mkdocs build --strict`: a broken API reference,
a docstring the reference cannot parse, or a dead link in the pages fails the build; the
command pages' help blocks, and every `rnnlab ...` line in the Markdown files, name only
options the commands have."""

import importlib.util
import os
import subprocess
import sys
from html import escape as html_escape
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def test_mkdocs_build_strict(tmp_path):
    missing = [m for m in NEEDED if importlib.util.find_spec(m.split(".")[0]) is None
               or importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the docs extra is not installed (missing {', '.join(missing)}): "
                    'pip install -e ".[docs]"')
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                             "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # The reference was generated from the docstrings, not left empty.
    for page, anchor in (("spec", "rnnlab.spec.ModelSpec"), ("checkpoint", "rnnlab.checkpoint.load"),
                         ("cells", "rnnlab.cells.lstm.LSTMCell"),
                         ("layers", "rnnlab.layers.LSTM.backward"),  # inherited members
                         ("train", "rnnlab.train.tbptt.TruncatedBPTT")):
        html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in html, f"{anchor} is missing from the reference page {page}"
    # A config field's comment (its command-line help) is its description there too.
    from rnnlab.config import field_help
    from rnnlab.spec import LayerSpec

    spec_page = (site / "reference" / "spec" / "index.html").read_text(encoding="utf-8")
    assert html_escape(field_help(LayerSpec)["hidden_size"], quote=False) in spec_page


def test_documented_commands_name_the_options_the_commands_have():
    """The help blocks of docs/commands and every `rnnlab ...` line in README, docs and
    benchmarks (docs/help_blocks.py --check)."""
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "help_blocks.py"), "--check"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


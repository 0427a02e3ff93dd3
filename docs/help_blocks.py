"""Keep the command pages' `--help` blocks equal to the commands' own help, and every
documented command line to the options its command has.

    python docs/help_blocks.py           # rewrite every stale block in docs/commands/*.md
    python docs/help_blocks.py --check   # exit 1 naming stale blocks and unknown options
                                         # (tests/test_docs.py)

A block is a ```text fence whose first line is `Usage: rnnlab <command> ...`; its content
becomes the output of `rnnlab <command> --help` at 80 columns. The check compares the
options each block names with the command's own (the wording and wrapping of a help
text change with typer's version; a renamed or removed option is what makes a page
wrong). The check also reads every `rnnlab ...` line (continuation lines joined) of
README.md, docs/ and benchmarks/*.md and names the options its command does not have.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "commands"
OPTION = re.compile(r"(?<![\w-])--[a-z][\w-]*")
BLOCK = re.compile(r"```text\n(Usage: rnnlab ((?:[a-z][\w-]* )*)\[OPTIONS\][^\n]*\n.*?)```",
                   re.DOTALL)


def help_text(command: list[str]) -> str:
    from typer.testing import CliRunner

    from rnnlab.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], prog_name="rnnlab",
                                terminal_width=80, env={"COLUMNS": "80", "NO_COLOR": "1"})
    if result.exit_code != 0:
        raise SystemExit(f"rnnlab {' '.join(command)} --help failed:\n{result.output}")
    return result.output


def refreshed(page: str) -> tuple[str, list[str]]:
    """(the page with every help block regenerated, the commands whose block names other
    options than the command has)."""
    stale = []

    def replace(match: re.Match) -> str:
        command = match.group(2).split()
        text = help_text(command)
        if set(OPTION.findall(text)) != set(OPTION.findall(match.group(1))):
            stale.append(" ".join(command))
        return f"```text\n{text}```"

    return BLOCK.sub(replace, page), stale


def unknown_options() -> list[str]:
    """'file: rnnlab <command> --option' for every documented option its command lacks."""
    import typer

    from rnnlab.cli import app

    root = typer.main.get_command(app)
    bad = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
                 *sorted((ROOT / "benchmarks").glob("*.md"))]:
        text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
        for line in text.splitlines():
            m = re.match(r"^\s*(?:\$ )?rnnlab ((?:[a-z][\w-]* ?)+)(.*)$", line)
            if not m:
                continue
            cmd, words = root, m.group(1).split()
            for w in words:
                if w not in getattr(cmd, "commands", {}):  # typer vendors its own click
                    break
                cmd = cmd.commands[w]
            known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
            bad += [f"{path.name}: rnnlab {' '.join(words)} {o}"
                    for o in OPTION.findall(m.group(2)) if o not in known]
    return bad


def main(check: bool) -> int:
    bad = []
    for path in sorted(PAGES.glob("*.md")):
        new, stale = refreshed(path.read_text(encoding="utf-8"))
        if check:
            bad += [f"{path.name}: rnnlab {c} --help" for c in stale]
        elif new != path.read_text(encoding="utf-8"):
            path.write_text(new, encoding="utf-8")
            print(f"{path.name}: refreshed")
    if bad:
        print("stale help blocks (run python docs/help_blocks.py):\n  " + "\n  ".join(bad))
    unknown = unknown_options() if check else []
    if unknown:
        print("options the commands do not have:\n  " + "\n  ".join(unknown))
    return 1 if bad or unknown else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))

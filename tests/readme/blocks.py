"""README.md's shell and YAML blocks, and the markers that say how the README test treats one.

A marker is an HTML comment on the line right before a block's fence (several may stand on
consecutive lines):

- ``<!-- readme-test: skip: REASON -->``: the block is not run, only parsed (each provisioner,
  deploy-stack and destroy-stack command gets ``--help`` after its own words and flags). REASON must
  be one of ``SKIP_REASONS``.
- ``<!-- readme-test: setup: COMMAND -->``: run COMMAND first (for example a deploy the block reads).
- ``<!-- readme-test: stdin: TEXT -->``: the block's standard input (what a user would type).
- ``<!-- readme-test: config RECIPE ENV... -->``: for a YAML block, a config file to plan with.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

OUR_PROGRAMS = ("provisioner", "deploy-stack", "destroy-stack")
SKIP_REASONS = (
    "needs the Pulumi CLI",
    "needs a real cloud",
    "installs",
    "needs a ZenML server",
    "starts a server and asks for its token",
)
_MARKER = re.compile(r"^<!-- readme-test: (?P<kind>skip|setup|stdin|config)(?::| )\s*(?P<value>.*?)\s*-->$")
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[a-z]*)\s*$")


@dataclass
class Block:
    """One fenced block: its language, first line number, code and markers."""

    lang: str
    line: int
    code: str
    skip: str | None = None
    setup: list[str] = field(default_factory=list)
    stdin: str = ""
    config: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"README.md:{self.line}"


def blocks(text: str) -> list[Block]:
    """Every ``bash`` and ``yaml`` block, with its markers; a marker naming no known reason is an error."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if not fence or not fence.group("lang"):
            index += 1
            continue
        indent = len(fence.group("indent"))  # a block inside a list item is indented
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith("```"):
            end += 1
        code = "\n".join(line[indent:] for line in lines[index + 1:end]) + "\n"
        block = Block(lang=fence.group("lang"), line=index + 2, code=code)
        above = index - 1
        while above >= 0 and (marker := _MARKER.match(lines[above].strip())):
            _apply(block, marker.group("kind"), marker.group("value"))
            above -= 1
        if block.lang in ("bash", "yaml"):
            found.append(block)
        index = end + 1
    return found


def _apply(block: Block, kind: str, value: str) -> None:
    if kind == "skip":
        if value not in SKIP_REASONS:
            raise ValueError(f"README.md:{block.line - 1}: skip reason {value!r} is not one of {SKIP_REASONS}")
        block.skip = value
    elif kind == "setup":
        block.setup.insert(0, value)
    elif kind == "stdin":
        block.stdin = value.replace("\\n", "\n") + "\n"
    else:
        block.config = value.split()


def commands(code: str) -> list[list[str]]:
    """The block's command lines as argument lists: continuations joined, comments dropped, ``a && b`` split,
    and ``[--optional things]`` in brackets dropped (they are shown as optional)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"\s\[[^\]]*\]", "", line)
        for part in re.split(r"\s&&\s", line):
            words = shlex.split(part, comments=True)
            if words:
                found.append(words)
    return found


def ours(words: list[str]) -> bool:
    return bool(words) and words[0] in OUR_PROGRAMS

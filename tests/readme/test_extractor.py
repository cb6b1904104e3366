"""The README test's own machinery: it must fail on a broken example, or it proves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.readme.blocks import blocks, commands
from tests.readme.runner import parse_failures, run

BROKEN = """Intro.

```bash
deploy-stack aws --env dev --simulate --no-such-flag
```

<!-- readme-test: skip: needs a real cloud -->
```bash
deploy-stack aws --env staging --regin eu-west-1   # a typo in a block that is only parsed
```

<!-- readme-test: skip: needs a real cloud -->
```bash
deploy-stack aws --env staging [--region eu-west-1]    # optional parts in brackets
provisioner connector register a --type aws --auth-method iam-role \\
    -c region=eu-west-1
```
"""


def test_a_deliberately_broken_example_fails_the_run() -> None:
    broken = blocks(BROKEN)[0]

    done = run(broken, Path(__import__("tempfile").mkdtemp()), {})

    assert done.returncode == 2
    assert "No such option: --no-such-flag" in done.stderr


def test_a_marked_block_with_a_misspelt_flag_fails_the_parse_check_and_a_good_one_passes() -> None:
    _, typo, good = blocks(BROKEN)

    assert [failure.split(":")[0] for failure in parse_failures(typo)] == ["deploy-stack aws --env staging --regin eu-west-1"]
    assert parse_failures(good) == []
    assert commands(good.code) == [["deploy-stack", "aws", "--env", "staging"],
                                   ["provisioner", "connector", "register", "a", "--type", "aws", "--auth-method", "iam-role",
                                    "-c", "region=eu-west-1"]]


def test_a_skip_marker_must_name_a_known_reason() -> None:
    with pytest.raises(ValueError, match="skip reason 'too slow' is not one of"):
        blocks("<!-- readme-test: skip: too slow -->\n```bash\nprovisioner --help\n```\n")

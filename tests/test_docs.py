"""The Python examples of the documentation pages run (pages whose snippets are complete)."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
RUNNABLE = ["flexibility.md"]


def snippets(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("page", RUNNABLE)
def test_page_snippets_run(page):
    found = snippets(page)
    assert found, f"{page} has no Python snippet"
    for code in found:
        exec(compile(code, f"docs/{page}", "exec"), {})

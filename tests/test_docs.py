"""The README's workbook guide documents every sheet, column and setting of the schema."""

from pathlib import Path

import pytest

from optimiser.schema import ITEM_LEVERS, SETTING_KEYS, SHEETS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
GUIDE = README[README.index("## Workbook guide") :]


@pytest.mark.parametrize("sheet", SHEETS.values(), ids=lambda s: s.name)
def test_workbook_guide_documents_every_column_of_each_sheet(sheet):
    section = GUIDE[GUIDE.index(f"### {sheet.title} ") :]
    section = section[: section.find("\n### ", 1)]
    if sheet.name == "settings":
        names = [*SETTING_KEYS, *(f"{prefix}.<id>" for prefix in ITEM_LEVERS)]
    else:
        names = list(sheet.column_names)
    missing = [name for name in names if f"| `{name}` |" not in section]
    assert missing == []


def test_readme_shows_the_two_setup_commands_and_the_five_line_script():
    assert "make run" in README and "make test" in README
    script = README[README.index("```python") :].split("```")[1]
    assert len([line for line in script.splitlines()[1:] if line.strip()]) == 5

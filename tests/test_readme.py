"""The README's generated tables match the code, and tools/api_table.py keeps them so."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from gpugraph.ops.registry import NO_GRADIENT, REGISTRY, OpDef

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_table", ROOT / "tools" / "api_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


api_table = _load_tool()


@pytest.fixture(scope="module")
def table() -> str:
    return api_table.api_table_markdown()


def _rows(table: str) -> dict[str, list[str]]:
    """Op type -> its cells (Gradient, GPU, Fused CUDA, Built by)."""
    rows = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.replace("\\|", "\0").strip("|").split("|")]
            rows[cells[0].strip("`")] = [c.replace("\0", "|") for c in cells[1:]]
    return rows


def _stale(marker: str, body: str, command: str) -> str:
    """Why README.md's section differs from ``body`` (with the command that mends it); "" if it agrees."""
    text = README.read_text(encoding="utf-8")
    try:
        diff = "\n".join(api_table.section_diff(text, marker, body))
    except api_table.SectionError as e:
        return f"README.md: {e}; add them on lines of their own, then run {command}"
    return f"README.md's {marker} section is stale; run {command}\n{diff}" if diff else ""


def test_readme_api_table_is_current(table: str) -> None:
    problem = _stale("api-table", table, "python tools/api_table.py --write README.md")
    assert not problem, problem


def test_readme_settings_table_is_current() -> None:
    if importlib.util.find_spec("gpugraph.config_files") is None:  # no settings: no section may pretend otherwise
        assert "<!-- settings-table:start -->" not in README.read_text(encoding="utf-8")
        return
    body = api_table.settings_table_markdown()
    problem = _stale("settings-table", body, "python tools/api_table.py --settings --write README.md")
    assert not problem, problem


def test_one_row_per_registered_op_with_its_facts(table: str) -> None:
    rows = _rows(table)
    assert sorted(rows) == sorted(REGISTRY)
    for name, (grad, gpu, fused, _) in rows.items():
        opdef = REGISTRY[name]
        assert grad == ("none" if opdef.grad is None else "not differentiable" if opdef.grad is NO_GRADIENT else "yes")
        assert gpu == ("yes" if opdef.gpu else "host")
        assert fused == ("yes" if opdef.cuda else "no")
    with_grad = sum(r[0] == "yes" for r in rows.values())
    assert table.startswith(f"{len(REGISTRY)} op types are registered: {with_grad} with a gradient, ")


def test_known_rows(table: str) -> None:
    rows = _rows(table)
    assert rows["Exp"] == ["yes", "yes", "yes", "`tf.exp`, `tf.math.exp`"]
    assert rows["ArgMax"][:3] == ["not differentiable", "yes", "no"]
    assert rows["RandomUniform"][1] == "yes"  # drawn on the device
    assert rows["Range"][1] == "host"
    assert rows["ProdGrad"] == ["none", "yes", "no", "(internal)"]  # built only by Prod's gradient
    assert rows["Sigmoid"][3] == "`tf.math.sigmoid`, `tf.nn.sigmoid`, `tf.sigmoid`"
    for name, expected in [("MatMul", "`x @ y`"), ("LogicalOr", "`x | y`"), ("StridedSlice", "`x[...]`"),
                           ("ApplyAdam", "`tf.train.AdamOptimizer`"), ("Assign", "`tf.Variable`"),
                           ("IsVariableInitialized", "`tf.is_variable_initialized`")]:
        assert expected in rows[name][3].split(", "), (name, rows[name])
    assert "`x \\| y`" in table  # a pipe inside a cell is escaped for GitHub's tables


def _doc(body: str) -> str:
    return f"# Title\n\nintro\n\n<!-- api-table:start -->\n{body}<!-- api-table:end -->\n\nafter\n"


def test_check_and_write_follow_the_registry(tmp_path: Path, table: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "README.md"
    doc.write_text(_doc("stale\n"), encoding="utf-8")
    assert api_table.main(["--check", str(doc)]) == 1
    assert "stale" in capsys.readouterr().err
    assert api_table.main(["--write", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nintro\n\n<!-- api-table:start -->\n\n") and text.endswith("\n\nafter\n")
    assert api_table.read_section(text, "api-table").strip("\n") == table.strip("\n")
    assert api_table.main(["--check", str(doc)]) == 0
    assert api_table.main(["--write", str(doc)]) == 0 and doc.read_text(encoding="utf-8") == text  # idempotent

    # A newly registered op makes the section stale until it is written again.
    monkeypatch.setitem(REGISTRY, "ZzFake", OpDef("ZzFake", infer=lambda x: (x.shape, x.dtype), cuda="out0 = in0",
                                                  gpu=False))
    assert api_table.main(["--check", str(doc)]) == 1
    assert "+| `ZzFake` | none | host | yes | (internal) |" in capsys.readouterr().err
    assert api_table.main(["--write", str(doc)]) == 0
    assert api_table.main(["--check", str(doc)]) == 0


@pytest.mark.parametrize("text", [
    "no markers\n",
    "<!-- api-table:end -->\n<!-- api-table:start -->\n",
    "<!-- api-table:start --> <!-- api-table:end -->\n",
])
def test_missing_or_misplaced_markers(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "README.md"
    doc.write_text(text, encoding="utf-8")
    with pytest.raises(api_table.SectionError):
        api_table.replace_section(text, "api-table", "body\n")
    assert api_table.main(["--write", str(doc)]) == 2
    assert api_table.main(["--check", str(doc)]) == 2
    assert "api-table:start" in capsys.readouterr().err
    assert doc.read_text(encoding="utf-8") == text


def test_section_diff_ignores_trailing_blanks_only() -> None:
    assert api_table.section_diff(_doc("\n| a |\n\n\n"), "api-table", "| a |\n") == []
    assert api_table.section_diff(_doc("| a |  \n"), "api-table", "| a |\n") == []
    assert api_table.section_diff(_doc("| b |\n"), "api-table", "| a |\n") != []

"""``--language`` on ``init`` and ``fill-sample``: a Chinese starter plan that builds in
Chinese, and a filled copy in the other language that consolidates to the same facts."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import SMALL
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.context import BuildContext

CJK = re.compile(r"[\u4e00-\u9fff]")
runner = CliRunner()


def test_init_language_zh_writes_a_chinese_starter_that_builds(tmp_path: Path) -> None:
    from xlplan.workbook.build import build_unit
    from xlplan.workbook.manifest import read_manifest

    result = runner.invoke(app, ["init", str(tmp_path / "zh"), "--language", "zh"])
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "zh" / "plan.yaml").read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) > 10 and all(CJK.search(line) for line in comments), comments
    loaded = load_plan(tmp_path / "zh" / "plan.yaml")
    assert loaded.plan.workbooks.language == "zh"
    assert loaded.plan.name == "小公司 2027 年度经营计划"
    # the same plan as the English starter in every number: same targets, unit by unit
    english = load_plan(SMALL)
    zh_ctx = BuildContext(loaded, read_prior_year(loaded))
    en_ctx = BuildContext(english, read_prior_year(english))
    assert zh_ctx.targets == en_ctx.targets and sum(zh_ctx.targets.values()) > 0
    built = build_unit(zh_ctx, tmp_path / "build", "EAST")
    manifest = read_manifest(built.path)
    assert manifest.language == "zh" and manifest.sheet_named("Targets") == "目标"
    # without --language, init writes the English starter as before
    assert runner.invoke(app, ["init", str(tmp_path / "en")]).exit_code == 0
    assert (tmp_path / "en" / "plan.yaml").read_bytes() == SMALL.read_bytes()


def test_fill_sample_language_writes_the_copy_in_that_language(tmp_path: Path) -> None:
    from xlplan.consolidate.examine import examine
    from xlplan.workbook.build import build_unit
    from xlplan.workbook.manifest import read_manifest

    loaded = load_plan(SMALL)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    built = build_unit(ctx, tmp_path, "WEST")
    facts = {}
    for language in ("en", "zh"):
        out = tmp_path / f"sent-{language}.xlsx"
        result = runner.invoke(app, ["fill-sample", str(built.path), "-o", str(out),
                                     "--seed", "3", "--language", language])
        assert result.exit_code == 0, result.stderr
        manifest = read_manifest(out)
        assert manifest.language == language
        assert manifest.sheet_named("Commitments") == (
            "承诺" if language == "zh" else "Commitments")
        found = examine(out, ctx)
        assert found.status == "accepted", found
        facts[language] = sorted(found.facts, key=repr)
    assert facts["zh"] == facts["en"] and len(facts["en"]) > 300

"""`xlplan addin lite|conf`: the files that put the XLPLAN_* functions into Excel.

The Lite main.py is run in a fresh Python where the installed xlplan (and every
heavy package) is blocked and xlwings is a stand-in that records the decorators
as xlwings Lite reads them: so it must bring every module it needs and expose
every function. The classic add-in's metadata is built by xlwings' own
decorators (with the Windows-only COM modules stubbed). The VBA modules are
checked against the names they rely on.
"""

from __future__ import annotations

import html
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, require_tool
from typer.testing import CliRunner

from xlplan.addin import PYODIDE_PACKAGES, bundle_modules
from xlplan.cli import app
from xlplan.udfs import FUNCTIONS
from xlplan.workbook.build import Built
from xlplan.workbook.live import SHEET as LIVE
from xlplan.workbook.manifest import KEYS, read_manifest
from xlplan.workbook.manifest import SHEET as MANIFEST

runner = CliRunner()

# Runs main.py as xlwings Lite would load it, with the real xlplan out of reach.
LITE_HARNESS = r'''
import importlib.abc, importlib.util, inspect, json, sys, types

BLOCKED = {"xlplan", "duckdb", "openpyxl", "xlsxwriter", "python_calamine", "typer", "rich",
           "formulas", "xlwings"}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Block())

# xlwings Lite's decorators, as far as registration goes: they tag the function.
xw = types.ModuleType("xlwings")
def _info(f):
    if not hasattr(f, "__xlfunc__"):
        f.__xlfunc__ = {"name": f.__name__, "args": {}, "options": {}}
    return f.__xlfunc__
def func(f=None, **options):
    def inner(f):
        _info(f)["options"].update(options)
        return f
    return inner if f is None else inner(f)
def arg(name, convert=None, **options):
    def inner(f):
        if name not in inspect.signature(f).parameters:
            raise TypeError(f"{f.__name__} has no argument {name}")
        _info(f)["args"][name] = options
        return f
    return inner
def ret(convert=None, **options):
    return lambda f: f
xw.func, xw.arg, xw.ret = func, arg, ret
sys.modules["xlwings"] = xw

spec = importlib.util.spec_from_file_location("main", sys.argv[1])
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)

found = {name: obj.__xlfunc__ for name, obj in inspect.getmembers(main)
         if hasattr(obj, "__xlfunc__")}
files = sorted({m.__file__ for n, m in sys.modules.items() if n.split(".")[0] == "xlplan"})
print(json.dumps({
    "functions": {n: {"params": list(inspect.signature(getattr(main, n)).parameters),
                      "declared": sorted(info["args"]), "options": info["options"]}
                  for n, info in found.items()},
    "allocate": main.XLPLAN_ALLOCATE(100, [[1, 1, 1]], 1),
    "spread": main.XLPLAN_SPREAD(1300, "4-4-5"),
    "rollup": main.XLPLAN_ROLLUP([["a"], ["b"]], [[None], ["a"]], [[1], [2.5]]),
    "files": files,
}))
'''


@pytest.fixture(scope="module")
def lite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lite")
    result = runner.invoke(app, ["addin", "lite", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "requirements.txt tab" in result.output and "main.py tab" in result.output
    return out


def run_lite(main: Path, tmp_path: Path) -> dict[str, Any]:
    harness = tmp_path / "harness.py"
    harness.write_text(LITE_HARNESS, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-I", str(harness), str(main)], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_lite_main_imports_and_exposes_every_function(lite_dir: Path, tmp_path: Path) -> None:
    report = run_lite(lite_dir / "main.py", tmp_path)
    assert set(report["functions"]) == set(FUNCTIONS)
    for name, info in report["functions"].items():
        assert info["params"] == list(inspect.signature(FUNCTIONS[name]).parameters)
        assert info["declared"] == sorted(info["params"]), name  # every argument described
        assert info["options"] == {"category": "xlplan"}
    assert report["allocate"] == [[34.0, 33.0, 33.0]]
    assert report["spread"] == [[100.0, 100.0, 125.0] * 4]
    assert report["rollup"] == [[3.5], [2.5]]
    # every xlplan module came from the bundle, none from the installed package
    assert report["files"] and all(f.startswith("<bundled xlplan/") for f in report["files"])


def test_lite_bundle_is_what_the_functions_import(lite_dir: Path) -> None:
    text = (lite_dir / "main.py").read_text(encoding="utf-8")
    modules = bundle_modules()
    assert "xlplan.udfs" in modules and "xlplan.udf_core" in modules
    assert not any(m.startswith(("xlplan.workbook", "xlplan.consolidate", "xlplan.cli"))
                   for m in modules)
    for name in modules:
        assert f"    {name!r}: (" in text
    compile(text, "main.py", "exec")  # valid Python


def test_lite_main_fails_loudly_without_its_bundle(lite_dir: Path, tmp_path: Path) -> None:
    """The harness is honest: with a module cut out of the bundle, main.py cannot load."""
    text = (lite_dir / "main.py").read_text(encoding="utf-8")
    cut = re.sub(r"    'xlplan\.engine\.rollup': \(False, '.*?'\),\n", "", text, count=1)
    assert cut != text
    broken = tmp_path / "main.py"
    broken.write_text(cut, encoding="utf-8")
    harness = tmp_path / "harness.py"
    harness.write_text(LITE_HARNESS, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-I", str(harness), str(broken)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode != 0
    assert "blocked: xlplan.engine.rollup" in proc.stderr


def test_lite_requirements(lite_dir: Path) -> None:
    lines = [line.strip() for line in
             (lite_dir / "requirements.txt").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == list(PYODIDE_PACKAGES)  # xlplan itself is bundled, not installed


def test_lite_refuses_to_overwrite_without_force(lite_dir: Path) -> None:
    result = runner.invoke(app, ["addin", "lite", "-o", str(lite_dir)])
    assert result.exit_code == 1
    assert "not overwriting" in result.output and "--force" in result.output
    assert runner.invoke(app, ["addin", "lite", "-o", str(lite_dir), "--force"]).exit_code == 0


CLASSIC_HARNESS = r'''
import json, sys
from unittest import mock
for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
    sys.modules[name] = mock.MagicMock(name=name)   # Windows-only COM modules
import xlwings
from xlwings import udfs as classic
from xlwings.conversion import accessors
xlwings.func, xlwings.arg, xlwings.ret = classic.xlfunc, classic.xlarg, classic.xlret
import xlplan.udfs as u
out = {}
for name, f in u.FUNCTIONS.items():
    info = f.__xlfunc__
    out[name] = {
        "name": info["name"], "category": info["category"],
        "args": [{"name": a["name"], "optional": "optional" in a, "doc": a["doc"],
                  "ndim": a["options"].get("ndim"), "err_to_str": a["options"].get("err_to_str"),
                  "converter_known": a["options"].get("convert") in accessors}
                 for a in info["args"]],
        "ret_known": info["ret"]["options"].get("convert") in accessors,
        "doc": info["ret"]["doc"],
    }
print(json.dumps(out))
'''


def test_classic_xlwings_registers_every_function_with_its_arguments(tmp_path: Path) -> None:
    harness = tmp_path / "classic.py"
    harness.write_text(CLASSIC_HARNESS, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(harness)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads(proc.stdout)
    assert set(meta) == set(FUNCTIONS)
    for name, info in meta.items():
        params = inspect.signature(FUNCTIONS[name]).parameters.values()
        assert info["name"] == name and info["category"] == "xlplan"
        assert [a["name"] for a in info["args"]] == [p.name for p in params]
        assert [a["optional"] for a in info["args"]] == [
            p.default is not inspect.Parameter.empty for p in params]
        for a in info["args"]:
            assert a["ndim"] == 2 and a["err_to_str"] is True
            assert a["converter_known"], (name, a["name"])  # a type hint xlwings can convert
            assert not a["doc"].startswith("Positional argument"), (name, a["name"])
        assert info["ret_known"] and info["doc"] == FUNCTIONS[name].__doc__


# VBA keywords: classic xlwings writes each argument name into a VBA function signature.
VBA_KEYWORDS = frozenset({"and", "as", "boolean", "byref", "byte", "byval", "call", "case",
    "class", "const", "currency", "debug", "dim", "do", "double", "each", "else", "elseif",
    "empty", "end", "endif", "enum", "erase", "event", "exit", "false", "for", "friend",
    "function", "get", "global", "gosub", "goto", "if", "implements", "in", "integer", "is",
    "let", "lib", "like", "long", "longlong", "loop", "lset", "me", "mod", "new", "next", "not",
    "nothing", "null", "on", "option", "optional", "or", "paramarray", "preserve", "private",
    "public", "raiseevent", "redim", "rem", "resume", "rset", "select", "set", "shared", "single",
    "static", "step", "stop", "string", "sub", "then", "to", "true", "type", "typeof", "until",
    "variant", "wend", "while", "with", "withevents", "xor"})


def test_argument_names_are_valid_in_vba() -> None:
    for name, f in FUNCTIONS.items():
        for p in inspect.signature(f).parameters:
            assert p.lower() not in VBA_KEYWORDS, (name, p)
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,254}", p), (name, p)


def test_conf_registers_the_module(tmp_path: Path) -> None:
    conf = tmp_path / "xlwings.conf"
    result = runner.invoke(app, ["addin", "conf", "-o", str(conf), "--interpreter",
                                 r"C:\Python311\python.exe"])
    assert result.exit_code == 0, result.output
    lines = conf.read_text(encoding="utf-8").splitlines()
    assert lines == ['"UDF MODULES","xlplan.udfs"', r'"INTERPRETER_WIN","C:\Python311\python.exe"']
    assert "Import Functions" in result.output and "xlplan addin lite" in result.output
    module = lines[0].split(",")[1].strip('"')
    assert __import__(module, fromlist=["FUNCTIONS"]).FUNCTIONS == FUNCTIONS
    again = runner.invoke(app, ["addin", "conf", "-o", str(conf)])
    assert again.exit_code == 1 and "not overwriting" in again.output
    forced = runner.invoke(app, ["addin", "conf", "-o", str(conf), "--force"])
    assert forced.exit_code == 0
    if not sys.platform.startswith("win"):  # no Python named: the steps say how to set one
        assert conf.read_text(encoding="utf-8") == '"UDF MODULES","xlplan.udfs"\n'
        assert "--interpreter" in forced.output


# --------------------------------------------------------------------------- VBA modules

MACROS = ROOT / "macros"


def vba(name: str) -> str:
    return (MACROS / f"{name}.bas").read_bytes().decode("ascii")  # the VBE reads ANSI


@pytest.mark.parametrize("name", ["XlplanManifest", "XlplanPreflight", "XlplanSubmit",
                                  "XlplanRefresh"])
def test_vba_modules_are_importable_text(name: str) -> None:
    raw = (MACROS / f"{name}.bas").read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF, as the VBE writes
    text = vba(name)
    assert text.startswith(f'Attribute VB_Name = "{name}"\r\n')
    assert "\r\nOption Explicit\r\n" in text


def test_vba_macros_use_the_names_xlplan_writes() -> None:
    assert f'MANIFEST_SHEET As String = "{MANIFEST}"' in vba("XlplanManifest")
    for key in re.findall(r'ManifestValue\(wb, "(\w+)"\)', vba("XlplanSubmit") +
                          vba("XlplanManifest")):
        assert key in (*KEYS, "language", "sheet_names")
    assert f'LIVE_SHEET As String = "{LIVE}"' in vba("XlplanRefresh")
    for name, sub in (("XlplanPreflight", "XlplanPreflight"), ("XlplanSubmit", "XlplanSubmit"),
                      ("XlplanRefresh", "XlplanRefresh")):
        assert f"\r\nPublic Sub {sub}()\r\n" in vba(name)
    # the submission's name: <plan-id>-<UNIT>-<yyyymmdd-hhmm>.xlsx
    assert ('planId & "-" & unit & "-" & Format$(at, "yyyymmdd-hhmm") & ".xlsx"'
            in vba("XlplanSubmit"))


BASIC_LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard"
 library:readonly="false" library:passwordprotected="false">{element}</library:library>
"""
BASIC_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN"
 "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library"
 xmlns:xlink="http://www.w3.org/1999/xlink"><library:library library:name="Standard"
 xlink:href="$(USER)/basic/Standard/{kind}.xlb/" xlink:type="simple" library:link="false"/>
</library:libraries>
"""
BASIC_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1"
 script:language="StarBasic">{code}</script:module>
"""


def run_basic(folder: Path, code: str) -> str:
    """Run ``Main`` of a Basic module in LibreOffice (VBA mode); return what it wrote to out.txt."""
    soffice = require_tool("soffice")
    profile = f"-env:UserInstallation={(folder / 'profile').as_uri()}"
    # A new profile's first start replaces user/basic with LibreOffice's defaults: start once.
    subprocess.run([soffice, "--headless", "--norestore", "--terminate_after_init", profile],
                   capture_output=True, timeout=180)
    basic = folder / "profile" / "user" / "basic"
    (basic / "Standard").mkdir(parents=True, exist_ok=True)
    for kind in ("script", "dialog"):
        (basic / f"{kind}.xlc").write_text(BASIC_INDEX.format(kind=kind), encoding="utf-8")
    (basic / "Standard" / "script.xlb").write_text(BASIC_LIBRARY.format(
        element='<library:element library:name="Module1"/>'), encoding="utf-8")
    (basic / "Standard" / "dialog.xlb").write_text(BASIC_LIBRARY.format(element=""),
                                                   encoding="utf-8")
    out = folder / "out.txt"
    code = code.replace("OUT_PATH", str(out))
    (basic / "Standard" / "Module1.xba").write_text(
        BASIC_MODULE.format(code=html.escape(code, quote=False)), encoding="utf-8")
    subprocess.run([soffice, "--headless", "--norestore", profile,
                    "macro:///Standard.Module1.Main"], capture_output=True, timeout=180)
    assert out.is_file(), "the Basic macro did not run (a compile error?)"
    return out.read_text(encoding="utf-8")  # Basic prints UTF-8


def _vba_part(name: str, start: str, end: str | None = None) -> str:
    text = vba(name).replace("\r\n", "\n")
    body = text[text.index(start):]
    return body[:body.index(end)] if end else body


BASIC_TEST = """
Sub W(s As String)
    Dim f As Integer
    f = FreeFile
    Open "OUT_PATH" For Append As #f
    Print #f, s
    Close #f
End Sub

Sub Main
    Dim f As Integer, text As String, part As String, parsed As Variant, entry As Variant
    Dim rule As Variant
    Dim required As Variant
    On Error GoTo Bad
    f = FreeFile
    Open "IN_PATH" For Input As #f
    Do While Not EOF(f)
        Line Input #f, part
        text = text & part
    Loop
    Close #f
    ParseJson text, parsed
    For Each entry In parsed
        JsonGet entry, "rule", rule
        JsonGet rule, "required", required
        W JsonText(entry, "sheet") & "|" & JsonText(entry, "cell") & "|" & _
            JsonText(rule, "kind") & "|" & CStr(required = True)
    Next entry
    f = FreeFile
    Open "NAMES_PATH" For Input As #f
    Line Input #f, text
    Close #f
    W ShownSheetName(text, "Commitments") & "|" & ShownSheetName(text, "Nope")
    W SubmissionName("huaxin-2027", "R-GD", DateSerial(2027, 1, 15) + TimeSerial(9, 5, 0))
    Exit Sub
Bad:
    W "error " & Err.Number & ": " & Err.Description
End Sub
"""


@pytest.mark.slow
@pytest.mark.libreoffice
def test_vba_manifest_reader_in_libreoffice_basic(built: list[Built], tmp_path: Path) -> None:
    """The VBA JSON reader and file naming, run by LibreOffice Basic in VBA mode, read a real
    unit workbook's manifest inputs as Python does (non-ASCII names as \\u escapes)."""
    unit = next(b for b in built if b.unit is not None)
    manifest = read_manifest(unit.path)
    inputs = manifest.inputs
    source = tmp_path / "inputs.json"
    text = json.dumps(inputs, ensure_ascii=True, separators=(",", ":"))
    # in lines of 30,000 characters, as the manifest keeps it in cells (inputs, inputs#1 …):
    # Basic's Line Input stops at 65,535 characters, a whole year's BSC inputs is more
    source.write_text("\n".join(text[i:i + 30_000] for i in range(0, len(text), 30_000)),
                      encoding="ascii")
    from xlplan.i18n import Words, msg

    shown = {key: Words("zh")(msg(key)) for key in ("Guide", "Commitments", "Live")}
    assert shown["Commitments"] != "Commitments"  # a zh manifest's sheet_names, as \u escapes
    names = tmp_path / "names.json"
    names.write_text(json.dumps(shown, ensure_ascii=True), encoding="ascii")
    code = ("Option VBASupport 1\nOption Explicit\nPrivate pText As String\n"
            "Private pPos As Long\n"
            + _vba_part("XlplanManifest", "' ------------------------------------------------"
                                          "---------------- a small JSON reader")
            + _vba_part("XlplanSubmit", "' <plan-id>-<UNIT>-", "' Save wb as")
            + BASIC_TEST.replace("IN_PATH", str(source)).replace("NAMES_PATH", str(names)))
    lines = run_basic(tmp_path, code).splitlines()
    assert lines[-1] == "huaxin-2027-R-GD-20270115-0905.xlsx"
    assert lines[-2] == f"{shown['Commitments']}|Nope"
    lines = lines[:-1]
    expected = [f"{i['sheet']}|{i['cell']}|{i['rule'].get('kind', '')}|"
                f"{bool(i['rule'].get('required'))}" for i in inputs]
    assert lines[:-1] == expected

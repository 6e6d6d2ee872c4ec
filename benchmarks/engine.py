"""Benchmark: the engine's decomposition and roll-up against LibreOffice recalculating it.

A seeded org (company → departments → regions → ``--units`` leaf units), ``--products``
products and 12 months. The company target (in minor units, i.e. cents) is split
down the org by each unit's weight, each leaf's target over the products by mix
weights, each product amount over 4 quarters and each quarter over its 3 months by
a seasonal profile, every split a largest-remainder split to the cent; then the
leaf × product × month cube is rolled up to every node of the org.

- **xlplan** (the engine): ``OrgTree.from_units`` + ``allocate_org`` (the org),
  ``allocate_rows`` with ``order_by_code`` (the product mix) and ``phase_year``
  (quarters, then months), i.e. what ``decompose.split_unit_targets`` calls, without
  the channel layer; then ``rollup`` of the cube over the org (every node × product ×
  month). Generating the inputs (``Unit`` objects, weights) is not timed.
- **LibreOffice**: ``LibreOffice.recalculate`` (headless ``soffice --convert-to xlsx``
  with a private profile set to recalculate on load) of an .xlsx written with
  XlsxWriter whose formulas compute the same numbers from the same inputs: every
  split is ``xlplan/workbook/splitter.py``'s largest-remainder formulas (units,
  quota, INT, ROUND(…, 9), SUMPRODUCT rank, deficit, result), the org as splitter
  blocks, products/quarters/months one split per row; the roll-up is ``SUMIFS`` level
  by level. Every formula's cached value is written as 0. The time is the wall time
  of the whole conversion (start soffice, load, recalculate, save); nothing is
  subtracted. The start-up alone (the same conversion of a one-formula workbook) is
  timed in the same rounds and shown as its own column.

Each round runs the three (engine, LibreOffice, start-up) in a rotating order; the
table shows medians. Every round's LibreOffice output is read back and compared with
the engine to the cent (org targets, leaf × product, quarters, months, roll-up); any
difference, or a formula LibreOffice left at its cached 0, stops the run with an error.

12 million leaf amounts (about 97 million formulas in this layout) are far beyond what
LibreOffice loads in reasonable time, so the comparison runs at ``--units`` ×
``--products`` (default 100 × 50), and the engine alone also runs at ``--full-units`` ×
``--full-products`` (default 5,000 × 200, the size in issue #8) in a fresh process (so its
peak RSS is its own).

    PYTHONPATH=. python benchmarks/engine.py                        # 100 × 50 vs LibreOffice
    PYTHONPATH=. python benchmarks/engine.py --units 50 --products 20
    PYTHONPATH=. python benchmarks/engine.py --quick                # tiny, one round (CI)
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import gc
import math
import multiprocessing
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter
from timing import peak_rss_mb, timed  # benchmarks/timing.py
from xlsxwriter.utility import xl_rowcol_to_cell

from xlplan.engine.allocate import allocate_rows, order_by_code
from xlplan.engine.org import OrgTree, allocate_org
from xlplan.engine.phasing import Profile, phase_year, quarters_of
from xlplan.engine.rollup import rollup
from xlplan.libreoffice import LibreOffice, read_values
from xlplan.spec.models import AllocationMethod, AllocationRules, Unit

RULES = AllocationRules(method=AllocationMethod.weights)
MONTHS = 12
FIRST = 2  # first data row (0-based) on every sheet: a title row and a header row above


class Mismatch(RuntimeError):
    """LibreOffice's numbers are not the engine's (or were not recalculated)."""


# --- the inputs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inputs:
    units: list[Unit]  # plan order: company, departments, regions, leaves
    total: int  # the company target, minor units
    products: list[str]
    mix: list[float]
    profile: Profile


def shape(n_units: int) -> tuple[int, int]:
    """(departments, regions) for ``n_units`` leaves: about √N/1.5 regions, √regions depts."""
    regions = max(1, min(n_units, round(math.sqrt(n_units) / 1.5)))
    return max(1, round(math.sqrt(regions))), regions


def generate(n_units: int, n_products: int, seed: int) -> Inputs:
    """The seeded org, product mix and seasonal profile (the same for the same arguments)."""
    rng = random.Random(seed)
    n_depts, n_regions = shape(n_units)

    def weight() -> float:
        return round(rng.uniform(0.5, 20.0), 2)

    units = [Unit(code="CO", name="Company", kind="company")]
    units += [Unit(code=f"D{d + 1:02d}", name=f"Department {d + 1}", parent="CO",
                   kind="department", weight=weight()) for d in range(n_depts)]
    regions = [f"R{r + 1:03d}" for r in range(n_regions)]
    units += [Unit(code=code, name=f"Region {r + 1}", parent=f"D{r % n_depts + 1:02d}",
                   kind="region", weight=weight()) for r, code in enumerate(regions)]
    # every region gets a leaf, the rest land anywhere: uneven teams, as in a real org
    home = regions + [rng.choice(regions) for _ in range(n_units - n_regions)]
    width = max(4, len(str(n_units)))
    units += [Unit(code=f"L{i + 1:0{width}d}", name=f"Unit {i + 1}", parent=home[i],
                   kind="leaf", weight=weight()) for i in range(n_units)]
    products = [f"P{j + 1:04d}" for j in range(n_products)]
    rng.shuffle(products)  # plan order is not code order: the tie-break order matters
    mix = [max(0.01, round(rng.lognormvariate(0.0, 1.0), 2)) for _ in products]
    quarters = tuple(round(rng.uniform(10.0, 35.0), 1) for _ in range(4))
    months = tuple(round(rng.uniform(60.0, 110.0), 1) for _ in range(MONTHS))
    total = rng.randrange(50_000_000_000, 200_000_000_000)  # 0.5-2 billion yuan, in cents
    return Inputs(units, total, products, mix, Profile(quarters, months))


# --- the engine --------------------------------------------------------------------------------

@dataclass
class Result:
    targets: dict[str, int]  # every unit's annual target
    leaves: list[str]
    by_product: np.ndarray  # leaves × products
    months: np.ndarray  # leaves × products × 12
    nodes: list[str]  # every unit, top-down (tree.walk())
    rolled: np.ndarray  # nodes × (products · 12), float
    stages: dict[str, float] = field(default_factory=dict)


def run_engine(inp: Inputs) -> Result:
    """The decomposition and the roll-up, with the time of each stage."""
    t0 = time.perf_counter()
    tree = OrgTree.from_units(inp.units)
    targets = allocate_org(tree, inp.total, RULES)
    leaves = tree.leaves()
    totals = np.array([targets[c] for c in leaves], dtype=np.int64)
    t1 = time.perf_counter()
    by_product = allocate_rows(totals, inp.mix, order=order_by_code(inp.products))
    t2 = time.perf_counter()
    months = phase_year(by_product.reshape(-1), inp.profile)
    months = months.reshape(len(leaves), len(inp.products), MONTHS)
    t3 = time.perf_counter()
    nodes = tree.walk()
    parents = [tree.units[c].parent for c in nodes]
    values = np.zeros((len(nodes), len(inp.products) * MONTHS))
    row = {c: i for i, c in enumerate(nodes)}
    values[[row[c] for c in leaves]] = months.reshape(len(leaves), -1)
    rolled = rollup(nodes, parents, values)
    t4 = time.perf_counter()
    stages = {"org": t1 - t0, "products": t2 - t1, "months": t3 - t2, "rollup": t4 - t3}
    return Result(targets, leaves, by_product, months, nodes, rolled, stages)


def self_check(inp: Inputs, res: Result) -> None:
    """Every level ties exactly to the one above (fails loudly, not an assert)."""
    tree = OrgTree.from_units(inp.units)
    problems = []
    totals = np.array([res.targets[c] for c in res.leaves], dtype=np.int64)
    if not np.array_equal(res.by_product.sum(axis=1), totals):
        problems.append("products do not add up to the leaf targets")
    if not np.array_equal(res.months.sum(axis=2), res.by_product):
        problems.append("months do not add up to the product amounts")
    node_totals = res.rolled.sum(axis=1)
    expected = np.array([res.targets[c] for c in res.nodes], dtype=float)
    if not np.array_equal(node_totals, expected):
        problems.append("the roll-up of a node is not its org target")
    if res.targets[tree.root] != inp.total:
        problems.append("the root's target is not the company target")
    if problems:
        raise Mismatch("engine self-check failed: " + "; ".join(problems))


# --- the equivalent workbook -------------------------------------------------------------------

@dataclass
class Layout:
    """Where each engine number is in the workbook: (sheet, A1 ref) → expected value."""

    expected: list[tuple[str, str, int]] = field(default_factory=list)
    formulas: int = 0


def _abs_range(row: int, first_col: int, last_col: int, sheet: str = "") -> str:
    """$A$1:$Z$1 style (both absolute), optionally sheet-qualified."""
    a = xl_rowcol_to_cell(row, first_col, row_abs=True, col_abs=True)
    b = xl_rowcol_to_cell(row, last_col, row_abs=True, col_abs=True)
    return f"{sheet}!{a}:{b}" if sheet else f"{a}:{b}"


def _row_range(row: int, first_col: int, last_col: int) -> str:
    """$A1:$Z1: columns absolute, row relative (a range along one row)."""
    a = xl_rowcol_to_cell(row, first_col, col_abs=True)
    b = xl_rowcol_to_cell(row, last_col, col_abs=True)
    return f"{a}:{b}"


class Writer:
    """Writes formulas with a cached value of 0, and counts them."""

    def __init__(self, path: Path):
        self.wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.formulas = 0

    def formula(self, ws: Any, row: int, col: int, text: str) -> None:
        ws.write_formula(row, col, "=" + text, None, 0)  # cached 0: LibreOffice must compute
        self.formulas += 1


def _split_in_a_row(w: Writer, ws: Any, row: int, col: int, units_ref: str, k: int,
                    weight_refs: list[str], weight_range: str, order_refs: list[str],
                    order_range: str) -> tuple[str, list[int]]:
    """splitter.py's formulas for one split laid out along a row, from column ``col``.

    Columns: deficit, then k quotas, k floors, k remainders, k ranks, k results (step 1,
    so no leftover). Returns the deficit's ref and the result columns.
    """
    quota = col + 1
    floor, rem, rank, result = (quota + k * i for i in range(1, 5))
    deficit = xl_rowcol_to_cell(row, col, col_abs=True)
    w.formula(ws, row, col, f"{units_ref}-SUM({_row_range(row, floor, floor + k - 1)})")
    rems = _row_range(row, rem, rem + k - 1)
    for i in range(k):
        q, f, e, g = (xl_rowcol_to_cell(row, c + i) for c in (quota, floor, rem, rank))
        w.formula(ws, row, quota + i,
                  f"IF(SUM({weight_range})=0,0,{units_ref}*{weight_refs[i]}/SUM({weight_range}))")
        w.formula(ws, row, floor + i, f"INT({q})")
        w.formula(ws, row, rem + i, f"ROUND({q}-{f},9)")
        w.formula(ws, row, rank + i, f"1+SUMPRODUCT(({rems}>{e})+({rems}={e})*"
                                     f"({order_range}<{order_refs[i]}))")
        w.formula(ws, row, result + i, f"({f}+IF({g}<={deficit},1,0))")
    return deficit, list(range(result, result + k))


def write_workbook(inp: Inputs, res: Result, path: Path) -> Layout:
    """The workbook whose formulas compute ``res`` from ``inp``; returns where to look."""
    tree = OrgTree.from_units(inp.units)
    w = Writer(path)
    lay = Layout()
    n_p = len(inp.products)
    leaf_row = {c: i for i, c in enumerate(res.leaves)}

    # Inputs: the only numbers LibreOffice is given
    ws = w.wb.add_worksheet("Inputs")
    ws.write_string(0, 0, "Company target (minor units)")
    ws.write_number(0, 1, inp.total)
    product_order = order_by_code(inp.products)
    quarter_w = inp.profile.quarter_weights or ()
    rows: list[tuple[str, list[Any]]] = [
        ("Product", list(inp.products)), ("Mix weight", list(inp.mix)),
        ("Tie order", product_order), ("", []),
        ("Quarter", [f"Q{q + 1}" for q in range(4)]), ("Quarter weight", list(quarter_w)),
        ("Tie order", [0, 1, 2, 3]), ("", []),
        ("Fiscal month", list(range(1, MONTHS + 1))),
        ("Month weight (within its quarter)", list(inp.profile.month_weights)),
        ("Tie order (within its quarter)", [0, 1, 2] * 4),
    ]
    for r, (label, cells) in enumerate(rows, start=2):
        ws.write_string(r, 0, label)
        for c, value in enumerate(cells, start=1):
            if isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write_number(r, c, value)
    mix_row, p_order_row, q_w_row, q_order_row, m_w_row, m_order_row = 3, 4, 7, 8, 11, 12

    def inputs_ref(row: int, col: int) -> str:
        return "Inputs!" + xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)

    # Org: one splitter block per parent (header row, then one row per child)
    ws = w.wb.add_worksheet("Org")
    ws.write_string(0, 0, "Largest-remainder split of each parent's target over its children")
    for col, text in enumerate(["Split / child", "Weight · total", "Quota · units",
                                "Floor · deficit", "Remainder · leftover", "Tie order",
                                "Rank", "Result (minor units)"]):
        ws.write_string(1, col, text)
    result_ref = {tree.root: inputs_ref(0, 1)}
    h = FIRST
    for node in tree.walk():
        kids = tree.children[node]
        if not kids:
            continue
        first, last = h + 1, h + len(kids)
        order = order_by_code(kids)

        def rng(col: int, first: int = first, last: int = last) -> str:
            return (xl_rowcol_to_cell(first, col, row_abs=True, col_abs=True) + ":"
                    + xl_rowcol_to_cell(last, col, row_abs=True, col_abs=True))

        ws.write_string(h, 0, node)
        hb, hc = xl_rowcol_to_cell(h, 1), xl_rowcol_to_cell(h, 2)
        w.formula(ws, h, 1, result_ref[node])
        w.formula(ws, h, 2, f"INT({hb}/1)")
        w.formula(ws, h, 3, f"{hc}-SUM({rng(3)})")
        w.formula(ws, h, 4, f"{hb}-{hc}*1")
        hc_abs, hd_abs = (xl_rowcol_to_cell(h, c, row_abs=True, col_abs=True) for c in (2, 3))
        for i, kid in enumerate(kids):
            r = first + i
            b, c, d, e, f, g = (xl_rowcol_to_cell(r, col) for col in range(1, 7))
            ws.write_string(r, 0, kid)
            ws.write_number(r, 1, tree.units[kid].weight or 0.0)
            w.formula(ws, r, 2, f"IF(SUM({rng(1)})=0,0,{hc_abs}*{b}/SUM({rng(1)}))")
            w.formula(ws, r, 3, f"INT({c})")
            w.formula(ws, r, 4, f"ROUND({c}-{d},9)")
            ws.write_number(r, 5, order[i])
            w.formula(ws, r, 6, f"1+SUMPRODUCT(({rng(4)}>{e})+({rng(4)}={e})*({rng(5)}<{f}))")
            w.formula(ws, r, 7, f"({d}+IF({g}<={hd_abs},1,0))")
            result_ref[kid] = xl_rowcol_to_cell(r, 7, row_abs=True, col_abs=True)
            lay.expected.append(("Org", xl_rowcol_to_cell(r, 7), res.targets[kid]))
        h = last + 2

    # Products: one row per leaf, its target split by the mix
    ws = w.wb.add_worksheet("Products")
    ws.write_string(0, 0, "Each leaf's target split over the products by the mix weights")
    head = ["Leaf", "Region", "Target", "Units", "Deficit"]
    for kind in ("Quota", "Floor", "Remainder", "Rank", "Result"):
        head += [f"{kind} {p}" for p in inp.products]
    for col, text in enumerate(head):
        ws.write_string(1, col, text)
    mix_refs = [inputs_ref(mix_row, 1 + j) for j in range(n_p)]
    p_order_refs = [inputs_ref(p_order_row, 1 + j) for j in range(n_p)]
    mix_range = _abs_range(mix_row, 1, n_p, "Inputs")
    p_order_range = _abs_range(p_order_row, 1, n_p, "Inputs")
    product_result_cols: list[int] = []
    for leaf, i in leaf_row.items():
        r = FIRST + i
        ws.write_string(r, 0, leaf)
        ws.write_string(r, 1, tree.units[leaf].parent or "")
        w.formula(ws, r, 2, "Org!" + result_ref[leaf])
        w.formula(ws, r, 3, f"INT({xl_rowcol_to_cell(r, 2)}/1)")
        _, product_result_cols = _split_in_a_row(
            w, ws, r, 4, xl_rowcol_to_cell(r, 3, col_abs=True), n_p, mix_refs, mix_range,
            p_order_refs, p_order_range)
        for j, col in enumerate(product_result_cols):
            lay.expected.append(("Products", xl_rowcol_to_cell(r, col),
                                 int(res.by_product[i, j])))

    # Months: one row per (leaf, product): quarters by the quarter weights, then each
    # quarter's 3 months by the month weights (phase_year's two steps)
    ws = w.wb.add_worksheet("Months")
    ws.write_string(0, 0, "Each leaf × product amount split over quarters, then months")
    head = ["Leaf", "Region", "Product", "Amount", "Units", "Deficit"]
    for kind in ("Quota", "Floor", "Remainder", "Rank", "Result"):
        head += [f"{kind} Q{q + 1}" for q in range(4)]
    for q in range(4):
        head += [f"Q{q + 1} units", f"Q{q + 1} deficit"]
        for kind in ("Quota", "Floor", "Remainder", "Rank", "Result"):
            head += [f"{kind} M{3 * q + m + 1}" for m in range(3)]
    for col, text in enumerate(head):
        ws.write_string(1, col, text)
    q_refs = [inputs_ref(q_w_row, 1 + q) for q in range(4)]
    q_order_refs = [inputs_ref(q_order_row, 1 + q) for q in range(4)]
    q_range, q_order_range = (_abs_range(r, 1, 4, "Inputs") for r in (q_w_row, q_order_row))
    quarterly = quarters_of(res.months.reshape(-1, MONTHS))
    month_cols: list[int] = []
    n_rows = len(res.leaves) * n_p
    for leaf, i in leaf_row.items():
        region = tree.units[leaf].parent or ""
        for j, product in enumerate(inp.products):
            r = FIRST + i * n_p + j
            ws.write_string(r, 0, leaf)
            ws.write_string(r, 1, region)
            ws.write_string(r, 2, product)
            w.formula(ws, r, 3, "Products!" + xl_rowcol_to_cell(
                FIRST + i, product_result_cols[j], row_abs=True, col_abs=True))
            w.formula(ws, r, 4, f"INT({xl_rowcol_to_cell(r, 3)}/1)")
            _, q_cols = _split_in_a_row(w, ws, r, 5, xl_rowcol_to_cell(r, 4, col_abs=True),
                                        4, q_refs, q_range, q_order_refs, q_order_range)
            col = q_cols[-1] + 1
            month_cols = []
            for q in range(4):
                units = xl_rowcol_to_cell(r, col, col_abs=True)
                w.formula(ws, r, col, f"INT({xl_rowcol_to_cell(r, q_cols[q])}/1)")
                m_refs = [inputs_ref(m_w_row, 1 + 3 * q + m) for m in range(3)]
                m_order_refs = [inputs_ref(m_order_row, 1 + 3 * q + m) for m in range(3)]
                _, cols = _split_in_a_row(
                    w, ws, r, col + 1, units, 3, m_refs, _abs_range(m_w_row, 1 + 3 * q,
                                                                    3 + 3 * q, "Inputs"),
                    m_order_refs, _abs_range(m_order_row, 1 + 3 * q, 3 + 3 * q, "Inputs"))
                month_cols += cols
                col = cols[-1] + 1
            flat = i * n_p + j
            for q, c in enumerate(q_cols):
                lay.expected.append(("Months", xl_rowcol_to_cell(r, c), int(quarterly[flat, q])))
            for m, c in enumerate(month_cols):
                lay.expected.append(("Months", xl_rowcol_to_cell(r, c),
                                     int(res.months[i, j, m])))

    # Rollup: every internal node × product × month, SUMIFS over the level below
    ws = w.wb.add_worksheet("Rollup")
    ws.write_string(0, 0, "Roll-up: each node's amount by product and month (SUMIFS over "
                          "its children, level by level)")
    for col, text in enumerate(["Node", "Parent", "Product",
                                *[f"M{m + 1}" for m in range(MONTHS)]]):
        ws.write_string(1, col, text)
    depth = {c: tree.depth(c) for c in tree.units}
    leaf_depth = {depth[c] for c in res.leaves}
    if len(leaf_depth) != 1:
        raise ValueError("the roll-up formulas need every leaf at the same depth")
    node_row = {c: i for i, c in enumerate(res.nodes)}
    # the level below: (sheet prefix, first row, last row, month columns, code/product cols)
    below = ("Months!", FIRST, FIRST + n_rows - 1, month_cols, 1, 2)
    r = FIRST
    for d in range(leaf_depth.pop() - 1, -1, -1):
        level = [c for c in res.nodes if depth[c] == d and tree.children[c]]
        start = r
        prefix, lo, hi, cols, parent_col, product_col = below

        def col_range(col: int, prefix: str = prefix, lo: int = lo, hi: int = hi) -> str:
            return (prefix + xl_rowcol_to_cell(lo, col, row_abs=True, col_abs=True) + ":"
                    + xl_rowcol_to_cell(hi, col, row_abs=True, col_abs=True))

        parents, products = col_range(parent_col), col_range(product_col)
        for node in level:
            for j, product in enumerate(inp.products):
                ws.write_string(r, 0, node)
                ws.write_string(r, 1, tree.units[node].parent or "")
                ws.write_string(r, 2, product)
                a, c = xl_rowcol_to_cell(r, 0, col_abs=True), xl_rowcol_to_cell(r, 2, col_abs=True)
                for m in range(MONTHS):
                    w.formula(ws, r, 3 + m,
                              f"SUMIFS({col_range(cols[m])},{parents},{a},{products},{c})")
                    lay.expected.append(("Rollup", xl_rowcol_to_cell(r, 3 + m),
                                         int(res.rolled[node_row[node], j * MONTHS + m])))
                r += 1
        below = ("", start, r - 1, [3 + m for m in range(MONTHS)], 1, 2)
    w.wb.close()
    lay.formulas = w.formulas
    return lay


def write_startup_workbook(path: Path) -> None:
    """One formula (cached 0): what soffice costs to start, load, recalculate and save."""
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Sheet1").write_formula(0, 0, "=1+1", None, 0)
    wb.close()


# --- checking LibreOffice's numbers --------------------------------------------------------------

def compare(values: dict[str, dict[str, object]], lay: Layout, what: str,
            cached: bool = False) -> int:
    """Every expected cell of ``lay`` in ``values``: the engine's number (or, ``cached``,
    the 0 XlsxWriter wrote). Raises :class:`Mismatch` listing the first differences;
    returns how many cells hold a non-zero value."""
    first: list[str] = []
    bad = nonzero = 0
    for sheet, ref, expected in lay.expected:
        got = values.get(sheet, {}).get(ref)
        want = 0 if cached else expected
        if isinstance(got, int | float) and not isinstance(got, bool) and got == want:
            nonzero += got != 0
            continue
        bad += 1
        if len(first) < 10:
            first.append(f"{sheet}!{ref} is {got!r}, expected {want}")
    if bad:
        raise Mismatch(f"{what}: {bad:,} of {len(lay.expected):,} cells differ; first: "
                       + "; ".join(first))
    return nonzero


# --- timing ----------------------------------------------------------------------------------

def own_peak_rss_mb() -> float:
    """This process's own peak RSS. ``ru_maxrss`` survives fork and exec, so a spawned child
    would report its parent's peak if that were higher; Linux's VmHWM starts afresh at exec."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()


def engine_alone(n_units: int, n_products: int, rounds: int, seed: int) -> dict[str, Any]:
    """The engine at full size (runs in a fresh process: its peak RSS is its own)."""
    inp = generate(n_units, n_products, seed)
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    for _ in range(rounds):
        gc.collect()
        res = run_engine(inp)
        self_check(inp, res)
        totals.append(sum(res.stages.values()))
        for k, v in res.stages.items():
            stages.setdefault(k, []).append(v)
        del res
    return {"totals": totals, "stages": {k: statistics.median(v) for k, v in stages.items()},
            "nodes": len(inp.units), "rss": own_peak_rss_mb()}


def compare_with_libreoffice(n_units: int, n_products: int, rounds: int, seed: int, out: Path,
                             timeout: float) -> tuple[list[str], list[str]]:
    """The same-size run: engine, LibreOffice and its start-up, rotating. (table row, notes)"""
    inp = generate(n_units, n_products, seed)
    res = run_engine(inp)
    self_check(inp, res)
    book = out / f"engine-{n_units}x{n_products}.xlsx"
    start = time.perf_counter()
    lay = write_workbook(inp, res, book)
    log(f"{book.name}: {lay.formulas:,} formulas, {book.stat().st_size / 1e6:.1f} MB, "
        f"written in {time.perf_counter() - start:.1f} s (untimed); "
        f"{len(lay.expected):,} engine numbers to compare")
    start = time.perf_counter()
    compare(read_values(book), lay, "the workbook given to LibreOffice", cached=True)
    log(f"checked: all {len(lay.expected):,} of them are cached as 0 in {book.name} "
        f"({time.perf_counter() - start:.1f} s)")
    tiny = out / "startup.xlsx"
    write_startup_workbook(tiny)

    with LibreOffice(timeout=timeout) as lo:
        warm = timed(lambda: lo.recalculate([tiny], out / "warm-up"))  # first run sets up
        log(f"LibreOffice warm-up (profile set-up, untimed): {warm:.2f} s")
        nonzero = 0
        last: dict[str, float] = {}

        def libreoffice(r: int) -> None:
            nonlocal nonzero
            folder = out / f"round-{r + 1}"
            start = time.perf_counter()
            done = lo.recalculate([book], folder)[book]
            last["lo"] = time.perf_counter() - start
            start = time.perf_counter()
            nonzero = compare(read_values(done), lay, f"LibreOffice round {r + 1}")
            log(f"round {r + 1}: LibreOffice's {len(lay.expected):,} numbers equal the "
                f"engine's to the cent ({nonzero:,} non-zero; read in "
                f"{time.perf_counter() - start:.1f} s)")
            shutil.rmtree(folder, ignore_errors=True)

        def startup(r: int) -> None:
            folder = out / f"startup-{r + 1}"
            start = time.perf_counter()
            done = lo.recalculate([tiny], folder)[tiny]
            last["startup"] = time.perf_counter() - start
            if read_values(done).get("Sheet1", {}).get("A1") != 2:
                raise Mismatch("LibreOffice did not recalculate =1+1 in the start-up workbook")

        def engine(r: int) -> None:
            start = time.perf_counter()
            result = run_engine(inp)
            last["engine"] = time.perf_counter() - start
            self_check(inp, result)

        jobs: dict[str, Callable[[int], None]] = {
            "engine": engine, "lo": libreoffice, "startup": startup}
        times: dict[str, list[float]] = {name: [] for name in jobs}
        names = list(jobs)
        for r in range(rounds):
            for name in names[r % 3:] + names[:r % 3]:
                gc.collect()
                jobs[name](r)
                times[name].append(last[name])
                log(f"round {r + 1}/{rounds} {name}: {last[name]:.3f} s")
    med = {name: statistics.median(ts) for name, ts in times.items()}
    e, lo_s, st = med["engine"], med["lo"], med["startup"]
    leaf_amounts = n_units * n_products * MONTHS
    table_row = (f"| {n_units} × {n_products} × {MONTHS} | {leaf_amounts:,} | {lay.formulas:,} "
                 f"| {1000 * e:.1f} | {lo_s:.2f} | {st:.2f} | {lo_s / e:,.0f}× "
                 f"| {(lo_s - st) / e:,.0f}× "
                 f"| {peak_rss_mb():.0f} | {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} |")
    notes = [
        f"- {n_units} × {n_products}: {len(inp.units):,} org units; {len(lay.expected):,} "
        f"engine numbers (org targets, leaf × product, quarters, months, roll-up) equal "
        f"LibreOffice's to the cent in every round; all of them were cached as 0 in the "
        f"file LibreOffice loaded, and {nonzero:,} are non-zero after it.",
        f"- rounds (s), {n_units} × {n_products}: " + "; ".join(
            f"{k} " + ", ".join(f"{t:.4f}" if k == "engine" else f"{t:.2f}" for t in v)
            for k, v in times.items()),
    ]
    return [table_row], notes


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _cores() -> int:
    import os

    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _soffice_version() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        return "LibreOffice ?"
    out = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=60)
    return " ".join(out.stdout.split()[:2]) or "LibreOffice ?"


SAME_HEADER = ("| units × products × months | leaf amounts | formulas | engine ms | LibreOffice s "
               "| LibreOffice start-up s | LibreOffice/engine | (LibreOffice − start-up)/engine "
               "| peak RSS MB (this process) | peak RSS MB (LibreOffice) |")
FULL_HEADER = ("| units × products × months | org units | leaf amounts | org s | products s "
               "| months s | rollup s | engine s | µs per leaf amount | peak RSS MB |")


def _rule(header: str) -> str:
    return "|" + "---:|" * (header.count(" | ") + 1)


def run(args: argparse.Namespace, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    same, notes = compare_with_libreoffice(args.units, args.products, args.rounds, args.seed,
                                           out, args.timeout)
    log(f"engine alone at {args.full_units} × {args.full_products} × {MONTHS} "
        f"(a fresh process) ...")
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        full = pool.submit(engine_alone, args.full_units, args.full_products, args.rounds,
                           args.seed).result()
    total = statistics.median(full["totals"])
    st = full["stages"]
    amounts = args.full_units * args.full_products * MONTHS
    full_row = (f"| {args.full_units:,} × {args.full_products} × {MONTHS} | {full['nodes']:,} "
                f"| {amounts:,} | {st['org']:.3f} | {st['products']:.3f} | {st['months']:.3f} "
                f"| {st['rollup']:.3f} | {total:.3f} | {1e6 * total / amounts:.2f} "
                f"| {full['rss']:.0f} |")
    return "\n".join([
        f"xlplan engine benchmark: {dt.date.today().isoformat()}, Python "
        f"{platform.python_version()}, numpy {np.__version__}, {_soffice_version()}, "
        f"{platform.machine()} ({_cores()} cores), {args.rounds} round(s), seed {args.seed}, "
        f"medians",
        "",
        "Engine and LibreOffice on the same numbers:",
        "",
        SAME_HEADER, _rule(SAME_HEADER), *same,
        "",
        *notes,
        "",
        "Engine alone (stage times are medians of their own):",
        "",
        FULL_HEADER, _rule(FULL_HEADER), full_row,
        "",
        f"- rounds (s), engine alone: {', '.join(f'{t:.3f}' for t in full['totals'])}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--units", type=int, default=100,
                        help="leaf units for the LibreOffice comparison, default 100")
    parser.add_argument("--products", type=int, default=50,
                        help="products for the LibreOffice comparison, default 50")
    parser.add_argument("--full-units", type=int, default=5000,
                        help="leaf units for the engine alone, default 5,000")
    parser.add_argument("--full-products", type=int, default=200,
                        help="products for the engine alone, default 200")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds, default 3")
    parser.add_argument("--seed", type=int, default=2027, help="seed of the generated inputs")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds LibreOffice may take per conversion, default 3600")
    parser.add_argument("--out", type=Path, help="output directory (default: a temporary one)")
    parser.add_argument("--quick", action="store_true",
                        help="6 × 4 against LibreOffice, 60 × 10 alone, one round (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.units, args.products, args.full_units, args.full_products = 6, 4, 60, 10
        args.rounds = 1
    if min(args.units, args.products, args.full_units, args.full_products, args.rounds) < 1:
        parser.error("sizes and --rounds must be at least 1")
    tmp = None if args.out else Path(tempfile.mkdtemp(prefix="xlplan-bench-engine-"))
    out: Path = args.out if tmp is None else tmp
    try:
        print(run(args, out))
    except Mismatch as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

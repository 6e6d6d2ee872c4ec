"""Keep the message catalogs in step with the code (Babel; a development tool).

    python scripts/catalog.py          # extract, update every .po, compile every .mo
    python scripts/catalog.py --check  # exit 1 if a .po or .mo is not what this would write

Extraction finds every ``msg("...")`` in the package (xlplan.i18n). The ``en`` catalog
copies each id (the ids are English); every other language keeps its translations and
gets the new ids untranslated, which the test suite reports (tests/test_words.py), so a
missing translation fails the tests and never reaches a user as English.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "xlplan"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("en", "zh")
KEYWORDS = {"msg": None, "pmsg": ((1, "c"), 2)}  # pmsg(context, id): as pgettext
METHODS = [("**.py", "python")]
FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the first argument is the id


def template() -> Catalog:
    """Every message the package uses, with where it is used."""
    found = Catalog(project="xlplan", version="", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=METHODS, keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        found.add(message, None, [(f"xlplan/{filename}", lineno)],
                  auto_comments=comments, context=context)
    return found


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "xlplan.po"


def updated(language: str, source: Catalog) -> Catalog:
    """The language's catalog with exactly the source's messages (new ones untranslated,
    gone ones dropped; ``en`` translated by copying the id)."""
    path = po_path(language)
    if path.exists():
        with path.open("rb") as f:
            old = read_po(f, locale=language)
    else:
        old = Catalog(locale=language, project="xlplan", fuzzy=False)
    old.update(source, no_fuzzy_matching=True)
    old.obsolete.clear()
    for message in old:
        if not message.id:
            continue
        if language == "en":
            message.string = message.id
    old.fuzzy = False
    old.header_comment = f"# xlplan: the words of its workbooks, {language}."
    return old


def po_bytes(cat: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, cat, width=100, omit_header=False, sort_output=True, include_previous=False,
             include_lineno=False)  # line numbers would make every edit a catalog change
    # the creation date changes every run; it tells nothing
    return b"\n".join(line for line in out.getvalue().split(b"\n")
                      if not line.startswith((b'"POT-Creation-Date', b'"PO-Revision-Date')))


def mo_bytes(po: bytes, language: str) -> bytes:
    out = io.BytesIO()
    cat = read_po(io.BytesIO(po), locale=language)
    cat.creation_date = cat.revision_date = FIXED_DATE  # else today's, in every compile
    write_mo(out, cat, use_fuzzy=False)
    return out.getvalue()


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for language in LANGUAGES:  # a fresh template each: update() shares its messages
        po = po_bytes(updated(language, template()))
        mo = mo_bytes(po, language)
        path = po_path(language)
        for target, content in ((path, po), (path.with_suffix(".mo"), mo)):
            if not target.exists() or target.read_bytes() != content:
                stale.append(target)
                if not check:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(content)
    for target in stale:
        print(("stale: " if check else "wrote: ") + str(target.relative_to(ROOT)))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

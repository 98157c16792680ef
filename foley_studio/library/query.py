"""The search box language: words, prefixes, phrases, exclusions and field filters.

    metal hit dur:<2 sr:48000        words must all match; duration under 2 s; 48 kHz files
    "door slam" wood*                a phrase and a prefix
    glass -break                     exclude a word
    car OR truck                     either word
    cat:door desc:creak              a word in one field (name, folder, cat, sub, desc)
    dur:0.5..3  dur:>=500ms  sr:44.1k  ch:2  bits:24  peak:>-6  rms:<-30  ext:flac

`parse_query` turns this into an SQLite FTS5 MATCH expression (user words are always quoted, so
nothing a user types is FTS syntax by accident), SQL conditions on the `files` table, and the
plain text that semantic search should embed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import QuerySyntaxError

# FTS5 column names for `field:word` filters.
TEXT_FIELDS = {"name": "name", "folder": "folders", "folders": "folders", "cat": "category",
               "category": "category", "sub": "subcategory", "subcategory": "subcategory",
               "desc": "description", "description": "description"}
# Numeric filters: query name -> (column, unit parser).
NUMERIC_FIELDS = {"dur": "duration", "duration": "duration", "sr": "sample_rate", "rate": "sample_rate",
                  "ch": "channels", "channels": "channels", "bits": "bit_depth", "bit": "bit_depth",
                  "peak": "peak_db", "rms": "rms_db"}

_TOKEN = re.compile(r'(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"?|(?P<word>\S+))')
_COMPARE = re.compile(r"^(?P<op><=|>=|<|>|=)?(?P<value>[^.]*(?:\.\d+)?[a-zA-Z]*)$")
_RANGE = re.compile(r"^(?P<lo>[^.]+(?:\.\d+)?[a-zA-Z]*)\.\.(?P<hi>[^.]+(?:\.\d+)?[a-zA-Z]*)$")
_NUMBER = re.compile(r"^(?P<num>[+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?P<unit>[a-zA-Z]*)$")


@dataclass
class ParsedQuery:
    """A query split into its FTS part, SQL filters and semantic text."""

    fts: str | None                  # FTS5 MATCH expression, None when there are no positive words
    exclude_fts: str | None          # matches to remove (used when a query has only exclusions)
    where: list[str] = field(default_factory=list)   # SQL conditions on `files` (alias f)
    params: list[object] = field(default_factory=list)
    text: str = ""                   # the words and phrases, for semantic search

    @property
    def has_filters(self) -> bool:
        return bool(self.where or self.exclude_fts)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _number(field_name: str, raw: str) -> float:
    m = _NUMBER.match(raw.strip())
    if not m:
        raise QuerySyntaxError(f"search filter {field_name}:{raw!r} needs a number, e.g. dur:<2 or sr:48000")
    value, unit = float(m["num"]), m["unit"].lower()
    column = NUMERIC_FIELDS[field_name]
    if column == "duration":
        factor = {"": 1.0, "s": 1.0, "ms": 1e-3, "m": 60.0, "min": 60.0}.get(unit)
    elif column == "sample_rate":
        factor = {"": 1.0, "hz": 1.0, "k": 1000.0, "khz": 1000.0}.get(unit)
    elif column in ("peak_db", "rms_db"):
        factor = {"": 1.0, "db": 1.0, "dbfs": 1.0}.get(unit)
    else:
        factor = {"": 1.0, "bit": 1.0, "ch": 1.0}.get(unit)
    if factor is None:
        raise QuerySyntaxError(f"search filter {field_name}:{raw!r} has an unknown unit {unit!r}")
    return value * factor


def _numeric_filter(name: str, raw: str, negate: bool) -> tuple[str, list[object]]:
    column = NUMERIC_FIELDS[name]
    rng = _RANGE.match(raw)
    if rng:
        cond, params = f"f.{column} BETWEEN ? AND ?", [_number(name, rng["lo"]), _number(name, rng["hi"])]
    else:
        m = _COMPARE.match(raw)
        if not m or not m["value"]:
            raise QuerySyntaxError(f"search filter {name}:{raw!r} is not a comparison like {name}:<2 or {name}:1..3")
        op = m["op"] or "="
        value = _number(name, m["value"])
        if op == "=" and column == "duration":
            # "dur:2" means about two seconds, not exactly 2.000000
            cond, params = f"f.{column} BETWEEN ? AND ?", [value - 0.05, value + 0.05]
        else:
            cond, params = f"f.{column} {op} ?", [value]
    return (f"NOT ({cond})" if negate else cond), params


def _fts_term(field_name: str | None, phrase: str | None, word: str | None) -> str | None:
    if phrase is not None:
        body = _quote(phrase.strip()) if phrase.strip() else None
    else:
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if not re.search(r"\w", word):
            return None
        body = _quote(word) + ("*" if prefix else "")
    if body is None:
        return None
    if field_name:
        return f"{TEXT_FIELDS[field_name]} : {body}"
    return body


def _join_groups(terms: list[str]) -> str | None:
    """Implicit AND between terms, with `a OR b` grouped first: `car OR truck horn` means
    (car OR truck) AND horn, which is what people mean (FTS5 alone would bind AND tighter)."""
    groups: list[list[str]] = []
    join_next = False
    for t in terms:
        if t == "OR":
            join_next = True
            continue
        if join_next and groups:
            groups[-1].append(t)
        else:
            groups.append([t])
        join_next = False
    parts = [g[0] if len(g) == 1 else "(" + " OR ".join(g) + ")" for g in groups]
    return " AND ".join(parts) or None


def parse_query(query: str) -> ParsedQuery:
    """Parse a search box string; raises `QuerySyntaxError` for malformed filters."""
    positives: list[str] = []          # FTS terms; "OR" entries join their neighbours
    negatives: list[str] = []
    where: list[str] = []
    params: list[object] = []
    text_parts: list[str] = []
    for m in _TOKEN.finditer(query):
        neg, fname, phrase, word = bool(m["neg"]), m["field"], m["phrase"], m["word"]
        if fname is not None:
            fname_l = fname.lower()
            if fname_l in NUMERIC_FIELDS:
                cond, p = _numeric_filter(fname_l, phrase if phrase is not None else (word or ""), neg)
                where.append(cond)
                params.extend(p)
                continue
            if fname_l == "ext":
                ext = (phrase or word or "").lower().lstrip(".")
                where.append(("NOT " if neg else "") + "(lower(f.path) LIKE ?)")
                params.append(f"%.{ext}")
                continue
            if fname_l not in TEXT_FIELDS:
                # not a field we know: treat "word:thing" as plain text (e.g. a time code)
                word = f"{fname}:{word}" if word is not None else word
                fname = None
            else:
                fname = fname_l
        if word == "OR" and not neg and fname is None:
            if positives and positives[-1] != "OR":
                positives.append("OR")
            continue
        term = _fts_term(fname, phrase, word)
        if term is None:
            continue
        (negatives if neg else positives).append(term)
        if not neg and fname is None:  # `cat:door` is a structured filter, not words to embed
            text_parts.append(phrase if phrase is not None else word.rstrip("*"))
    while positives and positives[-1] == "OR":
        positives.pop()
    fts = _join_groups(positives)
    exclude = " OR ".join(negatives) or None
    if fts and exclude:
        fts, exclude = f"({fts}) NOT ({exclude})", None
    return ParsedQuery(fts=fts, exclude_fts=exclude, where=where, params=params, text=" ".join(text_parts))

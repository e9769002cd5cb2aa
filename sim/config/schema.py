"""The key-spec machinery behind :mod:`sim.config.scenario`: field specs, type and range checks, docs.

A scenario table is a frozen dataclass whose fields are declared with :func:`setting`, :func:`num` or
:func:`data_file`; each keeps a :class:`Spec` in ``metadata["spec"]``. A range end may be another key
(:class:`Ref`, written ``market.start_price_usd / 10`` in a range string); such ends are checked by
:meth:`Checker.check_refs` once every key has been read. :class:`Checker` turns raw TOML data into field values
and collects every problem instead of stopping at the first; :func:`read_toml` and :func:`apply_overrides` give it
its input; :func:`markdown_table` documents a table.

Nothing here knows about particular keys: the scenario's own kinds (``tiers``, ``mix``) and the rules that tie
keys together live in :mod:`sim.config.scenario`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import os
import re
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from sim.errors import ScenarioError, cut, shown

REQUIRED = dataclasses.MISSING  # default of a key that must be given
BAD = type("_Invalid", (), {"__repr__": lambda self: "<invalid>"})()  # a value that failed validation
_NO_VALUE = object()


@dataclass(frozen=True)
class Ref:
    """A bound set by another key: ``value(key) · mul / div``; ``text`` is how it reads in docs."""

    key: str
    text: str
    mul: float = 1.0
    div: float = 1.0

    def of(self, values: dict[str, Any]) -> float:
        return values[self.key] * self.mul / self.div


@dataclass(frozen=True)
class Spec:
    """What one scenario key accepts, kept in its dataclass field's ``metadata["spec"]``.

    ``kind`` is ``float``, ``int``, ``str``, ``bool``, ``path``, or a kind of the caller's own that
    :meth:`Checker.custom` reads. Numbers are bounded by ``lo``/``hi`` (None = unbounded, a :class:`Ref` = set by
    another key); strings by ``choices`` or a regex ``pattern`` whose wording for people is ``allowed``. An
    ``optional`` key may be absent (None). For the docs, a custom kind names its type in ``type_name``, what it
    allows in ``allowed`` and may show its default as ``shown_default``.
    """

    kind: str
    doc: str
    unit: str = ""
    lo: float | Ref | None = None
    hi: float | Ref | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    allowed: str = ""
    optional: bool = False
    type_name: str = ""
    shown_default: str = ""


# ------------------------------------------------------------------------------------------------ declaring keys

_RANGE = re.compile(r"([\[(])(.+),(.+)([\])])$|(≥|>)(.+)$")
_REF = re.compile(r"([a-z_]+\.[a-z_]+)(?:\s*([/×])\s*(\d+))?$")


def _bound(token: str) -> float | Ref:
    """One end of a range: a number, ``2**63``, or a key reference such as ``market.start_price_usd / 10``."""
    token = token.strip()
    if m := _REF.match(token):
        factor = float(m[3] or 1)
        return Ref(m[1], token, mul=factor if m[2] == "×" else 1.0, div=factor if m[2] == "/" else 1.0)
    if token == "2**63":
        return 2**63
    return int(token) if re.fullmatch(r"-?[\d_]+", token) else float(token)


def setting(default: Any, kind: str, doc: str, rng: str = "", **kw: Any) -> Any:
    """A dataclass field that is a scenario key; ``rng`` is a number range such as ``(0, 1e9]`` or ``≥ 1``."""
    if rng:
        m = cast(re.Match[str], _RANGE.match(rng))  # the ranges are the code's own literals
        if m[5]:
            kw.update(lo=_bound(m[6]), lo_open=m[5] == ">")
        else:
            kw.update(lo=_bound(m[2]), hi=_bound(m[3]), lo_open=m[1] == "(", hi_open=m[4] == ")")
    meta = {"spec": Spec(kind, doc, **kw)}
    return field(metadata=meta) if default is REQUIRED else field(default=default, metadata=meta)


def num(default: Any, rng: str, unit: str, doc: str, **kw: Any) -> Any:
    """A number key (``kind="int"`` for an integer one)."""
    return setting(default, kw.pop("kind", "float"), doc, rng, unit=unit, **kw)


def data_file(doc: str) -> Any:
    """An optional key naming a data file."""
    return setting(None, "path", doc, optional=True)


def specs(cls: type) -> dict[str, Spec]:
    """The scenario keys of a table dataclass, in declaration order."""
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}


def defaults(cls: type) -> dict[str, Any]:
    """The defaults of a table's keys (``REQUIRED`` for a key that must be given)."""
    return {f.name: f.default for f in dataclasses.fields(cls) if "spec" in f.metadata}


# ------------------------------------------------------------------------------------------------------ wording


def fmt(x: Any) -> str:
    """A number for people: whole numbers without ``.0``, big round ones as ``2.7e8``, 2**63 as such."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return "2**63" if x == 2**63 else str(x)
    if not (math.isfinite(x) and x.is_integer()):
        return repr(float(x))
    mantissa, exp = f"{x:.2e}".split("e")
    if abs(x) >= 1e6 and float(f"{mantissa}e{exp}") == x:
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exp)}"
    return str(int(x))


def interval(spec: Spec, values: dict[str, Any] | None = None) -> str:
    """A spec's number range, e.g. ``(0, 1e9]`` or ``≥ 1``; key references resolved when ``values`` is given."""

    def show(b: float | Ref) -> str:
        return (b.text if values is None else fmt(b.of(values))) if isinstance(b, Ref) else fmt(b)

    lo, hi = spec.lo, spec.hi
    if lo is None or hi is None:
        one, is_open, signs = (lo, spec.lo_open, "≥>") if hi is None else (hi, spec.hi_open, "≤<")
        return "" if one is None else f"{signs[is_open]} {show(one)}"
    return f"{'(' if spec.lo_open else '['}{show(lo)}, {show(hi)}{')' if spec.hi_open else ']'}"


def must(spec: Spec, values: dict[str, Any] | None = None) -> str:
    """What a spec allows, phrased for an error message."""
    if spec.kind in ("float", "int"):
        rng = interval(spec, values)
        text = "must be " + ("an integer" if spec.kind == "int" else "a number") + (" in " if rng[:1] in "[(" else " ")
        refs = [b for b in (spec.lo, spec.hi) if isinstance(b, Ref)]
        if values is not None and refs:
            rng += " (" + "; ".join(f"{fmt(b.of(values))} = {b.text}" for b in refs) + ")"
        return (text + rng).rstrip()
    if spec.choices:
        return "must be one of " + ", ".join(spec.choices)
    if spec.kind == "bool":
        return "must be true or false"
    if spec.pattern:
        return "must be a non-empty string of " + spec.allowed.replace("`", "'") + " only"
    return "must be a file path (a string)" if spec.kind == "path" else "must be a string"


# ----------------------------------------------------------------------------------------------------- checking


def as_number(x: Any, integer: bool = False) -> float | int | None:
    """``x`` as a finite float (or an int if ``integer``), or None if it is not one; bools never count."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        return None
    if isinstance(x, numbers.Integral):
        return int(x) if integer else (float(x) if abs(cast(int, x)) < 2**1023 else None)
    x = float(x)
    return None if not math.isfinite(x) or (integer and not x.is_integer()) else (int(x) if integer else x)


def breaks(spec: Spec, x: float, values: dict[str, Any] | None) -> bool:
    """Whether ``x`` is outside the spec's range: fixed bounds if ``values`` is None, else key references."""
    for b, is_open, below in ((spec.lo, spec.lo_open, True), (spec.hi, spec.hi_open, False)):
        if b is None or isinstance(b, Ref) != (values is not None):
            continue
        if isinstance(b, Ref):
            values = cast(dict[str, Any], values)  # not None: checked above
            if values[b.key] is BAD:
                continue
            b = b.of(values)
        if (x <= b if is_open else x < b) if below else (x >= b if is_open else x > b):
            return True
    return False


class Checker:
    """Collects problems while turning raw TOML data into table field values.

    ``values`` maps every dotted key read so far to its parsed value (or ``BAD``); ``given`` maps the keys present
    in the input to their raw values. A message reads ``"{source}: {key} = {value!r}: {problem}"``, with
    ``override`` as the source for keys in ``overridden``. Relative paths resolve against ``base_dir`` (the
    current directory when None, and for overridden keys).
    """

    moved: dict[str, str] = {}  # dotted keys of older versions → where their setting went (a subclass fills it)

    def __init__(self, source: str, base_dir: str | None, overridden: frozenset[str]):
        self.source, self.base_dir, self.overridden = source, base_dir, overridden
        self.problems: list[str] = []
        self.values: dict[str, Any] = {}
        self.given: dict[str, Any] = {}
        self.read_files = True  # False once a check refused the run as too big: its data files are left unread

    def fail(self, key: str, message: str, value: Any = _NO_VALUE) -> Any:
        """Record one problem and return the BAD marker."""
        origin = "override" if ".".join(re.split(r"[.\[]", key)[:2]) in self.overridden else self.source
        shown_value = "" if value is _NO_VALUE else f" = {shown(value)}"
        self.problems.append(f"{origin}: {cut(key)}{shown_value}: {message}")
        return BAD

    def ok(self, *keys: str) -> bool:
        """Whether all these keys were read without a problem."""
        return all(self.values[k] is not BAD for k in keys)

    def table(self, cls: type, data: Any, prefix: str) -> dict[str, Any]:
        """Parse one table's keys (defaults for absent ones); unknown keys are problems."""
        table_specs, whole = specs(cls), isinstance(data, dict)  # a broken table is one problem, not one per key
        if isinstance(data, list) and all(isinstance(d, dict) for d in data):
            self.fail(prefix, f"must be a table ([{prefix}]), not an array of tables ([[{prefix}]])")
            data = {}
        elif not isinstance(data, dict):
            self.fail(prefix, "must be a table" + ("" if "[" in prefix else f" ([{prefix}])"), data)
            data = {}
        for k in data:
            if f"{prefix}.{k}" in self.moved:  # a key of an older version, e.g. in a resolved scenario.toml
                self.fail(f"{prefix}.{k}", f"no longer here: {self.moved[f'{prefix}.{k}']}", data[k])
            elif k not in table_specs:
                self.fail(f"{prefix}.{k}", "unknown key; allowed: " + ", ".join(sorted(table_specs)))
        out = defaults(cls)
        for name, spec in table_specs.items():
            key = f"{prefix}.{name}"
            if name in data:
                self.given[key] = data[name]
                out[name] = self.coerce(spec, data[name], key)
            elif out[name] is REQUIRED and whole:
                out[name] = self.fail(key, "missing; required in every " + prefix.rsplit("[", 1)[0] + " entry")
            self.values[key] = out[name]
        return out

    def coerce(self, spec: Spec, value: Any, key: str) -> Any:
        """Check one value's type and fixed range; return it in its stored form, or BAD."""
        kind = spec.kind
        if kind in ("float", "int"):
            x = as_number(value, integer=kind == "int")
            return self.fail(key, must(spec), value) if x is None or breaks(spec, x, None) else x
        if kind == "bool":
            return value if isinstance(value, bool) else self.fail(key, must(spec), value)
        if kind not in ("str", "path"):
            return self.custom(spec, value, key)
        if kind == "path" and isinstance(value, os.PathLike):
            value = os.fspath(value)
        if (
            not isinstance(value, str)
            or (spec.choices and value not in spec.choices)
            or (spec.pattern and not re.fullmatch(spec.pattern, value))
        ):
            return self.fail(key, must(spec), value)
        if kind == "path" and "\0" in value:
            return self.fail(key, "must be a file path (a string without NUL characters)", value)
        if kind == "path" and value:
            # Relative paths are relative to the scenario file, except those typed as overrides (cwd).
            try:
                p = Path(value).expanduser()
            except RuntimeError:  # ~name of no user
                return self.fail(key, f"no such file ({cut(value.split('/')[0])}: no such user)", value)
            base = Path.cwd() if self.base_dir is None or self._typed(key) else Path(self.base_dir)
            if p.is_absolute():
                return str(p)
            try:
                return str((base / p).resolve())
            except (OSError, RuntimeError):  # e.g. a name too long for the system: reading it reports that
                return str(base / p)
        return None if kind == "path" else value

    def _typed(self, key: str) -> bool:
        """Whether a key's value was typed as an override: a key of a table's table (``instruments.ETH.path_file``)
        is when it was overridden itself, or when its whole table was and none of the table's keys alone."""
        if key in self.overridden:
            return True
        head = ".".join(key.split(".")[:2])
        return head != key and head in self.overridden and not any(k.startswith(head + ".") for k in self.overridden)

    def custom(self, spec: Spec, value: Any, key: str) -> Any:
        """Read a value of a kind of the caller's own; subclasses override this."""
        raise NotImplementedError(f"{key}: no reader for kind {spec.kind!r}")

    def check_refs(self, tables: dict[str, type], skip: frozenset[str] | set[str] = frozenset()) -> None:
        """Check the range ends set by other keys, once every key of these tables has been read.

        Keys in ``skip`` are left out (a caller's rule may make a key's bound moot, e.g. an unused setting).
        """
        for tname, cls in tables.items():
            for name, spec in specs(cls).items():
                key, x = f"{tname}.{name}", self.values[f"{tname}.{name}"]
                if key not in skip and x not in (None, BAD) and breaks(spec, x, self.values):
                    self.values[key] = self.fail(key, must(spec, self.values), self.given.get(key, x))

    def limit(
        self,
        key: str,
        others: tuple[str, ...],
        amount: Callable[..., float],
        most: int,
        what: str,
        grows: bool,
        alternative: str = "",
    ) -> None:
        """Fail ``key`` if ``amount(value of key, *values of others)`` exceeds ``most``.

        For bounds that no single key's range can express (a product of keys); ``what`` names the amount,
        ``grows`` says whether it rises with ``key`` (the message then gives the largest allowed value, else the
        smallest), ``alternative`` is another way out.
        """
        if not self.ok(key, *others):
            return
        x = self.values[key]
        n = amount(x, *(self.values[k] for k in others))
        if n > most * (1 + 1e-9):
            context = ", ".join(f"{k} = {fmt(self.values[k])}" for k in others)
            bound = f"at most {x * most / n:.10g}" if grows else f"at least {x * n / most:.10g}"
            self.fail(
                key,
                f"would make {n:,.0f} {what} with {context}; at most {most:,} are allowed: {key} must be "
                f"{bound}" + (f", or {alternative}" if alternative else ""),
                self.given.get(key, x),
            )

    def read(self, key: str, reader: Any, **kw: Any) -> dict[str, np.ndarray] | None:
        """Read the data file named by ``key`` with ``reader``; its problems join ours."""
        path = self.values[key]
        if path is None or path is BAD or not self.read_files:
            return None
        if (problem := file_problem(path, "a CSV file")) is not None:
            self.fail(key, f"{problem} ({cut(path)})", self.given[key])
            return None
        try:
            return reader(path, **kw)
        except ScenarioError as err:
            self.problems.extend(err.problems)
            return None


# ----------------------------------------------------------------------------------------------- reading input


#: Most levels of tables and arrays within each other in a scenario (a sweep grid of tier tables needs 6).
MAX_DEPTH = 16


def too_deep(data: Any, limit: int = MAX_DEPTH) -> str | None:
    """Where ``data`` holds tables or arrays nested more than ``limit`` levels deep (``a.b[0].c``), or None.

    Walks without recursion, so any depth is safe to check.
    """
    stack = [(data, "", 0)]
    while stack:
        x, where, depth = stack.pop()
        if isinstance(x, dict):
            children = ((f"{where}.{k}" if where else str(k), v) for k, v in x.items())
        elif isinstance(x, (list, tuple)):
            children = ((f"{where}[{i}]", v) for i, v in enumerate(x))
        else:
            continue
        if depth == limit:
            return where
        stack.extend((v, w, depth + 1) for w, v in children)
    return None


def deep_problem(source: str, where: str) -> str:
    """The message for data nested more than :data:`MAX_DEPTH` levels deep at ``where``."""
    return (
        f"{source}: {cut(where)}: tables and arrays nested more than {MAX_DEPTH} levels deep; no scenario key takes "
        "more than a few"
    )


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def file_problem(path: str | Path, what: str) -> str | None:
    """What keeps ``path`` from being read as ``what`` (e.g. ``"a CSV file"``), or None for a regular file.

    Only the file's status is read, never the file: a FIFO without a writer would block the reader forever.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except NotADirectoryError:
        return "no such file (a part of the path before the file name is a file, not a folder)"
    except ValueError:  # a NUL character
        return "not a valid file path"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    for is_kind, kind in _KINDS:
        if is_kind(mode):
            return f"is {kind}, not {what}"
    if not stat.S_ISREG(mode):
        return f"is not a regular file, not {what}"
    if not os.access(path, os.R_OK):
        return "cannot be read: permission denied"
    return None


def read_toml(path: str | Path) -> dict:
    """Parse a TOML file; every failure is a ScenarioError naming the file (and the line)."""
    if (problem := file_problem(path, "a scenario file")) is not None:
        raise ScenarioError(f"{path}: {problem}")
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        where, msg = (f"line {m[1]}, column {m[2]}: ", msg[: m.start()]) if m else ("", msg)
        raise ScenarioError(f"{path}: {where}invalid TOML: {msg}") from None
    except RecursionError:  # the parser recurses once per level of arrays or inline tables
        raise ScenarioError(
            f"{path}: arrays or inline tables nested too deeply to read; at most {MAX_DEPTH} levels are allowed"
        ) from None
    if (deep := too_deep(data)) is not None:
        raise ScenarioError(deep_problem(str(path), deep))
    return data


def override_value(text: str, spec: Spec) -> Any:
    """A command-line string as a TOML value (``200000``, ``true``, ``{2=0.5}``), else the string itself."""
    try:
        doc = tomllib.loads(f"v = {text.strip()}")
    except (tomllib.TOMLDecodeError, RecursionError):  # nested too deeply for the parser: the text it is
        return text.strip()
    value = doc["v"] if len(doc) == 1 else text.strip()
    # A name like 123 or 2025-10-10 is still a name when the key holds a string.
    return text.strip() if spec.kind in ("str", "path") and not isinstance(value, str) else value


_SCALARS = ("float", "int", "str", "bool", "path")


def apply_overrides(
    raw: Any, overrides: dict[str, Any], tables: dict[str, type]
) -> tuple[Any, frozenset[str], list[str]]:
    """Raw data with ``table.key`` overrides applied; also the keys overridden and the bad override keys.

    ``tables`` maps table names to their dataclasses; a string value is read by :func:`override_value`, None
    removes the key (back to its default). Raw data nested more than :data:`MAX_DEPTH` levels deep raises
    ScenarioError; an override value nested so deep is a problem of its own.
    """
    if (where := too_deep(raw)) is not None:
        raise ScenarioError(deep_problem("<dict>", where))
    raw = copy.deepcopy(raw)
    done: set[str] = set()
    problems: list[str] = []
    for dotted, value in overrides.items():
        tname, _, name = str(dotted).partition(".")
        table_specs = specs(tables[tname]) if tname in tables else {}
        head, _, sub = name.partition(".")
        if name not in table_specs and sub and head in table_specs and table_specs[head].kind not in _SCALARS:
            # one key of a key that holds a table of its own (instruments.ETH.beta)
            if isinstance(raw, dict) and isinstance(raw.setdefault(tname, {}), dict):
                inner = raw[tname].setdefault(head, {})
                if isinstance(inner, dict):
                    if isinstance(value, str):
                        value = override_value(value, Spec("any", ""))
                    if value is None:
                        inner.pop(sub, None)
                    else:
                        inner[sub] = copy.deepcopy(value)
                    done.update((f"{tname}.{head}", f"{tname}.{head}.{sub}"))
            continue
        if name in table_specs and isinstance(value, str):
            value = override_value(value, table_specs[name])
        if name in table_specs and (where := too_deep(value, MAX_DEPTH - 2)) is not None:
            problems.append(
                deep_problem("override", f"{tname}.{name}{'.' if where[:1] not in ('', '[') else ''}{where}")
            )
        elif name not in table_specs:
            allowed = [f"{tname}.{k}" for k in sorted(table_specs)] or [f"{t}.<key>" for t in sorted(tables)]
            problems.append(f"override: {cut(str(dotted))}: unknown key; allowed: " + ", ".join(allowed))
        elif isinstance(raw, dict) and isinstance(raw.setdefault(tname, {}), dict):
            if value is None:  # back to the default
                raw[tname].pop(name, None)
            else:
                raw[tname][name] = copy.deepcopy(value)
            done.add(f"{tname}.{name}")
    return raw, frozenset(done), problems


# --------------------------------------------------------------------------------------------------------- docs

_TYPE_NAMES = {"float": "number", "int": "integer", "str": "string", "bool": "boolean", "path": "path"}


def _doc_allowed(spec: Spec) -> str:
    if spec.kind in ("float", "int"):
        return interval(spec) or "any"
    if spec.choices:
        return ", ".join(f"`{c}`" for c in spec.choices)
    return {"bool": "`true`, `false`", "path": "a CSV file"}.get(spec.kind, spec.allowed or "any")


def _doc_default(spec: Spec, value: Any) -> str:
    if spec.shown_default:
        return spec.shown_default
    if value is REQUIRED:
        return "required"
    if value is None:
        return "unset"
    return f'`"{value}"`' if isinstance(value, str) else f"`{fmt(value)}`"


def markdown_table(cls: type) -> list[str]:
    """The lines of a markdown table of a table dataclass's keys: type, unit, default, allowed values, doc."""
    lines = ["| key | type | unit | default | allowed | description |", "|---|---|---|---|---|---|"]
    table_defaults = defaults(cls)
    for name, spec in specs(cls).items():
        kind = (spec.type_name or _TYPE_NAMES[spec.kind]) + (", optional" if spec.optional else "")
        lines.append(
            f"| `{name}` | {kind} | {spec.unit} | {_doc_default(spec, table_defaults[name])} | "
            f"{_doc_allowed(spec)} | {spec.doc} |"
        )
    return lines

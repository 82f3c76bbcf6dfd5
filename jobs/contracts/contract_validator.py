"""JSON Schema checks for the event contracts, for the Python jobs (standard library only).

The Python counterpart of lib/contracts/json-schema-validator.ts: it interprets the subset of
JSON Schema that the zod contracts generate (the same keywords; anything else raises, so nothing is
waved through) with the TypeScript validator's semantics, so that the ingestion glue, the Flink
job and the Spark jobs give every record the same verdict:
  - values are what JavaScript's JSON.parse yields: numbers are IEEE doubles (1.0 is the integer 1,
    1e400 is not a finite number), booleans are not numbers, the last of duplicate keys wins, and
    NaN/Infinity literals are not JSON (parse_json refuses them; Python's json would accept them);
  - string lengths count code points, as zod does;
  - patterns are ECMAScript regexes without the `u` flag: they run on UTF-16 code units, `\\d` and
    `\\w` are ASCII, `\\s` is ECMAScript's white space set, `$` matches only at the very end and `.`
    stops at line terminators (translate_pattern turns them into Python regexes that agree);
  - `format` is not checked: zod emits a `pattern` next to every format it checks.

This file is the source; `npx tsx lib/contracts/generate.ts` copies it, with the contracts' schemas
appended, into each job's code (jobs/flink/login_counts/contract_validator.py and
jobs/spark/lakestream_spark/contract_validator.py) because each job ships only its own folder.
Edit this file, never the copies; `generate.ts --check` fails when a copy differs.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Dict, List, Optional

Explainer = Callable[[Any], Optional[str]]

ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated", "readOnly", "writeOnly"})
SUPPORTED_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "items",
        "anyOf",
        "oneOf",
        "enum",
        "const",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
    }
)

# ECMAScript WhiteSpace and LineTerminator code points: what `\s` matches in a JavaScript regex.
_JS_WHITESPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_CLASS_ESCAPES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _JS_WHITESPACE}
_ESCAPES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": f"[{_JS_WHITESPACE}]",
    "S": f"[^{_JS_WHITESPACE}]",
}


def translate_pattern(pattern: str) -> "re.Pattern[str]":
    """An ECMAScript (non-unicode) regex as a Python regex with the same matches."""
    out: List[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 >= len(pattern):
                raise ValueError(f"pattern {pattern!r} ends with a backslash")
            escaped = pattern[index + 1]
            index += 2
            if in_class and escaped in _CLASS_ESCAPES:
                out.append(_CLASS_ESCAPES[escaped])
            elif in_class and escaped in _ESCAPES:
                raise ValueError(f"pattern {pattern!r}: \\{escaped} inside a character class is not supported")
            elif escaped in _ESCAPES:
                out.append(_ESCAPES[escaped])
            elif escaped.isalnum() and escaped not in "tnrfv":
                raise ValueError(f"pattern {pattern!r}: escape \\{escaped} is not supported")
            else:
                out.append("\\" + escaped)
            continue
        if in_class:
            if char == "]":
                in_class = False
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
            if pattern.startswith("^", index + 1):
                out.append("^")
                index += 1
        elif char == "$":
            out.append(r"\Z")
        elif char == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
        else:
            out.append(char)
        index += 1
    return re.compile("".join(out))


def utf16_units(text: str) -> str:
    """The string as JavaScript sees it without the `u` flag: astral characters as surrogate pairs."""
    if not any(ord(char) > 0xFFFF for char in text):
        return text
    units = []
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            units.append(chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF)))
        else:
            units.append(char)
    return "".join(units)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """JSON.parse's result for a JSON text: ValueError when JavaScript would throw."""
    return json.loads(text, parse_constant=_refuse_constant)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    return is_number(value) and float(value).is_integer()


_TYPE_TESTS: Dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": is_number,
    "integer": _is_integer,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def json_equal(a: Any, b: Any) -> bool:
    """Equality of two JSON values as JavaScript compares them (1 equals 1.0, true never equals 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b


def _at(path: str, message: str) -> str:
    return f"{path}: {message}" if path else message


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def compile_explainer(schema: Any, schema_path: str = "") -> Callable[[Any, str], Optional[str]]:
    """A function (value, data path) -> the first problem as "<path>: <what>", or None when valid."""
    if schema is True:
        return lambda value, path: None
    if schema is False:
        return lambda value, path: _at(path, "no value is allowed here")
    if not isinstance(schema, dict):
        raise ValueError(f"schema at {schema_path or '/'} must be an object or a boolean")
    for keyword in schema:
        if keyword not in SUPPORTED_KEYWORDS and keyword not in ANNOTATIONS and not keyword.startswith("x-"):
            raise ValueError(f'keyword "{keyword}" at {schema_path or "/"} is not supported')
    checks: List[Callable[[Any, str], Optional[str]]] = []

    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        for name in names:
            if name not in _TYPE_TESTS:
                raise ValueError(f'unknown type "{name}" at {schema_path or "/"}')
        tests = [_TYPE_TESTS[name] for name in names]
        expected = " or ".join(names)
        checks.append(lambda v, p: None if any(test(v) for test in tests) else _at(p, f"expected {expected}"))

    allowed = [schema["const"]] if "const" in schema else schema.get("enum")
    if allowed is not None:
        message = f"must be {json.dumps(allowed[0])}" if len(allowed) == 1 else f"must be one of {json.dumps(allowed)}"
        checks.append(lambda v, p: None if any(json_equal(v, a) for a in allowed) else _at(p, message))

    checks.extend(_string_checks(schema))
    checks.extend(_number_checks(schema))
    checks.extend(_object_checks(schema, schema_path))
    checks.extend(_array_checks(schema, schema_path))

    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            alternatives = [compile_explainer(s, f"{schema_path}/{keyword}/{i}") for i, s in enumerate(schema[keyword])]
            if keyword == "anyOf":
                checks.append(lambda v, p, alts=alternatives: None if any(alt(v, p) is None for alt in alts) else _at(p, "matches none of the allowed forms"))
            else:
                checks.append(
                    lambda v, p, alts=alternatives: None
                    if sum(alt(v, p) is None for alt in alts) == 1
                    else _at(p, "must match exactly one of the allowed forms")
                )

    def explain(value: Any, path: str) -> Optional[str]:
        for check in checks:
            problem = check(value, path)
            if problem is not None:
                return problem
        return None

    return explain


def _string_checks(schema: Dict[str, Any]) -> List[Callable[[Any, str], Optional[str]]]:
    checks: List[Callable[[Any, str], Optional[str]]] = []
    if "minLength" in schema:
        low = schema["minLength"]
        checks.append(lambda v, p: _at(p, f"must be at least {low} characters") if isinstance(v, str) and len(v) < low else None)
    if "maxLength" in schema:
        high = schema["maxLength"]
        checks.append(lambda v, p: _at(p, f"must be at most {high} characters") if isinstance(v, str) and len(v) > high else None)
    if "pattern" in schema:
        regex = translate_pattern(schema["pattern"])
        what = f"must be a valid {schema['format']}" if "format" in schema else f"must match {schema['pattern']}"
        checks.append(lambda v, p: _at(p, what) if isinstance(v, str) and not regex.search(utf16_units(v)) else None)
    return checks


def _number_checks(schema: Dict[str, Any]) -> List[Callable[[Any, str], Optional[str]]]:
    checks: List[Callable[[Any, str], Optional[str]]] = []
    bounds = (
        ("minimum", lambda v, b: v < b, ">="),
        ("maximum", lambda v, b: v > b, "<="),
        ("exclusiveMinimum", lambda v, b: v <= b, ">"),
        ("exclusiveMaximum", lambda v, b: v >= b, "<"),
    )
    for keyword, fails, symbol in bounds:
        if keyword in schema:
            bound = schema[keyword]
            checks.append(
                lambda v, p, fails=fails, bound=bound, symbol=symbol: _at(p, f"must be {symbol} {bound}") if is_number(v) and fails(v, bound) else None
            )
    return checks


def _object_checks(schema: Dict[str, Any], schema_path: str) -> List[Callable[[Any, str], Optional[str]]]:
    keys = ("properties", "required", "additionalProperties", "propertyNames")
    if not any(key in schema for key in keys):
        return []
    properties = {name: compile_explainer(sub, f"{schema_path}/properties/{name}") for name, sub in schema.get("properties", {}).items()}
    required = list(schema.get("required", []))
    additional = schema.get("additionalProperties", True)
    additional_check = None if additional in (True, False) else compile_explainer(additional, f"{schema_path}/additionalProperties")
    names_check = compile_explainer(schema["propertyNames"], f"{schema_path}/propertyNames") if "propertyNames" in schema else None

    def check(value: Any, path: str) -> Optional[str]:
        if not isinstance(value, dict):
            return None
        for name in required:
            if name not in value:
                return _at(path, f"missing field {name}")
        for key, item in value.items():
            if names_check is not None:
                problem = names_check(key, _child(path, key))
                if problem is not None:
                    return problem
            if key in properties:
                problem = properties[key](item, _child(path, key))
            elif additional is False:
                problem = _at(path, f"unknown field {key}")
            elif additional_check is not None:
                problem = additional_check(item, _child(path, key))
            else:
                problem = None
            if problem is not None:
                return problem
        return None

    return [check]


def _array_checks(schema: Dict[str, Any], schema_path: str) -> List[Callable[[Any, str], Optional[str]]]:
    checks: List[Callable[[Any, str], Optional[str]]] = []
    if "minItems" in schema:
        low = schema["minItems"]
        checks.append(lambda v, p: _at(p, f"must have at least {low} items") if isinstance(v, list) and len(v) < low else None)
    if "maxItems" in schema:
        high = schema["maxItems"]
        checks.append(lambda v, p: _at(p, f"must have at most {high} items") if isinstance(v, list) and len(v) > high else None)
    if "items" in schema:
        item_check = compile_explainer(schema["items"], f"{schema_path}/items")

        def check(value: Any, path: str) -> Optional[str]:
            if not isinstance(value, list):
                return None
            for index, item in enumerate(value):
                problem = item_check(item, _child(path, str(index)))
                if problem is not None:
                    return problem
            return None

        checks.append(check)
    return checks


def explainer(schema: Any) -> Explainer:
    """The contract check of one schema: value -> None when valid, else the first problem."""
    explain = compile_explainer(schema)
    return lambda value: explain(value, "")

"""publisher/lazy.py: a module imported, a pattern compiled, on first use and not before;
then the same as the real thing. Each check that counts imports or compiles runs in a
fresh interpreter."""

from __future__ import annotations

import json
import re

import pytest

from conftest import fresh_probe
from publisher.errors import dump_json, printable
from publisher.lazy import LazyModule, lazy_pattern


def test_a_lazy_module_is_imported_at_its_first_attribute() -> None:
    seen = fresh_probe(
        """
        import json, sys
        from publisher.lazy import LazyModule
        colors = LazyModule("colorsys")
        before = "colorsys" in sys.modules
        value = colors.rgb_to_hsv(1.0, 0.0, 0.0)
        import colorsys
        print(json.dumps([before, "colorsys" in sys.modules, value == colorsys.rgb_to_hsv(1.0, 0.0, 0.0)]))
        """
    )
    assert seen == [False, True, True]


def test_a_lazy_module_has_what_the_module_has_and_nothing_else() -> None:
    lazy = LazyModule("json")
    assert lazy.dumps is json.dumps
    with pytest.raises(AttributeError):
        _ = lazy.no_such_name
    with pytest.raises(ModuleNotFoundError):
        _ = LazyModule("no_such_module_anywhere").x


def test_a_lazy_pattern_matches_as_the_compiled_one() -> None:
    text = "a\x1bb\u202ec::d##[e\n"
    source = "[\x00-\x1f\u202e]"
    lazy, real = lazy_pattern(source), re.compile(source)
    assert lazy.sub("?", text) == real.sub("?", text)
    assert lazy.findall(text) == real.findall(text)
    assert lazy.search(text) is not None and lazy.pattern == source
    folded = lazy_pattern("abc", re.IGNORECASE)
    assert folded.fullmatch("ABC") is not None and folded.flags & re.IGNORECASE


def test_errors_compiles_its_patterns_only_when_a_line_is_made_printable() -> None:
    counts = fresh_probe(
        """
        import json, re
        made = []
        compile = re._compile
        def counting(pattern, flags):
            made.append(pattern)
            return compile(pattern, flags)
        re._compile = counting
        import publisher.errors as errors
        def ours():
            return sum(1 for p in made if isinstance(p, str) and "\\u2066" in p)
        at_import = ours()
        errors.printable("x")
        print(json.dumps([at_import, ours()]))
        """
    )
    assert counts == [0, 1]


def test_printable_and_dump_json_still_escape() -> None:
    assert printable("a\nb\x1b[31m\u202e::x") == "a\\nb\\x1b[31m\\u202e::x"
    assert printable("  ::error::x") == "  \\x3a:error::x"
    assert dump_json({"k": "a\u2028b##[c"}) == '{\n  "k": "a\\u2028b##\\u005bc"\n}'

"""The inputs of cmark's pathological test suite (test/pathological_tests.py), with the
HTML, container and heading cases that matter to this project, at cmark's sizes times `scale`.

Used by tests/test_parser_limits.py (small scale: behaviour) and bench/pathological.py
(full scale: time per file).
"""

from __future__ import annotations


def cases(scale: float = 1.0) -> dict[str, str]:
    def n(count: int) -> int:
        return max(1, int(count * scale))

    return {
        "nested strong emph": "*a **a " * n(65000) + "b" + " a** a*" * n(65000),
        "many emph closers with no openers": "a_ " * n(65000),
        "many emph openers with no closers": "_a " * n(65000),
        "many link closers with no openers": "a]" * n(65000),
        "many link openers with no closers": "[a" * n(65000),
        "mismatched openers and closers": "*a_ " * n(50000),
        "openers and closers multiple of 3": "a**b" + "c* " * n(50000),
        "link openers and emph closers": "[ a_" * n(50000),
        "pattern [ (]( repeated": "[ (](" * n(80000),
        "nested brackets": "[" * n(50000) + "a" + "]" * n(50000),
        "nested block quotes": "> " * n(50000) + "a",
        "deeply nested lists": "".join("  " * i + "* a\n" for i in range(n(1000))),
        "U+0000 in input": "abc\u0000de\u0000" * n(10000),
        "backticks": "".join("e" + "`" * i for i in range(1, n(5000))),
        "unclosed links A": "[a](<b" * n(30000),
        "unclosed links B": "[a](b" * n(30000),
        "tables": "aaa\rbbb\n-\v\n" * n(30000),
        "many references": "".join(f"[{i}]: u\n" for i in range(n(80000))) + "[0] " * n(5000),
        "reference collisions": "".join(f"[x{i}]: /u{i}\n" for i in range(n(30000)))
                                + "".join(f"[x{i}] " for i in range(n(30000))),
        "comment openers": "a <!--" * n(30000),
        "CDATA openers": "a <![CDATA[" * n(30000),
        "processing instructions": "a <?" * n(30000),
        "declarations": "a <!A" * n(30000),
        "long checklist": "- [ ] task\n" * n(30000),
        "unclosed annotations": "::: annotation x\n" * n(10000),
        "nested callouts": "::: tip\n" * n(2000) + "x\n" + ":::\n" * n(2000),
        "many footnotes": "".join(f"x[^{i}]\n\n[^{i}]: n\n\n" for i in range(n(10000))),
        "definition lists": "Term\n: def\n" * n(30000),
        "repeated headings": "## Same\n\nx\n" * n(3300),
    }

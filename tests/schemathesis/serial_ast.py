"""Serialise `ast.parse` across threads, for CPython 3.11 before 3.11.8.

CPython 3.11 keeps the AST constructor's recursion counter in one interpreter-wide state
(python/cpython#106905). When two threads build ASTs at once (a garbage collection during one
conversion lets the other thread run), the counters mix and `ast.parse` raises
`SystemError: AST constructor recursion depth mismatch`. Schemathesis runs two workers as
threads, and hypothesis parses the source of lambdas to describe strategies, so a run failed
now and then with that "Runtime Error" on an operation the API answered correctly. One lock
around `ast.parse` removes the race; it costs nothing measurable, since hypothesis caches what
it parsed. run.sh loads this module through a .pth file in the virtual environment.
"""

import ast
import sys
import threading

if sys.version_info[:2] == (3, 11):
    _lock = threading.RLock()
    _parse = ast.parse

    def _serial_parse(*args, **kwargs):
        with _lock:
            return _parse(*args, **kwargs)

    ast.parse = _serial_parse

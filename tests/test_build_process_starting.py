"""``build_process.interrupted_starting``: which interrupted builds the kill tests leave to
CPython (a Ctrl-C before any function of publisher's ran) and which they hold to
publisher's "aborted" (CI, session 9: a SIGINT 0.17 s in, under coverage's ``.pth`` hook)."""

from __future__ import annotations

from build_process import interrupted_starting

ENTRY = (
    "Traceback (most recent call last):\n"
    '  File "<frozen runpy>", line 198, in _run_module_as_main\n'
    '  File "/x/publisher/__main__.py", line 1, in <module>\n'
    "    from publisher.cli import main\n"
)


def test_cpythons_own_startup_is_cpythons() -> None:
    fatal = (
        "Fatal Python error: init_import_site: Failed to import the site module\n"
        "Python runtime state: initialized\nTraceback (most recent call last):\n"
        '  File "<frozen site>", line 616, in <module>\nKeyboardInterrupt\n'
    )
    assert interrupted_starting(-2, fatal)


def test_an_interrupted_import_of_the_entry_module_is_cpythons() -> None:
    assert interrupted_starting(-2, ENTRY + "KeyboardInterrupt\n")


def test_an_interrupt_inside_a_function_of_publishers_is_not() -> None:
    inside = ENTRY + '  File "/x/publisher/build.py", line 9, in build_site\nKeyboardInterrupt\n'
    assert not interrupted_starting(-2, inside)
    assert not interrupted_starting(130, "\naborted\n")
    assert not interrupted_starting(0, "")

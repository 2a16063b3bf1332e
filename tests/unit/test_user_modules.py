"""`import_user_modules`: a module that is not there is a one-line ConfigurationError; a
module that is there but fails keeps its own error (tasks_core/user_modules.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tasks_core.errors import ConfigurationError
from tasks_core.user_modules import import_user_modules


def test_a_module_that_is_not_there_is_named() -> None:
    with pytest.raises(ConfigurationError) as caught:
        import_user_modules(["no_such_module_for_tc_tests"])
    assert str(caught.value).startswith(
        "cannot import 'no_such_module_for_tc_tests' (--import): no module named "
        "'no_such_module_for_tc_tests'")


def test_a_missing_package_on_the_dotted_path_is_named(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tc_tests_pkg").mkdir()
    (tmp_path / "tc_tests_pkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"no module named 'tc_tests_pkg\.gone'"):
        import_user_modules(["tc_tests_pkg.gone.tasks"], option="-i")
    with pytest.raises(ConfigurationError, match=r"\(-i\)"):
        import_user_modules(["tc_tests_pkg.gone"], option="-i")


def test_a_module_whose_own_import_fails_keeps_its_error(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tc_tests_needs_more.py").write_text("import tc_tests_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as caught:
        import_user_modules(["tc_tests_needs_more"])
    assert caught.value.name == "tc_tests_not_installed"
    assert not isinstance(caught.value, ConfigurationError)


def test_modules_that_are_there_are_imported_in_order(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tc_tests_first.py").write_text("import sys\nsys.tc_tests_order = ['first']\n")
    (tmp_path / "tc_tests_second.py").write_text(
        "import sys\nsys.tc_tests_order.append('second')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import_user_modules(["tc_tests_first", "tc_tests_second"])
    assert sys.tc_tests_order == ["first", "second"]  # type: ignore[attr-defined]
    for name in ("tc_tests_first", "tc_tests_second"):
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(sys, "tc_tests_order")

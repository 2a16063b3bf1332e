"""The compose file never starts Flower with a default password (issue 9, item 8)."""

from __future__ import annotations

from tests.helpers import ROOT


def test_flower_needs_flower_auth_and_has_no_default_password() -> None:
    text = (ROOT / "docker" / "compose.yaml").read_text()
    assert "${FLOWER_AUTH:?" in text  # compose stops, with the message, when it is unset
    assert "${FLOWER_AUTH:-" not in text and "change-me" not in text
    assert "TASKS_CORE_FLOWER_BASIC_AUTH:" in text  # in the environment, not in argv

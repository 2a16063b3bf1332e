# The course's custom-event example ("Create custom event to be emitted when code runs"), with
# only its import line changed (and the course text's OCR slips mended: `emit event`, the
# missing closing parenthesis and `if name == " main "`).
from tasks_core.events import emit_event


def emit_name_event(name: str = "kiki"):
    """Emit a basic Prefect event with a dynamically populated name"""
    print(f"Hi {name}!")
    emit_event(
        event=f"{name}.sent.event!",
        resource={"prefect.resource.id": f"developer.{name}"},
        payload={"name": name},
    )


if __name__ == "__main__":
    emit_name_event()

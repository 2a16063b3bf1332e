"""Celery's canvas on tasks-core: signatures, `chain`, `group`, `chord`, link= callbacks,
`GroupResult` and `ResultSet` (canvas#canvas-signatures ... canvas#canvas-chord).

Every run of a canvas is a tracked run in the ledger, linked in the run tree to the run it
waited for; follow-up runs are released by the terminal transition of the run they wait
for (store/canvas_follow.lua), so no process waits on a result. See `send`.

- `signatures`: `Signature`, `signature`, `maybe_signature` (``add.s()``, ``.si()``)
- `primitives`: `chain`, `group`, `chord`
- `send`: turning one into runs; `links`: ``apply_async(link=, link_error=)``
- `results`: `CanvasResult` (with `.parent`), `ResultSet`, `GroupResult`
- `builtins`: Celery's ``task.map`` / ``.starmap`` / ``.chunks`` (`xmap`, `xstarmap`,
  `chunks(task, it, n)`)
"""

from tasks_core.canvas.builtins import chunks_signature as chunks
from tasks_core.canvas.builtins import xmap, xstarmap
from tasks_core.canvas.primitives import chain, chord, group
from tasks_core.canvas.results import CanvasResult, GroupResult, ResultSet
from tasks_core.canvas.send import send
from tasks_core.canvas.signatures import Signature, maybe_signature, signature

__all__ = ["CanvasResult", "GroupResult", "ResultSet", "Signature", "chain", "chord", "chunks",
           "group", "maybe_signature", "send", "signature", "xmap", "xstarmap"]

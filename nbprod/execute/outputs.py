"""Bounded outputs: a cell that prints without end cannot exhaust the runner's memory.

papermill's client keeps every output message of a cell in the notebook it is building. This
subclass counts the bytes of each cell's outputs; past ``max_output_bytes`` it keeps no more of
them and adds one note at the point of truncation, saying how much was dropped (the count goes
on rising in ``truncated``), so the stored notebook and report stay bounded and say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._papermill import PapermillNotebookClient

DEFAULT_MAX_OUTPUT_BYTES = 10 * 2**20  # per cell


class BoundedClient(PapermillNotebookClient):  # type: ignore[misc]
    """papermill's notebook client with a cap on each cell's outputs."""

    def __init__(self, *args: Any, max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
                 after_cells: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_output_bytes = max_output_bytes
        self.output_bytes: dict[int, int] = {}
        self.truncated: dict[int, int] = {}  # cell index -> bytes dropped
        self.after_cells = after_cells

    def papermill_execute_cells(self) -> None:
        super().papermill_execute_cells()
        if self.after_cells is not None:
            self.after_cells()

    def output(self, outs: list[Any], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> Any:
        size = message_size(msg.get("content", {}))
        used = self.output_bytes.get(cell_index, 0)
        if cell_index in self.truncated or used + size > self.max_output_bytes:
            if cell_index not in self.truncated:
                outs.append(_note(self.max_output_bytes))
            self.truncated[cell_index] = self.truncated.get(cell_index, 0) + size
            return None
        self.output_bytes[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)

    def truncation_note(self, input_index: Any) -> str | None:
        """One line for the run's note, naming the cells (input positions) cut short."""
        if not self.truncated:
            return None
        cells = ", ".join(f"cell {input_index(i)} ({n / 2**20:.1f} MiB dropped)"
                          for i, n in sorted(self.truncated.items()))
        return (f"output truncated after {self.max_output_bytes / 2**20:g} MiB per cell: "
                f"{cells}")


def message_size(content: dict[str, Any]) -> int:
    """Bytes of text an output message carries (stream text, display data, traceback)."""
    total = len(str(content.get("text", "")))
    for value in (content.get("data") or {}).values():
        total += len(value) if isinstance(value, str) else len(str(value))
    total += sum(len(str(line)) for line in content.get("traceback") or [])
    return total


def _note(limit: int) -> Any:
    from ..notebook._nbformat import nbformat

    return nbformat.v4.new_output(
        "stream", name="stderr",
        text=f"[nbprod: this cell's output was truncated here, after {limit / 2**20:g} MiB; "
             "the rest was not kept. Write large results to files (nbprod.output_path).]\n")

"""Bounded outputs: a cell that prints without end cannot exhaust the runner's memory.

papermill's client keeps every output message of a cell in the notebook it is building. This
subclass counts the bytes of each cell's outputs; past ``max_output_bytes`` it keeps no more of
them and adds one note at the point of truncation, saying how much was dropped (the count goes
on rising in ``truncated``), so the stored notebook and report stay bounded and say so.
"""

from __future__ import annotations

import functools
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
        self.invalid: dict[int, int] = {}  # cell index -> outputs dropped as not nbformat
        self.after_cells = after_cells

    def execute(self, **kwargs: Any) -> Any:
        """papermill's ``execute`` without its second ``kernel_info`` request after the
        cells: the kernel client kept the language_info of the reply that readied the kernel
        (``FastKernelClient.language_info``), so the last cell's kernel is not asked again
        (a round trip, ~3 ms a run). Any other client is asked, as papermill does."""
        self.reset_execution_trackers()
        with self.setup_kernel(**kwargs):
            self.papermill_execute_cells()
            info = getattr(self.kc, "language_info", None)
            if not info:
                info = self.wait_for_reply(self.kc.kernel_info())["content"]["language_info"]
            self.nb.metadata["language_info"] = info
            self.set_widgets_metadata()
        return self.nb

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
        if self.output_hook_stack[msg["parent_header"].get("msg_id")]:
            return super().output(outs, msg, display_id, cell_index)  # an Output widget's
        out, problem = output_node(msg)
        if out is None and problem is None:
            self.log.error(f"unhandled iopub msg: {msg['msg_type']}")
            return None
        if problem is not None:  # a hostile or broken kernel: dropped, said in place
            self.invalid[cell_index] = self.invalid.get(cell_index, 0) + 1
            out = _invalid_note(problem)
        # nbclient's own handling of an output once built (clear_output, display ids)
        if getattr(self, "clear_before_next_output", False):
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
        if display_id and problem is None:
            cell_map = self._display_id_map.setdefault(display_id, {})
            cell_map.setdefault(cell_index, []).append(len(outs))
        outs.append(out)
        return out

    def dropped_note(self, input_index: Any) -> str | None:
        """One line for the run's note, naming the cells (input positions) cut short and
        those whose invalid outputs were dropped."""
        notes = []
        if self.truncated:
            cells = ", ".join(f"cell {input_index(i)} ({n / 2**20:.1f} MiB dropped)"
                              for i, n in sorted(self.truncated.items()))
            notes.append(f"output truncated after {self.max_output_bytes / 2**20:g} MiB per "
                         f"cell: {cells}")
        if self.invalid:
            cells = ", ".join(f"cell {input_index(i)} ({n})"
                              for i, n in sorted(self.invalid.items()))
            notes.append(f"outputs dropped as not valid nbformat: {cells}")
        return "; ".join(notes) or None


# The fields an output of each message type takes from the message (nbformat's
# output_from_msg), which validates each new output against the schema with jsonschema
# (2 ms an output); here the output type's compiled schema checks it (12 us).
_FIELDS = {"execute_result": ("metadata", "data", "execution_count"),
           "display_data": ("metadata", "data"), "stream": ("name", "text"),
           "error": ("ename", "evalue", "traceback")}


def output_node(msg: dict[str, Any]) -> tuple[Any, str | None]:
    """The notebook output for an IOPub message and why it is not valid nbformat (None:
    it is); (None, None) for a message that is not an output."""
    from ..notebook._nbformat import nbformat

    fields = _FIELDS.get(msg.get("header", {}).get("msg_type", msg.get("msg_type")))
    if fields is None:
        return None, None
    content = msg.get("content") or {}
    missing = [name for name in fields if name not in content]
    if missing:
        return None, f"the message has no {', '.join(missing)}"
    out = nbformat.from_dict({"output_type": msg["header"]["msg_type"],
                              **{name: content[name] for name in fields}})
    try:
        _validators()[out.output_type](out)
    except Exception as exc:  # fastjsonschema's JsonSchemaException
        reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, ("output" + reason[4:] if reason.startswith("data") else reason)[:200]
    return out, None


@functools.cache
def _validators() -> dict[str, Callable[[Any], object]]:
    """Each output type's schema (nbformat 4.5, what nbformat checks new outputs against),
    compiled once (16 ms; the warm nbprod does it before it forks a command)."""
    import json
    from importlib.resources import files

    import fastjsonschema

    schema = json.loads(files("nbformat").joinpath("v4/nbformat.v4.5.schema.json").read_text())
    # under the schema's own draft (4, where 2.0 is not an integer; fastjsonschema takes a
    # schema that names none as draft 7)
    draft = {"$schema": schema["$schema"]} if "$schema" in schema else {}
    return {kind: fastjsonschema.compile({**draft, "$ref": f"#/definitions/{kind}",
                                          "definitions": schema["definitions"]})
            for kind in _FIELDS}


def message_size(content: dict[str, Any]) -> int:
    """Bytes of text an output message carries (stream text, display data, traceback)."""
    total = len(str(content.get("text", "")))
    for value in (content.get("data") or {}).values():
        total += len(value) if isinstance(value, str) else len(str(value))
    total += sum(len(str(line)) for line in content.get("traceback") or [])
    return total


def _invalid_note(problem: str) -> Any:
    from ..notebook._nbformat import nbformat

    return nbformat.v4.new_output(
        "stream", name="stderr",
        text=f"[nbprod: an output of this cell was dropped: it is not valid nbformat "
             f"({problem})]\n")


def _note(limit: int) -> Any:
    from ..notebook._nbformat import nbformat

    return nbformat.v4.new_output(
        "stream", name="stderr",
        text=f"[nbprod: this cell's output was truncated here, after {limit / 2**20:g} MiB; "
             "the rest was not kept. Write large results to files (nbprod.output_path).]\n")

"""A notebook as nbformat writes it, without copying the whole notebook first.

``nbformat.v4.writes`` deep-copies the notebook (every cell and output, as NotebookNodes)
so that splitting text into lines and dropping transient keys leaves the caller's notebook
alone; for an executed notebook that copy is most of the time it takes. Here only the
containers that change are copied. The text is the same, byte for byte
(``tests/unit/test_write.py``); like ``nbformat.v4.writes``, nothing is validated.
"""

from __future__ import annotations

import json
from typing import Any

_TRANSIENT = ("orig_nbformat", "orig_nbformat_minor", "signature")


def notebook_json(nb: Any) -> str:
    """``nbformat.v4.writes(nb)``: one-space indent, sorted keys, lines split."""
    from nbformat.v4.nbjson import BytesEncoder

    out = dict(nb)
    out["metadata"] = {k: v for k, v in nb["metadata"].items() if k not in _TRANSIENT}
    out["cells"] = [_cell(cell) for cell in nb["cells"]]
    return json.dumps(out, cls=BytesEncoder, indent=1, sort_keys=True, separators=(",", ": "),
                      ensure_ascii=False)


def _cell(cell: Any) -> dict[str, Any]:
    out = dict(cell)
    if "trusted" in cell.get("metadata", {}):
        out["metadata"] = {k: v for k, v in cell["metadata"].items() if k != "trusted"}
    if isinstance(cell.get("source"), str):
        out["source"] = cell["source"].splitlines(True)
    if "attachments" in cell:
        out["attachments"] = {name: _split_bundle(bundle)
                              for name, bundle in cell["attachments"].items()}
    if cell.get("cell_type") == "code":
        out["outputs"] = [_output(output) for output in cell["outputs"]]
    return out


def _output(output: Any) -> Any:
    kind = output.get("output_type")
    if kind in ("execute_result", "display_data") and "data" in output:
        return {**output, "data": _split_bundle(output["data"])}
    if kind == "stream" and isinstance(output.get("text"), str):
        return {**output, "text": output["text"].splitlines(True)}
    return output


def _split_bundle(data: Any) -> Any:
    from nbformat.v4.rwbase import _non_text_split_mimes

    return {key: value.splitlines(True)
            if isinstance(value, str) and (key.startswith("text/") or
                                           key in _non_text_split_mimes) else value
            for key, value in data.items()}

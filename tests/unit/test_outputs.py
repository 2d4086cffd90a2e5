"""Outputs built from kernel messages: the same nodes as nbformat's, the same verdicts.

nbprod builds each output itself (nbformat's ``output_from_msg`` checks every new output
with jsonschema, 2 ms each) and checks it against the output type's compiled schema; an
invalid one is dropped with a note instead of failing the run as an internal error.
"""

from __future__ import annotations

from typing import Any

import pytest
from nbformat.v4 import output_from_msg
from nbformat.validator import ValidationError

from nbprod.execute.outputs import output_node


def message(kind: str, **content: Any) -> dict[str, Any]:
    return {"header": {"msg_type": kind}, "msg_type": kind, "parent_header": {},
            "content": content}


VALID = [
    message("stream", name="stdout", text="hello\nworld\n"),
    message("stream", name="stderr", text="é ünïcode ✓"),
    message("display_data", data={"text/plain": "x", "text/html": "<b>x</b>",
                                  "image/png": "iVBORw0KGgo="}, metadata={"isolated": True}),
    message("display_data", data={"application/json": {"a": [1, 2, {"b": None}]}},
            metadata={}, transient={"display_id": "d1"}),
    message("execute_result", data={"text/plain": "42"}, metadata={}, execution_count=3),
    message("execute_result", data={"text/plain": ["a\n", "b"]}, metadata={},
            execution_count=None),
    message("error", ename="ValueError", evalue="bad", traceback=["line 1", "line 2"]),
]

INVALID = [
    message("display_data", data={"text/plain": 5}, metadata={}),
    message("display_data", data={"text/plain": "x"}, metadata="not a dict"),
    message("stream", name="stdout", text=7),
    message("execute_result", data={"text/plain": "x"}, metadata={}, execution_count="3"),
    message("error", ename="E", evalue="v", traceback="not a list"),
    # the schema is draft 4, where 2.0 is not an integer (draft 7 would take it)
    message("execute_result", data={"text/plain": "x"}, metadata={}, execution_count=2.0),
]


@pytest.mark.parametrize("msg", VALID, ids=lambda m: m["msg_type"])
def test_a_valid_output_is_the_node_nbformat_builds(msg: dict[str, Any]) -> None:
    out, problem = output_node(msg)
    assert problem is None
    assert out == output_from_msg(msg)
    assert type(out) is type(output_from_msg(msg))


@pytest.mark.parametrize("msg", INVALID, ids=lambda m: m["msg_type"])
def test_what_nbformat_rejects_is_rejected_with_a_reason(msg: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        output_from_msg(msg)
    out, problem = output_node(msg)
    assert out is None
    assert problem and problem.startswith("output")


def test_a_message_without_its_fields_is_rejected() -> None:
    out, problem = output_node(message("stream", name="stdout"))
    assert out is None and problem == "the message has no text"


def test_other_messages_are_not_outputs() -> None:
    assert output_node(message("status", execution_state="idle")) == (None, None)
    assert output_node(message("clear_output", wait=False)) == (None, None)

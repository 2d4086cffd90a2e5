"""Forms generated from a notebook's parameter contract: one input per declared parameter.

Numbers get numeric inputs, booleans checkboxes, strings text boxes; anything else (optional
values, lists, dicts, untyped) a text box holding a Python literal, read as ``-p`` reads it.
Each field shows the parameter's type and help, and the message the contract check gives for
it (the CLI's words) when its value does not fit.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as w

from ..notebook.values import GivenValue

RUN_SOURCE = "the widget form"
SWEEP_SOURCE = "the widget sweep"
_NUMERIC = {"int": w.IntText, "float": w.FloatText}
_LABEL = w.Layout(width="11em")
_INPUT = w.Layout(width="16em")


def input_for(parameter: Mapping[str, Any]) -> w.ValueWidget:
    """The input widget for one contract entry, holding its default."""
    kind, default = str(parameter["type"]), parameter["default"]
    if kind == "bool" and isinstance(default, bool):
        return w.Checkbox(value=default, indent=False, layout=_INPUT)
    if kind in _NUMERIC and isinstance(default, int | float) and not isinstance(default, bool):
        return _NUMERIC[kind](value=default, layout=_INPUT)
    if kind == "str" and isinstance(default, str):
        return w.Text(value=default, layout=_INPUT)
    return w.Text(value=repr(default), layout=_INPUT, placeholder="a Python literal")


def given(widget: w.ValueWidget, source: str) -> GivenValue:
    """A field's value as the contract check takes it (text is read as ``-p`` reads it)."""
    if isinstance(widget, w.Text):
        return GivenValue(widget.value, source=source, raw=True)
    return GivenValue(widget.value, source=source)


class _Fields:
    """A column of labelled rows, one per parameter, each with a line for its error."""

    css = "nbprod-input"

    def __init__(self, contract: Sequence[Mapping[str, Any]]) -> None:
        self.errors: dict[str, w.HTML] = {}
        self.rows: list[w.Widget] = []
        for parameter in contract:
            self.errors[parameter["name"]] = w.HTML(layout=w.Layout(margin="0 0 0 11.5em"))

    def row(self, parameter: Mapping[str, Any], widget: w.Widget) -> w.Widget:
        name = parameter["name"]
        widget.add_class(f"{self.css}-{name}")  # for the browser test and user CSS
        helptext = parameter.get("help") or ""
        label = w.HTML(f"<b>{html.escape(name)}</b>", layout=_LABEL)
        about = w.HTML(f"<code>{html.escape(str(parameter['type']))}</code> "
                       f"{html.escape(helptext)}")
        return w.VBox([w.HBox([label, widget, about]), self.errors[name]])

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Put each field's message under it; clear the others."""
        for name, line in self.errors.items():
            message = errors.get(name)
            line.value = f'<span style="color:#cf222e">{html.escape(message)}</span>' \
                if message else ""


class ParametersForm(_Fields):
    """The run form: an input per parameter, its default filled in."""

    def __init__(self, contract: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(contract)
        self.inputs: dict[str, w.ValueWidget] = {p["name"]: input_for(p) for p in contract}
        self.widget = w.VBox([self.row(p, self.inputs[p["name"]]) for p in contract])

    def given(self, source: str = RUN_SOURCE) -> dict[str, GivenValue]:
        return {name: given(widget, source) for name, widget in self.inputs.items()}


class GridForm(_Fields):
    """The sweep form: comma-separated values per parameter (empty: the run form's value)."""

    css = "nbprod-grid"

    def __init__(self, contract: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(contract)
        self.inputs: dict[str, w.Text] = {
            p["name"]: w.Text(placeholder="v1, v2, ... (empty: the form's value)",
                              layout=_INPUT) for p in contract}
        self.widget = w.VBox([self.row(p, self.inputs[p["name"]]) for p in contract])

    def grid(self) -> dict[str, list[str]]:
        """name -> values, for the fields that list any (as ``--grid NAME=a,b``)."""
        return {name: [v.strip() for v in box.value.split(",")]
                for name, box in self.inputs.items() if box.value.strip()}

    def given(self) -> dict[str, list[GivenValue]]:
        return {name: [GivenValue(v, source=f"{SWEEP_SOURCE} {name}", raw=True)
                       for v in values] for name, values in self.grid().items()}

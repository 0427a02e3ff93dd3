"""Griffe extension for the API reference: a dataclass field's comment is its help.

rnnlab's configs and specs are commented dataclasses (`hidden_size: int = 32  # units
per layer`); rnnlab.config reads that comment as the field's command-line help. This
shows the same comment as the field's description in the reference, so that the two
never differ. A field with a docstring of its own keeps it.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

FIELD = re.compile(r"^\s+\w+\s*:[^#\n]*#\s*(.+)$")  # rnnlab.config.field_help's rule


class FieldComments(griffe.Extension):
    def on_attribute_instance(self, *, node: ast.AST | griffe.ObjectNode,
                              attr: griffe.Attribute, agent: Any, **kwargs: Any) -> None:
        if attr.docstring is not None or not attr.parent or not attr.parent.is_class:
            return
        lines = attr.lines
        match = FIELD.match(lines[0]) if lines else None
        if match:
            attr.docstring = griffe.Docstring(match.group(1).strip(), parent=attr)

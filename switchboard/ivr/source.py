"""Flow text (YAML or JSON) to plain data, keeping the line of every value.

The caller reads the file; this module only parses text. Mapping keys are
taken as written (``1:`` is the string ``"1"``, never the number), and a clock
time written without quotes (``8:30``) stays a string instead of YAML 1.1's
base-60 number. Duplicate keys are refused.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from switchboard.ivr.errors import FlowSyntaxError

_PARENT = re.compile(r"(\.[^.\[\]]*|\[\d+\])$")


class Document:
    """Parsed flow text: ``data`` and the 1-based line of each path."""

    def __init__(self, text: str, source: str = "flow") -> None:
        if not isinstance(text, str):
            raise FlowSyntaxError("the flow must be given as text", source=source)
        self.source = source
        self.lines: dict[str, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            data = self._json_fallback(text)
            if data is None:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 1 if mark is not None else 1
                problem = getattr(exc, "problem", None) or str(exc)
                raise FlowSyntaxError(f"not valid YAML or JSON: {problem}", line=line,
                                      source=source) from None
            self.data: Any = data
        else:
            if node is None:
                raise FlowSyntaxError("the flow is empty", line=1, source=source)
            self.data = self._build(node, "")
        if not isinstance(self.data, dict):
            raise FlowSyntaxError("a flow must be a mapping (name, start, steps)", line=1,
                                  source=source)

    @staticmethod
    def _json_fallback(text: str) -> Any:
        # A few JSON escapes (such as "\/") are not YAML; such text still parses,
        # without line numbers.
        if not text.lstrip().startswith("{"):
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    def _build(self, node: yaml.Node, path: str, line: int | None = None) -> Any:
        self.lines[path] = line if line is not None else node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise FlowSyntaxError("a key must be a plain value", field=path or None,
                                          line=key_node.start_mark.line + 1, source=self.source)
                key = str(key_node.value)
                sub = f"{path}.{key}" if path else key
                if key in out:
                    raise FlowSyntaxError("duplicate key", field=sub,
                                          line=key_node.start_mark.line + 1, source=self.source)
                out[key] = self._build(value_node, sub, key_node.start_mark.line + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._build(v, f"{path}[{i}]") for i, v in enumerate(node.value)]
        try:
            value = yaml.SafeLoader("").construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            return str(node.value)  # such as 2025-02-30: the loader says what is wrong
        if isinstance(value, int) and not isinstance(value, bool) and ":" in str(node.value):
            return str(node.value)
        return value

    def line(self, path: str) -> int | None:
        """The line of ``path`` or of its nearest parent that has one."""
        while path and path not in self.lines:
            parent = _PARENT.sub("", path)
            path = parent if parent != path else ""
        return self.lines.get(path)

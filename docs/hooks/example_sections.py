"""Griffe extension for the docs site: read Google-style ``Example:`` sections as examples.

Griffe's Google parser knows only the plural ``Examples:`` as a code-example section and reads
the singular as an admonition of prose, where doctest output such as ``['a', 'b']`` turns into
broken Markdown links. stackae's docstrings use ``Example:`` (both spellings are Google style).
"""

from __future__ import annotations

from typing import Any

import griffe


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = obj.docstring.value.replace("\nExample:\n", "\nExamples:\n")

"""Plain-text tables for answers printed on a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [all(_is_number(r[i]) for r in cells) for i in range(len(columns))]
    lines = [
        "  ".join(
            c.ljust(w) if not n else c.rjust(w)
            for c, w, n in zip(columns, widths, numeric, strict=True)
        )
    ]
    for r in cells:
        lines.append(
            "  ".join(
                v.rjust(w) if n else v.ljust(w) for v, w, n in zip(r, widths, numeric, strict=True)
            )
        )
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == ""
    return True


def print_answer(answer: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    if as_json or not sys.stdout.isatty():
        json.dump(answer, sys.stdout, indent=2)
        print()
    else:
        print(render(answer))


def _header(answer: dict[str, Any]) -> str:
    as_of = answer["as_of"]
    params = ", ".join(f"{k}={v}" for k, v in answer.get("params", {}).items())
    return (
        f"as of position {as_of['position']} ({as_of['recorded_at']}); {params}; "
        f"currency {answer.get('currency', '')}"
    )


def render_pipeline(answer: dict[str, Any]) -> str:
    rows = [*answer["stages"]]
    for kind in ("won", "lost", "unqualified"):
        rows.append({"stage": kind, **answer[kind]})
    return (
        _header(answer)
        + "\n\n"
        + table(rows, ("stage", "probability", "count", "amount", "weighted"))
    )


def render_forecast(answer: dict[str, Any]) -> str:
    return (
        _header(answer)
        + "\n\n"
        + table(answer["rows"], ("period", "owner", "category", "count", "amount", "weighted"))
        + "\n\n"
        + table(
            answer["rollups"],
            (
                "period",
                "owner",
                "commit",
                "best_case",
                "open_pipeline",
                "won",
                "target",
                "attainment",
                "coverage",
            ),
        )
    )

"""A PNG plot of the response-time distribution, with the targets drawn on it."""

from __future__ import annotations

import io
from typing import Any

# A bare Figure renders with the Agg canvas: no pyplot, no display, no global state.
from matplotlib.figure import Figure


def response_time_png(report: dict[str, Any]) -> bytes:
    """Cumulative distribution of incident response times per priority, in minutes."""
    per_priority: dict[str, list[float]] = {}
    for row in report["responses"]:
        value = row.get("response_s")
        if row.get("first_on_scene") and value is not None:
            per_priority.setdefault(row["priority"], []).append(value / 60)
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.subplots()
    for priority, minutes in sorted(per_priority.items()):
        minutes.sort()
        shares = [(i + 1) / len(minutes) for i in range(len(minutes))]
        axes.step(
            [minutes[0], *minutes],
            [0.0, *shares],
            where="post",
            label=f"{priority} (n={len(minutes)})",
        )
    for target in report["compliance"]:
        if target["metric"] == "response":
            axes.axvline(target["target_s"] / 60, linestyle="--", linewidth=1, color="grey")
    axes.axhline(0.9, linestyle=":", linewidth=1, color="grey")
    axes.set_xlabel("response time (call received to first unit on scene), minutes")
    axes.set_ylabel("share of incidents")
    axes.set_ylim(0, 1.02)
    axes.set_title(f"Response times ({report['incidents']} incidents)")
    if per_priority:
        axes.legend(loc="lower right")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()

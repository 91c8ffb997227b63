"""A run's data in files others can open: metrics as CSV and JSON, the spec as JSON, weights as a PyTorch state
dict, and a self-contained HTML report (Plotly embedded, opens offline).

Pure functions of what the server keeps (the run's info, its full-resolution records, a keyframe): the routes in
:mod:`app.routes.export` fetch those and return these. The spec is the run's full spec with every default, so
``POST /api/runs`` with it starts the same run again (same trials, same initial weights, same first losses).
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

import plotly.graph_objects as go
import torch

from app.runs.keyframes import decode_keyframe

#: The CSV's columns, in order: one row per update.
CSV_COLUMNS = ["step", "loss", "accuracy", "ms", "alignment_recurrent", "alignment_all"]


def metrics_csv(records: list[dict[str, Any]]) -> str:
    """One row per update; empty cells for values a record does not have (alignment between measurements, a
    non-finite loss)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        a = r.get("alignment") or {}
        row = [r.get("step"), r.get("loss"), r.get("accuracy"), r.get("ms"), a.get("recurrent"), a.get("all")]
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def weights_state_dict(keyframe: bytes) -> bytes:
    """The network's parameters at a keyframe, as ``torch.save`` of a plain ``{name: tensor}`` state dict (load
    with ``torch.load(path, weights_only=True)``)."""
    state = decode_keyframe(keyframe)
    buffer = io.BytesIO()
    torch.save({k: v.detach().clone() for k, v in state["arch"].items()}, buffer)
    return buffer.getvalue()


def _line(records: list[dict[str, Any]], key: str, name: str) -> go.Scatter:
    xs = [r["step"] for r in records if r.get(key) is not None]
    ys = [r[key] for r in records if r.get(key) is not None]
    return go.Scatter(x=xs, y=ys, mode="lines", name=name)


def _alignment(records: list[dict[str, Any]], key: str, name: str) -> go.Scatter:
    pts = [(r["step"], (r.get("alignment") or {}).get(key)) for r in records if r.get("alignment")]
    pts = [(x, y) for x, y in pts if y is not None]
    return go.Scatter(x=[x for x, _ in pts], y=[y for _, y in pts], mode="lines+markers", name=name)


def _figure(traces: list[go.Scatter], title: str, y_title: str, log: bool = False) -> str:
    fig = go.Figure(traces)
    fig.update_layout(title=title, xaxis_title="update", yaxis_title=y_title, height=340, template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 50, "b": 50})
    if log:
        fig.update_yaxes(type="log")
    return fig.to_html(full_html=False, include_plotlyjs=False)


def report_html(info: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """A whole HTML page about one run: what it was, how it ended, and its loss, accuracy and alignment over every
    update. Plotly's JavaScript is embedded, so the file opens without a network."""
    from plotly.offline import get_plotlyjs

    spec = info["spec"]
    final = info.get("final") or {}
    title = f"{spec['rule']} on {spec['task']} ({spec['arch']}) — run {info['id']}"
    rows = [("task", spec["task"]), ("architecture", spec["arch"]), ("credit rule", spec["rule"]),
            ("status", info["status"]), ("updates", info["step"]), ("seed", spec["seed"]), ("batch", spec["batch"])]
    for key, label in (("loss", "loss (late mean)"), ("accuracy", "accuracy (late mean)")):
        if final.get(key) is not None:
            rows.append((label, f"{final[key]:.4g}"))
    figures = [
        _figure([_line(records, "loss", "loss")], "Loss", "loss", log=True),
        _figure([_line(records, "accuracy", "accuracy")], "Accuracy", "accuracy"),
        _figure([_alignment(records, "recurrent", "network weights"), _alignment(records, "all", "all weights")],
                "Alignment with BPTT's gradient (cosine)", "cosine"),
    ]
    table = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    settings = html.escape(_pretty(spec))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
            "th{text-align:left;padding-right:1rem}pre{background:#f4f4f4;padding:1rem;overflow:auto}</style>"
            f"<script>{get_plotlyjs()}</script></head><body><h1>{html.escape(title)}</h1>"
            f"<table>{table}</table>{''.join(figures)}"
            f"<h2>Full settings</h2><pre>{settings}</pre>"
            "<p>Made by Credit Lab. Load the settings back with POST /api/runs to train the same run again.</p>"
            "</body></html>")


def _pretty(spec: dict[str, Any]) -> str:
    import json

    return json.dumps(spec, indent=2, sort_keys=True)

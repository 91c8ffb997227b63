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


#: One colour per rule, as on the page (UI.md: BPTT black, the others Okabe–Ito in catalog order).
OKABE_ITO = ["#E69F00", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]


def rule_colours() -> dict[str, str]:
    from engine.rules import RULES

    others = [name for name in RULES.names() if name != "bptt"]
    return {"bptt": "#000000", **{name: OKABE_ITO[i % len(OKABE_ITO)] for i, name in enumerate(others)}}


def _page(title: str, body: str) -> str:
    from plotly.offline import get_plotlyjs

    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
            "th,td{text-align:left;padding:2px 12px 2px 0}pre{background:#f4f4f4;padding:1rem;overflow:auto}</style>"
            f"<script>{get_plotlyjs()}</script></head><body><h1>{html.escape(title)}</h1>{body}"
            "<p>Made by Credit Lab.</p></body></html>")


def _fmt(v: Any, spec: str = ".3g") -> str:
    return "—" if v is None else format(v, spec) if isinstance(v, float) else str(v)


def comparison_report_html(detail: dict[str, Any], histories: list[list[dict[str, Any]]]) -> str:
    """A whole HTML page about a comparison: its members' loss, accuracy and recurrent alignment overlaid on shared
    axes (one colour per rule), and the table with the winner. Opens offline (Plotly embedded)."""
    colours = rule_colours()
    members = detail["members"]
    spec = detail["spec"]
    title = f"Comparison {detail['id']} on {spec['base'].get('task', 'dnms')}: " + ", ".join(m["label"] for m in members)

    def lines(key: str, alignment: bool = False) -> list[go.Scatter]:
        out = []
        for m, h in zip(members, histories):
            trace = _alignment(h, "recurrent", m["label"]) if alignment else _line(h, key, m["label"])
            trace.line = {"color": colours.get(m["run"]["spec"]["rule"], "#000000")}
            out.append(trace)
        return out

    figures = [_figure(lines("loss"), "Loss", "loss", log=True), _figure(lines("accuracy"), "Accuracy", "accuracy"),
               _figure(lines("", alignment=True), "Alignment of the network's gradient with BPTT's (cosine)", "cosine")]
    head = ("<tr><th>member</th><th>final accuracy (late mean)</th><th>updates to target</th>"
            "<th>seconds to target</th><th>state</th><th>ms per update</th></tr>")
    rows = "".join(
        f"<tr><td>{html.escape(r['label'])}</td><td>{_fmt(r['final_accuracy'])}</td><td>{_fmt(r['updates_to_target'])}"
        f"</td><td>{_fmt(r['seconds_to_target'])}</td><td>{_fmt(r['state_bytes'])} bytes</td>"
        f"<td>{_fmt(r['ms_per_update'])}</td></tr>" for r in detail["table"])
    win = detail.get("winner")
    verdict = f"<p><strong>Winner: {html.escape(win['label'])}</strong> — {html.escape(win.get('why', ''))}</p>" if win \
        else "<p>No winner yet.</p>"
    body = (f"<table>{head}{rows}</table>{verdict}{''.join(figures)}"
            f"<h2>Comparison spec</h2><pre>{html.escape(_pretty(spec))}</pre>")
    return _page(title, body)


def report_html(info: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """A whole HTML page about one run: what it was, how it ended, and its loss, accuracy and alignment over every
    update. Plotly's JavaScript is embedded, so the file opens without a network."""
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
    return _page(title, f"<table>{table}</table>{''.join(figures)}<h2>Full settings</h2>"
                        f"<pre>{html.escape(_pretty(spec))}</pre>"
                        "<p>Load the settings back with POST /api/runs to train the same run again.</p>")


def _pretty(spec: dict[str, Any]) -> str:
    import json

    return json.dumps(spec, indent=2, sort_keys=True)

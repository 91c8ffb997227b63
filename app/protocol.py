"""Every message that crosses the wire, both ways (docs/protocol.md is the prose version of this file).

Client → server: a :data:`Control` (HTTP body of ``POST /api/runs/{id}/control``, or over the websocket wrapped
as ``{"type": "control", ...}``), ``{"type": "auth", "token": ...}`` and ``{"type": "ack"}``. Server → client:
:class:`Hello`, :class:`StatusMessage`, :class:`MetricsMessage`, :class:`ErrorMessage`, :class:`AuthReply` as JSON
text, and snapshot frames as binary
(:func:`encode_snapshot` / :func:`decode_snapshot`).

JSON goes through orjson, which writes NaN and ±inf as ``null``; records are also cleaned of non-finite numbers
where they enter the server (:func:`clean_record`), and metrics carry an explicit ``diverged`` flag.
"""

from __future__ import annotations

import math
import struct
from typing import Annotated, Any, Literal, Union

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

RunStatus = Literal["queued", "paused", "running", "done", "diverged", "stopped", "error"]
LIVE = frozenset({"queued", "paused", "running"})
FINISHED = frozenset({"done", "diverged", "stopped", "error"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types exactly: no "1" for 1, no true for 1


# --- controls ----------------------------------------------------------------------------------------------------
class Play(_Strict):
    """Train continuously (on a queued run: start as soon as it has a worker)."""
    action: Literal["play"]


class Pause(_Strict):
    """Stop training after the current update; the run can be played or stepped again."""
    action: Literal["pause"]


class Step(_Strict):
    """Do exactly one update (only while paused)."""
    action: Literal["step"]


class Reset(_Strict):
    """Back to step 0 with the same spec (current learning rate), paused; the history is cleared."""
    action: Literal["reset"]


class Stop(_Strict):
    """End the run for good; its history stays."""
    action: Literal["stop"]


class Speed(_Strict):
    """Updates per second; 0 means as fast as the machine goes."""
    action: Literal["speed"]
    value: float = Field(ge=0, le=10_000)


class LearningRate(_Strict):
    """Change the optimizer's learning rate from the next update on."""
    action: Literal["lr"]
    value: float = Field(gt=0, le=10)


class ShowSynapse(_Strict):
    """Show this synapse's eligibility trace, learning signal and their product (rules that keep traces: the
    snapshot's ``synapses.*``): ``value`` = [row, column] in the matrix ``meta.synapses.weight``. It becomes the
    first shown synapse (the last one shown makes room); the next snapshot carries it. Only while a worker holds the
    run (paused or running)."""
    action: Literal["synapse"]
    value: list[Annotated[int, Field(ge=0, le=100_000)]] = Field(min_length=2, max_length=2)


Control = Annotated[Union[Play, Pause, Step, Reset, Stop, Speed, LearningRate, ShowSynapse],
                    Field(discriminator="action")]
CONTROL = TypeAdapter(Control)


# --- client → server over the websocket ----------------------------------------------------------------------------
class ControlMessage(_Strict):
    """``{"type": "control", "action": ..., ..., "token"?: ...}``: a Control with a ``type`` tag and, optionally,
    the owner's token (otherwise the connection's ``auth`` counts)."""
    type: Literal["control"]
    control: Control
    token: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _nest(cls, data: Any) -> Any:
        if isinstance(data, dict) and "control" not in data:
            nested = {k: v for k, v in data.items() if k not in ("type", "token")}
            return {"type": data.get("type"), "control": nested,
                    **({"token": data["token"]} if "token" in data else {})}
        return data


class AuthMessage(_Strict):
    """``{"type": "auth", "token": ...}``: present the owner's token once for this connection."""
    type: Literal["auth"]
    token: str


class AckMessage(_Strict):
    """Sent after the client has drawn a snapshot frame."""
    type: Literal["ack"]


ClientMessage = Annotated[Union[ControlMessage, AuthMessage, AckMessage], Field(discriminator="type")]
CLIENT_MESSAGE = TypeAdapter(ClientMessage)


# --- server → client ---------------------------------------------------------------------------------------------
class Record(BaseModel):
    """One update's measurements. ``loss``/``accuracy`` are null when not finite (a diverged update)."""
    step: int
    loss: float | None
    accuracy: float | None
    ms: float
    alignment: dict[str, float | None] | None = None


class RunInfo(BaseModel):
    """What the server says about a run."""
    id: str
    spec: dict[str, Any]
    """The full spec with every default filled in (``optim.lr`` follows the ``lr`` control)."""
    status: RunStatus
    step: int
    queue_position: int | None
    """Place in the queue (1 = next) while ``queued``; 0 means a worker is starting; null otherwise."""
    speed: float
    lr: float
    final: dict[str, Any] | None
    """Last loss/accuracy, final status, steps and cost; null until the run has finished."""
    message: str | None
    cost: dict[str, float | int] | None
    viewers: int
    created: float
    """Unix time the run was created."""
    updated: float
    public: bool = False
    """Listed for everyone, not only for its owner (its owner sets it: PATCH /api/runs/{id})."""


class RunDetail(RunInfo):
    history: list[Record]
    """Thinned like the hello's to at most ``hello_points`` records; page the rest at /api/runs/{id}/history."""
    history_complete: bool
    history_total: int


class Hello(BaseModel):
    type: Literal["hello"] = "hello"
    run: RunInfo
    history: list[Record]
    """Thinned to at most ``hello_points`` records (first, last, the lowest losses); page the rest over HTTP."""
    history_complete: bool = True
    history_total: int = 0


class StatusMessage(BaseModel):
    type: Literal["status"] = "status"
    status: RunStatus
    step: int
    queue_position: int | None
    message: str | None
    speed: float
    lr: float
    viewers: int
    final: dict[str, Any] | None


class MetricsMessage(BaseModel):
    type: Literal["metrics"] = "metrics"
    records: list[Record]
    diverged: bool
    recorded: float | None = None
    """When the worker sent these records (seconds since the epoch, the server's clock): latency measurements read
    a viewer's receipt against it."""


class ErrorMessage(BaseModel):
    type: Literal["error"] = "error"
    message: str
    code: str | None = None
    """``"forbidden"``: a control without the owner's token; ``"conflict"``: a control that does not fit the
    run's state; null otherwise."""


class AuthReply(BaseModel):
    """The answer to an ``auth`` message: whether the token is the run owner's."""
    type: Literal["auth"] = "auth"
    owner: bool


ServerMessage = Annotated[Union[Hello, StatusMessage, MetricsMessage, ErrorMessage, AuthReply],
                          Field(discriminator="type")]
SERVER_MESSAGE = TypeAdapter(ServerMessage)


def dumps(obj: Any) -> str:
    """JSON text for the wire (orjson: NaN/inf → null, numpy arrays allowed)."""
    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def clean_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record with non-finite numbers replaced by None (JSON-safe for any encoder)."""
    out = {k: _finite(v) for k, v in record.items()}
    if isinstance(out.get("alignment"), dict):
        out["alignment"] = {k: _finite(v) for k, v in out["alignment"].items()}
    return out


# --- binary snapshot frames ------------------------------------------------------------------------------------
_U32 = struct.Struct("<I")


def _pad4(n: int) -> int:
    return (-n) % 4


def encode_snapshot(step: int, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """``u32 LE header length | orjson header | zero pad to 4 | float32 payloads`` (each payload 4-aligned)."""
    entries, chunks, offset = [], [], 0
    for name, a in arrays.items():
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        entries.append({"name": name, "shape": list(np.shape(a)), "offset": offset, "length": len(data)})
        chunks.append(data)
        offset += len(data)  # float32 payloads keep every offset a multiple of 4
    header = orjson.dumps({"type": "snapshot", "step": step, "meta": meta, "arrays": entries},
                          option=orjson.OPT_SERIALIZE_NUMPY)
    start = 4 + len(header)
    return b"".join([_U32.pack(len(header)), header, b"\0" * _pad4(start), *chunks])


def decode_snapshot(frame: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of :func:`encode_snapshot`: the header and name → float32 array (for tests, benches, tools)."""
    (n,) = _U32.unpack_from(frame, 0)
    header = orjson.loads(frame[4:4 + n])
    base = 4 + n + _pad4(4 + n)
    arrays = {}
    for e in header["arrays"]:
        count = e["length"] // 4
        arrays[e["name"]] = np.frombuffer(frame, "<f4", count, base + e["offset"]).reshape(e["shape"])
    return header, arrays


def snapshot_arrays(snap: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Split an engine ``Trainer.snapshot()`` into the frame's ``meta`` and its named arrays."""
    example = dict(snap.get("example", {}))
    meta = {"periods": example.pop("periods", []), "loss_kind": example.pop("loss_kind", None),
            "cost": snap.get("cost")}
    spiking = snap.get("spiking")
    if spiking:  # engine/spiking_view.py: arrays below, the firing summary in meta
        meta["spiking"] = {k: spiking[k] for k in ("rate_hz", "silent", "saturated")}
    if snap.get("variables"):  # engine/views/variables.py: what each declared variable is
        meta["variables"] = snap["variables"]["about"]
    if snap.get("synapses"):  # engine/views/synapses.py: the matrix the shown synapses belong to
        meta["synapses"] = {"weight": snap["synapses"]["weight"]}
    arrays: dict[str, np.ndarray] = {}
    for group in ("weights", "example", "signals", "spiking", "synapses"):
        src = example if group == "example" else snap.get(group) or {}
        for name, a in src.items():
            if isinstance(a, np.ndarray):
                arrays[f"{group}.{name}"] = a
    for name, a in (snap.get("variables") or {}).get("values", {}).items():
        arrays[f"variables.{name}"] = a
    return meta, arrays


# --- audience snapshot frames: quantised (docs/rooms.md, "Audience stream") --------------------------------------
def quantise(a: np.ndarray) -> tuple[bytes, float, float]:
    """``a`` as uint8 codes with ``lo`` and ``scale`` such that ``a ≈ lo + scale · q`` (Eq. Q1), ``q = round((a −
    lo) / scale)``, ``lo = min a``, ``scale = (max a − lo) / 255`` (1 for a constant array); the error is at most
    ``scale / 2``. Non-finite entries become ``lo``."""
    x = np.asarray(a, dtype=np.float64)
    finite = np.isfinite(x)
    if not finite.all():
        x = np.where(finite, x, np.min(x[finite]) if finite.any() else 0.0)
    lo = float(f"{x.min():.7g}") if x.size else 0.0  # 7 digits: as precise as float32, and a short header
    span = float(x.max()) - lo if x.size else 0.0
    scale = float(f"{span / 255.0:.7g}") if span > 0 else 1.0
    q = np.clip(np.rint((x - lo) / scale), 0, 255).astype(np.uint8)
    return q.tobytes(), lo, scale


def encode_quantised_snapshot(step: int, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """``u32 LE header length | orjson header | uint8 payloads``; each entry carries ``lo`` and ``scale``
    (Eq. Q1) and ``"dtype": "u8"``; the header's ``"encoding": "u8"`` tells it from a float32 frame."""
    entries, chunks, offset = [], [], 0
    for name, a in arrays.items():
        data, lo, scale = quantise(a)
        entries.append({"name": name, "shape": list(np.shape(a)), "offset": offset, "length": len(data),
                        "dtype": "u8", "lo": lo, "scale": scale})
        chunks.append(data)
        offset += len(data)
    header = orjson.dumps({"type": "snapshot", "encoding": "u8", "step": step, "meta": meta, "arrays": entries},
                          option=orjson.OPT_SERIALIZE_NUMPY)
    return b"".join([_U32.pack(len(header)), header, *chunks])


def decode_quantised_snapshot(frame: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of :func:`encode_quantised_snapshot` up to Eq. Q1's rounding: the header and float32 arrays."""
    (n,) = _U32.unpack_from(frame, 0)
    header = orjson.loads(frame[4:4 + n])
    arrays = {}
    for e in header["arrays"]:
        q = np.frombuffer(frame, np.uint8, e["length"], 4 + n + e["offset"]).reshape(e["shape"])
        arrays[e["name"]] = (e["lo"] + e["scale"] * q.astype(np.float64)).astype(np.float32)
    return header, arrays

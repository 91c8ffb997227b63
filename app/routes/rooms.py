"""Rooms over HTTP and websocket (docs/rooms.md); the rules live in app/rooms/.

Who may do what: the **presenter** (token as ``Authorization: Bearer`` or the room's presenter cookie) changes the
room: what is shown, polls, resolutions, exports. Everyone else gets 403 and nothing changes. A **participant**
(anonymous id cookie, made on first contact) sees the room once admitted (a password room admits after
``POST .../join`` with the password) and votes. Both are checked before anything of the room is shown.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response, WebSocket, status
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.requests import HTTPConnection

from app.deps import SettingsDep
from app.origins import origin_allowed
from app.owners import TokenDep, bearer_token
from app.rooms import access
from app.rooms.models import (GuessBody, JoinBody, PollAction, PollCreate, ResolveBody, RoomCreate, ShowBody,
                              VoteBody)
from app.rooms.relay import VIEWS
from app.rooms.qr import qr_svg
from app.rooms.room import Room, RoomError
from app.rooms.service import Rooms
from app.routes.pages import templates
from app.runs.manager import LimitExceeded

router = APIRouter(tags=["rooms"])

PRESENTER_ONLY = ("only the room's presenter can change it (send the presenter token as "
                  "'Authorization: Bearer <token>', or use the browser that created the room)")
LOCKED = "this room has a password: POST /api/rooms/{code}/join with it first"


def get_rooms(conn: HTTPConnection) -> Rooms:
    """The app's rooms, loaded from the database on first use (and again if the store was replaced)."""
    state = conn.app.state
    rooms = getattr(state, "rooms", None)
    if rooms is None or rooms.store is not state.store:
        rooms = state.rooms = Rooms(state.store, state.manager)
    return rooms


RoomsDep = Annotated[Rooms, Depends(get_rooms)]


def _room(rooms: Rooms, code: str) -> Room:
    try:
        return rooms.get(code)
    except RoomError as err:
        raise HTTPException(err.status, err.message) from None


def is_presenter(conn: HTTPConnection, room: Room) -> bool:
    token = bearer_token(conn.headers.get("authorization")) or conn.cookies.get(access.presenter_cookie(room.code))
    return access.is_owner(room.presenter, token)


def may_see(conn: HTTPConnection, room: Room) -> bool:
    participant = conn.cookies.get(access.PARTICIPANT_COOKIE)
    return is_presenter(conn, room) or access.admitted(room.password, participant,
                                                       conn.cookies.get(access.admission_cookie(room.code)))


def _participant(request: Request, response: Response) -> str:
    """This browser's anonymous id (made and set as a cookie on first contact)."""
    value = request.cookies.get(access.PARTICIPANT_COOKIE)
    if not access.valid_participant(value):
        value = access.new_participant()
        response.set_cookie(access.PARTICIPANT_COOKIE, value, max_age=30 * 86400, httponly=True, samesite="lax")
    return value  # type: ignore[return-value]


ParticipantDep = Annotated[str, Depends(_participant)]


def presenter_room(code: str, request: Request, rooms: RoomsDep) -> Room:
    room = _room(rooms, code)
    if not is_presenter(request, room):
        raise HTTPException(status.HTTP_403_FORBIDDEN, PRESENTER_ONLY)
    return room


def audience_room(code: str, request: Request, rooms: RoomsDep) -> Room:
    room = _room(rooms, code)
    if not may_see(request, room):
        raise HTTPException(status.HTTP_403_FORBIDDEN, LOCKED.format(code=room.code))
    return room


PresenterRoom = Annotated[Room, Depends(presenter_room)]


def _answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Declared error answers (OpenAPI), each ``{"detail": "..."}``."""
    what = {400: "the body is not JSON", 413: "the body is too large", 403: "not the presenter, or not admitted (password)", 404: "no such room or poll",
            409: "not now (poll closed, already resolved, no run reached the target)", 429: "too many, wait"}
    return {c: {"description": what[c]} for c in codes}
AudienceRoom = Annotated[Room, Depends(audience_room)]


def _apply(change: Any) -> Any:
    try:
        return change()
    except RoomError as err:
        raise HTTPException(err.status, err.message) from None


def _links(request: Request, room: Room) -> dict[str, str]:
    base = str(request.base_url).rstrip("/")
    return {"join_url": f"{base}/rooms/{room.code}", "present_url": f"{base}/rooms/{room.code}/present",
            "qr_url": f"{base}/api/rooms/{room.code}/qr.svg"}


@router.post("/api/rooms", status_code=201, responses=_answers(400, 413))
def create_room(body: RoomCreate, request: Request, response: Response, rooms: RoomsDep) -> dict[str, Any]:
    """A new room: its join code and links, and the presenter token (answered once; also set as a cookie)."""
    room, token = rooms.create(body.title, body.password)
    response.set_cookie(access.presenter_cookie(room.code), token, max_age=30 * 86400, httponly=True,
                        samesite="strict")
    return {"code": room.code, "title": room.title, **_links(request, room), "presenter_token": token}


@router.post("/api/rooms/{code}/join", responses=_answers(400, 413, 403, 404, 429))
def join_room(code: str, body: JoinBody, response: Response, participant: ParticipantDep,
              rooms: RoomsDep) -> dict[str, Any]:
    """Admit this browser to the room (checks the password, if the room has one)."""
    room = _room(rooms, code)
    if not rooms.joins.take(participant):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many tries to join: wait a moment")
    if room.password is not None:
        if not access.check_password(room.password, body.password):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong password for this room")
        response.set_cookie(access.admission_cookie(room.code), access.admission(room.password, participant),
                            max_age=30 * 86400, httponly=True, samesite="lax")
    return {"code": room.code, "title": room.title}


@router.get("/api/rooms/{code}", responses=_answers(403, 404))
def get_room(room: AudienceRoom, request: Request, participant: ParticipantDep, rooms: RoomsDep) -> dict[str, Any]:
    """The room as this browser may see it (results of unrevealed polls only for the presenter), with its votes."""
    presenter = is_presenter(request, room)
    mine = {p.id: p.votes[participant] for p in room.polls.values() if participant in p.votes}
    box = rooms.sandboxes.get(room.code)
    return {**room.view(presenter), "presenter": presenter, "my_votes": mine, **_links(request, room),
            "sandbox": rooms.sandbox_view(room, presenter), "my_copy": box.runs.get(participant) if box else None}


@router.put("/api/rooms/{code}/shown", responses=_answers(400, 413, 403, 404))
def show(body: ShowBody, room: PresenterRoom, rooms: RoomsDep, request: Request) -> dict[str, Any]:
    """Show a run, a comparison or a lesson to the whole room (or nothing)."""
    def exists(kind: str, key: str) -> bool:
        if kind == "comparison":
            return request.app.state.comparisons.get(key) is not None
        from app.routes.lessons import current

        return key in current()[0]

    _apply(lambda: rooms.show(room, body.shown.model_dump() if body.shown else None, exists))
    return {"shown": room.shown}


@router.post("/api/rooms/{code}/guess", status_code=201, responses=_answers(400, 413, 403, 404, 409, 429))
async def guess(body: GuessBody, room: PresenterRoom, rooms: RoomsDep) -> dict[str, Any]:
    """Guess the rule: start ``spec`` (owned by the presenter: the presenter token is its owner token) with its
    rule hidden from the audience everywhere, show it, and open a prediction whose options are rules."""
    from app.routes.api import bad_input, check_settings_strictly
    from engine.catalog import catalog
    from engine.config import SettingError, describe_validation_error
    from engine.registry import UnknownName
    from engine.rules import RULES
    from engine.spec import Incompatible, RunSpec

    try:
        spec = RunSpec.model_validate(body.spec, strict=True)
    except ValidationError as err:
        bad_input(describe_validation_error("spec", err, RunSpec))
    check_settings_strictly(RULES, spec.rule, spec.rule_config, "rule_config")
    rules = sorted(r["name"] for r in catalog()["rules"] if spec.arch in r["supports"])
    options = body.options or sorted([spec.rule, *[r for r in rules if r != spec.rule][:7]])
    if spec.rule not in options:
        raise HTTPException(422, [{"loc": ["body", "options"], "msg": "must include the run's rule",
                                   "type": "value_error"}])
    if room.code in rooms.sandboxes:
        raise HTTPException(status.HTTP_409_CONFLICT, "close the sandbox before guessing a rule (its preset names one)")
    try:
        run = await rooms.manager.create(spec, owner=room.presenter)
    except (UnknownName, Incompatible, SettingError) as err:
        bad_input(err)
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None
    if body.play:
        run.autoplay = "play"
    poll = _apply(lambda: rooms.guess(room, run.id, spec.rule, options, body.question))
    return {"run": run.id, "poll": poll.view(presenter=True), "shown": room.shown}


@router.post("/api/rooms/{code}/guess/reveal", responses=_answers(403, 404, 409))
def reveal_guess(room: PresenterRoom, rooms: RoomsDep) -> dict[str, Any]:
    """Show the hidden rule to everyone: the prediction is resolved with it, its votes beside the answer."""
    poll = _apply(lambda: rooms.reveal(room))
    return {"poll": poll.view(presenter=True), "shown": room.shown}


@router.put("/api/rooms/{code}/sandbox", responses=_answers(400, 413, 403, 404, 409))
async def open_sandbox(room: PresenterRoom, rooms: RoomsDep,
                       spec: Annotated[dict[str, Any] | None, Body(embed=True)] = None) -> dict[str, Any]:
    """Open the sandbox: every audience member may train a small copy of ``spec`` (default: the shown run's)."""
    from app.routes.api import bad_input
    from engine.config import SettingError
    from engine.registry import UnknownName
    from engine.spec import Incompatible, RunSpec, resolve

    box = _apply(lambda: rooms.open_sandbox(room, spec))
    try:
        resolve(RunSpec.model_validate(box.spec))
    except ValidationError as err:
        rooms.sandboxes.pop(room.code, None)
        raise HTTPException(422, [{"loc": ["body", "spec"], "msg": str(err.errors()[0]["msg"]),
                                   "type": "value_error"}]) from None
    except (UnknownName, Incompatible, SettingError) as err:
        rooms.sandboxes.pop(room.code, None)
        bad_input(err)
    return rooms.sandbox_view(room, presenter=True) or {}


@router.delete("/api/rooms/{code}/sandbox", responses=_answers(403, 404, 409))
async def close_sandbox(room: PresenterRoom, rooms: RoomsDep) -> dict[str, Any]:
    """Close the sandbox: every copy still training stops."""
    try:
        return {"stopped": await rooms.close_sandbox(room)}
    except RoomError as err:
        raise HTTPException(err.status, err.message) from None


@router.post("/api/rooms/{code}/sandbox/runs", status_code=201, responses=_answers(403, 404, 409, 429))
async def start_copy(room: AudienceRoom, rooms: RoomsDep, participant: ParticipantDep,
                     token: TokenDep) -> dict[str, Any]:
    """This browser's own small copy of the sandbox's preset (one at a time; asking again answers the same run)
    and its place in the queue. It belongs to the owner token the browser sends (``Authorization: Bearer``), or
    to a new one, answered once as ``owner_token``."""
    def mint() -> tuple[str | None, str]:
        if token is not None:
            return None, access.digest(token)
        new = access.mint()
        return new, access.digest(new)

    try:
        return await rooms.start_copy(room, participant, mint)
    except RoomError as err:
        raise HTTPException(err.status, err.message) from None
    except LimitExceeded as err:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(err)) from None


@router.post("/api/rooms/{code}/polls", status_code=201, responses=_answers(400, 413, 403, 404, 409))
def add_poll(room: PresenterRoom, rooms: RoomsDep, poll: Annotated[PollCreate, Body()]) -> dict[str, Any]:
    """A new poll (a draft: open it to take votes)."""
    return _apply(lambda: rooms.add_poll(room, poll)).view(presenter=True)


@router.post("/api/rooms/{code}/polls/{poll_id}/votes", responses=_answers(400, 413, 403, 404, 409, 429))
def vote(poll_id: str, body: VoteBody, room: AudienceRoom, participant: ParticipantDep,
         rooms: RoomsDep) -> dict[str, Any]:
    """This browser's vote (a second one replaces the first). 404 unknown poll, 409 not open, 422 bad value,
    429 too many."""
    replaced = _apply(lambda: rooms.vote(room, poll_id, participant, body.value))
    return {"poll": poll_id, "value": room.polls[poll_id].votes[participant], "replaced": replaced}


@router.post("/api/rooms/{code}/polls/{poll_id}/resolve", responses=_answers(400, 413, 403, 404, 409))
def resolve(poll_id: str, body: ResolveBody, room: PresenterRoom, rooms: RoomsDep) -> dict[str, Any]:
    """Settle a prediction: by naming the answer, or by runs (one per option; the first to reach the target)."""
    return _apply(lambda: rooms.resolve(room, poll_id, body)).view(presenter=True)


@router.get("/api/rooms/{code}/polls/{poll_id}/votes.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per vote"}, **_answers(403, 404)})
def votes_csv(poll_id: str, room: PresenterRoom) -> Response:
    """Every vote of the poll, one row each (voters as pseudonyms)."""
    poll = _apply(lambda: room.poll(poll_id))
    return Response(poll.csv(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="poll-{poll.id}.csv"'})


@router.post("/api/rooms/{code}/polls/{poll_id}/actions/{action}", responses=_answers(403, 404, 409))
def poll_action(poll_id: str, action: PollAction, room: PresenterRoom, rooms: RoomsDep) -> dict[str, Any]:
    """Open, close, reveal (results to the audience) or hide a poll."""
    return _apply(lambda: rooms.act(room, poll_id, action)).view(presenter=True)


@router.get("/api/rooms/{code}/qr.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}, "description": "the QR code"}, **_answers(403, 404)})
def qr(room: AudienceRoom, request: Request) -> Response:
    """A QR code of the join URL (SVG, made here)."""
    return Response(qr_svg(_links(request, room)["join_url"]), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


async def _admitted_socket(websocket: WebSocket, code: str, rooms: Rooms, settings: Any) -> Room | None:
    """Check a room socket's Origin, accept it, and find its room; None (and the socket closed: 4404 unknown
    room, 4403 not admitted) when it may not see one."""
    headers = websocket.headers
    if not origin_allowed(headers.get("origin"), headers.get("host"), websocket.url.scheme,
                          settings.allowed_origins):
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "this page's origin may not open the lab's sockets")
        return None
    await websocket.accept()
    try:
        room = rooms.get(code)
    except RoomError as err:
        await websocket.close(4404, err.message[:120])
        return None
    if not may_see(websocket, room):
        await websocket.close(4403, "this room has a password: join it first")
        return None
    return room


@router.websocket("/ws/rooms/{code}")
async def room_socket(websocket: WebSocket, code: str, rooms: RoomsDep, settings: SettingsDep) -> None:
    """The room's state, sent again on every change (what is shown, polls, and for the presenter live tallies)."""
    room = await _admitted_socket(websocket, code, rooms, settings)
    if room is not None:
        await rooms.hub(room).serve(websocket, is_presenter(websocket, room))


@router.websocket("/ws/rooms/{code}/run")
async def room_run_socket(websocket: WebSocket, code: str, rooms: RoomsDep, settings: SettingsDep,
                          view: str = "full") -> None:
    """The run the room shows, for its audience: quantised, thinned for ``view`` ("full" or "phone"), and without
    the rule while it is hidden (app/rooms/relay.py). 4422: unknown view; 4409: the room shows no run."""
    room = await _admitted_socket(websocket, code, rooms, settings)
    if room is None:
        return
    if view not in VIEWS:
        await websocket.close(4422, f"view: must be one of {', '.join(VIEWS)}")
        return
    relay = rooms.relay(room)
    if relay is None:
        await websocket.close(4409, "this room shows no run now")
        return
    await relay.serve(websocket, VIEWS[view])


def _page(request: Request, room: Room, name: str) -> Response:
    title = room.title if may_see(request, room) else "A room with a password"  # nothing of it before the password
    return templates().TemplateResponse(request, name, {"title": title, "code": room.code})


@router.get("/rooms", response_class=HTMLResponse, include_in_schema=False)
def new_room_page(request: Request) -> Response:
    """A form that makes a room and opens its presenter page."""
    return templates().TemplateResponse(request, "room_new.html", {"title": "New room", "code": ""})


@router.get("/rooms/{code}", response_class=HTMLResponse, include_in_schema=False)
def audience_page(code: str, request: Request, rooms: RoomsDep) -> Response:
    """The audience's page (asks for the password first if the room has one)."""
    return _page(request, _room(rooms, code), "room.html")


@router.get("/rooms/{code}/present", response_class=HTMLResponse, include_in_schema=False)
def presenter_page(code: str, request: Request, rooms: RoomsDep) -> Response:
    """The presenter's page (the controls need the presenter cookie or token; without it, 403s)."""
    return _page(request, _room(rooms, code), "present.html")

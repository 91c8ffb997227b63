"""app/streams.py: the serve/close loop both hubs share."""

from __future__ import annotations

import asyncio

from app.streams import close_quietly, serve_pair


def test_serve_pair_ends_with_the_first_task_and_cancels_the_other() -> None:
    async def main() -> tuple[object, bool, object]:
        cancelled = asyncio.Event()

        async def reader() -> None:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        async def writer() -> str:
            await asyncio.sleep(0.01)
            return "stalled"

        ended = await serve_pair(writer(), reader())
        await asyncio.wait_for(cancelled.wait(), 1.0)

        async def failing() -> str:
            raise OSError("gone")

        broke = await serve_pair(failing(), reader())  # a writer that raised ends the pair; its result is None
        return ended, cancelled.is_set(), broke

    assert asyncio.run(main()) == ("stalled", True, None)


def test_close_quietly_ignores_a_socket_that_hangs_or_is_gone() -> None:
    class Hanging:
        async def close(self, code: int, reason: str) -> None:
            await asyncio.sleep(30)

    class Gone:
        async def close(self, code: int, reason: str) -> None:
            raise RuntimeError("already closed")

    async def main() -> None:
        await close_quietly(Hanging(), 1001, "bye", timeout=0.05)  # type: ignore[arg-type]
        await close_quietly(Gone(), 1001, "bye")  # type: ignore[arg-type]

    asyncio.run(main())

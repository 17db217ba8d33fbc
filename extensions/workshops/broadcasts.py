"""Trainers' messages to their participants, and each participant's new messages."""
from __future__ import annotations

from sqlalchemy import select

from . import records
from .models import Broadcast, Participant, Workshop, WorkshopState
from .parts import Parts

MAX_MESSAGES = 50  # per answer: a participant's JupyterLab catches up over a few polls


def send(parts: Parts, workshop_id: str, sender: str, text: str) -> dict:
    """Store a broadcast; participants' JupyterLab picks it up at its next poll."""
    with parts.db.write() as session:
        message = Broadcast(workshop_id=workshop_id, sender=sender, text=text, sent_at=parts.clock())
        session.add(message)
        session.flush()
        records.audit(session, sender, "broadcast", workshop_id, {"id": message.id, "text": text})
        return {"id": message.id, "workshop": workshop_id, "text": text, "sent_at": message.sent_at.isoformat(),
                "sender": sender}


def messages_for(parts: Parts, username: str, after: int) -> list[dict]:
    """``username``'s messages newer than id ``after``, oldest first: from the workshops they take part
    in (or train) that have not ended."""
    with parts.db.read() as session:
        joined = select(Participant.workshop_id).where(Participant.username == username)
        rows = session.execute(
            select(Broadcast, Workshop.title).join(Workshop, Workshop.id == Broadcast.workshop_id)
            .where(Broadcast.id > after, Workshop.state.in_([WorkshopState.ready, WorkshopState.ending]),
                   (Broadcast.workshop_id.in_(joined)) | (Workshop.trainer == username))
            .order_by(Broadcast.id).limit(MAX_MESSAGES))
        return [{"id": m.id, "workshop": m.workshop_id, "title": title, "text": m.text,
                 "sent_at": m.sent_at.isoformat(), "sender": m.sender} for m, title in rows]

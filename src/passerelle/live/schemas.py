"""API shapes for live rooms."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from passerelle.http import MAX_ID

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=140)]
Language = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
UserRef = Annotated[int, Field(ge=1, le=MAX_ID)] | Annotated[str, StringConstraints(min_length=3, max_length=254)]
ProductId = Annotated[int, Field(ge=1, le=MAX_ID)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    language: Language = "fr"
    starts_at: AwareDatetime
    cohosts: list[UserRef] = Field(default_factory=list, max_length=4, description="User ids or e-mails")
    product_ids: list[ProductId] = Field(default_factory=list, max_length=100)


class ShowcaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[ProductId] = Field(max_length=100)


class ChatSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slow_mode_seconds: int = Field(default=0, ge=0, le=600, description="Seconds between two messages of a viewer")
    blocked_words: list[Word] = Field(default_factory=list, max_length=200)


class ModeratorsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: list[UserRef] = Field(max_length=20, description="User ids or e-mails")


class SanctionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=MAX_ID)
    kind: Literal["mute", "ban"]


class PersonOut(BaseModel):
    id: int
    name: str


class RoomOut(BaseModel):
    id: int
    title: str
    language: str
    starts_at: datetime
    status: str = Field(description="scheduled, live or ended")
    on_air: bool = Field(description="Video is being pushed right now")
    went_live_at: datetime | None
    ended_at: datetime | None
    host: PersonOut
    cohosts: list[PersonOut]
    product_ids: list[int]
    hls_url: str
    page_url: str


class RoomList(BaseModel):
    items: list[RoomOut]


class StreamKeyOut(BaseModel):
    rtmp_url: str = Field(description="OBS 'Server'")
    stream_key: str = Field(description="OBS 'Stream key'; shown once, rotate to get a new one")


class RoomCreated(RoomOut):
    stream: StreamKeyOut


class ChatSettingsOut(BaseModel):
    slow_mode_seconds: int
    blocked_words: list[str]
    moderators: list[PersonOut]


class ChatMessageOut(BaseModel):
    id: str
    user: PersonOut | None
    text: str
    at: datetime


class ChatMessageList(BaseModel):
    items: list[ChatMessageOut]

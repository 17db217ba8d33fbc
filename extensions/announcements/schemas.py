"""Request bodies of the announcements API: typed, bounded, unknown keys refused (openapi.yaml says the same)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from factoryhub.webservice import Text

GROUP_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
SLURM_ACCOUNT = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$"
MAX_WINDOW_DAYS = 366
LEVELS = ("info", "warning")
AUDIENCES = ("everyone", "group", "project")


class AnnouncementCreate(BaseModel):
    """An announcement: its level, words, window and audience (``group`` or ``project`` names it)."""
    model_config = ConfigDict(extra="forbid")

    level: Literal["info", "warning"] = "info"
    title: Text(120, min_length=1, pattern=r"\S")  # not blank
    text: Text(2000, min_length=1, pattern=r"\S")
    starts_at: AwareDatetime | None = None  # None: now
    ends_at: AwareDatetime
    audience: Literal["everyone", "group", "project"] = "everyone"
    group: Annotated[str, Field(pattern=GROUP_NAME)] | None = Field(None, validate_default=True)
    project: Annotated[str, Field(pattern=SLURM_ACCOUNT)] | None = Field(None, validate_default=True)

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value, info: ValidationInfo):
        starts = info.data.get("starts_at")
        if starts is not None and value <= starts:
            raise ValueError("must be after starts_at")
        if starts is not None and (value - starts).days >= MAX_WINDOW_DAYS:
            raise ValueError(f"an announcement lasts less than {MAX_WINDOW_DAYS} days")
        return value

    @field_validator("group", "project")
    @classmethod
    def _named_by_audience(cls, value, info: ValidationInfo):
        wanted = info.data.get("audience") == info.field_name
        if wanted and value is None:
            raise ValueError(f"required when audience is {info.field_name}")
        if not wanted and value is not None:
            raise ValueError(f"only with audience {info.field_name}")
        return value

    @property
    def audience_name(self) -> str:
        """The group or Slurm account the announcement is for ("" for everyone)."""
        return self.group or self.project or ""

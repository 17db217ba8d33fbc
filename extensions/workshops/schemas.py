"""Request bodies of the workshops API: typed, bounded, unknown keys refused (openapi.yaml says the same)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from factoryhub.spawners.slurm import jobscript
from factoryhub.spawners.slurm.hostlist import expand_hostlist
from factoryhub.webservice import WholeNumber

WORKSHOP_ID = r"^[a-z0-9][a-z0-9-]{2,39}$"
SLURM_ACCOUNT = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$"
NODE_LIST = r"^[A-Za-z0-9][A-Za-z0-9_.\-\[\],]{0,499}$"  # a Slurm hostlist: gpu[01-04],cpu07
# what the job script accepts (its one home): a course repository reaches nbgitpuller's argv there
COURSE_REPO = f"^{jobscript.COURSE_REPO.pattern}$"
BRANCH = f"^{jobscript.COURSE_BRANCH.pattern}$"
MAX_DAYS = 31
CODE = r"^[A-Za-z0-9]{8,32}$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2026-12-04T09:00:00+01:00")
    return value.astimezone(dt.UTC)


AwareTime = Annotated[dt.datetime, AfterValidator(_aware)]


def _safe_branch(value: str) -> str:
    if ".." in value or value.endswith((".lock", "/", ".")) or "//" in value:
        raise ValueError("is not a valid git branch name")
    return value


def _hostlist(value: str) -> str:
    expand_hostlist(value)  # ValueError: too many nodes, or not a host range
    return value


class Body(BaseModel):
    """A request body: unknown keys refused, text stripped."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WorkshopCreate(Body):
    """POST workshops: everything one action needs to make a workshop."""
    id: str = Field(pattern=WORKSHOP_ID, description="e.g. gpu-intro-2026-12")
    title: Annotated[Text, StringConstraints(max_length=120)]
    starts_at: AwareTime
    ends_at: AwareTime
    seats: WholeNumber = Field(ge=1, le=500)
    profile: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    budget_gpu_hours: float = Field(gt=0, le=1_000_000, allow_inf_nan=False)
    trainer_account: str = Field(pattern=SLURM_ACCOUNT, description="the trainer's project the budget comes from")
    course_repo: str = Field(pattern=COURSE_REPO)
    course_branch: Annotated[str, Field(pattern=BRANCH), AfterValidator(_safe_branch)] = "main"
    nodes: Annotated[str, Field(pattern=r"^$|" + NODE_LIST), AfterValidator(_hostlist)] = ""
    idle_timeout_minutes: WholeNumber | None = Field(None, ge=5, le=1440)

    @model_validator(mode="after")
    def _window(self):
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        if self.ends_at - self.starts_at > dt.timedelta(days=MAX_DAYS):
            raise ValueError(f"ends_at: a workshop lasts at most {MAX_DAYS} days")
        return self


class JoinBody(Body):
    """POST join: a code, and for a pool seat the name the participant goes by."""
    code: str = Field(pattern=CODE)
    display_name: Annotated[str, StringConstraints(max_length=100)] = ""


class BroadcastBody(Body):
    """POST workshops/{id}/broadcasts: a message for every participant."""
    text: Annotated[Text, StringConstraints(max_length=1000)]


class SessionsAction(Body):
    """POST workshops/{id}/sessions: start or stop every participant's session."""
    action: Literal["start", "stop"]


class PoolLogin(Body):
    """POST pool-logins: a pool account's login, checked for the hub's login page."""
    username: str = Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    password: str = Field(min_length=1, max_length=200)


def code_shape(code: str) -> bool:
    """Whether ``code`` could be a join code at all (checked before any lookup)."""
    return re.fullmatch(CODE, code) is not None

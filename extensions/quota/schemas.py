"""Request bodies of the quota API: typed, bounded, unknown keys refused.

The API reads bodies strictly (JSON types as openapi.yaml says them: a number is no string,
a date is ``YYYY-MM-DD``); the admin pages' forms read the same models leniently. A body that
does not validate becomes one 400 naming the field and the reason
(factoryhub.webservice.first_problem); nothing is written.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from factoryhub.webservice import Text, WholeNumber

from .models import Sector, Track

SLURM_ACCOUNT = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$"
USERNAME = r"^[a-z_][a-z0-9_\-]{0,31}$"
Account = Annotated[str, Field(pattern=SLURM_ACCOUNT, description="Slurm account name")]
# the principal investigator: a member's user name, or "" for none
PrincipalInvestigator = Annotated[str, Field(pattern=r"^([a-z_][a-z0-9_\-]{0,31})?$",
                                             description="A member's user name, or empty for none")]
Username = Annotated[str, Field(pattern=USERNAME, description="Unix/Slurm user name")]
Hours = Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)]
# some character other than white space (titles are stripped: " " would become "")
Title = Text(200, min_length=1, pattern=r"\S")


class Body(BaseModel):
    """A request body: unknown keys refused, text stripped."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProjectCreate(Body):
    """POST projects."""
    account: Account
    title: Title
    track: Track = Track.exploratory
    sector: Sector = Sector.research
    contact: Text(254) = ""
    pi: PrincipalInvestigator = ""
    members: list[Username] = Field(default_factory=list, max_length=10_000)


class NoNulls(Body):
    """Optional fields are left out, never null (openapi.yaml types none of them as null); in an
    update, a field left out keeps its value."""

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("may not be null (leave the field out instead)")
        return value


class ProjectUpdate(NoNulls):
    """PATCH projects/{account}."""
    title: Title | None = None
    track: Track | None = None
    sector: Sector | None = None
    contact: Text(254) | None = None
    pi: PrincipalInvestigator | None = None


class AllocationCreate(Body):
    """POST projects/{account}/allocations."""
    gpu_hours: Hours
    cpu_hours: Hours = 0
    starts_on: dt.date
    ends_on: dt.date
    notes: Text(2000) = ""

    @model_validator(mode="after")
    def _period(self):
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class AllocationUpdate(NoNulls):
    """PATCH allocations/{id}."""
    gpu_hours: Hours | None = None
    cpu_hours: Hours | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    notes: Text(2000) | None = None


class HoldRequest(Body):
    """POST holds: the session a hold pays for."""
    account: Account
    username: Username
    server_name: Text(255) = ""
    gpus: WholeNumber = Field(ge=0, le=1024)
    walltime_hours: float = Field(gt=0, le=24 * 366, allow_inf_nan=False)
    price: float = Field(1.0, ge=0, le=1000, allow_inf_nan=False)
    max_pending_hours: float = Field(0, ge=0, le=24 * 31, allow_inf_nan=False,
                                     description="How long the session may wait in the queue before it starts.")


class HoldJob(Body):
    """POST holds/{id}/job."""
    job_id: str = Field(pattern=r"^[0-9]{1,20}$")


class HoldClose(NoNulls):
    """POST holds/{id}/close: whether the session ran, and what it cost."""
    ran: bool
    charged_gpu_hours: float | None = Field(
        None, ge=0, allow_inf_nan=False,
        description="What the session cost, as the spawner measured it at stop; with ran=true the settled "
                    "hold counts at most this (never more than it reserved) until accounting has the job.")

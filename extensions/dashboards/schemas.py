"""Request bodies of the dashboards API: typed, bounded, unknown keys refused (openapi.yaml says the same)."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from factoryhub.spawners.dashboard import InvalidDashboard, notebook_path
from factoryhub.webservice import WholeNumber

from .plan import NAME_PATTERN

SLURM_ACCOUNT = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$"
PROFILE_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"
UNIX_NAME = r"^[a-z_][a-z0-9_.-]{0,31}$"
GROUP_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
CODE = r"^[A-Za-z0-9_-]{16,43}$"

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _notebook(value: str) -> str:
    try:
        return notebook_path(value)
    except InvalidDashboard as err:
        raise ValueError(str(err)) from None


class Body(BaseModel):
    """A request body: unknown keys are refused."""
    model_config = ConfigDict(extra="forbid")


class DashboardCreate(Body):
    """Publish a notebook of one's home as the dashboard ``name`` (server dash-<name>)."""
    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    title: Title
    notebook: Annotated[str, StringConstraints(max_length=300), AfterValidator(_notebook)]
    profile: Annotated[str, StringConstraints(pattern=PROFILE_ID)] | None = None
    account: Annotated[str, StringConstraints(pattern=SLURM_ACCOUNT)] | None = None
    walltime_hours: float | None = Field(None, gt=0, le=24 * 30)
    show_sources: bool = False


class LinkCreate(Body):
    """A guest link: its lifetime (the site's default when absent), an optional guest limit and label."""
    expires_in_seconds: WholeNumber | None = Field(None, ge=1)
    max_guests: WholeNumber | None = Field(None, ge=1, le=10000)
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""


class ShareCreate(Body):
    """Give an institutional user, or a group, access to a dashboard by name."""
    user: Annotated[str, StringConstraints(pattern=UNIX_NAME)] | None = None
    group: Annotated[str, StringConstraints(pattern=GROUP_NAME)] | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.user is None) == (self.group is None):
            raise ValueError("give exactly one of user and group")
        return self


class GuestLogin(Body):
    """The hub's login page redeems a guest's one-time ticket."""
    ticket: Annotated[str, StringConstraints(pattern=CODE)]

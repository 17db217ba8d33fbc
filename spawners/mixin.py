"""Profiles, the spawn form and option validation, shared by every FactoryHub spawner."""
from __future__ import annotations

from jupyterhub.spawner import SpawnException
from traitlets import Any, List, Unicode, default
from traitlets.config import LoggingConfigurable

from factoryhub.site import Profile
from factoryhub.system_accounts import AccountPolicyConfig, refusal_message

from .options import InvalidOptions, SessionRequest, form_to_options, parse_user_options, render_form


def refuse(message: str, reason: str, status_code: int = 400) -> SpawnException:
    """A spawn refusal whose message the spawn page and the API show as is."""
    err = SpawnException(message, reason=reason, status_code=status_code)
    err.jupyterhub_message = message
    return err


class SessionOptionsMixin(AccountPolicyConfig, LoggingConfigurable):
    """Mix into a Spawner: offers the site's profiles and validates user_options once.

    Subclasses read ``self.session_request`` in ``start()``; it is set in
    ``apply_user_options``, which JupyterHub runs for form, API and query spawns alike.
    """

    profiles = List(
        config=True,
        help="Session profiles (dicts with the fields of site.yaml's profiles), e.g. "
        "[{'id': 'gpu-1', 'title': '1 GPU, 4 h', 'partition': 'gpu', 'gpus': 1, 'gpu_type': 'h100'}].",
    )
    default_profile = Unicode("", config=True, help="Profile id pre-selected when the user chose none.")
    session_request = Any(None, help="The validated SessionRequest of the current spawn.")

    @property
    def profile_models(self) -> list[Profile]:
        return [p if isinstance(p, Profile) else Profile.model_validate(p) for p in self.profiles]

    def _previous_options(self) -> dict:
        orm = getattr(self, "orm_spawner", None)
        return dict(getattr(orm, "user_options", None) or self.user_options or {})

    @default("options_form")
    def _default_options_form(self):
        def form(spawner):
            return render_form(spawner.profile_models, spawner._previous_options(), spawner.default_profile or None)
        return form

    @default("options_from_form")
    def _default_options_from_form(self):
        return form_to_options

    def options_from_query(self, query_data):
        return form_to_options({k: [v] if isinstance(v, str) else v for k, v in query_data.items()})

    @default("apply_user_options")
    def _default_apply_user_options(self):
        def apply(spawner, user_options):
            spawner.refuse_system_account()  # before anything looks at the options
            spawner.session_request = spawner.validate_options(user_options)
            spawner.apply_session_request(spawner.session_request)
        return apply

    def validate_options(self, user_options) -> SessionRequest:
        try:
            return parse_user_options(user_options, self.profile_models, self.default_profile or None)
        except InvalidOptions as err:
            raise self.refuse_options(err) from None

    def refuse_options(self, err: InvalidOptions) -> SpawnException:
        """Log a refused option and turn it into the 400 the user sees."""
        self.log.warning("Refused session options for %s: %s", self._log_name, err)
        return refuse(f"Invalid session options — {err}", "invalid_options")

    def refuse_system_account(self) -> None:
        """Refuse (403) a session for a system account, however its hub user came to exist
        (login, admin API, an old database): sessions run with the user's Unix identity."""
        refused = self.account_policy.refusal(self.user.name)
        if refused:
            self.log.warning("Refused a session for %s: %s", self._log_name, refused)
            raise refuse(refusal_message(refused), "system_account", 403)

    def apply_session_request(self, request: SessionRequest) -> None:
        """Turn the validated request into the backend's settings (override per backend)."""

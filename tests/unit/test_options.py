"""Session options: one validator for form, API and query input."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from factoryhub.site import parse_site
from factoryhub.spawners.options import (
    COST_SCRIPT,
    LABELS,
    WORKSHOP_SCRIPT,
    InvalidOptions,
    form_to_options,
    parse_user_options,
    render_form,
)

REPO = Path(__file__).resolve().parents[2]
SITE = parse_site(yaml.safe_load((REPO / "site.example.yaml").read_text()), "site.example.yaml")
PROFILES = SITE.profiles


def workshop_binding(**changes):
    from factoryhub.spawners.workshop import WorkshopBinding

    binding = {"id": "gpu-intro", "title": "Introduction to GPU computing", "account": "ws-gpu-intro",
               "profile": "workshop", "reservation": "ws-gpu-intro", "course_repo": "https://git.example.eu/c.git",
               "course_branch": "main", "course_dir": "gpu-intro", "starts_at": "2026-12-04T10:00:00+00:00",
               "ends_at": "2026-12-04T16:00:00+00:00", "idle_timeout_minutes": None, **changes}
    return WorkshopBinding.from_properties(f"workshop-{binding['id']}", {"factoryhub_workshop": binding})


def test_defaults_to_default_profile_and_its_walltime():
    req = parse_user_options({}, PROFILES, "gpu-1")
    assert req.profile.id == "gpu-1"
    assert req.walltime_hours == 4
    assert req.cost_gpu_hours == 4.0


def test_form_lists_and_api_scalars_give_the_same_request():
    from_form = parse_user_options(form_to_options({"profile": ["workshop"], "walltime_hours": ["1.5"],
                                                    "_xsrf": ["x"]}), PROFILES)
    from_api = parse_user_options({"profile": "workshop", "walltime_hours": 1.5}, PROFILES)
    assert from_form == from_api
    assert from_api.cost_gpu_hours == 0.75  # 1 GPU x 1.5 h x price 0.5
    assert from_api.walltime_minutes == 90


@pytest.mark.parametrize("options, field, fragment", [
    ({"profile": "root-shell"}, "profile",
     "Profile (profile): 'root-shell' is not offered (choose one of cpu-small, gpu-1"),
    ({"profile": "gpu-1", "walltime_hours": 5}, "walltime_hours",
     "Walltime (hours) (walltime_hours): must be more than 0 and at most 4 hours for profile gpu-1"),
    ({"walltime_hours": "0"}, "walltime_hours", "Walltime (hours) (walltime_hours): must be more than 0"),
    ({"walltime_hours": "-1"}, "walltime_hours", "must be more than 0"),
    ({"walltime_hours": "nan"}, "walltime_hours", "must be more than 0"),
    ({"walltime_hours": "1e999"}, "walltime_hours", "must be more than 0"),
    ({"walltime_hours": "4; rm -rf /"}, "walltime_hours", "is not a number of hours"),
    ({"walltime_hours": ["1", "2"]}, "walltime_hours", "Walltime (hours) (walltime_hours): give exactly one value"),
    ({"profile": {"$ne": 1}}, "profile", "Profile (profile): must be a string or number"),
    ({"profile": True}, "profile", "must be a string or number"),
    ({"gpus": "9"}, "gpus", "GPUs (gpus): '9' is not allowed: from 1 to 1 for profile gpu-1"),
    ({"batch_submit_cmd": "bash -c id"}, "batch_submit_cmd",
     "batch_submit_cmd: unknown option (allowed: profile, walltime_hours, gpus)"),
    ({"account": "proj-x"}, "account", "account: unknown option (allowed: profile, walltime_hours, gpus)"),
])
def test_refusals_name_the_field_and_what_is_allowed(options, field, fragment):
    with pytest.raises(InvalidOptions) as info:
        parse_user_options(options, PROFILES, "gpu-1")
    assert info.value.field == field
    assert fragment in str(info.value)


def test_refusals_name_the_field_as_the_form_labels_it_and_the_api_key_after_it():
    html = render_form(PROFILES, {}, "gpu-1", ("proj-climate",), ("workshop-1",), workshops=[workshop_binding()])
    for key, label in LABELS.items():
        # the form's label for the key begins with the label a refusal uses ("Walltime (hours" + "; ...)")
        assert (f'<label for="{key}">{label.removesuffix(")")}' in html) or f"<legend>{label}</legend>" in html, key
    with pytest.raises(InvalidOptions) as info:
        parse_user_options({"account": "proj-genomics"}, PROFILES, "gpu-1", ("proj-climate",))
    assert str(info.value).startswith("Project (account): 'proj-genomics' is not one of your projects")
    with pytest.raises(InvalidOptions) as info:
        parse_user_options({"reservation": "other"}, PROFILES, "gpu-1", ("proj-climate",), ("workshop-1",))
    assert str(info.value).startswith("Reservation (reservation): 'other' is not an active reservation")
    assert info.value.field == "reservation"


@settings(max_examples=5000, deadline=None)
@given(st.dictionaries(st.text(max_size=20), st.one_of(st.text(max_size=50), st.integers(), st.floats(),
                                                         st.lists(st.text(max_size=10), max_size=3), st.none())))
def test_any_input_is_either_a_valid_request_or_a_named_refusal(options):
    try:
        req = parse_user_options(options, PROFILES, "gpu-1")
    except InvalidOptions as err:
        assert err.field in set(options) | {"profile", "walltime_hours"}
    else:
        assert req.profile in PROFILES
        assert 0 < req.walltime_hours <= req.profile.max_walltime_hours


def test_form_escapes_site_text_and_prefills_previous_choice():
    hostile = PROFILES[0].model_copy(update={"title": "<script>alert(1)</script>", "description": '"><img src=x>'})
    html = render_form([hostile, *PROFILES[1:]], {"profile": "workshop", "walltime_hours": 1.5}, "gpu-1")
    assert html.count(COST_SCRIPT) == 1
    assert "<script>" not in html.replace(COST_SCRIPT, "") and "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'value="workshop" checked' in html
    assert 'value="gpu-1" data' in html and 'value="gpu-1" checked' not in html
    assert 'name="walltime_hours" value="1.5"' in html


def test_form_labels_projects_with_their_balance_and_profiles_with_their_price():
    html = render_form(PROFILES, {"account": "sme-visionai"}, "gpu-1", ("proj-climate", "sme-visionai", "proj-x"),
                       balances={"proj-climate": 12.5, "sme-visionai": 0})
    assert '<option value="proj-climate" data-remaining="12.50">proj-climate — 12.50 GPU-hours left</option>' in html
    assert '<option value="sme-visionai" data-remaining="0.00" selected>' in html
    assert '<option value="proj-x">proj-x</option>' in html  # unmetered: no balance shown
    assert 'data-price="0.5"' in html and 'id="factoryhub-cost"' in html


def test_an_empty_form_field_means_the_profile_default():
    options = form_to_options({"profile": ["gpu-1"], "walltime_hours": [""], "_xsrf": ["token"]})
    assert options == {"profile": ["gpu-1"]}
    assert parse_user_options(options, PROFILES).walltime_hours == 4


def test_account_must_be_one_of_the_users_projects():
    accounts = ("proj-climate", "sme-visionai")
    assert parse_user_options({}, PROFILES, "gpu-1", accounts).account == "proj-climate"
    assert parse_user_options({"account": ["sme-visionai"]}, PROFILES, "gpu-1", accounts).account == "sme-visionai"
    with pytest.raises(InvalidOptions,
                       match=r"'proj-genomics' is not one of your projects \(proj-climate, sme-visionai\)"):
        parse_user_options({"account": "proj-genomics"}, PROFILES, "gpu-1", accounts)
    with pytest.raises(InvalidOptions, match="you belong to no project"):
        parse_user_options({}, PROFILES, "gpu-1", ())


def test_form_offers_the_users_projects_with_the_previous_one_selected():
    html = render_form(PROFILES, {"account": ["sme-visionai"]}, "gpu-1", ("proj-climate", "sme-visionai"))
    assert '<option value="sme-visionai" selected>' in html and '<option value="proj-climate">' in html
    assert 'id="factoryhub-no-project"' in render_form(PROFILES, {}, "gpu-1", ())


def test_gpu_count_within_the_profile_and_cost_follows_it():
    req = parse_user_options({"profile": "gpu-4-finetune", "gpus": "2", "walltime_hours": 2}, PROFILES)
    assert req.gpu_count == 2 and req.cost_gpu_hours == 4.0
    for bad in ("5", "0", "-1", "two", "1.5"):
        with pytest.raises(InvalidOptions, match=r"GPUs \(gpus\): .* from 1 to 4 for profile gpu-4-finetune"):
            parse_user_options({"profile": "gpu-4-finetune", "gpus": bad}, PROFILES)
    with pytest.raises(InvalidOptions, match="the profile has no GPUs"):
        parse_user_options({"profile": "cpu-small", "gpus": 1}, PROFILES)


def test_reservation_must_be_active_and_usable():
    req = parse_user_options({"reservation": "workshop-1"}, PROFILES, "gpu-1", ("proj-climate",), ("workshop-1",))
    assert req.reservation == "workshop-1"
    with pytest.raises(InvalidOptions, match=r"'other' is not an active reservation you may use \(workshop-1\)"):
        parse_user_options({"reservation": "other"}, PROFILES, "gpu-1", ("proj-climate",), ("workshop-1",))


def test_form_shows_idle_gpus_labels_gpu_count_and_reservations():
    html = render_form(PROFILES, {"reservation": "workshop-1"}, "gpu-1", ("proj-climate",), ("workshop-1",),
                       {"h100": 3}, {"h100": "NVIDIA H100 80GB"})
    assert "up to 2 × NVIDIA H100 80GB (3 idle now)" in html
    assert 'id="gpus" name="gpus"' in html and 'max="4"' in html
    assert '<option value="workshop-1" selected>' in html


def test_the_slurm_backend_accepts_the_workshop_key_and_names_it_among_the_allowed():
    with pytest.raises(InvalidOptions,
                       match=r"allowed: profile, walltime_hours, gpus, account, reservation, workshop\)"):
        parse_user_options({"queue": "x"}, PROFILES, "gpu-1", ("proj-climate",))
    request = parse_user_options({"workshop": "gpu-intro", "walltime_hours": 1}, PROFILES, "gpu-1",
                                 ("proj-climate", "ws-gpu-intro"), (), [workshop_binding()])
    assert (request.profile.id, request.account, request.reservation, request.workshop.id) == \
        ("workshop", "ws-gpu-intro", "ws-gpu-intro", "gpu-intro")
    assert request.walltime_hours == 1
    with pytest.raises(InvalidOptions) as info:
        parse_user_options({"workshop": "gpu-intro", "profile": "gpu-1"}, PROFILES, "gpu-1",
                           ("proj-climate", "ws-gpu-intro"), (), [workshop_binding()])
    assert info.value.field == "profile" and str(info.value).startswith("Profile (profile): workshop gpu-intro uses")


def test_the_form_offers_the_users_active_workshops_first_and_escapes_their_titles():
    hostile = workshop_binding(id="ml-101", title='<img src=x onerror=alert(1)> & "co"', account="ws-ml")
    html = render_form(PROFILES, {}, "gpu-1", ("proj-climate", "ws-gpu-intro", "ws-ml"), (),
                       workshops=[workshop_binding(), hostile])
    assert html.index('id="workshop"') < html.index('id="account"')
    assert ('<option value="gpu-intro" data-profile="workshop" data-account="ws-gpu-intro" selected>'
            'Introduction to GPU computing (gpu-intro)</option>') in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;co&quot; (ml-101)" in html and "<img" not in html
    assert '<option value="">none</option>' in html
    assert html.index(WORKSHOP_SCRIPT) < html.index(COST_SCRIPT)  # the cost counts the workshop's profile
    again = render_form(PROFILES, {"workshop": ["ml-101"]}, "gpu-1", ("proj-climate",), (),
                        workshops=[workshop_binding(), hostile])
    assert 'data-account="ws-ml" selected>' in again and 'data-account="ws-gpu-intro" selected' not in again
    plain = render_form(PROFILES, {}, "gpu-1", ("proj-climate",))
    assert 'name="workshop"' not in plain and WORKSHOP_SCRIPT not in plain


def test_choosing_a_workshop_in_the_form_fixes_profile_and_project_under_node():
    """The form's workshop script, verbatim, on a minimal stand-in for the form's elements."""
    import json
    import shutil
    import subprocess

    node = shutil.which("node")
    assert node, "node is needed to run the spawn form's script (it builds the lab extension too)"
    program = """
let checkedValue = "cpu-small";  // one radio group: checking one unchecks the others
const radios = ["cpu-small", "workshop"].map(v => ({name: "profile", value: v, disabled: false,
  get checked() { return checkedValue === v; }, set checked(on) { if (on) { checkedValue = v; } }}));
const account = {id: "account", value: "proj-climate", disabled: false};
const reservation = {id: "reservation", value: "", disabled: false};
const options = {"": {dataset: {}}, "gpu-intro": {dataset: {profile: "workshop", account: "ws-gpu-intro"}}};
const select = {value: "gpu-intro", listeners: [], addEventListener(kind, f) { this.listeners.push(f); },
                get selectedOptions() { return [options[this.value]]; }};
const form = {querySelector(q) { return {"#workshop": select, "#account": account}[q] || null; },
              querySelectorAll(q) { return q.includes("#account") ? [...radios, account, reservation] : radios; }};
const document = {currentScript: {closest: () => form}};
const seen = [];
function snapshot() { seen.push({checked: radios.find(r => r.checked).value, account: account.value,
                                 disabled: [...radios, account, reservation].map(e => e.disabled)}); }
eval(require("fs").readFileSync(0, "utf8"));
snapshot();
select.value = ""; select.listeners.forEach(f => f()); snapshot();
console.log(JSON.stringify(seen));
"""
    script = WORKSHOP_SCRIPT.removeprefix("<script>").removesuffix("</script>")
    run = subprocess.run([node, "-e", program], input=script, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    chosen, none = json.loads(run.stdout)
    assert chosen == {"checked": "workshop", "account": "ws-gpu-intro", "disabled": [True] * 4}
    assert none["disabled"] == [False] * 4

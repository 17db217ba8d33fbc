"""Query parameters and bodies are read in one place (factoryhub.webservice.JsonHandler), the way
openapi.yaml types them: each at most once, whole numbers in bounds, enumerations checked."""
from __future__ import annotations

from unittest import mock

import pytest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.web import Application

from factoryhub.quota import api
from factoryhub.quota.schemas import AllocationUpdate, HoldClose, HoldRequest
from factoryhub.webservice import ApiError, JsonHandler


def handler(query: str = "", body: bytes = b"") -> JsonHandler:
    start = RequestStartLine("POST" if body else "GET", f"/p/api/v1/x?{query}", "HTTP/1.1")
    request = HTTPServerRequest(start_line=start, body=body, connection=mock.Mock(),
                                headers=HTTPHeaders({"Host": "hub.example", "Content-Type": "application/json"}))
    request._parse_body()
    return JsonHandler(Application(), request)


def refusal(call) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call()
    assert raised.value.status_code == 400
    return raised.value


@pytest.mark.parametrize("query", [
    "before=" + "9" * 30,   # far beyond any id: a 400, never an overflow (it was a 500)
    "before=" + "9" * 5000,  # beyond Python's int() digit limit
    "before=0", "before=-1", "before=1.5", "before=%201", "before=", "before=%C2%B2", "before=%D9%A3",
    "before=1&before=2",     # given twice
])
def test_a_bad_whole_number_is_a_400_naming_it(query):
    err = refusal(lambda: handler(query).bounded("before", None, 1, api.ID_MAX))
    assert err.field == "before"


def test_a_whole_number_in_bounds_is_read_and_an_absent_one_is_the_default():
    assert handler(f"before={api.ID_MAX}").bounded("before", None, 1, api.ID_MAX) == api.ID_MAX
    assert handler("").bounded("before", None, 1, api.ID_MAX) is None
    assert handler("days=7").bounded("days", 30, 1, 366) == 7


@pytest.mark.parametrize("query", ["all=AAA", "all=", "all=0", "all=%201", "all=1&all=true"])
def test_a_switch_is_1_or_true_only(query):
    assert refusal(lambda: handler(query).flag("all")).field == "all"


def test_a_switch_is_off_when_absent():
    assert handler("all=1").flag("all") and handler("all=true").flag("all") and not handler("").flag("all")


def test_repeatable_values_are_bounded_and_checked():
    h = handler("kind=model&kind=dataset")
    assert h.choices("kind", ("dataset", "model")) == ["model", "dataset"]
    assert refusal(lambda: handler("kind=table").choices("kind", ("dataset", "model"))).field == "kind"
    many = "&".join(f"account=a{i}" for i in range(api.MAX_ACCOUNTS + 1))
    assert refusal(lambda: handler(many).choices("account", at_most=api.MAX_ACCOUNTS)).field == "account"


def test_free_text_is_bounded():
    assert handler("q=caf%C3%A9").text("q", 500) == "café"
    assert refusal(lambda: handler("q=" + "x" * 501).text("q", 500)).field == "q"


@pytest.mark.parametrize("body, field", [
    (b"", None), (b"{not json", None), (b"[1]", None),                           # no object at all
    (b'{"account": "a", "username": "u", "walltime_hours": 1, "gpus": "2"}', "gpus"),  # a string is no number
    (b'{"account": "a", "username": "u", "walltime_hours": 1, "gpus": 2.5}', "gpus"),
    (b'{"account": "a", "username": "u", "walltime_hours": "1", "gpus": 2}', "walltime_hours"),
    (b'{"account": "a", "username": "u", "walltime_hours": 1, "gpus": true}', "gpus"),
])
def test_a_body_is_read_as_strictly_as_the_document_types_it(body, field):
    assert refusal(lambda: handler(body=body).body(HoldRequest)).field == field


def test_json_integers_and_dates_are_what_the_document_says():
    assert handler(body=b'{"account": "a", "username": "u", "walltime_hours": 1, "gpus": 2.0}').body(
        HoldRequest).gpus == 2  # JSON Schema's integer: 2.0 is one
    assert refusal(lambda: handler(body=b'{"starts_on": 0}').body(AllocationUpdate)).field == "starts_on"
    assert refusal(lambda: handler(body=b'{"starts_on": "2026-01-01T00:00:00"}').body(AllocationUpdate)).field \
        == "starts_on"
    assert str(handler(body=b'{"starts_on": "2026-01-01"}').body(AllocationUpdate).starts_on) == "2026-01-01"


def test_an_optional_field_is_left_out_not_null():
    assert refusal(lambda: handler(body=b'{"gpu_hours": null}').body(AllocationUpdate)).field == "gpu_hours"
    err = refusal(lambda: handler(body=b'{"ran": true, "charged_gpu_hours": null}').body(HoldClose))
    assert err.field == "charged_gpu_hours"
    assert handler(body=b'{"ran": true}').body(HoldClose).charged_gpu_hours is None
    for bad in (b"-1", b"NaN", b"Infinity", b'"1"'):
        body = b'{"ran": true, "charged_gpu_hours": ' + bad + b"}"
        assert refusal(lambda: handler(body=body).body(HoldClose)).field == "charged_gpu_hours", bad

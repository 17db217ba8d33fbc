"""Services' metrics: database counts asked at each scrape, replaced (not duplicated) when registered again."""
from __future__ import annotations

from prometheus_client import REGISTRY, generate_latest

from factoryhub.service_metrics import QueryGauge, register_query_gauges


def test_a_query_gauge_is_asked_at_each_scrape_and_a_second_registration_replaces_the_first():
    counts = {("open",): 2.0, ("granted",): 5.0}
    register_query_gauges(QueryGauge("factoryhub_test_requests", "Requests by state", ("state",), lambda: counts))
    assert REGISTRY.get_sample_value("factoryhub_test_requests", {"state": "granted"}) == 5
    counts[("granted",)] = 6.0
    assert REGISTRY.get_sample_value("factoryhub_test_requests", {"state": "granted"}) == 6
    register_query_gauges(QueryGauge("factoryhub_test_requests", "Requests by state", ("state",),
                                     lambda: {("open",): 1.0}))  # another database in the same process
    text = generate_latest(REGISTRY).decode()
    assert text.count("# TYPE factoryhub_test_requests gauge") == 1
    assert 'factoryhub_test_requests{state="open"} 1.0' in text and 'state="granted"' not in text

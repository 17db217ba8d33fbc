"""Prometheus metrics of FactoryHub's services: the ``/metrics`` page every service serves, readable
with JupyterHub's ``read:metrics`` scope (the role ``factoryhub-metrics-reader``, docs/metrics.md),
and counts taken from a service's database at scrape time.

A count that lives in a database (open holds, access requests by state, workshops by state) is a
:class:`QueryGauge`: asked when Prometheus scrapes, never kept in step by hand.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .webservice import ApiError, JsonHandler

SCOPE = "read:metrics"


class QueryGauge(Collector):
    """A gauge whose values ``query()`` returns at each scrape: {label values: value} (``()`` for none)."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...],
                 query: Callable[[], Mapping[tuple[str, ...], float]]):
        self.name, self.documentation, self.labels, self.query = name, documentation, labels, query

    def describe(self):
        return [GaugeMetricFamily(self.name, self.documentation, labels=self.labels)]

    def collect(self):
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for label_values, value in sorted(self.query().items()):
            family.add_metric(list(label_values), value)
        yield family


_registered: dict[str, QueryGauge] = {}


def register_query_gauges(*gauges: QueryGauge) -> None:
    """Add database counts to this process's scrape; a gauge of the same name registered before (another
    database of the same process, as in tests) is replaced."""
    for gauge in gauges:
        if gauge.name in _registered:
            REGISTRY.unregister(_registered.pop(gauge.name))
        REGISTRY.register(gauge)
        _registered[gauge.name] = gauge


class MetricsHandler(JsonHandler):
    """GET: this process's metrics in Prometheus's text format; 401 without a token, 403 without read:metrics."""

    def get(self):
        if not self.current_user:
            raise ApiError(401, "metrics need a JupyterHub token with read:metrics")
        if SCOPE not in self.scopes:
            raise ApiError(403, "metrics need the read:metrics scope (role factoryhub-metrics-reader)")
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(REGISTRY))


def metrics_route(prefix: str) -> tuple:
    """The route of a service's metrics page, ``<prefix>metrics``."""
    return (rf"{prefix}metrics", MetricsHandler)

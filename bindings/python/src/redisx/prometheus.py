"""Prometheus metrics of a redisx client, read from the core at scrape time.

``prometheus_client`` is an optional dependency (``pip install
redisx-client[prometheus]``); importing :mod:`redisx` never needs it::

    from prometheus_client import REGISTRY
    from redisx.prometheus import RedisxCollector

    REGISTRY.register(RedisxCollector(client))
    # several clients in one process: a constant label each
    REGISTRY.register(RedisxCollector(other, labels={"client": "sessions"}))

The families, their names, labels and help texts are the core's
(``redisx_metrics_collect``, docs/METRICS.md): the same in every language.
Nothing is recorded per operation; a scrape takes one snapshot.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, Mapping, Optional

from . import _rawc as _c
from ._client import Client
from ._errors import ClientClosed

try:
    from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                        HistogramMetricFamily, Metric)
    from prometheus_client.registry import Collector
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError("redisx.prometheus needs prometheus_client: "
                      "pip install 'redisx-client[prometheus]'") from e

__all__ = ["RedisxCollector"]


def _bound(b: float) -> str:
    return repr(float(b))


class RedisxCollector(Collector):
    """A ``prometheus_client`` collector of one client's metrics.

    ``labels``: constant labels added to every sample (e.g. to tell clients
    apart); their names must not clash with the families' own labels
    (primitive, operation, status, layer). A closed client yields nothing."""

    def __init__(self, client: Client, labels: Optional[Mapping[str, str]] = None) -> None:
        if not isinstance(client, Client):
            raise TypeError("RedisxCollector needs a redisx.Client")
        self._client = client
        self._const: Dict[str, str] = dict(labels or {})
        for k, v in self._const.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("labels must map str to str")

    def describe(self) -> Iterator[Metric]:
        # No samples at registration: the registry checks names only.
        return iter(())

    def collect(self) -> Iterator[Metric]:
        ctx = self._client._ctx
        if ctx is None:
            return
        try:
            m = _c.pyx_metrics(ctx)
        except ClientClosed:
            return
        try:
            const_names = list(self._const)
            const_values = list(self._const.values())
            nb = _c.redisx_metrics_bucket_count(m)
            bounds = [_bound(_c.redisx_metrics_bucket_bound(m, b)) for b in range(nb)]
            for f in range(_c.redisx_metrics_families(m)):
                name = _c.redisx_metrics_name(m, f)
                doc = _c.redisx_metrics_help(m, f)
                kind = _c.redisx_metrics_type(m, f)
                nl = _c.redisx_metrics_label_count(m, f)
                labels = const_names + [_c.redisx_metrics_label_name(m, f, i) for i in range(nl)]
                fam: Any
                if kind == _c.REDISX_METRIC_COUNTER:
                    fam = CounterMetricFamily(name, doc, labels=labels)
                elif kind == _c.REDISX_METRIC_GAUGE:
                    fam = GaugeMetricFamily(name, doc, labels=labels)
                else:
                    fam = HistogramMetricFamily(name, doc, labels=labels)
                for s in range(_c.redisx_metrics_samples(m, f)):
                    values = const_values + [_c.redisx_metrics_label_value(m, f, s, i) for i in range(nl)]
                    if kind == _c.REDISX_METRIC_HISTOGRAM:
                        buckets = [(bounds[b], _c.redisx_metrics_cumulative(m, f, s, b)) for b in range(nb)]
                        buckets.append(("+Inf", _c.redisx_metrics_count(m, f, s)))
                        fam.add_metric(values, buckets, _c.redisx_metrics_value(m, f, s))
                    else:
                        fam.add_metric(values, _c.redisx_metrics_value(m, f, s))
                yield fam
        finally:
            _c.redisx_metrics_free(m)

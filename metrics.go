package headless

import (
	"time"

	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	servicesGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "headless",
		Name:      "services",
		Help:      "Headless Services with at least one ready address, as served.",
	})
	endpointsGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "headless",
		Name:      "endpoints",
		Help:      "Distinct ready endpoint addresses served, summed over Services.",
	})
	rebuildsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "headless",
		Name:      "service_rebuilds_total",
		Help:      "Headless Service records rebuilt and published; events that arrive during a rebuild are coalesced into the next. how is patched when only the changed endpoints were rebuilt, built when the whole Service was.",
	}, []string{"how"})
	programmingLatency = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: plugin.Namespace,
		Subsystem: "headless",
		Name:      "dns_programming_duration_seconds",
		Help:      "Time from an EndpointSlice's last-change-trigger-time to its answers being served.",
		Buckets:   prometheus.ExponentialBuckets(0.001, 2, 20),
	}, []string{"service_kind"})
)

// Values of the service_kind label.
const (
	kindWithSelector    = "headless_with_selector"
	kindWithoutSelector = "headless_without_selector"
)

// observeProgramming records the programming latency of changes to svc,
// given their trigger times in Unix nanoseconds, now that they are served.
func observeProgramming(svc *service, triggers []int64) {
	kind := kindWithSelector
	if svc.selectorless {
		kind = kindWithoutSelector
	}
	for _, t := range triggers {
		programmingLatency.WithLabelValues(kind).Observe(time.Since(time.Unix(0, t)).Seconds())
	}
}

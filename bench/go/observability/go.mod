// The observability-cost benchmark: its own module (OpenTelemetry and
// client_golang never enter the library's go.mod). run.sh builds it in a
// throwaway copy with the replaces pointed at the checkout; no go.sum is
// committed.
module redisx-bench-go-observability

go 1.26.0

require (
	github.com/prometheus/client_golang v1.23.2
	github.com/redisx/redisx/bindings/go v0.0.0
	github.com/redisx/redisx/bindings/go/redisxotel v0.0.0
	github.com/redisx/redisx/bindings/go/redisxprom v0.0.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/sdk/metric v1.47.0
)

replace (
	github.com/redisx/redisx/bindings/go => ../../../bindings/go
	github.com/redisx/redisx/bindings/go/redisxotel => ../../../bindings/go/redisxotel
	github.com/redisx/redisx/bindings/go/redisxprom => ../../../bindings/go/redisxprom
)

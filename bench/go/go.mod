// The Go benchmark (locks, rate limits, the cache, streams): its own module, so that its peers
// never enter the library's go.mod. bench/go/run.sh copies it to a throwaway
// folder, points the redisx requirement at bindings/go and fetches the peers
// there (into a module cache under /tmp); nothing third-party is committed,
// not even a go.sum.
module redisx-bench-go

go 1.24

require (
	github.com/ThreeDotsLabs/watermill v1.5.1
	github.com/ThreeDotsLabs/watermill-redisstream v1.4.5
	github.com/go-redis/cache/v9 v9.0.0
	github.com/go-redis/redis_rate/v10 v10.0.1
	github.com/go-redsync/redsync/v4 v4.18.1
	github.com/redis/go-redis/v9 v9.23.0
	github.com/redisx/redisx/bindings/go v0.0.0
)

replace github.com/redisx/redisx/bindings/go => ../../bindings/go

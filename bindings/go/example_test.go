package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"redisx"
)

// The lock's fencing token goes to the protected resource, which rejects
// writes carrying an older one.
func ExampleClient_Lock() {
	c, err := redisx.Open("redis://127.0.0.1:6379/0", redisx.WithPrefix("myapp"))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	lk, err := c.Lock(ctx, "nightly-report", 30*time.Second)
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Println("someone else is still running it")
		return
	} else if err != nil {
		panic(err)
	}
	defer lk.Release(context.Background())
	if err := lk.KeepAlive(func() { fmt.Println("lost the lock: stop writing") }); err != nil {
		panic(err)
	}
	fmt.Println("running with fencing token", lk.FencingToken())
}

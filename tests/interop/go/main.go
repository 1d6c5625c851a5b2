// Interop worker, Go side: same command line as worker.py (see there).
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"redisx"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string) error {
	mode, url, prefix := args[0], args[1], args[2]
	ctx := context.Background()
	client, err := redisx.Open(url, redisx.WithPrefix(prefix), redisx.WithCommandTimeout(10*time.Second))
	if err != nil {
		return err
	}
	defer client.Close()
	switch mode {
	case "count":
		n, _ := strconv.Atoi(args[3])
		for i := 0; i < n; i++ {
			lk, err := client.Lock(ctx, "counter", 30*time.Second, redisx.WithWait(120*time.Second))
			if err != nil {
				return err
			}
			raw, err := client.Do(ctx, "GET", prefix+":counter")
			if err != nil {
				return err
			}
			value := 0
			if b, ok := raw.([]byte); ok {
				value, _ = strconv.Atoi(string(b))
			}
			if _, err := client.Do(ctx, "SET", prefix+":counter", strconv.Itoa(value+1)); err != nil {
				return err
			}
			if _, err := client.Do(ctx, "RPUSH", prefix+":fences", fmt.Sprintf("go:%d", lk.FencingToken())); err != nil {
				return err
			}
			if err := lk.Release(ctx); err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond) // outside the lock
		}
	case "hold":
		lk, err := client.Lock(ctx, "hold", 30*time.Second, redisx.WithWait(30*time.Second))
		if err != nil {
			return err
		}
		fmt.Printf("HELD %d\n", lk.FencingToken())
		bufio.NewReader(os.Stdin).ReadString('\n')
		if err := lk.Release(ctx); err != nil {
			return err
		}
		fmt.Println("RELEASED")
	case "probe":
		lk, err := client.TryLock(ctx, "hold", 30*time.Second)
		if errors.Is(err, redisx.ErrLockHeld) {
			info, err := client.LockInfo(ctx, "hold")
			if err != nil {
				return err
			}
			fmt.Printf("HELD-BY %d\n", info.FencingToken)
			return nil
		}
		if err != nil {
			return err
		}
		lk.Release(ctx)
		fmt.Println("FREE")
	default:
		return fmt.Errorf("unknown mode %s", mode)
	}
	return nil
}

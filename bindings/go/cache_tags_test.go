package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redisx/redisx/bindings/go"
)

// Cache tags (docs/CACHE.md, "Tags"): SetTags, LoadTags and InvalidateTags
// pass through to the core; both paths (a blocking call on the caller's
// goroutine, and the queue with a cancellable context).

func TestCacheInvalidateTagsDropsEveryTaggedEntryAndOnlyThose(t *testing.T) {
	c := open(t)
	for _, path := range []struct {
		name string
		ctx  context.Context
	}{{"direct", context.Background()}, {"queue", ctxFor(t)}} {
		t.Run(path.name, func(t *testing.T) {
			ctx := path.ctx
			cache := newCache[int](t, c, "tagged-"+path.name)
			for i := 0; i < 50; i++ {
				if err := cache.Set(ctx, fmt.Sprintf("p%d", i), i, time.Minute, redisx.SetTags("products", fmt.Sprintf("product:%d", i))); err != nil {
					t.Fatal(err)
				}
			}
			if err := cache.Set(ctx, "other", 1, time.Minute, redisx.SetTags("orders")); err != nil {
				t.Fatal(err)
			}
			if v, err := cache.Get(ctx, "p7"); err != nil || v != 7 {
				t.Fatalf("Get p7 = %v, %v", v, err)
			}
			if err := cache.InvalidateTags(ctx, "products"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 50; i++ {
				if _, err := cache.Get(ctx, fmt.Sprintf("p%d", i)); !errors.Is(err, redisx.ErrNotFound) {
					t.Fatalf("p%d after InvalidateTags: %v, want ErrNotFound", i, err)
				}
			}
			if v, err := cache.Get(ctx, "other"); err != nil || v != 1 {
				t.Fatalf("an entry of another tag: %v, %v", v, err)
			}
			if err := cache.InvalidateTags(ctx); err != nil {
				t.Fatalf("no tags: %v", err)
			}
		})
	}
}

func TestCacheAnotherClientReadsNoInvalidatedEntry(t *testing.T) {
	ctx := ctxFor(t)
	name := lockName(t, "shared")
	a, b := open(t), open(t)
	ca, err := redisx.NewCache[string](a, name, redisx.WithL1(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	cb, err := redisx.NewCache[string](b, name, redisx.WithL1(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	bin := "b\x00}"
	if err := ca.Set(ctx, "k", "v", time.Minute, redisx.SetTags(bin, "t")); err != nil {
		t.Fatal(err)
	}
	if v, err := cb.Get(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("B reads %q, %v", v, err)
	}
	if err := cb.InvalidateTags(ctx, bin); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*redisx.Cache[string]{ca, cb} {
		if _, err := c.Get(ctx, "k"); !errors.Is(err, redisx.ErrNotFound) {
			t.Fatalf("after InvalidateTags: %v, want ErrNotFound", err)
		}
	}
}

func TestCacheInvalidationWhileLoadingMakesTheValueStale(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	cache := newCache[string](t, c, "during")
	v, err := cache.GetOrLoad(ctx, "k", func(ctx context.Context) (string, error) {
		if err := cache.InvalidateTags(ctx, "t"); err != nil {
			return "", err
		}
		return "old", nil
	}, redisx.LoadTags("t"))
	if err != nil || v != "old" {
		t.Fatalf("GetOrLoad = %q, %v", v, err)
	}
	if _, err := cache.Get(ctx, "k"); !errors.Is(err, redisx.ErrNotFound) {
		t.Fatalf("the fill is stale on arrival; Get = %v", err)
	}
	v, err = cache.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "new", nil }, redisx.LoadTags("t"))
	if err != nil || v != "new" {
		t.Fatalf("GetOrLoad again = %q, %v", v, err)
	}
	if v, err := cache.Get(ctx, "k"); err != nil || v != "new" {
		t.Fatalf("Get = %q, %v", v, err)
	}
}

func TestCacheBadTagsAreInvalidArgument(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t)
	cache := newCache[int](t, c, "badtags")
	many := make([]string, 65)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	for _, tags := range [][]string{{""}, {strings.Repeat("x", 1025)}, many} {
		if err := cache.Set(ctx, "k", 1, time.Minute, redisx.SetTags(tags...)); !errors.Is(err, redisx.ErrInvalidArgument) {
			t.Fatalf("Set with %d tags: %v, want ErrInvalidArgument", len(tags), err)
		}
	}
	if _, err := cache.GetOrLoad(ctx, "k", func(context.Context) (int, error) { return 1, nil }, redisx.LoadTags(many...)); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Fatalf("GetOrLoad with 65 tags: %v", err)
	}
	if err := cache.InvalidateTags(ctx, ""); !errors.Is(err, redisx.ErrInvalidArgument) {
		t.Fatalf("InvalidateTags(\"\"): %v", err)
	}
}

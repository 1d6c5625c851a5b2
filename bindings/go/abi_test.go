package redisx

import (
	"testing"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// The Go constants are the C enums' numbers, which never change; this
// catches a typo, not a renumbering.
func TestConstantsMatchTheCLibrary(t *testing.T) {
	pairs := []struct {
		name   string
		goVal  int
		cValue int
	}{
		{"FixedWindow", int(FixedWindow), int(capi.REDISX_RATELIMIT_FIXED_WINDOW)},
		{"SlidingLog", int(SlidingLog), int(capi.REDISX_RATELIMIT_SLIDING_LOG)},
		{"SlidingWindow", int(SlidingWindow), int(capi.REDISX_RATELIMIT_SLIDING_WINDOW)},
		{"TokenBucket", int(TokenBucket), int(capi.REDISX_RATELIMIT_TOKEN_BUCKET)},
		{"GCRA", int(GCRA), int(capi.REDISX_RATELIMIT_GCRA)},
		{"IdemNew", int(IdemNew), int(capi.REDISX_IDEM_NEW)},
		{"IdemInProgress", int(IdemInProgress), int(capi.REDISX_IDEM_IN_PROGRESS)},
		{"IdemCompleted", int(IdemCompleted), int(capi.REDISX_IDEM_COMPLETED)},
		{"IdemMismatch", int(IdemMismatch), int(capi.REDISX_IDEM_MISMATCH)},
		{"FailClosed", int(FailClosed), int(capi.REDISX_FAIL_CLOSED)},
		{"FailOpen", int(FailOpen), int(capi.REDISX_FAIL_OPEN)},
	}
	for _, p := range pairs {
		if p.goVal != p.cValue {
			t.Errorf("%s = %d, the C library says %d", p.name, p.goVal, p.cValue)
		}
	}
}

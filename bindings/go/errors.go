package redisx

import (
	"fmt"

	"github.com/redisx/redisx/bindings/go/internal/capi"
)

// Error is what every failing redisx call returns (possibly wrapped): the
// library's status code, its symbolic name and the detail of the failure.
// errors.Is(err, ErrLockHeld) and friends match it through Unwrap.
type Error struct {
	Code   int    // the C status code, e.g. -9
	Name   string // its name without the REDISX_ prefix, e.g. "ERR_LOCKED"
	Detail string // what went wrong, e.g. "lock jobs is held (holder's fencing token 7, 2990 ms left)"
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "redisx: " + e.Name + ": " + capi.Redisx_strerror(e.Code)
	}
	return "redisx: " + e.Name + ": " + e.Detail
}

// Unwrap returns the sentinel error of e's status (ErrLockHeld, ...), or nil
// for a status this package has no sentinel for (a newer library).
func (e *Error) Unwrap() error {
	if s, ok := sentinelByName[e.Name]; ok {
		return s
	}
	return nil
}

// Class returns the name every redisx binding gives e's status: the Python
// and Node exception class, the Go sentinel without its Err prefix
// ("LockHeld" for ERR_LOCKED, "InvalidArgument" for ERR_INVALID). A status
// this package has no sentinel for gives its Name.
func (e *Error) Class() string {
	if s, ok := sentinelByName[e.Name]; ok {
		return s.(*sentinel).class
	}
	return e.Name
}

// sentinel is the type of the Err* values: one per status of the C table.
type sentinel struct {
	name  string // the C name, "ERR_LOCKED"
	class string // the name every binding gives it, "LockHeld"
	code  int
}

func (s *sentinel) Error() string {
	return "redisx: " + capi.Redisx_strerror(s.code)
}

// statusNames is the C library's status table, read at init:
// redisx_status_name(code) for code = 0, -1, -2, ... until it has no name.
var statusNames = func() map[int]string {
	m := map[int]string{}
	for code := 0; ; code-- {
		name := capi.Redisx_status_name(code)
		if name == "" {
			return m
		}
		m[code] = name
	}
}()

// StatusNames returns the loaded C library's status table: code -> name
// ("OK", "ERR_INVALID", ...).
func StatusNames() map[int]string {
	m := make(map[int]string, len(statusNames))
	for code, name := range statusNames {
		m[code] = name
	}
	return m
}

// codeOf returns the code the C table gives to name (1 when it has none: no
// status is positive).
func codeOf(name string) int {
	for code, n := range statusNames {
		if n == name {
			return code
		}
	}
	return 1
}

func newSentinel(name, class string) *sentinel {
	return &sentinel{name: name, class: class, code: codeOf(name)}
}

// Sentinel errors, one per error status of the C library (see
// ffi/include/redisx/errors.h). The names are the same in every redisx
// binding (Python's LockHeld is Go's ErrLockHeld, ...); the codes come from
// the loaded library.
var (
	ErrInvalidArgument error = newSentinel("ERR_INVALID", "InvalidArgument")
	ErrOutOfMemory     error = newSentinel("ERR_NOMEM", "OutOfMemory")
	ErrTimeout         error = newSentinel("ERR_TIMEOUT", "Timeout")
	ErrConnection      error = newSentinel("ERR_CONNECTION", "ConnectionError")
	ErrClosed          error = newSentinel("ERR_CLOSED", "ClientClosed")
	ErrAuth            error = newSentinel("ERR_AUTH", "AuthError")
	ErrServer          error = newSentinel("ERR_SERVER", "ServerError")
	ErrProtocol        error = newSentinel("ERR_PROTOCOL", "ProtocolError")
	ErrLockHeld        error = newSentinel("ERR_LOCKED", "LockHeld")
	ErrLockNotOwned    error = newSentinel("ERR_NOT_OWNER", "LockNotOwned")
	ErrWouldBlock      error = newSentinel("ERR_WOULDBLOCK", "WouldBlock")
	ErrEmpty           error = newSentinel("ERR_EMPTY", "Empty")
	ErrInvalidURL      error = newSentinel("ERR_URL", "InvalidURL")
	// ErrCancelled: the operation was cancelled in the library because its
	// ctx was done; such errors also match ctx.Err() (context.Canceled or
	// context.DeadlineExceeded).
	ErrCancelled error = newSentinel("ERR_CANCELLED", "Cancelled")
)

var sentinelByName = func() map[string]error {
	m := map[string]error{}
	for _, err := range []error{
		ErrInvalidArgument, ErrOutOfMemory, ErrTimeout, ErrConnection, ErrClosed, ErrAuth, ErrServer,
		ErrProtocol, ErrLockHeld, ErrLockNotOwned, ErrWouldBlock, ErrEmpty, ErrInvalidURL, ErrCancelled,
	} {
		m[err.(*sentinel).name] = err
	}
	return m
}()

// Codes the Go layer itself needs, from the C table.
var (
	codeInvalid   = codeOf("ERR_INVALID")
	codeClosed    = codeOf("ERR_CLOSED")
	codeServer    = codeOf("ERR_SERVER")
	codeLocked    = codeOf("ERR_LOCKED")
	codeCancelled = codeOf("ERR_CANCELLED")
)

// newError builds the *Error of a C status code.
func newError(code int, detail string) *Error {
	name, ok := statusNames[code]
	if !ok {
		name = fmt.Sprintf("STATUS_%d", code)
	}
	return &Error{Code: code, Name: name, Detail: detail}
}

// errorOf turns an error of the generated layer into an *Error.
func errorOf(err error) error {
	if st, ok := err.(*capi.Status); ok {
		return newError(st.Code, st.Detail)
	}
	return err
}

// invalid is the error of an argument the Go layer must refuse before C sees
// it (a NUL byte in a string that C reads up to its first NUL, an argument
// of a type Do cannot send).
func invalid(format string, args ...any) error {
	return newError(codeInvalid, fmt.Sprintf(format, args...))
}

func closedError() error {
	return newError(codeClosed, "client is closed")
}

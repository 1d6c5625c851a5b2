//go:build !cgo

package capi

// redisx is the C library itself, compiled by cgo as part of this module:
// it cannot be built with CGO_ENABLED=0. Build with CGO_ENABLED=1 (the
// default when a C compiler is on PATH; set CC otherwise) and libhiredis-dev
// installed. The undefined identifier below is the build error that says so.
var _ = redisx_needs_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler

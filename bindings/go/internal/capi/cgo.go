// Package capi is the SWIG-generated layer over the redisx C API (see
// swig/redisx.i and swig/go.i). It is internal: package redisx is its only
// user. The go tool generates it from capi.swig at build time, so building
// needs swig (>= 3.0.6; Debian's 4.1 works) on PATH and the libredisx-dev
// headers (pkg-config redisx).
//
// Generated code stays out of the public package's way: it lives here, has
// no tests of its own, and go.i avoids SWIG's swigCopyString, whose
// uintptr-to-pointer conversion go vet flags.
//
// swig_go_i.h and swig_redisx_i.h are symlinks to ../../../../swig/go.i and
// redisx.i: the go tool hashes a package's .h files into its build cache key
// (it does not see what capi.swig includes), so editing the interface
// regenerates this package instead of reusing a stale build.
package capi

// The -I flag reaches swig too (the go tool passes every -I of the cgo flags
// to it): it finds redisx.i and go.i in the repository's swig/ folder, and the
// headers through pkg-config.

// #cgo pkg-config: redisx
// #cgo CFLAGS: -I${SRCDIR}/../../../../swig
import "C"

// The go tool computes a package's imports from its own .go files, not from
// the file swig generates: what go.i imports must be named here too.
import (
	_ "bytes"
	_ "encoding/binary"
	_ "strconv"
	_ "strings"
)

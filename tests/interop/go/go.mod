module redisx-interop-worker

go 1.24

require github.com/redisx/redisx/bindings/go v0.0.0

replace github.com/redisx/redisx/bindings/go => ../../../bindings/go

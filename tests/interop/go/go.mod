module redisx-interop-worker

go 1.24

require redisx v0.0.0

replace redisx => ../../../bindings/go

module github.com/redisx/redisx/bindings/go

go 1.24

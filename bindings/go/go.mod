module redisx

go 1.24

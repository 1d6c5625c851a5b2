package redisx

import "github.com/redisx/redisx/bindings/go/internal/capi"

// TLS (rediss://). A rediss:// URL turns TLS on by itself; these options say
// which CAs to trust, which client certificate to present and how to check
// the server's name. Each calls one setter of the C library
// (redisx_options_set_tls_*, ffi/include/redisx/options.h), which holds every
// rule and default: the server's certificate must chain to a CA of the
// system's store (or of WithTLSCAFile/WithTLSCADir) and name the URL's host
// (or WithTLSServerName); TLS 1.2 or later. Files are read when Open runs:
// one that cannot be loaded makes Open fail with ErrInvalidArgument naming
// it. A failed handshake (an untrusted certificate, another host's
// certificate, a client certificate required but not given, a server not
// speaking TLS) is a failed connect: operations fail with ErrConnection and
// the library's reason, e.g. "127.0.0.1:6380: TLS handshake: certificate
// verify failed: ...".

// WithTLS turns TLS on for a redis:// URL (rediss:// needs no option).
// Like WithAuth, it overrides the URL's scheme.
func WithTLS() Option {
	return func(c *config) {
		c.add(func(o capi.Options) error { return capi.Redisx_options_set_tls(o, 1) })
	}
}

// WithTLSCAFile trusts the CAs of a PEM file instead of the system's store.
func WithTLSCAFile(path string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			if err := noNUL(path, "TLS CA file"); err != nil {
				return err
			}
			return capi.Redisx_options_set_tls_ca_file(o, path)
		})
	}
}

// WithTLSCADir trusts the CA certificates of a directory in OpenSSL's hashed
// layout (`openssl rehash DIR`), with or instead of WithTLSCAFile.
func WithTLSCADir(path string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			if err := noNUL(path, "TLS CA directory"); err != nil {
				return err
			}
			return capi.Redisx_options_set_tls_ca_dir(o, path)
		})
	}
}

// WithTLSClientCert presents a client certificate (PEM, may hold the chain)
// and its unencrypted private key (PEM; keyFile "" when the key is in
// certFile), for servers that require one (Redis' default,
// tls-auth-clients yes).
func WithTLSClientCert(certFile, keyFile string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			if err := noNUL(certFile, "TLS client certificate file"); err != nil {
				return err
			}
			if err := noNUL(keyFile, "TLS client key file"); err != nil {
				return err
			}
			return capi.Redisx_options_set_tls_client_cert(o, certFile, keyFile)
		})
	}
}

// WithTLSServerName sets the name sent as SNI and checked against the
// server's certificate, instead of the URL's host (for a server reached by
// IP address or through a tunnel).
func WithTLSServerName(name string) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error {
			if err := noNUL(name, "TLS server name"); err != nil {
				return err
			}
			return capi.Redisx_options_set_tls_server_name(o, name)
		})
	}
}

// WithTLSVerifyHostname sets whether the server's certificate must name the
// host (default true). false accepts any certificate signed by a trusted CA,
// whoever it was issued to.
func WithTLSVerifyHostname(verify bool) Option {
	return func(c *config) {
		c.add(func(o capi.Options) error { return capi.Redisx_options_set_tls_verify_hostname(o, boolInt(verify)) })
	}
}

// WithTLSInsecureSkipVerify accepts any server certificate, unverified.
// INSECURE: the connection is encrypted, but anyone on the path can
// impersonate the server and read everything, passwords included. For tests
// and throwaway servers only; the library logs a warning at Open and on
// every connect, and each StateConnected change says "certificate NOT
// verified".
func WithTLSInsecureSkipVerify() Option {
	return func(c *config) {
		c.add(func(o capi.Options) error { return capi.Redisx_options_set_tls_insecure_skip_verify(o, 1) })
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

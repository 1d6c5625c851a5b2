#!/bin/sh
# The test certificates of every TLS suite (C, Python, Node, Go, the packaged
# tests), made with the openssl CLI into DIR (EC P-256, valid for three days):
#   ca.crt/.key            the CA the servers' and clients' certificates chain to
#   server.crt/.key        CN localhost, SANs IP:127.0.0.1 and DNS:localhost
#   client.crt/.key        a client certificate of ca
#   client-and-key.pem     the same certificate and key in one file
#   other-ca.crt/.key      a second CA that signed none of the above
#   other-client.crt/.key  a client certificate of other-ca
#
#   tests/tls/make-certs.sh DIR
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
command -v openssl >/dev/null 2>&1 || {
  echo "make-certs: the openssl command is needed (apt-get install openssl)" >&2
  exit 1
}
mkdir -p "$1"
cd "$1"
o() {
  if ! out=$(openssl "$@" 2>&1); then
    printf 'make-certs: openssl %s failed:\n%s\n' "$*" "$out" >&2
    exit 1
  fi
}
ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
ca_ext='-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign'
# shellcheck disable=SC2086 # $ec and $ca_ext are lists of options
o req -x509 -new $ec $ca_ext -keyout ca.key -out ca.crt -days 3 -subj /CN=redisx-test-ca
# shellcheck disable=SC2086
o req -x509 -new $ec $ca_ext -keyout other-ca.key -out other-ca.crt -days 3 -subj /CN=redisx-other-ca
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
printf 'extendedKeyUsage=clientAuth\n' >client.ext
sign() { # name CN ca
  # shellcheck disable=SC2086
  o req -new $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
  o x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -out "$1.crt" -days 3 -extfile "$4"
  rm -f "$1.csr"
}
sign server localhost ca server.ext
sign client redisx-test-client ca client.ext
sign other-client redisx-other-client other-ca client.ext
rm -f server.ext client.ext ca.srl other-ca.srl
cat client.crt client.key >client-and-key.pem
# redis-server may run as another user in some setups; the keys are test-only.
chmod 644 ./*.key

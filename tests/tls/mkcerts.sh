#!/bin/sh
# mkcerts.sh DIR: makes the test PKI used by the fake Shopify and the TLS tests.
#   ca.pem ca.key              the test CA
#   localhost.pem localhost.key a server certificate for DNS:localhost (BearSSL
#                              verifies host names only, never IP addresses)
#   other.pem other.key        signed by the test CA, but for DNS:other.example
#   wrong-ca.pem               an unrelated CA (for "wrong CA" tests)
# Idempotent: does nothing when DIR/ca.pem already exists.
set -eu
dir=${1:?usage: mkcerts.sh DIR}
[ -f "$dir/ca.pem" ] && exit 0
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {	# ca NAME CN
	ec "$tmp/$1.key"
	openssl req -x509 -new -key "$tmp/$1.key" -subj "/CN=$2" -days 3650 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign -out "$tmp/$1.pem"
}
leaf() {	# leaf NAME DNSNAME
	ec "$tmp/$1.key"
	openssl req -new -key "$tmp/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr"
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
	    "$2" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
	    -CAcreateserial -days 3650 -extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
}
ca ca "invsync test CA"
ca wrong-ca "unrelated test CA"
leaf localhost localhost
leaf other other.example
cp "$tmp/ca.pem" "$tmp/ca.key" "$tmp/wrong-ca.pem" "$tmp/localhost.pem" \
    "$tmp/localhost.key" "$tmp/other.pem" "$tmp/other.key" "$dir/"

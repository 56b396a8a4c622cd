#!/usr/bin/env bash
# gen.sh makes the client certificate and PKCS#8 private key fixtures that
# fixtures_test.go loads, with the openssl command:
#
#   root-ca.pem              a root CA (ECDSA P-384, self-signed)
#   intermediate-ca.pem      an intermediate CA (RSA 2048) signed by the root
#   client-rsa-chain.pem     an RSA 2048 client certificate, then the
#                            intermediate, then the root
#   client-ecdsa-chain.pem   the same with an ECDSA P-256 client certificate
#   client-{rsa,ecdsa}-key-NAME.pem
#                            each client certificate's private key as PKCS#8,
#                            for each NAME of the table "encryptions" below:
#                            unencrypted, PBES2 (PBKDF2-HMAC-SHA256 with
#                            AES-256-CBC and with AES-128-CBC,
#                            PBKDF2-HMAC-SHA1 with DES-EDE3-CBC) and the
#                            openssl -v1 schemes PBE-SHA1-3DES and
#                            PBE-MD5-DES (the latter needs OpenSSL 3's legacy
#                            provider)
#   README.md                every file with its password
#
# Certificates are valid from 2020-01-01 to 2125 (the CAs a little longer),
# so the fixtures do not expire. The CA keys and signing requests are made in
# a temporary directory and thrown away.
#
# It needs bash 4.4 or later and OpenSSL 3 with its legacy provider (for
# PBE-MD5-DES; Debian's openssl package has it). Last run with OpenSSL
# 3.0.19 27 Jan 2026 (Debian 12 package 3.0.19-1~deb12u2), which README.md
# also records.
#
# Re-run from anywhere with:
#
#   bash internal/tlsconf/testdata/pkcs8/gen.sh
#
# then go test ./internal/tlsconf/. Every run makes new keys, so every file
# changes; the set of files, their algorithms and passwords do not.
# "bash gen.sh --list" prints each file it makes and its password ("-" for
# none) without running openssl; TestFixturesMatchGenerator compares that
# list with the directory and with the test's own table, so adding an
# output here means adding it there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

keytypes=(rsa ecdsa)

# name|openssl pkcs8 -topk8 options|password
encryptions=(
  "plain|-nocrypt|"
  "pbes2-sha256-aes256|-v2 aes-256-cbc -v2prf hmacWithSHA256|Penstock AES-256 fixture"
  "pbes2-sha256-aes128|-v2 aes-128-cbc -v2prf hmacWithSHA256|penstock-aes128"
  "pbes2-sha1-des3|-v2 des-ede3-cbc -v2prf hmacWithSHA1|penstock-des3"
  "pbes1-sha1-3des|-v1 PBE-SHA1-3DES|pässwörd-3des"
  "pbes1-md5-des|-v1 PBE-MD5-DES -provider legacy -provider default|penstock-md5-des"
)

# list prints "file<TAB>password" for every output.
list() {
  printf '%s\t-\n' root-ca.pem intermediate-ca.pem
  local k e name opts pass
  for k in "${keytypes[@]}"; do
    printf '%s\t-\n' "client-$k-chain.pem"
    for e in "${encryptions[@]}"; do
      IFS='|' read -r name opts pass <<<"$e"
      printf '%s\t%s\n' "client-$k-key-$name.pem" "${pass:--}"
    done
  done
  printf '%s\t-\n' README.md
}

if [[ "${1:-}" == "--list" ]]; then
  list
  exit 0
fi
if [[ $# -gt 0 ]]; then
  echo "usage: $0 [--list]" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

cat >ext.cnf <<'EOF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_rsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ecdsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# openssl ca rather than openssl x509 -req, for fixed validity dates: from
# 2020 (so that a clock running behind cannot make the certificates not yet
# valid) to about 100 years later, each certificate ending before its
# issuer.
cat >ca.cnf <<'CNF'
[ca]
default_ca = fixture

[fixture]
database = index.txt
serial = serial
new_certs_dir = .
policy = any
unique_subject = no
email_in_dn = no
copy_extensions = none

[any]
organizationName = supplied
commonName = supplied
CNF
: >index.txt
echo 01 >serial
start=20200101000000Z

# sign CSR OUT ENDDATE EXTENSIONS DIGEST SIGNER-ARGS... issues a certificate.
sign() {
  local csr=$1 out=$2 end=$3 ext=$4 md=$5
  shift 5
  openssl ca -batch -notext -config ca.cnf -in "$csr" -out "$out" -md "$md" \
    -startdate "$start" -enddate "$end" -extfile ext.cnf -extensions "$ext" "$@" 2>ca.log ||
    { cat ca.log >&2; echo "gen.sh: openssl ca could not sign $csr" >&2; exit 1; }
}

openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out root.key
openssl req -new -key root.key -subj "/O=Penstock/CN=Penstock Fixture Root CA" -out root.csr
sign root.csr root-ca.pem 21260101000000Z root sha384 -selfsign -keyfile root.key

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out intermediate.key
openssl req -new -key intermediate.key -subj "/O=Penstock/CN=Penstock Fixture Intermediate CA" -out intermediate.csr
sign intermediate.csr intermediate-ca.pem 21250701000000Z intermediate sha384 -cert root-ca.pem -keyfile root.key

for k in "${keytypes[@]}"; do
  case $k in
  rsa) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "client-$k.key" ;;
  ecdsa) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "client-$k.key" ;;
  esac
  openssl req -new -key "client-$k.key" -subj "/O=Penstock/CN=Penstock Fixture Client ${k^^}" -out "client-$k.csr"
  sign "client-$k.csr" "client-$k.pem" 21250101000000Z "client_$k" sha256 -cert intermediate-ca.pem -keyfile intermediate.key
  openssl verify -x509_strict -purpose sslclient -CAfile root-ca.pem -untrusted intermediate-ca.pem "client-$k.pem" >/dev/null
  cat "client-$k.pem" intermediate-ca.pem root-ca.pem >"client-$k-chain.pem"

  for e in "${encryptions[@]}"; do
    IFS='|' read -r name opts pass <<<"$e"
    out="client-$k-key-$name.pem"
    passout=() passin=() providers=()
    if [[ -n "$pass" ]]; then
      passout=(-passout "pass:$pass") passin=(-passin "pass:$pass")
    fi
    if [[ "$opts" == *legacy* ]]; then
      providers=(-provider legacy -provider default)
    fi
    # $opts is split into words on purpose.
    # shellcheck disable=SC2086
    openssl pkcs8 -topk8 $opts "${passout[@]}" -in "client-$k.key" -out "$out"
    # The file decrypts, with its password, to the certificate's key.
    cmp -s <(openssl pkey "${providers[@]}" "${passin[@]}" -in "$out" -pubout) \
      <(openssl x509 -in "client-$k.pem" -noout -pubkey) ||
      { echo "gen.sh: $out does not hold the key of client-$k.pem" >&2; exit 1; }
  done
done

version=$(openssl version)
{
  echo "# PKCS#8 key fixtures"
  echo
  echo "Made by \`gen.sh\` with $version; do not edit, re-run \`bash gen.sh\`."
  echo "The client certificates are valid from $(openssl x509 -in client-rsa.pem -noout -startdate | cut -d= -f2)"
  echo "until $(openssl x509 -in client-rsa.pem -noout -enddate | cut -d= -f2); the CAs a little longer."
  echo
  echo "| file | contents | password |"
  echo "|---|---|---|"
  echo "| \`root-ca.pem\` | root CA, ECDSA P-384, self-signed | - |"
  echo "| \`intermediate-ca.pem\` | intermediate CA, RSA 2048, signed by the root | - |"
  for k in "${keytypes[@]}"; do
    echo "| \`client-$k-chain.pem\` | ${k^^} client certificate, intermediate, root (in that order) | - |"
    for e in "${encryptions[@]}"; do
      IFS='|' read -r name opts pass <<<"$e"
      echo "| \`client-$k-key-$name.pem\` | ${k^^} client key, PKCS#8, \`openssl pkcs8 -topk8 $opts\` | $(if [[ -n "$pass" ]]; then echo "\`$pass\`"; else echo -; fi) |"
    done
  done
  echo
  echo "\`-v1 PBE-SHA1-3DES\` is the PKCS#12 scheme pbeWithSHAAnd3-KeyTripleDES-CBC"
  echo "(OID 1.2.840.113549.1.12.1.3); \`-v1 PBE-MD5-DES\` is the PKCS#5 v1.5 PBES1"
  echo "scheme pbeWithMD5AndDES-CBC (OID 1.2.840.113549.1.5.3), which OpenSSL 3 only"
  echo "makes with its legacy provider."
} >README.md

# Replace the previous fixtures with the new ones.
find "$here" -maxdepth 1 -type f ! -name gen.sh -delete
while IFS=$'\t' read -r file _; do
  cp "$file" "$here/$file"
  chmod 0644 "$here/$file"
done < <(list)
echo "wrote $(list | wc -l) files to $here with $version"

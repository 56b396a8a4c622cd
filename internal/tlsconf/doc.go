// Package tlsconf turns the TLS material of a Kafka source into a
// crypto/tls configuration for broker connections. The material has the
// shape of the event source mapping's secrets: CLIENT_CERTIFICATE_TLS_AUTH
// (a PEM certificate chain, a PKCS#8 private key that may be encrypted, and
// the key's password) and SERVER_ROOT_CA_CERTIFICATE (a PEM bundle of the
// private or self-signed CAs that issued the brokers' certificates).
//
// Everything is checked when a pipeline is loaded, so that a mistake shows
// up as an [*Error] whose [Kind] names the problem and whose message says
// what to fix, rather than as a failed handshake with a broker. Encrypted
// private keys may use PBES1 (which is all that AWS Lambda accepts) or
// PBES2 (which Lambda does not accept); see [ClientCert] for the
// algorithms.
package tlsconf

// Package ikev2 holds the IKEv2 wire codec (RFC 7296, Section 3), the protection of the
// Encrypted payload (RFC 7296, Section 3.14; RFC 5282 for AEAD ciphers; RFC 7634 for
// ChaCha20-Poly1305), the dissection of messages into ike.Field trees and the IKEv2
// exchanges built on them.
//
// It sits on floor 1 of ikesim: it imports the standard library, golang.org/x/crypto and
// package ike, and must never import sim, ipsec, render or any UI package.
package ikev2

import (
	"github.com/ikesim/ikesim/ike"
)

// ExchangeType is the Exchange Type field of the IKE header (RFC 7296, Section 3.1).
type ExchangeType uint8

const (
	IKE_SA_INIT        ExchangeType = 34
	IKE_AUTH           ExchangeType = 35
	CREATE_CHILD_SA    ExchangeType = 36
	INFORMATIONAL      ExchangeType = 37
	IKE_SESSION_RESUME ExchangeType = 38 // RFC 5723
	IKE_INTERMEDIATE   ExchangeType = 43 // RFC 9242
	IKE_FOLLOWUP_KE    ExchangeType = 44 // RFC 9370
)

var exchangeNames = map[ExchangeType]string{
	IKE_SA_INIT:        "IKE_SA_INIT",
	IKE_AUTH:           "IKE_AUTH",
	CREATE_CHILD_SA:    "CREATE_CHILD_SA",
	INFORMATIONAL:      "INFORMATIONAL",
	IKE_SESSION_RESUME: "IKE_SESSION_RESUME",
	IKE_INTERMEDIATE:   "IKE_INTERMEDIATE",
	IKE_FOLLOWUP_KE:    "IKE_FOLLOWUP_KE",
}

func (e ExchangeType) String() string { return nameOr(exchangeNames, e, "EXCHANGE") }

// ExchangeNames lists the names of the exchange types, in the order of their numbers,
// as message events carry them.
func ExchangeNames() []string { return ike.Names(exchangeNames) }

// Flags are the flag bits of the IKE header (RFC 7296, Section 3.1).
type Flags uint8

const (
	FlagInitiator Flags = 0x08 // I: sent by the original initiator of the IKE SA
	FlagVersion   Flags = 0x10 // V: the sender could speak a higher major version
	FlagResponse  Flags = 0x20 // R: this message is a response
)

func (f Flags) String() string {
	return ike.FlagString(uint8(f), []ike.FlagName{{Bit: uint8(FlagInitiator), Name: "I"},
		{Bit: uint8(FlagVersion), Name: "V"}, {Bit: uint8(FlagResponse), Name: "R"}})
}

// PayloadType is the Next Payload value that names a payload (RFC 7296, Section 3.2).
type PayloadType uint8

const (
	PayloadNone    PayloadType = 0
	PayloadSA      PayloadType = 33 // Security Association
	PayloadKE      PayloadType = 34 // Key Exchange
	PayloadIDi     PayloadType = 35 // Identification - Initiator
	PayloadIDr     PayloadType = 36 // Identification - Responder
	PayloadCERT    PayloadType = 37 // Certificate
	PayloadCERTREQ PayloadType = 38 // Certificate Request
	PayloadAUTH    PayloadType = 39 // Authentication
	PayloadNonce   PayloadType = 40 // Nonce (Ni, Nr)
	PayloadNotify  PayloadType = 41 // Notify
	PayloadDelete  PayloadType = 42 // Delete
	PayloadVendor  PayloadType = 43 // Vendor ID
	PayloadTSi     PayloadType = 44 // Traffic Selector - Initiator
	PayloadTSr     PayloadType = 45 // Traffic Selector - Responder
	PayloadSK      PayloadType = 46 // Encrypted and Authenticated
	PayloadCP      PayloadType = 47 // Configuration
	PayloadEAP     PayloadType = 48 // Extensible Authentication
	PayloadGSPM    PayloadType = 49 // Generic Secure Password Methods (RFC 6467)
	PayloadSKF     PayloadType = 53 // Encrypted and Authenticated Fragment (RFC 7383)
)

var payloadNames = map[PayloadType]string{
	PayloadNone: "NONE", PayloadSA: "SA", PayloadKE: "KE", PayloadIDi: "IDi", PayloadIDr: "IDr",
	PayloadCERT: "CERT", PayloadCERTREQ: "CERTREQ", PayloadAUTH: "AUTH", PayloadNonce: "Nonce",
	PayloadNotify: "N", PayloadDelete: "D", PayloadVendor: "V", PayloadTSi: "TSi", PayloadTSr: "TSr",
	PayloadSK: "SK", PayloadCP: "CP", PayloadEAP: "EAP", PayloadGSPM: "GSPM", PayloadSKF: "SKF",
}

var payloadLongNames = map[PayloadType]string{
	PayloadNone:    "No Next Payload",
	PayloadSA:      "Security Association",
	PayloadKE:      "Key Exchange",
	PayloadIDi:     "Identification - Initiator",
	PayloadIDr:     "Identification - Responder",
	PayloadCERT:    "Certificate",
	PayloadCERTREQ: "Certificate Request",
	PayloadAUTH:    "Authentication",
	PayloadNonce:   "Nonce",
	PayloadNotify:  "Notify",
	PayloadDelete:  "Delete",
	PayloadVendor:  "Vendor ID",
	PayloadTSi:     "Traffic Selector - Initiator",
	PayloadTSr:     "Traffic Selector - Responder",
	PayloadSK:      "Encrypted and Authenticated",
	PayloadCP:      "Configuration",
	PayloadEAP:     "Extensible Authentication",
	PayloadGSPM:    "Generic Secure Password Method",
	PayloadSKF:     "Encrypted and Authenticated Fragment",
}

// String is the RFC 7296 notation of the payload type ("SA", "KE", "IDi", "N", "SK").
func (t PayloadType) String() string { return nameOr(payloadNames, t, "PAYLOAD") }

// LongName is the payload's full name as RFC 7296 writes it ("Security Association").
func (t PayloadType) LongName() string { return nameOr(payloadLongNames, t, "Unknown payload") }

// IDType is the ID Type of an Identification payload (RFC 7296, Section 3.5).
type IDType uint8

const (
	IDIPv4Addr   IDType = 1
	IDFQDN       IDType = 2
	IDRFC822Addr IDType = 3
	IDIPv6Addr   IDType = 5
	IDDERASN1DN  IDType = 9
	IDDERASN1GN  IDType = 10
	IDKeyID      IDType = 11
	IDFCName     IDType = 12 // RFC 4595
	IDNull       IDType = 13 // RFC 7619
)

var idTypeNames = map[IDType]string{
	IDIPv4Addr: "ID_IPV4_ADDR", IDFQDN: "ID_FQDN", IDRFC822Addr: "ID_RFC822_ADDR",
	IDIPv6Addr: "ID_IPV6_ADDR", IDDERASN1DN: "ID_DER_ASN1_DN", IDDERASN1GN: "ID_DER_ASN1_GN",
	IDKeyID: "ID_KEY_ID", IDFCName: "ID_FC_NAME", IDNull: "ID_NULL",
}

func (t IDType) String() string { return nameOr(idTypeNames, t, "ID") }

// AuthMethod is the Auth Method of an Authentication payload (RFC 7296, Section 3.8).
type AuthMethod uint8

const (
	AuthRSASig           AuthMethod = 1
	AuthSharedKeyMIC     AuthMethod = 2
	AuthDSSSig           AuthMethod = 3
	AuthECDSAP256        AuthMethod = 9  // RFC 4754
	AuthECDSAP384        AuthMethod = 10 // RFC 4754
	AuthECDSAP521        AuthMethod = 11 // RFC 4754
	AuthGSPM             AuthMethod = 12 // RFC 6467
	AuthNull             AuthMethod = 13 // RFC 7619
	AuthDigitalSignature AuthMethod = 14 // RFC 7427
)

var authMethodNames = map[AuthMethod]string{
	AuthRSASig:           "RSA Digital Signature",
	AuthSharedKeyMIC:     "Shared Key Message Integrity Code",
	AuthDSSSig:           "DSS Digital Signature",
	AuthECDSAP256:        "ECDSA with SHA-256 on the P-256 curve",
	AuthECDSAP384:        "ECDSA with SHA-384 on the P-384 curve",
	AuthECDSAP521:        "ECDSA with SHA-512 on the P-521 curve",
	AuthGSPM:             "Generic Secure Password Authentication Method",
	AuthNull:             "NULL Authentication",
	AuthDigitalSignature: "Digital Signature",
}

func (m AuthMethod) String() string { return nameOr(authMethodNames, m, "AUTH_METHOD") }

// CertEncoding is the Cert Encoding of CERT and CERTREQ payloads (RFC 7296, Section 3.6).
type CertEncoding uint8

const (
	CertPKCS7           CertEncoding = 1
	CertPGP             CertEncoding = 2
	CertDNSSignedKey    CertEncoding = 3
	CertX509Signature   CertEncoding = 4
	CertKerberos        CertEncoding = 6
	CertCRL             CertEncoding = 7
	CertARL             CertEncoding = 8
	CertSPKI            CertEncoding = 9
	CertX509Attribute   CertEncoding = 10
	CertRawRSAKey       CertEncoding = 11
	CertHashURLX509     CertEncoding = 12
	CertHashURLX509Bndl CertEncoding = 13
	CertOCSPContent     CertEncoding = 14 // RFC 4806
	CertRawPublicKey    CertEncoding = 15 // RFC 7670
)

var certEncodingNames = map[CertEncoding]string{
	CertPKCS7:           "PKCS #7 wrapped X.509 certificate",
	CertPGP:             "PGP Certificate",
	CertDNSSignedKey:    "DNS Signed Key",
	CertX509Signature:   "X.509 Certificate - Signature",
	CertKerberos:        "Kerberos Token",
	CertCRL:             "Certificate Revocation List (CRL)",
	CertARL:             "Authority Revocation List (ARL)",
	CertSPKI:            "SPKI Certificate",
	CertX509Attribute:   "X.509 Certificate - Attribute",
	CertRawRSAKey:       "Raw RSA Key",
	CertHashURLX509:     "Hash and URL of X.509 certificate",
	CertHashURLX509Bndl: "Hash and URL of X.509 bundle",
	CertOCSPContent:     "OCSP Content",
	CertRawPublicKey:    "Raw Public Key",
}

func (e CertEncoding) String() string { return nameOr(certEncodingNames, e, "CERT_ENCODING") }

// TSType is the TS Type of a traffic selector (RFC 7296, Section 3.13.1).
type TSType uint8

const (
	TSIPv4AddrRange TSType = 7
	TSIPv6AddrRange TSType = 8
	TSFCAddrRange   TSType = 9  // RFC 4595
	TSSecLabel      TSType = 10 // RFC 9478
)

var tsTypeNames = map[TSType]string{
	TSIPv4AddrRange: "TS_IPV4_ADDR_RANGE", TSIPv6AddrRange: "TS_IPV6_ADDR_RANGE",
	TSFCAddrRange: "TS_FC_ADDR_RANGE", TSSecLabel: "TS_SECLABEL",
}

func (t TSType) String() string { return nameOr(tsTypeNames, t, "TS_TYPE") }

// CPType is the CFG Type of a Configuration payload (RFC 7296, Section 3.15).
type CPType uint8

const (
	CFG_REQUEST CPType = 1
	CFG_REPLY   CPType = 2
	CFG_SET     CPType = 3
	CFG_ACK     CPType = 4
)

var cpTypeNames = map[CPType]string{
	CFG_REQUEST: "CFG_REQUEST", CFG_REPLY: "CFG_REPLY", CFG_SET: "CFG_SET", CFG_ACK: "CFG_ACK",
}

func (t CPType) String() string { return nameOr(cpTypeNames, t, "CFG") }

// CfgAttrType is the Attribute Type of a configuration attribute (RFC 7296, Section 3.15.1).
type CfgAttrType uint16

const (
	INTERNAL_IP4_ADDRESS    CfgAttrType = 1
	INTERNAL_IP4_NETMASK    CfgAttrType = 2
	INTERNAL_IP4_DNS        CfgAttrType = 3
	INTERNAL_IP4_NBNS       CfgAttrType = 4
	INTERNAL_IP4_DHCP       CfgAttrType = 6
	APPLICATION_VERSION     CfgAttrType = 7
	INTERNAL_IP6_ADDRESS    CfgAttrType = 8
	INTERNAL_IP6_DNS        CfgAttrType = 10
	INTERNAL_IP6_DHCP       CfgAttrType = 12
	INTERNAL_IP4_SUBNET     CfgAttrType = 13
	SUPPORTED_ATTRIBUTES    CfgAttrType = 14
	INTERNAL_IP6_SUBNET     CfgAttrType = 15
	P_CSCF_IP4_ADDRESS      CfgAttrType = 20 // RFC 7651
	P_CSCF_IP6_ADDRESS      CfgAttrType = 21 // RFC 7651
	INTERNAL_DNS_DOMAIN     CfgAttrType = 25 // RFC 8598
	INTERNAL_ADDRESS_EXPIRY CfgAttrType = 5  // deprecated by RFC 7296
	INTERNAL_IP6_NBNS       CfgAttrType = 11 // deprecated by RFC 7296
)

var cfgAttrNames = map[CfgAttrType]string{
	INTERNAL_IP4_ADDRESS: "INTERNAL_IP4_ADDRESS", INTERNAL_IP4_NETMASK: "INTERNAL_IP4_NETMASK",
	INTERNAL_IP4_DNS: "INTERNAL_IP4_DNS", INTERNAL_IP4_NBNS: "INTERNAL_IP4_NBNS",
	INTERNAL_ADDRESS_EXPIRY: "INTERNAL_ADDRESS_EXPIRY", INTERNAL_IP4_DHCP: "INTERNAL_IP4_DHCP",
	APPLICATION_VERSION: "APPLICATION_VERSION", INTERNAL_IP6_ADDRESS: "INTERNAL_IP6_ADDRESS",
	INTERNAL_IP6_DNS: "INTERNAL_IP6_DNS", INTERNAL_IP6_NBNS: "INTERNAL_IP6_NBNS",
	INTERNAL_IP6_DHCP: "INTERNAL_IP6_DHCP", INTERNAL_IP4_SUBNET: "INTERNAL_IP4_SUBNET",
	SUPPORTED_ATTRIBUTES: "SUPPORTED_ATTRIBUTES", INTERNAL_IP6_SUBNET: "INTERNAL_IP6_SUBNET",
	P_CSCF_IP4_ADDRESS: "P_CSCF_IP4_ADDRESS", P_CSCF_IP6_ADDRESS: "P_CSCF_IP6_ADDRESS",
	INTERNAL_DNS_DOMAIN: "INTERNAL_DNS_DOMAIN",
}

func (t CfgAttrType) String() string { return nameOr(cfgAttrNames, t, "CFG_ATTR") }

// nameOr looks v up in names and falls back to "PREFIX(n)" for values the table lacks.
func nameOr[K ~uint8 | ~uint16](names map[K]string, v K, prefix string) string {
	return ike.NameOr(names, v, prefix)
}

// Package ikev1 is ikesim's IKEv1: the ISAKMP codec (RFC 2408, with the IPsec DOI of
// RFC 2407, NAT traversal of RFC 3947, dead peer detection of RFC 3706 and the attribute
// payload of the XAUTH and Mode Config drafts), the key derivation and encryption of
// RFC 2409, the dissection of messages into ike.Field trees, and the engine that runs
// main, aggressive, quick, transaction and informational exchanges.
//
// It sits on floor 1 of ikesim: it imports the standard library, golang.org/x/crypto and
// package ike, and must never import sim, ipsec, render or any UI package.
package ikev1

import (
	"fmt"

	"github.com/ikesim/ikesim/ike"
)

// nameOr names a protocol value, or writes "PREFIX(n)" for one without a name.
func nameOr[K ~uint8 | ~uint16 | ~uint32](names map[K]string, v K, prefix string) string {
	return ike.NameOr(names, v, prefix)
}

// ExchangeType is the Exchange Type field of the ISAKMP header (RFC 2408, Section 3.1;
// RFC 2409, Section 5; the Transaction exchange of draft-ietf-ipsec-isakmp-mode-cfg-05).
type ExchangeType uint8

const (
	ExchangeBase          ExchangeType = 1
	ExchangeMain          ExchangeType = 2 // Identity Protection
	ExchangeAuthOnly      ExchangeType = 3
	ExchangeAggressive    ExchangeType = 4
	ExchangeInformational ExchangeType = 5
	ExchangeTransaction   ExchangeType = 6 // Mode Config and XAUTH
	ExchangeQuick         ExchangeType = 32
	ExchangeNewGroup      ExchangeType = 33
)

var exchangeNames = map[ExchangeType]string{
	ExchangeBase:          "Base",
	ExchangeMain:          "Main Mode",
	ExchangeAuthOnly:      "Authentication Only",
	ExchangeAggressive:    "Aggressive Mode",
	ExchangeInformational: "Informational",
	ExchangeTransaction:   "Transaction",
	ExchangeQuick:         "Quick Mode",
	ExchangeNewGroup:      "New Group Mode",
}

// String names the exchange as the trace does: "Main Mode", "Quick Mode", ...
func (e ExchangeType) String() string { return nameOr(exchangeNames, e, "EXCHANGE") }

// ExchangeNames lists the names of the exchange types, in the order of their numbers,
// as message events carry them.
func ExchangeNames() []string { return ike.Names(exchangeNames) }

// Flags are the flag bits of the ISAKMP header (RFC 2408, Section 3.1).
type Flags uint8

const (
	FlagEncryption Flags = 0x01 // E: the payloads after the header are encrypted
	FlagCommit     Flags = 0x02 // C: commit bit (RFC 2408, Section 3.1)
	FlagAuthOnly   Flags = 0x04 // A: authentication only (no encryption)
)

func (f Flags) String() string {
	return ike.FlagString(uint8(f), []ike.FlagName{{Bit: uint8(FlagEncryption), Name: "E"},
		{Bit: uint8(FlagCommit), Name: "C"}, {Bit: uint8(FlagAuthOnly), Name: "A"}})
}

// PayloadType names a payload in the Next Payload fields (RFC 2408, Section 3.1; RFC
// 3947 for NAT-D and NAT-OA and their draft numbers; the Mode Config draft for ATTR).
type PayloadType uint8

const (
	PayloadNone       PayloadType = 0
	PayloadSA         PayloadType = 1
	PayloadProposal   PayloadType = 2
	PayloadTransform  PayloadType = 3
	PayloadKE         PayloadType = 4
	PayloadID         PayloadType = 5
	PayloadCERT       PayloadType = 6
	PayloadCR         PayloadType = 7
	PayloadHash       PayloadType = 8
	PayloadSIG        PayloadType = 9
	PayloadNonce      PayloadType = 10
	PayloadNotify     PayloadType = 11
	PayloadDelete     PayloadType = 12
	PayloadVendor     PayloadType = 13
	PayloadAttr       PayloadType = 14 // Mode Config / XAUTH attributes
	PayloadNATD       PayloadType = 20 // RFC 3947
	PayloadNATOA      PayloadType = 21 // RFC 3947
	PayloadNATDDraft  PayloadType = 130
	PayloadNATOADraft PayloadType = 131
)

var payloadNames = map[PayloadType]string{
	PayloadNone: "NONE", PayloadSA: "SA", PayloadProposal: "P", PayloadTransform: "T", PayloadKE: "KE",
	PayloadID: "ID", PayloadCERT: "CERT", PayloadCR: "CR", PayloadHash: "HASH", PayloadSIG: "SIG",
	PayloadNonce: "NONCE", PayloadNotify: "N", PayloadDelete: "D", PayloadVendor: "VID", PayloadAttr: "ATTR",
	PayloadNATD: "NAT-D", PayloadNATOA: "NAT-OA", PayloadNATDDraft: "NAT-D (draft)", PayloadNATOADraft: "NAT-OA (draft)",
}

var payloadLongNames = map[PayloadType]string{
	PayloadSA: "Security Association", PayloadProposal: "Proposal", PayloadTransform: "Transform",
	PayloadKE: "Key Exchange", PayloadID: "Identification", PayloadCERT: "Certificate",
	PayloadCR: "Certificate Request", PayloadHash: "Hash", PayloadSIG: "Signature", PayloadNonce: "Nonce",
	PayloadNotify: "Notification", PayloadDelete: "Delete", PayloadVendor: "Vendor ID", PayloadAttr: "Attributes",
	PayloadNATD: "NAT Discovery", PayloadNATOA: "NAT Original Address", PayloadNATDDraft: "NAT Discovery (draft)",
	PayloadNATOADraft: "NAT Original Address (draft)",
}

func (t PayloadType) String() string { return nameOr(payloadNames, t, "PAYLOAD") }

// LongName is the payload's full name, as dissections title it.
func (t PayloadType) LongName() string {
	if s, ok := payloadLongNames[t]; ok {
		return s
	}
	return fmt.Sprintf("Payload type %d", uint8(t))
}

// DOIIPsec is the IPsec Domain of Interpretation (RFC 2407, Section 4.2).
const DOIIPsec = 1

// SitIdentityOnly is the only situation ikesim speaks (RFC 2407, Section 4.2.1).
const SitIdentityOnly = 1

// ProtocolID is a protocol in proposals, notifications and deletes (RFC 2407, Section 4.4.1).
type ProtocolID uint8

const (
	ProtoISAKMP   ProtocolID = 1
	ProtoIPsecAH  ProtocolID = 2
	ProtoIPsecESP ProtocolID = 3
	ProtoIPComp   ProtocolID = 4
)

var protocolNames = map[ProtocolID]string{
	ProtoISAKMP: "PROTO_ISAKMP", ProtoIPsecAH: "PROTO_IPSEC_AH", ProtoIPsecESP: "PROTO_IPSEC_ESP", ProtoIPComp: "PROTO_IPCOMP",
}

func (p ProtocolID) String() string {
	if p == 0 {
		return "none"
	}
	return nameOr(protocolNames, p, "PROTO")
}

// KeyIKE is the phase 1 transform ID (RFC 2407, Section 4.4.2).
const KeyIKE = 1

// ESP transform IDs (RFC 2407, Section 4.4.4 and the IANA "IPSEC ESP Transform
// Identifiers" registry): the same numbers as IKEv2's encryption transform IDs.
const (
	ESP_DES        = 2
	ESP_3DES       = 3
	ESP_NULL       = 11
	ESP_AES        = 12
	ESP_AES_CTR    = 13 // RFC 3686
	ESP_AES_CCM_8  = 14 // RFC 4309
	ESP_AES_CCM_12 = 15
	ESP_AES_CCM_16 = 16
	ESP_AES_GCM_8  = 18
	ESP_AES_GCM_12 = 19
	ESP_AES_GCM_16 = 20
	ESP_CAMELLIA   = 22 // RFC 4312
)

var espTransformNames = map[uint8]string{
	1: "ESP_DES_IV64", ESP_DES: "ESP_DES", ESP_3DES: "ESP_3DES", 4: "ESP_RC5", 5: "ESP_IDEA", 6: "ESP_CAST",
	7: "ESP_BLOWFISH", 8: "ESP_3IDEA", 9: "ESP_DES_IV32", 10: "ESP_RC4", ESP_NULL: "ESP_NULL", ESP_AES: "ESP_AES",
	ESP_AES_CTR: "ESP_AES-CTR", ESP_AES_CCM_8: "ESP_AES-CCM_8", ESP_AES_CCM_12: "ESP_AES-CCM_12", ESP_AES_CCM_16: "ESP_AES-CCM_16",
	ESP_AES_GCM_8: "ESP_AES-GCM_8", ESP_AES_GCM_12: "ESP_AES-GCM_12", ESP_AES_GCM_16: "ESP_AES-GCM_16",
	21: "ESP_NULL_AUTH_AES-GMAC", ESP_CAMELLIA: "ESP_CAMELLIA",
}

// AH transform IDs (RFC 2407, Section 4.4.3; RFC 4868, Section 2.4; RFC 3566, Section
// 5 and the IANA "IPSEC AH Transform Identifiers" registry).
const (
	AH_MD5          = 2
	AH_SHA          = 3
	AH_SHA2_256     = 5
	AH_SHA2_384     = 6
	AH_SHA2_512     = 7
	AH_AES_XCBC_MAC = 9
)

var ahTransformNames = map[uint8]string{AH_MD5: "AH_MD5", AH_SHA: "AH_SHA", 4: "AH_DES", AH_SHA2_256: "AH_SHA2-256",
	AH_SHA2_384: "AH_SHA2-384", AH_SHA2_512: "AH_SHA2-512", 8: "AH_RIPEMD", AH_AES_XCBC_MAC: "AH_AES-XCBC-MAC"}

// TransformName names a transform ID for its protocol: KEY_IKE for ISAKMP, ESP_AES for
// ESP.
func TransformName(proto ProtocolID, id uint8) string {
	switch proto {
	case ProtoISAKMP:
		if id == KeyIKE {
			return "KEY_IKE"
		}
	case ProtoIPsecESP:
		if s, ok := espTransformNames[id]; ok {
			return s
		}
	case ProtoIPsecAH:
		if s, ok := ahTransformNames[id]; ok {
			return s
		}
	}
	return fmt.Sprintf("transform %d", id)
}

// Phase 1 attribute types (RFC 2409, Appendix A).
const (
	AttrEncryption   = 1
	AttrHash         = 2
	AttrAuthMethod   = 3
	AttrGroupDesc    = 4
	AttrGroupType    = 5
	AttrLifeType     = 11
	AttrLifeDuration = 12
	AttrPRF          = 13
	AttrKeyLength    = 14
)

var ikeAttrNames = map[uint16]string{
	AttrEncryption: "Encryption-Algorithm", AttrHash: "Hash-Algorithm", AttrAuthMethod: "Authentication-Method",
	AttrGroupDesc: "Group-Description", AttrGroupType: "Group-Type", 6: "Group-Prime/Irreducible-Polynomial",
	7: "Group-Generator-One", 8: "Group-Generator-Two", 9: "Group-Curve-A", 10: "Group-Curve-B",
	AttrLifeType: "Life-Type", AttrLifeDuration: "Life-Duration", AttrPRF: "PRF", AttrKeyLength: "Key-Length",
	15: "Field-Size", 16: "Group-Order",
}

// Phase 1 encryption algorithms (RFC 2409, Appendix A; RFC 3602 for AES).
const (
	EncrDES      = 1
	EncrIDEA     = 2
	EncrBlowfish = 3
	EncrRC5      = 4
	Encr3DES     = 5
	EncrCAST     = 6
	EncrAES      = 7
	EncrCamellia = 8
)

var encrNames = map[uint16]string{EncrDES: "DES-CBC", EncrIDEA: "IDEA-CBC", EncrBlowfish: "Blowfish-CBC",
	EncrRC5: "RC5-R16-B64-CBC", Encr3DES: "3DES-CBC", EncrCAST: "CAST-CBC", EncrAES: "AES-CBC", EncrCamellia: "Camellia-CBC"}

// Phase 1 hash algorithms (RFC 2409, Appendix A; RFC 4868 numbers for SHA-2).
const (
	HashMD5    = 1
	HashSHA    = 2
	HashTiger  = 3
	HashSHA256 = 4
	HashSHA384 = 5
	HashSHA512 = 6
)

var hashNames = map[uint16]string{HashMD5: "MD5", HashSHA: "SHA", HashTiger: "Tiger", HashSHA256: "SHA2-256",
	HashSHA384: "SHA2-384", HashSHA512: "SHA2-512"}

// Authentication methods (RFC 2409, Appendix A; draft-beaulieu-ike-xauth-02, Section 7.2).
const (
	AuthPSK           = 1
	AuthDSS           = 2
	AuthRSASig        = 3
	AuthRSAEnc        = 4
	AuthRSARevEnc     = 5
	AuthXAUTHInitPSK  = 65001
	AuthXAUTHRespPSK  = 65002
	AuthXAUTHInitRSA  = 65005
	AuthXAUTHRespRSA  = 65006
	AuthHybridInitRSA = 64221
)

var authNames = map[uint16]string{AuthPSK: "Pre-shared key", AuthDSS: "DSS signatures", AuthRSASig: "RSA signatures",
	AuthRSAEnc: "Encryption with RSA", AuthRSARevEnc: "Revised encryption with RSA",
	AuthXAUTHInitPSK: "XAUTHInitPreShared", AuthXAUTHRespPSK: "XAUTHRespPreShared",
	AuthXAUTHInitRSA: "XAUTHInitRSA", AuthXAUTHRespRSA: "XAUTHRespRSA", AuthHybridInitRSA: "HybridInitRSA"}

// Life types (RFC 2409, Appendix A; RFC 2407, Section 4.5).
const (
	LifeSeconds   = 1
	LifeKilobytes = 2
)

// IPsec DOI SA attribute types (RFC 2407, Section 4.5; RFC 4304 for ESN).
const (
	IPsecAttrLifeType     = 1
	IPsecAttrLifeDuration = 2
	IPsecAttrGroupDesc    = 3
	IPsecAttrEncapMode    = 4
	IPsecAttrAuthAlg      = 5
	IPsecAttrKeyLength    = 6
	IPsecAttrKeyRounds    = 7
	IPsecAttrESN          = 11
)

var ipsecAttrNames = map[uint16]string{
	IPsecAttrLifeType: "SA-Life-Type", IPsecAttrLifeDuration: "SA-Life-Duration", IPsecAttrGroupDesc: "Group-Description",
	IPsecAttrEncapMode: "Encapsulation-Mode", IPsecAttrAuthAlg: "Authentication-Algorithm", IPsecAttrKeyLength: "Key-Length",
	IPsecAttrKeyRounds: "Key-Rounds", 8: "Compress-Dictionary-Size", 9: "Compress-Private-Algorithm", 10: "ECN Tunnel",
	IPsecAttrESN: "Extended-Sequence-Number",
}

// Encapsulation modes (RFC 2407, Section 4.5; RFC 3947, Section 5.3 for the UDP ones).
const (
	EncapTunnel          = 1
	EncapTransport       = 2
	EncapUDPTunnel       = 3
	EncapUDPTransport    = 4
	EncapUDPTunnelDraft  = 61443
	EncapUDPTransportDft = 61444
)

var encapNames = map[uint16]string{EncapTunnel: "Tunnel", EncapTransport: "Transport", EncapUDPTunnel: "UDP-Encapsulated-Tunnel",
	EncapUDPTransport: "UDP-Encapsulated-Transport", EncapUDPTunnelDraft: "UDP-Encapsulated-Tunnel (draft)",
	EncapUDPTransportDft: "UDP-Encapsulated-Transport (draft)"}

// IPsec authentication algorithms (RFC 2407, Section 4.5; RFC 4868; RFC 3566).
const (
	AuthAlgHMACMD5    = 1
	AuthAlgHMACSHA    = 2
	AuthAlgHMACSHA256 = 5
	AuthAlgHMACSHA384 = 6
	AuthAlgHMACSHA512 = 7
	AuthAlgAESXCBC    = 9
)

var authAlgNames = map[uint16]string{AuthAlgHMACMD5: "HMAC-MD5", AuthAlgHMACSHA: "HMAC-SHA", 3: "DES-MAC", 4: "KPDK",
	AuthAlgHMACSHA256: "HMAC-SHA2-256", AuthAlgHMACSHA384: "HMAC-SHA2-384", AuthAlgHMACSHA512: "HMAC-SHA2-512",
	AuthAlgAESXCBC: "AES-XCBC-MAC"}

// IDType is the type of an Identification payload (RFC 2407, Section 4.6.2.1).
type IDType uint8

const (
	IDIPv4Addr       IDType = 1
	IDFQDN           IDType = 2
	IDUserFQDN       IDType = 3
	IDIPv4AddrSubnet IDType = 4
	IDIPv6Addr       IDType = 5
	IDIPv6AddrSubnet IDType = 6
	IDIPv4AddrRange  IDType = 7
	IDIPv6AddrRange  IDType = 8
	IDDERASN1DN      IDType = 9
	IDDERASN1GN      IDType = 10
	IDKeyID          IDType = 11
)

var idTypeNames = map[IDType]string{
	IDIPv4Addr: "ID_IPV4_ADDR", IDFQDN: "ID_FQDN", IDUserFQDN: "ID_USER_FQDN", IDIPv4AddrSubnet: "ID_IPV4_ADDR_SUBNET",
	IDIPv6Addr: "ID_IPV6_ADDR", IDIPv6AddrSubnet: "ID_IPV6_ADDR_SUBNET", IDIPv4AddrRange: "ID_IPV4_ADDR_RANGE",
	IDIPv6AddrRange: "ID_IPV6_ADDR_RANGE", IDDERASN1DN: "ID_DER_ASN1_DN", IDDERASN1GN: "ID_DER_ASN1_GN", IDKeyID: "ID_KEY_ID",
}

func (t IDType) String() string { return nameOr(idTypeNames, t, "ID") }

// NotifyType is a Notify Message Type (RFC 2408, Section 3.14.1; RFC 2407, Section
// 4.6.3; RFC 3706 for DPD).
type NotifyType uint16

const (
	INVALID_PAYLOAD_TYPE      NotifyType = 1
	DOI_NOT_SUPPORTED         NotifyType = 2
	SITUATION_NOT_SUPPORTED   NotifyType = 3
	INVALID_COOKIE            NotifyType = 4
	INVALID_MAJOR_VERSION     NotifyType = 5
	INVALID_MINOR_VERSION     NotifyType = 6
	INVALID_EXCHANGE_TYPE     NotifyType = 7
	INVALID_FLAGS             NotifyType = 8
	INVALID_MESSAGE_ID        NotifyType = 9
	INVALID_PROTOCOL_ID       NotifyType = 10
	INVALID_SPI               NotifyType = 11
	INVALID_TRANSFORM_ID      NotifyType = 12
	ATTRIBUTES_NOT_SUPPORTED  NotifyType = 13
	NO_PROPOSAL_CHOSEN        NotifyType = 14
	BAD_PROPOSAL_SYNTAX       NotifyType = 15
	PAYLOAD_MALFORMED         NotifyType = 16
	INVALID_KEY_INFORMATION   NotifyType = 17
	INVALID_ID_INFORMATION    NotifyType = 18
	INVALID_CERT_ENCODING     NotifyType = 19
	INVALID_CERTIFICATE       NotifyType = 20
	CERT_TYPE_UNSUPPORTED     NotifyType = 21
	INVALID_CERT_AUTHORITY    NotifyType = 22
	INVALID_HASH_INFORMATION  NotifyType = 23
	AUTHENTICATION_FAILED     NotifyType = 24
	INVALID_SIGNATURE         NotifyType = 25
	ADDRESS_NOTIFICATION      NotifyType = 26
	NOTIFY_SA_LIFETIME        NotifyType = 27
	CERTIFICATE_UNAVAILABLE   NotifyType = 28
	UNSUPPORTED_EXCHANGE_TYPE NotifyType = 29
	UNEQUAL_PAYLOAD_LENGTHS   NotifyType = 30
	CONNECTED                 NotifyType = 16384
	RESPONDER_LIFETIME        NotifyType = 24576
	REPLAY_STATUS             NotifyType = 24577
	INITIAL_CONTACT           NotifyType = 24578
	R_U_THERE                 NotifyType = 36136
	R_U_THERE_ACK             NotifyType = 36137
)

var notifyNames = map[NotifyType]string{
	INVALID_PAYLOAD_TYPE: "INVALID-PAYLOAD-TYPE", DOI_NOT_SUPPORTED: "DOI-NOT-SUPPORTED",
	SITUATION_NOT_SUPPORTED: "SITUATION-NOT-SUPPORTED", INVALID_COOKIE: "INVALID-COOKIE",
	INVALID_MAJOR_VERSION: "INVALID-MAJOR-VERSION", INVALID_MINOR_VERSION: "INVALID-MINOR-VERSION",
	INVALID_EXCHANGE_TYPE: "INVALID-EXCHANGE-TYPE", INVALID_FLAGS: "INVALID-FLAGS",
	INVALID_MESSAGE_ID: "INVALID-MESSAGE-ID", INVALID_PROTOCOL_ID: "INVALID-PROTOCOL-ID", INVALID_SPI: "INVALID-SPI",
	INVALID_TRANSFORM_ID: "INVALID-TRANSFORM-ID", ATTRIBUTES_NOT_SUPPORTED: "ATTRIBUTES-NOT-SUPPORTED",
	NO_PROPOSAL_CHOSEN: "NO-PROPOSAL-CHOSEN", BAD_PROPOSAL_SYNTAX: "BAD-PROPOSAL-SYNTAX",
	PAYLOAD_MALFORMED: "PAYLOAD-MALFORMED", INVALID_KEY_INFORMATION: "INVALID-KEY-INFORMATION",
	INVALID_ID_INFORMATION: "INVALID-ID-INFORMATION", INVALID_CERT_ENCODING: "INVALID-CERT-ENCODING",
	INVALID_CERTIFICATE: "INVALID-CERTIFICATE", CERT_TYPE_UNSUPPORTED: "CERT-TYPE-UNSUPPORTED",
	INVALID_CERT_AUTHORITY: "INVALID-CERT-AUTHORITY", INVALID_HASH_INFORMATION: "INVALID-HASH-INFORMATION",
	AUTHENTICATION_FAILED: "AUTHENTICATION-FAILED", INVALID_SIGNATURE: "INVALID-SIGNATURE",
	ADDRESS_NOTIFICATION: "ADDRESS-NOTIFICATION", NOTIFY_SA_LIFETIME: "NOTIFY-SA-LIFETIME",
	CERTIFICATE_UNAVAILABLE: "CERTIFICATE-UNAVAILABLE", UNSUPPORTED_EXCHANGE_TYPE: "UNSUPPORTED-EXCHANGE-TYPE",
	UNEQUAL_PAYLOAD_LENGTHS: "UNEQUAL-PAYLOAD-LENGTHS", CONNECTED: "CONNECTED",
	RESPONDER_LIFETIME: "RESPONDER-LIFETIME", REPLAY_STATUS: "REPLAY-STATUS", INITIAL_CONTACT: "INITIAL-CONTACT",
	R_U_THERE: "R-U-THERE", R_U_THERE_ACK: "R-U-THERE-ACK",
}

// String is the notification's name as RFC 2408 writes it: "NO-PROPOSAL-CHOSEN".
func (t NotifyType) String() string { return nameOr(notifyNames, t, "NOTIFY") }

// IsError reports whether the type is an error notification (RFC 2408, Section 3.14.1:
// 1 to 16383).
func (t NotifyType) IsError() bool { return t >= 1 && t < 16384 }

// Error makes an error notification usable as a Go error: its name, as a peer's log
// shows it.
func (t NotifyType) Error() string { return t.String() }

// Explain says what a notification means, in a line.
func (t NotifyType) Explain() string {
	switch t {
	case NO_PROPOSAL_CHOSEN:
		return "None of the offered proposals is acceptable"
	case PAYLOAD_MALFORMED:
		return "A payload could not be parsed; after encryption this often means the keys differ"
	case INVALID_ID_INFORMATION:
		return "The identities (or quick mode proxy IDs) are not acceptable"
	case AUTHENTICATION_FAILED:
		return "The hash or signature that proves the peer's identity did not verify"
	case INVALID_HASH_INFORMATION:
		return "The HASH payload did not verify"
	case INVALID_COOKIE:
		return "The cookies name no known ISAKMP SA"
	case RESPONDER_LIFETIME:
		return "The responder uses a shorter lifetime than proposed"
	case INITIAL_CONTACT:
		return "The sender has no other SA with the peer: old ones can go"
	case R_U_THERE:
		return "Dead peer detection: are you there? (RFC 3706)"
	case R_U_THERE_ACK:
		return "Dead peer detection: yes, I am here (RFC 3706)"
	case ATTRIBUTES_NOT_SUPPORTED:
		return "An attribute of the proposal is not supported"
	}
	if t.IsError() {
		return "An error that ends the negotiation"
	}
	return "A status notification"
}

// CfgType is the type of an attribute payload (draft-ietf-ipsec-isakmp-mode-cfg-05,
// Section 3.2).
type CfgType uint8

const (
	CfgRequest CfgType = 1
	CfgReply   CfgType = 2
	CfgSet     CfgType = 3
	CfgAck     CfgType = 4
)

var cfgTypeNames = map[CfgType]string{CfgRequest: "ISAKMP_CFG_REQUEST", CfgReply: "ISAKMP_CFG_REPLY",
	CfgSet: "ISAKMP_CFG_SET", CfgAck: "ISAKMP_CFG_ACK"}

func (t CfgType) String() string { return nameOr(cfgTypeNames, t, "CFG") }

// Configuration attributes (draft-ietf-ipsec-isakmp-mode-cfg-05, Section 3.3;
// draft-beaulieu-ike-xauth-02, Section 6.1).
const (
	CfgInternalIP4Address = 1
	CfgInternalIP4Netmask = 2
	CfgInternalIP4DNS     = 3
	CfgInternalIP4NBNS    = 4
	CfgInternalAddrExpiry = 5
	CfgInternalIP4DHCP    = 6
	CfgApplicationVersion = 7
	CfgInternalIP6Address = 8
	CfgInternalIP4Subnet  = 13
	CfgSupportedAttrs     = 14
	XAuthType             = 16520
	XAuthUserName         = 16521
	XAuthUserPassword     = 16522
	XAuthPasscode         = 16523
	XAuthMessage          = 16524
	XAuthChallenge        = 16525
	XAuthDomain           = 16526
	XAuthStatus           = 16527
	XAuthNextPin          = 16528
	XAuthAnswer           = 16529
)

var cfgAttrNames = map[uint16]string{
	CfgInternalIP4Address: "INTERNAL_IP4_ADDRESS", CfgInternalIP4Netmask: "INTERNAL_IP4_NETMASK",
	CfgInternalIP4DNS: "INTERNAL_IP4_DNS", CfgInternalIP4NBNS: "INTERNAL_IP4_NBNS",
	CfgInternalAddrExpiry: "INTERNAL_ADDRESS_EXPIRY", CfgInternalIP4DHCP: "INTERNAL_IP4_DHCP",
	CfgApplicationVersion: "APPLICATION_VERSION", CfgInternalIP6Address: "INTERNAL_IP6_ADDRESS",
	CfgInternalIP4Subnet: "INTERNAL_IP4_SUBNET", CfgSupportedAttrs: "SUPPORTED_ATTRIBUTES",
	XAuthType: "XAUTH-TYPE", XAuthUserName: "XAUTH-USER-NAME", XAuthUserPassword: "XAUTH-USER-PASSWORD",
	XAuthPasscode: "XAUTH-PASSCODE", XAuthMessage: "XAUTH-MESSAGE", XAuthChallenge: "XAUTH-CHALLENGE",
	XAuthDomain: "XAUTH-DOMAIN", XAuthStatus: "XAUTH-STATUS", XAuthNextPin: "XAUTH-NEXT-PIN", XAuthAnswer: "XAUTH-ANSWER",
}

// Vendor IDs ikesim sends and recognises.
var (
	// VendorNATT is MD5("RFC 3947"): the sender speaks NAT traversal (RFC 3947, Section 3.1).
	VendorNATT = []byte{0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f}
	// VendorDPD announces dead peer detection, version 1.0 (RFC 3706, Section 5.1).
	VendorDPD = []byte{0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00}
	// VendorXAUTH announces extended authentication (draft-beaulieu-ike-xauth-02, Section 4).
	VendorXAUTH = []byte{0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12}
)

var knownVendors = []struct {
	id   []byte
	name string
}{
	{VendorNATT, "RFC 3947 NAT-T"},
	{VendorDPD, "RFC 3706 DPD"},
	{VendorXAUTH, "XAUTH"},
	{[]byte{0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f}, "draft-ietf-ipsec-nat-t-ike-02"},
	{[]byte{0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6, 0xc2, 0xd3, 0x80, 0x00, 0x00, 0x00}, "Cisco Fragmentation"},
	{[]byte{0x12, 0xf5, 0xf2, 0x8c, 0x45, 0x71, 0x68, 0xa9, 0x70, 0x2d, 0x9f, 0xe2, 0x74, 0xcc, 0x01, 0x00}, "Cisco Unity"},
}

// VendorName names a known vendor ID, or returns "".
func VendorName(id []byte) string {
	for _, v := range knownVendors {
		if string(v.id) == string(id) {
			return v.name
		}
	}
	return ""
}

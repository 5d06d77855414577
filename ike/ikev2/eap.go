package ikev2

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ikesim/ikesim/ike"
)

// EAP in IKE_AUTH (RFC 7296, Section 2.16): an initiator that leaves AUTH out of its
// first IKE_AUTH request asks to authenticate with EAP. The responder proves itself with
// its certificate and runs EAP as the authenticator, one EAP message per IKE_AUTH
// exchange; after EAP-Success both sides send an AUTH computed like a pre-shared key's,
// with the MSK the EAP method derived (SK_pi and SK_pr for methods that derive none):
//
//	HDR, SK {IDi, [CERTREQ,] [IDr,] [CP(CFG_REQUEST),] SAi2, TSi, TSr}  -->
//	                        <--  HDR, SK {IDr, [CERT,] AUTH, EAP(Request/Identity)}
//	HDR, SK {EAP(Response)}  -->
//	                        <--  HDR, SK {EAP(Request)}      ... as the method needs
//	                        <--  HDR, SK {EAP(Success)}
//	HDR, SK {AUTH}  -->
//	                        <--  HDR, SK {AUTH, [CP(CFG_REPLY),] SAr2, TSi, TSr}
//
// The methods are EAP-MD5 (RFC 3748, Section 5.4) and EAP-MSCHAPv2 (as Windows clients
// speak it: RFC 2759 inside EAP type 26).

// EAP method types (RFC 3748, Section 5; IANA for MS-CHAPv2).
const (
	EAPTypeIdentity     = 1
	EAPTypeNotification = 2
	EAPTypeNak          = 3
	EAPTypeMD5          = 4
	EAPTypeMSCHAPv2     = 26
)

var eapTypeNames = map[uint8]string{EAPTypeIdentity: "Identity", EAPTypeNotification: "Notification",
	EAPTypeNak: "Nak", EAPTypeMD5: "MD5-Challenge", EAPTypeMSCHAPv2: "MSCHAPv2"}

func eapTypeName(t uint8) string { return nameOr(eapTypeNames, t, "EAP-TYPE") }

// MS-CHAPv2 op codes inside EAP type 26 (RFC 2759, Section 4 and the EAP encapsulation
// Windows uses).
const (
	msChapChallenge = 1
	msChapResponse  = 2
	msChapSuccess   = 3
	msChapFailure   = 4
)

// eapMethodType is the EAP type of a configured method, "eap-md5" or "eap-mschapv2".
func eapMethodType(method ike.AuthMethod) (uint8, bool) {
	switch method {
	case ike.AuthEAPMD5:
		return EAPTypeMD5, true
	case ike.AuthEAPMSCHAPv2:
		return EAPTypeMSCHAPv2, true
	}
	return 0, false
}

func isEAP(method ike.AuthMethod) bool { _, ok := eapMethodType(method); return ok }

// eapMethodName is how the trace names a configured method: "EAP-MSCHAPv2".
func eapMethodName(method ike.AuthMethod) string {
	return map[ike.AuthMethod]string{ike.AuthEAPMD5: "EAP-MD5", ike.AuthEAPMSCHAPv2: "EAP-MSCHAPv2"}[method]
}

// eapPacket builds an EAP packet; typ and data only for requests and responses.
//
// RFC 3748, Section 4
func eapPacket(code, id, typ uint8, data []byte) *EAP {
	n := 4
	if code == EAPRequest || code == EAPResponse {
		n += 1 + len(data)
	}
	b := make([]byte, 4, n)
	b[0], b[1] = code, id
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	if code == EAPRequest || code == EAPResponse {
		b = append(append(b, typ), data...)
	}
	return &EAP{Message: b}
}

// typeData is the Type-Data of a request or response.
func (p *EAP) typeData() []byte {
	if len(p.Message) < 5 {
		return nil
	}
	return p.Message[5:]
}

// msChapPacket is the Type-Data of an EAP-MSCHAPv2 packet: OpCode, MS-CHAPv2-ID,
// MS-Length (the length from OpCode on) and the op's data.
func msChapPacket(op, id uint8, data []byte) []byte {
	b := []byte{op, id, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(4+len(data)))
	return append(b, data...)
}

// eapSession is one side of the EAP conversation of an IKE SA.
type eapSession struct {
	typ      uint8 // the method
	server   bool
	id       uint8  // the Identifier of the current request
	identity string // the client's EAP identity
	secret   []byte
	// MD5: the challenge. MS-CHAPv2: the authenticator challenge, the peer challenge and
	// NT-Response, and the authenticator response the client expects.
	challenge, peerChallenge, ntResponse []byte
	authResponse                         string
	failed                               string // the server's MS-CHAPv2 failure message
	msk                                  []byte
	succeeded                            bool

	first []Payload // server: the payloads of the first IKE_AUTH request
	idr   *ID       // client: the responder's IDr from the first response
}

// authKey is the shared key of the AUTH payloads after EAP: the MSK, or for methods
// that derive none SK_pi (the initiator's AUTH) and SK_pr (the responder's).
func (s *eapSession) authKey(sa *ikeSA, forInitiator bool) []byte {
	if s.msk != nil {
		return s.msk
	}
	if forInitiator {
		return sa.keys.SKpi
	}
	return sa.keys.SKpr
}

// keyName says which key authKey gives, for the trace.
func (s *eapSession) keyName(forInitiator bool) string {
	switch {
	case s.msk != nil:
		return "the MSK from " + eapTypeName(s.typ)
	case forInitiator:
		return "SK_pi (EAP-MD5 derives no MSK)"
	}
	return "SK_pr (EAP-MD5 derives no MSK)"
}

// eapAuth is the AUTH payload after EAP-Success.
func (sa *ikeSA) eapAuth(forInitiator bool, id ike.Identity) *Auth {
	s := sa.ext.eap
	return &Auth{Method: AuthSharedKeyMIC, Data: sa.pskAuth(s.authKey(sa, forInitiator), forInitiator, id)}
}

// ---- the client (the IKE initiator) ----

// eapClientRound handles the IKE_AUTH responses of an initiator that authenticates with
// EAP. It returns true when it handled the response; for the responder's last one (its
// AUTH after EAP-Success) it returns the payloads with the IDr of the first response
// added, for onAuthReply to finish.
func (sa *ikeSA) eapClientRound(inner []Payload, ch *ike.ChildConfig, spi uint32) ([]Payload, bool) {
	c := sa.conn
	typ, ok := eapMethodType(c.Local.Method)
	if !ok {
		return inner, false
	}
	s := sa.ext.eap
	if s != nil && s.succeeded {
		return append([]Payload{s.idr}, inner...), false
	}
	e := payloadOf[*EAP](inner)
	if e == nil {
		if n := errorNotify(inner); n != nil {
			sa.failWith(n.Type, ike.FailPeerNotify, "IKE_AUTH failed: responder says %s", n.Type)
		} else {
			sa.failWith(0, ike.FailMalformed, "the responder did not start EAP: its IKE_AUTH response has no EAP payload")
		}
		return nil, true
	}
	if s == nil {
		// The first response: the responder's certificate and AUTH, and the first request.
		idr, auth := idPayload(inner, true), payloadOf[*Auth](inner)
		if idr == nil || auth == nil {
			sa.failWith(0, ike.FailMalformed, "the responder's first IKE_AUTH response lacks IDr or AUTH: it must authenticate before EAP")
			return nil, true
		}
		peer := fromID(idr)
		if len(c.Remote.ID.Value) > 0 && !peer.Equal(c.Remote.ID) {
			sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: responder identifies as %s, expected %s", peer, c.Remote.ID)
			return nil, true
		}
		if err := sa.verifyPeerAuth(peer, auth, inner); err != nil {
			sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: %s", ike.Reason(err))
			return nil, true
		}
		identity := c.Local.EAPID
		if identity == "" {
			identity = c.Local.ID.String()
		}
		s = &eapSession{typ: typ, identity: identity, secret: c.Local.EAPSecrets[identity], idr: idr}
		sa.ext.eap = s
	}
	next := func(ps ...Payload) {
		sa.sendRequest(IKE_AUTH, ps, func(_ *Message, inner []Payload) { sa.onAuthReply(inner, ch, spi) })
	}
	switch e.Code() {
	case EAPSuccess:
		s.succeeded = true
		sa.d.action("EAP-Success: the server accepts us. Send AUTH = prf(prf(key, \"Key Pad for IKEv2\"), IKE_SA_INIT request | Nr | prf(SK_pi, IDi)) with %s as the key",
			s.keyName(true))
		next(sa.eapAuth(true, c.Local.ID))
	case EAPFailure:
		why := "the server rejects our EAP credentials"
		if s.failed != "" {
			why += " (" + s.failed + ")"
		}
		sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: EAP-Failure: %s", why)
	case EAPRequest:
		resp, err := s.clientRespond(sa, e)
		if err != nil {
			sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: %v", err)
			return nil, true
		}
		next(resp)
	default:
		sa.failWith(0, ike.FailMalformed, "unexpected EAP code %d from the server", e.Code())
	}
	return nil, true
}

// clientRespond answers one EAP request.
func (s *eapSession) clientRespond(sa *ikeSA, req *EAP) (*EAP, error) {
	d := sa.d
	id, data := req.Identifier(), req.typeData()
	switch req.Type() {
	case EAPTypeIdentity:
		d.action("EAP-Request/Identity: answer with our EAP identity %q", s.identity)
		return eapPacket(EAPResponse, id, EAPTypeIdentity, []byte(s.identity)), nil
	case EAPTypeNotification:
		d.action("EAP-Request/Notification: %q; acknowledge it", data)
		return eapPacket(EAPResponse, id, EAPTypeNotification, nil), nil
	}
	if req.Type() != s.typ {
		d.action("The server proposes EAP-%s, but we use EAP-%s: answer Nak naming ours", eapTypeName(req.Type()), eapTypeName(s.typ))
		return eapPacket(EAPResponse, id, EAPTypeNak, []byte{s.typ}), nil
	}
	if s.secret == nil {
		return nil, fmt.Errorf("no EAP secret for identity %q", s.identity)
	}
	switch s.typ {
	case EAPTypeMD5:
		if len(data) < 1 || int(data[0]) > len(data)-1 || data[0] == 0 {
			return nil, errors.New("malformed EAP-MD5 challenge")
		}
		challenge := data[1 : 1+int(data[0])]
		value := md5Response(id, s.secret, challenge)
		d.action("EAP-MD5 challenge: answer MD5(Identifier | password | challenge) = %x", value)
		return eapPacket(EAPResponse, id, EAPTypeMD5, append(append([]byte{byte(len(value))}, value...), s.identity...)), nil
	case EAPTypeMSCHAPv2:
		return s.clientMSCHAPv2(sa, id, data)
	}
	return nil, fmt.Errorf("unsupported EAP type %d", s.typ)
}

// md5Response is EAP-MD5's value: MD5(Identifier | secret | challenge).
//
// RFC 3748, Section 5.4; RFC 1994, Section 4.1
func md5Response(id uint8, secret, challenge []byte) []byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write(secret)
	h.Write(challenge)
	return h.Sum(nil)
}

// clientMSCHAPv2 answers an EAP-MSCHAPv2 request: a Challenge with the NT-Response,
// Success after checking the server's authenticator response, Failure with Failure.
func (s *eapSession) clientMSCHAPv2(sa *ikeSA, id uint8, data []byte) (*EAP, error) {
	d := sa.d
	if len(data) < 4 {
		return nil, errors.New("malformed EAP-MSCHAPv2 request")
	}
	op, msID := data[0], data[1]
	switch op {
	case msChapChallenge:
		if len(data) < 5 || data[4] != 16 || len(data) < 21 {
			return nil, errors.New("malformed EAP-MSCHAPv2 challenge")
		}
		s.challenge = append([]byte(nil), data[5:21]...)
		s.peerChallenge = make([]byte, 16)
		io.ReadFull(sa.d.env.Rand, s.peerChallenge)
		hash := NtPasswordHash(string(s.secret))
		s.ntResponse = GenerateNTResponse(s.challenge, s.peerChallenge, s.identity, string(s.secret))
		s.authResponse = GenerateAuthenticatorResponse(hash, s.ntResponse, s.peerChallenge, s.challenge, s.identity)
		d.action("EAP-MSCHAPv2 Challenge: pick a PeerChallenge; ChallengeHash = the first 8 bytes of SHA-1(PeerChallenge | AuthenticatorChallenge | %q); NT-Response = three DES encryptions of ChallengeHash under the MD4 hash of our password, split into three keys (RFC 2759, Section 8)",
			s.identity)
		value := append(append(append(append([]byte{49}, s.peerChallenge...), make([]byte, 8)...), s.ntResponse...), 0)
		return eapPacket(EAPResponse, id, EAPTypeMSCHAPv2, msChapPacket(msChapResponse, msID, append(value, s.identity...))), nil
	case msChapSuccess:
		msg := string(data[4:])
		got, _, _ := strings.Cut(msg, " ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.authResponse)) != 1 {
			return nil, fmt.Errorf("the server's MS-CHAPv2 authenticator response %q is wrong: it does not know our password", got)
		}
		s.msk = mschapv2MSK(NtPasswordHash(string(s.secret)), s.ntResponse)
		d.action("EAP-MSCHAPv2 Success: the server's authenticator response %s proves it knows our password; derive the MSK from MD4(MD4(password)) and the NT-Response: the master key, then the send and receive keys (RFC 3079, Section 3)",
			s.authResponse)
		return eapPacket(EAPResponse, id, EAPTypeMSCHAPv2, []byte{msChapSuccess}), nil
	case msChapFailure:
		s.failed = string(data[4:])
		d.action("EAP-MSCHAPv2 Failure %q: the server did not accept our NT-Response; acknowledge it", s.failed)
		return eapPacket(EAPResponse, id, EAPTypeMSCHAPv2, []byte{msChapFailure}), nil
	}
	return nil, fmt.Errorf("unexpected EAP-MSCHAPv2 op code %d", op)
}

// ---- the server (the IKE responder) ----

// eapServerRound handles the IKE_AUTH requests of an initiator that authenticates with
// EAP. It returns true when it answered the request; for the initiator's last one (its
// AUTH after EAP-Success) it returns the payloads of the first request with that AUTH,
// for respondAuth to finish.
func (sa *ikeSA) eapServerRound(id uint32, inner []Payload) ([]Payload, bool) {
	c := sa.conn
	typ, ok := eapMethodType(c.Remote.Method)
	if !ok {
		return inner, false
	}
	d := sa.d
	s := sa.ext.eap
	if s == nil {
		idi := idPayload(inner, false)
		if sa.state != stateConnecting || idi == nil {
			return inner, false
		}
		if payloadOf[*Auth](inner) != nil {
			sa.sendResponse(IKE_AUTH, id, []Payload{&Notify{Type: AUTHENTICATION_FAILED}})
			sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: the initiator sent an AUTH payload, but connection %s authenticates it with EAP-%s",
				c.Name, eapTypeName(typ))
			return nil, true
		}
		peer := fromID(idi)
		if len(c.Remote.ID.Value) > 0 && !peer.Equal(c.Remote.ID) {
			sa.sendResponse(IKE_AUTH, id, []Payload{&Notify{Type: AUTHENTICATION_FAILED}})
			sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: initiator identifies as %s, expected %s", peer, c.Remote.ID)
			return nil, true
		}
		d.action("The initiator %s sent no AUTH payload: it wants EAP. Authenticate ourselves with our certificate, then ask for its EAP identity", peer)
		ps, err := sa.responderAuth(inner)
		if err != nil {
			sa.sendResponse(IKE_AUTH, id, []Payload{&Notify{Type: AUTHENTICATION_FAILED}})
			sa.failWith(0, ike.FailInternal, "%v", err)
			return nil, true
		}
		s = &eapSession{typ: typ, server: true, first: inner, id: sa.eapIdentifier()}
		sa.ext.eap = s
		sa.sendResponse(IKE_AUTH, id, append(ps, eapPacket(EAPRequest, s.id, EAPTypeIdentity, nil)))
		return nil, true
	}
	if s.succeeded {
		auth := payloadOf[*Auth](inner)
		if auth == nil {
			return inner, false // respondAuth answers INVALID_SYNTAX
		}
		merged := append([]Payload{auth}, s.first...)
		return merged, false
	}
	e := payloadOf[*EAP](inner)
	if e == nil || e.Code() != EAPResponse || e.Identifier() != s.id {
		sa.sendResponse(IKE_AUTH, id, []Payload{&Notify{Type: INVALID_SYNTAX}})
		sa.failWith(0, ike.FailMalformed, "expected an EAP response with Identifier %d", s.id)
		return nil, true
	}
	next, why := s.serverHandle(sa, e)
	switch {
	case next != nil:
		sa.sendResponse(IKE_AUTH, id, []Payload{next})
	case why == "":
		s.succeeded = true
		d.action("EAP-%s succeeded for %q: send EAP-Success; the AUTH payloads that follow use %s as their key",
			eapTypeName(s.typ), s.identity, s.keyName(true))
		sa.sendResponse(IKE_AUTH, id, []Payload{eapPacket(EAPSuccess, s.id, 0, nil)})
	default:
		sa.sendResponse(IKE_AUTH, id, []Payload{eapPacket(EAPFailure, s.id, 0, nil), &Notify{Type: AUTHENTICATION_FAILED}})
		sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: EAP-%s: %s", eapTypeName(s.typ), why)
	}
	return nil, true
}

// eapIdentifier draws a fresh EAP Identifier.
func (sa *ikeSA) eapIdentifier() uint8 {
	var b [1]byte
	io.ReadFull(sa.d.env.Rand, b[:])
	return b[0]
}

// serverHandle reads one EAP response. It returns the next request, or nil and the
// empty string for success, or nil and why the client failed.
func (s *eapSession) serverHandle(sa *ikeSA, resp *EAP) (*EAP, string) {
	d := sa.d
	data := resp.typeData()
	request := func(typ uint8, data []byte) *EAP {
		s.id++
		return eapPacket(EAPRequest, s.id, typ, data)
	}
	switch resp.Type() {
	case EAPTypeIdentity:
		s.identity = string(data)
		secret, ok := sa.conn.Remote.EAPSecrets[s.identity]
		if !ok {
			return nil, fmt.Sprintf("no EAP secret for identity %q", s.identity)
		}
		s.secret = secret
		s.challenge = make([]byte, 16)
		io.ReadFull(d.env.Rand, s.challenge)
		name := []byte(sa.conn.Local.ID.String())
		if s.typ == EAPTypeMD5 {
			d.action("EAP identity %q: send an EAP-MD5 challenge of 16 random bytes", s.identity)
			return request(EAPTypeMD5, append(append([]byte{16}, s.challenge...), name...)), ""
		}
		d.action("EAP identity %q: send an EAP-MSCHAPv2 Challenge with a 16-byte AuthenticatorChallenge", s.identity)
		return request(EAPTypeMSCHAPv2, msChapPacket(msChapChallenge, s.id+1, append(append([]byte{16}, s.challenge...), name...))), ""
	case EAPTypeNak:
		return nil, fmt.Sprintf("the client refuses EAP-%s (Nak, it asks for %s)", eapTypeName(s.typ), nakTypes(data))
	case EAPTypeMD5:
		if s.typ != EAPTypeMD5 || len(data) < 17 || data[0] != 16 {
			return nil, "malformed EAP-MD5 response"
		}
		if subtle.ConstantTimeCompare(data[1:17], md5Response(s.id, s.secret, s.challenge)) != 1 {
			return nil, fmt.Sprintf("the MD5 response of %q does not match: wrong password", s.identity)
		}
		d.action("The EAP-MD5 response equals MD5(Identifier | password | challenge): %q knows the password", s.identity)
		return nil, ""
	case EAPTypeMSCHAPv2:
		if s.typ == EAPTypeMSCHAPv2 {
			return s.serverMSCHAPv2(sa, data, request)
		}
	}
	return nil, fmt.Sprintf("unexpected EAP-%s response", eapTypeName(resp.Type()))
}

func nakTypes(data []byte) string {
	var names []string
	for _, t := range data {
		names = append(names, "EAP-"+eapTypeName(t))
	}
	return strings.Join(names, ", ")
}

// serverMSCHAPv2 reads an EAP-MSCHAPv2 response: the NT-Response to check, or the
// client's acknowledgement of Success or Failure.
func (s *eapSession) serverMSCHAPv2(sa *ikeSA, data []byte, request func(uint8, []byte) *EAP) (*EAP, string) {
	d := sa.d
	if len(data) < 1 {
		return nil, "empty EAP-MSCHAPv2 response"
	}
	switch data[0] {
	case msChapResponse:
		// OpCode, MS-CHAPv2-ID, MS-Length, Value-Size (49), Peer-Challenge (16), Reserved
		// (8), NT-Response (24), Flags (1), Name.
		if len(data) < 4+1+49 || data[4] != 49 {
			return nil, "malformed EAP-MSCHAPv2 response"
		}
		s.peerChallenge = append([]byte(nil), data[5:21]...)
		s.ntResponse = append([]byte(nil), data[29:53]...)
		user := string(data[54:])
		if i := strings.LastIndexByte(user, '\\'); i >= 0 {
			user = user[i+1:] // RFC 2759 8.2: the user name without its domain
		}
		hash := NtPasswordHash(string(s.secret))
		want := ChallengeResponse(ChallengeHash(s.peerChallenge, s.challenge, user), hash)
		if subtle.ConstantTimeCompare(want, s.ntResponse) != 1 {
			d.action("The NT-Response of %q does not match the one computed from its password: send an MS-CHAPv2 Failure (E=691, no retry)", user)
			msg := fmt.Sprintf("E=691 R=0 C=%s V=3 M=Authentication failed", strings.ToUpper(hex.EncodeToString(s.challenge)))
			s.failed = "E=691: wrong password"
			return request(EAPTypeMSCHAPv2, msChapPacket(msChapFailure, s.id, []byte(msg))), ""
		}
		s.authResponse = GenerateAuthenticatorResponse(hash, s.ntResponse, s.peerChallenge, s.challenge, user)
		s.msk = mschapv2MSK(hash, s.ntResponse)
		d.action("The NT-Response of %q matches: send MS-CHAPv2 Success with the authenticator response %s, which proves we know the password too; derive the MSK from MD4(MD4(password)) and the NT-Response (RFC 3079, Section 3)",
			user, s.authResponse)
		return request(EAPTypeMSCHAPv2, msChapPacket(msChapSuccess, s.id, []byte(s.authResponse+" M=Welcome"))), ""
	case msChapSuccess:
		if s.msk == nil {
			return nil, "MS-CHAPv2 Success acknowledged before any success"
		}
		return nil, ""
	case msChapFailure:
		return nil, fmt.Sprintf("%q: %s", s.identity, s.failed)
	}
	return nil, fmt.Sprintf("unexpected EAP-MSCHAPv2 op code %d", data[0])
}

// eapSummary names an EAP message: "Request/Identity", "Response/MSCHAPv2", "Success".
func eapSummary(p *EAP) string {
	switch p.Code() {
	case EAPRequest, EAPResponse:
		kind := "Request"
		if p.Code() == EAPResponse {
			kind = "Response"
		}
		s := kind + "/" + eapTypeName(p.Type())
		if d := p.typeData(); p.Type() == EAPTypeMSCHAPv2 && len(d) > 0 {
			s += " " + msChapOpName(d[0])
		}
		return s
	case EAPSuccess:
		return "Success"
	case EAPFailure:
		return "Failure"
	}
	return fmt.Sprintf("code %d", p.Code())
}

func msChapOpName(op uint8) string {
	return nameOr(map[uint8]string{msChapChallenge: "Challenge", msChapResponse: "Response", msChapSuccess: "Success",
		msChapFailure: "Failure"}, op, "OP")
}

// dissectEAPData adds the fields of the Type-Data of the EAP methods ikesim speaks,
// which starts at offset o.
//
// RFC 3748, Sections 5.1 and 5.4; RFC 2759, Section 4
func dissectEAPData(td *ike.Field, p *EAP, o int) {
	data := p.typeData()
	switch p.Type() {
	case EAPTypeIdentity:
		td.Value = fmt.Sprintf("%q", data)
		if len(data) > 0 {
			add(td, "Identity", string(data), o, len(data), "The EAP identity of the client (its user name)")
		}
	case EAPTypeMD5:
		if len(data) < 1 || int(data[0])+1 > len(data) {
			return
		}
		n := int(data[0])
		add(td, "Value-Size", fmt.Sprint(n), o, 1, "Length of the value")
		explain := "MD5(Identifier | password | challenge): proves the client knows the password"
		if p.Code() == EAPRequest {
			explain = "The random challenge the client must hash with its password"
		}
		add(td, "Value", hexValue(data[1:1+n]), o+1, n, explain)
		if len(data) > 1+n {
			add(td, "Name", string(data[1+n:]), o+1+n, len(data)-1-n, "The sender's name")
		}
	case EAPTypeMSCHAPv2:
		dissectMSCHAPv2(td, p, data, o)
	}
}

func dissectMSCHAPv2(td *ike.Field, p *EAP, data []byte, o int) {
	if len(data) < 1 {
		return
	}
	op := data[0]
	add(td, "OpCode", fmt.Sprintf("%s (%d)", msChapOpName(op), op), o, 1, "1 Challenge, 2 Response, 3 Success, 4 Failure")
	td.Value = msChapOpName(op)
	if len(data) < 4 {
		return // a client's Success or Failure acknowledgement is the op code alone
	}
	add(td, "MS-CHAPv2-ID", fmt.Sprint(data[1]), o+1, 1, "Matches the response to the challenge")
	add(td, "MS-Length", fmt.Sprint(binary.BigEndian.Uint16(data[2:])), o+2, 2, "Length of the MS-CHAPv2 packet from the OpCode on")
	rest := data[4:]
	switch {
	case (op == msChapChallenge || op == msChapResponse) && len(rest) >= 1 && int(rest[0])+1 <= len(rest):
		n := int(rest[0])
		add(td, "Value-Size", fmt.Sprint(n), o+4, 1, "Length of the value")
		v := rest[1 : 1+n]
		if op == msChapChallenge {
			add(td, "Challenge", hexValue(v), o+5, n, "The 16-byte AuthenticatorChallenge")
		} else if n == 49 {
			add(td, "Peer-Challenge", hexValue(v[:16]), o+5, 16, "The client's own 16-byte challenge")
			add(td, "Reserved", hexValue(v[16:24]), o+21, 8, "Zero")
			add(td, "NT-Response", hexValue(v[24:48]), o+29, 24,
				"Three DES encryptions of the ChallengeHash (8 bytes of SHA-1 over both challenges and the user name) under the MD4 hash of the password: proves the client knows it (RFC 2759, Section 8)")
			add(td, "Flags", fmt.Sprint(v[48]), o+53, 1, "Zero")
		}
		if len(rest) > 1+n {
			add(td, "Name", string(rest[1+n:]), o+5+n, len(rest)-1-n, "The sender's name (the client's user name)")
		}
	case op == msChapSuccess || op == msChapFailure:
		explain := "S=<authenticator response>: proves the server knows the password too"
		if op == msChapFailure {
			explain = "E=error R=retry C=new challenge V=version M=message"
		}
		add(td, "Message", string(rest), o+4, len(rest), explain)
	}
}

package scenarios

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike"
)

// Certificates, keys, trust stores and EAP secrets of connections, in swanctl.conf's
// words: a side's certs, a node's cacerts, secrets of type eap and private. A
// certificate is named by the test PKI (ikesim's built-in CA and certificates, see
// docs/scenarios.md) or by a PEM or DER file beside the scenario file.

// authMethods are the values of auth: in local and remote.
var authMethods = []string{"psk", "pubkey", "rsa/pss", "eap-md5", "eap-mschapv2"}

// authMaterial fills in what the connection's methods need: certificates and the
// private key of the local side, the node's trust store, EAP secrets. p is the
// connection's path in the file.
func (v *validator) authMaterial(node string, spec *ConnSpec, c *ike.Connection, p string) {
	local, remote := c.Local.Method, c.Remote.Method
	eapLocal, eapRemote := strings.HasPrefix(string(local), "eap-"), strings.HasPrefix(string(remote), "eap-")
	if (eapLocal || eapRemote) && c.Version == 1 {
		side := ".local.auth"
		if eapRemote {
			side = ".remote.auth"
		}
		v.errorf(p+side, "EAP is IKEv2's (IKEv1 has XAUTH): set version: 2")
		return
	}
	if eapLocal && remote != "pubkey" {
		v.errorf(p+".remote", "an EAP client checks the gateway's certificate: set remote auth: pubkey")
	}
	if eapRemote && local != "pubkey" {
		v.errorf(p+".local", "an EAP server proves itself with its certificate: set local auth: pubkey and certs")
	}
	if len(spec.Local.Certs) > 0 && local != "pubkey" {
		v.errorf(p+".local.certs", "certs are for auth: pubkey")
	}
	if len(spec.Remote.Certs) > 0 {
		v.errorf(p+".remote.certs", "remote certs are not supported: the peer's certificate comes in its CERT payload and is checked against the node's cacerts")
	}
	if local == "pubkey" {
		if len(spec.Local.Certs) == 0 {
			v.errorf(p+".local", "auth: pubkey needs certs: [NAME] (e.g. certs: [%s]; see ikesim's test PKI in docs/scenarios.md)", node)
		}
		for i, name := range spec.Local.Certs {
			certs := v.certificates(name, fmt.Sprintf("%s.local.certs[%d]", p, i))
			c.Local.Certs = append(c.Local.Certs, certs...)
		}
		if len(c.Local.Certs) > 0 {
			c.Local.Key = v.privateKey(node, spec.Local.Certs[0], c.Local.Certs[0], p+".local.certs[0]")
		}
		if c.Version == 1 {
			v.ikev1Signatures(c, p)
		}
	}
	if n := v.nodes[node]; n != nil {
		if len(n.CACerts) == 0 && (remote == "pubkey" || eapLocal) {
			v.errorf(p+".remote", "node %q checks its peer's certificate but has no trust store: add cacerts: [ca] to it under topology.nodes", node)
		}
		for i, name := range n.CACerts {
			c.CACerts = append(c.CACerts, v.certificates(name, fmt.Sprintf("$.topology.nodes[%d].cacerts[%d]", v.nodeIndex(node), i))...)
		}
	}
	if spec.Local.EAPID != "" && !eapLocal {
		v.errorf(p+".local.eap_id", "eap_id is for an EAP client (auth: eap-mschapv2 or eap-md5)")
	}
	if eapLocal || eapRemote {
		secrets := v.eapSecrets(node)
		c.Local.EAPSecrets, c.Remote.EAPSecrets = secrets, secrets
		id := spec.Local.EAPID
		if id == "" {
			id = spec.Local.ID
		}
		if _, ok := secrets[id]; eapLocal && !ok && remote == "pubkey" {
			v.errorf(p+".local", "no secret of type eap names EAP identity %q for node %q", id, node)
		}
		if eapRemote && len(secrets) == 0 {
			v.errorf(p+".remote", "node %q authenticates EAP clients but no secret of type eap applies to it", node)
		}
	}
}

// nodeIndex is the index of a node in topology.nodes, for paths.
func (v *validator) nodeIndex(node string) int { return v.index[node] }

// isPKIName reports whether a certificate name is one of the test PKI, not a file.
func isPKIName(name string) bool { return !strings.ContainsAny(name, "/.") }

// pkiFile reads a file of the test PKI, or a file named relative to the scenario file.
func (v *validator) pkiFile(name string) ([]byte, string, error) {
	if isPKIName(name) {
		if b, ok := assets.PKIFile(name + ".pem"); ok {
			return b, "the test PKI's " + name, nil
		}
		return nil, "", fmt.Errorf("%q is not a certificate of the test PKI%s (or name a .pem file)", name,
			didYouMean(name, assets.PKICerts()))
	}
	path := name
	if !filepath.IsAbs(path) && v.dir != "" {
		path = filepath.Join(v.dir, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read %s: %v", name, err)
	}
	return b, name, nil
}

// certificates reads the certificates a name stands for.
func (v *validator) certificates(name, p string) []*x509.Certificate {
	b, _, err := v.pkiFile(name)
	if err != nil {
		v.errorf(p, "%v", err)
		return nil
	}
	certs, err := ike.ParseCertificates(b)
	if err != nil {
		v.errorf(p, "%s: %v", name, trimPkg(err))
		return nil
	}
	return certs
}

// privateKey finds the private key of cert: in the certificate's own file, in a secret
// of type private for the node, or for a certificate of the test PKI in the test PKI.
func (v *validator) privateKey(node, name string, cert *x509.Certificate, p string) crypto.Signer {
	var candidates []crypto.Signer
	if b, _, err := v.pkiFile(name); err == nil {
		if k, err := ike.ParsePrivateKey(b); err == nil {
			candidates = append(candidates, k)
		}
	}
	for i, s := range v.f.Secrets {
		if s.Type != "private" || (len(s.Nodes) > 0 && !slices.Contains(s.Nodes, node)) {
			continue
		}
		b, _, err := v.pkiFile(s.File)
		if err != nil {
			v.errorf(fmt.Sprintf("$.secrets[%d].file", i), "%v", err)
			continue
		}
		k, err := ike.ParsePrivateKey(b)
		if err != nil {
			v.errorf(fmt.Sprintf("$.secrets[%d].file", i), "%s: %v", s.File, trimPkg(err))
			continue
		}
		candidates = append(candidates, k)
	}
	if isPKIName(name) { // the broken certificates of the test PKI share gw-a's key
		for _, n := range assets.PKICerts() {
			if b, ok := assets.PKIFile(n + ".key"); ok {
				if k, err := ike.ParsePrivateKey(b); err == nil {
					candidates = append(candidates, k)
				}
			}
		}
	}
	for _, k := range candidates {
		if pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(cert.PublicKey) {
			return k
		}
	}
	v.errorf(p, "no private key for certificate %q: add a secret {type: private, file: KEY.pem, nodes: [%s]}", ike.Subject(cert), node)
	return nil
}

// eapSecrets are the EAP passwords that apply to a node, by identity: a secret that
// names the node wins over one for every node. Nodes that no secret names share one
// map, which the engines only read.
func (v *validator) eapSecrets(node string) map[string][]byte {
	if v.eapCommon == nil {
		v.eapCommon, v.eapNamed = map[string][]byte{}, map[string][]int{}
		for i, s := range v.f.Secrets {
			if s.Type != "eap" {
				continue
			}
			for _, n := range s.Nodes {
				v.eapNamed[n] = append(v.eapNamed[n], i)
			}
			for _, id := range s.IDs {
				if _, have := v.eapCommon[id]; !have && len(s.Nodes) == 0 {
					v.eapCommon[id] = []byte(s.Secret)
				}
			}
		}
	}
	named := v.eapNamed[node]
	if len(named) == 0 {
		return v.eapCommon
	}
	out := maps.Clone(v.eapCommon)
	specific := map[string]bool{}
	for _, i := range named {
		for _, id := range v.f.Secrets[i].IDs {
			if !specific[id] {
				out[id], specific[id] = []byte(v.f.Secrets[i].Secret), true
			}
		}
	}
	return out
}

// YesNo is swanctl's yes or no (true and false work too).
type YesNo bool

// UnmarshalYAML reads yes, no, true or false.
func (b *YesNo) UnmarshalYAML(data []byte) error {
	switch s := strings.ToLower(strings.Trim(strings.TrimSpace(string(data)), `"'`)); s {
	case "yes", "true":
		*b = true
	case "no", "false":
		*b = false
	default:
		return fmt.Errorf("%q is not yes or no", s)
	}
	return nil
}

// secretTypes are the types of the secrets section.
var secretTypes = []string{"ike", "eap", "private"}

// checkSecrets checks the secrets section: known types, and what each needs.
func (v *validator) checkSecrets() {
	for i, s := range v.f.Secrets {
		p := fmt.Sprintf("$.secrets[%d]", i)
		switch s.Type {
		case "", "ike", "eap":
			if s.File != "" {
				v.errorf(p+".file", "file is for secrets of type private")
			}
			if s.Type == "eap" && len(s.IDs) == 0 {
				v.errorf(p, "a secret of type eap names its users: ids: [carol]")
			}
		case "private":
			if s.File == "" {
				v.errorf(p, "a secret of type private names its key file: file: gw.key")
			}
			if len(s.IDs) > 0 || s.Secret != "" {
				v.errorf(p, "a secret of type private has a file, no ids or secret")
			}
		default:
			v.errorf(p+".type", "secret type %q is not one of %s%s", s.Type, strings.Join(secretTypes, ", "), didYouMean(s.Type, secretTypes))
		}
		for j, n := range s.Nodes {
			v.node(fmt.Sprintf("%s.nodes[%d]", p, j), n)
		}
	}
}

// ikev1Signatures checks what IKEv1 signs with: RSA PKCS#1 v1.5 on both sides.
func (v *validator) ikev1Signatures(c *ike.Connection, p string) {
	switch {
	case c.Local.RSAPSS:
		v.errorf(p+".local.auth", "IKEv1 signs with RSA PKCS#1 v1.5 only: auth: pubkey")
	case c.Remote.Method != ike.AuthPubkey:
		v.errorf(p+".remote", "IKEv1 authenticates both sides the same way: set remote auth: pubkey too")
	case c.Local.Key != nil:
		if _, ok := c.Local.Key.(*rsa.PrivateKey); !ok {
			v.errorf(p+".local.certs[0]", "IKEv1 signs with RSA only; this certificate has an %s key", ike.KeyName(c.Local.Key.Public()))
		}
	}
}

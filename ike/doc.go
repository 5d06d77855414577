// Package ike holds the machinery shared by the IKEv1 and IKEv2 engines and by ESP:
// the transform registry (ciphers, PRFs, integrity algorithms, Diffie-Hellman groups),
// strongSwan-style proposal strings, prf+ and the dissection type every decoder fills in.
//
// It sits on the lowest floor of ikesim: it imports only the standard library and
// golang.org/x/crypto. It must never import sim, ipsec, render or any UI package.
package ike

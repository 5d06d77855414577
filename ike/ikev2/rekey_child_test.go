package ikev2

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// The situations of testdata/rekey-situations.md, test_child_rekey.c: each test names
// the situation it reproduces. Multiple key exchanges (RFC 9370) are out of scope
// (ikesim has no IKE_FOLLOWUP_KE), so the *_multi_ke and *_mixed situations are not
// reproduced.

func bothRoles(t *testing.T, f func(t *testing.T, role int)) {
	for role := 0; role < 2; role++ {
		t.Run(fmt.Sprintf("_i=%d", role), func(t *testing.T) { f(t, role) })
	}
}

// test_regular: A rekeys; B answers, keeps sending on old until D(old); one SA each.
func TestChildRekeyRegular(t *testing.T) {
	bothRoles(t, func(t *testing.T, role int) {
		b := newRekeyBench(t, role, 1)
		old := b.child(1)
		b.rekeyChild(0)
		b.run(15 * time.Millisecond) // the request is in, the response on its way
		if old.state != "REKEYED" {
			t.Fatalf("B's old SA is %s after the request, want REKEYED", old.state)
		}
		if up := b.r[1].childUp[len(b.r[1].childUp)-1]; !up.KeepOldOutbound || up.Rekeyed != old.spiIn {
			t.Errorf("B's new SA must wait for D(old) before it is sent on (OUT-REGISTERED): %+v", up)
		}
		b.run(5 * time.Second)
		b.paired(1)
		b.noFailures()
		b.idle()
		if b.child(0).spiIn == old.spiOut {
			t.Error("the old SA survived")
		}
		if n := b.sent(0, INFORMATIONAL, false, 0); n != 1 {
			t.Errorf("A sent %d INFORMATIONAL requests, want one D(old)", n)
		}
	})
}

// test_regular_ke_invalid: ikesim differs. strongSwan retries a Child SA rekey with the
// group that INVALID_KE_PAYLOAD names; ikesim's CREATE_CHILD_SA does not retry: the
// rekey fails and the old SA stays INSTALLED (it is rekeyed again at its next rekey
// time, and lives until its hard lifetime).
func TestChildRekeyInvalidKEDiffers(t *testing.T) {
	b := newRekeyBench(t, 0, 1)
	b.sa(0).conn.Children[0].ESPProposals = []ike.Proposal{mustProposal(t, "aes128gcm16-ecp256", ike.ProtoESP)}
	b.sa(1).conn.Children[0].ESPProposals = []ike.Proposal{mustProposal(t, "aes128gcm16-modp2048", ike.ProtoESP)}
	b.rekeyChild(0)
	b.run(5 * time.Second)
	if n := b.sent(1, CREATE_CHILD_SA, true, INVALID_KE_PAYLOAD); n != 1 {
		t.Fatalf("B sent %d INVALID_KE_PAYLOAD, want 1", n)
	}
	b.paired(1)
	b.idle()
}

// test_regular_responder_ignore_soft_expire: B's old SA, already rekeyed by A, reaches
// its soft lifetime before D(old): B does not rekey it.
func TestChildRekeyResponderIgnoresSoftExpire(t *testing.T) {
	b := newRekeyBench(t, 0, 1)
	old := b.child(1)
	hold := b.holdBack(0, INFORMATIONAL, false, 1) // D(old)
	b.rekeyChild(0)
	b.run(time.Second)
	if old.state != "REKEYED" {
		t.Fatalf("B's old SA is %s, want REKEYED", old.state)
	}
	sent := len(b.w.sent)
	old.softExpire("Rekey time")
	b.run(time.Second)
	if len(b.w.sent) != sent || old.state != "REKEYED" {
		t.Fatalf("B acted on the soft expiry of a rekeyed SA: %d messages, state %s", len(b.w.sent)-sent, old.state)
	}
	b.release(hold)
	b.run(5 * time.Second)
	b.paired(1)
	b.idle()
}

// test_regular_responder_handle_hard_expire: B's old SA reaches its hard lifetime
// before D(old): it goes at once with no Delete of B's own; B sends on the new SA; A's
// D(old) gets an empty answer.
func TestChildRekeyResponderHardExpire(t *testing.T) {
	b := newRekeyBench(t, 0, 1)
	old := b.child(1)
	hold := b.holdBack(0, INFORMATIONAL, false, 1) // D(old)
	b.rekeyChild(0)
	b.run(time.Second)
	downs := len(b.r[1].childDown)
	old.hardExpire()
	if old.state != "DESTROYED" || len(b.r[1].childDown) != downs+1 {
		t.Fatalf("B's rekeyed SA is %s after its hard lifetime, want DESTROYED", old.state)
	}
	b.release(hold)
	b.run(5 * time.Second)
	if n := b.sent(1, INFORMATIONAL, false, 0); n != 0 {
		t.Errorf("B sent %d INFORMATIONAL requests, want none", n)
	}
	b.paired(1)
	b.idle()
}

// test_regular_responder_delete: B deletes the new SA before D(old) arrives: zero SAs
// on both sides in the end.
func TestChildRekeyResponderDeletesNew(t *testing.T) {
	b := newRekeyBench(t, 0, 1)
	hold := b.holdBack(0, INFORMATIONAL, false, 1) // D(old)
	b.rekeyChild(0)
	b.run(time.Second)
	b.deleteChild(1) // the only INSTALLED one on B is the new SA
	b.release(hold)
	b.run(5 * time.Second)
	b.paired(0)
	b.noFailures()
	b.idle()
}

// test_regular_responder_lost_sa: B lost the SA silently: CHILD_SA_NOT_FOUND; A removes
// it and creates a new one with a plain CREATE_CHILD_SA.
func TestChildRekeyResponderLostSA(t *testing.T) {
	b := newRekeyBench(t, 0, 1)
	lost := b.child(1)
	b.sa(1).removeChild(lost, "lost")
	old := b.child(0)
	b.rekeyChild(0)
	b.run(5 * time.Second)
	if n := b.sent(1, CREATE_CHILD_SA, true, CHILD_SA_NOT_FOUND); n != 1 {
		t.Fatalf("B sent %d CHILD_SA_NOT_FOUND, want 1", n)
	}
	if old.state != "DESTROYED" {
		t.Errorf("A kept the SA the peer lost: %s", old.state)
	}
	if n := b.sent(0, CREATE_CHILD_SA, false, REKEY_SA); n != 1 {
		t.Errorf("A sent %d rekeys, want 1 (the re-creation carries no REKEY_SA)", n)
	}
	b.paired(1)
	b.idle()
}

// test_regular_responder_incorrect_delete: B answers the rekey but also deletes old,
// and its response is late: A answers D(old) and keeps old until the response, which
// completes the rekey with no D(old) of A's own.
func TestChildRekeyResponderIncorrectDelete(t *testing.T) {
	b := newRekeyBench(t, 0, 1)
	oldB := b.child(1)
	resp := b.holdBack(1, CREATE_CHILD_SA, true, 1)
	b.rekeyChild(0)
	b.run(15 * time.Millisecond)
	b.sa(1).deleteChildren([]*childSA{oldB}) // non-compliant
	b.run(100 * time.Millisecond)
	oldA := b.sa(0).children[0]
	if oldA.state != "DELETING" || !oldA.peerDeleted {
		t.Fatalf("A's old SA is %s after the peer's Delete, want kept as DELETING until the rekey's response", oldA.state)
	}
	b.release(resp)
	b.run(5 * time.Second)
	if n := b.sent(0, INFORMATIONAL, false, 0); n != 0 {
		t.Errorf("A sent %d INFORMATIONAL requests, want none: the peer's Delete already took old", n)
	}
	b.paired(1)
	b.idle()
}

// childCollision has both peers rekey the Child SA at once, B's response to A held back
// by resp when given, and returns the old SAs once both requests are answered, and
// whether A loses (the lowest nonce is in A's new SA).
func (b *rekeyBench) childCollision(resp **hold) (oldA, oldB *childSA, aLoses bool) {
	b.t.Helper()
	oldA, oldB = b.child(0), b.child(1)
	if resp != nil {
		*resp = b.holdBack(1, CREATE_CHILD_SA, true, 1)
	}
	b.rekeyChild(0)
	b.rekeyChild(1)
	b.run(15 * time.Millisecond)
	if oldA.passive == nil || oldB.passive == nil {
		b.t.Fatalf("the crossing requests were not both answered: A %s, B %s", oldA.state, oldB.state)
	}
	return oldA, oldB, lowestIn(oldB.passive.ni, oldB.passive.nr, oldA.passive.ni, oldA.passive.nr)
}

// collisionVariant is which of the four nonces of a rekey collision is the lowest:
// 1 for N1 (A's Ni), 2 for N2 (B's Ni), 3 for N3 (B's Nr to A), 4 for N4 (A's Nr to B).
func collisionVariant(n1, n2, n3, n4 []byte) int {
	ns := [][]byte{n1, n2, n3, n4}
	low := 0
	for i := range ns {
		if bytes.Compare(ns[i], ns[low]) < 0 {
			low = i
		}
	}
	return low + 1
}

// test_collision [4 variants]: A and B rekey the same SA at once. The new SA with the
// lowest nonce is redundant: its maker deletes it and the winner deletes old. Only the
// seeds decide the nonces, so the test runs seeds until each variant has come up.
func TestChildRekeyCollision(t *testing.T) {
	bothRoles(t, func(t *testing.T, role int) {
		seen := map[int]bool{}
		for seed := byte(1); seed < 60 && len(seen) < 4; seed++ {
			b := newRekeyBench(t, role, seed)
			oldA, oldB, _ := b.childCollision(nil) // both requests answered, responses on their way
			pA, pB := oldA.passive, oldB.passive
			if oldA.state != "REKEYING" || oldB.state != "REKEYING" {
				t.Fatalf("seed %d: after the crossing requests A's old SA is %s, B's %s", seed, oldA.state, oldB.state)
			}
			v := collisionVariant(pB.ni, pA.ni, pB.nr, pA.nr)
			seen[v] = true
			b.run(5 * time.Second)
			b.paired(1)
			b.noFailures()
			b.idle()
			aLoses := v == 1 || v == 3
			survivor, loser := pA, 0 // B-new survives: the SA A made by answering B
			if !aLoses {
				survivor, loser = pB, 1
			}
			if aLoses && b.child(0) != survivor || !aLoses && b.child(1) != survivor {
				t.Fatalf("seed %d, N%d lowest: the wrong SA survived", seed, v)
			}
			noOut := [2]int{}
			for i := range b.r {
				for _, up := range b.r[i].childUp {
					if up.NoOutbound {
						noOut[i]++
					}
				}
			}
			if noOut[loser] != 1 || noOut[1-loser] != 0 {
				t.Errorf("seed %d: SAs installed without outbound: A %d, B %d; only the loser's own new SA is", seed, noOut[0], noOut[1])
			}
			if a, bb := b.sent(0, INFORMATIONAL, false, 0), b.sent(1, INFORMATIONAL, false, 0); a != 1 || bb != 1 {
				t.Errorf("seed %d: Delete requests A %d, B %d, want one each", seed, a, bb)
			}
		}
		if len(seen) != 4 {
			t.Errorf("nonce variants seen: %v, want all four", seen)
		}
	})
}

// test_collision_delayed_response [4 variants]: as test_collision, but B's response to
// A comes only after B's Delete (of old if B won, of B-new if B lost).
func TestChildRekeyCollisionDelayedResponse(t *testing.T) {
	seen := map[bool]bool{}
	for seed := byte(1); seed < 40 && len(seen) < 2; seed++ {
		b := newRekeyBench(t, 0, seed)
		var resp *hold
		oldA, oldB, aLoses := b.childCollision(&resp)
		pA, pB := oldA.passive, oldB.passive
		seen[aLoses] = true
		b.run(time.Second) // B's Delete is done
		if aLoses && oldA.state != "DESTROYED" {
			t.Fatalf("seed %d: B won, and its D(old) left A's old SA %s", seed, oldA.state)
		}
		b.release(resp)
		b.run(5 * time.Second)
		b.paired(1)
		b.idle()
		if aLoses && b.child(0) != pA || !aLoses && b.child(1) != pB {
			t.Fatalf("seed %d: the wrong SA survived", seed)
		}
	}
	if len(seen) != 2 {
		t.Errorf("winners seen %v, want both", seen)
	}
}

// test_collision_delayed_request: A's request reaches B only after B completed its own
// rekey and sent D(old): TEMPORARY_FAILURE, no retry; D(old) moves A to B-new.
// test_collision_delayed_request_more: A's request comes after the whole D(old)
// exchange: CHILD_SA_NOT_FOUND, and A, which adopted B-new, drops its rekey.
func TestChildRekeyCollisionDelayedRequest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration // how long after B's rekey A's request reaches B
		want  NotifyType
	}{{"delayed_request", 25 * time.Millisecond, TEMPORARY_FAILURE}, {"delayed_request_more", time.Second, CHILD_SA_NOT_FOUND}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newRekeyBench(t, 0, 3)
			req := b.holdBack(0, CREATE_CHILD_SA, false, 1)
			b.rekeyChild(1)
			b.rekeyChild(0)
			b.run(tc.after)
			b.release(req)
			b.run(time.Minute)
			if n := b.sent(1, CREATE_CHILD_SA, true, tc.want); n != 1 {
				t.Fatalf("B answered %s %d times, want once", tc.want, n)
			}
			if n := b.sent(0, CREATE_CHILD_SA, false, 0); n != 1 {
				t.Errorf("A sent %d CREATE_CHILD_SA requests, want 1 (no retry)", n)
			}
			b.paired(1)
			b.noFailures()
			b.idle()
		})
	}
}

// test_collision_delete [_i]: A rekeys while B deletes: B answers TEMPORARY_FAILURE;
// A answers the Delete and keeps the SA until then; no retry; zero SAs.
// test_collision_delete_drop_delete: B's Delete comes after the TEMPORARY_FAILURE: A
// schedules a retry, the Delete removes the SA, and the retry finds nothing.
// test_collision_delete_drop_rekey: A's rekey comes after B's delete finished:
// CHILD_SA_NOT_FOUND, and A removes the SA without re-creating it.
func TestChildRekeyCollisionDelete(t *testing.T) {
	for _, tc := range []struct {
		name string
		hold func(b *rekeyBench) *hold
		want NotifyType
	}{
		{"collision_delete", nil, TEMPORARY_FAILURE},
		{"collision_delete_drop_delete", func(b *rekeyBench) *hold { return b.holdBack(1, INFORMATIONAL, false, 1) }, TEMPORARY_FAILURE},
		{"collision_delete_drop_rekey", func(b *rekeyBench) *hold { return b.holdBack(0, CREATE_CHILD_SA, false, 1) }, CHILD_SA_NOT_FOUND},
	} {
		bothRoles(t, func(t *testing.T, role int) {
			t.Run(tc.name, func(t *testing.T) {
				b := newRekeyBench(t, role, 1)
				var h *hold
				if tc.hold != nil {
					h = tc.hold(b)
				}
				b.rekeyChild(0)
				b.deleteChild(1)
				b.run(time.Second)
				if h != nil {
					b.release(h)
				}
				b.run(time.Minute)
				if n := b.sent(1, CREATE_CHILD_SA, true, tc.want); n != 1 {
					t.Fatalf("B answered %s %d times, want once", tc.want, n)
				}
				if n := b.sent(0, CREATE_CHILD_SA, false, 0); n != 1 {
					t.Errorf("A sent %d CREATE_CHILD_SA requests, want 1 (no re-creation)", n)
				}
				b.paired(0)
				b.idle()
			})
		})
	}
}

// test_collision_ike_rekey [_i]: A rekeys a Child SA while B rekeys the IKE SA: each
// answers TEMPORARY_FAILURE; both go back and retry later, and the retries succeed.
func TestChildRekeyCollisionIKERekey(t *testing.T) {
	bothRoles(t, func(t *testing.T, role int) {
		b := newRekeyBench(t, role, 1)
		oldIKE := b.sa(0)
		b.rekeyChild(0)
		b.rekeyIKE(1)
		b.run(100 * time.Millisecond)
		if a, bb := b.sent(0, CREATE_CHILD_SA, true, TEMPORARY_FAILURE), b.sent(1, CREATE_CHILD_SA, true, TEMPORARY_FAILURE); a != 1 || bb != 1 {
			t.Fatalf("TEMPORARY_FAILURE answers: A %d, B %d, want one each", a, bb)
		}
		if b.child(0).state != "INSTALLED" || b.sa(1).state != stateEstablished {
			t.Fatalf("after TEMPORARY_FAILURE: A's Child SA %s, B's IKE SA %s", b.child(0).state, b.sa(1).state)
		}
		b.run(time.Minute) // the retries
		b.paired(1)
		b.idle()
		if b.sa(0) == oldIKE {
			t.Error("the IKE SA rekey was never retried")
		}
	})
}

// test_collision_ike_delete [_i]: A rekeys a Child SA while B deletes the IKE SA: B
// answers TEMPORARY_FAILURE, A answers the Delete and is gone.
func TestChildRekeyCollisionIKEDelete(t *testing.T) {
	bothRoles(t, func(t *testing.T, role int) {
		b := newRekeyBench(t, role, 1)
		b.rekeyChild(0)
		b.deleteIKE(1)
		b.run(time.Minute)
		if n := b.sent(1, CREATE_CHILD_SA, true, TEMPORARY_FAILURE); n != 1 {
			t.Fatalf("B answered TEMPORARY_FAILURE %d times, want once", n)
		}
		b.noIKE()
	})
}

// test_collision_delayed_response_delete [4 variants]: as test_collision_delayed_response,
// and B deletes the surviving new SA before A's delayed response comes. In the end
// neither peer has a Child SA.
func TestChildRekeyCollisionDelayedResponseDelete(t *testing.T) {
	seen := map[bool]bool{}
	for seed := byte(1); seed < 40 && len(seen) < 2; seed++ {
		b := newRekeyBench(t, 0, seed)
		var resp *hold
		_, _, aLoses := b.childCollision(&resp)
		seen[aLoses] = true
		b.run(time.Second) // B's first Delete exchange is done
		b.deleteChild(1)   // the one INSTALLED on B: the survivor
		b.run(time.Second)
		b.release(resp)
		b.run(time.Minute)
		b.paired(0)
		b.idle()
	}
	if len(seen) != 2 {
		t.Errorf("winners seen %v, want both", seen)
	}
}

// test_collision_delayed_request_more_delete [3 variants]: A's request is delayed until
// B has completed its rekey and deleted the new SA too: CHILD_SA_NOT_FOUND, no
// re-creation, zero SAs. (strongSwan keeps the new SA as DELETING on A until that
// answer; ikesim removes it on B's Delete: the outcome is the same.)
func TestChildRekeyCollisionDelayedRequestMoreDelete(t *testing.T) {
	b := newRekeyBench(t, 0, 3)
	req := b.holdBack(0, CREATE_CHILD_SA, false, 1)
	b.rekeyChild(1)
	b.rekeyChild(0)
	b.run(500 * time.Millisecond)
	b.deleteChild(1)
	b.run(500 * time.Millisecond) // before A retransmits its request
	b.release(req)
	b.run(time.Minute)
	if n := b.sent(1, CREATE_CHILD_SA, true, CHILD_SA_NOT_FOUND); n != 1 {
		t.Fatalf("B answered CHILD_SA_NOT_FOUND %d times, want once", n)
	}
	if n := b.sent(0, CREATE_CHILD_SA, false, 0); n != 1 {
		t.Errorf("A sent %d CREATE_CHILD_SA requests, want 1: no re-creation", n)
	}
	b.paired(0)
	b.idle()
}

// test_collision_responder_incorrect_delete: B loses the collision, its response to A is
// late, and besides D(B-new) it also (wrongly) deletes old: A completes its own rekey
// when the response comes, with no Delete of old of its own; one SA each, A's.
func TestChildRekeyCollisionResponderIncorrectDelete(t *testing.T) {
	for seed := byte(1); seed < 40; seed++ {
		b := newRekeyBench(t, 0, seed)
		var resp *hold
		_, oldB, aLoses := b.childCollision(&resp)
		if aLoses {
			continue // A loses with this seed; the situation needs B to lose
		}
		winner := oldB.passive // A-new, as B knows it
		b.run(time.Second)     // B lost and deleted B-new
		b.sa(1).deleteChildren([]*childSA{oldB})
		b.run(time.Second)
		b.release(resp)
		b.run(time.Minute)
		b.paired(1)
		b.idle()
		if b.child(1) != winner {
			t.Fatal("A's new SA did not survive")
		}
		if n := b.sent(0, INFORMATIONAL, false, 0); n != 0 {
			t.Errorf("A sent %d Delete requests, want none: B deleted old and its own SA itself", n)
		}
		return
	}
	t.Fatal("no seed in which B loses")
}

// test_collision_delete_delayed_response: B answers A's rekey, but the response is late,
// and B deletes the new SA meanwhile: A answers that Delete empty (it does not know the
// SPI yet), then on the response removes the new SA and deletes old. Zero SAs.
func TestChildRekeyCollisionDeleteDelayedResponse(t *testing.T) {
	bothRoles(t, func(t *testing.T, role int) {
		b := newRekeyBench(t, role, 1)
		resp := b.holdBack(1, CREATE_CHILD_SA, true, 1)
		b.rekeyChild(0)
		b.run(time.Second)
		b.deleteChild(1) // the new SA, the one INSTALLED on B
		b.run(time.Second)
		b.release(resp)
		b.run(time.Minute)
		b.paired(0)
		b.idle()
		if n := b.sent(0, INFORMATIONAL, false, 0); n != 1 {
			t.Errorf("A sent %d Delete requests, want one, of old", n)
		}
	})
}

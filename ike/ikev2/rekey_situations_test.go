package ikev2

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// multiKE, transcript and childPFS are why the situations that need an extension
// ikesim lacks are not reproduced.
const (
	multiKE    = "differs: multiple key exchanges (RFC 9370, IKE_FOLLOWUP_KE) are not part of ikesim"
	transcript = "differs: IKE_SA_INIT full transcript authentication is a newer strongSwan extension, optional here and not part of ikesim"
	childPFS   = "differs: ikesim does not negotiate a KE method for the IKE_AUTH Child SA (CHILD_SA_PFS_INFO_SUPPORTED)"
	midSync    = "differs: ikesim does not announce RFC 6311 message ID sync, so a peer must not send it; TestMessageIDSyncIgnored shows the test_disabled outcome"
	keInvalid  = "differs: ikesim does not retry a CREATE_CHILD_SA with the group INVALID_KE_PAYLOAD names; TestChildRekeyInvalidKEDiffers and TestIKERekeyInvalidKEDiffers show what it does"
	childless  = "differs: ikesim has no setting that requires childless IKE SAs (strongSwan's childless = force on the responder, or = never)"
)

// situations maps each situation of testdata/rekey-situations.md ("file.c name") to
// the test that reproduces it, or to the reason ikesim differs ("differs: ...").
var situations = map[string]string{
	"test_child_rekey.c test_regular":                               "TestChildRekeyRegular",
	"test_child_rekey.c test_regular_multi_ke":                      multiKE,
	"test_child_rekey.c test_regular_ke_invalid":                    keInvalid,
	"test_child_rekey.c test_regular_ke_invalid_multi_ke":           multiKE,
	"test_child_rekey.c test_regular_responder_ignore_soft_expire":  "TestChildRekeyResponderIgnoresSoftExpire",
	"test_child_rekey.c test_regular_responder_handle_hard_expire":  "TestChildRekeyResponderHardExpire",
	"test_child_rekey.c test_regular_responder_delete":              "TestChildRekeyResponderDeletesNew",
	"test_child_rekey.c test_regular_responder_lost_sa":             "TestChildRekeyResponderLostSA",
	"test_child_rekey.c test_regular_responder_incorrect_delete":    "TestChildRekeyResponderIncorrectDelete",
	"test_child_rekey.c test_collision":                             "TestChildRekeyCollision",
	"test_child_rekey.c test_collision_multi_ke":                    multiKE,
	"test_child_rekey.c test_collision_mixed":                       multiKE,
	"test_child_rekey.c test_collision_delayed_response":            "TestChildRekeyCollisionDelayedResponse",
	"test_child_rekey.c test_collision_delayed_response_delete":     "TestChildRekeyCollisionDelayedResponseDelete",
	"test_child_rekey.c test_collision_delayed_response_multi_ke":   multiKE,
	"test_child_rekey.c test_collision_delayed_request":             "TestChildRekeyCollisionDelayedRequest",
	"test_child_rekey.c test_collision_delayed_request_more":        "TestChildRekeyCollisionDelayedRequest",
	"test_child_rekey.c test_collision_delayed_request_more_delete": "TestChildRekeyCollisionDelayedRequestMoreDelete",
	"test_child_rekey.c test_collision_delayed_request_multi_ke":    multiKE,
	"test_child_rekey.c test_collision_ke_invalid":                  keInvalid,
	"test_child_rekey.c test_collision_ke_invalid_delayed_retry":    keInvalid,
	"test_child_rekey.c test_collision_responder_incorrect_delete":  "TestChildRekeyCollisionResponderIncorrectDelete",
	"test_child_rekey.c test_collision_delete":                      "TestChildRekeyCollisionDelete",
	"test_child_rekey.c test_collision_delete_multi_ke":             multiKE,
	"test_child_rekey.c test_collision_delete_drop_delete":          "TestChildRekeyCollisionDelete",
	"test_child_rekey.c test_collision_delete_drop_rekey":           "TestChildRekeyCollisionDelete",
	"test_child_rekey.c test_collision_delete_delayed_response":     "TestChildRekeyCollisionDeleteDelayedResponse",
	"test_child_rekey.c test_collision_ike_rekey":                   "TestChildRekeyCollisionIKERekey",
	"test_child_rekey.c test_collision_ike_delete":                  "TestChildRekeyCollisionIKEDelete",
	"test_ike_rekey.c test_regular":                                 "TestIKERekeyRegular",
	"test_ike_rekey.c test_regular_multi_ke":                        multiKE,
	"test_ike_rekey.c test_regular_ke_invalid":                      keInvalid,
	"test_ike_rekey.c test_regular_ke_invalid_multi_ke":             multiKE,
	"test_ike_rekey.c test_collision":                               "TestIKERekeyCollision",
	"test_ike_rekey.c test_collision_multi_ke":                      multiKE,
	"test_ike_rekey.c test_collision_mixed":                         multiKE,
	"test_ike_rekey.c test_collision_ke_invalid":                    keInvalid,
	"test_ike_rekey.c test_collision_ke_invalid_delayed_retry":      keInvalid,
	"test_ike_rekey.c test_collision_delayed_response":              "TestIKERekeyCollisionDelayedResponse",
	"test_ike_rekey.c test_collision_delayed_response_multi_ke":     multiKE,
	"test_ike_rekey.c test_collision_dropped_request":               "TestIKERekeyCollisionLateRequest",
	"test_ike_rekey.c test_collision_delayed_request":               "TestIKERekeyCollisionLateRequest",
	"test_ike_rekey.c test_collision_delayed_request_and_delete":    "TestIKERekeyCollisionLateRequest",
	"test_ike_rekey.c test_collision_delayed_request_multi_ke":      multiKE,
	"test_ike_rekey.c test_collision_delete":                        "TestIKERekeyCollisionDelete",
	"test_ike_rekey.c test_collision_delete_multi_ke":               multiKE,
	"test_ike_rekey.c test_collision_delete_drop_delete":            "TestIKERekeyCollisionDelete",
	"test_child_delete.c test_regular":                              "TestChildDelete",
	"test_child_delete.c test_collision":                            "TestChildDelete",
	"test_child_delete.c test_collision_drop":                       "TestChildDelete",
	"test_child_delete.c test_collision_ike_rekey":                  "TestChildTaskAgainstIKERekey",
	"test_child_delete.c test_collision_ike_delete":                 "TestIKEDelete",
	"test_ike_delete.c test_regular":                                "TestIKEDelete",
	"test_ike_delete.c test_collision":                              "TestIKEDelete",
	"test_child_create.c test_ike_auth_ke_enabled":                  childPFS,
	"test_child_create.c test_ike_auth_ke_disabled":                 childPFS,
	"test_child_create.c test_duplicate":                            "TestChildCreateDuplicate",
	"test_child_create.c test_collision_ike_rekey":                  "TestChildTaskAgainstIKERekey",
	"test_child_create.c test_multi_ke":                             multiKE,
	"test_ike_mid_sync.c test_responder":                            midSync,
	"test_ike_mid_sync.c test_retransmit":                           midSync,
	"test_ike_mid_sync.c test_replay":                               midSync,
	"test_ike_mid_sync.c test_disabled":                             "TestMessageIDSyncIgnored",
	"test_ike_mid_sync.c test_sender_too_low":                       midSync,
	"test_ike_mid_sync.c test_recv_update":                          midSync,
	"test_ike_mid_sync.c test_active":                               midSync,
	"test_childless.c test_regular":                                 "TestChildless",
	"test_childless.c test_regular_manual":                          "TestChildless",
	"test_childless.c test_failure_init":                            childless,
	"test_childless.c test_failure_resp":                            childless,
	"test_downgrade_prevention.c test_both_support":                 transcript,
	"test_downgrade_prevention.c test_establish_sa":                 transcript,
	"test_downgrade_prevention.c test_initiator_no_support":         transcript,
	"test_downgrade_prevention.c test_responder_no_support":         transcript,
	"test_downgrade_prevention.c test_neither_support":              transcript,
	"test_downgrade_prevention.c test_with_ike_intermediate":        transcript,
	"test_downgrade_prevention.c test_rekey_inherits_extension":     transcript,
	"test_downgrade_prevention.c test_strip_initiator_notify":       transcript,
	"test_downgrade_prevention.c test_strip_responder_notify":       transcript,
}

// Every situation of testdata/rekey-situations.md (a copy of the list of strongSwan's
// exchange tests, with the outcomes strongSwan expects) has a test here, or a stated
// reason why ikesim differs; every test named exists.
func TestEverySituationHasATest(t *testing.T) {
	doc, err := os.ReadFile("testdata/rekey-situations.md")
	if err != nil {
		t.Fatal(err)
	}
	file := ""
	heading := regexp.MustCompile(`^## (test_[a-z_]+\.c)`)
	item := regexp.MustCompile(`^\* \*\*(test_[a-z0-9_]+)`)
	listed := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			file = m[1]
		}
		if m := item.FindStringSubmatch(line); m != nil && file != "" {
			key := file + " " + m[1]
			listed[key] = true
			if situations[key] == "" {
				t.Errorf("%s has no test and no reason to differ", key)
			}
		}
	}
	if len(listed) < 70 {
		t.Fatalf("only %d situations read from the list", len(listed))
	}
	var src strings.Builder
	files, _ := filepath.Glob("*_test.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	for key, test := range situations {
		if !listed[key] {
			t.Errorf("%s is not in the list", key)
		}
		if !strings.HasPrefix(test, "differs: ") && !strings.Contains(src.String(), "\nfunc "+test+"(t *testing.T)") {
			t.Errorf("%s: no test %s", key, test)
		}
	}
}

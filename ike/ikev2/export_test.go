package ikev2

// Test helpers of this package that its external tests (package ikev2_test) share.
var MustProposal = mustProposal

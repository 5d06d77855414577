package ikev1

// State is the state of an ISAKMP SA or a quick mode, named as Cisco IOS names them
// (debug crypto isakmp), or of an IPsec SA, named as strongSwan names a CHILD_SA's.
type State string

// The states of ISAKMP SAs, XAUTH and Mode Config, and quick modes.
const (
	IKE_READY                State = "IKE_READY"
	IKE_I_MM1                State = "IKE_I_MM1"
	IKE_I_MM2                State = "IKE_I_MM2"
	IKE_I_MM3                State = "IKE_I_MM3"
	IKE_I_MM4                State = "IKE_I_MM4"
	IKE_I_MM5                State = "IKE_I_MM5"
	IKE_I_MM6                State = "IKE_I_MM6"
	IKE_R_MM1                State = "IKE_R_MM1"
	IKE_R_MM2                State = "IKE_R_MM2"
	IKE_R_MM3                State = "IKE_R_MM3"
	IKE_R_MM4                State = "IKE_R_MM4"
	IKE_R_MM5                State = "IKE_R_MM5"
	IKE_R_MM6                State = "IKE_R_MM6"
	IKE_I_AM1                State = "IKE_I_AM1"
	IKE_I_AM2                State = "IKE_I_AM2"
	IKE_R_AM1                State = "IKE_R_AM1"
	IKE_R_AM2                State = "IKE_R_AM2"
	IKE_P1_COMPLETE          State = "IKE_P1_COMPLETE"
	IKE_DEST_SA              State = "IKE_DEST_SA"
	IKE_XAUTH_REQ_SENT       State = "IKE_XAUTH_REQ_SENT"
	IKE_XAUTH_REPLY_SENT     State = "IKE_XAUTH_REPLY_SENT"
	IKE_XAUTH_SET_SENT       State = "IKE_XAUTH_SET_SENT"
	IKE_XAUTH_REPLY_AWAIT    State = "IKE_XAUTH_REPLY_AWAIT"
	IKE_XAUTH_COMPLETE       State = "IKE_XAUTH_COMPLETE"
	IKE_CONFIG_MODE_REQ_SENT State = "IKE_CONFIG_MODE_REQ_SENT"
	IKE_CONFIG_MODE_SET_SENT State = "IKE_CONFIG_MODE_SET_SENT"
	IKE_CONFIG_MODE_SET      State = "IKE_CONFIG_MODE_SET"
	IKE_QM_READY             State = "IKE_QM_READY"
	IKE_QM_I_QM1             State = "IKE_QM_I_QM1"
	IKE_QM_I_QM2             State = "IKE_QM_I_QM2"
	IKE_QM_R_QM1             State = "IKE_QM_R_QM1"
	IKE_QM_R_QM2             State = "IKE_QM_R_QM2"
	IKE_QM_PHASE2_COMPLETE   State = "IKE_QM_PHASE2_COMPLETE"
	IKE_QM_SPI_STARVE        State = "IKE_QM_SPI_STARVE"
)

// The states of IPsec SAs.
const (
	ChildCreated   State = "CREATED"
	ChildInstalled State = "INSTALLED"
	ChildRekeying  State = "REKEYING"
	ChildRekeyed   State = "REKEYED"
	ChildDeleting  State = "DELETING"
	ChildDestroyed State = "DESTROYED"
)

// States lists every state, for expectations that name one.
var States = []State{IKE_READY, IKE_I_MM1, IKE_I_MM2, IKE_I_MM3, IKE_I_MM4, IKE_I_MM5, IKE_I_MM6, IKE_R_MM1, IKE_R_MM2, IKE_R_MM3, IKE_R_MM4, IKE_R_MM5, IKE_R_MM6, IKE_I_AM1, IKE_I_AM2, IKE_R_AM1, IKE_R_AM2, IKE_P1_COMPLETE, IKE_DEST_SA, IKE_XAUTH_REQ_SENT, IKE_XAUTH_REPLY_SENT, IKE_XAUTH_SET_SENT, IKE_XAUTH_REPLY_AWAIT, IKE_XAUTH_COMPLETE, IKE_CONFIG_MODE_REQ_SENT, IKE_CONFIG_MODE_SET_SENT, IKE_CONFIG_MODE_SET, IKE_QM_READY, IKE_QM_I_QM1, IKE_QM_I_QM2, IKE_QM_R_QM1, IKE_QM_R_QM2, IKE_QM_PHASE2_COMPLETE, IKE_QM_SPI_STARVE, ChildCreated, ChildInstalled, ChildRekeying, ChildRekeyed, ChildDeleting, ChildDestroyed}

package ikev2

// IKESAState is the state of an IKE SA, named as strongSwan names it (ike_sa_state_t);
// the engine's state events carry these names.
type IKESAState = saState

// The states of an IKE SA, for readers that follow an IKE SA through its messages
// without running the engine (the import of a capture).
const (
	IKESACreated     IKESAState = stateCreated
	IKESAConnecting  IKESAState = stateConnecting
	IKESAEstablished IKESAState = stateEstablished
	IKESADeleting    IKESAState = stateDeleting
	IKESADestroyed   IKESAState = stateDestroyed
)

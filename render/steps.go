package render

import "strconv"

// Steps are the rows a walkthrough steps through, in order: every row but the phase
// headers. Step n (counting from 1) is Rows[Steps()[n-1]]; the terminal walkthrough and
// the web player number their steps this way, so that "step 14" is the same row in both.
func (d *Diagram) Steps() []int {
	var s []int
	for i, r := range d.Rows {
		if r.Kind != RowPhase {
			s = append(s, i)
		}
	}
	return s
}

// ExchangeStarts are the message rows that open an IKE exchange: an IKEv2 request that
// is not a retransmission, or an IKEv1 message of a new exchange (a new Message ID or
// exchange type between the same two nodes). The walkthrough's ] and [ jump between them.
func (d *Diagram) ExchangeStarts() []int {
	var out []int
	last := map[[2]string]string{} // IKEv1 node pair -> the exchange of its last message
	for i, r := range d.Rows {
		e := r.Event
		if r.Kind != RowMessage || r.Exchange == "" || e == nil || e.MessageID() == nil {
			continue
		}
		switch r.Proto {
		case "ikev1":
			pair := [2]string{min(e.From(), e.To()), max(e.From(), e.To())}
			k := r.Exchange + "|" + strconv.FormatUint(uint64(*e.MessageID()), 10)
			if last[pair] != k {
				out = append(out, i)
			}
			last[pair] = k
		default:
			if !e.Response() && !e.Retransmit() {
				out = append(out, i)
			}
		}
	}
	return out
}

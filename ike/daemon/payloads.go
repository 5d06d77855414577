package daemon

// First is the first of an engine's payloads ps that is a T and that keep accepts (nil
// accepts any), or T's zero value: the first Nonce, the first Notify of a type.
func First[T, P any](ps []P, keep func(T) bool) T {
	for _, p := range ps {
		if t, ok := any(p).(T); ok && (keep == nil || keep(t)) {
			return t
		}
	}
	var zero T
	return zero
}

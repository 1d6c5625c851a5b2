package redisx

// Pending is how many asynchronous calls of c wait for their completion (a
// test hook: after every call returned it must be 0, else a tag leaked).
func Pending(c *Client) int {
	k := c.core
	k.pendMu.Lock()
	defer k.pendMu.Unlock()
	return len(k.pending)
}

"""One Session per connection: terminal state, input decoding, line editing, output pacing."""

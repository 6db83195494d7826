"""Use cases: each public function is one thing a caller can do, written against ports."""

"""Document → chunks → vectors and the sparse index, on disk."""

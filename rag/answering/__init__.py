"""Question → kind and entities → retrieval → evidence → an Answer with verified citations."""

"""Which counties and networks a change concerns: the taxonomy, its inflections, the tagger."""

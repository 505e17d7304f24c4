"""Getting pages politely and safely: HTTP, decoding, robots.txt, the address policy."""

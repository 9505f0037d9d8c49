"""One module per tab of the page: each lays itself out (``render``) and wires its own events (``wire``)."""

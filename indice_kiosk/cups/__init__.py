"""Everything said to CUPS (the only users of pycups): jobs, their states, the operator's actions."""

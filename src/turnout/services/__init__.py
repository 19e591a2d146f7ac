"""Use cases: each service validates with the domain, then reads and writes through
one unit of work, and records an audit entry in the same transaction."""

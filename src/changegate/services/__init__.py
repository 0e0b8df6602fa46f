"""Use cases: load facts through repositories, decide in the domain, persist, record in the ledger.

Services never commit and never read the clock or the environment: the entry point hands them a
Context with the session, the policy, `now` and the actor, and owns the transaction.
"""

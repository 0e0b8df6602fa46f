"""The evidence package: populations with their IPE, per-change folders, the ledger from a
signed anchor, the policy, the audit's facts and results, and a signed manifest of them all
(`export`); and the offline checks an auditor runs on it (`verify`)."""

"""CloudTrail records as CM-5 reads them: what kind of call, whose, and what covers a change."""

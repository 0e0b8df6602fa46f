"""changegate: a change-management control plane, enforced where it can be, evidenced always."""

__version__ = "0.1.0"

"""Local stand-ins for Linear and Google Drive, for trying changegate without accounts and for
the tests: never a production dependency (an import-linter contract keeps the product off it)."""

"""The web app: server-rendered pages over the same services and authorization as the API."""

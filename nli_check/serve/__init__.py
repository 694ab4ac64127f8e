"""The web app (nli-check serve) and the store of editors' feedback."""

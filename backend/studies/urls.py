"""URL patterns of the archive, mounted by config.urls under three prefixes."""

api_urlpatterns: list = []  # /api/studies/...
wado_urlpatterns: list = []  # /wado (WADO-URI)
dicomweb_urlpatterns: list = []  # /dicomweb/... (QIDO-RS, WADO-RS, STOW-RS)

"""DICOMweb: QIDO-RS search, WADO-RS retrieve and STOW-RS store (PS3.18), on the archive."""

"""Machine translation engines (Apertium, CTranslate2 OPUS-MT, LibreTranslate) and the router that picks one."""

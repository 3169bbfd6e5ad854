import os

# Tests run with DEBUG on so that no SECRET_KEY is needed; settings read it at import.
os.environ.setdefault("DEBUG", "1")

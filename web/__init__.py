"""What the Flask app is built from besides its API and CLI: settings, security, page assets."""

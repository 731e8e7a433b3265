"""Built-in tools and third-party plugin manifests (the tools and plugins issue)."""

"""Python functions behind the built-in example manifests in plugins/manifests/."""
